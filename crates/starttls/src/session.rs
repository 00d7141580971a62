//! State that every protocol shares: the outcome being built, the capability
//! list in progress and the rules that turn events into findings.

use crate::outcome::{Evidence, Finding, FindingKind, Garble, Limits, Outcome, Position, Reply};
use crate::text::{is_any, lossy};

/// One complete line (or XMPP tag) handed to a protocol.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Unit<'a> {
    /// The line without its CR LF or LF ending (an XMPP tag keeps its `>`).
    pub text: &'a [u8],
    /// Position of its first byte.
    pub at: Position,
}

/// The next step a protocol requests from the reader of the side whose line it parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// Read the next line.
    Next,
    /// The next bytes of this side should begin TLS: test them before
    /// reading them as lines.
    ExpectTls,
    /// Pass over this many raw bytes (an IMAP literal or an SMTP BDAT chunk).
    Skip(u64),
}

/// The name of one protocol's STARTTLS capability, and the keywords that resemble it legitimately.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CapabilityRule {
    /// The capability's keyword, compared ignoring ASCII case.
    pub keyword: &'static str,
    /// Keywords of the protocol that have the keyword's length, so that
    /// they are never taken for a garbled one.
    pub known: &'static [&'static str],
    /// Whether the protocol's keywords are single atoms, so that an unknown
    /// keyword of the same length is worth reporting.
    pub atoms: bool,
}

/// Capability lines quoted at most when a list lacks STARTTLS.
// NOTE: a list with more lines is quoted only in part; the outcome's
// capabilities still contain all of them up to `Limits::max_capabilities`.
const MAX_ABSENT_LINES: usize = 6;

/// A complete capability list, summarised for the later checks.
#[derive(Debug, Clone)]
struct CapabilityList {
    /// The lines that show what the list offered: its capability lines, or
    /// its first line when the capabilities share it (IMAP).
    lines: Vec<Evidence>,
    offered: bool,
    garbled: bool,
}

/// A capability list being read.
#[derive(Debug, Clone, Default)]
struct ListInProgress {
    first: Option<Evidence>,
    /// Capability lines other than the first line, up to [`MAX_ABSENT_LINES`].
    lines: Vec<Evidence>,
    items: Vec<String>,
    dropped: u64,
    offered: bool,
    /// Lines whose keyword has the capability's length but is not known.
    unknown: Vec<(Evidence, Garble)>,
    garbled: Vec<(Evidence, Garble)>,
    /// Garbled or unknown lines not kept because of the findings limit.
    candidates_dropped: u64,
    /// A gap cut the list, so a missing capability proves nothing.
    tainted: bool,
}

/// The outcome being built and the protocol-independent rules.
#[derive(Debug)]
pub(crate) struct Session {
    pub limits: Limits,
    pub outcome: Outcome,
    list: Option<ListInProgress>,
    last_list: Option<CapabilityList>,
    /// The client has sent a command that continues the session, so later
    /// capability lists (after login) are not checked.
    proceeded: bool,
    mail_reported: bool,
    not_started_reported: bool,
}

impl Session {
    pub(crate) fn new(limits: Limits) -> Self {
        Session {
            limits,
            outcome: Outcome::default(),
            list: None,
            last_list: None,
            proceeded: false,
            mail_reported: false,
            not_started_reported: false,
        }
    }

    /// Quotes a line, shortened to the text limit.
    pub(crate) fn evidence(&self, unit: &Unit<'_>) -> Evidence {
        self.evidence_text(unit.at, unit.text)
    }

    /// Quotes `text` as found at `at`, shortened to the text limit.
    pub(crate) fn evidence_text(&self, at: Position, text: &[u8]) -> Evidence {
        Evidence {
            at,
            text: lossy(text, self.limits.max_text_len),
        }
    }

    /// Records the server's greeting unless one is already recorded.
    pub(crate) fn greeting(&mut self, unit: &Unit<'_>) {
        if self.outcome.greeting.is_none() {
            self.outcome.greeting = Some(self.evidence(unit));
        }
    }

    fn push_finding(&mut self, kind: FindingKind, evidence: Vec<Evidence>) {
        if self.outcome.findings.len() >= self.limits.max_findings {
            let counters = &mut self.outcome.counters;
            counters.findings_dropped = counters.findings_dropped.saturating_add(1);
            return;
        }
        self.outcome.findings.push(Finding { kind, evidence });
    }

    /// Starts a capability list whose first line is `unit`. A list already
    /// in progress is dropped.
    pub(crate) fn begin_capabilities(&mut self, unit: &Unit<'_>) {
        if self.proceeded {
            return;
        }
        self.list = Some(ListInProgress {
            first: Some(self.evidence(unit)),
            ..ListInProgress::default()
        });
    }

