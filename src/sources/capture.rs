//! Packet captures as a source: packets → TCP streams and QUIC Initial
//! packets → TLS events → [`TlsSession`] observations, on the calling
//! thread. [`super::partition`] spreads the same work over several threads.

use std::net::SocketAddr;
use std::path::Path;

use wiretrust_http::BodyHashing;
use wiretrust_pcap::{CaptureReader, Decoded, LinkType, Transport, decode};
use wiretrust_tcp::{Segment, SegmentMeta};

pub use super::capture_stats::CaptureStats;
use super::flows::{Flows, sort_completed, sort_dialogues, sort_transfers};
use super::packet_owner::ProcessDirectory;
use super::timing::{Off, Phase, Stopwatch};
use crate::observations::FlowRecord;

/// Progress is reported each time this many more file bytes were read.
pub(crate) const PROGRESS_STEP: u64 = 4 << 20;

/// The part of a decoded packet that flow state takes.
pub(crate) enum Unit<'a> {
    /// A TCP segment.
    Tcp(Segment<'a>),
    /// A UDP datagram, which may carry QUIC.
    Udp {
        /// Sender.
        src: SocketAddr,
        /// Receiver.
        dst: SocketAddr,
        /// Payload as captured.
        payload: &'a [u8],
    },
}

/// Decodes one frame down to TCP or UDP, counting in `stats` what is
/// neither and what does not decode.
pub(crate) fn decode_unit<'a>(
    stats: &mut CaptureStats,
    link_type: LinkType,
    data: &'a [u8],
) -> Option<Unit<'a>> {
    let ip = match decode(link_type, data) {
        Ok(Decoded::Ip(ip)) => ip,
        Ok(Decoded::NonIp { .. }) => {
            stats.non_ip_frames += 1;
            return None;
        }
        Err(err) => {
            *stats.undecodable.entry(err.to_string()).or_default() += 1;
            return None;
        }
    };
    match ip.transport {
        Transport::Tcp(tcp) => {
            stats.tcp_segments += 1;
            Some(Unit::Tcp(Segment {
                src: SocketAddr::new(ip.src, tcp.src_port),
                dst: SocketAddr::new(ip.dst, tcp.dst_port),
                seq: tcp.seq,
                ack: tcp.ack,
                flags: tcp.flags,
                payload: tcp.payload,
            }))
        }
        Transport::Udp(udp) => {
            stats.udp_datagrams += 1;
            Some(Unit::Udp {
                src: SocketAddr::new(ip.src, udp.src_port),
                dst: SocketAddr::new(ip.dst, udp.dst_port),
                payload: udp.payload,
            })
        }
        Transport::Fragment => {
            stats.ip_fragments += 1;
            None
        }
        Transport::Other => None,
    }
}

/// Why a capture could not be read at all.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct OpenCaptureError(pub String);

/// Opens a capture for reading.
pub(crate) fn open_capture(
    path: &Path,
) -> Result<CaptureReader<Box<dyn std::io::Read + Send>>, OpenCaptureError> {
    CaptureReader::open(path).map_err(|err| match err {
        wiretrust_pcap::OpenError::NotACapture { .. } => OpenCaptureError(format!(
            "{err}; wiretrust also reads {}",
            super::kind::ENDPOINT_FORMATS
        )),
        err => OpenCaptureError(err.to_string()),
    })
}

/// Reads one capture file and hands every completed TLS session to
/// `on_session`, roughly in order of completion.
///
/// `on_progress` receives the number of file bytes consumed so far. Every
/// plain HTTP body is hashed with MD5 and SHA-256.
pub fn read_capture(
    path: &Path,
    input_name: &str,
    on_session: &mut dyn FnMut(FlowRecord),
    on_progress: &mut dyn FnMut(u64),
) -> Result<CaptureStats, OpenCaptureError> {
    let hashing = BodyHashing::Every;
    read_capture_timed(path, input_name, hashing, on_session, on_progress, &mut Off)
}

/// [`read_capture`] with plain HTTP bodies hashed as `body_hashing`
/// selects, charging reading and decoding to [`Phase::Read`] and flow work
/// to [`Phase::Reassembly`] on `clock`. The time spent in `on_session` is
/// charged to neither.
///
/// Sessions come out in groups, one per packet that completed any, each
/// group sorted by transport and flow number, so that the partitioned
/// reader can produce the same sequence.
pub fn read_capture_timed<S: Stopwatch>(
    path: &Path,
    input_name: &str,
    body_hashing: BodyHashing,
    on_session: &mut dyn FnMut(FlowRecord),
    on_progress: &mut dyn FnMut(u64),
    clock: &mut S,
) -> Result<CaptureStats, OpenCaptureError> {
    clock.restart();
    let mut reader = open_capture(path)?;
    let mut flows = Flows::new(input_name, body_hashing);
    let mut processes = ProcessDirectory::default();
    let mut stats = CaptureStats::default();
    let mut last_progress = 0u64;
    while let Some(next) = reader.next_packet() {
        match next {
            Ok(packet) => {
                stats.count_packet(&packet);
                let meta = SegmentMeta {
                    packet: packet.number,
                    timestamp_ns: packet.timestamp_ns,
                };
                let unit = decode_unit(&mut stats, packet.link_type, packet.data);
                let process = processes.identify(&packet);
                for owner in processes.take_new() {
                    flows.define_process(owner.clone());
                }
                clock.lap(Phase::Read);
                match unit {
                    Some(Unit::Tcp(segment)) => flows.tcp(&segment, meta, process),
                    Some(Unit::Udp { src, dst, payload }) => {
                        flows.udp(src, dst, payload, meta, process);
                    }
                    None => {}
                }
                clock.lap(Phase::Reassembly);
                if packet.offset.saturating_sub(last_progress) > PROGRESS_STEP {
                    last_progress = packet.offset;
                    on_progress(last_progress);
                }
            }
            Err(err) => {
                let fatal = err.fatal;
                stats.read_error(err.to_string());
                clock.lap(Phase::Read);
                if fatal {
                    stats.incomplete = true;
                    break;
                }
            }
        }
        deliver(&mut flows, &mut stats, on_session, clock);
    }
    flows.finish();
    clock.lap(Phase::Reassembly);
    deliver(&mut flows, &mut stats, on_session, clock);
    flows.add_stats(&mut stats, 0);
    stats.bytes = reader.stats().bytes_consumed;
    on_progress(stats.bytes);
    clock.lap(Phase::Read);
    Ok(stats)
}

/// Hands the sessions, transfers and dialogues completed since the last
/// call to `on_session`.
fn deliver<S: Stopwatch>(
    flows: &mut Flows,
    stats: &mut CaptureStats,
    on_session: &mut dyn FnMut(FlowRecord),
    clock: &mut S,
) {
    let changes = flows.changes_mut();
    if changes.sessions.is_empty() && changes.transfers.is_empty() && changes.dialogues.is_empty() {
        changes.clear();
        return;
    }
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
    clock.restart();
}
