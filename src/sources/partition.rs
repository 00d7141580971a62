//! One capture read by several threads: a reader thread parses the file
//! and decodes packets, and worker threads each own the flows whose
//! addresses hash to them.
//!
//! The output is the same as [`super::capture::read_capture`]'s, session
//! for session and in the same order. Three things make it so:
//!
//! - Every worker follows the capture's clock. Flows end on timers (a reset
//!   flow drains for a second, an idle one times out) when the flow table
//!   sees a later packet of any flow. The reader therefore sends each
//!   worker a clock tick for every packet it does not own: for TCP when
//!   the capture's latest timestamp moves forward (the table's clock is
//!   the latest timestamp seen), for UDP on every datagram (the QUIC
//!   tracker uses each datagram's own time). A TCP tick is a segment
//!   without flags or payload on a four-tuple that hashes to another
//!   worker, so it can never belong to a flow of the worker it is fed to.
//! - Flow numbers are given out again. Each worker numbers its own flows;
//!   the merging thread sees every opening in packet order and maps each
//!   worker's numbers to the numbers one table would have given.
//! - Sessions are merged per packet. Workers report, for each packet that
//!   changed anything, the sessions it completed; the merging thread puts
//!   the reports of all workers for that packet together and sorts them as
//!   the single-threaded reader does: by transport, then flow number.
//!
//! Sessions of idle-ended flows are held to a deadline that does not depend
//! on the other flows (see `Flows` in the `flows` module).
//!
//! NOTE: each worker has the limits of a whole flow table. Results can
//! differ from the single-threaded reader's when a memory limit is reached
//! (flows evicted, buffer limit hits, refused retransmission checks, QUIC
//! CRYPTO bytes dropped: `--stats` counts each). They can also differ for
//! a flow that is silent for longer than the idle timeout (five minutes)
//! and then sends again: the flow table checks idle flows lazily, in an
//! order that depends on the other flows it contains, so one table may
//! still continue the flow where a worker has ended it.
//!
//! Packets travel in batches with their payload copied into one buffer
//! per batch; channels are bounded and batches are reused, so memory stays
//! bounded whatever the file size.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread;

use wiretrust_http::BodyHashing;
use wiretrust_pcap::CaptureReader;
use wiretrust_tcp::{Segment, SegmentMeta};

use super::capture::{OpenCaptureError, Unit, decode_unit, open_capture};
use super::capture_stats::{CaptureStats, HttpWarnings};
use super::flows::{Changes, Flows, sort_completed, sort_dialogues, sort_transfers};
use super::packet_owner::{PacketOwner, ProcessDirectory};
use super::timing::{Off, Phase, PhaseClock, PhaseTimes, Stopwatch, ThreadCpu};
use crate::observations::{FlowRecord, HttpTransfer, StarttlsDialogue, TlsSession};

/// A worker's batch is sent once its payload reaches this many bytes.
const BATCH_PAYLOAD_BYTES: usize = 256 << 10;

/// A worker's batch is sent once it contains this many records.
const BATCH_RECORDS: usize = 4096;

/// Batches queued towards each worker, and results queued from it.
const CHANNEL_DEPTH: usize = 4;

/// Packet number of the changes made by the end of the capture.
const END_OF_CAPTURE: u64 = u64::MAX;

/// The split of one capture over threads and the hashing of its flows.
#[derive(Clone, Copy, Debug)]
pub struct PartitionSettings {
    /// Worker threads owning the flow state; 0 counts as 1.
    pub workers: usize,
    /// Selection of the plain HTTP bodies that get an MD5 hash.
    pub body_hashing: BodyHashing,
}

