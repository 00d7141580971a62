//! Where observations meet the detections: capture sessions are ordered by
//! start time and endpoint log lines taken as they come; alerts and
//! observations go to the sinks and are counted for the summary. Shared by
//! `wiretrust scan` and `wiretrust watch`.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::io;
use std::sync::Arc;

use wiretrust_applenet::NetEvent;
use wiretrust_eslogger::ProcessTable;
use wiretrust_unifiedlog::LogRecord;

use crate::detections::{Alert, Confidence, EndpointEvent, Engine, LazyProcess, Process, Severity};
use crate::observations::{
    CertificateRecord, ConnectionKey, Digests, EndpointConnection, FlowRecord, HttpTransfer,
    ObjectIdentity, ObjectSighting, SightingSource, StarttlsDialogue, TlsSession,
};
use crate::policy::{Policy, PolicyOutcome};
use crate::scan_summary::{DialogueCounts, ScanOptions, Summary, TransferCounts};
use crate::sigma::{SigmaEngine, SigmaRecord};
use crate::sinks::Sink;
use crate::sources::provenance::FileWriters;
use crate::sources::timing::{Phase, PhaseClock, Stopwatch};

/// Orders sessions by start time, runs the detections and writes results.
///
/// Sessions complete when their connection ends, so a short connection
/// that started later can complete first. The pipeline keeps each session
/// until sessions completing later can no longer have started before it
/// within the fallback window, so cross-session detections and the output
/// see sessions in start order.
pub(crate) struct Pipeline<'s, 'k> {
    engine: Engine,
    sinks: &'s mut [&'k mut dyn Sink],
    pending: BinaryHeap<Reverse<Pending>>,
    hold_ns: i64,
    sequence: u64,
    alerts: Vec<Alert>,
    by_detection: BTreeMap<&'static str, u64>,
    by_severity: BTreeMap<Severity, u64>,
    sessions: u64,
    transfers: TransferCounts,
    dialogues: DialogueCounts,
    sessions_with_anomalies: u64,
    anomaly_examples: Vec<String>,
    /// Processes known from eslogger input, to name the process of an alert.
    pub(crate) processes: ProcessTable,
    /// Processes that wrote files, from eslogger input, to name the
    /// writer of a downloaded file.
    pub(crate) writers: FileWriters,
    endpoint_lines: u64,
    endpoint_connections: u64,
    object_sightings: u64,
    /// `--host`, the name of a sighting whose record names no host.
    host: Option<String>,
    /// Time in ordering and detection, and in the sinks, when measured.
    clock: Option<PhaseClock>,
    /// User rules (`--rules`), evaluated on every record after the
    /// built-in detections.
    sigma: Option<SigmaEngine>,
    /// Applied to every alert before the sinks see it.
    policy: Arc<Policy>,
    /// Write suppressed alerts too, with their `suppressed_by`.
    show_suppressed: bool,
    suppressed: u64,
}

/// Anomalies quoted in the summary at most; the rest are counted.
const MAX_ANOMALY_EXAMPLES: usize = 5;

/// Sessions held for ordering at most; beyond it the earliest is released.
const MAX_PENDING: usize = 100_000;

struct Pending {
    key: (i64, u64),
    /// Boxed, because the heap moves its entries on every push and pop.
    session: Box<TlsSession>,
}

impl PartialEq for Pending {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}
impl Eq for Pending {}
impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Pending {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key.cmp(&other.key)
    }
}

