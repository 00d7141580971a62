//! The STARTTLS dialogue record: the plaintext SMTP, IMAP, POP3, FTP or
//! XMPP exchange of one TCP connection up to TLS, with the server's
//! capabilities, the STARTTLS request and reply, and the findings of
//! `wiretrust-starttls`. Written with `--observations` as JSON Lines (type
//! `starttls`).

use std::sync::Arc;

use serde::Serialize;
use wiretrust_starttls::{Counters, Evidence, FindingKind, Garble, Outcome, Side};

use super::{Endpoint, format_rfc3339};

/// One plaintext dialogue that the STARTTLS analyser recognised.
#[derive(Clone, Debug, Serialize)]
pub struct StarttlsDialogue {
    /// Always `"starttls"`.
    #[serde(rename = "type")]
    pub record_type: &'static str,
    /// RFC 3339 time of the dialogue's first captured byte.
    pub ts: String,
    #[serde(skip)]
    pub time_ns: i64,
    /// The file or stream the dialogue was read from.
    pub input: Arc<str>,
    /// Index of the TCP connection in the input, as for TLS sessions.
    pub stream: u64,
    pub client: Endpoint,
    pub server: Endpoint,
    /// `smtp`, `imap`, `pop3`, `ftp` or `xmpp`.
    pub protocol: &'static str,
    /// The host name the server gave for itself: the domain of an SMTP
    /// greeting (`220 mx.example.com ESMTP`) or the `from` of an XMPP
    /// server's stream header. `None` for the other protocols, whose
    /// greetings have no fixed place for it.
    pub server_name: Option<String>,
    /// Octets of both directions, gaps included, when the analyser counted
    /// the whole connection. `None` when it stopped at its line limit,
    /// after which the flow may no longer be read.
    pub bytes: Option<u64>,
    /// The server's first line (for XMPP, its stream header).
    pub greeting: Option<LineRecord>,
    /// The last complete capability list before TLS or the client's first
    /// other command, verbatim and bounded in number and length.
    pub capabilities: Vec<String>,
    /// Some capability list offered STARTTLS (STLS, AUTH TLS, `<starttls/>`).
    pub offered: bool,
    pub requested: Option<LineRecord>,
    pub accepted: Option<LineRecord>,
    pub refused: Option<RefusalRecord>,
    /// Stream offset of the client's first TLS byte.
    pub client_tls_offset: Option<u64>,
    /// Stream offset of the server's first TLS byte.
    pub server_tls_offset: Option<u64>,
    /// The client's first bytes were a TLS ClientHello.
    pub implicit_tls: bool,
    pub findings: Vec<FindingRecord>,
    pub counters: CounterRecord,
}

/// One line of the dialogue, as quoted by the analyser.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LineRecord {
    /// `client` or `server`.
    pub side: &'static str,
    /// Stream offset of the line's first byte on that side.
    pub offset: u64,
    /// 1-based line number on that side (one tag for XMPP).
    pub line: u64,
    /// The packet that carried the line's first byte, when known.
    pub packet: Option<u64>,
    /// The line without its ending. Login and mail commands keep only
    /// their verb, so no credential or address is written.
    pub text: String,
}

/// The server's rejection of the STARTTLS request.
#[derive(Clone, Debug, Serialize)]
pub struct RefusalRecord {
    pub reply: LineRecord,
    /// Numeric reply code for SMTP and FTP.
    pub code: Option<u16>,
}

/// One finding of the analyser with the lines that show it.
#[derive(Clone, Debug, Serialize)]
pub struct FindingRecord {
    /// `starttls_absent`, `starttls_garbled`, `starttls_refused`,
    /// `starttls_not_started`, `plaintext_credentials` or `plaintext_mail`.
    pub kind: &'static str,
    /// For `starttls_garbled`: `overwritten`, `near_miss` or
    /// `unknown_keyword`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub garble: Option<&'static str>,
    pub evidence: Vec<LineRecord>,
    #[serde(skip)]
    pub finding: FindingKind,
}

