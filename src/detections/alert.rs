//! The alert object every detection emits, in the shape `--format jsonl`
//! writes: enough for a responder to act without opening the capture.

use std::fmt;
use std::net::IpAddr;

use serde::Serialize;

use crate::observations::{Endpoint, HttpTransfer, StarttlsDialogue, TlsSession};

/// Urgency of an alert, ordered from `Info` to `Critical`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// Parses a severity name as written on the command line.
    pub fn parse(text: &str) -> Option<Severity> {
        match text.to_ascii_lowercase().as_str() {
            "info" => Some(Severity::Info),
            "low" => Some(Severity::Low),
            "medium" => Some(Severity::Medium),
            "high" => Some(Severity::High),
            "critical" => Some(Severity::Critical),
            _ => None,
        }
    }

    /// Returns the lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// Certainty that the evidence means what the title states.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

/// One finding.
#[derive(Clone, Debug, Serialize)]
pub struct Alert {
    /// Always `"alert"`.
    #[serde(rename = "type")]
    pub record_type: &'static str,
    /// RFC 3339 time of the evidence.
    pub time: String,
    #[serde(skip)]
    pub time_ns: i64,
    /// Stable detection id, e.g. `tls.version_below_floor`.
    pub detection: &'static str,
    pub severity: Severity,
    pub confidence: Confidence,
    pub title: String,
    /// The endpoint the telemetry came from: `--host` when given, else the
    /// client address of the session.
    pub host: String,
    pub process: Process,
    /// The client side; endpoint logs often do not give its address.
    pub source: Option<Endpoint>,
    pub destination: Destination,
    /// Left out of JSON when [`TlsContext::absent`] is set.
    #[serde(skip_serializing_if = "TlsContext::is_absent")]
    pub tls: TlsContext,
    pub flow: Flow,
    pub evidence: Vec<Evidence>,
    /// Keys above that the telemetry could not fill, e.g. `process`.
    pub missing: Vec<&'static str>,
    pub attack: Attack,
    /// Observation record the alert came from.
    pub session: SessionRef,
    /// Changes the policy made, such as a severity raised for a critical
    /// asset, each with its policy line. Left out of JSON when empty.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub policy: Vec<String>,
    /// The policy entry that suppressed the alert; only suppressed alerts
    /// written with `--show-suppressed` have it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppressed_by: Option<crate::policy::SuppressedBy>,
}

/// Process that made the connection, as far as the telemetry shows.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Process {
    pub pid: Option<u32>,
    pub path: Option<String>,
    pub name: Option<String>,
    pub signing_id: Option<String>,
    pub team_id: Option<String>,
}

/// The server side of the connection. Endpoint logs may name only the
/// host, or hide the address behind a hash.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Destination {
    pub ip: Option<IpAddr>,
    pub port: Option<u16>,
    pub server_name: Option<String>,
}

/// The negotiated protocol and what the detection compared.
#[derive(Clone, Debug, Default, Serialize)]
pub struct TlsContext {
    pub version: Option<String>,
    pub cipher: Option<String>,
    pub alpn: Option<String>,
    pub client_max_version: Option<String>,
    /// The values the detection compared, by name (for example the policy
    /// floor and the negotiated version).
    pub compared: serde_json::Map<String, serde_json::Value>,
    /// Set for alerts about no connection at all, such as a file that
    /// differs from its manifest; the alert then has no `tls` key.
    #[serde(skip)]
    pub absent: bool,
}

impl TlsContext {
    fn is_absent(&self) -> bool {
        self.absent
    }
}

/// The affected data flow.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Flow {
    pub url: Option<String>,
    /// Application-data bytes in both directions.
    pub bytes: Option<u64>,
    pub file: Option<FileRef>,
}

/// A file tied to the flow.
#[derive(Clone, Debug, Serialize)]
pub struct FileRef {
    pub path: String,
    pub sha256: Option<String>,
}

/// One piece of evidence: where to look and what is there.
#[derive(Clone, Debug, Serialize)]
pub struct Evidence {
    /// The input file.
    pub input: String,
    /// Packet number (as Wireshark numbers frames), byte offset or line.
    pub location: String,
    /// The field that carries the evidence, e.g. `server_hello.random`.
    pub field: String,
    pub value: String,
}

/// The ATT&CK objects this product implements.
#[derive(Clone, Debug, Serialize)]
pub struct Attack {
    pub technique: &'static str,
    pub detection_strategy: &'static str,
    pub analytic: &'static str,
}

/// Transmitted Data Manipulation on macOS: technique T1565.002, detection
/// strategy DET0254, analytic AN0704.
pub const ATTACK: Attack = Attack {
    technique: "T1565.002",
    detection_strategy: "DET0254",
    analytic: "AN0704",
};

/// The observation record behind an alert: a TLS session of a capture
/// (by stream number) or a connection in an endpoint log (by its id).
#[derive(Clone, Debug, Serialize)]
pub struct SessionRef {
    pub input: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream: Option<u64>,
    /// Process id and connection id, e.g. `961/C64`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection: Option<String>,
}

