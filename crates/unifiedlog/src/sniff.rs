//! Recognises an export's shape from its first bytes.

use memchr::memchr;

use crate::Format;

/// How many leading bytes [`sniff`] looks at; longer prefixes are cut.
pub const SNIFF_LEN: usize = 64 * 1024;

/// First line `log stream` prints before its records.
const BANNER: &[u8] = b"Filtering the log data";

/// Keys only Apple's `log show|stream` JSON has.
const APPLE_KEYS: [&[u8]; 12] = [
    b"eventMessage",
    b"eventType",
    b"traceID",
    b"messageType",
    b"processImagePath",
    b"senderImagePath",
    b"machTimestamp",
    b"formatString",
    b"processID",
    b"activityIdentifier",
    b"threadID",
    b"bootUUID",
];

/// Keys of the macos-unifiedlogs crate's `LogData` records.
const CRATE_KEYS: [&[u8]; 14] = [
    b"subsystem",
    b"library",
    b"event_type",
    b"log_type",
    b"time",
    b"thread_id",
    b"activity_id",
    b"boot_uuid",
    b"raw_message",
    b"process_uuid",
    b"library_uuid",
    b"message_entries",
    b"euid",
    b"timezone_name",
];

/// Keys of eslogger's Endpoint Security messages, which share `event_type`,
/// `process` and `time` with the crate's records.
const ESLOGGER_KEYS: [&[u8]; 5] = [
    b"schema_version",
    b"audit_token",
    b"mach_time",
    b"seq_num",
    b"global_seq_num",
];

/// Returns the export shape of an input whose first bytes are `prefix`, or
/// `None` when it matches none of the shapes.
///
/// Only content decides: the `log stream` banner, a `[` followed by an object
/// with Apple's camelCase keys (`--style json`), an object line with those
/// keys or the `{"count":N,"finished":1}` trailer (`--style ndjson`), or an
/// object line with the crate's snake_case keys, a string `event_type` and no
/// eslogger keys (macos-unifiedlogs JSON Lines). At most [`SNIFF_LEN`] bytes
/// are read; a first line cut by the end of `prefix` is judged by the keys it
/// shows.
pub fn sniff(prefix: &[u8]) -> Option<Format> {
    let prefix = &prefix[..prefix.len().min(SNIFF_LEN)];
    let text = prefix.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(prefix);
    let text = text.trim_ascii_start();
    if text.starts_with(BANNER) {
        return sniff_after_banner(text);
    }
    match text.first()? {
        b'[' => sniff_array(&text[1..]),
        b'{' => sniff_lines(text),
        _ => None,
    }
}

/// `log stream` writes NDJSON after its banner; a banner alone is an export
/// whose stream ended before any record.
fn sniff_after_banner(text: &[u8]) -> Option<Format> {
    let Some(end) = memchr(b'\n', text) else {
        return Some(Format::Ndjson);
    };
    let rest = text[end + 1..].trim_ascii_start();
    if rest.is_empty() || classify_object(rest) == Some(Format::Ndjson) {
        return Some(Format::Ndjson);
    }
    None
}

/// An array is an export only when its first element has Apple's keys: an
/// empty array `[]` carries nothing to tell it from any other JSON file.
fn sniff_array(after_bracket: &[u8]) -> Option<Format> {
    let rest = after_bracket.trim_ascii_start();
    match rest.first()? {
        b'{' if classify_object(rest) == Some(Format::Ndjson) => Some(Format::JsonArray),
        _ => None,
    }
}

/// Judges the first object line; a leading trailer (an export with no
/// entries) defers to the next line.
fn sniff_lines(text: &[u8]) -> Option<Format> {
    let line_end = memchr(b'\n', text).unwrap_or(text.len());
    if !is_trailer(&text[..line_end]) {
        return classify_object(text);
    }
    let rest = text
        .get(line_end + 1..)
        .unwrap_or_default()
        .trim_ascii_start();
    if rest.is_empty() {
        return Some(Format::Ndjson);
    }
    match classify_object(rest) {
        Some(Format::Ndjson) => Some(Format::Ndjson),
        _ => None,
    }
}

