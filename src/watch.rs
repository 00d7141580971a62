//! `wiretrust watch`: live telemetry → the same detections as `scan` →
//! alerts as they happen.
//!
//! Each live source runs on its own thread and sends what it parsed to the
//! calling thread, which runs the detections and writes to the sinks:
//! - unified log lines, from standard input or from `log stream --style
//!   ndjson` run as a child and restarted when it exits;
//! - Endpoint Security events from `eslogger`, also a restarted child, so
//!   alerts name the process's code-signing identity;
//! - TLS sessions from a live capture on an interface (the `live` feature).

use std::io::{self, BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use wiretrust_applenet::NetEvent;
use wiretrust_eslogger::{EsEvent, EsReader};
use wiretrust_unifiedlog::{Format, LogRecord};

use crate::detections::DetectionConfig;
use crate::observations::{ConnectionKey, ConnectionTracker, EndpointConnection, FlowRecord};
use crate::pipeline::Pipeline;
use crate::scan::{BodyHashing, ScanOptions, Summary};
use crate::sinks::Sink;
use crate::sources::endpoint_log::{EndpointHandler, EndpointStats, read_export};

/// The subsystems and images `log stream` is asked for: the network stack,
/// CFNetwork, the Security framework and trustd, and background downloads.
pub const LOG_PREDICATE: &str = "subsystem == \"com.apple.network\" \
    OR subsystem == \"com.apple.network.boringssl\" \
    OR subsystem == \"com.apple.CFNetwork\" \
    OR subsystem BEGINSWITH \"com.apple.security\" \
    OR subsystem == \"com.apple.securityd\" \
    OR subsystem == \"com.apple.nsurlsessiond\" \
    OR senderImagePath ENDSWITH \"/CFNetwork\" \
    OR process == \"trustd\"";

/// Endpoint Security events `eslogger` is asked for: enough to know each
/// process's identity.
pub const ESLOGGER_EVENTS: &[&str] = &["exec", "fork", "exit"];

/// Messages in flight from the sources at most; a source waits when the
/// detections fall behind instead of growing memory.
const CHANNEL_DEPTH: usize = 4096;

/// How often the calling thread checks the stop flag while idle.
const POLL: Duration = Duration::from_millis(200);

/// Maximum wait before restarting a child that keeps exiting.
const MAX_RESTART_DELAY: Duration = Duration::from_secs(30);

/// A child that ran this long before exiting is restarted after the
/// initial delay again.
const STABLE_RUN: Duration = Duration::from_secs(60);

/// Sources to watch and the settings of the detections.
#[derive(Clone, Debug)]
pub struct WatchOptions {
    pub detection: DetectionConfig,
    /// Read `log stream --style ndjson` output from standard input.
    pub stdin: bool,
    /// Run `log stream` as a child (and `eslogger` when `eslogger` is set).
    pub endpoint: bool,
    /// Also run `eslogger` for process identities (needs root on a Mac).
    pub eslogger: bool,
    /// Program run for the unified log, normally `log`.
    pub log_command: String,
    /// Program run for Endpoint Security events, normally `eslogger`.
    pub eslogger_command: String,
    /// Interfaces to capture on (`live` feature).
    pub interfaces: Vec<String>,
    /// BPF filter for the interfaces.
    pub capture_filter: Option<String>,
    /// Wait before the first restart of a child that exited.
    pub restart_delay: Duration,
    /// Write alerts the policy suppressed, with their `suppressed_by`.
    pub show_suppressed: bool,
    /// Selection of the captured plain HTTP bodies that get an MD5 hash.
    pub body_hashing: BodyHashing,
}

impl Default for WatchOptions {
    fn default() -> Self {
        WatchOptions {
            detection: DetectionConfig::default(),
            stdin: false,
            endpoint: false,
            eslogger: false,
            log_command: "log".to_owned(),
            eslogger_command: "eslogger".to_owned(),
            interfaces: Vec::new(),
            capture_filter: None,
            restart_delay: Duration::from_secs(1),
            show_suppressed: false,
            body_hashing: BodyHashing::Every,
        }
    }
}

/// Message from a source thread to the calling thread.
enum Message {
    Line {
        input: String,
        record: Box<LogRecord>,
        event: Box<NetEvent>,
        connection: Option<(ConnectionKey, Box<EndpointConnection>)>,
    },
    Connection(Box<EndpointConnection>),
    Process(Box<EsEvent>),
    /// Only live capture sends flow records.
    #[cfg_attr(not(feature = "live"), allow(dead_code))]
    Record(Box<FlowRecord>),
    /// A source stopped for good, with the reason when it failed.
    Ended {
        source: String,
        error: Option<String>,
    },
}

/// Counts of a watch, for the summary when it stops.
#[derive(Debug, Default)]
pub struct WatchSummary {
    pub scan: Summary,
    /// Times a child was restarted after it exited.
    pub restarts: u64,
    /// Reasons sources stopped, for those that failed.
    pub failures: Vec<String>,
}

/// Children started by the sources, so that stopping can end them.
type Children = Arc<Mutex<Vec<Child>>>;

/// Watches until every source has ended or `stop` is set, writing alerts
/// to `sinks` as they are raised. Errors are only sink write failures.
pub fn watch(
    options: &WatchOptions,
    sinks: &mut [&mut dyn Sink],
    stop: &Arc<AtomicBool>,
) -> io::Result<WatchSummary> {
    let (sender, receiver) = sync_channel(CHANNEL_DEPTH);
    let children: Children = Arc::default();
    let restarts = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let sources = start_sources(options, &sender, stop, &children, &restarts);
    drop(sender);
    let scan_options = ScanOptions {
        detection: options.detection.clone(),
        show_suppressed: options.show_suppressed,
        body_hashing: options.body_hashing,
    };
    let mut pipeline = Pipeline::new(&scan_options, sinks, false);
    let mut summary = WatchSummary::default();
    summary.scan.baseline_config = options.detection.baseline.clone();
    let result = run(&mut pipeline, &receiver, sources, stop, &mut summary);
    stop.store(true, Ordering::Relaxed);
    end_children(&children);
    result?;
    pipeline.finish(&mut summary.scan)?;
    summary.restarts = restarts.load(Ordering::Relaxed);
    Ok(summary)
}

/// Takes messages until every source ended or `stop` is set.
fn run(
    pipeline: &mut Pipeline<'_, '_>,
    receiver: &Receiver<Message>,
    mut sources: usize,
    stop: &AtomicBool,
    summary: &mut WatchSummary,
) -> io::Result<()> {
    while sources > 0 && !stop.load(Ordering::Relaxed) {
        let message = match receiver.recv_timeout(POLL) {
            Ok(message) => message,
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => break,
        };
        match message {
            Message::Line {
                input,
                record,
                event,
                connection,
            } => {
                let connection = connection.as_ref().map(|(key, c)| (*key, c.as_ref()));
                pipeline.endpoint_line(&input, &record, &event, connection)?;
            }
            Message::Connection(connection) => pipeline.endpoint_connection(&connection)?,
            Message::Process(event) => pipeline.processes.feed(&event),
            Message::Record(record) => {
                pipeline.push_record(*record)?;
                pipeline.drain_all()?;
            }
            Message::Ended { source, error } => {
                sources -= 1;
                match error {
                    Some(error) => {
                        tracing::error!(source = %source, "{error}");
                        summary.failures.push(format!("{source}: {error}"));
                    }
                    None => tracing::info!(source = %source, "source ended"),
                }
            }
        }
    }
    Ok(())
}

/// Starts a thread per source; returns how many.
fn start_sources(
    options: &WatchOptions,
    sender: &SyncSender<Message>,
    stop: &Arc<AtomicBool>,
    children: &Children,
    restarts: &Arc<std::sync::atomic::AtomicU64>,
) -> usize {
    let mut started = 0;
    if options.stdin {
        let sender = sender.clone();
        thread::spawn(move || {
            let stdin = BufReader::new(io::stdin());
            let error = read_log("standard input", stdin, &sender).err();
            let _ = sender.send(Message::Ended {
                source: "standard input".to_owned(),
                error,
            });
        });
        started += 1;
    }
    if options.endpoint {
        let child = ChildSource {
            name: "log stream".to_owned(),
            program: options.log_command.clone(),
            args: log_stream_args(),
            kind: ChildKind::Log,
        };
        started += child.spawn(options, sender, stop, children, restarts);
        if options.eslogger {
            let child = ChildSource {
                name: "eslogger".to_owned(),
                program: options.eslogger_command.clone(),
                args: ESLOGGER_EVENTS.iter().map(|e| (*e).to_owned()).collect(),
                kind: ChildKind::Eslogger,
            };
            started += child.spawn(options, sender, stop, children, restarts);
        }
    }
    for interface in &options.interfaces {
        started += start_capture(interface, options, sender, stop);
    }
    started
}

/// Returns the arguments of `log stream` for the network stack's messages.
pub fn log_stream_args() -> Vec<String> {
    [
        "stream",
        "--style",
        "ndjson",
        "--level",
        "info",
        "--predicate",
        LOG_PREDICATE,
    ]
    .iter()
    .map(|a| (*a).to_owned())
    .collect()
}

#[cfg(feature = "live")]
fn start_capture(
    interface: &str,
    options: &WatchOptions,
    sender: &SyncSender<Message>,
    stop: &Arc<AtomicBool>,
) -> usize {
    let (interface, filter) = (interface.to_owned(), options.capture_filter.clone());
    let hashing = options.body_hashing;
    let (sender, stop) = (sender.clone(), Arc::clone(stop));
    thread::spawn(move || {
        let mut on_session = |session| {
            let _ = sender.send(Message::Record(Box::new(session)));
        };
        let result = crate::sources::live::capture_live(
            &interface,
            filter.as_deref(),
            hashing,
            &mut on_session,
            &stop,
        );
        let _ = sender.send(Message::Ended {
            source: format!("interface {interface}"),
            error: result.err(),
        });
    });
    1
}

#[cfg(not(feature = "live"))]
fn start_capture(
    interface: &str,
    _options: &WatchOptions,
    sender: &SyncSender<Message>,
    _stop: &Arc<AtomicBool>,
) -> usize {
    let _ = sender.send(Message::Ended {
        source: format!("interface {interface}"),
        error: Some(
            "this build of wiretrust has no live capture; rebuild with \
             `cargo build --release --features live` (needs libpcap's headers, Debian: \
             libpcap-dev)"
                .to_owned(),
        ),
    });
    1
}

/// Reads unified log NDJSON from `reader` until its end, sending every
/// network-stack line.
fn read_log<R: io::Read>(
    name: &str,
    reader: BufReader<R>,
    sender: &SyncSender<Message>,
) -> Result<(), String> {
    let mut tracker = ConnectionTracker::new(name);
    let mut stats = EndpointStats::default();
    let mut forward = Forward { sender };
    let result = read_export(
        reader,
        Some(Format::Ndjson),
        &mut tracker,
        &mut stats,
        &mut forward,
    );
    for connection in tracker.finish() {
        forward.connection(connection);
    }
    for error in &stats.errors {
        tracing::warn!(source = %name, "{error}");
    }
    result.map_err(|err| err.to_string())
}

/// Sends what an endpoint log yields to the calling thread.
struct Forward<'a> {
    sender: &'a SyncSender<Message>,
}

