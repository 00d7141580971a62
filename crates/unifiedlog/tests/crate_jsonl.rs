//! JSON Lines written by the macos-unifiedlogs crate: lines built from its
//! `LogData` record layout, and the real Big Sur export in the corpus.

mod common;

use std::collections::BTreeMap;

use common::{corpus_path, read_bytes};
use serde_json::Value;
use wiretrust_unifiedlog::{Filter, Format, LogReader, PREFILTER_NEEDLES};

/// Builds one record with the crate's keys (`message_entries` left out).
fn crate_line(
    subsystem: &str,
    category: &str,
    library: &str,
    event_type: &str,
    message: &str,
) -> String {
    serde_json::json!({
        "subsystem": subsystem,
        "thread_id": 9_007_199_254_740_993u64,
        "pid": 961,
        "euid": 501,
        "library": library,
        "library_uuid": "6D702F3B34C038098CEC1D59D58CF8BB",
        "activity_id": 18_446_744_073_709_551_000u64,
        "parent_activity_id": 0,
        "time": 1.642_302_768_646_032e18,
        "category": category,
        "event_type": event_type,
        "log_type": "Default",
        "process": "/System/Library/PrivateFrameworks/GeoServices.framework/geod",
        "process_uuid": "21B380F4D50C34639CAF46BB2178258B",
        "message": message,
        "raw_message": "%{public}s",
        "boot_uuid": "80D194AF56A34C54867449D2130D41BB",
        "timezone_name": "Pacific",
        "timestamp": "2022-01-16T03:12:48.646032128Z",
        "message_flags": ["SharedCache", "HasSubsystem"],
        "evidence": "Persist/0000000000000002.tracev3",
    })
    .to_string()
}

#[test]
fn crate_lines_map_fields() {
    let cfnetwork = "/System/Library/Frameworks/CFNetwork.framework/Versions/A/CFNetwork";
    let lines = [
        crate_line(
            "com.apple.network",
            "connection",
            "/usr/lib/libnetwork.dylib",
            "Log",
            "start",
        ),
        crate_line("", "", cfnetwork, "Log", "Connection 65: enabling TLS"),
        crate_line(
            "com.apple.mDNSResponder",
            "Default",
            "/usr/sbin/mDNSResponder",
            "Log",
            "x",
        ),
        crate_line("", "", "", "Loss", ""),
    ];
    let text = lines.join("\n");
    let reader = LogReader::new(text.as_bytes(), Filter::Network).unwrap();
    assert_eq!(reader.format(), Format::UnifiedLogsJsonl);
    let outcome = common::read_all(reader);
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    assert_eq!(outcome.records.len(), 2);

    let first = &outcome.records[0];
    assert_eq!(first.timestamp, "2022-01-16T03:12:48.646032128Z");
    assert_eq!(first.time_ns, Some(1_642_302_768_646_032_128));
    assert_eq!(first.event_type, "Log");
    assert_eq!(first.level, "Default");
    assert_eq!(first.subsystem, "com.apple.network");
    assert_eq!(first.category, "connection");
    assert_eq!(first.sender_image, "/usr/lib/libnetwork.dylib");
    assert_eq!(
        first.process_path,
        "/System/Library/PrivateFrameworks/GeoServices.framework/geod"
    );
    assert_eq!(first.pid, Some(961));
    assert_eq!(first.thread_id, Some(9_007_199_254_740_993));
    assert_eq!(first.activity_id, Some(18_446_744_073_709_551_000));
    assert_eq!(first.trace_id, None);
    assert_eq!(
        first.boot_uuid.as_deref(),
        Some("80D194AF56A34C54867449D2130D41BB")
    );
    assert_eq!(first.format_string, "%{public}s");
    assert_eq!(first.message, "start");
    assert_eq!(first.raw, lines[0]);

    assert_eq!(outcome.records[1].message, "Connection 65: enabling TLS");
    assert_eq!(outcome.records[1].location.line, 2);
    assert_eq!(outcome.stats.loss_events, 1);
    assert_eq!(outcome.stats.lost_messages, 0);
    assert_eq!(outcome.stats.skipped_by_prefilter, 1);
}

#[test]
fn crate_time_falls_back_to_float() {
    let line = crate_line(
        "com.apple.network",
        "boringssl",
        "/usr/lib/libboringssl.dylib",
        "Log",
        "m",
    )
    .replace("2022-01-16T03:12:48.646032128Z", "");
    let outcome = read_bytes(line.as_bytes(), Filter::Network);
    let time_ns = outcome.records[0].time_ns.unwrap();
    // An f64 near 1.6e18 is exact only to 256 ns.
    assert!(
        (time_ns - 1_642_302_768_646_032_128).abs() <= 256,
        "{time_ns}"
    );
}

