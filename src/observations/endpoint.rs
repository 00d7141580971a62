//! Connections as the endpoint's own network stack logged them: one record
//! per libnetwork connection of a process, folded from the unified log's
//! messages and written with `--observations` beside the capture sessions.
//!
//! libnetwork numbers connections per process (`C64`), boringssl adds the
//! sub-flow and protocol instance (`[C64.1:2]`), CFNetwork writes
//! `Connection 64` and ties tasks to it (`Task <UUID>.<1> setting up
//! Connection 64`). The tracker keys everything by process id and that
//! number, so the lines of one connection land in one record.

use std::collections::HashMap;

use serde::Serialize;
use wiretrust_applenet::{AlertDirection, LoggedCipher, NetEvent, codes};
use wiretrust_tls::registry::{CipherSuite, ProtocolVersion};
use wiretrust_unifiedlog::LogRecord;

use super::format_rfc3339;

/// Connections kept open at most per input; beyond it the one idle
/// longest is written out as it is.
const MAX_OPEN: usize = 50_000;

/// Alerts and errors kept per connection; the rest are counted.
const MAX_ITEMS: usize = 32;

/// Task-to-connection links and per-process last connections kept at most.
/// Links of a closed connection are dropped with it, but a connection lists
/// only [`MAX_ITEMS`] tasks, and some processes never close theirs. This
/// bound catches both. Reaching it forgets all links, so a few later lines
/// may not find their connection.
const MAX_LINKS: usize = 200_000;

/// A trust failure is tied to the process's last connection when that
/// connection logged within this many nanoseconds before it.
const TRUST_LINK_NS: i64 = 10_000_000_000;

/// One libnetwork connection of one process, as its log lines tell it.
#[derive(Clone, Debug, Default, Serialize)]
pub struct EndpointConnection {
    /// Always `"endpoint_connection"`.
    #[serde(rename = "type")]
    pub record_type: &'static str,
    pub input: String,
    pub pid: Option<u32>,
    pub process_path: String,
    /// libnetwork's connection number, e.g. `C64`.
    pub connection: String,
    pub start_time: String,
    /// Time of the last line; written when the record is handed out.
    pub end_time: String,
    #[serde(skip)]
    pub start_ns: i64,
    #[serde(skip)]
    pub end_ns: i64,
    /// Host and port the connection was opened to.
    pub host: Option<String>,
    pub port: Option<u16>,
    /// `tcp`, `udp` or `quic`.
    pub transport: Option<String>,
    /// libnetwork flagged the connection as TLS.
    pub tls: bool,
    pub url: Option<String>,
    /// Addresses as logged; they may be hashed (`IPv4#2fe5e49d:443`) or
    /// `<private>`.
    pub local: Option<String>,
    pub remote: Option<String>,
    /// SNI from `TLS configured`, unless the log redacted it.
    pub server_name: Option<String>,
    /// Versions the client was configured to offer.
    pub offered_min_version: Option<String>,
    pub offered_max_version: Option<String>,
    /// Negotiated protocol version from `TLS connected`.
    pub version: Option<String>,
    #[serde(skip)]
    pub version_code: Option<u16>,
    pub cipher: Option<String>,
    #[serde(skip)]
    pub cipher_weakness: Vec<&'static str>,
    /// Key exchange group code point, e.g. `0x001d`.
    pub group: Option<String>,
    pub alpn: Option<String>,
    pub resumed: Option<bool>,
    /// Version from the connection's closing summary (`TLS 1.3 took ...`).
    pub summary_version: Option<String>,
    /// The `TLS connected` line that gave `version` and `cipher`, for
    /// evidence; the last one when several were logged.
    #[serde(skip)]
    pub connected_line: Option<QuotedLine>,
    /// The closing summary line that gave `summary_version`, for evidence.
    #[serde(skip)]
    pub summary_line: Option<QuotedLine>,
    pub bytes_in: Option<u64>,
    pub bytes_out: Option<u64>,
    /// CFNetwork tasks that used the connection.
    pub tasks: Vec<String>,
    pub alerts: Vec<EndpointAlert>,
    pub errors: Vec<EndpointError>,
    /// Alerts and errors beyond those listed.
    pub items_dropped: u64,
    /// Log lines that concerned the connection.
    pub records: u64,
    /// Line of the first record, for evidence.
    pub first_line: u64,
    /// libnetwork logged the connection's end (`cancelled`).
    pub closed: bool,
}

