//! `tls.certificate_name_mismatch`: the server's certificate does not cover
//! the server name the client asked for.

use super::version_floor::destination_label;
use super::{Alert, Confidence, DetectionConfig, Evidence, Rule, Severity};
use crate::observations::TlsSession;

pub const RULE: Rule = Rule {
    id: "tls.certificate_name_mismatch",
    default_severity: Severity::Medium,
    summary: "The server certificate does not cover the requested server name (SNI)",
    meaning: "The leaf certificate sent in clear (TLS 1.2 and earlier) names neither the SNI \
              host in its subjectAltName DNS entries nor, when it has none, in its common name \
              (RFC 6125 matching: case-insensitive, one left-most wildcard label). A client \
              that validates certificates would reject the session; one that does not has \
              been given another server's certificate, which is what an intercepting proxy \
              or a redirect to an attacker looks like. Evidence: the ClientHello's server name \
              and the Certificate packet with the names it covers.",
    false_positives: "Clients that do not validate names (internal tools, IoT), servers that \
                      answer every name with a default certificate, and captures of \
                      misconfigured test sites.",
    tuning: "The policy's allow.inspection_cas and allow.proxies make it info for \
             sanctioned TLS inspection.",
};

/// Raises the alert when the session's leaf certificate was checked
/// against its SNI and did not cover it.
pub fn check(session: &TlsSession, config: &DetectionConfig, out: &mut Vec<Alert>) {
    if session.server_name_covered != Some(false) {
        return;
    }
    let (Some(name), Some(leaf)) = (&session.server_name, session.certificates.first()) else {
        return;
    };
    let names = if leaf.dns_names.is_empty() {
        leaf.subject.clone().unwrap_or_default()
    } else {
        leaf.dns_names.join(", ")
    };
    let title = format!(
        "Certificate from {} does not cover the requested name {name}; it names {names}",
        destination_label(session)
    );
    let mut alert = Alert::for_session(
        session,
        RULE.id,
        RULE.default_severity,
        Confidence::High,
        title,
        config.host(),
    );
    alert.compare("server_name", name.clone());
    alert.compare("certificate_names", names.clone());
    alert.compare("certificate_sha256", leaf.sha256.clone());
    if let Some(hello) = &session.client_hello {
        alert.evidence.push(Evidence::at_packet(
            session,
            hello.packet,
            "client_hello.server_name",
            name.clone(),
        ));
    }
    if let Some(packet) = session.certificate_packet {
        alert.evidence.push(Evidence::at_packet(
            session,
            packet,
            "certificate.names",
            names,
        ));
    }
    out.push(alert);
}
