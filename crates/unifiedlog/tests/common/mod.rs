//! Helpers shared by the integration tests.

#![allow(dead_code)]

use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use wiretrust_unifiedlog::{Filter, LogError, LogReader, LogRecord, LogStats};

/// Returns a path inside the public corpus, or `None` (after printing that
/// the test is skipped) when WIRETRUST_CORPUS is unset or lacks the path.
pub fn corpus_path(test: &str, relative: &str) -> Option<PathBuf> {
    let Some(root) = std::env::var_os("WIRETRUST_CORPUS") else {
        println!("{test}: skipped, WIRETRUST_CORPUS is unset");
        return None;
    };
    let path = Path::new(&root).join(relative);
    if !path.exists() {
        println!("{test}: skipped, {} does not exist", path.display());
        return None;
    }
    Some(path)
}

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Everything one reader yields, split into records and errors, with its final counters.
pub struct Outcome {
    pub records: Vec<LogRecord>,
    pub errors: Vec<LogError>,
    pub stats: LogStats,
}

pub fn read_all<R: BufRead>(mut reader: LogReader<R>) -> Outcome {
    let mut records = Vec::new();
    let mut errors = Vec::new();
    for item in reader.by_ref() {
        match item {
            Ok(record) => records.push(record),
            Err(error) => errors.push(error),
        }
    }
    Outcome {
        records,
        errors,
        stats: reader.stats().clone(),
    }
}

/// Reads `bytes` after sniffing their format.
pub fn read_bytes(bytes: &[u8], filter: Filter) -> Outcome {
    let reader = LogReader::new(bytes, filter).expect("format recognised");
    read_all(reader)
}

/// A reader that returns at most `step` bytes per call, so that lines and
/// elements arrive split at every possible point.
pub struct Trickle<'a> {
    pub data: &'a [u8],
    pub step: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let len = self.step.min(buf.len()).min(self.data.len());
        buf[..len].copy_from_slice(&self.data[..len]);
        self.data = &self.data[len..];
        Ok(len)
    }
}

pub fn trickle(data: &[u8], step: usize) -> BufReader<Trickle<'_>> {
    BufReader::with_capacity(step, Trickle { data, step })
}

/// A reader that fails after `good` bytes.
pub struct FailAfter<'a> {
    pub data: &'a [u8],
    pub good: usize,
}

impl Read for FailAfter<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.good == 0 {
            return Err(io::Error::other("simulated disk failure"));
        }
        let len = self.good.min(buf.len()).min(self.data.len());
        buf[..len].copy_from_slice(&self.data[..len]);
        self.data = &self.data[len..];
        self.good -= len;
        Ok(len)
    }
}
