//! The flow state of one capture: TCP streams and QUIC Initial packets
//! turned into [`TlsSession`] observations, and plaintext TCP streams
//! handed to the analysers of [`super::plaintext`].
//!
//! [`Flows`] is fed decoded segments and datagrams in packet order. The
//! single-threaded reader owns one; the partitioned reader gives each
//! worker one for the flows that hash to it. Either way the caller takes,
//! after each packet, the sessions that packet completed together with the
//! flows it opened and ended, so that several workers' results can be put
//! back into the order one table would have produced.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;

use wiretrust_http::BodyHashing;
use wiretrust_quic::{QuicConnectionId, QuicEvent, QuicEventKind, QuicLimits, QuicTracker};
use wiretrust_tcp::{
    FlowEnd, FlowKey, FlowTable, Interest, Limits, Segment, SegmentMeta, Side, StreamHandler,
};
use wiretrust_tls::stream::{
    ConnectionDecoder, DecoderLimits, DecoderState, TlsEvent, TlsEventKind,
};

use super::capture_stats::{CaptureStats, HttpWarnings};
use super::packet_owner::PacketOwner;
use super::plaintext::{Output, Plaintext};
use super::starttls::preamble_name;
use crate::observations::{
    CertificateCache, Endpoint, FlowEndReason, HttpTransfer, ProcessInfo, Sender, SessionBuilder,
    StarttlsDialogue, TlsSession,
};

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
    /// HTTP transfers completed, in the order their responses ended.
    pub transfers: Vec<HttpTransfer>,
    /// STARTTLS dialogues of the TCP flows that ended.
    pub dialogues: Vec<StarttlsDialogue>,
}

impl Changes {
    /// True when nothing changed.
    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty()
            && self.transfers.is_empty()
            && self.dialogues.is_empty()
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
        self.transfers.clear();
        self.dialogues.clear();
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

/// Puts the transfers completed by one packet in flow order, keeping each
/// flow's transfers in response order, for the reason given at
/// [`sort_completed`].
pub(crate) fn sort_transfers(transfers: &mut [HttpTransfer]) {
    if transfers.len() > 1 {
        transfers.sort_by_key(|transfer| transfer.stream);
    }
}

/// Puts the dialogues of the flows one packet ended in flow order, for the
/// reason given at [`sort_completed`].
pub(crate) fn sort_dialogues(dialogues: &mut [StarttlsDialogue]) {
    if dialogues.len() > 1 {
        dialogues.sort_by_key(|dialogue| dialogue.stream);
    }
}

/// TCP and QUIC flow state of one capture.
///
/// Sessions of flows ended by the idle timeout are held back until the
/// capture clock passes two idle timeouts after the flow's last segment,
/// and handed on with the packet that moves the clock past it. The flow
/// table checks idle flows lazily, in an order that depends on the other
/// flows it holds, so the packet that ends an idle flow differs between
/// one table and a table split over workers. It is never later than that
/// deadline, though (unless the table is full and evicts), so the held
/// sessions come out at the same packet either way.
pub(crate) struct Flows {
    /// The capture's name, shared by every session builder.
    input: Arc<str>,
    table: FlowTable<TlsFlow>,
    quic: QuicTracker,
    quic_sessions: HashMap<QuicConnectionId, SessionBuilder>,
    quic_events: Vec<QuicEvent>,
    context: FlowContext,
    next_stream: u64,
    /// The tracker's count of opened connections when last looked at.
    quic_opened_seen: u64,
    quic_connections: u64,
    /// The flow table's clock: the latest TCP timestamp seen.
    clock: i64,
    /// Sender and process number of the UDP datagram being handled.
    datagram_process: Option<(SocketAddr, u32)>,
}

impl Flows {
    /// Creates empty state for the capture called `input`, whose plain
    /// HTTP bodies are hashed as `body_hashing` selects.
    pub fn new(input: &str, body_hashing: BodyHashing) -> Self {
        let limits = Limits::default();
        let mut context = FlowContext {
            body_hashing,
            ..FlowContext::default()
        };
        context.idle.timeout = limits.idle_timeout_ns;
        Flows {
            input: Arc::from(input),
            table: FlowTable::new(limits),
            quic: QuicTracker::new(QuicLimits::default()),
            quic_sessions: HashMap::new(),
            quic_events: Vec::new(),
            context,
            clock: i64::MIN,
            next_stream: 0,
            quic_opened_seen: 0,
            quic_connections: 0,
            datagram_process: None,
        }
    }

