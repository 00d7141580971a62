//! Reads the JSON Lines that macOS `eslogger` writes: one Endpoint Security
//! message per line. Keeps who each process is (path, pid, code-signing
//! identity) and the file events that later tie a download to its writer.
//!
//! [`sniff`] recognises the format by content, [`EsReader`] turns lines
//! into [`EsEvent`]s (a bad line is a counted [`EsError`] naming its line,
//! and reading goes on), and [`ProcessTable`] looks up the process that had
//! a pid at a given time.
//!
//! Apple documents the eslogger output as not being an API: keys and event
//! numbers change between releases. The reader therefore dispatches on the
//! event's name (the single key inside `event`) and uses the numeric
//! `event_type` only as a cross-check.
#![forbid(unsafe_code)]

mod event;
mod json;
mod reader;
mod sniff;
mod table;

pub use event::{EsEvent, EsEventKind};
pub use reader::{DEFAULT_MAX_LINE_BYTES, EsError, EsReader, EsStats};
pub use sniff::sniff;
pub use table::ProcessTable;

/// A process as Endpoint Security identifies it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProcessIdentity {
    pub pid: u32,
    /// pid version from the audit token. The kernel gives a process a new
    /// one at every exec, so it distinguishes both reused pids and the images
    /// one pid ran.
    pub pidversion: Option<u32>,
    pub ppid: Option<u32>,
    /// Effective user id from the audit token.
    pub euid: Option<u32>,
    /// pid of the process macOS considers responsible (the app behind an XPC
    /// service, for example), from `responsible_audit_token`.
    pub responsible_pid: Option<u32>,
    pub path: String,
    pub signing_id: Option<String>,
    pub team_id: Option<String>,
    /// Upper-case hex.
    pub cdhash: Option<String>,
    pub platform_binary: bool,
    /// `start_time`, nanoseconds since the Unix epoch.
    pub start_ns: Option<i64>,
}