/// Input the analyser skipped, cut or lost.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct CounterRecord {
    pub client_lines: u64,
    pub server_lines: u64,
    pub long_lines: u64,
    pub binary_lines: u64,
    pub gaps: u64,
    pub gap_bytes: u64,
    pub lines_cut_by_gap: u64,
    pub truncated_lines: u64,
    pub line_limit_hits: u64,
    pub capabilities_dropped: u64,
    pub findings_dropped: u64,
    pub commands_dropped: u64,
}

impl From<Counters> for CounterRecord {
    fn from(c: Counters) -> Self {
        CounterRecord {
            client_lines: c.client_lines,
            server_lines: c.server_lines,
            long_lines: c.long_lines,
            binary_lines: c.binary_lines,
            gaps: c.gaps,
            gap_bytes: c.gap_bytes,
            lines_cut_by_gap: c.lines_cut_by_gap,
            truncated_lines: c.truncated_lines,
            line_limit_hits: c.line_limit_hits,
            capabilities_dropped: c.capabilities_dropped,
            findings_dropped: c.findings_dropped,
            commands_dropped: c.commands_dropped,
        }
    }
}

/// The place a dialogue was seen: the capture, its flow, the two ends and
/// the time of its first byte.
pub struct DialogueContext<'a> {
    pub input: &'a Arc<str>,
    pub stream: u64,
    pub client: Endpoint,
    pub server: Endpoint,
    pub time_ns: i64,
    pub protocol: &'static str,
    /// Octets of both directions, gaps included, as far as the flow was read.
    pub bytes: u64,
}

impl StarttlsDialogue {
    /// Builds the record of `outcome`. `packet_of` returns the packet that
    /// carried a side's byte at a stream offset, when known.
    pub fn new(
        outcome: &Outcome,
        context: &DialogueContext<'_>,
        packet_of: &dyn Fn(Side, u64) -> Option<u64>,
    ) -> StarttlsDialogue {
        let line = |evidence: &Evidence| LineRecord {
            side: side_name(evidence.at.side),
            offset: evidence.at.offset,
            line: evidence.at.line,
            packet: packet_of(evidence.at.side, evidence.at.offset),
            text: evidence.text.clone(),
        };
        let starttls = &outcome.starttls;
        let findings = outcome
            .findings
            .iter()
            .map(|finding| FindingRecord {
                kind: finding_name(finding.kind),
                garble: match finding.kind {
                    FindingKind::StarttlsGarbled(garble) => Some(garble_name(garble)),
                    _ => None,
                },
                evidence: finding.evidence.iter().map(line).collect(),
                finding: finding.kind,
            })
            .collect();
        StarttlsDialogue {
            record_type: "starttls",
            ts: format_rfc3339(context.time_ns),
            time_ns: context.time_ns,
            input: Arc::clone(context.input),
            stream: context.stream,
            client: context.client,
            server: context.server,
            protocol: context.protocol,
            server_name: outcome
                .greeting
                .as_ref()
                .and_then(|greeting| greeting_host(context.protocol, &greeting.text)),
            bytes: (outcome.counters.line_limit_hits == 0).then_some(context.bytes),
            greeting: outcome.greeting.as_ref().map(line),
            capabilities: outcome.capabilities.clone(),
            offered: starttls.offered,
            requested: starttls.requested.as_ref().map(line),
            accepted: starttls.accepted.as_ref().map(line),
            refused: starttls.refused.as_ref().map(|reply| RefusalRecord {
                reply: line(&reply.evidence),
                code: reply.code,
            }),
            client_tls_offset: outcome.client_tls_offset,
            server_tls_offset: outcome.server_tls_offset,
            implicit_tls: outcome.implicit_tls,
            findings,
            counters: outcome.counters.into(),
        }
    }

    /// True when the server accepted STARTTLS and both sides began TLS.
    pub fn upgraded(&self) -> bool {
        self.accepted.is_some()
            && self.client_tls_offset.is_some()
            && self.server_tls_offset.is_some()
    }

