//! Runs `wiretrust baseline` and `wiretrust scan --store` on the project's
//! recorded captures: learning, the four baseline detections, export and
//! import, forgetting, crash safety and a damaged store.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command as Process, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use serde_json::Value;

use common::fixture;

/// The benign inputs learned before every comparison.
const BENIGN: [&str; 4] = [
    "tls12-benign.pcap",
    "tls13-benign.pcap",
    "benign-close-notify.pcap",
    "baseline-learn.pcap",
];

/// Detections this feature raises.
const BASELINE_DETECTIONS: [&str; 4] = [
    "tls.baseline_downgrade",
    "tls.client_hello_changed",
    "tls.certificate_changed",
    "tls.stripped",
];

fn wiretrust() -> Command {
    Command::cargo_bin("wiretrust").expect("the wiretrust binary is built for tests")
}

fn benign() -> Vec<PathBuf> {
    BENIGN.iter().map(|name| fixture(name)).collect()
}

/// Runs `baseline learn` into `store` and checks that it succeeded.
fn learn(store: &Path, inputs: &[PathBuf]) {
    let output = wiretrust()
        .args(["-q", "baseline", "--store"])
        .arg(store)
        .arg("learn")
        .args(inputs)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "baseline learn failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.stdout.is_empty(), "learn wrote alerts to stdout");
}

/// Runs `scan --format jsonl` against `store` and returns the alerts.
fn scan(store: &Path, extra: &[&str], inputs: &[PathBuf]) -> Vec<Value> {
    let output = wiretrust()
        .args([
            "-q",
            "scan",
            "--format",
            "jsonl",
            "--fail-on",
            "critical",
            "--store",
        ])
        .arg(store)
        .args(extra)
        .args(inputs)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "scan failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).expect("JSON Lines are UTF-8");
    stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("bad JSON {line}: {e}")))
        .collect()
}

fn baseline_alerts(alerts: &[Value]) -> Vec<&Value> {
    alerts
        .iter()
        .filter(|alert| BASELINE_DETECTIONS.contains(&alert["detection"].as_str().unwrap_or("")))
        .collect()
}

/// Returns the profiles `baseline show --format jsonl` lists.
fn show(store: &Path, filter: &[&str]) -> Vec<Value> {
    let output = wiretrust()
        .args(["baseline", "--store"])
        .arg(store)
        .args(["show", "--format", "jsonl"])
        .args(filter)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "baseline show failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

#[test]
fn benign_rescan_raises_nothing() {
    let folder = tempfile::tempdir().unwrap();
    let store = folder.path().join("store.sqlite");
    learn(&store, &benign());
    let alerts = scan(&store, &[], &benign());
    assert!(
        baseline_alerts(&alerts).is_empty(),
        "baseline alerts on benign inputs: {alerts:#?}"
    );
    let profiles = show(&store, &["--server", "baseline.wiretrust.test"]);
    assert_eq!(profiles.len(), 1, "{profiles:#?}");
    // Two sessions learned, then the same two again by the scan.
    assert_eq!(profiles[0]["sessions"], 4);
}

#[test]
fn each_change_raises_its_detection() {
    let cases = [
        (
            "baseline-new-ca.pcap",
            "tls.certificate_changed",
            "high",
            "baseline.spki_sha256",
        ),
        (
            "baseline-lower-version.pcap",
            "tls.baseline_downgrade",
            "high",
            "baseline.versions",
        ),
        // The capture names no process, so the change is info.
        (
            "baseline-client-hello.pcap",
            "tls.client_hello_changed",
            "info",
            "baseline.ja4",
        ),
        (
            "baseline-plaintext.pcap",
            "tls.stripped",
            "high",
            "baseline.transports",
        ),
    ];
    let folder = tempfile::tempdir().unwrap();
    let store = folder.path().join("store.sqlite");
    learn(&store, &benign());
    for (capture, detection, severity, field) in cases {
        let alerts = scan(&store, &["--no-learn"], &[fixture(capture)]);
        let raised: Vec<&Value> = alerts
            .iter()
            .filter(|alert| alert["detection"] == detection)
            .collect();
        assert_eq!(raised.len(), 1, "{capture}: {alerts:#?}");
        let alert = raised[0];
        assert_eq!(alert["severity"], severity, "{capture}");
        assert_eq!(
            alert["destination"]["server_name"], "baseline.wiretrust.test",
            "{capture}"
        );
        let evidence = alert["evidence"].as_array().unwrap();
        let entry = evidence
            .iter()
            .find(|item| item["field"] == field)
            .unwrap_or_else(|| panic!("{capture}: no {field} evidence in {evidence:#?}"));
        let listed = entry["value"].as_str().unwrap();
        assert!(listed.contains("first seen"), "{capture}: {listed}");
        assert!(listed.contains("2 sessions"), "{capture}: {listed}");
        assert_eq!(entry["input"], store.to_str().unwrap(), "{capture}");
        let session = evidence
            .iter()
            .any(|item| item["input"].as_str().unwrap_or("").ends_with(capture));
        assert!(session, "{capture}: no evidence from the new session");
    }
}

/// eslogger exec events giving pids 4310 and 4313, the s_client of the
/// constructed pktap baseline captures, one code-signing identity.
fn signed_openssl_events() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/endpoint/constructed-pktap-baseline-processes.eslogger.jsonl")
}

fn client_hello_alerts(alerts: &[Value]) -> Vec<&Value> {
    alerts
        .iter()
        .filter(|alert| alert["detection"] == "tls.client_hello_changed")
        .collect()
}

#[test]
fn signed_client_hello_change_is_medium() {
    let folder = tempfile::tempdir().unwrap();
    let store = folder.path().join("store.sqlite");
    learn(
        &store,
        &[
            fixture("constructed-pktap-baseline-learn.pcapng"),
            signed_openssl_events(),
        ],
    );
    let profiles = show(&store, &["--server", "baseline.wiretrust.test"]);
    assert_eq!(profiles.len(), 1, "{profiles:#?}");
    assert_eq!(
        profiles[0]["process"],
        "signing:WTCONSTR01:test.wiretrust.openssl"
    );
    assert_eq!(profiles[0]["sessions"], 2);

    let inputs = [
        fixture("constructed-pktap-baseline-client-hello.pcapng"),
        signed_openssl_events(),
    ];
    // A medium alert keeps the session out of the baseline, so every scan
    // raises it again, with or without learning.
    for extra in [&["--no-learn"][..], &[], &[]] {
        let alerts = scan(&store, extra, &inputs);
        let raised = client_hello_alerts(&alerts);
        assert_eq!(raised.len(), 1, "{extra:?}: {alerts:#?}");
        let alert = raised[0];
        assert_eq!(alert["severity"], "medium", "{extra:?}");
        assert_eq!(alert["confidence"], "medium", "{extra:?}");
        assert_eq!(alert["process"]["pid"], 4313, "{extra:?}");
        assert_eq!(
            alert["process"]["signing_id"], "test.wiretrust.openssl",
            "{extra:?}"
        );
        assert_eq!(alert["process"]["team_id"], "WTCONSTR01", "{extra:?}");
        let evidence = alert["evidence"].as_array().unwrap();
        let baseline = evidence
            .iter()
            .find(|item| item["field"] == "baseline.ja4")
            .unwrap_or_else(|| panic!("no baseline.ja4 evidence in {evidence:#?}"));
        let location = baseline["location"].as_str().unwrap();
        assert!(
            location.contains("process=signing:WTCONSTR01:test.wiretrust.openssl"),
            "{location}"
        );
        assert!(
            baseline["value"].as_str().unwrap().contains("2 sessions"),
            "{baseline}"
        );
    }
    let profiles = show(&store, &["--server", "baseline.wiretrust.test"]);
    assert_eq!(
        profiles[0]["sessions"], 2,
        "the changed session was learned"
    );
}

