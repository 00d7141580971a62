//! `tls.fallback_retry`: a client fell back to a lower protocol version.
//!
//! Three signals, strongest first: the server answered with an
//! `inappropriate_fallback` alert (RFC 7507: the client's fallback was not
//! needed, so something made the first attempt fail); a failed attempt
//! followed, within the window, by a retry offering a lower maximum version
//! from the same client to the same server; and TLS_FALLBACK_SCSV alone,
//! which a client sends on any retry it makes with a lower version.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;

use wiretrust_tls::registry::ProtocolVersion;

use super::version_floor::destination_label;
use super::{Alert, Confidence, DetectionConfig, Evidence, Rule, Severity};
use crate::observations::{Endpoint, Sender, TlsSession};

pub const RULE: Rule = Rule {
    id: "tls.fallback_retry",
    default_severity: Severity::Low,
    summary: "A client fell back to a lower protocol version after a failed attempt",
    meaning: "Clients that retry a failed handshake with a lower version can be pushed down to \
              a weak version by an attacker who only has to break the first attempt (the \
              POODLE-style version fallback dance). High when the server rejects the retry \
              with inappropriate_fallback (alert 86), or when a failed attempt (a ClientHello \
              with no ServerHello before a reset, close or fatal alert) is followed within the \
              window by a ClientHello with a lower maximum version from the same client to the \
              same server. Low when the ClientHello only carries TLS_FALLBACK_SCSV. Evidence: \
              the failed attempt's ClientHello and end, the retry's ClientHello, the alert.",
    false_positives: "Clients retrying against servers that really lack the newer version \
                      (broken middleboxes, old load balancers); intolerant servers that reset \
                      TLS 1.3 hellos.",
    tuning: "The retry window is fixed at 30 seconds in this release; --fail-on high keeps \
             the low-severity SCSV-only alerts from failing the run.",
};

/// RFC 7507 alert: the server supports a higher version than the retry offered.
const INAPPROPRIATE_FALLBACK: u8 = 86;

/// Attempts remembered per client and server; older ones fall out.
const ATTEMPTS_PER_PAIR: usize = 8;

/// Remembers recent failed attempts per client address and server
/// endpoint, so a later retry can be tied to them.
#[derive(Default)]
pub struct FallbackTracker {
    failed: HashMap<(IpAddr, Endpoint), VecDeque<FailedAttempt>>,
    latest_ns: i64,
}

#[derive(Clone)]
struct FailedAttempt {
    start_ns: i64,
    max_version: u16,
    max_version_name: String,
    hello_packet: u64,
    server_name: Option<String>,
    input: String,
    how: String,
}

impl FallbackTracker {
    /// Checks one session, then remembers it if it was a failed attempt.
    /// Sessions must arrive in order of start time.
    pub fn check(&mut self, session: &TlsSession, config: &DetectionConfig, out: &mut Vec<Alert>) {
        let Some(hello) = &session.client_hello else {
            return;
        };
        self.latest_ns = self.latest_ns.max(session.start_ns);
        let previous = self.matching_attempt(session, config);
        let rejected = inappropriate_fallback_packet(session);
        if previous.is_some() || rejected.is_some() || hello.fallback_scsv {
            out.push(build_alert(session, config, previous.as_ref(), rejected));
        }
        if session.failed_attempt {
            self.remember(session);
        }
        self.expire(config.fallback_window_ns);
    }

    fn matching_attempt(
        &self,
        session: &TlsSession,
        config: &DetectionConfig,
    ) -> Option<FailedAttempt> {
        let hello = session.client_hello.as_ref()?;
        let retry_rank = ProtocolVersion(hello.max_version_code).rank();
        let attempts = self.failed.get(&(session.client.ip, session.server))?;
        attempts
            .iter()
            .rev()
            .filter(|a| session.start_ns.saturating_sub(a.start_ns) <= config.fallback_window_ns)
            .filter(|a| a.server_name == session.server_name || session.server_name.is_none())
            .find(|a| ProtocolVersion(a.max_version).rank() > retry_rank)
            .cloned()
    }

