//! Runs `wiretrust verify` on files and manifests written in a temporary
//! folder, the manifests made by the real `sha256sum`, `sha512sum`,
//! `md5sum`, `sha256sum --tag` and `shasum` where they are installed.

use std::fs;
use std::path::Path;
use std::process::Command as Process;

use assert_cmd::Command;
use serde_json::Value;
use tempfile::TempDir;

/// Files every test starts with: a plain name, a name with spaces, a
/// name with a newline, which `sha256sum` writes escaped, and CRLF line
/// ends, which `shasum -U` reads as LF.
const FILES: &[(&str, &[u8])] = &[
    ("alpha.txt", b"alpha contents\n"),
    ("crlf.txt", b"line one\r\nline two\r"),
    ("with space.bin", b"\x00\x01\x02 binary"),
    ("new\nline.txt", b"a name with a newline"),
];

fn wiretrust() -> Command {
    Command::cargo_bin("wiretrust").expect("the wiretrust binary is built for tests")
}

/// Output of one run: JSON Lines records, stderr and exit status.
struct Run {
    records: Vec<Value>,
    stderr: String,
    status: i32,
}

impl Run {
    fn alerts(&self) -> Vec<&Value> {
        self.records
            .iter()
            .filter(|record| record["type"] == "alert")
            .collect()
    }

    /// Returns the `file_check` records with this status.
    fn checks(&self, status: &str) -> Vec<&Value> {
        self.records
            .iter()
            .filter(|record| record["type"] == "file_check" && record["status"] == status)
            .collect()
    }
}

fn verify(args: &[&str]) -> Run {
    let output = wiretrust()
        .args(["verify", "--format", "jsonl", "--host", "test-host"])
        .args(args)
        .output()
        .expect("wiretrust runs");
    let stdout = String::from_utf8(output.stdout).expect("JSON Lines are UTF-8");
    let records = stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("bad JSON {line}: {e}")))
        .collect();
    Run {
        records,
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        status: output.status.code().unwrap_or(-1),
    }
}

fn write_files(folder: &Path) {
    for (name, contents) in FILES {
        fs::write(folder.join(name), contents).expect("test file is written");
    }
}

/// Runs `command` with the file names as arguments in `folder` and writes
/// its output to `folder/manifest`. Returns false when the program is not
/// installed.
fn make_manifest(folder: &Path, command: &[&str], manifest: &str) -> bool {
    let names: Vec<&str> = FILES.iter().map(|(name, _)| *name).collect();
    let output = match Process::new(command[0])
        .args(&command[1..])
        .args(&names)
        .current_dir(folder)
        .output()
    {
        Ok(output) => output,
        Err(err) => {
            println!("skipped: {} is not available ({err})", command[0]);
            return false;
        }
    };
    assert!(output.status.success(), "{command:?} failed: {output:?}");
    fs::write(folder.join(manifest), &output.stdout).expect("manifest is written");
    true
}

fn path_text(path: &Path) -> &str {
    path.to_str().expect("temporary paths are UTF-8")
}

/// Changes one byte in the middle of a file.
fn flip_byte(path: &Path) {
    let mut contents = fs::read(path).expect("file is read");
    let middle = contents.len() / 2;
    contents[middle] ^= 0x20;
    fs::write(path, contents).expect("file is written");
}

fn sha256_of(path: &Path) -> String {
    let output = Process::new("sha256sum")
        .arg(path)
        .output()
        .expect("sha256sum runs");
    let text = String::from_utf8(output.stdout).expect("sha256sum output is UTF-8");
    text.trim_start_matches('\\')[..64].to_owned()
}

