//! macOS quarantine records: the QuarantineEventsV2 database
//! (`~/Library/Preferences/com.apple.LaunchServices.QuarantineEventsV2`,
//! table `LSQuarantineEvent`) and the `com.apple.quarantine` extended
//! attribute that points a downloaded file at its row there.
//!
//! The attribute's event UUID is the row's `LSQuarantineEventIdentifier`;
//! the row contains the URL the file came from.

use std::io::BufRead;
use std::path::Path;

use rusqlite::types::Value;
use rusqlite::{Connection, OpenFlags};

use crate::lines::{ReadStats, RecordUnit};
use crate::time;

/// One row of `LSQuarantineEvent`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct QuarantineEvent {
    /// 1-based row number in the order read, for evidence.
    pub row: u64,
    /// `LSQuarantineEventIdentifier`, upper-cased.
    pub event_id: String,
    /// `LSQuarantineTimeStamp` (Cocoa seconds since 2001-01-01) converted
    /// to nanoseconds since the Unix epoch.
    pub time_ns: Option<i64>,
    /// `LSQuarantineAgentBundleIdentifier`, e.g. `com.apple.Safari`.
    pub agent_bundle_id: Option<String>,
    pub agent_name: Option<String>,
    /// `LSQuarantineDataURLString`: the URL the data was downloaded from.
    pub data_url: Option<String>,
    /// `LSQuarantineOriginURLString`: the page that linked it.
    pub origin_url: Option<String>,
    pub sender_name: Option<String>,
    pub type_number: Option<i64>,
}

/// Failure to read a quarantine database at all.
#[derive(Debug, thiserror::Error)]
pub enum QuarantineError {
    /// SQLite could not open or read the file (damaged, truncated, locked).
    #[error("cannot read the SQLite database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The database has no `LSQuarantineEvent` table.
    #[error(
        "a SQLite database without the LSQuarantineEvent table, so not a QuarantineEventsV2 \
         database"
    )]
    NotQuarantine,
}

const QUERY: &str = "SELECT LSQuarantineEventIdentifier, LSQuarantineTimeStamp,
    LSQuarantineAgentBundleIdentifier, LSQuarantineAgentName, LSQuarantineDataURLString,
    LSQuarantineOriginURLString, LSQuarantineSenderName, LSQuarantineTypeNumber
    FROM LSQuarantineEvent";

/// Reads every event of the database at `path`, opened read-only. A row
/// with an unusable identifier or timestamp is counted as a bad line
/// whose number is the row number, and the other rows are still read.
pub fn read_database(
    path: &Path,
    mut each: impl FnMut(QuarantineEvent),
) -> Result<ReadStats, QuarantineError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let connection = Connection::open_with_flags(path, flags)?;
    let tables: i64 = connection.query_row(
        "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'LSQuarantineEvent'",
        [],
        |row| row.get(0),
    )?;
    if tables == 0 {
        return Err(QuarantineError::NotQuarantine);
    }
    let mut statement = connection.prepare(QUERY)?;
    let mut rows = statement.query([])?;
    let mut stats = ReadStats {
        unit: RecordUnit::Row,
        ..ReadStats::default()
    };
    loop {
        let row = match rows.next() {
            Ok(Some(row)) => row,
            Ok(None) => break,
            Err(err) => {
                // A damaged page ends the scan of the table; what came
                // before it has been handed on.
                stats.bad(stats.lines + 1, format!("reading stopped: {err}"));
                break;
            }
        };
        stats.lines += 1;
        let mut values = Vec::with_capacity(8);
        for index in 0..8 {
            values.push(row.get::<_, Value>(index).unwrap_or(Value::Null));
        }
        match event(stats.lines, values) {
            Ok(event) => {
                stats.records += 1;
                each(event);
            }
            Err(reason) => stats.bad(stats.lines, reason),
        }
    }
    Ok(stats)
}

fn event(row: u64, values: Vec<Value>) -> Result<QuarantineEvent, String> {
    let mut values = values.into_iter();
    let mut next = || values.next().unwrap_or(Value::Null);
    let event_id = match next() {
        Value::Text(id) if !id.is_empty() => id.to_ascii_uppercase(),
        _ => return Err("LSQuarantineEventIdentifier is missing or not text".to_owned()),
    };
    let time_ns = match next() {
        Value::Null => None,
        Value::Real(seconds) => Some(cocoa_time(seconds)?),
        Value::Integer(seconds) => Some(cocoa_time(seconds as f64)?),
        _ => return Err("LSQuarantineTimeStamp is not a number".to_owned()),
    };
    Ok(QuarantineEvent {
        row,
        event_id,
        time_ns,
        agent_bundle_id: text(next()),
        agent_name: text(next()),
        data_url: text(next()),
        origin_url: text(next()),
        sender_name: text(next()),
        type_number: match next() {
            Value::Integer(number) => Some(number),
            _ => None,
        },
    })
}

