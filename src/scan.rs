//! `wiretrust scan`: reads every input, rebuilds sessions, runs the
//! detections and hands results to the sinks.
//!
//! Reading can use several threads ([`Execution::threads`]): several
//! inputs are read at once, one per worker, or a single input is split by
//! flow over workers ([`crate::sources::partition`]). Either way the
//! sessions of each input reach the start-time ordering, the detections
//! and the sinks on the calling thread, input after input. They arrive in
//! the same order as with one thread, so the output does not depend on
//! the thread count.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread;
use std::time::{Duration, Instant};

use crate::detections::{Alert, DetectionConfig, Engine, Severity};
use crate::observations::TlsSession;
use crate::sinks::Sink;
use crate::sources::capture::{CaptureStats, OpenCaptureError, read_capture_timed};
use crate::sources::partition::read_capture_partitioned;
use crate::sources::timing::{
    Off, Phase, PhaseClock, PhaseTimes, Stopwatch, ThreadCpu, peak_rss_bytes,
};
use crate::sources::{InputFile, expand_inputs};

/// Settings for one scan.
#[derive(Clone, Debug, Default)]
pub struct ScanOptions {
    pub detection: DetectionConfig,
}

/// Thread count and measurement of a scan.
#[derive(Clone, Copy, Debug)]
pub struct Execution {
    /// Threads that read captures. 1 reads everything on the calling
    /// thread. More read several inputs at once, or split a single input
    /// by flow over that many workers next to a reader thread.
    pub threads: usize,
    /// Measure time per phase and peak memory for the summary.
    pub measure: bool,
}

impl Default for Execution {
    /// Returns one thread and no measurement: the plain single-threaded scan.
    fn default() -> Self {
        Execution {
            threads: 1,
            measure: false,
        }
    }
}

/// Distribution of a scan's inputs over threads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Layout {
    /// Everything on the calling thread.
    #[default]
    Single,
    /// Whole inputs read at once by this many worker threads.
    Files {
        /// Worker threads.
        workers: usize,
    },
    /// One input read by a reader thread and split by flow over this many
    /// worker threads.
    Flows {
        /// Worker threads.
        workers: usize,
    },
}

/// Outcome of reading one input.
#[derive(Debug)]
pub enum InputStatus {
    /// Read to the end without trouble.
    Complete,
    /// Read, but parts could not be; the stats list which.
    Partial,
    /// Not read at all; the reason.
    Unreadable(String),
    /// Found by a directory walk and not a capture; skipped.
    Skipped(String),
}

/// One input's outcome.
#[derive(Debug)]
pub struct InputSummary {
    pub path: PathBuf,
    pub status: InputStatus,
    pub stats: CaptureStats,
}

/// Counts and outcomes of a scan, for the summary on stderr and the exit status.
#[derive(Debug, Default)]
pub struct Summary {
    pub inputs: Vec<InputSummary>,
    pub alerts_by_detection: BTreeMap<&'static str, u64>,
    pub alerts_by_severity: BTreeMap<Severity, u64>,
    pub sessions: u64,
    /// Sessions whose TLS records held protocol anomalies.
    pub sessions_with_anomalies: u64,
    /// A few anomalies word for word, with their input, for the summary.
    pub anomaly_examples: Vec<String>,
    pub elapsed: Duration,
    /// Distribution of the inputs over threads.
    pub layout: Layout,
    /// Time per phase, when [`Execution::measure`] was set.
    pub times: Option<PhaseTimes>,
    /// Peak resident memory in bytes, when [`Execution::measure`] was set
    /// and the system reports it (Linux).
    pub peak_rss_bytes: Option<u64>,
}

impl Summary {
    /// Inputs that were at least partly read.
    pub fn usable_inputs(&self) -> usize {
        self.inputs
            .iter()
            .filter(|i| matches!(i.status, InputStatus::Complete | InputStatus::Partial))
            .count()
    }

    /// True when some input, or part of one, could not be read.
    pub fn had_unreadable(&self) -> bool {
        self.inputs
            .iter()
            .any(|i| matches!(i.status, InputStatus::Partial | InputStatus::Unreadable(_)))
    }

    /// Number of alerts at or above `severity`.
    pub fn alerts_at_or_above(&self, severity: Severity) -> u64 {
        self.alerts_by_severity
            .range(severity..)
            .map(|(_, count)| count)
            .sum()
    }