#[test]
fn unsigned_client_hello_change_is_learned() {
    let folder = tempfile::tempdir().unwrap();
    let store = folder.path().join("store.sqlite");
    learn(&store, &benign());
    let inputs = [fixture("baseline-client-hello.pcap")];
    let alerts = scan(&store, &[], &inputs);
    let raised = client_hello_alerts(&alerts);
    assert_eq!(raised.len(), 1, "{alerts:#?}");
    assert_eq!(raised[0]["severity"], "info");
    assert_eq!(raised[0]["confidence"], "low");
    assert!(
        raised[0]["process"]["signing_id"].is_null(),
        "{}",
        raised[0]
    );

    let again = scan(&store, &[], &inputs);
    assert!(
        client_hello_alerts(&again).is_empty(),
        "the learned JA4 raised again: {again:#?}"
    );
    let profiles = show(&store, &["--server", "baseline.wiretrust.test"]);
    assert_eq!(profiles[0]["process"], "-");
    assert_eq!(profiles[0]["ja4"].as_array().unwrap().len(), 2);
}

#[test]
fn path_only_client_hello_change_is_learned() {
    // Without the eslogger events the pktap captures name the process by
    // path only.
    let folder = tempfile::tempdir().unwrap();
    let store = folder.path().join("store.sqlite");
    learn(
        &store,
        &[fixture("constructed-pktap-baseline-learn.pcapng")],
    );
    let inputs = [fixture("constructed-pktap-baseline-client-hello.pcapng")];
    let alerts = scan(&store, &[], &inputs);
    let raised = client_hello_alerts(&alerts);
    assert_eq!(raised.len(), 1, "{alerts:#?}");
    assert_eq!(raised[0]["severity"], "info");
    assert_eq!(raised[0]["confidence"], "low");
    assert_eq!(raised[0]["process"]["pid"], 4313);
    assert_eq!(raised[0]["process"]["path"], "/usr/local/bin/openssl");
    assert!(
        raised[0]["process"]["signing_id"].is_null(),
        "{}",
        raised[0]
    );

    let again = scan(&store, &[], &inputs);
    assert!(
        client_hello_alerts(&again).is_empty(),
        "the learned JA4 raised again: {again:#?}"
    );
    let profiles = show(&store, &["--server", "baseline.wiretrust.test"]);
    assert_eq!(profiles.len(), 1, "{profiles:#?}");
    assert_eq!(profiles[0]["process"], "path:/usr/local/bin/openssl");
}

#[test]
fn learning_period_lowers_to_info() {
    let folder = tempfile::tempdir().unwrap();
    let store = folder.path().join("store.sqlite");
    learn(&store, &benign());
    let inputs = [fixture("baseline-lower-version.pcap")];
    let alerts = scan(&store, &["--no-learn", "--learning-period", "7d"], &inputs);
    let raised: Vec<&Value> = alerts
        .iter()
        .filter(|alert| alert["detection"] == "tls.baseline_downgrade")
        .collect();
    assert_eq!(raised.len(), 1, "{alerts:#?}");
    assert_eq!(raised[0]["severity"], "info");
    assert_eq!(raised[0]["tls"]["compared"]["learning_period"], true);
}

#[test]
fn alerted_change_is_not_learned() {
    let folder = tempfile::tempdir().unwrap();
    let store = folder.path().join("store.sqlite");
    learn(&store, &benign());
    let inputs = [fixture("baseline-new-ca.pcap")];
    assert_eq!(baseline_alerts(&scan(&store, &[], &inputs)).len(), 1);
    assert_eq!(baseline_alerts(&scan(&store, &[], &inputs)).len(), 1);

    // Once the server is forgotten, the new certificate is learned.
    wiretrust()
        .args(["-q", "baseline", "--store"])
        .arg(&store)
        .args(["forget", "--server", "baseline.wiretrust.test"])
        .assert()
        .success();
    assert!(baseline_alerts(&scan(&store, &[], &inputs)).is_empty());
    assert!(baseline_alerts(&scan(&store, &[], &inputs)).is_empty());
}

#[test]
fn learning_period_alert_is_learned() {
    let folder = tempfile::tempdir().unwrap();
    let store = folder.path().join("store.sqlite");
    learn(&store, &benign());
    let inputs = [fixture("baseline-new-ca.pcap")];
    let alerts = scan(&store, &["--learning-period", "7d"], &inputs);
    let raised = baseline_alerts(&alerts);
    assert_eq!(raised.len(), 1, "{alerts:#?}");
    assert_eq!(raised[0]["severity"], "info");
    assert!(baseline_alerts(&scan(&store, &[], &inputs)).is_empty());
}

#[test]
fn rotation_to_known_issuer_is_info() {
    // Both captures serve a leaf for localhost from `wiretrust Test CA`,
    // each with its own key.
    let folder = tempfile::tempdir().unwrap();
    let store = folder.path().join("store.sqlite");
    learn(&store, &[fixture("tls12-benign.pcap")]);
    let alerts = scan(
        &store,
        &["--no-learn"],
        &[fixture("benign-close-notify.pcap")],
    );
    let changed: Vec<&Value> = alerts
        .iter()
        .filter(|alert| alert["detection"] == "tls.certificate_changed")
        .collect();
    assert_eq!(changed.len(), 1, "{alerts:#?}");
    assert_eq!(changed[0]["severity"], "info");
    assert_eq!(
        changed[0]["tls"]["compared"]["rotation_to_known_issuer"],
        true
    );
}

#[test]
fn export_import_round_trip() {
    let folder = tempfile::tempdir().unwrap();
    let first = folder.path().join("first.sqlite");
    let second = folder.path().join("second.sqlite");
    let export = folder.path().join("baseline.jsonl");
    learn(&first, &benign());
    wiretrust()
        .args(["-q", "baseline", "--store"])
        .arg(&first)
        .arg("export")
        .arg(&export)
        .assert()
        .success();
    for _ in 0..2 {
        wiretrust()
            .args(["-q", "baseline", "--store"])
            .arg(&second)
            .arg("import")
            .arg(&export)
            .assert()
            .success();
    }
    let before = show(&first, &[]);
    let after = show(&second, &[]);
    assert_eq!(before.len(), after.len());
    // Importing twice unites: the second import changes nothing.
    assert_eq!(before, after);
    let alerts = scan(&second, &["--no-learn"], &[fixture("baseline-new-ca.pcap")]);
    assert_eq!(baseline_alerts(&alerts).len(), 1, "{alerts:#?}");
}

