//! Byte builders and a feeding loop shared by the `stream_*` integration tests.
#![allow(dead_code, clippy::unwrap_used)]

pub mod capture;

use wiretrust_tls::stream::{ConnectionDecoder, DecoderLimits, TlsEvent, TlsEventKind};

/// Content types (RFC 8446 section 5.1, RFC 6520).
pub const CHANGE_CIPHER_SPEC: u8 = 20;
pub const ALERT: u8 = 21;
pub const HANDSHAKE: u8 = 22;
pub const APPLICATION_DATA: u8 = 23;
pub const HEARTBEAT: u8 = 24;

/// Builds a TLS record with the given header fields.
pub fn record(content_type: u8, version: u16, body: &[u8]) -> Vec<u8> {
    let length = u16::try_from(body.len()).unwrap();
    let mut out = vec![content_type];
    out.extend_from_slice(&version.to_be_bytes());
    out.extend_from_slice(&length.to_be_bytes());
    out.extend_from_slice(body);
    out
}

/// Builds a handshake message: type, 24-bit length, body.
pub fn handshake(msg_type: u8, body: &[u8]) -> Vec<u8> {
    let length = u32::try_from(body.len()).unwrap().to_be_bytes();
    let mut out = vec![msg_type, length[1], length[2], length[3]];
    out.extend_from_slice(body);
    out
}

fn vector8(body: &[u8]) -> Vec<u8> {
    let mut out = vec![u8::try_from(body.len()).unwrap()];
    out.extend_from_slice(body);
    out
}

fn vector16(body: &[u8]) -> Vec<u8> {
    let mut out = u16::try_from(body.len()).unwrap().to_be_bytes().to_vec();
    out.extend_from_slice(body);
    out
}

fn extension(extension_type: u16, data: &[u8]) -> Vec<u8> {
    let mut out = extension_type.to_be_bytes().to_vec();
    out.extend(vector16(data));
    out
}

/// Builds a ClientHello body like a browser's: session id, AEAD suites, SNI
/// `example.com`, and, when `tls13` is set, supported_versions 1.3 and 1.2.
pub fn client_hello_body(tls13: bool) -> Vec<u8> {
    let mut body = vec![0x03, 0x03];
    body.extend([0x11; 32]);
    body.extend(vector8(&[0x22; 32]));
    body.extend(vector16(&[
        0x13, 0x01, 0x13, 0x02, 0xc0, 0x2f, 0xc0, 0x30, 0x00, 0xff,
    ]));
    body.extend(vector8(&[0]));
    let name = b"example.com";
    let mut server_name = vec![0];
    server_name.extend(vector16(name));
    let mut extensions = extension(0, &vector16(&server_name));
    if tls13 {
        extensions.extend(extension(43, &vector8(&[0x03, 0x04, 0x03, 0x03])));
    }
    body.extend(vector16(&extensions));
    body
}

/// Builds a ServerHello body. `selected` adds supported_versions with that value.
pub fn server_hello_body(version: u16, selected: Option<u16>) -> Vec<u8> {
    let mut body = version.to_be_bytes().to_vec();
    body.extend([0x33; 32]);
    body.extend(vector8(&[0x22; 32]));
    body.extend([0xc0, 0x2f, 0x00]);
    let mut extensions = extension(0xff01, &[0]);
    if let Some(selected) = selected {
        extensions.extend(extension(43, &selected.to_be_bytes()));
    }
    body.extend(vector16(&extensions));
    body
}

/// Builds a TLS 1.2 ClientHello in a record with version 0x0301.
pub fn client_hello_record() -> Vec<u8> {
    record(HANDSHAKE, 0x0301, &handshake(1, &client_hello_body(false)))
}

/// Builds a TLS 1.2 server flight in one record: ServerHello, Certificate and
/// ServerHelloDone.
pub fn server_flight_record() -> Vec<u8> {
    let mut messages = handshake(2, &server_hello_body(0x0303, None));
    messages.extend(handshake(11, &certificate_body(300)));
    messages.extend(handshake(14, &[]));
    record(HANDSHAKE, 0x0303, &messages)
}

/// Builds a Certificate body with one `len`-byte placeholder certificate.
pub fn certificate_body(len: usize) -> Vec<u8> {
    let cert = vec![0x30; len];
    let mut entry = u32::try_from(len).unwrap().to_be_bytes()[1..].to_vec();
    entry.extend(cert);
    let mut body = u32::try_from(entry.len()).unwrap().to_be_bytes()[1..].to_vec();
    body.extend(entry);
    body
}

/// Builds an SSL 2.0 CLIENT-HELLO with a 2-byte header offering `version`.
pub fn sslv2_client_hello(version: u16) -> Vec<u8> {
    let specs = [0x07, 0x00, 0xc0, 0x01, 0x00, 0x80, 0x00, 0x00, 0x04];
    let challenge = [0x44; 16];
    let mut body = vec![1];
    body.extend(version.to_be_bytes());
    body.extend(u16::try_from(specs.len()).unwrap().to_be_bytes());
    body.extend([0, 0]);
    body.extend(u16::try_from(challenge.len()).unwrap().to_be_bytes());
    body.extend(specs);
    body.extend(challenge);
    sslv2_record(&body)
}

/// Builds an SSL 2.0 SERVER-HELLO with a 2-byte header.
pub fn sslv2_server_hello(session_id_hit: bool) -> Vec<u8> {
    let certificate = [0x30; 40];
    let specs = [0x07, 0x00, 0xc0];
    let connection_id = [0x55; 16];
    let mut body = vec![4, u8::from(session_id_hit), 1, 0x00, 0x02];
    body.extend(u16::try_from(certificate.len()).unwrap().to_be_bytes());
    body.extend(u16::try_from(specs.len()).unwrap().to_be_bytes());
    body.extend(u16::try_from(connection_id.len()).unwrap().to_be_bytes());
    body.extend(certificate);
    body.extend(specs);
    body.extend(connection_id);
    sslv2_record(&body)
}

/// Builds an SSL 2.0 record with a 2-byte header.
pub fn sslv2_record(body: &[u8]) -> Vec<u8> {
    let length = u16::try_from(body.len()).unwrap() | 0x8000;
    let mut out = length.to_be_bytes().to_vec();
    out.extend_from_slice(body);
    out
}

/// Feeds `(from_initiator, bytes)` steps with packet numbers 1, 2, ... and
/// returns the decoder and every event.
pub fn run(steps: &[(bool, &[u8])]) -> (ConnectionDecoder, Vec<TlsEvent>) {
    run_with(DecoderLimits::default(), steps)
}

/// [`run`] with explicit limits.
pub fn run_with(
    limits: DecoderLimits,
    steps: &[(bool, &[u8])],
) -> (ConnectionDecoder, Vec<TlsEvent>) {
    let mut decoder = ConnectionDecoder::new(limits);
    let mut events = Vec::new();
    for (packet, (from_initiator, data)) in (1..).zip(steps) {
        decoder.feed(*from_initiator, data, packet, &mut events);
    }
    (decoder, events)
}

/// Returns the event kinds sent by one side.
pub fn kinds_from(events: &[TlsEvent], from_initiator: bool) -> Vec<TlsEventKind> {
    events
        .iter()
        .filter(|e| e.from_initiator == from_initiator)
        .map(|e| e.kind.clone())
        .collect()
}

/// Returns the handshake message types in event order.
pub fn handshake_types(events: &[TlsEvent]) -> Vec<u8> {
    events
        .iter()
        .filter_map(|event| match event.kind {
            TlsEventKind::Handshake { msg_type, .. } => Some(msg_type),
            _ => None,
        })
        .collect()
}