/// Returns whether `line` is the `{"count":N,"finished":1}` object `log show` ends with.
pub(crate) fn is_trailer(line: &[u8]) -> bool {
    let keys = top_level_keys(line.trim_ascii());
    keys.len() == 2
        && keys.iter().any(|(key, _)| *key == b"count")
        && keys.iter().any(|(key, _)| *key == b"finished")
}

/// Classifies the object starting at `text[0]` by its top-level keys.
fn classify_object(text: &[u8]) -> Option<Format> {
    let keys = top_level_keys(text);
    let has = |wanted: &[u8]| keys.iter().any(|(key, _)| *key == wanted);
    let value_of = |wanted: &[u8]| keys.iter().find(|(key, _)| *key == wanted).map(|(_, v)| *v);

    let apple = APPLE_KEYS.iter().filter(|key| has(key)).count();
    if apple >= 2 {
        return Some(Format::Ndjson);
    }
    let crate_keys = CRATE_KEYS.iter().filter(|key| has(key)).count();
    let eslogger = ESLOGGER_KEYS.iter().any(|key| has(key));
    // eslogger writes `event_type` as a number and `process` as an object.
    let strings_where_expected = [b"event_type".as_slice(), b"process", b"log_type"]
        .iter()
        .all(|key| value_of(key).is_none_or(|first| first == b'"'));
    if crate_keys >= 3 && !eslogger && strings_where_expected && has(b"event_type") {
        return Some(Format::UnifiedLogsJsonl);
    }
    None
}

/// Lists the keys of the JSON object starting at `text[0]`, each with the
/// first byte of its value, until the object or `text` ends or the syntax
/// breaks. Never reads past `text`.
fn top_level_keys(text: &[u8]) -> Vec<(&[u8], u8)> {
    const MAX_KEYS: usize = 64;
    let mut keys = Vec::new();
    if text.first() != Some(&b'{') {
        return keys;
    }
    let mut at = 1;
    while keys.len() < MAX_KEYS {
        at = skip_whitespace(text, at);
        if text.get(at) != Some(&b'"') {
            break;
        }
        let Some(key_end) = string_end(text, at) else {
            break;
        };
        let key = &text[at + 1..key_end - 1];
        at = skip_whitespace(text, key_end);
        if text.get(at) != Some(&b':') {
            break;
        }
        at = skip_whitespace(text, at + 1);
        let Some(&first) = text.get(at) else {
            break;
        };
        keys.push((key, first));
        let Some(value_end) = value_end(text, at) else {
            break;
        };
        at = skip_whitespace(text, value_end);
        if text.get(at) != Some(&b',') {
            break;
        }
        at += 1;
    }
    keys
}

fn skip_whitespace(text: &[u8], mut at: usize) -> usize {
    while text.get(at).is_some_and(u8::is_ascii_whitespace) {
        at += 1;
    }
    at
}

