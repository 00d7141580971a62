//! `stream.malformed`: TLS records or messages that no conforming peer
//! sends.

use super::version_floor::destination_label;
use super::{Alert, Confidence, DetectionConfig, Evidence, Rule, Severity};
use crate::observations::TlsSession;

pub const RULE: Rule = Rule {
    id: "stream.malformed",
    default_severity: Severity::Low,
    summary: "Malformed TLS records, impossible lengths, unknown record types or messages out of \
              order",
    meaning: "The connection carried TLS data that no conforming implementation sends: an \
              unknown record content type, a record longer than 2^14 + 2048 bytes, a handshake \
              message shorter than its own length fields, a heartbeat that declares more \
              payload than its record holds (Heartbleed), a second ClientHello before any \
              ServerHello. Each is a sign of a fuzzer, an exploit attempt or an injector in the \
              path. Packets cut short by the capture's snapshot length and bytes the capture \
              lost are capture gaps, counted in the summary, and never raise this detection. \
              Evidence: the packet and the anomaly, for each one found.",
    false_positives: "Non-TLS protocols on a TLS connection after it ends (an FTP control \
                      channel returning to clear text), and buggy embedded stacks.",
    tuning: "No settings of its own in this release: --fail-on sets which severities make \
             the run fail, and the JSON Lines output can be filtered by detection id and \
             destination.",
};

/// Anomalies quoted as evidence at most; the alert counts the rest.
const MAX_EVIDENCE: usize = 5;

/// Raises one alert per session that recorded protocol anomalies.
pub fn check(session: &TlsSession, config: &DetectionConfig, out: &mut Vec<Alert>) {
    let Some(first) = session.anomalies.first() else {
        return;
    };
    let title = format!(
        "Malformed TLS data on the connection to {}: {}",
        destination_label(session),
        strip_packet(first)
    );
    let mut alert = Alert::for_session(
        session,
        RULE.id,
        RULE.default_severity,
        Confidence::High,
        title,
        config.host(),
    );
    alert.compare("anomalies", session.anomalies.len());
    for anomaly in session.anomalies.iter().take(MAX_EVIDENCE) {
        let (location, text) = split_packet(anomaly);
        alert.evidence.push(Evidence {
            input: session.input.clone(),
            location,
            field: "tls.record".to_owned(),
            value: text.to_owned(),
        });
    }
    out.push(alert);
}

/// Splits `packet N: reason` into its location and reason.
fn split_packet(anomaly: &str) -> (String, &str) {
    match anomaly.split_once(": ") {
        Some((location, text)) if location.starts_with("packet ") => (location.to_owned(), text),
        _ => ("connection".to_owned(), anomaly),
    }
}

fn strip_packet(anomaly: &str) -> &str {
    split_packet(anomaly).1
}