/// Reads one capture with `settings.workers` threads owning the flow
/// state, plus a reader thread, and hands the sessions to `on_session` on
/// the calling thread in the order [`super::capture::read_capture`] would.
///
/// `on_progress` receives the number of file bytes consumed so far. When
/// `times` is given, the reader thread's time is added to [`Phase::Read`]
/// and the workers' to [`Phase::Reassembly`]. Merging on the calling
/// thread is charged to [`Phase::Reassembly`] on `clock`; the time spent
/// in `on_session` is charged to nothing.
pub fn read_capture_partitioned<S: Stopwatch>(
    path: &Path,
    input_name: &str,
    settings: PartitionSettings,
    on_session: &mut dyn FnMut(FlowRecord),
    on_progress: &mut dyn FnMut(u64),
    times: Option<&mut PhaseTimes>,
    clock: &mut S,
) -> Result<CaptureStats, OpenCaptureError> {
    let workers = settings.workers.max(1);
    let body_hashing = settings.body_hashing;
    let reader = open_capture(path)?;
    let timed = times.is_some();
    let (stats, spent) = thread::scope(|scope| {
        let (pool_tx, pool_rx) = sync_channel(workers.saturating_mul(2 * CHANNEL_DEPTH));
        let mut to_workers = Vec::with_capacity(workers);
        let mut from_workers = Vec::with_capacity(workers);
        let mut handles = Vec::with_capacity(workers);
        for index in 0..workers {
            let (batch_tx, batch_rx) = sync_channel::<Batch>(CHANNEL_DEPTH);
            let (result_tx, result_rx) = sync_channel::<Outcome>(CHANNEL_DEPTH);
            to_workers.push(batch_tx);
            from_workers.push(result_rx);
            let job = WorkerJob {
                input: input_name,
                body_hashing,
                tick: tick_key(index, workers),
                batches: batch_rx,
                results: result_tx,
                pool: pool_tx.clone(),
            };
            handles.push(scope.spawn(move || run_timed(timed, |clock| job.run(clock))));
        }
        let router = Router::new(to_workers, pool_rx);
        let reader = scope.spawn(move || run_timed(timed, |clock| router.run(reader, clock)));
        let mut merger = Merger::new(workers);
        merger.run(&from_workers, on_session, on_progress, clock);
        let (mut stats, mut spent) = join(reader);
        for handle in handles {
            let (worker_stats, worker_times) = join(handle);
            add_flow_stats(&mut stats, &worker_stats);
            spent.merge(&worker_times);
        }
        stats.sessions = merger.sessions;
        stats.http_transfers = merger.transfers;
        stats.starttls_dialogues = merger.dialogues;
        (stats, spent)
    });
    if let Some(times) = times {
        times.merge(&spent);
    }
    on_progress(stats.bytes);
    Ok(stats)
}

/// Waits for a thread and passes its panic on, if it had one.
fn join<T>(handle: thread::ScopedJoinHandle<'_, T>) -> T {
    handle
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// Runs `work` with a real clock when `timed`, else with [`Off`], and
/// returns its result with the times it measured.
fn run_timed<T>(timed: bool, work: impl FnOnce(&mut dyn Timed) -> T) -> (T, PhaseTimes) {
    let mut times = PhaseTimes::default();
    if timed {
        let cpu = ThreadCpu::start();
        let mut clock = PhaseClock::new();
        let result = work(&mut clock);
        cpu.stop(&clock, &mut times);
        (result, times)
    } else {
        (work(&mut Off), times)
    }
}

/// A [`Stopwatch`] usable behind `dyn`; laps are charged once per batch,
/// so the indirect call costs nothing measurable.
trait Timed {
    fn lap(&mut self, phase: Phase);
    fn restart(&mut self);
}

impl<S: Stopwatch> Timed for S {
    fn lap(&mut self, phase: Phase) {
        Stopwatch::lap(self, phase);
    }
    fn restart(&mut self) {
        Stopwatch::restart(self);
    }
}

/// Adds the counters that the workers keep to the reader's.
fn add_flow_stats(total: &mut CaptureStats, worker: &CaptureStats) {
    let pairs = [
        (&mut total.flows, worker.flows),
        (&mut total.capture_gaps, worker.capture_gaps),
        (&mut total.capture_gap_bytes, worker.capture_gap_bytes),
        (&mut total.flows_evicted, worker.flows_evicted),
        (&mut total.flows_idle_timeout, worker.flows_idle_timeout),
        (&mut total.buffer_limit_hits, worker.buffer_limit_hits),
        (
            &mut total.compare_windows_refused,
            worker.compare_windows_refused,
        ),
        (&mut total.flows_not_tls, worker.flows_not_tls),
        (&mut total.quic_connections, worker.quic_connections),
        (&mut total.udp_not_quic, worker.udp_not_quic),
        (&mut total.quic_undecrypted, worker.quic_undecrypted),
        (
            &mut total.quic_connections_evicted,
            worker.quic_connections_evicted,
        ),
        (
            &mut total.quic_crypto_bytes_dropped,
            worker.quic_crypto_bytes_dropped,
        ),
    ];
    for (sum, count) in pairs {
        *sum = sum.saturating_add(count);
    }
    let warnings = HttpWarnings {
        count: worker.http_warnings,
        examples: worker.http_warning_examples.clone(),
    };
    warnings.add_to(total);
}

/// Returns the worker that owns the flow between `a` and `b`, in either direction.
fn partition(a: SocketAddr, b: SocketAddr, workers: usize) -> usize {
    let (low, high) = if a <= b { (a, b) } else { (b, a) };
    let hash = mix(fold(low).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ fold(high));
    // Multiply-shift maps the 64-bit hash onto 0..workers using its high
    // bits, which the mix makes depend on every input bit.
    let scaled = (u128::from(hash) * workers as u128) >> 64;
    usize::try_from(scaled).unwrap_or(0)
}

/// Folds an address and port into 64 bits. Distinct IPv4 endpoints fold
/// to distinct values; IPv6 ones may collide, which only puts two flows on
/// the same worker.
fn fold(addr: SocketAddr) -> u64 {
    let port = u64::from(addr.port());
    match addr.ip() {
        IpAddr::V4(ip) => (u64::from(ip.to_bits()) << 16) | port,
        IpAddr::V6(ip) => {
            let bits = ip.to_bits();
            let folded = (bits >> 64) as u64 ^ mix(bits as u64);
            mix(folded ^ (port << 1 | 1))
        }
    }
}

/// The SplitMix64 finaliser: every output bit depends on every input bit.
/// It is fixed, so a capture is split the same way on every run.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Returns the four-tuple of worker `index`'s TCP clock ticks. It hashes
/// to another worker, so no flow of worker `index` can have it.
fn tick_key(index: usize, workers: usize) -> (SocketAddr, SocketAddr) {
    let unspecified = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
    let key = |port| {
        (
            SocketAddr::new(unspecified, 0),
            SocketAddr::new(unspecified, port),
        )
    };
    (1..=u16::MAX)
        .map(key)
        .find(|(a, b)| partition(*a, *b, workers) != index)
        // Only with one worker does every key hash to it, and then no
        // tick is ever sent.
        .unwrap_or_else(|| key(0))
}

/// Kind of one record of a batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// A TCP segment of a flow this worker owns.
    Tcp,
    /// A UDP datagram of addresses this worker owns.
    Udp,
    /// The TCP clock moved forward on another worker's segment.
    TcpTick,
    /// Another worker's UDP datagram: its time moves the QUIC clock.
    UdpTick,
}

