//! Packet captures as a source: packets → TCP streams and QUIC Initial
//! packets → TLS events → [`TlsSession`] observations, on the calling
//! thread. [`super::partition`] spreads the same work over several threads.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::Path;

use wiretrust_pcap::{CaptureReader, Decoded, LinkType, Packet, PktapHeader, Transport, decode};
use wiretrust_tcp::{Segment, SegmentMeta};

use super::flows::{Flows, sort_completed, sort_dialogues, sort_transfers};
use super::timing::{Off, Phase, Stopwatch};
use crate::observations::FlowRecord;

/// At most this many warnings are kept word for word per input; the rest
/// are counted.
const MAX_WARNINGS: usize = 20;

/// Progress is reported each time this many more file bytes were read.
pub(crate) const PROGRESS_STEP: u64 = 4 << 20;

/// What reading one capture found, for the summary.
#[derive(Debug, Default)]
pub struct CaptureStats {
    /// File bytes consumed.
    pub bytes: u64,
    /// Packet records read.
    pub packets: u64,
    /// TCP segments decoded.
    pub tcp_segments: u64,
    /// UDP datagrams decoded.
    pub udp_datagrams: u64,
    /// UDP datagrams that did not carry QUIC.
    pub udp_not_quic: u64,
    /// QUIC Initial packets that did not decrypt (keys from a connection
    /// whose first Initial the capture lacks).
    pub quic_undecrypted: u64,
    /// Frames that carried something other than IP.
    pub non_ip_frames: u64,
    /// IP fragments, which are not reassembled.
    pub ip_fragments: u64,
    /// Packets the capture cut short (snapshot length).
    pub truncated_packets: u64,
    /// Frames that could not be decoded, by reason.
    pub undecodable: BTreeMap<String, u64>,
    /// Corrupt or unreadable parts of the file, word for word.
    pub read_errors: Vec<String>,
    /// Corrupt or unreadable parts of the file, all counted.
    pub read_errors_total: u64,
    /// The file could not be read to its end.
    pub incomplete: bool,
    /// TCP flows opened.
    pub flows: u64,
    /// Holes in TCP streams given up on (bytes the capture lacks).
    pub capture_gaps: u64,
    /// Bytes missing in those holes.
    pub capture_gap_bytes: u64,
    /// TCP flows ended early because the flow table was full.
    pub flows_evicted: u64,
    /// TCP flows ended after the idle timeout.
    pub flows_idle_timeout: u64,
    /// Times an out-of-order buffer limit forced a hole to be given up.
    pub buffer_limit_hits: u64,
    /// TCP sides that got no window to check retransmissions against,
    /// because that memory limit was reached.
    pub compare_windows_refused: u64,
    /// TLS sessions completed.
    pub sessions: u64,
    /// QUIC connections whose Initial packets were followed.
    pub quic_connections: u64,
    /// QUIC connections ended early because the tracker was full.
    pub quic_connections_evicted: u64,
    /// QUIC CRYPTO bytes dropped at the memory limits.
    pub quic_crypto_bytes_dropped: u64,
    /// Flows given up on because no TLS started within the scan limit.
    pub flows_not_tls: u64,
    /// HTTP transfers read from plaintext flows.
    pub http_transfers: u64,
    /// Recoverable HTTP parse problems (oversized headers, malformed
    /// chunk sizes, invalid digest values).
    pub http_warnings: u64,
    /// The first HTTP parse problems word for word, at most
    /// [`MAX_HTTP_WARNING_EXAMPLES`], each naming its packet and offset.
    pub http_warning_examples: Vec<String>,
    /// STARTTLS dialogues (SMTP, IMAP, POP3, FTP, XMPP) read from
    /// plaintext flows.
    pub starttls_dialogues: u64,
}

/// HTTP parse problems quoted per input at most; the rest are counted.
pub(crate) const MAX_HTTP_WARNING_EXAMPLES: usize = 5;

