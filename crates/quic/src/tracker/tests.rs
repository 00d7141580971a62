use std::net::SocketAddr;

use super::*;
use crate::testkit::{
    InitialSpec, RFC_DCID, RFC_SERVER_CID, crypto_frame, handshake_message, initial_packet, padded,
    retry_packet, rfc_client_hello, rfc_server_hello, v1_client_initial, v1_server_initial,
    v2_client_initial, v2_server_initial, version_negotiation,
};
use crate::version::{QUIC_V1, QUIC_V2};

const SECOND: i64 = 1_000_000_000;
const CLIENT_CID: [u8; 4] = [0xc1, 0xc1, 0xc1, 0xc1];
const SERVER_CID: [u8; 4] = [0x5e, 0x5e, 0x5e, 0x5e];
const FIRST_DCID: [u8; 8] = [1, 2, 3, 4, 5, 6, 7, 8];

fn client() -> SocketAddr {
    "192.0.2.1:50000".parse().expect("address")
}

fn server() -> SocketAddr {
    "198.51.100.7:8443".parse().expect("address")
}

/// Feeds datagrams one per second, numbered from 1, and returns every event.
struct Harness {
    tracker: QuicTracker,
    events: Vec<QuicEvent>,
    packet: u64,
}

impl Harness {
    fn new() -> Self {
        Self::with_limits(QuicLimits::default())
    }

    fn with_limits(limits: QuicLimits) -> Self {
        Self {
            tracker: QuicTracker::new(limits),
            events: Vec::new(),
            packet: 0,
        }
    }

    fn send(&mut self, from_client: bool, payload: &[u8]) -> &mut Self {
        let (src, dst) = if from_client {
            (client(), server())
        } else {
            (server(), client())
        };
        self.send_between(src, dst, payload)
    }

    fn send_between(&mut self, src: SocketAddr, dst: SocketAddr, payload: &[u8]) -> &mut Self {
        self.packet += 1;
        let ts = i64::try_from(self.packet).expect("small") * SECOND;
        self.tracker
            .datagram(src, dst, payload, self.packet, ts, &mut self.events);
        self
    }

    fn finish(&mut self) -> &mut Self {
        self.tracker.finish(&mut self.events);
        self
    }

    fn kinds(&self) -> Vec<QuicEventKind> {
        self.events.iter().map(|e| e.kind.clone()).collect()
    }

    fn stats(&self) -> &QuicStats {
        self.tracker.stats()
    }

    /// (packet, from_client, msg_type, body length) of each handshake event.
    fn handshakes(&self) -> Vec<(u64, bool, u8, usize)> {
        self.events
            .iter()
            .filter_map(|e| match &e.kind {
                QuicEventKind::Handshake {
                    from_client,
                    msg_type,
                    body,
                } => Some((e.packet, *from_client, *msg_type, body.len())),
                _ => None,
            })
            .collect()
    }
}

/// Builds a QUIC v1 Initial protected with keys from `key_dcid`.
fn initial(from_client: bool, dcid: &[u8], key_dcid: &[u8], pn: u64, frames: &[u8]) -> Vec<u8> {
    let scid: &[u8] = if from_client {
        &CLIENT_CID
    } else {
        &SERVER_CID
    };
    let payload = padded(frames.to_vec(), 40);
    let spec = InitialSpec {
        version: QUIC_V1,
        dcid,
        scid,
        packet_number: pn,
        payload: &payload,
    };
    initial_packet(&spec, key_dcid, from_client)
}

fn client_initial(pn: u64, frames: &[u8]) -> Vec<u8> {
    initial(true, &FIRST_DCID, &FIRST_DCID, pn, frames)
}

fn server_initial(pn: u64, frames: &[u8]) -> Vec<u8> {
    initial(false, &CLIENT_CID, &FIRST_DCID, pn, frames)
}

fn hello_body(msg: &[u8]) -> Vec<u8> {
    msg.get(4..).unwrap_or_default().to_vec()
}

#[test]
fn rfc_client_initial_yields_client_hello() {
    let mut h = Harness::new();
    h.send(true, &v1_client_initial());
    let expected = QuicEventKind::Handshake {
        from_client: true,
        msg_type: 1,
        body: hello_body(&rfc_client_hello()),
    };
    assert_eq!(h.kinds(), vec![expected]);
}

