//! Endpoint Security events from `eslogger` as a source: who each process
//! was (path, code-signing identity), so that alerts from logs and
//! captures can name it by pid and time, and which process wrote each file.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use wiretrust_eslogger::{EsReader, ProcessTable};

use super::provenance::FileWriters;

/// Error lines quoted word for word per input at most.
const MAX_EXAMPLES: usize = 10;

/// Counts from reading one eslogger file, for the summary.
#[derive(Debug, Default)]
pub struct EsloggerStats {
    pub lines: u64,
    pub events: u64,
    /// Lines that could not be read, word for word while few.
    pub errors: Vec<String>,
    pub errors_total: u64,
}

/// Reads one eslogger file into `processes`, and the processes that
/// wrote files into `writers`.
///
/// Returns an error only when the file could not be opened.
pub fn read_eslogger(
    path: &Path,
    input_name: &str,
    processes: &mut ProcessTable,
    writers: &mut FileWriters,
) -> Result<EsloggerStats, String> {
    let file = File::open(path).map_err(|err| format!("cannot open {input_name}: {err}"))?;
    let mut reader = EsReader::new(BufReader::new(file));
    let mut stats = EsloggerStats::default();
    for item in reader.by_ref() {
        match item {
            Ok(event) => {
                stats.events += 1;
                processes.feed(&event);
                writers.feed(&event);
            }
            Err(err) => {
                stats.errors_total += 1;
                if stats.errors.len() < MAX_EXAMPLES {
                    stats.errors.push(format!("{input_name}: {err}"));
                }
            }
        }
    }
    stats.lines = reader.stats().lines;
    Ok(stats)
}
