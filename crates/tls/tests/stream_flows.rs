//! Whole connections fed through `ConnectionDecoder`: record and message
//! framing, encryption tracking, SSL 2.0, malformed input, gaps and limits.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

mod stream_support;

use stream_support::*;
use wiretrust_tls::record::Malformed;
use wiretrust_tls::stream::{ConnectionDecoder, DecoderLimits, DecoderState, TlsEventKind};

/// Client key exchange, ChangeCipherSpec and an encrypted Finished.
fn client_finish_records() -> Vec<u8> {
    let mut out = record(HANDSHAKE, 0x0303, &handshake(16, &[0x41; 66]));
    out.extend(record(CHANGE_CIPHER_SPEC, 0x0303, &[1]));
    out.extend(record(HANDSHAKE, 0x0303, &[0x9a; 40]));
    out
}

fn server_finish_records() -> Vec<u8> {
    let mut out = record(CHANGE_CIPHER_SPEC, 0x0303, &[1]);
    out.extend(record(HANDSHAKE, 0x0303, &[0x7b; 40]));
    out
}

fn tls12_steps() -> Vec<(bool, Vec<u8>)> {
    vec![
        (true, client_hello_record()),
        (false, server_flight_record()),
        (true, client_finish_records()),
        (false, server_finish_records()),
        (true, record(APPLICATION_DATA, 0x0303, &[0x10; 300])),
        (false, record(APPLICATION_DATA, 0x0303, &[0x20; 900])),
        (true, record(ALERT, 0x0303, &[0x30; 26])),
    ]
}

fn borrowed(steps: &[(bool, Vec<u8>)]) -> Vec<(bool, &[u8])> {
    steps
        .iter()
        .map(|(side, data)| (*side, data.as_slice()))
        .collect()
}

#[test]
fn tls12_flow_client_events() {
    let (decoder, events) = run(&borrowed(&tls12_steps()));
    let client = kinds_from(&events, true);
    assert_eq!(client.len(), 6);
    assert!(matches!(
        client[0],
        TlsEventKind::Handshake {
            msg_type: 1,
            record_version: 0x0301,
            ..
        }
    ));
    assert!(matches!(
        client[1],
        TlsEventKind::Handshake { msg_type: 16, .. }
    ));
    assert_eq!(client[2], TlsEventKind::ChangeCipherSpec);
    assert_eq!(client[3], TlsEventKind::EncryptedHandshake { length: 40 });
    assert_eq!(client[4], TlsEventKind::ApplicationData { length: 300 });
    assert_eq!(client[5], TlsEventKind::EncryptedAlert { length: 26 });
    assert_eq!(decoder.state(), DecoderState::Tls);
    assert_eq!(decoder.client_is_initiator(), Some(true));
    assert_eq!(decoder.preamble(), None);
}

#[test]
fn tls12_flow_server_events() {
    let (_, events) = run(&borrowed(&tls12_steps()));
    let server = kinds_from(&events, false);
    assert_eq!(server.len(), 6);
    assert_eq!(handshake_types(&events), vec![1, 2, 11, 14, 16]);
    assert_eq!(server[3], TlsEventKind::ChangeCipherSpec);
    assert_eq!(server[4], TlsEventKind::EncryptedHandshake { length: 40 });
    assert_eq!(server[5], TlsEventKind::ApplicationData { length: 900 });
}

#[test]
fn several_messages_share_record() {
    let (_, events) = run(&[
        (true, &client_hello_record()),
        (false, &server_flight_record()),
    ]);
    let server: Vec<_> = events.iter().filter(|e| !e.from_initiator).collect();
    let hello_len = u64::try_from(server_hello_body(0x0303, None).len()).unwrap();
    assert_eq!(server.len(), 3);
    assert_eq!(server[0].stream_offset, 5);
    assert_eq!(server[1].stream_offset, 5 + 4 + hello_len);
    assert!(server.iter().all(|event| event.packet == 2));
}