/// HTTP parse problems found in one capture: a count and the first few
/// word for word.
#[derive(Debug, Default)]
pub(crate) struct HttpWarnings {
    pub count: u64,
    pub examples: Vec<String>,
}

impl HttpWarnings {
    /// Counts one problem of flow `stream`, quoting it while few.
    pub fn record(&mut self, stream: u64, text: impl FnOnce() -> String) {
        self.count = self.count.saturating_add(1);
        if self.examples.len() < MAX_HTTP_WARNING_EXAMPLES {
            self.examples.push(format!("TCP flow {stream}, {}", text()));
        }
    }

    /// Adds these problems to the capture's counts.
    pub fn add_to(&self, stats: &mut CaptureStats) {
        stats.http_warnings = stats.http_warnings.saturating_add(self.count);
        let room = MAX_HTTP_WARNING_EXAMPLES.saturating_sub(stats.http_warning_examples.len());
        let quoted = self.examples.iter().take(room).cloned();
        stats.http_warning_examples.extend(quoted);
    }
}

impl CaptureStats {
    /// Counts one packet record.
    pub(crate) fn count_packet(&mut self, packet: &Packet<'_>) {
        self.packets += 1;
        if packet.data.len() < packet.original_len as usize {
            self.truncated_packets += 1;
        }
    }

    /// Records a damaged part of the file, word for word while few.
    pub(crate) fn read_error(&mut self, message: String) {
        self.read_errors_total += 1;
        if self.read_errors.len() < MAX_WARNINGS {
            self.read_errors.push(message);
        }
    }
}

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

/// A process that Apple capture metadata names, with the effective process
/// it acted for when that is a different one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PacketOwner {
    pub pid: u32,
    pub name: Option<String>,
    pub path: Option<String>,
    pub uuid: Option<[u8; 16]>,
    pub effective: Option<(u32, Option<String>)>,
}

/// A [`PacketOwner`] borrowed from a packet, compared without allocating.
struct OwnerView<'a> {
    pid: u32,
    name: Option<&'a [u8]>,
    path: Option<&'a str>,
    uuid: Option<[u8; 16]>,
    effective: Option<(u32, Option<&'a [u8]>)>,
}

impl OwnerView<'_> {
    fn matches(&self, owner: &PacketOwner) -> bool {
        let name = owner.name.as_deref().map(str::as_bytes);
        let effective = owner
            .effective
            .as_ref()
            .map(|(pid, name)| (*pid, name.as_deref().map(str::as_bytes)));
        self.pid == owner.pid
            && self.name == name
            && self.path == owner.path.as_deref()
            && self.uuid == owner.uuid
            && self.effective == effective
    }

    fn to_owner(&self) -> PacketOwner {
        let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
        PacketOwner {
            pid: self.pid,
            name: self.name.map(text),
            path: self.path.map(str::to_owned),
            uuid: self.uuid,
            effective: self.effective.map(|(pid, name)| (pid, name.map(text))),
        }
    }
}

/// Numbers the distinct processes that a capture's packets name, from 0 in
/// order of first appearance, so that flow state keeps a `u32` per packet.
#[derive(Debug, Default)]
pub(crate) struct ProcessDirectory {
    /// Numbers of the known processes by pid: most pids have one entry, so
    /// a packet's process is found without allocating.
    by_pid: HashMap<u32, Vec<u32>>,
    owners: Vec<PacketOwner>,
    /// Processes numbered since the last [`ProcessDirectory::take_new`].
    new: usize,
}

