//! The HTTP transfer record: one request and its response from a plain
//! TCP connection, with the body's hashes and the outcome of each digest
//! field. Written with `--observations` as JSON Lines (type
//! `http_transfer`), like Zeek's http.log and files.log in one line.

use std::sync::Arc;

use serde::Serialize;
use wiretrust_http::{Covers, DigestCheck, Hashes, Outcome, Transfer, Warning};

use super::{Endpoint, format_rfc3339};

/// One HTTP/1 request and response.
#[derive(Clone, Debug, Serialize)]
pub struct HttpTransfer {
    /// Always `"http_transfer"`.
    #[serde(rename = "type")]
    pub record_type: &'static str,
    /// RFC 3339 time of the request (of the response when the request was
    /// not captured).
    pub ts: String,
    #[serde(skip)]
    pub time_ns: i64,
    /// The file or stream the transfer was read from.
    pub input: Arc<str>,
    /// Index of the TCP connection in the input, as for TLS sessions.
    pub stream: u64,
    pub client: Endpoint,
    pub server: Endpoint,
    pub method: Option<String>,
    /// The host the request named (Host field, else the authority of an
    /// absolute target), lower case, without the port.
    pub host: Option<String>,
    /// The request's Host field, as written.
    pub host_header: Option<String>,
    pub url: Option<String>,
    pub request_version: Option<String>,
    pub user_agent: Option<String>,
    pub status: Option<u16>,
    pub reason: Option<String>,
    pub content_type: Option<String>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub server_software: Option<String>,
    pub transfer_encoding: Option<String>,
    pub content_encoding: Option<String>,
    pub strict_transport_security: Option<String>,
    /// The body's delimitation: `none`, `content-length`, `chunked` or
    /// `close`.
    pub framing: &'static str,
    /// Content-Length of the response, when valid.
    pub declared_length: Option<u64>,
    /// Content octets received, transfer coding removed.
    pub received_length: u64,
    /// Octets of the body the capture lost.
    pub missing_bytes: u64,
    /// Octets after the body's end that started no response.
    pub excess_bytes: u64,
    /// Octets of the decoded representation, when a content coding was
    /// decoded.
    pub decoded_length: Option<u64>,
    /// The body's end, e.g. `complete`, `short_at_close`,
    /// `capture_ended`.
    pub body_end: &'static str,
    /// True when every octet the framing announced was seen.
    pub complete: bool,
    /// The reason the length disagrees with the framing, when it does.
    pub length_problem: Option<&'static str>,
    /// The RFC 9112 section 6.3 framing rule that the Content-Length and
    /// Transfer-Encoding fields break (of the response, else of the
    /// request), when they break one.
    pub framing_error: Option<&'static str>,
    /// Hashes of the content (after transfer coding is removed), hex;
    /// absent when the capture lost part of it. `md5` is also absent when
    /// the scan hashed with [`BodyHashing::WhenUsed`] and this body did not
    /// need it.
    ///
    /// [`BodyHashing::WhenUsed`]: wiretrust_http::BodyHashing::WhenUsed
    pub sha256: Option<String>,
    pub md5: Option<String>,
    /// Hashes of the decoded representation, when a content coding
    /// applied.
    pub decoded_sha256: Option<String>,
    pub decoded_md5: Option<String>,
    pub digests: Vec<DigestRecord>,
    pub request_packet: Option<u64>,
    pub response_packet: Option<u64>,
    pub first_body_packet: Option<u64>,
    pub last_body_packet: Option<u64>,
    /// Recoverable parse problems, each naming its packet and offset.
    pub warnings: Vec<String>,
}

/// One digest value of the response and its comparison with the body.
#[derive(Clone, Debug, Serialize)]
pub struct DigestRecord {
    /// `Content-MD5`, `Digest`, `Content-Digest`, `Repr-Digest` or `ETag`.
    pub field: &'static str,
    pub algorithm: String,
    /// The value as written.
    pub expected: String,
    /// The value computed from the body in the same encoding.
    pub computed: Option<String>,
    /// `content` or `representation`.
    pub covers: &'static str,
    /// `verified`, `mismatch`, or `not_checkable_` and the reason.
    pub outcome: &'static str,
    #[serde(skip)]
    pub mismatch: bool,
    #[serde(skip)]
    pub verified: bool,
}

/// The place a transfer was seen: the capture, its flow and the two ends.
pub struct TransferContext<'a> {
    pub input: &'a Arc<str>,
    pub stream: u64,
    pub client: Endpoint,
    pub server: Endpoint,
}