    /// Gives the next process number to `owner`; numbers count from 0.
    pub fn define_process(&mut self, owner: PacketOwner) {
        self.context.processes.owners.push(owner);
    }

    /// Feeds one TCP segment; `process` is the number of the process that
    /// the packet names (see [`Flows::define_process`]).
    pub fn tcp(&mut self, segment: &Segment<'_>, meta: SegmentMeta, process: Option<u32>) {
        let input = &self.input;
        let before = self.next_stream;
        let next_stream = &mut self.next_stream;
        let new_flow = |key: &FlowKey, _meta: SegmentMeta| {
            let stream = *next_stream;
            *next_stream = next_stream.wrapping_add(1);
            TlsFlow::new(input, stream, key)
        };
        let idle = &mut self.context.idle;
        idle.note_segment(meta, self.clock);
        self.clock = self.clock.max(meta.timestamp_ns);
        idle.forget_before(self.clock);
        self.table
            .segment(segment, meta, &mut self.context, new_flow);
        if let Some(process) = process {
            self.note_tcp_process(segment, process);
        }
        let opened = self.next_stream.wrapping_sub(before);
        let changes = &mut self.context.changes;
        changes.tcp_opened = changes.tcp_opened.saturating_add(opened);
        self.context
            .idle
            .release(self.clock, &mut self.context.changes);
    }

    /// Notes the process of a segment of a flow that is still open after
    /// it. Noting after the table has seen the segment keeps a SYN that
    /// reuses a four-tuple from naming the process of the flow it ends.
    fn note_tcp_process(&mut self, segment: &Segment<'_>, process: u32) {
        let key = FlowKey {
            client: segment.src,
            server: segment.dst,
        };
        if self.table.flow_counters(&key).is_none() {
            return;
        }
        let flow = canonical(segment.src, segment.dst);
        let notes = self.context.processes.tcp.entry(flow).or_default();
        notes.note(segment.src, process);
    }

    /// Feeds one UDP datagram's payload; an empty payload only moves the
    /// tracker's clock to `meta`'s time. `process` is as for [`Flows::tcp`].
    pub fn udp(
        &mut self,
        src: SocketAddr,
        dst: SocketAddr,
        payload: &[u8],
        meta: SegmentMeta,
        process: Option<u32>,
    ) {
        self.datagram_process = process.map(|process| (src, process));
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
        self.context
            .idle
            .release(i64::MAX, &mut self.context.changes);
        self.quic.finish(&mut self.quic_events);
        self.datagram_process = None;
        self.apply_quic_events();
        let mut open: Vec<_> = self.quic_sessions.drain().collect();
        open.sort_by_key(|(connection, _)| connection.0);
        for (connection, builder) in open {
            let mut sessions = builder.finish(FlowEndReason::EndOfInput, 0);
            let notes = self.context.processes.quic.remove(&connection);
            self.context.processes.attach(&mut sessions, notes);
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
        self.context.http_warnings.add_to(stats);
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
                let notes = self.context.processes.quic.remove(&event.connection);
                if let Some(builder) = self.quic_sessions.remove(&event.connection) {
                    let mut sessions = builder.finish(FlowEndReason::EndOfInput, time);
                    self.context.processes.attach(&mut sessions, notes);
                    self.context.changes.sessions.extend(sessions);
                }
                continue;
            }
            if let Some((sender, process)) = self.datagram_process {
                let notes = self.context.processes.quic.entry(event.connection);
                notes.or_default().note(sender, process);
            }
            let Some(tls) = quic_tls_event(event.kind, event.packet) else {
                continue;
            };
            let certificates = &mut self.context.certificates;
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
                    let input = Arc::clone(&self.input);
                    SessionBuilder::new_quic(input, event.connection.0, client, server)
                });
            builder.apply_cached(tls, time, certificates);
        }
    }
}