#[test]
fn split_byte_by_byte_same_events() {
    let steps = tls12_steps();
    let (_, whole) = run(&borrowed(&steps));
    let mut decoder = ConnectionDecoder::new(DecoderLimits::default());
    let mut split = Vec::new();
    let mut packet = 0;
    for (from_initiator, data) in &steps {
        for byte in data {
            packet += 1;
            decoder.feed(
                *from_initiator,
                std::slice::from_ref(byte),
                packet,
                &mut split,
            );
        }
    }
    let strip = |events: &[wiretrust_tls::stream::TlsEvent]| {
        events
            .iter()
            .map(|e| (e.from_initiator, e.stream_offset, e.kind.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(&whole), strip(&split));
    assert_eq!(split[0].packet, u64::try_from(steps[0].1.len()).unwrap());
}

#[test]
fn message_spans_three_records() {
    let certificate = handshake(11, &certificate_body(40_000));
    let mut steps = vec![(true, client_hello_record())];
    steps.push((
        false,
        record(
            HANDSHAKE,
            0x0303,
            &handshake(2, &server_hello_body(0x0303, None)),
        ),
    ));
    for chunk in certificate.chunks(16_384) {
        steps.push((false, record(HANDSHAKE, 0x0302, chunk)));
    }
    let (_, events) = run(&borrowed(&steps));
    let last = events.last().unwrap();
    let TlsEventKind::Handshake {
        msg_type,
        record_version,
        body,
    } = &last.kind
    else {
        panic!("expected a handshake message, got {:?}", last.kind);
    };
    assert_eq!(*msg_type, 11);
    assert_eq!(*record_version, 0x0302);
    assert_eq!(body.len(), certificate.len() - 4);
    assert_eq!(last.packet, 5);
    assert_eq!(events.len(), 3);
}

#[test]
fn records_split_across_feeds() {
    let mut stream = client_hello_record();
    stream.extend(record(APPLICATION_DATA, 0x0303, &[5; 10]));
    let (first, second) = stream.split_at(client_hello_record().len() + 2);
    let (_, events) = run(&[(true, first), (true, second)]);
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].packet, 1);
    assert_eq!(events[1].packet, 2);
    assert_eq!(events[1].kind, TlsEventKind::ApplicationData { length: 10 });
}

#[test]
fn ccs_then_encrypted_alert() {
    let mut client = client_hello_record();
    client.extend(record(CHANGE_CIPHER_SPEC, 0x0303, &[1]));
    client.extend(record(ALERT, 0x0303, &[0xee; 26]));
    client.extend(record(HEARTBEAT, 0x0303, &[0xee; 40]));
    let (_, events) = run(&[(true, &client)]);
    let kinds = kinds_from(&events, true);
    assert_eq!(kinds[1], TlsEventKind::ChangeCipherSpec);
    assert_eq!(kinds[2], TlsEventKind::EncryptedAlert { length: 26 });
    let heartbeat = TlsEventKind::Heartbeat {
        length: 40,
        encrypted: true,
        message_type: None,
        payload_length: None,
    };
    assert_eq!(kinds[3], heartbeat);
}

#[test]
fn alert_in_clear_before_ccs() {
    let alert = record(ALERT, 0x0303, &[2, 40]);
    let (decoder, events) = run(&[(true, &client_hello_record()), (false, &alert)]);
    let kinds = kinds_from(&events, false);
    assert_eq!(
        kinds,
        vec![TlsEventKind::Alert {
            level: 2,
            description: 40
        }]
    );
    assert_eq!(decoder.client_is_initiator(), Some(true));
}

#[test]
fn tls13_compat_ccs_flow() {
    let client_hello = record(HANDSHAKE, 0x0301, &handshake(1, &client_hello_body(true)));
    let mut server = record(
        HANDSHAKE,
        0x0303,
        &handshake(2, &server_hello_body(0x0303, Some(0x0304))),
    );
    server.extend(record(CHANGE_CIPHER_SPEC, 0x0303, &[1]));
    server.extend(record(APPLICATION_DATA, 0x0303, &[0x61; 2000]));
    let mut client = record(CHANGE_CIPHER_SPEC, 0x0303, &[1]);
    client.extend(record(APPLICATION_DATA, 0x0303, &[0x62; 53]));
    let (_, events) = run(&[(true, &client_hello), (false, &server), (true, &client)]);
    let server_kinds = kinds_from(&events, false);
    assert_eq!(server_kinds[1], TlsEventKind::ChangeCipherSpec);
    assert_eq!(
        server_kinds[2],
        TlsEventKind::ApplicationData { length: 2000 }
    );
    let client_kinds = kinds_from(&events, true);
    assert_eq!(client_kinds[1], TlsEventKind::ChangeCipherSpec);
    assert_eq!(
        client_kinds[2],
        TlsEventKind::ApplicationData { length: 53 }
    );
}