#[test]
fn import_rejects_invalid_line() {
    let folder = tempfile::tempdir().unwrap();
    let store = folder.path().join("store.sqlite");
    let file = folder.path().join("bad.jsonl");
    std::fs::write(&file, "{\"host\": \"h\"}\n").unwrap();
    let output = wiretrust()
        .args(["baseline", "--store"])
        .arg(&store)
        .arg("import")
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("bad.jsonl line 1"), "{stderr}");
}

/// Runs `baseline import` of `lines` into `store` and returns the exit
/// code and standard error.
fn import_lines(store: &Path, lines: &str) -> (Option<i32>, String) {
    let file = store.with_file_name("import.jsonl");
    std::fs::write(&file, lines).unwrap();
    let output = wiretrust()
        .args(["baseline", "--store"])
        .arg(store)
        .arg("import")
        .arg(&file)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output.status.code(), stderr)
}

#[test]
fn import_counts_lines_and_profiles() {
    let folder = tempfile::tempdir().unwrap();
    let store = folder.path().join("store.sqlite");
    let line = r#"{"host":"h","process":"-","server":"s","first_seen_ns":10,"last_seen_ns":20,"sessions":1}"#;
    let (code, stderr) = import_lines(&store, &format!("{line}\n{line}\n"));
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("imported 2 lines from"), "{stderr}");
    assert!(stderr.contains("into 1 profile in"), "{stderr}");
}

#[test]
fn failed_import_leaves_no_new_store() {
    let folder = tempfile::tempdir().unwrap();
    let store = folder.path().join("store.sqlite");
    let (code, stderr) = import_lines(&store, "{\"host\": 1}\n");
    assert_eq!(code, Some(2), "{stderr}");
    assert!(!store.exists(), "{stderr}");
}

#[test]
fn import_rejects_bad_fields() {
    let folder = tempfile::tempdir().unwrap();
    let store = folder.path().join("store.sqlite");
    let good = r#"{"host":"h","process":"-","server":"s","first_seen_ns":10,"last_seen_ns":20,"sessions":1}"#;
    let cases = [
        (
            r#"{"host":"h","process":"-","server":"s","first_seen_ns":10,"last_seen_ns":20,"sessions":1,"colour":1}"#,
            "unknown field `colour`",
        ),
        (
            r#"{"host":"h","process":"-","server":"s","first_seen_ns":10,"last_seen_ns":20,"sessions":1,"ja4":[{"value":"a","first_seen_ns":10,"last_seen_ns":20,"count":1,"note":0}]}"#,
            "unknown field `note`",
        ),
        (
            r#"{"host":"h","process":"-","server":"s","first_seen_ns":30,"last_seen_ns":20,"sessions":1}"#,
            "first_seen_ns 30 is after last_seen_ns 20",
        ),
        (
            r#"{"host":"h","process":"-","server":"s","first_seen_ns":10,"last_seen_ns":20,"sessions":1,"versions":[{"value":"TLS 1.3","first_seen_ns":-5,"last_seen_ns":20,"count":1}]}"#,
            "versions[0].first_seen_ns is -5",
        ),
    ];
    for (line, expected) in cases {
        let (code, stderr) = import_lines(&store, &format!("{good}\n{line}\n"));
        assert_eq!(code, Some(2), "{stderr}");
        assert!(stderr.contains("import.jsonl line 2"), "{stderr}");
        assert!(stderr.contains(expected), "{stderr}");
        assert!(stderr.contains("nothing was imported"), "{stderr}");
    }
    // The store did not exist before, so no failed import leaves one.
    assert!(!store.exists());
}

#[test]
fn import_rejects_long_line() {
    let folder = tempfile::tempdir().unwrap();
    let store = folder.path().join("store.sqlite");
    let long = format!("{{\"host\":\"{}\"}}\n", "x".repeat((64 << 20) + 1));
    let (code, stderr) = import_lines(&store, &long);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("import.jsonl line 1 is longer than"),
        "{stderr}"
    );
    assert!(stderr.len() < 1000, "the message repeats the line");
}

#[test]
fn export_and_import_through_pipes() {
    let folder = tempfile::tempdir().unwrap();
    let first = folder.path().join("first.sqlite");
    let second = folder.path().join("second.sqlite");
    learn(&first, &benign());
    let exported = wiretrust()
        .current_dir(folder.path())
        .args(["-q", "baseline", "--store"])
        .arg(&first)
        .args(["export", "-"])
        .output()
        .unwrap();
    assert!(exported.status.success());
    assert!(
        !folder.path().join("-").exists(),
        "export created a file named -"
    );
    let lines = String::from_utf8(exported.stdout).unwrap();
    assert_eq!(lines.lines().count(), 2, "{lines}");
    wiretrust()
        .args(["-q", "baseline", "--store"])
        .arg(&second)
        .args(["import", "-"])
        .write_stdin(lines)
        .assert()
        .success();
    assert_eq!(show(&first, &[]), show(&second, &[]));
}

#[test]
fn read_commands_need_existing_store() {
    let folder = tempfile::tempdir().unwrap();
    let store = folder.path().join("typo.sqlite");
    let commands: [&[&str]; 3] = [
        &["show"],
        &["export", "out.jsonl"],
        &["forget", "--server", "a.test"],
    ];
    for command in commands {
        let output = wiretrust()
            .current_dir(folder.path())
            .args(["baseline", "--store"])
            .arg(&store)
            .args(command)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{command:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("typo.sqlite not found"), "{stderr}");
        assert!(!store.exists(), "{command:?} created the store");
        assert!(!folder.path().join("out.jsonl").exists());
    }
}

/// Returns the sessions of every profile in `store`, added up.
fn total_sessions(store: &Path) -> u64 {
    show(store, &[])
        .iter()
        .map(|profile| profile["sessions"].as_u64().unwrap())
        .sum()
}

