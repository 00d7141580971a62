//! The two directions of one connection, parsed into transfers.

use std::collections::VecDeque;

use crate::digest::{self, Announced, BodyView, DigestCheck, DigestField};
use crate::framing::{Framer, Framing};
use crate::hash::{Algorithm, Coding, ContentDecoder, DecodeFailure, Hasher, Hashes};
use crate::head::{self, Head};

/// The side of the connection that sent the octets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Request,
    Response,
}

/// The end of a connection, as the capture saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectionEnd {
    /// Both FINs, or the FIN of the server side.
    Closed,
    Reset,
    /// The capture ended, or the flow was dropped from tracking, before
    /// the connection closed.
    CaptureEnded,
}

/// Bounds on what one stream keeps.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Largest header block, in octets.
    pub max_head: usize,
    /// Largest decoded representation hashed, in octets; beyond it the
    /// representation is reported as too large.
    pub max_decoded: u64,
    /// Requests waiting for their response at most; older ones are
    /// reported without a response.
    pub max_pending: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_head: crate::MAX_HEAD,
            max_decoded: 1 << 30,
            max_pending: 256,
        }
    }
}

/// Selection of the response bodies that get an MD5 hash besides their SHA-256.
///
/// SHA-256 is computed for every body in both modes, because an alert
/// about a transfer names the SHA-256 of its body, and SHA-1 and SHA-512
/// only when a digest field names them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BodyHashing {
    /// MD5 of every body, for callers that record each transfer's hashes.
    #[default]
    Every,
    /// MD5 only where it is used: a `200` response to a GET (a downloaded
    /// object), a body whose digest fields name MD5, and a chunked body,
    /// whose trailer section may carry an MD5 digest that no field
    /// announced.
    WhenUsed,
}

/// A request line and the fields that matter.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    pub target: String,
    pub version: String,
    pub host: Option<String>,
    pub content_length: Option<String>,
    pub user_agent: Option<String>,
    /// The RFC 9112 section 6.3 framing rule the request's Content-Length
    /// and Transfer-Encoding fields break, if any.
    pub framing_error: Option<&'static str>,
    /// Packet that completed the header block.
    pub packet: u64,
    pub time_ns: i64,
}

/// A status line and the fields that matter.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Response {
    pub version: String,
    pub status: u16,
    pub reason: String,
    pub fields: ResponseFields,
    pub packet: u64,
    pub time_ns: i64,
}

/// Response fields kept in the record, as written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResponseFields {
    pub content_type: Option<String>,
    pub content_length: Option<String>,
    pub transfer_encoding: Option<String>,
    pub content_encoding: Option<String>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub strict_transport_security: Option<String>,
    pub server: Option<String>,
    pub content_md5: Option<String>,
    pub digest: Option<String>,
    pub content_digest: Option<String>,
    pub repr_digest: Option<String>,
}

/// The end of a body, and whether its framing was satisfied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyEnd {
    /// The framing's end was reached (or, for a close-delimited body, the
    /// server's FIN).
    Complete,
    /// The response has no body by its status or request method.
    NoBody,
    /// No response was seen for the request.
    NoResponse,
    /// The server closed before the declared length or last chunk.
    ShortAtClose,
    /// A reset came before the declared length or last chunk.
    ShortAtReset,
    /// A close-delimited body ended by a reset: its length is unknown.
    ResetDuringClose,
    /// The chunked framing broke (malformed chunk size, missing CRLF).
    ChunkFramingBroken,
    /// The capture ended mid-body.
    CaptureEnded,
    /// The capture lost octets of the body.
    CaptureGap,
}

impl BodyEnd {
    pub fn name(self) -> &'static str {
        match self {
            BodyEnd::Complete => "complete",
            BodyEnd::NoBody => "no_body",
            BodyEnd::NoResponse => "no_response",
            BodyEnd::ShortAtClose => "short_at_close",
            BodyEnd::ShortAtReset => "short_at_reset",
            BodyEnd::ResetDuringClose => "reset_during_close",
            BodyEnd::ChunkFramingBroken => "chunk_framing_broken",
            BodyEnd::CaptureEnded => "capture_ended",
            BodyEnd::CaptureGap => "capture_gap",
        }
    }
}

/// A response body as received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Body {
    pub framing: Framing,
    /// The Content-Length value, when valid.
    pub declared_length: Option<u64>,
    /// Content octets received, transfer coding removed.
    pub received: u64,
    /// Octets the capture lost inside the body.
    pub missing: u64,
    /// Octets after the end of a body with a declared length or chunked
    /// framing that do not start another response.
    pub excess: u64,
    pub chunks: u64,
    /// Hashes of the content; `None` when the capture lost part of it.
    pub content: Option<Hashes>,
    /// Hashes of the decoded representation, when a content coding was
    /// applied and decoded.
    pub representation: Option<Hashes>,
    pub decode_failure: Option<DecodeFailure>,
    pub first_packet: Option<u64>,
    pub last_packet: Option<u64>,
    pub end: BodyEnd,
    /// The RFC 9112 section 6.3 framing rule the response's Content-Length
    /// and Transfer-Encoding fields break, if any.
    pub framing_error: Option<&'static str>,
}