    fn remember(&mut self, session: &TlsSession) {
        let Some(hello) = &session.client_hello else {
            return;
        };
        let attempts = self
            .failed
            .entry((session.client.ip, session.server))
            .or_default();
        if attempts.len() == ATTEMPTS_PER_PAIR {
            attempts.pop_front();
        }
        attempts.push_back(FailedAttempt {
            start_ns: session.start_ns,
            max_version: hello.max_version_code,
            max_version_name: hello.max_version.clone(),
            hello_packet: hello.packet,
            server_name: session.server_name.clone(),
            input: session.input.clone(),
            how: failure_description(session),
        });
    }

    /// Forgets attempts too old to match any later session.
    fn expire(&mut self, window_ns: i64) {
        if self.failed.len() < 4096 {
            return;
        }
        let horizon = self.latest_ns.saturating_sub(window_ns);
        self.failed.retain(|_, attempts| {
            attempts.retain(|a| a.start_ns >= horizon);
            !attempts.is_empty()
        });
    }
}

fn inappropriate_fallback_packet(session: &TlsSession) -> Option<u64> {
    session
        .alerts
        .iter()
        .find(|a| a.from == Sender::Server && a.code == Some(INAPPROPRIATE_FALLBACK))
        .map(|a| a.packet)
}

fn failure_description(session: &TlsSession) -> String {
    if let Some(alert) = session.first_fatal_alert() {
        let name = alert.description.as_deref().unwrap_or("unknown");
        return format!(
            "fatal {name} alert from the {:?} at packet {}",
            alert.from, alert.packet
        )
        .to_lowercase();
    }
    format!("connection {:?} with no ServerHello", session.end_reason).to_lowercase()
}

fn build_alert(
    session: &TlsSession,
    config: &DetectionConfig,
    previous: Option<&FailedAttempt>,
    rejected: Option<u64>,
) -> Alert {
    let strong = previous.is_some() || rejected.is_some();
    let severity = if strong {
        Severity::High
    } else {
        RULE.default_severity
    };
    let confidence = if strong {
        Confidence::High
    } else {
        Confidence::Medium
    };
    let max = session
        .client_hello
        .as_ref()
        .map_or("", |h| h.max_version.as_str());
    let title = match (previous, rejected) {
        (Some(attempt), _) => format!(
            "Client retried {} with {max} after a failed {} attempt",
            destination_label(session),
            attempt.max_version_name
        ),
        (None, Some(_)) => format!(
            "Server {} rejected a {max} fallback retry with inappropriate_fallback",
            destination_label(session)
        ),
        (None, None) => {
            format!(
                "Client sent TLS_FALLBACK_SCSV to {}: a retry with {max}",
                destination_label(session)
            )
        }
    };
    let mut alert =
        Alert::for_session(session, RULE.id, severity, confidence, title, config.host());
    add_evidence(&mut alert, session, previous, rejected);
    alert
}

fn add_evidence(
    alert: &mut Alert,
    session: &TlsSession,
    previous: Option<&FailedAttempt>,
    rejected: Option<u64>,
) {
    if let Some(attempt) = previous {
        alert.compare(
            "failed_attempt_max_version",
            attempt.max_version_name.clone(),
        );
        alert.evidence.push(Evidence {
            input: attempt.input.clone(),
            location: format!("packet {}", attempt.hello_packet),
            field: "failed_attempt.client_hello".to_owned(),
            value: format!("offered {}; {}", attempt.max_version_name, attempt.how),
        });
    }
    if let Some(hello) = &session.client_hello {
        alert.compare("retry_max_version", hello.max_version.clone());
        alert.compare("fallback_scsv", hello.fallback_scsv);
        alert.evidence.push(Evidence::at_packet(
            session,
            hello.packet,
            "client_hello.max_version",
            format!(
                "{}{}",
                hello.max_version,
                if hello.fallback_scsv {
                    " with TLS_FALLBACK_SCSV"
                } else {
                    ""
                }
            ),
        ));
    }
    if let Some(packet) = rejected {
        alert.evidence.push(Evidence::at_packet(
            session,
            packet,
            "alert.description",
            "inappropriate_fallback (86)".to_owned(),
        ));
    }
}
