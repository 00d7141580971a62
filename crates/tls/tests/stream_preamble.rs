//! TLS found after a plaintext exchange, and the exchange named.
//!
//! Each test plays a realistic dialogue (client = TCP initiator), then a
//! ClientHello and a ServerHello, and checks that both hellos are found at
//! the right offsets and that the preamble gets the right name.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

mod stream_support;

use stream_support::*;
use wiretrust_tls::start::Preamble;
use wiretrust_tls::stream::DecoderState;

const CLIENT: bool = true;
const SERVER: bool = false;

/// Plays `dialogue`, then the hellos, and checks where TLS was found.
fn check(dialogue: &[(bool, &[u8])], expected: Preamble) {
    let client_hello = client_hello_record();
    let server_hello = record(
        HANDSHAKE,
        0x0303,
        &handshake(2, &server_hello_body(0x0303, None)),
    );
    let mut steps = dialogue.to_vec();
    steps.push((CLIENT, &client_hello));
    steps.push((SERVER, &server_hello));
    let (decoder, events) = run(&steps);
    let sent_before = |side: bool| -> u64 {
        let bytes: usize = dialogue
            .iter()
            .filter(|(s, _)| *s == side)
            .map(|(_, d)| d.len())
            .sum();
        u64::try_from(bytes).unwrap()
    };
    assert_eq!(decoder.preamble(), Some(expected));
    assert_eq!(decoder.state(), DecoderState::Tls);
    assert_eq!(decoder.client_is_initiator(), Some(true));
    assert_eq!(handshake_types(&events), vec![1, 2]);
    assert_eq!(events[0].stream_offset, sent_before(CLIENT) + 5);
    assert_eq!(events[1].stream_offset, sent_before(SERVER) + 5);
    assert_eq!(decoder.buffered_bytes(), 0);
}

#[test]
fn smtp_starttls() {
    check(
        &[
            (SERVER, b"220 mail.example.com ESMTP Postfix\r\n"),
            (CLIENT, b"EHLO client.example.org\r\n"),
            (
                SERVER,
                b"250-mail.example.com\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n\
                  250-STARTTLS\r\n250 8BITMIME\r\n",
            ),
            (CLIENT, b"STARTTLS\r\n"),
            (SERVER, b"220 2.0.0 Ready to start TLS\r\n"),
        ],
        Preamble::Smtp,
    );
}

#[test]
fn imap_starttls() {
    check(
        &[
            (SERVER, b"* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] imap.example.com ready\r\n"),
            (CLIENT, b"a001 CAPABILITY\r\n"),
            (SERVER, b"* CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED\r\na001 OK CAPABILITY completed\r\n"),
            (CLIENT, b"a002 STARTTLS\r\n"),
            (SERVER, b"a002 OK Begin TLS negotiation now\r\n"),
        ],
        Preamble::Imap,
    );
}

#[test]
fn pop3_stls() {
    check(
        &[
            (
                SERVER,
                b"+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n",
            ),
            (CLIENT, b"CAPA\r\n"),
            (
                SERVER,
                b"+OK Capability list follows\r\nUSER\r\nSTLS\r\n.\r\n",
            ),
            (CLIENT, b"STLS\r\n"),
            (SERVER, b"+OK Begin TLS negotiation\r\n"),
        ],
        Preamble::Pop3,
    );
}

#[test]
fn ftp_auth_tls() {
    check(
        &[
            (SERVER, b"220 ProFTPD Server (ftp.example.com) ready.\r\n"),
            (CLIENT, b"AUTH TLS\r\n"),
            (SERVER, b"234 AUTH TLS successful\r\n"),
        ],
        Preamble::Ftp,
    );
}

#[test]
fn xmpp_starttls() {
    check(
        &[
            (
                CLIENT,
                b"<?xml version='1.0'?><stream:stream to='example.com' xmlns='jabber:client' \
                  xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>",
            ),
            (
                SERVER,
                b"<?xml version='1.0'?><stream:stream from='example.com' id='c2s_123' \
                  xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' \
                  version='1.0'><stream:features><starttls \
                  xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>\
                  </stream:features>",
            ),
            (
                CLIENT,
                b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>",
            ),
            (
                SERVER,
                b"<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>",
            ),
        ],
        Preamble::Xmpp,
    );
}

#[test]
fn irc_starttls() {
    check(
        &[
            (
                SERVER,
                b":irc.example.net NOTICE * :*** Looking up your hostname...\r\n",
            ),
            (CLIENT, b"STARTTLS\r\n"),
            (
                SERVER,
                b":irc.example.net 670 * :STARTTLS successful, go ahead with TLS handshake\r\n",
            ),
        ],
        Preamble::Irc,
    );
}

/// LDAPMessage { messageID 1, ExtendedRequest { requestName
/// 1.3.6.1.4.1.1466.20037 } } in BER (RFC 4511 sections 4.12 and 4.14.1).
const LDAP_STARTTLS_REQUEST: &[u8] = b"\x30\x1d\x02\x01\x01\x77\x18\x80\x16\
    1.3.6.1.4.1.1466.20037";

/// LDAPMessage { messageID 1, ExtendedResponse { success, "", "" } }.
const LDAP_STARTTLS_RESPONSE: &[u8] = b"\x30\x0c\x02\x01\x01\x78\x07\x0a\x01\x00\x04\x00\x04\x00";

