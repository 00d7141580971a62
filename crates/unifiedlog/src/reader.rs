//! Streams records out of a text export: NDJSON, JSON Lines or a JSON array.

use std::io::BufRead;

use memchr::{memchr, memchr_iter, memrchr};
use serde::Deserialize;

use crate::entry::{AppleEntry, CrateEntry, Entry};
use crate::error::{LogError, LogErrorKind};
use crate::filter::{Filter, HitCursor, Prefilter};
use crate::input::Input;
use crate::scan::ValueScan;
use crate::sniff::{SNIFF_LEN, is_trailer, sniff};
use crate::{Format, Location, LogRecord, LogStats, MAX_RECORD_LEN, raw_text};

/// First line `log stream` prints before its records.
const BANNER: &[u8] = b"Filtering the log data";
/// The trailer `{"count":N,"finished":1}` is far shorter than any record.
const MAX_TRAILER_LEN: usize = 64;
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

type Item = Result<LogRecord, LogError>;

/// Reads the records of a unified log text export, in input order, keeping
/// those its [`Filter`] keeps.
///
/// Memory stays bounded whatever the input size: one buffer of
/// [`MAX_RECORD_LEN`] bytes plus the record being built. A line or array
/// element longer than that is an error and is skipped without being held.
/// An error on one record (invalid JSON, a missing field) is yielded, and
/// reading goes on with the next record. An I/O error or a truncated JSON
/// array ends the iteration after its error.
///
/// Under [`Filter::Network`] lines without a prefilter hit are never parsed,
/// so invalid JSON in them is not reported; they count in
/// [`LogStats::skipped_by_prefilter`]. Lines that do not start with `{` are
/// reported under every filter, except blank lines and the `log stream`
/// banner before the first record.
pub struct LogReader<R: BufRead> {
    input: Input<R>,
    core: Core,
    mode: Mode,
    /// Line number of `input.buf[input.start]`.
    line: u64,
    /// End of the complete lines in `input.buf` (line mode).
    block_end: usize,
    hits: HitCursor,
    array: ArrayState,
    /// Bytes after the last newline were consumed (array mode).
    partial_line: bool,
    /// An error found while handling another, yielded next.
    pending: Option<LogError>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Lines,
    Array,
    Done,
}

/// State of the array reader: between elements, or inside one.
#[derive(Debug)]
enum ArrayState {
    /// Before the opening `[`.
    Open,
    /// After `[` or `,`: a value or (after `[` only) `]` follows.
    Value { first: bool },
    /// After an element: `,` or `]` follows.
    Separator,
    /// Inside an element that starts at `input.start` (unless skipping).
    Element(ElementState),
    /// After the closing `]`: only whitespace may follow.
    After,
}

#[derive(Debug)]
struct ElementState {
    location: Location,
    scan: ValueScan,
    /// Bytes of the element scanned so far, from `input.start`.
    scanned: usize,
    /// The element is too long and is being dropped as it is read.
    skipping: bool,
}

/// The parts of the reader that handle one line or element once it is cut out.
struct Core {
    format: Format,
    filter: Filter,
    prefilter: Prefilter,
    stats: LogStats,
    /// `stats.records` when the last trailer was read.
    records_at_trailer: u64,
    /// Whether records carry their original text in [`LogRecord::raw`].
    keep_raw: bool,
}

impl<R: BufRead> LogReader<R> {
    /// Recognises the export's format from its first [`SNIFF_LEN`] bytes and
    /// prepares to read it.
    ///
    /// Fails when those bytes cannot be read or match no known format.
    pub fn new(reader: R, filter: Filter) -> Result<Self, LogError> {
        let mut input = Input::new(reader, MAX_RECORD_LEN + 1);
        let start = Location { line: 1, offset: 0 };
        if let Err(error) = input.fill_to(SNIFF_LEN) {
            return Err(LogError::new(start, LogErrorKind::Io(error)));
        }
        let Some(format) = sniff(&input.buf[..input.filled]) else {
            return Err(LogError::new(start, LogErrorKind::UnknownFormat));
        };
        Ok(Self::from_input(input, format, filter))
    }

    /// Prepares to read an export in a format the caller has determined.
    pub fn with_format(reader: R, format: Format, filter: Filter) -> Self {
        Self::from_input(Input::new(reader, MAX_RECORD_LEN + 1), format, filter)
    }