/// RFC 8446 section 4.1.3: the random value that marks a HelloRetryRequest.
const HRR_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

#[test]
fn tls13_retry_hello_after_ccs() {
    let mut retry = server_hello_body(0x0303, Some(0x0304));
    retry[2..34].copy_from_slice(&HRR_RANDOM);
    let mut server = record(HANDSHAKE, 0x0303, &handshake(2, &retry));
    server.extend(record(CHANGE_CIPHER_SPEC, 0x0303, &[1]));
    let mut client = record(CHANGE_CIPHER_SPEC, 0x0303, &[1]);
    client.extend(record(
        HANDSHAKE,
        0x0303,
        &handshake(1, &client_hello_body(true)),
    ));
    let second_server_hello = record(
        HANDSHAKE,
        0x0303,
        &handshake(2, &server_hello_body(0x0303, Some(0x0304))),
    );
    let steps: [(bool, &[u8]); 4] = [
        (true, &client_hello_record()),
        (false, &server),
        (true, &client),
        (false, &second_server_hello),
    ];
    let (_, events) = run(&steps);
    assert_eq!(handshake_types(&events), vec![1, 2, 1, 2]);
}

#[test]
fn sslv2_hello_then_tls_server() {
    let mut client_rest = record(HANDSHAKE, 0x0301, &handshake(16, &[0x41; 130]));
    client_rest.extend(record(CHANGE_CIPHER_SPEC, 0x0301, &[1]));
    client_rest.extend(record(HANDSHAKE, 0x0301, &[0x9a; 48]));
    let server = record(
        HANDSHAKE,
        0x0301,
        &handshake(2, &server_hello_body(0x0301, None)),
    );
    let steps: [(bool, &[u8]); 3] = [
        (true, &sslv2_client_hello(0x0301)),
        (false, &server),
        (true, &client_rest),
    ];
    let (decoder, events) = run(&steps);
    let client = kinds_from(&events, true);
    assert!(matches!(&client[0], TlsEventKind::Sslv2 { body } if body[0] == 1));
    assert!(matches!(
        client[1],
        TlsEventKind::Handshake { msg_type: 16, .. }
    ));
    assert_eq!(client[2], TlsEventKind::ChangeCipherSpec);
    assert_eq!(client[3], TlsEventKind::EncryptedHandshake { length: 48 });
    assert_eq!(decoder.client_is_initiator(), Some(true));
}

#[test]
fn sslv2_master_key_then_encrypted() {
    let mut master_key = vec![2, 0x07, 0x00, 0xc0, 0, 0, 0, 64, 0, 0];
    master_key.extend([0x5a; 64]);
    let mut client_rest = sslv2_record(&master_key);
    client_rest.extend(sslv2_record(&[0xc3; 33]));
    let steps: [(bool, &[u8]); 4] = [
        (true, &sslv2_client_hello(0x0002)),
        (false, &sslv2_server_hello(false)),
        (true, &client_rest),
        (false, &sslv2_record(&[0xd4; 49])),
    ];
    let (decoder, events) = run(&steps);
    let types: Vec<u8> = events
        .iter()
        .filter_map(|e| match &e.kind {
            TlsEventKind::Sslv2 { body } => Some(body[0]),
            _ => None,
        })
        .collect();
    assert_eq!(types, vec![1, 4, 2]);
    assert_eq!(events.len(), 3);
    assert_eq!(decoder.stats(true).records.skipped_records, 1);
    assert_eq!(decoder.stats(false).records.skipped_records, 1);
}

#[test]
fn sslv2_session_hit_encrypts_at_once() {
    let steps: [(bool, &[u8]); 3] = [
        (true, &sslv2_client_hello(0x0002)),
        (false, &sslv2_server_hello(true)),
        (true, &sslv2_record(&[0xc3; 33])),
    ];
    let (decoder, events) = run(&steps);
    assert_eq!(events.len(), 2);
    assert_eq!(decoder.stats(true).records.skipped_records, 1);
}

