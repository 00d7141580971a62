//! Reassembly of real public captures from the corpus named by
//! `WIRETRUST_CORPUS`; each test prints a line and passes when it is unset.

mod support;

use std::path::{Path, PathBuf};

use wiretrust_tcp::{
    FlowEnd, FlowKey, FlowTable, Interest, Limits, Segment, SegmentMeta, Side, StreamHandler,
};

/// Everything one flow delivered.
#[derive(Debug, Default)]
struct Transcript {
    client: Vec<u8>,
    server: Vec<u8>,
    client_gaps: Vec<u64>,
    server_gaps: Vec<u64>,
}

impl StreamHandler for Transcript {
    /// Finished transcripts, in the order flows ended.
    type Context = Vec<(FlowKey, FlowEnd, Transcript)>;

    fn on_data(
        &mut self,
        _: &mut Self::Context,
        side: Side,
        data: &[u8],
        _: SegmentMeta,
    ) -> Interest {
        let bytes = if side == Side::Client {
            &mut self.client
        } else {
            &mut self.server
        };
        bytes.extend_from_slice(data);
        Interest::Continue
    }

    fn on_gap(&mut self, _: &mut Self::Context, side: Side, missing: u64, _: SegmentMeta) {
        let gaps = if side == Side::Client {
            &mut self.client_gaps
        } else {
            &mut self.server_gaps
        };
        gaps.push(missing);
    }

    fn on_end(self, ctx: &mut Self::Context, key: &FlowKey, end: FlowEnd, _: SegmentMeta) {
        ctx.push((*key, end, self));
    }
}

/// Returns the corpus folder, or `None` after printing that `test` was skipped.
fn corpus(test: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("WIRETRUST_CORPUS").map(PathBuf::from);
    if dir.is_none() {
        println!("{test}: skipped, WIRETRUST_CORPUS is not set");
    }
    dir
}

/// Runs every TCP segment of `path` through a table; returns the finished
/// transcripts and the table.
fn reassemble(path: &Path) -> (Vec<(FlowKey, FlowEnd, Transcript)>, FlowTable<Transcript>) {
    let file = std::fs::read(path).unwrap_or_else(|e| {
        panic!(
            "cannot read {}: {e}; check WIRETRUST_CORPUS",
            path.display()
        )
    });
    let mut table = FlowTable::new(Limits::default());
    let mut done = Vec::new();
    for packet in support::tcp_packets(&file) {
        let seg = Segment {
            src: packet.src,
            dst: packet.dst,
            seq: packet.seq,
            ack: packet.ack,
            flags: packet.flags,
            payload: &packet.payload,
        };
        let meta = SegmentMeta {
            packet: packet.number,
            timestamp_ns: packet.timestamp_ns,
        };
        table.segment(&seg, meta, &mut done, |_, _| Transcript::default());
    }
    table.finish(&mut done);
    (done, table)
}

/// Returns the only flow of a single-connection capture.
fn only_flow(path: &Path) -> (FlowKey, FlowEnd, Transcript) {
    let (mut done, _) = reassemble(path);
    assert_eq!(done.len(), 1, "{}: expected one flow", path.display());
    done.remove(0)
}

#[test]
fn multiple_synack_server_flight() {
    let Some(dir) = corpus("multiple_synack_server_flight") else {
        return;
    };
    let path = dir.join("bugs/ndpi__tls_multiple_synack_different_seq.pcapng");
    let (_, _, flow) = only_flow(&path);
    assert_eq!(flow.server.len(), 5427);
}

#[test]
fn multiple_synack_no_server_gap() {
    let Some(dir) = corpus("multiple_synack_no_server_gap") else {
        return;
    };
    let path = dir.join("bugs/ndpi__tls_multiple_synack_different_seq.pcapng");
    let (_, _, flow) = only_flow(&path);
    assert_eq!(flow.server_gaps, Vec::<u64>::new());
}

#[test]
fn multiple_synack_server_hello_found() {
    let Some(dir) = corpus("multiple_synack_server_hello_found") else {
        return;
    };
    let path = dir.join("bugs/ndpi__tls_multiple_synack_different_seq.pcapng");
    let (_, _, flow) = only_flow(&path);
    // Handshake record (22), TLS 1.2 record version, then ServerHello (type 2).
    let header = flow.server.get(..6);
    assert_eq!(header, Some(&[0x16, 0x03, 0x03, 0x00, 0x5b, 0x02][..]));
}

#[test]
fn multiple_synack_server_random() {
    let Some(dir) = corpus("multiple_synack_server_random") else {
        return;
    };
    let path = dir.join("bugs/ndpi__tls_multiple_synack_different_seq.pcapng");
    let (_, _, flow) = only_flow(&path);
    // The random spans bytes 11..43: record header 5, handshake header 4, version 2.
    let tail = flow.server.get(35..43);
    assert_eq!(
        tail,
        Some(&[0xc1, 0xe3, 0xb8, 0x5d, 0x73, 0x6b, 0x93, 0x1b][..])
    );
}

#[test]
fn multiple_synack_client_from_synack() {
    let Some(dir) = corpus("multiple_synack_client_from_synack") else {
        return;
    };
    let path = dir.join("bugs/ndpi__tls_multiple_synack_different_seq.pcapng");
    let (key, _, _) = only_flow(&path);
    assert_eq!(key.server.port(), 443);
}

#[test]
fn missing_fragment_gap_size() {
    let Some(dir) = corpus("missing_fragment_gap_size") else {
        return;
    };
    let (_, _, flow) = only_flow(&dir.join("pcap/ndpi__tls_missing_ch_frag.pcap"));
    assert_eq!(flow.client_gaps.first(), Some(&481));
}

#[test]
fn handshake_ack_data_closed() {
    let Some(dir) = corpus("handshake_ack_data_closed") else {
        return;
    };
    let path = dir.join("bugs/suricata__bug-7264-tcp-3whs-ack-data-tls-01__input.pcap");
    let (_, end, _) = only_flow(&path);
    assert_eq!(end, FlowEnd::Closed);
}

#[test]
fn handshake_ack_data_bytes() {
    let Some(dir) = corpus("handshake_ack_data_bytes") else {
        return;
    };
    let path = dir.join("bugs/suricata__bug-7264-tcp-3whs-ack-data-tls-01__input.pcap");
    let (_, _, flow) = only_flow(&path);
    assert_eq!(
        (flow.client.len(), flow.server.len()),
        (517 + 93 + 306, 4610)
    );
}

#[test]
fn fin_then_rst_closed_once() {
    let Some(dir) = corpus("fin_then_rst_closed_once") else {
        return;
    };
    let path = dir.join("bugs/suricata__tls-fin-close-data-01__debug-s13.pcap");
    let (_, end, _) = only_flow(&path);
    assert_eq!(end, FlowEnd::Closed);
}

#[test]
fn every_capture_accounts_flows() {
    let Some(dir) = corpus("every_capture_accounts_flows") else {
        return;
    };
    let mut files = 0;
    for sub in ["pcap", "bugs"] {
        let Ok(entries) = std::fs::read_dir(dir.join(sub)) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            if !(name.ends_with(".pcap") || name.ends_with(".pcapng")) {
                continue;
            }
            let (done, table) = reassemble(&path);
            let stats = table.stats();
            assert_eq!(
                stats.flows_ended(),
                stats.flows_opened,
                "{}",
                path.display()
            );
            assert_eq!(done.len() as u64, stats.flows_opened, "{}", path.display());
            files += 1;
        }
    }
    assert!(
        files > 100,
        "only {files} captures found under {}",
        dir.display()
    );
}
