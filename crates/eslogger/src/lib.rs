//! Reads the JSON Lines that macOS `eslogger` writes: one Endpoint Security
//! message per line. Keeps who each process is (path, pid, code-signing
//! identity) and the file events that later tie a download to its writer.

/// A process as Endpoint Security identifies it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProcessIdentity {
    pub pid: u32,
    /// pid version from the audit token: tells apart processes that reused a pid.
    pub pidversion: Option<u32>,
    pub ppid: Option<u32>,
    pub path: String,
    pub signing_id: Option<String>,
    pub team_id: Option<String>,
    /// Upper-case hex.
    pub cdhash: Option<String>,
    pub platform_binary: bool,
    /// `start_time`, nanoseconds since the Unix epoch.
    pub start_ns: Option<i64>,
}
