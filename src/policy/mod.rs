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

    /// Returns the weak classes raised for a server: its first `[[tls.server]]`
    /// override with classes, else the policy's classes.
    pub fn weak_classes_for(&self, target: &Target<'_>) -> WeakClasses {
        self.tls_servers
            .iter()
            .filter(|rule| rule.pattern.value.matches(target))
            .find_map(|rule| rule.weak_classes)
            .unwrap_or(self.weak_classes)
    }

    /// Returns the pins whose server pattern matches.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_text_is_default() {
        let parsed = Policy::parse(BUILTIN_TOML, "built-in").expect("the built-in policy parses");
        let expected = Policy {
            path: Some("built-in".to_owned()),
            ..Policy::default()
        };
        assert_eq!(parsed, expected);
    }

    #[test]
    fn empty_file_is_default() {
        let parsed = Policy::parse("", "empty.toml").expect("an empty policy parses");
        assert_eq!(parsed.floor, ProtocolVersion::TLS12);
        assert_eq!(parsed.burst_threshold, 5);
        assert!(parsed.suppressions.is_empty());
    }

    #[test]
    fn server_override_wins_over_global() {
        let text = "[tls]\nweak_classes = [\"rc4\", \"3des\"]\n\
                    [[tls.server]]\nmatch = \"*.legacy.example\"\nweak_classes = [\"null\"]\n";
        let policy = Policy::parse(text, "p.toml").expect("parses");
        let legacy = Target {
            name: Some("printer.legacy.example"),
            ..Target::default()
        };
        let other = Target {
            name: Some("www.example.com"),
            ..Target::default()
        };
        assert_eq!(policy.weak_classes_for(&legacy), WeakClasses::NULL);
        assert_eq!(
            policy.weak_classes_for(&other),
            WeakClasses::RC4 | WeakClasses::TRIPLE_DES
        );
    }

    #[test]
    fn version_names() {
        assert_eq!(parse_version_name("TLS1.2"), Some(ProtocolVersion::TLS12));
        assert_eq!(parse_version_name("tls 1.0"), Some(ProtocolVersion::TLS10));
        assert_eq!(parse_version_name("SSL3.0"), Some(ProtocolVersion::SSL3));
        assert_eq!(parse_version_name("TLS1.4"), None);
    }

    #[test]
    fn suppression_lines_and_windows() {
        let text = "since = \"2026-01-01T00:00:00Z\"\n\n[[suppress]]\n\
                    detection = \"endpoint.*\"\nfor = \"1d\"\n";
        let policy = Policy::parse(text, "p.toml").expect("parses");
        let entry = &policy.suppressions[0];
        assert_eq!(entry.line, 4);
        let start = policy.since_ns.expect("since is set");
        assert_eq!(entry.from_ns, Some(start));
        assert_eq!(entry.until_ns, Some(start + 86_400 * 1_000_000_000));
    }

    #[test]
    fn pin_hashes_are_normalized() {
        let text = "[[pin]]\nserver = \"a.example\"\n\
                    spki_sha256 = [\"k65xGHs/SfLsid4OyX7V6+pQPo3awVA91whfMT2zesg=\", \
                    \"93AE71187B3F49F2EC89DE0EC97ED5EBEA503E8DDAC1503DD7085F313DB37AC8\"]\n";
        let policy = Policy::parse(text, "p.toml").expect("parses");
        let expected = "93ae71187b3f49f2ec89de0ec97ed5ebea503e8ddac1503dd7085f313db37ac8";
        assert_eq!(policy.pins[0].spki_sha256, [expected, expected]);
    }

    #[test]
    fn errors_point_at_the_value() {
        let cases = [
            ("[tls]\nfloor = \"TLS9\"\n", 2, "invalid protocol version"),
            (
                "[tls]\nweak_classes = [\"rc5\"]\n",
                2,
                "did you mean \"rc4\"?",
            ),
            ("[stream]\nburst_threshold = 1\n", 2, "out of range"),
            (
                "[[tls.server]]\nmatch = \"a.example\"\n",
                2,
                "neither floor nor",
            ),
            ("[[pin]]\nserver = \"a.example\"\n", 2, "names no key"),
            ("[allow]\nprocesses = [\"curl\"]\n", 2, "absolute path"),
            (
                "[[suppress]]\ndetection = \"nothing.*\"\n",
                2,
                "matches no detection",
            ),
            (
                "[[suppress]]\ndetection = \"tls.stripped\"\nfrom = \"yesterday\"\n",
                3,
                "RFC 3339",
            ),
            (
                "[severity]\n\"tls.stripped\" = \"urgent\"\n",
                2,
                "invalid severity",
            ),
        ];
        for (text, line, expected) in cases {
            let err = Policy::parse(text, "p.toml").expect_err(text);
            assert_eq!(err.line(), Some(line), "{text}");
            assert!(err.to_string().contains(expected), "{text}: {err}");
        }
    }
}
