//! Every detection against the project's captures of real TLS stacks
//! (OpenSSL and curl on 127.0.0.1, some through a relay that alters
//! records) and of byte-by-byte crafted sessions for what no stack here
//! produces. Each detection has a positive and a negative case; the
//! benign sessions raise nothing of medium or higher.

mod common;

use std::collections::BTreeSet;

use wiretrust::detections::Severity;

/// A capture, the alerts it must raise as (detection, severity), and the
/// detections it must not raise; "medium+" forbids any alert of medium or
/// higher.
type Case = (
    &'static str,
    &'static [(&'static str, &'static str)],
    &'static [&'static str],
);

const CASES: &[Case] = &[
    (
        "tls12-benign.pcap",
        &[],
        &[
            "medium+",
            "tls.certificate_name_mismatch",
            "stream.malformed",
            "tls.weak_cipher",
        ],
    ),
    (
        "tls13-benign.pcap",
        &[],
        &["medium+", "tls.fallback_retry", "stream.malformed"],
    ),
    (
        "benign-close-notify.pcap",
        &[],
        &["medium+", "stream.record_tamper", "tls.downgrade_sentinel"],
    ),
    (
        "tls10-forced.pcap",
        &[("tls.version_below_floor", "medium")],
        &["tls.downgrade_sentinel"],
    ),
    (
        "crafted-sslv3.pcap",
        &[
            ("tls.version_below_floor", "critical"),
            ("tls.weak_cipher", "medium"),
        ],
        &[],
    ),
    (
        "anon-suite.pcap",
        &[("tls.weak_cipher", "high")],
        &["tls.version_below_floor"],
    ),
    (
        "null-suite.pcap",
        &[("tls.weak_cipher", "high")],
        &["stream.record_tamper"],
    ),
    (
        "crafted-3des.pcap",
        &[("tls.weak_cipher", "high")],
        &["tls.version_below_floor"],
    ),
    ("crafted-rc4.pcap", &[("tls.weak_cipher", "medium")], &[]),
    (
        "crafted-export.pcap",
        &[
            ("tls.weak_cipher", "medium"),
            ("tls.version_below_floor", "medium"),
        ],
        &[],
    ),
    (
        "fallback-inappropriate.pcap",
        &[("tls.fallback_retry", "high")],
        &["stream.alert_burst"],
    ),
    (
        "alert-burst.pcap",
        &[("stream.alert_burst", "high")],
        &["tls.version_below_floor"],
    ),
    (
        "fallback-scsv-accepted.pcap",
        &[("tls.fallback_retry", "low")],
        &["medium+"],
    ),
    (
        "downgrade-relay.pcap",
        &[("tls.downgrade_sentinel", "high")],
        &[],
    ),
    (
        "crafted-sentinel-downgrade00.pcap",
        &[("tls.downgrade_sentinel", "high")],
        &[],
    ),
    (
        "crafted-tls13-sentinel.pcap",
        &[],
        &["tls.downgrade_sentinel", "medium+"],
    ),
    (
        "tamper-relay.pcap",
        &[("stream.record_tamper", "medium")],
        &[],
    ),
    (
        "crafted-clear-bad-record-mac.pcap",
        &[("stream.record_tamper", "high")],
        &[],
    ),
    (
        "crafted-record-overflow.pcap",
        &[("stream.record_tamper", "high")],
        &[],
    ),
    (
        "crafted-malformed-record.pcap",
        &[("stream.malformed", "low")],
        &[],
    ),
    (
        "name-mismatch.pcap",
        &[("tls.certificate_name_mismatch", "medium")],
        &[],
    ),
    (
        "interception-ca.pcap",
        &[],
        &[
            "tls.certificate_name_mismatch",
            "tls.certificate_changed",
            "medium+",
        ],
    ),
    (
        "http-digests-correct.pcap",
        &[],
        &[
            "medium+",
            "integrity.digest_mismatch",
            "integrity.length_mismatch",
        ],
    ),
    (
        "http-content-md5-wrong.pcap",
        &[("integrity.digest_mismatch", "high")],
        &["integrity.length_mismatch"],
    ),
    (
        "http-digest-wrong.pcap",
        &[("integrity.digest_mismatch", "high")],
        &[],
    ),
    (
        "http-content-digest-wrong.pcap",
        &[("integrity.digest_mismatch", "high")],
        &[],
    ),
    (
        "http-repr-digest-wrong.pcap",
        &[("integrity.digest_mismatch", "high")],
        &[],
    ),
    (
        "http-s3-etag-wrong.pcap",
        &[("integrity.digest_mismatch", "high")],
        &[],
    ),
    (
        "http-chunked-trailer.pcap",
        &[],
        &["medium+", "integrity.length_mismatch"],
    ),
    ("http-gzip-digests.pcap", &[], &["medium+"]),
    (
        "http-short-body-close.pcap",
        &[("integrity.length_mismatch", "medium")],
        &["integrity.digest_mismatch"],
    ),
    (
        "http-keep-alive.pcap",
        &[],
        &["medium+", "tls.stripped", "integrity.digest_mismatch"],
    ),
    ("http-head-304.pcap", &[], &["medium+"]),
    (
        "http-hsts-then-plain.pcap",
        &[("tls.stripped", "high")],
        &["integrity.digest_mismatch"],
    ),
    (
        "smtp-starttls-garbled-relay.pcap",
        &[("tls.stripped", "high")],
        &["stream.malformed"],
    ),
    (
        "smtp-starttls-refused-454.pcap",
        &[("tls.stripped", "high")],
        &["stream.malformed"],
    ),
    (
        "imap-starttls-removed.pcap",
        &[("tls.stripped", "high")],
        &["stream.malformed"],
    ),
    (
        "pop3-stls-removed.pcap",
        &[("tls.stripped", "high")],
        &["stream.malformed"],
    ),
    ("smtp-starttls-used.pcap", &[], &["medium+", "tls.stripped"]),
    ("imap-starttls-used.pcap", &[], &["medium+", "tls.stripped"]),
    ("pop3-stls-used.pcap", &[], &["medium+", "tls.stripped"]),
];

