//! Finding where TLS starts in a TCP stream, and naming what came before it.
//!
//! TLS is found by content, on any port: a side's bytes are searched for a
//! plausible first record, either at byte 0 or after a plaintext exchange
//! such as SMTP STARTTLS, an HTTP CONNECT tunnel or a PostgreSQL
//! SSLRequest. The side that sends a ClientHello (or an SSL 2.0
//! CLIENT-HELLO) is the client. [`classify_preamble`] names the plaintext
//! protocol from the bytes that preceded the start on each side.

// Parsers must not panic on any input: no indexing, unchecked arithmetic or unwrap.
#![warn(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use crate::record::MAX_RECORD_LEN;

/// The set of patterns that [`find_start`] looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Only the first record a client sends.
    Client,
    /// Only the first record a server sends.
    Server,
    /// Either, because neither side has been identified yet.
    Either,
}

/// The kind of first record found by [`find_start`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartKind {
    /// A TLS handshake record that begins with a ClientHello.
    ClientHello,
    /// An SSL 2.0 record with a CLIENT-HELLO, possibly offering TLS versions.
    Sslv2ClientHello,
    /// A TLS handshake record that begins with a ServerHello.
    ServerHello,
    /// A TLS alert record in the clear, sent by a server that rejects the hello.
    Alert,
    /// An SSL 2.0 record with a SERVER-HELLO.
    Sslv2ServerHello,
}

impl StartKind {
    /// True when the record was sent by the client.
    pub const fn is_client(self) -> bool {
        matches!(self, Self::ClientHello | Self::Sslv2ClientHello)
    }

    /// True when the record uses SSL 2.0 framing.
    pub const fn is_sslv2(self) -> bool {
        matches!(self, Self::Sslv2ClientHello | Self::Sslv2ServerHello)
    }
}

/// A first record located by [`find_start`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Start {
    /// Index of the record's first header byte in the searched slice.
    pub offset: usize,
    /// The record's kind.
    pub kind: StartKind,
}

/// Result of [`find_start`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Search {
    /// A plausible first record.
    Found(Start),
    /// No start yet, but the bytes from this index on could still begin one
    /// once more data arrives. Earlier indexes are ruled out.
    Pending(usize),
    /// No index of the slice can begin a start, whatever follows.
    NotFound,
}

/// The plaintext protocol that ran before TLS started on a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Preamble {
    /// SMTP STARTTLS (RFC 3207).
    Smtp,
    /// IMAP STARTTLS (RFC 9051 section 6.2.1).
    Imap,
    /// POP3 STLS (RFC 2595 section 4).
    Pop3,
    /// FTP AUTH TLS or AUTH SSL (RFC 4217).
    Ftp,
    /// XMPP `<starttls/>` (RFC 6120 section 5).
    Xmpp,
    /// IRC STARTTLS (IRCv3 `tls` extension, reply 670).
    Irc,
    /// LDAP StartTLS extended request, OID 1.3.6.1.4.1.1466.20037 (RFC 4511 section 4.14).
    Ldap,
    /// NNTP STARTTLS (RFC 4642).
    Nntp,
    /// An HTTP CONNECT tunnel (RFC 9110 section 9.3.6).
    HttpConnect,
    /// A SOCKS4 or SOCKS4a CONNECT request.
    Socks4,
    /// A SOCKS5 negotiation (RFC 1928).
    Socks5,
    /// A MySQL server greeting followed by the client's SSL request.
    MySql,
    /// A PostgreSQL SSLRequest accepted with `S`.
    Postgres,
    /// Bytes that match none of the protocols above.
    Unknown,
}

/// Smallest ClientHello body: version, random, empty session id, one cipher
/// suite and one compression method (RFC 5246 section 7.4.1.2).
const MIN_CLIENT_HELLO_LEN: u32 = 41;

/// Smallest ServerHello body: version, random and cipher suite, as in the
/// TLS 1.3 drafts, which dropped the session id and compression method.
const MIN_SERVER_HELLO_LEN: u32 = 38;

/// Largest ClientHello body that the length fields allow: 2 + 32 + 33 plus
/// three vectors with 16-bit or 8-bit lengths (RFC 5246 section 7.4.1.2).
const MAX_CLIENT_HELLO_LEN: u32 = 2 + 32 + 33 + (2 + 0xffff) + (1 + 0xff) + (2 + 0xffff);