/// One packet for one worker. The payload lives in the batch's buffer.
#[derive(Clone, Copy, Debug)]
struct Record {
    kind: Kind,
    meta: SegmentMeta,
    src: SocketAddr,
    dst: SocketAddr,
    seq: u32,
    ack: u32,
    flags: u8,
    /// Number of the process the packet names; always `None` for ticks.
    process: Option<u32>,
    /// Start of the payload in [`Batch::payload`].
    start: usize,
    /// Payload length in bytes.
    len: usize,
}

/// Packets for one worker, with their payloads copied into one buffer.
#[derive(Debug, Default)]
struct Batch {
    records: Vec<Record>,
    payload: Vec<u8>,
    /// Processes numbered while the batch filled, in number order. Every
    /// worker gets them all, before the records that may name them.
    owners: Vec<PacketOwner>,
    /// File bytes consumed when the batch was sent.
    offset: u64,
}

impl Batch {
    fn push(&mut self, kind: Kind, meta: SegmentMeta, unit: &Unit<'_>, process: Option<u32>) {
        let (src, dst, seq, ack, flags, payload) = match unit {
            Unit::Tcp(seg) => (seg.src, seg.dst, seg.seq, seg.ack, seg.flags, seg.payload),
            Unit::Udp { src, dst, payload } => (*src, *dst, 0, 0, 0, *payload),
        };
        let (payload, process) = match kind {
            Kind::Tcp | Kind::Udp => (payload, process),
            Kind::TcpTick | Kind::UdpTick => (&[][..], None),
        };
        let start = self.payload.len();
        self.payload.extend_from_slice(payload);
        self.records.push(Record {
            kind,
            meta,
            src,
            dst,
            seq,
            ack,
            flags,
            process,
            start,
            len: payload.len(),
        });
    }

    fn is_full(&self) -> bool {
        self.payload.len() >= BATCH_PAYLOAD_BYTES || self.records.len() >= BATCH_RECORDS
    }

    fn clear(&mut self) {
        self.records.clear();
        self.payload.clear();
        self.owners.clear();
        self.offset = 0;
    }

