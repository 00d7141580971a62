//! `wiretrust scan`: reads every input, rebuilds sessions, runs the
//! detections and hands results to the sinks.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::io;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::detections::{Alert, DetectionConfig, Engine, Severity};
use crate::observations::TlsSession;
use crate::sinks::Sink;
use crate::sources::capture::{CaptureStats, read_capture};
use crate::sources::{InputFile, expand_inputs};

/// Settings for one scan.
#[derive(Clone, Debug, Default)]
pub struct ScanOptions {
    pub detection: DetectionConfig,
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

/// Scans `paths` (files and directories) and writes to `sinks`.
///
/// Errors are only sink write failures; unreadable inputs are reported in
/// the summary.
pub fn scan(
    paths: &[PathBuf],
    options: &ScanOptions,
    sinks: &mut [&mut dyn Sink],
    progress: &mut dyn Progress,
) -> io::Result<Summary> {
    let started = Instant::now();
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
    let mut pipeline = Pipeline::new(options, sinks);
    let mut done_before = 0u64;
    for file in &files {
        let input = scan_file(file, &mut pipeline, progress, done_before)?;
        done_before += file.size;
        summary.inputs.push(input);
    }
    progress.finish();
    pipeline.finish(&mut summary)?;
    summary.elapsed = started.elapsed();
    Ok(summary)
}

fn scan_file(
    file: &InputFile,
    pipeline: &mut Pipeline<'_, '_>,
    progress: &mut dyn Progress,
    done_before: u64,
) -> io::Result<InputSummary> {
    let name = file.path.display().to_string();
    let mut write_error = None;
    let mut on_session = |session: TlsSession| {
        if write_error.is_none() {
            if let Err(err) = pipeline.push(session) {
                write_error = Some(err);
            }
        }
    };
    let mut on_progress = |done: u64| progress.advance(done_before + done, &name);
    let result = read_capture(&file.path, &name, &mut on_session, &mut on_progress);
    if let Some(err) = write_error {
        return Err(err);
    }
    pipeline.drain_all()?;
    let path = file.path.clone();
    Ok(match result {
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
    })
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
}

/// Anomalies quoted in the summary at most; the rest are counted.
const MAX_ANOMALY_EXAMPLES: usize = 5;

/// Sessions held for ordering at most; beyond it the earliest is released.
const MAX_PENDING: usize = 100_000;

struct Pending {
    key: (i64, u64),
    session: TlsSession,
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
    fn new(options: &ScanOptions, sinks: &'s mut [&'k mut dyn Sink]) -> Self {
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
        }
    }

    fn push(&mut self, session: TlsSession) -> io::Result<()> {
        let watermark = session.end_ns.saturating_sub(self.hold_ns);
        self.sequence += 1;
        let key = (session.start_ns, self.sequence);
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
        Ok(())
    }

    fn drain_all(&mut self) -> io::Result<()> {
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
        Ok(())
    }

    fn finish(mut self, summary: &mut Summary) -> io::Result<()> {
        self.drain_all()?;
        for sink in self.sinks.iter_mut() {
            sink.finish()?;
        }
        summary.alerts_by_detection = self.by_detection;
        summary.alerts_by_severity = self.by_severity;
        summary.sessions = self.sessions;
        summary.sessions_with_anomalies = self.sessions_with_anomalies;
        summary.anomaly_examples = self.anomaly_examples;
        Ok(())
    }
}