/// Largest ServerHello body: version, random, session id, suite,
/// compression method and extensions (RFC 5246 section 7.4.1.3).
const MAX_SERVER_HELLO_LEN: u32 = 2 + 32 + 33 + 2 + 1 + (2 + 0xffff);

/// PostgreSQL SSLRequest: length 8 and request code 80877103 (PostgreSQL
/// protocol documentation, "SSL Session Encryption").
const POSTGRES_SSL_REQUEST: [u8; 8] = [0x00, 0x00, 0x00, 0x08, 0x04, 0xd2, 0x16, 0x2f];

/// Object identifier of the LDAP StartTLS extended operation, as it appears
/// in the request (RFC 4511 section 4.14.1).
const LDAP_STARTTLS_OID: &[u8] = b"1.3.6.1.4.1.1466.20037";

/// MySQL capability flag CLIENT_SSL (0x0800) in the client's first packet.
const MYSQL_CLIENT_SSL: u32 = 0x0800;

/// Outcome of testing one position. `Err` means the slice ended too early.
type Probe = Result<bool, NeedMore>;

/// One pattern of [`probe`]: whether it applies, what it finds, its test.
type Check = (bool, StartKind, fn(&[u8]) -> Probe);

/// Marker for a test that ran out of bytes.
#[derive(Debug, Clone, Copy)]
struct NeedMore;

fn byte(data: &[u8], index: usize) -> Result<u8, NeedMore> {
    data.get(index).copied().ok_or(NeedMore)
}

fn be16(data: &[u8], index: usize) -> Result<u16, NeedMore> {
    let high = byte(data, index)?;
    let low = byte(data, index.saturating_add(1))?;
    Ok(u16::from_be_bytes([high, low]))
}

fn be24(data: &[u8], index: usize) -> Result<u32, NeedMore> {
    let high = byte(data, index)?;
    let low = be16(data, index.saturating_add(1))?;
    Ok(u32::from(high) << 16 | u32::from(low))
}

/// Searches `data` for the first plausible TLS or SSL 2.0 start of a side.
///
/// Checks every index in order and returns the first match, or the first
/// index where the slice ends before the checks can decide. The checks are
/// those of [`StartKind`]'s variants, and `role` selects which apply.
pub fn find_start(data: &[u8], role: Role) -> Search {
    let filter = Prefilter::new(role);
    let mut from = 0;
    while let Some(offset) = filter.next_candidate(data, from) {
        let Some(window) = data.get(offset..) else {
            break;
        };
        match probe(window, role) {
            Ok(Some(kind)) => return Search::Found(Start { offset, kind }),
            Ok(None) => {}
            Err(NeedMore) => return Search::Pending(offset),
        }
        from = offset.saturating_add(1);
    }
    Search::NotFound
}

/// Tests only index 0 of `data`: what [`find_start`] would report if a start
/// or a pending start began there, else [`Search::NotFound`].
pub(crate) fn start_at(data: &[u8], role: Role) -> Search {
    match probe(data, role) {
        Ok(Some(kind)) => Search::Found(Start { offset: 0, kind }),
        Ok(None) => Search::NotFound,
        Err(NeedMore) => Search::Pending(0),
    }
}

/// Positions tested together by [`Prefilter::next_candidate`].
const BLOCK: usize = 32;

/// Bytes a position needs for the prefilter to decide without the end of
/// the data: [`probe`] reads the SSL 2.0 version in bytes 3 and 4 together.
const LOOKAHEAD: usize = 5;

/// Bytes read per block: its positions plus the lookahead of the last one.
const BLOCK_SPAN: usize = BLOCK + LOOKAHEAD - 1;

/// A test on the first four bytes of a position that rules out almost every
/// index where no check of [`probe`] can succeed or run out of bytes.
///
/// Every TLS pattern needs the handshake (22) or alert (21) content type in
/// byte 0 and major version 3 in byte 1. Every SSL 2.0 pattern needs the
/// high bit of byte 0 (the two-byte header) and a message type in byte 2.
/// A CLIENT-HELLO (1) then has version 0x0002 or 0x03NN, so byte 3 is 0 or
/// 3, and a SERVER-HELLO (4) has a session-id-hit flag of 0 or 1 in byte 3.
/// At any other index [`probe`] returns `Ok(None)` once it has read these
/// bytes, so skipping that index changes no result. Where a byte the checks
/// read lies past the end of the data, the index passes, because [`probe`]
/// reports there that it needs more bytes.
#[derive(Debug, Clone, Copy)]
struct Prefilter {
    /// Content type 21 can start a side: only a server sends a first alert.
    alert: bool,
    /// SSL 2.0 message type of a client start, or 0 when clients are not searched for.
    sslv2_client: u8,
    /// SSL 2.0 message type of a server start, or 0 when servers are not searched for.
    sslv2_server: u8,
}