    fn from_input(input: Input<R>, format: Format, filter: Filter) -> Self {
        let mode = match format {
            Format::JsonArray => Mode::Array,
            Format::Ndjson | Format::UnifiedLogsJsonl => Mode::Lines,
        };
        let mut reader = Self {
            input,
            core: Core {
                format,
                filter,
                prefilter: Prefilter::new(),
                stats: LogStats::default(),
                records_at_trailer: 0,
                keep_raw: true,
            },
            mode,
            line: 1,
            block_end: 0,
            hits: HitCursor::default(),
            array: ArrayState::Open,
            partial_line: false,
            pending: None,
        };
        reader.core.stats.bytes = reader.input.total;
        reader
    }

    /// Sets whether records carry their original text in [`LogRecord::raw`]
    /// (the default). Without it `raw` is empty, which saves a copy of up to
    /// [`crate::MAX_RAW`] bytes per record for callers that never read it.
    pub fn keep_raw(mut self, keep: bool) -> Self {
        self.core.keep_raw = keep;
        self
    }

    /// Returns the export's format.
    pub fn format(&self) -> Format {
        self.core.format
    }

    /// Returns the filter in use.
    pub fn filter(&self) -> Filter {
        self.core.filter
    }

    /// Returns the counters of what has been read so far.
    pub fn stats(&self) -> &LogStats {
        &self.core.stats
    }

    fn location_here(&self) -> Location {
        Location {
            line: self.line,
            offset: self.input.offset(self.input.start),
        }
    }

    fn io_error(&mut self, error: std::io::Error) -> LogError {
        self.mode = Mode::Done;
        LogError::new(self.location_here(), LogErrorKind::Io(error))
    }

    /// Skips a UTF-8 byte order mark at the very start of the input.
    fn skip_bom(&mut self) -> Result<(), LogError> {
        if self.input.base == 0 && self.input.start == 0 {
            if let Err(error) = self.input.fill_to(UTF8_BOM.len()) {
                return Err(self.io_error(error));
            }
            if self.input.buf[..self.input.filled].starts_with(UTF8_BOM) {
                self.input.start = UTF8_BOM.len();
            }
        }
        Ok(())
    }
}

impl<R: BufRead> Iterator for LogReader<R> {
    type Item = Item;

    fn next(&mut self) -> Option<Item> {
        let item = match self.pending.take() {
            Some(error) => Some(Err(error)),
            None => match self.mode {
                Mode::Lines => self.next_from_lines(),
                Mode::Array => self.next_from_array(),
                Mode::Done => None,
            },
        };
        let stats = &mut self.core.stats;
        stats.bytes = self.input.total;
        if let Some(Err(error)) = &item {
            if error.is_warning() {
                stats.warnings += 1;
            } else {
                stats.errors += 1;
            }
        }
        item
    }
}

// Line mode: NDJSON and JSON Lines.
impl<R: BufRead> LogReader<R> {
    fn next_from_lines(&mut self) -> Option<Item> {
        if self.input.base == 0
            && self.input.start == 0
            && self.line == 1
            && let Err(error) = self.skip_bom()
        {
            return Some(Err(error));
        }
        loop {
            if self.input.start >= self.block_end {
                match self.next_block() {
                    Ok(true) => {}
                    Ok(false) => {
                        self.mode = Mode::Done;
                        return None;
                    }
                    Err(error) => return Some(Err(error)),
                }
            }
            if let Some(item) = self.next_line() {
                return Some(item);
            }
        }
    }

    /// Makes `input.buf[input.start..block_end]` a block of complete lines.
    /// Returns `Ok(false)` at the end of the input.
    fn next_block(&mut self) -> Result<bool, LogError> {
        self.hits.reset();
        // Until a block is found, no bytes count as complete lines (a long
        // line's skip moves `input.start` to an unrelated position).
        self.block_end = 0;
        loop {
            let (start, filled) = (self.input.start, self.input.filled);
            if let Some(newline) = memrchr(b'\n', &self.input.buf[start..filled]) {
                self.block_end = start + newline + 1;
                return Ok(true);
            }
            if self.input.eof {
                // The last line has no line end.
                self.block_end = filled;
                return Ok(start < filled);
            }
            if self.input.is_full() {
                return Err(self.skip_long_line());
            }
            if let Err(error) = self.input.fill() {
                return Err(self.io_error(error));
            }
        }
    }

