//! `wiretrust baseline`: learn TLS profiles from inputs, list, export,
//! import and forget them.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use wiretrust::detections::StoreLocation;
use wiretrust::detections::baseline::BaselineConfig;
use wiretrust::observations::format_rfc3339;
use wiretrust::scan::{Execution, ScanOptions, scan_with};
use wiretrust::sinks::Sink;
use wiretrust_store::{Facet, ProfileFilter, SqliteStore, Store, TlsProfile};

use crate::cli::{BaselineArgs, BaselineCommand, ForgetArgs, LearnArgs, OutputFormat, ShowArgs};
use crate::summary::write_problems;
use crate::{EXIT_CLEAN, EXIT_FAILED, EXIT_PARTIAL};

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
