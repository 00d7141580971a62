//! Packet captures as a source: packets → TCP streams → TLS events →
//! [`TlsSession`] observations.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;

use wiretrust_pcap::{CaptureReader, Decoded, Transport, decode};
use wiretrust_tcp::{
    FlowEnd, FlowKey, FlowStats, FlowTable, Interest, Limits, Segment, SegmentMeta, Side,
    StreamHandler,
};
use wiretrust_tls::start::Preamble;
use wiretrust_tls::stream::{ConnectionDecoder, DecoderLimits, DecoderState, TlsEvent};

use crate::observations::{Endpoint, FlowEndReason, SessionBuilder, TlsSession};

/// At most this many warnings are kept word for word per input; the rest
/// are counted.
const MAX_WARNINGS: usize = 20;

/// What reading one capture found, for the summary.
#[derive(Debug, Default)]
pub struct CaptureStats {
    pub bytes: u64,
    pub packets: u64,
    pub tcp_segments: u64,
    pub udp_datagrams: u64,
    pub non_ip_frames: u64,
    pub ip_fragments: u64,
    /// Packets the capture cut short (snapshot length).
    pub truncated_packets: u64,
    /// Frames that could not be decoded, by reason.
    pub undecodable: BTreeMap<String, u64>,
    /// Corrupt or unreadable parts of the file, word for word.
    pub read_errors: Vec<String>,
    pub read_errors_total: u64,
    /// The file could not be read to its end.
    pub incomplete: bool,
    pub flows: u64,
    pub capture_gaps: u64,
    pub capture_gap_bytes: u64,
    pub flows_evicted: u64,
    pub sessions: u64,
    /// Flows given up on because no TLS started within the scan limit.
    pub flows_not_tls: u64,
}

/// Why a capture could not be read at all.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct OpenCaptureError(pub String);

/// Reads one capture file and hands every completed TLS session to
/// `on_session`, roughly in order of completion.
///
/// `on_progress` receives the number of file bytes consumed so far.
pub fn read_capture(
    path: &Path,
    input_name: &str,
    on_session: &mut dyn FnMut(TlsSession),
    on_progress: &mut dyn FnMut(u64),
) -> Result<CaptureStats, OpenCaptureError> {
    let mut reader = CaptureReader::open(path).map_err(|err| OpenCaptureError(err.to_string()))?;
    let mut scan = CaptureScan::new(input_name);
    let mut last_progress = 0u64;
    while let Some(next) = reader.next_packet() {
        match next {
            Ok(packet) => {
                scan.stats.packets += 1;
                if packet.data.len() < packet.original_len as usize {
                    scan.stats.truncated_packets += 1;
                }
                let meta = SegmentMeta {
                    packet: packet.number,
                    timestamp_ns: packet.timestamp_ns,
                };
                scan.packet(packet.link_type, packet.data, meta);
                if packet.offset.saturating_sub(last_progress) > 4 << 20 {
                    last_progress = packet.offset;
                    on_progress(last_progress);
                }
            }
            Err(err) => {
                let fatal = err.fatal;
                scan.read_error(err.to_string());
                if fatal {
                    scan.stats.incomplete = true;
                    break;
                }
            }
        }
        scan.drain(on_session);
    }
    scan.finish(on_session);
    scan.stats.bytes = reader.stats().bytes_consumed;
    on_progress(scan.stats.bytes);
    Ok(scan.stats)
}

struct CaptureScan {
    input: String,
    table: FlowTable<TlsFlow>,
    context: FlowContext,
    next_stream: u64,
    stats: CaptureStats,
}

impl CaptureScan {
    fn new(input_name: &str) -> Self {
        CaptureScan {
            input: input_name.to_owned(),
            table: FlowTable::new(Limits::default()),
            context: FlowContext {
                events: Vec::new(),
                completed: Vec::new(),
                flows_not_tls: 0,
            },
            next_stream: 0,
            stats: CaptureStats::default(),
        }
    }

    fn packet(&mut self, link_type: wiretrust_pcap::LinkType, data: &[u8], meta: SegmentMeta) {
        let ip = match decode(link_type, data) {
            Ok(Decoded::Ip(ip)) => ip,
            Ok(Decoded::NonIp { .. }) => {
                self.stats.non_ip_frames += 1;
                return;
            }
            Err(err) => {
                *self.stats.undecodable.entry(err.to_string()).or_default() += 1;
                return;
            }
        };
        let tcp = match ip.transport {
            Transport::Tcp(tcp) => tcp,
            Transport::Udp(_) => {
                self.stats.udp_datagrams += 1;
                return;
            }
            Transport::Fragment => {
                self.stats.ip_fragments += 1;
                return;
            }
            Transport::Other => return,
        };
        self.stats.tcp_segments += 1;
        let segment = Segment {
            src: SocketAddr::new(ip.src, tcp.src_port),
            dst: SocketAddr::new(ip.dst, tcp.dst_port),
            seq: tcp.seq,
            ack: tcp.ack,
            flags: tcp.flags,
            payload: tcp.payload,
        };
        let input = &self.input;
        let next_stream = &mut self.next_stream;
        let new_flow = |key: &FlowKey, _meta: SegmentMeta| {
            let stream = *next_stream;
            *next_stream += 1;
            TlsFlow::new(input, stream, key)
        };
        self.table
            .segment(&segment, meta, &mut self.context, new_flow);
    }

