//! `endpoint.tls_failure`: the endpoint's network stack reported a
//! protocol-version, fallback or trust failure for a connection.

use wiretrust_applenet::codes::CodeClass;

use super::endpoint::{EndpointEvent, Failure, endpoint_label, process_label};
use super::{Alert, Confidence, DetectionConfig, Rule, Severity};

pub const RULE: Rule = Rule {
    id: "endpoint.tls_failure",
    default_severity: Severity::Medium,
    summary: "CFNetwork, boringssl or SecureTransport reported a protocol-version, fallback or \
              trust failure",
    meaning: "The Mac's own TLS stack failed a connection for a reason that an attacker in the \
              path causes: the peer refused the offered versions (protocol version, \
              errSSLPeerProtocolVersion -9836), rejected a fallback (inappropriate fallback, \
              -9860), demanded more security (insufficient security), or the certificate did \
              not pass trust evaluation (unknown CA, bad certificate, errSSLUnknownRootCert \
              -9812, errSSLXCertChainInvalid -9807, NSURLErrorServerCertificateUntrusted \
              -1202, `Trust evaluate failure`). A certificate from an interception proxy's CA \
              that the Mac does not trust looks exactly like this. Evidence: the log line, its \
              process and the connection's host.",
    false_positives: "Servers with expired or misconfigured certificates, captive portals, \
                      corporate TLS inspection whose CA is not installed, and servers that \
                      only speak versions the client disabled.",
    tuning: "No settings of its own in this release: --fail-on sets which severities make \
             the run fail, and the JSON Lines output can be filtered by detection id, process \
             and destination.",
};

/// Raises the alert for a downgrade- or certificate-class failure;
/// `failure` is the line's classification.
pub fn check(
    event: &EndpointEvent<'_>,
    failure: Option<&Failure>,
    config: &DetectionConfig,
    out: &mut Vec<Alert>,
) {
    let Some(failure) = failure else {
        return;
    };
    let kind = match failure.class {
        CodeClass::Downgrade => "protocol version or fallback failure",
        CodeClass::Certificate => "trust failure",
        CodeClass::Tamper => return,
    };
    let title = format!(
        "TLS {kind} for {} with {}: {}",
        process_label(event.process.get()),
        endpoint_label(event),
        failure.what
    );
    let mut alert = Alert::for_endpoint(
        event,
        RULE.id,
        RULE.default_severity,
        Confidence::Medium,
        title,
        config.host(),
    );
    alert.compare("failure", failure.what.clone());
    alert.compare("class", kind);
    out.push(alert);
}
