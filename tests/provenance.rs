//! File sightings and `integrity.fleet_divergence` through the binary:
//! the constructed sensor logs in `fixtures/provenance/` (written by
//! `scripts/endpoint/make-provenance.py`), scanned with a store in a
//! temporary folder.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

const DETECTION: &str = "integrity.fleet_divergence";
const TOOL_URL: &str = "http://dl.example.test/releases/tool-2.4.dmg";

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join("provenance")
        .join(name)
}

/// Output of one scan.
struct Run {
    status: i32,
    alerts: Vec<Value>,
    stderr: String,
}

/// Runs `wiretrust scan --format jsonl` with `args` and a data folder
/// inside `home`, so the default store never lands in the real one.
fn scan(home: &Path, args: &[&str], inputs: &[PathBuf]) -> Run {
    let output = Command::cargo_bin("wiretrust")
        .unwrap()
        .env("HOME", home)
        .env("XDG_DATA_HOME", home.join("data"))
        .arg("scan")
        .arg("--format")
        .arg("jsonl")
        .args(args)
        .args(inputs)
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let alerts = stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    Run {
        status: output.status.code().unwrap_or(-1),
        alerts,
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn divergences(run: &Run) -> Vec<&Value> {
    run.alerts
        .iter()
        .filter(|alert| alert["detection"] == DETECTION)
        .collect()
}

fn store_arg(path: &Path) -> [&str; 2] {
    ["--store", path.to_str().unwrap()]
}

#[test]
fn second_run_with_new_hash_alerts() {
    let home = tempfile::tempdir().unwrap();
    let store = home.path().join("store.sqlite");
    let first = scan(
        home.path(),
        &store_arg(&store),
        &[fixture("constructed-run1")],
    );
    assert!(divergences(&first).is_empty(), "{:?}", first.alerts);
    // The bad line in files.log makes the first run partial.
    assert_eq!(first.status, 3, "{}", first.stderr);
    assert!(first.stderr.contains("line 12"), "{}", first.stderr);

    let second = scan(
        home.path(),
        &store_arg(&store),
        &[fixture("constructed-run2")],
    );
    assert_eq!(second.status, 1, "{}", second.stderr);
    let found = divergences(&second);
    assert_eq!(found.len(), 1, "{:?}", second.alerts);
    let alert = found[0];
    assert_eq!(alert["severity"], "high");
    assert_eq!(alert["confidence"], "high");
    assert_eq!(alert["host"], "10.0.0.6");
    assert_eq!(alert["flow"]["url"], TOOL_URL);
    assert_eq!(alert["flow"]["file"]["path"], "tool-2.4.dmg");
    let evidence = alert["evidence"].as_array().unwrap();
    assert_eq!(evidence.len(), 2);
    let earlier = evidence[0]["input"].as_str().unwrap();
    assert!(
        earlier.ends_with("constructed-run1/constructed-files.log"),
        "{earlier}"
    );
    assert_eq!(evidence[0]["location"], "line 9");
    assert!(evidence[0]["value"].as_str().unwrap().contains("10.0.0.5"));
    let later = evidence[1]["input"].as_str().unwrap();
    assert!(
        later.ends_with("constructed-run2/constructed-files.json"),
        "{later}"
    );
    let sha256 = alert["flow"]["file"]["sha256"].as_str().unwrap();
    assert!(evidence[1]["value"].as_str().unwrap().starts_with(sha256));
    assert_ne!(alert["tls"]["compared"]["earlier_digest"], sha256);
}

#[test]
fn third_run_repeats_no_alert() {
    let home = tempfile::tempdir().unwrap();
    let store = home.path().join("store.sqlite");
    scan(
        home.path(),
        &store_arg(&store),
        &[fixture("constructed-run1")],
    );
    let second = scan(
        home.path(),
        &store_arg(&store),
        &[fixture("constructed-run2")],
    );
    assert_eq!(divergences(&second).len(), 1);
    let third = scan(
        home.path(),
        &store_arg(&store),
        &[fixture("constructed-run2")],
    );
    assert!(divergences(&third).is_empty(), "{:?}", third.alerts);
    assert_eq!(third.status, 0, "{}", third.stderr);
}

#[test]
fn same_fixture_twice_no_alert() {
    let home = tempfile::tempdir().unwrap();
    let store = home.path().join("store.sqlite");
    for _ in 0..2 {
        let run = scan(
            home.path(),
            &store_arg(&store),
            &[fixture("constructed-run1")],
        );
        assert!(divergences(&run).is_empty(), "{:?}", run.alerts);
        assert_ne!(run.status, 1, "{}", run.stderr);
    }
}

#[test]
fn no_store_judges_one_run() {
    let home = tempfile::tempdir().unwrap();
    let first = scan(home.path(), &["--no-store"], &[fixture("constructed-run1")]);
    assert!(divergences(&first).is_empty());
    let second = scan(home.path(), &["--no-store"], &[fixture("constructed-run2")]);
    assert!(divergences(&second).is_empty(), "{:?}", second.alerts);
    assert!(
        !home.path().join("data").exists(),
        "--no-store wrote a store"
    );

    let both = [fixture("constructed-run1"), fixture("constructed-run2")];
    let together = scan(home.path(), &["--no-store"], &both);
    assert_eq!(divergences(&together).len(), 1, "{:?}", together.alerts);
}

#[test]
fn default_store_is_in_data_folder() {
    let home = tempfile::tempdir().unwrap();
    scan(home.path(), &[], &[fixture("constructed-run1")]);
    let second = scan(home.path(), &[], &[fixture("constructed-run2")]);
    assert_eq!(divergences(&second).len(), 1, "{}", second.stderr);
    let path = home.path().join("data/wiretrust/store.sqlite");
    assert!(path.is_file(), "no store at {}", path.display());
}

#[test]
fn corrupt_store_is_named() {
    let home = tempfile::tempdir().unwrap();
    let store = home.path().join("broken-store.sqlite");
    let garbage = b"this is not a database, just text long enough to look like a header\n";
    std::fs::write(&store, garbage.repeat(100)).unwrap();
    let run = scan(
        home.path(),
        &store_arg(&store),
        &[fixture("constructed-run1")],
    );
    assert_eq!(run.status, 2, "{}", run.stderr);
    assert!(run.stderr.contains("broken-store.sqlite"), "{}", run.stderr);
    assert!(
        run.stderr.contains("not a readable SQLite database"),
        "{}",
        run.stderr
    );
    assert_eq!(std::fs::read(&store).unwrap(), garbage.repeat(100));
}

#[test]
fn foreign_database_store_is_rejected() {
    let home = tempfile::tempdir().unwrap();
    let store = fixture("constructed-endpoint/constructed-QuarantineEventsV2");
    let copy = home.path().join("quarantine-copy");
    std::fs::copy(&store, &copy).unwrap();
    let run = scan(
        home.path(),
        &store_arg(&copy),
        &[fixture("constructed-run1")],
    );
    assert_eq!(run.status, 2, "{}", run.stderr);
    assert!(run.stderr.contains("quarantine-copy"), "{}", run.stderr);
    assert!(run.stderr.contains("another program"), "{}", run.stderr);
}

#[test]
fn suricata_hosts_diverge_within_run() {
    let home = tempfile::tempdir().unwrap();
    let run = scan(
        home.path(),
        &["--no-store"],
        &[fixture("constructed-eve.json")],
    );
    let found = divergences(&run);
    assert_eq!(found.len(), 1, "{:?}", run.alerts);
    assert_eq!(found[0]["host"], "10.0.0.9");
    assert_eq!(found[0]["flow"]["url"], TOOL_URL);
    assert!(run.stderr.contains("line 4"), "{}", run.stderr);
    assert_eq!(run.status, 1);
}

#[test]
fn quarantine_url_keys_osquery_rows() {
    let home = tempfile::tempdir().unwrap();
    let run = scan(
        home.path(),
        &["--no-store"],
        &[fixture("constructed-endpoint")],
    );
    let found = divergences(&run);
    assert_eq!(found.len(), 1, "{:?}", run.alerts);
    let alert = found[0];
    assert_eq!(alert["host"], "mac-02");
    assert_eq!(
        alert["flow"]["url"],
        "https://downloads.example.test/Installer.pkg"
    );
    assert_eq!(
        alert["flow"]["file"]["path"],
        "/Users/alice/Downloads/Installer.pkg"
    );
    assert_eq!(
        alert["destination"]["server_name"],
        "downloads.example.test"
    );
}

#[test]
fn osquery_without_quarantine_no_alert() {
    let home = tempfile::tempdir().unwrap();
    let log = fixture("constructed-endpoint/constructed-osquery-results.log");
    let run = scan(home.path(), &["--no-store"], &[log]);
    // Without the database the rows have neither URL nor validator: no key.
    assert!(divergences(&run).is_empty(), "{:?}", run.alerts);
}

#[test]
fn sightings_written_as_observations() {
    let home = tempfile::tempdir().unwrap();
    let observations = home.path().join("observations.jsonl");
    let args = [
        "--no-store",
        "--observations",
        observations.to_str().unwrap(),
    ];
    scan(home.path(), &args, &[fixture("constructed-endpoint")]);
    let text = std::fs::read_to_string(&observations).unwrap();
    let records: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 2, "{text}");
    for record in &records {
        assert_eq!(record["type"], "file_sighting");
        assert_eq!(record["sensor"], "osquery");
        assert_eq!(record["path"], "/Users/alice/Downloads/Installer.pkg");
        assert_eq!(
            record["url"],
            "https://downloads.example.test/Installer.pkg"
        );
        assert_eq!(record["quarantine"]["agent_bundle_id"], "com.apple.Safari");
        assert_eq!(record["sha256"].as_str().map(str::len), Some(64));
    }
    assert_eq!(records[0]["host"], "mac-01");
    assert_eq!(records[1]["host"], "mac-02");
}

#[test]
fn truncated_quarantine_database_reported() {
    let home = tempfile::tempdir().unwrap();
    let original = std::fs::read(fixture(
        "constructed-endpoint/constructed-QuarantineEventsV2",
    ));
    let original = original.unwrap();
    let truncated = home.path().join("QuarantineEventsV2");
    std::fs::write(&truncated, &original[..original.len() / 2]).unwrap();
    let run = scan(home.path(), &["--no-store"], &[truncated]);
    assert_eq!(run.status, 2, "{}", run.stderr);
    assert!(run.stderr.contains("QuarantineEventsV2"), "{}", run.stderr);
}

#[test]
fn sqlite_without_quarantine_table_reported() {
    let home = tempfile::tempdir().unwrap();
    let store = home.path().join("store.sqlite");
    scan(
        home.path(),
        &store_arg(&store),
        &[fixture("constructed-run1")],
    );
    let run = scan(home.path(), &["--no-store"], &[store]);
    assert_eq!(run.status, 2, "{}", run.stderr);
    assert!(run.stderr.contains("LSQuarantineEvent"), "{}", run.stderr);
}

#[test]
fn rules_list_names_detection() {
    let output = Command::cargo_bin("wiretrust")
        .unwrap()
        .args(["rules", "explain", DETECTION])
        .output()
        .unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains("ETag"), "{text}");
}

