//! `tls.downgrade_sentinel`: the server signalled, in its random, that it
//! would have negotiated a higher version than the ClientHello it received
//! allowed, while the ClientHello seen here offered that higher version.

use wiretrust_tls::registry::ProtocolVersion;

use super::version_floor::destination_label;
use super::{Alert, Confidence, DetectionConfig, Evidence, Rule, Severity};
use crate::observations::TlsSession;

pub const RULE: Rule = Rule {
    id: "tls.downgrade_sentinel",
    default_severity: Severity::High,
    summary: "ServerHello carries the RFC 8446 downgrade sentinel although the client offered more",
    meaning: "A TLS 1.3-capable server that negotiates TLS 1.2 or lower ends ServerHello.random \
              with DOWNGRD\\x01 (chose TLS 1.2) or DOWNGRD\\x00 (chose TLS 1.1 or lower) \
              (RFC 8446 4.1.3). When the ClientHello seen at this vantage point offered a higher \
              version than was negotiated, the server must have received a different \
              ClientHello: something between this sensor and the server rewrote it. A server \
              that selects TLS 1.3 and still sends the sentinel is a known implementation quirk \
              and is not reported. Evidence: the ServerHello random and the ClientHello's \
              offered versions.",
    false_positives: "A TLS-terminating proxy or load balancer between the sensor and the server \
                      that speaks an older version upstream but forwards the server's random.",
    tuning: "No settings of its own in this release: --fail-on sets which severities make \
             the run fail, and the JSON Lines output can be filtered by detection id and \
             destination.",
};

/// Raises the alert for a sentinel in a ServerHello that chose TLS 1.2 or
/// lower while the observed ClientHello offered a higher version.
pub fn check(session: &TlsSession, config: &DetectionConfig, out: &mut Vec<Alert>) {
    let (Some(server), Some(client), Some(code)) = (
        &session.server_hello,
        &session.client_hello,
        session.version_code,
    ) else {
        return;
    };
    let Some(sentinel) = server.downgrade_sentinel else {
        return;
    };
    let negotiated = ProtocolVersion(code);
    if negotiated.rank() == 0 || negotiated.rank() > ProtocolVersion::TLS12.rank() {
        return;
    }
    if !session.client_offered_more() {
        return;
    }
    let title = format!(
        "Downgrade sentinel from {}: server chose {} but the client offered {}",
        destination_label(session),
        negotiated,
        client.max_version
    );
    let mut alert = Alert::for_session(
        session,
        RULE.id,
        RULE.default_severity,
        Confidence::High,
        title,
        config.host(),
    );
    alert.compare("sentinel", sentinel);
    alert.compare("negotiated_version", negotiated.to_string());
    alert.compare("client_max_version", client.max_version.clone());
    alert.evidence.push(Evidence::at_packet(
        session,
        server.packet,
        "server_hello.random_last8",
        server.random_last8.clone(),
    ));
    alert.evidence.push(Evidence::at_packet(
        session,
        client.packet,
        "client_hello.supported_versions",
        offered_versions(session),
    ));
    out.push(alert);
}

fn offered_versions(session: &TlsSession) -> String {
    match &session.client_hello {
        Some(hello) if !hello.supported_versions.is_empty() => hello.supported_versions.join(", "),
        Some(hello) => hello.legacy_version.clone(),
        None => String::new(),
    }
}
