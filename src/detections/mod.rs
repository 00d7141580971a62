//! Detections: read observations, emit alerts.
//!
//! Each detection lives in its own module with its [`Rule`] (id, default
//! severity and documentation) beside the code that decides it. The
//! [`Engine`] runs them over every capture session, in order of start
//! time, over every HTTP transfer as it completes, over every STARTTLS
//! dialogue when its connection ends, over every parsed line of an
//! endpoint log, in input order, and over every object sighting, in order
//! of time.

mod alert;
mod alert_burst;
mod ats_blocked;
pub mod baseline;
mod certificate_changed;
mod certificate_name;
mod digest_mismatch;
mod downgrade_sentinel;
mod endpoint;
pub mod explain;
mod fallback_retry;
mod fleet_divergence;
mod length_mismatch;
mod malformed;
pub mod manifest_mismatch;
mod record_tamper;
mod rule;
mod shared_store;
mod tls_failure;
mod tls_stripped;
mod version_floor;
mod weak_cipher;

pub use alert::{
    ATTACK, Alert, Attack, Confidence, Destination, Evidence, FileRef, Flow, Process, SessionRef,
    Severity, TlsContext,
};
pub(crate) use endpoint::quote;
pub use endpoint::{EndpointEvent, LazyProcess};
pub use explain::{DETECTION_IDS, Explanation, explanation};
pub use fleet_divergence::{FleetDivergence, StoreLocation};
pub use rule::Rule;
pub use shared_store::SharedStore;

use std::collections::HashMap;
use std::sync::Arc;

use wiretrust_tls::registry::ProtocolVersion;

use wiretrust_store::StoreError;

use crate::observations::{
    EndpointConnection, HttpTransfer, ObjectSighting, StarttlsDialogue, TlsSession,
};
use crate::policy::{Policy, Target};

/// Every built-in detection, in the order `wiretrust rules` lists them.
pub const RULES: &[Rule] = &[
    version_floor::RULE,
    downgrade_sentinel::RULE,
    fallback_retry::RULE,
    weak_cipher::RULE,
    certificate_name::RULE,
    certificate_changed::RULE,
    record_tamper::RULE,
    malformed::RULE,
    alert_burst::RULE,
    tls_failure::RULE,
    ats_blocked::RULE,
    manifest_mismatch::RULE,
    tls_stripped::RULE,
    digest_mismatch::RULE,
    length_mismatch::RULE,
    fleet_divergence::RULE,
    baseline::DOWNGRADE,
    baseline::CLIENT_HELLO_CHANGED,
];

/// Looks up a built-in detection by id.
pub fn rule(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|rule| rule.id == id)
}

/// Settings the detections read.
#[derive(Clone, Debug)]
pub struct DetectionConfig {
    /// Lowest acceptable negotiated version.
    pub min_version: ProtocolVersion,
    /// How long after a failed attempt a lower-version retry counts as a
    /// fallback, in nanoseconds.
    pub fallback_window_ns: i64,
    /// Host name to report instead of the client address.
    pub host: Option<String>,
    /// Failures for one server that make a burst.
    pub burst_threshold: usize,
    /// Window a burst must fit in, in nanoseconds.
    pub burst_window_ns: i64,
    /// Location of the object digests of `integrity.fleet_divergence`
    /// and of the TLS profiles of the baseline.
    pub store: StoreLocation,
    /// The tuning policy: per-server floors and cipher classes, pins.
    /// `min_version` and the windows above take precedence over its
    /// global values, so that command-line flags can override them.
    pub policy: Arc<Policy>,
    /// User rules in Sigma format (`--rules`), evaluated on every record.
    pub sigma_rules: Option<std::sync::Arc<crate::sigma::RuleSet>>,
    /// Whether the baseline learns and detects.
    pub baseline: baseline::BaselineConfig,
}

impl Default for DetectionConfig {
    fn default() -> Self {
        DetectionConfig {
            min_version: ProtocolVersion::TLS12,
            fallback_window_ns: 30 * 1_000_000_000,
            host: None,
            burst_threshold: 5,
            burst_window_ns: 60 * 1_000_000_000,
            store: StoreLocation::Memory,
            policy: Arc::new(Policy::default()),
            sigma_rules: None,
            baseline: baseline::BaselineConfig::default(),
        }
    }
}

impl DetectionConfig {
    fn host(&self) -> Option<&str> {
        self.host.as_deref()
    }