impl Body {
    fn new(framing: Framing, declared_length: Option<u64>) -> Body {
        Body {
            framing,
            declared_length,
            received: 0,
            missing: 0,
            excess: 0,
            chunks: 0,
            content: None,
            representation: None,
            decode_failure: None,
            first_packet: None,
            last_packet: None,
            end: BodyEnd::NoBody,
            framing_error: None,
        }
    }
}

/// Named recoverable problems, each with where it was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WarningKind {
    HeadTooLarge,
    MalformedHead,
    MalformedChunkSize,
    InvalidContentLength,
    ConflictingFraming,
    InvalidDigestValue,
    UnknownDigestAlgorithm,
    ContentDecodeFailed,
    UnexpectedBytes,
    TruncatedHead,
    TooManyPending,
}

impl WarningKind {
    pub fn name(self) -> &'static str {
        match self {
            WarningKind::HeadTooLarge => "head_too_large",
            WarningKind::MalformedHead => "malformed_head",
            WarningKind::MalformedChunkSize => "malformed_chunk_size",
            WarningKind::InvalidContentLength => "invalid_content_length",
            WarningKind::ConflictingFraming => "conflicting_framing",
            WarningKind::InvalidDigestValue => "invalid_digest_value",
            WarningKind::UnknownDigestAlgorithm => "unknown_digest_algorithm",
            WarningKind::ContentDecodeFailed => "content_decode_failed",
            WarningKind::UnexpectedBytes => "unexpected_bytes",
            WarningKind::TruncatedHead => "truncated_head",
            WarningKind::TooManyPending => "too_many_pending",
        }
    }
}

/// A recoverable problem, at a packet and an octet offset of one side.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    pub kind: WarningKind,
    pub direction: Direction,
    pub packet: u64,
    /// Offset in that side's byte stream, counting lost octets.
    pub offset: u64,
    pub detail: String,
}

/// One request with its response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transfer {
    /// `None` when the response's request was not captured.
    pub request: Option<Request>,
    pub response: Option<Response>,
    pub body: Body,
    pub digests: Vec<DigestCheck>,
    pub warnings: Vec<Warning>,
}

impl Transfer {
    /// Returns the host the request named: its Host field, else the
    /// authority of an absolute target, without the port.
    pub fn host(&self) -> Option<&str> {
        let request = self.request.as_ref()?;
        let authority = match &request.host {
            Some(host) => host.as_str(),
            None => authority(&request.target)?,
        };
        Some(strip_port(authority))
    }

    /// Returns the URL requested: an absolute target as written, else
    /// `http://` with the Host field and the target.
    pub fn url(&self) -> Option<String> {
        let request = self.request.as_ref()?;
        if request.target.contains("://") || request.method == "CONNECT" {
            return Some(request.target.clone());
        }
        let host = request.host.as_deref()?;
        Some(format!("http://{host}{}", request.target))
    }

    /// Why the body's length disagrees with its framing, if it does:
    /// framing fields that RFC 9112 section 6.3 makes an error (in the
    /// response, then in the request), shorter at a close or reset, broken
    /// chunk framing, or extra octets. Bodies cut by the capture are
    /// incomplete, not a mismatch.
    pub fn length_problem(&self) -> Option<&'static str> {
        if let Some(rule) = self.body.framing_error {
            return Some(rule);
        }
        if let Some(rule) = self.request.as_ref().and_then(|r| r.framing_error) {
            return Some(rule);
        }
        match self.body.end {
            BodyEnd::ShortAtClose => Some("body shorter than its framing at the server's close"),
            BodyEnd::ShortAtReset => Some("body shorter than its framing at a reset"),
            BodyEnd::ChunkFramingBroken => Some("chunk framing broken"),
            _ if self.body.excess > 0 => Some("octets after the end of the body"),
            _ => None,
        }
    }

    /// True when every body octet the framing announced was seen.
    pub fn is_complete(&self) -> bool {
        matches!(self.body.end, BodyEnd::Complete | BodyEnd::NoBody) && self.body.missing == 0
    }
}

fn authority(target: &str) -> Option<&str> {
    let rest = target.split_once("://")?.1;
    rest.split(['/', '?', '#']).next()
}

fn strip_port(authority: &str) -> &str {
    if let Some(rest) = authority.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match authority.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => authority,
    }
}

/// The body of the response being received.
struct Active {
    transfer: Transfer,
    framer: Framer,
    content: Option<Hasher>,
    decoder: Option<ContentDecoder>,
    /// A content coding applies; with no decoder it was not decodable.
    coded: bool,
    announced: Vec<Announced>,
}

enum RequestState {
    Head,
    Body(Framer),
    Stopped,
}

enum ResponseState {
    Head,
    Body(Box<Active>),
    /// Looking for the next status line; `excess` when the skipped octets
    /// follow a complete body.
    Resync {
        carry: Vec<u8>,
        excess: bool,
    },
    Stopped,
}

/// Octets kept between calls while looking for `HTTP/1.`.
const RESYNC_CARRY: usize = 7;

