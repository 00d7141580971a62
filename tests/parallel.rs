//! Scans with several threads give the same alerts, observations and
//! counts as one thread: several inputs read at once, and one input split
//! by flow over workers.

mod common;

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use wiretrust::detections::{Alert, DetectionConfig};
use wiretrust::observations::TlsSession;
use wiretrust::scan::{Execution, Layout, NoProgress, ScanOptions, Summary, scan_with};
use wiretrust::sinks::Sink;

/// Every session and alert as JSON, in output order, and the summary.
struct Lines {
    lines: Vec<String>,
    summary: Summary,
}

#[derive(Default)]
struct Serialize {
    lines: Vec<String>,
}

impl Sink for Serialize {
    fn session(&mut self, session: &TlsSession) -> io::Result<()> {
        self.lines.push(serde_json::to_string(session)?);
        Ok(())
    }
    fn alert(&mut self, alert: &Alert) -> io::Result<()> {
        self.lines.push(serde_json::to_string(alert)?);
        Ok(())
    }
    fn finish(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn scan_threads(paths: &[PathBuf], threads: usize) -> Lines {
    let options = ScanOptions {
        detection: DetectionConfig::default(),
        ..ScanOptions::default()
    };
    let execution = Execution {
        threads,
        measure: threads > 2,
    };
    let mut sink = Serialize::default();
    let summary = {
        let mut sinks: Vec<&mut dyn Sink> = vec![&mut sink];
        scan_with(paths, &options, &execution, &mut sinks, &mut NoProgress)
            .expect("a collecting sink cannot fail")
    };
    Lines {
        lines: sink.lines,
        summary,
    }
}

/// The counts of a summary that must not depend on the thread count.
fn counts(summary: &Summary) -> Vec<u64> {
    vec![
        summary.sessions,
        summary.total(|s| s.packets),
        summary.total(|s| s.bytes),
        summary.total(|s| s.tcp_segments),
        summary.total(|s| s.udp_datagrams),
        summary.total(|s| s.udp_not_quic),
        summary.total(|s| s.flows),
        summary.total(|s| s.quic_connections),
        summary.total(|s| s.capture_gaps),
        summary.total(|s| s.capture_gap_bytes),
        summary.total(|s| s.flows_not_tls),
        summary.total(|s| s.sessions),
        summary.alerts_by_detection.values().sum(),
    ]
}

/// Scans `paths` with one thread and with each of `threads`, and checks
/// that every output line and count is the same.
fn assert_same_as_one_thread(paths: &[PathBuf], threads: &[usize], label: &str) -> usize {
    let single = scan_threads(paths, 1);
    for &n in threads {
        let many = scan_threads(paths, n);
        assert_eq!(
            counts(&many.summary),
            counts(&single.summary),
            "{label}, {n} threads"
        );
        let first_difference = single
            .lines
            .iter()
            .zip(&many.lines)
            .position(|(a, b)| a != b);
        assert_eq!(first_difference, None, "{label}, {n} threads: line differs");
        assert_eq!(many.lines.len(), single.lines.len(), "{label}, {n} threads");
    }
    single.lines.len()
}

fn capture_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|path| path.is_file() && path.extension().is_none_or(|e| e != "md"));
    files.sort();
    files
}

#[test]
fn bundled_captures_split_by_flow() {
    let dir = common::fixture("");
    for file in capture_files(&dir) {
        let label = file.display().to_string();
        assert_same_as_one_thread(&[file], &[3, 4], &label);
    }
}

#[test]
fn pktap_captures_split_by_flow() {
    for name in [
        "constructed-pktap-pib.pcapng",
        "constructed-pktap-header.pcapng",
    ] {
        let path = common::fixture(name);
        let sessions = assert_same_as_one_thread(std::slice::from_ref(&path), &[3, 4], name);
        assert!(sessions > 0, "{name}");
        let split = scan_threads(&[path], 4);
        let named = split
            .lines
            .iter()
            .filter(|line| line.contains("\"process\":{\"pid\":"))
            .count();
        assert_eq!(
            named,
            split.lines.len(),
            "{name}: every record names a process"
        );
    }
}

#[test]
fn bundled_folder_read_concurrently() {
    let lines = assert_same_as_one_thread(&[common::fixture("")], &[2, 4], "fixtures");
    assert!(lines > 0);
}

#[test]
fn layout_follows_inputs_and_threads() {
    let two = scan_threads(&[common::fixture("tls12-benign.pcap")], 2);
    assert_eq!(two.summary.layout, Layout::Single);
    let three = scan_threads(&[common::fixture("tls12-benign.pcap")], 3);
    assert_eq!(three.summary.layout, Layout::Flows { workers: 2 });
}

