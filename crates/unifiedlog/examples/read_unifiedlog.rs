//! Reads one unified log export or log archive and prints what the reader
//! counted, with the time it took. `scripts/bench/unifiedlog.sh` times it.
//!
//! Usage: read_unifiedlog [--all] [--print] PATH
//!
//! PATH is a text export (`log show|stream --style ndjson|json`, or
//! macos-unifiedlogs JSON Lines), a `.logarchive` folder or a `.tracev3`
//! file inside one. By default the network filter is used; `--all` keeps
//! every record. `--print` writes each kept record's raw text to stdout.
//! Counters and errors go to stderr. Exits 2 when the input cannot be read.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use wiretrust_unifiedlog::{
    Filter, LogError, LogReader, LogRecord, LogStats, is_logarchive, read_logarchive,
};

/// Errors printed in full before only the count goes on.
const MAX_PRINTED_ERRORS: u64 = 20;

fn main() -> ExitCode {
    let mut filter = Filter::Network;
    let mut print = false;
    let mut path = None;
    for argument in std::env::args().skip(1) {
        match argument.as_str() {
            "--all" => filter = Filter::All,
            "--print" => print = true,
            _ if path.is_none() && !argument.starts_with("--") => path = Some(argument),
            _ => {
                eprintln!("usage: read_unifiedlog [--all] [--print] PATH");
                return ExitCode::from(2);
            }
        }
    }
    let Some(path) = path else {
        eprintln!("usage: read_unifiedlog [--all] [--print] PATH");
        return ExitCode::from(2);
    };
    match run(Path::new(&path), filter, print) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("read_unifiedlog: {message}");
            ExitCode::from(2)
        }
    }
}

fn run(path: &Path, filter: Filter, print: bool) -> Result<(), String> {
    let started = Instant::now();
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let stats = if is_logarchive(path) {
        let mut reader = read_logarchive(path, filter).map_err(|error| error.to_string())?;
        drain(&mut reader, &mut out, print);
        reader.stats().clone()
    } else {
        let file = File::open(path).map_err(|error| format!("{}: {error}", path.display()))?;
        let mut reader = LogReader::new(BufReader::new(file), filter)
            .map_err(|error| format!("{}: {error}", path.display()))?;
        eprintln!("format: {}", reader.format());
        drain(&mut reader, &mut out, print);
        reader.stats().clone()
    };
    out.flush()
        .map_err(|error| format!("writing stdout failed: {error}"))?;
    report(&stats, started.elapsed().as_secs_f64());
    Ok(())
}

/// Consumes every item, printing records when asked and the first errors.
fn drain(
    items: &mut dyn Iterator<Item = Result<LogRecord, LogError>>,
    out: &mut impl Write,
    print: bool,
) {
    let mut errors = 0;
    for item in items {
        match item {
            Ok(record) if print => {
                if writeln!(out, "{}", record.raw).is_err() {
                    return;
                }
            }
            Ok(_) => {}
            Err(error) => {
                errors += 1;
                if errors <= MAX_PRINTED_ERRORS {
                    eprintln!("{error}");
                }
            }
        }
    }
}

fn report(stats: &LogStats, seconds: f64) {
    eprintln!(
        "bytes {} lines {} records {} parsed {} kept {} skipped_by_prefilter {} \
         loss_events {} lost_messages {} errors {} warnings {} trailer_count {}",
        stats.bytes,
        stats.lines,
        stats.records,
        stats.parsed,
        stats.relevant,
        stats.skipped_by_prefilter,
        stats.loss_events,
        stats.lost_messages,
        stats.errors,
        stats.warnings,
        stats
            .trailer_count
            .map_or_else(|| "none".to_owned(), |count| count.to_string()),
    );
    let megabytes = stats.bytes as f64 / 1e6;
    eprintln!(
        "time {seconds:.3} s, {:.0} MB/s",
        megabytes / seconds.max(1e-9)
    );
}
