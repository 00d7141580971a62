//! Compares every TLS handshake over TCP that wiretrust rebuilds from the
//! public corpus with tshark's dissection of the same capture (the truth
//! tables beside the captures), and JA4 with FoxIO's published outputs.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use wiretrust::observations::{Sender, TlsSession};

/// Differences where tshark, not wiretrust, is wrong, each with the
/// evidence: (capture, handshake row, field or `*` for every field, reason).
/// "Out of order" rows: tshark 4.0 leaves segments that arrive ahead of a
/// hole unreassembled unless `tcp.reassemble_out_of_order` is on; with
/// `tshark -o tcp.reassemble_out_of_order:TRUE` it reports wiretrust's
/// values (ServerHello random, suite and leaf certificate hash).
const TSHARK_EXCEPTIONS: &[(&str, &str, &str, &str)] = &[
    (
        "ndpi__google_ssl.pcap",
        "1",
        "*",
        "out of order: frame 6 arrives before frames 8 and 10",
    ),
    (
        "suricata__tls-fingerprint-alert__input.pcap",
        "1",
        "*",
        "out of order: frame 12 fills the hole before frame 6",
    ),
    (
        "zeek__hrr.pcap",
        "1",
        "*",
        "out of order: the ServerHello after the HelloRetryRequest is frame 11",
    ),
    (
        "zeek__psql-aws-ssl-require.pcap",
        "1",
        "*",
        "out of order: the certificate flight is frame 11, after frame 10",
    ),
    (
        "zeek__ssl.v3.pcap",
        "3",
        "alerts",
        "the server's close_notify at seq 3591 was lost by the capture (frame 248 \
         acknowledges past it); its retransmission in frame 251 is the only copy, which \
         tshark skips as a retransmission",
    ),
    (
        "suricata__bug-1450-04__tls_DER-incomplete-header.pcap",
        "1",
        "alerts",
        "record 7 claims 4325376 bytes; tshark stops reading there, wiretrust resynchronises \
         and reads the client's bad_certificate alert in record 8",
    ),
    (
        "suricata__bug-1450-04__tls_DER-incomplete-header.pcap",
        "1",
        "server_leaf_cert_sha256",
        "the certificate entry holds more than its leading DER element; tshark hashes the \
         element, wiretrust the whole entry as sent",
    ),
    (
        "zeek__tls-fragmented-handshake.pcap.gz",
        "1",
        "server_cert_count",
        "the 339,629-byte Certificate message spans 21 records (frames 25 to 410); tshark \
         dissects the ServerKeyExchange and ServerHelloDone after it in frame 411 but never \
         the Certificate, wiretrust reads its one certificate (CN=Bro)",
    ),
    (
        "zeek__tls-fragmented-handshake.pcap.gz",
        "1",
        "server_leaf_cert_sha256",
        "same Certificate message as above",
    ),
    (
        "ndpi__quic-forcing-vn-with-data.pcapng",
        "1",
        "*",
        "frame 1 uses the reserved version 0xbabababa to force Version Negotiation; tshark 4.0 \
         keeps that attempt's state and decrypts neither the client's QUIC v1 Initial in frame 3 \
         nor the one after the Retry, so its row has no ClientHello; wiretrust derives the v1 \
         keys from frame 3's destination connection id and reads the ClientHello there",
    ),
    (
        "ndpi__tls_cipher_lens.pcap",
        "3",
        "ch_cipher_count",
        "cipher_suites length 133 is odd, so the hello is malformed; tshark still reads 66 suites",
    ),
    (
        "ndpi__tls_cipher_lens.pcap",
        "3",
        "ch_reneg_scsv",
        "same malformed vector: wiretrust reads no suites from it",
    ),
    (
        "ndpi__tls_cipher_lens.pcap",
        "5",
        "ja3",
        "cipher_suites length 0 and an extensions length past the end: wiretrust gives no \
         fingerprint for a malformed hello, tshark hashes what it salvaged",
    ),
];

/// Truth rows that describe no handshake: tshark opened a row for an
/// encrypted alert in a connection whose hello the capture does not hold.
/// wiretrust starts a session only at a hello or an alert in clear.
fn is_alert_only_row(row: &HashMap<String, String>) -> bool {
    row["ch_frame"].is_empty()
        && row["sh_frame"].is_empty()
        && row["labels"].contains("no_clienthello_seen")
}