impl Prefilter {
    fn new(role: Role) -> Self {
        let client = role != Role::Server;
        let server = role != Role::Client;
        Self {
            alert: server,
            sslv2_client: if client { 1 } else { 0 },
            sslv2_server: if server { 4 } else { 0 },
        }
    }

    /// True when a start may begin at the first byte of `window`. A byte
    /// past the end of `window` may still complete a start, so it passes.
    fn may_start(self, window: &[u8]) -> bool {
        let Some(&first) = window.first() else {
            return false;
        };
        let later = |index: usize, test: fn(u8) -> bool| window.get(index).is_none_or(|&b| test(b));
        if first == 22 || (self.alert && first == 21) {
            return later(1, |major| major == 3);
        }
        if first & 0x80 == 0 {
            return false;
        }
        match window.get(2) {
            None => true,
            // Type 0 is not an SSL 2.0 message type, so a disabled role never matches.
            Some(&0) => false,
            // The version check reads bytes 3 and 4 together, so it needs both.
            Some(&kind) if kind == self.sslv2_client => {
                window.len() < LOOKAHEAD || matches!(window.get(3), Some(0 | 3))
            }
            Some(&kind) if kind == self.sslv2_server => later(3, |hit| hit <= 1),
            Some(_) => false,
        }
    }

    /// True when [`Prefilter::may_start`] holds at some position of the
    /// block. The loop has no branches, so that it compiles to vector
    /// instructions.
    fn block_may_start(self, block: &[u8; BLOCK_SPAN]) -> bool {
        let lane = |shift: usize| block.get(shift..).and_then(<[u8]>::first_chunk::<BLOCK>);
        let (Some(byte0), Some(byte1), Some(byte2), Some(byte3)) =
            (lane(0), lane(1), lane(2), lane(3))
        else {
            // Unreachable for a block of BLOCK_SPAN bytes. Returning true
            // sends the block to the exact test, which is always correct.
            return true;
        };
        let alert = if self.alert { 21 } else { 22 };
        let bytes = byte0.iter().zip(byte1).zip(byte2).zip(byte3);
        let hits = bytes.fold(0u8, |hits, (((&b0, &b1), &b2), &b3)| {
            let tls = ((b0 == 22) | (b0 == alert)) & (b1 == 3);
            let client = (b2 == self.sslv2_client) & ((b3 == 0) | (b3 == 3));
            let server = (b2 == self.sslv2_server) & (b3 <= 1);
            let sslv2 = (b0 & 0x80 != 0) & (b2 != 0) & (client | server);
            hits | u8::from(tls | sslv2)
        });
        hits != 0
    }

    /// Returns the first index in `from..end` where a start may begin.
    fn first_in(self, data: &[u8], from: usize, end: usize) -> Option<usize> {
        (from..end).find(|&index| self.may_start(data.get(index..).unwrap_or_default()))
    }

    /// Returns the first index from `from` on where a start may begin.
    fn next_candidate(self, data: &[u8], from: usize) -> Option<usize> {
        let mut at = from;
        // Whole blocks are tested at once first. Candidates are rare in
        // text and ciphertext alike, so most blocks are skipped whole.
        while let Some(block) = data.get(at..).and_then(<[u8]>::first_chunk::<BLOCK_SPAN>) {
            let end = at.saturating_add(BLOCK);
            if self.block_may_start(block)
                && let Some(found) = self.first_in(data, at, end)
            {
                return Some(found);
            }
            at = end;
        }
        // Fewer than BLOCK_SPAN bytes are left, so the end of the data is near.
        self.first_in(data, at, data.len())
    }
}