/// Parser state of one connection's HTTP/1 exchange.
pub struct HttpStream {
    limits: Limits,
    hashing: BodyHashing,
    request: RequestState,
    request_buf: Vec<u8>,
    request_offset: u64,
    response: ResponseState,
    response_buf: Vec<u8>,
    response_offset: u64,
    pending: VecDeque<Request>,
    /// The last transfer, kept until the next response starts so octets
    /// after its body can still be counted as excess.
    held: Option<Transfer>,
    done: Vec<Transfer>,
    warnings: Vec<Warning>,
}

impl HttpStream {
    /// Creates a parser that hashes every body with MD5 and SHA-256.
    pub fn new(limits: Limits) -> HttpStream {
        HttpStream::with_hashing(limits, BodyHashing::Every)
    }

    /// Creates a parser that computes MD5 of the bodies `hashing` selects.
    pub fn with_hashing(limits: Limits, hashing: BodyHashing) -> HttpStream {
        HttpStream {
            limits,
            hashing,
            request: RequestState::Head,
            request_buf: Vec::new(),
            request_offset: 0,
            response: ResponseState::Head,
            response_buf: Vec::new(),
            response_offset: 0,
            pending: VecDeque::new(),
            held: None,
            done: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// True while either side is still parsed; false once both stopped
    /// (a tunnel after CONNECT or an upgrade, or input that is not HTTP).
    pub fn wants_data(&self) -> bool {
        !matches!(self.request, RequestState::Stopped)
            || !matches!(self.response, ResponseState::Stopped)
    }

    /// Moves the finished transfers to `out`, in response order.
    pub fn take_transfers(&mut self, out: &mut Vec<Transfer>) {
        out.append(&mut self.done);
    }

    /// Moves the warnings tied to no transfer to `out`.
    pub fn take_warnings(&mut self, out: &mut Vec<Warning>) {
        out.append(&mut self.warnings);
    }

    /// Feeds in-order octets of one side.
    pub fn data(&mut self, direction: Direction, data: &[u8], packet: u64, time_ns: i64) {
        match direction {
            Direction::Request => self.request_data(data, packet, time_ns),
            Direction::Response => self.response_data(data, packet, time_ns),
        }
    }

    /// Notes `missing` octets of one side that the capture lost.
    pub fn gap(&mut self, direction: Direction, missing: u64, packet: u64) {
        match direction {
            Direction::Request => self.request_gap(missing),
            Direction::Response => self.response_gap(missing, packet),
        }
    }

    /// Notes one side's FIN. The server's FIN ends a close-delimited body.
    pub fn fin(&mut self, direction: Direction, packet: u64) {
        if direction == Direction::Response {
            self.end_response(ConnectionEnd::Closed, packet);
        }
    }

    /// Ends the connection: every body in progress and every request
    /// still waiting becomes a transfer.
    pub fn end(&mut self, end: ConnectionEnd, packet: u64) {
        self.end_response(end, packet);
        self.request = RequestState::Stopped;
        self.release_held();
        while let Some(request) = self.pending.pop_front() {
            let mut body = Body::new(Framing::None, None);
            body.end = BodyEnd::NoResponse;
            self.done.push(Transfer {
                request: Some(request),
                response: None,
                body,
                digests: Vec::new(),
                warnings: Vec::new(),
            });
        }
    }

    fn warn(
        &mut self,
        kind: WarningKind,
        direction: Direction,
        packet: u64,
        at: u64,
        detail: String,
    ) {
        let offset = match direction {
            Direction::Request => self.request_offset,
            Direction::Response => self.response_offset,
        };
        let warning = Warning {
            kind,
            direction,
            packet,
            offset: offset.saturating_add(at),
            detail,
        };
        match &mut self.response {
            ResponseState::Body(active) if direction == Direction::Response => {
                active.transfer.warnings.push(warning);
            }
            _ => self.warnings.push(warning),
        }
    }

    fn request_data(&mut self, mut data: &[u8], packet: u64, time_ns: i64) {
        while !data.is_empty() {
            let consumed = match &mut self.request {
                RequestState::Stopped => data.len(),
                RequestState::Head => self.request_head(data, packet, time_ns),
                RequestState::Body(framer) => match framer.feed(data, &mut |_| {}) {
                    Ok(fed) => {
                        if fed.done {
                            self.request = RequestState::Head;
                        }
                        fed.consumed
                    }
                    Err(err) => {
                        let detail = format!("request body: {}", err.detail);
                        self.warn(
                            WarningKind::MalformedChunkSize,
                            Direction::Request,
                            packet,
                            err.at as u64,
                            detail,
                        );
                        self.request = RequestState::Stopped;
                        data.len()
                    }
                },
            };
            self.request_offset = self.request_offset.saturating_add(consumed as u64);
            data = &data[consumed.min(data.len())..];
        }
    }

    /// Buffers a request header block; returns the octets consumed.
    fn request_head(&mut self, data: &[u8], packet: u64, time_ns: i64) -> usize {
        let searched = self.request_buf.len();
        let take = (self.limits.max_head + 4 - searched.min(self.limits.max_head)).min(data.len());
        self.request_buf.extend_from_slice(&data[..take]);
        let Some(end) = head::block_end(&self.request_buf, searched) else {
            if self.request_buf.len() > self.limits.max_head {
                let detail = format!(
                    "request header block over {} octets; the rest of the requests are not \
                     parsed",
                    self.limits.max_head
                );
                self.warn(
                    WarningKind::HeadTooLarge,
                    Direction::Request,
                    packet,
                    0,
                    detail,
                );
                self.request = RequestState::Stopped;
                self.request_buf = Vec::new();
            }
            return take;
        };
        let consumed = end.saturating_sub(searched);
        let parsed = head::parse(&self.request_buf[..end]);
        self.request_buf.clear();
        self.request_started(&parsed, packet, time_ns);
        consumed
    }

    fn request_started(&mut self, parsed: &Head, packet: u64, time_ns: i64) {
        if parsed.start.is_empty() {
            return;
        }
        let Some((method, target, version)) = head::request_line(&parsed.start) else {
            let detail = format!("invalid request line {:?}", truncate(&parsed.start));
            self.warn(
                WarningKind::MalformedHead,
                Direction::Request,
                packet,
                0,
                detail,
            );
            self.request = RequestState::Stopped;
            return;
        };
        let framing_error = framing_error(parsed);
        if let Some(rule) = framing_error {
            let detail = format!("request framing: {}", framing_detail(parsed, rule));
            self.warn(
                framing_warning_kind(parsed),
                Direction::Request,
                packet,
                0,
                detail,
            );
        }
        let request = Request {
            method: method.to_owned(),
            target: target.to_owned(),
            version: version.to_owned(),
            host: parsed.get("host").map(str::to_owned),
            content_length: parsed.get("content-length").map(str::to_owned),
            user_agent: parsed.get("user-agent").map(str::to_owned),
            framing_error,
            packet,
            time_ns,
        };
        let connect = request.method == "CONNECT";
        let framer = if is_chunked(parsed.joined("transfer-encoding").as_deref()) {
            Some(Framer::chunked())
        } else {
            content_length(parsed).ok().flatten().map(Framer::length)
        };
        if self.pending.len() >= self.limits.max_pending {
            let detail = format!(
                "over {} requests waiting for responses",
                self.limits.max_pending
            );
            self.warn(
                WarningKind::TooManyPending,
                Direction::Request,
                packet,
                0,
                detail,
            );
            self.pending.pop_front();
        }
        self.pending.push_back(request);
        self.request = match framer {
            // The octets after a CONNECT belong to the tunnel.
            _ if connect => RequestState::Stopped,
            Some(framer) if !framer.is_done() => RequestState::Body(framer),
            _ => RequestState::Head,
        };
    }

    fn request_gap(&mut self, missing: u64) {
        self.request_offset = self.request_offset.saturating_add(missing);
        self.request = match std::mem::replace(&mut self.request, RequestState::Stopped) {
            RequestState::Body(mut framer) => match framer.skip(missing) {
                Some(0) if framer.is_done() => RequestState::Head,
                Some(0) => RequestState::Body(framer),
                _ => RequestState::Stopped,
            },
            _ => RequestState::Stopped,
        };
        self.request_buf.clear();
    }

    fn response_data(&mut self, mut data: &[u8], packet: u64, time_ns: i64) {
        while !data.is_empty() {
            let consumed = match &mut self.response {
                ResponseState::Stopped => data.len(),
                ResponseState::Head => self.response_head(data, packet, time_ns),
                ResponseState::Body(_) => self.response_body(data, packet),
                ResponseState::Resync { .. } => self.resync(data),
            };
            self.response_offset = self.response_offset.saturating_add(consumed as u64);
            data = &data[consumed.min(data.len())..];
        }
    }

    fn response_head(&mut self, data: &[u8], packet: u64, time_ns: i64) -> usize {
        let searched = self.response_buf.len();
        if searched == 0 && !starts_like_status(data) {
            let detail = "octets that do not start a status line".to_owned();
            self.warn(
                WarningKind::UnexpectedBytes,
                Direction::Response,
                packet,
                0,
                detail,
            );
            let excess = self.held.as_ref().is_some_and(|held| {
                matches!(held.body.framing, Framing::ContentLength | Framing::Chunked)
                    || held.body.end == BodyEnd::NoBody
            });
            self.response = ResponseState::Resync {
                carry: Vec::new(),
                excess,
            };
            return 0;
        }
        let take = (self.limits.max_head + 4 - searched.min(self.limits.max_head)).min(data.len());
        self.response_buf.extend_from_slice(&data[..take]);
        let Some(end) = head::block_end(&self.response_buf, searched) else {
            if self.response_buf.len() > self.limits.max_head {
                let detail = format!(
                    "response header block over {} octets; skipped to the next status line",
                    self.limits.max_head
                );
                self.warn(
                    WarningKind::HeadTooLarge,
                    Direction::Response,
                    packet,
                    0,
                    detail,
                );
                self.response_buf = Vec::new();
                self.pending.pop_front();
                self.response = ResponseState::Resync {
                    carry: Vec::new(),
                    excess: false,
                };
            }
            return take;
        };
        let consumed = end.saturating_sub(searched);
        let parsed = head::parse(&self.response_buf[..end]);
        self.response_buf.clear();
        self.response_started(&parsed, packet, time_ns);
        consumed
    }

    fn response_started(&mut self, parsed: &Head, packet: u64, time_ns: i64) {
        let Some((version, status, reason)) = head::status_line(&parsed.start) else {
            let detail = format!("invalid status line {:?}", truncate(&parsed.start));
            self.warn(
                WarningKind::MalformedHead,
                Direction::Response,
                packet,
                0,
                detail,
            );
            self.response = ResponseState::Resync {
                carry: Vec::new(),
                excess: false,
            };
            return;
        };
        // Interim responses (RFC 9110 section 15.2) precede the final one.
        if (100..200).contains(&status) && status != 101 {
            return;
        }
        self.release_held();

        let request = self.pending.pop_front();
        let response = Response {
            version: version.to_owned(),
            status,
            reason: reason.to_owned(),
            fields: response_fields(parsed),
            packet,
            time_ns,
        };
        let method = request.as_ref().map(|r| r.method.as_str());
        let tunnel = status == 101 || (method == Some("CONNECT") && (200..300).contains(&status));
        let no_body = tunnel
            || method == Some("HEAD")
            || status == 204
            || status == 304
            || (100..200).contains(&status);
        let (framing, framer, declared) = body_framing(parsed, no_body);
        let mut transfer = Transfer {
            request,
            response: Some(response),
            body: Body::new(framing, declared),
            digests: Vec::new(),
            warnings: Vec::new(),
        };
        transfer.body.framing_error = framing_error(parsed);
        if let Some(rule) = transfer.body.framing_error {
            let read_as = match framing {
                Framing::Chunked => "chunked",
                Framing::ContentLength => "by its Content-Length",
                Framing::Close => "to the server's close",
                Framing::None => "as having no body",
            };
            transfer.warnings.push(Warning {
                kind: framing_warning_kind(parsed),
                direction: Direction::Response,
                packet,
                offset: self.response_offset,
                detail: format!("{}; body read {read_as}", framing_detail(parsed, rule)),
            });
        }
        let active = self.start_body(parsed, transfer, framer, packet);
        self.response = ResponseState::Body(Box::new(active));

        if no_body || matches!(framing, Framing::None) {
            self.finish_active(if no_body {
                BodyEnd::NoBody
            } else {
                BodyEnd::Complete
            });
        } else if let ResponseState::Body(active) = &self.response
            && active.framer.is_done()
        {
            self.finish_active(BodyEnd::Complete);
        }
        if tunnel {
            self.request = RequestState::Stopped;
            self.response = ResponseState::Stopped;
        }
    }

    /// Sets up the hashes, the content decoder and the announced digests
    /// of a response body.
    fn start_body(
        &self,
        parsed: &Head,
        mut transfer: Transfer,
        framer: Framer,
        packet: u64,
    ) -> Active {
        let announced = announced_digests(parsed, packet, self.response_offset, &mut transfer);
        let mut extra: Vec<Algorithm> = announced.iter().filter_map(|a| a.algorithm).collect();
        // The algorithm of a digest in the trailer section is known only
        // after the body, so every optional hash is computed when the
        // Trailer field announces one.
        // NOTE: a trailer digest of SHA-1 or SHA-512 that the Trailer field
        // did not announce is reported as an unknown algorithm.
        if announces_trailer_digest(parsed.joined("trailer").as_deref()) {
            extra.extend([Algorithm::Sha1, Algorithm::Sha512]);
        }
        if self.wants_md5(&transfer) {
            extra.push(Algorithm::Md5);
        }
        let (coded, decoder) = match content_coding(parsed.joined("content-encoding").as_deref()) {
            CodingChoice::Identity => (false, None),
            CodingChoice::One(coding) => {
                let hasher = Hasher::new(self.limits.max_decoded, &extra);
                (true, Some(ContentDecoder::new(coding, hasher)))
            }
            CodingChoice::Unsupported => (true, None),
        };
        Active {
            transfer,
            framer,
            content: Some(Hasher::new(u64::MAX, &extra)),
            decoder,
            coded,
            announced,
        }
    }

    /// True when the body of `transfer` gets an MD5 hash whether or not a
    /// digest field names MD5.
    fn wants_md5(&self, transfer: &Transfer) -> bool {
        match self.hashing {
            BodyHashing::Every => true,
            BodyHashing::WhenUsed => {
                let method = transfer.request.as_ref().map(|r| r.method.as_str());
                let status = transfer.response.as_ref().map(|r| r.status);
                let downloaded = method == Some("GET") && status == Some(200);
                downloaded || transfer.body.framing == Framing::Chunked
            }
        }
    }

    fn response_body(&mut self, data: &[u8], packet: u64) -> usize {
        let ResponseState::Body(active) = &mut self.response else {
            return 0;
        };
        let Active {
            transfer,
            framer,
            content,
            decoder,
            ..
        } = &mut **active;
        let body = &mut transfer.body;
        let result = framer.feed(data, &mut |part| {
            if part.is_empty() {
                return;
            }
            body.received = body.received.saturating_add(part.len() as u64);
            body.first_packet.get_or_insert(packet);
            body.last_packet = Some(packet);
            if let Some(content) = content {
                content.update(part);
            }
            if let Some(decoder) = decoder {
                decoder.write(part);
            }
        });
        body.chunks = framer.chunks();
        match result {
            Ok(fed) => {
                if fed.done {
                    self.read_trailer_digests(packet);
                    self.finish_active(BodyEnd::Complete);
                }
                fed.consumed
            }
            Err(err) => {
                let detail = format!("{}; the next response is looked for after it", err.detail);
                self.warn(
                    WarningKind::MalformedChunkSize,
                    Direction::Response,
                    packet,
                    err.at as u64,
                    detail,
                );
                self.finish_active(BodyEnd::ChunkFramingBroken);
                self.response = ResponseState::Resync {
                    carry: Vec::new(),
                    excess: false,
                };
                err.at
            }
        }
    }

    /// Adds the Content-Digest and Repr-Digest fields of the active chunked
    /// body's trailer section to the digests to check, because RFC 9530
    /// allows both fields in a trailer section.
    fn read_trailer_digests(&mut self, packet: u64) {
        let offset = self.response_offset;
        let ResponseState::Body(active) = &mut self.response else {
            return;
        };
        let section = active.framer.trailer();
        if section.is_empty() {
            return;
        }
        let parsed = head::parse_trailer(section);
        let mut announced = Vec::new();
        if let Some(value) = parsed.joined("content-digest") {
            digest::parse_structured(DigestField::ContentDigest, &value, &mut announced);
        }
        if let Some(value) = parsed.joined("repr-digest") {
            digest::parse_structured(DigestField::ReprDigest, &value, &mut announced);
        }
        let warnings = &mut active.transfer.warnings;
        digest_warnings(&announced, packet, offset, "trailer ", warnings);
        active.announced.extend(announced);
    }

    /// Skips octets up to the next `HTTP/1.` at a line start; returns the
    /// octets consumed.
    fn resync(&mut self, data: &[u8]) -> usize {
        let ResponseState::Resync { carry, excess } = &mut self.response else {
            return 0;
        };
        let kept = carry.len();
        carry.extend_from_slice(&data[..data.len().min(RESYNC_CARRY * 4)]);
        let in_carry = memchr::memmem::find(carry, b"HTTP/1.").filter(|at| *at < kept);
        let found = match in_carry {
            Some(at) => Some(at),
            None => memchr::memmem::find(data, b"HTTP/1.").map(|at| at + kept),
        };
        let count_excess = *excess;
        let skipped = match found {
            // The status line began inside the carried octets, which were
            // consumed already: feed them again as the head's start.
            Some(at) if at < kept => {
                let head = carry[at..kept].to_vec();
                self.response = ResponseState::Head;
                self.response_buf = head;
                0
            }
            Some(at) => {
                self.response = ResponseState::Head;
                at - kept
            }
            None => {
                let start = data.len().saturating_sub(RESYNC_CARRY);
                carry.clear();
                carry.extend_from_slice(&data[start..]);
                data.len()
            }
        };
        if count_excess && let Some(held) = &mut self.held {
            held.body.excess = held.body.excess.saturating_add(skipped as u64);
        }
        skipped
    }

    fn response_gap(&mut self, missing: u64, _packet: u64) {
        self.response_offset = self.response_offset.saturating_add(missing);
        self.response_buf.clear();
        let state = std::mem::replace(&mut self.response, ResponseState::Stopped);
        self.response = match state {
            ResponseState::Body(mut active) => {
                active.transfer.body.missing = active.transfer.body.missing.saturating_add(missing);
                active.content = None;
                active.decoder = None;
                let beyond = active.framer.skip(missing);
                let done = active.framer.is_done() || beyond.is_none();
                self.response = ResponseState::Body(active);
                if !done {
                    return;
                }
                self.finish_active(BodyEnd::CaptureGap);
                if beyond == Some(0) {
                    ResponseState::Head
                } else {
                    ResponseState::Resync {
                        carry: Vec::new(),
                        excess: false,
                    }
                }
            }
            ResponseState::Stopped => ResponseState::Stopped,
            _ => ResponseState::Resync {
                carry: Vec::new(),
                excess: false,
            },
        };
    }

    fn end_response(&mut self, end: ConnectionEnd, packet: u64) {
        let state = std::mem::replace(&mut self.response, ResponseState::Stopped);
        match state {
            ResponseState::Body(active) => {
                let body_end = match (&active.framer, end) {
                    (Framer::Close, ConnectionEnd::Closed) => BodyEnd::Complete,
                    (Framer::Close, ConnectionEnd::Reset) => BodyEnd::ResetDuringClose,
                    (_, ConnectionEnd::Closed) => BodyEnd::ShortAtClose,
                    (_, ConnectionEnd::Reset) => BodyEnd::ShortAtReset,
                    (_, ConnectionEnd::CaptureEnded) => BodyEnd::CaptureEnded,
                };
                self.response = ResponseState::Body(active);
                self.finish_active(body_end);
                self.response = ResponseState::Stopped;
            }
            ResponseState::Head if !self.response_buf.is_empty() => {
                let detail = format!(
                    "response header block cut after {} octets",
                    self.response_buf.len()
                );
                self.warn(
                    WarningKind::TruncatedHead,
                    Direction::Response,
                    packet,
                    0,
                    detail,
                );
                self.response_buf.clear();
            }
            _ => {}
        }
    }

    /// Ends the active body with `end` and keeps its transfer as `held`.
    fn finish_active(&mut self, end: BodyEnd) {
        let state = std::mem::replace(&mut self.response, ResponseState::Head);
        let ResponseState::Body(active) = state else {
            self.response = state;
            return;
        };
        let transfer = finish(*active, end, self.response_offset);
        self.release_held();
        self.held = Some(transfer);
    }

    fn release_held(&mut self) {
        if let Some(held) = self.held.take() {
            self.done.push(held);
        }
    }
}

/// Computes the body's hashes and checks its digests.
/// `offset` is where the body's last octets were fed, for warnings.
fn finish(active: Active, end: BodyEnd, offset: u64) -> Transfer {
    let Active {
        mut transfer,
        content,
        decoder,
        coded,
        announced,
        ..
    } = active;
    let end = if transfer.body.missing > 0 && end == BodyEnd::Complete {
        BodyEnd::CaptureGap
    } else {
        end
    };
    transfer.body.end = end;

    transfer.body.content = content.map(Hasher::finish);
    let complete = end == BodyEnd::Complete && transfer.body.content.is_some();
    if complete && let Some(decoder) = decoder {
        match decoder.finish() {
            Ok(hashes) => transfer.body.representation = Some(hashes),
            Err(failure) => {
                transfer.body.decode_failure = Some(failure);
                let detail = match failure {
                    DecodeFailure::Invalid => "the content is not valid data of its content coding",
                    DecodeFailure::TooLarge => "the decoded representation passed the size limit",
                };
                transfer.warnings.push(Warning {
                    kind: WarningKind::ContentDecodeFailed,
                    direction: Direction::Response,
                    packet: transfer.body.last_packet.unwrap_or_default(),
                    offset,
                    detail: format!("{detail}; representation digests are not checked"),
                });
            }
        }
    }

    let status = transfer.response.as_ref().map_or(0, |r| r.status);
    let content_view = complete.then_some(()).and(transfer.body.content.as_ref());
    let representation = if coded {
        transfer.body.representation.as_ref()
    } else {
        content_view
    };
    let view = BodyView {
        content: content_view,
        representation,
        no_body: end == BodyEnd::NoBody,
        partial: status == 206,
    };
    transfer.digests = announced.iter().map(|a| digest::check(a, view)).collect();
    transfer
}

fn truncate(text: &str) -> String {
    text.chars().take(80).collect()
}

fn starts_like_status(data: &[u8]) -> bool {
    let n = data.len().min(7);
    data[..n] == b"HTTP/1."[..n]
}

/// Chooses the body framing of a response by RFC 9112 section 6.3:
/// chunked when it is the last transfer coding, read to the close for any
/// other transfer coding, else a valid Content-Length, else to the close.
fn body_framing(parsed: &Head, no_body: bool) -> (Framing, Framer, Option<u64>) {
    let declared = content_length(parsed).ok().flatten();
    if no_body {
        return (Framing::None, Framer::Done, declared);
    }
    if let Some(codings) = parsed.joined("transfer-encoding") {
        if is_chunked(Some(&codings)) {
            return (Framing::Chunked, Framer::chunked(), declared);
        }
        return (Framing::Close, Framer::Close, declared);
    }
    match declared {
        Some(length) => (Framing::ContentLength, Framer::length(length), declared),
        None => (Framing::Close, Framer::Close, declared),
    }
}

/// Returns the framing rule of RFC 9112 section 6.3 that the
/// Content-Length and Transfer-Encoding fields break, if any. Each is a
/// sign of request smuggling or response splitting, because two parsers
/// can find different ends of the same body.
fn framing_error(parsed: &Head) -> Option<&'static str> {
    let length = content_length(parsed);
    let has_length = !matches!(length, Ok(None));
    if has_length && parsed.get("transfer-encoding").is_some() {
        return Some("Content-Length and Transfer-Encoding both present");
    }
    length.err().map(|error| error.rule())
}

/// Returns `rule` with the framing fields as written.
fn framing_detail(parsed: &Head, rule: &str) -> String {
    let mut detail = format!("RFC 9112 section 6.3 error: {rule}");
    for name in ["Content-Length", "Transfer-Encoding"] {
        if let Some(value) = parsed.joined(name) {
            detail.push_str(&format!(", {name} {:?}", truncate(&value)));
        }
    }
    detail
}

fn framing_warning_kind(parsed: &Head) -> WarningKind {
    match content_length(parsed) {
        Err(_) => WarningKind::InvalidContentLength,
        Ok(_) => WarningKind::ConflictingFraming,
    }
}

/// True when a Trailer field value names Content-Digest or Repr-Digest.
fn announces_trailer_digest(trailer: Option<&str>) -> bool {
    trailer.is_some_and(|names| {
        names.split(',').any(|name| {
            let name = name.trim();
            name.eq_ignore_ascii_case("content-digest") || name.eq_ignore_ascii_case("repr-digest")
        })
    })
}

/// True when the last transfer coding is `chunked` (RFC 9112 section 6.1).
fn is_chunked(codings: Option<&str>) -> bool {
    codings
        .and_then(|codings| codings.rsplit(',').next())
        .is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"))
}

/// A Content-Length field that RFC 9112 section 6.3 makes an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LengthError {
    /// Several values that differ.
    Differing,
    /// Decimal digits beyond the largest 64-bit number.
    Overflow,
    /// A value that is not a decimal number.
    Invalid,
}

