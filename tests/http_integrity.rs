//! Runs the `wiretrust` binary on the recorded HTTP captures
//! (scripts/make-http-captures.sh) and checks the http_transfer records
//! and the integrity and stripping alerts, each in a positive and a
//! negative case.

mod common;

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

/// What one scan wrote: alerts, HTTP transfer records, exit status and
/// the summary on stderr.
struct Output {
    alerts: Vec<Value>,
    transfers: Vec<Value>,
    status: i32,
    stderr: String,
}

fn scan(capture: &Path) -> Output {
    let dir = tempfile::tempdir().expect("temporary directory");
    let observations = dir.path().join("observations.jsonl");
    let output = Command::cargo_bin("wiretrust")
        .expect("the wiretrust binary is built for tests")
        .arg("scan")
        .arg("--no-store")
        .arg("--format")
        .arg("jsonl")
        .arg("--observations")
        .arg(&observations)
        .arg(capture)
        .output()
        .expect("wiretrust runs");
    let parse = |text: &str| -> Vec<Value> {
        text.lines()
            .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{line}: {e}")))
            .collect()
    };
    let records = std::fs::read_to_string(&observations).expect("observations written");
    Output {
        alerts: parse(&String::from_utf8_lossy(&output.stdout)),
        transfers: parse(&records)
            .into_iter()
            .filter(|r| r["type"] == "http_transfer")
            .collect(),
        status: output.status.code().unwrap_or(-1),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn fixture(name: &str) -> Output {
    scan(&common::fixture(name))
}

fn detections(output: &Output) -> Vec<&str> {
    output
        .alerts
        .iter()
        .filter_map(|a| a["detection"].as_str())
        .collect()
}

/// Returns the (field, outcome) pairs of a transfer's digests.
fn outcomes(transfer: &Value) -> Vec<(String, String)> {
    let digests = transfer["digests"].as_array().cloned().unwrap_or_default();
    digests
        .iter()
        .map(|d| {
            let field = d["field"].as_str().unwrap_or_default().to_owned();
            (field, d["outcome"].as_str().unwrap_or_default().to_owned())
        })
        .collect()
}

#[test]
fn correct_digests_all_verified() {
    let output = fixture("http-digests-correct.pcap");
    assert!(output.alerts.is_empty(), "{:?}", output.alerts);
    assert_eq!(output.status, 0);
    assert_eq!(output.transfers.len(), 1);
    let transfer = &output.transfers[0];
    let fields: Vec<_> = outcomes(transfer).into_iter().map(|(f, _)| f).collect();
    for field in [
        "Content-MD5",
        "Digest",
        "Content-Digest",
        "Repr-Digest",
        "ETag",
    ] {
        assert!(
            fields.iter().any(|f| f == field),
            "{field} missing: {fields:?}"
        );
    }
    assert!(
        outcomes(transfer).iter().all(|(_, o)| o == "verified"),
        "{transfer}"
    );
    assert_eq!(transfer["complete"], true);
    assert_eq!(transfer["received_length"], transfer["declared_length"]);
    assert!(transfer["first_body_packet"].as_u64().is_some());
    assert!(
        output.stderr.contains("1 HTTP transfer: 1 verified"),
        "{}",
        output.stderr
    );
}

#[test]
fn each_wrong_digest_raises_mismatch() {
    for (capture, field) in [
        ("http-content-md5-wrong.pcap", "Content-MD5"),
        ("http-digest-wrong.pcap", "Digest"),
        ("http-content-digest-wrong.pcap", "Content-Digest"),
        ("http-repr-digest-wrong.pcap", "Repr-Digest"),
        ("http-s3-etag-wrong.pcap", "ETag"),
    ] {
        let output = fixture(capture);
        assert_eq!(
            detections(&output),
            vec!["integrity.digest_mismatch"],
            "{capture}"
        );
        assert_eq!(output.status, 1, "{capture}");
        let alert = &output.alerts[0];
        assert_eq!(alert["severity"], "high", "{capture}");
        let url = alert["flow"]["url"].as_str().unwrap_or_default();
        assert!(url.contains("/wrong/"), "{capture}: {url}");
        let sha256 = &output.transfers[0]["sha256"];
        assert_eq!(&alert["flow"]["file"]["sha256"], sha256, "{capture}");
        assert_eq!(alert["flow"]["bytes"], 3264, "{capture}");
        let evidence = alert["evidence"][0]["location"]
            .as_str()
            .unwrap_or_default();
        assert!(evidence.starts_with("packet "), "{capture}: {evidence}");
        assert_eq!(alert["attack"]["technique"], "T1565.002", "{capture}");
        let mismatched: Vec<_> = outcomes(&output.transfers[0])
            .into_iter()
            .filter(|(_, o)| o == "mismatch")
            .map(|(f, _)| f)
            .collect();
        assert!(!mismatched.is_empty(), "{capture}");
        assert!(
            mismatched.iter().all(|f| f == field),
            "{capture}: {mismatched:?}"
        );
    }
}

#[test]
fn chunked_body_verified() {
    let output = fixture("http-chunked-trailer.pcap");
    assert!(output.alerts.is_empty(), "{:?}", output.alerts);
    let transfer = &output.transfers[0];
    assert_eq!(transfer["framing"], "chunked");
    assert_eq!(transfer["received_length"], 3264);
    assert_eq!(transfer["body_end"], "complete");
    assert_eq!(
        outcomes(transfer),
        vec![("Content-Digest".to_owned(), "verified".to_owned())]
    );
}

#[test]
fn gzip_content_and_representation_verified() {
    let output = fixture("http-gzip-digests.pcap");
    assert!(output.alerts.is_empty(), "{:?}", output.alerts);
    let transfer = &output.transfers[0];
    assert_eq!(transfer["content_encoding"], "gzip");
    assert_eq!(transfer["decoded_length"], 3264);
    assert!(transfer["decoded_sha256"].is_string());
    assert_ne!(transfer["decoded_sha256"], transfer["sha256"]);
    let expected = vec![
        ("Content-Digest".to_owned(), "verified".to_owned()),
        ("Repr-Digest".to_owned(), "verified".to_owned()),
    ];
    assert_eq!(outcomes(transfer), expected);
}

#[test]
fn short_body_raises_length_mismatch() {
    let output = fixture("http-short-body-close.pcap");
    assert_eq!(detections(&output), vec!["integrity.length_mismatch"]);
    assert_eq!(output.alerts[0]["severity"], "medium");
    let transfer = &output.transfers[0];
    assert_eq!(transfer["body_end"], "short_at_close");
    assert_eq!(transfer["received_length"], 1632);
    assert_eq!(transfer["declared_length"], 3264);
    let expected = vec![(
        "Content-MD5".to_owned(),
        "not_checkable_body_incomplete".to_owned(),
    )];
    assert_eq!(outcomes(transfer), expected);
}

#[test]
fn keep_alive_transfers_in_order() {
    let output = fixture("http-keep-alive.pcap");
    assert!(output.alerts.is_empty(), "{:?}", output.alerts);
    let urls: Vec<_> = output
        .transfers
        .iter()
        .filter_map(|t| t["url"].as_str())
        .map(|url| url.rsplit('/').next().unwrap_or_default())
        .collect();
    assert_eq!(urls, vec!["digests", "chunked", "gzip", "page"]);
    let streams: Vec<_> = output.transfers.iter().map(|t| &t["stream"]).collect();
    assert!(streams.iter().all(|s| **s == 0), "{streams:?}");
    let complete = output.transfers.iter().all(|t| t["complete"] == true);
    assert!(complete);
}

#[test]
fn head_and_304_have_no_body() {
    let output = fixture("http-head-304.pcap");
    assert!(output.alerts.is_empty(), "{:?}", output.alerts);
    let shapes: Vec<_> = output
        .transfers
        .iter()
        .map(|t| {
            (
                t["method"].clone(),
                t["status"].clone(),
                t["body_end"].clone(),
            )
        })
        .collect();
    let expected = vec![
        ("HEAD".into(), 200.into(), "no_body".into()),
        ("GET".into(), 304.into(), "no_body".into()),
    ];
    assert_eq!(shapes, expected);
    assert_eq!(output.transfers[1]["etag"], "\"wiretrust-fixture-v1\"");
}

#[test]
fn plain_http_after_hsts_is_stripped() {
    let output = fixture("http-hsts-then-plain.pcap");
    assert_eq!(detections(&output), vec!["tls.stripped"]);
    let alert = &output.alerts[0];
    assert_eq!(alert["severity"], "high");
    assert_eq!(alert["destination"]["server_name"], "www.wiretrust.test");
    let hosts: Vec<_> = output
        .transfers
        .iter()
        .filter_map(|t| t["host"].as_str())
        .collect();
    assert_eq!(hosts.len(), 3);
    let announced = output.transfers[0]["strict_transport_security"].as_str();
    assert_eq!(announced, Some("max-age=31536000; includeSubDomains"));
}

#[test]
fn tls_captures_have_no_transfers() {
    let output = fixture("tls12-benign.pcap");
    assert!(output.transfers.is_empty());
    assert!(
        !output.stderr.contains("HTTP transfer"),
        "{}",
        output.stderr
    );
}

#[test]
fn public_http_captures_give_transfers() {
    let Some(corpus) = common::corpus("public_http_captures_give_transfers") else {
        return;
    };
    for name in [
        "ja4__http1.pcapng",
        "ja4__http1-with-cookies.pcapng",
        "ja4__http-empty-useragent.pcap",
    ] {
        let output = scan(&corpus.join("pcap").join(name));
        assert!(output.alerts.is_empty(), "{name}: {:?}", output.alerts);
        assert!(!output.transfers.is_empty(), "{name}");
        let with_status = output
            .transfers
            .iter()
            .filter(|t| t["status"].is_u64())
            .count();
        assert!(with_status > 0, "{name}");
    }
}

/// Runs the binary with a store file; returns the detections raised.
fn scan_with_store(store: &Path, input: &Path) -> Vec<String> {
    let output = Command::cargo_bin("wiretrust")
        .expect("the wiretrust binary is built for tests")
        .args(["scan", "-q", "--format", "jsonl", "--store"])
        .arg(store)
        .arg(input)
        .output()
        .expect("wiretrust runs");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| {
            let alert: Value = serde_json::from_str(line).expect("an alert line");
            alert["detection"].as_str().unwrap_or_default().to_owned()
        })
        .collect()
}

/// A file downloaded in a capture is compared with the same URL seen by a
/// network sensor in a later run: a different SHA-256 diverges.
#[test]
fn download_diverges_from_sensor() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = dir.path().join("store.sqlite");
    let capture = common::fixture("http-digests-correct.pcap");
    let first = scan_with_store(&store, &capture);
    assert!(!first.contains(&"integrity.fleet_divergence".to_owned()));

    // The same capture again: the same hash, so nothing diverges.
    let again = scan_with_store(&store, &capture);
    assert!(!again.contains(&"integrity.fleet_divergence".to_owned()));

    // A Suricata fileinfo event for the same URL on another host, with
    // another hash.
    let eve = dir.path().join("eve.json");
    let event = serde_json::json!({
        "timestamp": "2026-11-20T10:00:10.500000+0000",
        "flow_id": 7,
        "event_type": "fileinfo",
        "src_ip": "127.0.0.1",
        "src_port": 18100,
        "dest_ip": "10.0.0.9",
        "dest_port": 52000,
        "proto": "TCP",
        "app_proto": "http",
        "http": {"hostname": "127.0.0.1", "url": "/digests", "http_method": "GET", "status": 200},
        "fileinfo": {
            "filename": "/digests",
            "gaps": false,
            "state": "CLOSED",
            "sha256": "00".repeat(32),
            "size": 33,
            "stored": false,
            "tx_id": 0
        }
    });
    std::fs::write(&eve, format!("{event}\n")).expect("eve.json written");
    let diverged = scan_with_store(&store, &eve);
    assert_eq!(diverged, ["integrity.fleet_divergence"]);
}