    /// Total of a capture counter over all inputs.
    pub fn total(&self, counter: impl Fn(&CaptureStats) -> u64) -> u64 {
        self.inputs.iter().map(|input| counter(&input.stats)).sum()
    }
}

/// Reports progress in bytes over all inputs.
pub trait Progress {
    /// Called once with the total size of all inputs.
    fn start(&mut self, total_bytes: u64);
    /// Called with the bytes done so far, over all inputs.
    fn advance(&mut self, done_bytes: u64, current: &str);
    fn finish(&mut self);
}

/// Progress that shows nothing.
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&mut self, _total_bytes: u64) {}
    fn advance(&mut self, _done_bytes: u64, _current: &str) {}
    fn finish(&mut self) {}
}

/// Scans `paths` (files and directories) on the calling thread and writes
/// to `sinks`.
///
/// Errors are only sink write failures; unreadable inputs are reported in
/// the summary.
pub fn scan(
    paths: &[PathBuf],
    options: &ScanOptions,
    sinks: &mut [&mut dyn Sink],
    progress: &mut dyn Progress,
) -> io::Result<Summary> {
    scan_with(paths, options, &Execution::default(), sinks, progress)
}

/// [`scan`] with a choice of threads and measurement. The alerts,
/// observations and summary counts are the same for every thread count.
pub fn scan_with(
    paths: &[PathBuf],
    options: &ScanOptions,
    execution: &Execution,
    sinks: &mut [&mut dyn Sink],
    progress: &mut dyn Progress,
) -> io::Result<Summary> {
    let started = Instant::now();
    // The CPU clock is read from /proc only when measuring.
    let cpu = execution.measure.then(ThreadCpu::start);

    let mut summary = Summary::default();
    let (files, errors) = expand_inputs(paths);
    for (path, reason) in errors {
        let status = InputStatus::Unreadable(reason);
        summary.inputs.push(InputSummary {
            path,
            status,
            stats: CaptureStats::default(),
        });
    }
    progress.start(files.iter().map(|f| f.size).sum());
    let mut pipeline = Pipeline::new(options, sinks, execution.measure);
    let mut run = Run {
        pipeline: &mut pipeline,
        progress,
        times: PhaseTimes::default(),
        clock: PhaseClock::new(),
        measure: execution.measure,
    };

    summary.layout = layout(execution.threads, files.len());
    let inputs = match summary.layout {
        Layout::Single => run.single(&files),
        Layout::Files { workers } => run.files(&files, workers),
        Layout::Flows { workers } => run.flows(&files, workers),
    };
    let (mut times, mut clock) = (run.times, run.clock);
    progress.finish();
    summary.inputs.extend(inputs?);
    if let Some(spent) = pipeline.finish(&mut summary)? {
        clock.absorb(&spent);
    }
    if let Some(cpu) = cpu {
        cpu.stop(&clock, &mut times);
        summary.times = Some(times);
        summary.peak_rss_bytes = peak_rss_bytes();
    }
    summary.elapsed = started.elapsed();
    Ok(summary)
}

/// Chooses how to spread `files` over `threads`.
///
/// One file is split by flow only from three threads on: the reader takes
/// one, and on two cores the copying into batches costs more than the
/// second worker gains (measured in BENCHMARKS.md).
fn layout(threads: usize, files: usize) -> Layout {
    match (threads, files) {
        (0 | 1, _) | (_, 0) | (2, 1) => Layout::Single,
        (threads, 1) => Layout::Flows {
            workers: threads - 1,
        },
        (workers, files) => Layout::Files {
            workers: workers.min(files),
        },
    }
}

/// One scan in progress: where sessions go, and what is measured.
struct Run<'r, 's, 'k> {
    pipeline: &'r mut Pipeline<'s, 'k>,
    progress: &'r mut dyn Progress,
    /// Times of the threads started for this scan.
    times: PhaseTimes,
    /// Phases run on the calling thread outside the pipeline.
    clock: PhaseClock,
    measure: bool,
}

/// Sessions of one input pushed into the pipeline, keeping the first
/// write error: once the output fails, the rest of the input is read and
/// dropped, and the error ends the scan after the input.
struct Feed<'a, 's, 'k> {
    pipeline: &'a mut Pipeline<'s, 'k>,
    error: Option<io::Error>,
}

