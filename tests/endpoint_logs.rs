//! Endpoint logs end to end: the constructed unified log exports in
//! `fixtures/endpoint/` (built from the network stack's message templates
//! by `scripts/endpoint/make-logs.py`) and the public real samples, read
//! in-process with the default settings.

mod common;

use std::path::PathBuf;

use wiretrust::detections::{Alert, Severity};

fn endpoint_fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join("endpoint")
        .join(name)
}

fn alerts_of(names: &[&str]) -> Vec<Alert> {
    let paths: Vec<PathBuf> = names.iter().map(|name| endpoint_fixture(name)).collect();
    common::scan_paths(&paths).alerts
}

fn with_detection<'a>(alerts: &'a [Alert], detection: &str) -> Vec<&'a Alert> {
    alerts.iter().filter(|a| a.detection == detection).collect()
}

fn detections(alerts: &[Alert]) -> Vec<&'static str> {
    alerts.iter().map(|a| a.detection).collect()
}

#[test]
fn benign_export_raises_nothing() {
    for name in ["constructed-benign.ndjson", "constructed-benign.json"] {
        let scanned = common::scan_paths(&[endpoint_fixture(name)]);
        assert!(scanned.alerts.is_empty(), "{name}: {:?}", scanned.alerts);
        assert!(
            scanned.summary.endpoint_lines > 20,
            "{name}: only {} network lines",
            scanned.summary.endpoint_lines
        );
        assert_eq!(scanned.summary.endpoint_connections, 2, "{name}");
        let stats = scanned.summary.inputs[0]
            .endpoint
            .as_ref()
            .expect("an endpoint input");
        assert_eq!(stats.unparsed, 0, "{name}: {:?}", stats.unparsed_examples);
        assert!(stats.errors.is_empty(), "{name}: {:?}", stats.errors);
    }
}

#[test]
fn json_array_matches_ndjson() {
    let lines = common::scan_paths(&[endpoint_fixture("constructed-benign.ndjson")]);
    let array = common::scan_paths(&[endpoint_fixture("constructed-benign.json")]);
    assert_eq!(lines.summary.endpoint_lines, array.summary.endpoint_lines);
    let line_stats = lines.summary.inputs[0].endpoint.as_ref().unwrap();
    let array_stats = array.summary.inputs[0].endpoint.as_ref().unwrap();
    assert_eq!(line_stats.format, "ndjson");
    assert_eq!(array_stats.format, "json");
    assert_eq!(line_stats.reader.records, array_stats.reader.records);
}

#[test]
fn tls10_from_endpoint_is_below_floor() {
    let alerts = alerts_of(&["constructed-tls10.ndjson"]);
    let found = with_detection(&alerts, "tls.version_below_floor");
    assert_eq!(found.len(), 1, "{:?}", detections(&alerts));
    let alert = found[0];
    assert_eq!(alert.severity, Severity::Medium);
    assert_eq!(alert.process.pid, Some(1337));
    assert_eq!(alert.process.name.as_deref(), Some("Example Updater"));
    assert_eq!(
        alert.destination.server_name.as_deref(),
        Some("updates.example.org")
    );
    assert_eq!(alert.destination.port, Some(443));
    assert_eq!(alert.tls.version.as_deref(), Some("TLS 1.0"));
    assert_eq!(alert.tls.client_max_version.as_deref(), Some("TLS 1.3"));
    assert_eq!(alert.host, "constructed-tls10.ndjson");
    assert!(alert.evidence[0].location.starts_with("line "));
    assert!(alert.evidence[0].value.contains("TLS connected"));
}

#[test]
fn rc4_from_endpoint_is_weak_cipher() {
    let alerts = alerts_of(&["constructed-rc4.ndjson"]);
    let found = with_detection(&alerts, "tls.weak_cipher");
    assert_eq!(found.len(), 1, "{:?}", detections(&alerts));
    assert_eq!(
        found[0].tls.cipher.as_deref(),
        Some("TLS_RSA_WITH_RC4_128_SHA")
    );
    assert!(with_detection(&alerts, "tls.version_below_floor").is_empty());
}

