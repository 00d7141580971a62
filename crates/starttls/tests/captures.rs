//! Runs `Dialogue` over real captures: packets read by wiretrust-pcap,
//! streams reassembled by wiretrust-tcp, one dialogue per connection.
//!
//! The public STARTTLS captures come from the corpus named by
//! `WIRETRUST_CORPUS` (a folder with a `pcap` subfolder) and are skipped
//! with a printed line when it is unset. The project's own recordings are
//! under `fixtures/captures/` and always run.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use wiretrust_pcap::{CaptureReader, Decoded, Transport, decode};
use wiretrust_starttls::{Dialogue, FindingKind, Garble, Outcome, Preamble, Progress, Side};
use wiretrust_tcp::{
    FlowEnd, FlowKey, FlowTable, Interest, Limits, Segment, SegmentMeta, StreamHandler,
};

/// The result for one connection.
#[derive(Debug)]
struct Connection {
    key: FlowKey,
    outcome: Outcome,
    /// First TLS byte of each side as handed off (client, server).
    first_tls_byte: [Option<u8>; 2],
}

/// A flow's handler: feeds the dialogue until both sides are finished.
struct DialogueHandler {
    dialogue: Dialogue,
    first_tls_byte: [Option<u8>; 2],
}

fn side_index(side: Side) -> usize {
    match side {
        Side::Client => 0,
        Side::Server => 1,
    }
}

impl StreamHandler for DialogueHandler {
    type Context = Vec<Connection>;

    fn on_data(
        &mut self,
        _: &mut Self::Context,
        side: Side,
        data: &[u8],
        _: SegmentMeta,
    ) -> Interest {
        if let Progress::Tls(handoff) = self.dialogue.feed(side, data) {
            let first = handoff.held.first().or(data.get(handoff.rest)).copied();
            self.first_tls_byte[side_index(side)] = first;
        }
        if self.dialogue.is_done() {
            Interest::Ignore
        } else {
            Interest::Continue
        }
    }

    fn on_gap(&mut self, _: &mut Self::Context, side: Side, missing_bytes: u64, _: SegmentMeta) {
        self.dialogue.gap(side, missing_bytes);
    }

    fn on_fin(&mut self, _: &mut Self::Context, side: Side, _: SegmentMeta) {
        self.dialogue.end(side);
    }

    fn on_end(mut self, ctx: &mut Self::Context, key: &FlowKey, _: FlowEnd, _: SegmentMeta) {
        self.dialogue.end(Side::Client);
        self.dialogue.end(Side::Server);
        ctx.push(Connection {
            key: *key,
            outcome: self.dialogue.into_outcome(),
            first_tls_byte: self.first_tls_byte,
        });
    }
}

/// Reads a capture and returns one result per TCP connection, in the order
/// the connections ended.
fn run_capture(path: &Path) -> Vec<Connection> {
    let mut reader =
        CaptureReader::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut table: FlowTable<DialogueHandler> = FlowTable::new(Limits::default());
    let mut connections = Vec::new();
    while let Some(next) = reader.next_packet() {
        let packet = next.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let Ok(Decoded::Ip(ip)) = decode(packet.link_type, packet.data) else {
            continue;
        };
        let Transport::Tcp(tcp) = ip.transport else {
            continue;
        };
        let segment = Segment {
            src: SocketAddr::new(ip.src, tcp.src_port),
            dst: SocketAddr::new(ip.dst, tcp.dst_port),
            seq: tcp.seq,
            ack: tcp.ack,
            flags: tcp.flags,
            payload: tcp.payload,
        };
        let meta = SegmentMeta {
            packet: packet.number,
            timestamp_ns: packet.timestamp_ns,
        };
        table.segment(&segment, meta, &mut connections, |_, _| DialogueHandler {
            dialogue: Dialogue::new(),
            first_tls_byte: [None, None],
        });
    }
    table.finish(&mut connections);
    connections
}

/// Returns the corpus capture folder, or `None` (with a printed line) when
/// `WIRETRUST_CORPUS` is unset.
fn corpus_pcaps(test: &str) -> Option<PathBuf> {
    match std::env::var_os("WIRETRUST_CORPUS") {
        Some(corpus) => Some(PathBuf::from(corpus).join("pcap")),
        None => {
            println!("{test}: skipped, WIRETRUST_CORPUS is unset");
            None
        }
    }
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/captures")
        .join(name)
}

