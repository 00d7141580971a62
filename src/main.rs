//! The `wiretrust` command: parses arguments and wires the library's
//! sources, detections and sinks together.

mod baseline_command;
mod cli;
mod progress;
mod sigma_command;
mod summary;
mod verify_command;
mod watch_command;

use std::cell::Cell;
use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::rc::Rc;
use std::sync::Arc;

use anyhow::{Context, Result, anyhow, bail};
use clap::Parser;

use cli::{Cli, Command, OutputFormat, PolicyCommand, RulesCommand, ScanArgs};
use summary::{write_problems, write_stats, write_summary};
use wiretrust::detections::baseline::BaselineConfig;
use wiretrust::detections::{
    DETECTION_IDS, DetectionConfig, Severity, StoreLocation, explain, explanation, rule,
};
use wiretrust::policy::{BUILTIN_TOML, Policy};
use wiretrust::scan::{BodyHashing, Execution, ScanOptions, scan_with};
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
        Command::Policy(policy) => run_policy(policy.command),
        Command::Verify(args) => verify_command::run_verify(&args, cli.quiet, cli.verbose > 0),
        Command::Baseline(args) => {
            baseline_command::run_baseline(&args, cli.quiet, cli.verbose > 0)
        }
    }
}

fn run_scan(args: &ScanArgs, quiet: bool, verbose: bool) -> Result<u8> {
    let mut detection = detection_config(&args.detection)?;
    if args.no_learn
        && let Some(path) = &args.store
        && !path.exists()
    {
        bail!(
            "store {} not found; --no-learn compares with an existing store, so check the \
             path, or leave out --no-learn to create it",
            path.display()
        );
    }
    detection.store = store_location(args);
    detection.baseline = baseline_config(args, &detection.store);
    let body_hashing = body_hashing(args.observations.is_some(), &detection);
    let options = ScanOptions {
        detection,
        show_suppressed: args.detection.policy.show_suppressed,
        body_hashing,
    };
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

/// Chooses the plain HTTP body hashing. The `http_transfer` records and
/// Sigma rules get the MD5 of every body. Otherwise MD5 is computed only
/// where a detection reads it, which leaves the alerts unchanged.
pub(crate) fn body_hashing(observations: bool, detection: &DetectionConfig) -> BodyHashing {
    if observations || detection.sigma_rules.is_some() {
        BodyHashing::Every
    } else {
        BodyHashing::WhenUsed
    }
}

/// Builds the detection settings from the policy, with the command line's
/// flags overriding the policy's values.
pub(crate) fn detection_config(args: &cli::DetectionArgs) -> Result<DetectionConfig> {
    let policy = load_policy(&args.policy)?;
    let mut config = DetectionConfig::from_policy(policy, args.host.clone());
    if let Some(path) = &args.rules {
        config.sigma_rules = Some(Arc::new(sigma_command::load(path)?));
    }
    if let Some(version) = args.min_version {
        config.min_version = version.0;
    }
    if let Some(threshold) = args.burst_threshold {
        config.burst_threshold = threshold as usize;
    }
    if let Some(window) = args.burst_window {
        config.burst_window_ns = i64::from(window) * 1_000_000_000;
    }
    Ok(config)
}

/// Reads `--policy`, or returns the built-in default without it.
pub(crate) fn load_policy(args: &cli::PolicyFileArgs) -> Result<Arc<Policy>> {
    let Some(path) = &args.policy else {
        return Ok(Arc::new(Policy::default()));
    };
    let policy = Policy::load(path).map_err(|err| anyhow!("invalid policy: {err}"))?;
    tracing::info!(policy = %path.display(), "policy loaded");
    Ok(Arc::new(policy))
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
    match command {
        None | Some(RulesCommand::List) => write_rule_list(&mut out)?,
        Some(RulesCommand::Test { path }) => return sigma_command::run_test(&path),
        Some(RulesCommand::Explain { id }) => {
            let Some(explained) = explanation(&id) else {
                match closest_detection(&id) {
                    Some(closest) => eprintln!(
                        "error: no detection named {id:?}; did you mean {closest:?}? \
                         `wiretrust rules` lists every id"
                    ),
                    None => eprintln!(
                        "error: no detection named {id:?}; known: {}",
                        DETECTION_IDS.join(", ")
                    ),
                }
                return Ok(EXIT_FAILED);
            };
            write_explanation(&mut out, explained)?;
        }
    }
    Ok(EXIT_CLEAN)
}

/// Returns the detection id nearest to `id` by edit distance, when it is
/// close enough to be a typo: at most a third of the id's length, or the
/// id is the part after the dot (`stripped` for `tls.stripped`).
fn closest_detection(id: &str) -> Option<&'static str> {
    let limit = (id.len() / 3).max(2);
    let by_suffix = DETECTION_IDS
        .iter()
        .find(|known| known.rsplit('.').next() == Some(id));
    let by_distance = DETECTION_IDS
        .iter()
        .map(|known| (strsim::levenshtein(id, known), *known))
        .filter(|(distance, _)| *distance <= limit)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, known)| known);
    by_distance.or(by_suffix.copied())
}

