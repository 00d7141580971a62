//! Dialogues written byte by byte, one or more per protocol and finding.

use crate::{Dialogue, FindingKind, Garble, Limits, Outcome, Preamble, Progress, Side};

use Side::{Client, Server};

/// The first 11 bytes of a TLS record holding a ClientHello: record header
/// (200 bytes), handshake header (196 bytes) and legacy version TLS 1.2.
const CLIENT_HELLO: &[u8] = &[22, 3, 1, 0, 200, 1, 0, 0, 196, 3, 3];

/// The first 11 bytes of a TLS record that begins with a ServerHello.
const SERVER_HELLO: &[u8] = &[22, 3, 3, 0x0f, 0xa0, 2, 0, 0, 81, 3, 3];

/// Feeds the steps in order, ends both sides and returns the outcome with
/// every `feed` result.
fn run(steps: &[(Side, &[u8])]) -> (Outcome, Vec<Progress>) {
    let mut dialogue = Dialogue::new();
    let progress = steps
        .iter()
        .map(|(side, data)| dialogue.feed(*side, data))
        .collect();
    dialogue.end(Client);
    dialogue.end(Server);
    (dialogue.into_outcome(), progress)
}

fn kinds(outcome: &Outcome) -> Vec<FindingKind> {
    outcome.findings.iter().map(|f| f.kind).collect()
}

fn tls_at(progress: &[Progress], step: usize) -> Option<(u64, usize)> {
    match progress.get(step)? {
        Progress::Tls(handoff) => Some((handoff.offset, handoff.rest)),
        _ => None,
    }
}

const SMTP_GREETING: &[u8] = b"220 mx.example.com ESMTP ready\r\n";
const SMTP_EHLO: &[u8] = b"EHLO client.example.com\r\n";
const SMTP_CAPABILITIES: &[u8] =
    b"250-mx.example.com\r\n250-PIPELINING\r\n250-STARTTLS\r\n250 8BITMIME\r\n";

#[test]
fn smtp_starttls_used() {
    let mut client_tls = b"STARTTLS\r\n".to_vec();
    client_tls.extend_from_slice(CLIENT_HELLO);
    let mut server_tls = b"220 2.0.0 Ready to start TLS\r\n".to_vec();
    server_tls.extend_from_slice(SERVER_HELLO);
    let steps: [(Side, &[u8]); 5] = [
        (Server, SMTP_GREETING),
        (Client, SMTP_EHLO),
        (Server, SMTP_CAPABILITIES),
        (Client, &client_tls),
        (Server, &server_tls),
    ];
    let (outcome, progress) = run(&steps);
    assert_eq!(outcome.protocol, Some(Preamble::Smtp));
    assert!(outcome.findings.is_empty(), "{:?}", outcome.findings);
    assert!(outcome.starttls.offered);
    assert!(outcome.starttls.requested.is_some());
    assert!(outcome.starttls.accepted.is_some());
    assert_eq!(
        outcome.capabilities,
        ["250-PIPELINING", "250-STARTTLS", "250 8BITMIME"]
    );
    let client_start = SMTP_EHLO.len() as u64 + 10;
    assert_eq!(tls_at(&progress, 3), Some((client_start, 10)));
    assert_eq!(outcome.client_tls_offset, Some(client_start));
    let server_start = (SMTP_GREETING.len() + SMTP_CAPABILITIES.len() + 30) as u64;
    assert_eq!(tls_at(&progress, 4), Some((server_start, 30)));
    let greeting = outcome.greeting.unwrap();
    assert_eq!(greeting.text, "220 mx.example.com ESMTP ready");
    assert_eq!(greeting.at.line, 1);
}

#[test]
fn smtp_server_hello_in_later_call() {
    let mut dialogue = Dialogue::new();
    dialogue.feed(Server, SMTP_GREETING);
    dialogue.feed(Client, SMTP_EHLO);
    dialogue.feed(Server, SMTP_CAPABILITIES);
    dialogue.feed(Client, b"STARTTLS\r\n");
    dialogue.feed(Server, b"220 go ahead\r\n");
    // The hello arrives in three pieces; the first two are held back.
    assert_eq!(
        dialogue.feed(Server, &SERVER_HELLO[..3]),
        Progress::Continue
    );
    assert_eq!(
        dialogue.feed(Server, &SERVER_HELLO[3..7]),
        Progress::Continue
    );
    let Progress::Tls(handoff) = dialogue.feed(Server, &SERVER_HELLO[7..]) else {
        panic!("no TLS start");
    };
    let start = (SMTP_GREETING.len() + SMTP_CAPABILITIES.len() + 14) as u64;
    assert_eq!(handoff.offset, start);
    assert_eq!(handoff.held, &SERVER_HELLO[..7]);
    assert_eq!(handoff.rest, 0);
    assert_eq!(dialogue.feed(Server, b"more"), Progress::Done);
    assert_eq!(dialogue.outcome().server_tls_offset, Some(start));
}