#[test]
fn rfc_server_initial_yields_server_hello() {
    let mut h = Harness::new();
    h.send(true, &v1_client_initial())
        .send(false, &v1_server_initial());
    let expected = QuicEventKind::Handshake {
        from_client: false,
        msg_type: 2,
        body: hello_body(&rfc_server_hello()),
    };
    assert_eq!(h.kinds().get(1), Some(&expected));
}

#[test]
fn v2_pair_yields_both_hellos() {
    let mut h = Harness::new();
    h.send(true, &v2_client_initial())
        .send(false, &v2_server_initial());
    assert_eq!(h.handshakes(), [(1, true, 1, 237), (2, false, 2, 86)]);
}

#[test]
fn events_name_addresses_and_version() {
    let mut h = Harness::new();
    h.send(true, &v2_client_initial());
    let event = h
        .events
        .first()
        .map(|e| (e.connection, e.client, e.server, e.version));
    assert_eq!(
        event,
        Some((QuicConnectionId(1), client(), server(), QUIC_V2))
    );
}

#[test]
fn server_initial_alone_not_decrypted() {
    let mut h = Harness::new();
    h.send(false, &v1_server_initial());
    assert_eq!(h.stats().decryption_failures, 1);
    assert!(h.handshakes().is_empty());
}

#[test]
fn split_hello_completes_in_last_packet() {
    let hello = handshake_message(1, 1500);
    let (a, rest) = hello.split_at(600);
    let (b, c) = rest.split_at(500);
    // Frames out of order inside the first packet, the middle piece last.
    let first = [crypto_frame(1100, c), crypto_frame(0, a)].concat();
    let mut h = Harness::new();
    h.send(true, &client_initial(0, &first))
        .send(true, &client_initial(1, &crypto_frame(600, b)));
    assert_eq!(h.handshakes(), [(2, true, 1, 1500)]);
}

#[test]
fn retransmitted_hello_reported_once() {
    let frames = crypto_frame(0, &handshake_message(1, 300));
    let mut h = Harness::new();
    h.send(true, &client_initial(0, &frames))
        .send(true, &client_initial(1, &frames));
    assert_eq!(h.handshakes().len(), 1);
    assert_eq!(h.stats().crypto_duplicate_bytes, 304);
}

#[test]
fn server_hello_uses_client_dcid_keys() {
    let mut h = Harness::new();
    h.send(
        true,
        &client_initial(0, &crypto_frame(0, &handshake_message(1, 200))),
    )
    .send(
        false,
        &server_initial(0, &crypto_frame(0, &handshake_message(2, 90))),
    );
    assert_eq!(h.handshakes(), [(1, true, 1, 200), (2, false, 2, 90)]);
}

#[test]
fn hello_retry_request_flow() {
    let first = handshake_message(1, 100);
    let retry_request = handshake_message(2, 40);
    let second = handshake_message(1, 120);
    let hello = handshake_message(2, 90);
    let mut h = Harness::new();
    h.send(true, &client_initial(0, &crypto_frame(0, &first)))
        .send(false, &server_initial(0, &crypto_frame(0, &retry_request)))
        .send(true, &client_initial(1, &crypto_frame(104, &second)))
        .send(false, &server_initial(1, &crypto_frame(44, &hello)));
    let expected = [
        (1, true, 1, 100),
        (2, false, 2, 40),
        (3, true, 1, 120),
        (4, false, 2, 90),
    ];
    assert_eq!(h.handshakes(), expected);
}

#[test]
fn client_switching_to_server_cid_stays() {
    let mut h = Harness::new();
    h.send(
        true,
        &client_initial(0, &crypto_frame(0, &handshake_message(1, 50))),
    )
    .send(false, &server_initial(0, &[0x01]))
    .send(true, &initial(true, &SERVER_CID, &FIRST_DCID, 1, &[0x01]));
    assert_eq!(h.stats().connections_opened, 1);
    assert_eq!(h.stats().initials_decrypted, 3);
}