impl Process {
    /// Takes the pid, path and name of the process the session's packets
    /// named; empty when the capture had no process metadata.
    pub(crate) fn from_session(session: &TlsSession) -> Process {
        let Some(process) = &session.process else {
            return Process::default();
        };
        Process {
            pid: Some(process.pid),
            path: process.path.clone(),
            name: process.name.clone(),
            signing_id: None,
            team_id: None,
        }
    }
}

impl Evidence {
    /// Evidence at a packet of the session's input.
    pub fn at_packet(session: &TlsSession, packet: u64, field: &str, value: String) -> Evidence {
        Evidence {
            input: session.input.clone(),
            location: format!("packet {packet}"),
            field: field.to_owned(),
            value,
        }
    }
}

impl Evidence {
    /// Evidence at `location` of the transfer's input, e.g.
    /// `packet 17, response offset 47`.
    pub fn at_transfer_location(
        transfer: &HttpTransfer,
        location: &str,
        field: &str,
        value: String,
    ) -> Evidence {
        Evidence {
            input: transfer.input.to_string(),
            location: location.to_owned(),
            field: field.to_owned(),
            value,
        }
    }

    /// Evidence at a packet of the transfer's input.
    pub fn at_transfer_packet(
        transfer: &HttpTransfer,
        packet: u64,
        field: &str,
        value: String,
    ) -> Evidence {
        Evidence {
            input: transfer.input.to_string(),
            location: format!("packet {packet}"),
            field: field.to_owned(),
            value,
        }
    }
}

impl Alert {
    /// Creates an alert with the given identity, whose `time` is `time_ns`
    /// in RFC 3339 with microseconds. Every other key has its default: no
    /// host, process, source, destination, TLS values, flow or evidence,
    /// the [`ATTACK`] mapping and an empty session input. `missing` stays
    /// empty, so a builder that fills keys calls [`Alert::refresh_missing`].
    pub fn new(
        detection: &'static str,
        severity: Severity,
        confidence: Confidence,
        title: String,
        time_ns: i64,
    ) -> Alert {
        Alert {
            record_type: "alert",
            time: crate::observations::format_rfc3339(time_ns),
            time_ns,
            detection,
            severity,
            confidence,
            title,
            host: String::new(),
            process: Process::default(),
            source: None,
            destination: Destination::default(),
            tls: TlsContext::default(),
            flow: Flow::default(),
            evidence: Vec::new(),
            missing: Vec::new(),
            attack: ATTACK,
            session: SessionRef {
                input: String::new(),
                stream: None,
                connection: None,
            },
            policy: Vec::new(),
            suppressed_by: None,
        }
    }

    /// Starts an alert about an HTTP transfer; the URL, body length and
    /// body hash fill `flow`. Plaintext HTTP has no TLS fields, so
    /// `missing` names them.
    pub fn for_transfer(
        transfer: &HttpTransfer,
        detection: &'static str,
        severity: Severity,
        confidence: Confidence,
        title: String,
        host: Option<&str>,
    ) -> Alert {
        let file = match (&transfer.url, &transfer.sha256) {
            (Some(url), sha256) => Some(FileRef {
                path: url.clone(),
                sha256: sha256.clone(),
            }),
            (None, _) => None,
        };
        let mut alert = Alert::new(detection, severity, confidence, title, transfer.time_ns);
        alert.host = host.map_or_else(|| transfer.client.ip.to_string(), str::to_owned);
        alert.source = Some(transfer.client);
        alert.destination = Destination {
            ip: Some(transfer.server.ip),
            port: Some(transfer.server.port),
            server_name: transfer.host_name(),
        };
        alert.flow = Flow {
            url: transfer.url.clone(),
            bytes: Some(transfer.received_length),
            file,
        };
        alert.session = SessionRef {
            input: transfer.input.to_string(),
            stream: Some(transfer.stream),
            connection: None,
        };
        alert.refresh_missing();
        alert
    }

    /// Starts an alert about a STARTTLS dialogue. The destination is the
    /// server's address and port, and no TLS was negotiated, so `missing`
    /// names the TLS fields.
    pub fn for_dialogue(
        dialogue: &StarttlsDialogue,
        detection: &'static str,
        severity: Severity,
        confidence: Confidence,
        title: String,
        host: Option<&str>,
    ) -> Alert {
        let mut alert = Alert::new(detection, severity, confidence, title, dialogue.time_ns);
        alert.host = host.map_or_else(|| dialogue.client.ip.to_string(), str::to_owned);
        alert.source = Some(dialogue.client);
        alert.destination = Destination {
            ip: Some(dialogue.server.ip),
            port: Some(dialogue.server.port),
            server_name: dialogue.server_name.clone(),
        };
        alert.flow.bytes = dialogue.bytes;
        alert.session = SessionRef {
            input: dialogue.input.to_string(),
            stream: Some(dialogue.stream),
            connection: None,
        };
        alert.refresh_missing();
        alert
    }

