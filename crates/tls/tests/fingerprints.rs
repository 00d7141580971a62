//! JA3, JA3S and JA4 checked against outside references on real captures:
//! tshark 4.0's JA3/JA3S columns in the corpus ground truth, and the JA4
//! values FoxIO's Python implementation published for its test captures.
//!
//! Only handshake messages that fit in one packet are used.

mod messages_support;

use std::collections::HashSet;
use std::path::Path;

use messages_support::{
    captures_with_truth, cell, corpus_pcap_dir, frame, handshake_messages, read_packets, truth_rows,
};
use wiretrust_tls::fingerprint::{Ja4Transport, ja3, ja3s, ja4, ja4_r};
use wiretrust_tls::handshake::{ClientHello, parse_client_hello, parse_server_hello};

/// Handshake types of the messages these tests fingerprint.
const CLIENT_HELLO: u8 = 1;
const SERVER_HELLO: u8 = 2;

/// Fingerprints every hello of `msg_type` that lies whole in one packet.
///
/// Hellos the parser flags as truncated are left out: their lengths are
/// inconsistent (the corpus has deliberately broken ones), and what tshark
/// prints for them is not a reference.
fn fingerprints_in(packet: &[u8], msg_type: u8) -> Vec<(String, String)> {
    let messages = handshake_messages(packet);
    let bodies = messages.iter().filter(|m| m.msg_type == msg_type);
    let prints = bodies.filter_map(|m| match msg_type {
        CLIENT_HELLO => parse_client_hello(&m.body)
            .ok()
            .filter(|h| !h.truncated)
            .map(|h| ja3(&h)),
        _ => parse_server_hello(&m.body)
            .ok()
            .filter(|h| !h.truncated)
            .map(|h| ja3s(&h)),
    });
    prints.map(|print| (print.text, print.md5)).collect()
}

#[test]
fn ja3_matches_tshark_truth() {
    let Some(dir) = corpus_pcap_dir("ja3_matches_tshark_truth") else {
        return;
    };
    let (mut compared, mut mismatches) = (0, Vec::new());
    for capture in captures_with_truth(&dir) {
        let packets = read_packets(&dir.join(&capture));
        for row in truth_rows(&dir, &capture) {
            let (msg_type, text_col, md5_col) = match cell(&row, "msg") {
                "ClientHello" => (CLIENT_HELLO, "ja3_full", "ja3"),
                "ServerHello" | "HelloRetryRequest" => (SERVER_HELLO, "ja3s_full", "ja3s"),
                _ => continue,
            };
            let expected = (
                cell(&row, text_col).to_string(),
                cell(&row, md5_col).to_string(),
            );
            let Some(packet) = packets.get(frame(&row).wrapping_sub(1)) else {
                continue;
            };
            let found = fingerprints_in(packet, msg_type);
            // A hello split over several packets is not found; that row is not compared.
            let [ours] = found.as_slice() else {
                continue;
            };
            compared += 1;
            if *ours != expected || expected.0.is_empty() {
                mismatches.push(format!(
                    "{capture} frame {}: ours {ours:?}, tshark {expected:?}",
                    frame(&row)
                ));
            }
        }
    }
    println!("compared {compared} JA3/JA3S values with tshark");
    assert!(
        mismatches.is_empty(),
        "JA3 mismatches:\n{}",
        mismatches.join("\n")
    );
    assert!(compared >= 300, "only {compared} hellos fit in one packet");
}

#[test]
fn ja4_matches_foxio_outputs() {
    let Some(dir) = corpus_pcap_dir("ja4_matches_foxio_outputs") else {
        return;
    };
    let baselines = dir.join("baselines/ja4");
    let (mut by_python, mut by_rust, mut mismatches) = (0, 0, Vec::new());
    for capture in foxio_captures(&baselines) {
        let python = python_ja4(&baselines, &capture);
        let rust = rust_snapshot_ja4(&baselines, &capture);
        for hello in single_packet_client_hellos(&dir.join(format!("ja4__{capture}"))) {
            let ours = ja4(&hello, Ja4Transport::Tcp);
            let raw = ja4_r(&hello, Ja4Transport::Tcp);
            let reference = with_reference_alpn(&ours, &hello);
            let reference_raw = with_reference_alpn(&raw, &hello);
            if python.contains(&(reference, reference_raw)) {
                by_python += 1;
            } else if !grease_in_signatures(&hello)
                && rust.contains(&with_reference_alpn(&ours, &hello))
            {
                by_rust += 1;
            } else {
                mismatches.push(format!("{capture}: {ours} / {raw}"));
            }
        }
    }
    println!(
        "JA4 equal to FoxIO's Python output {by_python} times, to its Rust snapshots {by_rust} times"
    );
    assert!(
        mismatches.is_empty(),
        "JA4 values FoxIO does not list:\n{}",
        mismatches.join("\n")
    );
    assert!(
        by_python >= 100,
        "only {by_python} ClientHellos matched the Python output"
    );
}