#[test]
fn layout_of_folder_is_files() {
    let folder = scan_threads(&[common::fixture("")], 4);
    assert!(matches!(folder.summary.layout, Layout::Files { .. }));
}

#[test]
fn corpus_read_concurrently_same_output() {
    let Some(corpus) = common::corpus("corpus_read_concurrently_same_output") else {
        return;
    };
    let paths = [corpus.join("pcap"), corpus.join("bugs")];
    let lines = assert_same_as_one_thread(&paths, &[2, 4], "corpus");
    assert!(lines > 500, "{lines} lines");
}

#[test]
fn corpus_files_split_by_flow_same_output() {
    let Some(corpus) = common::corpus("corpus_files_split_by_flow_same_output") else {
        return;
    };
    for dir in ["pcap", "bugs"] {
        for file in capture_files(&corpus.join(dir)) {
            let label = file.display().to_string();
            assert_same_as_one_thread(&[file], &[2, 4], &label);
        }
    }
}

/// Classic little-endian microsecond pcap, Ethernet link type.
const PCAP_MAGIC_LE: [u8; 4] = [0xd4, 0xc3, 0xb2, 0xa1];
const LINKTYPE_ETHERNET: u32 = 1;

/// Appends the packet records of a classic Ethernet pcap file to `out`,
/// stopping at the first record that does not fit the file. With `clock`,
/// the records are moved in time to start one second after `*clock`, the
/// last timestamp so far (in seconds), which the call then advances.
fn append_records(file: &[u8], out: &mut Vec<u8>, mut clock: Option<&mut u32>) {
    let Some((header, mut rest)) = file.split_at_checked(24) else {
        return;
    };
    let link = header.get(20..24).and_then(|b| b.try_into().ok());
    if header.get(..4) != Some(&PCAP_MAGIC_LE[..]) || link.map(u32::from_le_bytes) != Some(1) {
        return;
    }
    let mut first = None;
    while let Some((record, after)) = rest.split_at_checked(16) {
        let field = |at: usize| {
            let bytes = record.get(at..at + 4).and_then(|b| b.try_into().ok());
            bytes.map_or(0, u32::from_le_bytes)
        };
        let len = field(8) as usize;
        let Some((data, next)) = after.split_at_checked(len) else {
            return;
        };
        if len > 262_144 {
            return;
        }
        let mut seconds = field(0);
        if let Some(clock) = clock.as_deref_mut() {
            let start = *first.get_or_insert(seconds);
            let base = *clock;
            seconds = base
                .saturating_add(1)
                .saturating_add(seconds.saturating_sub(start));
            *clock = (*clock).max(seconds);
            *clock = (*clock).max(base);
        }
        out.extend_from_slice(&seconds.to_le_bytes());
        out.extend_from_slice(record.get(4..).unwrap_or_default());
        out.extend_from_slice(data);
        rest = next;
    }
}

/// Writes one capture holding every classic Ethernet pcap of the corpus,
/// three times over. The first two passes keep the files' own timestamps:
/// many flows, timestamps that jump back at each file, and four-tuples
/// that come back while their earlier flow may still be open. The third
/// moves each file to start a second after the previous one ends, as the
/// benchmark replays do, so that flows left open end by the idle timeout
/// while other flows are active.
fn write_joined_corpus(corpus: &Path, path: &Path) {
    let mut out = Vec::new();
    out.extend_from_slice(&PCAP_MAGIC_LE);
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&262_144u32.to_le_bytes());
    out.extend_from_slice(&LINKTYPE_ETHERNET.to_le_bytes());
    let files = capture_files(&corpus.join("pcap"));
    let mut clock = 1_700_000_000u32;
    for pass in 0..3 {
        for file in &files {
            if let Ok(bytes) = std::fs::read(file) {
                let shift = (pass == 2).then_some(&mut clock);
                append_records(&bytes, &mut out, shift);
            }
        }
    }
    let mut target = std::fs::File::create(path).expect("temporary file");
    target.write_all(&out).expect("temporary file written");
}

#[test]
fn joined_corpus_split_by_flow_same_output() {
    let Some(corpus) = common::corpus("joined_corpus_split_by_flow_same_output") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temporary folder");
    let joined = dir.path().join("joined.pcap");
    write_joined_corpus(&corpus, &joined);
    let lines = assert_same_as_one_thread(&[joined], &[2, 4], "joined corpus");
    assert!(lines > 500, "{lines} lines");
}