#[test]
fn retry_switches_to_new_keys() {
    let retry_cid = [9u8; 8];
    let retry = retry_packet(QUIC_V1, &CLIENT_CID, &retry_cid, b"token", &FIRST_DCID);
    let hello = crypto_frame(0, &handshake_message(1, 100));
    let mut h = Harness::new();
    h.send(true, &initial(true, &FIRST_DCID, &FIRST_DCID, 0, &[0x01]))
        .send(false, &retry)
        .send(true, &initial(true, &retry_cid, &retry_cid, 1, &hello))
        .send(
            false,
            &initial(
                false,
                &CLIENT_CID,
                &retry_cid,
                0,
                &crypto_frame(0, &handshake_message(2, 60)),
            ),
        );
    assert_eq!(h.kinds().first(), Some(&QuicEventKind::Retry));
    assert_eq!(h.handshakes(), [(3, true, 1, 100), (4, false, 2, 60)]);
}

#[test]
fn retry_with_bad_tag_ignored() {
    let retry = retry_packet(QUIC_V1, &CLIENT_CID, &[9u8; 8], b"token", &[0xee; 8]);
    let mut h = Harness::new();
    h.send(true, &client_initial(0, &[0x01]))
        .send(false, &retry);
    assert!(matches!(
        h.kinds().first(),
        Some(QuicEventKind::Malformed { .. })
    ));
    assert_eq!(h.stats().retry_integrity_failures, 1);
}

#[test]
fn second_retry_ignored() {
    let retry = retry_packet(QUIC_V1, &CLIENT_CID, &[9u8; 8], b"t", &FIRST_DCID);
    let mut h = Harness::new();
    h.send(true, &client_initial(0, &[0x01]))
        .send(false, &retry)
        .send(false, &retry);
    assert_eq!(h.kinds(), [QuicEventKind::Retry]);
    assert_eq!(h.stats().packets_ignored, 1);
}

#[test]
fn version_negotiation_then_new_hello() {
    let probe = {
        let mut p = vec![0xc0, 0x1a, 0x2a, 0x3a, 0x4a, 8];
        p.extend_from_slice(&FIRST_DCID);
        p.push(4);
        p.extend_from_slice(&CLIENT_CID);
        padded(p, 1200)
    };
    let vn = version_negotiation(&CLIENT_CID, &FIRST_DCID, &[QUIC_V2, QUIC_V1]);
    let mut h = Harness::new();
    h.send(true, &probe).send(false, &vn).send(
        true,
        &client_initial(0, &crypto_frame(0, &handshake_message(1, 80))),
    );
    let offered = QuicEventKind::VersionNegotiation {
        offered: vec![QUIC_V2, QUIC_V1],
    };
    assert_eq!(h.kinds().first(), Some(&offered));
    assert_eq!(h.handshakes(), [(3, true, 1, 80)]);
}

#[test]
fn version_negotiation_restarts_crypto_stream() {
    let vn = version_negotiation(&CLIENT_CID, &FIRST_DCID, &[QUIC_V1]);
    let v2_hello = {
        let payload = padded(crypto_frame(0, &handshake_message(1, 30)), 40);
        let spec = InitialSpec {
            version: QUIC_V2,
            dcid: &FIRST_DCID,
            scid: &CLIENT_CID,
            packet_number: 0,
            payload: &payload,
        };
        initial_packet(&spec, &FIRST_DCID, true)
    };
    let mut h = Harness::new();
    h.send(true, &v2_hello).send(false, &vn).send(
        true,
        &client_initial(0, &crypto_frame(0, &handshake_message(1, 70))),
    );
    assert_eq!(h.handshakes(), [(1, true, 1, 30), (3, true, 1, 70)]);
}

#[test]
fn version_negotiation_with_other_ids_ignored() {
    let vn = version_negotiation(&[7; 4], &FIRST_DCID, &[QUIC_V1]);
    let mut h = Harness::new();
    h.send(true, &client_initial(0, &[0x01])).send(false, &vn);
    assert!(h.kinds().is_empty());
    assert_eq!(h.stats().packets_ignored, 1);
}

#[test]
fn version_negotiation_alone_not_quic() {
    let vn = version_negotiation(&CLIENT_CID, &FIRST_DCID, &[QUIC_V1]);
    let mut h = Harness::new();
    h.send(false, &vn);
    assert_eq!(h.stats().datagrams_quic, 0);
}