impl<'s, 'k> Pipeline<'s, 'k> {
    pub(crate) fn new(
        options: &ScanOptions,
        sinks: &'s mut [&'k mut dyn Sink],
        measure: bool,
    ) -> Self {
        Pipeline {
            engine: Engine::new(options.detection.clone()),
            sinks,
            pending: BinaryHeap::new(),
            hold_ns: options.detection.fallback_window_ns,
            sequence: 0,
            alerts: Vec::new(),
            by_detection: BTreeMap::new(),
            by_severity: BTreeMap::new(),
            sessions: 0,
            transfers: TransferCounts::default(),
            dialogues: DialogueCounts::default(),
            sessions_with_anomalies: 0,
            anomaly_examples: Vec::new(),
            processes: ProcessTable::default(),
            writers: FileWriters::default(),
            endpoint_lines: 0,
            endpoint_connections: 0,
            object_sightings: 0,
            host: options.detection.host.clone(),
            clock: measure.then(PhaseClock::new),
            sigma: options.detection.sigma_rules.as_deref().and_then(|rules| {
                SigmaEngine::new(rules)
                    .inspect_err(|error| tracing::error!(%error, "Sigma rules not evaluated"))
                    .ok()
            }),
            policy: Arc::clone(&options.detection.policy),
            show_suppressed: options.show_suppressed,
            suppressed: 0,
        }
    }

    /// Returns the host name given with `--host`, if any.
    pub(crate) fn host(&self) -> Option<&str> {
        self.host.as_deref()
    }

    pub(crate) fn lap(&mut self, phase: Phase) {
        if let Some(clock) = &mut self.clock {
            clock.lap(phase);
        }
    }

    pub(crate) fn restart_clock(&mut self) {
        if let Some(clock) = &mut self.clock {
            clock.restart();
        }
    }

    pub(crate) fn push(&mut self, session: TlsSession) -> io::Result<()> {
        self.restart_clock();
        let watermark = session.end_ns.saturating_sub(self.hold_ns);
        self.sequence += 1;
        let key = (session.start_ns, self.sequence);
        let session = Box::new(session);
        self.pending.push(Reverse(Pending { key, session }));
        while let Some(Reverse(first)) = self.pending.peek() {
            if first.key.0 >= watermark && self.pending.len() <= MAX_PENDING {
                break;
            }
            let Some(Reverse(first)) = self.pending.pop() else {
                break;
            };
            self.release(&first.session)?;
        }
        self.lap(Phase::Detection);
        Ok(())
    }

    /// Takes one record of a capture reader: sessions are held for
    /// ordering, transfers and dialogues are checked and written at once.
    pub(crate) fn push_record(&mut self, record: FlowRecord) -> io::Result<()> {
        match record {
            FlowRecord::Session(session) => self.push(session),
            FlowRecord::Transfer(transfer) => self.transfer(&transfer),
            FlowRecord::Starttls(dialogue) => self.dialogue(&dialogue),
        }
    }

    /// Checks one STARTTLS dialogue, writes it and its alerts, and counts it.
    fn dialogue(&mut self, dialogue: &StarttlsDialogue) -> io::Result<()> {
        self.restart_clock();
        self.dialogues.count(dialogue);
        self.alerts.clear();
        self.engine
            .check_dialogue(dialogue, &mut self.alerts)
            .map_err(io::Error::other)?;
        self.lap(Phase::Detection);
        for sink in self.sinks.iter_mut() {
            sink.dialogue(dialogue)?;
        }
        self.write_alerts(&[])
    }

    /// Checks one HTTP transfer, writes it and its alerts, and counts it.
    /// Transfers come in the order their responses ended, which the HSTS
    /// detection needs, so they are not held like sessions.
    fn transfer(&mut self, transfer: &HttpTransfer) -> io::Result<()> {
        self.restart_clock();
        self.transfers.count(transfer);
        self.alerts.clear();
        self.engine.check_transfer(transfer, &mut self.alerts);
        self.engine
            .check_baseline_transfer(transfer, &mut self.alerts)
            .map_err(io::Error::other)?;
        self.lap(Phase::Detection);
        for sink in self.sinks.iter_mut() {
            sink.transfer(transfer)?;
        }
        self.write_alerts(&[])?;
        match self.downloaded_object(transfer) {
            Some(sighting) => self.object_sighting(&sighting),
            None => Ok(()),
        }
    }

    /// Returns the object a transfer delivered, for
    /// `integrity.fleet_divergence`: a complete `200` body of a GET, keyed by
    /// its URL. The hash is that of
    /// the representation, after any content coding is removed, because
    /// that is the file the client keeps. A folder-like URL (`/`, `/news/`)
    /// without ETag or Last-Modified is a page that may change on every
    /// load, not a file, and is left out.
    fn downloaded_object(&self, transfer: &HttpTransfer) -> Option<ObjectSighting> {
        let fetched = transfer.method.as_deref() == Some("GET") && transfer.status == Some(200);
        if !fetched || !transfer.complete || transfer.received_length == 0 {
            return None;
        }
        let url = transfer.url.as_deref()?;
        let validated = transfer.etag.is_some() || transfer.last_modified.is_some();
        if !validated && !names_file(url) {
            return None;
        }
        let decoded = transfer.decoded_sha256.is_some();
        let digests = Digests {
            sha256: if decoded {
                transfer.decoded_sha256.clone()
            } else {
                transfer.sha256.clone()
            },
            sha1: None,
            md5: if decoded {
                transfer.decoded_md5.clone()
            } else {
                transfer.md5.clone()
            },
        };
        let identity = ObjectIdentity {
            url: Some(url.to_owned()),
            file_name: None,
            size: transfer.decoded_length.or(Some(transfer.received_length)),
            etag: transfer.etag.clone(),
            last_modified: transfer.last_modified.clone(),
        };
        let host = match &self.host {
            Some(host) => host.clone(),
            None => transfer.client.ip.to_string(),
        };
        let source = SightingSource {
            input: transfer.input.to_string(),
            location: format!(
                "packet {}",
                transfer.last_body_packet.or(transfer.response_packet)?
            ),
        };
        Some(ObjectSighting::new(
            identity,
            digests,
            host,
            transfer.time_ns,
            "capture",
            source,
        ))
    }

    pub(crate) fn drain_all(&mut self) -> io::Result<()> {
        self.restart_clock();
        while let Some(Reverse(first)) = self.pending.pop() {
            self.release(&first.session)?;
        }
        Ok(())
    }

    fn release(&mut self, session: &TlsSession) -> io::Result<()> {
        self.sessions += 1;
        if !session.anomalies.is_empty() {
            self.sessions_with_anomalies += 1;
            for anomaly in &session.anomalies {
                if self.anomaly_examples.len() < MAX_ANOMALY_EXAMPLES {
                    self.anomaly_examples
                        .push(format!("{}: {anomaly}", session.input));
                }
            }
        }
        self.alerts.clear();
        self.engine.check(session, &mut self.alerts);
        if self.engine.baseline_enabled() {
            let process = session_process(&self.processes, session);
            self.engine
                .check_baseline_session(session, &process, &mut self.alerts)
                .map_err(io::Error::other)?;
        }
        if !self.processes.is_empty() {
            for alert in &mut self.alerts {
                identify(&self.processes, alert, session.start_ns);
            }
        }
        if let Some(sigma) = &mut self.sigma {
            let mut context = Alert::for_session(
                session,
                "sigma",
                Severity::Medium,
                Confidence::Medium,
                String::new(),
                self.host.as_deref(),
            );
            identify(&self.processes, &mut context, session.start_ns);
            sigma.check(
                &SigmaRecord::from_session(session, context),
                &mut self.alerts,
            );
        }
        self.lap(Phase::Detection);
        for sink in self.sinks.iter_mut() {
            sink.session(session)?;
        }
        self.write_alerts(&session.certificates)
    }

    /// Applies the policy to the alerts of the last check, then writes and
    /// counts them. Suppressed alerts are counted apart and written only
    /// with `show_suppressed`.
    fn write_alerts(&mut self, certificates: &[Arc<CertificateRecord>]) -> io::Result<()> {
        for alert in &mut self.alerts {
            if let PolicyOutcome::Suppressed(_) = self.policy.apply(alert, certificates) {
                self.suppressed += 1;
                if self.show_suppressed {
                    for sink in self.sinks.iter_mut() {
                        sink.alert(alert)?;
                    }
                }
                continue;
            }
            *self.by_detection.entry(alert.detection).or_default() += 1;
            *self.by_severity.entry(alert.severity).or_default() += 1;
            for sink in self.sinks.iter_mut() {
                sink.alert(alert)?;
            }
        }
        self.lap(Phase::Output);
        Ok(())
    }

    /// Runs the endpoint detections over one parsed log line.
    pub(crate) fn endpoint_line(
        &mut self,
        input: &str,
        record: &LogRecord,
        event: &NetEvent,
        connection: Option<(ConnectionKey, &EndpointConnection)>,
    ) -> io::Result<()> {
        self.restart_clock();
        self.endpoint_lines += 1;
        let processes = &self.processes;
        let build = || process_of(processes, record);
        let process = LazyProcess::new(&build);
        let event = EndpointEvent {
            input,
            record,
            event,
            connection,
            process: &process,
        };
        self.alerts.clear();
        self.engine.check_endpoint(&event, &mut self.alerts);
        if let Some(sigma) = &mut self.sigma {
            let record = SigmaRecord::from_endpoint(&event, self.host.as_deref());
            sigma.check(&record, &mut self.alerts);
        }
        self.lap(Phase::Detection);
        self.write_alerts(&[])
    }

    pub(crate) fn endpoint_connection(
        &mut self,
        connection: &EndpointConnection,
    ) -> io::Result<()> {
        self.restart_clock();
        self.endpoint_connections += 1;
        if let Some(key) = connection.key() {
            self.engine.connection_ended(&connection.input, key);
        }
        self.alerts.clear();
        if self.engine.baseline_enabled() {
            let process = self.connection_process(connection);
            self.engine
                .check_baseline_connection(connection, &process, &mut self.alerts)
                .map_err(io::Error::other)?;
            self.lap(Phase::Detection);
        }
        for sink in self.sinks.iter_mut() {
            sink.endpoint_connection(connection)?;
        }
        self.write_alerts(&[])?;
        if self.sigma.is_some() {
            self.restart_clock();
            let process = self.connection_process(connection);
            let record = SigmaRecord::from_connection(connection, process, self.host.as_deref());
            self.alerts.clear();
            if let Some(sigma) = &mut self.sigma {
                sigma.check(&record, &mut self.alerts);
            }
            self.lap(Phase::Detection);
            self.write_alerts(&[])?;
        }
        Ok(())
    }

    /// Returns the process of an endpoint connection, with its code-signing
    /// identity when eslogger input knew the pid when it started.
    fn connection_process(&self, connection: &EndpointConnection) -> Process {
        let path = (!connection.process_path.is_empty()).then(|| connection.process_path.clone());
        let mut process = Process {
            pid: connection.pid,
            name: path.as_deref().and_then(file_name),
            path,
            signing_id: None,
            team_id: None,
        };
        if let Some(pid) = connection.pid
            && let Some(identity) = self.processes.lookup(pid, connection.start_ns)
        {
            process.signing_id.clone_from(&identity.signing_id);
            process.team_id.clone_from(&identity.team_id);
        }
        process
    }

    /// Runs `integrity.fleet_divergence` over one object sighting and
    /// writes it. A store that cannot be opened or written fails the scan,
    /// with an error naming the store file.
    pub(crate) fn object_sighting(&mut self, sighting: &ObjectSighting) -> io::Result<()> {
        self.restart_clock();
        self.object_sightings += 1;
        self.alerts.clear();
        self.engine
            .check_object(sighting, &mut self.alerts)
            .map_err(io::Error::other)?;
        self.lap(Phase::Detection);
        for sink in self.sinks.iter_mut() {
            sink.object_sighting(sighting)?;
        }
        self.write_alerts(&[])
    }

    /// Releases every held session, flushes the sinks and fills in the
    /// summary's counts; returns the time measured, if any.
    pub(crate) fn finish(mut self, summary: &mut Summary) -> io::Result<Option<PhaseClock>> {
        self.drain_all()?;
        self.engine.commit_store().map_err(io::Error::other)?;
        for sink in self.sinks.iter_mut() {
            sink.finish()?;
        }
        self.lap(Phase::Output);
        summary.alerts_by_detection = self.by_detection;
        summary.alerts_by_severity = self.by_severity;
        summary.sessions = self.sessions;
        summary.http = self.transfers;
        summary.starttls = self.dialogues;
        summary.endpoint_lines = self.endpoint_lines;
        summary.endpoint_connections = self.endpoint_connections;
        summary.object_sightings = self.object_sightings;
        summary.baseline = self.engine.baseline_counts();
        summary.sessions_with_anomalies = self.sessions_with_anomalies;
        summary.anomaly_examples = self.anomaly_examples;
        summary.suppressed = self.suppressed;
        summary.suppressed_written = self.show_suppressed;
        Ok(self.clock)
    }
}

