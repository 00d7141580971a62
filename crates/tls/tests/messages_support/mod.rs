//! Test helpers that pull single-packet TLS handshake messages out of the
//! public capture corpus and read its tshark ground truth.
//!
//! There is no TCP reassembly here on purpose: a message is used only when
//! one packet contains all of it, which is enough to cross-check the parsers.

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};

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

fn u16_at(data: &[u8], at: usize, big_endian: bool) -> Option<u16> {
    let bytes: [u8; 2] = data.get(at..at.checked_add(2)?)?.try_into().ok()?;
    Some(if big_endian {
        u16::from_be_bytes(bytes)
    } else {
        u16::from_le_bytes(bytes)
    })
}

fn u32_at(data: &[u8], at: usize, big_endian: bool) -> Option<usize> {
    let bytes: [u8; 4] = data.get(at..at.checked_add(4)?)?.try_into().ok()?;
    let value = if big_endian {
        u32::from_be_bytes(bytes)
    } else {
        u32::from_le_bytes(bytes)
    };
    usize::try_from(value).ok()
}

/// Reads the packets of a classic pcap or pcapng file, in file order, so
/// that packet `n` (1-based) is tshark's frame `n`. Unknown formats give none.
pub fn read_packets(path: &Path) -> Vec<Vec<u8>> {
    let Ok(data) = std::fs::read(path) else {
        return Vec::new();
    };
    match data.get(..4) {
        Some([0xd4, 0xc3, 0xb2, 0xa1] | [0x4d, 0x3c, 0xb2, 0xa1]) => classic_packets(&data, false),
        Some([0xa1, 0xb2, 0xc3, 0xd4] | [0xa1, 0xb2, 0x3c, 0x4d]) => classic_packets(&data, true),
        Some([0x0a, 0x0d, 0x0d, 0x0a]) => pcapng_packets(&data),
        _ => Vec::new(),
    }
}

/// Classic pcap: a 24-byte file header, then 16-byte record headers whose
/// third field is the captured length.
fn classic_packets(data: &[u8], big_endian: bool) -> Vec<Vec<u8>> {
    let mut packets = Vec::new();
    let mut at = 24;
    while let Some(captured) = u32_at(data, at + 8, big_endian) {
        let Some(packet) = data.get(at + 16..at + 16 + captured) else {
            break;
        };
        packets.push(packet.to_vec());
        at += 16 + captured;
    }
    packets
}

/// pcapng: blocks of type, total length, body. Enhanced (6), simple (3) and
/// obsolete packet (2) blocks carry packets; the byte order comes from each
/// section header block's magic.
fn pcapng_packets(data: &[u8]) -> Vec<Vec<u8>> {
    let mut packets = Vec::new();
    let mut big_endian = false;
    let mut at = 0;
    while let Some(kind) = u32_at(data, at, big_endian) {
        if kind == 0x0a0d_0d0a {
            big_endian = data.get(at + 8..at + 12) == Some(&[0x1a, 0x2b, 0x3c, 0x4d][..]);
        }
        let Some(total) = u32_at(data, at + 4, big_endian).filter(|t| *t >= 12) else {
            break;
        };
        let (captured_at, data_at) = match kind {
            6 | 2 => (at + 20, at + 28),
            3 => (at + 8, at + 12),
            _ => (0, 0),
        };
        if data_at != 0 {
            let captured = u32_at(data, captured_at, big_endian).unwrap_or(0);
            let captured = captured.min(total.saturating_sub(data_at - at + 4));
            if let Some(packet) = data.get(data_at..data_at + captured) {
                packets.push(packet.to_vec());
            }
        }
        at += total;
    }
    packets
}

/// One TLS handshake message found whole inside a packet.
#[derive(Debug, Clone)]
pub struct FoundMessage {
    /// Handshake type byte.
    pub msg_type: u8,
    /// Message body after the 4-byte header.
    pub body: Vec<u8>,
}

