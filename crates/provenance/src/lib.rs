//! Readers for download provenance and file hashes reported by sensors:
//! Zeek `files.log` and `http.log` (TSV and JSON Lines), Suricata
//! `eve.json` `fileinfo` and `http` events, osquery result logs (`hash`
//! and `extended_attributes` rows), the macOS QuarantineEventsV2 database
//! and the `com.apple.quarantine` extended attribute.
//!
//! [`sniff`] recognises each format by content. Every line reader hands
//! typed records to a callback and counts a bad line as a [`LineError`]
//! naming its line, and the lines around it are still read.
#![forbid(unsafe_code)]

mod lines;
pub mod osquery;
pub mod quarantine;
mod sniff;
pub mod suricata;
mod time;
pub mod zeek;

pub use lines::{LineError, ReadStats, RecordUnit};
pub use sniff::{Format, sniff};
