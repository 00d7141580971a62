//! The tuning policy: the protocol floor and weak cipher classes (with
//! per-server overrides), certificate pins, allowlists, suppressions,
//! severity overrides and critical assets.
//!
//! A policy is read from TOML ([`Policy::load`]) or is the built-in
//! default ([`Policy::default`], printed by `wiretrust policy show` from
//! [`BUILTIN_TOML`]). Detections read the floor, cipher classes and pins;
//! every other section is applied in one place, [`Policy::apply`], after
//! the detections and before the sinks.

mod apply;
mod error;
mod file;
mod load;
mod pattern;

pub use apply::{PolicyOutcome, SuppressedBy};
pub use error::PolicyError;
pub use pattern::{ProcessPattern, ProcessTarget, ServerPattern, Target, glob_matches};

use std::path::Path;

use wiretrust_tls::registry::{ProtocolVersion, WeakClasses};

use crate::detections::Severity;

/// The built-in default policy as TOML. Parsing it gives
/// [`Policy::default`], which a unit test checks.
pub const BUILTIN_TOML: &str = include_str!("default.toml");

/// A loaded, validated policy.
#[derive(Clone, Debug, PartialEq)]
pub struct Policy {
    /// The file the policy came from; `None` for the built-in default.
    pub path: Option<String>,
    /// Time that suppressions' `for` durations count from, in Unix
    /// nanoseconds.
    pub since_ns: Option<i64>,
    /// Lowest acceptable negotiated version for servers without an override.
    pub floor: ProtocolVersion,
    /// Cipher classes `tls.weak_cipher` raises for, without an override.
    pub weak_classes: WeakClasses,
    /// Per-server floors and classes; the first matching entry wins.
    pub tls_servers: Vec<TlsServerRule>,
    /// How long after a failed attempt a lower-version retry counts as a
    /// fallback, in nanoseconds.
    pub fallback_window_ns: i64,
    /// Failures for one server that make a `stream.alert_burst`.
    pub burst_threshold: usize,
    /// Window a burst must fit in, in nanoseconds.
    pub burst_window_ns: i64,
    pub pins: Vec<Pin>,
    /// Servers exempt from `tls.version_below_floor` and `tls.weak_cipher`.
    pub legacy_services: Vec<Located<ServerPattern>>,
    /// Sanctioned TLS-inspecting proxies: certificate findings for
    /// sessions to them become info.
    pub proxies: Vec<Located<ServerPattern>>,
    pub inspection_cas: Vec<Located<CaMatch>>,
    /// Processes exempt from `tls.version_below_floor` and `tls.weak_cipher`.
    pub processes: Vec<Located<ProcessPattern>>,
    pub suppressions: Vec<Suppression>,
    /// Severity per detection id, replacing the detection's own.
    pub severity: Vec<Located<(String, Severity)>>,
    /// Servers or hosts whose alerts are raised one severity step.
    pub critical_assets: Vec<Located<ServerPattern>>,
}

/// A value with the line of the policy file it was written on (1-based;
/// 0 in the built-in default).
#[derive(Clone, Debug, PartialEq)]
pub struct Located<T> {
    pub value: T,
    pub line: usize,
}

/// A `[[tls.server]]` entry.
#[derive(Clone, Debug, PartialEq)]
pub struct TlsServerRule {
    pub pattern: Located<ServerPattern>,
    pub floor: Option<ProtocolVersion>,
    pub weak_classes: Option<WeakClasses>,
}

/// A `[[pin]]` entry: the leaf certificates a server may present.
#[derive(Clone, Debug, PartialEq)]
pub struct Pin {
    pub server: Located<ServerPattern>,
    /// Lower-case hex SHA-256 of accepted SubjectPublicKeyInfo values.
    pub spki_sha256: Vec<String>,
    /// Substrings of accepted leaf issuer names (RFC 4514 form).
    pub issuers: Vec<String>,
}

/// A certificate authority named by its key or its name.
#[derive(Clone, Debug, PartialEq)]
pub enum CaMatch {
    /// Lower-case hex SHA-256 of the CA's SubjectPublicKeyInfo.
    Spki(String),
    /// Substring of the issuer name of certificates the CA signed.
    Issuer(String),
}

