//! Reads every capture of the public corpus named by `WIRETRUST_CORPUS` and checks packet
//! counts, timestamps and decoding against facts known from other tools.

use std::collections::{BTreeMap, HashMap};
use std::env;
use std::fs;
use std::path::{Path, PathBuf};

use wiretrust_pcap::{CaptureReader, Decoded, LinkType, Transport, decode};

/// Returns the corpus folder, or `None` after printing why the test is skipped.
fn corpus() -> Option<PathBuf> {
    match env::var_os("WIRETRUST_CORPUS") {
        Some(dir) => Some(PathBuf::from(dir)),
        None => {
            println!("skipped: WIRETRUST_CORPUS is not set");
            None
        }
    }
}

/// Lists the capture files (not folders, notes or truth files) of a corpus subfolder.
fn captures(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p| p.is_file() && p.extension().is_none_or(|ext| ext != "md"));
    files.sort();
    files
}

/// What one pass over a capture found.
#[derive(Debug, Default)]
struct Summary {
    /// Packet number to timestamp in nanoseconds.
    timestamps: BTreeMap<u64, i64>,
    errors: Vec<String>,
    ip: usize,
    non_ip: usize,
    decode_errors: Vec<String>,
    vlan_pairs: usize,
    link_types: BTreeMap<u32, usize>,
}

fn read_all(path: &Path) -> Summary {
    let mut reader = CaptureReader::open(path)
        .unwrap_or_else(|err| panic!("{} must open: {err}", path.display()));
    let mut summary = Summary::default();
    while let Some(item) = reader.next_packet() {
        let packet = match item {
            Ok(packet) => packet,
            Err(err) => {
                summary.errors.push(err.to_string());
                continue;
            }
        };
        summary
            .timestamps
            .insert(packet.number, packet.timestamp_ns);
        *summary.link_types.entry(packet.link_type.0).or_default() += 1;
        match decode(packet.link_type, packet.data) {
            Ok(Decoded::Ip(ip)) => {
                summary.ip += 1;
                if ip.vlan_ids.iter().all(Option::is_some) {
                    summary.vlan_pairs += 1;
                }
            }
            Ok(_) => summary.non_ip += 1,
            Err(err) => summary
                .decode_errors
                .push(format!("packet {}: {err}", packet.number)),
        }
    }
    summary
}

/// Parses a truth-file time such as `1595957694.181636000` into nanoseconds.
fn parse_time(text: &str) -> Option<i64> {
    let (secs, frac) = text.split_once('.')?;
    let frac = format!("{frac:0<9}");
    Some(secs.parse::<i64>().ok()? * 1_000_000_000 + frac.get(..9)?.parse::<i64>().ok()?)
}

/// Reads frame numbers and times from `truth/<capture>.messages.tsv`.
fn truth_frames(corpus: &Path, name: &str) -> Option<HashMap<u64, i64>> {
    let path = corpus
        .join("pcap/truth")
        .join(format!("{name}.messages.tsv"));
    let text = fs::read_to_string(path).ok()?;
    let mut frames = HashMap::new();
    for line in text.lines().skip(1) {
        let mut columns = line.split('\t');
        let (Some(frame), Some(time)) = (columns.next(), columns.next()) else {
            continue;
        };
        if let (Ok(frame), Some(time)) = (frame.parse(), parse_time(time)) {
            frames.insert(frame, time);
        }
    }
    Some(frames)
}

#[test]
fn corpus_files_read_and_decode() {
    let Some(corpus) = corpus() else { return };
    let mut files = captures(&corpus.join("pcap"));
    files.extend(captures(&corpus.join("bugs")));
    assert!(
        files.len() > 100,
        "expected the corpus captures, found {}",
        files.len()
    );
    for path in &files {
        let summary = read_all(path);
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let total = summary.timestamps.len();
        assert!(total > 0, "{name}: no packets");
        assert_eq!(
            summary.decode_errors,
            Vec::<String>::new(),
            "{name}: decode errors"
        );
        // ndpi__tor.pcap has the lowest share: 349 of 514 frames, the rest 802.3 LLC.
        assert!(
            summary.ip * 3 >= total * 2,
            "{name}: only {} of {total} frames are IP",
            summary.ip
        );
        let numbers: Vec<u64> = summary.timestamps.keys().copied().collect();
        let expected: Vec<u64> = (1..=total as u64).collect();
        if summary.errors.is_empty() {
            assert_eq!(numbers, expected, "{name}: packet numbers are not 1..=N");
        }
    }
}

#[test]
fn corpus_truth_frames_have_same_time() {
    let Some(corpus) = corpus() else { return };
    let mut checked = 0;
    for path in captures(&corpus.join("pcap")) {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        let Some(frames) = truth_frames(&corpus, &name) else {
            continue;
        };
        let summary = read_all(&path);
        for (frame, time) in frames {
            let found = summary.timestamps.get(&frame).copied();
            assert_eq!(found, Some(time), "{name}: frame {frame} time");
            checked += 1;
        }
    }
    assert!(
        checked > 500,
        "expected many truth frames, checked {checked}"
    );
}

