//! `stream.alert_burst`: many fatal handshake alerts or trust failures for
//! one server in a short window, across processes or hosts.

use std::collections::{HashMap, VecDeque};

use super::endpoint::{EndpointEvent, Failure};
use super::version_floor::destination_label;
use super::{Alert, Confidence, DetectionConfig, Evidence, Rule, Severity};
use crate::observations::TlsSession;

pub const RULE: Rule = Rule {
    id: "stream.alert_burst",
    default_severity: Severity::High,
    summary: "Many fatal TLS alerts or trust failures for one server in a short window",
    meaning: "Fatal handshake alerts (from captures: a fatal alert in clear on a connection \
              whose handshake never completed; from endpoint logs: boringssl's fatal alerts, \
              handshake errors and CFNetwork's TLS error codes) or trust failures for one \
              server reached the threshold within the window (default 5 in 60 s). One \
              failure is a broken server; many at once, across processes or hosts, is what an \
              interception device or a downgrade attack in the path produces. Each failing \
              connection counts once however many lines report it. The alert lists how many \
              processes and hosts were affected and quotes the first failures.",
    false_positives: "A server whose certificate just expired, or a client retrying a \
                      misconfigured server in a loop.",
    tuning: "--burst-threshold and --burst-window set the count and the window in seconds.",
};

/// Servers followed at most; beyond it those quiet longest are dropped.
const MAX_SERVERS: usize = 100_000;

/// Failures quoted as evidence at most.
const MAX_QUOTED: usize = 5;

/// Failures kept per server within the window at most, the oldest dropped
/// first; a burst larger than this is reported with this count. Without it
/// a log whose clock does not advance (or a flood of failures) would grow the
/// window without end.
const MAX_PER_SERVER: usize = 1000;

/// Failures per server within the window.
#[derive(Default)]
pub struct BurstTracker {
    servers: HashMap<String, Window>,
}

#[derive(Default)]
struct Window {
    failures: VecDeque<Failed>,
    /// No new alert for this server before this time: one alert per burst.
    quiet_until: i64,
    last_ns: i64,
}

struct Failed {
    time_ns: i64,
    /// The endpoint and, from endpoint logs, the process, to count how
    /// widespread the burst is.
    host: String,
    process: Option<String>,
    evidence: Evidence,
}

/// Spread of a burst over hosts and processes.
struct Spread {
    failures: usize,
    hosts: usize,
    processes: usize,
}

impl BurstTracker {
    /// Counts a capture session whose handshake ended with a fatal alert.
    pub fn check_session(
        &mut self,
        session: &TlsSession,
        config: &DetectionConfig,
        out: &mut Vec<Alert>,
    ) {
        if session.established {
            return;
        }
        let Some(fatal) = session.first_fatal_alert() else {
            return;
        };
        let server = match &session.server_name {
            Some(name) => format!("{name}:{}", session.server.port),
            None => destination_label(session),
        };
        let description = fatal.description.clone().unwrap_or_default();
        let evidence = Evidence::at_packet(session, fatal.packet, "alert", description);
        let failed = Failed {
            time_ns: session.start_ns,
            host: session.client.ip.to_string(),
            process: session.process.as_ref().map(|p| p.pid.to_string()),
            evidence,
        };
        if let Some((spread, quoted)) = self.add(server.clone(), failed, config) {
            let title = burst_title(&spread, &server, config);
            let mut alert = Alert::for_session(
                session,
                RULE.id,
                RULE.default_severity,
                Confidence::Medium,
                title,
                config.host(),
            );
            fill(&mut alert, &spread, quoted, session.start_ns);
            out.push(alert);
        }
    }

    /// Counts an endpoint line reporting a fatal alert or TLS failure (see
    /// [`counts_for_burst`]). The caller passes each failing connection once.
    pub fn check_endpoint(
        &mut self,
        event: &EndpointEvent<'_>,
        config: &DetectionConfig,
        out: &mut Vec<Alert>,
    ) {
        let Some(server) = server_key(event) else {
            return;
        };
        let time_ns = event.record.time_ns.unwrap_or(0);
        let host = config.host().unwrap_or(event.input).to_owned();
        let logged_by = event.process.get();
        let process = logged_by.pid.map(|pid| {
            let path = logged_by.path.as_deref().unwrap_or_default();
            format!("{pid} {path}")
        });
        let failed = Failed {
            time_ns,
            host,
            process,
            evidence: Evidence::at_line(
                event.input,
                event.record,
                "eventMessage",
                event.record.message.clone(),
            ),
        };
        if let Some((spread, quoted)) = self.add(server.clone(), failed, config) {
            let title = burst_title(&spread, &server, config);
            let mut alert = Alert::for_endpoint(
                event,
                RULE.id,
                RULE.default_severity,
                Confidence::Medium,
                title,
                config.host(),
            );
            fill(&mut alert, &spread, quoted, time_ns);
            out.push(alert);
        }
    }