#[test]
fn eslogger_names_writer_for_host() {
    let home = tempfile::tempdir().unwrap();
    let inputs = [
        fixture("constructed-endpoint"),
        fixture("constructed-mac02.eslogger.jsonl"),
    ];
    let args = ["--no-store", "--host", "mac-02"];
    let run = scan(home.path(), &args, &inputs);
    let found = divergences(&run);
    assert_eq!(found.len(), 1, "{}", run.stderr);
    let process = &found[0]["process"];
    assert_eq!(process["signing_id"], "com.apple.Safari");
    assert_eq!(process["pid"], 812);
    assert_eq!(process["name"], "Safari");
}

#[test]
fn eslogger_of_unknown_host_unused() {
    let home = tempfile::tempdir().unwrap();
    let inputs = [
        fixture("constructed-endpoint"),
        fixture("constructed-mac02.eslogger.jsonl"),
    ];
    // Two hosts and no --host: the eslogger file cannot be placed.
    let run = scan(home.path(), &["--no-store"], &inputs);
    let found = divergences(&run);
    assert_eq!(found.len(), 1, "{}", run.stderr);
    assert!(
        found[0]["process"]["pid"].is_null(),
        "{:?}",
        found[0]["process"]
    );
}

#[test]
fn zeek_divergence_names_connection() {
    let home = tempfile::tempdir().unwrap();
    let store = home.path().join("store.sqlite");
    scan(
        home.path(),
        &store_arg(&store),
        &[fixture("constructed-run1")],
    );
    let second = scan(
        home.path(),
        &store_arg(&store),
        &[fixture("constructed-run2")],
    );
    let found = divergences(&second);
    assert_eq!(found.len(), 1, "{:?}", second.alerts);
    let alert = found[0];
    assert_eq!(alert["source"]["ip"], "10.0.0.6");
    assert_eq!(alert["source"]["port"], 51001);
    assert_eq!(alert["destination"]["ip"], "203.0.113.10");
    assert_eq!(alert["destination"]["port"], 80);
    let missing = alert["missing"].to_string();
    for key in ["\"source\"", "destination.ip", "destination.port"] {
        assert!(!missing.contains(key), "{key} listed missing: {missing}");
    }
}

