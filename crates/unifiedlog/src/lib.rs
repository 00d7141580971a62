//! Reads macOS unified log exports as a stream of [`LogRecord`]s.
//!
//! Three text shapes are recognised by their content, never by file name
//! ([`sniff`]):
//! - Apple's `log show` / `log stream` output with `--style ndjson`: one
//!   object per line, a `Filtering the log data…` banner from `log stream`,
//!   a `{"count":N,"finished":1}` trailer from `log show`;
//! - the same with `--style json`: one array, read element by element and
//!   never loaded whole;
//! - the JSON Lines the `macos-unifiedlogs` crate writes: snake_case keys,
//!   UTC nanosecond times.
//!
//! [`LogReader`] reads all three. `.logarchive` bundles and raw `.tracev3` files are read with
//! that crate through `read_logarchive` (feature `logarchive`, on by default).
//!
//! Most of a log is unrelated to TLS. Under [`Filter::Network`] a byte-level
//! search for a few fixed strings decides first whether a line can concern
//! the network stack; only lines with a hit are parsed in full, and the exact
//! rule then runs on the parsed fields. [`LogStats`] counts both steps.

#![forbid(unsafe_code)]

#[cfg(feature = "logarchive")]
mod archive;
mod entry;
mod error;
mod filter;
mod flat;
mod input;
mod reader;
mod scan;
mod sniff;
mod stats;

use std::fmt;

#[cfg(feature = "logarchive")]
pub use archive::{ArchiveReader, is_logarchive, read_logarchive};
pub use error::{LogError, LogErrorKind};
pub use filter::{Filter, PREFILTER_NEEDLES};
pub use reader::LogReader;
pub use sniff::{SNIFF_LEN, sniff};
pub use stats::LogStats;

/// The text shape of a unified log export.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `log show|stream --style ndjson`: one object per line, camelCase keys.
    Ndjson,
    /// `log show --style json`: one array of objects, camelCase keys.
    JsonArray,
    /// JSON Lines from the `macos-unifiedlogs` crate: snake_case keys.
    UnifiedLogsJsonl,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Ndjson => "log show/stream NDJSON",
            Self::JsonArray => "log show JSON array",
            Self::UnifiedLogsJsonl => "macos-unifiedlogs JSON Lines",
        })
    }
}

/// Position of a record's start in its input.
///
/// For `ArchiveReader` records, `line` is the entry's index within the
/// archive, counting from 1, and `offset` is 0.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Location {
    /// Line number, counting from 1.
    pub line: u64,
    /// Byte offset of the record's first byte.
    pub offset: u64,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {} (byte offset {})", self.line, self.offset)
    }
}

/// One log entry, with the fields the detections and the evidence need,
/// whatever the export's key names were.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LogRecord {
    pub location: Location,
    /// The time as the export wrote it.
    pub timestamp: String,
    /// The same time in nanoseconds since the Unix epoch, UTC; `None`
    /// when the export's time did not parse.
    pub time_ns: Option<i64>,
    /// `logEvent`, `activityCreateEvent`, ... (crate exports: `Log`, ...).
    pub event_type: String,
    /// `Default`, `Info`, `Debug`, `Error`, `Fault`.
    pub level: String,
    /// Empty when the message was logged without a subsystem.
    pub subsystem: String,
    pub category: String,
    /// Full path of the process that logged.
    pub process_path: String,
    pub pid: Option<u32>,
    /// Library that logged (`senderImagePath` / `library`).
    pub sender_image: String,
    /// The rendered message.
    pub message: String,
    /// The os_log format string (`formatString` / `raw_message`); empty when
    /// the export has none.
    pub format_string: String,
    /// 64-bit identifiers, read without loss.
    pub trace_id: Option<u64>,
    pub activity_id: Option<u64>,
    pub thread_id: Option<u64>,
    /// Boot UUID, upper case without dashes.
    pub boot_uuid: Option<String>,
    /// The record as it appeared in the input (for JSON arrays, the
    /// element's text), cut to [`MAX_RAW`] bytes on a character boundary.
    /// Empty when the reader was built with [`LogReader::keep_raw`] set
    /// to `false`.
    pub raw: String,
}

/// Maximum length, in bytes, of the original text a record keeps for evidence.
pub const MAX_RAW: usize = 4096;

/// Maximum length, in bytes without the line end, of a line (NDJSON, JSON
/// Lines) or array element (JSON array) that the reader parses. Longer ones
/// are reported as errors and skipped without being held in memory.
pub const MAX_RECORD_LEN: usize = 1 << 20;

/// Returns the first [`MAX_RAW`] bytes of a record's text, cut on a
/// character boundary. Only that prefix is checked for UTF-8: invalid bytes in it
/// become U+FFFD.
pub(crate) fn raw_text(bytes: &[u8]) -> String {
    let capped = &bytes[..bytes.len().min(MAX_RAW)];
    match std::str::from_utf8(capped) {
        Ok(text) => text.to_owned(),
        // The cap split a character: keep what comes before it.
        Err(error) if error.error_len().is_none() => {
            String::from_utf8_lossy(&capped[..error.valid_up_to()]).into_owned()
        }
        Err(_) => {
            let lossy = String::from_utf8_lossy(capped);
            cap_on_char_boundary(&lossy, MAX_RAW).to_owned()
        }
    }
}

/// Cuts `text` to at most `max` bytes, on a character boundary.
pub(crate) fn cap_on_char_boundary(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cap_keeps_short_text() {
        assert_eq!(cap_on_char_boundary("abc", 4), "abc");
    }

    #[test]
    fn cap_cuts_before_split_character() {
        // "é" is two bytes: a cut after byte 2 would split it.
        assert_eq!(cap_on_char_boundary("aé", 2), "a");
        assert_eq!(cap_on_char_boundary("aé", 3), "aé");
    }

    #[test]
    fn raw_text_cuts_long_records() {
        let long = "é".repeat(MAX_RAW);
        let raw = raw_text(long.as_bytes());
        assert_eq!(raw.len(), MAX_RAW);
        assert!(raw.chars().all(|c| c == 'é'));
        let odd = format!("a{}", "é".repeat(MAX_RAW));
        assert_eq!(raw_text(odd.as_bytes()).len(), MAX_RAW - 1);
    }

    #[test]
    fn raw_text_replaces_invalid_bytes() {
        assert_eq!(raw_text(b"ab\xffcd"), "ab\u{FFFD}cd");
    }

    #[test]
    fn location_names_line_and_offset() {
        let location = Location {
            line: 7,
            offset: 1234,
        };
        assert_eq!(location.to_string(), "line 7 (byte offset 1234)");
    }
}
