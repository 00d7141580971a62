//! Runs `wiretrust scan --policy` on the project's captures: each policy
//! section changes an outcome (positive case) and leaves it alone when
//! it does not apply (negative case). Bad policy files are rejected with
//! the line and a fix.

mod common;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

/// SHA-256 of the leaf's SubjectPublicKeyInfo in interception-ca.pcap, as
/// computed by `openssl pkey -pubin -outform der | sha256sum` on the
/// certificate tshark extracts from frame 6.
const INTERCEPTED_LEAF_SPKI: &str =
    "93ae71187b3f49f2ec89de0ec97ed5ebea503e8ddac1503dd7085f313db37ac8";
/// The same hash in base64.
const INTERCEPTED_LEAF_SPKI_BASE64: &str = "k65xGHs/SfLsid4OyX7V6+pQPo3awVA91whfMT2zesg=";

fn wiretrust() -> Command {
    Command::cargo_bin("wiretrust").expect("the wiretrust binary is built for tests")
}

/// Output of one scan.
struct Scan {
    alerts: Vec<Value>,
    status: i32,
    stderr: String,
}

impl Scan {
    fn detections(&self) -> Vec<&str> {
        self.alerts
            .iter()
            .map(|a| a["detection"].as_str().unwrap_or_default())
            .collect()
    }

    fn only(&self, detection: &str) -> &Value {
        let found: Vec<&Value> = self
            .alerts
            .iter()
            .filter(|a| a["detection"] == detection)
            .collect();
        assert_eq!(
            found.len(),
            1,
            "one {detection} expected: {:?}",
            self.alerts
        );
        found[0]
    }
}

/// Writes `policy` to a temporary file and scans `capture` with it.
fn scan_with_policy(capture: &str, policy: &str, extra: &[&str]) -> Scan {
    let folder = tempfile::tempdir().expect("temporary folder");
    let path = folder.path().join("policy.toml");
    std::fs::write(&path, policy).expect("policy is written");
    scan(capture, Some(&path), extra)
}

fn scan(capture: &str, policy: Option<&Path>, extra: &[&str]) -> Scan {
    let mut command = wiretrust();
    command.args(["scan", "--no-store", "--format", "jsonl"]);
    if let Some(policy) = policy {
        command.arg("--policy").arg(policy);
    }
    let output = command
        .args(extra)
        .arg(common::fixture(capture))
        .output()
        .expect("wiretrust runs");
    let stdout = String::from_utf8(output.stdout).expect("JSON Lines are UTF-8");
    let alerts = stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("bad JSON {line}: {e}")))
        .collect();
    Scan {
        alerts,
        status: output.status.code().unwrap_or(-1),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Runs `policy check` on `text` and returns the status and stderr.
fn check(text: &str) -> (i32, String) {
    let folder = tempfile::tempdir().expect("temporary folder");
    let path: PathBuf = folder.path().join("bad.toml");
    std::fs::write(&path, text).expect("policy is written");
    let output = wiretrust()
        .args(["policy", "check"])
        .arg(&path)
        .output()
        .expect("wiretrust runs");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output.status.code().unwrap_or(-1), stderr)
}

#[test]
fn floor_lowered_stops_version_alert() {
    let lowered = scan_with_policy("tls10-forced.pcap", "[tls]\nfloor = \"TLS1.0\"\n", &[]);
    assert!(lowered.alerts.is_empty(), "{:?}", lowered.alerts);
    assert_eq!(lowered.status, 0);

    let default = scan_with_policy("tls10-forced.pcap", "[tls]\nfloor = \"TLS1.2\"\n", &[]);
    assert_eq!(default.detections(), ["tls.version_below_floor"]);
    let alert = default.only("tls.version_below_floor");
    assert_eq!(alert["tls"]["compared"]["floor"], "TLS 1.2");
}

#[test]
fn server_override_sets_floor_per_server() {
    let policy = "[[tls.server]]\nmatch = \"localhost\"\nfloor = \"TLS1.0\"\n";
    let matched = scan_with_policy("tls10-forced.pcap", policy, &[]);
    assert!(matched.alerts.is_empty(), "{:?}", matched.alerts);

    let policy = "[[tls.server]]\nmatch = \"*.legacy.example\"\nfloor = \"TLS1.0\"\n";
    let other = scan_with_policy("tls10-forced.pcap", policy, &[]);
    assert_eq!(other.detections(), ["tls.version_below_floor"]);
}