#[test]
fn corpus_error_only_in_corrupt_capture() {
    let Some(corpus) = corpus() else { return };
    let mut files = captures(&corpus.join("pcap"));
    files.extend(captures(&corpus.join("bugs")));
    let with_errors: Vec<String> = files
        .iter()
        .filter(|path| !read_all(path).errors.is_empty())
        .filter_map(|path| path.file_name().and_then(|n| n.to_str()).map(str::to_owned))
        .collect();
    assert_eq!(
        with_errors,
        ["suricata__bug-1450-04__tls_DER-incomplete-header.pcap"]
    );
}

#[test]
fn corrupt_record_length_recovers() {
    let Some(corpus) = corpus() else { return };
    let path = corpus.join("pcap/suricata__bug-1450-04__tls_DER-incomplete-header.pcap");
    let summary = read_all(&path);
    assert_eq!(summary.errors.len(), 1, "errors: {:?}", summary.errors);
    let message = &summary.errors[0];
    assert!(
        message.starts_with("offset 5035 (packet 7): record length 4325376 exceeds"),
        "{message}"
    );
    // Packet 6 claims 2 bytes more than it has, so the real header of the next record
    // starts at 5033 and the reader sees a bogus one at 5035. Searching forward loses the
    // record at 5033; the seven records after it come out.
    let after: Vec<u64> = summary
        .timestamps
        .keys()
        .copied()
        .filter(|&n| n > 7)
        .collect();
    assert_eq!(after, [8, 9, 10, 11, 12, 13, 14]);
}

#[test]
fn sll2_capture_decodes_all() {
    let Some(corpus) = corpus() else { return };
    let path = corpus.join("bugs/zeek__linux_dlt_sll2.pcap");
    let mut reader = CaptureReader::open(&path).unwrap_or_else(|err| panic!("{err}"));
    let (mut ipv4_icmp, mut ipv6_icmp, mut arp) = (0, 0, 0);
    while let Some(item) = reader.next_packet() {
        let packet = item.unwrap_or_else(|err| panic!("{err}"));
        assert_eq!(packet.link_type, LinkType::LINUX_SLL2);
        match decode(packet.link_type, packet.data) {
            Ok(Decoded::Ip(ip)) if ip.src.is_ipv4() && ip.protocol == 1 => ipv4_icmp += 1,
            Ok(Decoded::Ip(ip)) if ip.src.is_ipv6() && ip.protocol == 58 => ipv6_icmp += 1,
            // ARP (0x0806) and reverse ARP (0x8035).
            Ok(Decoded::NonIp {
                ethertype: 0x0806 | 0x8035,
                ..
            }) => arp += 1,
            other => panic!("packet {}: unexpected {other:?}", packet.number),
        }
    }
    assert_eq!((ipv4_icmp, ipv6_icmp, arp), (2, 2, 2));
}

#[test]
fn qinq_capture_decodes_all() {
    let Some(corpus) = corpus() else { return };
    let summary = read_all(&corpus.join("bugs/zeek__http-qinq-0.pcap"));
    assert_eq!(summary.timestamps.len(), 14);
    assert_eq!(
        summary.vlan_pairs, 14,
        "decode errors: {:?}",
        summary.decode_errors
    );
}

#[test]
fn sites_pcapng_times_in_range() {
    let Some(corpus) = corpus() else { return };
    let summary = read_all(&corpus.join("pcap/ndpi__sites.pcapng"));
    assert_eq!(summary.timestamps.len(), 699);
    // From 2020-07-28T17:34:54Z to the end of the second 2024-08-01T19:21:50Z.
    let (first, end) = (1_595_957_694_000_000_000i64, 1_722_540_111_000_000_000i64);
    for (number, ts) in &summary.timestamps {
        assert!(
            (first..end).contains(ts),
            "packet {number} time {ts} out of range"
        );
    }
}

#[test]
fn gzip_capture_reads() {
    let Some(corpus) = corpus() else { return };
    let path = corpus.join("pcap/zeek__tls-fragmented-handshake.pcap.gz");
    let reader = CaptureReader::open(&path).unwrap_or_else(|err| panic!("{err}"));
    assert!(reader.format().gzip);
    let summary = read_all(&path);
    assert!(summary.errors.is_empty(), "{:?}", summary.errors);
    assert!(summary.ip > 0);
}

#[test]
fn corpus_tcp_payloads_found() {
    let Some(corpus) = corpus() else { return };
    let path = corpus.join("pcap/zeek__tls1_1.pcap");
    let mut reader = CaptureReader::open(&path).unwrap_or_else(|err| panic!("{err}"));
    let mut payload_bytes = 0usize;
    while let Some(Ok(packet)) = reader.next_packet() {
        if let Ok(Decoded::Ip(ip)) = decode(packet.link_type, packet.data)
            && let Transport::Tcp(tcp) = ip.transport
        {
            payload_bytes += tcp.payload.len();
        }
    }
    assert!(payload_bytes > 3000, "TCP payload bytes: {payload_bytes}");
}
