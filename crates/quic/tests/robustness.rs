//! Randomised checks: random bytes and mutated copies of a valid handshake
//! must never panic, and every handshake message reported must be one the
//! endpoints really sent, because AEAD rejects every altered packet.

use std::net::SocketAddr;

use wiretrust_quic::frame::frames;
use wiretrust_quic::header::parse_long_packet;
use wiretrust_quic::keys::InitialKeys;
use wiretrust_quic::protection::{TAG_LEN, open_packet, seal_packet};
use wiretrust_quic::version::version_spec;
use wiretrust_quic::{
    QUIC_V1, QUIC_V2, QuicEvent, QuicEventKind, QuicLimits, QuicTracker, encode_varint,
};

/// Marsaglia's xorshift64: small, deterministic, good enough to shuffle tests.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// Returns a number in `0..bound` (`bound` > 0).
    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound as u64) as usize
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }
}

const CLIENT_DCID: [u8; 8] = [0x11; 8];
const CLIENT_SCID: [u8; 5] = [0x22; 5];
const SERVER_SCID: [u8; 6] = [0x33; 6];

fn client() -> SocketAddr {
    "203.0.113.5:61000".parse().expect("address")
}

fn server() -> SocketAddr {
    "198.51.100.9:443".parse().expect("address")
}

/// Builds a protected Initial packet with a 2-byte packet number.
fn initial(version: u32, from_client: bool, pn: u64, frames: &[u8]) -> Vec<u8> {
    let spec = version_spec(version).expect("known version");
    let keys = InitialKeys::derive(spec, &CLIENT_DCID).expect("fixed lengths");
    let (keys, dcid, scid) = if from_client {
        (keys.client, &CLIENT_DCID[..], &CLIENT_SCID[..])
    } else {
        (keys.server, &CLIENT_SCID[..], &SERVER_SCID[..])
    };
    let mut payload = frames.to_vec();
    payload.resize(payload.len().max(1100), 0);
    let type_bits: u8 = if spec.v2_packet_types { 0x10 } else { 0x00 };
    let mut header = vec![0xc1 | type_bits];
    header.extend_from_slice(&version.to_be_bytes());
    header.push(dcid.len() as u8);
    header.extend_from_slice(dcid);
    header.push(scid.len() as u8);
    header.extend_from_slice(scid);
    header.push(0);
    let length = (2 + payload.len() + TAG_LEN) as u64;
    header.extend(encode_varint(length).expect("small"));
    header.extend_from_slice(&(pn as u16).to_be_bytes());
    seal_packet(&header, 2, pn, &payload, &keys).expect("sealable")
}

fn crypto(offset: usize, data: &[u8]) -> Vec<u8> {
    let mut frame = vec![0x06];
    frame.extend(encode_varint(offset as u64).expect("small"));
    frame.extend(encode_varint(data.len() as u64).expect("small"));
    frame.extend_from_slice(data);
    frame
}

fn message(msg_type: u8, len: usize, seed: u8) -> Vec<u8> {
    let mut bytes = vec![msg_type, 0, (len >> 8) as u8, len as u8];
    bytes.extend((0..len).map(|i| (i as u8).wrapping_mul(seed)));
    bytes
}

/// A valid exchange: a ClientHello split over two client Initials (the
/// second carrying its frames out of order) and a ServerHello.
struct Flight {
    datagrams: Vec<(bool, Vec<u8>)>,
    client_hello: Vec<u8>,
    server_hello: Vec<u8>,
}

fn flight(version: u32) -> Flight {
    let client_hello = message(1, 1700, 7);
    let server_hello = message(2, 90, 13);
    let (a, rest) = client_hello.split_at(900);
    let (b, c) = rest.split_at(400);
    let second = [crypto(1300, c), crypto(900, b)].concat();
    let datagrams = vec![
        (true, initial(version, true, 0, &crypto(0, a))),
        (true, initial(version, true, 1, &second)),
        (
            false,
            initial(
                version,
                false,
                0,
                &[
                    &[0x02, 0x01, 0x00, 0x00, 0x00][..],
                    &crypto(0, &server_hello),
                ]
                .concat(),
            ),
        ),
    ];
    Flight {
        datagrams,
        client_hello: client_hello[4..].to_vec(),
        server_hello: server_hello[4..].to_vec(),
    }
}

fn feed(tracker: &mut QuicTracker, datagrams: &[(bool, Vec<u8>)], events: &mut Vec<QuicEvent>) {
    for (i, (from_client, payload)) in datagrams.iter().enumerate() {
        let (src, dst) = if *from_client {
            (client(), server())
        } else {
            (server(), client())
        };
        let number = i as u64 + 1;
        tracker.datagram(src, dst, payload, number, number as i64 * 1_000_000, events);
    }
}

fn handshake_bodies(events: &[QuicEvent]) -> Vec<(bool, Vec<u8>)> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            QuicEventKind::Handshake {
                from_client, body, ..
            } => Some((*from_client, body.clone())),
            _ => None,
        })
        .collect()
}

