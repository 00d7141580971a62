//! `tls.stripped` for STARTTLS dialogues: one alert per connection whose
//! upgrade to TLS was removed, garbled, refused, or accepted but never
//! started.

use wiretrust_starttls::{FindingKind, Garble};

use super::RULE;
use crate::detections::{Alert, Confidence, DetectionConfig, Evidence};
use crate::observations::{FindingRecord, LineRecord, StarttlsDialogue};

/// Evidence lines quoted per alert at most; the record has every finding.
const MAX_EVIDENCE: usize = 8;

/// Raises `tls.stripped` for a dialogue with STARTTLS absent, garbled,
/// refused, or accepted but never started.
pub fn check_dialogue(dialogue: &StarttlsDialogue, config: &DetectionConfig, out: &mut Vec<Alert>) {
    let Some(primary) = primary_finding(dialogue) else {
        return;
    };
    let credentials = dialogue
        .findings_of(FindingKind::PlaintextCredentials)
        .next()
        .is_some();
    let mail = dialogue
        .findings_of(FindingKind::PlaintextMail)
        .next()
        .is_some();
    let confidence = confidence(primary.finding, credentials || mail);
    let title = title(dialogue, primary, credentials, mail);
    let mut alert = Alert::for_dialogue(
        dialogue,
        RULE.id,
        RULE.default_severity,
        confidence,
        title,
        config.host(),
    );
    alert.compare("protocol", dialogue.protocol);
    alert.compare("starttls_offered", dialogue.offered);
    alert.compare("starttls_requested", dialogue.requested.is_some());
    alert.compare("starttls_accepted", dialogue.accepted.is_some());
    if let Some(code) = dialogue.refused.as_ref().and_then(|r| r.code) {
        alert.compare("starttls_reply_code", code);
    }
    alert.compare("missing", missing(dialogue));

    let findings = dialogue.findings.iter();
    let lines = findings.flat_map(|f| f.evidence.iter().map(move |line| (f, line)));
    let quoted_elsewhere = |finding: &FindingRecord, line: &LineRecord| {
        finding.finding.is_stripping() && sent_in_plaintext(dialogue, line)
    };
    let kept = lines.filter(|(finding, line)| !quoted_elsewhere(finding, line));
    for (finding, line) in kept.take(MAX_EVIDENCE) {
        alert.evidence.push(evidence(dialogue, finding.kind, line));
    }
    out.push(alert);
}

/// True when `line` is quoted by a plaintext credentials or mail finding,
/// which names it more precisely than the stripping finding that quotes
/// the same client command as the one that went on in plaintext.
fn sent_in_plaintext(dialogue: &StarttlsDialogue, line: &LineRecord) -> bool {
    let plaintext = [
        FindingKind::PlaintextCredentials,
        FindingKind::PlaintextMail,
    ];
    dialogue
        .findings
        .iter()
        .filter(|f| plaintext.contains(&f.finding))
        .flat_map(|f| f.evidence.iter())
        .any(|quoted| quoted.side == line.side && quoted.offset == line.offset)
}

/// Returns the finding the alert is about: an overwritten or misspelt
/// capability first, then an accepted upgrade the client never started,
/// then a rejected request, then an unknown keyword in its place, then an
/// absent capability.
fn primary_finding(dialogue: &StarttlsDialogue) -> Option<&FindingRecord> {
    let rank = |kind: FindingKind| match kind {
        FindingKind::StarttlsGarbled(Garble::Overwritten | Garble::NearMiss) => Some(0),
        FindingKind::StarttlsNotStarted => Some(1),
        FindingKind::StarttlsRefused => Some(2),
        FindingKind::StarttlsGarbled(Garble::UnknownKeyword) => Some(3),
        FindingKind::StarttlsAbsent => Some(4),
        FindingKind::PlaintextCredentials | FindingKind::PlaintextMail => None,
    };
    dialogue
        .findings
        .iter()
        .filter_map(|f| rank(f.finding).map(|r| (r, f)))
        .min_by_key(|(r, _)| *r)
        .map(|(_, f)| f)
}