    fn payload(&self, record: &Record) -> &[u8] {
        let end = record.start.saturating_add(record.len);
        self.payload.get(record.start..end).unwrap_or_default()
    }
}

/// The reader thread: reads packets, decodes them and routes each to the
/// worker owning its flow, with clock ticks to the others.
struct Router {
    workers: Vec<SyncSender<Batch>>,
    batches: Vec<Batch>,
    pool: Receiver<Batch>,
    /// Latest TCP timestamp seen: the flow tables' clock.
    tcp_clock: i64,
    processes: ProcessDirectory,
    stats: CaptureStats,
    /// A worker stopped taking batches; reading is pointless.
    closed: bool,
}

impl Router {
    fn new(workers: Vec<SyncSender<Batch>>, pool: Receiver<Batch>) -> Self {
        let batches = workers.iter().map(|_| Batch::default()).collect();
        Router {
            workers,
            batches,
            pool,
            tcp_clock: i64::MIN,
            processes: ProcessDirectory::default(),
            stats: CaptureStats::default(),
            closed: false,
        }
    }

    fn run<R: std::io::Read>(
        mut self,
        mut reader: CaptureReader<R>,
        clock: &mut dyn Timed,
    ) -> CaptureStats {
        while let Some(next) = reader.next_packet() {
            match next {
                Ok(packet) => {
                    self.stats.count_packet(&packet);
                    let meta = SegmentMeta {
                        packet: packet.number,
                        timestamp_ns: packet.timestamp_ns,
                    };
                    let unit = decode_unit(&mut self.stats, packet.link_type, packet.data);
                    let process = self.processes.identify(&packet);
                    let new = self.processes.take_new();
                    for batch in &mut self.batches {
                        batch.owners.extend_from_slice(new);
                    }
                    if let Some(unit) = unit {
                        self.route(meta, &unit, process);
                    }
                    if self.batches.iter().any(Batch::is_full) {
                        self.flush(packet.offset, clock);
                    }
                }
                Err(err) => {
                    let fatal = err.fatal;
                    self.stats.read_error(err.to_string());
                    if fatal {
                        self.stats.incomplete = true;
                        break;
                    }
                }
            }
            if self.closed {
                break;
            }
        }
        self.stats.bytes = reader.stats().bytes_consumed;
        let offset = self.stats.bytes;
        self.flush(offset, clock);
        self.stats
    }

    fn route(&mut self, meta: SegmentMeta, unit: &Unit<'_>, process: Option<u32>) {
        let workers = self.batches.len();
        let (owner, own, tick, ticks) = match unit {
            Unit::Tcp(seg) => {
                let forward = meta.timestamp_ns > self.tcp_clock;
                self.tcp_clock = self.tcp_clock.max(meta.timestamp_ns);
                (
                    partition(seg.src, seg.dst, workers),
                    Kind::Tcp,
                    Kind::TcpTick,
                    forward,
                )
            }
            Unit::Udp { src, dst, .. } => (
                partition(*src, *dst, workers),
                Kind::Udp,
                Kind::UdpTick,
                true,
            ),
        };
        for (index, batch) in self.batches.iter_mut().enumerate() {
            if index == owner {
                batch.push(own, meta, unit, process);
            } else if ticks {
                batch.push(tick, meta, unit, None);
            }
        }
    }

    /// Sends every worker its batch, so that all workers receive the same
    /// number of batches and the merging thread can take one result from
    /// each in turn.
    fn flush(&mut self, offset: u64, clock: &mut dyn Timed) {
        clock.lap(Phase::Read);
        for (sender, batch) in self.workers.iter().zip(self.batches.iter_mut()) {
            let mut next = self.pool.try_recv().unwrap_or_default();
            next.clear();
            let mut full = std::mem::replace(batch, next);
            full.offset = offset;
            if sender.send(full).is_err() {
                self.closed = true;
            }
        }
        clock.restart();
    }
}

/// Everything one worker thread needs.
struct WorkerJob<'a> {
    input: &'a str,
    body_hashing: BodyHashing,
    /// The four-tuple of this worker's TCP clock ticks.
    tick: (SocketAddr, SocketAddr),
    batches: Receiver<Batch>,
    results: SyncSender<Outcome>,
    pool: SyncSender<Batch>,
}

/// Changes that one packet made to one worker's flows.
#[derive(Debug)]
struct Entry {
    packet: u64,
    changes: Changes,
}