impl LengthError {
    fn rule(self) -> &'static str {
        match self {
            LengthError::Differing => "several Content-Length values that differ",
            LengthError::Overflow => "a Content-Length beyond the largest 64-bit number",
            LengthError::Invalid => "a Content-Length that is not a decimal number",
        }
    }
}

/// Parses the Content-Length: `Ok(None)` when absent, and an error when a
/// value is invalid or when several values differ (RFC 9112 section 6.3).
fn content_length(parsed: &Head) -> Result<Option<u64>, LengthError> {
    let Some(joined) = parsed.joined("content-length") else {
        return Ok(None);
    };
    let mut value = None;
    for part in joined.split(',') {
        let part = part.trim();
        if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
            return Err(LengthError::Invalid);
        }
        let length = part.parse::<u64>().map_err(|_| LengthError::Overflow)?;
        match value {
            None => value = Some(length),
            Some(first) if first == length => {}
            Some(_) => return Err(LengthError::Differing),
        }
    }
    Ok(value)
}

enum CodingChoice {
    Identity,
    One(Coding),
    Unsupported,
}

fn content_coding(field: Option<&str>) -> CodingChoice {
    let Some(field) = field else {
        return CodingChoice::Identity;
    };
    let codings: Vec<&str> = field
        .split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty() && !c.eq_ignore_ascii_case("identity"))
        .collect();
    match codings.as_slice() {
        [] => CodingChoice::Identity,
        [one] => Coding::parse(one).map_or(CodingChoice::Unsupported, CodingChoice::One),
        // NOTE: stacked codings are not decoded, so their representation
        // digests are reported as not checkable.
        _ => CodingChoice::Unsupported,
    }
}

