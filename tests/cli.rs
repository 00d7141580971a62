//! Runs the `wiretrust` binary on the project's real-stack captures and on
//! damaged inputs, checking output, summary and exit status.

mod common;

use std::path::Path;

use assert_cmd::Command;
use predicates::str::contains;
use serde_json::Value;

fn wiretrust() -> Command {
    Command::cargo_bin("wiretrust").expect("the wiretrust binary is built for tests")
}

/// Runs `scan --format jsonl` and returns the alerts and the exit status.
fn scan_jsonl(args: &[&Path]) -> (Vec<Value>, i32, String) {
    let output = wiretrust()
        .args(["scan", "--no-store"])
        .arg("--format")
        .arg("jsonl")
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).expect("JSON Lines are UTF-8");
    let alerts = stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("bad JSON {line}: {e}")))
        .collect();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (alerts, output.status.code().unwrap_or(-1), stderr)
}

fn detections(alerts: &[Value]) -> Vec<(String, String)> {
    alerts
        .iter()
        .map(|a| {
            (
                a["detection"].as_str().unwrap().to_owned(),
                a["severity"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn temp_dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temporary directory")
}

#[test]
fn benign_tls12_raises_nothing() {
    let (alerts, status, _) = scan_jsonl(&[&common::fixture("tls12-benign.pcap")]);
    assert!(alerts.is_empty(), "{alerts:?}");
    assert_eq!(status, 0);
}

#[test]
fn benign_tls13_raises_nothing() {
    let (alerts, status, _) = scan_jsonl(&[&common::fixture("tls13-benign.pcap")]);
    assert!(alerts.is_empty(), "{alerts:?}");
    assert_eq!(status, 0);
}

#[test]
fn forced_tls10_is_below_floor() {
    let (alerts, status, _) = scan_jsonl(&[&common::fixture("tls10-forced.pcap")]);
    assert_eq!(
        detections(&alerts),
        [("tls.version_below_floor".into(), "medium".into())]
    );
    assert_eq!(status, 0, "medium is below the default --fail-on high");
    let alert = &alerts[0];
    assert_eq!(alert["tls"]["version"], "TLS 1.0");
    assert_eq!(alert["tls"]["client_max_version"], "TLS 1.3");
    assert_eq!(alert["destination"]["server_name"], "localhost");
    assert_eq!(alert["host"], "127.0.0.1");
}

#[test]
fn anonymous_suite_is_cipher_downgrade() {
    let (alerts, status, _) = scan_jsonl(&[&common::fixture("anon-suite.pcap")]);
    assert_eq!(
        detections(&alerts),
        [("tls.weak_cipher".into(), "high".into())]
    );
    assert_eq!(status, 1);
    assert!(
        alerts[0]["tls"]["cipher"]
            .as_str()
            .unwrap()
            .contains("anon")
    );
}

#[test]
fn null_suite_is_cipher_downgrade() {
    let (alerts, _, _) = scan_jsonl(&[&common::fixture("null-suite.pcap")]);
    assert_eq!(
        detections(&alerts),
        [("tls.weak_cipher".into(), "high".into())]
    );
    assert!(
        alerts[0]["tls"]["cipher"]
            .as_str()
            .unwrap()
            .contains("NULL")
    );
}

#[test]
fn inappropriate_fallback_is_high() {
    let (alerts, status, _) = scan_jsonl(&[&common::fixture("fallback-inappropriate.pcap")]);
    let found = detections(&alerts);
    assert!(
        found.contains(&("tls.fallback_retry".into(), "high".into())),
        "{found:?}"
    );
    assert_eq!(status, 1);
    let evidence = alerts[0]["evidence"].as_array().unwrap();
    assert!(evidence.iter().any(|e| {
        e["value"]
            .as_str()
            .unwrap()
            .contains("inappropriate_fallback")
    }));
    assert!(
        evidence
            .iter()
            .any(|e| e["field"] == "failed_attempt.client_hello")
    );
}

#[test]
fn alert_has_every_documented_key() {
    let (alerts, _, _) = scan_jsonl(&[&common::fixture("tls10-forced.pcap")]);
    let alert = alerts[0].as_object().unwrap();
    for key in [
        "type",
        "time",
        "detection",
        "severity",
        "confidence",
        "title",
        "host",
        "process",
        "source",
        "destination",
        "tls",
        "flow",
        "evidence",
        "missing",
        "attack",
    ] {
        assert!(alert.contains_key(key), "missing key {key}");
    }
    assert_eq!(alert["type"], "alert");
    assert_eq!(alert["attack"]["technique"], "T1565.002");
    assert!(
        alert["missing"]
            .as_array()
            .unwrap()
            .contains(&Value::from("process"))
    );
    assert!(
        alert["evidence"][0]["location"]
            .as_str()
            .unwrap()
            .starts_with("packet ")
    );
}

#[test]
fn bundled_directory_scan() {
    let dir = common::fixture("");
    let captures = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter(|entry| {
            let path = entry.path();
            path.extension()
                .is_some_and(|ext| ext == "pcap" || ext == "pcapng")
        })
        .count();
    let (alerts, status, stderr) = scan_jsonl(&[&dir]);
    assert_eq!(status, 1);
    let found = detections(&alerts);
    for expected in [
        ("tls.version_below_floor", "medium"),
        ("tls.weak_cipher", "high"),
        ("tls.fallback_retry", "high"),
    ] {
        let expected = (expected.0.to_owned(), expected.1.to_owned());
        assert!(
            found.contains(&expected),
            "{expected:?} missing from {found:?}"
        );
    }
    let scanned = format!("scanned {captures} of {captures} inputs");
    assert!(stderr.contains(&scanned), "{stderr}");
}

#[test]
fn fail_on_critical_exits_zero() {
    wiretrust()
        .args([
            "scan",
            "--no-store",
            "--format",
            "jsonl",
            "--fail-on",
            "critical",
        ])
        .arg(common::fixture("anon-suite.pcap"))
        .assert()
        .code(0);
}

#[test]
fn host_flag_names_the_endpoint() {
    let output = wiretrust()
        .args([
            "scan",
            "--no-store",
            "--format",
            "jsonl",
            "--host",
            "mac-42",
        ])
        .arg(common::fixture("tls10-forced.pcap"))
        .output()
        .unwrap();
    let alert: Value =
        serde_json::from_slice(output.stdout.split(|b| *b == b'\n').next().unwrap()).unwrap();
    assert_eq!(alert["host"], "mac-42");
}

#[test]
fn min_version_lowers_the_floor() {
    wiretrust()
        .args([
            "scan",
            "--no-store",
            "--format",
            "jsonl",
            "--min-version",
            "tls1.0",
        ])
        .arg(common::fixture("tls10-forced.pcap"))
        .assert()
        .code(0)
        .stdout("");
}

#[test]
fn observations_written_per_session() {
    let dir = temp_dir();
    let out = dir.path().join("sessions.jsonl");
    wiretrust()
        .args(["scan", "--no-store", "--format", "jsonl", "--observations"])
        .arg(&out)
        .arg(common::fixture("fallback-inappropriate.pcap"))
        .assert()
        .code(1);
    let text = std::fs::read_to_string(&out).unwrap();
    let sessions: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions[0]["type"], "tls_session");
    assert_eq!(sessions[0]["failed_attempt"], true);
    assert_eq!(sessions[1]["client_hello"]["fallback_scsv"], true);
}

#[test]
fn table_lists_alerts() {
    wiretrust()
        .args(["scan", "--no-store", "--format", "table"])
        .arg(common::fixture("tls10-forced.pcap"))
        .assert()
        .stdout(contains("tls.version_below_floor"))
        .stdout(contains("localhost"));
}

#[test]
fn not_a_capture_exits_two() {
    let dir = temp_dir();
    let path = dir.path().join("notes.txt");
    std::fs::write(&path, "these are not packets\n").unwrap();
    wiretrust()
        .args(["scan", "--no-store", "--format", "jsonl"])
        .arg(&path)
        .assert()
        .code(2)
        .stderr(contains("notes.txt"));
}

#[test]
fn missing_file_exits_two() {
    wiretrust()
        .args(["scan", "--no-store", "/nonexistent/capture.pcap"])
        .assert()
        .code(2)
        .stderr(contains("/nonexistent/capture.pcap"));
}

#[test]
fn truncated_capture_exits_three() {
    let dir = temp_dir();
    let bytes = std::fs::read(common::fixture("tls10-forced.pcap")).unwrap();
    let cut = dir.path().join("cut.pcap");
    std::fs::write(&cut, &bytes[..bytes.len() - 100]).unwrap();
    let (_, status, stderr) = scan_jsonl(&[&cut]);
    assert_eq!(status, 3, "{stderr}");
    assert!(stderr.contains("cut.pcap"), "{stderr}");
    assert!(stderr.contains("offset"), "{stderr}");
}

#[test]
fn truncated_capture_still_alerts() {
    let dir = temp_dir();
    let bytes = std::fs::read(common::fixture("anon-suite.pcap")).unwrap();
    let cut = dir.path().join("cut.pcap");
    std::fs::write(&cut, &bytes[..bytes.len() - 30]).unwrap();
    let (alerts, status, stderr) = scan_jsonl(&[&cut]);
    assert_eq!(
        detections(&alerts),
        [("tls.weak_cipher".into(), "high".into())],
        "{stderr}"
    );
    assert_eq!(
        status, 1,
        "an alert at --fail-on wins over a partly unreadable input"
    );
}

#[test]
fn corrupt_pcapng_block_skipped() {
    let dir = temp_dir();
    let pcap = std::fs::read(common::fixture("tls10-forced.pcap")).unwrap();
    let (mut pcapng, offsets) = pcapng_from_pcap(&pcap);
    // Break the trailing length of the third packet block.
    let third = offsets[2];
    let total = u32::from_le_bytes(pcapng[third + 4..third + 8].try_into().unwrap()) as usize;
    pcapng[third + total - 4..third + total].copy_from_slice(&0xdead_beefu32.to_le_bytes());
    let path = dir.path().join("corrupt.pcapng");
    std::fs::write(&path, &pcapng).unwrap();
    let (alerts, status, stderr) = scan_jsonl(&[&path]);
    assert_eq!(status, 3, "{stderr}");
    assert!(stderr.contains(&format!("offset {third}")), "{stderr}");
    assert_eq!(
        detections(&alerts),
        [("tls.version_below_floor".into(), "medium".into())]
    );
}

#[test]
fn directory_skips_non_captures() {
    let dir = temp_dir();
    std::fs::copy(
        common::fixture("tls12-benign.pcap"),
        dir.path().join("a.pcap"),
    )
    .unwrap();
    std::fs::write(dir.path().join("README"), "notes").unwrap();
    let (_, status, stderr) = scan_jsonl(&[dir.path()]);
    assert_eq!(status, 0, "{stderr}");
}

#[test]
fn gzip_capture_read() {
    use std::io::Write;
    let dir = temp_dir();
    let path = dir.path().join("capture.bin");
    let mut encoder = flate2::write::GzEncoder::new(
        std::fs::File::create(&path).unwrap(),
        flate2::Compression::fast(),
    );
    encoder
        .write_all(&std::fs::read(common::fixture("tls10-forced.pcap")).unwrap())
        .unwrap();
    encoder.finish().unwrap();
    let (alerts, _, _) = scan_jsonl(&[&path]);
    assert_eq!(
        detections(&alerts),
        [("tls.version_below_floor".into(), "medium".into())]
    );
}

#[test]
fn rules_lists_detections() {
    let output = wiretrust().arg("rules").output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let listing = String::from_utf8(output.stdout).unwrap();
    for id in [
        "tls.version_below_floor",
        "tls.downgrade_sentinel",
        "tls.fallback_retry",
        "tls.weak_cipher",
    ] {
        assert!(listing.contains(id), "{id} missing from:\n{listing}");
    }
}

#[test]
fn readme_table_lists_every_rule() {
    let output = wiretrust().arg("rules").output().unwrap();
    let listing = String::from_utf8(output.stdout).unwrap();
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md readable");
    // Ids that this build does not raise are listed but have no row.
    let ids: Vec<&str> = listing
        .lines()
        .filter(|line| !line.contains("(not raised by this build)"))
        .filter_map(|line| line.split_whitespace().next())
        .collect();
    assert!(ids.contains(&"integrity.fleet_divergence"), "{listing}");
    for id in ids {
        let row = format!("| `{id}` |");
        assert!(readme.contains(&row), "README.md has no row for {id}");
    }
}

#[test]
fn explain_fleet_divergence_names_store() {
    let output = wiretrust()
        .args(["rules", "explain", "integrity.fleet_divergence"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let text = String::from_utf8(output.stdout).unwrap().replace('\n', " ");
    assert!(text.contains("already known"), "{text}");
    assert!(text.contains("--no-store"), "{text}");
    assert!(text.contains("--store with another file"), "{text}");
}

#[test]
fn rules_explain_unknown_exits_two() {
    wiretrust()
        .args(["rules", "explain", "tls.nope"])
        .assert()
        .code(2)
        .stderr(contains("tls.nope"));
}

#[test]
fn bad_fail_on_value_exits_two() {
    wiretrust()
        .args(["scan", "--no-store", "--fail-on", "urgent"])
        .arg(common::fixture("tls12-benign.pcap"))
        .assert()
        .code(2)
        .stderr(contains("urgent"));
}

/// Rewrites a little-endian microsecond pcap as pcapng (one section, one
/// Ethernet interface, one enhanced packet block per record) and returns
/// the bytes with the offset of each packet block.
fn pcapng_from_pcap(pcap: &[u8]) -> (Vec<u8>, Vec<usize>) {
    fn block(out: &mut Vec<u8>, block_type: u32, body: &[u8]) {
        let padded = body.len().div_ceil(4) * 4;
        let total = (12 + padded) as u32;
        out.extend_from_slice(&block_type.to_le_bytes());
        out.extend_from_slice(&total.to_le_bytes());
        out.extend_from_slice(body);
        out.resize(out.len() + padded - body.len(), 0);
        out.extend_from_slice(&total.to_le_bytes());
    }
    let mut out = Vec::new();
    let mut shb = Vec::new();
    shb.extend_from_slice(&0x1a2b_3c4du32.to_le_bytes());
    shb.extend_from_slice(&1u16.to_le_bytes());
    shb.extend_from_slice(&0u16.to_le_bytes());
    shb.extend_from_slice(&u64::MAX.to_le_bytes());
    block(&mut out, 0x0a0d_0d0a, &shb);
    let mut idb = Vec::new();
    idb.extend_from_slice(&1u16.to_le_bytes());
    idb.extend_from_slice(&0u16.to_le_bytes());
    idb.extend_from_slice(&262_144u32.to_le_bytes());
    block(&mut out, 1, &idb);
    let mut offsets = Vec::new();
    let mut at = 24;
    while at + 16 <= pcap.len() {
        let field = |i: usize| u32::from_le_bytes(pcap[at + i..at + i + 4].try_into().unwrap());
        let (secs, micros, caplen, origlen) = (field(0), field(4), field(8), field(12));
        let data = &pcap[at + 16..at + 16 + caplen as usize];
        let ts = u64::from(secs) * 1_000_000 + u64::from(micros);
        let mut epb = Vec::new();
        epb.extend_from_slice(&0u32.to_le_bytes());
        epb.extend_from_slice(&((ts >> 32) as u32).to_le_bytes());
        epb.extend_from_slice(&(ts as u32).to_le_bytes());
        epb.extend_from_slice(&caplen.to_le_bytes());
        epb.extend_from_slice(&origlen.to_le_bytes());
        epb.extend_from_slice(data);
        offsets.push(out.len());
        block(&mut out, 6, &epb);
        at += 16 + caplen as usize;
    }
    (out, offsets)
}

#[test]
fn observations_never_overwrite_input() {
    let dir = temp_dir();
    let capture = dir.path().join("evidence.pcap");
    std::fs::copy(common::fixture("tls10-forced.pcap"), &capture).unwrap();
    let before = std::fs::read(&capture).unwrap();
    wiretrust()
        .args(["scan", "--no-store", "--observations"])
        .arg(&capture)
        .arg(&capture)
        .assert()
        .code(2)
        .stderr(contains("is also an input"));
    assert_eq!(std::fs::read(&capture).unwrap(), before);
}

#[test]
fn observations_never_overwrite_other_capture() {
    let dir = temp_dir();
    let other = dir.path().join("other.pcap");
    std::fs::copy(common::fixture("tls12-benign.pcap"), &other).unwrap();
    wiretrust()
        .args(["scan", "--no-store", "--observations"])
        .arg(&other)
        .arg(common::fixture("tls10-forced.pcap"))
        .assert()
        .code(2)
        .stderr(contains("existing packet capture"));
}

#[test]
fn zeroed_hole_resynchronises() {
    let dir = temp_dir();
    let mut bytes = std::fs::read(common::fixture("fallback-inappropriate.pcap")).unwrap();
    // Zero 300 bytes inside the first connection; the second connection,
    // which carries the inappropriate_fallback alert, comes after.
    let start = bytes.len() / 4;
    bytes[start..start + 300].fill(0);
    let path = dir.path().join("holed.pcap");
    std::fs::write(&path, &bytes).unwrap();
    let (alerts, status, stderr) = scan_jsonl(&[&path]);
    assert_eq!(status, 1, "{stderr}");
    assert!(stderr.contains("holed.pcap"), "{stderr}");
    let found = detections(&alerts);
    assert!(
        found.contains(&("tls.fallback_retry".into(), "high".into())),
        "{found:?}"
    );
}

#[test]
fn server_name_escaped_in_table() {
    let dir = temp_dir();
    let mut bytes = std::fs::read(common::fixture("tls10-forced.pcap")).unwrap();
    let at = bytes
        .windows(9)
        .position(|w| w == b"localhost")
        .expect("SNI in the ClientHello");
    bytes[at..at + 9].copy_from_slice(b"\x1b[31mEVIL");
    let path = dir.path().join("escape.pcap");
    std::fs::write(&path, &bytes).unwrap();
    let output = wiretrust()
        .args(["scan", "--no-store", "--format", "table"])
        .arg(&path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!stdout.contains('\x1b'), "{stdout}");
    assert!(stdout.contains("\\u{1b}[31mEVIL"), "{stdout}");
}

#[test]
fn unsupported_link_type_exits_three() {
    let dir = temp_dir();
    let mut bytes = std::fs::read(common::fixture("tls12-benign.pcap")).unwrap();
    bytes[20..24].copy_from_slice(&105u32.to_le_bytes()); // IEEE 802.11
    let path = dir.path().join("wifi.pcap");
    std::fs::write(&path, &bytes).unwrap();
    let (_, status, stderr) = scan_jsonl(&[&path]);
    assert_eq!(status, 3, "{stderr}");
    assert!(stderr.contains("could not be decoded"), "{stderr}");
}

#[test]
fn quiet_still_reports_errors() {
    wiretrust()
        .args(["scan", "--no-store", "-q", "/nonexistent/capture.pcap"])
        .assert()
        .code(2)
        .stderr(contains("/nonexistent/capture.pcap"));
}

#[test]
fn rules_explain_suggests_closest_id() {
    wiretrust()
        .args(["rules", "explain", "integrity.fleet_divergense"])
        .assert()
        .code(2)
        .stderr(contains("did you mean \"integrity.fleet_divergence\"?"));
    wiretrust()
        .args(["rules", "explain", "stripped"])
        .assert()
        .code(2)
        .stderr(contains("did you mean \"tls.stripped\"?"));
}

#[test]
fn unreadable_input_names_sensor_logs() {
    let dir = tempfile::tempdir().unwrap();
    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, "plain text\n").unwrap();
    wiretrust()
        .args(["scan", "--no-store"])
        .arg(&notes)
        .assert()
        .code(2)
        .stderr(contains(
            "no packet capture, endpoint log or sensor log could be read",
        ));
}

#[test]
fn empty_manifest_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("SHA256SUMS");
    std::fs::write(&manifest, "\n").unwrap();
    let output = wiretrust()
        .args(["verify", "--manifest"])
        .arg(&manifest)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let expected = format!("manifest {} is empty", manifest.display());
    assert!(stderr.contains(&expected), "{stderr}");
}
