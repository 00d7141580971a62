//! `tls.weak_cipher`: a weak cipher suite was negotiated.

use wiretrust_applenet::NetEvent;
use wiretrust_tls::registry::WeakClasses;

use super::endpoint::{EndpointEvent, endpoint_label, endpoint_target, process_label};
use super::version_floor::{destination_label, session_target};
use super::{Alert, Confidence, DetectionConfig, Evidence, Rule, Severity};
use crate::observations::TlsSession;

pub const RULE: Rule = Rule {
    id: "tls.weak_cipher",
    default_severity: Severity::Medium,
    summary: "A weak cipher suite was negotiated (NULL, EXPORT, anonymous, RC4, DES, 3DES, RC2, \
              IDEA, MD5 MAC)",
    meaning: "The server chose a suite that gives no confidentiality (NULL), no \
              authentication (anonymous Diffie-Hellman, open to an active man in the middle), \
              deliberately weakened keys (EXPORT), a broken cipher (RC4, DES, RC2, IDEA, 3DES \
              with its 64-bit block) or an MD5 MAC. High when the client also offered a strong \
              suite (AEAD with forward secrecy, or any TLS 1.3 suite): the server picking the \
              weak one is then a cipher downgrade. SSL 2.0 cipher kinds all use MD5 and are \
              always weak. Evidence: the ServerHello (or SSL 2.0 CLIENT-MASTER-KEY) packet and \
              the suite's weak classes. From endpoint logs: boringssl's `TLS connected` \
              line, which does not list the suites the client offered, so it stays medium.",
    false_positives: "Legacy servers and embedded devices whose only suites are weak; internal \
                      test services configured with NULL or anonymous suites on purpose.",
    tuning: "The policy's [tls] weak_classes and [[tls.server]] weak_classes choose the \
             classes that raise it; allow.legacy_services and allow.processes exempt servers \
             and processes.",
};

/// Returns the suite's weak classes that the policy raises for, joined with `+`;
/// empty when none is.
fn raised_classes(weakness: &[&'static str], raised: WeakClasses) -> String {
    let raised: Vec<&str> = raised.names().collect();
    let classes: Vec<&str> = weakness
        .iter()
        .copied()
        .filter(|class| raised.contains(class))
        .collect();
    classes.join("+")
}

/// Raises the alert when the negotiated suite belongs to a weak class.
pub fn check(session: &TlsSession, config: &DetectionConfig, out: &mut Vec<Alert>) {
    let (Some(server), Some(cipher)) = (&session.server_hello, &session.cipher) else {
        return;
    };
    let raised = config.policy.weak_classes_for(&session_target(session));
    let classes = raised_classes(&session.cipher_weakness, raised);
    if classes.is_empty() {
        return;
    }
    let offered_strong = session
        .client_hello
        .as_ref()
        .is_some_and(|hello| hello.offers_strong);
    let severity = if offered_strong {
        Severity::High
    } else {
        RULE.default_severity
    };
    let title = if offered_strong {
        format!(
            "Cipher downgrade with {}: {cipher} ({classes}) chosen although the client offered \
             strong suites",
            destination_label(session)
        )
    } else {
        format!(
            "Weak cipher {cipher} ({classes}) negotiated with {}",
            destination_label(session)
        )
    };
    let mut alert = Alert::for_session(
        session,
        RULE.id,
        severity,
        Confidence::High,
        title,
        config.host(),
    );
    alert.compare("weak_classes", classes);
    alert.compare("client_offered_strong", offered_strong);
    let packet = server.client_master_key_packet.unwrap_or(server.packet);
    let field = if server.client_master_key_packet.is_some() {
        "client_master_key.cipher"
    } else {
        "server_hello.cipher"
    };
    alert
        .evidence
        .push(Evidence::at_packet(session, packet, field, cipher.clone()));
    out.push(alert);
}

/// Raises the alert when the endpoint logged a connection with a weak
/// suite (`TLS connected [... ciphersuite(TLS_RSA_WITH_RC4_128_SHA) ...]`).
pub fn check_endpoint(event: &EndpointEvent<'_>, config: &DetectionConfig, out: &mut Vec<Alert>) {
    let NetEvent::TlsConnected { .. } = event.event else {
        return;
    };
    let Some((_, connection)) = event.connection else {
        return;
    };
    let Some(cipher) = &connection.cipher else {
        return;
    };
    let raised = config.policy.weak_classes_for(&endpoint_target(event));
    let classes = raised_classes(&connection.cipher_weakness, raised);
    if classes.is_empty() {
        return;
    }
    let title = format!(
        "Weak cipher {cipher} ({classes}) negotiated by {} with {}",
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
    alert.compare("weak_classes", classes);
    out.push(alert);
}
