//! Runs the binary over the whole public corpus, including its damaged
//! captures: nothing panics, every capture is read, and damage is reported
//! with the file, the offset and what was skipped.

mod common;

use assert_cmd::Command;

#[test]
fn whole_corpus_scans_without_panic() {
    let Some(corpus) = common::corpus("whole_corpus_scans_without_panic") else {
        return;
    };
    let output = Command::cargo_bin("wiretrust")
        .unwrap()
        .args(["scan", "--no-store", "--format", "jsonl"])
        .arg(corpus.join("pcap"))
        .arg(corpus.join("bugs"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    // Status 1: the corpus contains high-severity findings (RC4 with strong
    // suites offered, an inappropriate_fallback rejection).
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("scanned 169 of 169 inputs"), "{stderr}");
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let alert: serde_json::Value = serde_json::from_str(line).expect("alert is JSON");
        assert_eq!(alert["type"], "alert");
    }
}

#[test]
fn bogus_record_length_reported_and_skipped() {
    let Some(corpus) = common::corpus("bogus_record_length_reported_and_skipped") else {
        return;
    };
    let capture = corpus
        .join("pcap")
        .join("suricata__bug-1450-04__tls_DER-incomplete-header.pcap");
    let output = Command::cargo_bin("wiretrust")
        .unwrap()
        .args([
            "scan",
            "--no-store",
            "--format",
            "jsonl",
            "--observations",
            "/dev/null",
        ])
        .arg(&capture)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("suricata__bug-1450-04__tls_DER-incomplete-header.pcap"),
        "{stderr}"
    );
    assert!(stderr.contains("offset 5035"), "{stderr}");
    assert!(stderr.contains("record length 4325376"), "{stderr}");
    assert!(stderr.contains("read 13 packets"), "{stderr}");
}

#[test]
fn records_after_bogus_length_still_read() {
    let Some(corpus) = common::corpus("records_after_bogus_length_still_read") else {
        return;
    };
    let capture = corpus
        .join("pcap")
        .join("suricata__bug-1450-04__tls_DER-incomplete-header.pcap");
    let scanned = common::scan_paths(&[capture]);
    let session = scanned.sessions.first().expect("one TLS session");
    let alert = session
        .alerts
        .first()
        .expect("the client's alert after the damaged record");
    assert_eq!(alert.description.as_deref(), Some("bad_certificate"));
    assert_eq!(alert.packet, 8);
}