#[test]
fn smtp_overwritten_capability() {
    let capabilities = b"250-mx.example.com\r\n250-PIPELINING\r\n250-XXXXXXXA\r\n250 8BITMIME\r\n";
    let steps: [(Side, &[u8]); 6] = [
        (Server, SMTP_GREETING),
        (Client, SMTP_EHLO),
        (Server, capabilities),
        (Client, b"AUTH PLAIN AHVzZXIAc2VjcmV0\r\n"),
        (Server, b"235 2.7.0 Authentication successful\r\n"),
        (Client, b"MAIL FROM:<a@example.com>\r\n"),
    ];
    let (outcome, _) = run(&steps);
    assert_eq!(
        kinds(&outcome),
        [
            FindingKind::StarttlsGarbled(Garble::Overwritten),
            FindingKind::PlaintextCredentials,
            FindingKind::PlaintextMail,
        ]
    );
    assert!(!outcome.starttls.offered);
    assert!(outcome.is_stripped());
    let garbled = &outcome.findings[0].evidence[0];
    assert_eq!(garbled.text, "250-XXXXXXXA");
    assert_eq!(garbled.at.line, 4);
    let offset = (SMTP_GREETING.len() + 20 + 16) as u64;
    assert_eq!(garbled.at.offset, offset);
    let credentials = &outcome.findings[1].evidence[0];
    assert_eq!(
        credentials.text, "AUTH PLAIN",
        "the secret must not be kept"
    );
    assert_eq!(credentials.at.line, 2);
}

#[test]
fn smtp_capability_absent() {
    let capabilities = b"250-mx.example.com\r\n250-PIPELINING\r\n250 8BITMIME\r\n";
    let steps: [(Side, &[u8]); 4] = [
        (Server, SMTP_GREETING),
        (Client, SMTP_EHLO),
        (Server, capabilities),
        (Client, b"MAIL FROM:<a@example.com>\r\n"),
    ];
    let (outcome, _) = run(&steps);
    assert_eq!(
        kinds(&outcome),
        [FindingKind::StarttlsAbsent, FindingKind::PlaintextMail]
    );
    let evidence = &outcome.findings[0].evidence;
    let texts: Vec<&str> = evidence.iter().map(|e| e.text.as_str()).collect();
    assert_eq!(texts, ["250-PIPELINING", "250 8BITMIME", "MAIL"]);
    assert_eq!(evidence[0].at.side, Server);
    assert_eq!(evidence[0].at.line, 3);
    assert_eq!(evidence[2].at.side, Client);
    assert_eq!(evidence[2].at.line, 2);
}

#[test]
fn smtp_shortened_capability_is_garbled() {
    let capabilities = b"250-mx.test\r\n250-PIPELINING\r\n250-STARTT\r\n250 8BITMIME\r\n";
    let steps: [(Side, &[u8]); 4] = [
        (Server, SMTP_GREETING),
        (Client, SMTP_EHLO),
        (Server, capabilities),
        (Client, b"MAIL FROM:<a@example.com>\r\n"),
    ];
    let (outcome, _) = run(&steps);
    assert_eq!(
        kinds(&outcome),
        [
            FindingKind::StarttlsGarbled(Garble::NearMiss),
            FindingKind::PlaintextMail
        ]
    );
    let garbled = &outcome.findings[0].evidence;
    assert_eq!(garbled.len(), 1);
    assert_eq!(garbled[0].text, "250-STARTT");
    assert_eq!(garbled[0].at.line, 4);
}

#[test]
fn smtp_quit_after_list_is_no_finding() {
    let capabilities = b"250-mx.example.com\r\n250 8BITMIME\r\n";
    let steps: [(Side, &[u8]); 4] = [
        (Server, SMTP_GREETING),
        (Client, SMTP_EHLO),
        (Server, capabilities),
        (Client, b"QUIT\r\n"),
    ];
    let (outcome, _) = run(&steps);
    assert!(outcome.findings.is_empty(), "{:?}", outcome.findings);
}

