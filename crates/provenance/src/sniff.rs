//! Recognising the provenance formats by their first bytes.

use serde_json::Value;

/// Format of a provenance input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Zeek TSV log, recognised by its `#separator` or another Zeek header line.
    ZeekTsv,
    /// Zeek JSON Lines from `files.log` or `http.log`.
    ZeekJson,
    /// Suricata `eve.json`.
    SuricataEve,
    /// osquery result log.
    OsqueryResults,
    /// Any SQLite database. The quarantine reader checks for its table.
    Sqlite,
    /// `xattr -p com.apple.quarantine` output for several files.
    QuarantineListing,
}

impl Format {
    /// Returns a short name for summaries.
    pub fn name(self) -> &'static str {
        match self {
            Format::ZeekTsv => "zeek-tsv",
            Format::ZeekJson => "zeek-json",
            Format::SuricataEve => "suricata-eve",
            Format::OsqueryResults => "osquery-results",
            Format::Sqlite => "quarantine-db",
            Format::QuarantineListing => "quarantine-xattr",
        }
    }
}

/// Lines of a JSON Lines prefix tried before giving up.
const MAX_LINES: usize = 8;

/// Recognises `prefix`, the first bytes of an input.
pub fn sniff(prefix: &[u8]) -> Option<Format> {
    if prefix.starts_with(b"SQLite format 3\0") {
        return Some(Format::Sqlite);
    }
    if prefix.starts_with(b"#separator ") || starts_with_zeek_directive(prefix) {
        return Some(Format::ZeekTsv);
    }
    let prefix = prefix.strip_prefix(b"\xef\xbb\xbf").unwrap_or(prefix);
    let text = match std::str::from_utf8(prefix) {
        Ok(text) => text,
        // The prefix may end inside a multi-byte character.
        Err(err) => std::str::from_utf8(&prefix[..err.valid_up_to()]).ok()?,
    };
    // Only complete lines are judged.
    let complete = text.rsplit_once('\n').map_or("", |(lines, _)| lines);
    let lines = complete.lines().filter(|line| !line.trim().is_empty());
    for line in lines.take(MAX_LINES) {
        if let Some(format) = sniff_line(line.trim()) {
            return Some(format);
        }
    }
    // A Zeek JSON log cut inside its first record still begins the way
    // Zeek writes every record, so the reader can report the bad line.
    let first = text.trim_start();
    if first.starts_with("{\"ts\":") || first.starts_with("{\"_path\":") {
        return Some(Format::ZeekJson);
    }
    None
}

/// True when `prefix` begins with a Zeek TSV header line other than
/// `#separator`, which Zeek writes first but a hand-cut log may lack (the
/// reader then splits on tabs, Zeek's default).
fn starts_with_zeek_directive(prefix: &[u8]) -> bool {
    const DIRECTIVES: [&[u8]; 7] = [
        b"#set_separator\t",
        b"#empty_field\t",
        b"#unset_field\t",
        b"#path\t",
        b"#open\t",
        b"#fields\t",
        b"#types\t",
    ];
    DIRECTIVES
        .iter()
        .any(|directive| prefix.starts_with(directive))
}

fn sniff_line(line: &str) -> Option<Format> {
    if !line.starts_with('{') {
        return crate::quarantine::parse_attribute(line.rsplit_once(": ")?.1)
            .ok()
            .map(|_| Format::QuarantineListing);
    }
    let Ok(Value::Object(object)) = serde_json::from_str::<Value>(line) else {
        return None;
    };
    let has = |key: &str| object.contains_key(key);
    if has("hostIdentifier") && (has("columns") || has("snapshot") || has("diffResults")) {
        return Some(Format::OsqueryResults);
    }
    if matches!(object.get("event_type"), Some(Value::String(_))) && has("timestamp") {
        return Some(Format::SuricataEve);
    }
    if has("ts") && (has("fuid") || (has("uid") && has("trans_depth"))) {
        return Some(Format::ZeekJson);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_recognised() {
        let cases: [(&[u8], Option<Format>); 11] = [
            (b"#fields\tts\tfuid\n", Some(Format::ZeekTsv)),
            (
                b"{\"ts\":1795255201.5,\"fuid\":\"F1\",\"tx_hos",
                Some(Format::ZeekJson),
            ),
            (b"#!/bin/sh\n", None),
            (b"SQLite format 3\0rest", Some(Format::Sqlite)),
            (
                b"#separator \\x09\n#set_separator\t,\n",
                Some(Format::ZeekTsv),
            ),
            (b"{\"ts\":1.0,\"fuid\":\"F1\"}\n", Some(Format::ZeekJson)),
            (
                b"{\"timestamp\":\"t\",\"event_type\":\"flow\"}\n",
                Some(Format::SuricataEve),
            ),
            (
                b"{\"hostIdentifier\":\"h\",\"columns\":{}}\n",
                Some(Format::OsqueryResults),
            ),
            (
                b"/a: 0083;59b926ad;Safari;\n",
                Some(Format::QuarantineListing),
            ),
            // eslogger: event_type is a number.
            (
                b"{\"event_type\":9,\"timestamp\":\"t\",\"process\":{}}\n",
                None,
            ),
            (b"\xd4\xc3\xb2\xa1binary", None),
        ];
        for (prefix, expected) in cases {
            assert_eq!(
                sniff(prefix),
                expected,
                "{:?}",
                String::from_utf8_lossy(prefix)
            );
        }
    }

    #[test]
    fn cut_line_judged_by_zeek_start() {
        assert_eq!(sniff(b"{\"ts\":1.0,\"fuid\""), Some(Format::ZeekJson));
        assert_eq!(sniff(b"{\"timestamp\":\"t\",\"event_type\""), None);
        assert_eq!(sniff(b"{\"hostIdentifier\":\"h\""), None);
    }
}