/// Returns the confidence that the upgrade was stripped. An overwritten or
/// misspelt capability is what a middlebox leaves. A client that goes on in
/// plaintext after the server accepted STARTTLS is medium on its own and
/// high when what it sent was credentials or mail. The other findings can
/// come from a server configured without TLS, so plaintext credentials or
/// mail after them raise the confidence one step.
fn confidence(kind: FindingKind, sent_in_plaintext: bool) -> Confidence {
    let base = match kind {
        FindingKind::StarttlsGarbled(Garble::Overwritten | Garble::NearMiss) => {
            return Confidence::High;
        }
        FindingKind::StarttlsRefused | FindingKind::StarttlsNotStarted => Confidence::Medium,
        _ => Confidence::Low,
    };
    match (base, sent_in_plaintext) {
        (Confidence::Low, true) => Confidence::Medium,
        (Confidence::Medium, true) => Confidence::High,
        (base, _) => base,
    }
}

fn title(
    dialogue: &StarttlsDialogue,
    primary: &FindingRecord,
    credentials: bool,
    mail: bool,
) -> String {
    let protocol = dialogue.protocol.to_ascii_uppercase();
    let server = format!(
        "{protocol} server {}:{}",
        server_ip(dialogue),
        dialogue.server.port
    );
    let quoted = primary.evidence.last().map(|line| line.text.as_str());
    let happened = match primary.finding {
        FindingKind::StarttlsGarbled(Garble::Overwritten) => format!(
            "STARTTLS capability overwritten as {:?}",
            quoted.unwrap_or("?")
        ),
        FindingKind::StarttlsGarbled(_) => {
            format!("STARTTLS capability garbled as {:?}", quoted.unwrap_or("?"))
        }
        FindingKind::StarttlsNotStarted => {
            "STARTTLS accepted, but the client went on without TLS".to_owned()
        }
        FindingKind::StarttlsRefused => match dialogue.refused.as_ref().and_then(|r| r.code) {
            Some(code) => format!("STARTTLS request rejected with {code}"),
            None => "STARTTLS request rejected".to_owned(),
        },
        _ => "no STARTTLS in the capability list".to_owned(),
    };
    let then = match (credentials, mail) {
        (true, true) => "; the client sent credentials and mail in plaintext",
        (true, false) => "; the client sent credentials in plaintext",
        (false, true) => "; the client sent mail in plaintext",
        (false, false) if primary.finding == FindingKind::StarttlsAbsent => {
            "; the client went on in plaintext"
        }
        (false, false) => "",
    };
    format!("{server}: {happened}{then}")
}

/// Formats the server address as `ip:port` takes it, with IPv6 in brackets.
fn server_ip(dialogue: &StarttlsDialogue) -> String {
    match dialogue.server.ip {
        std::net::IpAddr::V4(ip) => ip.to_string(),
        std::net::IpAddr::V6(ip) => format!("[{ip}]"),
    }
}

/// Names what a protected session would have had and this one lacked.
fn missing(dialogue: &StarttlsDialogue) -> Vec<&'static str> {
    let mut missing = Vec::new();
    if !dialogue.offered {
        missing.push("starttls_capability");
    }
    if dialogue.accepted.is_none() {
        missing.push("starttls_acceptance");
    }
    if dialogue.client_tls_offset.is_none() {
        missing.push("client_tls");
    }
    if dialogue.server_tls_offset.is_none() {
        missing.push("server_tls");
    }
    missing
}

/// Evidence quoting one line of the dialogue, with its packet, side,
/// stream offset and line number; `kind` names the field after the protocol.
pub(crate) fn evidence(dialogue: &StarttlsDialogue, kind: &str, line: &LineRecord) -> Evidence {
    let location = match line.packet {
        Some(packet) => format!(
            "packet {packet}, {} offset {}, line {}",
            line.side, line.offset, line.line
        ),
        None => format!("{} offset {}, line {}", line.side, line.offset, line.line),
    };
    Evidence {
        input: dialogue.input.to_string(),
        location,
        field: format!("{}.{kind}", dialogue.protocol),
        value: line.text.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overwritten_is_high() {
        let kind = FindingKind::StarttlsGarbled(Garble::Overwritten);
        assert_eq!(confidence(kind, false), Confidence::High);
    }

    #[test]
    fn absent_alone_is_low() {
        assert_eq!(
            confidence(FindingKind::StarttlsAbsent, false),
            Confidence::Low
        );
    }

    #[test]
    fn absent_then_credentials_is_medium() {
        assert_eq!(
            confidence(FindingKind::StarttlsAbsent, true),
            Confidence::Medium
        );
    }

    #[test]
    fn not_started_then_credentials_is_high() {
        assert_eq!(
            confidence(FindingKind::StarttlsNotStarted, true),
            Confidence::High
        );
    }

    #[test]
    fn refused_then_mail_is_high() {
        assert_eq!(
            confidence(FindingKind::StarttlsRefused, true),
            Confidence::High
        );
    }
}
