//! Analysers of TCP flows that carry plaintext protocols.
//!
//! Each flow's TLS decoder searches the first 64 KiB of both sides for a
//! TLS start, because TLS may follow a plaintext preamble (STARTTLS, an
//! HTTP CONNECT). Beside it, [`Plaintext::choose`] looks at the first
//! octets a flow carries and picks at most one analyser, which then receives
//! every octet, gap, FIN and the end of both sides. Octets that no
//! analyser claims are ignored once the decoder finds no TLS, as before.
//!
//! The STARTTLS analyser only reads: the TLS decoder still receives every
//! octet of a STARTTLS flow and finds the TLS start after the preamble
//! itself, so the flow's TLS sessions are the same with or without it.
//!
//! To add an analyser: a variant here, a test of the first octets in
//! `choose`, and one arm in each method below.

use std::sync::Arc;

use wiretrust_http::{
    BodyHashing, ConnectionEnd, Direction, HttpStream, Limits, Transfer, Warning,
};
use wiretrust_tcp::{FlowEnd, FlowKey, SegmentMeta, Side};

use super::capture_stats::HttpWarnings;
use super::starttls::StarttlsFlow;
use crate::observations::{
    Endpoint, HttpTransfer, StarttlsDialogue, TransferContext, warning_text,
};

/// The destination of what analysers find.
pub(crate) struct Output<'a> {
    pub transfers: &'a mut Vec<HttpTransfer>,
    pub dialogues: &'a mut Vec<StarttlsDialogue>,
    /// Recoverable parse problems.
    pub warnings: &'a mut HttpWarnings,
}

/// A plaintext analyser chosen for one flow.
pub(crate) enum Plaintext {
    Http(Box<HttpFlow>),
    StartTls(Box<StarttlsFlow>),
}

impl Plaintext {
    /// Chooses the analyser for a flow of `input` from the first octets
    /// that `side` sent; `None` leaves the flow to the TLS decoder alone.
    /// An HTTP analyser hashes bodies as `hashing` selects.
    ///
    /// HTTP is chosen by its request or status line. Any other flow that
    /// does not begin with TLS goes to the STARTTLS analyser, which
    /// recognises SMTP, IMAP, POP3, FTP and XMPP from the greeting or the
    /// client's first command, and gives up on anything else.
    pub fn choose(
        input: &Arc<str>,
        stream: u64,
        key: &FlowKey,
        side: Side,
        first: &[u8],
        hashing: BodyHashing,
    ) -> Option<Plaintext> {
        let Some(role) = wiretrust_http::role_from_first_octets(first) else {
            let flow = StarttlsFlow::choose(input, stream, key, side, first)?;
            return Some(Plaintext::StartTls(Box::new(flow)));
        };
        let request_side = match (role, side) {
            (Direction::Request, side) => side,
            (Direction::Response, Side::Client) => Side::Server,
            (Direction::Response, Side::Server) => Side::Client,
        };
        let flow = HttpFlow::new(input, stream, key, request_side, hashing);
        Some(Plaintext::Http(Box::new(flow)))
    }

    /// True while the analyser still reads the flow's octets.
    pub fn wants_data(&self) -> bool {
        match self {
            Plaintext::Http(flow) => flow.parser.wants_data(),
            Plaintext::StartTls(flow) => flow.wants_data(),
        }
    }

    /// True when the analyser has given up and will write no record, so
    /// the flow can drop it.
    pub fn is_abandoned(&self) -> bool {
        match self {
            Plaintext::Http(_) => false,
            Plaintext::StartTls(flow) => flow.is_abandoned(),
        }
    }

    pub fn data(&mut self, side: Side, data: &[u8], meta: SegmentMeta, out: Output<'_>) {
        match self {
            Plaintext::Http(flow) => {
                let direction = flow.direction(side);
                flow.parser
                    .data(direction, data, meta.packet, meta.timestamp_ns);
                flow.collect(out);
            }
            Plaintext::StartTls(flow) => flow.data(side, data, meta),
        }
    }

    pub fn gap(&mut self, side: Side, missing: u64, meta: SegmentMeta, out: Output<'_>) {
        match self {
            Plaintext::Http(flow) => {
                let direction = flow.direction(side);
                flow.parser.gap(direction, missing, meta.packet);
                flow.collect(out);
            }
            Plaintext::StartTls(flow) => flow.gap(side, missing),
        }
    }

    pub fn fin(&mut self, side: Side, meta: SegmentMeta, out: Output<'_>) {
        match self {
            Plaintext::Http(flow) => {
                let direction = flow.direction(side);
                flow.parser.fin(direction, meta.packet);
                flow.collect(out);
            }
            Plaintext::StartTls(flow) => flow.fin(side),
        }
    }

