//! The STARTTLS analyser of one TCP flow: a `wiretrust-starttls` dialogue
//! fed the flow's octets, and the packets that carried them, so that the
//! record can name the packet of each quoted line.

use std::sync::Arc;

use wiretrust_starttls::{Dialogue, Progress};
use wiretrust_tcp::{FlowKey, SegmentMeta, Side};
use wiretrust_tls::start::{Preamble, Role, Search, find_start};

use crate::observations::{DialogueContext, Endpoint, StarttlsDialogue};

/// Segments remembered per side to name the packet of a quoted line. The
/// lines worth quoting come before TLS or the first mail command, a few
/// dozen segments into a dialogue.
// NOTE: lines that start after this many segments of their side are
// written without a packet number; their stream offset is still exact.
const MAX_SEGMENTS_PER_SIDE: usize = 512;

/// Octets a side may send before the dialogue names the protocol. Servers
/// greet and XMPP clients open their stream in the first line, so a flow
/// still unnamed after this many octets is given up, as the TLS decoder
/// gives up its search for a TLS start after 64 KiB.
const MAX_UNRECOGNISED_OCTETS: u64 = 64 * 1024;

/// The STARTTLS dialogue of one flow.
pub(crate) struct StarttlsFlow {
    dialogue: Dialogue,
    /// The capture's client side is the dialogue's server: the flow table
    /// took the side that spoke first for the client, but it sent a
    /// server greeting.
    swapped: bool,
    input: Arc<str>,
    stream: u64,
    /// The dialogue's client and server.
    client: Endpoint,
    server: Endpoint,
    /// Time of the first octet fed.
    first_ns: Option<i64>,
    /// Octets and gap octets per dialogue side (client, server): the
    /// stream offset of the next octet as the dialogue counts it.
    received: [u64; 2],
    /// (stream offset of the segment's first octet, packet) per dialogue
    /// side, in stream order.
    segments: [Vec<(u64, u64)>; 2],
    /// The protocol was not named within [`MAX_UNRECOGNISED_OCTETS`].
    given_up: bool,
    /// Octets and gap octets of both sides, including those fed after the
    /// dialogue stopped reading.
    octets: u64,
}

impl StarttlsFlow {
    /// Returns an analyser for a flow whose first octets, sent by `side`,
    /// are not a TLS handshake. Returns `None` when they are one, or may be
    /// one because the segment cut a record header short.
    pub(crate) fn choose(
        input: &Arc<str>,
        stream: u64,
        key: &FlowKey,
        side: Side,
        first: &[u8],
    ) -> Option<StarttlsFlow> {
        let role = match side {
            Side::Client => Role::Client,
            Side::Server => Role::Server,
        };
        match find_start(first, role) {
            Search::Found(start) if start.offset == 0 => return None,
            Search::Pending(0) => return None,
            _ => {}
        }
        let swapped = side == Side::Client && looks_like_greeting(first);
        let (client, server) = if swapped {
            (key.server, key.client)
        } else {
            (key.client, key.server)
        };
        let endpoint = |addr: std::net::SocketAddr| Endpoint {
            ip: addr.ip(),
            port: addr.port(),
        };
        Some(StarttlsFlow {
            dialogue: Dialogue::new(),
            swapped,
            input: Arc::clone(input),
            stream,
            client: endpoint(client),
            server: endpoint(server),
            first_ns: None,
            received: [0; 2],
            segments: [Vec::new(), Vec::new()],
            given_up: false,
            octets: 0,
        })
    }

    /// True while the dialogue reads either side.
    pub(crate) fn wants_data(&self) -> bool {
        !self.given_up && !self.dialogue.is_done()
    }

    /// True when the dialogue recognised no protocol and reads no more.
    pub(crate) fn is_abandoned(&self) -> bool {
        let unnamed = self.dialogue.outcome().protocol.is_none();
        unnamed && (self.given_up || self.dialogue.is_done())
    }

    fn side(&self, side: Side) -> Side {
        match (self.swapped, side) {
            (false, side) => side,
            (true, Side::Client) => Side::Server,
            (true, Side::Server) => Side::Client,
        }
    }

    pub(crate) fn data(&mut self, side: Side, data: &[u8], meta: SegmentMeta) {
        let len = u64::try_from(data.len()).unwrap_or(u64::MAX);
        self.octets = self.octets.saturating_add(len);
        if data.is_empty() || !self.wants_data() {
            return;
        }
        let side = self.side(side);
        let index = side_index(side);
        self.first_ns.get_or_insert(meta.timestamp_ns);
        let offset = self.received[index];
        let segments = &mut self.segments[index];
        if segments.len() < MAX_SEGMENTS_PER_SIDE {
            segments.push((offset, meta.packet));
        }
        self.received[index] = offset.saturating_add(len);
        if let Progress::Tls(handoff) = self.dialogue.feed(side, data) {
            tracing::trace!(
                input = %self.input,
                stream = self.stream,
                offset = handoff.offset,
                "STARTTLS: TLS begins on the {side:?} side"
            );
        }
        if self.dialogue.outcome().protocol.is_none()
            && self.received[index] > MAX_UNRECOGNISED_OCTETS
        {
            self.given_up = true;
        }
    }

