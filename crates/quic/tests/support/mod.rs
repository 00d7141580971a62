//! Shared helpers of the integration tests: feeding a capture through a
//! tracker, and reading the corpus ground truth.

#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use wiretrust_pcap::{CaptureReader, Decoded, Transport, decode};
use wiretrust_quic::{QuicEvent, QuicLimits, QuicStats, QuicTracker};

/// Returns the corpus `pcap` folder, or prints why a test is skipped.
pub fn corpus_pcap_dir(test: &str) -> Option<PathBuf> {
    let Some(root) = std::env::var_os("WIRETRUST_CORPUS") else {
        println!("skipped {test}: WIRETRUST_CORPUS is not set");
        return None;
    };
    let dir = PathBuf::from(root).join("pcap");
    if !dir.is_dir() {
        println!("skipped {test}: {} is not a folder", dir.display());
        return None;
    }
    Some(dir)
}

/// Feeds every UDP datagram of a capture to a fresh tracker and returns
/// the events and counters.
pub fn track_capture(path: &Path) -> (Vec<QuicEvent>, QuicStats) {
    let mut reader = CaptureReader::open(path)
        .unwrap_or_else(|err| panic!("cannot open {}: {err}", path.display()));
    let mut tracker = QuicTracker::new(QuicLimits::default());
    let mut events = Vec::new();
    while let Some(next) = reader.next_packet() {
        let Ok(packet) = next else { continue };
        let Ok(Decoded::Ip(ip)) = decode(packet.link_type, packet.data) else {
            continue;
        };
        let Transport::Udp(udp) = ip.transport else {
            continue;
        };
        let src = SocketAddr::new(ip.src, udp.src_port);
        let dst = SocketAddr::new(ip.dst, udp.dst_port);
        let (number, ts) = (packet.number, packet.timestamp_ns);
        tracker.datagram(src, dst, udp.payload, number, ts, &mut events);
    }
    tracker.finish(&mut events);
    (events, tracker.stats().clone())
}

/// One row of a truth table, by column name.
pub type Row = HashMap<String, String>;

/// Reads a tab-separated file whose first line names the columns.
pub fn read_tsv(path: &Path) -> Vec<Row> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display()));
    let mut lines = text.lines();
    let Some(header) = lines.next() else {
        return Vec::new();
    };
    let names: Vec<&str> = header.split('\t').collect();
    lines
        .map(|line| {
            names
                .iter()
                .zip(line.split('\t').chain(std::iter::repeat("")))
                .map(|(name, value)| (name.to_string(), value.to_string()))
                .collect()
        })
        .collect()
}

/// Returns the value of `column` in `row`, empty when absent.
pub fn cell<'a>(row: &'a Row, column: &str) -> &'a str {
    row.get(column).map(String::as_str).unwrap_or("")
}

/// Lists the handshake truth files (`<capture>.tsv`) of the corpus, sorted.
pub fn handshake_truth_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir.join("truth")) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            name.ends_with(".tsv")
                && !name.ends_with(".messages.tsv")
                && !name.ends_with(".http.tsv")
                && name != "SUMMARY.tsv"
        })
        .collect();
    files.sort();
    files
}