#[test]
fn min_version_flag_overrides_policy_floor() {
    let scan = scan_with_policy(
        "tls10-forced.pcap",
        "[tls]\nfloor = \"TLS1.0\"\n",
        &["--min-version", "tls1.2"],
    );
    assert_eq!(scan.detections(), ["tls.version_below_floor"]);
}

#[test]
fn weak_classes_choose_what_raises() {
    let without_rc4 = "[tls]\nweak_classes = [\"null\", \"export\", \"anon\"]\n";
    let scan = scan_with_policy("crafted-rc4.pcap", without_rc4, &[]);
    assert!(scan.alerts.is_empty(), "{:?}", scan.alerts);

    let with_rc4 = "[tls]\nweak_classes = [\"rc4\"]\n";
    let scan = scan_with_policy("crafted-rc4.pcap", with_rc4, &[]);
    let alert = scan.only("tls.weak_cipher");
    assert_eq!(alert["tls"]["compared"]["weak_classes"], "rc4");
}

#[test]
fn server_override_sets_weak_classes() {
    let policy = "[[tls.server]]\nmatch = \"*.example.com\"\nweak_classes = [\"null\"]\n";
    let scan = scan_with_policy("crafted-rc4.pcap", policy, &[]);
    assert!(scan.alerts.is_empty(), "{:?}", scan.alerts);

    let policy = "[[tls.server]]\nmatch = \"*.example.org\"\nweak_classes = [\"null\"]\n";
    let scan = scan_with_policy("crafted-rc4.pcap", policy, &[]);
    assert_eq!(scan.detections(), ["tls.weak_cipher"]);
}

#[test]
fn legacy_service_is_suppressed_and_counted() {
    let policy = "[allow]\nlegacy_services = [\"legacy-rc4.example.com\"]\n";
    let scan = scan_with_policy("crafted-rc4.pcap", policy, &[]);
    assert!(scan.alerts.is_empty(), "{:?}", scan.alerts);
    assert!(
        scan.stderr.contains("1 alert suppressed"),
        "{}",
        scan.stderr
    );

    let policy = "[allow]\nlegacy_services = [\"legacy-3des.example.com\"]\n";
    let scan = scan_with_policy("crafted-rc4.pcap", policy, &[]);
    assert_eq!(scan.detections(), ["tls.weak_cipher"]);
    assert!(!scan.stderr.contains("suppressed"), "{}", scan.stderr);
}

#[test]
fn allowlisted_process_is_suppressed() {
    let policy = "[allow]\nprocesses = [\"/usr/bin/openssl\"]\n";
    let scan = scan_with_policy("constructed-pktap-pib.pcapng", policy, &[]);
    assert!(scan.alerts.is_empty(), "{:?}", scan.alerts);
    assert!(
        scan.stderr.contains("1 alert suppressed"),
        "{}",
        scan.stderr
    );

    let policy = "[allow]\nprocesses = [\"/usr/bin/curl\"]\n";
    let scan = scan_with_policy("constructed-pktap-pib.pcapng", policy, &[]);
    assert_eq!(scan.detections(), ["tls.version_below_floor"]);
}

const SUPPRESS_RELAY: &str = "\
# relay used by the lab
[[suppress]]
detection = \"tls.*\"
server = \"localhost:44308\"
reason = \"lab relay\"
";

#[test]
fn suppression_by_server_hides_and_counts() {
    let scan = scan_with_policy("downgrade-relay.pcap", SUPPRESS_RELAY, &[]);
    assert!(scan.alerts.is_empty(), "{:?}", scan.alerts);
    assert!(
        scan.stderr
            .contains("1 alert suppressed by the policy (written only with --show-suppressed)"),
        "{}",
        scan.stderr
    );
    // --fail-on ignores suppressed alerts: the high alert no longer fails.
    assert_eq!(scan.status, 0);

    let unsuppressed = scan_with_policy("downgrade-relay.pcap", "", &[]);
    assert_eq!(unsuppressed.detections(), ["tls.downgrade_sentinel"]);
    assert_eq!(unsuppressed.status, 1);
}