/// Checks that every file verifies, then that a one-byte change to the
/// file with spaces in its name raises one alert and leaves the rest
/// verified.
fn check_tool(command: &[&str], manifest: &str, algorithm: &str) {
    let folder = TempDir::new().expect("temporary folder");
    write_files(folder.path());
    if !make_manifest(folder.path(), command, manifest) {
        return;
    }
    let manifest_path = folder.path().join(manifest);

    let clean = verify(&["--manifest", path_text(&manifest_path)]);
    assert_eq!(clean.status, 0, "{}", clean.stderr);
    assert!(clean.alerts().is_empty(), "{:?}", clean.records);
    assert_eq!(
        clean.checks("verified").len(),
        FILES.len(),
        "{:?}",
        clean.records
    );
    for check in clean.checks("verified") {
        assert_eq!(check["algorithm"], algorithm);
        assert_eq!(check["expected"], check["actual"]);
        assert!(
            check["size"].as_u64().is_some_and(|size| size > 0),
            "{check}"
        );
        assert_eq!(check["host"], "test-host");
        assert!(check["line"].as_u64().is_some(), "{check}");
    }

    let changed = folder.path().join("with space.bin");
    flip_byte(&changed);
    let run = verify(&["--manifest", path_text(&manifest_path)]);
    assert_eq!(run.status, 1, "{}", run.stderr);
    let alerts = run.alerts();
    assert_eq!(alerts.len(), 1, "{:?}", run.records);
    assert_eq!(alerts[0]["detection"], "integrity.manifest_mismatch");
    assert_eq!(alerts[0]["flow"]["file"]["path"], path_text(&changed));
    let size = std::fs::metadata(&changed).expect("changed file").len();
    assert_eq!(alerts[0]["flow"]["bytes"], size);
    let missing = alerts[0]["missing"].to_string();
    assert!(!missing.contains("flow.bytes"), "{missing}");
    assert_eq!(run.checks("verified").len(), FILES.len() - 1);
    assert!(run.checks("mismatched").is_empty(), "mismatches are alerts");
}

#[test]
fn sha256sum_manifest_checks() {
    check_tool(&["sha256sum"], "SHA256SUMS", "sha256");
}

#[test]
fn sha256sum_binary_manifest_checks() {
    check_tool(&["sha256sum", "-b"], "SHA256SUMS", "sha256");
}

#[test]
fn sha256sum_tag_manifest_checks() {
    check_tool(&["sha256sum", "--tag"], "checksums.txt", "sha256");
}

#[test]
fn sha512sum_manifest_checks() {
    check_tool(&["sha512sum"], "SHA512SUMS", "sha512");
}

#[test]
fn md5sum_manifest_checks() {
    check_tool(&["md5sum"], "MD5SUMS", "md5");
}

#[test]
fn shasum_manifest_checks() {
    check_tool(&["shasum", "-a", "256"], "checksums.txt", "sha256");
}

#[test]
fn shasum_universal_manifest_checks() {
    check_tool(&["shasum", "-a", "1", "-U"], "checksums.txt", "sha1");
}

#[test]
fn shasum_bits_manifest_checks() {
    let folder = TempDir::new().expect("temporary folder");
    // "abc" as bits; `shasum -0` ignores the spaces and the newline.
    fs::write(
        folder.path().join("bits.txt"),
        "01100001 01100010 01100011\n",
    )
    .expect("written");
    let output = match Process::new("shasum")
        .args(["-a", "256", "-0", "bits.txt"])
        .current_dir(folder.path())
        .output()
    {
        Ok(output) => output,
        Err(err) => {
            println!("skipped: shasum is not available ({err})");
            return;
        }
    };
    let manifest = folder.path().join("checksums.txt");
    fs::write(&manifest, &output.stdout).expect("manifest is written");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains(" ^bits.txt"), "{text}");

    let run = verify(&["--manifest", path_text(&manifest)]);
    assert_eq!(
        run.checks("verified").len(),
        1,
        "{:?} {}",
        run.records,
        run.stderr
    );

    fs::write(
        folder.path().join("bits.txt"),
        "01100001 01100010 01100010\n",
    )
    .expect("written");
    let run = verify(&["--manifest", path_text(&manifest)]);
    assert_eq!(run.alerts().len(), 1, "{:?}", run.records);
}

