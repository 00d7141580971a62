//! The `wiretrust` command: parses arguments and wires the library's
//! sources, detections and sinks together.

mod baseline_command;
mod cli;
mod progress;
mod summary;
mod verify_command;
mod watch_command;

use std::cell::Cell;
use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::rc::Rc;

use anyhow::{Context, Result, bail};
use clap::Parser;

use cli::{Cli, Command, OutputFormat, RulesCommand, ScanArgs};
use summary::{write_problems, write_stats, write_summary};
use wiretrust::detections::baseline::BaselineConfig;
use wiretrust::detections::{DetectionConfig, RULES, Severity, StoreLocation, rule};
use wiretrust::scan::{Execution, ScanOptions, scan_with};
use wiretrust::sinks::{AlertLines, AlertTable, ObservationLines, Sink, wrap};

// Scans allocate many short-lived strings and boxes per record; mimalloc
// serves them faster than the system allocator (see BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Exit status: completed with no alert at or above `--fail-on`.
pub(crate) const EXIT_CLEAN: u8 = 0;
/// Exit status: alerts at or above `--fail-on`.
pub(crate) const EXIT_ALERTS: u8 = 1;
/// Exit status: bad arguments, or no input was usable at all.
pub(crate) const EXIT_FAILED: u8 = 2;
/// Exit status: completed, but some input or part of one was unreadable.
pub(crate) const EXIT_PARTIAL: u8 = 3;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose, cli.quiet);
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(err) if is_broken_pipe(&err) => ExitCode::from(EXIT_CLEAN),
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(EXIT_FAILED)
        }
    }
}

fn run(cli: Cli) -> Result<u8> {
    match cli.command {
        Command::Scan(args) => run_scan(&args, cli.quiet, cli.verbose > 0),
        Command::Watch(args) => watch_command::run_watch(&args, cli.quiet),
        Command::Rules(rules) => run_rules(rules.command),
        Command::Verify(args) => verify_command::run_verify(&args, cli.quiet, cli.verbose > 0),
        Command::Baseline(args) => {
            baseline_command::run_baseline(&args, cli.quiet, cli.verbose > 0)
        }
    }
}

fn run_scan(args: &ScanArgs, quiet: bool, verbose: bool) -> Result<u8> {
    let mut detection = detection_config(&args.detection);
    detection.store = store_location(args);
    detection.baseline = baseline_config(args, &detection.store);
    let options = ScanOptions { detection };
    let stdout = io::stdout();
    let terminal = stdout.is_terminal();
    let format = match args.format {
        OutputFormat::Auto if terminal => OutputFormat::Table,
        OutputFormat::Auto => OutputFormat::Jsonl,
        other => other,
    };
    let written = Rc::new(Cell::new(0u64));
    let out = Counted::new(BufWriter::new(stdout.lock()), &written);
    let mut alerts: Box<dyn Sink> = match format {
        OutputFormat::Table => Box::new(AlertTable::new(out, terminal_width())),
        _ => Box::new(AlertLines::new(out)),
    };

    let mut observations = open_observations(args, &written)?;
    let mut sinks: Vec<&mut dyn Sink> = vec![alerts.as_mut()];
    if let Some(lines) = observations.as_mut() {
        sinks.push(lines);
    }

    let execution = Execution {
        threads: args.threads.unwrap_or_else(default_threads),
        measure: args.stats,
    };
    let mut progress = progress::for_stderr(quiet);
    let summary = scan_with(
        &args.paths,
        &options,
        &execution,
        &mut sinks,
        progress.as_mut(),
    )?;

    let mut stderr = io::stderr().lock();
    if quiet {
        write_problems(&mut stderr, &summary, verbose)?;
    } else {
        write_summary(&mut stderr, &summary, verbose)?;
    }
    if args.stats {
        write_stats(&mut stderr, &summary, written.get())?;
    }
    Ok(exit_status(&summary, args.fail_on))
}

/// Builds the detection settings from the command line.
pub(crate) fn detection_config(args: &cli::DetectionArgs) -> DetectionConfig {
    DetectionConfig {
        min_version: args.min_version.0,
        host: args.host.clone(),
        burst_threshold: args.burst_threshold as usize,
        burst_window_ns: i64::from(args.burst_window) * 1_000_000_000,
        ..DetectionConfig::default()
    }
}

/// Chooses where file hashes are kept: `--no-store` keeps them in memory,
/// `--store` names the file, else the user's data folder.
fn store_location(args: &ScanArgs) -> StoreLocation {
    if args.no_store {
        return StoreLocation::Memory;
    }
    if let Some(path) = &args.store {
        return StoreLocation::File(path.clone());
    }
    match wiretrust_store::default_path() {
        Some(path) => StoreLocation::File(path),
        None => {
            tracing::warn!(
                "neither HOME nor XDG_DATA_HOME is set, so file hashes are compared within \
                 this scan only; pass --store PATH to keep them"
            );
            StoreLocation::Memory
        }
    }
}