/// Starts `scan --store store` of `inputs`, capturing standard error.
fn spawn_scan(store: &Path, inputs: &[PathBuf]) -> std::process::Child {
    Process::new(env!("CARGO_BIN_EXE_wiretrust"))
        .args(["-q", "scan", "--format", "jsonl", "--fail-on", "critical"])
        .arg("--store")
        .arg(store)
        .args(inputs)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits for a scan and checks that it ran to the end: clean (exit 0),
/// with critical alerts (exit 1) or with unreadable parts of some inputs
/// (exit 3), but not failed (exit 2).
fn finish_scan(child: std::process::Child) {
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let code = output.status.code();
    assert!(
        matches!(code, Some(0 | 1 | 3)),
        "scan exited {code:?}: {stderr}"
    );
}

/// Scans `inputs` twice into one store, one scan after the other and then
/// two at once, and checks that both give the same sessions in total.
fn check_concurrent_scans(inputs: &[PathBuf]) {
    let folder = tempfile::tempdir().unwrap();
    let serial = folder.path().join("serial.sqlite");
    finish_scan(spawn_scan(&serial, inputs));
    let once = total_sessions(&serial);
    assert!(once > 0, "the inputs taught no session");
    finish_scan(spawn_scan(&serial, inputs));
    let expected = total_sessions(&serial);
    assert_eq!(expected, 2 * once);

    let concurrent = folder.path().join("concurrent.sqlite");
    let first = spawn_scan(&concurrent, inputs);
    let second = spawn_scan(&concurrent, inputs);
    finish_scan(first);
    finish_scan(second);
    assert_eq!(total_sessions(&concurrent), expected);
}

#[test]
fn concurrent_scans_keep_all_sessions() {
    check_concurrent_scans(&benign());
}

#[test]
fn concurrent_corpus_scans_keep_all_sessions() {
    let Some(corpus) = common::corpus("concurrent_corpus_scans_keep_all_sessions") else {
        return;
    };
    check_concurrent_scans(&[corpus.join("pcap")]);
}

#[test]
fn forget_by_server_and_age() {
    let folder = tempfile::tempdir().unwrap();
    let store = folder.path().join("store.sqlite");
    learn(&store, &benign());
    assert_eq!(show(&store, &[]).len(), 2);
    wiretrust()
        .args(["-q", "baseline", "--store"])
        .arg(&store)
        .args(["forget", "--server", "baseline.wiretrust.test"])
        .assert()
        .success();
    let left = show(&store, &[]);
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["server"], "localhost");
    // The fixtures were recorded before today, so nothing is younger than 0s.
    wiretrust()
        .args(["-q", "baseline", "--store"])
        .arg(&store)
        .args(["forget", "--older-than", "0s"])
        .assert()
        .success();
    assert!(show(&store, &[]).is_empty());
    let bare = wiretrust()
        .args(["baseline", "--store"])
        .arg(&store)
        .arg("forget")
        .output()
        .unwrap();
    assert_eq!(bare.status.code(), Some(2));
}

#[test]
fn corpus_unified_log_is_learned() {
    let Some(corpus) = common::corpus("corpus_unified_log_is_learned") else {
        return;
    };
    let log = corpus
        .join("unifiedlog")
        .join("artemis-bigsur-unifiedlogs.jsonl");
    let folder = tempfile::tempdir().unwrap();
    let store = folder.path().join("store.sqlite");
    learn(&store, &[log]);
    let profiles = show(&store, &["--server", "gspe21-ssl.ls.apple.com"]);
    assert_eq!(profiles.len(), 1, "{profiles:#?}");
    let profile = &profiles[0];
    assert!(
        profile["process"]
            .as_str()
            .unwrap()
            .ends_with("/com.apple.geod"),
        "{profile}"
    );
    assert_eq!(profile["versions"][0]["value"], "TLS 1.3");
}

/// Learns the public captures, the real unified log and the benign
/// recordings. Scanning the same inputs again must raise no baseline
/// alert, and each recorded change must still raise its detection.
#[test]
fn learned_public_inputs_rescan_quietly() {
    let Some(corpus) = common::corpus("learned_public_inputs_rescan_quietly") else {
        return;
    };
    let mut inputs = benign();
    inputs.push(corpus.join("pcap"));
    inputs.push(
        corpus
            .join("unifiedlog")
            .join("artemis-bigsur-unifiedlogs.jsonl"),
    );
    let folder = tempfile::tempdir().unwrap();
    let store = folder.path().join("store.sqlite");
    // One public capture has a damaged record header, so learning ends
    // with status 3 (some input could not be read).
    let learned = wiretrust()
        .args(["-q", "baseline", "--store"])
        .arg(&store)
        .arg("learn")
        .args(&inputs)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&learned.stderr);
    assert_eq!(learned.status.code(), Some(3), "{stderr}");
    assert!(show(&store, &[]).len() > 50, "too few profiles learned");

    let scanned = wiretrust()
        .args(["-q", "scan", "--format", "jsonl", "--fail-on", "critical"])
        .args(["--no-learn", "--store"])
        .arg(&store)
        .args(&inputs)
        .output()
        .unwrap();
    // The public captures contain SSL 3.0 sessions, which are critical.
    let stderr = String::from_utf8_lossy(&scanned.stderr);
    assert_eq!(scanned.status.code(), Some(1), "{stderr}");
    let alerts: Vec<Value> = String::from_utf8(scanned.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert!(!alerts.is_empty(), "the public captures raise other alerts");
    let raised = baseline_alerts(&alerts);
    assert!(
        raised.is_empty(),
        "baseline alerts on learned inputs: {raised:#?}"
    );

    for (capture, detection) in [
        ("baseline-new-ca.pcap", "tls.certificate_changed"),
        ("baseline-lower-version.pcap", "tls.baseline_downgrade"),
        ("baseline-client-hello.pcap", "tls.client_hello_changed"),
        ("baseline-plaintext.pcap", "tls.stripped"),
    ] {
        let alerts = scan(&store, &["--no-learn"], &[fixture(capture)]);
        let count = alerts
            .iter()
            .filter(|alert| alert["detection"] == detection)
            .count();
        assert_eq!(count, 1, "{capture}: {alerts:#?}");
    }
}

#[test]
fn endpoint_baseline_without_host_warns() {
    let log =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/endpoint/constructed-benign.ndjson");
    let folder = tempfile::tempdir().unwrap();
    let store = folder.path().join("store.sqlite");
    let run = |host: &[&str]| {
        let output = wiretrust()
            .args(["baseline", "--store"])
            .arg(&store)
            .arg("learn")
            .args(host)
            .arg(&log)
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        String::from_utf8(output.stderr).unwrap()
    };
    let without = run(&[]);
    assert!(without.contains("endpoint logs name no host"), "{without}");
    assert!(without.contains("--host NAME"), "{without}");
    let with = run(&["--host", "mac1"]);
    assert!(!with.contains("endpoint logs name no host"), "{with}");
}