    /// Ends the flow; the records it completes go to `out`.
    pub fn end(self, end: FlowEnd, meta: SegmentMeta, out: Output<'_>) {
        match self {
            Plaintext::Http(mut flow) => {
                let end = match end {
                    FlowEnd::Closed => ConnectionEnd::Closed,
                    FlowEnd::Reset { .. } => ConnectionEnd::Reset,
                    FlowEnd::IdleTimeout
                    | FlowEnd::Evicted
                    | FlowEnd::EndOfInput
                    | FlowEnd::PortReused => ConnectionEnd::CaptureEnded,
                };
                flow.parser.end(end, meta.packet);
                flow.collect(out);
            }
            Plaintext::StartTls(flow) => {
                if let Some(dialogue) = flow.finish() {
                    out.dialogues.push(dialogue);
                }
            }
        }
    }
}

/// The HTTP analyser of one flow.
pub(crate) struct HttpFlow {
    parser: HttpStream,
    request_side: Side,
    input: Arc<str>,
    stream: u64,
    client: Endpoint,
    server: Endpoint,
    finished: Vec<Transfer>,
    warnings: Vec<Warning>,
}

impl HttpFlow {
    fn new(
        input: &Arc<str>,
        stream: u64,
        key: &FlowKey,
        request_side: Side,
        hashing: BodyHashing,
    ) -> HttpFlow {
        let (client, server) = match request_side {
            Side::Client => (key.client, key.server),
            Side::Server => (key.server, key.client),
        };
        let endpoint = |addr: std::net::SocketAddr| Endpoint {
            ip: addr.ip(),
            port: addr.port(),
        };
        HttpFlow {
            parser: HttpStream::with_hashing(Limits::default(), hashing),
            request_side,
            input: Arc::clone(input),
            stream,
            client: endpoint(client),
            server: endpoint(server),
            finished: Vec::new(),
            warnings: Vec::new(),
        }
    }

    fn direction(&self, side: Side) -> Direction {
        if side == self.request_side {
            Direction::Request
        } else {
            Direction::Response
        }
    }

    /// Moves the finished transfers into `out` as records, and counts
    /// every warning, the ones tied to no transfer included, for the
    /// summary.
    fn collect(&mut self, out: Output<'_>) {
        self.parser.take_transfers(&mut self.finished);
        if !self.finished.is_empty() {
            let context = TransferContext {
                input: &self.input,
                stream: self.stream,
                client: self.client,
                server: self.server,
            };
            for transfer in self.finished.drain(..) {
                for warning in &transfer.warnings {
                    out.warnings.record(self.stream, || warning_text(warning));
                }
                out.transfers.push(HttpTransfer::new(&transfer, &context));
            }
        }
        self.parser.take_warnings(&mut self.warnings);
        for warning in self.warnings.drain(..) {
            out.warnings.record(self.stream, || warning_text(&warning));
            tracing::debug!(
                input = %self.input,
                stream = self.stream,
                "HTTP: {}",
                warning_text(&warning)
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> FlowKey {
        FlowKey {
            client: "192.0.2.1:50000".parse().unwrap_or_else(|_| unreachable!()),
            server: "198.51.100.1:80".parse().unwrap_or_else(|_| unreachable!()),
        }
    }

    fn chosen_request_side(side: Side, first: &[u8]) -> Option<Side> {
        let input: Arc<str> = Arc::from("test.pcap");
        match Plaintext::choose(&input, 0, &key(), side, first, BodyHashing::Every)? {
            Plaintext::Http(flow) => Some(flow.request_side),
            Plaintext::StartTls(_) => None,
        }
    }

    #[test]
    fn request_claims_its_side() {
        let side = chosen_request_side(Side::Client, b"GET / HTTP/1.1\r\n");
        assert_eq!(side, Some(Side::Client));
    }

    #[test]
    fn response_first_claims_other_side() {
        let side = chosen_request_side(Side::Server, b"HTTP/1.1 200 OK\r\n");
        assert_eq!(side, Some(Side::Client));
    }

    #[test]
    fn tls_client_hello_unclaimed() {
        let hello = [0x16, 0x03, 0x01, 0x00, 0x2f, 0x01];
        assert_eq!(chosen_request_side(Side::Client, &hello), None);
    }

    #[test]
    fn smtp_banner_not_http() {
        let side = chosen_request_side(Side::Server, b"220 mail.example ESMTP\r\n");
        assert_eq!(side, None);
    }

    fn chosen_is_starttls(side: Side, first: &[u8]) -> bool {
        let input: Arc<str> = Arc::from("test.pcap");
        let chosen = Plaintext::choose(&input, 0, &key(), side, first, BodyHashing::Every);
        matches!(chosen, Some(Plaintext::StartTls(_)))
    }

    #[test]
    fn smtp_banner_claimed_by_starttls() {
        assert!(chosen_is_starttls(
            Side::Server,
            b"220 mail.example ESMTP\r\n"
        ));
    }

    #[test]
    fn tls_client_hello_not_starttls() {
        let hello = [0x16, 0x03, 0x01, 0x00, 0x2f, 0x01];
        assert!(!chosen_is_starttls(Side::Client, &hello));
    }

    #[test]
    fn http_request_not_starttls() {
        assert!(!chosen_is_starttls(Side::Client, b"GET / HTTP/1.1\r\n"));
    }
}