#[test]
fn bad_record_mac_alerts_once() {
    for name in [
        "constructed-bad-record-mac.ndjson",
        "constructed-bad-record-mac-stream.ndjson",
    ] {
        let alerts = alerts_of(&[name]);
        let found = with_detection(&alerts, "stream.record_tamper");
        assert_eq!(found.len(), 1, "{name}: {:?}", detections(&alerts));
        assert_eq!(found[0].severity, Severity::High);
        assert_eq!(found[0].process.pid, Some(812));
        assert_eq!(
            found[0].destination.server_name.as_deref(),
            Some("bank.example.com")
        );
        assert!(
            found[0].title.contains("bad record mac"),
            "{}",
            found[0].title
        );
        assert!(
            with_detection(&alerts, "endpoint.tls_failure").is_empty(),
            "{name}"
        );
    }
}

#[test]
fn protocol_version_is_tls_failure() {
    let alerts = alerts_of(&["constructed-protocol-version.ndjson"]);
    let found = with_detection(&alerts, "endpoint.tls_failure");
    assert_eq!(found.len(), 1, "{:?}", detections(&alerts));
    assert_eq!(found[0].severity, Severity::Medium);
    assert_eq!(found[0].destination.port, Some(993));
    assert!(with_detection(&alerts, "stream.record_tamper").is_empty());
}

#[test]
fn trust_failure_is_tls_failure() {
    let alerts = alerts_of(&["constructed-trust-failure.ndjson"]);
    let found = with_detection(&alerts, "endpoint.tls_failure");
    assert_eq!(found.len(), 1, "{:?}", detections(&alerts));
    assert_eq!(found[0].process.name.as_deref(), Some("curl"));
    assert_eq!(found[0].tls.compared["class"], "trust failure");
}

#[test]
fn ats_refusal_is_reported_low() {
    let alerts = alerts_of(&["constructed-ats-blocked.ndjson"]);
    let found = with_detection(&alerts, "endpoint.ats_blocked");
    assert_eq!(found.len(), 1, "{:?}", detections(&alerts));
    assert_eq!(found[0].severity, Severity::Low);
}

#[test]
fn burst_needs_threshold() {
    let burst = alerts_of(&["constructed-alert-burst.ndjson"]);
    let found = with_detection(&burst, "stream.alert_burst");
    assert_eq!(found.len(), 1, "{:?}", detections(&burst));
    assert_eq!(found[0].severity, Severity::High);
    assert!(
        found[0].title.contains("login.example.com"),
        "{}",
        found[0].title
    );
    assert_eq!(found[0].evidence.len(), 5);
    let below = alerts_of(&["constructed-below-burst.ndjson"]);
    assert!(with_detection(&below, "stream.alert_burst").is_empty());
}

#[test]
fn eslogger_names_signing_identity() {
    let alerts = alerts_of(&[
        "constructed-tls10.ndjson",
        "constructed-processes.eslogger.jsonl",
    ]);
    let found = with_detection(&alerts, "tls.version_below_floor");
    assert_eq!(found.len(), 1, "{:?}", detections(&alerts));
    assert_eq!(
        found[0].process.signing_id.as_deref(),
        Some("com.example.updater")
    );
    assert_eq!(found[0].process.team_id.as_deref(), Some("EXAMPLE123"));
}

#[test]
fn real_big_sur_sample_is_benign() {
    let Some(corpus) = common::corpus("real_big_sur_sample_is_benign") else {
        return;
    };
    let input = corpus
        .join("unifiedlog")
        .join("artemis-bigsur-unifiedlogs.jsonl");
    let scanned = common::scan_paths(&[input]);
    let loud: Vec<_> = scanned
        .alerts
        .iter()
        .filter(|a| a.severity >= Severity::Medium)
        .map(|a| &a.title)
        .collect();
    assert!(loud.is_empty(), "{loud:?}");
    let stats = scanned.summary.inputs[0]
        .endpoint
        .as_ref()
        .expect("read as an endpoint log");
    assert_eq!(stats.format, "unifiedlogs-jsonl");
    assert_eq!(stats.reader.records, 168);
    assert_eq!(stats.unparsed, 0, "{:?}", stats.unparsed_examples);
    assert!(stats.parsed >= 24, "only {} lines parsed", stats.parsed);
}