/// A `[[suppress]]` entry. Every key given must match.
#[derive(Clone, Debug, PartialEq)]
pub struct Suppression {
    /// Position among the `[[suppress]]` entries, from 0.
    pub index: usize,
    pub line: usize,
    /// Detection id or glob such as `endpoint.*`.
    pub detection: String,
    pub server: Option<ServerPattern>,
    pub host: Option<ServerPattern>,
    pub process: Option<ProcessPattern>,
    /// Start of the window, Unix nanoseconds, inclusive.
    pub from_ns: Option<i64>,
    /// End of the window, Unix nanoseconds, exclusive.
    pub until_ns: Option<i64>,
    pub reason: Option<String>,
}

impl Default for Policy {
    /// Returns the built-in default, which reproduces the behaviour without
    /// a policy file: floor TLS 1.2, every weak class, a 30 s fallback
    /// window, bursts of 5 failures in 60 s, and nothing allowed,
    /// suppressed, pinned or overridden.
    fn default() -> Self {
        Policy {
            path: None,
            since_ns: None,
            floor: ProtocolVersion::TLS12,
            weak_classes: WeakClasses::ALL
                .into_iter()
                .fold(WeakClasses::NONE, |all, (class, _)| all | class),
            tls_servers: Vec::new(),
            fallback_window_ns: 30 * 1_000_000_000,
            burst_threshold: 5,
            burst_window_ns: 60 * 1_000_000_000,
            pins: Vec::new(),
            legacy_services: Vec::new(),
            proxies: Vec::new(),
            inspection_cas: Vec::new(),
            processes: Vec::new(),
            suppressions: Vec::new(),
            severity: Vec::new(),
            critical_assets: Vec::new(),
        }
    }
}

impl Policy {
    /// Reads and validates a policy file.
    pub fn load(path: &Path) -> Result<Policy, PolicyError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|err| PolicyError::Read {
            path: name.clone(),
            reason: err.to_string(),
        })?;
        Policy::parse(&text, &name)
    }

    /// Parses and validates policy text; `name` names it in errors.
    pub fn parse(text: &str, name: &str) -> Result<Policy, PolicyError> {
        load::parse(text, name)
    }

    /// The weak classes raised for a server: its first `[[tls.server]]`
    /// override with classes, else the policy's classes.
    pub fn weak_classes_for(&self, target: &Target<'_>) -> WeakClasses {
        self.tls_servers
            .iter()
            .filter(|rule| rule.pattern.value.matches(target))
            .find_map(|rule| rule.weak_classes)
            .unwrap_or(self.weak_classes)
    }

    /// The pins whose server pattern matches.
    pub fn pins_for<'p>(&'p self, target: &Target<'_>) -> impl Iterator<Item = &'p Pin> {
        self.pins
            .iter()
            .filter(move |pin| pin.server.value.matches(target))
    }
}

/// Parses a version name as policy files write it: `TLS1.2`, `tls 1.2`,
/// `SSL3.0` and the like.
pub fn parse_version_name(text: &str) -> Option<ProtocolVersion> {
    let compact: String = text
        .chars()
        .filter(|c| !matches!(c, ' ' | '_' | 'v' | 'V'))
        .collect::<String>()
        .to_ascii_lowercase();
    match compact.as_str() {
        "ssl3" | "ssl3.0" => Some(ProtocolVersion::SSL3),
        "tls1" | "tls1.0" => Some(ProtocolVersion::TLS10),
        "tls1.1" => Some(ProtocolVersion::TLS11),
        "tls1.2" => Some(ProtocolVersion::TLS12),
        "tls1.3" => Some(ProtocolVersion::TLS13),
        _ => None,
    }
}

/// Looks up a weak cipher class by its short name (`rc4`, `3des`, ...).
pub fn weak_class(name: &str) -> Option<WeakClasses> {
    let name = name.to_ascii_lowercase();
    WeakClasses::ALL
        .into_iter()
        .find(|(_, known)| *known == name)
        .map(|(class, _)| class)
}
