//! User rules in Sigma format: the shipped rules' samples, alerts from
//! `scan --rules` on the project's captures and endpoint logs, and the
//! errors for rules that do not load.

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

const LEGACY_VERSION: &str = "sigma.52d41041-a178-4e62-b8d7-1a758f84c934";
const FAILURES_3: &str = "sigma.8bd9082f-a437-4d52-87ad-3feb78b386fa";
const HANDSHAKE_FAILED: &str = "sigma.28cb295f-e3b3-43b4-88b4-2a0e5ae95078";

fn wiretrust() -> Command {
    Command::cargo_bin("wiretrust").expect("the wiretrust binary is built for tests")
}

fn project(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// Runs `scan --format jsonl --rules RULES INPUT` and returns the alerts
/// and the exit status.
fn scan(rules: &Path, input: &Path) -> (Vec<Value>, i32) {
    let output = wiretrust()
        .args([
            "scan",
            "--no-store",
            "-q",
            "--format",
            "jsonl",
            "--fail-on",
            "critical",
            "--rules",
        ])
        .arg(rules)
        .arg(input)
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).expect("JSON Lines are UTF-8");
    let alerts = stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("bad JSON {line}: {e}")))
        .collect();
    (alerts, output.status.code().unwrap_or(-1))
}

fn detections(alerts: &[Value]) -> Vec<&str> {
    alerts
        .iter()
        .map(|alert| alert["detection"].as_str().unwrap())
        .collect()
}

fn rules_test(path: &Path) -> (String, i32) {
    let output = wiretrust()
        .args(["rules", "test"])
        .arg(path)
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    (stdout, output.status.code().unwrap_or(-1))
}

#[test]
fn shipped_rules_pass_their_samples() {
    let (stdout, status) = rules_test(&project("rules"));
    assert_eq!(status, 0, "{stdout}");
    assert!(
        stdout.contains("5 rule files, 5 passed, 0 failed"),
        "{stdout}"
    );
    assert!(!stdout.contains("FAIL"), "{stdout}");
}

#[test]
fn tls10_capture_raises_legacy_version_rule() {
    let (alerts, status) = scan(
        &project("rules"),
        &project("fixtures/captures/tls10-forced.pcap"),
    );
    assert_eq!(status, 0);
    let alert = alerts
        .iter()
        .find(|alert| alert["detection"] == LEGACY_VERSION)
        .unwrap_or_else(|| panic!("no {LEGACY_VERSION} in {:?}", detections(&alerts)));
    assert_eq!(alert["severity"], "high");
    assert_eq!(
        alert["title"],
        "TLS session negotiated a version below TLS 1.2"
    );
    assert_eq!(alert["tls"]["version"], "TLS 1.0");
    assert_eq!(alert["destination"]["port"], 44303);
    assert_eq!(alert["attack"]["technique"], "T1565.002");
    let evidence = alert["evidence"][0]["value"].as_str().unwrap();
    let record: Value = serde_json::from_str(evidence).unwrap();
    assert_eq!(record["tls.version"], "TLS 1.0");
    assert_eq!(record["logsource.service"], "tls");
}

#[test]
fn tls12_capture_raises_no_user_rule() {
    let (alerts, status) = scan(
        &project("rules"),
        &project("fixtures/captures/tls12-benign.pcap"),
    );
    assert_eq!(status, 0);
    let sigma: Vec<&str> = detections(&alerts)
        .into_iter()
        .filter(|id| id.starts_with("sigma."))
        .collect();
    assert!(sigma.is_empty(), "{sigma:?}");
}

#[test]
fn failure_burst_raises_event_count_correlation() {
    let (alerts, _) = scan(
        &project("rules"),
        &project("fixtures/captures/alert-burst.pcap"),
    );
    let found = detections(&alerts);
    // Six failed handshakes: the count reaches 3 at the third and stays
    // at or above it for the fourth, fifth and sixth.
    let correlations = found.iter().filter(|id| **id == FAILURES_3).count();
    assert_eq!(correlations, 4, "{found:?}");
    // The rule that only feeds the correlation stays silent.
    assert!(!found.contains(&HANDSHAKE_FAILED), "{found:?}");
    let alert = alerts
        .iter()
        .find(|a| a["detection"] == FAILURES_3)
        .unwrap();
    assert_eq!(alert["tls"]["compared"]["sigma.correlation"], "event_count");
    assert_eq!(alert["tls"]["compared"]["sigma.value"], 3.0);
}

