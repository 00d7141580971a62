//! osquery result logs: JSON Lines written by the filesystem logger for
//! scheduled queries. Three shapes are read: one differential row per line
//! (`columns` with `action` `added` or `removed`), a batch of differential
//! rows (`diffResults`), and a `snapshot` batch.
//!
//! Rows of the `hash` table (with `size` when the query joined `file`)
//! become [`HashRow`]s, and rows of `extended_attributes` become
//! [`AttributeRow`]s. Rows of other queries are handed on untyped.

use std::collections::BTreeMap;
use std::io::BufRead;

use serde_json::{Map, Value};

use crate::lines::{ReadStats, for_each_line};
use crate::time;

/// Whether a row appeared, disappeared, or is part of a full snapshot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RowAction {
    Added,
    Removed,
    Snapshot,
}

/// One result row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OsqueryRow {
    pub line: u64,
    /// The scheduled query's name, e.g. `pack_downloads_hashes`.
    pub query: String,
    /// `hostIdentifier`: the host name or UUID osquery was set to report.
    pub host: String,
    /// `unixTime`, when the query ran.
    pub time_ns: i64,
    pub action: RowAction,
    pub kind: RowKind,
}

/// A row by the table it came from, recognised by its columns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RowKind {
    Hash(HashRow),
    Attribute(AttributeRow),
    /// Any other row, its columns as text.
    Other(BTreeMap<String, String>),
}

/// A `hash` table row.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HashRow {
    pub path: String,
    /// Lower-case hex; absent when the query did not select it or osquery
    /// could not read the file (it then writes an empty string).
    pub sha256: Option<String>,
    pub md5: Option<String>,
    pub sha1: Option<String>,
    /// From the `file` table, when the query joined it.
    pub size: Option<u64>,
}

/// An `extended_attributes` table row.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AttributeRow {
    pub path: String,
    pub key: String,
    pub value: String,
}

/// Reads a result log, handing on each row.
pub fn read_results<R: BufRead>(
    input: R,
    mut each: impl FnMut(OsqueryRow),
) -> std::io::Result<ReadStats> {
    let mut stats = ReadStats::default();
    for_each_line(input, &mut stats, |line, number, stats| {
        if line.trim().is_empty() {
            stats.skipped += 1;
            return;
        }
        let object = match serde_json::from_str::<Value>(line) {
            Ok(Value::Object(object)) => object,
            Ok(_) => return stats.bad(number, "not a JSON object"),
            Err(err) => return stats.bad(number, format!("invalid JSON: {err}")),
        };
        match rows(&object, number) {
            Ok(rows) if rows.is_empty() => stats.skipped += 1,
            Ok(rows) => {
                stats.records += rows.len() as u64;
                rows.into_iter().for_each(&mut each);
            }
            Err(reason) => stats.bad(number, reason),
        }
    })?;
    Ok(stats)
}

fn rows(object: &Map<String, Value>, line: u64) -> Result<Vec<OsqueryRow>, String> {
    let host = match object.get("hostIdentifier") {
        Some(Value::String(host)) if !host.is_empty() => host.clone(),
        _ => return Err("missing hostIdentifier".to_owned()),
    };
    let query = match object.get("name") {
        Some(Value::String(name)) => name.clone(),
        _ => String::new(),
    };
    let time_ns = unix_time(object)?;
    let mut batch = Vec::new();
    if let Some(columns) = object.get("columns") {
        let action = match object.get("action").and_then(Value::as_str) {
            Some("added") => RowAction::Added,
            Some("removed") => RowAction::Removed,
            other => return Err(format!("unknown action {other:?} for a columns row")),
        };
        batch.push((action, columns));
    } else if let Some(snapshot) = object.get("snapshot") {
        let Value::Array(items) = snapshot else {
            return Err("snapshot is not an array".to_owned());
        };
        batch.extend(items.iter().map(|row| (RowAction::Snapshot, row)));
    } else if let Some(Value::Object(diff)) = object.get("diffResults") {
        for (name, action) in [("added", RowAction::Added), ("removed", RowAction::Removed)] {
            if let Some(Value::Array(items)) = diff.get(name) {
                batch.extend(items.iter().map(|row| (action, row)));
            }
        }
    } else {
        return Err("no columns, snapshot or diffResults".to_owned());
    }
    let mut rows = Vec::with_capacity(batch.len());
    for (action, columns) in batch {
        let Value::Object(columns) = columns else {
            return Err("a result row is not a JSON object".to_owned());
        };
        rows.push(OsqueryRow {
            line,
            query: query.clone(),
            host: host.clone(),
            time_ns,
            action,
            kind: kind(columns)?,
        });
    }
    Ok(rows)
}

/// `unixTime` is a number, or a string of digits in older osquery.
fn unix_time(object: &Map<String, Value>) -> Result<i64, String> {
    let seconds = match object.get("unixTime") {
        Some(Value::Number(number)) => number.as_f64(),
        Some(Value::String(text)) => text.parse::<f64>().ok(),
        _ => return Err("missing unixTime".to_owned()),
    };
    seconds
        .and_then(time::from_unix_seconds)
        .ok_or_else(|| "unixTime is not a time".to_owned())
}