/// State shared by all flows of one capture.
#[derive(Default)]
struct FlowContext {
    /// Scratch space for the events of one segment, reused.
    events: Vec<TlsEvent>,
    changes: Changes,
    idle: IdleHold,
    /// Summaries of the certificates seen so far in this capture (per
    /// worker when split), so recurring certificates are parsed once.
    certificates: CertificateCache,
    flows_not_tls: u64,
    /// Recoverable HTTP parse problems.
    http_warnings: HttpWarnings,
    processes: ProcessNotes,
    /// Selection of the plain HTTP bodies that get an MD5 hash.
    body_hashing: BodyHashing,
}

/// The processes that packets named, per open TCP flow and QUIC connection.
#[derive(Default)]
struct ProcessNotes {
    /// Processes by number, as [`Flows::define_process`] gave them.
    owners: Vec<PacketOwner>,
    /// TCP flows by their endpoints, lower address first. Every flow's end
    /// looks its key up, and the capture chooses the keys, so the hasher is
    /// fast and randomly seeded.
    tcp: HashMap<(SocketAddr, SocketAddr), SenderProcesses, foldhash::fast::RandomState>,
    quic: HashMap<QuicConnectionId, SenderProcesses>,
}

/// For each address that sent packets of one flow, the process numbers its
/// packets named, first named first.
#[derive(Default)]
struct SenderProcesses {
    senders: Vec<(SocketAddr, Vec<u32>)>,
}

/// Addresses kept per flow: the two ends of a TCP connection, plus room
/// for QUIC connection migration.
const MAX_SENDERS: usize = 4;

impl SenderProcesses {
    fn note(&mut self, sender: SocketAddr, process: u32) {
        let index = match self.senders.iter().position(|(addr, _)| *addr == sender) {
            Some(index) => index,
            None if self.senders.len() < MAX_SENDERS => {
                self.senders.push((sender, Vec::new()));
                self.senders.len() - 1
            }
            None => return,
        };
        let Some((_, processes)) = self.senders.get_mut(index) else {
            return;
        };
        if !processes.contains(&process) && processes.len() <= ProcessInfo::MAX_OTHER_PIDS {
            processes.push(process);
        }
    }
}

impl ProcessNotes {
    /// Sets the process of each session from the notes of its flow.
    fn attach(&self, sessions: &mut [TlsSession], notes: Option<SenderProcesses>) {
        let Some(notes) = notes else {
            return;
        };
        for session in sessions {
            let client = SocketAddr::new(session.client.ip, session.client.port);
            session.process = self.resolve(&notes, client);
        }
    }

    /// Returns the process that the client's first noted packet named. When
    /// none of the client's packets named one, the server side's first
    /// process is returned instead. Other pids of the same side are listed
    /// as disagreements.
    fn resolve(&self, notes: &SenderProcesses, client: SocketAddr) -> Option<ProcessInfo> {
        let from_client = notes.senders.iter().find(|(addr, _)| *addr == client);
        let (side, processes) = match from_client {
            Some((_, processes)) => (Sender::Client, processes),
            None => (Sender::Server, &notes.senders.first()?.1),
        };
        let (first, others) = processes.split_first()?;
        let owner = self.owners.get(*first as usize)?;
        let mut other_pids = Vec::new();
        for other in others.iter().filter_map(|n| self.owners.get(*n as usize)) {
            if other.pid != owner.pid && !other_pids.contains(&other.pid) {
                other_pids.push(other.pid);
            }
        }
        let (effective_pid, effective_name) = match &owner.effective {
            Some((pid, name)) => (Some(*pid), name.clone()),
            None => (None, None),
        };
        Some(ProcessInfo {
            pid: owner.pid,
            name: owner.name.clone(),
            path: owner.path.clone(),
            uuid: owner.uuid.map(|bytes| format_uuid(&bytes)),
            effective_pid,
            effective_name,
            side,
            other_pids,
        })
    }
}

/// Formats 16 bytes as a lower-case 8-4-4-4-12 UUID.
fn format_uuid(bytes: &[u8; 16]) -> String {
    let mut text = String::with_capacity(36);
    for (index, byte) in bytes.iter().enumerate() {
        if matches!(index, 4 | 6 | 8 | 10) {
            text.push('-');
        }
        text.push_str(&format!("{byte:02x}"));
    }
    text
}