#[test]
fn parse_problems_quoted_in_summary() {
    let output = fixture("constructed-http-parse-problems.pcap");
    assert_eq!(output.status, 0, "{}", output.stderr);
    let stderr = &output.stderr;
    let prefix = "constructed-http-parse-problems.pcap: TCP flow";
    let quoted = |needle: &str| {
        stderr
            .lines()
            .any(|line| line.contains(prefix) && line.contains(needle))
    };
    assert!(
        stderr.contains("6 parse problems in plain HTTP"),
        "{stderr}"
    );
    assert!(
        quoted("request offset 65160: head_too_large: request header block"),
        "{stderr}"
    );
    assert!(
        quoted("response offset 65160: head_too_large: response header block"),
        "{stderr}"
    );
    assert!(
        quoted("packet 117, response offset 0: invalid_digest_value"),
        "{stderr}"
    );
    assert!(quoted("unknown_digest_algorithm: Digest item"), "{stderr}");
    assert!(quoted("content_decode_failed"), "{stderr}");
    assert!(
        stderr.contains("constructed-http-parse-problems.pcap: 1 more"),
        "{stderr}"
    );
    assert!(stderr.contains("2 digests not checkable"), "{stderr}");
}

#[test]
fn request_head_too_large_keeps_response() {
    let output = fixture("constructed-http-parse-problems.pcap");
    let first = &output.transfers[0];
    assert_eq!(first["method"], Value::Null);
    assert_eq!(first["body_end"], "complete");
    assert_eq!(output.transfers.len(), 4);
}