impl EndpointConnection {
    /// Returns the process id and connection number the tracker keyed it by.
    pub fn key(&self) -> Option<ConnectionKey> {
        let number = self.connection.strip_prefix('C')?.parse().ok()?;
        Some((self.pid.unwrap_or(0), number))
    }
}

/// A log line kept for evidence: where it is in its input and its message.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QuotedLine {
    /// `line N (byte offset M)`, with the traceID when the record has one.
    pub location: String,
    /// The line's `eventMessage`, whole.
    pub message: String,
}

impl QuotedLine {
    fn of(record: &LogRecord) -> QuotedLine {
        let location = match record.trace_id {
            Some(trace) => format!("{}, traceID {trace}", record.location),
            None => record.location.to_string(),
        };
        QuotedLine {
            location,
            message: record.message.clone(),
        }
    }
}

/// A TLS alert a connection logged.
#[derive(Clone, Debug, Serialize)]
pub struct EndpointAlert {
    pub line: u64,
    /// `received` from the peer or `sent` by the endpoint.
    pub direction: &'static str,
    pub fatal: bool,
    pub description: String,
    pub code: Option<u8>,
}

/// An error code a connection logged.
#[derive(Clone, Debug, Serialize)]
pub struct EndpointError {
    pub line: u64,
    /// Kind of message that reported it, e.g. `handshake error`, `task failed`.
    pub kind: String,
    /// The code as logged: `-1200 [3:-9838]`, `TLSV1_ALERT_PROTOCOL_VERSION`.
    pub code: String,
    /// Its name, e.g. `errSSLPeerProtocolVersion`.
    pub name: Option<&'static str>,
}

/// A process id and libnetwork connection number.
pub type ConnectionKey = (u32, u32);

/// The keys come from the log, which an attacker on the host may write to.
/// foldhash's per-process random seed keeps it from choosing colliding keys,
/// at a fraction of the cost of the standard library's SipHash.
type Hasher = foldhash::fast::RandomState;

/// Folds the parsed lines of one input into [`EndpointConnection`]s.
pub struct ConnectionTracker {
    input: String,
    /// Boxed, so that growing the table moves pointers rather than whole
    /// connections.
    open: HashMap<ConnectionKey, Box<EndpointConnection>, Hasher>,
    /// CFNetwork task (`UUID.<n>`) to its connection, per process.
    tasks: HashMap<(u32, String), u32, Hasher>,
    /// Each process's most recent connection and when it last logged.
    last: HashMap<u32, (u32, i64), Hasher>,
    closed: Vec<EndpointConnection>,
    /// Connections written out early because [`MAX_OPEN`] was reached.
    pub evicted: u64,
}

impl ConnectionTracker {
    /// Creates a tracker for the input named `input`.
    pub fn new(input: &str) -> Self {
        ConnectionTracker {
            input: input.to_owned(),
            open: HashMap::default(),
            tasks: HashMap::default(),
            last: HashMap::default(),
            closed: Vec::new(),
            evicted: 0,
        }
    }

    /// Returns the name of the input the tracker reads.
    pub fn input(&self) -> &str {
        &self.input
    }

    /// Applies one parsed line and returns the connection it concerns, if
    /// it can be tied to one.
    pub fn observe(&mut self, record: &LogRecord, event: &NetEvent) -> Option<ConnectionKey> {
        let pid = record.pid.unwrap_or(0);
        let time_ns = record.time_ns.unwrap_or(0);
        let number = self.connection_number(pid, time_ns, event)?;
        let key = (pid, number);
        self.make_room(key);
        let connection = self
            .open
            .entry(key)
            .or_insert_with(|| Box::new(new_connection(&self.input, record, number)));
        connection.records += 1;
        connection.end_ns = connection.end_ns.max(time_ns);
        apply(connection, record, event);
        if self.tasks.len() >= MAX_LINKS {
            self.tasks.clear();
        }
        if self.last.len() >= MAX_LINKS {
            self.last.clear();
        }
        if let NetEvent::TaskConnection { task, .. } = event {
            self.tasks.insert((pid, task.clone()), number);
        }
        if let NetEvent::TaskSummary {
            task,
            connection: Some(_),
            ..
        } = event
        {
            self.tasks.insert((pid, task.clone()), number);
        }
        self.last.insert(pid, (number, time_ns));
        Some(key)
    }

