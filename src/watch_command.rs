//! `wiretrust watch`: turns the arguments into watch options, streams
//! alerts to standard output as they are raised, and stops cleanly on
//! Ctrl-C with a summary on standard error.

use std::cell::Cell;
use std::io::{self, IsTerminal, LineWriter, Write};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result, bail};
use wiretrust::detections::StoreLocation;
use wiretrust::detections::baseline::BaselineConfig;
use wiretrust::sinks::{AlertLines, AlertStream, Sink};
use wiretrust::watch::{WatchOptions, WatchSummary, watch};

use crate::cli::{OutputFormat, WatchArgs};
use crate::{EXIT_CLEAN, EXIT_FAILED, body_hashing, create_observations, detection_config};

/// Baseline sightings learned between commits in `watch`: a crash loses at
/// most this many, and each commit writes the changed profiles once.
const WATCH_COMMIT_EVERY: u64 = 1_000;

/// Runs the watch until Ctrl-C or until every source has ended.
pub fn run_watch(args: &WatchArgs, quiet: bool) -> Result<u8> {
    let options = watch_options(args)?;
    let stop = Arc::new(AtomicBool::new(false));
    let on_signal = Arc::clone(&stop);
    ctrlc::set_handler(move || on_signal.store(true, Ordering::Relaxed))
        .context("cannot install the Ctrl-C handler")?;

    let stdout = io::stdout();
    let lines = match args.format {
        OutputFormat::Auto => stdout.is_terminal(),
        OutputFormat::Table => true,
        OutputFormat::Jsonl => false,
    };
    // A line writer hands each alert to the reader as soon as it is written.
    let out = LineWriter::new(stdout.lock());
    let mut alerts: Box<dyn Sink> = if lines {
        Box::new(AlertStream::new(out))
    } else {
        Box::new(AlertLines::new(out))
    };
    let written = Rc::new(Cell::new(0u64));
    let mut observations = match &args.observations {
        Some(path) => Some(create_observations(path, &written)?),
        None => None,
    };
    let mut sinks: Vec<&mut dyn Sink> = vec![alerts.as_mut()];
    if let Some(lines) = observations.as_mut() {
        sinks.push(lines);
    }
    let summary = watch(&options, &mut sinks, &stop)?;
    if !quiet {
        write_summary(&mut io::stderr().lock(), &summary)?;
    }
    let failed = !summary.failures.is_empty() && summary.scan.endpoint_lines == 0;
    Ok(if failed { EXIT_FAILED } else { EXIT_CLEAN })
}

fn watch_options(args: &WatchArgs) -> Result<WatchOptions> {
    let other_source = args.stdin || !args.interface.is_empty();
    let endpoint = args.endpoint || (cfg!(target_os = "macos") && !other_source);
    if !endpoint && !other_source {
        bail!(
            "nothing to watch: give --stdin (log stream NDJSON on standard input), \
             --interface NAME, or --endpoint to run `log stream`"
        );
    }
    let eslogger = !args.no_eslogger && (args.eslogger || is_root());
    let mut detection = detection_config(&args.detection)?;
    if let Some(path) = &args.baseline_store {
        detection.store = StoreLocation::File(path.clone());
        detection.baseline = BaselineConfig {
            learn: true,
            detect: true,
            learning_period_ns: 0,
            commit_every: Some(WATCH_COMMIT_EVERY),
        };
    }
    // Watching this Mac's own log: its alerts come from this host.
    if endpoint && detection.host.is_none() {
        detection.host = host_name();
    }
    let body_hashing = body_hashing(args.observations.is_some(), &detection);
    Ok(WatchOptions {
        detection,
        body_hashing,
        stdin: args.stdin,
        endpoint,
        eslogger,
        log_command: args.log_command.clone(),
        eslogger_command: args.eslogger_command.clone(),
        interfaces: args.interface.clone(),
        capture_filter: args.capture_filter.clone(),
        show_suppressed: args.detection.policy.show_suppressed,
        ..WatchOptions::default()
    })
}

#[cfg(unix)]
pub(crate) fn host_name() -> Option<String> {
    let name = rustix::system::uname()
        .nodename()
        .to_string_lossy()
        .into_owned();
    (!name.is_empty()).then_some(name)
}

#[cfg(not(unix))]
pub(crate) fn host_name() -> Option<String> {
    None
}

#[cfg(unix)]
fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

#[cfg(not(unix))]
fn is_root() -> bool {
    false
}

fn write_summary(out: &mut dyn Write, summary: &WatchSummary) -> io::Result<()> {
    let alerts: u64 = summary.scan.alerts_by_detection.values().sum();
    writeln!(
        out,
        "watched: {}, {}, {}, {}",
        plural(summary.scan.endpoint_lines, "network-stack line"),
        plural(summary.scan.endpoint_connections, "endpoint connection"),
        plural(summary.scan.sessions, "TLS session"),
        plural(alerts, "alert")
    )?;
    for (detection, count) in &summary.scan.alerts_by_detection {
        writeln!(out, "    {detection}: {count}")?;
    }
    if let Some(line) = crate::summary::baseline_line(&summary.scan) {
        writeln!(out, "  {line}")?;
    }
    if summary.restarts > 0 {
        writeln!(
            out,
            "  sources restarted {}",
            plural(summary.restarts, "time")
        )?;
    }
    for failure in &summary.failures {
        writeln!(out, "error: {failure}")?;
    }
    Ok(())
}

use wiretrust::plural::plural;
