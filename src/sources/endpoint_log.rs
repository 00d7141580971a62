//! Endpoint logs as a source: unified log exports and `.logarchive`
//! bundles → records from the network stack → parsed events, folded into
//! [`EndpointConnection`]s, each line handed on with its connection so
//! detections can judge it when it arrives.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use wiretrust_applenet::{NetEvent, Origin, Parsed};
use wiretrust_unifiedlog::{Filter, Format, LogError, LogReader, LogRecord, LogStats};

use crate::observations::{ConnectionKey, ConnectionTracker, EndpointConnection};

/// Lines quoted word for word per input at most, for each kind of problem.
const MAX_EXAMPLES: usize = 10;

/// Buffer of the `BufReader` around a log file. The log reader reads in
/// blocks of its own far larger than this, which `BufReader` passes
/// straight to the file without copying them through its buffer.
const READ_BUFFER: usize = 8 << 10;

/// Receives what an endpoint log yields, in input order.
pub trait EndpointHandler {
    /// One parsed line about a connection or the network stack, with the
    /// connection it belongs to as known up to and including this line.
    fn line(
        &mut self,
        input: &str,
        record: &LogRecord,
        event: &NetEvent,
        connection: Option<(ConnectionKey, &EndpointConnection)>,
    );
    /// A connection whose end was logged, or that was still open at the
    /// end of the input.
    fn connection(&mut self, connection: EndpointConnection);
}

/// What reading one endpoint log found, for the summary.
#[derive(Debug, Default)]
pub struct EndpointStats {
    /// `ndjson`, `json`, `unifiedlogs-jsonl` or `logarchive`.
    pub format: &'static str,
    /// Counts from the reader: records, lines kept, losses, errors.
    pub reader: LogStats,
    /// Kept lines recognised as a network-stack message.
    pub parsed: u64,
    /// Kept lines from a TLS-relevant source that matched no known
    /// message template.
    pub unparsed: u64,
    /// A few of those, with their line numbers.
    pub unparsed_examples: Vec<String>,
    /// Records that could not be read, word for word while few.
    pub errors: Vec<String>,
    /// Connections written.
    pub connections: u64,
    /// Connections written before their end because too many were open.
    pub connections_evicted: u64,
}

impl EndpointStats {
    fn error(&mut self, input: &str, err: &LogError) {
        if self.errors.len() < MAX_EXAMPLES {
            self.errors.push(format!("{input}: {err}"));
        }
    }
}

/// Reader an endpoint log needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndpointFormat {
    /// A text export of the given shape.
    Export(Format),
    /// A `.logarchive` bundle or raw tracev3 files.
    Archive,
}

/// Reads one endpoint log, handing every network-stack line to `handler`.
///
/// Returns an error only when nothing could be read at all.
pub fn read_endpoint_log(
    path: &Path,
    input_name: &str,
    format: EndpointFormat,
    handler: &mut dyn EndpointHandler,
) -> Result<EndpointStats, String> {
    let mut stats = EndpointStats::default();
    let mut tracker = ConnectionTracker::new(input_name);
    match format {
        EndpointFormat::Export(_) => {
            let file =
                File::open(path).map_err(|err| format!("cannot open {input_name}: {err}"))?;
            let reader = BufReader::with_capacity(READ_BUFFER, file);
            read_export(reader, None, &mut tracker, &mut stats, handler)
                .map_err(|err| format!("{input_name}: {err}"))?;
        }
        EndpointFormat::Archive => {
            let reader = wiretrust_unifiedlog::read_logarchive(path, Filter::Network)
                .map_err(|err| format!("{input_name}: {err}"))?;
            stats.format = "logarchive";
            let mut reader = reader;
            for item in reader.by_ref() {
                handle(item, &mut tracker, &mut stats, handler);
            }
            stats.reader = reader.stats().clone();
        }
    }
    for connection in tracker.finish() {
        stats.connections += 1;
        handler.connection(connection);
    }
    stats.connections_evicted = tracker.evicted;
    Ok(stats)
}

/// Reads a text export from any reader: a file, or standard input and a
/// child's output for `wiretrust watch`. With `format` unknown it is
/// recognised from the first 64 KiB, which a live stream may take long to
/// fill, so live readers pass the format they expect.
pub fn read_export<R: Read>(
    reader: BufReader<R>,
    format: Option<Format>,
    tracker: &mut ConnectionTracker,
    stats: &mut EndpointStats,
    handler: &mut dyn EndpointHandler,
) -> Result<(), LogError> {
    let reader = match format {
        Some(format) => LogReader::with_format(reader, format, Filter::Network),
        None => LogReader::new(reader, Filter::Network)?,
    };
    // Alerts quote the parsed fields, never the record's original text.
    let mut reader = reader.keep_raw(false);
    stats.format = format_name(reader.format());
    for item in reader.by_ref() {
        handle(item, tracker, stats, handler);
    }
    stats.reader = reader.stats().clone();
    Ok(())
}

/// Parses one kept record and passes it on.
fn handle(
    item: Result<LogRecord, LogError>,
    tracker: &mut ConnectionTracker,
    stats: &mut EndpointStats,
    handler: &mut dyn EndpointHandler,
) {
    let record = match item {
        Ok(record) => record,
        Err(err) => {
            stats.error(tracker.input(), &err);
            return;
        }
    };
    let origin = Origin {
        subsystem: &record.subsystem,
        category: &record.category,
        sender_image: &record.sender_image,
        process_path: &record.process_path,
    };
    let event = match wiretrust_applenet::parse(&origin, &record.message) {
        Parsed::Event(event) => event,
        Parsed::Unknown => {
            stats.unparsed += 1;
            if stats.unparsed_examples.len() < MAX_EXAMPLES {
                let example = format!("{}: {}", record.location, first_line(&record.message));
                stats.unparsed_examples.push(example);
            }
            return;
        }
        Parsed::Unrelated => return,
    };
    stats.parsed += 1;
    let key = tracker.observe(&record, &event);
    let connection = key.and_then(|key| tracker.connection(key).map(|c| (key, c)));
    handler.line(tracker.input(), &record, &event, connection);
    if let (Some(key), NetEvent::ConnectionSummary { .. }) = (key, &event) {
        tracker.close(key);
    }
    for connection in tracker.take_closed() {
        stats.connections += 1;
        handler.connection(connection);
    }
}

fn format_name(format: Format) -> &'static str {
    match format {
        Format::Ndjson => "ndjson",
        Format::JsonArray => "json",
        Format::UnifiedLogsJsonl => "unifiedlogs-jsonl",
    }
}

/// Returns the first line of a message, cut to 200 bytes, for quoting.
fn first_line(message: &str) -> &str {
    let line = message.lines().next().unwrap_or_default();
    let mut end = line.len().min(200);
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    &line[..end]
}