    /// Returns the connection as known so far.
    pub fn connection(&self, key: ConnectionKey) -> Option<&EndpointConnection> {
        self.open.get(&key).map(Box::as_ref)
    }

    /// Moves a connection whose end was logged to the finished list.
    pub fn close(&mut self, key: ConnectionKey) {
        if let Some(mut connection) = self.open.remove(&key) {
            connection.closed = true;
            self.forget(key, &connection);
            self.closed.push(*connection);
        }
    }

    /// Connections finished since the last call, with their end time
    /// written out.
    pub fn take_closed(&mut self) -> Vec<EndpointConnection> {
        let mut closed = std::mem::take(&mut self.closed);
        for connection in &mut closed {
            connection.end_time = format_rfc3339(connection.end_ns);
        }
        closed
    }

    /// Every connection still open, in order of first line, at the end of
    /// the input.
    pub fn finish(&mut self) -> Vec<EndpointConnection> {
        // Sorting the boxes moves pointers rather than whole connections.
        let mut rest: Vec<Box<EndpointConnection>> = self.open.drain().map(|(_, c)| c).collect();
        rest.sort_by_key(|c| (c.start_ns, c.first_line));
        let mut closed = self.take_closed();
        closed.reserve(rest.len());
        for mut connection in rest {
            connection.end_time = format_rfc3339(connection.end_ns);
            closed.push(*connection);
        }
        closed
    }

    /// The connection number an event belongs to: the one it names, the
    /// one its task was tied to, or for a trust failure the process's last
    /// connection if that logged shortly before.
    fn connection_number(&self, pid: u32, time_ns: i64, event: &NetEvent) -> Option<u32> {
        let by_task = |task: &String| self.tasks.get(&(pid, task.clone())).copied();
        match event {
            NetEvent::TlsConfigured { connection, .. }
            | NetEvent::TlsConnected { connection, .. }
            | NetEvent::HandshakeFailed { connection, .. }
            | NetEvent::ConnectionStart { connection, .. }
            | NetEvent::ConnectionPath { connection, .. }
            | NetEvent::ConnectionSummary { connection, .. } => Some(connection.number),
            NetEvent::Alert { connection, .. }
            | NetEvent::HandshakeError { connection, .. }
            | NetEvent::SessionError { connection, .. } => connection.as_ref().map(|c| c.number),
            NetEvent::Progress {
                connection, task, ..
            } => connection
                .as_ref()
                .map(|c| c.number)
                .or_else(|| task.as_ref().and_then(by_task)),
            NetEvent::AtsPolicy { task, .. } => by_task(task),
            NetEvent::ConnectionError { connection, .. }
            | NetEvent::TaskConnection { connection, .. } => Some(*connection),
            NetEvent::TaskSummary {
                task, connection, ..
            } => connection.or_else(|| by_task(task)),
            NetEvent::TaskFailed { task, .. } => by_task(task),
            NetEvent::AtsBlocked { task, .. } => task.as_ref().and_then(by_task),
            NetEvent::TrustFailure { .. } | NetEvent::SecureTransportError { .. } => self
                .last
                .get(&pid)
                .filter(|(_, seen)| time_ns.saturating_sub(*seen) <= TRUST_LINK_NS)
                .map(|(number, _)| *number),
        }
    }

    /// Writes out the connection idle longest when the table is full.
    fn make_room(&mut self, incoming: ConnectionKey) {
        if self.open.len() < MAX_OPEN || self.open.contains_key(&incoming) {
            return;
        }
        let idle = self
            .open
            .iter()
            .min_by_key(|(_, c)| c.end_ns)
            .map(|(key, _)| *key);
        if let Some(key) = idle
            && let Some(connection) = self.open.remove(&key)
        {
            self.forget(key, &connection);
            self.closed.push(*connection);
            self.evicted += 1;
        }
    }