#[test]
fn trailer_content_digest_checked() {
    let output = fixture("constructed-http-trailer-digest.pcap");
    assert_eq!(detections(&output), vec!["integrity.digest_mismatch"]);
    assert_eq!(output.transfers.len(), 2);
    let verified = vec![("Content-Digest".to_owned(), "verified".to_owned())];
    assert_eq!(outcomes(&output.transfers[0]), verified);
    let mismatch = vec![("Content-Digest".to_owned(), "mismatch".to_owned())];
    assert_eq!(outcomes(&output.transfers[1]), mismatch);
    let alert = &output.alerts[0];
    assert_eq!(alert["severity"], "high");
    let title = alert["title"].as_str().unwrap_or_default();
    assert!(title.contains("/trailer/wrong"), "{title}");
}

#[test]
fn framing_errors_raise_length_mismatch() {
    let output = fixture("constructed-http-framing-conflict.pcap");
    let expected = ["integrity.length_mismatch"; 3];
    assert_eq!(detections(&output), expected);
    let rules = [
        "several Content-Length values that differ",
        "Content-Length and Transfer-Encoding both present",
        "a Content-Length beyond the largest 64-bit number",
    ];
    for (alert, rule) in output.alerts.iter().zip(rules) {
        assert_eq!(alert["severity"], "medium");
        let evidence = alert["evidence"].as_array().cloned().unwrap_or_default();
        let framing = evidence.iter().find(|e| e["field"] == "http.framing");
        let value = framing.map(|e| e["value"].clone()).unwrap_or_default();
        assert_eq!(value, format!("RFC 9112 section 6.3 error: {rule}"));
    }
    for (transfer, rule) in output.transfers.iter().zip(rules) {
        assert_eq!(transfer["framing_error"], rule);
        let warnings = transfer["warnings"].as_array().cloned().unwrap_or_default();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
    }
    assert!(output.stderr.contains("3 parse problems in plain HTTP"));
}

#[test]
fn chunk_warning_evidence_names_packet_once() {
    let output = fixture("constructed-http-parse-problems.pcap");
    assert_eq!(detections(&output), vec!["integrity.length_mismatch"]);
    let evidence = output.alerts[0]["evidence"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let warning = evidence.iter().find(|e| e["field"] == "http.warning");
    let warning = warning.cloned().unwrap_or_default();
    assert_eq!(warning["location"], "packet 133, response offset 56");
    let value = warning["value"].as_str().unwrap_or_default();
    assert!(
        value.starts_with("malformed_chunk_size: malformed chunk size \"zz\";"),
        "{value}"
    );
    assert!(!value.contains("packet"), "{value}");
}