/// A worker's result for one batch, or for the end of the capture.
#[derive(Debug, Default)]
struct Outcome {
    entries: Vec<Entry>,
    /// File bytes consumed when the batch was sent.
    offset: u64,
}

impl WorkerJob<'_> {
    fn run(self, clock: &mut dyn Timed) -> CaptureStats {
        let mut flows = Flows::new(self.input, self.body_hashing);
        let mut udp_ticks = 0u64;

        for mut batch in &self.batches {
            clock.restart();
            for owner in batch.owners.drain(..) {
                flows.define_process(owner);
            }
            let mut outcome = Outcome {
                entries: Vec::new(),
                offset: batch.offset,
            };
            for record in &batch.records {
                udp_ticks += u64::from(record.kind == Kind::UdpTick);
                self.apply(&mut flows, &batch, record);
                take_changes(&mut flows, record.meta.packet, &mut outcome);
            }
            clock.lap(Phase::Reassembly);
            // A full pool only means the reader has enough spare batches.
            let _ = self.pool.try_send(batch);
            if self.results.send(outcome).is_err() {
                return CaptureStats::default();
            }
        }

        clock.restart();
        flows.finish();
        let mut outcome = Outcome::default();
        take_changes(&mut flows, END_OF_CAPTURE, &mut outcome);
        let mut stats = CaptureStats::default();
        flows.add_stats(&mut stats, udp_ticks);
        clock.lap(Phase::Reassembly);
        // The merging thread may have stopped; the counters still count.
        let _ = self.results.send(outcome);
        stats
    }

    fn apply(&self, flows: &mut Flows, batch: &Batch, record: &Record) {
        let payload = batch.payload(record);
        match record.kind {
            Kind::Tcp => {
                let segment = Segment {
                    src: record.src,
                    dst: record.dst,
                    seq: record.seq,
                    ack: record.ack,
                    flags: record.flags,
                    payload,
                };
                flows.tcp(&segment, record.meta, record.process);
            }
            Kind::TcpTick => {
                let segment = Segment {
                    src: self.tick.0,
                    dst: self.tick.1,
                    seq: 0,
                    ack: 0,
                    flags: 0,
                    payload: &[],
                };
                flows.tcp(&segment, record.meta, None);
            }
            Kind::Udp => flows.udp(record.src, record.dst, payload, record.meta, record.process),
            Kind::UdpTick => flows.udp(self.tick.0, self.tick.1, &[], record.meta, None),
        }
    }
}

/// Moves the changes a packet made into `outcome`.
fn take_changes(flows: &mut Flows, packet: u64, outcome: &mut Outcome) {
    let changes = flows.changes_mut();
    if changes.is_empty() {
        return;
    }
    outcome.entries.push(Entry {
        packet,
        changes: std::mem::take(changes),
    });
}

/// The merging side: numbers flows as one table would and hands sessions
/// on, packet by packet.
struct Merger {
    /// Per worker: its TCP flow numbers, then its QUIC connection
    /// numbers, of flows still open, mapped to the capture's numbers.
    tcp: Vec<Numbering>,
    quic: Vec<Numbering>,
    /// Next TCP flow number, from 0 as one table counts.
    next_tcp: u64,
    /// Next QUIC connection number, from 1 as one tracker counts.
    next_quic: u64,
    group: Vec<TlsSession>,
    transfers_group: Vec<HttpTransfer>,
    dialogues_group: Vec<StarttlsDialogue>,
    sessions: u64,
    transfers: u64,
    dialogues: u64,
}

/// One worker's flow numbers mapped to the capture's.
#[derive(Default)]
struct Numbering {
    /// The worker's next number, which counts from `first`.
    next_local: u64,
    open: HashMap<u64, u64>,
}

impl Numbering {
    fn starting_at(first: u64) -> Self {
        Numbering {
            next_local: first,
            open: HashMap::new(),
        }
    }

    /// Maps the worker's next `count` numbers to the capture's, from `*next`.
    fn open(&mut self, count: u64, next: &mut u64) {
        for _ in 0..count {
            self.open.insert(self.next_local, *next);
            self.next_local = self.next_local.saturating_add(1);
            *next = next.saturating_add(1);
        }
    }

    fn get(&self, local: u64) -> Option<u64> {
        self.open.get(&local).copied()
    }

    fn close(&mut self, ended: &[u64]) {
        for local in ended {
            self.open.remove(local);
        }
    }
}

