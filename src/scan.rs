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

use std::collections::HashMap;
use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread;
use std::time::Instant;

use wiretrust_applenet::NetEvent;
pub use wiretrust_http::BodyHashing;
use wiretrust_unifiedlog::LogRecord;

use crate::observations::{ConnectionKey, EndpointConnection, FlowRecord};
use crate::pipeline::Pipeline;
pub use crate::scan_summary::{
    DialogueCounts, Execution, InputStatus, InputSummary, Layout, ScanOptions, Summary,
    TransferCounts,
};
use crate::sinks::Sink;
use crate::sources::capture::{CaptureStats, OpenCaptureError, read_capture_timed};
use crate::sources::endpoint_log::{EndpointHandler, EndpointStats, read_endpoint_log};
use crate::sources::eslogger::{EsloggerStats, read_eslogger};
use crate::sources::kind::{InputKind, identify};
use crate::sources::partition::{PartitionSettings, read_capture_partitioned};
use crate::sources::provenance::ProvenanceSet;
use crate::sources::timing::{Off, PhaseClock, PhaseTimes, Stopwatch, ThreadCpu, peak_rss_bytes};
use crate::sources::{InputFile, expand_inputs};

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

    let mut summary = Summary {
        baseline_config: options.detection.baseline.clone(),
        ..Summary::default()
    };
    let (files, errors) = expand_inputs(paths);
    for (path, reason) in errors {
        let status = InputStatus::Unreadable(reason);
        summary.inputs.push(InputSummary::new(path, status));
    }
    progress.start(files.iter().map(|f| f.size).sum());
    let mut pipeline = Pipeline::new(options, sinks, execution.measure);
    let (captures, endpoint) = read_endpoint_inputs(files, &mut pipeline, progress)?;
    summary.inputs.extend(endpoint);
    let files = captures;
    let mut run = Run {
        pipeline: &mut pipeline,
        progress,
        times: PhaseTimes::default(),
        clock: PhaseClock::new(),
        measure: execution.measure,
        body_hashing: options.body_hashing,
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

/// Reads the eslogger files first, so that every later alert can name its
/// process, then the endpoint logs and the provenance inputs, on the
/// calling thread. Returns the captures left to read and the summaries of
/// what was read.
fn read_endpoint_inputs(
    files: Vec<InputFile>,
    pipeline: &mut Pipeline<'_, '_>,
    progress: &mut dyn Progress,
) -> io::Result<(Vec<InputFile>, Vec<InputSummary>)> {
    let mut captures = Vec::new();
    let mut logs = Vec::new();
    let mut provenance = Vec::new();
    let mut summaries = Vec::new();
    let mut done = 0u64;
    for file in files {
        match identify(&file.path) {
            InputKind::Capture => captures.push(file),
            InputKind::EndpointLog(format) => logs.push((file, format)),
            InputKind::Provenance(format) => provenance.push((file, format)),
            InputKind::Eslogger => {
                let name = file.path.display().to_string();
                let result = read_eslogger(
                    &file.path,
                    &name,
                    &mut pipeline.processes,
                    &mut pipeline.writers,
                );
                summaries.push(eslogger_summary(&file, result));
                done += file.size;
                progress.advance(done, &name);
            }
        }
    }
    for (file, format) in logs {
        let name = file.path.display().to_string();
        let mut feed = Feed {
            pipeline,
            error: None,
        };
        let result = read_endpoint_log(&file.path, &name, format, &mut feed);
        if let Some(err) = feed.error {
            return Err(err);
        }
        summaries.push(endpoint_summary(&file, result));
        done += file.size;
        progress.advance(done, &name);
    }
    summaries.extend(read_provenance_inputs(
        provenance, pipeline, progress, done,
    )?);
    Ok((captures, summaries))
}

/// Reads every sensor log and quarantine record, then judges and writes
/// the object sightings they yield, in time order.
fn read_provenance_inputs(
    files: Vec<(InputFile, wiretrust_provenance::Format)>,
    pipeline: &mut Pipeline<'_, '_>,
    progress: &mut dyn Progress,
    mut done: u64,
) -> io::Result<Vec<InputSummary>> {
    if files.is_empty() {
        return Ok(Vec::new());
    }
    let mut set = ProvenanceSet::default();
    let mut failures = HashMap::new();
    for (file, format) in &files {
        let name = file.path.display().to_string();
        if let Err(reason) = set.read(&file.path, &name, *format) {
            failures.insert(name.clone(), reason);
        }
        done += file.size;
        progress.advance(done, &name);
    }
    let host = pipeline.host().map(str::to_owned);
    let (sightings, mut counts) = set.sightings(host.as_deref(), &pipeline.writers);
    for sighting in &sightings {
        pipeline.object_sighting(sighting)?;
    }
    let mut summaries = Vec::with_capacity(files.len());
    for (file, _) in files {
        let name = file.path.display().to_string();
        let summary = match (failures.remove(&name), counts.remove(&name)) {
            (Some(reason), _) if file.from_walk => {
                InputSummary::new(file.path, InputStatus::Skipped(reason))
            }
            (Some(reason), _) => InputSummary::new(file.path, InputStatus::Unreadable(reason)),
            (None, stats) => {
                let stats = stats.unwrap_or_default();
                let status = if stats.read.bad_lines > 0 {
                    InputStatus::Partial
                } else {
                    InputStatus::Complete
                };
                let mut summary = InputSummary::new(file.path, status);
                summary.provenance = Some(stats);
                summary
            }
        };
        summaries.push(summary);
    }
    Ok(summaries)
}

fn endpoint_summary(file: &InputFile, result: Result<EndpointStats, String>) -> InputSummary {
    let path = file.path.clone();
    match result {
        Ok(stats) => {
            let status = if stats.reader.errors > 0 {
                InputStatus::Partial
            } else {
                InputStatus::Complete
            };
            let mut summary = InputSummary::new(path, status);
            summary.endpoint = Some(stats);
            summary
        }
        Err(reason) => InputSummary::new(path, InputStatus::Unreadable(reason)),
    }
}

fn eslogger_summary(file: &InputFile, result: Result<EsloggerStats, String>) -> InputSummary {
    let path = file.path.clone();
    match result {
        Ok(stats) => {
            let status = if stats.errors_total > 0 {
                InputStatus::Partial
            } else {
                InputStatus::Complete
            };
            let mut summary = InputSummary::new(path, status);
            summary.eslogger = Some(stats);
            summary
        }
        Err(reason) => InputSummary::new(path, InputStatus::Unreadable(reason)),
    }
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
    body_hashing: BodyHashing,
}

/// Sessions of one input pushed into the pipeline, keeping the first
/// write error: once the output fails, the rest of the input is read and
/// dropped, and the error ends the scan after the input.
struct Feed<'a, 's, 'k> {
    pipeline: &'a mut Pipeline<'s, 'k>,
    error: Option<io::Error>,
}