/// Asserts a STARTTLS dialogue that was offered (when a list was sent),
/// requested, accepted and followed by TLS on both sides, with no finding.
fn assert_starttls_used(name: &str, connection: &Connection, protocol: Preamble) {
    let outcome = &connection.outcome;
    let key = connection.key;
    assert_eq!(outcome.protocol, Some(protocol), "{name} {key:?}");
    assert!(
        outcome.findings.is_empty(),
        "{name} {key:?}: {:?}",
        outcome.findings
    );
    assert!(
        outcome.starttls.requested.is_some(),
        "{name} {key:?}: no request"
    );
    assert!(
        outcome.starttls.accepted.is_some(),
        "{name} {key:?}: not accepted"
    );
    assert!(
        outcome.starttls.refused.is_none(),
        "{name} {key:?}: refused"
    );

    if !outcome.capabilities.is_empty() {
        assert!(outcome.starttls.offered, "{name} {key:?}: not offered");
    }

    assert!(
        outcome.client_tls_offset.is_some(),
        "{name} {key:?}: client TLS"
    );
    assert!(
        outcome.server_tls_offset.is_some(),
        "{name} {key:?}: server TLS"
    );
    // 22 is the TLS handshake content type.
    assert_eq!(
        connection.first_tls_byte,
        [Some(22), Some(22)],
        "{name} {key:?}"
    );
}

#[test]
fn corpus_starttls_used_without_findings() {
    let Some(folder) = corpus_pcaps("corpus_starttls_used_without_findings") else {
        return;
    };
    let cases = [
        ("arkime__smtp-starttls.pcap", Preamble::Smtp, 1),
        ("ndpi__smtp-starttls.pcap", Preamble::Smtp, 2),
        ("ndpi__pop3_stls.pcap", Preamble::Pop3, 1),
        ("ndpi__ftp-start-tls.pcap", Preamble::Ftp, 1),
        ("zeek__smtp-starttls.pcap", Preamble::Smtp, 1),
        ("zeek__imap-starttls.pcap", Preamble::Imap, 1),
        ("zeek__pop3-starttls.pcap", Preamble::Pop3, 1),
        ("zeek__xmpp-starttls.pcap", Preamble::Xmpp, 1),
        ("suricata__smtp-startssl__input.pcap", Preamble::Smtp, 1),
    ];
    for (name, protocol, expected) in cases {
        let connections = run_capture(&folder.join(name));
        assert_eq!(connections.len(), expected, "{name}");
        for connection in &connections {
            assert_starttls_used(name, connection, protocol);
        }
    }
}

#[test]
fn corpus_implicit_tls_has_no_dialogue() {
    let Some(folder) = corpus_pcaps("corpus_implicit_tls_has_no_dialogue") else {
        return;
    };
    // IMAP over TLS on port 993: TLS from the first byte, no STARTTLS.
    let connections = run_capture(&folder.join("ndpi__imaps.pcap"));
    assert_eq!(connections.len(), 2);
    for connection in &connections {
        let outcome = &connection.outcome;
        assert!(outcome.implicit_tls, "{:?}", connection.key);
        assert_eq!(outcome.protocol, None);
        assert!(outcome.findings.is_empty());
        assert_eq!(outcome.client_tls_offset, Some(0));
        assert_eq!(connection.first_tls_byte[0], Some(22));
    }
}

/// Returns the kinds of an outcome's findings, in order.
fn kinds(outcome: &Outcome) -> Vec<FindingKind> {
    outcome.findings.iter().map(|f| f.kind).collect()
}

/// Reads one of the project's recorded captures, expecting `count` connections.
fn recorded(name: &str, count: usize) -> Vec<Connection> {
    let connections = run_capture(&fixture(name));
    assert_eq!(connections.len(), count, "{name}");
    connections
}

#[test]
fn recorded_starttls_used_without_findings() {
    let cases = [
        ("smtp-starttls-used.pcap", Preamble::Smtp),
        ("imap-starttls-used.pcap", Preamble::Imap),
        ("pop3-stls-used.pcap", Preamble::Pop3),
    ];
    for (name, protocol) in cases {
        for connection in &recorded(name, 1) {
            assert_starttls_used(name, connection, protocol);
        }
    }
}