#[test]
fn record_too_long_stops_side() {
    let mut client = client_hello_record();
    client.extend([APPLICATION_DATA, 3, 3, 0x48, 0x01]);
    client.extend([0u8; 100]);
    let later = record(APPLICATION_DATA, 0x0303, &[1; 10]);
    let (decoder, events) = run(&[(true, &client), (true, &later)]);
    let reason = Malformed::RecordTooLong(0x4801);
    assert_eq!(events.len(), 2);
    assert_eq!(events[1].kind, TlsEventKind::Malformed { reason });
    assert_eq!(
        events[1].stream_offset,
        u64::try_from(client_hello_record().len()).unwrap()
    );
    assert_eq!(decoder.stats(true).records.unparsed_bytes, 115);
}

#[test]
fn content_type_zero_is_malformed() {
    // A server answering a ClientHello with a 7-byte record of content type 0.
    let reply = [0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x28];
    let (decoder, events) = run(&[(true, &client_hello_record()), (false, &reply)]);
    assert_eq!(decoder.client_is_initiator(), Some(true));
    let reason = Malformed::UnknownContentType(0);
    assert_eq!(
        kinds_from(&events, false),
        vec![TlsEventKind::Malformed { reason }]
    );
    assert_eq!(decoder.stats(false).records.records, 0);
}

#[test]
fn server_preamble_before_hello_allowed() {
    // Plain text the server sent before the ClientHello is a preamble, not
    // a malformed answer.
    let greeting = b"220 mail.example ESMTP ready\r\n";
    let (decoder, events) = run(&[(false, greeting), (true, &client_hello_record())]);
    assert_eq!(decoder.client_is_initiator(), Some(true));
    assert_eq!(kinds_from(&events, false), Vec::new());
}

#[test]
fn content_type_zero_after_start() {
    let mut server = record(
        HANDSHAKE,
        0x0303,
        &handshake(2, &server_hello_body(0x0303, None)),
    );
    server.extend([0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x28]);
    let (_, events) = run(&[(true, &client_hello_record()), (false, &server)]);
    let reason = Malformed::UnknownContentType(0);
    assert_eq!(
        kinds_from(&events, false)[1],
        TlsEventKind::Malformed { reason }
    );
}

#[test]
fn record_version_zero_is_malformed() {
    let mut client = client_hello_record();
    client.extend([HANDSHAKE, 0, 0, 0, 4, 14, 0, 0, 0]);
    let (_, events) = run(&[(true, &client)]);
    let reason = Malformed::BadRecordVersion(0);
    assert_eq!(events[1].kind, TlsEventKind::Malformed { reason });
}

#[test]
fn empty_handshake_record_is_malformed() {
    let mut client = client_hello_record();
    client.extend(record(HANDSHAKE, 0x0303, &[]));
    client.extend(record(APPLICATION_DATA, 0x0303, &[]));
    let (_, events) = run(&[(true, &client)]);
    let reason = Malformed::EmptyRecord(HANDSHAKE);
    assert_eq!(events[1].kind, TlsEventKind::Malformed { reason });
    assert_eq!(events[2].kind, TlsEventKind::ApplicationData { length: 0 });
}

#[test]
fn odd_alert_length_is_malformed() {
    let mut server = record(
        HANDSHAKE,
        0x0303,
        &handshake(2, &server_hello_body(0x0303, None)),
    );
    server.extend(record(ALERT, 0x0303, &[2]));
    let (_, events) = run(&[(true, &client_hello_record()), (false, &server)]);
    let reason = Malformed::BadAlertLength(1);
    assert_eq!(
        kinds_from(&events, false)[1],
        TlsEventKind::Malformed { reason }
    );
}

