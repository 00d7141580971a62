//! Live capture from a network interface through libpcap, for `wiretrust
//! watch --interface`: packets → the same TCP and QUIC flow state as a
//! capture file → TLS sessions as their connections end.
//!
//! Built only with the `live` feature, because it links libpcap.

use std::sync::atomic::{AtomicBool, Ordering};

use wiretrust_http::BodyHashing;
use wiretrust_pcap::LinkType;
use wiretrust_tcp::SegmentMeta;

use super::capture::{Unit, decode_unit};
use super::capture_stats::CaptureStats;
use super::flows::{Flows, sort_completed, sort_dialogues, sort_transfers};
use crate::observations::FlowRecord;

/// How long one read waits for a packet before checking `stop`, in ms.
const READ_TIMEOUT_MS: i32 = 250;

/// Bytes kept of each packet: enough for any TLS record header and
/// handshake message that fits in a segment.
const SNAPLEN: i32 = 65_535;

/// Captures from `interface` until `stop` is set or the capture fails,
/// handing every completed TLS session to `on_session`. `filter` is a
/// BPF expression, e.g. `tcp port 443 or udp port 443`. Plain HTTP bodies
/// are hashed as `body_hashing` selects.
pub fn capture_live(
    interface: &str,
    filter: Option<&str>,
    body_hashing: BodyHashing,
    on_session: &mut dyn FnMut(FlowRecord),
    stop: &AtomicBool,
) -> Result<CaptureStats, String> {
    let mut capture = open(interface, filter)?;
    let link_type = LinkType(u32::try_from(capture.get_datalink().0).unwrap_or(u32::MAX));
    let input = format!("interface {interface}");
    let mut flows = Flows::new(&input, body_hashing);
    let mut stats = CaptureStats::default();
    let mut number = 0u64;
    while !stop.load(Ordering::Relaxed) {
        match capture.next_packet() {
            Ok(packet) => {
                number += 1;
                stats.packets += 1;
                stats.bytes += u64::from(packet.header.caplen);
                // time_t and suseconds_t are i64 on 64-bit Linux and macOS,
                // narrower on some 32-bit systems.
                #[allow(clippy::useless_conversion)]
                let seconds = i64::try_from(packet.header.ts.tv_sec).unwrap_or(0);
                #[allow(clippy::useless_conversion)]
                let micros = i64::try_from(packet.header.ts.tv_usec).unwrap_or(0);
                let timestamp_ns = seconds
                    .saturating_mul(1_000_000_000)
                    .saturating_add(micros.saturating_mul(1_000));
                let meta = SegmentMeta {
                    packet: number,
                    timestamp_ns,
                };
                match decode_unit(&mut stats, link_type, packet.data) {
                    Some(Unit::Tcp(segment)) => flows.tcp(&segment, meta, None),
                    Some(Unit::Udp { src, dst, payload }) => {
                        flows.udp(src, dst, payload, meta, None)
                    }
                    None => {}
                }
                deliver(&mut flows, &mut stats, on_session);
            }
            Err(pcap::Error::TimeoutExpired) => {}
            Err(err) => {
                flows.finish();
                deliver(&mut flows, &mut stats, on_session);
                return Err(format!("capture on {interface} failed: {err}"));
            }
        }
    }
    flows.finish();
    deliver(&mut flows, &mut stats, on_session);
    flows.add_stats(&mut stats, 0);
    Ok(stats)
}

fn open(interface: &str, filter: Option<&str>) -> Result<pcap::Capture<pcap::Active>, String> {
    let cannot = |err: pcap::Error| {
        format!(
            "cannot capture on {interface}: {err} (live capture needs root or the \
             CAP_NET_RAW capability, and an interface name from `ip link` or `ifconfig`)"
        )
    };
    let mut capture = pcap::Capture::from_device(interface)
        .map_err(cannot)?
        .snaplen(SNAPLEN)
        .timeout(READ_TIMEOUT_MS)
        .immediate_mode(true)
        .open()
        .map_err(cannot)?;
    if let Some(filter) = filter {
        capture
            .filter(filter, true)
            .map_err(|err| format!("invalid capture filter {filter:?}: {err}"))?;
    }
    Ok(capture)
}

fn deliver(flows: &mut Flows, stats: &mut CaptureStats, on_session: &mut dyn FnMut(FlowRecord)) {
    let changes = flows.changes_mut();
    sort_completed(&mut changes.sessions);
    for session in changes.sessions.drain(..) {
        stats.sessions += 1;
        on_session(FlowRecord::Session(session));
    }
    sort_transfers(&mut changes.transfers);
    for transfer in changes.transfers.drain(..) {
        stats.http_transfers += 1;
        on_session(FlowRecord::Transfer(Box::new(transfer)));
    }
    sort_dialogues(&mut changes.dialogues);
    for dialogue in changes.dialogues.drain(..) {
        stats.starttls_dialogues += 1;
        on_session(FlowRecord::Starttls(Box::new(dialogue)));
    }
    changes.clear();
}
