//! Recognising eslogger output by its content.

use serde_json::Value;

/// Tells whether `prefix`, the first bytes of an input, is eslogger JSON
/// Lines.
///
/// When a line is complete within `prefix` it must parse as a JSON
/// object with an integer `schema_version`, an integer `event_type`, a
/// `process` object that has an `audit_token`, and an `event` object; the
/// first of the first eight lines that does decides. A line cut short by
/// the end of `prefix` must start with `{` and show
/// `"audit_token"`. It must also show an integer `"schema_version"` or
/// `"event_type"` member, or the process key `"codesigning_flags"` or
/// `"executable"`, because eslogger writes keys in no fixed order and an
/// exec line can run to tens of kilobytes. Unified log exports (whose `eventType` is a string) and
/// packet captures never match.
pub fn sniff(prefix: &[u8]) -> bool {
    let prefix = prefix.strip_prefix(b"\xef\xbb\xbf").unwrap_or(prefix);
    let start = prefix
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(prefix.len());
    let mut rest = prefix.get(start..).unwrap_or_default();
    // A damaged line does not hide the good ones after it: up to
    // MAX_LINES complete lines are tried, and the input matches when one of
    // them is an eslogger message.
    for _ in 0..MAX_LINES {
        match rest.iter().position(|&b| b == b'\n') {
            Some(end) => {
                let line = rest.get(..end).unwrap_or_default().trim_ascii();
                if line.first() == Some(&b'{') && complete_line_matches(line) {
                    return true;
                }
                rest = rest.get(end + 1..).unwrap_or_default();
            }
            None => {
                let line = rest.trim_ascii_start();
                return line.first() == Some(&b'{') && partial_line_matches(line);
            }
        }
    }
    false
}

/// Complete lines [`sniff`] tries before it gives up.
const MAX_LINES: usize = 8;

fn complete_line_matches(line: &[u8]) -> bool {
    let Ok(Value::Object(root)) = serde_json::from_slice::<Value>(line) else {
        return false;
    };
    let integer = |key: &str| root.get(key).is_some_and(Value::is_i64);
    let has_token = root
        .get("process")
        .and_then(Value::as_object)
        .and_then(|process| process.get("audit_token"))
        .is_some_and(|token| token.is_object() || token.is_array());
    let has_event = root.get("event").is_some_and(Value::is_object);
    integer("schema_version") && integer("event_type") && has_token && has_event
}

fn partial_line_matches(text: &[u8]) -> bool {
    let integer_member = |key: &[u8]| {
        find(text, key).is_some_and(|at| {
            let after = text.get(at + key.len()..).unwrap_or_default();
            let value = after.iter().find(|b| !b.is_ascii_whitespace());
            value.is_some_and(u8::is_ascii_digit)
        })
    };
    find(text, b"\"audit_token\"").is_some()
        && (integer_member(b"\"schema_version\":")
            || integer_member(b"\"event_type\":")
            || find(text, b"\"codesigning_flags\":").is_some()
            || find(text, b"\"executable\":").is_some())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}
