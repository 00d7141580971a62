//! `integrity.length_mismatch`: an HTTP body is shorter or longer than its
//! Content-Length or chunk framing declares, or its framing fields
//! contradict each other.

use super::{Alert, Confidence, DetectionConfig, Evidence, Rule, Severity};
use crate::observations::{HttpTransfer, split_warning_text};

pub const RULE: Rule = Rule {
    id: "integrity.length_mismatch",
    default_severity: Severity::Medium,
    summary: "An HTTP body is shorter or longer than its Content-Length or chunk framing says, \
              or its framing fields contradict each other",
    meaning: "The server closed or reset the connection before the body reached its \
              Content-Length or its last chunk, the chunked framing broke (a malformed chunk \
              size, chunk data without its CRLF), or octets that start no response followed \
              the end of a body. Truncation leaves a client with a partial file; extra octets \
              are a sign of injection or response splitting. It is also raised when the \
              request's or the response's framing fields break RFC 9112 section 6.3: \
              Content-Length together with Transfer-Encoding, several Content-Length values \
              that differ, or a Content-Length that is not a decimal number or passes the \
              largest 64-bit number. Two parsers can then find different ends of the body, \
              which is how request smuggling and response splitting work, so the body's \
              length is not trustworthy whatever octets followed. A capture that simply ends \
              mid-body, loses packets, or cuts packets at its snapshot length leaves the body \
              incomplete, which the http_transfer record reports and this detection does \
              not. Evidence: the packet of the body's last octets and the lengths declared \
              and received, and for a framing error the rule broken and the fields as \
              written.",
    false_positives: "Servers that crash or time out mid-response, and clients that abort a \
                      download (the reset then comes from the client side).",
    tuning: "No settings of its own in this release: --fail-on sets which severities make \
             the run fail, and the JSON Lines output can be filtered by detection id and \
             destination.",
};

/// Raises the alert when the transfer's length disagrees with its framing.
pub fn check(transfer: &HttpTransfer, config: &DetectionConfig, out: &mut Vec<Alert>) {
    let Some(problem) = transfer.length_problem else {
        return;
    };
    let target = transfer.url.as_deref().unwrap_or("an HTTP response");
    let declared = transfer
        .declared_length
        .map_or_else(|| transfer.framing.to_owned(), |length| length.to_string());
    let title = format!(
        "Body of {target}: {problem} ({} octets received, {declared} declared)",
        transfer.received_length
    );
    let mut alert = Alert::for_transfer(
        transfer,
        RULE.id,
        RULE.default_severity,
        Confidence::High,
        title,
        config.host(),
    );
    alert.compare("declared_length", transfer.declared_length);
    alert.compare("received_length", transfer.received_length);
    alert.compare("excess_bytes", transfer.excess_bytes);
    alert.compare("body_end", transfer.body_end);
    if let Some(rule) = transfer.framing_error {
        let packet = transfer
            .response_packet
            .or(transfer.request_packet)
            .unwrap_or_default();
        let value = format!("RFC 9112 section 6.3 error: {rule}");
        let evidence = Evidence::at_transfer_packet(transfer, packet, "http.framing", value);
        alert.evidence.push(evidence);
    }
    let packet = transfer
        .last_body_packet
        .or(transfer.response_packet)
        .unwrap_or_default();
    let value = format!(
        "{}: {} octets received, framing {} ({declared} declared), {} octets after the body",
        transfer.body_end, transfer.received_length, transfer.framing, transfer.excess_bytes
    );
    alert.evidence.push(Evidence::at_transfer_packet(
        transfer,
        packet,
        "http.body",
        value,
    ));
    // Each warning names its own packet and offset, which become the
    // evidence location so the value does not repeat them.
    for warning in &transfer.warnings {
        let evidence = match split_warning_text(warning) {
            Some((location, problem)) => Evidence::at_transfer_location(
                transfer,
                location,
                "http.warning",
                problem.to_owned(),
            ),
            None => Evidence::at_transfer_packet(transfer, packet, "http.warning", warning.clone()),
        };
        alert.evidence.push(evidence);
    }
    out.push(alert);
}