fn cocoa_time(seconds: f64) -> Result<i64, String> {
    time::from_unix_seconds(seconds + time::COCOA_EPOCH_OFFSET)
        .ok_or_else(|| format!("LSQuarantineTimeStamp {seconds} is out of range"))
}

fn text(value: Value) -> Option<String> {
    match value {
        Value::Text(text) if !text.is_empty() => Some(text),
        _ => None,
    }
}

/// The parsed value of a `com.apple.quarantine` extended attribute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuarantineAttribute {
    /// Flag bits, e.g. 0x0001 downloaded, 0x0040 approved by the user.
    pub flags: u16,
    /// When the file was quarantined, nanoseconds since the Unix epoch.
    pub time_ns: i64,
    /// The application that wrote the file, e.g. `Safari`.
    pub agent: String,
    /// Upper-case UUID of the database row; empty in the attribute for
    /// files quarantined without a database entry.
    pub event_id: Option<String>,
}

/// A `com.apple.quarantine` value that does not have the
/// `flags;hex-time;agent;UUID` form.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid com.apple.quarantine value {value:?}: {reason}")]
pub struct AttributeError {
    pub value: String,
    pub reason: &'static str,
}

/// Parses a `com.apple.quarantine` value: 4 hex digits of flags, the time
/// in hex Unix seconds, the agent name and the event UUID (which may be
/// empty or left out), separated by `;`. The agent may itself contain `;`,
/// so the UUID is taken from the end.
pub fn parse_attribute(value: &str) -> Result<QuarantineAttribute, AttributeError> {
    let fail = |reason| AttributeError {
        value: value.to_owned(),
        reason,
    };
    let value = value.trim();
    let mut parts = value.splitn(3, ';');
    let flags = parts.next().ok_or_else(|| fail("no flags"))?;
    let hex_time = parts.next().ok_or_else(|| fail("no time"))?;
    let rest = parts.next().ok_or_else(|| fail("no agent"))?;
    if flags.len() != 4 {
        return Err(fail("flags are not 4 hex digits"));
    }
    let flags = u16::from_str_radix(flags, 16).map_err(|_| fail("flags are not hex"))?;
    if hex_time.is_empty() || hex_time.len() > 16 {
        return Err(fail("time is not hex seconds"));
    }
    let seconds = u64::from_str_radix(hex_time, 16).map_err(|_| fail("time is not hex"))?;
    let time_ns =
        time::from_unix_seconds(seconds as f64).ok_or_else(|| fail("time out of range"))?;
    let (agent, event_id) = match rest.rsplit_once(';') {
        Some((agent, "")) => (agent, None),
        Some((agent, uuid)) if is_uuid(uuid) => (agent, Some(uuid.to_ascii_uppercase())),
        Some(_) => return Err(fail("event id is not a UUID")),
        None => (rest, None),
    };
    Ok(QuarantineAttribute {
        flags,
        time_ns,
        agent: agent.to_owned(),
        event_id,
    })
}

fn is_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    let lengths = [8, 4, 4, 4, 12];
    groups.len() == lengths.len()
        && groups
            .iter()
            .zip(lengths)
            .all(|(group, len)| group.len() == len && group.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// One file's quarantine attribute from a listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttributeLine {
    pub line: u64,
    pub path: String,
    pub attribute: QuarantineAttribute,
}