    pub(crate) fn gap(&mut self, side: Side, missing: u64) {
        self.octets = self.octets.saturating_add(missing);
        if !self.wants_data() {
            return;
        }
        let side = self.side(side);
        let index = side_index(side);
        self.received[index] = self.received[index].saturating_add(missing);
        self.dialogue.gap(side, missing);
    }

    pub(crate) fn fin(&mut self, side: Side) {
        let side = self.side(side);
        self.dialogue.end(side);
    }

    /// Ends both sides and returns the record, when the dialogue
    /// recognised its protocol and saw a greeting, a capability list, a
    /// STARTTLS request or a finding.
    pub(crate) fn finish(mut self) -> Option<StarttlsDialogue> {
        self.dialogue.end(Side::Client);
        self.dialogue.end(Side::Server);
        let outcome = self.dialogue.outcome();
        let protocol = preamble_name(outcome.protocol?);
        // A flow whose first octet is `<` counts as XMPP, which includes
        // TLS flows captured from the middle, so a record without any of
        // these would only add noise.
        let seen = outcome.greeting.is_some()
            || !outcome.capabilities.is_empty()
            || outcome.starttls.requested.is_some()
            || !outcome.findings.is_empty();
        if !seen {
            return None;
        }
        let context = DialogueContext {
            input: &self.input,
            stream: self.stream,
            client: self.client,
            server: self.server,
            time_ns: self.first_ns.unwrap_or_default(),
            protocol,
            bytes: self.octets,
        };
        let segments = &self.segments;
        let packet_of = |side: Side, offset: u64| packet_at(&segments[side_index(side)], offset);
        Some(StarttlsDialogue::new(outcome, &context, &packet_of))
    }
}

fn side_index(side: Side) -> usize {
    match side {
        Side::Client => 0,
        Side::Server => 1,
    }
}

/// Returns the packet of the last remembered segment that starts at or
/// before `offset`, unless the segments remembered end before it.
fn packet_at(segments: &[(u64, u64)], offset: u64) -> Option<u64> {
    let after = segments.partition_point(|&(start, _)| start <= offset);
    let (_, packet) = *segments.get(after.checked_sub(1)?)?;
    if after == segments.len() && segments.len() >= MAX_SEGMENTS_PER_SIDE {
        return None;
    }
    Some(packet)
}

/// True for a line only a server sends first: a numeric SMTP or FTP reply,
/// an IMAP untagged `OK`, `PREAUTH` or `BYE`, or a POP3 status.
fn looks_like_greeting(first: &[u8]) -> bool {
    let numeric = match first {
        [a, b, c, sep, ..] => {
            a.is_ascii_digit()
                && b.is_ascii_digit()
                && c.is_ascii_digit()
                && matches!(sep, b' ' | b'-')
        }
        _ => false,
    };
    numeric
        || first.starts_with(b"* OK")
        || first.starts_with(b"* PREAUTH")
        || first.starts_with(b"* BYE")
        || first.starts_with(b"+OK")
        || first.starts_with(b"-ERR")
}