impl ProcessDirectory {
    /// Returns the number of the process that `packet` names, from pcapng
    /// process information blocks or a pktap header, if it names one.
    pub fn identify(&mut self, packet: &Packet<'_>) -> Option<u32> {
        let metadata = packet.process();
        let info = metadata.process_index.and_then(|i| packet.process_block(i));
        if let Some(info) = info {
            let effective = metadata.effective_process_index;
            let effective = effective
                .and_then(|i| packet.process_block(i))
                .filter(|e| e.pid != info.pid || e.name != info.name)
                .map(|e| (e.pid, e.name.as_deref().map(str::as_bytes)));
            return Some(self.number(OwnerView {
                pid: info.pid,
                name: info.name.as_deref().map(str::as_bytes),
                path: info.path.as_deref(),
                uuid: info.uuid,
                effective,
            }));
        }
        if !matches!(packet.link_type, LinkType::PKTAP | LinkType::PKTAP_APPLE) {
            return None;
        }
        let (header, _) = PktapHeader::parse(packet.data).ok()?;
        let pid = header.process_id()?;
        let effective = header
            .effective_process_id()
            .filter(|&epid| epid != pid || header.ecomm != header.comm)
            .map(|epid| (epid, Some(header.ecomm).filter(|name| !name.is_empty())));
        Some(self.number(OwnerView {
            pid,
            name: Some(header.comm).filter(|name| !name.is_empty()),
            path: None,
            uuid: header.uuid,
            effective,
        }))
    }

    fn number(&mut self, view: OwnerView<'_>) -> u32 {
        let known = self.by_pid.entry(view.pid).or_default();
        let found = known.iter().copied().find(|&number| {
            let owner = self.owners.get(number as usize);
            owner.is_some_and(|owner| view.matches(owner))
        });
        if let Some(number) = found {
            return number;
        }
        let number = u32::try_from(self.owners.len()).unwrap_or(u32::MAX);
        known.push(number);
        self.owners.push(view.to_owner());
        number
    }