impl Feed<'_, '_, '_> {
    fn push(&mut self, session: TlsSession) {
        if self.error.is_none() {
            if let Err(err) = self.pipeline.push(session) {
                self.error = Some(err);
            }
        }
    }

    /// Releases what the pipeline holds for the input and returns the
    /// first error.
    fn end(self) -> io::Result<()> {
        if let Some(err) = self.error {
            return Err(err);
        }
        self.pipeline.drain_all()
    }
}

impl Run<'_, '_, '_> {
    /// Reads every input on the calling thread, one after another.
    fn single(&mut self, files: &[InputFile]) -> io::Result<Vec<InputSummary>> {
        let mut inputs = Vec::with_capacity(files.len());
        let mut done_before = 0u64;
        for file in files {
            let result = if self.measure {
                let mut clock = PhaseClock::new();
                let result = self.read_here(file, done_before, &mut clock);
                self.clock.absorb(&clock);
                result
            } else {
                self.read_here(file, done_before, &mut Off)
            };
            inputs.push(input_summary(file, result?));
            done_before += file.size;
        }
        Ok(inputs)
    }

    fn read_here<S: Stopwatch>(
        &mut self,
        file: &InputFile,
        done_before: u64,
        clock: &mut S,
    ) -> io::Result<Result<CaptureStats, OpenCaptureError>> {
        let name = file.path.display().to_string();
        let mut feed = Feed {
            pipeline: self.pipeline,
            error: None,
        };
        let progress = &mut *self.progress;
        let mut on_progress = |done: u64| progress.advance(done_before + done, &name);
        let mut on_session = |session| feed.push(session);
        let result =
            read_capture_timed(&file.path, &name, &mut on_session, &mut on_progress, clock);
        feed.end()?;
        Ok(result)
    }

    /// Reads the only input, split by flow over `workers` threads.
    fn flows(&mut self, files: &[InputFile], workers: usize) -> io::Result<Vec<InputSummary>> {
        let mut inputs = Vec::with_capacity(files.len());
        for file in files {
            let name = file.path.display().to_string();
            let mut feed = Feed {
                pipeline: self.pipeline,
                error: None,
            };
            let progress = &mut *self.progress;
            let mut on_progress = |done: u64| progress.advance(done, &name);
            let mut on_session = |session| feed.push(session);
            let (path, name) = (&file.path, name.as_str());
            let result = if self.measure {
                let times = Some(&mut self.times);
                let clock = &mut self.clock;
                read_capture_partitioned(
                    path,
                    name,
                    workers,
                    &mut on_session,
                    &mut on_progress,
                    times,
                    clock,
                )
            } else {
                read_capture_partitioned(
                    path,
                    name,
                    workers,
                    &mut on_session,
                    &mut on_progress,
                    None,
                    &mut Off,
                )
            };
            feed.end()?;
            inputs.push(input_summary(file, result));
        }
        Ok(inputs)
    }

    /// Whole inputs read by `workers` threads at once; their sessions are
    /// taken input by input, in the order of `files`.
    fn files(&mut self, files: &[InputFile], workers: usize) -> io::Result<Vec<InputSummary>> {
        let next = AtomicUsize::new(0);
        let stop = AtomicBool::new(false);
        let (senders, receivers): (Vec<_>, Vec<_>) = files
            .iter()
            .map(|_| sync_channel(FILE_CHANNEL_DEPTH))
            .unzip();
        let measure = self.measure;
        thread::scope(|scope| {
            let handles: Vec<_> = (0..workers)
                .map(|_| {
                    let reader = FileReader {
                        files,
                        senders: &senders,
                        next: &next,
                        stop: &stop,
                    };
                    scope.spawn(move || reader.run(measure))
                })
                .collect();
            let result = self.take_files(files, &receivers);
            if result.is_err() {
                stop.store(true, Ordering::Relaxed);
            }
            drop(receivers);
            for handle in handles {
                let times = handle
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                self.times.merge(&times);
            }
            result
        })
    }

    /// Feeds the pipeline from each input's channel in turn.
    fn take_files(
        &mut self,
        files: &[InputFile],
        receivers: &[Receiver<FileMessage>],
    ) -> io::Result<Vec<InputSummary>> {
        let mut inputs = Vec::with_capacity(files.len());
        let mut done_before = 0u64;
        for (file, receiver) in files.iter().zip(receivers) {
            let name = file.path.display().to_string();
            let mut feed = Feed {
                pipeline: self.pipeline,
                error: None,
            };
            let mut result = Err(OpenCaptureError(format!(
                "{name}: the thread reading it stopped before the end"
            )));
            for message in receiver {
                match message {
                    FileMessage::Sessions(sessions) => {
                        sessions.into_iter().for_each(|s| feed.push(s))
                    }
                    FileMessage::Progress(done) => self.progress.advance(done_before + done, &name),
                    FileMessage::Done(outcome) => {
                        result = *outcome;
                        break;
                    }
                }
            }
            feed.end()?;
            inputs.push(input_summary(file, result));
            done_before += file.size;
        }
        Ok(inputs)
    }
}

