//! `tls.certificate_changed` from the policy's pins: the leaf certificate
//! of a pinned server matches none of its pinned keys and issuers. The
//! baseline raises the same id when a key or issuer is new for a server
//! name (src/detections/baseline).

use super::version_floor::destination_label;
use super::{Alert, Confidence, DetectionConfig, Evidence, Rule, Severity};
use crate::observations::TlsSession;
use crate::policy::{Pin, Target};

pub const RULE: Rule = Rule {
    id: "tls.certificate_changed",
    default_severity: Severity::High,
    summary: "A server's certificate key or issuer matches neither its pins nor its baseline",
    meaning: "Two sources raise it. A [[pin]] entry of the policy names the keys (SHA-256 \
              of the SubjectPublicKeyInfo) and issuers a server may present, and the leaf \
              certificate matches none of them. Or the store's profiles for the server name, \
              from every host, list each leaf key and issuer seen before, and the key or the \
              issuer is new; it is info when only the key is new and the issuer was seen \
              before for this name (a rotation to a known issuer). Another key under another \
              CA for a known name is what an intercepting proxy or a mis-issued certificate \
              looks like. Only certificates sent in clear count, so TLS 1.3 sessions are not \
              judged. When both apply to one session, it raises one alert, the pin's, \
              with the baseline's change and previous key and issuer added. Evidence: the \
              Certificate packet with the leaf's key hash and issuer, and the pin's policy \
              line or the previous key or issuer with its first sighting and count.",
    false_positives: "A planned rotation to a key or CA that the pin or the baseline does not \
                      list yet; a server moving to another CA; TLS-inspecting proxies not \
                      listed in allow.inspection_cas or allow.proxies (which make the alert \
                      info).",
    tuning: "[[pin]] server, spki_sha256 and issuer; allow.inspection_cas; allow.proxies; \
             `wiretrust baseline import` of a reviewed baseline; `wiretrust baseline forget \
             --server NAME` resets a server, because a session that raises this alert above \
             info is not learned.",
};

/// Raises the alert for each pin of the session's server that its leaf
/// certificate does not satisfy.
pub fn check(session: &TlsSession, config: &DetectionConfig, out: &mut Vec<Alert>) {
    let Some(leaf) = session.certificates.first() else {
        return;
    };
    let target = Target {
        name: session.server_name.as_deref(),
        ip: Some(session.server.ip),
        port: Some(session.server.port),
    };
    let Some(pin) = config
        .policy
        .pins_for(&target)
        .find(|pin| !satisfies(pin, leaf.spki_sha256.as_deref(), leaf.issuer.as_deref()))
    else {
        return;
    };

    let issuer = leaf.issuer.clone().unwrap_or_default();
    let spki = leaf.spki_sha256.clone().unwrap_or_default();
    let title = format!(
        "Certificate from {} matches no pinned key or issuer of {}: issued by {}",
        destination_label(session),
        pin.server.value,
        if issuer.is_empty() {
            "an unparsed certificate"
        } else {
            issuer.as_str()
        }
    );
    let mut alert = Alert::for_session(
        session,
        RULE.id,
        RULE.default_severity,
        Confidence::High,
        title,
        config.host(),
    );

    alert.compare("pin", pin_description(pin, config));
    alert.compare("pinned_spki_sha256", pin.spki_sha256.clone());
    alert.compare("pinned_issuers", pin.issuers.clone());
    alert.compare("leaf_spki_sha256", spki.clone());
    alert.compare("leaf_issuer", issuer.clone());
    alert.compare("certificate_sha256", leaf.sha256.clone());
    if let Some(packet) = session.certificate_packet {
        let value = format!("spki_sha256={spki} issuer={issuer}");
        alert.evidence.push(Evidence::at_packet(
            session,
            packet,
            "certificate.leaf",
            value,
        ));
    }
    out.push(alert);
}

/// True when the leaf's key is pinned or its issuer contains a pinned
/// issuer string.
fn satisfies(pin: &Pin, spki: Option<&str>, issuer: Option<&str>) -> bool {
    let key_pinned = spki.is_some_and(|spki| pin.spki_sha256.iter().any(|p| p == spki));
    let issuer_pinned =
        issuer.is_some_and(|issuer| pin.issuers.iter().any(|p| issuer.contains(p.as_str())));
    key_pinned || issuer_pinned
}

fn pin_description(pin: &Pin, config: &DetectionConfig) -> String {
    match &config.policy.path {
        Some(path) => format!("{} ({path}:{})", pin.server.value, pin.server.line),
        None => pin.server.value.to_string(),
    }
}
