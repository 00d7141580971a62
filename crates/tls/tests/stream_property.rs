//! Randomised checks: no input panics the decoder or grows its memory past
//! the limits, and a valid connection gives the same events however its
//! bytes are split into `feed` calls.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

mod stream_support;

use stream_support::*;
use wiretrust_tls::stream::{ConnectionDecoder, DecoderLimits, TlsEvent, TlsEventKind};

/// Marsaglia's xorshift64: deterministic, so a failure replays exactly.
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

    /// A value in `0..bound`; `bound` must not be 0.
    fn below(&mut self, bound: usize) -> usize {
        usize::try_from(self.next() % u64::try_from(bound).unwrap()).unwrap()
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next().to_le_bytes()[0]).collect()
    }

    fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }
}

/// Cuts `data` into 1 to `max_chunk` byte pieces.
fn split<'a>(rng: &mut XorShift, data: &'a [u8], max_chunk: usize) -> Vec<&'a [u8]> {
    let mut pieces = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        let (piece, tail) = rest.split_at((1 + rng.below(max_chunk)).min(rest.len()));
        pieces.push(piece);
        rest = tail;
    }
    pieces
}

/// Memory that any input may use: the scan limit and the handshake limit
/// per side, plus one record and a resynchronisation window per side.
fn memory_bound(limits: DecoderLimits) -> usize {
    2 * (limits.max_scan + limits.max_handshake + 3 * (1 << 15))
}

/// The connections whose events must not depend on segmentation. Each step
/// is one side's flight, and steps keep their order when split.
fn valid_connections() -> Vec<Vec<(bool, Vec<u8>)>> {
    let server_hello = |selected| {
        record(
            HANDSHAKE,
            0x0303,
            &handshake(2, &server_hello_body(0x0303, selected)),
        )
    };

    let mut client_finish = record(HANDSHAKE, 0x0303, &handshake(16, &[0x41; 66]));
    client_finish.extend(record(CHANGE_CIPHER_SPEC, 0x0303, &[1]));
    client_finish.extend(record(HANDSHAKE, 0x0303, &[0x9a; 40]));

    let mut server_finish = record(CHANGE_CIPHER_SPEC, 0x0303, &[1]);
    server_finish.extend(record(HANDSHAKE, 0x0303, &[0x7b; 40]));
    server_finish.extend(record(APPLICATION_DATA, 0x0303, &[0x20; 5000]));

    let certificate = handshake(11, &certificate_body(40_000));
    let mut big_flight = server_hello(None);
    for chunk in certificate.chunks(9000) {
        big_flight.extend(record(HANDSHAKE, 0x0303, chunk));
    }

    let mut tls13_server = server_hello(Some(0x0304));
    tls13_server.extend(record(CHANGE_CIPHER_SPEC, 0x0303, &[1]));
    tls13_server.extend(record(APPLICATION_DATA, 0x0303, &[0x61; 3000]));

    let mut master_key = vec![2, 0x07, 0x00, 0xc0, 0, 0, 0, 64, 0, 0];
    master_key.extend([0x5a; 64]);
    let mut sslv2_client = sslv2_record(&master_key);
    sslv2_client.extend(sslv2_record(&[0xc3; 33]));

    vec![
        vec![
            (true, client_hello_record()),
            (false, server_flight_record()),
            (true, client_finish.clone()),
            (false, server_finish.clone()),
            (true, record(ALERT, 0x0303, &[0x30; 26])),
        ],
        vec![
            (true, client_hello_record()),
            (false, big_flight),
            (true, client_finish),
        ],
        vec![(true, client_hello_record()), (false, tls13_server)],
        vec![
            (true, sslv2_client_hello(0x0002)),
            (false, sslv2_server_hello(false)),
            (true, sslv2_client),
        ],
        vec![
            (false, b"220 mail.example.com ESMTP\r\n".to_vec()),
            (true, b"EHLO client.example.org\r\nSTARTTLS\r\n".to_vec()),
            (
                false,
                b"250 STARTTLS\r\n220 Ready to start TLS\r\n".to_vec(),
            ),
            (true, client_hello_record()),
            (false, server_flight_record()),
            (false, server_finish),
        ],
    ]
}