#[test]
fn suricata_divergence_names_connection() {
    let home = tempfile::tempdir().unwrap();
    let run = scan(
        home.path(),
        &["--no-store"],
        &[fixture("constructed-eve.json")],
    );
    let found = divergences(&run);
    assert_eq!(found.len(), 1, "{:?}", run.alerts);
    let alert = found[0];
    assert_eq!(alert["source"]["ip"], "10.0.0.9");
    assert_eq!(alert["source"]["port"], 52001);
    assert_eq!(alert["destination"]["ip"], "203.0.113.10");
    assert_eq!(alert["destination"]["port"], 80);
    let missing = alert["missing"].to_string();
    for key in ["\"source\"", "destination.ip", "destination.port"] {
        assert!(!missing.contains(key), "{key} listed missing: {missing}");
    }
}

#[test]
fn store_directory_named_once() {
    let home = tempfile::tempdir().unwrap();
    let folder = home.path().join("stores");
    std::fs::create_dir(&folder).unwrap();
    let run = scan(
        home.path(),
        &store_arg(&folder),
        &[fixture("constructed-run1")],
    );
    assert_eq!(run.status, 2, "{}", run.stderr);
    assert!(run.stderr.contains("is a directory"), "{}", run.stderr);
    assert!(run.stderr.contains("store.sqlite"), "{}", run.stderr);
    let repeats = run.stderr.matches("unable to open database file").count();
    assert_eq!(repeats, 0, "{}", run.stderr);
}