/// Tests one position for every pattern of `role`. A pattern that needs more
/// bytes wins over later patterns, so that the decision is never premature.
fn probe(data: &[u8], role: Role) -> Result<Option<StartKind>, NeedMore> {
    let client = role != Role::Server;
    let server = role != Role::Client;
    let checks: [Check; 5] = [
        (client, StartKind::ClientHello, is_client_hello),
        (client, StartKind::Sslv2ClientHello, is_sslv2_client_hello),
        (server, StartKind::ServerHello, is_server_hello),
        (server, StartKind::Alert, is_alert),
        (server, StartKind::Sslv2ServerHello, is_sslv2_server_hello),
    ];
    let mut need_more = false;
    for (enabled, kind, check) in checks {
        if !enabled {
            continue;
        }
        match check(data) {
            Ok(true) if !need_more => return Ok(Some(kind)),
            Ok(_) => {}
            Err(NeedMore) => need_more = true,
        }
    }
    if need_more { Err(NeedMore) } else { Ok(None) }
}

/// Checks a TLS record header: content type, version 0x0300..=0x0304 and a
/// length of at least `min_len` and at most [`MAX_RECORD_LEN`].
fn is_tls_header(data: &[u8], content_type: u8, min_len: usize) -> Probe {
    if byte(data, 0)? != content_type || byte(data, 1)? != 3 || byte(data, 2)? > 4 {
        return Ok(false);
    }
    let length = usize::from(be16(data, 3)?);
    Ok((min_len..=MAX_RECORD_LEN).contains(&length))
}

/// Tests for a handshake record starting with a ClientHello whose length
/// fits the record exactly or continues into later records, and whose
/// `legacy_version` is SSL 3.0 to TLS 1.3.
fn is_client_hello(data: &[u8]) -> Probe {
    if !is_tls_header(data, 22, 4)? || byte(data, 5)? != 1 {
        return Ok(false);
    }
    let record_len = u32::from(be16(data, 3)?);
    let hello_len = be24(data, 6)?;
    if !(MIN_CLIENT_HELLO_LEN..=MAX_CLIENT_HELLO_LEN).contains(&hello_len) {
        return Ok(false);
    }
    // A record shorter than 4 + hello_len continues the hello in the next
    // record, while a longer one would put other data after the hello.
    if hello_len.saturating_add(4) < record_len {
        return Ok(false);
    }
    Ok(byte(data, 9)? == 3 && byte(data, 10)? <= 4)
}

/// Tests for a handshake record starting with a ServerHello. Later handshake
/// messages may share the record, so only the upper bound of the length is
/// checked.
fn is_server_hello(data: &[u8]) -> Probe {
    if !is_tls_header(data, 22, 4)? || byte(data, 5)? != 2 {
        return Ok(false);
    }
    let hello_len = be24(data, 6)?;
    if !(MIN_SERVER_HELLO_LEN..=MAX_SERVER_HELLO_LEN).contains(&hello_len) {
        return Ok(false);
    }
    // TLS 1.3 drafts put 0x7fNN (IETF) or 0xfbNN (Facebook) here.
    let major = byte(data, 9)?;
    let minor = byte(data, 10)?;
    Ok((major == 3 && minor <= 4) || major == 0x7f || major == 0xfb)
}

/// Tests for a two-byte alert record in the clear with level warning (1) or fatal (2).
fn is_alert(data: &[u8]) -> Probe {
    if !is_tls_header(data, 21, 2)? || be16(data, 3)? != 2 {
        return Ok(false);
    }
    Ok(matches!(byte(data, 5)?, 1 | 2))
}

/// Reads an SSL 2.0 two-byte record header (high bit set) and returns the
/// record length. Three-byte headers are not accepted as a start, because
/// hellos carry no padding and the short header form makes text look like
/// records.
fn sslv2_short_header(data: &[u8]) -> Result<Option<usize>, NeedMore> {
    let first = byte(data, 0)?;
    if first & 0x80 == 0 {
        return Ok(None);
    }
    let length = usize::from(u16::from_be_bytes([first & 0x7f, byte(data, 1)?]));
    Ok(Some(length))
}