#[test]
fn ccs_with_partial_message_truncates() {
    let certificate = handshake(11, &certificate_body(100));
    let mut client = client_hello_record();
    client.extend(record(HANDSHAKE, 0x0303, &certificate[..50]));
    client.extend(record(CHANGE_CIPHER_SPEC, 0x0303, &[1]));
    let (_, events) = run(&[(true, &client)]);
    let reason = Malformed::TruncatedHandshake(50);
    assert_eq!(events[1].kind, TlsEventKind::ChangeCipherSpec);
    assert_eq!(events[2].kind, TlsEventKind::Malformed { reason });
}

#[test]
fn heartbeat_in_clear_reports_lengths() {
    let mut request = vec![1, 0x40, 0x00];
    request.extend([0xab; 16]);
    let mut client = client_hello_record();
    client.extend(record(HEARTBEAT, 0x0303, &request));
    let (_, events) = run(&[(true, &client)]);
    let expected = TlsEventKind::Heartbeat {
        length: 19,
        encrypted: false,
        message_type: Some(1),
        payload_length: Some(0x4000),
    };
    assert_eq!(events[1].kind, expected);
}

#[test]
fn handshake_over_limit_stops_parsing() {
    let limits = DecoderLimits {
        max_handshake: 1024,
        ..DecoderLimits::default()
    };
    let mut server = record(
        HANDSHAKE,
        0x0303,
        &handshake(2, &server_hello_body(0x0303, None)),
    );
    server.extend(record(
        HANDSHAKE,
        0x0303,
        &handshake(11, &certificate_body(2000)),
    ));
    server.extend(record(HANDSHAKE, 0x0303, &handshake(14, &[])));
    server.extend(record(CHANGE_CIPHER_SPEC, 0x0303, &[1]));
    let (decoder, events) = run_with(limits, &[(true, &client_hello_record()), (false, &server)]);
    let server_kinds = kinds_from(&events, false);
    let reason = Malformed::HandshakeTooLong(2006);
    assert_eq!(server_kinds[1], TlsEventKind::Malformed { reason });
    assert_eq!(server_kinds[2], TlsEventKind::ChangeCipherSpec);
    assert_eq!(server_kinds.len(), 3);
    assert_eq!(decoder.stats(false).skipped_handshake_bytes, 4);
}

#[test]
fn hello_from_responder_names_client() {
    let (decoder, _) = run(&[(false, &client_hello_record())]);
    assert_eq!(decoder.client_is_initiator(), Some(false));
}

#[test]
fn server_hello_alone_names_client() {
    let server = record(
        HANDSHAKE,
        0x0303,
        &handshake(2, &server_hello_body(0x0303, None)),
    );
    let (decoder, events) = run(&[(true, &server)]);
    assert_eq!(decoder.client_is_initiator(), Some(false));
    assert_eq!(handshake_types(&events), vec![2]);
}

#[test]
fn gap_inside_certificate_resumes() {
    let certificate = record(HANDSHAKE, 0x0303, &handshake(11, &certificate_body(3000)));
    let done = record(HANDSHAKE, 0x0303, &handshake(14, &[]));
    let server_hello = record(
        HANDSHAKE,
        0x0303,
        &handshake(2, &server_hello_body(0x0303, None)),
    );
    let mut decoder = ConnectionDecoder::default();
    let mut events = Vec::new();
    decoder.feed(true, &client_hello_record(), 1, &mut events);
    decoder.feed(false, &server_hello, 2, &mut events);
    decoder.feed(false, &certificate[..1000], 3, &mut events);
    decoder.gap(false, 1000, 4, &mut events);
    decoder.feed(false, &certificate[2000..], 5, &mut events);
    decoder.feed(false, &done, 6, &mut events);
    assert_eq!(handshake_types(&events), vec![1, 2, 14]);
    assert!(
        !events
            .iter()
            .any(|e| matches!(e.kind, TlsEventKind::Malformed { .. }))
    );
    assert_eq!(decoder.stats(false).gaps_while_decoding, 1);
    assert_eq!(events.last().unwrap().packet, 6);
}