/// Learns and compares TLS baselines when the store is a file; with
/// `--no-store` there is no earlier run to compare with.
fn baseline_config(args: &ScanArgs, store: &StoreLocation) -> BaselineConfig {
    if *store == StoreLocation::Memory {
        return BaselineConfig::default();
    }
    BaselineConfig {
        learn: !args.no_learn,
        detect: true,
        learning_period_ns: args.learning_period,
        commit_every: None,
    }
}

/// Returns one worker per core the system lets this process use, or 1
/// when that number is not available.
pub(crate) fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// A writer that adds the bytes it accepts to a shared count, for the
/// output line of `--stats`.
pub(crate) struct Counted<W> {
    inner: W,
    count: Rc<Cell<u64>>,
}

impl<W: Write> Counted<W> {
    pub(crate) fn new(inner: W, count: &Rc<Cell<u64>>) -> Self {
        Counted {
            inner,
            count: Rc::clone(count),
        }
    }
}

impl<W: Write> Write for Counted<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let written = self.inner.write(buf)?;
        let total = self.count.get().saturating_add(written as u64);
        self.count.set(total);
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn open_observations(
    args: &ScanArgs,
    written: &Rc<Cell<u64>>,
) -> Result<Option<ObservationLines<Counted<BufWriter<File>>>>> {
    let Some(path) = &args.observations else {
        return Ok(None);
    };
    reject_input_as_observations(path, &args.paths)?;
    create_observations(path, written).map(Some)
}

/// Creates the observations file, counting what is written to it.
pub(crate) fn create_observations(
    path: &Path,
    written: &Rc<Cell<u64>>,
) -> Result<ObservationLines<Counted<BufWriter<File>>>> {
    let file = File::create(path)
        .with_context(|| format!("cannot create the observations file {}", path.display()))?;
    let out = Counted::new(BufWriter::new(file), written);
    Ok(ObservationLines::new(out))
}

/// Rejects an observations path that names one of the inputs, or an
/// existing capture file, so a slip on the command line cannot destroy
/// evidence.
pub(crate) fn reject_input_as_observations(path: &Path, inputs: &[PathBuf]) -> Result<()> {
    let Ok(target) = path.canonicalize() else {
        return Ok(()); // does not exist yet
    };
    let named = inputs
        .iter()
        .filter_map(|input| input.canonicalize().ok())
        .any(|input| input == target);
    if named {
        bail!(
            "--observations {} is also an input; choose another file for the observations",
            path.display()
        );
    }
    // The capture reader recognises every format it accepts by content.
    let is_capture = wiretrust_pcap::CaptureReader::open(&target).is_ok();
    if is_capture {
        bail!(
            "--observations {} is an existing packet capture, so it is not overwritten; \
             choose another file for the observations",
            path.display()
        );
    }
    Ok(())
}

fn exit_status(summary: &wiretrust::scan::Summary, fail_on: Severity) -> u8 {
    if summary.usable_inputs() == 0 {
        return EXIT_FAILED;
    }
    if summary.alerts_at_or_above(fail_on) > 0 {
        return EXIT_ALERTS;
    }
    if summary.had_unreadable() {
        return EXIT_PARTIAL;
    }
    EXIT_CLEAN
}

fn run_rules(command: Option<RulesCommand>) -> Result<u8> {
    let mut out = io::stdout().lock();
    let id_width = RULES.iter().map(|rule| rule.id.len()).max().unwrap_or(0);
    match command {
        None | Some(RulesCommand::List) => {
            for rule in RULES {
                let id = rule.id;
                let severity = rule.default_severity;
                writeln!(out, "{id:<id_width$}  {severity:<8}  {}", rule.summary)?;
            }
        }
        Some(RulesCommand::Explain { id }) => {
            let Some(rule) = rule(&id) else {
                let known: Vec<&str> = RULES.iter().map(|r| r.id).collect();
                eprintln!(
                    "error: no detection named {id:?}; known: {}",
                    known.join(", ")
                );
                return Ok(EXIT_FAILED);
            };
            let width = terminal_width().map_or(79, usize::from).clamp(40, 100);
            writeln!(
                out,
                "{}  (default severity: {})\n",
                rule.id, rule.default_severity
            )?;
            for paragraph in [
                rule.meaning.to_owned(),
                format!("False positives: {}", rule.false_positives),
                format!("Tuning: {}", rule.tuning),
                "ATT&CK: T1565.002 Transmitted Data Manipulation (DET0254, AN0704)".to_owned(),
            ] {
                for line in wrap(&paragraph, width, 0) {
                    writeln!(out, "{line}")?;
                }
                writeln!(out)?;
            }
        }
    }
    Ok(EXIT_CLEAN)
}

pub(crate) fn terminal_width() -> Option<u16> {
    std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok())
}

pub(crate) fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain()
        .filter_map(|cause| cause.downcast_ref::<io::Error>())
        .any(|io| io.kind() == io::ErrorKind::BrokenPipe)
}

fn init_logging(verbose: u8, quiet: bool) {
    let default = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        _ => "trace",
    };
    // macos-unifiedlogs warns once per entry whose format string is not in
    // the archive's uuidtext or dsc files; the summary counts what matters.
    let directives = format!("{default},macos_unifiedlogs=error");
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(directives));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(io::stderr)
        .with_ansi(io::stderr().is_terminal())
        .init();
}