#[test]
fn compatible_version_server_v2() {
    let server_v2 = {
        let payload = padded(crypto_frame(0, &handshake_message(2, 90)), 40);
        let spec = InitialSpec {
            version: QUIC_V2,
            dcid: &CLIENT_CID,
            scid: &SERVER_CID,
            packet_number: 0,
            payload: &payload,
        };
        initial_packet(&spec, &FIRST_DCID, false)
    };
    let mut h = Harness::new();
    h.send(
        true,
        &client_initial(0, &crypto_frame(0, &handshake_message(1, 50))),
    )
    .send(false, &server_v2);
    let versions: Vec<u32> = h.events.iter().map(|e| e.version).collect();
    assert_eq!(versions, [QUIC_V1, QUIC_V2]);
}

#[test]
fn connection_close_reported() {
    let close = [0x1c, 0x41, 0x28, 0x06, 0x03, b'b', b'a', b'd'];
    let mut h = Harness::new();
    h.send(true, &client_initial(0, &[0x01]))
        .send(false, &server_initial(0, &close));
    let expected = QuicEventKind::ConnectionClose {
        from_client: false,
        error_code: 0x128,
        frame_type: Some(6),
        reason: "bad".to_string(),
    };
    assert_eq!(h.kinds(), [expected]);
}

#[test]
fn stream_frame_is_malformed() {
    let mut h = Harness::new();
    h.send(true, &client_initial(0, &[0x01, 0x08, 0x00, 0x00]));
    let Some(QuicEventKind::Malformed { reason }) = h.kinds().first().cloned() else {
        panic!("no malformed event: {:?}", h.kinds());
    };
    assert!(reason.contains("frame type 0x08"), "{reason}");
    assert!(reason.contains("capture packet 1"), "{reason}");
}

#[test]
fn oversized_message_is_malformed() {
    let limits = QuicLimits {
        max_crypto_per_direction: 1000,
        ..QuicLimits::default()
    };
    let mut h = Harness::with_limits(limits);
    h.send(
        true,
        &client_initial(0, &crypto_frame(0, &handshake_message(1, 2000)[..100])),
    );
    assert!(matches!(
        h.kinds().first(),
        Some(QuicEventKind::Malformed { .. })
    ));
}

#[test]
fn coalesced_handshake_packet_counted() {
    let handshake = [
        0xe0, 0, 0, 0, 1, 4, 0xc1, 0xc1, 0xc1, 0xc1, 0, 2, 0xaa, 0xbb,
    ];
    let datagram = [
        server_initial(0, &crypto_frame(0, &handshake_message(2, 90))),
        handshake.to_vec(),
    ]
    .concat();
    let mut h = Harness::new();
    h.send(true, &client_initial(0, &[0x01]))
        .send(false, &datagram);
    assert_eq!(h.handshakes(), [(2, false, 2, 90)]);
    assert_eq!(h.stats().handshake_packets, 1);
}

#[test]
fn coalesced_packet_with_other_dcid_ignored() {
    let other = [0xe0, 0, 0, 0, 1, 4, 9, 9, 9, 9, 0, 2, 0xaa, 0xbb];
    let datagram = [server_initial(0, &[0x01]), other.to_vec()].concat();
    let mut h = Harness::new();
    h.send(true, &client_initial(0, &[0x01]))
        .send(false, &datagram);
    assert_eq!(h.stats().packets_ignored, 1);
}

#[test]
fn short_header_counted_when_followed() {
    let mut h = Harness::new();
    h.send(true, &client_initial(0, &[0x01]))
        .send(true, &[0x40, 1, 2, 3])
        .send_between(
            "192.0.2.9:1".parse().expect("address"),
            server(),
            &[0x40, 1, 2, 3],
        );
    assert_eq!(h.stats().short_header_packets, 1);
    assert_eq!(h.stats().datagrams_quic, 2);
}

#[test]
fn unknown_version_counted_apart() {
    let other = [0xc0, 0x12, 0x34, 0x56, 0x78, 0, 0, 1, 2, 3];
    let mut h = Harness::new();
    h.send(true, &client_initial(0, &[0x01]))
        .send(false, &other);
    assert_eq!(h.stats().unknown_version_packets, 1);
    assert_eq!(h.stats().versions.len(), 1);
}

#[test]
fn new_ids_on_same_ports_replace() {
    let other = {
        let payload = padded(vec![0x01], 40);
        let spec = InitialSpec {
            version: QUIC_V1,
            dcid: &[0xdd; 8],
            scid: &[0xcc; 4],
            packet_number: 0,
            payload: &payload,
        };
        initial_packet(&spec, &[0xdd; 8], true)
    };
    let mut h = Harness::new();
    h.send(true, &client_initial(0, &[0x01])).send(true, &other);
    let ends: Vec<_> = h
        .events
        .iter()
        .map(|e| (e.connection, e.kind.clone()))
        .collect();
    assert_eq!(ends, [(QuicConnectionId(1), QuicEventKind::End)]);
    assert_eq!(h.stats().connections_replaced, 1);
}