/// Messages queued per input from the thread reading it: up to 16,384
/// sessions in chunks, so that a worker can read an input of a few
/// hundred megabytes ahead while the calling thread still takes the
/// sessions of an earlier one. Memory stays bounded by this times the
/// number of workers.
const FILE_CHANNEL_DEPTH: usize = 256;

/// Sessions are sent in chunks of this many.
const SESSION_CHUNK: usize = 64;

/// Message from a thread reading a whole input, in the order sent.
enum FileMessage {
    /// Sessions in the order the single-threaded reader delivers them.
    Sessions(Vec<TlsSession>),
    /// File bytes consumed so far.
    Progress(u64),
    /// The input is read (boxed: the other messages are far smaller).
    Done(Box<Result<CaptureStats, OpenCaptureError>>),
}

/// One worker thread of [`Run::files`]: takes the next unread input until
/// none is left.
struct FileReader<'a> {
    files: &'a [InputFile],
    senders: &'a [SyncSender<FileMessage>],
    next: &'a AtomicUsize,
    stop: &'a AtomicBool,
}

impl FileReader<'_> {
    fn run(self, measure: bool) -> PhaseTimes {
        let mut times = PhaseTimes::default();
        if measure {
            let cpu = ThreadCpu::start();
            let mut clock = PhaseClock::new();
            self.read_all(&mut clock);
            cpu.stop(&clock, &mut times);
        } else {
            self.read_all(&mut Off);
        }
        times
    }

    fn read_all<S: Stopwatch>(&self, clock: &mut S) {
        while !self.stop.load(Ordering::Relaxed) {
            let index = self.next.fetch_add(1, Ordering::Relaxed);
            let (Some(file), Some(sender)) = (self.files.get(index), self.senders.get(index))
            else {
                return;
            };
            let name = file.path.display().to_string();
            let mut chunk = Vec::with_capacity(SESSION_CHUNK);
            let mut on_session = |session| {
                chunk.push(session);
                if chunk.len() >= SESSION_CHUNK {
                    let full = std::mem::replace(&mut chunk, Vec::with_capacity(SESSION_CHUNK));
                    // A closed channel means the scan stopped; the rest is dropped.
                    let _ = sender.send(FileMessage::Sessions(full));
                }
            };
            // Progress is dropped rather than waited for when the queue is full.
            let mut on_progress = |done| {
                let _ = sender.try_send(FileMessage::Progress(done));
            };
            let result =
                read_capture_timed(&file.path, &name, &mut on_session, &mut on_progress, clock);
            let _ = sender.send(FileMessage::Sessions(chunk));
            let _ = sender.send(FileMessage::Done(Box::new(result)));
        }
    }
}

/// Builds the summary of one input from the result of reading it.
fn input_summary(file: &InputFile, result: Result<CaptureStats, OpenCaptureError>) -> InputSummary {
    let path = file.path.clone();
    match result {
        Ok(stats) => {
            let partial =
                stats.incomplete || stats.read_errors_total > 0 || !stats.undecodable.is_empty();
            let status = if partial {
                InputStatus::Partial
            } else {
                InputStatus::Complete
            };
            InputSummary {
                path,
                status,
                stats,
            }
        }
        Err(err) if file.from_walk => InputSummary {
            path,
            status: InputStatus::Skipped(err.0),
            stats: CaptureStats::default(),
        },
        Err(err) => InputSummary {
            path,
            status: InputStatus::Unreadable(err.0),
            stats: CaptureStats::default(),
        },
    }
}

/// Orders sessions by start time, runs the detections and writes results.
///
/// Sessions complete when their connection ends, so a short connection
/// that started later can complete first. The pipeline keeps each session
/// until sessions completing later can no longer have started before it
/// within the fallback window, so cross-session detections and the output
/// see sessions in start order.
struct Pipeline<'s, 'k> {
    engine: Engine,
    sinks: &'s mut [&'k mut dyn Sink],
    pending: BinaryHeap<Reverse<Pending>>,
    hold_ns: i64,
    sequence: u64,
    alerts: Vec<Alert>,
    by_detection: BTreeMap<&'static str, u64>,
    by_severity: BTreeMap<Severity, u64>,
    sessions: u64,
    sessions_with_anomalies: u64,
    anomaly_examples: Vec<String>,
    /// Time in ordering and detection, and in the sinks, when measured.
    clock: Option<PhaseClock>,
}