    /// Returns the processes numbered since the last call, in number order.
    pub fn take_new(&mut self) -> &[PacketOwner] {
        let start = self.new;
        self.new = self.owners.len();
        self.owners.get(start..).unwrap_or_default()
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
/// `on_progress` receives the number of file bytes consumed so far.
pub fn read_capture(
    path: &Path,
    input_name: &str,
    on_session: &mut dyn FnMut(FlowRecord),
    on_progress: &mut dyn FnMut(u64),
) -> Result<CaptureStats, OpenCaptureError> {
    read_capture_timed(path, input_name, on_session, on_progress, &mut Off)
}

/// [`read_capture`], charging reading and decoding to [`Phase::Read`] and
/// flow work to [`Phase::Reassembly`] on `clock`. The time spent in
/// `on_session` is charged to neither.
///
/// Sessions come out in groups, one per packet that completed any, each
/// group sorted by transport and flow number, so that the partitioned
/// reader can produce the same sequence.
pub fn read_capture_timed<S: Stopwatch>(
    path: &Path,
    input_name: &str,
    on_session: &mut dyn FnMut(FlowRecord),
    on_progress: &mut dyn FnMut(u64),
    clock: &mut S,
) -> Result<CaptureStats, OpenCaptureError> {
    clock.restart();
    let mut reader = open_capture(path)?;
    let mut flows = Flows::new(input_name);
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

#[cfg(test)]
mod tests {
    use wiretrust_pcap::{ByteOrder, ProcessInfo};

    use super::*;

    /// Builds a frame with a 156-byte pktap header for `pid`/`comm` acting
    /// for `epid`/`ecomm`, followed by nothing.
    fn pktap_frame(pid: i32, comm: &str, epid: i32, ecomm: &str) -> Vec<u8> {
        let mut header = vec![0u8; 156];
        header[0..4].copy_from_slice(&156u32.to_le_bytes());
        header[4..8].copy_from_slice(&1u32.to_le_bytes());
        header[52..56].copy_from_slice(&pid.to_le_bytes());
        header[56..56 + comm.len()].copy_from_slice(comm.as_bytes());
        header[84..88].copy_from_slice(&epid.to_le_bytes());
        header[88..88 + ecomm.len()].copy_from_slice(ecomm.as_bytes());
        header
    }

    /// Encodes the process index options 0x8001 and 0x8003 of a pcapng
    /// packet block, little endian.
    fn process_options(index: u32, effective: u32) -> Vec<u8> {
        let mut options = Vec::new();
        for (code, value) in [(0x8001u16, index), (0x8003, effective)] {
            options.extend_from_slice(&code.to_le_bytes());
            options.extend_from_slice(&4u16.to_le_bytes());
            options.extend_from_slice(&value.to_le_bytes());
        }
        options.extend_from_slice(&[0; 4]);
        options
    }

    fn packet<'a>(
        link_type: LinkType,
        data: &'a [u8],
        options: &'a [u8],
        processes: &'a [Option<ProcessInfo>],
    ) -> Packet<'a> {
        Packet {
            number: 1,
            offset: 0,
            timestamp_ns: 0,
            link_type,
            interface: 0,
            data,
            original_len: data.len() as u32,
            options,
            byte_order: ByteOrder::Little,
            processes,
        }
    }

    fn identify_pktap(directory: &mut ProcessDirectory, frame: &[u8]) -> Option<u32> {
        let packet = packet(LinkType::PKTAP, frame, &[], &[]);
        directory.identify(&packet)
    }

    #[test]
    fn directory_numbers_distinct_processes() {
        let mut directory = ProcessDirectory::default();
        let curl = pktap_frame(4242, "curl", 4242, "curl");
        let other = pktap_frame(4242, "zsh", 4242, "zsh");
        let numbers = [
            identify_pktap(&mut directory, &curl),
            identify_pktap(&mut directory, &other),
            identify_pktap(&mut directory, &curl),
        ];
        assert_eq!(numbers, [Some(0), Some(1), Some(0)]);
        let new: Vec<Option<String>> = directory
            .take_new()
            .iter()
            .map(|o| o.name.clone())
            .collect();
        assert_eq!(new, [Some("curl".to_owned()), Some("zsh".to_owned())]);
        assert!(directory.take_new().is_empty());
    }

    #[test]
    fn directory_effective_only_when_different() {
        let mut directory = ProcessDirectory::default();
        identify_pktap(
            &mut directory,
            &pktap_frame(88, "nsurlsessiond", 501, "Safari"),
        );
        identify_pktap(&mut directory, &pktap_frame(4242, "curl", 4242, "curl"));
        let effective: Vec<Option<(u32, Option<String>)>> = directory
            .take_new()
            .iter()
            .map(|o| o.effective.clone())
            .collect();
        assert_eq!(effective, [Some((501, Some("Safari".to_owned()))), None]);
    }

    #[test]
    fn directory_ignores_unknown_pid() {
        let mut directory = ProcessDirectory::default();
        let frame = pktap_frame(-1, "", -1, "");
        assert_eq!(identify_pktap(&mut directory, &frame), None);
        let short = [0u8; 20];
        assert_eq!(identify_pktap(&mut directory, &short), None);
    }

    #[test]
    fn directory_reads_process_blocks() {
        let processes = [
            Some(ProcessInfo {
                pid: 501,
                name: Some("Safari".to_owned()),
                path: Some("/Applications/Safari.app".to_owned()),
                uuid: None,
            }),
            Some(ProcessInfo {
                pid: 88,
                name: Some("nsurlsessiond".to_owned()),
                path: None,
                uuid: None,
            }),
        ];
        let options = process_options(1, 0);
        let mut directory = ProcessDirectory::default();
        let packet = packet(LinkType::NULL, &[], &options, &processes);
        assert_eq!(directory.identify(&packet), Some(0));
        let owner = directory.take_new().first().cloned();
        let fields = owner.map(|o| (o.pid, o.effective));
        assert_eq!(fields, Some((88, Some((501, Some("Safari".to_owned()))))));
    }

    #[test]
    fn directory_ignores_plain_packets() {
        let mut directory = ProcessDirectory::default();
        let packet = packet(LinkType::ETHERNET, &[0; 60], &[], &[]);
        assert_eq!(directory.identify(&packet), None);
    }
}