    /// Builds the settings a policy gives, with `host` for alerts.
    pub fn from_policy(policy: Arc<Policy>, host: Option<String>) -> Self {
        DetectionConfig {
            min_version: policy.floor,
            fallback_window_ns: policy.fallback_window_ns,
            host,
            burst_threshold: policy.burst_threshold,
            burst_window_ns: policy.burst_window_ns,
            policy,
            store: StoreLocation::Memory,
            sigma_rules: None,
            baseline: baseline::BaselineConfig::default(),
        }
    }

    /// Returns the floor for a server: its `[[tls.server]]` override, else
    /// `min_version`.
    fn floor_for(&self, target: &Target<'_>) -> ProtocolVersion {
        self.policy
            .tls_servers
            .iter()
            .filter(|rule| rule.pattern.value.matches(target))
            .find_map(|rule| rule.floor)
            .unwrap_or(self.min_version)
    }
}

/// Runs every detection over sessions and keeps the state that detections
/// spanning several sessions need.
pub struct Engine {
    config: DetectionConfig,
    fallback: fallback_retry::FallbackTracker,
    burst: alert_burst::BurstTracker,
    hsts: tls_stripped::HstsTracker,
    /// Endpoint detections already raised, per input and connection: a
    /// failure is logged by several layers (boringssl's alert, its error
    /// print, CFNetwork's error and the task's failure) and alerts once.
    raised: HashMap<String, RaisedPerConnection>,
    fleet: FleetDivergence,
    baseline: baseline::Baseline,
    /// The warning that endpoint-log baselines are kept per file was given.
    warned_file_host: bool,
}

/// Detections raised per (pid, connection number), hashed with foldhash
/// (keys come from the log; its random seed resists chosen collisions).
type RaisedPerConnection = HashMap<(u32, u32), Vec<&'static str>, foldhash::fast::RandomState>;

/// Connections remembered in [`Engine::raised`] per input at most; the
/// memory is emptied when it grows beyond. Connections are forgotten when
/// they end, so only connections left open for good accumulate.
const MAX_RAISED: usize = 200_000;

impl Engine {
    /// Creates an engine with the given settings.
    pub fn new(config: DetectionConfig) -> Self {
        let store = SharedStore::new(config.store.clone());
        Engine {
            fleet: FleetDivergence::with_shared(store.clone()),
            baseline: baseline::Baseline::new(config.baseline.clone(), store),
            warned_file_host: false,
            config,
            fallback: fallback_retry::FallbackTracker::default(),
            burst: alert_burst::BurstTracker::default(),
            hsts: tls_stripped::HstsTracker::default(),
            raised: HashMap::new(),
        }
    }

    /// Checks one session; sessions should arrive in order of start time.
    pub fn check(&mut self, session: &TlsSession, out: &mut Vec<Alert>) {
        version_floor::check(session, &self.config, out);
        downgrade_sentinel::check(session, &self.config, out);
        self.fallback.check(session, &self.config, out);
        weak_cipher::check(session, &self.config, out);
        certificate_name::check(session, &self.config, out);
        certificate_changed::check(session, &self.config, out);
        record_tamper::check(session, &self.config, out);
        malformed::check(session, &self.config, out);
        self.burst.check_session(session, &self.config, out);
    }

    /// Checks one HTTP transfer; transfers should arrive in the order
    /// their responses ended.
    pub fn check_transfer(&mut self, transfer: &HttpTransfer, out: &mut Vec<Alert>) {
        digest_mismatch::check(transfer, &self.config, out);
        length_mismatch::check(transfer, &self.config, out);
        self.hsts.check(transfer, &self.config, out);
    }

    /// Checks one STARTTLS dialogue when its connection ends, then
    /// compares it with the TLS baseline of its server and learns it.
    /// Fails only when the store cannot be read or written.
    pub fn check_dialogue(
        &mut self,
        dialogue: &StarttlsDialogue,
        out: &mut Vec<Alert>,
    ) -> Result<(), StoreError> {
        let own = out.len();
        tls_stripped::check_dialogue(dialogue, &self.config, out);
        let host = self.baseline_host(&dialogue.client.ip.to_string());
        self.baseline.check_dialogue(dialogue, &host, own, out)
    }