#[test]
fn no_learn_needs_an_existing_store() {
    let folder = tempfile::tempdir().unwrap();
    let store = folder.path().join("typo.sqlite");
    let output = wiretrust()
        .args(["scan", "--no-learn", "--store"])
        .arg(&store)
        .arg(fixture("tls12-benign.pcap"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("typo.sqlite not found"), "{stderr}");
    assert!(!store.exists());
}

#[test]
fn watch_learns_into_baseline_store() {
    let log =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/endpoint/constructed-tls10.ndjson");
    let folder = tempfile::tempdir().unwrap();
    let store = folder.path().join("store.sqlite");
    wiretrust()
        .args(["watch", "--stdin", "--format", "jsonl", "--store"])
        .arg(&store)
        .pipe_stdin(&log)
        .unwrap()
        .assert()
        .success()
        .stderr(predicates::str::contains(
            "baseline: learned 1 sighting into 1 profile (1 new)",
        ));
    let profiles = show(&store, &["--server", "updates.example.org"]);
    assert_eq!(profiles.len(), 1, "{profiles:#?}");
    assert_eq!(profiles[0]["host"], "standard input");
    assert_eq!(profiles[0]["versions"][0]["value"], "TLS 1.0");
}

/// Builds a capture of many handshakes by replaying the fixtures with
/// rewritten addresses (scripts/bench/replay.py).
fn large_capture(folder: &Path) -> PathBuf {
    let out = folder.join("large.pcap");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/bench/replay.py");
    let status = Process::new("python3")
        .arg(script)
        .arg("--corpus")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/captures"))
        .args(["--target-mb", "40"])
        .arg(&out)
        .stderr(Stdio::null())
        .status()
        .expect("python3 runs scripts/bench/replay.py");
    assert!(status.success(), "replay.py failed");
    out
}

/// Returns the size of the store file plus its write-ahead log.
fn store_bytes(store: &Path) -> u64 {
    let wal = store.with_extension("sqlite-wal");
    [store, wal.as_path()]
        .iter()
        .filter_map(|path| std::fs::metadata(path).ok())
        .map(|meta| meta.len())
        .sum()
}

#[test]
fn killed_learn_keeps_whole_transactions() {
    let folder = tempfile::tempdir().unwrap();
    let store = folder.path().join("store.sqlite");
    learn(&store, &benign());
    let earlier = show(&store, &[]);
    let big = large_capture(folder.path());
    let initial = store_bytes(&store);

    let mut child = Process::new(env!("CARGO_BIN_EXE_wiretrust"))
        .args(["-q", "baseline", "--store"])
        .arg(&store)
        .args(["learn", "--threads", "1", "--commit-every", "200"])
        .arg(&big)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while store_bytes(&store) <= initial {
        let exited = child.try_wait().unwrap();
        assert!(exited.is_none(), "learn ended before it wrote: {exited:?}");
        assert!(Instant::now() < deadline, "the store did not grow in 120 s");
        std::thread::sleep(Duration::from_millis(5));
    }
    // Child::kill sends SIGKILL on Unix.
    child.kill().unwrap();
    child.wait().unwrap();

    let raw = rusqlite::Connection::open(&store).unwrap();
    let check: String = raw
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    drop(raw);

    let after = show(&store, &[]);
    // Every session records exactly one transport, so a profile whose
    // session count and values came from different writes would break
    // this sum.
    for profile in &after {
        let transports: u64 = profile["transports"]
            .as_array()
            .unwrap()
            .iter()
            .map(|seen| seen["count"].as_u64().unwrap())
            .sum();
        assert_eq!(profile["sessions"].as_u64(), Some(transports), "{profile}");
    }
    for profile in &earlier {
        let kept = after.iter().any(|other| {
            other["host"] == profile["host"]
                && other["process"] == profile["process"]
                && other["server"] == profile["server"]
        });
        assert!(kept, "profile lost after the kill: {profile}");
    }
    learn(&store, &[fixture("baseline-new-ca.pcap")]);
}

#[test]
fn damaged_store_is_reported() {
    let folder = tempfile::tempdir().unwrap();
    let store = folder.path().join("store.sqlite");
    learn(&store, &benign());
    let raw = rusqlite::Connection::open(&store).unwrap();
    raw.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .unwrap();
    drop(raw);
    let mut bytes = std::fs::read(&store).unwrap();
    let middle = bytes.len() / 2;
    let end = bytes.len() - 1024;
    bytes[middle..end].fill(0xa5);
    std::fs::write(&store, &bytes).unwrap();

    let output = wiretrust()
        .args(["baseline", "--store"])
        .arg(&store)
        .args(["show", "--format", "jsonl"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(&store.display().to_string()), "{stderr}");
    assert_eq!(
        std::fs::read(&store).unwrap(),
        bytes,
        "the store was changed"
    );

    let scanned = wiretrust()
        .args(["scan", "-q", "--format", "jsonl", "--store"])
        .arg(&store)
        .arg(fixture("baseline-learn.pcap"))
        .output()
        .unwrap();
    assert_eq!(scanned.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&scanned.stderr);
    assert!(stderr.contains(&store.display().to_string()), "{stderr}");
}

/// Returns the `tls.stripped` alerts whose destination port is `port`.
fn stripped_to_port(alerts: &[Value], port: u64) -> Vec<&Value> {
    alerts
        .iter()
        .filter(|alert| alert["detection"] == "tls.stripped")
        .filter(|alert| alert["destination"]["port"] == port)
        .collect()
}

/// Returns the evidence entries of `alert` that name a baseline profile of
/// `store`, which evidence names by its path.
fn baseline_evidence<'a>(alert: &'a Value, store: &Path) -> Vec<&'a Value> {
    let store = store.to_str().expect("temporary paths are UTF-8");
    alert["evidence"]
        .as_array()
        .expect("alerts carry an evidence array")
        .iter()
        .filter(|evidence| evidence["input"] == store)
        .collect()
}

#[test]
fn starttls_refused_gets_baseline_evidence() {
    let folder = tempfile::tempdir().unwrap();
    let store = folder.path().join("store.sqlite");
    learn(&store, &[fixture("smtp-starttls-used.pcap")]);
    let alerts = scan(
        &store,
        &["--no-learn"],
        &[fixture("baseline-smtp-starttls-refused.pcap")],
    );
    let stripped = stripped_to_port(&alerts, 18200);
    assert_eq!(stripped.len(), 1, "one alert per dialogue: {alerts:?}");
    let alert = stripped[0];
    assert_eq!(alert["severity"], "high");
    assert_eq!(alert["confidence"], "high");
    assert_eq!(alert["tls"]["compared"]["starttls_reply_code"], 454);
    assert_eq!(alert["tls"]["compared"]["baseline_transports"], "starttls");
    assert_eq!(
        alert["tls"]["compared"]["baseline_server"],
        "127.0.0.1:18200"
    );
    let evidence = baseline_evidence(alert, &store);
    assert_eq!(evidence.len(), 1, "{alert}");
    assert_eq!(
        evidence[0]["location"],
        "profile host=127.0.0.1 process=- server=127.0.0.1:18200"
    );
    assert_eq!(evidence[0]["field"], "baseline.transports");
}