/// Turns wiretrust's version names ("TLS 1.2", "SSL 2.0",
/// "TLS 1.3 (draft 16)") into tshark's ("TLSv1.2", "SSLv2", "TLSv1.3-draft16").
fn tshark_version(name: &str) -> String {
    if let Some(draft) = name
        .strip_prefix("TLS 1.3 (draft ")
        .and_then(|s| s.strip_suffix(')'))
    {
        return format!("TLSv1.3-draft{draft}");
    }
    if let Some(draft) = name
        .strip_prefix("TLS 1.3 (Facebook draft ")
        .and_then(|s| s.strip_suffix(')'))
    {
        return format!("TLSv1.3-fb{draft}");
    }
    match name {
        "SSL 2.0" => "SSLv2".to_owned(),
        "SSL 3.0" => "SSLv3".to_owned(),
        other => other.replace("TLS ", "TLSv"),
    }
}

fn flag(value: bool) -> String {
    if value { "1" } else { "0" }.to_owned()
}

/// Returns the alerts of a session in the truth table's notation, e.g.
/// `S:fatal:70@6` and `C:encrypted@17` (names dropped: tshark capitalises
/// them differently).
fn alert_set(session: &TlsSession) -> BTreeSet<String> {
    session
        .alerts
        .iter()
        .map(|alert| {
            let side = match alert.from {
                Sender::Client => "C",
                Sender::Server => "S",
            };
            match alert.code {
                Some(code) => format!("{side}:{}:{code}@{}", alert.level, alert.packet),
                None => format!("{side}:encrypted@{}", alert.packet),
            }
        })
        .chain(session.heartbeats.iter().map(|beat| {
            let kind = beat
                .message_type
                .map_or("encrypted".to_owned(), |t| t.to_string());
            let length = beat
                .payload_length
                .map_or("?".to_owned(), |l| l.to_string());
            format!(
                "heartbeat[hb_type={kind} payload_length={length}]@{}",
                beat.packet
            )
        }))
        .collect()
}

fn truth_alert_set(text: &str, ours: &BTreeSet<String>) -> BTreeSet<String> {
    split_items(text)
        .into_iter()
        .map(|item| {
            if item.starts_with("heartbeat[") {
                return item;
            }
            // "S:fatal:70(Protocol_Version)@6" -> "S:fatal:70@6"
            let mut item = match (item.find('('), item.find(')')) {
                (Some(open), Some(close)) if open < close => {
                    format!("{}{}", &item[..open], &item[close + 1..])
                }
                _ => item.to_owned(),
            };
            // tshark writes "?" when it could not tell the sender.
            if let Some(rest) = item.strip_prefix("?:") {
                let client = format!("C:{rest}");
                item = if ours.contains(&client) {
                    client
                } else {
                    format!("S:{rest}")
                };
            }
            item
        })
        .collect()
}

/// Splits the truth table's alert column at spaces outside brackets.
fn split_items(text: &str) -> Vec<String> {
    let mut items = Vec::new();
    let mut current = String::new();
    let mut depth = 0usize;
    for ch in text.chars() {
        match ch {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            ' ' if depth == 0 => {
                if !current.is_empty() {
                    items.push(std::mem::take(&mut current));
                }
                continue;
            }
            _ => {}
        }
        current.push(ch);
    }
    if !current.is_empty() {
        items.push(current);
    }
    items
}

/// Field by field comparison of one handshake row with our session.
fn compare(row: &HashMap<String, String>, session: &TlsSession) -> Vec<(String, String, String)> {
    let mut fields: Vec<(&str, String)> = Vec::new();
    if let Some(hello) = &session.client_hello {
        let supported: Vec<String> = hello
            .supported_versions
            .iter()
            .map(|v| tshark_version(v))
            .collect();
        fields.push(("ch_frame", hello.packet.to_string()));
        fields.push(("ch_record_version", tshark_version(&hello.record_version)));
        fields.push(("ch_legacy_version", tshark_version(&hello.legacy_version)));
        fields.push(("ch_supported_versions", supported.join(",")));
        fields.push(("client_max_version", tshark_version(&hello.max_version)));
        fields.push(("sni", session.server_name.clone().unwrap_or_default()));
        fields.push(("ch_cipher_count", hello.cipher_count.to_string()));
        fields.push(("ch_fallback_scsv", flag(hello.fallback_scsv)));
        fields.push(("ch_reneg_scsv", flag(hello.renegotiation_scsv)));
        fields.push(("ja3", session.ja3.clone().unwrap_or_default()));
    }
    if let Some(server) = &session.server_hello {
        fields.push(("sh_frame", server.packet.to_string()));
        fields.push((
            "negotiated_version",
            session
                .version
                .as_deref()
                .map(tshark_version)
                .unwrap_or_default(),
        ));
        fields.push(("sh_random_last8", server.random_last8.clone()));
        fields.push((
            "downgrade_sentinel",
            server.downgrade_sentinel.unwrap_or_default().to_owned(),
        ));
        fields.push(("ja3s", session.ja3s.clone().unwrap_or_default()));
        let cipher = match server.client_master_key_packet {
            Some(_) => format!("{}(CMK)", server.cipher_code),
            None => server.cipher_code.clone(),
        };
        fields.push(("sh_cipher", cipher));
    }
    // tshark counts the certificates of a server Certificate message, which
    // may hold none; no message leaves the column empty.
    let certificate_count = if session.history.contains('c') {
        session.certificates.len().to_string()
    } else {
        String::new()
    };
    fields.push(("server_cert_count", certificate_count));
    fields.push((
        "server_leaf_cert_sha256",
        session
            .certificates
            .first()
            .map(|c| c.sha256.clone())
            .unwrap_or_default(),
    ));
    let mut differences = Vec::new();
    for (name, ours) in fields {
        let expected = row.get(name).map(String::as_str).unwrap_or_default();
        let expected = if name == "ch_supported_versions" {
            expected
                .split(',')
                .filter(|v| *v != "GREASE")
                .collect::<Vec<_>>()
                .join(",")
        } else {
            expected.to_owned()
        };
        if expected != ours {
            differences.push((name.to_owned(), expected, ours));
        }
    }
    let ours = alert_set(session);
    let expected = truth_alert_set(&row["alerts"], &ours);
    if ours != expected {
        differences.push((
            "alerts".to_owned(),
            format!("{expected:?}"),
            format!("{ours:?}"),
        ));
    }
    differences
}