#[test]
fn mismatch_alert_fields() {
    let folder = TempDir::new().expect("temporary folder");
    write_files(folder.path());
    assert!(make_manifest(folder.path(), &["sha256sum"], "SHA256SUMS"));
    let manifest = folder.path().join("SHA256SUMS");
    let changed = folder.path().join("alpha.txt");
    flip_byte(&changed);

    let run = verify(&["--manifest", path_text(&manifest)]);
    let alerts = run.alerts();
    assert_eq!(alerts.len(), 1, "{:?}", run.records);
    let alert = alerts[0];
    assert_eq!(alert["type"], "alert");
    assert_eq!(alert["severity"], "high");
    assert_eq!(alert["host"], "test-host");
    assert_eq!(alert["flow"]["file"]["sha256"], sha256_of(&changed));
    assert!(alert.get("tls").is_none(), "{alert}");
    let missing = alert["missing"].as_array().expect("missing is a list");
    assert!(missing.contains(&Value::from("tls")), "{missing:?}");
    assert_eq!(alert["attack"]["technique"], "T1565.002");
    assert_eq!(alert["attack"]["analytic"], "AN0704");

    let evidence = alert["evidence"].as_array().expect("evidence is a list");
    assert_eq!(evidence[0]["input"], path_text(&manifest));
    assert_eq!(evidence[0]["location"], "line 1");
    assert_eq!(evidence[1]["input"], path_text(&changed));
    assert_eq!(evidence[1]["value"], sha256_of(&changed));
    assert_ne!(evidence[0]["value"], evidence[1]["value"]);
}

#[test]
fn host_defaults_to_machine_name() {
    let folder = TempDir::new().expect("temporary folder");
    write_files(folder.path());
    assert!(make_manifest(folder.path(), &["sha256sum"], "SHA256SUMS"));
    let manifest = folder.path().join("SHA256SUMS");
    let Ok(expected) = fs::read_to_string("/proc/sys/kernel/hostname") else {
        println!("skipped: /proc/sys/kernel/hostname is not readable");
        return;
    };

    let output = wiretrust()
        .args([
            "verify",
            "--format",
            "jsonl",
            "--manifest",
            path_text(&manifest),
        ])
        .output()
        .expect("wiretrust runs");
    let stdout = String::from_utf8(output.stdout).expect("JSON Lines are UTF-8");
    let first: Value =
        serde_json::from_str(stdout.lines().next().expect("a record")).expect("record is JSON");
    assert_eq!(first["host"], expected.trim());
}

#[test]
fn newline_name_verified() {
    let folder = TempDir::new().expect("temporary folder");
    write_files(folder.path());
    assert!(make_manifest(folder.path(), &["sha256sum"], "SHA256SUMS"));
    let text = fs::read_to_string(folder.path().join("SHA256SUMS")).expect("manifest");
    assert!(text.contains("\\new\\nline.txt") || text.contains("new\\nline.txt"));

    let run = verify(&["--manifest", path_text(&folder.path().join("SHA256SUMS"))]);
    let expected = path_text(&folder.path().join("new\nline.txt")).to_owned();
    let verified: Vec<_> = run.checks("verified");
    assert!(
        verified
            .iter()
            .any(|check| check["path"] == expected.as_str()),
        "{verified:?}"
    );
}

#[test]
fn missing_file_reported() {
    let folder = TempDir::new().expect("temporary folder");
    write_files(folder.path());
    assert!(make_manifest(folder.path(), &["sha256sum"], "SHA256SUMS"));
    let manifest = folder.path().join("SHA256SUMS");

    let present = verify(&["--manifest", path_text(&manifest)]);
    assert!(present.checks("missing").is_empty());

    fs::remove_file(folder.path().join("alpha.txt")).expect("file is removed");
    let run = verify(&["--manifest", path_text(&manifest)]);
    assert_eq!(run.status, 3, "{}", run.stderr);
    let missing = run.checks("missing");
    assert_eq!(missing.len(), 1, "{:?}", run.records);
    let error = missing[0]["error"]
        .as_str()
        .expect("missing file has an error");
    assert!(error.contains("No such file"), "{error}");
    assert!(missing[0]["actual"].is_null());
    assert!(run.stderr.contains("missing:"), "{}", run.stderr);
}