#[test]
fn smtp_starttls_refused() {
    let steps: [(Side, &[u8]); 7] = [
        (Server, SMTP_GREETING),
        (Client, SMTP_EHLO),
        (Server, SMTP_CAPABILITIES),
        (Client, b"STARTTLS\r\n"),
        (
            Server,
            b"454 4.7.0 TLS not available due to local problem\r\n",
        ),
        (Client, b"AUTH LOGIN\r\n"),
        (Server, b"334 VXNlcm5hbWU6\r\n"),
    ];
    let (outcome, progress) = run(&steps);
    assert_eq!(
        kinds(&outcome),
        [
            FindingKind::StarttlsRefused,
            FindingKind::PlaintextCredentials
        ]
    );
    let refused = outcome.starttls.refused.as_ref().unwrap();
    assert_eq!(refused.code, Some(454));
    let evidence = &outcome.findings[0].evidence;
    assert_eq!(evidence[0].text, "STARTTLS");
    assert!(evidence[1].text.starts_with("454 "));
    assert_eq!(outcome.client_tls_offset, None);
    assert_eq!(progress[5], Progress::Continue);
}

#[test]
fn smtp_sasl_responses_are_not_commands() {
    let steps: [(Side, &[u8]); 6] = [
        (Server, SMTP_GREETING),
        (Client, SMTP_EHLO),
        (Server, b"250-mx.example.com\r\n250 AUTH LOGIN\r\n"),
        (Client, b"AUTH LOGIN\r\n"),
        (Server, b"334 VXNlcm5hbWU6\r\n"),
        (Client, b"USER dXNlcg==\r\n"),
    ];
    let (outcome, _) = run(&steps);
    let credentials: Vec<_> = outcome
        .findings_of(FindingKind::PlaintextCredentials)
        .collect();
    assert_eq!(credentials.len(), 1);
}

#[test]
fn smtp_body_lines_are_not_commands() {
    let steps: [(Side, &[u8]); 6] = [
        (Server, SMTP_GREETING),
        (Client, b"HELO client\r\n"),
        (Server, b"250 mx\r\n"),
        (Client, b"DATA\r\n"),
        (Server, b"354 go ahead\r\n"),
        (Client, b"STARTTLS\r\nAUTH PLAIN x\r\n.\r\n"),
    ];
    let (outcome, _) = run(&steps);
    assert_eq!(kinds(&outcome), [FindingKind::PlaintextMail]);
    assert!(outcome.starttls.requested.is_none());
}

#[test]
fn smtp_or_ftp_decided_by_client() {
    let steps: [(Side, &[u8]); 3] = [
        (Server, b"220 host ready\r\n"),
        (Client, b"EHLO me\r\n"),
        (Server, b"250-host\r\n250 STARTTLS\r\n"),
    ];
    let (outcome, _) = run(&steps);
    assert_eq!(outcome.protocol, Some(Preamble::Smtp));
    assert!(outcome.starttls.offered);

    let steps: [(Side, &[u8]); 2] = [(Server, b"220 host ready\r\n"), (Client, b"AUTH TLS\r\n")];
    let (outcome, _) = run(&steps);
    assert_eq!(outcome.protocol, Some(Preamble::Ftp));
    assert!(outcome.starttls.requested.is_some());
}

const IMAP_GREETING: &[u8] = b"* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] ready\r\n";

#[test]
fn imap_starttls_used() {
    let mut client = b"a1 STARTTLS\r\n".to_vec();
    client.extend_from_slice(CLIENT_HELLO);
    let steps: [(Side, &[u8]); 4] = [
        (Server, IMAP_GREETING),
        (Client, &client),
        (Server, b"a1 OK Begin TLS negotiation now\r\n"),
        (Server, SERVER_HELLO),
    ];
    let (outcome, progress) = run(&steps);
    assert_eq!(outcome.protocol, Some(Preamble::Imap));
    assert!(outcome.findings.is_empty(), "{:?}", outcome.findings);
    assert_eq!(
        outcome.capabilities,
        ["IMAP4rev1", "STARTTLS", "LOGINDISABLED"]
    );
    assert_eq!(tls_at(&progress, 1), Some((13, 13)));
    assert_eq!(
        tls_at(&progress, 3),
        Some((IMAP_GREETING.len() as u64 + 33, 0))
    );
}