#[test]
fn suppression_for_other_server_keeps_alert() {
    let policy = SUPPRESS_RELAY.replace("localhost:44308", "localhost:443");
    let scan = scan_with_policy("downgrade-relay.pcap", &policy, &[]);
    assert_eq!(scan.detections(), ["tls.downgrade_sentinel"]);
    assert_eq!(scan.status, 1);
}

#[test]
fn show_suppressed_writes_suppressed_by() {
    let scan = scan_with_policy(
        "downgrade-relay.pcap",
        SUPPRESS_RELAY,
        &["--show-suppressed"],
    );
    let alert = scan.only("tls.downgrade_sentinel");
    let by = &alert["suppressed_by"];
    assert_eq!(by["section"], "suppress");
    assert_eq!(by["index"], 0);
    assert_eq!(by["line"], 3);
    assert_eq!(by["reason"], "lab relay");
    assert_eq!(scan.status, 0);
    assert!(
        scan.stderr
            .contains("1 alert suppressed by the policy (written with suppressed_by)"),
        "{}",
        scan.stderr
    );
    assert!(
        !scan.stderr.contains("written only with"),
        "{}",
        scan.stderr
    );

    let plain = scan_with_policy("downgrade-relay.pcap", "", &["--show-suppressed"]);
    let alert = plain.only("tls.downgrade_sentinel");
    assert!(alert.get("suppressed_by").is_none(), "{alert}");
}

#[test]
fn suppression_window_limits_it() {
    // The capture was recorded on 2026-12-04.
    let expired = "[[suppress]]\ndetection = \"tls.downgrade_sentinel\"\n\
                   until = \"2026-01-01T00:00:00Z\"\n";
    let scan = scan_with_policy("downgrade-relay.pcap", expired, &[]);
    assert_eq!(scan.detections(), ["tls.downgrade_sentinel"]);

    let current = "since = \"2026-12-01T00:00:00Z\"\n[[suppress]]\n\
                   detection = \"tls.downgrade_sentinel\"\nfor = \"30d\"\n";
    let scan = scan_with_policy("downgrade-relay.pcap", current, &[]);
    assert!(scan.alerts.is_empty(), "{:?}", scan.alerts);

    let later = current.replace("2026-12-01", "2026-12-05");
    let scan = scan_with_policy("downgrade-relay.pcap", &later, &[]);
    assert_eq!(scan.detections(), ["tls.downgrade_sentinel"]);
}

#[test]
fn severity_override_changes_fail_on() {
    let raised = scan_with_policy(
        "tls10-forced.pcap",
        "[severity]\n\"tls.version_below_floor\" = \"high\"\n",
        &[],
    );
    let alert = raised.only("tls.version_below_floor");
    assert_eq!(alert["severity"], "high");
    assert_eq!(raised.status, 1);

    let other = scan_with_policy(
        "tls10-forced.pcap",
        "[severity]\n\"tls.weak_cipher\" = \"high\"\n",
        &[],
    );
    let alert = other.only("tls.version_below_floor");
    assert_eq!(alert["severity"], "medium");
    assert_eq!(other.status, 0);
}

#[test]
fn critical_asset_raises_one_step() {
    let scan = scan_with_policy(
        "tls10-forced.pcap",
        "critical_assets = [\"localhost\"]\n",
        &[],
    );
    let alert = scan.only("tls.version_below_floor");
    assert_eq!(alert["severity"], "high");
    let note = alert["policy"][0].as_str().unwrap_or_default();
    assert!(note.contains("critical asset localhost"), "{note}");
    assert!(note.contains("policy.toml:1"), "{note}");

    let scan = scan_with_policy(
        "crafted-sslv3.pcap",
        "critical_assets = [\"203.0.113.0/24\"]\n",
        &[],
    );
    let alert = scan.only("tls.version_below_floor");
    assert_eq!(alert["severity"], "critical");

    let scan = scan_with_policy(
        "tls10-forced.pcap",
        "critical_assets = [\"db.example\"]\n",
        &[],
    );
    let alert = scan.only("tls.version_below_floor");
    assert_eq!(alert["severity"], "medium");
    assert!(alert.get("policy").is_none(), "{alert}");
}

