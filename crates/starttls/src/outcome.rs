//! The report of a [`Dialogue`](crate::Dialogue): the protocol, the server's
//! greeting and capabilities, the STARTTLS exchange and the findings.

use wiretrust_tcp::Side;
use wiretrust_tls::Preamble;

/// Bounds on what a [`Dialogue`](crate::Dialogue) buffers and keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Maximum bytes in one line (one tag for XMPP), delimiter excluded.
    /// Longer lines are counted in [`Counters::long_lines`] and skipped.
    pub max_line_len: usize,
    /// Lines read per side before the dialogue stops following that side
    /// (counted in [`Counters::line_limit_hits`]). Mail bodies are lines too.
    pub max_lines_per_side: u64,
    /// Maximum capabilities kept in [`Outcome::capabilities`]. Later ones are
    /// still checked, then counted in [`Counters::capabilities_dropped`].
    pub max_capabilities: usize,
    /// Maximum bytes of each kept text (greeting, capability, reply, evidence).
    pub max_text_len: usize,
    /// Maximum findings kept. Later ones are counted in [`Counters::findings_dropped`].
    pub max_findings: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_line_len: 8 * 1024,
            max_lines_per_side: 10_000,
            max_capabilities: 64,
            max_text_len: 512,
            max_findings: 32,
        }
    }
}

/// A place in one side's byte stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// The side that sent the line.
    pub side: Side,
    /// Stream offset of the line's first byte, counted as the caller counts
    /// (for `wiretrust-tcp`, from the first byte after the SYN, gaps included).
    pub offset: u64,
    /// 1-based line number on that side. For XMPP a "line" is one tag, from
    /// the byte after the previous `>` to the next `>` included.
    pub line: u64,
}

/// One line quoted as evidence, shortened to [`Limits::max_text_len`] and
/// decoded as UTF-8 with replacement characters. Login and mail commands
/// keep only their verb (and SASL mechanism), so no secret or address is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    /// Position of the line's first byte.
    pub at: Position,
    /// The line's text without its line ending.
    pub text: String,
}

/// A server reply to the STARTTLS request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The reply line.
    pub evidence: Evidence,
    /// Numeric reply code for SMTP and FTP, `None` for IMAP, POP3 and XMPP.
    pub code: Option<u16>,
}

/// The way a capability resembling STARTTLS differs from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Garble {
    /// Every byte but at most one is `X`, `x`, `*`, a space or NUL, as in
    /// `XXXXXXXA`. Middleboxes that inspect SMTP overwrite text in place with
    /// such bytes: Cisco ASA's default ESMTP inspection removes the STARTTLS
    /// indication and masks commands and the banner with `x` or `*` (Cisco
    /// ASA Series Firewall CLI Configuration Guide, "SMTP and Extended SMTP
    /// Inspection").
    Overwritten,
    /// At most two bytes differ from the capability's name, ignoring case.
    NearMiss,
    /// A keyword of the capability's length that the protocol does not
    /// define, in a list that lacks the capability. The weakest of the three:
    /// a vendor's private keyword can look the same.
    UnknownKeyword,
}

/// The kind of a [`Finding`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FindingKind {
    /// The server's capability list lacked STARTTLS (STLS, AUTH TLS,
    /// `<starttls/>`) and the client went on in plaintext. One connection
    /// cannot tell a removed capability from a server that never had it.
    /// Evidence: the list's capability lines (at most six, or the one line
    /// of an IMAP list), then the client's next command (only the verb of a
    /// login or mail command).
    StarttlsAbsent,
    /// A capability in the list looks like a mangled STARTTLS. Evidence: the
    /// capability line.
    StarttlsGarbled(Garble),
    /// The client requested STARTTLS and the server rejected it (SMTP or FTP
    /// 4xx/5xx, IMAP `NO` or `BAD`, POP3 `-ERR`, XMPP `<failure/>`).
    /// Evidence: the request, then the reply.
    StarttlsRefused,
    /// The server accepted the STARTTLS request, but the client's next
    /// command came in plaintext instead of a TLS ClientHello, so the
    /// upgrade never happened. Reported once per connection. Evidence: the
    /// acceptance, then the command (only the verb of a login or mail
    /// command).
    StarttlsNotStarted,
    /// The client sent a login (SMTP `AUTH`, IMAP `LOGIN` or `AUTHENTICATE`,
    /// POP3 `USER`, `PASS`, `APOP` or `AUTH`, FTP `USER`, `PASS` or `ACCT`,
    /// XMPP `<auth>`) before TLS started, whether or not STARTTLS was offered.
    /// Evidence: the command verb, never its arguments.
    PlaintextCredentials,
    /// An SMTP client sent `MAIL`, `RCPT`, `DATA` or `BDAT` before TLS
    /// started. Reported once per connection. Evidence: the command verb.
    PlaintextMail,
}