/// Returns the name the observation record uses for a plaintext preamble.
pub(crate) fn preamble_name(preamble: Preamble) -> &'static str {
    match preamble {
        Preamble::Smtp => "smtp",
        Preamble::Imap => "imap",
        Preamble::Pop3 => "pop3",
        Preamble::Ftp => "ftp",
        Preamble::Xmpp => "xmpp",
        Preamble::Irc => "irc",
        Preamble::Ldap => "ldap",
        Preamble::Nntp => "nntp",
        Preamble::HttpConnect => "http-connect",
        Preamble::Socks4 => "socks4",
        Preamble::Socks5 => "socks5",
        Preamble::MySql => "mysql",
        Preamble::Postgres => "postgres",
        Preamble::Unknown => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packet_at_finds_segment() {
        let segments = [(0, 4), (20, 6), (45, 9)];
        assert_eq!(packet_at(&segments, 0), Some(4));
        assert_eq!(packet_at(&segments, 19), Some(4));
        assert_eq!(packet_at(&segments, 20), Some(6));
        assert_eq!(packet_at(&segments, 100), Some(9));
        assert_eq!(packet_at(&[], 0), None);
    }

    #[test]
    fn packet_at_unknown_past_full_list() {
        let segments: Vec<(u64, u64)> = (0..MAX_SEGMENTS_PER_SIDE as u64)
            .map(|i| (i * 10, i + 1))
            .collect();
        assert_eq!(packet_at(&segments, 5), Some(1));
        let last = (MAX_SEGMENTS_PER_SIDE as u64 - 1) * 10;
        assert_eq!(packet_at(&segments, last + 5), None);
    }

    fn key() -> FlowKey {
        FlowKey {
            client: "192.0.2.1:50000".parse().unwrap_or_else(|_| unreachable!()),
            server: "198.51.100.1:25".parse().unwrap_or_else(|_| unreachable!()),
        }
    }

    fn meta(packet: u64) -> SegmentMeta {
        SegmentMeta {
            packet,
            timestamp_ns: 1_000,
        }
    }

    /// Feeds `(side, octets)` in order as packets 1, 2, … and returns the record.
    fn run(segments: &[(Side, &[u8])]) -> Option<StarttlsDialogue> {
        let input: Arc<str> = Arc::from("test.pcap");
        let (first_side, first) = segments.first().copied()?;
        let mut flow = StarttlsFlow::choose(&input, 0, &key(), first_side, first)?;
        for (packet, (side, octets)) in (1..).zip(segments) {
            flow.data(*side, octets, meta(packet));
        }
        flow.finish()
    }

    #[test]
    fn smtp_greeting_names_packet() {
        let record = run(&[
            (Side::Server, b"220 mail.example ESMTP\r\n"),
            (Side::Client, b"EHLO client.example\r\n"),
            (Side::Server, b"250-mail.example\r\n250 SIZE 1000\r\n"),
            (Side::Client, b"MAIL FROM:<a@example>\r\n"),
        ]);
        let record = record.expect("an SMTP record");
        assert_eq!(record.protocol, "smtp");
        assert_eq!(record.server.port, 25);
        let greeting = record.greeting.as_ref().expect("a greeting");
        assert_eq!(greeting.packet, Some(1));
        assert!(record.stripped());
        let absent = record.findings.first().expect("a finding");
        assert_eq!(absent.kind, "starttls_absent");
        let command = absent.evidence.last().expect("the client's command");
        assert_eq!(command.packet, Some(4));
        assert_eq!(command.side, "client");
    }

    #[test]
    fn greeting_from_initiator_swaps_sides() {
        let record = run(&[(Side::Client, b"+OK POP3 ready\r\n")]);
        let record = record.expect("a POP3 record");
        assert_eq!(record.protocol, "pop3");
        assert_eq!(record.server.port, 50000);
        assert_eq!(record.client.port, 25);
    }

    #[test]
    fn bare_angle_bracket_writes_no_record() {
        let input: Arc<str> = Arc::from("test.pcap");
        let first: &[u8] = b"<\x01\x02\x03>";
        let mut flow = StarttlsFlow::choose(&input, 0, &key(), Side::Client, first)
            .expect("not TLS, so chosen");
        flow.data(Side::Client, first, meta(1));
        flow.data(Side::Server, b"\x17\x03\x03\x00\x10", meta(2));
        let protocol = flow.dialogue.outcome().protocol;
        assert_eq!(protocol, Some(wiretrust_starttls::Preamble::Xmpp));
        assert!(flow.finish().is_none());
    }

    #[test]
    fn unknown_greeting_abandoned() {
        let input: Arc<str> = Arc::from("test.pcap");
        let first: &[u8] = b"SSH-2.0-OpenSSH_9.6\r\n";
        let mut flow = StarttlsFlow::choose(&input, 0, &key(), Side::Server, first)
            .expect("not TLS, so chosen");
        flow.data(Side::Server, first, meta(1));
        assert!(flow.is_abandoned());
        assert!(flow.finish().is_none());
    }

    #[test]
    fn unnamed_client_stream_given_up() {
        let input: Arc<str> = Arc::from("test.pcap");
        let line = [b'a'; 1023];
        let first: &[u8] = b"upload\n";
        let mut flow = StarttlsFlow::choose(&input, 0, &key(), Side::Client, first)
            .expect("not TLS, so chosen");
        flow.data(Side::Client, first, meta(1));
        let mut packet = 2;
        while flow.wants_data() && packet < 1_000 {
            flow.data(Side::Client, &line, meta(packet));
            packet += 1;
        }
        assert!(!flow.wants_data());
        assert!(flow.is_abandoned());
        assert!(packet < 100, "gave up after {packet} packets");
    }

    #[test]
    fn greetings_recognised() {
        assert!(looks_like_greeting(b"220 mail.example ESMTP\r\n"));
        assert!(looks_like_greeting(b"220-ftp.example\r\n"));
        assert!(looks_like_greeting(b"* OK IMAP4rev1 ready\r\n"));
        assert!(looks_like_greeting(b"+OK POP3 ready\r\n"));
        assert!(!looks_like_greeting(b"EHLO client.example\r\n"));
        assert!(!looks_like_greeting(b"a001 CAPABILITY\r\n"));
    }
}