    /// Drops a line that filled the whole buffer without a line end, reading
    /// on to its end without keeping it.
    fn skip_long_line(&mut self) -> LogError {
        let location = self.location_here();
        self.line += 1;
        self.core.stats.lines += 1;
        self.core.stats.records += 1;
        loop {
            self.input.discard();
            match self.input.fill() {
                Ok(0) => break,
                Ok(_) => {
                    if let Some(newline) = memchr(b'\n', &self.input.buf[..self.input.filled]) {
                        self.input.start = newline + 1;
                        break;
                    }
                }
                Err(error) => {
                    self.pending = Some(self.io_error(error));
                    break;
                }
            }
        }
        LogError::new(
            location,
            LogErrorKind::LineTooLong {
                max: MAX_RECORD_LEN,
            },
        )
    }

    /// Handles the line at `input.start`; returns what it yields, if anything.
    fn next_line(&mut self) -> Option<Item> {
        let start = self.input.start;
        let block = &self.input.buf[..self.block_end];
        let end = memchr(b'\n', &block[start..]).map_or(block.len(), |at| start + at);
        self.input.start = (end + 1).min(block.len());
        let location = Location {
            line: self.line,
            offset: self.input.offset(start),
        };
        self.line += 1;
        let core = &mut self.core;
        core.stats.lines += 1;

        let mut line = &block[start..end];
        if let [rest @ .., b'\r'] = line {
            line = rest;
        }
        if line.first() != Some(&b'{') {
            let trimmed = line.trim_ascii();
            if trimmed.is_empty() || (trimmed.starts_with(BANNER) && core.stats.records == 0) {
                return None;
            }
            if trimmed.first() != Some(&b'{') {
                core.stats.records += 1;
                return Some(Err(LogError::new(location, LogErrorKind::NotAnObject)));
            }
            line = trimmed;
        }
        if line.len() <= MAX_TRAILER_LEN && is_trailer(line) {
            return core.read_trailer(line, location);
        }
        core.stats.records += 1;
        if line.len() > MAX_RECORD_LEN {
            let kind = LogErrorKind::LineTooLong {
                max: MAX_RECORD_LEN,
            };
            return Some(Err(LogError::new(location, kind)));
        }
        if core.filter == Filter::Network
            && self.hits.first_from(&core.prefilter, block, start) >= end
        {
            // A line the prefilter skips is not parsed, but a line cut short
            // (a damaged file, a stream that ended mid-record) is still
            // caught by its missing closing brace.
            if line.trim_ascii_end().last() != Some(&b'}') {
                return Some(Err(LogError::new(location, LogErrorKind::Unterminated)));
            }
            core.stats.skipped_by_prefilter += 1;
            return None;
        }
        core.parse(line, location)
    }
}

// Array mode: `log show --style json`.
impl<R: BufRead> LogReader<R> {
    fn next_from_array(&mut self) -> Option<Item> {
        if matches!(self.array, ArrayState::Open)
            && let Err(error) = self.skip_bom()
        {
            return Some(Err(error));
        }
        loop {
            if let ArrayState::Element(_) = self.array {
                if let Some(item) = self.step_element() {
                    return Some(item);
                }
                if self.mode == Mode::Done {
                    return None;
                }
                continue;
            }
            let byte = match self.next_significant_byte() {
                Ok(Some(byte)) => byte,
                Ok(None) => return self.end_of_array_input(),
                Err(error) => return Some(Err(error)),
            };
            if let Some(item) = self.step_between(byte) {
                return Some(item);
            }
            if self.mode == Mode::Done {
                return None;
            }
        }
    }

    /// Skips whitespace, counting lines, and returns the byte at
    /// `input.start` without consuming it; `None` at the end of the input.
    fn next_significant_byte(&mut self) -> Result<Option<u8>, LogError> {
        loop {
            while self.input.start < self.input.filled {
                let byte = self.input.buf[self.input.start];
                if !byte.is_ascii_whitespace() {
                    return Ok(Some(byte));
                }
                self.consume_whitespace(byte);
            }
            if self.input.eof {
                return Ok(None);
            }
            if let Err(error) = self.input.fill() {
                return Err(self.io_error(error));
            }
        }
    }

    fn consume_whitespace(&mut self, byte: u8) {
        self.input.start += 1;
        if byte == b'\n' {
            self.line += 1;
            self.core.stats.lines += 1;
            self.partial_line = false;
        } else {
            self.partial_line = true;
        }
    }