#[test]
fn pin_mismatch_raises_certificate_changed() {
    let policy = "[[pin]]\nserver = \"localhost\"\nissuer = [\"O=Example Real CA\"]\n";
    let scan = scan_with_policy("interception-ca.pcap", policy, &[]);
    let alert = scan.only("tls.certificate_changed");
    assert_eq!(alert["severity"], "high");
    let pin = alert["tls"]["compared"]["pin"].as_str().unwrap_or_default();
    assert!(pin.starts_with("localhost ("), "{pin}");
    assert!(pin.ends_with("policy.toml:2)"), "{pin}");
    assert_eq!(
        alert["tls"]["compared"]["leaf_issuer"],
        "CN=Intercepting Proxy CA"
    );
    assert_eq!(
        alert["tls"]["compared"]["leaf_spki_sha256"],
        INTERCEPTED_LEAF_SPKI
    );
    assert_eq!(alert["evidence"][0]["location"], "packet 6");
    assert_eq!(scan.status, 1);
}

#[test]
fn matching_pin_raises_nothing() {
    for pinned in [
        format!("spki_sha256 = [\"{INTERCEPTED_LEAF_SPKI}\"]"),
        format!("spki_sha256 = [\"{INTERCEPTED_LEAF_SPKI_BASE64}\"]"),
        "issuer = [\"CN=Intercepting Proxy CA\"]".to_owned(),
    ] {
        let policy = format!("[[pin]]\nserver = \"localhost\"\n{pinned}\n");
        let scan = scan_with_policy("interception-ca.pcap", &policy, &[]);
        assert!(scan.alerts.is_empty(), "{pinned}: {:?}", scan.alerts);
    }
    let other_server = "[[pin]]\nserver = \"api.example.com\"\nissuer = [\"O=Other\"]\n";
    let scan = scan_with_policy("interception-ca.pcap", other_server, &[]);
    assert!(scan.alerts.is_empty(), "{:?}", scan.alerts);
}

#[test]
fn inspection_ca_makes_certificate_finding_info() {
    let pin = "[[pin]]\nserver = \"localhost\"\nissuer = [\"O=Example Real CA\"]\n";
    let policy =
        format!("{pin}[allow]\ninspection_cas = [{{ issuer = \"CN=Intercepting Proxy CA\" }}]\n");
    let scan = scan_with_policy("interception-ca.pcap", &policy, &[]);
    let alert = scan.only("tls.certificate_changed");
    assert_eq!(alert["severity"], "info");
    assert_eq!(scan.status, 0);

    let policy = format!("{pin}[allow]\ninspection_cas = [{{ issuer = \"CN=Other CA\" }}]\n");
    let scan = scan_with_policy("interception-ca.pcap", &policy, &[]);
    let alert = scan.only("tls.certificate_changed");
    assert_eq!(alert["severity"], "high");
}

#[test]
fn proxy_makes_name_mismatch_info() {
    let policy = "[allow]\nproxies = [\"127.0.0.1:44313\"]\n";
    let scan = scan_with_policy("name-mismatch.pcap", policy, &[]);
    let alert = scan.only("tls.certificate_name_mismatch");
    assert_eq!(alert["severity"], "info");

    let policy = "[allow]\nproxies = [\"10.0.0.0/8\"]\n";
    let scan = scan_with_policy("name-mismatch.pcap", policy, &[]);
    let alert = scan.only("tls.certificate_name_mismatch");
    assert_eq!(alert["severity"], "medium");
}

#[test]
fn burst_threshold_from_policy() {
    let scan = scan_with_policy(
        "alert-burst.pcap",
        "[stream]\nburst_threshold = 1000\n",
        &[],
    );
    assert!(scan.alerts.is_empty(), "{:?}", scan.alerts);

    let scan = scan_with_policy("alert-burst.pcap", "[stream]\nburst_threshold = 5\n", &[]);
    assert_eq!(scan.detections(), ["stream.alert_burst"]);
}

#[test]
fn builtin_policy_round_trips() {
    let output = wiretrust().args(["policy", "show"]).output().expect("runs");
    assert_eq!(output.status.code(), Some(0));
    let text = String::from_utf8(output.stdout).expect("UTF-8");
    assert!(text.contains("floor = \"TLS1.2\""), "{text}");
    let (status, stderr) = check(&text);
    assert_eq!(status, 0, "{stderr}");
}