#[test]
fn recorded_relay_overwrites_starttls() {
    let connections = recorded("smtp-starttls-garbled-relay.pcap", 2);
    let (garbled, upstream): (Vec<_>, Vec<_>) = connections.iter().partition(|c| {
        c.outcome
            .capabilities
            .iter()
            .any(|cap| cap == "250-XXXXXXXA")
    });
    assert_eq!(garbled.len(), 1);
    assert_eq!(upstream.len(), 1);

    // The client's leg: the relay's list, then AUTH and mail in plaintext.
    let outcome = &garbled[0].outcome;
    assert_eq!(
        kinds(outcome),
        [
            FindingKind::StarttlsGarbled(Garble::Overwritten),
            FindingKind::PlaintextCredentials,
            FindingKind::PlaintextMail,
        ]
    );
    assert!(outcome.is_stripped());
    assert!(!outcome.starttls.offered);
    assert!(outcome.starttls.requested.is_none());
    let evidence = &outcome.findings[0].evidence[0];
    assert_eq!(evidence.text, "250-XXXXXXXA");
    assert_eq!(evidence.at.side, Side::Server);
    assert_eq!(evidence.at.line, 5);
    assert_eq!(outcome.findings[1].evidence[0].text, "AUTH PLAIN");

    // The server's leg: STARTTLS offered and ignored by the client.
    let outcome = &upstream[0].outcome;
    assert!(outcome.starttls.offered);
    assert!(!outcome.is_stripped());
    assert_eq!(
        kinds(outcome),
        [
            FindingKind::PlaintextCredentials,
            FindingKind::PlaintextMail
        ]
    );
}

#[test]
fn recorded_smtp_refused_454() {
    let connections = recorded("smtp-starttls-refused-454.pcap", 1);
    let outcome = &connections[0].outcome;
    assert_eq!(outcome.protocol, Some(Preamble::Smtp));
    assert_eq!(
        kinds(outcome),
        [
            FindingKind::StarttlsRefused,
            FindingKind::PlaintextCredentials,
            FindingKind::PlaintextMail,
        ]
    );
    assert!(outcome.starttls.offered);
    let refused = outcome.starttls.refused.as_ref().expect("a refusal");
    assert_eq!(refused.code, Some(454));
    assert!(refused.evidence.text.starts_with("454 4.7.0"));
    let evidence = &outcome.findings[0].evidence;
    assert_eq!(evidence[0].text, "STARTTLS");
    assert_eq!(evidence[0].at.side, Side::Client);
    assert_eq!(evidence[1].at.side, Side::Server);
    assert_eq!(outcome.client_tls_offset, None);
}

#[test]
fn recorded_imap_capability_removed() {
    let connections = recorded("imap-starttls-removed.pcap", 1);
    let outcome = &connections[0].outcome;
    assert_eq!(outcome.protocol, Some(Preamble::Imap));
    assert_eq!(
        kinds(outcome),
        [
            FindingKind::StarttlsAbsent,
            FindingKind::PlaintextCredentials
        ]
    );
    assert_eq!(outcome.capabilities, ["IMAP4rev1", "AUTH=PLAIN"]);
    let evidence = &outcome.findings[0].evidence;
    assert!(evidence[0].text.starts_with("* CAPABILITY "));
    // The password stays out of the evidence.
    assert_eq!(evidence[1].text, "LOGIN");
    assert_eq!(outcome.findings[1].evidence[0].text, "LOGIN");
}

#[test]
fn recorded_pop3_capability_removed() {
    let connections = recorded("pop3-stls-removed.pcap", 1);
    let outcome = &connections[0].outcome;
    assert_eq!(outcome.protocol, Some(Preamble::Pop3));
    assert_eq!(
        kinds(outcome),
        [
            FindingKind::StarttlsAbsent,
            FindingKind::PlaintextCredentials,
            FindingKind::PlaintextCredentials,
        ]
    );
    assert_eq!(outcome.capabilities, ["USER", "UIDL", "TOP"]);
    let verbs: Vec<&str> = outcome.findings[1..]
        .iter()
        .map(|f| f.evidence[0].text.as_str())
        .collect();
    assert_eq!(verbs, ["USER", "PASS"]);
}