impl EndpointHandler for Forward<'_> {
    fn line(
        &mut self,
        input: &str,
        record: &LogRecord,
        event: &NetEvent,
        connection: Option<(ConnectionKey, &EndpointConnection)>,
    ) {
        let message = Message::Line {
            input: input.to_owned(),
            record: Box::new(record.clone()),
            event: Box::new(event.clone()),
            connection: connection.map(|(key, c)| (key, Box::new(c.clone()))),
        };
        let _ = self.sender.send(message);
    }

    fn connection(&mut self, connection: EndpointConnection) {
        let _ = self.sender.send(Message::Connection(Box::new(connection)));
    }
}

#[derive(Clone, Copy)]
enum ChildKind {
    Log,
    Eslogger,
}

/// A program whose output is a live source, restarted when it exits.
struct ChildSource {
    name: String,
    program: String,
    args: Vec<String>,
    kind: ChildKind,
}

impl ChildSource {
    fn spawn(
        self,
        options: &WatchOptions,
        sender: &SyncSender<Message>,
        stop: &Arc<AtomicBool>,
        children: &Children,
        restarts: &Arc<std::sync::atomic::AtomicU64>,
    ) -> usize {
        let initial = options.restart_delay;
        let (sender, stop) = (sender.clone(), Arc::clone(stop));
        let (children, restarts) = (Arc::clone(children), Arc::clone(restarts));
        thread::spawn(move || {
            let error = self.supervise(initial, &sender, &stop, &children, &restarts);
            let _ = sender.send(Message::Ended {
                source: self.name.clone(),
                error,
            });
        });
        1
    }