#[test]
fn directory_in_place_of_file_missing() {
    let folder = TempDir::new().expect("temporary folder");
    write_files(folder.path());
    assert!(make_manifest(folder.path(), &["sha256sum"], "SHA256SUMS"));
    fs::remove_file(folder.path().join("alpha.txt")).expect("file is removed");
    fs::create_dir(folder.path().join("alpha.txt")).expect("folder is made");

    let run = verify(&["--manifest", path_text(&folder.path().join("SHA256SUMS"))]);
    assert_eq!(run.status, 3, "{}", run.stderr);
    let missing = run.checks("missing");
    assert_eq!(missing.len(), 1);
    let error = missing[0]["error"].as_str().expect("error text");
    assert!(error.contains("is a directory"), "{error}");
}

#[test]
fn extra_file_reported_with_path() {
    let folder = TempDir::new().expect("temporary folder");
    write_files(folder.path());
    assert!(make_manifest(folder.path(), &["sha256sum"], "SHA256SUMS"));
    let manifest = folder.path().join("SHA256SUMS");
    fs::create_dir(folder.path().join("sub")).expect("folder is made");
    fs::write(folder.path().join("sub/dropped.sh"), b"#!/bin/sh\n").expect("file is written");

    let without_path = verify(&["--manifest", path_text(&manifest)]);
    assert!(without_path.checks("extra").is_empty());
    assert_eq!(without_path.status, 0);

    let run = verify(&["--manifest", path_text(&manifest), path_text(folder.path())]);
    let extra = run.checks("extra");
    assert_eq!(extra.len(), 1, "{:?}", run.records);
    let expected = folder.path().join("sub/dropped.sh");
    assert_eq!(extra[0]["path"], path_text(&expected));
    assert_eq!(extra[0]["size"], 10);
    assert_eq!(run.checks("verified").len(), FILES.len());
    assert_eq!(run.status, 0, "extra files are reported, not failures");
}

#[test]
fn no_extra_when_all_listed() {
    let folder = TempDir::new().expect("temporary folder");
    write_files(folder.path());
    assert!(make_manifest(folder.path(), &["sha256sum"], "SHA256SUMS"));
    let manifest = folder.path().join("SHA256SUMS");

    let run = verify(&["--manifest", path_text(&manifest), path_text(folder.path())]);
    assert!(run.checks("extra").is_empty(), "{:?}", run.records);
}

#[test]
fn root_overrides_manifest_folder() {
    let files = TempDir::new().expect("temporary folder");
    let elsewhere = TempDir::new().expect("temporary folder");
    write_files(files.path());
    assert!(make_manifest(files.path(), &["sha256sum"], "SHA256SUMS"));
    let manifest = elsewhere.path().join("SHA256SUMS");
    fs::rename(files.path().join("SHA256SUMS"), &manifest).expect("manifest is moved");

    let unrooted = verify(&["--manifest", path_text(&manifest)]);
    assert_eq!(unrooted.checks("missing").len(), FILES.len());

    let rooted = verify(&[
        "--manifest",
        path_text(&manifest),
        "--root",
        path_text(files.path()),
    ]);
    assert_eq!(rooted.checks("verified").len(), FILES.len());
    assert_eq!(rooted.status, 0, "{}", rooted.stderr);
}

#[test]
fn bad_line_warns_and_keeps_others() {
    let folder = TempDir::new().expect("temporary folder");
    write_files(folder.path());
    assert!(make_manifest(folder.path(), &["sha256sum"], "SHA256SUMS"));
    let manifest = folder.path().join("SHA256SUMS");
    let mut text = fs::read_to_string(&manifest).expect("manifest");
    text.insert_str(0, "this line is not a checksum\n");
    fs::write(&manifest, text).expect("manifest is written");

    let run = verify(&["--manifest", path_text(&manifest)]);
    assert_eq!(run.status, 3, "{}", run.stderr);
    assert_eq!(run.checks("verified").len(), FILES.len());
    let warning = format!("{}: line 1: not a checksum line", path_text(&manifest));
    assert!(run.stderr.contains(&warning), "{}", run.stderr);
}

