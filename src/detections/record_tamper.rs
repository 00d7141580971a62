//! `stream.record_tamper`: records were altered in transit, as the
//! receiver's reaction shows.

use wiretrust_applenet::codes::CodeClass;

use super::endpoint::{EndpointEvent, Failure, endpoint_label, process_label};
use super::version_floor::destination_label;
use super::{Alert, Confidence, DetectionConfig, Evidence, Rule, Severity};
use crate::observations::{Sender, TlsSession};

pub const RULE: Rule = Rule {
    id: "stream.record_tamper",
    default_severity: Severity::High,
    summary: "A peer rejected records it could not decrypt or verify: tampering in transit",
    meaning: "High for an alert in clear that says a record failed its integrity check: \
              bad_record_mac (20), decryption_failed (21), record_overflow (22) or \
              decrypt_error (51). Medium for the encrypted form on TLS 1.2 and earlier, where \
              alert records keep their type: an encrypted alert from a side that has received \
              application data but sent none, after which no more data flows and the \
              connection ends. That side rejected data it could not decrypt instead of \
              replying. An encrypted alert from a side that has already sent data is an \
              ordinary close_notify and is not reported. TLS 1.3 hides the record type, so only \
              the clear alerts apply there. Evidence: the alert packet and the data it answered. \
              From endpoint logs (high): boringssl's alert lines with those descriptions, \
              handshake errors such as BAD_RECORD_MAC, and SecureTransport codes such as \
              errSSLBadRecordMac (-9846) and errSSLDecryptionFail (-9845) in CFNetwork errors.",
    false_positives: "decrypt_error also reports a failed handshake signature (a broken client \
                      certificate or a misconfigured server key); a client that closes without \
                      ever sending data, for protocols where the server speaks first.",
    tuning: "No settings of its own in this release: --fail-on sets which severities make \
             the run fail, and the JSON Lines output can be filtered by detection id and \
             destination.",
};

/// Alerts in clear that report a record failing its integrity check.
const TAMPER_ALERTS: [u8; 4] = [20, 21, 22, 51];

/// Raises the alert for a clear integrity alert, else for the encrypted
/// pattern.
pub fn check(session: &TlsSession, config: &DetectionConfig, out: &mut Vec<Alert>) {
    let clear = session
        .alerts
        .iter()
        .find(|alert| alert.code.is_some_and(|code| TAMPER_ALERTS.contains(&code)));
    if let Some(alert) = clear {
        let name = alert.description.clone().unwrap_or_default();
        let title = format!(
            "The {} of {} rejected a record with {name}: it failed its integrity check",
            side_name(alert.from),
            destination_label(session)
        );
        let mut raised = Alert::for_session(
            session,
            RULE.id,
            Severity::High,
            Confidence::High,
            title,
            config.host(),
        );
        raised.compare("alert", name.clone());
        let value = format!(
            "{} {name} ({})",
            alert.level,
            alert.code.unwrap_or_default()
        );
        raised
            .evidence
            .push(Evidence::at_packet(session, alert.packet, "alert", value));
        out.push(raised);
        return;
    }
    let Some(unanswered) = session.unanswered_data_alert else {
        return;
    };
    let title = format!(
        "The {} of {} answered {} application-data record(s) with an encrypted alert and the \
         connection ended: records altered in transit",
        side_name(unanswered.from),
        destination_label(session),
        unanswered.records_received
    );
    let mut raised = Alert::for_session(
        session,
        RULE.id,
        Severity::Medium,
        Confidence::Medium,
        title,
        config.host(),
    );
    raised.compare("records_received_before_alert", unanswered.records_received);
    raised.compare("records_sent_before_alert", 0);
    raised.evidence.push(Evidence::at_packet(
        session,
        unanswered.packet,
        "alert",
        format!(
            "encrypted alert from the {} instead of a reply",
            side_name(unanswered.from)
        ),
    ));
    out.push(raised);
}

fn side_name(side: Sender) -> &'static str {
    match side {
        Sender::Client => "client",
        Sender::Server => "server",
    }
}

/// Raises the alert when an endpoint line reports a record that failed
/// its integrity check; `failure` is the line's classification.
pub fn check_endpoint(
    event: &EndpointEvent<'_>,
    failure: Option<&Failure>,
    config: &DetectionConfig,
    out: &mut Vec<Alert>,
) {
    let Some(failure) = failure else {
        return;
    };
    if failure.class != CodeClass::Tamper {
        return;
    }
    let title = format!(
        "{} reported {} with {}: records altered in transit",
        process_label(event.process.get()),
        failure.what,
        endpoint_label(event)
    );
    let mut alert = Alert::for_endpoint(
        event,
        RULE.id,
        Severity::High,
        Confidence::Medium,
        title,
        config.host(),
    );
    alert.compare("failure", failure.what.clone());
    out.push(alert);
}
