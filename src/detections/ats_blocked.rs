//! `endpoint.ats_blocked`: App Transport Security blocked a cleartext or
//! weak load.

use wiretrust_applenet::NetEvent;

use super::endpoint::{ATS_REQUIRES_SECURE, EndpointEvent, endpoint_label, process_label};
use super::{Alert, Confidence, DetectionConfig, Rule, Severity};

pub const RULE: Rule = Rule {
    id: "endpoint.ats_blocked",
    default_severity: Severity::Low,
    summary: "App Transport Security blocked a cleartext or weak load",
    meaning: "CFNetwork refused a load because it broke the app's App Transport Security \
              policy: plain HTTP (NSURLErrorAppTransportSecurityRequiresSecureConnection, \
              -1022), a TLS version or suite below the ATS minimum, or a certificate that \
              failed ATS trust. ATS did its job and nothing was sent in the clear, but a \
              cleartext load where the app expected HTTPS can be an SSL-stripping attempt. \
              Evidence: the log line, its process and the task.",
    false_positives: "Apps that still reference http:// resources, and development builds.",
    tuning: "No settings of its own in this release: --fail-on sets which severities make \
             the run fail, and the JSON Lines output can be filtered by detection id and \
             process.",
};

/// Raises the alert for an ATS refusal.
pub fn check(event: &EndpointEvent<'_>, config: &DetectionConfig, out: &mut Vec<Alert>) {
    let reason = match event.event {
        NetEvent::AtsBlocked { reason, .. } => reason.clone(),
        NetEvent::TaskFailed { url_error, .. } if *url_error == ATS_REQUIRES_SECURE => {
            "the load required a secure connection (-1022)".to_owned()
        }
        _ => return,
    };
    let title = format!(
        "App Transport Security blocked a load by {} to {}: {reason}",
        process_label(event.process.get()),
        endpoint_label(event)
    );
    let mut alert = Alert::for_endpoint(
        event,
        RULE.id,
        RULE.default_severity,
        Confidence::High,
        title,
        config.host(),
    );
    alert.compare("reason", reason);
    out.push(alert);
}