#[test]
fn nothing_usable_exits_2() {
    let folder = TempDir::new().expect("temporary folder");
    let garbage = folder.path().join("SHA256SUMS");
    fs::write(&garbage, "no checksums here\n").expect("manifest is written");

    let run = verify(&["--manifest", path_text(&garbage)]);
    assert_eq!(run.status, 2, "{}", run.stderr);
    assert!(run.stderr.contains("no manifest entry"), "{}", run.stderr);

    let absent = folder.path().join("absent");
    let run = verify(&["--manifest", path_text(&absent)]);
    assert_eq!(run.status, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("cannot read manifest"),
        "{}",
        run.stderr
    );
}

#[test]
fn fail_on_above_high_exits_clean() {
    let folder = TempDir::new().expect("temporary folder");
    write_files(folder.path());
    assert!(make_manifest(folder.path(), &["sha256sum"], "SHA256SUMS"));
    flip_byte(&folder.path().join("alpha.txt"));
    let manifest = folder.path().join("SHA256SUMS");

    let run = verify(&["--manifest", path_text(&manifest), "--fail-on", "critical"]);
    assert_eq!(run.alerts().len(), 1);
    assert_eq!(run.status, 0, "{}", run.stderr);
}

#[test]
fn several_manifests_one_read() {
    let folder = TempDir::new().expect("temporary folder");
    write_files(folder.path());
    assert!(make_manifest(folder.path(), &["sha256sum"], "SHA256SUMS"));
    assert!(make_manifest(folder.path(), &["md5sum"], "MD5SUMS"));
    flip_byte(&folder.path().join("alpha.txt"));

    let run = verify(&[
        "--manifest",
        path_text(&folder.path().join("SHA256SUMS")),
        "--manifest",
        path_text(&folder.path().join("MD5SUMS")),
        path_text(folder.path()),
    ]);
    assert_eq!(run.alerts().len(), 2, "one alert per manifest entry");
    assert_eq!(run.checks("verified").len(), 2 * (FILES.len() - 1));
    assert!(run.checks("extra").is_empty(), "manifests are not extra");
    // The MD5 manifest's alert carries the SHA-256 from the same read.
    for alert in run.alerts() {
        assert!(alert["flow"]["file"]["sha256"].is_string(), "{alert}");
    }
}

#[test]
fn thread_counts_give_same_records() {
    let folder = TempDir::new().expect("temporary folder");
    write_files(folder.path());
    assert!(make_manifest(folder.path(), &["sha256sum"], "SHA256SUMS"));
    flip_byte(&folder.path().join("alpha.txt"));
    let manifest = folder.path().join("SHA256SUMS");

    let strip_time = |run: Run| -> Vec<Value> {
        run.records
            .into_iter()
            .map(|mut record| {
                record["time"] = Value::Null;
                record
            })
            .collect()
    };
    let single_thread = verify(&["--manifest", path_text(&manifest), "--threads", "1"]);
    let four_threads = verify(&["--manifest", path_text(&manifest), "--threads", "4"]);
    assert_eq!(strip_time(single_thread), strip_time(four_threads));
}

#[test]
fn table_output_lists_alert() {
    let folder = TempDir::new().expect("temporary folder");
    write_files(folder.path());
    assert!(make_manifest(folder.path(), &["sha256sum"], "SHA256SUMS"));
    let manifest = folder.path().join("SHA256SUMS");

    let clean = wiretrust()
        .args([
            "verify",
            "--format",
            "table",
            "--manifest",
            path_text(&manifest),
        ])
        .output()
        .expect("wiretrust runs");
    assert!(String::from_utf8_lossy(&clean.stdout).contains("No alerts."));

    flip_byte(&folder.path().join("alpha.txt"));
    let changed = wiretrust()
        .args([
            "verify",
            "--format",
            "table",
            "--manifest",
            path_text(&manifest),
        ])
        .output()
        .expect("wiretrust runs");
    let stdout = String::from_utf8_lossy(&changed.stdout);
    assert!(stdout.contains("integrity.manifest_mismatch"), "{stdout}");
    assert!(stdout.contains("SHA256SUMS line 1"), "{stdout}");
    assert_eq!(changed.status.code(), Some(1));
}