    /// Starts an alert about `session` with the context every alert
    /// carries; the detection then adds evidence and compared values.
    pub fn for_session(
        session: &TlsSession,
        detection: &'static str,
        severity: Severity,
        confidence: Confidence,
        title: String,
        host: Option<&str>,
    ) -> Alert {
        let mut alert = Alert::new(detection, severity, confidence, title, session.start_ns);
        alert.host = host.map_or_else(|| session.client.ip.to_string(), str::to_owned);
        alert.process = Process::from_session(session);
        alert.source = Some(session.client);
        alert.destination = Destination {
            ip: Some(session.server.ip),
            port: Some(session.server.port),
            server_name: session.server_name.clone(),
        };
        alert.tls = TlsContext {
            version: session.version.clone(),
            cipher: session.cipher.clone(),
            alpn: session.alpn.clone(),
            client_max_version: session.client_hello.as_ref().map(|h| h.max_version.clone()),
            ..TlsContext::default()
        };
        alert.flow.bytes =
            Some(session.application_data.client_bytes + session.application_data.server_bytes);
        alert.session = SessionRef {
            input: session.input.clone(),
            stream: Some(session.stream),
            connection: None,
        };
        alert.refresh_missing();
        alert
    }

    /// Records a value the detection compared.
    pub fn compare(&mut self, name: &str, value: impl Into<serde_json::Value>) {
        self.tls.compared.insert(name.to_owned(), value.into());
    }

    /// Sets the time of the alert to the time of the evidence.
    pub fn at_time(&mut self, time_ns: i64) {
        self.time_ns = time_ns;
        self.time = crate::observations::format_rfc3339(time_ns);
    }

    fn missing_keys(&self) -> Vec<&'static str> {
        let mut missing = Vec::new();
        if self.process.pid.is_none() && self.process.path.is_none() && self.process.name.is_none()
        {
            missing.push("process");
        }
        if self.source.is_none() {
            missing.push("source");
        }
        if self.destination.ip.is_none() {
            missing.push("destination.ip");
        }
        if self.destination.port.is_none() {
            missing.push("destination.port");
        }
        if self.destination.server_name.is_none() {
            missing.push("destination.server_name");
        }
        if self.tls.version.is_none() {
            missing.push("tls.version");
        }
        if self.tls.cipher.is_none() {
            missing.push("tls.cipher");
        }
        if self.tls.alpn.is_none() {
            missing.push("tls.alpn");
        }
        if self.tls.client_max_version.is_none() {
            missing.push("tls.client_max_version");
        }
        if self.flow.bytes.is_none() {
            missing.push("flow.bytes");
        }
        if self.flow.url.is_none() {
            missing.push("flow.url");
        }
        if self.flow.file.is_none() {
            missing.push("flow.file");
        }
        missing
    }

    /// Recomputes `missing` after a detection filled more keys.
    pub fn refresh_missing(&mut self) {
        self.missing = self.missing_keys();
    }
}

#[cfg(test)]
mod tests {
    use super::{Alert, Confidence, Severity};

    #[test]
    fn new_fills_defaults() {
        let alert = Alert::new(
            "tls.weak_cipher",
            Severity::Medium,
            Confidence::High,
            "title".to_owned(),
            1_796_342_400_123_456_789,
        );
        assert_eq!(alert.record_type, "alert");
        assert_eq!(alert.time, "2026-12-04T00:00:00.123457Z");
        assert_eq!(alert.time_ns, 1_796_342_400_123_456_789);
        assert_eq!(alert.detection, "tls.weak_cipher");
        assert_eq!(alert.severity, Severity::Medium);
        assert_eq!(alert.confidence, Confidence::High);
        assert_eq!(alert.title, "title");
        assert!(alert.host.is_empty());
        assert!(alert.source.is_none());
        assert!(alert.evidence.is_empty());
        assert!(alert.missing.is_empty());
        assert!(alert.policy.is_empty());
        assert!(alert.suppressed_by.is_none());
        assert_eq!(alert.attack.technique, "T1565.002");
        assert!(alert.session.input.is_empty());
        assert!(alert.session.stream.is_none());
        assert!(alert.session.connection.is_none());
    }

    #[test]
    fn new_alert_json_keys() {
        let alert = Alert::new(
            "tls.weak_cipher",
            Severity::Low,
            Confidence::Low,
            String::new(),
            0,
        );
        let json = serde_json::to_value(&alert).expect("alert serializes");
        assert_eq!(json["type"], "alert");
        assert_eq!(json["time"], "1970-01-01T00:00:00.000000Z");
        assert!(
            json.get("tls").is_some(),
            "tls is kept unless absent: {json}"
        );
        assert!(
            json.get("policy").is_none(),
            "empty policy is left out: {json}"
        );
        assert!(json.get("suppressed_by").is_none(), "{json}");
        assert!(json.get("time_ns").is_none(), "{json}");
        assert_eq!(json["session"], serde_json::json!({"input": ""}));
    }
}