#[test]
fn imap_capability_removed() {
    let steps: [(Side, &[u8]); 4] = [
        (Server, b"* OK ready\r\n"),
        (Client, b"a1 CAPABILITY\r\n"),
        (
            Server,
            b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\na1 OK done\r\n",
        ),
        (Client, b"a2 LOGIN alice secret\r\n"),
    ];
    let (outcome, _) = run(&steps);
    assert_eq!(
        kinds(&outcome),
        [
            FindingKind::StarttlsAbsent,
            FindingKind::PlaintextCredentials
        ]
    );
    assert_eq!(outcome.findings[1].evidence[0].text, "LOGIN");
}

#[test]
fn imap_refused_with_no() {
    let steps: [(Side, &[u8]); 3] = [
        (Server, IMAP_GREETING),
        (Client, b"t STARTTLS\r\n"),
        (Server, b"t NO not now\r\n"),
    ];
    let (outcome, _) = run(&steps);
    assert_eq!(kinds(&outcome), [FindingKind::StarttlsRefused]);
    assert_eq!(outcome.starttls.refused.unwrap().code, None);
}

#[test]
fn imap_literal_is_skipped() {
    let steps: [(Side, &[u8]); 3] = [
        (Server, b"* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n"),
        (Client, b"a1 FETCH 1 BODY[]\r\n"),
        (
            Server,
            b"* 1 FETCH (BODY[] {18}\r\nt STARTTLS\r\nt NO\r\n)\r\na1 OK\r\n",
        ),
    ];
    let (outcome, _) = run(&steps);
    assert!(outcome.findings.is_empty(), "{:?}", outcome.findings);
}

#[test]
fn pop3_stls_used() {
    let mut client = b"STLS\r\n".to_vec();
    client.extend_from_slice(CLIENT_HELLO);
    let steps: [(Side, &[u8]); 5] = [
        (Server, b"+OK POP3 ready\r\n"),
        (Client, b"CAPA\r\n"),
        (
            Server,
            b"+OK Capability list follows\r\nUSER\r\nSTLS\r\n.\r\n",
        ),
        (Server, b"+OK Begin TLS\r\n"),
        (Client, &client),
    ];
    let (outcome, progress) = run(&steps);
    assert_eq!(outcome.protocol, Some(Preamble::Pop3));
    assert!(outcome.findings.is_empty(), "{:?}", outcome.findings);
    assert_eq!(outcome.capabilities, ["USER", "STLS"]);
    assert_eq!(tls_at(&progress, 4), Some((12, 6)));
}

#[test]
fn pop3_capability_removed() {
    let steps: [(Side, &[u8]); 5] = [
        (Server, b"+OK POP3 ready\r\n"),
        (Client, b"CAPA\r\n"),
        (Server, b"+OK\r\nUSER\r\nUIDL\r\n.\r\n"),
        (Client, b"USER alice\r\n"),
        (Client, b"PASS secret\r\n"),
    ];
    let (outcome, _) = run(&steps);
    assert_eq!(
        kinds(&outcome),
        [
            FindingKind::StarttlsAbsent,
            FindingKind::PlaintextCredentials,
            FindingKind::PlaintextCredentials,
        ]
    );
    assert_eq!(outcome.findings[2].evidence[0].text, "PASS");
    let absent: Vec<&str> = outcome.findings[0]
        .evidence
        .iter()
        .map(|e| e.text.as_str())
        .collect();
    assert_eq!(absent, ["USER", "UIDL", "USER"]);
    assert_eq!(outcome.findings[0].evidence[0].at.side, Server);
    assert_eq!(outcome.findings[0].evidence[2].at.side, Client);
}

#[test]
fn pop3_stls_refused_and_garbled() {
    let steps: [(Side, &[u8]); 5] = [
        (Server, b"+OK POP3 ready\r\n"),
        (Client, b"CAPA\r\n"),
        (Server, b"+OK\r\nUSER\r\nXXXX\r\n.\r\n"),
        (Client, b"STLS\r\n"),
        (Server, b"-ERR command not recognised\r\n"),
    ];
    let (outcome, _) = run(&steps);
    assert_eq!(
        kinds(&outcome),
        [
            FindingKind::StarttlsGarbled(Garble::Overwritten),
            FindingKind::StarttlsRefused,
        ]
    );
}

