//! The decoder on real captures: the repository's own fixtures, and the
//! public corpus named by `WIRETRUST_CORPUS` compared with tshark's output.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

mod stream_support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use stream_support::capture::{Connection, decode_capture};
use wiretrust_tls::stream::{DecoderState, TlsEventKind};

/// RFC 8446 section 4.1.3: the ServerHello random of a HelloRetryRequest.
const HRR_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

/// A message as the truth files list it: frame, sender and message name.
type Row = (u64, String, String);

/// Names an event the way the truth files do, or `None` for events they omit.
fn message_name(kind: &TlsEventKind) -> Option<&'static str> {
    match kind {
        TlsEventKind::Handshake { msg_type: 1, .. } => Some("ClientHello"),
        TlsEventKind::Handshake {
            msg_type: 2, body, ..
        } => {
            if body.get(2..34) == Some(&HRR_RANDOM[..]) {
                Some("HelloRetryRequest")
            } else {
                Some("ServerHello")
            }
        }
        TlsEventKind::Handshake { msg_type: 6, .. } => Some("HelloRetryRequest"),
        TlsEventKind::Handshake { msg_type: 11, .. } => Some("Certificate"),
        TlsEventKind::Alert { .. } | TlsEventKind::EncryptedAlert { .. } => Some("Alert"),
        TlsEventKind::Heartbeat { .. } => Some("Heartbeat"),
        TlsEventKind::Sslv2 { body } => match body.first() {
            Some(1) => Some("SSLv2-ClientHello"),
            Some(2) => Some("SSLv2-ClientMasterKey"),
            Some(4) => Some("SSLv2-ServerHello"),
            _ => None,
        },
        _ => None,
    }
}

fn observed_rows(connections: &[Connection]) -> BTreeSet<Row> {
    let mut rows = BTreeSet::new();
    for connection in connections {
        for event in &connection.events {
            let Some(name) = message_name(&event.kind) else {
                continue;
            };
            let sender = if event.from_initiator {
                connection.initiator
            } else {
                connection.responder
            };
            rows.insert((event.packet, sender.to_string(), name.to_owned()));
        }
    }
    rows
}

/// Reads the TCP rows of a `<capture>.messages.tsv` truth file.
fn truth_rows(path: &Path) -> Option<BTreeSet<Row>> {
    let text = std::fs::read_to_string(path).ok()?;
    let mut rows = BTreeSet::new();
    for line in text.lines().skip(1) {
        let fields: Vec<&str> = line.split('\t').collect();
        if fields.get(2) != Some(&"tcp") {
            continue;
        }
        let frame = fields.first()?.parse().ok()?;
        rows.insert((
            frame,
            (*fields.get(4)?).to_owned(),
            (*fields.get(6)?).to_owned(),
        ));
    }
    Some(rows)
}

fn decode_file(path: &Path) -> Vec<Connection> {
    let file = std::fs::read(path).unwrap();
    decode_capture(&file)
        .unwrap_or_else(|| panic!("cannot read {} as pcap or pcapng", path.display()))
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/captures")
        .join(name)
}

fn names_from(connections: &[Connection], from_client: bool) -> Vec<&'static str> {
    let connection = &connections[0];
    let client_is_initiator = connection.decoder.client_is_initiator().unwrap();
    connection
        .events
        .iter()
        .filter(|event| (event.from_initiator == client_is_initiator) == from_client)
        .filter_map(|event| message_name(&event.kind))
        .collect()
}

#[test]
fn fixture_tls12_handshake() {
    let connections = decode_file(&fixture("tls12-benign.pcap"));
    assert_eq!(connections.len(), 1);
    let events = &connections[0].events;
    // Both closing alerts come after ChangeCipherSpec, so they are encrypted.
    assert_eq!(names_from(&connections, true), vec!["ClientHello", "Alert"]);
    assert_eq!(
        names_from(&connections, false),
        vec!["ServerHello", "Certificate", "Alert"]
    );
    assert!(
        !events
            .iter()
            .any(|e| matches!(e.kind, TlsEventKind::Alert { .. }))
    );
    assert_eq!(connections[0].decoder.preamble(), None);
}

#[test]
fn fixture_tls13_hides_certificate() {
    let connections = decode_file(&fixture("tls13-benign.pcap"));
    assert_eq!(names_from(&connections, false), vec!["ServerHello"]);
    let encrypted = connections[0]
        .events
        .iter()
        .filter(|e| matches!(e.kind, TlsEventKind::ApplicationData { .. }))
        .count();
    assert!(encrypted >= 4, "only {encrypted} application data records");
}