/// Orders the two ends of a flow so both directions give the same key.
fn canonical(a: SocketAddr, b: SocketAddr) -> (SocketAddr, SocketAddr) {
    if a <= b { (a, b) } else { (b, a) }
}

/// Sessions of idle-ended flows, held until their deadline (see [`Flows`]).
#[derive(Default)]
struct IdleHold {
    /// Held sessions by deadline, in nanoseconds of capture time.
    held: BinaryHeap<Reverse<Held>>,
    /// Insertions so far, to order equal deadlines.
    sequence: u64,
    /// TCP packets stamped earlier than the table clock when they arrived,
    /// with that clock, in packet order. The table dates a flow's last
    /// activity by its clock, which for these packets is not their own
    /// timestamp.
    behind: VecDeque<(u64, i64)>,
    /// The flow table's idle timeout, in nanoseconds.
    timeout: i64,
}

/// The sessions of one idle-ended flow.
struct Held {
    deadline: i64,
    sequence: u64,
    stream: u64,
    sessions: Vec<TlsSession>,
    transfers: Vec<HttpTransfer>,
    dialogues: Vec<StarttlsDialogue>,
}

impl PartialEq for Held {
    fn eq(&self, other: &Self) -> bool {
        (self.deadline, self.sequence) == (other.deadline, other.sequence)
    }
}
impl Eq for Held {}
impl PartialOrd for Held {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Held {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.deadline, self.sequence).cmp(&(other.deadline, other.sequence))
    }
}

impl IdleHold {
    /// Remembers a segment stamped before the table clock `clock`.
    fn note_segment(&mut self, meta: SegmentMeta, clock: i64) {
        if meta.timestamp_ns < clock {
            self.behind.push_back((meta.packet, clock));
        }
    }

    /// Forgets late packets so old that any flow they were last seen on has
    /// already ended: two idle timeouts have passed since.
    fn forget_before(&mut self, clock: i64) {
        while let Some(&(_, then)) = self.behind.front() {
            if then.saturating_add(self.timeout.saturating_mul(2)) >= clock {
                return;
            }
            self.behind.pop_front();
        }
    }

    /// The table clock when packet `meta` arrived.
    fn clock_at(&self, meta: SegmentMeta) -> i64 {
        let found = self
            .behind
            .binary_search_by_key(&meta.packet, |&(packet, _)| packet);
        match found.ok().and_then(|i| self.behind.get(i)) {
            Some(&(_, clock)) => clock,
            None => meta.timestamp_ns,
        }
    }

    /// Holds the sessions of flow `stream`, last active at `last`, until
    /// two idle timeouts after it.
    fn hold(
        &mut self,
        stream: u64,
        last: SegmentMeta,
        sessions: Vec<TlsSession>,
        transfers: Vec<HttpTransfer>,
        dialogues: Vec<StarttlsDialogue>,
    ) {
        let deadline = self
            .clock_at(last)
            .saturating_add(self.timeout.saturating_mul(2));
        self.sequence = self.sequence.wrapping_add(1);
        self.held.push(Reverse(Held {
            deadline,
            sequence: self.sequence,
            stream,
            sessions,
            transfers,
            dialogues,
        }));
    }

    /// Hands on the sessions whose deadline is before `clock`.
    fn release(&mut self, clock: i64, changes: &mut Changes) {
        while self
            .held
            .peek()
            .is_some_and(|Reverse(held)| held.deadline < clock)
        {
            let Some(Reverse(held)) = self.held.pop() else {
                return;
            };
            changes.tcp_ended.push(held.stream);
            changes.sessions.extend(held.sessions);
            changes.transfers.extend(held.transfers);
            changes.dialogues.extend(held.dialogues);
        }
    }
}

/// One TCP connection: its TLS decoder and the sessions built from it,
/// and the plaintext analyser its first octets chose, if any.
struct TlsFlow {
    stream: u64,
    decoder: ConnectionDecoder,
    builder: SessionBuilder,
    gave_up: bool,
    input: Arc<str>,
    key: FlowKey,
    /// True once a side has sent octets, which chose `plaintext`.
    chosen: bool,
    plaintext: Option<Plaintext>,
}