fn response_fields(parsed: &Head) -> ResponseFields {
    let get = |name: &str| parsed.joined(name);
    ResponseFields {
        content_type: get("content-type"),
        content_length: get("content-length"),
        transfer_encoding: get("transfer-encoding"),
        content_encoding: get("content-encoding"),
        etag: get("etag"),
        last_modified: get("last-modified"),
        strict_transport_security: get("strict-transport-security"),
        server: get("server"),
        content_md5: get("content-md5"),
        digest: get("digest"),
        content_digest: get("content-digest"),
        repr_digest: get("repr-digest"),
    }
}

/// Parses every digest field of the response; invalid values become
/// warnings on `transfer`.
fn announced_digests(
    parsed: &Head,
    packet: u64,
    offset: u64,
    transfer: &mut Transfer,
) -> Vec<Announced> {
    let mut announced = Vec::new();
    if let Some(value) = parsed.get("content-md5") {
        digest::parse_content_md5(value, &mut announced);
    }
    if let Some(value) = parsed.joined("digest") {
        digest::parse_digest(&value, &mut announced);
    }
    if let Some(value) = parsed.joined("content-digest") {
        digest::parse_structured(DigestField::ContentDigest, &value, &mut announced);
    }
    if let Some(value) = parsed.joined("repr-digest") {
        digest::parse_structured(DigestField::ReprDigest, &value, &mut announced);
    }
    let amazon = parsed.has_prefix("x-amz-")
        || parsed
            .get("server")
            .is_some_and(|server| server.eq_ignore_ascii_case("AmazonS3"));
    if amazon && let Some(value) = parsed.get("etag") {
        digest::parse_s3_etag(value, &mut announced);
    }
    digest_warnings(&announced, packet, offset, "", &mut transfer.warnings);
    announced
}

/// Adds a warning to `warnings` for each digest of `announced` that cannot
/// be checked; `place` is `"trailer "` for fields of a trailer section.
fn digest_warnings(
    announced: &[Announced],
    packet: u64,
    offset: u64,
    place: &str,
    warnings: &mut Vec<Warning>,
) {
    for item in announced {
        let (kind, detail) = match (item.algorithm, &item.value) {
            (Some(_), Some(_)) => continue,
            (Some(_), None) => (
                WarningKind::InvalidDigestValue,
                format!(
                    "{place}{} value {:?} is not valid base64 of a {} digest; it is not checked",
                    item.field.name(),
                    truncate(&item.text),
                    item.token
                ),
            ),
            (None, _) => (
                WarningKind::UnknownDigestAlgorithm,
                format!(
                    "{place}{} item {:?} names no known algorithm (md5, sha, sha-256, \
                     sha-512); it is not checked",
                    item.field.name(),
                    truncate(&item.text)
                ),
            ),
        };
        warnings.push(Warning {
            kind,
            direction: Direction::Response,
            packet,
            offset,
            detail,
        });
    }
}