#[test]
fn gap_over_record_boundary_resynchronises() {
    let certificate = record(HANDSHAKE, 0x0303, &handshake(11, &certificate_body(3000)));
    let done = record(HANDSHAKE, 0x0303, &handshake(14, &[]));
    let mut tail = done.clone();
    tail.extend(record(CHANGE_CIPHER_SPEC, 0x0303, &[1]));
    tail.extend(record(HANDSHAKE, 0x0303, &[0x7b; 40]));
    let mut decoder = ConnectionDecoder::default();
    let mut events = Vec::new();
    let server_hello = record(
        HANDSHAKE,
        0x0303,
        &handshake(2, &server_hello_body(0x0303, None)),
    );
    decoder.feed(true, &client_hello_record(), 1, &mut events);
    decoder.feed(false, &server_hello, 2, &mut events);
    decoder.feed(false, &certificate[..1000], 2, &mut events);
    let missing = u64::try_from(certificate.len() - 1000 + 3).unwrap();
    decoder.gap(false, missing, 3, &mut events);
    let mut after = vec![0x13; 4];
    after.extend(&tail);
    decoder.feed(false, &after, 4, &mut events);
    let server = kinds_from(&events, false);
    assert!(matches!(
        server[1],
        TlsEventKind::Handshake { msg_type: 14, .. }
    ));
    assert_eq!(server[2], TlsEventKind::ChangeCipherSpec);
    assert_eq!(server[3], TlsEventKind::EncryptedHandshake { length: 40 });
    assert_eq!(decoder.stats(false).records.resync_bytes, 4);
}

#[test]
fn gap_before_start_keeps_searching() {
    let mut decoder = ConnectionDecoder::default();
    let mut events = Vec::new();
    decoder.feed(true, b"EHLO client.example\r\n", 1, &mut events);
    decoder.gap(true, 100, 2, &mut events);
    decoder.feed(true, b"STARTTLS\r\n", 3, &mut events);
    decoder.feed(true, &client_hello_record(), 4, &mut events);
    assert_eq!(handshake_types(&events), vec![1]);
    assert_eq!(events[0].stream_offset, 21 + 100 + 10 + 5);
}

#[test]
fn scan_limit_gives_up() {
    let text = vec![b'x'; 70 * 1024];
    let mut decoder = ConnectionDecoder::default();
    let mut events = Vec::new();
    let state = decoder.feed(true, &text, 1, &mut events);
    let after = decoder.feed(true, &client_hello_record(), 2, &mut events);
    assert_eq!(state, DecoderState::NotTls);
    assert_eq!(after, DecoderState::NotTls);
    assert!(events.is_empty());
    assert_eq!(decoder.buffered_bytes(), 0);
}

#[test]
fn scan_limit_counts_both_sides() {
    let limits = DecoderLimits {
        max_scan: 1000,
        ..DecoderLimits::default()
    };
    let mut decoder = ConnectionDecoder::new(limits);
    let mut events = Vec::new();
    assert_eq!(
        decoder.feed(true, &[b'a'; 600], 1, &mut events),
        DecoderState::Searching
    );
    assert_eq!(
        decoder.feed(false, &[b'b'; 999], 2, &mut events),
        DecoderState::Searching
    );
    assert_eq!(
        decoder.feed(true, &[b'a'; 400], 3, &mut events),
        DecoderState::NotTls
    );
}

#[test]
fn server_side_gives_up_alone() {
    let limits = DecoderLimits {
        max_scan: 1000,
        ..DecoderLimits::default()
    };
    let http = b"HTTP/1.1 400 Bad Request\r\n\r\n".repeat(50);
    let steps: [(bool, &[u8]); 2] = [(true, &client_hello_record()), (false, &http)];
    let (decoder, events) = run_with(limits, &steps);
    assert_eq!(decoder.state(), DecoderState::Tls);
    assert_eq!(handshake_types(&events), vec![1]);
    assert_eq!(decoder.stats(false).ignored_bytes, 1400);
    assert_eq!(decoder.buffered_bytes(), 0);
}

#[test]
fn clear_text_after_alert_not_malformed() {
    // TLS ends with an alert, then the connection carries plain text (an
    // FTP control channel after CCC).
    let mut client = client_hello_record();
    client.extend(record(ALERT, 0x0303, &[1, 0]));
    client.extend_from_slice(b"PASV\r\n");
    let (_, events) = run(&[(true, &client)]);
    let malformed = events
        .iter()
        .filter(|e| matches!(e.kind, TlsEventKind::Malformed { .. }))
        .count();
    assert_eq!(malformed, 0);
}