    /// Drops the links that lead to a connection leaving the table, so
    /// that a long watch keeps only what open connections need.
    fn forget(&mut self, key: ConnectionKey, connection: &EndpointConnection) {
        for task in &connection.tasks {
            self.tasks.remove(&(key.0, task.clone()));
        }
        if self
            .last
            .get(&key.0)
            .is_some_and(|(number, _)| *number == key.1)
        {
            self.last.remove(&key.0);
        }
    }
}

fn new_connection(input: &str, record: &LogRecord, number: u32) -> EndpointConnection {
    let time_ns = record.time_ns.unwrap_or(0);
    let start_time = format_rfc3339(time_ns);
    EndpointConnection {
        record_type: "endpoint_connection",
        input: input.to_owned(),
        pid: record.pid,
        process_path: record.process_path.clone(),
        connection: format!("C{number}"),
        end_time: start_time.clone(),
        start_time,
        start_ns: time_ns,
        end_ns: time_ns,
        first_line: record.location.line,
        ..EndpointConnection::default()
    }
}

/// Copies the facts of one event into its connection.
fn apply(connection: &mut EndpointConnection, record: &LogRecord, event: &NetEvent) {
    let line = record.location.line;
    match event {
        NetEvent::TlsConfigured {
            min_version,
            max_version,
            server_name,
            ..
        } => {
            connection.offered_min_version = Some(ProtocolVersion(*min_version).to_string());
            connection.offered_max_version = Some(ProtocolVersion(*max_version).to_string());
            if server_name.is_some() {
                connection.server_name.clone_from(server_name);
            }
        }
        NetEvent::TlsConnected {
            version,
            cipher,
            group,
            alpn,
            resumed,
            ..
        } => {
            connection.version = Some(ProtocolVersion(*version).to_string());
            connection.version_code = Some(*version);
            let (name, weakness) = cipher_facts(cipher);
            connection.cipher = Some(name);
            connection.cipher_weakness = weakness;
            connection.group = group.map(|g| format!("0x{g:04x}"));
            connection.alpn.clone_from(alpn);
            connection.resumed = *resumed;
            connection.connected_line = Some(QuotedLine::of(record));
        }
        NetEvent::Alert {
            direction,
            fatal,
            description,
            code,
            ..
        } => {
            let alert = EndpointAlert {
                line,
                direction: match direction {
                    AlertDirection::Received => "received",
                    AlertDirection::Sent => "sent",
                },
                fatal: *fatal,
                description: description.clone(),
                code: *code,
            };
            push_limited(&mut connection.alerts, alert, &mut connection.items_dropped);
        }
        NetEvent::HandshakeError {
            reason,
            alert_number,
            ..
        } => {
            let code = match alert_number {
                Some(number) => format!("{reason} (alert {number})"),
                None => reason.clone(),
            };
            let error = EndpointError {
                line,
                kind: "handshake error".to_owned(),
                code,
                name: None,
            };
            push_limited(&mut connection.errors, error, &mut connection.items_dropped);
        }
        NetEvent::ConnectionError { error, kind, .. } => {
            let error = EndpointError {
                line,
                kind: (*kind).to_owned(),
                code: format!("{}:{}", error.domain, error.code),
                name: stream_error_name(error.domain, error.code),
            };
            push_limited(&mut connection.errors, error, &mut connection.items_dropped);
        }
        NetEvent::TaskFailed {
            task,
            url_error,
            stream_error,
            ..
        } => {
            let code = match stream_error {
                Some(inner) => format!("{url_error} [{}:{}]", inner.domain, inner.code),
                None => url_error.to_string(),
            };
            let name = stream_error
                .and_then(|inner| stream_error_name(inner.domain, inner.code))
                .or_else(|| codes::url_error(*url_error).map(|info| info.name));
            let error = EndpointError {
                line,
                kind: "task failed".to_owned(),
                code,
                name,
            };
            push_limited(&mut connection.errors, error, &mut connection.items_dropped);
            add_task(connection, task);
        }
        NetEvent::TrustFailure {
            reasons, status, ..
        } => {
            let code = match status {
                Some(status) => format!("status {status}"),
                None => reasons.join(" "),
            };
            let error = EndpointError {
                line,
                kind: "trust failure".to_owned(),
                code,
                name: None,
            };
            push_limited(&mut connection.errors, error, &mut connection.items_dropped);
        }
        NetEvent::ConnectionStart {
            host,
            port,
            transport,
            tls,
            url,
            ..
        } => {
            connection.host = known(host);
            connection.port = (*port != 0).then_some(*port);
            connection.transport = Some(transport.clone());
            connection.tls |= *tls;
            if url.is_some() {
                connection.url.clone_from(url);
            }
        }
        NetEvent::ConnectionPath { remote, .. } => {
            if let Some(remote) = known(remote) {
                connection.remote = Some(remote);
            }
        }
        NetEvent::SecureTransportError { error, kind } => {
            let error = EndpointError {
                line,
                kind: (*kind).to_owned(),
                code: format!("{}:{}", error.domain, error.code),
                name: stream_error_name(error.domain, error.code),
            };
            push_limited(&mut connection.errors, error, &mut connection.items_dropped);
        }
        NetEvent::SessionError {
            operation, error, ..
        } => {
            let error = EndpointError {
                line,
                kind: operation.clone(),
                code: error.clone(),
                name: None,
            };
            push_limited(&mut connection.errors, error, &mut connection.items_dropped);
        }
        NetEvent::ConnectionSummary {
            host,
            port,
            tls,
            local,
            remote,
            tls_version,
            bytes_in,
            bytes_out,
            ..
        } => {
            if connection.host.is_none() {
                connection.host = known(host);
            }
            if connection.port.is_none() && *port != 0 {
                connection.port = Some(*port);
            }
            connection.tls |= *tls;
            if local.is_some() {
                connection.local.clone_from(local);
            }
            if remote.is_some() {
                connection.remote.clone_from(remote);
            }
            connection.summary_version.clone_from(tls_version);
            connection.summary_line = tls_version.as_ref().map(|_| QuotedLine::of(record));
            connection.bytes_in = *bytes_in;
            connection.bytes_out = *bytes_out;
        }
        NetEvent::TaskConnection { task, .. }
        | NetEvent::TaskSummary { task, .. }
        | NetEvent::AtsPolicy { task, .. } => {
            add_task(connection, task);
        }
        NetEvent::AtsBlocked { task, reason } => {
            let error = EndpointError {
                line,
                kind: "ats blocked".to_owned(),
                code: reason.clone(),
                name: None,
            };
            push_limited(&mut connection.errors, error, &mut connection.items_dropped);
            if let Some(task) = task {
                add_task(connection, task);
            }
        }
        NetEvent::HandshakeFailed { .. } | NetEvent::Progress { .. } => {}
    }
}