/// Reads the output of `xattr -p com.apple.quarantine FILE…` for several
/// files, one `PATH: VALUE` line each. (`xattr` leaves out the path when
/// given one file, so a listing must name two or more.) The path is split
/// at the last `: ` before the value, because paths may contain `: `.
pub fn read_attribute_listing<R: BufRead>(
    input: R,
    mut each: impl FnMut(AttributeLine),
) -> std::io::Result<ReadStats> {
    let mut stats = ReadStats::default();
    crate::lines::for_each_line(input, &mut stats, |line, number, stats| {
        if line.trim().is_empty() {
            stats.skipped += 1;
            return;
        }
        let Some((path, value)) = line.rsplit_once(": ") else {
            return stats.bad(number, "no \"PATH: VALUE\" separator");
        };
        match parse_attribute(value) {
            Ok(attribute) => {
                stats.records += 1;
                each(AttributeLine {
                    line: number,
                    path: path.to_owned(),
                    attribute,
                });
            }
            Err(err) => stats.bad(number, err.to_string()),
        }
    })?;
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    const UUID: &str = "55847AA4-5562-42A2-89A7-8FAD394B455C";

    #[test]
    fn attribute_parses() {
        let parsed = parse_attribute(&format!("0083;59b926ad;Safari.app;{UUID}")).unwrap();
        assert_eq!(parsed.flags, 0x83);
        assert_eq!(parsed.time_ns, 0x59b9_26ad * 1_000_000_000);
        assert_eq!(parsed.agent, "Safari.app");
        assert_eq!(parsed.event_id.as_deref(), Some(UUID));
    }

    #[test]
    fn attribute_without_uuid_parses() {
        let parsed = parse_attribute("0081;607842eb;sharingd;").unwrap();
        assert_eq!(parsed.event_id, None);
        let parsed = parse_attribute("0081;607842eb;sharingd").unwrap();
        assert_eq!(parsed.agent, "sharingd");
    }

    #[test]
    fn attribute_agent_may_contain_semicolon() {
        let parsed =
            parse_attribute(&format!("0083;59b926ad;A;B;{}", UUID.to_lowercase())).unwrap();
        assert_eq!(parsed.agent, "A;B");
        assert_eq!(parsed.event_id.as_deref(), Some(UUID));
    }

    #[test]
    fn bad_attributes_are_rejected() {
        for value in [
            "",
            "0083",
            "83;59b926ad;S;",
            "zzzz;59b926ad;S;",
            "0083;xyz;S;",
            "0083;1;S;not-a-uuid",
        ] {
            assert!(parse_attribute(value).is_err(), "{value:?} was accepted");
        }
    }

    #[test]
    fn listing_reads_paths() {
        let input = format!("/Users/a/Downloads/x: y.dmg: 0083;59b926ad;Safari;{UUID}\nbroken\n");
        let mut lines = Vec::new();
        let stats = read_attribute_listing(input.as_bytes(), |line| lines.push(line)).unwrap();
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].path, "/Users/a/Downloads/x: y.dmg");
        assert_eq!(stats.bad_lines, 1);
        assert_eq!(stats.bad_examples[0].line, 2);
    }

    fn database(rows: &str) -> tempfile::NamedTempFile {
        let file = tempfile::NamedTempFile::new().unwrap();
        let connection = Connection::open(file.path()).unwrap();
        connection
            .execute_batch(&format!(
                "CREATE TABLE LSQuarantineEvent (LSQuarantineEventIdentifier TEXT PRIMARY KEY NOT NULL,
                   LSQuarantineTimeStamp REAL, LSQuarantineAgentBundleIdentifier TEXT,
                   LSQuarantineAgentName TEXT, LSQuarantineDataURLString TEXT,
                   LSQuarantineSenderName TEXT, LSQuarantineSenderAddress TEXT,
                   LSQuarantineTypeNumber INTEGER, LSQuarantineOriginTitle TEXT,
                   LSQuarantineOriginURLString TEXT, LSQuarantineOriginAlias BLOB);
                 {rows}"
            ))
            .unwrap();
        file
    }

    #[test]
    fn database_rows_decode() {
        let file = database(&format!(
            "INSERT INTO LSQuarantineEvent VALUES ('{}', 816861600.5, 'com.apple.Safari', 'Safari',
               'https://dl.example.test/a.dmg', NULL, NULL, 0, NULL, 'https://example.test/', NULL);
             INSERT INTO LSQuarantineEvent VALUES ('B', 'soon', NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, NULL);",
            UUID.to_lowercase()
        ));
        let mut events = Vec::new();
        let stats = read_database(file.path(), |event| events.push(event)).unwrap();
        assert_eq!(events.len(), 1);
        let event = &events[0];
        assert_eq!(event.event_id, UUID);
        assert_eq!(event.time_ns, Some(1_795_168_800_500_000_000));
        assert_eq!(event.agent_bundle_id.as_deref(), Some("com.apple.Safari"));
        assert_eq!(
            event.data_url.as_deref(),
            Some("https://dl.example.test/a.dmg")
        );
        assert_eq!(event.origin_url.as_deref(), Some("https://example.test/"));
        assert_eq!(stats.bad_lines, 1);
        assert_eq!(stats.bad_examples[0].line, 2);
    }

    #[test]
    fn other_database_is_not_quarantine() {
        let file = tempfile::NamedTempFile::new().unwrap();
        Connection::open(file.path())
            .unwrap()
            .execute_batch("CREATE TABLE t (x)")
            .unwrap();
        let err = read_database(file.path(), |_| {}).unwrap_err();
        assert!(matches!(err, QuarantineError::NotQuarantine), "{err}");
    }

    #[test]
    fn truncated_database_fails_or_reports() {
        let mut inserts = String::from("BEGIN;");
        for index in 0..2000 {
            inserts.push_str(&format!(
                "INSERT INTO LSQuarantineEvent (LSQuarantineEventIdentifier, LSQuarantineDataURLString)
                 VALUES ('ID{index}', 'https://dl.example.test/{index}/{}');",
                "x".repeat(100)
            ));
        }
        inserts.push_str("COMMIT;");
        let file = database(&inserts);
        let bytes = std::fs::read(file.path()).unwrap();
        std::fs::write(file.path(), &bytes[..bytes.len() / 3]).unwrap();
        let mut events = 0;
        match read_database(file.path(), |_| events += 1) {
            Err(QuarantineError::Sqlite(_)) => {}
            Err(other) => panic!("unexpected error {other}"),
            Ok(stats) => {
                assert!(stats.bad_lines > 0, "a truncated table read as complete");
                assert!(events < 2000);
            }
        }
    }
}