    /// True when a finding shows STARTTLS absent, garbled, refused or
    /// accepted but not started.
    pub fn stripped(&self) -> bool {
        self.findings.iter().any(|f| f.finding.is_stripping())
    }

    /// Returns the findings of one kind.
    pub fn findings_of(&self, kind: FindingKind) -> impl Iterator<Item = &FindingRecord> {
        self.findings.iter().filter(move |f| f.finding == kind)
    }
}

/// Returns the host name in a server's greeting. For SMTP it is the first
/// word after the reply code, which RFC 5321 section 4.3.1 makes the
/// server's domain. For XMPP it is the `from` attribute of the stream header
/// (RFC 6120 section 4.7.1). Address literals and words that are not host
/// names (`ESMTP` from servers that omit the domain) give `None`.
fn greeting_host(protocol: &str, greeting: &str) -> Option<String> {
    let candidate = match protocol {
        "smtp" => greeting.get(4..)?.split_whitespace().next()?,
        "xmpp" => xml_attribute(greeting, "from")?,
        _ => return None,
    };
    let is_host = candidate.contains('.') || candidate.eq_ignore_ascii_case("localhost");
    let valid = candidate
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
    (is_host && valid && candidate.len() <= 253).then(|| candidate.to_ascii_lowercase())
}

/// Returns the value of attribute `name` in one XML start tag, quoted with
/// `'` or `"`.
fn xml_attribute<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let mut rest = tag;
    while let Some(at) = rest.find(name) {
        let before = rest[..at].chars().next_back();
        let after = &rest[at + name.len()..];
        rest = after;
        if !before.is_some_and(char::is_whitespace) {
            continue;
        }
        let Some(value) = after.trim_start().strip_prefix('=') else {
            continue;
        };
        let value = value.trim_start();
        let quote = value.chars().next().filter(|c| *c == '\'' || *c == '"')?;
        let value = &value[1..];
        return value.find(quote).map(|end| &value[..end]);
    }
    None
}

fn side_name(side: Side) -> &'static str {
    match side {
        Side::Client => "client",
        Side::Server => "server",
    }
}

fn finding_name(kind: FindingKind) -> &'static str {
    match kind {
        FindingKind::StarttlsAbsent => "starttls_absent",
        FindingKind::StarttlsGarbled(_) => "starttls_garbled",
        FindingKind::StarttlsRefused => "starttls_refused",
        FindingKind::StarttlsNotStarted => "starttls_not_started",
        FindingKind::PlaintextCredentials => "plaintext_credentials",
        FindingKind::PlaintextMail => "plaintext_mail",
    }
}

fn garble_name(garble: Garble) -> &'static str {
    match garble {
        Garble::Overwritten => "overwritten",
        Garble::NearMiss => "near_miss",
        Garble::UnknownKeyword => "unknown_keyword",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_greeting_names_host() {
        let host = greeting_host("smtp", "220 localhost ESMTP");
        assert_eq!(host.as_deref(), Some("localhost"));
        let host = greeting_host("smtp", "220-MX.Example.com ESMTP Postfix");
        assert_eq!(host.as_deref(), Some("mx.example.com"));
    }

    #[test]
    fn smtp_greeting_without_host() {
        assert_eq!(greeting_host("smtp", "220 ESMTP ready"), None);
        assert_eq!(greeting_host("smtp", "220 [192.0.2.1] ready"), None);
        assert_eq!(greeting_host("smtp", "220"), None);
        assert_eq!(greeting_host("pop3", "+OK mail.example.com ready"), None);
    }

    #[test]
    fn xmpp_stream_from_names_host() {
        let header = "<stream:stream id='1' from='chat.example.com' xmlns='jabber:client'>";
        let host = greeting_host("xmpp", header);
        assert_eq!(host.as_deref(), Some("chat.example.com"));
        let header = "<stream:stream xfrom='a.example' id=\"2\">";
        assert_eq!(greeting_host("xmpp", header), None);
    }
}