/// One TCP connection of a hand-built trace, with its next sequence numbers.
struct Connection {
    client: ([u8; 4], u16),
    server: ([u8; 4], u16),
    client_seq: u32,
    server_seq: u32,
}

const SYN: u8 = 0x02;
const FIN: u8 = 0x01;
const ACK: u8 = 0x10;

/// Builds a TLS 1.2 ClientHello record offering one suite and no extensions.
fn client_hello() -> Vec<u8> {
    let mut body = vec![0x03, 0x03];
    body.extend_from_slice(&[7; 32]);
    body.extend_from_slice(&[0x00, 0x00, 0x02, 0x00, 0x2f, 0x01, 0x00, 0x00, 0x00]);
    let mut record = vec![0x16, 0x03, 0x01, 0x00, 0x2f, 0x01, 0x00, 0x00, 0x2b];
    record.extend_from_slice(&body);
    record
}

/// Builds an Ethernet frame carrying an IPv4 TCP segment; checksums are
/// left zero, which the decoder does not check.
fn tcp_frame(
    src: ([u8; 4], u16),
    dst: ([u8; 4], u16),
    seq: u32,
    ack: u32,
    flags: u8,
    data: &[u8],
) -> Vec<u8> {
    let mut frame = vec![0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x08, 0x00];
    let total = ((40 + data.len()) as u16).to_be_bytes();
    frame.extend_from_slice(&[0x45, 0, total[0], total[1], 0, 0, 0x40, 0, 64, 6, 0, 0]);
    frame.extend_from_slice(&src.0);
    frame.extend_from_slice(&dst.0);
    frame.extend_from_slice(&src.1.to_be_bytes());
    frame.extend_from_slice(&dst.1.to_be_bytes());
    frame.extend_from_slice(&seq.to_be_bytes());
    frame.extend_from_slice(&ack.to_be_bytes());
    frame.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    frame.extend_from_slice(data);
    frame
}

/// Packets of a trace as (seconds, Ethernet frame), in any order.
#[derive(Default)]
struct Trace {
    packets: Vec<(u32, Vec<u8>)>,
}

impl Trace {
    /// Adds one segment of `conn` at second `at` and advances its sequence
    /// numbers.
    fn segment(
        &mut self,
        at: u32,
        conn: &mut Connection,
        from_client: bool,
        flags: u8,
        data: &[u8],
    ) {
        let advance = data.len() as u32 + u32::from(flags & (SYN | FIN) != 0);
        let frame = if from_client {
            let frame = tcp_frame(
                conn.client,
                conn.server,
                conn.client_seq,
                conn.server_seq,
                flags,
                data,
            );
            conn.client_seq = conn.client_seq.wrapping_add(advance);
            frame
        } else {
            let frame = tcp_frame(
                conn.server,
                conn.client,
                conn.server_seq,
                conn.client_seq,
                flags,
                data,
            );
            conn.server_seq = conn.server_seq.wrapping_add(advance);
            frame
        };
        self.packets.push((at, frame));
    }

    /// Opens `conn` at `at` with a handshake and sends a ClientHello a
    /// second later.
    fn open(&mut self, at: u32, conn: &mut Connection) {
        self.segment(at, conn, true, SYN, b"");
        self.segment(at, conn, false, SYN | ACK, b"");
        self.segment(at, conn, true, ACK, b"");
        self.segment(at + 1, conn, true, ACK, &client_hello());
    }