/// Applies the network rule, written out again from its documentation so
/// that the test does not depend on the reader's own code.
fn kept_by_network_rule(record: &Value) -> bool {
    let field = |key: &str| record[key].as_str().unwrap_or_default().to_owned();
    let subsystem = field("subsystem");
    let library = field("library");
    let library_name = library.rsplit('/').next().unwrap_or_default();
    let process_name = field("process")
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    subsystem == "com.apple.network"
        || subsystem == "com.apple.network.boringssl"
        || subsystem == "com.apple.CFNetwork"
        || subsystem == "com.apple.nsurlsessiond"
        || subsystem.starts_with("com.apple.security")
        || field("category") == "ATS"
        || process_name == "trustd"
        || library_name == "trustd"
        || library_name == "libboringssl.dylib"
        || library_name == "libnetwork.dylib"
        || (subsystem.is_empty() && library_name == "CFNetwork")
}

#[test]
fn corpus_big_sur_export() {
    let Some(path) = corpus_path(
        "corpus_big_sur_export",
        "unifiedlog/artemis-bigsur-unifiedlogs.jsonl",
    ) else {
        return;
    };
    let text = std::fs::read(&path).unwrap();
    let lines: Vec<Value> = text
        .split(|b| *b == b'\n')
        .filter(|line| !line.is_empty())
        .map(|line| serde_json::from_slice(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 168);

    let all = read_bytes(&text, Filter::All);
    assert!(all.errors.is_empty(), "{:?}", all.errors);
    assert_eq!(all.records.len(), 168);
    assert_eq!(all.stats.records, 168);
    for (record, line) in all.records.iter().zip(&lines) {
        assert_eq!(record.subsystem, line["subsystem"].as_str().unwrap());
        assert_eq!(record.message, line["message"].as_str().unwrap());
        let float_ns = line["time"].as_f64().unwrap();
        let time_ns = record.time_ns.unwrap();
        assert!(
            (time_ns as f64 - float_ns).abs() <= 256.0,
            "{time_ns} vs {float_ns}"
        );
    }

    let mut expected: BTreeMap<(String, String), usize> = BTreeMap::new();
    for line in lines.iter().filter(|line| kept_by_network_rule(line)) {
        let key = (
            line["subsystem"].as_str().unwrap().to_owned(),
            line["category"].as_str().unwrap().to_owned(),
        );
        *expected.entry(key).or_default() += 1;
    }
    let network = read_bytes(&text, Filter::Network);
    assert!(network.errors.is_empty(), "{:?}", network.errors);
    let mut found: BTreeMap<(String, String), usize> = BTreeMap::new();
    for record in &network.records {
        *found
            .entry((record.subsystem.clone(), record.category.clone()))
            .or_default() += 1;
    }
    assert_eq!(found, expected);

    // The counts documented for this export.
    let count = |subsystem: &str, category: &str| {
        found
            .get(&(subsystem.to_owned(), category.to_owned()))
            .copied()
    };
    assert_eq!(count("com.apple.network", "boringssl"), Some(24));
    assert_eq!(count("com.apple.network", "connection"), Some(31));
    assert_eq!(count("com.apple.CFNetwork", "Summary"), Some(5));
    assert_eq!(count("com.apple.CFNetwork", "ATS"), Some(1));
    assert_eq!(count("", ""), Some(37));
    assert_eq!(network.records.len(), 116);

    let stats = &network.stats;
    assert_eq!(stats.relevant, 116);
    assert_eq!(stats.parsed + stats.skipped_by_prefilter, 168);
    assert!(stats.skipped_by_prefilter >= 36, "{stats:?}");
}

#[test]
fn corpus_prefilter_never_drops_a_kept_record() {
    let Some(path) = corpus_path(
        "corpus_prefilter_never_drops_a_kept_record",
        "unifiedlog/artemis-bigsur-unifiedlogs.jsonl",
    ) else {
        return;
    };
    let text = std::fs::read_to_string(&path).unwrap();
    for (number, line) in text.lines().enumerate() {
        let record: Value = serde_json::from_str(line).unwrap();
        if kept_by_network_rule(&record) {
            let hit = PREFILTER_NEEDLES.iter().any(|needle| line.contains(needle));
            assert!(
                hit,
                "line {} is kept by the rule but has no needle",
                number + 1
            );
        }
    }
}