/// Finds TLS records (content type 22, version 3.x) anywhere in the packet
/// and returns every handshake message that lies wholly inside the packet.
pub fn handshake_messages(packet: &[u8]) -> Vec<FoundMessage> {
    let mut found = Vec::new();
    let mut at = 0;
    while at + 5 <= packet.len() {
        let header = &packet[at..at + 5];
        let is_record = header[0] == 0x16 && header[1] == 0x03 && header[2] <= 0x04;
        let record_len = usize::from(u16::from_be_bytes([header[3], header[4]]));
        if !is_record || record_len < 4 {
            at += 1;
            continue;
        }
        let end = (at + 5 + record_len).min(packet.len());
        let before = found.len();
        collect_messages(&packet[at + 5..end], &mut found);
        // Skip a record only when it contained a message, so a stray 0x16 byte cannot hide one.
        at = if found.len() > before { end } else { at + 1 };
    }
    found
}

fn collect_messages(mut payload: &[u8], found: &mut Vec<FoundMessage>) {
    while payload.len() >= 4 {
        let len =
            usize::from(payload[1]) << 16 | usize::from(payload[2]) << 8 | usize::from(payload[3]);
        let Some(body) = payload.get(4..4 + len) else {
            return;
        };
        found.push(FoundMessage {
            msg_type: payload[0],
            body: body.to_vec(),
        });
        payload = &payload[4 + len..];
    }
}

/// Finds SSL 2.0 records with a 2-byte header (high bit set) whose message
/// type is `msg_type` and returns the message bytes from the type byte on.
pub fn sslv2_messages(packet: &[u8], msg_type: u8) -> Vec<Vec<u8>> {
    let mut found = Vec::new();
    for at in 0..packet.len().saturating_sub(3) {
        let (first, second) = (packet[at], packet[at + 1]);
        if first & 0x80 == 0 || packet[at + 2] != msg_type {
            continue;
        }
        let len = usize::from(first & 0x7f) << 8 | usize::from(second);
        // Only a record that ends exactly at the packet end counts, which rules out stray bytes.
        if at + 2 + len == packet.len() {
            found.push(packet[at + 2..].to_vec());
        }
    }
    found
}

/// One row of a ground-truth TSV, by column name.
pub type TruthRow = HashMap<String, String>;

/// Reads `truth/<capture>.messages.tsv`; empty when the file is missing.
pub fn truth_rows(pcap_dir: &Path, capture: &str) -> Vec<TruthRow> {
    let path = pcap_dir
        .join("truth")
        .join(format!("{capture}.messages.tsv"));
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    let mut lines = text.lines();
    let Some(header) = lines.next() else {
        return Vec::new();
    };
    let names: Vec<&str> = header.split('\t').collect();
    lines
        .map(|line| {
            let cells = line.split('\t').map(str::to_string);
            names.iter().map(|n| n.to_string()).zip(cells).collect()
        })
        .collect()
}

/// Returns a column value, empty when absent.
pub fn cell<'a>(row: &'a TruthRow, name: &str) -> &'a str {
    row.get(name).map(String::as_str).unwrap_or("")
}

/// Returns the tshark frame number of a row.
pub fn frame(row: &TruthRow) -> usize {
    cell(row, "frame").parse().unwrap_or(0)
}

/// Lists the captures that have a messages truth file, uncompressed only.
pub fn captures_with_truth(pcap_dir: &Path) -> Vec<String> {
    let mut captures: Vec<String> = std::fs::read_dir(pcap_dir)
        .map(|entries| {
            entries
                .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
                .filter(|name| name.ends_with(".pcap") || name.ends_with(".pcapng"))
                .filter(|name| {
                    pcap_dir
                        .join("truth")
                        .join(format!("{name}.messages.tsv"))
                        .is_file()
                })
                .collect()
        })
        .unwrap_or_default();
    captures.sort();
    captures
}
