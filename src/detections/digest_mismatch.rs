//! `integrity.digest_mismatch`: an HTTP body differs from the digest its
//! response announced.

use super::{Alert, Confidence, DetectionConfig, Evidence, Rule, Severity};
use crate::observations::HttpTransfer;

pub const RULE: Rule = Rule {
    id: "integrity.digest_mismatch",
    default_severity: Severity::High,
    summary: "An HTTP body's hash differs from its Content-MD5, Digest, Content-Digest or \
              Repr-Digest field (or the MD5 ETag of an S3 object)",
    meaning: "The server announced a digest of what it sent, and the octets that crossed the \
              wire hash to something else: the body was changed in transit (an injecting \
              proxy, a tampering middlebox) or the server's digest is stale. Each field is \
              compared with the octets it covers: Content-MD5, Digest (RFC 3230) and \
              Content-Digest (RFC 9530) with the content as sent, after the transfer coding \
              is removed; Repr-Digest with the representation after the content coding \
              (gzip, deflate, br) is removed; a 32-hex-digit ETag with the content, only when \
              the response comes from Amazon S3 (an x-amz-* field or Server: AmazonS3). \
              Content-Digest and Repr-Digest in the trailer section of a chunked body \
              (RFC 9530 allows them there) are checked like header fields. \
              Bodies the capture did not see whole, unknown algorithms and values that are \
              not valid base64 are reported in the http_transfer record as not checkable, \
              never as a mismatch. Evidence: the response packet, the field, the value \
              announced and the value computed.",
    false_positives: "Servers that compute a digest before a late rewrite of the body (a CDN \
                      that minifies, a proxy that re-compresses) or that cache a stale \
                      Content-MD5.",
    tuning: "No settings of its own in this release: --fail-on sets which severities make \
             the run fail, and the JSON Lines output can be filtered by detection id and \
             destination.",
};

/// Raises one alert per transfer with at least one mismatching digest.
pub fn check(transfer: &HttpTransfer, config: &DetectionConfig, out: &mut Vec<Alert>) {
    let mismatches: Vec<_> = transfer.digests.iter().filter(|d| d.mismatch).collect();
    let Some(first) = mismatches.first() else {
        return;
    };
    let target = transfer.url.as_deref().unwrap_or("an HTTP response");
    let title = format!(
        "Body of {target} does not match its {} {} digest",
        first.field, first.algorithm
    );
    let mut alert = Alert::for_transfer(
        transfer,
        RULE.id,
        RULE.default_severity,
        Confidence::High,
        title,
        config.host(),
    );
    let packet = transfer
        .response_packet
        .or(transfer.last_body_packet)
        .unwrap_or_default();
    for digest in &mismatches {
        let field = format!("http.response.{}", digest.field.to_ascii_lowercase());
        let value = format!(
            "{} announced {}, {} computed {} over the {}",
            digest.algorithm,
            digest.expected,
            digest.algorithm,
            digest.computed.as_deref().unwrap_or("nothing"),
            digest.covers
        );
        let evidence = Evidence::at_transfer_packet(transfer, packet, &field, value);
        alert.evidence.push(evidence);
        alert.compare(
            &format!("{}.{}", digest.field, digest.algorithm),
            digest.expected.clone(),
        );
    }
    if let Some(last) = transfer.last_body_packet {
        let value = format!("{} octets received", transfer.received_length);
        alert.evidence.push(Evidence::at_transfer_packet(
            transfer,
            last,
            "http.body.last_packet",
            value,
        ));
    }
    out.push(alert);
}