impl TlsFlow {
    fn new(input: &Arc<str>, stream: u64, key: &FlowKey) -> Self {
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
            builder: SessionBuilder::new(Arc::clone(input), stream, initiator, responder),
            gave_up: false,
            input: Arc::clone(input),
            key: *key,
            chosen: false,
            plaintext: None,
        }
    }

    fn apply_events(&mut self, context: &mut FlowContext, timestamp_ns: i64) {
        if let Some(client_is_initiator) = self.decoder.client_is_initiator() {
            self.builder.set_client_is_initiator(client_is_initiator);
        }
        for event in context.events.drain(..) {
            self.builder
                .apply_cached(event, timestamp_ns, &mut context.certificates);
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
        if !self.chosen && !data.is_empty() {
            self.chosen = true;
            let (input, stream, hashing) = (&self.input, self.stream, context.body_hashing);
            self.plaintext = Plaintext::choose(input, stream, &self.key, side, data, hashing);
        }
        if let Some(plaintext) = &mut self.plaintext {
            plaintext.data(
                side,
                data,
                meta,
                Output {
                    transfers: &mut context.changes.transfers,
                    dialogues: &mut context.changes.dialogues,
                    warnings: &mut context.http_warnings,
                },
            );
            if plaintext.is_abandoned() {
                self.plaintext = None;
            }
        }
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
            if self.plaintext.as_ref().is_some_and(Plaintext::wants_data) {
                return Interest::Continue;
            }
            return Interest::Ignore;
        }
        Interest::Continue
    }

    fn on_fin(&mut self, context: &mut FlowContext, side: Side, meta: SegmentMeta) {
        if let Some(plaintext) = &mut self.plaintext {
            plaintext.fin(
                side,
                meta,
                Output {
                    transfers: &mut context.changes.transfers,
                    dialogues: &mut context.changes.dialogues,
                    warnings: &mut context.http_warnings,
                },
            );
        }
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
        if let Some(plaintext) = &mut self.plaintext {
            plaintext.gap(
                side,
                missing,
                meta,
                Output {
                    transfers: &mut context.changes.transfers,
                    dialogues: &mut context.changes.dialogues,
                    warnings: &mut context.http_warnings,
                },
            );
        }
    }

    fn on_end(self, context: &mut FlowContext, key: &FlowKey, end: FlowEnd, meta: SegmentMeta) {
        let reason = self.end_reason(end);
        let mut transfers = Vec::new();
        let mut dialogues = Vec::new();
        if let Some(plaintext) = self.plaintext {
            let out = Output {
                transfers: &mut transfers,
                dialogues: &mut dialogues,
                warnings: &mut context.http_warnings,
            };
            plaintext.end(end, meta, out);
        }
        let preamble = self.decoder.preamble().map(preamble_name);
        let mut sessions = self.builder.finish(reason, meta.timestamp_ns);
        for session in &mut sessions {
            session.preamble = preamble.map(str::to_owned);
        }
        let notes = context
            .processes
            .tcp
            .remove(&canonical(key.client, key.server));
        context.processes.attach(&mut sessions, notes);
        if matches!(end, FlowEnd::IdleTimeout) {
            // `meta` is the flow's last segment.
            context
                .idle
                .hold(self.stream, meta, sessions, transfers, dialogues);
            return;
        }
        context.changes.tcp_ended.push(self.stream);
        context.changes.sessions.extend(sessions);
        context.changes.transfers.extend(transfers);
        context.changes.dialogues.extend(dialogues);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(packet: u64, timestamp_ns: i64) -> SegmentMeta {
        SegmentMeta {
            packet,
            timestamp_ns,
        }
    }

    fn hold_with_timeout(timeout: i64) -> IdleHold {
        IdleHold {
            timeout,
            ..IdleHold::default()
        }
    }

    #[test]
    fn idle_hold_waits_for_deadline() {
        let mut idle = hold_with_timeout(100);
        let mut changes = Changes::default();
        idle.hold(3, meta(10, 1_000), Vec::new(), Vec::new(), Vec::new());
        idle.release(1_200, &mut changes);
        assert!(changes.tcp_ended.is_empty());
    }

    #[test]
    fn idle_hold_releases_past_deadline() {
        let mut idle = hold_with_timeout(100);
        let mut changes = Changes::default();
        idle.hold(3, meta(10, 1_000), Vec::new(), Vec::new(), Vec::new());
        idle.release(1_201, &mut changes);
        assert_eq!(changes.tcp_ended, vec![3]);
    }

    #[test]
    fn idle_hold_dates_late_packet_by_clock() {
        let mut idle = hold_with_timeout(100);
        let mut changes = Changes::default();
        idle.note_segment(meta(5, 500), 900);
        idle.hold(1, meta(5, 500), Vec::new(), Vec::new(), Vec::new());
        idle.release(1_100, &mut changes);
        assert!(changes.tcp_ended.is_empty());
    }

    #[test]
    fn idle_hold_forgets_old_late_packets() {
        let mut idle = hold_with_timeout(100);
        idle.note_segment(meta(5, 500), 900);
        idle.forget_before(1_101);
        assert!(idle.behind.is_empty());
    }

    #[test]
    fn idle_hold_keeps_recent_late_packets() {
        let mut idle = hold_with_timeout(100);
        idle.note_segment(meta(5, 500), 900);
        idle.forget_before(1_100);
        assert_eq!(idle.behind.len(), 1);
    }

    fn owner(pid: u32, name: &str) -> PacketOwner {
        PacketOwner {
            pid,
            name: Some(name.to_owned()),
            path: None,
            uuid: None,
            effective: None,
        }
    }

    fn notes_with(owners: Vec<PacketOwner>) -> ProcessNotes {
        ProcessNotes {
            owners,
            ..ProcessNotes::default()
        }
    }

    fn addr(port: u16) -> SocketAddr {
        SocketAddr::from(([192, 0, 2, 1], port))
    }

    #[test]
    fn process_first_client_packet_wins() {
        let notes = notes_with(vec![
            owner(10, "curl"),
            owner(20, "server"),
            owner(30, "other"),
        ]);
        let mut flow = SenderProcesses::default();
        flow.note(addr(443), 1);
        flow.note(addr(50000), 0);
        flow.note(addr(50000), 2);
        flow.note(addr(50000), 0);
        let process = notes.resolve(&flow, addr(50000));
        let fields = process.map(|p| (p.pid, p.side, p.other_pids));
        assert_eq!(fields, Some((10, Sender::Client, vec![30])));
    }

    #[test]
    fn process_from_server_side_when_client_silent() {
        let notes = notes_with(vec![owner(20, "nginx")]);
        let mut flow = SenderProcesses::default();
        flow.note(addr(443), 0);
        let process = notes.resolve(&flow, addr(50000));
        let fields = process.map(|p| (p.pid, p.side));
        assert_eq!(fields, Some((20, Sender::Server)));
    }

    #[test]
    fn process_effective_and_uuid() {
        let mut daemon = owner(88, "nsurlsessiond");
        daemon.effective = Some((501, Some("Safari".to_owned())));
        daemon.uuid = Some([0xab; 16]);
        let notes = notes_with(vec![daemon]);
        let mut flow = SenderProcesses::default();
        flow.note(addr(50000), 0);
        let process = notes.resolve(&flow, addr(50000));
        let effective = process
            .as_ref()
            .map(|p| (p.effective_pid, p.effective_name.clone()));
        assert_eq!(effective, Some((Some(501), Some("Safari".to_owned()))));
        let uuid = process.and_then(|p| p.uuid);
        let expected = "abababab-abab-abab-abab-abababababab";
        assert_eq!(uuid.as_deref(), Some(expected));
    }

    #[test]
    fn process_notes_bounded() {
        let mut flow = SenderProcesses::default();
        for number in 0..100 {
            flow.note(addr(50000), number);
            flow.note(addr(1000 + number as u16), number);
        }
        assert_eq!(flow.senders.len(), MAX_SENDERS);
        let first = flow.senders.first().map(|(_, numbers)| numbers.len());
        assert_eq!(first, Some(ProcessInfo::MAX_OTHER_PIDS + 1));
    }

    #[test]
    fn canonical_key_either_direction() {
        assert_eq!(canonical(addr(1), addr(2)), canonical(addr(2), addr(1)));
    }

    #[test]
    fn changes_clear_empties_all() {
        let mut changes = Changes {
            tcp_opened: 2,
            quic_ended: vec![1],
            ..Changes::default()
        };
        changes.clear();
        assert!(changes.is_empty());
    }
}