#[test]
fn real_stack_cases() {
    let mut failures = Vec::new();
    for (capture, expected, forbidden) in CASES {
        let scanned = common::scan_paths(&[common::fixture(capture)]);
        let raised: BTreeSet<(&str, String)> = scanned
            .alerts
            .iter()
            .map(|a| (a.detection, a.severity.to_string()))
            .collect();
        for (id, severity) in *expected {
            if !raised.contains(&(*id, (*severity).to_owned())) {
                failures.push(format!(
                    "{capture}: expected {id} at {severity}, raised {raised:?}"
                ));
            }
        }
        for id in *forbidden {
            let hit = scanned.alerts.iter().any(|a| match *id {
                "medium+" => a.severity >= Severity::Medium,
                other => a.detection == other,
            });
            if hit {
                failures.push(format!("{capture}: {id} forbidden, raised {raised:?}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Detections that only endpoint logs can raise; their cases are the
/// constructed logs of tests/endpoint_logs.rs.
const ENDPOINT_ONLY: &[&str] = &["endpoint.tls_failure", "endpoint.ats_blocked"];

/// Detections that only `wiretrust verify` raises, from files and hash
/// manifests; tests/verify.rs contains their cases.
const VERIFY_ONLY: &[&str] = &["integrity.manifest_mismatch"];
/// Detections that only sensor logs with file hashes can raise; their
/// cases are the constructed logs of tests/provenance.rs.
const SENSOR_LOG_ONLY: &[&str] = &["integrity.fleet_divergence"];
/// Detections that compare a session with a baseline learned by an earlier
/// run; tests/baseline.rs learns one and contains their cases.
const BASELINE_ONLY: &[&str] = &[
    "tls.baseline_downgrade",
    "tls.client_hello_changed",
    "tls.certificate_changed",
];

/// Detections that the built-in policy never raises, because they compare
/// with policy entries (pins). Their positive cases are in tests/policy.rs.
const POLICY_ONLY: &[&str] = &["tls.certificate_changed"];

#[test]
fn every_detection_has_both_cases() {
    for rule in wiretrust::detections::RULES {
        if ENDPOINT_ONLY.contains(&rule.id)
            || VERIFY_ONLY.contains(&rule.id)
            || SENSOR_LOG_ONLY.contains(&rule.id)
            || BASELINE_ONLY.contains(&rule.id)
        {
            continue;
        }
        let negative = CASES
            .iter()
            .any(|(_, _, forbidden)| forbidden.contains(&rule.id));
        assert!(negative, "{} has no negative real-stack case", rule.id);
        if POLICY_ONLY.contains(&rule.id) {
            continue;
        }
        let positive = CASES
            .iter()
            .any(|(_, expected, _)| expected.iter().any(|(id, _)| *id == rule.id));
        assert!(positive, "{} has no positive real-stack case", rule.id);
    }
}