/// Finds the session a truth row describes: by ClientHello packet, else
/// (no hello captured) by ServerHello packet.
fn find_session<'a>(
    row: &HashMap<String, String>,
    sessions: &'a [TlsSession],
) -> Option<&'a TlsSession> {
    let ch: Option<u64> = row["ch_frame"].parse().ok();
    let sh: Option<u64> = row["sh_frame"].parse().ok();
    sessions.iter().find(|s| match ch {
        Some(frame) => s.client_hello.as_ref().is_some_and(|h| h.packet == frame),
        None => sh.is_some() && s.server_hello.as_ref().map(|h| h.packet) == sh,
    })
}

fn is_exception(capture: &str, hs: &str, field: &str) -> bool {
    TSHARK_EXCEPTIONS
        .iter()
        .any(|(c, h, f, _)| *c == capture && *h == hs && (*f == field || *f == "*"))
}

fn check_capture(truth_file: &Path, capture: &Path, report: &mut Vec<String>) -> usize {
    let rows: Vec<_> = common::read_tsv(truth_file)
        .into_iter()
        .filter(|r| r["transport"] == "tcp" || r["transport"] == "quic")
        .collect();
    if rows.is_empty() {
        return 0;
    }
    let scanned = common::scan_paths(&[capture.to_path_buf()]);
    let name = capture
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    for row in rows.iter().filter(|row| !is_alert_only_row(row)) {
        let hs = row["hs"].clone();
        let Some(session) = find_session(row, &scanned.sessions) else {
            report.push(format!(
                "{name} hs {hs}: no session for ClientHello frame {:?} / ServerHello frame {:?}",
                row["ch_frame"], row["sh_frame"]
            ));
            continue;
        };
        for (field, expected, ours) in compare(row, session) {
            if !is_exception(&name, &hs, &field) {
                report.push(format!(
                    "{name} hs {hs}: {field}: tshark {expected:?}, wiretrust {ours:?}"
                ));
            }
        }
    }
    rows.len()
}

#[test]
fn handshakes_match_tshark() {
    let Some(corpus) = common::corpus("handshakes_match_tshark") else {
        return;
    };
    let truth = corpus.join("pcap").join("truth");
    let mut report = Vec::new();
    let mut handshakes = 0;
    let mut entries: Vec<_> = std::fs::read_dir(&truth)
        .expect("truth folder")
        .flatten()
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let file = entry.file_name().to_string_lossy().into_owned();
        let Some(capture) = file.strip_suffix(".tsv") else {
            continue;
        };
        if capture.ends_with(".messages") || capture.ends_with(".http") || capture == "SUMMARY" {
            continue;
        }
        handshakes += check_capture(
            &entry.path(),
            &corpus.join("pcap").join(capture),
            &mut report,
        );
    }
    assert!(
        handshakes > 400,
        "only {handshakes} TCP handshakes in the truth tables"
    );
    assert!(
        report.is_empty(),
        "{} differences over {handshakes} handshakes:\n{}",
        report.len(),
        report.join("\n")
    );
}