/// Lists every detection id with its default severity and summary. Ids
/// that this build does not raise yet are marked.
fn write_rule_list(out: &mut dyn Write) -> io::Result<()> {
    let id_width = DETECTION_IDS.iter().map(|id| id.len()).max().unwrap_or(0);
    for explained in explain::EXPLANATIONS {
        let id = explained.id;
        let severity = explained.default_severity;
        let summary = match rule(id) {
            Some(rule) => rule.summary,
            None => "(not raised by this build)",
        };
        writeln!(out, "{id:<id_width$}  {severity:<8}  {summary}")?;
    }
    Ok(())
}

fn write_explanation(out: &mut dyn Write, explained: &explain::Explanation) -> io::Result<()> {
    let width = terminal_width().map_or(79, usize::from).clamp(40, 100);
    writeln!(
        out,
        "{}  (default severity: {})\n",
        explained.id, explained.default_severity
    )?;
    let (meaning, false_positives) = match rule(explained.id) {
        Some(rule) => (rule.meaning.to_owned(), rule.false_positives),
        None => (
            format!("{} This build does not raise it yet.", explained.meaning),
            explained.false_positives,
        ),
    };
    for paragraph in [
        meaning,
        format!("Evidence: {}", explained.evidence),
        format!("False positives: {false_positives}"),
        format!(
            "Tuning: {} Every detection: {}",
            explained.tuning,
            explain::common_tuning()
        ),
        format!("ATT&CK: {} (DET0254, AN0704)", explained.attack),
    ] {
        for line in wrap(&paragraph, width, 0) {
            writeln!(out, "{line}")?;
        }
        writeln!(out)?;
    }
    Ok(())
}

fn run_policy(command: PolicyCommand) -> Result<u8> {
    match command {
        PolicyCommand::Show => {
            io::stdout().lock().write_all(BUILTIN_TOML.as_bytes())?;
            Ok(EXIT_CLEAN)
        }
        PolicyCommand::Check { file } => match Policy::load(&file) {
            Ok(policy) => {
                println!("{}: valid policy{}", file.display(), policy_counts(&policy));
                Ok(EXIT_CLEAN)
            }
            Err(err) => {
                eprintln!("error: {err}");
                Ok(EXIT_FAILED)
            }
        },
    }
}

/// Counts of the entries that change behaviour, for `policy check`.
fn policy_counts(policy: &Policy) -> String {
    let counts = [
        (policy.tls_servers.len(), "server override"),
        (policy.pins.len(), "pin"),
        (policy.suppressions.len(), "suppression"),
        (policy.severity.len(), "severity override"),
        (policy.critical_assets.len(), "critical asset"),
    ];
    let listed: Vec<String> = counts
        .iter()
        .filter(|(count, _)| *count > 0)
        .map(|(count, name)| format!("{count} {name}{}", if *count == 1 { "" } else { "s" }))
        .collect();
    if listed.is_empty() {
        String::new()
    } else {
        format!(" ({})", listed.join(", "))
    }
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