    /// Adds one capability of the list in progress. `keyword` is the part
    /// compared with the rule (the first word, or an XMPP element name) and
    /// `unit` is kept verbatim.
    pub(crate) fn capability(&mut self, unit: &Unit<'_>, keyword: &[u8], rule: CapabilityRule) {
        let evidence = self.evidence(unit);
        let max = self.limits.max_capabilities;
        // Candidates become findings later, so they share the findings' bound.
        let max_candidates = self.limits.max_findings;
        let Some(list) = self.list.as_mut() else {
            return;
        };
        let own_line = list
            .first
            .as_ref()
            .is_none_or(|first| first.at != evidence.at)
            && list.lines.last().is_none_or(|last| last.at != evidence.at);
        if own_line && list.lines.len() < MAX_ABSENT_LINES {
            list.lines.push(evidence.clone());
        }
        if keyword.eq_ignore_ascii_case(rule.keyword.as_bytes()) {
            list.offered = true;
        } else if let Some(garble) = classify_garble(keyword, rule) {
            let kept = if garble == Garble::UnknownKeyword {
                &mut list.unknown
            } else {
                &mut list.garbled
            };
            if kept.len() < max_candidates {
                kept.push((evidence.clone(), garble));
            } else {
                list.candidates_dropped = list.candidates_dropped.saturating_add(1);
            }
        }
        if list.items.len() < max {
            list.items.push(evidence.text);
        } else {
            list.dropped = list.dropped.saturating_add(1);
        }
    }

    /// Ends the list in progress: it becomes the outcome's capabilities and
    /// its garbled entries become findings.
    pub(crate) fn end_capabilities(&mut self) {
        let Some(list) = self.list.take() else {
            return;
        };
        let Some(first) = list.first else {
            return;
        };
        let counters = &mut self.outcome.counters;
        counters.capabilities_dropped = counters.capabilities_dropped.saturating_add(list.dropped);
        counters.findings_dropped = counters
            .findings_dropped
            .saturating_add(list.candidates_dropped);
        self.outcome.capabilities = list.items;
        self.outcome.starttls.offered |= list.offered;

        let mut garbled = list.garbled;
        if !list.offered {
            garbled.extend(list.unknown);
        }
        let any_garbled = !garbled.is_empty();
        for (evidence, garble) in garbled {
            self.push_finding(FindingKind::StarttlsGarbled(garble), vec![evidence]);
        }
        if list.tainted {
            return;
        }

        let lines = if list.lines.is_empty() {
            vec![first]
        } else {
            list.lines
        };
        self.last_list = Some(CapabilityList {
            lines,
            offered: list.offered,
            garbled: any_garbled,
        });
    }

    /// Marks the list in progress as cut by a gap.
    pub(crate) fn taint_capabilities(&mut self) {
        if let Some(list) = self.list.as_mut() {
            list.tainted = true;
        }
    }

    /// Records that the client sent `unit`, a command that goes on in
    /// plaintext. The first such command after a complete list that lacked
    /// STARTTLS is a finding, unless the list had a garbled entry, which is
    /// its own finding.
    pub(crate) fn proceed(&mut self, unit: &Unit<'_>) {
        self.proceed_quoting(unit, unit.text);
    }

    /// Records a plaintext command as [`Session::proceed`] does, but quotes
    /// `quoted` instead of the whole line.
    fn proceed_quoting(&mut self, unit: &Unit<'_>, quoted: &[u8]) {
        self.check_not_started(unit, quoted);
        if self.proceeded || self.outcome.starttls.requested.is_some() {
            self.proceeded = true;
            return;
        }
        self.proceeded = true;
        let Some(list) = self.last_list.as_ref() else {
            return;
        };
        if list.offered || list.garbled {
            return;
        }
        let mut evidence = list.lines.clone();
        evidence.push(self.evidence_text(unit.at, quoted));
        self.push_finding(FindingKind::StarttlsAbsent, evidence);
    }

    /// Reports a client command read as a line after the server accepted
    /// STARTTLS. The reader tests the client's bytes after the request for
    /// a TLS start and stops reading lines once it finds one, so a command
    /// line here means the client never began TLS.
    fn check_not_started(&mut self, unit: &Unit<'_>, quoted: &[u8]) {
        if self.not_started_reported || self.outcome.client_tls_offset.is_some() {
            return;
        }
        let Some(accepted) = self.outcome.starttls.accepted.clone() else {
            return;
        };
        self.not_started_reported = true;
        let evidence = vec![accepted, self.evidence_text(unit.at, quoted)];
        self.push_finding(FindingKind::StarttlsNotStarted, evidence);
    }

    /// Records a login command. `verb` is quoted instead of the line, so
    /// that no secret is kept.
    pub(crate) fn credentials(&mut self, unit: &Unit<'_>, verb: &[u8]) {
        self.proceed_quoting(unit, verb);
        let evidence = self.evidence_text(unit.at, verb);
        self.push_finding(FindingKind::PlaintextCredentials, vec![evidence]);
    }

    /// Records a mail transaction command. Only the first is a finding, and
    /// only its verb is quoted, because the rest names people.
    pub(crate) fn mail(&mut self, unit: &Unit<'_>, verb: &[u8]) {
        self.proceed_quoting(unit, verb);
        if self.mail_reported {
            return;
        }
        self.mail_reported = true;
        let evidence = self.evidence_text(unit.at, verb);
        self.push_finding(FindingKind::PlaintextMail, vec![evidence]);
    }

