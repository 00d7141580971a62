//! `tls.certificate_changed`: the leaf certificate of a pinned server
//! matches none of the policy's pinned keys and issuers.

use super::version_floor::destination_label;
use super::{Alert, Confidence, DetectionConfig, Evidence, Rule, Severity};
use crate::observations::TlsSession;
use crate::policy::{Pin, Target};

pub const RULE: Rule = Rule {
    id: "tls.certificate_changed",
    default_severity: Severity::High,
    summary: "The certificate of a pinned server matches none of its pinned keys or issuers",
    meaning: "A [[pin]] entry of the policy names the keys (SHA-256 of the \
              SubjectPublicKeyInfo) and issuers a server may present, and the leaf certificate \
              sent in clear (TLS 1.2 and earlier) matches none of them: the key is not pinned \
              and the issuer name contains none of the pinned issuer strings. Another key \
              under another CA for a pinned name is what an intercepting proxy or a \
              mis-issued certificate looks like. TLS 1.3 encrypts the certificate, so \
              sessions without a certificate in clear are not checked. Evidence: the \
              Certificate packet with the leaf's key hash and issuer, and the pin's policy line.",
    false_positives: "A planned rotation to a key or CA that the pin does not list yet, and \
                      TLS-inspecting proxies not listed in allow.inspection_cas or \
                      allow.proxies (which make the alert info).",
    tuning: "[[pin]] server, spki_sha256 and issuer; allow.inspection_cas; allow.proxies.",
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