/// Writes `files` (name, text) into a fresh temporary folder.
fn rule_dir(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

const FATAL_ALERT_RULE: &str = "\
title: Fatal alert for bank.example.com
id: 0f7e3a52-4c55-4d0e-9a3b-1d0d1b0c0001
logsource:
  product: macos
  service: unifiedlog
  category: boringssl
detection:
  selection:
    event: alert
    alert.fatal: true
    server_name: bank.example.com
  condition: selection
level: critical
tags:
  - attack.t1557
";

#[test]
fn endpoint_log_line_raises_user_rule() {
    let dir = rule_dir(&[("fatal.yml", FATAL_ALERT_RULE)]);
    let input = project("fixtures/endpoint/constructed-bad-record-mac.ndjson");
    let (alerts, _) = scan(dir.path(), &input);
    let id = "sigma.0f7e3a52-4c55-4d0e-9a3b-1d0d1b0c0001";
    let raised: Vec<&Value> = alerts.iter().filter(|a| a["detection"] == id).collect();
    assert_eq!(raised.len(), 1, "{:?}", detections(&alerts));
    let alert = raised[0];
    assert_eq!(alert["severity"], "critical");
    assert_eq!(alert["attack"]["technique"], "T1557");
    assert_eq!(alert["destination"]["server_name"], "bank.example.com");
    let record: Value = serde_json::from_str(alert["evidence"][1]["value"].as_str().unwrap())
        .expect("the second evidence is the flattened record");
    assert_eq!(record["subsystem"], "com.apple.network");
    assert_eq!(record["category"], "boringssl");
    assert_eq!(record["alert.description"], "bad record mac");
}

#[test]
fn endpoint_connection_raises_user_rule() {
    let rule = "\
title: Connection closed after a fatal alert
id: 0f7e3a52-4c55-4d0e-9a3b-1d0d1b0c0002
logsource:
  product: macos
  category: endpoint_connection
detection:
  selection:
    tls.fatal_alert: true
  condition: selection
level: low
";
    let dir = rule_dir(&[("connection.yml", rule)]);
    let input = project("fixtures/endpoint/constructed-bad-record-mac.ndjson");
    let (alerts, _) = scan(dir.path(), &input);
    let id = "sigma.0f7e3a52-4c55-4d0e-9a3b-1d0d1b0c0002";
    let count = detections(&alerts).iter().filter(|d| **d == id).count();
    assert_eq!(count, 1, "{:?}", detections(&alerts));
}

#[test]
fn failing_sample_exits_one() {
    let samples = "\
true_positives:
  - {logsource.service: unifiedlog, logsource.category: boringssl, event: alert, alert.fatal: true, server_name: other.example}
true_negatives:
  - {logsource.service: unifiedlog, logsource.category: boringssl, event: alert, alert.fatal: false, server_name: bank.example.com}
";
    let dir = rule_dir(&[
        ("fatal.yml", FATAL_ALERT_RULE),
        ("fatal.tests.yml", samples),
    ]);
    let (stdout, status) = rules_test(dir.path());
    assert_eq!(status, 1, "{stdout}");
    assert!(stdout.contains("FAIL"), "{stdout}");
    assert!(
        stdout.contains("true positive 1: expected a match, but the rule did not match"),
        "{stdout}"
    );
}

#[test]
fn missing_samples_file_fails() {
    let dir = rule_dir(&[("fatal.yml", FATAL_ALERT_RULE)]);
    let (stdout, status) = rules_test(dir.path());
    assert_eq!(status, 1, "{stdout}");
    assert!(
        stdout.contains("fatal.tests.yml: failed to read the samples file"),
        "{stdout}"
    );
}

#[test]
fn invalid_rule_names_file_and_line() {
    let bad = "\
title: first
id: 0f7e3a52-4c55-4d0e-9a3b-1d0d1b0c0003
logsource:
  product: macos
detection:
  selection:
    a: 1
  condition: selection
---
title: second
id: 0f7e3a52-4c55-4d0e-9a3b-1d0d1b0c0004
logsource:
  product: macos
detection:
  selection:
    server_name|nosuchmodifier: x
  condition: selection
";
    let dir = rule_dir(&[("bad.yml", bad)]);
    let (stdout, status) = rules_test(dir.path());
    assert_eq!(status, 1, "{stdout}");
    assert!(stdout.contains("bad.yml:10: "), "{stdout}");
    assert!(stdout.contains("nosuchmodifier"), "{stdout}");
}

#[test]
fn condition_and_yaml_errors_name_their_line() {
    let condition = "\
title: open condition
id: 0f7e3a52-4c55-4d0e-9a3b-1d0d1b0c0005
logsource:
  product: macos
detection:
  selection:
    a: 1
  condition: selection and
";
    let unclosed = "\
title: unclosed list
id: 0f7e3a52-4c55-4d0e-9a3b-1d0d1b0c0006
logsource:
  product: macos
detection:
  selection:
    tls.version: [TLS 1.0
  condition: selection
";
    let unknown = "\
title: first
id: 0f7e3a52-4c55-4d0e-9a3b-1d0d1b0c0009
logsource:
  product: macos
detection:
  selection:
    a: 1
  condition: selection
---
title: misspelled selection
id: 0f7e3a52-4c55-4d0e-9a3b-1d0d1b0c0010
logsource:
  product: macos
detection:
  selection:
    a: 1
  condition: selecton
";
    let dir = rule_dir(&[
        ("condition.yml", condition),
        ("unclosed.yml", unclosed),
        ("unknown.yml", unknown),
    ]);
    let (stdout, status) = rules_test(dir.path());
    assert_eq!(status, 1, "{stdout}");
    assert!(stdout.contains("condition.yml:8: "), "{stdout}");
    assert!(stdout.contains("unclosed.yml:8: "), "{stdout}");
    assert!(stdout.contains("unknown.yml:17: "), "{stdout}");
}

#[test]
fn unknown_correlation_reference_names_file_and_line() {
    let rules = "\
title: base
id: 0f7e3a52-4c55-4d0e-9a3b-1d0d1b0c0007
logsource:
  product: macos
detection:
  selection:
    a: 1
  condition: selection
---
title: count them
id: 0f7e3a52-4c55-4d0e-9a3b-1d0d1b0c0008
correlation:
  type: event_count
  rules:
    - no_such_rule
  group-by:
    - server_name
  timespan: 60s
  condition:
    gte: 3
";
    let dir = rule_dir(&[("corr.yml", rules)]);
    let (stdout, status) = rules_test(dir.path());
    assert_eq!(status, 1, "{stdout}");
    assert!(stdout.contains("corr.yml:10: "), "{stdout}");
    assert!(stdout.contains("\"no_such_rule\""), "{stdout}");
}

#[test]
fn missing_samples_file_names_the_rule() {
    let dir = rule_dir(&[("fatal.yml", FATAL_ALERT_RULE)]);
    let (stdout, _) = rules_test(dir.path());
    assert!(
        stdout.contains("[0f7e3a52-4c55-4d0e-9a3b-1d0d1b0c0001]"),
        "{stdout}"
    );
}

#[test]
fn rule_without_id_is_rejected() {
    let rule = "\
title: no id
logsource:
  product: macos
detection:
  selection:
    a: 1
  condition: selection
";
    let dir = rule_dir(&[("noid.yml", rule)]);
    let (stdout, status) = rules_test(dir.path());
    assert_eq!(status, 1, "{stdout}");
    assert!(
        stdout.contains("noid.yml:1: rule \"no id\" has no id"),
        "{stdout}"
    );
}

#[test]
fn scan_with_invalid_rules_exits_two() {
    let dir = rule_dir(&[("broken.yml", "title: [unclosed\n")]);
    let output = wiretrust()
        .args(["scan", "--no-store", "-q", "--rules"])
        .arg(dir.path())
        .arg(project("fixtures/captures/tls12-benign.pcap"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("invalid --rules"), "{stderr}");
    assert!(stderr.contains("broken.yml"), "{stderr}");
}

#[test]
fn watch_stdin_raises_user_rule() {
    let dir = rule_dir(&[("fatal.yml", FATAL_ALERT_RULE)]);
    let input = fs::read(project(
        "fixtures/endpoint/constructed-bad-record-mac.ndjson",
    ))
    .unwrap();
    let output = wiretrust()
        .args(["watch", "--stdin", "--format", "jsonl", "--rules"])
        .arg(dir.path())
        .write_stdin(input)
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let id = "sigma.0f7e3a52-4c55-4d0e-9a3b-1d0d1b0c0001";
    assert_eq!(stdout.matches(id).count(), 1, "{stdout}");
}