#[test]
fn starttls_unused_raises_from_baseline() {
    let folder = tempfile::tempdir().unwrap();
    let store = folder.path().join("store.sqlite");
    let relay = fixture("baseline-smtp-starttls-garbled-relay.pcap");
    // Without a baseline for the mail server, the server leg, where
    // STARTTLS was offered and the client never asked, raises nothing.
    learn(&store, &[fixture("tls12-benign.pcap")]);
    let unlearned = scan(&store, &["--no-learn"], std::slice::from_ref(&relay));
    assert!(
        stripped_to_port(&unlearned, 18200).is_empty(),
        "{unlearned:?}"
    );

    learn(&store, &[fixture("smtp-starttls-used.pcap")]);
    let alerts = scan(&store, &["--no-learn"], &[relay]);
    let server_leg = stripped_to_port(&alerts, 18200);
    assert_eq!(server_leg.len(), 1, "{alerts:?}");
    let alert = server_leg[0];
    assert_eq!(alert["severity"], "high");
    assert_eq!(alert["confidence"], "medium");
    let title = alert["title"].as_str().unwrap();
    assert!(
        title.ends_with(
            "127.0.0.1:18200 in plaintext, which this host reached over STARTTLS in 1 \
             earlier session"
        ),
        "{title}"
    );
    assert_eq!(baseline_evidence(alert, &store).len(), 1, "{alert}");
    let fields: Vec<&str> = alert["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|evidence| evidence["field"].as_str())
        .collect();
    assert!(fields.contains(&"smtp.greeting"), "{fields:?}");
    assert!(fields.contains(&"smtp.plaintext_credentials"), "{fields:?}");
    // The client leg goes to the relay's port, which the baseline never saw,
    // and keeps only the dialogue detection's alert.
    let client_leg = stripped_to_port(&alerts, 18202);
    assert_eq!(client_leg.len(), 1, "{alerts:?}");
    assert!(baseline_evidence(client_leg[0], &store).is_empty());
}

#[test]
fn plaintext_starttls_without_baseline_is_learned() {
    let folder = tempfile::tempdir().unwrap();
    let store = folder.path().join("store.sqlite");
    let scanned = [
        fixture("smtp-starttls-refused-454.pcap"),
        fixture("imap-starttls-removed.pcap"),
        fixture("pop3-stls-removed.pcap"),
    ];
    let alerts = scan(&store, &[], &scanned);
    for alert in &alerts {
        assert!(baseline_evidence(alert, &store).is_empty(), "{alert}");
    }
    for server in ["127.0.0.1:18203", "127.0.0.1:18204", "127.0.0.1:18205"] {
        let profiles = show(&store, &["--server", server]);
        assert_eq!(profiles.len(), 1, "{server}: {profiles:?}");
        let transports = profiles[0]["transports"].as_array().unwrap();
        assert_eq!(transports.len(), 1, "{server}: {transports:?}");
        assert_eq!(transports[0]["value"], "plaintext", "{server}");
    }
    // The upgraded mail captures reach other ports than the learned
    // plaintext servers, so they raise no baseline alert.
    let upgraded = [
        fixture("smtp-starttls-used.pcap"),
        fixture("imap-starttls-used.pcap"),
        fixture("pop3-stls-used.pcap"),
    ];
    let alerts = scan(&store, &["--no-learn"], &upgraded);
    assert!(baseline_alerts(&alerts).is_empty(), "{alerts:?}");
}

#[test]
fn plaintext_learned_server_raises_no_baseline_alert() {
    let folder = tempfile::tempdir().unwrap();
    let store = folder.path().join("store.sqlite");
    // The host reached 127.0.0.1:18200 in plaintext first, then with
    // STARTTLS: the baseline has no TLS-only profile to compare with.
    let _ = scan(
        &store,
        &[],
        &[fixture("baseline-smtp-starttls-refused.pcap")],
    );
    learn(&store, &[fixture("smtp-starttls-used.pcap")]);
    let alerts = scan(
        &store,
        &["--no-learn"],
        &[fixture("baseline-smtp-starttls-garbled-relay.pcap")],
    );
    assert!(stripped_to_port(&alerts, 18200).is_empty(), "{alerts:?}");
}

#[test]
fn greeting_name_ignores_https_profile() {
    let folder = tempfile::tempdir().unwrap();
    let store = folder.path().join("store.sqlite");
    // HTTPS to `localhost`, the name in the relay's SMTP greeting, shows
    // nothing about its mail port.
    learn(&store, &[fixture("tls13-benign.pcap")]);
    let alerts = scan(
        &store,
        &["--no-learn"],
        &[fixture("baseline-smtp-starttls-garbled-relay.pcap")],
    );
    assert!(stripped_to_port(&alerts, 18200).is_empty(), "{alerts:?}");
    for alert in &alerts {
        assert!(baseline_evidence(alert, &store).is_empty(), "{alert}");
    }
}

#[test]
fn greeting_name_matches_starttls_profile() {
    let folder = tempfile::tempdir().unwrap();
    let learned = folder.path().join("learned.sqlite");
    learn(&learned, &[fixture("smtp-starttls-used.pcap")]);
    let export = folder.path().join("learned.jsonl");
    wiretrust()
        .args(["-q", "baseline", "--store"])
        .arg(&learned)
        .arg("export")
        .arg(&export)
        .assert()
        .success();
    // The same STARTTLS profile, keyed by the greeting's host name as a
    // session with SNI `localhost` would be.
    let exported = std::fs::read_to_string(&export).unwrap();
    let by_name = exported.replace("\"server\":\"127.0.0.1:18200\"", "\"server\":\"localhost\"");
    assert_ne!(by_name, exported, "the export names the server: {exported}");
    let renamed = folder.path().join("by-name.jsonl");
    std::fs::write(&renamed, by_name).unwrap();
    let store = folder.path().join("store.sqlite");
    wiretrust()
        .args(["-q", "baseline", "--store"])
        .arg(&store)
        .arg("import")
        .arg(&renamed)
        .assert()
        .success();

    let alerts = scan(
        &store,
        &["--no-learn"],
        &[fixture("baseline-smtp-starttls-garbled-relay.pcap")],
    );
    let server_leg = stripped_to_port(&alerts, 18200);
    assert_eq!(server_leg.len(), 1, "{alerts:?}");
    let alert = server_leg[0];
    let title = alert["title"].as_str().unwrap();
    assert!(
        title.ends_with("which this host reached over STARTTLS in 1 earlier session"),
        "{title}"
    );
    let evidence = baseline_evidence(alert, &store);
    assert_eq!(evidence.len(), 1, "{alert}");
    assert_eq!(
        evidence[0]["location"],
        "profile host=127.0.0.1 process=- server=localhost"
    );
    let value = evidence[0]["value"].as_str().unwrap();
    assert!(value.ends_with(", 1 session)"), "{value}");
}

fn endpoint_fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join("endpoint")
        .join(name)
}