#[test]
fn idle_connection_ends() {
    let limits = QuicLimits {
        idle_timeout_ns: SECOND,
        ..QuicLimits::default()
    };
    let mut h = Harness::with_limits(limits);
    h.send(true, &client_initial(0, &[0x01]));
    h.packet += 5;
    h.send_between("192.0.2.9:1".parse().expect("address"), server(), &[0; 10]);
    let end = h.events.first().map(|e| (e.kind.clone(), e.packet));
    assert_eq!(end, Some((QuicEventKind::End, 1)));
    assert_eq!(h.stats().connections_idle, 1);
}

#[test]
fn full_table_evicts_oldest() {
    let limits = QuicLimits {
        max_connections: 1,
        ..QuicLimits::default()
    };
    let mut h = Harness::with_limits(limits);
    let other_client: SocketAddr = "192.0.2.2:40000".parse().expect("address");
    h.send(true, &client_initial(0, &[0x01])).send_between(
        other_client,
        server(),
        &client_initial(0, &[0x01]),
    );
    let ends: Vec<_> = h.events.iter().map(|e| (e.connection, e.client)).collect();
    assert_eq!(ends, [(QuicConnectionId(1), client())]);
    assert_eq!(h.stats().connections_evicted, 1);
}

#[test]
fn finish_ends_every_connection() {
    let mut h = Harness::new();
    let other_client: SocketAddr = "192.0.2.2:40000".parse().expect("address");
    h.send(true, &client_initial(0, &[0x01]))
        .send_between(other_client, server(), &client_initial(0, &[0x01]))
        .finish();
    let ids: Vec<_> = h.events.iter().map(|e| e.connection.0).collect();
    assert_eq!(ids, [1, 2]);
    assert_eq!(h.tracker.open_connections(), 0);
}

#[test]
fn incomplete_hello_counted_at_end() {
    let hello = handshake_message(1, 500);
    let mut h = Harness::new();
    h.send(true, &client_initial(0, &crypto_frame(0, &hello[..200])))
        .finish();
    assert_eq!(h.stats().incomplete_messages, 1);
}

#[test]
fn memory_returned_after_finish() {
    let hello = handshake_message(1, 500);
    let mut h = Harness::new();
    h.send(true, &client_initial(0, &crypto_frame(100, &hello[100..])))
        .finish();
    assert_eq!(h.tracker.budget.used, 0);
}

#[test]
fn non_quic_udp_ignored() {
    let dns = [
        0x80, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    ];
    let mut h = Harness::new();
    h.send(true, &dns).send(true, &[0x17; 200]).send(true, &[]);
    assert_eq!(h.stats().datagrams_quic, 0);
    assert_eq!(h.tracker.open_connections(), 0);
}

#[test]
fn truncated_packet_on_followed_connection() {
    let full = server_initial(0, &[0x01]);
    let mut h = Harness::new();
    h.send(true, &client_initial(0, &[0x01]))
        .send(false, full.get(..30).unwrap_or_default());
    let Some(QuicEventKind::Malformed { reason }) = h.kinds().first().cloned() else {
        panic!("no malformed event: {:?}", h.kinds());
    };
    assert!(
        reason.contains("byte 0 of the datagram in capture packet 2"),
        "{reason}"
    );
}

#[test]
fn corrupted_initial_counted_not_reported() {
    let mut packet = v1_client_initial();
    if let Some(byte) = packet.get_mut(600) {
        *byte ^= 0x40;
    }
    let mut h = Harness::new();
    h.send(true, &packet);
    assert!(h.kinds().is_empty());
    assert_eq!(h.stats().decryption_failures, 1);
}

#[test]
fn rfc_ids_match_fixture() {
    let mut h = Harness::new();
    h.send(true, &v1_client_initial())
        .send(false, &v1_server_initial());
    let conn = h.tracker.connections.values().next();
    assert!(conn.is_some_and(|c| c.knows_dcid(&RFC_SERVER_CID) && c.knows_dcid(&RFC_DCID)));
}
