//! `wiretrust watch` as a user runs it: unified log NDJSON on standard
//! input, stand-in `log` and `eslogger` programs on PATH that replay
//! recorded output the way the Mac's commands write it, and (with the
//! `live` feature, as root) a live capture on the loopback interface while
//! OpenSSL talks on it.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

/// Maximum time a test waits for an expected line before it fails.
const PATIENCE: Duration = Duration::from_secs(30);

fn endpoint_fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join("endpoint")
        .join(name)
}

fn wiretrust() -> Command {
    Command::new(env!("CARGO_BIN_EXE_wiretrust"))
}

/// Reads the child's standard output on a thread, one parsed line at a time.
fn lines_of(stdout: ChildStdout) -> Receiver<Value> {
    let (sender, receiver) = channel();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let value = serde_json::from_str(&line)
                .unwrap_or_else(|err| panic!("watch wrote a line that is not JSON: {line}: {err}"));
            if sender.send(value).is_err() {
                return;
            }
        }
    });
    receiver
}

/// Waits for an alert of `detection`, failing after [`PATIENCE`].
fn wait_for(lines: &Receiver<Value>, detection: &str, child: &mut Child) -> Value {
    let deadline = Instant::now() + PATIENCE;
    while Instant::now() < deadline {
        if let Ok(alert) = lines.recv_timeout(Duration::from_millis(200))
            && alert["detection"] == detection
        {
            return alert;
        }
    }
    let _ = child.kill();
    panic!("no {detection} alert within {PATIENCE:?}");
}

fn interrupt(child: &Child) {
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

fn wait_exit(child: &mut Child) -> i32 {
    let deadline = Instant::now() + PATIENCE;
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().expect("wait for watch") {
            return status.code().unwrap_or(-1);
        }
        thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    panic!("watch did not stop within {PATIENCE:?}");
}

#[test]
fn stdin_lines_raise_alerts() {
    let mut child = wiretrust()
        .args(["watch", "--stdin", "--format", "jsonl"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("watch starts");
    let lines = lines_of(child.stdout.take().unwrap());
    let fixture = std::fs::read(endpoint_fixture("constructed-bad-record-mac-stream.ndjson"))
        .expect("fixture is readable");
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(&fixture)
        .expect("watch reads standard input");
    stdin.flush().unwrap();
    let alert = wait_for(&lines, "stream.record_tamper", &mut child);
    assert_eq!(alert["process"]["pid"], 812);
    assert_eq!(alert["destination"]["server_name"], "bank.example.com");
    drop(stdin);
    assert_eq!(wait_exit(&mut child), 0);
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(stderr.contains("stream.record_tamper: 1"), "{stderr}");
}

#[test]
fn nothing_to_watch_is_an_error() {
    if cfg!(target_os = "macos") {
        return;
    }
    let output = wiretrust().arg("watch").output().expect("watch runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("nothing to watch"), "{stderr}");
}

/// Writes an executable shell script.
fn write_script(path: &Path, body: &str) {
    std::fs::write(path, format!("#!/bin/sh\n{body}")).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn stand_in_commands_are_run_and_restarted() {
    let dir = tempfile::tempdir().unwrap();
    let starts = dir.path().join("starts");
    let log_fixture = endpoint_fixture("constructed-tls10.ndjson");
    let es_fixture = endpoint_fixture("constructed-processes.eslogger.jsonl");
    // Like `log stream`: the banner, then records; it records its arguments
    // and exits, so watch must restart it.
    write_script(
        &dir.path().join("log"),
        &format!(
            "echo \"$@\" >> '{}'\nsleep 1\necho 'Filtering the log data using \"subsystem\"'\n\
             grep -v '\"finished\"' '{}'\n",
            starts.display(),
            log_fixture.display()
        ),
    );
    write_script(
        &dir.path().join("eslogger"),
        &format!("cat '{}'\nexec sleep 60\n", es_fixture.display()),
    );
    let path = format!(
        "{}:{}",
        dir.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut child = wiretrust()
        .args(["watch", "--endpoint", "--eslogger", "--format", "jsonl"])
        .env("PATH", path)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("watch starts");
    let lines = lines_of(child.stdout.take().unwrap());
    let alert = wait_for(&lines, "tls.version_below_floor", &mut child);
    assert_eq!(alert["process"]["signing_id"], "com.example.updater");
    assert_eq!(alert["process"]["team_id"], "EXAMPLE123");

    let deadline = Instant::now() + PATIENCE;
    let mut runs = 0;
    while Instant::now() < deadline && runs < 2 {
        runs = std::fs::read_to_string(&starts)
            .map(|text| text.lines().count())
            .unwrap_or(0);
        thread::sleep(Duration::from_millis(100));
    }
    assert!(
        runs >= 2,
        "log was started {runs} times; watch must restart it"
    );
    let arguments = std::fs::read_to_string(&starts).unwrap();
    assert!(
        arguments.starts_with("stream --style ndjson"),
        "{arguments}"
    );
    assert!(arguments.contains("com.apple.network"), "{arguments}");

    interrupt(&child);
    assert_eq!(wait_exit(&mut child), 0);
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(stderr.contains("restarted"), "{stderr}");
}

#[cfg(feature = "live")]
mod live {
    use super::*;

    /// Returns a free TCP port on 127.0.0.1.
    fn free_port() -> u16 {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    }

    #[test]
    fn loopback_capture_sees_openssl() {
        if Command::new("openssl").arg("version").output().is_err() {
            eprintln!("skipped loopback_capture_sees_openssl: openssl is not installed");
            return;
        }
        let port = free_port();
        let filter = format!("tcp port {port}");
        let mut child = wiretrust()
            .args(["watch", "--interface", "lo", "--capture-filter", &filter])
            .args(["--format", "jsonl"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("watch starts");
        thread::sleep(Duration::from_secs(2));
        if let Some(status) = child.try_wait().unwrap() {
            let mut stderr = String::new();
            std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
            assert!(
                stderr.contains("cannot capture"),
                "watch ended with {status}: {stderr}"
            );
            eprintln!("skipped loopback_capture_sees_openssl: {stderr}");
            return;
        }
        let lines = lines_of(child.stdout.take().unwrap());
        let dir = tempfile::tempdir().unwrap();
        let (key, cert) = (dir.path().join("key.pem"), dir.path().join("cert.pem"));
        let made = Command::new("openssl")
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            ])
            .args(["-subj", "/CN=localhost", "-keyout"])
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .output()
            .unwrap();
        assert!(made.status.success(), "{made:?}");
        // TLS 1.0 only, which OpenSSL 3 allows at security level 0.
        let mut server = Command::new("openssl")
            .args(["s_server", "-accept", &port.to_string(), "-tls1", "-www"])
            .args(["-cipher", "DEFAULT@SECLEVEL=0", "-key"])
            .arg(&key)
            .arg("-cert")
            .arg(&cert)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        thread::sleep(Duration::from_millis(700));
        let client = Command::new("openssl")
            .args([
                "s_client",
                "-connect",
                &format!("127.0.0.1:{port}"),
                "-tls1",
            ])
            .args(["-cipher", "DEFAULT@SECLEVEL=0"])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let _ = server.kill();
        let _ = server.wait();
        assert!(
            String::from_utf8_lossy(&client.stdout).contains("TLSv1"),
            "the client did not connect: {client:?}"
        );
        let alert = wait_for(&lines, "tls.version_below_floor", &mut child);
        assert_eq!(alert["tls"]["version"], "TLS 1.0");
        assert_eq!(alert["destination"]["port"], port);
        interrupt(&child);
        assert_eq!(wait_exit(&mut child), 0);
    }
}