    /// Counts the lines in consumed bytes that are not whitespace alone.
    fn count_lines(&mut self, bytes_start: usize, bytes_end: usize) {
        let bytes = &self.input.buf[bytes_start..bytes_end];
        let newlines = memchr_iter(b'\n', bytes).count() as u64;
        self.line += newlines;
        self.core.stats.lines += newlines;
        if let Some(&last) = bytes.last() {
            self.partial_line = last != b'\n';
        }
    }

    /// The input ended outside an element.
    fn end_of_array_input(&mut self) -> Option<Item> {
        self.mode = Mode::Done;
        self.core.stats.lines += u64::from(self.partial_line);
        self.partial_line = false;
        match self.array {
            ArrayState::After => None,
            _ => {
                let location = self.location_here();
                Some(Err(LogError::new(location, LogErrorKind::TruncatedArray)))
            }
        }
    }

    /// Handles a byte that is not whitespace, between elements.
    fn step_between(&mut self, byte: u8) -> Option<Item> {
        let location = self.location_here();
        let unexpected = |expected| {
            let found = char::from(byte);
            Some(Err(LogError::new(
                location,
                LogErrorKind::UnexpectedInArray { found, expected },
            )))
        };
        match (&self.array, byte) {
            (ArrayState::Open, b'[') => {
                self.consume_byte();
                self.array = ArrayState::Value { first: true };
                None
            }
            (ArrayState::Open, _) => {
                self.mode = Mode::Done;
                unexpected("`[` opening the array")
            }
            (ArrayState::Value { first: true }, b']') | (ArrayState::Separator, b']') => {
                self.consume_byte();
                self.array = ArrayState::After;
                None
            }
            (ArrayState::Separator, b',') => {
                self.consume_byte();
                self.array = ArrayState::Value { first: false };
                None
            }
            (ArrayState::Separator, _) => {
                // A missing comma: report it and read the value that follows.
                self.array = ArrayState::Value { first: false };
                unexpected("`,` or `]` after an array element")
            }
            (
                ArrayState::Value { .. },
                b'{' | b'[' | b'"' | b'-' | b'0'..=b'9' | b't' | b'f' | b'n',
            ) => {
                self.array = ArrayState::Element(ElementState {
                    location,
                    scan: ValueScan::default(),
                    scanned: 0,
                    skipping: false,
                });
                None
            }
            (ArrayState::Value { first: false }, b']') => {
                // A comma before the closing bracket: the array still ends.
                self.consume_byte();
                self.array = ArrayState::After;
                unexpected("an array element after `,`")
            }
            (ArrayState::Value { .. }, _) => {
                self.consume_byte();
                unexpected("an array element")
            }
            (ArrayState::After, _) => {
                self.mode = Mode::Done;
                Some(Err(LogError::new(location, LogErrorKind::TrailingData)))
            }
            (ArrayState::Element(_), _) => None,
        }
    }

    fn consume_byte(&mut self) {
        self.input.start += 1;
        self.partial_line = true;
    }

    /// Scans the current element further; yields once it is complete (or
    /// found too long), or when the input ends inside it.
    fn step_element(&mut self) -> Option<Item> {
        let ArrayState::Element(element) = &mut self.array else {
            return None;
        };
        let start = self.input.start;
        let filled = self.input.filled;
        if element.skipping {
            let end = element.scan.scan(&self.input.buf[start..filled]);
            let consumed = end.map_or(filled, |len| start + len);
            self.count_lines(start, consumed);
            self.input.start = consumed;
            if end.is_some() {
                self.array = ArrayState::Separator;
                return None;
            }
            self.input.discard();
            return self.fill_in_element();
        }

        let scanned = element.scanned;
        match element.scan.scan(&self.input.buf[start + scanned..filled]) {
            Some(rest) => {
                let location = element.location;
                let end = start + scanned + rest;
                self.array = ArrayState::Separator;
                self.count_lines(start, end);
                self.input.start = end;
                self.finish_element(start, end, location)
            }
            None => {
                element.scanned = filled - start;
                if element.scanned > MAX_RECORD_LEN {
                    let location = element.location;
                    element.skipping = true;
                    self.count_lines(start, filled);
                    self.input.discard();
                    self.core.stats.records += 1;
                    let kind = LogErrorKind::ElementTooLong {
                        max: MAX_RECORD_LEN,
                    };
                    return Some(Err(LogError::new(location, kind)));
                }
                self.fill_in_element()
            }
        }
    }

