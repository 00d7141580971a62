//! Line-by-line reading of eslogger output.

use std::collections::BTreeMap;
use std::io::{self, BufRead};

use thiserror::Error;

use crate::event::{EsEvent, parse_message};
use crate::json::{FieldError, FieldProblem};

/// Maximum line length the reader parses: 16 MiB, an estimate well above
/// the few kilobytes of a typical eslogger line and the larger exec events
/// that carry a whole environment. A longer line is skipped as
/// [`EsError::LineTooLong`] without being buffered whole.
pub const DEFAULT_MAX_LINE_BYTES: usize = 16 << 20;

/// A line that could not be turned into an event. Every variant but
/// [`EsError::Io`] leaves the reader going on with the next line.
#[derive(Debug, Error)]
pub enum EsError {
    /// Reading the input failed; the reader stops.
    #[error("line {line}: reading failed: {source}")]
    Io {
        line: u64,
        #[source]
        source: io::Error,
    },
    /// The line is longer than the reader's limit and was skipped.
    #[error(
        "line {line}: {len} bytes exceed the line limit of {max} bytes; the line was skipped \
         (raise the limit with EsReader::with_max_line if such lines are expected)"
    )]
    LineTooLong { line: u64, len: u64, max: usize },
    /// The line is not valid UTF-8.
    #[error("line {line}: invalid UTF-8; eslogger writes UTF-8 JSON, so the file is damaged")]
    InvalidUtf8 { line: u64 },
    /// The line is not valid JSON.
    #[error("line {line}: invalid JSON: {message}")]
    InvalidJson { line: u64, message: String },
    /// A field every message of this kind carries is missing or null.
    #[error("line {line}: missing field {field}")]
    MissingField { line: u64, field: String },
    /// A field has a value of the wrong type.
    #[error("line {line}: field {field} is invalid: expected {expected}")]
    InvalidField {
        line: u64,
        field: String,
        expected: &'static str,
    },
}

impl EsError {
    /// Returns the 1-based line number the error refers to.
    pub fn line(&self) -> u64 {
        match self {
            EsError::Io { line, .. }
            | EsError::LineTooLong { line, .. }
            | EsError::InvalidUtf8 { line }
            | EsError::InvalidJson { line, .. }
            | EsError::MissingField { line, .. }
            | EsError::InvalidField { line, .. } => *line,
        }
    }

    fn from_field(line: u64, error: FieldError) -> Self {
        match error.problem {
            FieldProblem::Missing => EsError::MissingField {
                line,
                field: error.field,
            },
            FieldProblem::Invalid(expected) => EsError::InvalidField {
                line,
                field: error.field,
                expected,
            },
        }
    }
}

/// Counters kept while reading.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EsStats {
    /// Lines read, blank ones included.
    pub lines: u64,
    /// Blank lines, which are skipped silently.
    pub blank_lines: u64,
    /// Events returned.
    pub events: u64,
    /// Events returned, by event name.
    pub by_kind: BTreeMap<String, u64>,
    /// Errors returned.
    pub errors: u64,
    /// Events whose numeric `event_type` is not the number of their named
    /// event. The name wins; the count shows a changed numbering or a
    /// hand-made file.
    pub event_type_mismatches: u64,
    /// Line of the first such event.
    pub first_event_type_mismatch: Option<u64>,
}

/// Iterator over the events of eslogger JSON Lines.
#[derive(Debug)]
pub struct EsReader<R: BufRead> {
    input: R,
    buffer: Vec<u8>,
    max_line: usize,
    stats: EsStats,
    finished: bool,
}

impl<R: BufRead> EsReader<R> {
    /// Reads from `input` with the [`DEFAULT_MAX_LINE_BYTES`] limit.
    pub fn new(input: R) -> Self {
        Self::with_max_line(input, DEFAULT_MAX_LINE_BYTES)
    }

    /// Reads from `input`, skipping lines longer than `max_line` bytes.
    pub fn with_max_line(input: R, max_line: usize) -> Self {
        EsReader {
            input,
            buffer: Vec::new(),
            max_line,
            stats: EsStats::default(),
            finished: false,
        }
    }

    /// Returns the counters so far.
    pub fn stats(&self) -> &EsStats {
        &self.stats
    }

    /// Reads one line into the buffer without its line ending. Returns the
    /// line's full length, or `None` at the end of the input. Bytes past
    /// the limit are read and dropped.
    fn read_line(&mut self) -> io::Result<Option<u64>> {
        self.buffer.clear();
        let mut len = 0u64;
        let mut seen_any = false;
        loop {
            let chunk = self.input.fill_buf()?;
            if chunk.is_empty() {
                return Ok(seen_any.then_some(len));
            }
            seen_any = true;
            let (take, done) = match chunk.iter().position(|&b| b == b'\n') {
                Some(at) => (at, true),
                None => (chunk.len(), false),
            };
            let room = (self.max_line + 1).saturating_sub(self.buffer.len());
            let kept = chunk.get(..take.min(room)).unwrap_or_default();
            self.buffer.extend_from_slice(kept);
            len = len.saturating_add(take as u64);
            self.input.consume(if done { take + 1 } else { take });
            if done {
                if self.buffer.last() == Some(&b'\r') {
                    self.buffer.pop();
                    len = len.saturating_sub(1);
                }
                return Ok(Some(len));
            }
        }
    }

    /// Parses the buffered line.
    fn parse(&mut self, line: u64) -> Result<EsEvent, EsError> {
        let text = std::str::from_utf8(&self.buffer).map_err(|_| EsError::InvalidUtf8 { line })?;
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|err| EsError::InvalidJson {
                line,
                message: err.to_string(),
            })?;
        let parsed = parse_message(&value, line).map_err(|err| EsError::from_field(line, err))?;
        let expected = parsed.event.kind.event_type();
        if let (Some(expected), Some(found)) = (expected, parsed.event_type)
            && expected != found
        {
            self.stats.event_type_mismatches += 1;
            self.stats.first_event_type_mismatch.get_or_insert(line);
        }
        Ok(parsed.event)
    }
}

impl<R: BufRead> Iterator for EsReader<R> {
    type Item = Result<EsEvent, EsError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.finished {
            let line = self.stats.lines + 1;
            let len = match self.read_line() {
                Ok(Some(len)) => len,
                Ok(None) => {
                    self.finished = true;
                    return None;
                }
                Err(source) => {
                    self.finished = true;
                    self.stats.errors += 1;
                    return Some(Err(EsError::Io { line, source }));
                }
            };
            self.stats.lines = line;
            let result = if len > self.max_line as u64 {
                Err(EsError::LineTooLong {
                    line,
                    len,
                    max: self.max_line,
                })
            } else if self.buffer.iter().all(u8::is_ascii_whitespace) {
                self.stats.blank_lines += 1;
                continue;
            } else {
                self.parse(line)
            };
            match &result {
                Ok(event) => {
                    self.stats.events += 1;
                    let name = event.kind.name();
                    match self.stats.by_kind.get_mut(name) {
                        Some(count) => *count += 1,
                        None => {
                            self.stats.by_kind.insert(name.to_owned(), 1);
                        }
                    }
                }
                Err(_) => self.stats.errors += 1,
            }
            return Some(result);
        }
        None
    }
}
