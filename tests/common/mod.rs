//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::io;
use std::path::{Path, PathBuf};

use wiretrust::detections::{Alert, DetectionConfig};
use wiretrust::observations::{HttpTransfer, TlsSession};
use wiretrust::scan::{NoProgress, ScanOptions, Summary, scan};
use wiretrust::sinks::Sink;

/// Everything one scan produced.
pub struct Scanned {
    pub sessions: Vec<TlsSession>,
    pub transfers: Vec<HttpTransfer>,
    pub alerts: Vec<Alert>,
    pub summary: Summary,
}

#[derive(Default)]
struct Collect {
    sessions: Vec<TlsSession>,
    transfers: Vec<HttpTransfer>,
    alerts: Vec<Alert>,
}

impl Sink for Collect {
    fn session(&mut self, session: &TlsSession) -> io::Result<()> {
        self.sessions.push(session.clone());
        Ok(())
    }
    fn transfer(&mut self, transfer: &HttpTransfer) -> io::Result<()> {
        self.transfers.push(transfer.clone());
        Ok(())
    }
    fn alert(&mut self, alert: &Alert) -> io::Result<()> {
        self.alerts.push(alert.clone());
        Ok(())
    }
    fn finish(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Scans `paths` in-process with the default detection settings.
pub fn scan_paths(paths: &[PathBuf]) -> Scanned {
    let options = ScanOptions {
        detection: DetectionConfig::default(),
        ..ScanOptions::default()
    };
    let mut collect = Collect::default();
    let summary = {
        let mut sinks: Vec<&mut dyn Sink> = vec![&mut collect];
        scan(paths, &options, &mut sinks, &mut NoProgress).expect("collecting sink cannot fail")
    };
    Scanned {
        sessions: collect.sessions,
        transfers: collect.transfers,
        alerts: collect.alerts,
        summary,
    }
}

/// Returns the public corpus folder, or `None` (and a note on stderr) when the
/// WIRETRUST_CORPUS variable is unset.
pub fn corpus(test: &str) -> Option<PathBuf> {
    match std::env::var_os("WIRETRUST_CORPUS") {
        Some(dir) if !dir.is_empty() => Some(PathBuf::from(dir)),
        _ => {
            eprintln!(
                "skipped {test}: WIRETRUST_CORPUS is unset (it names the public capture corpus)"
            );
            None
        }
    }
}

/// Returns the folder of expected-outcome case tables: WIRETRUST_CASES, else
/// `cases` beside the corpus folder.
pub fn cases_dir(corpus: &Path) -> PathBuf {
    match std::env::var_os("WIRETRUST_CASES") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => corpus.join("..").join("cases"),
    }
}

/// Returns the path of one of the project's captures recorded from real TLS stacks.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join("captures")
        .join(name)
}

/// Reads a tab-separated table with a header row into maps per row.
pub fn read_tsv(path: &Path) -> Vec<std::collections::HashMap<String, String>> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display()));
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split('\t').collect();
    lines
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            header
                .iter()
                .zip(line.split('\t').chain(std::iter::repeat("")))
                .map(|(k, v)| ((*k).to_owned(), v.to_owned()))
                .collect()
        })
        .collect()
}