/// Anomalies quoted in the summary at most; the rest are counted.
const MAX_ANOMALY_EXAMPLES: usize = 5;

/// Sessions held for ordering at most; beyond it the earliest is released.
const MAX_PENDING: usize = 100_000;

struct Pending {
    key: (i64, u64),
    /// Boxed, because the heap moves its entries on every push and pop.
    session: Box<TlsSession>,
}

impl PartialEq for Pending {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}
impl Eq for Pending {}
impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Pending {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key.cmp(&other.key)
    }
}

impl<'s, 'k> Pipeline<'s, 'k> {
    fn new(options: &ScanOptions, sinks: &'s mut [&'k mut dyn Sink], measure: bool) -> Self {
        Pipeline {
            engine: Engine::new(options.detection.clone()),
            sinks,
            pending: BinaryHeap::new(),
            hold_ns: options.detection.fallback_window_ns,
            sequence: 0,
            alerts: Vec::new(),
            by_detection: BTreeMap::new(),
            by_severity: BTreeMap::new(),
            sessions: 0,
            sessions_with_anomalies: 0,
            anomaly_examples: Vec::new(),
            clock: measure.then(PhaseClock::new),
        }
    }

    fn lap(&mut self, phase: Phase) {
        if let Some(clock) = &mut self.clock {
            clock.lap(phase);
        }
    }

    fn restart_clock(&mut self) {
        if let Some(clock) = &mut self.clock {
            clock.restart();
        }
    }

    fn push(&mut self, session: TlsSession) -> io::Result<()> {
        self.restart_clock();
        let watermark = session.end_ns.saturating_sub(self.hold_ns);
        self.sequence += 1;
        let key = (session.start_ns, self.sequence);
        let session = Box::new(session);
        self.pending.push(Reverse(Pending { key, session }));
        while let Some(Reverse(first)) = self.pending.peek() {
            if first.key.0 >= watermark && self.pending.len() <= MAX_PENDING {
                break;
            }
            let Some(Reverse(first)) = self.pending.pop() else {
                break;
            };
            self.release(&first.session)?;
        }
        self.lap(Phase::Detection);
        Ok(())
    }

    fn drain_all(&mut self) -> io::Result<()> {
        self.restart_clock();
        while let Some(Reverse(first)) = self.pending.pop() {
            self.release(&first.session)?;
        }
        Ok(())
    }

    fn release(&mut self, session: &TlsSession) -> io::Result<()> {
        self.sessions += 1;
        if !session.anomalies.is_empty() {
            self.sessions_with_anomalies += 1;
            for anomaly in &session.anomalies {
                if self.anomaly_examples.len() < MAX_ANOMALY_EXAMPLES {
                    self.anomaly_examples
                        .push(format!("{}: {anomaly}", session.input));
                }
            }
        }
        self.alerts.clear();
        self.engine.check(session, &mut self.alerts);
        self.lap(Phase::Detection);
        for sink in self.sinks.iter_mut() {
            sink.session(session)?;
        }
        for alert in &self.alerts {
            *self.by_detection.entry(alert.detection).or_default() += 1;
            *self.by_severity.entry(alert.severity).or_default() += 1;
            for sink in self.sinks.iter_mut() {
                sink.alert(alert)?;
            }
        }
        self.lap(Phase::Output);
        Ok(())
    }

    /// Releases every held session, flushes the sinks and fills in the
    /// summary's counts; returns the time measured, if any.
    fn finish(mut self, summary: &mut Summary) -> io::Result<Option<PhaseClock>> {
        self.drain_all()?;
        for sink in self.sinks.iter_mut() {
            sink.finish()?;
        }
        self.lap(Phase::Output);
        summary.alerts_by_detection = self.by_detection;
        summary.alerts_by_severity = self.by_severity;
        summary.sessions = self.sessions;
        summary.sessions_with_anomalies = self.sessions_with_anomalies;
        summary.anomaly_examples = self.anomaly_examples;
        Ok(self.clock)
    }
}
