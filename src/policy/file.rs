//! The policy file as written: TOML tables deserialized with their spans,
//! so that each value found invalid later can be reported at its line.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

/// A string value with its byte range in the file.
pub type Text = Spanned<String>;

/// The whole file. Top-level keys come before the first `[table]`, as TOML
/// requires.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyFile {
    /// RFC 3339 time that suppressions' `for` durations count from.
    pub since: Option<Text>,
    /// Server or host patterns whose alerts are raised one severity step.
    #[serde(default)]
    pub critical_assets: Vec<Text>,
    #[serde(default)]
    pub tls: TlsSection,
    #[serde(default)]
    pub stream: StreamSection,
    #[serde(default)]
    pub pin: Vec<PinEntry>,
    #[serde(default)]
    pub allow: AllowSection,
    #[serde(default)]
    pub suppress: Vec<SuppressEntry>,
    /// Detection id to severity name.
    #[serde(default)]
    pub severity: BTreeMap<Spanned<String>, Text>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSection {
    pub floor: Option<Text>,
    pub weak_classes: Option<Vec<Text>>,
    /// Duration such as `"30s"`.
    pub fallback_window: Option<Text>,
    #[serde(default)]
    pub server: Vec<TlsServerEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsServerEntry {
    #[serde(rename = "match")]
    pub pattern: Text,
    pub floor: Option<Text>,
    pub weak_classes: Option<Vec<Text>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamSection {
    pub burst_threshold: Option<Spanned<i64>>,
    pub burst_window: Option<Text>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PinEntry {
    pub server: Text,
    #[serde(default)]
    pub spki_sha256: Vec<Text>,
    #[serde(default)]
    pub issuer: Vec<Text>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowSection {
    #[serde(default)]
    pub legacy_services: Vec<Text>,
    #[serde(default)]
    pub proxies: Vec<Text>,
    #[serde(default)]
    pub inspection_cas: Vec<InspectionCaEntry>,
    #[serde(default)]
    pub processes: Vec<Text>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InspectionCaEntry {
    pub spki_sha256: Option<Text>,
    pub issuer: Option<Text>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuppressEntry {
    pub detection: Text,
    pub server: Option<Text>,
    pub host: Option<Text>,
    pub process: Option<Text>,
    pub from: Option<Text>,
    pub until: Option<Text>,
    #[serde(rename = "for")]
    pub duration: Option<Text>,
    pub reason: Option<Text>,
}

/// Every key the file accepts, by the table it sits in, for suggestions
/// when a key is unknown.
pub const KEYS: &[(&str, &[&str])] = &[
    (
        "",
        &[
            "since",
            "critical_assets",
            "tls",
            "stream",
            "pin",
            "allow",
            "suppress",
            "severity",
        ],
    ),
    (
        "tls",
        &["floor", "weak_classes", "fallback_window", "server"],
    ),
    ("tls.server", &["match", "floor", "weak_classes"]),
    ("stream", &["burst_threshold", "burst_window"]),
    ("pin", &["server", "spki_sha256", "issuer"]),
    (
        "allow",
        &["legacy_services", "proxies", "inspection_cas", "processes"],
    ),
    ("allow.inspection_cas", &["spki_sha256", "issuer"]),
    (
        "suppress",
        &[
            "detection",
            "server",
            "host",
            "process",
            "from",
            "until",
            "for",
            "reason",
        ],
    ),
];

/// An example value for each key, shown when a value has the wrong type.
pub const EXAMPLES: &[(&str, &str)] = &[
    ("since", "since = \"2026-01-01T00:00:00Z\""),
    (
        "critical_assets",
        "critical_assets = [\"*.bank.example\", \"10.1.0.0/16\"]",
    ),
    ("floor", "floor = \"TLS1.2\""),
    (
        "weak_classes",
        "weak_classes = [\"null\", \"export\", \"rc4\"]",
    ),
    ("fallback_window", "fallback_window = \"30s\""),
    ("server", "server = \"api.example.com\""),
    ("match", "match = \"*.legacy.example\""),
    ("burst_threshold", "burst_threshold = 5"),
    ("burst_window", "burst_window = \"60s\""),
    (
        "spki_sha256",
        "spki_sha256 = [\"<64 hex digits or 44 base64 characters>\"]",
    ),
    ("issuer", "issuer = [\"O=Example Corp\"]"),
    (
        "legacy_services",
        "legacy_services = [\"printer.corp.example\"]",
    ),
    (
        "proxies",
        "proxies = [\"10.0.0.8\", \"proxy.corp.example:3128\"]",
    ),
    (
        "inspection_cas",
        "inspection_cas = [{ issuer = \"CN=Corp Inspection CA\" }]",
    ),
    ("processes", "processes = [\"platform:com.apple.curl\"]"),
    ("detection", "detection = \"endpoint.*\""),
    ("host", "host = \"*.lab.corp.example\""),
    ("process", "process = \"EQHXZ8M8AV:com.google.Chrome\""),
    ("from", "from = \"2026-01-01T00:00:00Z\""),
    ("until", "until = \"2026-02-01T00:00:00Z\""),
    ("for", "for = \"30d\""),
    ("reason", "reason = \"vendor appliance, replaced in Q3\""),
    (
        "pin",
        "[[pin]]\nserver = \"api.example.com\"\nissuer = [\"O=Example Corp\"]",
    ),
    (
        "suppress",
        "[[suppress]]\ndetection = \"tls.weak_cipher\"\nserver = \"printer.example\"",
    ),
    ("tls", "[tls]\nfloor = \"TLS1.2\""),
    ("severity", "[severity]\n\"tls.weak_cipher\" = \"high\""),
];