#[test]
fn ftp_auth_tls_used() {
    let mut client = b"AUTH TLS\r\n".to_vec();
    client.extend_from_slice(CLIENT_HELLO);
    let steps: [(Side, &[u8]); 5] = [
        (Server, b"220-Welcome\r\n220 FTP server ready\r\n"),
        (Client, b"FEAT\r\n"),
        (
            Server,
            b"211-Features:\r\n MDTM\r\n AUTH TLS;SSL\r\n UTF8\r\n211 End\r\n",
        ),
        (Server, b"234 Proceed with negotiation.\r\n"),
        (Client, &client),
    ];
    let (outcome, progress) = run(&steps);
    assert_eq!(outcome.protocol, Some(Preamble::Ftp));
    assert!(outcome.findings.is_empty(), "{:?}", outcome.findings);
    assert!(outcome.starttls.offered);
    assert_eq!(outcome.capabilities, [" MDTM", " AUTH TLS;SSL", " UTF8"]);
    assert_eq!(tls_at(&progress, 4), Some((16, 10)));
}

#[test]
fn ftp_refused_then_login() {
    let steps: [(Side, &[u8]); 4] = [
        (Server, b"220 FTP ready\r\n"),
        (Client, b"AUTH TLS\r\n"),
        (Server, b"530 Please login with USER and PASS.\r\n"),
        (Client, b"USER anonymous\r\nPASS secret\r\n"),
    ];
    let (outcome, _) = run(&steps);
    assert_eq!(
        kinds(&outcome),
        [
            FindingKind::StarttlsRefused,
            FindingKind::PlaintextCredentials,
            FindingKind::PlaintextCredentials,
        ]
    );
    assert_eq!(outcome.starttls.refused.unwrap().code, Some(530));
}

const XMPP_CLIENT_OPEN: &[u8] =
    b"<?xml version='1.0'?><stream:stream to='example.com' xmlns='jabber:client' \
      xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>";
const XMPP_SERVER_OPEN: &[u8] =
    b"<?xml version='1.0'?><stream:stream from='example.com' id='1' xmlns='jabber:client' \
      xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>";

#[test]
fn xmpp_starttls_used() {
    let mut client = b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>".to_vec();
    let request_len = client.len();
    client.extend_from_slice(CLIENT_HELLO);
    let features = b"<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'>\
        <required/></starttls><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>\
        <mechanism>PLAIN</mechanism></mechanisms></stream:features>";
    let steps: [(Side, &[u8]); 5] = [
        (Client, XMPP_CLIENT_OPEN),
        (Server, XMPP_SERVER_OPEN),
        (Server, features),
        (Client, &client),
        (
            Server,
            b"<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>",
        ),
    ];
    let (outcome, progress) = run(&steps);
    assert_eq!(outcome.protocol, Some(Preamble::Xmpp));
    assert!(outcome.findings.is_empty(), "{:?}", outcome.findings);
    assert!(outcome.starttls.offered);
    assert_eq!(outcome.capabilities.len(), 2);
    assert!(outcome.capabilities[0].starts_with("<starttls "));
    assert!(
        outcome
            .greeting
            .unwrap()
            .text
            .starts_with("<stream:stream from=")
    );
    let start = (XMPP_CLIENT_OPEN.len() + request_len) as u64;
    assert_eq!(tls_at(&progress, 3), Some((start, request_len)));
    assert!(outcome.starttls.accepted.is_some());
}

#[test]
fn xmpp_features_without_starttls() {
    let features = b"<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>\
        <mechanism>PLAIN</mechanism></mechanisms></stream:features>";
    let auth = b"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGFsaWNlAHNlY3JldA==</auth>";
    let steps: [(Side, &[u8]); 4] = [
        (Client, XMPP_CLIENT_OPEN),
        (Server, XMPP_SERVER_OPEN),
        (Server, features),
        (Client, auth),
    ];
    let (outcome, _) = run(&steps);
    assert_eq!(
        kinds(&outcome),
        [
            FindingKind::StarttlsAbsent,
            FindingKind::PlaintextCredentials
        ]
    );
    assert_eq!(outcome.findings[1].evidence[0].text, "auth mechanism=PLAIN");
}

#[test]
fn xmpp_failure_is_refusal() {
    let steps: [(Side, &[u8]); 4] = [
        (Client, XMPP_CLIENT_OPEN),
        (Server, XMPP_SERVER_OPEN),
        (
            Client,
            b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>",
        ),
        (
            Server,
            b"<failure xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:stream>",
        ),
    ];
    let (outcome, _) = run(&steps);
    assert_eq!(kinds(&outcome), [FindingKind::StarttlsRefused]);
}

