//! Reads macOS unified log exports as a stream of [`LogRecord`]s.
//!
//! Three text shapes are recognised by their content, never by file name
//! ([`sniff`]): Apple's `log show` / `log stream` output with
//! `--style ndjson` (one object per line, a `Filtering the log data…`
//! banner from `log stream`, a `{"count":N,"finished":1}` trailer from
//! `log show`), the same with `--style json` (one array, read element by
//! element, never loaded whole), and the JSON Lines the `macos-unifiedlogs`
//! crate writes (snake_case keys, UTC nanosecond times). `.logarchive`
//! bundles are read directly with that crate.
//!
//! Most of a log is unrelated to TLS. A cheap byte-level test decides
//! first whether a record can concern the network stack ([`Filter`]);
//! only those records are parsed in full.

use std::fmt;

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

/// Where a record starts in its input.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Location {
    /// Line number, counting from 1.
    pub line: u64,
    /// Byte offset of the record's first byte.
    pub offset: u64,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}", self.line)
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
    /// 64-bit identifiers, read without loss.
    pub trace_id: Option<u64>,
    pub activity_id: Option<u64>,
    pub thread_id: Option<u64>,
    /// Boot UUID, upper case without dashes.
    pub boot_uuid: Option<String>,
    /// The record as it appeared in the input (for JSON arrays, the
    /// element's text), cut to [`MAX_RAW`] bytes on a character boundary.
    pub raw: String,
}

/// Longest original text a record keeps for evidence.
pub const MAX_RAW: usize = 4096;