#[test]
fn fixture_fallback_alerts() {
    let connections = decode_file(&fixture("fallback-inappropriate.pcap"));
    let alerts: Vec<(u8, u8)> = connections
        .iter()
        .flat_map(|connection| &connection.events)
        .filter_map(|event| match event.kind {
            TlsEventKind::Alert { level, description } => Some((level, description)),
            _ => None,
        })
        .collect();
    assert_eq!(connections.len(), 2);
    assert_eq!(alerts, vec![(2, 40), (2, 86)]);
}

#[test]
fn fixture_null_suite_readable_close() {
    let connections = decode_file(&fixture("null-suite.pcap"));
    let events = &connections[0].events;
    assert!(
        events
            .iter()
            .all(|e| !matches!(e.kind, TlsEventKind::Malformed { .. }))
    );
    assert!(
        events
            .iter()
            .any(|e| matches!(e.kind, TlsEventKind::EncryptedAlert { .. }))
    );
}

/// Captures in which every TCP message that tshark lists must be found.
///
/// Extra messages are allowed: tshark 4.0 misses some that the decoder
/// finds (the ServerHello after a HelloRetryRequest in `zeek__hrr.pcap`,
/// the server Certificate in `zeek__psql-aws-ssl-require.pcap`).
const EXACT: &[&str] = &[
    "zeek__ssl-v2.pcap",
    "zeek__ssl.v3.pcap",
    "zeek__tls1_1.pcap",
    "zeek__tls1.2.pcap",
    "zeek__smtp-starttls.pcap",
    "zeek__imap-starttls.pcap",
    "zeek__pop3-starttls.pcap",
    "zeek__ftp-auth-tls.pcap",
    "zeek__xmpp-starttls.pcap",
    "zeek__ldap-starttls.pcap",
    "zeek__irc-starttls.pcap",
    "zeek__psql-aws-ssl-require.pcap",
    "zeek__socks-with-ssl.pcap",
    "zeek__hrr.pcap",
    "zeek__heartbleed.pcap",
    "arkime__tls-split-client-hello.pcap",
    "arkime__mysql-tls.pcap",
    "suricata__tls-client-hello-frag-01__dump_mtu300.pcap",
];

#[test]
fn corpus_matches_tshark_messages() {
    let Ok(corpus) = std::env::var("WIRETRUST_CORPUS") else {
        println!("skipped: WIRETRUST_CORPUS is not set");
        return;
    };
    let folder = Path::new(&corpus).join("pcap");
    let mut names: Vec<String> = std::fs::read_dir(&folder)
        .unwrap()
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".pcap") || name.ends_with(".pcapng"))
        .collect();
    names.sort();
    let (mut matched, mut missing, mut extra) = (0, 0, 0);
    let mut failures = Vec::new();
    for name in &names {
        let Some(truth) = truth_rows(&folder.join("truth").join(format!("{name}.messages.tsv")))
        else {
            continue;
        };
        let observed = observed_rows(&decode_file(&folder.join(name)));
        let lost: Vec<_> = truth.difference(&observed).collect();
        let added: Vec<_> = observed.difference(&truth).collect();
        matched += truth.intersection(&observed).count();
        missing += lost.len();
        extra += added.len();
        if !lost.is_empty() || !added.is_empty() {
            println!("{name}: missing {lost:?} extra {added:?}");
        }
        if !lost.is_empty() && EXACT.contains(&name.as_str()) {
            failures.push(name.clone());
        }
    }
    println!("matched {matched}, missing {missing}, extra {extra}");
    assert!(failures.is_empty(), "mismatches in {failures:?}");
    assert!(matched > 1000, "only {matched} messages matched");
    assert!(
        missing * 50 <= matched,
        "{missing} of {} messages missed",
        matched + missing
    );
}

#[test]
fn corpus_gives_up_on_plain_http() {
    let Ok(corpus) = std::env::var("WIRETRUST_CORPUS") else {
        println!("skipped: WIRETRUST_CORPUS is not set");
        return;
    };
    let path = Path::new(&corpus).join("pcap/zeek__get.pcap");
    for connection in decode_file(&path) {
        assert_ne!(connection.decoder.state(), DecoderState::Tls);
        assert!(connection.events.is_empty());
    }
}