#[test]
fn implicit_tls_from_first_byte() {
    let steps: [(Side, &[u8]); 2] = [(Client, CLIENT_HELLO), (Server, SERVER_HELLO)];
    let (outcome, progress) = run(&steps);
    assert!(outcome.implicit_tls);
    assert_eq!(outcome.protocol, None);
    assert_eq!(tls_at(&progress, 0), Some((0, 0)));
    assert_eq!(tls_at(&progress, 1), Some((0, 0)));
}

#[test]
fn garbage_greeting_is_not_applicable() {
    let garbage: Vec<u8> = (0..=255u8).cycle().take(5000).collect();
    let mut dialogue = Dialogue::new();
    let first = dialogue.feed(Server, &garbage);
    assert_eq!(first, Progress::Done);
    assert_eq!(dialogue.feed(Client, b"EHLO x\r\n"), Progress::Done);
    assert!(dialogue.is_done());
    let outcome = dialogue.into_outcome();
    assert_eq!(outcome.protocol, None);
    assert!(outcome.findings.is_empty());
    assert_eq!(outcome.counters.binary_lines, 1);
}

#[test]
fn garbage_after_greeting_is_counted() {
    let mut dialogue = Dialogue::new();
    dialogue.feed(Server, SMTP_GREETING);
    let garbage: Vec<u8> = (0..4000u32).map(|i| (i * 7919 % 251) as u8).collect();
    assert_eq!(dialogue.feed(Client, &garbage), Progress::Continue);
    assert_eq!(dialogue.feed(Server, &garbage), Progress::Continue);
    dialogue.end(Client);
    dialogue.end(Server);
    let outcome = dialogue.into_outcome();
    assert!(outcome.counters.binary_lines > 0);
    assert!(outcome.findings.is_empty(), "{:?}", outcome.findings);
}

#[test]
fn long_line_is_counted_and_skipped() {
    let limits = Limits {
        max_line_len: 64,
        ..Limits::default()
    };
    let mut dialogue = Dialogue::with_limits(limits);
    dialogue.feed(Server, SMTP_GREETING);
    dialogue.feed(Client, SMTP_EHLO);
    let mut long = b"250-mx.example.com\r\n250-".to_vec();
    long.extend(std::iter::repeat_n(b'A', 100));
    long.extend_from_slice(b"\r\n250 STARTTLS\r\n");
    // Split the long line over calls, as TCP segments would.
    dialogue.feed(Server, &long[..30]);
    dialogue.feed(Server, &long[30..]);
    let outcome = dialogue.outcome();
    assert_eq!(outcome.counters.long_lines, 1);
    // The greeting and two capability lines; the long line is not handed on.
    assert_eq!(outcome.counters.server_lines, 3);
    assert!(outcome.starttls.offered);
}

#[test]
fn default_limit_skips_lines_over_8_kib() {
    let mut dialogue = Dialogue::new();
    dialogue.feed(Server, SMTP_GREETING);
    let mut long = vec![b'x'; 9000];
    long.extend_from_slice(b"\r\nEHLO me\r\n");
    dialogue.feed(Client, &long);
    dialogue.feed(Server, b"250-mx\r\n250 STARTTLS\r\n");
    let outcome = dialogue.outcome();
    assert_eq!(outcome.counters.long_lines, 1);
    assert!(outcome.starttls.offered);
}

#[test]
fn gap_in_capabilities_suppresses_absent() {
    let mut dialogue = Dialogue::new();
    dialogue.feed(Server, SMTP_GREETING);
    dialogue.feed(Client, SMTP_EHLO);
    dialogue.feed(Server, b"250-mx.example.com\r\n250-PIPEL");
    // The gap may have hidden STARTTLS.
    dialogue.gap(Server, 40);
    dialogue.feed(Server, b"ING\r\n250 8BITMIME\r\n");
    dialogue.feed(Client, b"MAIL FROM:<a@example.com>\r\n");
    let outcome = dialogue.into_outcome();
    assert_eq!(kinds(&outcome), [FindingKind::PlaintextMail]);
    assert_eq!(outcome.counters.gaps, 1);
    assert_eq!(outcome.counters.gap_bytes, 40);
    assert_eq!(outcome.counters.lines_cut_by_gap, 1);
}