/// Feeds every step in order, each cut into random pieces, and returns the
/// events without packet numbers.
fn events_when_split(
    rng: &mut XorShift,
    steps: &[(bool, Vec<u8>)],
    max_chunk: usize,
) -> Vec<(bool, u64, TlsEventKind)> {
    let mut decoder = ConnectionDecoder::default();
    let mut events: Vec<TlsEvent> = Vec::new();
    let mut packet = 0;
    for (from_initiator, data) in steps {
        for piece in split(rng, data, max_chunk) {
            packet += 1;
            decoder.feed(*from_initiator, piece, packet, &mut events);
        }
    }
    events
        .into_iter()
        .map(|e| (e.from_initiator, e.stream_offset, e.kind))
        .collect()
}

#[test]
fn valid_streams_split_invariant() {
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    for steps in valid_connections() {
        let whole = events_when_split(&mut rng, &steps, usize::MAX);
        assert!(whole.len() >= 3, "too few events: {whole:?}");
        for round in 0..40 {
            let max_chunk = [1, 2, 3, 7, 64, 1500, 20_000][round % 7];
            let split = events_when_split(&mut rng, &steps, max_chunk);
            assert_eq!(whole, split, "max_chunk {max_chunk}, round {round}");
        }
    }
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = XorShift(0x2545_f491_4f6c_dd1d);
    for _ in 0..3000 {
        let limits = DecoderLimits {
            max_scan: 1 + rng.below(5000),
            max_handshake: 4 + rng.below(70_000),
        };
        let mut decoder = ConnectionDecoder::new(limits);
        let mut events = Vec::new();
        for packet in 0..rng.below(20) as u64 {
            let from_initiator = rng.chance(2);
            let mut data = random_chunk(&mut rng);
            if rng.chance(3) {
                data.splice(0..0, client_hello_record());
            }
            if rng.chance(8) {
                let missing = u64::try_from(rng.below(30_000)).unwrap();
                decoder.gap(from_initiator, missing, packet, &mut events);
            }
            decoder.feed(from_initiator, &data, packet, &mut events);
            assert!(decoder.buffered_bytes() <= memory_bound(limits));
        }
        let _ = decoder.preamble();
    }
}

/// Random bytes, sometimes shaped like record headers so that the deeper
/// states are reached.
fn random_chunk(rng: &mut XorShift) -> Vec<u8> {
    let len = rng.below(3000);
    let mut data = rng.bytes(len);
    let headers = rng.below(6);
    for _ in 0..headers {
        if data.len() < 9 {
            break;
        }
        let at = rng.below(data.len() - 8);
        let content_type = 20 + u8::try_from(rng.below(5)).unwrap();
        data[at] = content_type;
        data[at + 1] = 3;
        data[at + 2] = u8::try_from(rng.below(5)).unwrap();
    }
    data
}

#[test]
fn mutated_streams_never_panic() {
    let mut rng = XorShift(0x0123_4567_89ab_cdef);
    let connections = valid_connections();
    for round in 0..2000 {
        let steps = &connections[round % connections.len()];
        let limits = DecoderLimits {
            max_scan: 4096,
            max_handshake: 1 + rng.below(50_000),
        };
        let mut decoder = ConnectionDecoder::new(limits);
        let mut events = Vec::new();
        for (packet, (from_initiator, data)) in (0..).zip(steps) {
            let mut data = data.clone();
            for _ in 0..rng.below(4) {
                if !data.is_empty() {
                    let at = rng.below(data.len());
                    data[at] = rng.bytes(1)[0];
                }
            }
            if rng.chance(5) && !data.is_empty() {
                data.truncate(rng.below(data.len()));
            }
            let max_chunk = 1 + rng.below(2000);
            for piece in split(&mut rng, &data, max_chunk) {
                decoder.feed(*from_initiator, piece, packet, &mut events);
            }
            assert!(decoder.buffered_bytes() <= memory_bound(limits));
        }
    }
}
