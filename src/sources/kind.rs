//! Recognises what an input is by its content, never by its name: a packet
//! capture, an endpoint log (unified log export or `.logarchive`),
//! Endpoint Security events from `eslogger`, or a sensor log or quarantine
//! record with file hashes and download origins.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use super::endpoint_log::EndpointFormat;

/// Bytes read from the start of a file to recognise it.
const SNIFF_BYTES: usize = 64 * 1024;

/// Kind of telemetry an input contains.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputKind {
    /// pcap or pcapng, possibly compressed; also what is tried when
    /// nothing else matches, so its reader names the accepted formats.
    Capture,
    /// A unified log export or archive.
    EndpointLog(EndpointFormat),
    /// `eslogger` JSON Lines.
    Eslogger,
    /// A sensor log or quarantine record that yields object sightings.
    Provenance(wiretrust_provenance::Format),
}

/// Identifies the input at `path`. A file that cannot be read is left to
/// the capture reader, which reports why.
pub fn identify(path: &Path) -> InputKind {
    if path.is_dir() {
        return if wiretrust_unifiedlog::is_logarchive(path) {
            InputKind::EndpointLog(EndpointFormat::Archive)
        } else {
            InputKind::Capture
        };
    }
    if wiretrust_unifiedlog::is_logarchive(path) {
        return InputKind::EndpointLog(EndpointFormat::Archive);
    }
    let Ok(prefix) = read_prefix(path) else {
        return InputKind::Capture;
    };
    if let Some(format) = wiretrust_unifiedlog::sniff(&prefix) {
        return InputKind::EndpointLog(EndpointFormat::Export(format));
    }
    if wiretrust_eslogger::sniff(&prefix) {
        return InputKind::Eslogger;
    }
    if let Some(format) = wiretrust_provenance::sniff(&prefix) {
        return InputKind::Provenance(format);
    }
    InputKind::Capture
}

fn read_prefix(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut prefix = Vec::with_capacity(SNIFF_BYTES);
    File::open(path)?
        .take(SNIFF_BYTES as u64)
        .read_to_end(&mut prefix)?;
    Ok(prefix)
}

/// The formats besides captures, for messages about unrecognised input.
pub const ENDPOINT_FORMATS: &str = "unified log exports (log show or log stream with --style \
    ndjson or json), macos-unifiedlogs JSON Lines, .logarchive bundles, eslogger JSON Lines, Zeek \
    files.log and http.log (TSV or JSON), Suricata eve.json, osquery result logs, \
    QuarantineEventsV2 databases and `xattr -p com.apple.quarantine` listings";