    /// Runs the program, reads its output, and restarts it after a delay
    /// that doubles while it keeps exiting quickly. Ends when `stop` is set
    /// or the program cannot be started at all.
    fn supervise(
        &self,
        initial: Duration,
        sender: &SyncSender<Message>,
        stop: &AtomicBool,
        children: &Children,
        restarts: &std::sync::atomic::AtomicU64,
    ) -> Option<String> {
        let mut delay = initial;
        loop {
            let started = Instant::now();
            let mut child = match self.start() {
                Ok(child) => child,
                Err(err) => return Some(format!("cannot start `{}`: {err}", self.program)),
            };
            let pid = child.id();
            tracing::info!(source = %self.name, pid, "started");
            let stdout = child.stdout.take();
            register(children, child);
            if let Some(stdout) = stdout {
                self.read(BufReader::new(stdout), sender);
            }
            let status = reap(children, pid);
            if stop.load(Ordering::Relaxed) {
                return None;
            }
            if started.elapsed() >= STABLE_RUN {
                delay = initial;
            }
            tracing::warn!(
                source = %self.name,
                "exited ({status}); restarting in {:.1} s",
                delay.as_secs_f64()
            );
            sleep_unless_stopped(delay, stop);
            if stop.load(Ordering::Relaxed) {
                return None;
            }
            restarts.fetch_add(1, Ordering::Relaxed);
            delay = (delay * 2).min(MAX_RESTART_DELAY);
        }
    }