/// Returns the last component of a path, e.g. `curl` for `/usr/bin/curl`.
fn file_name(path: &str) -> Option<String> {
    path.rsplit('/')
        .next()
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
}

/// Adds the code-signing identity eslogger input gave the alert's process
/// (named by pid in Apple pktap captures) at `time_ns`.
/// Returns the process that logged `record`, with its code-signing
/// identity when eslogger input knew the pid at that time.
fn process_of(processes: &ProcessTable, record: &LogRecord) -> Process {
    let path = (!record.process_path.is_empty()).then(|| record.process_path.clone());
    let mut process = Process {
        pid: record.pid,
        name: path.as_deref().and_then(file_name),
        path,
        signing_id: None,
        team_id: None,
    };
    let (Some(pid), Some(time_ns)) = (record.pid, record.time_ns) else {
        return process;
    };
    if let Some(identity) = processes.lookup(pid, time_ns) {
        process.signing_id.clone_from(&identity.signing_id);
        process.team_id.clone_from(&identity.team_id);
        if process.path.is_none() && !identity.path.is_empty() {
            process.name = file_name(&identity.path);
            process.path = Some(identity.path.clone());
        }
    }
    process
}

/// Builds the process the session's packets named, with the code-signing
/// identity eslogger input gave its pid at the session's start.
fn session_process(processes: &ProcessTable, session: &TlsSession) -> Process {
    let mut process = Process::from_session(session);
    let Some(pid) = process.pid else {
        return process;
    };
    if let Some(identity) = processes.lookup(pid, session.start_ns) {
        process.signing_id.clone_from(&identity.signing_id);
        process.team_id.clone_from(&identity.team_id);
        if process.path.is_none() && !identity.path.is_empty() {
            process.path = Some(identity.path.clone());
        }
    }
    process
}

/// True when a URL's path ends in a name rather than a `/`.
fn names_file(url: &str) -> bool {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let path = after_scheme.find('/').map_or("", |at| &after_scheme[at..]);
    let path = path.split(['?', '#']).next().unwrap_or_default();
    !path.is_empty() && !path.ends_with('/')
}

fn identify(processes: &ProcessTable, alert: &mut Alert, time_ns: i64) {
    let Some(pid) = alert.process.pid else {
        return;
    };
    let Some(identity) = processes.lookup(pid, time_ns) else {
        return;
    };
    alert.process.signing_id.clone_from(&identity.signing_id);
    alert.process.team_id.clone_from(&identity.team_id);
    if alert.process.path.is_none() && !identity.path.is_empty() {
        alert.process.path = Some(identity.path.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_file_cases() {
        assert!(names_file("http://h/a.dmg"));
        assert!(names_file("http://h:8080/dl/tool?v=2"));
        assert!(!names_file("http://h/"));
        assert!(!names_file("http://h"));
        assert!(!names_file("http://h/news/?page=2"));
    }
}