impl Merger {
    fn new(workers: usize) -> Self {
        Merger {
            tcp: (0..workers).map(|_| Numbering::starting_at(0)).collect(),
            quic: (0..workers).map(|_| Numbering::starting_at(1)).collect(),
            next_tcp: 0,
            next_quic: 1,
            group: Vec::new(),
            transfers_group: Vec::new(),
            dialogues_group: Vec::new(),
            sessions: 0,
            transfers: 0,
            dialogues: 0,
        }
    }

    /// Takes one outcome from each worker in turn, as the reader sent them
    /// batches, until the workers are done.
    fn run(
        &mut self,
        workers: &[Receiver<Outcome>],
        on_session: &mut dyn FnMut(FlowRecord),
        on_progress: &mut dyn FnMut(u64),
        clock: &mut dyn Timed,
    ) {
        let mut entries: Vec<(u64, usize, Changes)> = Vec::new();
        loop {
            let mut offset = None;
            for (index, receiver) in workers.iter().enumerate() {
                let Ok(outcome) = receiver.recv() else {
                    return;
                };
                clock.restart();
                offset = offset.or(Some(outcome.offset));
                let tagged = outcome.entries.into_iter();
                entries.extend(tagged.map(|entry| (entry.packet, index, entry.changes)));
                clock.lap(Phase::Reassembly);
            }
            // Stable: a worker's entries for one packet stay in order.
            entries.sort_by_key(|(packet, index, _)| (*packet, *index));
            self.merge(&mut entries, on_session, clock);
            if let Some(offset) = offset.filter(|offset| *offset > 0) {
                on_progress(offset);
            }
        }
    }

    /// Hands on the sessions of `entries`, sorted by packet, one packet's
    /// group at a time.
    fn merge(
        &mut self,
        entries: &mut Vec<(u64, usize, Changes)>,
        on_session: &mut dyn FnMut(FlowRecord),
        clock: &mut dyn Timed,
    ) {
        let mut current = None;
        for (packet, worker, changes) in entries.drain(..) {
            if current != Some(packet) {
                self.emit(on_session, clock);
                current = Some(packet);
            }
            self.apply(worker, changes);
        }
        self.emit(on_session, clock);
    }

    fn apply(&mut self, worker: usize, mut changes: Changes) {
        let (Some(tcp), Some(quic)) = (self.tcp.get_mut(worker), self.quic.get_mut(worker)) else {
            return;
        };
        tcp.open(changes.tcp_opened, &mut self.next_tcp);
        quic.open(changes.quic_opened, &mut self.next_quic);
        for mut session in changes.sessions.drain(..) {
            let numbering = if session.transport == "quic" {
                &*quic
            } else {
                &*tcp
            };
            if let Some(number) = numbering.get(session.stream) {
                session.stream = number;
            }
            self.group.push(session);
        }
        for mut transfer in changes.transfers.drain(..) {
            if let Some(number) = tcp.get(transfer.stream) {
                transfer.stream = number;
            }
            self.transfers_group.push(transfer);
        }
        for mut dialogue in changes.dialogues.drain(..) {
            if let Some(number) = tcp.get(dialogue.stream) {
                dialogue.stream = number;
            }
            self.dialogues_group.push(dialogue);
        }
        tcp.close(&changes.tcp_ended);
        quic.close(&changes.quic_ended);
    }

    fn emit(&mut self, on_session: &mut dyn FnMut(FlowRecord), clock: &mut dyn Timed) {
        if self.group.is_empty()
            && self.transfers_group.is_empty()
            && self.dialogues_group.is_empty()
        {
            return;
        }
        sort_completed(&mut self.group);
        sort_transfers(&mut self.transfers_group);
        sort_dialogues(&mut self.dialogues_group);
        clock.lap(Phase::Reassembly);
        for session in self.group.drain(..) {
            self.sessions = self.sessions.saturating_add(1);
            on_session(FlowRecord::Session(session));
        }
        for transfer in self.transfers_group.drain(..) {
            self.transfers = self.transfers.saturating_add(1);
            on_session(FlowRecord::Transfer(Box::new(transfer)));
        }
        for dialogue in self.dialogues_group.drain(..) {
            self.dialogues = self.dialogues.saturating_add(1);
            on_session(FlowRecord::Starttls(Box::new(dialogue)));
        }
        clock.restart();
    }
}

#[cfg(test)]
mod tests;
