//! `wiretrust baseline`: learn TLS profiles from inputs, list, export,
//! import and forget them.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use wiretrust::detections::StoreLocation;
use wiretrust::detections::baseline::BaselineConfig;
use wiretrust::observations::format_rfc3339;
use wiretrust::plural::plural;
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
            "learned {} into {} ({} new) in {}",
            plural(counts.learned, "sighting"),
            plural(counts.written, "profile"),
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
    let profiles = open_existing(store)?.tls_profiles(&args.filter.filter())?;
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
    if profiles.is_empty() && !table {
        eprintln!("no profile in {} matches the filter", store.display());
    }
    Ok(EXIT_CLEAN)
}

fn run_export(file: &Path, filter: &ProfileFilter, store: &Path) -> Result<u8> {
    let profiles = open_existing(store)?.tls_profiles(filter)?;
    if file == Path::new("-") {
        let mut out = BufWriter::new(io::stdout().lock());
        write_lines(&mut out, &profiles)?;
        out.flush()?;
        return Ok(EXIT_CLEAN);
    }
    let created = File::create(file)
        .with_context(|| format!("cannot create the export file {}", file.display()))?;
    let mut out = BufWriter::new(created);
    write_lines(&mut out, &profiles)?;
    out.flush()
        .with_context(|| format!("cannot write the export file {}", file.display()))?;
    eprintln!(
        "exported {} to {}",
        plural(profiles.len() as u64, "profile"),
        file.display()
    );
    Ok(EXIT_CLEAN)
}

/// Maximum length of an import line, in bytes. A profile has no limit on
/// its values, so an export line can grow past a megabyte. A line past
/// this limit is rejected before it is held in memory whole.
const MAX_IMPORT_LINE: usize = 64 << 20;

/// Field names of an exported profile line, as [`TlsProfile`] writes them.
const PROFILE_FIELDS: [&str; 14] = [
    "host",
    "process",
    "server",
    "first_seen_ns",
    "last_seen_ns",
    "sessions",
    "versions",
    "suites",
    "groups",
    "alpn",
    "ja4",
    "spki_sha256",
    "issuers",
    "transports",
];

/// Unites the store with every profile of `file` (`-` for standard input)
/// in one transaction, so a file with an invalid line changes nothing.
/// When the store did not exist and the import fails, the store file it
/// created is removed again.
fn run_import(file: &Path, store_path: &Path, quiet: bool) -> Result<u8> {
    let existed = store_path.exists();
    let result = import_lines(file, store_path, quiet);
    if result.is_err() && !existed {
        for suffix in ["", "-wal", "-shm"] {
            let mut path = store_path.as_os_str().to_owned();
            path.push(suffix);
            // A file that is already gone is what is wanted.
            let _ = std::fs::remove_file(path);
        }
    }
    result
}

/// Reads the import lines into the store and commits them.
fn import_lines(file: &Path, store_path: &Path, quiet: bool) -> Result<u8> {
    let stdin = file == Path::new("-");
    let name = if stdin {
        "standard input".to_owned()
    } else {
        file.display().to_string()
    };
    let mut input: Box<dyn BufRead> = if stdin {
        Box::new(io::stdin().lock())
    } else {
        let opened = File::open(file)
            .with_context(|| format!("cannot open the import file {}", file.display()))?;
        Box::new(BufReader::new(opened))
    };
    let mut store = open(store_path)?;
    let mut imported = 0u64;
    let mut keys = std::collections::HashSet::new();
    let mut line = Vec::new();
    let mut number = 0usize;
    loop {
        number += 1;
        line.clear();
        let read = (&mut input)
            .take(MAX_IMPORT_LINE as u64 + 1)
            .read_until(b'\n', &mut line)
            .with_context(|| format!("cannot read {name} line {number}"))?;
        if read == 0 {
            break;
        }
        if line.last() == Some(&b'\n') {
            line.pop();
        } else if line.len() > MAX_IMPORT_LINE {
            bail!(
                "{name} line {number} is longer than {MAX_IMPORT_LINE} bytes, so it is not a \
                 profile written by `baseline export`; nothing was imported"
            );
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let profile = parse_profile(&line).map_err(|reason| {
            anyhow::anyhow!(
                "{name} line {number} is not a valid profile written by `baseline export`: \
                 {reason}; nothing was imported"
            )
        })?;
        store.unite_tls_profile(&profile)?;
        keys.insert(profile.key.clone());
        imported += 1;
    }
    store.commit()?;
    if !quiet {
        eprintln!(
            "imported {} from {name} into {} in {}",
            plural(imported, "line"),
            plural(keys.len() as u64, "profile"),
            store_path.display()
        );
    }
    Ok(EXIT_CLEAN)
}

/// Parses one export line, rejecting fields an export does not write and
/// impossible times. The error names the field.
fn parse_profile(line: &[u8]) -> Result<TlsProfile, String> {
    let value: serde_json::Value = serde_json::from_slice(line).map_err(|err| err.to_string())?;
    let Some(object) = value.as_object() else {
        return Err("the line is not a JSON object".to_owned());
    };
    // serde's `deny_unknown_fields` does not work with the flattened key,
    // so the top-level fields are checked here.
    if let Some(unknown) = object
        .keys()
        .find(|field| !PROFILE_FIELDS.contains(&field.as_str()))
    {
        return Err(format!("unknown field `{unknown}`"));
    }
    let profile: TlsProfile = serde_json::from_value(value).map_err(|err| err.to_string())?;
    profile.validate()?;
    Ok(profile)
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
    let mut store = open_existing(store_path)?;
    let deleted = store.forget_tls_profiles(&filter, before)?;
    store.commit()?;
    if !quiet {
        eprintln!(
            "forgot {} in {}",
            plural(deleted, "profile"),
            store_path.display()
        );
    }
    Ok(EXIT_CLEAN)
}

fn open(path: &Path) -> Result<SqliteStore> {
    Ok(SqliteStore::open(path)?)
}

/// Opens a store that must exist, for commands that only read or delete,
/// so a mistyped path is an error instead of a new empty store.
fn open_existing(path: &Path) -> Result<SqliteStore> {
    if !path.exists() {
        bail!(
            "store {} not found; check the --store path, or create the store with \
             `wiretrust baseline learn` or `wiretrust scan`",
            path.display()
        );
    }
    open(path)
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
            "{}  {}  {}  {}, {} to {}",
            key.host,
            key.process,
            key.server,
            plural(profile.sessions, "session"),
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