/// Lists the captures FoxIO published Python outputs for, by capture file name.
fn foxio_captures(baselines: &Path) -> Vec<String> {
    let entries = std::fs::read_dir(baselines.join("python-testdata"))
        .into_iter()
        .flatten();
    let mut names: Vec<String> = entries
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter_map(|name| name.strip_suffix(".json").map(str::to_string))
        .collect();
    names.sort();
    names
}

fn single_packet_client_hellos(capture: &Path) -> Vec<ClientHello<'static>> {
    let packets = read_packets(capture);
    let messages = packets.iter().flat_map(|packet| handshake_messages(packet));
    let hellos = messages.filter(|m| m.msg_type == CLIENT_HELLO);
    hellos
        .filter_map(|m| {
            parse_client_hello(&m.body)
                .ok()
                .map(ClientHello::into_owned)
        })
        .collect()
}

/// Returns `print` with the ALPN marker spelled as FoxIO's implementations
/// spelled it when the corpus outputs were made: '9' for each end byte that
/// is not an ASCII letter or digit. The JA4 specification (which `ja4`
/// follows and FoxIO names as the correct method) uses hex digits there.
fn with_reference_alpn(print: &str, hello: &ClientHello) -> String {
    let Some(protocol) = hello.alpn.first().filter(|p| !p.is_empty()) else {
        return print.to_string();
    };
    let spell = |byte: Option<&u8>| match byte {
        Some(b) if b.is_ascii_alphanumeric() => char::from(*b),
        _ => '9',
    };
    let marker: String = [spell(protocol.first()), spell(protocol.last())]
        .iter()
        .collect();
    // The marker is characters 9 and 10 of the `a` section, e.g. "h2" in t13d1516h2.
    match (print.get(..8), print.get(10..)) {
        (Some(head), Some(tail)) => format!("{head}{marker}{tail}"),
        _ => print.to_string(),
    }
}

/// True when GREASE appears in `signature_algorithms`. FoxIO's Rust
/// snapshots in the corpus hashed those values, so they are no reference for such hellos.
fn grease_in_signatures(hello: &ClientHello) -> bool {
    hello.signature_algorithms.iter().any(|s| s.is_grease())
}

/// Collects `(JA4, JA4_r)` pairs from FoxIO's Python JSON output. The file is
/// a list of flat objects with string values, so a few string splits read it.
fn python_ja4(baselines: &Path, capture: &str) -> HashSet<(String, String)> {
    let path = baselines
        .join("python-testdata")
        .join(format!("{capture}.json"));
    let json = std::fs::read_to_string(path).unwrap_or_default();
    let mut pairs = HashSet::new();
    for object in json.split('}') {
        let field = |key: &str| {
            let start = object.find(&format!("\"{key}\": \""))? + key.len() + 5;
            let len = object.get(start..)?.find('"')?;
            object.get(start..start + len).map(str::to_string)
        };
        for index in 1..=2 {
            let print = field(&format!("JA4.{index}"));
            let raw = field(&format!("JA4_r.{index}"));
            if let (Some(print), Some(raw)) = (print, raw) {
                pairs.insert((print, raw));
            }
        }
    }
    pairs
}

/// Collects the `ja4:` values of FoxIO's Rust snapshot (YAML) for a capture.
fn rust_snapshot_ja4(baselines: &Path, capture: &str) -> HashSet<String> {
    let path = baselines
        .join("rust-snapshots")
        .join(format!("ja4__insta@{capture}.snap"));
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let values = text
        .lines()
        .filter_map(|line| line.trim().strip_prefix("ja4: "));
    values.map(str::to_string).collect()
}