    /// Reads more of the current element; at the end of the input, reports
    /// the array as truncated where the element starts.
    fn fill_in_element(&mut self) -> Option<Item> {
        match self.input.fill() {
            Ok(0) if self.input.eof => {
                let ArrayState::Element(element) = &self.array else {
                    return None;
                };
                let location = element.location;
                self.mode = Mode::Done;
                self.core.stats.lines += u64::from(self.partial_line);
                Some(Err(LogError::new(location, LogErrorKind::TruncatedArray)))
            }
            Ok(_) => None,
            Err(error) => Some(Err(self.io_error(error))),
        }
    }

    fn finish_element(&mut self, start: usize, end: usize, location: Location) -> Option<Item> {
        let element = &self.input.buf[start..end];
        let core = &mut self.core;
        core.stats.records += 1;
        if element.len() > MAX_RECORD_LEN {
            let kind = LogErrorKind::ElementTooLong {
                max: MAX_RECORD_LEN,
            };
            return Some(Err(LogError::new(location, kind)));
        }
        if element.first() != Some(&b'{') {
            return Some(Err(LogError::new(location, LogErrorKind::NotAnObject)));
        }
        if core.filter == Filter::Network && !core.prefilter.matches(element) {
            core.stats.skipped_by_prefilter += 1;
            return None;
        }
        core.parse(element, location)
    }
}

/// The `{"count":N,"finished":1}` trailer of `log show --style ndjson`.
#[derive(Deserialize)]
struct Trailer {
    count: u64,
}

impl Core {
    /// Parses one record; yields it when the filter keeps it.
    fn parse(&mut self, bytes: &[u8], location: Location) -> Option<Item> {
        match self.format {
            Format::Ndjson | Format::JsonArray => self.parse_as::<AppleEntry>(bytes, location),
            Format::UnifiedLogsJsonl => self.parse_as::<CrateEntry>(bytes, location),
        }
    }

    fn parse_as<'a, E: Entry<'a>>(&mut self, bytes: &'a [u8], location: Location) -> Option<Item> {
        self.stats.parsed += 1;
        // One UTF-8 check of the whole line is cheaper than serde_json's check
        // of each string. On invalid UTF-8, from_slice reports where it is.
        let parsed = match std::str::from_utf8(bytes) {
            Ok(text) => E::read_fast(text).map_or_else(|| serde_json::from_str(text), Ok),
            Err(_) => serde_json::from_slice(bytes),
        };
        let entry: E = match parsed {
            Ok(entry) => entry,
            Err(error) => {
                return Some(Err(LogError::new(
                    location,
                    LogErrorKind::InvalidJson(error),
                )));
            }
        };
        if let Some(count) = entry.trailer_count() {
            // A trailer written with spaces, which the byte check missed.
            self.stats.records -= 1;
            self.stats.parsed -= 1;
            return self.count_trailer(count, location);
        }
        if let Some(lost) = entry.loss() {
            self.stats.loss_events += 1;
            self.stats.lost_messages += lost;
        }
        if let Some(field) = entry.missing_field() {
            return Some(Err(LogError::new(
                location,
                LogErrorKind::MissingField(field),
            )));
        }
        let [subsystem, category, process, sender] = entry.origin();
        if !self
            .filter
            .keeps_fields(subsystem, category, process, sender)
        {
            return None;
        }
        let raw = if self.keep_raw {
            raw_text(bytes)
        } else {
            String::new()
        };
        match entry.into_record(location, raw) {
            Ok(record) => {
                self.stats.relevant += 1;
                Some(Ok(record))
            }
            Err(kind) => Some(Err(LogError::new(location, kind))),
        }
    }

    fn read_trailer(&mut self, line: &[u8], location: Location) -> Option<Item> {
        match serde_json::from_slice::<Trailer>(line) {
            Ok(trailer) => self.count_trailer(trailer.count, location),
            Err(error) => {
                self.stats.records += 1;
                Some(Err(LogError::new(
                    location,
                    LogErrorKind::InvalidJson(error),
                )))
            }
        }
    }

    /// Records a trailer's count and checks it against the entries read
    /// since the previous trailer (or the start).
    fn count_trailer(&mut self, count: u64, location: Location) -> Option<Item> {
        self.stats.trailer_count = Some(count);
        let read = self.stats.records - self.records_at_trailer;
        self.records_at_trailer = self.stats.records;
        if read == count {
            return None;
        }
        let kind = LogErrorKind::TrailerMismatch {
            trailer: count,
            read,
        };
        Some(Err(LogError::new(location, kind)))
    }
}