#[test]
fn real_tracev3_files_are_benign() {
    let Some(corpus) = common::corpus("real_tracev3_files_are_benign") else {
        return;
    };
    let input = corpus.join("unifiedlog").join("dtformats-tracev3");
    let scanned = common::scan_paths(&[input]);
    let loud: Vec<_> = scanned
        .alerts
        .iter()
        .filter(|a| a.severity >= Severity::Medium)
        .collect();
    assert!(loud.is_empty(), "{loud:?}");
    let stats = scanned.summary.inputs[0]
        .endpoint
        .as_ref()
        .expect("read as a log archive");
    assert_eq!(stats.format, "logarchive");
    assert!(stats.reader.records > 0);
    assert_eq!(stats.unparsed, 0, "{:?}", stats.unparsed_examples);
}

/// Each detection the endpoint logs can raise, with a constructed log that
/// raises it and one that must not.
const ENDPOINT_CASES: &[(&str, &str, &str)] = &[
    (
        "tls.version_below_floor",
        "constructed-tls10.ndjson",
        "constructed-benign.ndjson",
    ),
    (
        "tls.weak_cipher",
        "constructed-rc4.ndjson",
        "constructed-benign.ndjson",
    ),
    (
        "stream.record_tamper",
        "constructed-bad-record-mac.ndjson",
        "constructed-protocol-version.ndjson",
    ),
    (
        "endpoint.tls_failure",
        "constructed-trust-failure.ndjson",
        "constructed-bad-record-mac.ndjson",
    ),
    (
        "endpoint.ats_blocked",
        "constructed-ats-blocked.ndjson",
        "constructed-trust-failure.ndjson",
    ),
    (
        "stream.alert_burst",
        "constructed-alert-burst.ndjson",
        "constructed-below-burst.ndjson",
    ),
];

#[test]
fn endpoint_detections_have_both_cases() {
    for (detection, positive, negative) in ENDPOINT_CASES {
        let raised = alerts_of(&[positive]);
        assert!(
            !with_detection(&raised, detection).is_empty(),
            "{positive} must raise {detection}: {:?}",
            detections(&raised)
        );
        let quiet = alerts_of(&[negative]);
        assert!(
            with_detection(&quiet, detection).is_empty(),
            "{negative} must not raise {detection}"
        );
    }
    let covered: Vec<&str> = ENDPOINT_CASES.iter().map(|(id, _, _)| *id).collect();
    for id in ["endpoint.tls_failure", "endpoint.ats_blocked"] {
        assert!(covered.contains(&id), "{id} has no endpoint case");
    }
}

#[test]
fn eslogger_names_pktap_process() {
    for capture in [
        "constructed-pktap-pib.pcapng",
        "constructed-pktap-header.pcapng",
    ] {
        let scanned = common::scan_paths(&[
            common::fixture(capture),
            endpoint_fixture("constructed-pktap-processes.eslogger.jsonl"),
        ]);
        let found = with_detection(&scanned.alerts, "tls.version_below_floor");
        assert_eq!(
            found.len(),
            1,
            "{capture}: {:?}",
            detections(&scanned.alerts)
        );
        assert_eq!(found[0].process.pid, Some(4243), "{capture}");
        assert_eq!(
            found[0].process.signing_id.as_deref(),
            Some("com.apple.openssl"),
            "{capture}"
        );
        assert_eq!(
            found[0].process.path.as_deref(),
            Some("/usr/bin/openssl"),
            "{capture}"
        );
    }
}
