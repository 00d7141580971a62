//! `wiretrust baseline`: learn TLS profiles from inputs, list, export,
//! import and forget them.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use wiretrust::detections::StoreLocation;
use wiretrust::detections::baseline::BaselineConfig;
use wiretrust::observations::format_rfc3339;
use wiretrust::scan::{Execution, ScanOptions, scan_with};
use wiretrust::sinks::Sink;
use wiretrust_store::{Facet, ProfileFilter, SqliteStore, Store, TlsProfile};

use crate::cli::OutputFormat;
use crate::summary::write_problems;
use crate::{EXIT_CLEAN, EXIT_FAILED, EXIT_PARTIAL};

#[derive(Debug, Args)]
pub struct BaselineArgs {
    #[command(subcommand)]
    pub command: BaselineCommand,
    /// SQLite file of the baseline (default: the store `scan` uses).
    #[arg(long, value_name = "PATH", global = true)]
    pub store: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum BaselineCommand {
    /// Learn TLS profiles from captures and endpoint logs, raising no alerts.
    Learn(LearnArgs),
    /// List profiles as a table or JSON Lines.
    Show(ShowArgs),
    /// Write profiles to FILE as JSON Lines, one profile per line.
    Export {
        /// Output file.
        file: PathBuf,
        #[command(flatten)]
        filter: FilterArgs,
    },
    /// Merge profiles from a JSON Lines file written by `baseline export`.
    Import {
        /// Input file.
        file: PathBuf,
    },
    /// Delete profiles by host, process or server, or those not seen for a while.
    Forget(ForgetArgs),
}

#[derive(Debug, Args)]
pub struct LearnArgs {
    /// Captures, endpoint logs, or folders of them.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Host name the profiles are kept under (default: the client address
    /// of each capture session, the file name of each endpoint log).
    #[arg(long, value_name = "NAME")]
    pub host: Option<String>,
    /// Threads that read captures (default: the number of cores).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Commit after every N sightings, so a learn that is stopped keeps
    /// what it committed (default: one commit at the end).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub commit_every: Option<u64>,
}

/// Exact matches on a profile's key; unset fields match every profile.
#[derive(Debug, Args)]
pub struct FilterArgs {
    /// Host name or client address.
    #[arg(long, value_name = "H")]
    pub host: Option<String>,
    /// Process identity as `baseline show` lists it, e.g. `name:curl`.
    #[arg(long, value_name = "P")]
    pub process: Option<String>,
    /// Server name, or `IP:port` for sessions without one.
    #[arg(long, value_name = "S")]
    pub server: Option<String>,
}

impl FilterArgs {
    fn filter(&self) -> ProfileFilter {
        ProfileFilter {
            host: self.host.clone(),
            process: self.process.clone(),
            server: self.server.clone(),
        }
    }
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    #[command(flatten)]
    pub filter: FilterArgs,
    /// A table for people, or JSON Lines; `auto` is a table on a terminal.
    #[arg(long, value_enum, default_value_t = OutputFormat::Auto)]
    pub format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct ForgetArgs {
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Only profiles last seen longer ago than this: a number with s, m,
    /// h or d, e.g. 90d.
    #[arg(long, value_name = "AGE", value_parser = parse_duration_ns)]
    pub older_than: Option<i64>,
}

/// Runs one `baseline` subcommand.
pub fn run_baseline(args: &BaselineArgs, quiet: bool, verbose: bool) -> Result<u8> {
    let path = store_path(args.store.as_deref())?;
    match &args.command {
        BaselineCommand::Learn(learn) => run_learn(learn, &path, quiet, verbose),
        BaselineCommand::Show(show) => run_show(show, &path),
        BaselineCommand::Export { file, filter } => run_export(file, &filter.filter(), &path),
        BaselineCommand::Import { file } => run_import(file, &path, quiet),
        BaselineCommand::Forget(forget) => run_forget(forget, &path, quiet),
    }
}

fn store_path(option: Option<&Path>) -> Result<PathBuf> {
    if let Some(path) = option {
        return Ok(path.to_owned());
    }
    match wiretrust_store::default_path() {
        Some(path) => Ok(path),
        None => bail!("neither HOME nor XDG_DATA_HOME is set; pass --store PATH"),
    }
}

fn run_learn(args: &LearnArgs, store: &Path, quiet: bool, verbose: bool) -> Result<u8> {
    let mut options = ScanOptions::default();
    options.detection.host = args.host.clone();
    options.detection.store = StoreLocation::File(store.to_owned());
    options.detection.baseline = BaselineConfig {
        learn: true,
        detect: false,
        commit_every: args.commit_every,
        ..BaselineConfig::default()
    };
    let execution = Execution {
        threads: args.threads.unwrap_or_else(crate::default_threads),
        measure: false,
    };
    let mut sinks: Vec<&mut dyn Sink> = Vec::new();
    let mut progress = crate::progress::for_stderr(quiet);
    let summary = scan_with(
        &args.paths,
        &options,
        &execution,
        &mut sinks,
        progress.as_mut(),
    )?;
    let mut stderr = io::stderr().lock();
    write_problems(&mut stderr, &summary, verbose)?;
    let counts = summary.baseline;
    if !quiet {
        writeln!(
            stderr,
            "learned {} sightings into {} profiles ({} new) in {}",
            counts.learned,
            counts.written,
            counts.new_profiles,
            store.display()
        )?;
    }
    if summary.usable_inputs() == 0 {
        return Ok(EXIT_FAILED);
    }
    if summary.had_unreadable() {
        return Ok(EXIT_PARTIAL);
    }
    Ok(EXIT_CLEAN)
}

fn run_show(args: &ShowArgs, store: &Path) -> Result<u8> {
    let profiles = open(store)?.tls_profiles(&args.filter.filter())?;
    let stdout = io::stdout();
    let table = match args.format {
        OutputFormat::Auto => stdout.is_terminal(),
        OutputFormat::Table => true,
        OutputFormat::Jsonl => false,
    };
    let mut out = BufWriter::new(stdout.lock());
    if table {
        write_table(&mut out, &profiles)?;
    } else {
        write_lines(&mut out, &profiles)?;
    }
    out.flush()?;
    Ok(EXIT_CLEAN)
}

fn run_export(file: &Path, filter: &ProfileFilter, store: &Path) -> Result<u8> {
    let profiles = open(store)?.tls_profiles(filter)?;
    let created = File::create(file)
        .with_context(|| format!("cannot create the export file {}", file.display()))?;
    let mut out = BufWriter::new(created);
    write_lines(&mut out, &profiles)?;
    out.flush()
        .with_context(|| format!("cannot write the export file {}", file.display()))?;
    eprintln!("exported {} profiles to {}", profiles.len(), file.display());
    Ok(EXIT_CLEAN)
}

/// Merges every profile of `file` into the store in one transaction, so a
/// file with an invalid line changes nothing.
fn run_import(file: &Path, store_path: &Path, quiet: bool) -> Result<u8> {
    let input = File::open(file)
        .with_context(|| format!("cannot open the import file {}", file.display()))?;
    let mut store = open(store_path)?;
    let mut imported = 0u64;
    for (index, line) in BufReader::new(input).lines().enumerate() {
        let number = index + 1;
        let line = line.with_context(|| format!("cannot read {} line {number}", file.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        let profile: TlsProfile = serde_json::from_str(&line).with_context(|| {
            format!(
                "{} line {number} is not a profile written by `baseline export`; nothing was \
                 imported",
                file.display()
            )
        })?;
        let exact = ProfileFilter {
            host: Some(profile.key.host.clone()),
            process: Some(profile.key.process.clone()),
            server: Some(profile.key.server.clone()),
        };
        let merged = match store.tls_profiles(&exact)?.pop() {
            Some(mut stored) => {
                stored.merge(profile);
                stored
            }
            None => profile,
        };
        store.put_tls_profile(&merged)?;
        imported += 1;
    }
    store.commit()?;
    if !quiet {
        eprintln!(
            "imported {imported} profiles from {} into {}",
            file.display(),
            store_path.display()
        );
    }
    Ok(EXIT_CLEAN)
}

fn run_forget(args: &ForgetArgs, store_path: &Path, quiet: bool) -> Result<u8> {
    let filter = args.filter.filter();
    if filter == ProfileFilter::default() && args.older_than.is_none() {
        eprintln!(
            "error: baseline forget needs --host, --process, --server or --older-than; to \
             forget every profile, delete the store file"
        );
        return Ok(EXIT_FAILED);
    }
    let before = args.older_than.map(|age| now_ns().saturating_sub(age));
    let mut store = open(store_path)?;
    let deleted = store.forget_tls_profiles(&filter, before)?;
    store.commit()?;
    if !quiet {
        eprintln!("forgot {deleted} profiles in {}", store_path.display());
    }
    Ok(EXIT_CLEAN)
}

fn open(path: &Path) -> Result<SqliteStore> {
    Ok(SqliteStore::open(path)?)
}

fn write_lines(out: &mut dyn Write, profiles: &[TlsProfile]) -> Result<()> {
    for profile in profiles {
        serde_json::to_writer(&mut *out, profile)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

fn write_table(out: &mut dyn Write, profiles: &[TlsProfile]) -> Result<()> {
    if profiles.is_empty() {
        writeln!(out, "no profiles")?;
        return Ok(());
    }
    for profile in profiles {
        let key = &profile.key;
        writeln!(
            out,
            "{}  {}  {}  {} sessions, {} to {}",
            key.host,
            key.process,
            key.server,
            profile.sessions,
            format_rfc3339(profile.first_seen_ns),
            format_rfc3339(profile.last_seen_ns)
        )?;
        for facet in Facet::ALL {
            let seen_values = profile.facet(facet);
            if seen_values.is_empty() {
                continue;
            }
            let listed: Vec<String> = seen_values
                .iter()
                .map(|seen| format!("{} ({})", seen.value, seen.count))
                .collect();
            writeln!(out, "    {:<12} {}", facet.as_str(), listed.join(", "))?;
        }
    }
    Ok(())
}

fn now_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| {
            i64::try_from(since.as_nanos()).unwrap_or(i64::MAX)
        })
}

/// Parses a duration such as `90d`, `12h`, `30m`, `45s` or `0` into
/// nanoseconds.
pub fn parse_duration_ns(text: &str) -> Result<i64, String> {
    let invalid =
        || format!("invalid duration {text:?}; use a whole number with s, m, h or d, e.g. 7d");
    let trimmed = text.trim();
    if trimmed == "0" {
        return Ok(0);
    }
    let (number, unit) = trimmed.split_at(trimmed.len().saturating_sub(1));
    let seconds_per_unit: i64 = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(invalid()),
    };
    let count: i64 = number.parse().map_err(|_| invalid())?;
    if count < 0 {
        return Err(invalid());
    }
    count
        .checked_mul(seconds_per_unit)
        .and_then(|seconds| seconds.checked_mul(1_000_000_000))
        .ok_or_else(invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration_ns("0"), Ok(0));
        assert_eq!(parse_duration_ns("45s"), Ok(45_000_000_000));
        assert_eq!(parse_duration_ns("7d"), Ok(7 * 86_400 * 1_000_000_000));
        assert!(parse_duration_ns("7").is_err());
        assert!(parse_duration_ns("-1d").is_err());
        assert!(parse_duration_ns("d").is_err());
        assert!(parse_duration_ns("99999999999999d").is_err());
    }
}