fn kind(columns: &Map<String, Value>) -> Result<RowKind, String> {
    let text: BTreeMap<String, String> = columns
        .iter()
        .map(|(name, value)| {
            let value = match value {
                Value::String(text) => text.clone(),
                Value::Null => String::new(),
                other => other.to_string(),
            };
            (name.clone(), value)
        })
        .collect();
    let path = text.get("path").filter(|path| !path.is_empty()).cloned();
    let has_digest = ["sha256", "md5", "sha1"]
        .iter()
        .any(|c| text.contains_key(*c));
    if let Some(path) = path.clone()
        && has_digest
    {
        return Ok(RowKind::Hash(HashRow {
            sha256: digest(&text, "sha256", 64)?,
            md5: digest(&text, "md5", 32)?,
            sha1: digest(&text, "sha1", 40)?,
            size: size(&text)?,
            path,
        }));
    }
    if let (Some(path), Some(key), Some(value)) = (path, text.get("key"), text.get("value")) {
        return Ok(RowKind::Attribute(AttributeRow {
            path,
            key: key.clone(),
            value: value.clone(),
        }));
    }
    Ok(RowKind::Other(text))
}

fn digest(
    columns: &BTreeMap<String, String>,
    name: &str,
    len: usize,
) -> Result<Option<String>, String> {
    match columns.get(name).map(String::as_str) {
        None | Some("") => Ok(None),
        Some(hex) if hex.len() == len && hex.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Ok(Some(hex.to_ascii_lowercase()))
        }
        Some(hex) => Err(format!("{name} {hex:?} is not {len} hex digits")),
    }
}

fn size(columns: &BTreeMap<String, String>) -> Result<Option<u64>, String> {
    match columns.get("size").map(String::as_str) {
        None | Some("") => Ok(None),
        Some(text) => text
            .parse()
            .map(Some)
            .map_err(|_| format!("size {text:?} is not a whole number")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    fn read(input: &str) -> (Vec<OsqueryRow>, ReadStats) {
        let mut rows = Vec::new();
        let stats = read_results(input.as_bytes(), |row| rows.push(row)).unwrap();
        (rows, stats)
    }

    #[test]
    fn differential_hash_row_decodes() {
        let line = format!(
            r#"{{"name":"hashes","hostIdentifier":"mac-01","unixTime":1795168800,"columns":{{"path":"/Users/a/Downloads/a.dmg","sha256":"{SHA}","md5":"","size":"42"}},"action":"added"}}"#
        );
        let (rows, stats) = read(&line);
        assert_eq!(stats.records, 1);
        assert_eq!(rows[0].host, "mac-01");
        assert_eq!(rows[0].action, RowAction::Added);
        assert_eq!(rows[0].time_ns, 1_795_168_800_000_000_000);
        let RowKind::Hash(hash) = &rows[0].kind else {
            panic!("expected a hash row");
        };
        assert_eq!(hash.path, "/Users/a/Downloads/a.dmg");
        assert_eq!(hash.sha256.as_deref(), Some(SHA));
        assert_eq!(hash.md5, None);
        assert_eq!(hash.size, Some(42));
    }

    #[test]
    fn snapshot_and_batch_rows_decode() {
        let input = r#"{"name":"x","hostIdentifier":"h","unixTime":"1795168800","action":"snapshot","snapshot":[{"path":"/a","key":"com.apple.quarantine","value":"0083;6a1f;Safari;U"},{"pid":"1"}]}
{"name":"y","hostIdentifier":"h","unixTime":1795168800,"diffResults":{"added":[{"path":"/b","md5":"d41d8cd98f00b204e9800998ecf8427e"}],"removed":[{"path":"/c","md5":"d41d8cd98f00b204e9800998ecf8427e"}]}}"#;
        let (rows, stats) = read(input);
        assert_eq!(stats.records, 4);
        assert!(matches!(&rows[0].kind, RowKind::Attribute(a) if a.key == "com.apple.quarantine"));
        assert!(
            matches!(&rows[1].kind, RowKind::Other(c) if c.get("pid").map(String::as_str) == Some("1"))
        );
        assert_eq!(rows[2].action, RowAction::Added);
        assert_eq!(rows[3].action, RowAction::Removed);
        assert_eq!(rows[3].line, 2);
    }

    #[test]
    fn bad_lines_are_counted() {
        let input = format!(
            "{{\"unixTime\":1,\"columns\":{{}},\"action\":\"added\"}}\n\
             {{\"hostIdentifier\":\"h\",\"unixTime\":1,\"columns\":{{\"path\":\"/a\",\"sha256\":\"zz\"}},\"action\":\"added\"}}\n\
             garbage\n\
             {{\"hostIdentifier\":\"h\",\"unixTime\":1,\"columns\":{{\"path\":\"/a\",\"sha256\":\"{SHA}\"}},\"action\":\"added\"}}\n"
        );
        let (rows, stats) = read(&input);
        assert_eq!(rows.len(), 1);
        assert_eq!(stats.bad_lines, 3);
        assert!(stats.bad_examples[0].reason.contains("hostIdentifier"));
        assert!(stats.bad_examples[1].reason.contains("sha256"));
        assert_eq!(stats.bad_examples[2].line, 3);
    }
}