#[test]
fn gap_keeps_offsets() {
    let mut dialogue = Dialogue::new();
    dialogue.feed(Server, SMTP_GREETING);
    dialogue.gap(Client, 100);
    dialogue.feed(Client, b"tail of a lost line\r\nAUTH PLAIN x\r\n");
    let outcome = dialogue.into_outcome();
    let finding = outcome
        .findings_of(FindingKind::PlaintextCredentials)
        .next()
        .unwrap();
    assert_eq!(finding.evidence[0].at.offset, 121);
}

#[test]
fn gap_while_testing_for_tls_ends_side() {
    let mut dialogue = Dialogue::new();
    dialogue.feed(Server, SMTP_GREETING);
    dialogue.feed(Client, b"EHLO me\r\nSTARTTLS\r\n");
    dialogue.feed(Client, &CLIENT_HELLO[..3]);
    dialogue.gap(Client, 500);
    assert_eq!(dialogue.feed(Client, b"AUTH PLAIN x\r\n"), Progress::Done);
    assert!(dialogue.outcome().findings.is_empty());
}

#[test]
fn truncated_dialogue_is_counted() {
    let mut dialogue = Dialogue::new();
    dialogue.feed(Server, b"+OK ready\r\n");
    dialogue.feed(Client, b"CAPA\r\n");
    dialogue.feed(Server, b"+OK\r\nUSER\r\nST");
    dialogue.feed(Client, b"USER ali");
    dialogue.end(Server);
    dialogue.end(Client);
    let outcome = dialogue.into_outcome();
    assert_eq!(outcome.counters.truncated_lines, 2);
    // The capability list never ended, so nothing proves STLS missing.
    assert_eq!(kinds(&outcome), [FindingKind::PlaintextCredentials]);
}

#[test]
fn every_split_gives_same_outcome() {
    let client = [&b"EHLO me\r\nSTARTTLS\r\n"[..], CLIENT_HELLO].concat();
    let server = [
        SMTP_GREETING,
        b"250-mx\r\n250 STARTTLS\r\n220 go\r\n",
        SERVER_HELLO,
    ]
    .concat();
    let (whole, _) = run(&[(Server, &server), (Client, &client)]);
    for cut in 0..client.len() {
        let mut dialogue = Dialogue::new();
        dialogue.feed(Server, &server);
        let first = dialogue.feed(Client, &client[..cut]);
        let second = dialogue.feed(Client, &client[cut..]);
        let handoff = match (first, second) {
            (Progress::Tls(h), _) => h,
            (_, Progress::Tls(h)) => h,
            other => panic!("cut {cut}: no TLS start: {other:?}"),
        };
        assert_eq!(handoff.offset, 19, "cut {cut}");
        dialogue.end(Client);
        dialogue.end(Server);
        assert_eq!(dialogue.into_outcome(), whole, "cut {cut}");
    }
}

#[test]
fn arbitrary_bytes_never_panic() {
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let alphabet: &[&[u8]] = &[
        b"\r\n",
        b"250-",
        b"250 ",
        b"220 ",
        b"STARTTLS",
        b"* OK ",
        b"+OK",
        b"-ERR",
        b"{5}",
        b"<",
        b">",
        b"/>",
        b"<stream:features>",
        b"AUTH ",
        b"\x16\x03\x01",
        b"\x00",
        b"\xff",
        b"a1 ",
        b"BDAT 3",
        b"DATA\r\n",
        b".\r\n",
        b"+ ",
    ];
    for _ in 0..300 {
        let mut dialogue = Dialogue::with_limits(Limits {
            max_line_len: 32,
            max_capabilities: 2,
            max_findings: 3,
            ..Limits::default()
        });
        for _ in 0..60 {
            let side = if next() % 2 == 0 { Client } else { Server };
            match next() % 10 {
                0 => dialogue.gap(side, next() % 50),
                1 => dialogue.end(side),
                _ => {
                    let pick = (next() % alphabet.len() as u64) as usize;
                    dialogue.feed(side, alphabet[pick]);
                }
            }
        }
        let outcome = dialogue.into_outcome();
        assert!(outcome.findings.len() <= 3);
        assert!(outcome.capabilities.len() <= 2);
    }
}

#[test]
fn many_garbled_lines_stay_bounded() {
    let limits = Limits {
        max_findings: 4,
        max_capabilities: 8,
        ..Limits::default()
    };
    let mut dialogue = Dialogue::with_limits(limits);
    dialogue.feed(Server, SMTP_GREETING);
    dialogue.feed(Client, SMTP_EHLO);
    dialogue.feed(Server, b"250-mx\r\n");
    for _ in 0..1000 {
        dialogue.feed(Server, b"250-XXXXXXXA\r\n");
    }
    dialogue.feed(Server, b"250 8BITMIME\r\n");
    let outcome = dialogue.into_outcome();
    assert_eq!(outcome.findings.len(), 4);
    assert_eq!(outcome.capabilities.len(), 8);
    assert_eq!(outcome.counters.capabilities_dropped, 993);
    assert_eq!(outcome.counters.findings_dropped, 996);
}

