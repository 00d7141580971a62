//! Packet captures as a source: packets → TCP streams → TLS events →
//! [`TlsSession`] observations.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::Path;

use wiretrust_pcap::{CaptureReader, Decoded, Transport, decode};
use wiretrust_quic::{QuicConnectionId, QuicEvent, QuicEventKind, QuicLimits, QuicTracker};
use wiretrust_tcp::{
    FlowEnd, FlowKey, FlowStats, FlowTable, Interest, Limits, Segment, SegmentMeta, Side,
    StreamHandler,
};
use wiretrust_tls::start::Preamble;
use wiretrust_tls::stream::{
    ConnectionDecoder, DecoderLimits, DecoderState, TlsEvent, TlsEventKind,
};

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
    /// UDP datagrams that did not carry QUIC.
    pub udp_not_quic: u64,
    /// QUIC Initial packets that did not decrypt (keys from a connection
    /// whose first Initial the capture lacks).
    pub quic_undecrypted: u64,
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
    /// QUIC connections whose Initial packets were followed.
    pub quic_connections: u64,
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
    quic: QuicTracker,
    quic_sessions: HashMap<QuicConnectionId, SessionBuilder>,
    quic_events: Vec<QuicEvent>,
    context: FlowContext,
    next_stream: u64,
    stats: CaptureStats,
}

impl CaptureScan {
    fn new(input_name: &str) -> Self {
        CaptureScan {
            input: input_name.to_owned(),
            table: FlowTable::new(Limits::default()),
            quic: QuicTracker::new(QuicLimits::default()),
            quic_sessions: HashMap::new(),
            quic_events: Vec::new(),
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
            Transport::Udp(udp) => {
                self.stats.udp_datagrams += 1;
                let src = SocketAddr::new(ip.src, udp.src_port);
                let dst = SocketAddr::new(ip.dst, udp.dst_port);
                let (packet, time) = (meta.packet, meta.timestamp_ns);
                let events = &mut self.quic_events;
                self.quic
                    .datagram(src, dst, udp.payload, packet, time, events);
                self.apply_quic_events();
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

    /// Turns the tracker's events into QUIC sessions, one builder per
    /// connection; a connection's end completes its session.
    fn apply_quic_events(&mut self) {
        for event in self.quic_events.drain(..) {
            let time = event.timestamp_ns;
            if matches!(event.kind, QuicEventKind::End) {
                if let Some(builder) = self.quic_sessions.remove(&event.connection) {
                    let sessions = builder.finish(FlowEndReason::EndOfInput, time);
                    self.context.completed.extend(sessions);
                }
                continue;
            }
            let Some(tls) = quic_tls_event(event.kind, event.packet) else {
                continue;
            };
            let builder = self
                .quic_sessions
                .entry(event.connection)
                .or_insert_with(|| {
                    let client = Endpoint {
                        ip: event.client.ip(),
                        port: event.client.port(),
                    };
                    let server = Endpoint {
                        ip: event.server.ip(),
                        port: event.server.port(),
                    };
                    self.stats.quic_connections += 1;
                    SessionBuilder::new_quic(&self.input, event.connection.0, client, server)
                });
            builder.apply(tls, time);
        }
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
        self.quic.finish(&mut self.quic_events);
        self.apply_quic_events();
        let mut open: Vec<_> = self.quic_sessions.drain().collect();
        open.sort_by_key(|(connection, _)| connection.0);
        for (_, builder) in open {
            let sessions = builder.finish(FlowEndReason::EndOfInput, 0);
            self.context.completed.extend(sessions);
        }
        self.drain(on_session);
        let flows: &FlowStats = self.table.stats();
        self.stats.flows = self.next_stream;
        self.stats.capture_gaps = flows.gaps;
        self.stats.capture_gap_bytes = flows.gap_bytes;
        self.stats.flows_evicted = flows.flows_evicted;
        self.stats.flows_not_tls = self.context.flows_not_tls;
        let quic = self.quic.stats();
        self.stats.udp_not_quic = quic.datagrams.saturating_sub(quic.datagrams_quic);
        self.stats.quic_undecrypted = quic.decryption_failures;
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

/// The TLS event a QUIC event stands for: a handshake message from a
/// CRYPTO frame, or the TLS alert that a CONNECTION_CLOSE carries when its
/// error code is in the crypto range (RFC 9001 section 4.8: 0x0100 plus
/// the alert number).
fn quic_tls_event(kind: QuicEventKind, packet: u64) -> Option<TlsEvent> {
    const FATAL: u8 = 2;
    let (from_initiator, kind) = match kind {
        QuicEventKind::Handshake {
            from_client,
            msg_type,
            body,
        } => (
            from_client,
            TlsEventKind::Handshake {
                msg_type,
                record_version: 0,
                body,
            },
        ),
        QuicEventKind::ConnectionClose {
            from_client,
            error_code,
            ..
        } => {
            let description = u8::try_from(error_code.checked_sub(0x0100)?).ok()?;
            (
                from_client,
                TlsEventKind::Alert {
                    level: FATAL,
                    description,
                },
            )
        }
        _ => return None,
    };
    Some(TlsEvent {
        from_initiator,
        packet,
        stream_offset: 0,
        kind,
    })
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