/// Tests for an SSL 2.0 CLIENT-HELLO whose cipher-spec, session-id and challenge
/// lengths add up to the record length (SSL 2.0 draft, "Client Only
/// Protocol Messages").
fn is_sslv2_client_hello(data: &[u8]) -> Probe {
    let Some(record_len) = sslv2_short_header(data)? else {
        return Ok(false);
    };
    if byte(data, 2)? != 1 {
        return Ok(false);
    }
    let version = be16(data, 3)?;
    if version != 0x0002 && !(0x0300..=0x0304).contains(&version) {
        return Ok(false);
    }
    let specs = usize::from(be16(data, 5)?);
    let session_id = usize::from(be16(data, 7)?);
    let challenge = usize::from(be16(data, 9)?);
    if specs == 0 || specs % 3 != 0 || session_id > 32 || !(16..=32).contains(&challenge) {
        return Ok(false);
    }
    Ok(specs
        .saturating_add(session_id)
        .saturating_add(challenge)
        .saturating_add(9)
        == record_len)
}

/// Tests for an SSL 2.0 SERVER-HELLO whose certificate, cipher-spec and connection-id
/// lengths add up to the record length (SSL 2.0 draft, "Server Only
/// Protocol Messages").
fn is_sslv2_server_hello(data: &[u8]) -> Probe {
    let Some(record_len) = sslv2_short_header(data)? else {
        return Ok(false);
    };
    if byte(data, 2)? != 4 || byte(data, 3)? > 1 || byte(data, 4)? > 2 {
        return Ok(false);
    }
    if be16(data, 5)? != 0x0002 {
        return Ok(false);
    }
    let certificate = usize::from(be16(data, 7)?);
    let specs = usize::from(be16(data, 9)?);
    let connection_id = usize::from(be16(data, 11)?);
    if specs % 3 != 0 || !(16..=32).contains(&connection_id) {
        return Ok(false);
    }
    let total = certificate
        .saturating_add(specs)
        .saturating_add(connection_id);
    Ok(total.saturating_add(11) == record_len)
}

/// Names the plaintext protocol from the bytes that came before TLS.
///
/// `client` and `server` are the bytes each side sent before its first TLS
/// record (either may be empty). Binary handshakes are recognised by their
/// framing and text protocols by the command that requests TLS, and by the
/// server's replies where clients send the same command (SMTP, IRC and NNTP
/// all use a bare `STARTTLS`).
pub fn classify_preamble(client: &[u8], server: &[u8]) -> Preamble {
    let binary = [
        (is_postgres(client), Preamble::Postgres),
        (is_mysql(client, server), Preamble::MySql),
        (is_socks4(client, server), Preamble::Socks4),
        (is_socks5(client, server), Preamble::Socks5),
        (client.starts_with(b"CONNECT "), Preamble::HttpConnect),
        (contains(client, LDAP_STARTTLS_OID), Preamble::Ldap),
    ];
    if let Some((_, preamble)) = binary.into_iter().find(|(matched, _)| *matched) {
        return preamble;
    }
    classify_text(client, server)
}

fn classify_text(client: &[u8], server: &[u8]) -> Preamble {
    if contains_ignore_case(client, b"<starttls") || contains_ignore_case(server, b"<proceed") {
        return Preamble::Xmpp;
    }
    let commands: Vec<&[u8]> = lines(client).collect();
    let has_command = |expected: &[u8]| commands.iter().any(|line| eq_ignore_case(line, expected));
    if has_command(b"AUTH TLS") || has_command(b"AUTH SSL") || has_command(b"AUTH TLS-C") {
        return Preamble::Ftp;
    }
    if has_command(b"STLS") {
        return Preamble::Pop3;
    }
    if commands.iter().any(|line| is_imap_starttls(line)) {
        return Preamble::Imap;
    }
    if has_command(b"STARTTLS") {
        return classify_bare_starttls(&commands, server);
    }
    Preamble::Unknown
}