impl Feed<'_, '_, '_> {
    fn push(&mut self, record: FlowRecord) {
        if self.error.is_none()
            && let Err(err) = self.pipeline.push_record(record)
        {
            self.error = Some(err);
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

impl EndpointHandler for Feed<'_, '_, '_> {
    fn line(
        &mut self,
        input: &str,
        record: &LogRecord,
        event: &NetEvent,
        connection: Option<(ConnectionKey, &EndpointConnection)>,
    ) {
        if self.error.is_none()
            && let Err(err) = self
                .pipeline
                .endpoint_line(input, record, event, connection)
        {
            self.error = Some(err);
        }
    }

    fn connection(&mut self, connection: EndpointConnection) {
        if self.error.is_none()
            && let Err(err) = self.pipeline.endpoint_connection(&connection)
        {
            self.error = Some(err);
        }
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
        let (path, hashing) = (&file.path, self.body_hashing);
        let result = read_capture_timed(
            path,
            &name,
            hashing,
            &mut on_session,
            &mut on_progress,
            clock,
        );
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
            let settings = PartitionSettings {
                workers,
                body_hashing: self.body_hashing,
            };
            let result = if self.measure {
                let times = Some(&mut self.times);
                let clock = &mut self.clock;
                read_capture_partitioned(
                    path,
                    name,
                    settings,
                    &mut on_session,
                    &mut on_progress,
                    times,
                    clock,
                )
            } else {
                read_capture_partitioned(
                    path,
                    name,
                    settings,
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
                        body_hashing: self.body_hashing,
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
    /// Sessions and transfers in the order the single-threaded reader
    /// delivers them.
    Sessions(Vec<FlowRecord>),
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
    body_hashing: BodyHashing,
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
            let (path, hashing) = (&file.path, self.body_hashing);
            let result = read_capture_timed(
                path,
                &name,
                hashing,
                &mut on_session,
                &mut on_progress,
                clock,
            );
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
            let mut summary = InputSummary::new(path, status);
            summary.stats = stats;
            summary
        }
        Err(err) if file.from_walk => InputSummary::new(path, InputStatus::Skipped(err.0)),
        Err(err) => InputSummary::new(path, InputStatus::Unreadable(err.0)),
    }
}