/// Returns the value unless the log redacted it.
fn known(value: &str) -> Option<String> {
    (value != "<private>" && !value.is_empty()).then(|| value.to_owned())
}

fn add_task(connection: &mut EndpointConnection, task: &str) {
    if connection.tasks.len() < MAX_ITEMS && !connection.tasks.iter().any(|t| t == task) {
        connection.tasks.push(task.to_owned());
    }
}

fn push_limited<T>(items: &mut Vec<T>, item: T, dropped: &mut u64) {
    if items.len() < MAX_ITEMS {
        items.push(item);
    } else {
        *dropped += 1;
    }
}

/// The name of a `[domain:code]` pair's code: SecureTransport's errSSL
/// names for the SSL domain (3).
pub fn stream_error_name(domain: i32, code: i32) -> Option<&'static str> {
    const SSL_DOMAIN: i32 = 3;
    (domain == SSL_DOMAIN)
        .then(|| codes::os_status(code))
        .flatten()
        .map(|info| info.name)
}

/// The suite's name and weak classes, whether the log gave a code point
/// or a name.
pub fn cipher_facts(cipher: &LoggedCipher) -> (String, Vec<&'static str>) {
    let suite = match cipher {
        LoggedCipher::Code(code) => Some(CipherSuite(*code)),
        LoggedCipher::Name(name) => CipherSuite::from_name(name),
    };
    let name = match (cipher, suite) {
        (LoggedCipher::Name(name), _) => name.clone(),
        (LoggedCipher::Code(_), Some(suite)) => suite.name().into_owned(),
        (LoggedCipher::Code(code), None) => format!("0x{code:04x}"),
    };
    let weakness = suite.map_or_else(Vec::new, |suite| suite.weakness().names().collect());
    (name, weakness)
}