/// Checks that the dialogue reports an accepted STARTTLS that the client
/// never started, quoting `acceptance` and then `command`, followed by the
/// credentials it sent in plaintext.
fn assert_not_started(steps: &[(Side, &[u8])], acceptance: &str, command: &str) {
    let (outcome, _) = run(steps);
    assert_eq!(
        kinds(&outcome),
        [
            FindingKind::StarttlsNotStarted,
            FindingKind::PlaintextCredentials
        ]
    );
    assert!(outcome.is_stripped());
    assert!(outcome.starttls.accepted.is_some());
    assert_eq!(outcome.client_tls_offset, None);
    let evidence = &outcome.findings[0].evidence;
    assert_eq!(evidence.len(), 2);
    assert_eq!(evidence[0].text, acceptance);
    assert_eq!(evidence[0].at.side, Server);
    assert_eq!(evidence[1].text, command);
    assert_eq!(evidence[1].at.side, Client);
}

#[test]
fn smtp_auth_after_accepted_starttls() {
    let steps: [(Side, &[u8]); 6] = [
        (Server, SMTP_GREETING),
        (Client, SMTP_EHLO),
        (Server, SMTP_CAPABILITIES),
        (Client, b"STARTTLS\r\n"),
        (Server, b"220 2.0.0 Ready to start TLS\r\n"),
        (Client, b"AUTH PLAIN AHVzZXIAc2VjcmV0\r\n"),
    ];
    assert_not_started(&steps, "220 2.0.0 Ready to start TLS", "AUTH PLAIN");
}

#[test]
fn imap_login_after_accepted_starttls() {
    let steps: [(Side, &[u8]); 4] = [
        (Server, IMAP_GREETING),
        (Client, b"a1 STARTTLS\r\n"),
        (Server, b"a1 OK Begin TLS negotiation now\r\n"),
        (Client, b"a2 LOGIN alice secret\r\n"),
    ];
    assert_not_started(&steps, "a1 OK Begin TLS negotiation now", "LOGIN");
}

#[test]
fn pop3_user_after_accepted_stls() {
    let steps: [(Side, &[u8]); 4] = [
        (Server, b"+OK POP3 ready\r\n"),
        (Client, b"STLS\r\n"),
        (Server, b"+OK Begin TLS\r\n"),
        (Client, b"USER alice\r\n"),
    ];
    assert_not_started(&steps, "+OK Begin TLS", "USER");
}

#[test]
fn ftp_user_after_accepted_auth_tls() {
    let steps: [(Side, &[u8]); 4] = [
        (Server, b"220 FTP server ready\r\n"),
        (Client, b"AUTH TLS\r\n"),
        (Server, b"234 Proceed with negotiation.\r\n"),
        (Client, b"USER anonymous\r\n"),
    ];
    assert_not_started(&steps, "234 Proceed with negotiation.", "USER");
}

#[test]
fn xmpp_auth_after_proceed() {
    let features = b"<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>\
        </stream:features>";
    let auth = b"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>\
        AGFsaWNlAHNlY3JldA==</auth>";
    let steps: [(Side, &[u8]); 6] = [
        (Client, XMPP_CLIENT_OPEN),
        (Server, XMPP_SERVER_OPEN),
        (Server, features),
        (
            Client,
            b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>",
        ),
        (
            Server,
            b"<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>",
        ),
        (Client, auth),
    ];
    assert_not_started(
        &steps,
        "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>",
        "auth mechanism=PLAIN",
    );
}

#[test]
fn accepted_then_tls_is_not_finding() {
    let steps: [(Side, &[u8]); 4] = [
        (Server, IMAP_GREETING),
        (Client, b"a1 STARTTLS\r\n"),
        (Server, b"a1 OK Begin TLS negotiation now\r\n"),
        (Client, CLIENT_HELLO),
    ];
    let (outcome, _) = run(&steps);
    assert!(outcome.findings.is_empty(), "{:?}", outcome.findings);
    assert!(!outcome.is_stripped());
    assert_eq!(outcome.client_tls_offset, Some(13));
}