    fn read_error(&mut self, message: String) {
        self.stats.read_errors_total += 1;
        if self.stats.read_errors.len() < MAX_WARNINGS {
            self.stats.read_errors.push(message);
        }
    }

    fn drain(&mut self, on_session: &mut dyn FnMut(TlsSession)) {
        for session in self.context.completed.drain(..) {
            self.stats.sessions += 1;
            on_session(session);
        }
    }

    fn finish(&mut self, on_session: &mut dyn FnMut(TlsSession)) {
        self.table.finish(&mut self.context);
        self.drain(on_session);
        let flows: &FlowStats = self.table.stats();
        self.stats.flows = self.next_stream;
        self.stats.capture_gaps = flows.gaps;
        self.stats.capture_gap_bytes = flows.gap_bytes;
        self.stats.flows_evicted = flows.flows_evicted;
        self.stats.flows_not_tls = self.context.flows_not_tls;
    }
}

/// State shared by all flows of one capture.
struct FlowContext {
    /// Scratch space for the events of one segment, reused.
    events: Vec<TlsEvent>,
    completed: Vec<TlsSession>,
    flows_not_tls: u64,
}

/// One TCP connection: its TLS decoder and the sessions built from it.
struct TlsFlow {
    decoder: ConnectionDecoder,
    builder: SessionBuilder,
    gave_up: bool,
}

impl TlsFlow {
    fn new(input: &str, stream: u64, key: &FlowKey) -> Self {
        let initiator = Endpoint {
            ip: key.client.ip(),
            port: key.client.port(),
        };
        let responder = Endpoint {
            ip: key.server.ip(),
            port: key.server.port(),
        };
        TlsFlow {
            decoder: ConnectionDecoder::new(DecoderLimits::default()),
            builder: SessionBuilder::new(input, stream, initiator, responder),
            gave_up: false,
        }
    }

    fn apply_events(&mut self, context: &mut FlowContext, timestamp_ns: i64) {
        if let Some(client_is_initiator) = self.decoder.client_is_initiator() {
            self.builder.set_client_is_initiator(client_is_initiator);
        }
        for event in context.events.drain(..) {
            self.builder.apply(event, timestamp_ns);
        }
    }

    fn end_reason(&self, end: FlowEnd) -> FlowEndReason {
        let client_is_initiator = self.decoder.client_is_initiator().unwrap_or(true);
        match end {
            FlowEnd::Closed => FlowEndReason::Closed,
            FlowEnd::Reset { by } => {
                if (by == Side::Client) == client_is_initiator {
                    FlowEndReason::ResetByClient
                } else {
                    FlowEndReason::ResetByServer
                }
            }
            FlowEnd::IdleTimeout => FlowEndReason::IdleTimeout,
            FlowEnd::Evicted => FlowEndReason::Evicted,
            FlowEnd::EndOfInput => FlowEndReason::EndOfInput,
            FlowEnd::PortReused => FlowEndReason::PortReused,
        }
    }
}

impl StreamHandler for TlsFlow {
    type Context = FlowContext;

    fn on_data(
        &mut self,
        context: &mut FlowContext,
        side: Side,
        data: &[u8],
        meta: SegmentMeta,
    ) -> Interest {
        context.events.clear();
        let state = self
            .decoder
            .feed(side == Side::Client, data, meta.packet, &mut context.events);
        self.apply_events(context, meta.timestamp_ns);
        if state == DecoderState::NotTls && !self.builder.has_sessions() {
            if !self.gave_up {
                self.gave_up = true;
                context.flows_not_tls += 1;
            }
            return Interest::Ignore;
        }
        Interest::Continue
    }

    fn on_gap(&mut self, context: &mut FlowContext, side: Side, missing: u64, meta: SegmentMeta) {
        context.events.clear();
        self.decoder.gap(
            side == Side::Client,
            missing,
            meta.packet,
            &mut context.events,
        );
        self.apply_events(context, meta.timestamp_ns);
        self.builder
            .gap(side == Side::Client, missing, meta.timestamp_ns);
    }

    fn on_end(self, context: &mut FlowContext, _key: &FlowKey, end: FlowEnd, meta: SegmentMeta) {
        let reason = self.end_reason(end);
        let preamble = self.decoder.preamble().map(preamble_name);
        let mut sessions = self.builder.finish(reason, meta.timestamp_ns);
        for session in &mut sessions {
            session.preamble = preamble.map(str::to_owned);
        }
        context.completed.extend(sessions);
    }
}

/// The name the observation record uses for a plaintext preamble.
fn preamble_name(preamble: Preamble) -> &'static str {
    match preamble {
        Preamble::Smtp => "smtp",
        Preamble::Imap => "imap",
        Preamble::Pop3 => "pop3",
        Preamble::Ftp => "ftp",
        Preamble::Xmpp => "xmpp",
        Preamble::Irc => "irc",
        Preamble::Ldap => "ldap",
        Preamble::Nntp => "nntp",
        Preamble::HttpConnect => "http-connect",
        Preamble::Socks4 => "socks4",
        Preamble::Socks5 => "socks5",
        Preamble::MySql => "mysql",
        Preamble::Postgres => "postgres",
        Preamble::Unknown => "unknown",
    }
}
