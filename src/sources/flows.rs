//! The flow state of one capture: TCP streams and QUIC Initial packets
//! turned into [`TlsSession`] observations.
//!
//! [`Flows`] is fed decoded segments and datagrams in packet order. The
//! single-threaded reader owns one; the partitioned reader gives each
//! worker one for the flows that hash to it. Either way the caller takes,
//! after each packet, the sessions that packet completed together with the
//! flows it opened and ended, so that several workers' results can be put
//! back into the order one table would have produced.

use std::collections::HashMap;
use std::net::SocketAddr;

use wiretrust_quic::{QuicConnectionId, QuicEvent, QuicEventKind, QuicLimits, QuicTracker};
use wiretrust_tcp::{
    FlowEnd, FlowKey, FlowTable, Interest, Limits, Segment, SegmentMeta, Side, StreamHandler,
};
use wiretrust_tls::start::Preamble;
use wiretrust_tls::stream::{
    ConnectionDecoder, DecoderLimits, DecoderState, TlsEvent, TlsEventKind,
};

use super::capture::CaptureStats;
use crate::observations::{Endpoint, FlowEndReason, SessionBuilder, TlsSession};

/// Changes made by handling one packet (or the end of the capture).
///
/// Flow and connection numbers here are the ones this [`Flows`] gave out:
/// TCP flows count from 0 and QUIC connections from 1, each in order of
/// opening.
#[derive(Debug, Default)]
pub(crate) struct Changes {
    /// Sessions completed, in the order their flows ended.
    pub sessions: Vec<TlsSession>,
    /// TCP flows opened.
    pub tcp_opened: u64,
    /// Numbers of the TCP flows that ended.
    pub tcp_ended: Vec<u64>,
    /// QUIC connections opened.
    pub quic_opened: u64,
    /// Numbers of the QUIC connections that ended.
    pub quic_ended: Vec<u64>,
}

impl Changes {
    /// True when nothing changed.
    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty()
            && self.tcp_opened == 0
            && self.tcp_ended.is_empty()
            && self.quic_opened == 0
            && self.quic_ended.is_empty()
    }

    /// Forgets everything, keeping the allocations.
    pub fn clear(&mut self) {
        self.sessions.clear();
        self.tcp_opened = 0;
        self.tcp_ended.clear();
        self.quic_opened = 0;
        self.quic_ended.clear();
    }
}

/// Puts the sessions completed by one packet into the order every reader
/// reports them in: TCP before QUIC, then by flow or connection number,
/// keeping each flow's sessions in handshake order (the sort is stable).
///
/// One flow table ends the flows of a packet in the order of its internal
/// queues, which a table split over several workers cannot reproduce. This
/// order depends only on which flows ended.
pub(crate) fn sort_completed(sessions: &mut [TlsSession]) {
    if sessions.len() > 1 {
        sessions.sort_by_key(|session| (session.transport == "quic", session.stream));
    }
}

/// TCP and QUIC flow state of one capture.
pub(crate) struct Flows {
    input: String,
    table: FlowTable<TlsFlow>,
    quic: QuicTracker,
    quic_sessions: HashMap<QuicConnectionId, SessionBuilder>,
    quic_events: Vec<QuicEvent>,
    context: FlowContext,
    next_stream: u64,
    /// The tracker's count of opened connections when last looked at.
    quic_opened_seen: u64,
    quic_connections: u64,
}

impl Flows {
    /// Creates empty state for the capture called `input`.
    pub fn new(input: &str) -> Self {
        Flows {
            input: input.to_owned(),
            table: FlowTable::new(Limits::default()),
            quic: QuicTracker::new(QuicLimits::default()),
            quic_sessions: HashMap::new(),
            quic_events: Vec::new(),
            context: FlowContext::default(),
            next_stream: 0,
            quic_opened_seen: 0,
            quic_connections: 0,
        }
    }

    /// Feeds one TCP segment.
    pub fn tcp(&mut self, segment: &Segment<'_>, meta: SegmentMeta) {
        let input = &self.input;
        let before = self.next_stream;
        let next_stream = &mut self.next_stream;
        let new_flow = |key: &FlowKey, _meta: SegmentMeta| {
            let stream = *next_stream;
            *next_stream = next_stream.wrapping_add(1);
            TlsFlow::new(input, stream, key)
        };
        self.table
            .segment(segment, meta, &mut self.context, new_flow);
        let opened = self.next_stream.wrapping_sub(before);
        let changes = &mut self.context.changes;
        changes.tcp_opened = changes.tcp_opened.saturating_add(opened);
    }