impl FindingKind {
    /// True for the kinds that show the upgrade to TLS removed or defeated:
    /// STARTTLS absent, garbled, refused or accepted but not started.
    pub fn is_stripping(self) -> bool {
        matches!(
            self,
            FindingKind::StarttlsAbsent
                | FindingKind::StarttlsGarbled(_)
                | FindingKind::StarttlsRefused
                | FindingKind::StarttlsNotStarted
        )
    }
}

/// One finding with the lines that show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The kind of finding.
    pub kind: FindingKind,
    /// The lines that show it, in the order given by [`FindingKind`].
    pub evidence: Vec<Evidence>,
}

/// The STARTTLS exchange as seen so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Starttls {
    /// Some capability list offered STARTTLS (STLS, AUTH TLS, `<starttls/>`).
    pub offered: bool,
    /// The client's request, if it sent one.
    pub requested: Option<Evidence>,
    /// The server's positive reply (SMTP 220, FTP 234, IMAP `OK`, POP3 `+OK`,
    /// XMPP `<proceed/>`).
    pub accepted: Option<Evidence>,
    /// The server's negative reply.
    pub refused: Option<Reply>,
}

/// Counts of input that was skipped, cut or lost.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// Lines read, client side.
    pub client_lines: u64,
    /// Lines read, server side.
    pub server_lines: u64,
    /// Lines longer than [`Limits::max_line_len`], skipped.
    pub long_lines: u64,
    /// Lines with bytes outside printable ASCII, tab and UTF-8 (parsed anyway).
    pub binary_lines: u64,
    /// Gaps reported by the caller.
    pub gaps: u64,
    /// Bytes the gaps covered.
    pub gap_bytes: u64,
    /// Partial lines dropped because a gap cut them.
    pub lines_cut_by_gap: u64,
    /// Partial lines at a side's end, parsed as if complete.
    pub truncated_lines: u64,
    /// Sides that stopped because they reached [`Limits::max_lines_per_side`].
    pub line_limit_hits: u64,
    /// Capabilities checked but not kept because of [`Limits::max_capabilities`].
    pub capabilities_dropped: u64,
    /// Findings not kept because of [`Limits::max_findings`].
    pub findings_dropped: u64,
    /// Client commands that got no reply, dropped from the bounded
    /// queue of outstanding commands.
    pub commands_dropped: u64,
}

/// Everything a [`Dialogue`](crate::Dialogue) learned about one connection.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// The protocol, once recognised from the server greeting or the
    /// client's first command.
    pub protocol: Option<Preamble>,
    /// The server's first line (for XMPP, the server's stream header).
    pub greeting: Option<Evidence>,
    /// The capabilities of the last complete list the server sent before
    /// TLS or the client's first other command, verbatim (SMTP EHLO keywords
    /// with their parameters, IMAP capability atoms, POP3 CAPA lines, FTP
    /// FEAT lines, XMPP stream feature tags).
    pub capabilities: Vec<String>,
    /// The STARTTLS exchange.
    pub starttls: Starttls,
    /// Stream offset of the client's first TLS byte.
    pub client_tls_offset: Option<u64>,
    /// Stream offset of the server's first TLS byte.
    pub server_tls_offset: Option<u64>,
    /// The client's first bytes were a TLS ClientHello: TLS from the start,
    /// with no plaintext dialogue.
    pub implicit_tls: bool,
    /// Findings, in the order found.
    pub findings: Vec<Finding>,
    /// Skipped, cut or lost input.
    pub counters: Counters,
}

impl Outcome {
    /// Returns the findings of one kind.
    pub fn findings_of(&self, kind: FindingKind) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(move |f| f.kind == kind)
    }

    /// True when the outcome contains a finding that `tls.stripped` reports:
    /// STARTTLS absent, garbled, refused or accepted but not started.
    pub fn is_stripped(&self) -> bool {
        self.findings.iter().any(|f| f.kind.is_stripping())
    }
}