#[test]
fn bad_policy_fails_scan() {
    let scan = scan_with_policy("tls12-benign.pcap", "[tls]\nflor = \"TLS1.0\"\n", &[]);
    assert_eq!(scan.status, 2);
    assert!(scan.stderr.contains("policy.toml:2:1"), "{}", scan.stderr);
}

#[test]
fn check_unknown_key_suggests_closest() {
    let (status, stderr) = check("# tuned\n[tls]\nflor = \"TLS1.0\"\n");
    assert_eq!(status, 2);
    assert!(
        stderr.contains("bad.toml:3:1: unknown field `flor`"),
        "{stderr}"
    );
    assert!(stderr.contains("did you mean `floor`?"), "{stderr}");
}

#[test]
fn check_wrong_type_gives_example() {
    let (status, stderr) = check("[stream]\n\nburst_window = 60\n");
    assert_eq!(status, 2);
    assert!(stderr.contains("bad.toml:3:"), "{stderr}");
    assert!(stderr.contains("expected a string"), "{stderr}");
    assert!(stderr.contains("burst_window = \"60s\""), "{stderr}");
}

#[test]
fn check_bad_pattern_says_why() {
    let (status, stderr) = check("critical_assets = [\n  \"ok.example\",\n  \"a*b.example\",\n]\n");
    assert_eq!(status, 2);
    assert!(
        stderr.contains("bad.toml:3:3: invalid server pattern"),
        "{stderr}"
    );
    assert!(stderr.contains("*.example.com"), "{stderr}");
}

#[test]
fn check_bad_cidr_says_why() {
    let (status, stderr) = check("[allow]\nproxies = [\"10.0.0.0/40\"]\n");
    assert_eq!(status, 2);
    assert!(stderr.contains("bad.toml:2:12"), "{stderr}");
    assert!(stderr.contains("is not a CIDR block"), "{stderr}");
    assert!(stderr.contains("10.0.0.0/8"), "{stderr}");
}

#[test]
fn check_unknown_detection_suggests_id() {
    let (status, stderr) = check("[[suppress]]\ndetection = \"tls.weak_ciphers\"\n");
    assert_eq!(status, 2);
    assert!(
        stderr.contains("bad.toml:2:13: unknown detection id"),
        "{stderr}"
    );
    assert!(
        stderr.contains("did you mean \"tls.weak_cipher\"?"),
        "{stderr}"
    );

    let (status, stderr) = check("[severity]\n\"tls.nope\" = \"high\"\n");
    assert_eq!(status, 2);
    assert!(
        stderr.contains("bad.toml:2:1: unknown detection id"),
        "{stderr}"
    );
}

#[test]
fn check_bad_hash_and_time() {
    let (status, stderr) = check("[[pin]]\nserver = \"a.example\"\nspki_sha256 = [\"abc\"]\n");
    assert_eq!(status, 2);
    assert!(
        stderr.contains("bad.toml:3:16: \"abc\" is not a SHA-256 hash"),
        "{stderr}"
    );
    assert!(stderr.contains("64 hex digits or 44 base64"), "{stderr}");

    let (status, stderr) = check("[[suppress]]\ndetection = \"endpoint.*\"\nfor = \"30d\"\n");
    assert_eq!(status, 2);
    assert!(stderr.contains("bad.toml:3:7"), "{stderr}");
    assert!(stderr.contains("add since ="), "{stderr}");
}

#[test]
fn check_accepts_full_example() {
    let example = include_str!("../docs/policy-example.toml");
    let (status, stderr) = check(example);
    assert_eq!(status, 0, "{stderr}");
    let documented = include_str!("../docs/policy.md");
    for line in example.lines() {
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        assert!(documented.contains(line), "docs/policy.md lacks {line:?}");
    }
}

