//! The `file_check` record: one file's outcome against its manifest entry.

use serde::Serialize;

/// Outcome of checking one file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    /// The digest equals the manifest's.
    Verified,
    /// The digest differs from the manifest's; an alert is raised.
    Mismatched,
    /// Listed in a manifest, but not on disk or not readable.
    Missing,
    /// On disk under a given path, but in no manifest.
    Extra,
    /// Read, but the digest could not be computed in the entry's mode.
    Unchecked,
}

impl CheckStatus {
    /// Returns the lower-case name written in records.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Verified => "verified",
            CheckStatus::Mismatched => "mismatched",
            CheckStatus::Missing => "missing",
            CheckStatus::Extra => "extra",
            CheckStatus::Unchecked => "unchecked",
        }
    }
}

/// One file's outcome, in the shape `--format jsonl` writes.
#[derive(Clone, Debug, Serialize)]
pub struct FileCheck {
    /// Always `"file_check"`.
    #[serde(rename = "type")]
    pub record_type: &'static str,
    /// RFC 3339 time of the check.
    pub time: String,
    pub host: String,
    /// The file, as the manifest's folder (or `--root`) and its entry
    /// name make it, or as the walk of a given path found it.
    pub path: String,
    /// Algorithm of the entry; `None` for an extra file.
    pub algorithm: Option<&'static str>,
    /// Digest in the manifest, in lower-case hex.
    pub expected: Option<String>,
    /// Digest of the file, in lower-case hex, when it was read.
    pub actual: Option<String>,
    pub status: CheckStatus,
    /// Size in bytes, when the file was read or found by the walk.
    pub size: Option<u64>,
    /// Reason the file could not be read or checked, with the OS error.
    pub error: Option<String>,
    /// Manifest that lists the file; `None` for an extra file.
    pub manifest: Option<String>,
    /// Line of the entry in the manifest, from 1.
    pub line: Option<u64>,
}