    fn write(mut self, path: &Path) {
        self.packets.sort_by_key(|(at, _)| *at);
        let mut out = Vec::new();
        out.extend_from_slice(&PCAP_MAGIC_LE);
        out.extend_from_slice(&[2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        out.extend_from_slice(&65_535u32.to_le_bytes());
        out.extend_from_slice(&LINKTYPE_ETHERNET.to_le_bytes());
        for (at, frame) in &self.packets {
            out.extend_from_slice(&at.to_le_bytes());
            out.extend_from_slice(&0u32.to_le_bytes());
            out.extend_from_slice(&(frame.len() as u32).to_le_bytes());
            out.extend_from_slice(&(frame.len() as u32).to_le_bytes());
            out.extend_from_slice(frame);
        }
        std::fs::write(path, out).expect("temporary file written");
    }
}

fn connection(client: [u8; 4], port: u16) -> Connection {
    Connection {
        client: (client, port),
        server: ([10, 2, 0, 1], 443),
        client_seq: 1_000,
        server_seq: 5_000,
    }
}

/// Builds flows that one flow table ends by idle timeout later than a
/// worker does. Eight flows are quiet from second 250, so they are due at
/// 550. A ninth flow, opened at 260 and active until 561, sits ahead of
/// them in the table's idle queue and delays their end to 561. A worker
/// without that flow ends them at 551. A tenth flow closes in between.
/// The ninth flow itself ends by idle timeout at 900.
fn write_idle_trace(path: &Path) {
    let mut trace = Trace::default();
    for i in 0..8u8 {
        let mut quiet = connection([10, 1, 0, i], 40_000 + u16::from(i));
        trace.open(0, &mut quiet);
        trace.segment(250, &mut quiet, false, ACK, b"");
    }
    let mut busy = connection([10, 3, 0, 1], 50_000);
    trace.open(260, &mut busy);
    for at in [301, 400, 500, 551, 561, 900] {
        trace.segment(at, &mut busy, false, ACK, b"");
    }
    let mut closing = connection([10, 4, 0, 1], 45_000);
    trace.open(520, &mut closing);
    trace.segment(552, &mut closing, true, FIN | ACK, b"");
    trace.segment(553, &mut closing, false, FIN | ACK, b"");
    trace.segment(553, &mut closing, true, ACK, b"");
    trace.write(path);
}

#[test]
fn idle_flows_end_in_same_order() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let trace = dir.path().join("idle.pcap");
    write_idle_trace(&trace);
    assert_same_as_one_thread(std::slice::from_ref(&trace), &[2, 3, 4], "idle trace");
    let single = scan_threads(&[trace], 1);
    let idle = single
        .lines
        .iter()
        .filter(|line| line.contains("\"idle_timeout\""))
        .count();
    assert_eq!(idle, 9);
}

fn run_binary(args: &[&str], threads: &str, observations: &Path) -> (Vec<u8>, Vec<u8>) {
    let output = Command::cargo_bin("wiretrust")
        .expect("the wiretrust binary")
        .args([
            "scan",
            "--no-store",
            "--format",
            "jsonl",
            "--threads",
            threads,
            "--observations",
        ])
        .arg(observations)
        .args(args)
        .output()
        .expect("wiretrust runs");
    let observed = std::fs::read(observations).unwrap_or_default();
    (output.stdout, observed)
}

#[test]
fn binary_output_same_bytes_any_threads() {
    let Some(corpus) = common::corpus("binary_output_same_bytes_any_threads") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temporary folder");
    let joined = dir.path().join("joined.pcap");
    write_joined_corpus(&corpus, &joined);
    let pcap = corpus.join("pcap").display().to_string();
    let joined = joined.display().to_string();
    for inputs in [vec![pcap.as_str()], vec![joined.as_str()]] {
        let single = run_binary(&inputs, "1", &dir.path().join("one.jsonl"));
        for threads in ["2", "4"] {
            let many = run_binary(&inputs, threads, &dir.path().join("many.jsonl"));
            assert!(
                many.0 == single.0,
                "alerts differ with {threads} threads on {inputs:?}"
            );
            assert!(
                many.1 == single.1,
                "observations differ with {threads} threads on {inputs:?}"
            );
        }
        assert!(!single.1.is_empty(), "no observations from {inputs:?}");
    }
}

#[test]
fn threads_zero_rejected() {
    Command::cargo_bin("wiretrust")
        .expect("the wiretrust binary")
        .args(["scan", "--no-store", "--threads", "0"])
        .arg(common::fixture(""))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("invalid thread count"));
}

#[test]
fn stats_printed_after_summary() {
    let output = Command::cargo_bin("wiretrust")
        .expect("the wiretrust binary")
        .args([
            "scan",
            "--no-store",
            "--format",
            "jsonl",
            "--stats",
            "--threads",
            "2",
        ])
        .arg(common::fixture(""))
        .output()
        .expect("wiretrust runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let summary = stderr.find("scanned ").unwrap_or(usize::MAX);
    let stats = stderr.find("stats: ").unwrap_or(0);
    assert!(summary < stats, "{stderr}");
}

#[test]
fn stats_name_every_phase() {
    let output = Command::cargo_bin("wiretrust")
        .expect("the wiretrust binary")
        .args([
            "scan",
            "--no-store",
            "-q",
            "--format",
            "jsonl",
            "--stats",
            "--threads",
            "1",
        ])
        .arg(common::fixture(""))
        .output()
        .expect("wiretrust runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    for phase in [
        "read+decode",
        "reassembly+TLS",
        "detection",
        "output",
        "peak RSS",
    ] {
        assert!(stderr.contains(phase), "{phase} missing: {stderr}");
    }
}