#[test]
fn rules_explain_every_id() {
    let output = wiretrust().args(["rules"]).output().expect("runs");
    let list = String::from_utf8(output.stdout).expect("UTF-8");
    let ids: Vec<&str> = list
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .collect();
    for id in [
        "tls.stripped",
        "integrity.fleet_divergence",
        "tls.baseline_downgrade",
    ] {
        assert!(ids.contains(&id), "{id} missing from {list}");
    }
    for id in ids {
        let output = wiretrust()
            .args(["rules", "explain", id])
            .output()
            .expect("runs");
        assert_eq!(output.status.code(), Some(0), "{id}");
        let text = String::from_utf8(output.stdout).expect("UTF-8");
        for heading in [
            "Evidence:",
            "False positives:",
            "Tuning:",
            "ATT&CK: T1565.002",
        ] {
            assert!(text.contains(heading), "{id} lacks {heading}: {text}");
        }
    }
    let output = wiretrust()
        .args(["rules", "explain", "tls.nope"])
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
}

fn endpoint_fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join("endpoint")
        .join(name)
}

#[test]
fn endpoint_log_uses_server_floor() {
    let log = endpoint_fixture("constructed-tls10.ndjson");
    let log = log.to_str().expect("fixture path is UTF-8");
    let policy = "[[tls.server]]\nmatch = \"updates.example.org:443\"\nfloor = \"TLS1.0\"\n";
    let folder = tempfile::tempdir().expect("temporary folder");
    let path = folder.path().join("policy.toml");
    std::fs::write(&path, policy).expect("policy is written");

    let output = wiretrust()
        .args(["scan", "--no-store", "-q", "--format", "jsonl", "--policy"])
        .arg(&path)
        .arg(log)
        .output()
        .expect("wiretrust runs");
    assert_eq!(output.status.code(), Some(0));
    assert!(
        output.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );

    let output = wiretrust()
        .args(["scan", "--no-store", "-q", "--format", "jsonl", log])
        .output()
        .expect("wiretrust runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("tls.version_below_floor"), "{stdout}");
}

#[test]
fn watch_applies_suppressions() {
    let log = std::fs::read(endpoint_fixture("constructed-bad-record-mac-stream.ndjson"))
        .expect("fixture is readable");
    let policy = "[[suppress]]\ndetection = \"stream.*\"\nserver = \"bank.example.com\"\n";
    let folder = tempfile::tempdir().expect("temporary folder");
    let path = folder.path().join("policy.toml");
    std::fs::write(&path, policy).expect("policy is written");

    let output = wiretrust()
        .args(["watch", "--stdin", "--format", "jsonl", "--policy"])
        .arg(&path)
        .write_stdin(log.clone())
        .output()
        .expect("wiretrust runs");
    assert!(
        output.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );

    let output = wiretrust()
        .args([
            "watch",
            "--stdin",
            "--format",
            "jsonl",
            "--show-suppressed",
            "--policy",
        ])
        .arg(&path)
        .write_stdin(log)
        .output()
        .expect("wiretrust runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("\"suppressed_by\""), "{stdout}");
    assert!(stdout.contains("stream.record_tamper"), "{stdout}");
}

#[test]
fn verify_applies_suppressions() {
    let folder = tempfile::tempdir().expect("temporary folder");
    std::fs::write(folder.path().join("tool.pkg"), b"tampered").expect("file is written");
    // SHA-256 of the empty file, so the manifest entry does not match.
    let manifest = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  tool.pkg\n";
    let manifest_path = folder.path().join("SHA256SUMS");
    std::fs::write(&manifest_path, manifest).expect("manifest is written");
    let policy_path = folder.path().join("policy.toml");
    let policy = "[[suppress]]\ndetection = \"integrity.*\"\nreason = \"rebuilt locally\"\n";
    std::fs::write(&policy_path, policy).expect("policy is written");

    let suppressed = wiretrust()
        .args(["verify", "--format", "jsonl", "--manifest"])
        .arg(&manifest_path)
        .arg("--policy")
        .arg(&policy_path)
        .output()
        .expect("wiretrust runs");
    assert_eq!(suppressed.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&suppressed.stderr);
    assert!(stderr.contains("1 alert suppressed"), "{stderr}");

    let kept = wiretrust()
        .args(["verify", "--format", "jsonl", "--manifest"])
        .arg(&manifest_path)
        .output()
        .expect("wiretrust runs");
    assert_eq!(kept.status.code(), Some(1));
}