/// End (exclusive) of the JSON string whose opening quote is at `text[at]`.
fn string_end(text: &[u8], at: usize) -> Option<usize> {
    let mut i = at + 1;
    while i < text.len() {
        match text[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// End (exclusive) of the JSON value starting at `text[at]`.
fn value_end(text: &[u8], at: usize) -> Option<usize> {
    match text[at] {
        b'"' => string_end(text, at),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut i = at;
            while i < text.len() {
                match text[i] {
                    b'"' => {
                        i = string_end(text, i)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            None
        }
        _ => {
            let len = text[at..]
                .iter()
                .position(|b| matches!(b, b',' | b'}' | b']') || b.is_ascii_whitespace())?;
            Some(at + len)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const APPLE_LINE: &str = concat!(
        r#"{"traceID":593327990818209796,"eventMessage":"Connection 1: enabling TLS","#,
        r#""eventType":"logEvent","source":null,"subsystem":"com.apple.CFNetwork","#,
        r#""category":"Default","processImagePath":"\/usr\/libexec\/nsurlsessiond","#,
        r#""timestamp":"2023-06-30 18:11:29.650678+1000","messageType":"Default"}"#
    );
    const CRATE_LINE: &str = concat!(
        r#"{"subsystem":"com.apple.network","thread_id":9730,"pid":961,"euid":501,"#,
        r#""library":"/usr/lib/libnetwork.dylib","activity_id":0,"time":1.6423027686460321e18,"#,
        r#""category":"connection","event_type":"Log","log_type":"Default","#,
        r#""process":"/usr/libexec/x","message":"start","timestamp":"2022-01-16T03:12:48Z"}"#
    );
    const ESLOGGER_LINE: &str = concat!(
        r#"{"schema_version":1,"mach_time":1234,"event_type":9,"time":"2024-01-01T00:00:00Z","#,
        r#""process":{"audit_token":{"pid":1},"executable":{"path":"/bin/ls"}},"#,
        r#""thread_id":5,"seq_num":1,"global_seq_num":2,"event":{}}"#
    );

    #[test]
    fn sniff_apple_ndjson() {
        assert_eq!(sniff(APPLE_LINE.as_bytes()), Some(Format::Ndjson));
        let two = format!("{APPLE_LINE}\n{APPLE_LINE}\n");
        assert_eq!(sniff(two.as_bytes()), Some(Format::Ndjson));
    }

    #[test]
    fn sniff_stream_banner() {
        let banner = "Filtering the log data using \"subsystem == \\\"com.apple.network\\\"\"\n";
        assert_eq!(sniff(banner.as_bytes()), Some(Format::Ndjson));
        let with_line = format!("{banner}{APPLE_LINE}\n");
        assert_eq!(sniff(with_line.as_bytes()), Some(Format::Ndjson));
        let with_crate = format!("{banner}{CRATE_LINE}\n");
        assert_eq!(sniff(with_crate.as_bytes()), None);
    }

    #[test]
    fn sniff_trailer_alone() {
        assert_eq!(
            sniff(b"{\"count\":0,\"finished\":1}\n"),
            Some(Format::Ndjson)
        );
        assert_eq!(sniff(b"{\"count\":0,\"finished\":1}"), Some(Format::Ndjson));
    }

    #[test]
    fn sniff_pretty_json_array() {
        let pretty = "[{\n\"traceID\" : 593327990818209796,\n\"eventMessage\" : \"x\",\n\
                      \"eventType\" : \"logEvent\"\n}]\n";
        assert_eq!(sniff(pretty.as_bytes()), Some(Format::JsonArray));
    }

    #[test]
    fn sniff_empty_array_is_unknown() {
        assert_eq!(sniff(b"[\n\n]\n"), None);
        assert_eq!(sniff(b"[]"), None);
    }

    #[test]
    fn sniff_crate_jsonl() {
        assert_eq!(sniff(CRATE_LINE.as_bytes()), Some(Format::UnifiedLogsJsonl));
    }

    #[test]
    fn sniff_cut_first_line() {
        // The prefix ends inside the first record: the keys seen so far decide.
        let cut = &APPLE_LINE[..120];
        assert_eq!(sniff(cut.as_bytes()), Some(Format::Ndjson));
    }

    #[test]
    fn sniff_rejects_eslogger() {
        assert_eq!(sniff(ESLOGGER_LINE.as_bytes()), None);
    }

    #[test]
    fn sniff_rejects_pcap_and_text() {
        let pcap = [
            0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0,
        ];
        assert_eq!(sniff(&pcap), None);
        assert_eq!(sniff(b"hello world\nthis is text\n"), None);
        assert_eq!(sniff(b"{\"name\":\"x\",\"value\":1}\n"), None);
        assert_eq!(sniff(b"[1, 2, 3]"), None);
        assert_eq!(sniff(b""), None);
        assert_eq!(sniff(b"{\"eventType\":"), None);
    }

    #[test]
    fn top_level_keys_skip_nested_values() {
        let keys = top_level_keys(br#"{"a":{"b":[1,{"c":"}"}]},"d" : "x\"y", "e":12}"#);
        let names: Vec<&[u8]> = keys.iter().map(|(key, _)| *key).collect();
        assert_eq!(names, [b"a".as_slice(), b"d", b"e"]);
        assert_eq!(keys[0].1, b'{');
        assert_eq!(keys[2].1, b'1');
    }
}
