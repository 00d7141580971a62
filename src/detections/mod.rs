//! Detections: read TLS session observations, emit alerts.
//!
//! Each detection lives in its own module with its [`Rule`] (id, default
//! severity and documentation) beside the code that decides it. The
//! [`Engine`] runs them all over every session, in order of start time.

mod alert;
mod certificate_name;
mod downgrade_sentinel;
mod fallback_retry;
mod malformed;
mod record_tamper;
mod rule;
mod version_floor;
mod weak_cipher;

pub use alert::{
    ATTACK, Alert, Attack, Confidence, Destination, Evidence, FileRef, Flow, Process, SessionRef,
    Severity, TlsContext,
};
pub use rule::Rule;

use wiretrust_tls::registry::ProtocolVersion;

use crate::observations::TlsSession;

/// Every built-in detection, in the order `wiretrust rules` lists them.
pub const RULES: &[Rule] = &[
    version_floor::RULE,
    downgrade_sentinel::RULE,
    fallback_retry::RULE,
    weak_cipher::RULE,
    certificate_name::RULE,
    record_tamper::RULE,
    malformed::RULE,
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
}

impl Default for DetectionConfig {
    fn default() -> Self {
        DetectionConfig {
            min_version: ProtocolVersion::TLS12,
            fallback_window_ns: 30 * 1_000_000_000,
            host: None,
        }
    }
}

impl DetectionConfig {
    fn host(&self) -> Option<&str> {
        self.host.as_deref()
    }
}

/// Runs every detection over sessions and keeps the state that detections
/// spanning several sessions need.
pub struct Engine {
    config: DetectionConfig,
    fallback: fallback_retry::FallbackTracker,
}

impl Engine {
    /// Creates an engine with the given settings.
    pub fn new(config: DetectionConfig) -> Self {
        Engine {
            config,
            fallback: fallback_retry::FallbackTracker::default(),
        }
    }

    /// Checks one session; sessions should arrive in order of start time.
    pub fn check(&mut self, session: &TlsSession, out: &mut Vec<Alert>) {
        version_floor::check(session, &self.config, out);
        downgrade_sentinel::check(session, &self.config, out);
        self.fallback.check(session, &self.config, out);
        weak_cipher::check(session, &self.config, out);
        certificate_name::check(session, &self.config, out);
        record_tamper::check(session, &self.config, out);
        malformed::check(session, &self.config, out);
    }
}
