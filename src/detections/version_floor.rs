//! `tls.version_below_floor`: the negotiated protocol version is below the
//! floor.

use wiretrust_applenet::NetEvent;
use wiretrust_tls::registry::ProtocolVersion;

use super::endpoint::{EndpointEvent, endpoint_label, endpoint_target, process_label};
use super::{Alert, Confidence, DetectionConfig, Evidence, Rule, Severity};
use crate::observations::TlsSession;
use crate::policy::Target;

pub const RULE: Rule = Rule {
    id: "tls.version_below_floor",
    default_severity: Severity::Medium,
    summary: "Negotiated protocol version is below the floor (default TLS 1.2)",
    meaning: "The server chose a protocol version below the configured floor. SSL 2.0 and \
              SSL 3.0 are critical: both are broken (DROWN, POODLE) and an attacker in the path \
              can read or alter the traffic. TLS 1.0 and 1.1 are medium: deprecated by RFC 8996. \
              Evidence: the ServerHello (or SSL 2.0 SERVER-HELLO) packet and the version the \
              ClientHello offered, which shows whether the client could have done better. \
              From endpoint logs: boringssl's `TLS connected` line with the version, and the \
              range `TLS configured` offered.",
    false_positives: "Legacy servers and appliances that only speak TLS 1.0/1.1, old mail and \
                      database servers reached over STARTTLS, and test traffic.",
    tuning: "The policy's [tls] floor and [[tls.server]] floors set the floor; \
             allow.legacy_services and allow.processes exempt servers and processes; \
             --min-version overrides the policy's global floor.",
};

/// Raises the alert when the negotiated version ranks below the floor.
pub fn check(session: &TlsSession, config: &DetectionConfig, out: &mut Vec<Alert>) {
    let (Some(code), Some(hello)) = (session.version_code, session.server_hello.as_ref()) else {
        return;
    };
    let negotiated = ProtocolVersion(code);
    let floor = config.floor_for(&session_target(session));
    // Unknown values rank 0 and tell nothing about the protocol's strength.
    if negotiated.rank() == 0 || negotiated.rank() >= floor.rank() {
        return;
    }
    let critical = negotiated.rank() <= ProtocolVersion::SSL3.rank();
    let severity = if critical {
        Severity::Critical
    } else {
        RULE.default_severity
    };
    let title = format!(
        "{} negotiated with {}, below the {} floor",
        negotiated,
        destination_label(session),
        floor
    );
    let mut alert = Alert::for_session(
        session,
        RULE.id,
        severity,
        Confidence::High,
        title,
        config.host(),
    );
    alert.at_time(session.start_ns);
    alert.compare("floor", floor.to_string());
    alert.compare("negotiated_version", negotiated.to_string());
    alert.evidence.push(Evidence::at_packet(
        session,
        hello.packet,
        "server_hello.version",
        negotiated.to_string(),
    ));
    if let Some(client) = &session.client_hello {
        alert.evidence.push(Evidence::at_packet(
            session,
            client.packet,
            "client_hello.max_version",
            client.max_version.clone(),
        ));
    }
    out.push(alert);
}

/// Returns the session's server as policy patterns see it.
pub(super) fn session_target(session: &TlsSession) -> Target<'_> {
    Target {
        name: session.server_name.as_deref(),
        ip: Some(session.server.ip),
        port: Some(session.server.port),
    }
}

/// `name (ip:port)` or `ip:port` for titles.
pub(super) fn destination_label(session: &TlsSession) -> String {
    let address = match session.server.ip {
        std::net::IpAddr::V6(ip) => format!("[{ip}]:{}", session.server.port),
        std::net::IpAddr::V4(ip) => format!("{ip}:{}", session.server.port),
    };
    match &session.server_name {
        Some(name) => format!("{name} ({address})"),
        None => address,
    }
}

/// Raises the alert when the endpoint logged a connection negotiated
/// below the floor (`TLS connected [version(0x0301) ...]`).
pub fn check_endpoint(event: &EndpointEvent<'_>, config: &DetectionConfig, out: &mut Vec<Alert>) {
    let NetEvent::TlsConnected { version, .. } = event.event else {
        return;
    };
    let negotiated = ProtocolVersion(*version);
    let floor = config.floor_for(&endpoint_target(event));
    if negotiated.rank() == 0 || negotiated.rank() >= floor.rank() {
        return;
    }
    let severity = if negotiated.rank() <= ProtocolVersion::SSL3.rank() {
        Severity::Critical
    } else {
        RULE.default_severity
    };
    let title = format!(
        "{} negotiated by {} with {}, below the {} floor",
        negotiated,
        process_label(event.process.get()),
        endpoint_label(event),
        floor
    );
    let mut alert = Alert::for_endpoint(
        event,
        RULE.id,
        severity,
        Confidence::High,
        title,
        config.host(),
    );
    alert.tls.version = Some(negotiated.to_string());
    alert.compare("floor", floor.to_string());
    alert.compare("negotiated_version", negotiated.to_string());
    if let Some((_, connection)) = event.connection
        && let Some(max) = &connection.offered_max_version
    {
        alert.compare("offered_max_version", max.clone());
    }
    alert.refresh_missing();
    out.push(alert);
}