#[test]
fn quarantine_bad_row_named_row() {
    let home = tempfile::tempdir().unwrap();
    let database = home.path().join("QuarantineEventsV2");
    let connection = rusqlite::Connection::open(&database).unwrap();
    connection
        .execute_batch(
            "CREATE TABLE LSQuarantineEvent (LSQuarantineEventIdentifier TEXT PRIMARY KEY NOT NULL,
               LSQuarantineTimeStamp REAL, LSQuarantineAgentBundleIdentifier TEXT,
               LSQuarantineAgentName TEXT, LSQuarantineDataURLString TEXT,
               LSQuarantineSenderName TEXT, LSQuarantineSenderAddress TEXT,
               LSQuarantineTypeNumber INTEGER, LSQuarantineOriginTitle TEXT,
               LSQuarantineOriginURLString TEXT, LSQuarantineOriginAlias BLOB);
             INSERT INTO LSQuarantineEvent VALUES ('5B6E4AF2-3C3B-4E6A-9D7C-2F1E0A9B8C7D',
               816861600.5, 'com.apple.Safari', 'Safari', 'https://dl.example.test/a.dmg',
               NULL, NULL, 0, NULL, NULL, NULL);
             INSERT INTO LSQuarantineEvent VALUES ('B', 'soon', NULL, NULL, NULL, NULL, NULL,
               0, NULL, NULL, NULL);",
        )
        .unwrap();
    drop(connection);
    let run = scan(home.path(), &["--no-store"], &[database]);
    assert!(run.stderr.contains("row 2:"), "{}", run.stderr);
    assert!(!run.stderr.contains("line 2:"), "{}", run.stderr);
}

#[test]
fn zeek_header_only_is_recognised() {
    let home = tempfile::tempdir().unwrap();
    let log = home.path().join("files.log");
    std::fs::write(&log, "#fields\tts\tfuid\tuid\tmd5\n").unwrap();
    let run = scan(home.path(), &["--no-store"], &[log]);
    assert!(
        !run.stderr.contains("not a packet capture"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("zeek-tsv"), "{}", run.stderr);
    assert!(run.stderr.contains("contains no records"), "{}", run.stderr);
}

#[test]
fn zeek_truncated_json_is_recognised() {
    let home = tempfile::tempdir().unwrap();
    let log = home.path().join("files.json");
    std::fs::write(&log, "{\"ts\":1795255201.5,\"fuid\":\"F1\",\"tx_hos").unwrap();
    let run = scan(home.path(), &["--no-store"], &[log]);
    assert!(
        !run.stderr.contains("not a packet capture"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("line 1: invalid JSON"),
        "{}",
        run.stderr
    );
}