    fn start(&self) -> io::Result<Child> {
        Command::new(&self.program)
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
    }

    fn read<R: io::Read>(&self, reader: BufReader<R>, sender: &SyncSender<Message>) {
        match self.kind {
            ChildKind::Log => {
                if let Err(err) = read_log(&self.name, reader, sender) {
                    tracing::warn!(source = %self.name, "{err}");
                }
            }
            ChildKind::Eslogger => read_eslogger(&self.name, reader, sender),
        }
    }
}

/// Bad lines logged word for word per run of a child at most; the rest
/// are counted in one line when the run ends.
const MAX_LOGGED_ERRORS: u64 = 10;

/// Sends every event `eslogger` writes; bad lines are logged and skipped.
fn read_eslogger<R: BufRead>(name: &str, reader: R, sender: &SyncSender<Message>) {
    let mut errors = 0u64;
    for item in EsReader::new(reader) {
        match item {
            Ok(event) => {
                let _ = sender.send(Message::Process(Box::new(event)));
            }
            Err(err) => {
                errors += 1;
                if errors <= MAX_LOGGED_ERRORS {
                    tracing::warn!(source = %name, "output of eslogger: {err}");
                }
            }
        }
    }
    if errors > MAX_LOGGED_ERRORS {
        tracing::warn!(
            source = %name,
            "{} more lines of eslogger output could not be read",
            errors - MAX_LOGGED_ERRORS
        );
    }
}

fn register(children: &Children, child: Child) {
    if let Ok(mut list) = children.lock() {
        list.push(child);
    }
}

/// Waits for the child `pid`, whose output has ended, and describes how
/// it exited.
fn reap(children: &Children, pid: u32) -> String {
    let child = children.lock().ok().and_then(|mut list| {
        let index = list.iter().position(|child| child.id() == pid)?;
        Some(list.swap_remove(index))
    });
    match child.map(|mut child| child.wait()) {
        Some(Ok(status)) => status.to_string(),
        Some(Err(err)) => format!("cannot wait for it: {err}"),
        // Stopping ended it already.
        None => "stopped".to_owned(),
    }
}

/// Ends every child still running.
fn end_children(children: &Children) {
    let Ok(mut list) = children.lock() else {
        return;
    };
    for child in list.iter_mut() {
        let _ = child.kill();
        let _ = child.wait();
    }
    list.clear();
}

fn sleep_unless_stopped(delay: Duration, stop: &AtomicBool) {
    let until = Instant::now() + delay;
    while Instant::now() < until && !stop.load(Ordering::Relaxed) {
        thread::sleep(POLL.min(until.saturating_duration_since(Instant::now())));
    }
}