    /// Adds a failure; returns how widespread the burst is and its first
    /// failures when it reaches the threshold.
    fn add(
        &mut self,
        server: String,
        failed: Failed,
        config: &DetectionConfig,
    ) -> Option<(Spread, Vec<Evidence>)> {
        self.make_room(failed.time_ns, config.burst_window_ns);
        let window = self.servers.entry(server).or_default();
        let now = failed.time_ns;
        window.last_ns = window.last_ns.max(now);
        // Inputs are read one after another, so times can go back a little:
        // keep the window sorted.
        let at = window.failures.partition_point(|f| f.time_ns <= now);
        window.failures.insert(at, failed);
        if window.failures.len() > MAX_PER_SERVER {
            window.failures.pop_front();
        }
        let newest = window.failures.back().map_or(now, |f| f.time_ns);
        while window
            .failures
            .front()
            .is_some_and(|f| f.time_ns < newest.saturating_sub(config.burst_window_ns))
        {
            window.failures.pop_front();
        }
        if window.failures.len() < config.burst_threshold || now < window.quiet_until {
            return None;
        }
        window.quiet_until = now.saturating_add(config.burst_window_ns);
        let mut hosts: Vec<&str> = window.failures.iter().map(|f| f.host.as_str()).collect();
        hosts.sort_unstable();
        hosts.dedup();
        let mut processes: Vec<(&str, &str)> = window
            .failures
            .iter()
            .filter_map(|f| Some((f.host.as_str(), f.process.as_deref()?)))
            .collect();
        processes.sort_unstable();
        processes.dedup();
        let spread = Spread {
            failures: window.failures.len(),
            hosts: hosts.len(),
            processes: processes.len(),
        };
        let quoted = window
            .failures
            .iter()
            .take(MAX_QUOTED)
            .map(|f| f.evidence.clone())
            .collect();
        Some((spread, quoted))
    }

    fn make_room(&mut self, now: i64, window_ns: i64) {
        if self.servers.len() < MAX_SERVERS {
            return;
        }
        let horizon = now.saturating_sub(window_ns);
        self.servers.retain(|_, window| window.last_ns >= horizon);
    }
}

/// True for fatal alerts and for failures of every class; `failure` is
/// the line's classification.
pub fn counts_for_burst(event: &EndpointEvent<'_>, failure: Option<&Failure>) -> bool {
    match event.event {
        wiretrust_applenet::NetEvent::Alert { fatal, .. } => *fatal,
        _ => failure.is_some(),
    }
}

/// Returns the server a failure concerns: name or host with the port,
/// else the remote address.
fn server_key(event: &EndpointEvent<'_>) -> Option<String> {
    let (_, connection) = event.connection?;
    let name = connection
        .server_name
        .as_deref()
        .or(connection.host.as_deref());
    match (name, connection.port) {
        (Some(name), Some(port)) => Some(format!("{name}:{port}")),
        (Some(name), None) => Some(name.to_owned()),
        (None, _) => connection.remote.clone(),
    }
}

fn burst_title(spread: &Spread, server: &str, config: &DetectionConfig) -> String {
    let hosts = plural(spread.hosts, "host");
    let from = match spread.processes {
        0 => hosts,
        processes => format!("{} on {hosts}", plural(processes, "process")),
    };
    format!(
        "{} fatal TLS alerts or trust failures for {server} within {} s, from {from}",
        spread.failures,
        config.burst_window_ns / 1_000_000_000
    )
}

fn plural(count: usize, noun: &str) -> String {
    crate::plural::plural(count as u64, noun)
}

fn fill(alert: &mut Alert, spread: &Spread, quoted: Vec<Evidence>, time_ns: i64) {
    alert.at_time(time_ns);
    alert.compare("failures", spread.failures);
    alert.compare("hosts", spread.hosts);
    alert.compare("processes", spread.processes);
    alert.evidence = quoted;
}