    /// Records the client's STARTTLS request. Only the first request is kept.
    pub(crate) fn request(&mut self, unit: &Unit<'_>) {
        if self.outcome.starttls.requested.is_none() {
            self.outcome.starttls.requested = Some(self.evidence(unit));
        }
    }

    /// Records the server's acceptance of STARTTLS.
    pub(crate) fn accept(&mut self, unit: &Unit<'_>) {
        if self.outcome.starttls.accepted.is_none() {
            self.outcome.starttls.accepted = Some(self.evidence(unit));
        }
    }

    /// Records the server's rejection of STARTTLS as a finding.
    pub(crate) fn refuse(&mut self, unit: &Unit<'_>, code: Option<u16>) {
        let reply = Reply {
            evidence: self.evidence(unit),
            code,
        };
        let mut evidence = Vec::with_capacity(2);
        evidence.extend(self.outcome.starttls.requested.clone());
        evidence.push(reply.evidence.clone());
        if self.outcome.starttls.refused.is_none() {
            self.outcome.starttls.refused = Some(reply);
        }
        self.push_finding(FindingKind::StarttlsRefused, evidence);
    }
}

/// Bytes that middleboxes write over a capability they remove.
const MASK_BYTES: &[u8] = b"Xx* \0";

/// Compares a keyword of the capability's length with the capability.
fn classify_garble(keyword: &[u8], rule: CapabilityRule) -> Option<Garble> {
    let expected = rule.keyword.as_bytes();
    let exact = keyword.eq_ignore_ascii_case(expected);
    if exact || is_any(keyword, rule.known) {
        return None;
    }
    if keyword.len() != expected.len() {
        return is_shortened_or_padded(keyword, expected).then_some(Garble::NearMiss);
    }
    let masked = keyword.iter().filter(|b| MASK_BYTES.contains(b)).count();
    if masked.saturating_add(1) >= keyword.len() {
        return Some(Garble::Overwritten);
    }
    let differing = keyword
        .iter()
        .zip(expected)
        .filter(|(a, b)| !a.eq_ignore_ascii_case(b))
        .count();
    if differing <= 2 {
        return Some(Garble::NearMiss);
    }
    rule.atoms.then_some(Garble::UnknownKeyword)
}

/// True when `keyword` is within two insertions, deletions or
/// substitutions of `expected`, ignoring ASCII case, as a capability cut
/// short (`STARTT`) or padded (`STARTTLSX`) in transit is. Keywords of
/// fewer than three bytes are too short to resemble anything.
fn is_shortened_or_padded(keyword: &[u8], expected: &[u8]) -> bool {
    const MAX_EDITS: usize = 2;
    if keyword.len() < 3 || keyword.len().abs_diff(expected.len()) > MAX_EDITS {
        return false;
    }
    let keyword = keyword.to_ascii_uppercase();
    let expected = expected.to_ascii_uppercase();
    strsim::generic_levenshtein(&keyword, &expected) <= MAX_EDITS
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMTP: CapabilityRule = CapabilityRule {
        keyword: "STARTTLS",
        known: &["8BITMIME", "CHUNKING"],
        atoms: true,
    };

    #[test]
    fn garble_classes() {
        assert_eq!(
            classify_garble(b"XXXXXXXA", SMTP),
            Some(Garble::Overwritten)
        );
        assert_eq!(
            classify_garble(b"********", SMTP),
            Some(Garble::Overwritten)
        );
        assert_eq!(classify_garble(b"STARTTLZ", SMTP), Some(Garble::NearMiss));
        assert_eq!(
            classify_garble(b"XYZZYQRS", SMTP),
            Some(Garble::UnknownKeyword)
        );
        assert_eq!(classify_garble(b"8bitmime", SMTP), None);
        assert_eq!(classify_garble(b"starttls", SMTP), None);
        assert_eq!(classify_garble(b"SIZE", SMTP), None);
    }

    #[test]
    fn garble_shortened_or_padded() {
        assert_eq!(classify_garble(b"STARTT", SMTP), Some(Garble::NearMiss));
        assert_eq!(classify_garble(b"StartTL", SMTP), Some(Garble::NearMiss));
        assert_eq!(classify_garble(b"STARTTLSX", SMTP), Some(Garble::NearMiss));
        assert_eq!(classify_garble(b"START", SMTP), None);
        assert_eq!(classify_garble(b"PIPELINING", SMTP), None);
        let pop3 = CapabilityRule {
            keyword: "STLS",
            known: &["USER"],
            atoms: true,
        };
        assert_eq!(classify_garble(b"STL", pop3), Some(Garble::NearMiss));
        assert_eq!(classify_garble(b"ST", pop3), None);
        assert_eq!(classify_garble(b"TOP", pop3), None);
        assert_eq!(classify_garble(b"user", pop3), None);
    }

    #[test]
    fn unknown_keyword_needs_atoms() {
        let features = CapabilityRule {
            atoms: false,
            ..SMTP
        };
        assert_eq!(classify_garble(b"XYZZYQRS", features), None);
    }
}