    /// Feeds one UDP datagram's payload; an empty payload only moves the
    /// tracker's clock to `meta`'s time.
    pub fn udp(&mut self, src: SocketAddr, dst: SocketAddr, payload: &[u8], meta: SegmentMeta) {
        let (packet, time) = (meta.packet, meta.timestamp_ns);
        let events = &mut self.quic_events;
        self.quic.datagram(src, dst, payload, packet, time, events);
        let opened = self.quic.stats().connections_opened;
        let new = opened.saturating_sub(self.quic_opened_seen);
        self.quic_opened_seen = opened;
        let changes = &mut self.context.changes;
        changes.quic_opened = changes.quic_opened.saturating_add(new);
        self.apply_quic_events();
    }

    /// Ends every flow and connection still open: TCP flows in order of
    /// opening, then QUIC connections.
    pub fn finish(&mut self) {
        self.table.finish(&mut self.context);
        self.quic.finish(&mut self.quic_events);
        self.apply_quic_events();
        let mut open: Vec<_> = self.quic_sessions.drain().collect();
        open.sort_by_key(|(connection, _)| connection.0);
        for (_, builder) in open {
            let sessions = builder.finish(FlowEndReason::EndOfInput, 0);
            self.context.changes.sessions.extend(sessions);
        }
    }

    /// The changes since the last call to [`Flows::changes_mut`]'s clear.
    pub fn changes_mut(&mut self) -> &mut Changes {
        &mut self.context.changes
    }

    /// Adds the flow counters to `stats`; `udp_ticks` empty datagrams
    /// that only moved the clock are left out of the UDP counts.
    pub fn add_stats(&self, stats: &mut CaptureStats, udp_ticks: u64) {
        let flows = self.table.stats();
        let add = |total: &mut u64, count: u64| *total = total.saturating_add(count);
        add(&mut stats.flows, self.next_stream);
        add(&mut stats.capture_gaps, flows.gaps);
        add(&mut stats.capture_gap_bytes, flows.gap_bytes);
        add(&mut stats.flows_evicted, flows.flows_evicted);
        add(&mut stats.flows_idle_timeout, flows.flows_idle_timeout);
        let limit_hits = flows
            .per_flow_limit_hits
            .saturating_add(flows.total_limit_hits);
        add(&mut stats.buffer_limit_hits, limit_hits);
        add(
            &mut stats.compare_windows_refused,
            flows.compare_windows_refused,
        );
        add(&mut stats.flows_not_tls, self.context.flows_not_tls);
        add(&mut stats.quic_connections, self.quic_connections);
        let quic = self.quic.stats();
        let datagrams = quic.datagrams.saturating_sub(udp_ticks);
        add(
            &mut stats.udp_not_quic,
            datagrams.saturating_sub(quic.datagrams_quic),
        );
        add(&mut stats.quic_undecrypted, quic.decryption_failures);
        add(
            &mut stats.quic_connections_evicted,
            quic.connections_evicted,
        );
        add(
            &mut stats.quic_crypto_bytes_dropped,
            quic.crypto_bytes_dropped,
        );
    }

    /// Turns the tracker's events into QUIC sessions, one builder per
    /// connection; a connection's end completes its session.
    fn apply_quic_events(&mut self) {
        for event in self.quic_events.drain(..) {
            let time = event.timestamp_ns;
            if matches!(event.kind, QuicEventKind::End) {
                self.context.changes.quic_ended.push(event.connection.0);
                if let Some(builder) = self.quic_sessions.remove(&event.connection) {
                    let sessions = builder.finish(FlowEndReason::EndOfInput, time);
                    self.context.changes.sessions.extend(sessions);
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
                    self.quic_connections = self.quic_connections.saturating_add(1);
                    SessionBuilder::new_quic(&self.input, event.connection.0, client, server)
                });
            builder.apply(tls, time);
        }
    }
}

/// State shared by all flows of one capture.
#[derive(Default)]
struct FlowContext {
    /// Scratch space for the events of one segment, reused.
    events: Vec<TlsEvent>,
    changes: Changes,
    flows_not_tls: u64,
}

/// One TCP connection: its TLS decoder and the sessions built from it.
struct TlsFlow {
    stream: u64,
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
            stream,
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
        context.changes.tcp_ended.push(self.stream);
        context.changes.sessions.extend(sessions);
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
