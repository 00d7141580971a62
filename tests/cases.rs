//! Runs the public expected-outcome tables: for each listed capture, the
//! detections it must raise and those it must not.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use wiretrust::detections::{RULES, Severity};

/// Rows whose expectation came from a tshark dissection that missed
/// data, each with the evidence: (capture file name, detection, reason).
const CASE_EXCEPTIONS: &[(&str, &str, &str)] = &[(
    "ndpi__google_ssl.pcap",
    "tls.version_below_floor",
    "the server flight arrives out of order (frame 6 before 8 and 10), which tshark 4.0 \
     leaves unreassembled by default; `tshark -o tcp.reassemble_out_of_order:TRUE` shows the \
     ServerHello in frame 8 choosing TLS 1.0 (0x0301) with TLS_RSA_WITH_RC4_128_SHA (0x0005), \
     so the alert is right",
)];

fn is_exception(input: &Path, id: &str) -> bool {
    let name = input.file_name().unwrap_or_default().to_string_lossy();
    CASE_EXCEPTIONS
        .iter()
        .any(|(file, detection, _)| *file == name && *detection == id)
}

/// Checks one row; returns a description of each failure.
fn check_case(input: &Path, expect: &str, forbid: &str) -> Vec<String> {
    let scanned = common::scan_paths(&[input.to_path_buf()]);
    let raised: BTreeSet<&str> = scanned.alerts.iter().map(|a| a.detection).collect();
    let implemented: BTreeSet<&str> = RULES.iter().map(|r| r.id).collect();
    let mut failures = Vec::new();
    let name = input.display();
    for id in expect.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        if implemented.contains(id) && !raised.contains(id) {
            failures.push(format!("{name}: expected {id}, raised {raised:?}"));
        }
    }
    for id in forbid.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        if id == "medium+" {
            let loud: Vec<_> = scanned
                .alerts
                .iter()
                .filter(|a| a.severity >= Severity::Medium)
                .map(|a| a.detection)
                .collect();
            if !loud.is_empty() {
                failures.push(format!(
                    "{name}: medium or higher forbidden, raised {loud:?}"
                ));
            }
        } else if raised.contains(id) && !is_exception(input, id) {
            let titles: Vec<_> = scanned
                .alerts
                .iter()
                .filter(|a| a.detection == id)
                .map(|a| &a.title)
                .collect();
            failures.push(format!("{name}: {id} forbidden, raised: {titles:?}"));
        }
    }
    failures
}

#[test]
fn public_capture_cases() {
    let Some(corpus) = common::corpus("public_capture_cases") else {
        return;
    };
    let table = common::cases_dir(&corpus).join("pcap-public.tsv");
    let mut failures = Vec::new();
    let rows = common::read_tsv(&table);
    assert!(
        rows.len() > 100,
        "{} has only {} rows",
        table.display(),
        rows.len()
    );
    for row in &rows {
        let input = corpus.join("pcap").join(&row["capture"]);
        failures.extend(check_case(&input, &row["expect"], &row["forbid"]));
    }
    assert!(
        failures.is_empty(),
        "{} case failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn bug_report_cases() {
    let Some(corpus) = common::corpus("bug_report_cases") else {
        return;
    };
    let cases = common::cases_dir(&corpus);
    let mut failures = Vec::new();
    for row in common::read_tsv(&cases.join("bugs-public.tsv")) {
        let input = cases.join(&row["input"]);
        failures.extend(check_case(&input, &row["expect"], &row["forbid"]));
    }
    assert!(
        failures.is_empty(),
        "{} case failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn unified_log_cases() {
    let Some(corpus) = common::corpus("unified_log_cases") else {
        return;
    };
    let cases = common::cases_dir(&corpus);
    let rows = common::read_tsv(&cases.join("unifiedlog-public.tsv"));
    assert!(!rows.is_empty(), "the unified log case table is empty");
    let mut failures = Vec::new();
    for row in rows {
        let input = corpus.join("unifiedlog").join(&row["input"]);
        failures.extend(check_case(&input, &row["expect"], &row["forbid"]));
    }
    assert!(
        failures.is_empty(),
        "{} case failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