/// Tells SMTP, IRC and NNTP apart by the server's numeric replies. IRC
/// servers prefix lines with `:server` and reply 670 to STARTTLS, NNTP
/// servers greet with 200 or 201 and reply 382, SMTP servers greet with 220.
fn classify_bare_starttls(commands: &[&[u8]], server: &[u8]) -> Preamble {
    let replies: Vec<&[u8]> = lines(server).collect();
    let irc_command = |line: &&[u8]| {
        ["NICK ", "USER ", "CAP "]
            .iter()
            .any(|verb| starts_with_ignore_case(line, verb.as_bytes()))
    };
    if replies
        .iter()
        .any(|line| line.starts_with(b":") && contains(line, b" 670 "))
        || commands.iter().any(irc_command)
    {
        return Preamble::Irc;
    }
    let reply_code = |code: &[u8]| replies.iter().any(|line| line.starts_with(code));
    if reply_code(b"382") || replies.first().is_some_and(|l| l.starts_with(b"200 ")) {
        return Preamble::Nntp;
    }
    if replies.first().is_some_and(|l| l.starts_with(b"201 ")) {
        return Preamble::Nntp;
    }
    let smtp_command = |line: &&[u8]| {
        starts_with_ignore_case(line, b"EHLO") || starts_with_ignore_case(line, b"HELO")
    };
    if reply_code(b"220") || commands.iter().any(smtp_command) {
        return Preamble::Smtp;
    }
    Preamble::Unknown
}

/// Tests for an IMAP command line `<tag> STARTTLS`, where the tag is one atom.
fn is_imap_starttls(line: &[u8]) -> bool {
    let mut words = line.split(|&b| b == b' ');
    let (Some(tag), Some(command), None) = (words.next(), words.next(), words.next()) else {
        return false;
    };
    !tag.is_empty() && eq_ignore_case(command, b"STARTTLS")
}

fn is_postgres(client: &[u8]) -> bool {
    // A client may first try GSSAPI encryption (code 80877104), get `N`,
    // and only then send the SSLRequest, so the request is searched for.
    contains(client, &POSTGRES_SSL_REQUEST)
}

/// Tests for a MySQL protocol-10 server greeting, or a client SSL request (a
/// 32-byte packet with sequence number 1 and the CLIENT_SSL capability).
fn is_mysql(client: &[u8], server: &[u8]) -> bool {
    let greeting = server.get(3..5) == Some(&[0x00, 0x0a]) && server.len() > 5;
    let request = match (client.get(..4), client.get(4..8)) {
        (Some(&[0x20, 0x00, 0x00, 0x01]), Some(&[a, b, c, d])) => {
            u32::from_le_bytes([a, b, c, d]) & MYSQL_CLIENT_SSL != 0
        }
        _ => false,
    };
    request || (greeting && client.get(3) == Some(&0x01))
}

/// Tests for a SOCKS4 request: version 4, command CONNECT (1) or BIND (2),
/// port, address, then a NUL-terminated user id. The reply starts with 0.
fn is_socks4(client: &[u8], server: &[u8]) -> bool {
    let request = matches!(client.get(..2), Some(&[4, 1 | 2]))
        && client.get(8..).is_some_and(|rest| rest.contains(&0));
    request && server.first().is_none_or(|&version| version == 0)
}

/// Tests for a SOCKS5 greeting: version 5, a method count and that many
/// methods. The reply is version 5 and the chosen method (RFC 1928 section 3).
fn is_socks5(client: &[u8], server: &[u8]) -> bool {
    let Some(&[5, count]) = client.get(..2) else {
        return false;
    };
    let methods_end = usize::from(count).saturating_add(2);
    count > 0 && client.len() >= methods_end && server.first().is_none_or(|&v| v == 5)
}

/// Splits text into lines without their CR LF or LF ending.
fn lines(text: &[u8]) -> impl Iterator<Item = &[u8]> {
    text.split(|&b| b == b'\n')
        .map(|line| line.strip_suffix(b"\r").unwrap_or(line))
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty()
        && haystack
            .windows(needle.len())
            .any(|window| window == needle)
}

fn contains_ignore_case(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty()
        && haystack
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
}

fn eq_ignore_case(line: &[u8], expected: &[u8]) -> bool {
    line.trim_ascii().eq_ignore_ascii_case(expected)
}

fn starts_with_ignore_case(line: &[u8], prefix: &[u8]) -> bool {
    line.get(..prefix.len())
        .is_some_and(|start| start.eq_ignore_ascii_case(prefix))
}

#[cfg(test)]
#[allow(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::unwrap_used
)]
mod tests {
    use super::*;

    /// A ClientHello record header, handshake header and version, with a
    /// hello body of `hello_len` bytes in a record of `record_len` bytes.
    fn hello_start(msg_type: u8, record_len: u16, hello_len: u32) -> Vec<u8> {
        let mut out = vec![22, 3, 1];
        out.extend(record_len.to_be_bytes());
        out.push(msg_type);
        out.extend(&hello_len.to_be_bytes()[1..]);
        out.extend([3, 3]);
        out
    }