#[test]
fn ldap_extended_request() {
    check(
        &[
            (CLIENT, LDAP_STARTTLS_REQUEST),
            (SERVER, LDAP_STARTTLS_RESPONSE),
        ],
        Preamble::Ldap,
    );
}

#[test]
fn nntp_starttls() {
    check(
        &[
            (
                SERVER,
                b"200 news.example.com InterNetNews NNRP server INN 2.6.4 ready (posting ok)\r\n",
            ),
            (CLIENT, b"CAPABILITIES\r\n"),
            (
                SERVER,
                b"101 Capability list:\r\nVERSION 2\r\nREADER\r\nSTARTTLS\r\n.\r\n",
            ),
            (CLIENT, b"STARTTLS\r\n"),
            (SERVER, b"382 Continue with TLS negotiation\r\n"),
        ],
        Preamble::Nntp,
    );
}

#[test]
fn http_connect_tunnel() {
    check(
        &[
            (
                CLIENT,
                b"CONNECT www.example.com:443 HTTP/1.1\r\nHost: www.example.com:443\r\n\
                  User-Agent: curl/8.5.0\r\nProxy-Connection: Keep-Alive\r\n\r\n",
            ),
            (SERVER, b"HTTP/1.1 200 Connection established\r\n\r\n"),
        ],
        Preamble::HttpConnect,
    );
}

#[test]
fn socks4_connect() {
    // CONNECT to 93.184.216.34 port 443 with user id "alice", then granted.
    check(
        &[
            (CLIENT, b"\x04\x01\x01\xbb\x5d\xb8\xd8\x22alice\x00"),
            (SERVER, b"\x00\x5a\x00\x00\x00\x00\x00\x00"),
        ],
        Preamble::Socks4,
    );
}

#[test]
fn socks5_connect() {
    // No authentication, then CONNECT to example.com port 443, then success.
    check(
        &[
            (CLIENT, b"\x05\x01\x00"),
            (SERVER, b"\x05\x00"),
            (CLIENT, b"\x05\x01\x00\x03\x0bexample.com\x01\xbb"),
            (SERVER, b"\x05\x00\x00\x01\x00\x00\x00\x00\x00\x00"),
        ],
        Preamble::Socks5,
    );
}

/// Builds a MySQL protocol-10 server greeting (MySQL 8.0) offering CLIENT_SSL.
fn mysql_greeting() -> Vec<u8> {
    let mut payload = vec![0x0a];
    payload.extend(b"8.0.36\0");
    payload.extend(42u32.to_le_bytes());
    payload.extend([0x41; 8]);
    payload.push(0);
    payload.extend(0xfff7u16.to_le_bytes());
    payload.push(0xff);
    payload.extend(0x0002u16.to_le_bytes());
    payload.extend(0xdfffu16.to_le_bytes());
    payload.push(21);
    payload.extend([0; 10]);
    payload.extend([0x42; 12]);
    payload.push(0);
    payload.extend(b"caching_sha2_password\0");
    mysql_packet(0, &payload)
}

/// Builds the client's SSL request: capabilities with CLIENT_SSL, max packet
/// size, character set and 23 reserved bytes.
fn mysql_ssl_request() -> Vec<u8> {
    let mut payload = 0x01ff_aa85u32.to_le_bytes().to_vec();
    payload.extend(0x0100_0000u32.to_le_bytes());
    payload.push(0xff);
    payload.extend([0; 23]);
    mysql_packet(1, &payload)
}

fn mysql_packet(sequence: u8, payload: &[u8]) -> Vec<u8> {
    let length = u32::try_from(payload.len()).unwrap().to_le_bytes();
    let mut out = vec![length[0], length[1], length[2], sequence];
    out.extend_from_slice(payload);
    out
}

#[test]
fn mysql_ssl_request_after_greeting() {
    check(
        &[(SERVER, &mysql_greeting()), (CLIENT, &mysql_ssl_request())],
        Preamble::MySql,
    );
}

#[test]
fn postgres_ssl_request() {
    check(
        &[
            (CLIENT, b"\x00\x00\x00\x08\x04\xd2\x16\x2f"),
            (SERVER, b"S"),
        ],
        Preamble::Postgres,
    );
}

#[test]
fn postgres_after_gssapi_refusal() {
    check(
        &[
            (CLIENT, b"\x00\x00\x00\x08\x04\xd2\x16\x30"),
            (SERVER, b"N"),
            (CLIENT, b"\x00\x00\x00\x08\x04\xd2\x16\x2f"),
            (SERVER, b"S"),
        ],
        Preamble::Postgres,
    );
}

#[test]
fn unrecognised_text_is_unknown() {
    check(
        &[(CLIENT, b"HELLO proxy v2\r\n"), (SERVER, b"WELCOME\r\n")],
        Preamble::Unknown,
    );
}

#[test]
fn preamble_known_before_server_answers() {
    let steps: [(bool, &[u8]); 3] = [
        (
            SERVER,
            b"220 ProFTPD Server ready.\r\n234 AUTH TLS successful\r\n",
        ),
        (CLIENT, b"AUTH TLS\r\n"),
        (CLIENT, &client_hello_record()),
    ];
    let (decoder, _) = run(&steps);
    assert_eq!(decoder.preamble(), Some(Preamble::Ftp));
}

#[test]
fn preamble_absent_before_start() {
    let (decoder, _) = run(&[(CLIENT, b"EHLO client.example.org\r\n")]);
    assert_eq!(decoder.preamble(), None);
    assert_eq!(decoder.state(), DecoderState::Searching);
}