    /// Checks one parsed endpoint log line; lines should arrive in input
    /// order.
    pub fn check_endpoint(&mut self, event: &EndpointEvent<'_>, out: &mut Vec<Alert>) {
        let start = out.len();
        version_floor::check_endpoint(event, &self.config, out);
        weak_cipher::check_endpoint(event, &self.config, out);
        // Several detections read the same classification of the line.
        let failure = endpoint::classify(event.event);
        record_tamper::check_endpoint(event, failure.as_ref(), &self.config, out);
        tls_failure::check(event, failure.as_ref(), &self.config, out);
        ats_blocked::check(event, &self.config, out);
        if alert_burst::counts_for_burst(event, failure.as_ref())
            && self.first_for_connection(event, alert_burst::RULE.id)
        {
            self.burst.check_endpoint(event, &self.config, out);
        }
        let mut index = start;
        while index < out.len() {
            let detection = out[index].detection;
            if detection == alert_burst::RULE.id || self.first_for_connection(event, detection) {
                index += 1;
            } else {
                out.remove(index);
            }
        }
    }

    /// Checks one object sighting against the earlier digests of its
    /// object. Fails only when the store cannot be opened or written.
    pub fn check_object(
        &mut self,
        sighting: &ObjectSighting,
        out: &mut Vec<Alert>,
    ) -> Result<(), StoreError> {
        self.fleet.check(sighting, out)
    }

    /// Compares a session with its TLS baseline and learns it. `process`
    /// is the session's process with its code-signing identity, when known.
    /// `out` contains the alerts [`Engine::check`] raised for the session,
    /// so a pin's `tls.certificate_changed` alert takes the baseline's
    /// evidence in place of a second alert of that id.
    pub fn check_baseline_session(
        &mut self,
        session: &TlsSession,
        process: &Process,
        out: &mut Vec<Alert>,
    ) -> Result<(), StoreError> {
        let host = self.baseline_host(&session.client.ip.to_string());
        self.baseline.check_session(session, process, &host, out)
    }

    /// Compares a plaintext HTTP transfer with the TLS baseline of its
    /// server and learns it.
    pub fn check_baseline_transfer(
        &mut self,
        transfer: &HttpTransfer,
        out: &mut Vec<Alert>,
    ) -> Result<(), StoreError> {
        let host = self.baseline_host(&transfer.client.ip.to_string());
        self.baseline.check_transfer(transfer, &host, out)
    }

    /// Compares a finished connection an endpoint logged with its TLS
    /// baseline and learns it. `process` is the connection's process.
    pub fn check_baseline_connection(
        &mut self,
        connection: &EndpointConnection,
        process: &Process,
        out: &mut Vec<Alert>,
    ) -> Result<(), StoreError> {
        let file = std::path::Path::new(&connection.input)
            .file_name()
            .map_or_else(
                || connection.input.clone(),
                |n| n.to_string_lossy().into_owned(),
            );
        if self.config.host().is_none() && self.baseline_enabled() && !self.warned_file_host {
            self.warned_file_host = true;
            tracing::warn!(
                "{}: endpoint logs name no host, so their TLS baseline is kept under the file \
                 name {file:?}; pass --host NAME to compare logs of one Mac read from \
                 different files",
                connection.input
            );
        }
        let host = self.baseline_host(&file);
        self.baseline
            .check_connection(connection, process, &host, out)
    }

    /// True when the baseline learns or detects in this run.
    pub fn baseline_enabled(&self) -> bool {
        !self.config.baseline.is_off()
    }

    /// Returns the baseline's counts so far.
    pub fn baseline_counts(&self) -> baseline::BaselineCounts {
        self.baseline.counts()
    }

    /// Returns `--host` when given, else `fallback`.
    fn baseline_host(&self, fallback: &str) -> String {
        self.config.host().unwrap_or(fallback).to_owned()
    }

    /// Makes what the detections stored durable.
    pub fn commit_store(&mut self) -> Result<(), StoreError> {
        self.baseline.flush()?;
        self.fleet.commit()
    }

    /// Forgets what was raised for a connection that has ended, so memory
    /// follows the open connections, not every connection ever seen.
    pub fn connection_ended(&mut self, input: &str, key: (u32, u32)) {
        if let Some(connections) = self.raised.get_mut(input) {
            connections.remove(&key);
        }
    }

    /// True the first time a detection is raised for the event's
    /// connection; always true for lines tied to no connection.
    fn first_for_connection(&mut self, event: &EndpointEvent<'_>, detection: &'static str) -> bool {
        let Some((key, _)) = event.connection else {
            return true;
        };
        if !self.raised.contains_key(event.input) {
            self.raised
                .insert(event.input.to_owned(), HashMap::default());
        }
        let Some(connections) = self.raised.get_mut(event.input) else {
            return true;
        };
        if connections.len() >= MAX_RAISED {
            connections.clear();
        }
        let raised = connections.entry(key).or_default();
        if raised.contains(&detection) {
            return false;
        }
        raised.push(detection);
        true
    }
}