/// Alters one datagram in one of several ways.
fn mutate(rng: &mut XorShift, datagram: &mut Vec<u8>) {
    let len = datagram.len();
    match rng.below(5) {
        0 => {
            for _ in 0..=rng.below(4) {
                let at = rng.below(len.max(1));
                if let Some(byte) = datagram.get_mut(at) {
                    *byte ^= 1 << rng.below(8);
                }
            }
        }
        1 => datagram.truncate(rng.below(len.max(1))),
        2 => {
            let at = rng.below(len.clamp(1, 64));
            if let Some(byte) = datagram.get_mut(at) {
                *byte = rng.next() as u8;
            }
        }
        3 => {
            let extra_len = rng.below(100);
            let extra = rng.bytes(extra_len);
            datagram.extend_from_slice(&extra);
        }
        _ => {
            let at = rng.below(len.max(1));
            datagram.truncate(at);
            let copy = datagram.clone();
            datagram.extend_from_slice(&copy);
        }
    }
}

#[test]
fn valid_flights_yield_both_hellos() {
    for version in [QUIC_V1, QUIC_V2, 0xff00_001d] {
        let flight = flight(version);
        let mut tracker = QuicTracker::new(QuicLimits::default());
        let mut events = Vec::new();
        feed(&mut tracker, &flight.datagrams, &mut events);
        let expected = vec![
            (true, flight.client_hello.clone()),
            (false, flight.server_hello.clone()),
        ];
        assert_eq!(
            handshake_bodies(&events),
            expected,
            "version 0x{version:08x}"
        );
    }
}

#[test]
fn mutated_flights_report_only_genuine_hellos() {
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let mut rounds_with_hello = 0;
    for round in 0..400 {
        let version = if round % 2 == 0 { QUIC_V1 } else { QUIC_V2 };
        let flight = flight(version);
        let mut datagrams = flight.datagrams.clone();
        for (_, datagram) in datagrams.iter_mut() {
            if rng.chance(40) {
                mutate(&mut rng, datagram);
            }
        }
        if rng.chance(30) {
            datagrams.swap(rng.below(3), rng.below(3));
        }
        if rng.chance(20) {
            let copy = datagrams[rng.below(3)].clone();
            datagrams.push(copy);
        }
        let mut tracker = QuicTracker::new(QuicLimits::default());
        let mut events = Vec::new();
        feed(&mut tracker, &datagrams, &mut events);
        tracker.finish(&mut events);
        let bodies = handshake_bodies(&events);
        rounds_with_hello += usize::from(bodies.iter().any(|(from_client, _)| *from_client));
        for (from_client, body) in bodies {
            let genuine = if from_client {
                &flight.client_hello
            } else {
                &flight.server_hello
            };
            assert_eq!(&body, genuine, "round {round}: a forged message came out");
        }
        assert_eq!(tracker.open_connections(), 0, "round {round}");
    }
    // Unmutated first datagrams still decrypt, so many rounds keep their hello.
    assert!(
        rounds_with_hello > 100,
        "only {rounds_with_hello} rounds kept a ClientHello"
    );
}

#[test]
fn random_datagrams_never_panic() {
    let mut rng = XorShift(0x2545_f491_4f6c_dd1d);
    let limits = QuicLimits {
        max_connections: 64,
        max_crypto_total: 1 << 16,
        ..QuicLimits::default()
    };
    let mut tracker = QuicTracker::new(limits);
    let mut events = Vec::new();
    let ports = [443u16, 53, 4433, 50000];

    for n in 0..20_000u64 {
        let len = rng.below(1400);
        let mut payload = rng.bytes(len);
        // Make most datagrams look like long headers of known versions so
        // that they reach the deeper parsers.
        if rng.chance(70) {
            if let Some(first) = payload.first_mut() {
                *first |= 0xc0;
            }
            let version = [QUIC_V1, QUIC_V2, 0, 0xff00_001c, 0x1a2a_3a4a][rng.below(5)];
            if let Some(field) = payload.get_mut(1..5) {
                field.copy_from_slice(&version.to_be_bytes());
            }
            if let Some(dcid_len) = payload.get_mut(5) {
                *dcid_len %= 21;
            }
        }

        let src = SocketAddr::new([10, 0, 0, rng.below(4) as u8].into(), ports[rng.below(4)]);
        let dst = SocketAddr::new([10, 0, 1, rng.below(2) as u8].into(), ports[rng.below(4)]);
        tracker.datagram(src, dst, &payload, n + 1, (n as i64) * 1000, &mut events);
    }
    tracker.finish(&mut events);

    let stats = tracker.stats();
    assert_eq!(stats.datagrams, 20_000);
    assert_eq!(stats.connections_opened, stats.connections_ended());
    assert!(stats.peak_crypto_buffered <= 1 << 16);
    assert!(stats.peak_connections <= 64);
    assert!(stats.versions.len() <= 10, "{:?}", stats.versions.keys());
}

#[test]
fn parsers_accept_any_bytes() {
    let mut rng = XorShift(0x0123_4567_89ab_cdef);
    let spec = version_spec(QUIC_V1).expect("known version");
    let keys = InitialKeys::derive(spec, &CLIENT_DCID).expect("fixed lengths");
    for _ in 0..20_000 {
        let len = rng.below(300);
        let bytes = rng.bytes(len);
        let _ = parse_long_packet(&bytes);
        let _ = frames(&bytes).count();
        let offset = rng.below(len + 40);
        let _ = open_packet(&bytes, offset, &keys.client, Some(rng.next()));
    }
}