/// ALPN lists come from the per-message truth table.
#[test]
fn alpn_matches_tshark() {
    let Some(corpus) = common::corpus("alpn_matches_tshark") else {
        return;
    };
    let truth = corpus.join("pcap").join("truth");
    let mut report = Vec::new();
    let mut checked = 0;
    for entry in std::fs::read_dir(&truth).expect("truth folder").flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        let Some(capture) = file.strip_suffix(".messages.tsv") else {
            continue;
        };
        let rows: Vec<_> = common::read_tsv(&entry.path())
            .into_iter()
            .filter(|r| {
                (r["transport"] == "tcp" || r["transport"] == "quic")
                    && r["msg"] == "ClientHello"
                    && !r["alpn"].is_empty()
            })
            .collect();
        if rows.is_empty() {
            continue;
        }
        let scanned = common::scan_paths(&[corpus.join("pcap").join(capture)]);
        for row in rows {
            let frame: u64 = row["frame"].parse().unwrap_or(0);
            // The session record keeps the first hello's offer, and the hello
            // sent in reply to a HelloRetryRequest repeats it.
            if scanned
                .sessions
                .iter()
                .any(|s| s.retried_client_hello == Some(frame))
            {
                continue;
            }
            let ours = scanned
                .sessions
                .iter()
                .find_map(|s| s.client_hello.as_ref().filter(|h| h.packet == frame))
                .map(|h| h.alpn.join(","));
            checked += 1;
            // tshark prints ALPN bytes as they are; wiretrust escapes bytes
            // that are not printable ASCII as \xNN.
            let ours = ours.map(|text| String::from_utf8_lossy(&unescape(&text)).into_owned());
            if ours.as_deref() != Some(row["alpn"].as_str()) {
                report.push(format!(
                    "{capture} frame {frame}: tshark {:?}, wiretrust {ours:?}",
                    row["alpn"]
                ));
            }
        }
    }
    assert!(checked > 50, "only {checked} ClientHellos with ALPN");
    assert!(
        report.is_empty(),
        "{} differences:\n{}",
        report.len(),
        report.join("\n")
    );
}

/// Turns `\xNN` escapes back into bytes.
fn unescape(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = bytes.get(i..i + 4).filter(|s| s.starts_with(b"\\x"));
        match escaped.and_then(|s| u8::from_str_radix(std::str::from_utf8(&s[2..]).ok()?, 16).ok())
        {
            Some(byte) => {
                out.push(byte);
                i += 4;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    out
}

/// JA4 values where FoxIO's published Python output predates its own
/// specification: (capture, client port, expected by the specification, reason).
const JA4_EXCEPTIONS: &[(&str, u16, &str, &str)] = &[(
    "tls-non-ascii-alpn.pcapng",
    50112,
    "t13d1516bd_8daaf6152771_e5627efa2ab1",
    "ALPN 0xbaad is not alphanumeric: the JA4 specification takes the first and last hex \
     digits (\"bd\"); the Python output writes \"99\"",
)];

/// JA4 of every TCP ClientHello against FoxIO's Python outputs.
#[test]
fn ja4_matches_foxio() {
    let Some(corpus) = common::corpus("ja4_matches_foxio") else {
        return;
    };
    let outputs = corpus
        .join("pcap")
        .join("baselines")
        .join("ja4")
        .join("python-testdata");
    let mut report = Vec::new();
    let mut checked = 0;
    for entry in std::fs::read_dir(&outputs)
        .expect("JA4 outputs folder")
        .flatten()
    {
        let file = entry.file_name().to_string_lossy().into_owned();
        let Some(capture) = file.strip_suffix(".json") else {
            continue;
        };
        let text = std::fs::read_to_string(entry.path()).expect("JA4 output");
        let records: Vec<serde_json::Value> = serde_json::from_str(&text).expect("JA4 JSON");
        let scanned = common::scan_paths(&[corpus.join("pcap").join(format!("ja4__{capture}"))]);
        for record in &records {
            let Some(mut expected) = record.get("JA4.1").and_then(|v| v.as_str()) else {
                continue;
            };
            let src = record["src"].as_str().unwrap_or_default();
            let port: u16 = record["srcport"]
                .as_str()
                .unwrap_or_default()
                .parse()
                .unwrap_or(0);
            let exception = JA4_EXCEPTIONS
                .iter()
                .find(|e| e.0 == capture && e.1 == port);
            if let Some(exception) = exception {
                expected = exception.2;
            }
            let ours: Vec<&str> = scanned
                .sessions
                .iter()
                .filter(|s| s.client.ip.to_string() == src && s.client.port == port)
                .filter_map(|s| s.ja4.as_deref())
                .collect();
            checked += 1;
            if !ours.contains(&expected) {
                report.push(format!(
                    "{capture} {src}:{port}: FoxIO {expected}, wiretrust {ours:?}"
                ));
            }
        }
    }
    assert!(checked > 20, "only {checked} JA4 values checked");
    assert!(
        report.is_empty(),
        "{} differences:\n{}",
        report.len(),
        report.join("\n")
    );
}
