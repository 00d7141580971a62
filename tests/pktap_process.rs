//! The process on every session and alert, from the constructed Apple
//! pktap captures (recorded loopback frames wrapped by
//! scripts/captures/pktap.py: curl is pid 4242, s_client pid 4243, their
//! servers pids 4100 and 4101), by the built binary and in-process.

mod common;

use assert_cmd::Command;
use serde_json::Value;

const PROCESS_BLOCKS: &str = "constructed-pktap-pib.pcapng";
const PKTAP_HEADERS: &str = "constructed-pktap-header.pcapng";

/// Runs `scan --format jsonl --observations FILE` with `threads` and
/// returns the alerts and the session records.
fn scan_binary(capture: &str, threads: &str) -> (Vec<Value>, Vec<Value>) {
    let dir = tempfile::tempdir().expect("a temporary folder can be made");
    let observations = dir.path().join("sessions.jsonl");
    let output = Command::cargo_bin("wiretrust")
        .expect("the wiretrust binary is built for tests")
        .args([
            "scan",
            "--no-store",
            "--format",
            "jsonl",
            "--threads",
            threads,
            "--observations",
        ])
        .arg(&observations)
        .arg(common::fixture(capture))
        .output()
        .expect("the binary runs");
    let alerts = json_lines(&String::from_utf8_lossy(&output.stdout));
    let sessions = std::fs::read_to_string(&observations).unwrap_or_default();
    (alerts, json_lines(&sessions))
}

fn json_lines(text: &str) -> Vec<Value> {
    let parse = |line: &str| serde_json::from_str(line).unwrap_or_else(|e| panic!("{line}: {e}"));
    text.lines().map(parse).collect()
}

/// Returns (pid, name, path) of each session's process.
fn session_processes(sessions: &[Value]) -> Vec<(u64, String, Option<String>)> {
    sessions
        .iter()
        .map(|session| {
            let process = &session["process"];
            (
                process["pid"].as_u64().unwrap_or(0),
                process["name"].as_str().unwrap_or_default().to_owned(),
                process["path"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

#[test]
fn process_blocks_name_sessions() {
    let (_, sessions) = scan_binary(PROCESS_BLOCKS, "1");
    let expected = vec![
        (4242, "curl".to_owned(), Some("/usr/bin/curl".to_owned())),
        (
            4243,
            "openssl".to_owned(),
            Some("/usr/bin/openssl".to_owned()),
        ),
    ];
    assert_eq!(session_processes(&sessions), expected);
    for session in &sessions {
        assert_eq!(session["process"]["side"], "client");
        assert_eq!(session["process"]["effective_pid"], Value::Null);
        assert_eq!(session["process"]["other_pids"], Value::Array(Vec::new()));
        let uuid = session["process"]["uuid"].as_str().unwrap_or_default();
        assert_eq!(uuid.len(), 36, "{uuid}");
    }
}

#[test]
fn pktap_headers_name_sessions() {
    let (_, sessions) = scan_binary(PKTAP_HEADERS, "1");
    let expected = vec![
        (4242, "curl".to_owned(), None),
        (4243, "openssl".to_owned(), None),
    ];
    assert_eq!(session_processes(&sessions), expected);
}

#[test]
fn alert_names_process() {
    for capture in [PROCESS_BLOCKS, PKTAP_HEADERS] {
        let (alerts, _) = scan_binary(capture, "1");
        assert_eq!(alerts.len(), 1, "{capture}: {alerts:?}");
        let alert = &alerts[0];
        assert_eq!(alert["detection"], "tls.version_below_floor", "{capture}");
        assert_eq!(alert["severity"], "medium", "{capture}");
        assert_eq!(alert["process"]["pid"], 4243, "{capture}");
        assert_eq!(alert["process"]["name"], "openssl", "{capture}");
        let missing = alert["missing"].as_array().cloned().unwrap_or_default();
        assert!(
            !missing.contains(&Value::from("process")),
            "{capture}: {missing:?}"
        );
    }
}

#[test]
fn alert_path_from_process_blocks() {
    let (alerts, _) = scan_binary(PROCESS_BLOCKS, "1");
    assert_eq!(alerts[0]["process"]["path"], "/usr/bin/openssl");
}

#[test]
fn split_by_flow_same_processes() {
    for capture in [PROCESS_BLOCKS, PKTAP_HEADERS] {
        let (_, one) = scan_binary(capture, "1");
        let (_, split) = scan_binary(capture, "4");
        assert_eq!(
            session_processes(&split),
            session_processes(&one),
            "{capture}"
        );
    }
}

#[test]
fn plain_capture_has_no_process() {
    let (alerts, sessions) = scan_binary("tls10-forced.pcap", "1");
    assert_eq!(sessions[0]["process"], Value::Null);
    let missing = alerts[0]["missing"].as_array().cloned().unwrap_or_default();
    assert!(missing.contains(&Value::from("process")), "{missing:?}");
}

#[test]
fn in_process_scan_same_sessions() {
    let scanned = common::scan_paths(&[common::fixture(PKTAP_HEADERS)]);
    let pids: Vec<Option<u32>> = scanned
        .sessions
        .iter()
        .map(|s| s.process.as_ref().map(|p| p.pid))
        .collect();
    assert_eq!(pids, [Some(4242), Some(4243)]);
    let alert_pids: Vec<Option<u32>> = scanned.alerts.iter().map(|a| a.process.pid).collect();
    assert_eq!(alert_pids, [Some(4243)]);
}