    #[test]
    fn client_hello_at_byte_zero() {
        let data = hello_start(1, 200, 196);
        let expected = Start {
            offset: 0,
            kind: StartKind::ClientHello,
        };
        assert_eq!(find_start(&data, Role::Either), Search::Found(expected));
    }

    #[test]
    fn client_hello_after_text() {
        let mut data = b"STARTTLS\r\n".to_vec();
        data.extend(hello_start(1, 200, 196));
        let expected = Start {
            offset: 10,
            kind: StartKind::ClientHello,
        };
        assert_eq!(find_start(&data, Role::Client), Search::Found(expected));
    }

    #[test]
    fn client_hello_split_over_records() {
        let data = hello_start(1, 100, 1800);
        assert!(matches!(find_start(&data, Role::Client), Search::Found(_)));
    }

    #[test]
    fn client_hello_shorter_than_record() {
        let data = hello_start(1, 300, 100);
        assert_eq!(find_start(&data, Role::Client), Search::NotFound);
    }

    #[test]
    fn partial_header_is_pending() {
        let mut data = b"220 ready\r\n".to_vec();
        data.extend(&hello_start(1, 200, 196)[..4]);
        assert_eq!(find_start(&data, Role::Either), Search::Pending(11));
    }

    #[test]
    fn server_role_skips_client_hello() {
        let data = hello_start(1, 200, 196);
        assert_eq!(find_start(&data, Role::Server), Search::NotFound);
    }

    #[test]
    fn server_hello_shares_record() {
        let data = hello_start(2, 4000, 81);
        let expected = Start {
            offset: 0,
            kind: StartKind::ServerHello,
        };
        assert_eq!(find_start(&data, Role::Server), Search::Found(expected));
    }

    #[test]
    fn client_role_skips_server_hello() {
        let data = hello_start(2, 4000, 81);
        assert_eq!(find_start(&data, Role::Client), Search::NotFound);
    }

    #[test]
    fn fatal_alert_is_server_start() {
        let data = [21, 3, 3, 0, 2, 2, 40];
        let expected = Start {
            offset: 0,
            kind: StartKind::Alert,
        };
        assert_eq!(find_start(&data, Role::Server), Search::Found(expected));
    }

    #[test]
    fn alert_with_bad_level_rejected() {
        let data = [21, 3, 3, 0, 2, 7, 40];
        assert_eq!(find_start(&data, Role::Server), Search::NotFound);
    }

    /// SSL 2.0 CLIENT-HELLO: 2 cipher specs, no session id, 16-byte challenge.
    fn sslv2_client_hello(record_len: u8) -> Vec<u8> {
        let mut data = vec![0x80, record_len, 1, 3, 1, 0, 6, 0, 0, 0, 16];
        data.extend([0x07, 0x00, 0xc0, 0x01, 0x00, 0x80]);
        data.extend([0x44; 16]);
        data
    }

    #[test]
    fn sslv2_client_hello_lengths_add_up() {
        let expected = Start {
            offset: 0,
            kind: StartKind::Sslv2ClientHello,
        };
        assert_eq!(
            find_start(&sslv2_client_hello(31), Role::Client),
            Search::Found(expected)
        );
    }

    #[test]
    fn sslv2_client_hello_length_mismatch() {
        assert_eq!(
            find_start(&sslv2_client_hello(40), Role::Client),
            Search::NotFound
        );
    }

    /// SSL 2.0 SERVER-HELLO: a 10-byte certificate, one cipher spec, 16-byte connection id.
    fn sslv2_server_hello() -> Vec<u8> {
        let mut data = vec![0x80, 11 + 10 + 3 + 16, 4, 0, 1, 0, 2, 0, 10, 0, 3, 0, 16];
        data.extend([0x30; 10]);
        data.extend([0x07, 0x00, 0xc0]);
        data.extend([0x55; 16]);
        data
    }

    #[test]
    fn sslv2_server_hello_found() {
        let data = sslv2_server_hello();
        let expected = Start {
            offset: 0,
            kind: StartKind::Sslv2ServerHello,
        };
        assert_eq!(find_start(&data, Role::Server), Search::Found(expected));
    }