impl HttpTransfer {
    /// Builds the record of `transfer`, seen on the flow of `context`.
    pub fn new(transfer: &Transfer, context: &TransferContext<'_>) -> HttpTransfer {
        let request = transfer.request.as_ref();
        let response = transfer.response.as_ref();
        let fields = response.map(|r| &r.fields);
        let time_ns = request
            .map(|r| r.time_ns)
            .or(response.map(|r| r.time_ns))
            .unwrap_or_default();
        let body = &transfer.body;
        let field = |get: fn(&wiretrust_http::ResponseFields) -> &Option<String>| {
            fields.and_then(|f| get(f).clone())
        };
        HttpTransfer {
            record_type: "http_transfer",
            ts: format_rfc3339(time_ns),
            time_ns,
            input: Arc::clone(context.input),
            stream: context.stream,
            client: context.client,
            server: context.server,
            method: request.map(|r| r.method.clone()),
            host: transfer.host().map(str::to_ascii_lowercase),
            host_header: request.and_then(|r| r.host.clone()),
            url: transfer.url(),
            request_version: request.map(|r| r.version.clone()),
            user_agent: request.and_then(|r| r.user_agent.clone()),
            status: response.map(|r| r.status),
            reason: response.map(|r| r.reason.clone()),
            content_type: field(|f| &f.content_type),
            etag: field(|f| &f.etag),
            last_modified: field(|f| &f.last_modified),
            server_software: field(|f| &f.server),
            transfer_encoding: field(|f| &f.transfer_encoding),
            content_encoding: field(|f| &f.content_encoding),
            strict_transport_security: field(|f| &f.strict_transport_security),
            framing: body.framing.name(),
            declared_length: body.declared_length,
            received_length: body.received,
            missing_bytes: body.missing,
            excess_bytes: body.excess,
            decoded_length: body.representation.as_ref().map(|h| h.length),
            body_end: body.end.name(),
            complete: transfer.is_complete(),
            length_problem: transfer.length_problem(),
            framing_error: body.framing_error.or(request.and_then(|r| r.framing_error)),
            sha256: hex_of(body.content.as_ref(), |h| Some(&h.sha256)),
            md5: hex_of(body.content.as_ref(), |h| h.md5.as_ref()),
            decoded_sha256: hex_of(body.representation.as_ref(), |h| Some(&h.sha256)),
            decoded_md5: hex_of(body.representation.as_ref(), |h| h.md5.as_ref()),
            digests: transfer.digests.iter().map(DigestRecord::new).collect(),
            request_packet: request.map(|r| r.packet),
            response_packet: response.map(|r| r.packet),
            first_body_packet: body.first_packet,
            last_body_packet: body.last_packet,
            warnings: transfer.warnings.iter().map(warning_text).collect(),
        }
    }

    /// Returns the host the request named, when it named one.
    pub fn host_name(&self) -> Option<String> {
        self.host.clone().filter(|host| !host.is_empty())
    }
}

impl DigestRecord {
    fn new(check: &DigestCheck) -> DigestRecord {
        let covers = match check.announced.field.covers() {
            Covers::Content => "content",
            Covers::Representation => "representation",
        };
        DigestRecord {
            field: check.announced.field.name(),
            algorithm: check.announced.token.clone(),
            expected: check.announced.text.clone(),
            computed: check.computed.clone(),
            covers,
            outcome: check.outcome.name(),
            mismatch: check.outcome == Outcome::Mismatch,
            verified: check.outcome == Outcome::Verified,
        }
    }
}

fn hex_of<const N: usize>(
    hashes: Option<&Hashes>,
    pick: fn(&Hashes) -> Option<&[u8; N]>,
) -> Option<String> {
    hashes.and_then(pick).map(hex::encode)
}

/// Splits a text of [`warning_text`] into its location
/// (`packet N, request|response offset O`) and its problem (`kind:
/// detail`); `None` when the text has no location.
pub fn split_warning_text(text: &str) -> Option<(&str, &str)> {
    let (location, problem) = text.split_once(": ")?;
    location
        .starts_with("packet ")
        .then_some((location, problem))
}

/// Formats a parse warning as `packet N, request|response offset O: kind: detail`.
pub fn warning_text(warning: &Warning) -> String {
    let side = match warning.direction {
        wiretrust_http::Direction::Request => "request",
        wiretrust_http::Direction::Response => "response",
    };
    format!(
        "packet {}, {side} offset {}: {}: {}",
        warning.packet,
        warning.offset,
        warning.kind.name(),
        warning.detail
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use wiretrust_http::{Direction, WarningKind};

    #[test]
    fn warning_text_splits_at_location() {
        let warning = Warning {
            kind: WarningKind::MalformedChunkSize,
            direction: Direction::Response,
            packet: 17,
            offset: 47,
            detail: "malformed chunk size \"zz\": see packet 18".to_owned(),
        };
        let text = warning_text(&warning);
        let (location, problem) = split_warning_text(&text).unwrap_or_default();
        assert_eq!(location, "packet 17, response offset 47");
        assert_eq!(
            problem,
            "malformed_chunk_size: malformed chunk size \"zz\": see packet 18"
        );
    }

    #[test]
    fn text_without_location_not_split() {
        assert_eq!(split_warning_text("malformed: no location"), None);
    }
}
