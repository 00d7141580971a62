//! The tracker checked against tshark 4.0 on the public capture corpus:
//! every handshake whose transport is QUIC must yield its ClientHello (and
//! ServerHello, when tshark saw one) at the same frame, with the same
//! fields. Each test prints a line and passes when `WIRETRUST_CORPUS` is unset.

mod support;

use std::collections::BTreeMap;
use std::path::Path;

use support::{Row, cell, corpus_pcap_dir, handshake_truth_files, read_tsv, track_capture};
use wiretrust_quic::{QuicEvent, QuicEventKind, QuicStats};
use wiretrust_tls::handshake::{ClientHello, ServerHello, parse_client_hello, parse_server_hello};
use wiretrust_tls::registry::ProtocolVersion;

/// Spells a version the way the truth files do.
fn tshark_version(version: ProtocolVersion) -> String {
    match version.0 {
        0x0300 => "SSLv3".to_string(),
        0x0301..=0x0304 => format!("TLSv1.{}", version.0 - 0x0301),
        _ if version.is_grease() => "GREASE".to_string(),
        0x7f00..=0x7fff => format!("TLSv1.3-draft{}", version.0 & 0xff),
        other => format!("0x{other:04x}"),
    }
}

fn hex_tail(bytes: &[u8]) -> String {
    let tail = bytes
        .get(bytes.len().saturating_sub(8)..)
        .unwrap_or_default();
    tail.iter().map(|b| format!("{b:02x}")).collect()
}

/// Collects differences between the tracker's view and tshark's.
struct Check<'a> {
    place: String,
    row: &'a Row,
    differences: Vec<String>,
}

impl Check<'_> {
    fn field(&mut self, column: &str, ours: impl Into<String>) {
        let ours = ours.into();
        let theirs = cell(self.row, column);
        if ours != theirs {
            self.differences.push(format!(
                "{}: {column} ours {ours:?}, tshark {theirs:?}",
                self.place
            ));
        }
    }

    fn missing(&mut self, what: &str) {
        self.differences.push(format!("{}: no {what}", self.place));
    }
}

/// Returns the body of the handshake message of `msg_type` reported at `frame`.
fn message_at<'a>(
    events: &'a [QuicEvent],
    frame: &str,
    msg_type: u8,
    client: &str,
) -> Option<&'a [u8]> {
    let frame: u64 = frame.parse().ok()?;
    events.iter().find_map(|event| match &event.kind {
        QuicEventKind::Handshake {
            msg_type: t, body, ..
        } if *t == msg_type && event.packet == frame && event.client.to_string() == client => {
            Some(body.as_slice())
        }
        _ => None,
    })
}

fn check_client_hello(check: &mut Check<'_>, hello: &ClientHello) {
    let versions: Vec<String> = hello
        .supported_versions
        .iter()
        .map(|v| tshark_version(*v))
        .collect();
    check.field("ch_supported_versions", versions.join(","));
    check.field("client_max_version", tshark_version(hello.max_version()));
    check.field("sni", hello.server_name.clone().unwrap_or_default());
    check.field("ch_cipher_count", hello.cipher_suites.len().to_string());
}

fn check_server_hello(check: &mut Check<'_>, hello: &ServerHello) {
    check.field(
        "negotiated_version",
        tshark_version(hello.negotiated_version()),
    );
    check.field("sh_cipher", format!("0x{:04x}", hello.cipher_suite.0));
    check.field("sh_random_last8", hex_tail(&hello.random));
}

/// Compares one truth row with the events of its capture.
fn check_row(capture: &str, row: &Row, events: &[QuicEvent]) -> Vec<String> {
    let mut check = Check {
        place: format!("{capture} handshake {}", cell(row, "hs")),
        row,
        differences: Vec::new(),
    };
    let client = cell(row, "client");
    let ch_frame = cell(row, "ch_frame");
    if !ch_frame.is_empty() {
        match message_at(events, ch_frame, 1, client).map(parse_client_hello) {
            Some(Ok(hello)) => check_client_hello(&mut check, &hello),
            Some(Err(err)) => check.missing(&format!("parsable ClientHello: {err}")),
            None => check.missing(&format!("ClientHello at frame {ch_frame}")),
        }
    }
    let sh_frame = cell(row, "sh_frame");
    if !sh_frame.is_empty() {
        match message_at(events, sh_frame, 2, client).map(parse_server_hello) {
            Some(Ok(hello)) => check_server_hello(&mut check, &hello),
            Some(Err(err)) => check.missing(&format!("parsable ServerHello: {err}")),
            None => check.missing(&format!("ServerHello at frame {sh_frame}")),
        }
    }
    check.differences
}

/// Runs one capture and compares its QUIC truth rows; returns the rows
/// compared, the differences and the tracker's counters.
fn check_capture(dir: &Path, truth: &Path) -> Option<(usize, Vec<String>, QuicStats)> {
    let rows: Vec<Row> = read_tsv(truth)
        .into_iter()
        .filter(|row| cell(row, "transport") == "quic")
        .collect();
    if rows.is_empty() {
        return None;
    }
    let name = truth.file_name()?.to_str()?.strip_suffix(".tsv")?;
    let (events, stats) = track_capture(&dir.join(name));
    let differences = rows
        .iter()
        .flat_map(|row| check_row(name, row, &events))
        .collect();
    Some((rows.len(), differences, stats))
}

#[test]
fn quic_handshakes_match_tshark() {
    let Some(dir) = corpus_pcap_dir("quic_handshakes_match_tshark") else {
        return;
    };
    let mut compared = 0;
    let mut differences = Vec::new();
    let mut per_capture = BTreeMap::new();
    for truth in handshake_truth_files(&dir) {
        let Some((rows, mut diffs, stats)) = check_capture(&dir, &truth) else {
            continue;
        };
        compared += rows;
        differences.append(&mut diffs);
        per_capture.insert(truth.display().to_string(), stats);
    }
    println!(
        "compared {compared} QUIC handshakes in {} captures",
        per_capture.len()
    );
    assert!(
        compared >= 60,
        "only {compared} QUIC handshakes found in the truth files"
    );
    assert!(differences.is_empty(), "{}", differences.join("\n"));
}

#[test]
fn corpus_captures_never_malformed() {
    let Some(dir) = corpus_pcap_dir("corpus_captures_never_malformed") else {
        return;
    };
    let mut reasons = Vec::new();
    for truth in handshake_truth_files(&dir) {
        let Some(name) = truth.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let Some(capture) = name.strip_suffix(".tsv") else {
            continue;
        };
        let (events, _) = track_capture(&dir.join(capture));
        reasons.extend(events.iter().filter_map(|event| match &event.kind {
            QuicEventKind::Malformed { reason } => Some(format!("{capture}: {reason}")),
            _ => None,
        }));
    }
    assert!(reasons.is_empty(), "{}", reasons.join("\n"));
}