    /// Searches as `find_start` did before the pre-filter, probing every index in order.
    fn probe_every_offset(data: &[u8], role: Role) -> Search {
        for offset in 0..data.len() {
            match probe(&data[offset..], role) {
                Ok(Some(kind)) => return Search::Found(Start { offset, kind }),
                Ok(None) => {}
                Err(NeedMore) => return Search::Pending(offset),
            }
        }
        Search::NotFound
    }

    /// Deterministic pseudo-random bytes (xorshift64), biased towards the
    /// bytes the pre-filter looks at so that near misses are common.
    fn noise(seed: u64, len: usize) -> Vec<u8> {
        const INTERESTING: [u8; 8] = [0x80, 0x81, 0xff, 1, 3, 4, 21, 22];
        let mut state = seed | 1;
        let mut out = Vec::with_capacity(len);
        for _ in 0..len {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let byte = (state >> 24) as u8;
            let pick = usize::from(byte) % 16;
            out.push(INTERESTING.get(pick).copied().unwrap_or(byte));
        }
        out
    }

    #[test]
    fn prefilter_agrees_on_noise() {
        for seed in 1..2000u64 {
            let data = noise(seed, (seed as usize * 7) % 200);
            for role in [Role::Client, Role::Server, Role::Either] {
                assert_eq!(
                    find_start(&data, role),
                    probe_every_offset(&data, role),
                    "seed {seed}, role {role:?}"
                );
            }
        }
    }

    #[test]
    fn prefilter_agrees_on_embedded_hellos() {
        let starts = [
            hello_start(1, 200, 196),
            hello_start(2, 4000, 81),
            vec![21, 3, 3, 0, 2, 2, 40],
            sslv2_client_hello(31),
            sslv2_server_hello(),
        ];
        for (seed, start) in (1u64..).zip(starts.iter().cycle().take(50)) {
            let mut data = noise(seed, 70 + seed as usize);
            let at = (seed as usize * 13) % data.len();
            data.splice(at..at, start.iter().copied());
            data.truncate(data.len() - (seed as usize % 5));
            for role in [Role::Client, Role::Server, Role::Either] {
                assert_eq!(
                    find_start(&data, role),
                    probe_every_offset(&data, role),
                    "seed {seed}, role {role:?}"
                );
            }
        }
    }

    #[test]
    fn high_bit_near_end_is_pending() {
        let mut data = vec![b'x'; 40];
        data.push(0x80);
        assert_eq!(find_start(&data, Role::Client), Search::Pending(40));
    }

    #[test]
    fn sslv2_type_mismatch_skipped() {
        let data = [0x80, 0x20, 4, 0, 2, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(find_start(&data, Role::Client), Search::NotFound);
    }

    #[test]
    fn start_at_ignores_later_start() {
        let mut data = b"x".to_vec();
        data.extend(hello_start(2, 4000, 81));
        assert_eq!(start_at(&data, Role::Server), Search::NotFound);
    }

    #[test]
    fn bare_starttls_with_irc_reply() {
        let server = b":irc.example.net 670 alice :STARTTLS successful\r\n";
        assert_eq!(classify_preamble(b"STARTTLS\r\n", server), Preamble::Irc);
    }

    #[test]
    fn bare_starttls_with_nntp_greeting() {
        let server = b"201 news.example.com ready (no posting)\r\n382 Continue\r\n";
        assert_eq!(classify_preamble(b"STARTTLS\r\n", server), Preamble::Nntp);
    }

    #[test]
    fn bare_starttls_with_smtp_greeting() {
        let server = b"220 mx.example.com ESMTP\r\n220 Go ahead\r\n";
        assert_eq!(classify_preamble(b"STARTTLS\r\n", server), Preamble::Smtp);
    }

    #[test]
    fn bare_starttls_without_replies() {
        assert_eq!(classify_preamble(b"STARTTLS\r\n", b""), Preamble::Unknown);
    }

    #[test]
    fn imap_tag_needs_one_atom() {
        assert!(is_imap_starttls(b"A7 starttls"));
        assert!(!is_imap_starttls(b"STARTTLS"));
        assert!(!is_imap_starttls(b"a b STARTTLS"));
    }

    #[test]
    fn empty_preamble_is_unknown() {
        assert_eq!(classify_preamble(b"", b""), Preamble::Unknown);
    }
}