/// Returns the location and field of each evidence entry of `alert` that
/// quotes `input`.
fn log_evidence(alert: &Value, input: &Path) -> Vec<(String, String)> {
    let input = input.to_str().unwrap();
    alert["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|evidence| evidence["input"] == input)
        .map(|evidence| {
            (
                evidence["location"].as_str().unwrap().to_owned(),
                evidence["field"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn endpoint_benign_rescan_raises_nothing() {
    let folder = tempfile::tempdir().unwrap();
    let store = folder.path().join("store.sqlite");
    let benign = [endpoint_fixture("constructed-benign.ndjson")];
    let learned = scan(&store, &["--host", "mac1"], &benign);
    assert!(baseline_alerts(&learned).is_empty(), "{learned:?}");
    let profiles = show(&store, &["--host", "mac1"]);
    assert_eq!(profiles.len(), 2, "{profiles:?}");
    let alerts = scan(&store, &["--host", "mac1", "--no-learn"], &benign);
    assert!(baseline_alerts(&alerts).is_empty(), "{alerts:?}");
}

#[test]
fn endpoint_lower_version_and_suite() {
    let folder = tempfile::tempdir().unwrap();
    let store = folder.path().join("store.sqlite");
    let _ = scan(
        &store,
        &["--host", "mac1"],
        &[endpoint_fixture("constructed-benign.ndjson")],
    );
    let lower = endpoint_fixture("constructed-baseline-lower.ndjson");
    let alerts = scan(
        &store,
        &["--host", "mac1", "--no-learn"],
        std::slice::from_ref(&lower),
    );
    let downgrades: Vec<&Value> = alerts
        .iter()
        .filter(|alert| alert["detection"] == "tls.baseline_downgrade")
        .collect();
    assert_eq!(downgrades.len(), 2, "{alerts:?}");
    // The logs stay above the default floor, so only the baseline raises.
    assert_eq!(alerts.len(), 2, "{alerts:?}");

    let version = downgrades
        .iter()
        .find(|alert| alert["destination"]["server_name"] == "www.example.com")
        .expect("an alert for Safari's connection to www.example.com");
    assert_eq!(version["severity"], "high");
    assert_eq!(version["host"], "mac1");
    assert_eq!(version["session"]["connection"], "812/C31");
    assert_eq!(version["tls"]["version"], "TLS 1.2");
    assert_eq!(version["tls"]["compared"]["baseline_versions"], "TLS 1.3");
    assert_eq!(baseline_evidence(version, &store).len(), 1, "{version}");
    let lines = log_evidence(version, &lower);
    let connected = ("line 15".to_owned(), "tls_connected.version".to_owned());
    let summary = ("line 34".to_owned(), "summary.tls_version".to_owned());
    let located = |(location, field): &(String, String)| {
        lines
            .iter()
            .any(|(at, name)| at.starts_with(&format!("{location} ")) && name == field)
    };
    assert!(located(&connected), "{lines:?}");
    assert!(located(&summary), "{lines:?}");

    let suite = downgrades
        .iter()
        .find(|alert| alert["destination"]["server_name"] == "api.example.net")
        .expect("an alert for curl's connection to api.example.net");
    assert_eq!(suite["tls"]["cipher"], "TLS_RSA_WITH_AES_128_CBC_SHA");
    assert_eq!(
        suite["tls"]["compared"]["baseline_lowest_class"],
        "AEAD with forward secrecy"
    );
    let lines = log_evidence(suite, &lower);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].0.starts_with("line 29 "), "{lines:?}");
    assert_eq!(lines[0].1, "tls_connected.ciphersuite");
}

#[test]
fn endpoint_other_host_not_compared() {
    let folder = tempfile::tempdir().unwrap();
    let store = folder.path().join("store.sqlite");
    let _ = scan(
        &store,
        &["--host", "mac1"],
        &[endpoint_fixture("constructed-benign.ndjson")],
    );
    let alerts = scan(
        &store,
        &["--host", "mac2", "--no-learn"],
        &[endpoint_fixture("constructed-baseline-lower.ndjson")],
    );
    assert!(baseline_alerts(&alerts).is_empty(), "{alerts:?}");
}

#[test]
fn endpoint_profile_uses_signing_id() {
    let folder = tempfile::tempdir().unwrap();
    let store = folder.path().join("store.sqlite");
    let processes = endpoint_fixture("constructed-processes.eslogger.jsonl");
    let benign = [
        endpoint_fixture("constructed-benign.ndjson"),
        processes.clone(),
    ];
    let _ = scan(&store, &["--host", "mac1"], &benign);
    let safari = show(&store, &["--server", "www.example.com"]);
    assert_eq!(safari.len(), 1, "{safari:?}");
    assert_eq!(safari[0]["process"], "signing:-:com.apple.Safari");
    // eslogger names no process for curl's pid, so its path keys it.
    let curl = show(&store, &["--server", "api.example.net"]);
    assert_eq!(curl.len(), 1, "{curl:?}");
    assert_eq!(curl[0]["process"], "path:/usr/bin/curl");

    let lower = endpoint_fixture("constructed-baseline-lower.ndjson");
    let lower_with_processes = [lower.clone(), processes];
    let alerts = scan(
        &store,
        &["--host", "mac1", "--no-learn"],
        &lower_with_processes,
    );
    let version = alerts
        .iter()
        .find(|alert| alert["destination"]["server_name"] == "www.example.com")
        .unwrap_or_else(|| panic!("no alert for Safari's downgrade: {alerts:?}"));
    assert_eq!(version["detection"], "tls.baseline_downgrade");
    assert_eq!(
        version["tls"]["compared"]["baseline_process"],
        "signing:-:com.apple.Safari"
    );
    // Without eslogger input the path keys Safari's connection, which
    // finds no profile.
    let unsigned = scan(&store, &["--host", "mac1", "--no-learn"], &[lower]);
    assert!(
        unsigned
            .iter()
            .all(|alert| alert["destination"]["server_name"] != "www.example.com"),
        "{unsigned:?}"
    );
}

#[test]
fn endpoint_names_ignore_case() {
    let folder = tempfile::tempdir().unwrap();
    let benign = endpoint_fixture("constructed-benign.ndjson");
    let text = std::fs::read_to_string(&benign).unwrap();
    let shouted = folder.path().join("shouted.ndjson");
    std::fs::write(&shouted, text.replace("www.example.com", "WWW.Example.COM")).unwrap();
    let store = folder.path().join("store.sqlite");
    let _ = scan(&store, &["--host", "mac1"], &[shouted]);

    let alerts = scan(
        &store,
        &["--host", "mac1", "--no-learn"],
        &[endpoint_fixture("constructed-baseline-lower.ndjson")],
    );
    let safari: Vec<&Value> = alerts
        .iter()
        .filter(|alert| alert["destination"]["server_name"] == "www.example.com")
        .collect();
    assert_eq!(safari.len(), 1, "{alerts:?}");
    assert_eq!(safari[0]["detection"], "tls.baseline_downgrade");
    assert_eq!(
        safari[0]["tls"]["compared"]["baseline_server"],
        "www.example.com"
    );
}

#[test]
fn server_filter_ignores_case() {
    let folder = tempfile::tempdir().unwrap();
    let store = folder.path().join("store.sqlite");
    learn(&store, &[fixture("tls13-benign.pcap")]);
    let profiles = show(&store, &["--server", "LocalHost"]);
    assert_eq!(profiles.len(), 1, "{profiles:?}");
    assert_eq!(profiles[0]["server"], "localhost");
    let rooted = show(&store, &["--server", "localhost."]);
    assert_eq!(rooted.len(), 1, "{rooted:?}");

    wiretrust()
        .args(["-q", "baseline", "--store"])
        .arg(&store)
        .args(["forget", "--server", "LOCALHOST"])
        .assert()
        .success();
    assert!(show(&store, &[]).is_empty());
}

#[test]
fn certificate_pin_and_baseline_raise_once() {
    let folder = tempfile::tempdir().unwrap();
    let store = folder.path().join("store.sqlite");
    learn(&store, &benign());
    let policy = folder.path().join("policy.toml");
    std::fs::write(
        &policy,
        "[[pin]]\nserver = \"baseline.wiretrust.test\"\n\
         issuer = [\"CN=wiretrust Baseline CA A\"]\n",
    )
    .unwrap();
    let policy_arg = policy.to_str().unwrap();
    let capture = [fixture("baseline-new-ca.pcap")];
    let alerts = scan(&store, &["--policy", policy_arg], &capture);
    let changed: Vec<&Value> = alerts
        .iter()
        .filter(|alert| alert["detection"] == "tls.certificate_changed")
        .collect();
    assert_eq!(changed.len(), 1, "{alerts:#?}");
    let alert = changed[0];
    let compared = &alert["tls"]["compared"];
    assert!(compared["pin"].is_string(), "{alert}");
    assert_eq!(
        compared["baseline_issuers"], "CN=wiretrust Baseline CA A",
        "{alert}"
    );
    assert_eq!(
        compared["baseline_change"],
        "new key from new issuer CN=wiretrust Baseline CA B"
    );
    let fields: Vec<&str> = baseline_evidence(alert, &store)
        .iter()
        .filter_map(|evidence| evidence["field"].as_str())
        .collect();
    assert_eq!(fields, ["baseline.spki_sha256", "baseline.issuers"]);

    // The change was held back from the baseline, so it raises again.
    let again = scan(&store, &["--no-learn"], &capture);
    let repeated = again
        .iter()
        .filter(|alert| alert["detection"] == "tls.certificate_changed")
        .count();
    assert_eq!(repeated, 1, "{again:#?}");
}

#[test]
fn no_store_rejects_baseline_options() {
    for extra in [["--no-learn", ""], ["--learning-period", "7d"]] {
        let options: Vec<&str> = extra.into_iter().filter(|arg| !arg.is_empty()).collect();
        let output = wiretrust()
            .args(["scan", "--no-store"])
            .args(&options)
            .arg(fixture("tls13-benign.pcap"))
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{options:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("cannot be used with"), "{stderr}");
    }
}

#[test]
fn durations_accept_weeks() {
    let folder = tempfile::tempdir().unwrap();
    let store = folder.path().join("store.sqlite");
    learn(&store, &[fixture("tls13-benign.pcap")]);
    // 5200 weeks reach back before the capture was recorded, so nothing is
    // forgotten, whatever today's date.
    wiretrust()
        .args(["-q", "baseline", "--store"])
        .arg(&store)
        .args(["forget", "--older-than", "5200w"])
        .assert()
        .success();
    assert_eq!(show(&store, &[]).len(), 1);
    let summary = scan_summary(
        &[
            "--store",
            store.to_str().unwrap(),
            "--no-learn",
            "--learning-period",
            "2w",
        ],
        &[fixture("tls13-benign.pcap")],
    );
    assert!(summary.contains("lowered to info"), "{summary}");
}

/// Runs `scan` with the summary on and returns its standard error.
fn scan_summary(extra: &[&str], inputs: &[PathBuf]) -> String {
    let output = wiretrust()
        .args(["scan", "--format", "jsonl", "--fail-on", "critical"])
        .args(extra)
        .args(inputs)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "scan failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stderr).expect("the summary is UTF-8")
}

/// Returns the count before " lookup" in the summary's baseline line.
fn lookups(summary: &str) -> u64 {
    let line = summary
        .lines()
        .find(|line| line.starts_with("  baseline: "))
        .unwrap_or_else(|| panic!("no baseline line in {summary}"));
    let before = line
        .split(" lookup")
        .next()
        .and_then(|head| head.rsplit(' ').next())
        .unwrap_or_default();
    before
        .parse()
        .unwrap_or_else(|e| panic!("no lookup count in {line:?}: {e}"))
}

#[test]
fn summary_reports_baseline_work() {
    let folder = tempfile::tempdir().unwrap();
    let store = folder.path().join("store.sqlite");
    let store_arg = store.to_str().unwrap();
    let inputs = [fixture("tls13-benign.pcap")];
    let learned = scan_summary(&["--store", store_arg], &inputs);
    assert!(
        learned.contains("  baseline: learned 1 sighting into 1 profile (1 new), "),
        "{learned}"
    );
    assert!(lookups(&learned) > 0, "{learned}");
    assert!(!learned.contains("learning period"), "{learned}");
    assert_eq!(show(&store, &[]).len(), 1);

    let compared = scan_summary(&["--store", store_arg, "--no-learn"], &inputs);
    assert!(
        compared.contains("  baseline: compared only (--no-learn), "),
        "{compared}"
    );
    assert_eq!(lookups(&compared), lookups(&learned), "{compared}");

    let softened = scan_summary(
        &[
            "--store",
            store_arg,
            "--no-learn",
            "--learning-period",
            "3650d",
        ],
        &[fixture("tls12-benign.pcap")],
    );
    // TLS 1.2 after the learned TLS 1.3 raises a version downgrade and a
    // changed ClientHello, both lowered while the host is still learning.
    assert!(
        softened.contains(", 2 alerts lowered to info (learning period)\n"),
        "{softened}"
    );

    let without_store = scan_summary(&["--no-store"], &inputs);
    assert!(!without_store.contains("baseline:"), "{without_store}");
}

#[test]
fn summary_counts_dialogue_lookups() {
    let folder = tempfile::tempdir().unwrap();
    let store = folder.path().join("store.sqlite");
    learn(&store, &[fixture("smtp-starttls-used.pcap")]);
    let summary = scan_summary(
        &["--store", store.to_str().unwrap(), "--no-learn"],
        &[fixture("baseline-smtp-starttls-garbled-relay.pcap")],
    );
    // Two plaintext dialogues, both compared with the baseline.
    assert_eq!(lookups(&summary), 2, "{summary}");
    let summary = scan_summary(
        &["--store", store.to_str().unwrap(), "--no-learn"],
        &[fixture("baseline-plaintext.pcap")],
    );
    assert!(lookups(&summary) > 0, "{summary}");
}
