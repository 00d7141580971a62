//! Flattens observation records into the field names Sigma rules use. The
//! table of names is in docs/sigma.md; keep the two in step.
//!
//! Fields are one flat JSON object with dotted keys (`tls.version`), so a
//! rule's field name is looked up in one step. A field the record does not
//! have is left out, which a rule's `field: null` also matches.

use serde_json::{Map, Value, json};
use wiretrust_applenet::{AlertDirection, NetEvent};

use crate::detections::{Alert, Confidence, Destination, EndpointEvent, Process, Severity};
use crate::detections::{SessionRef, TlsContext};
use crate::observations::{EndpointConnection, TlsSession, cipher_facts};

/// Field name of the logsource product (always `macos`).
pub const LOGSOURCE_PRODUCT: &str = "logsource.product";
/// Field name of the logsource service: `tls` or `unifiedlog`.
pub const LOGSOURCE_SERVICE: &str = "logsource.service";
/// Field name of the logsource category: `network` for TLS sessions, the
/// unified log category (`boringssl`, `connection`, ...) for log lines and
/// `endpoint_connection` for connections folded from the log.
pub const LOGSOURCE_CATEGORY: &str = "logsource.category";

/// Placeholder detection id of the alert template. [`super::SigmaEngine`]
/// replaces it with the rule's.
const TEMPLATE_ID: &str = "sigma";

/// One observation record as rules see it, with the alert context a match
/// starts from.
#[derive(Debug, Clone)]
pub struct SigmaRecord {
    /// The flat field object rules are evaluated on.
    pub fields: Value,
    /// Time of the record, used by correlation windows.
    pub time_ns: i64,
    pub input: String,
    /// Location of the record in its input: a TCP stream, a log line.
    pub location: String,
    /// Alert with the record's host, process, destination and TLS context.
    pub alert: Alert,
}

impl SigmaRecord {
    /// Flattens a capture session. `alert` is the session's context, e.g.
    /// from [`Alert::for_session`] with the process identity added.
    pub fn from_session(session: &TlsSession, alert: Alert) -> SigmaRecord {
        let mut fields = Fields::new("tls", "network");
        fields.put("record_type", session.record_type);
        fields.put("input", session.input.as_str());
        fields.put("time", session.start_time.as_str());
        fields.put("host", alert.host.as_str());
        fields.put("transport", session.transport);
        fields.opt("preamble", session.preamble.as_deref());
        fields.put("stream", session.stream);
        fields.put("src_ip", session.client.ip.to_string());
        fields.put("src_port", session.client.port);
        fields.put("dst_ip", session.server.ip.to_string());
        fields.put("dst_port", session.server.port);
        fields.opt("server_name", session.server_name.as_deref());
        fields.process(&alert.process);

        fields.opt("tls.version", session.version.as_deref());
        fields.opt("tls.cipher", session.cipher.as_deref());
        fields.opt("tls.alpn", session.alpn.as_deref());
        fields.list("tls.cipher_weakness", &session.cipher_weakness);
        fields.put("tls.established", session.established);
        fields.put("tls.failed_attempt", session.failed_attempt);
        fields.put("tls.history", session.history.as_str());
        fields.list("tls.anomalies", &session.anomalies);
        if let Some(hello) = &session.client_hello {
            fields.put("tls.client_max_version", hello.max_version.as_str());
            fields.list("tls.client_versions", &hello.supported_versions);
            fields.put("tls.fallback_scsv", hello.fallback_scsv);
            fields.list("tls.offered_weak", &hello.offered_weak);
        }
        if let Some(hello) = &session.server_hello {
            fields.opt("tls.downgrade_sentinel", hello.downgrade_sentinel);
        }
        // Encrypted alerts have neither a description nor a code.
        let alerts: Vec<String> = session
            .alerts
            .iter()
            .filter_map(|alert| {
                let code = alert.code.map(|code| code.to_string());
                alert.description.clone().or(code)
            })
            .collect();
        fields.list("tls.alerts", &alerts);
        fields.put(
            "tls.fatal_alert",
            session.alerts.iter().any(|alert| alert.level == "fatal"),
        );
        fields.opt("tls.server_name_covered", session.server_name_covered);

        fields.opt("ja3", session.ja3.as_deref());
        fields.opt("ja3s", session.ja3s.as_deref());
        fields.opt("ja4", session.ja4.as_deref());
        if let Some(leaf) = session.certificates.first() {
            fields.opt("cert.subject", leaf.subject.as_deref());
            fields.opt("cert.issuer", leaf.issuer.as_deref());
            fields.list("cert.dns_names", &leaf.dns_names);
            fields.opt("cert.not_after", leaf.not_after.as_deref());
            fields.opt("cert.key_type", leaf.key_type.as_deref());
            fields.opt("cert.key_bits", leaf.key_bits);
            fields.put("cert.self_issued", leaf.self_issued);
        }
        fields.put(
            "bytes",
            session.application_data.client_bytes + session.application_data.server_bytes,
        );
        SigmaRecord {
            fields: fields.into_value(),
            time_ns: session.start_ns,
            input: session.input.clone(),
            location: format!("tcp.stream {}", session.stream),
            alert,
        }
    }

    /// Flattens one parsed unified log line with its connection as known
    /// so far. `host` is `--host`, else the input's name.
    pub fn from_endpoint(event: &EndpointEvent<'_>, host: Option<&str>) -> SigmaRecord {
        let record = event.record;
        let alert = Alert::for_endpoint(
            event,
            TEMPLATE_ID,
            Severity::Medium,
            Confidence::Medium,
            String::new(),
            host,
        );

        let mut fields = Fields::new("unifiedlog", &record.category);
        fields.put("record_type", "log_line");
        fields.put("input", event.input);
        fields.put("time", record.timestamp.as_str());
        fields.put("host", alert.host.as_str());
        fields.put("subsystem", record.subsystem.as_str());
        fields.put("category", record.category.as_str());
        fields.put("message", record.message.as_str());
        fields.put("log.level", record.level.as_str());
        fields.put("log.event_type", record.event_type.as_str());

        fields.process(&alert.process);
        destination(&mut fields, &alert.destination);
        tls_context(&mut fields, &alert.tls);
        if let Some(((pid, number), _)) = event.connection {
            fields.put("connection", format!("{pid}/C{number}"));
        }
        net_event(&mut fields, event.event);
        let time_ns = record.time_ns.unwrap_or(0);
        let location = alert
            .evidence
            .first()
            .map_or_else(|| record.location.to_string(), |e| e.location.clone());
        SigmaRecord {
            fields: fields.into_value(),
            time_ns,
            input: event.input.to_owned(),
            location,
            alert,
        }
    }

    /// Flattens a connection folded from the unified log, written when it
    /// closed or the input ended.
    pub fn from_connection(
        connection: &EndpointConnection,
        process: Process,
        host: Option<&str>,
    ) -> SigmaRecord {
        let host = host.map_or_else(|| input_name(&connection.input), str::to_owned);
        let mut fields = Fields::new("unifiedlog", "endpoint_connection");
        fields.put("record_type", connection.record_type);
        fields.put("input", connection.input.as_str());
        fields.put("time", connection.start_time.as_str());
        fields.put("host", host.as_str());
        fields.process(&process);
        fields.put("connection", connection.connection.as_str());
        fields.opt("server_name", connection.server_name.as_deref());
        fields.opt("dst_host", connection.host.as_deref());
        fields.opt("dst_port", connection.port);
        fields.opt("transport", connection.transport.as_deref());
        fields.opt("url", connection.url.as_deref());
        fields.put("tls", connection.tls);
        fields.opt("tls.version", connection.version.as_deref());
        fields.opt("tls.cipher", connection.cipher.as_deref());
        fields.list("tls.cipher_weakness", &connection.cipher_weakness);
        fields.opt("tls.alpn", connection.alpn.as_deref());
        fields.opt("tls.group", connection.group.as_deref());
        fields.opt("tls.resumed", connection.resumed);
        fields.opt(
            "tls.client_min_version",
            connection.offered_min_version.as_deref(),
        );
        fields.opt(
            "tls.client_max_version",
            connection.offered_max_version.as_deref(),
        );
        let alerts: Vec<&str> = connection
            .alerts
            .iter()
            .map(|a| a.description.as_str())
            .collect();
        fields.list("tls.alerts", &alerts);
        fields.put("tls.fatal_alert", connection.alerts.iter().any(|a| a.fatal));
        let errors: Vec<&str> = connection.errors.iter().map(|e| e.code.as_str()).collect();
        fields.list("errors", &errors);
        fields.opt("bytes_in", connection.bytes_in);
        fields.opt("bytes_out", connection.bytes_out);
        fields.put("closed", connection.closed);
        let alert = connection_alert(connection, process, host);
        SigmaRecord {
            fields: fields.into_value(),
            time_ns: connection.start_ns,
            input: connection.input.clone(),
            location: format!("line {}", connection.first_line),
            alert,
        }
    }
}

/// Starts an alert about an endpoint connection with its context.
fn connection_alert(connection: &EndpointConnection, process: Process, host: String) -> Alert {
    let mut alert = Alert::new(
        TEMPLATE_ID,
        Severity::Medium,
        Confidence::Medium,
        String::new(),
        connection.start_ns,
    );
    alert.host = host;
    alert.process = process;
    alert.destination = Destination {
        ip: None,
        port: connection.port,
        server_name: connection.server_name.clone().or(connection.host.clone()),
    };
    alert.tls = TlsContext {
        version: connection.version.clone(),
        cipher: connection.cipher.clone(),
        alpn: connection.alpn.clone(),
        client_max_version: connection.offered_max_version.clone(),
        ..TlsContext::default()
    };
    alert.flow.url = connection.url.clone();
    alert.flow.bytes = connection
        .bytes_in
        .zip(connection.bytes_out)
        .map(|(i, o)| i + o);
    alert.session = SessionRef {
        input: connection.input.clone(),
        stream: None,
        connection: Some(format!(
            "{}/{}",
            connection
                .pid
                .map_or_else(String::new, |pid| pid.to_string()),
            connection.connection
        )),
    };
    alert.refresh_missing();
    alert
}

/// Builder of the flat field object.
struct Fields(Map<String, Value>);

impl Fields {
    fn new(service: &str, category: &str) -> Fields {
        let mut fields = Fields(Map::new());
        fields.put(LOGSOURCE_PRODUCT, "macos");
        fields.put(LOGSOURCE_SERVICE, service);
        if !category.is_empty() {
            fields.put(LOGSOURCE_CATEGORY, category);
        }
        fields
    }

    fn put(&mut self, name: &str, value: impl Into<Value>) {
        self.0.insert(name.to_owned(), value.into());
    }

    fn opt(&mut self, name: &str, value: Option<impl Into<Value>>) {
        if let Some(value) = value {
            self.put(name, value);
        }
    }

    /// Puts a list, unless it is empty.
    fn list<T: AsRef<str>>(&mut self, name: &str, values: &[T]) {
        if !values.is_empty() {
            let values = values.iter().map(|v| json!(v.as_ref())).collect();
            self.put(name, Value::Array(values));
        }
    }

    fn process(&mut self, process: &Process) {
        self.opt("process.pid", process.pid);
        self.opt("process.name", process.name.as_deref());
        self.opt("process.path", process.path.as_deref());
        self.opt("process.signing_id", process.signing_id.as_deref());
        self.opt("process.team_id", process.team_id.as_deref());
    }

    fn into_value(self) -> Value {
        Value::Object(self.0)
    }
}

fn destination(fields: &mut Fields, destination: &Destination) {
    fields.opt("dst_ip", destination.ip.map(|ip| ip.to_string()));
    fields.opt("dst_port", destination.port);
    fields.opt("server_name", destination.server_name.as_deref());
}

fn tls_context(fields: &mut Fields, tls: &TlsContext) {
    fields.opt("tls.version", tls.version.as_deref());
    fields.opt("tls.cipher", tls.cipher.as_deref());
    fields.opt("tls.alpn", tls.alpn.as_deref());
    fields.opt("tls.client_max_version", tls.client_max_version.as_deref());
}

/// Adds `event` (the kind of network stack message) and the values the
/// message carries. Values the line states override the connection's.
fn net_event(fields: &mut Fields, event: &NetEvent) {
    let kind = match event {
        NetEvent::TlsConfigured {
            min_version,
            max_version,
            server_name,
            ..
        } => {
            fields.put("tls.client_min_version", version_name(*min_version));
            fields.put("tls.client_max_version", version_name(*max_version));
            fields.opt("server_name", server_name.as_deref());
            "tls_configured"
        }
        NetEvent::TlsConnected {
            version,
            cipher,
            alpn,
            resumed,
            ..
        } => {
            fields.put("tls.version", version_name(*version));
            fields.put("tls.cipher", cipher_facts(cipher).0);
            fields.opt("tls.alpn", alpn.as_deref());
            fields.opt("tls.resumed", *resumed);
            "tls_connected"
        }
        NetEvent::Alert {
            direction,
            fatal,
            description,
            code,
            ..
        } => {
            let direction = match direction {
                AlertDirection::Received => "received",
                AlertDirection::Sent => "sent",
            };
            fields.put("alert.direction", direction);
            fields.put("alert.fatal", *fatal);
            fields.put("alert.description", description.as_str());
            fields.opt("alert.code", *code);
            "alert"
        }
        NetEvent::HandshakeError {
            reason,
            alert_number,
            ..
        } => {
            fields.put("error.reason", reason.as_str());
            fields.opt("alert.code", *alert_number);
            "handshake_error"
        }
        NetEvent::HandshakeFailed { state, .. } => {
            fields.opt("handshake.state", *state);
            "handshake_failed"
        }
        NetEvent::SessionError {
            operation, error, ..
        } => {
            fields.put("error.operation", operation.as_str());
            fields.put("error.reason", error.as_str());
            "session_error"
        }
        NetEvent::Progress { task, kind, .. } => {
            fields.opt("task", task.as_deref());
            fields.put("progress", *kind);
            "progress"
        }
        NetEvent::ConnectionStart {
            host,
            port,
            transport,
            tls,
            url,
            ..
        } => {
            fields.put("dst_host", host.as_str());
            fields.put("dst_port", *port);
            fields.put("transport", transport.as_str());
            fields.put("tls", *tls);
            fields.opt("url", url.as_deref());
            "connection_start"
        }
        NetEvent::ConnectionPath { remote, state, .. } => {
            fields.put("remote", remote.as_str());
            fields.put("path.state", state.as_str());
            "connection_path"
        }
        NetEvent::ConnectionSummary {
            host,
            port,
            tls_version,
            bytes_in,
            bytes_out,
            ..
        } => {
            fields.put("dst_host", host.as_str());
            fields.put("dst_port", *port);
            fields.opt("tls.version", tls_version.as_deref());
            fields.opt("bytes_in", *bytes_in);
            fields.opt("bytes_out", *bytes_out);
            "connection_summary"
        }
        NetEvent::ConnectionError { error, kind, .. } => {
            fields.put("error.code", format!("{}:{}", error.domain, error.code));
            fields.put("error.kind", *kind);
            "connection_error"
        }
        NetEvent::TaskFailed {
            task,
            url_error,
            stream_error,
            failing_url,
            ..
        } => {
            fields.put("task", task.as_str());
            fields.put("error.url_error", *url_error);
            fields.opt(
                "error.code",
                stream_error.map(|e| format!("{}:{}", e.domain, e.code)),
            );
            fields.opt("url", failing_url.as_deref());
            "task_failed"
        }
        NetEvent::TaskSummary {
            task,
            success,
            protocol,
            response_status,
            ..
        } => {
            fields.put("task", task.as_str());
            fields.put("task.success", *success);
            fields.opt("task.protocol", protocol.as_deref());
            fields.opt("task.response_status", *response_status);
            "task_summary"
        }
        NetEvent::TaskConnection { task, .. } => {
            fields.put("task", task.as_str());
            "task_connection"
        }
        NetEvent::AtsPolicy { task, .. } => {
            fields.put("task", task.as_str());
            "ats_policy"
        }
        NetEvent::AtsBlocked { task, reason } => {
            fields.opt("task", task.as_deref());
            fields.put("ats.reason", reason.as_str());
            "ats_blocked"
        }
        NetEvent::TrustFailure {
            reasons, status, ..
        } => {
            fields.list("trust.reasons", reasons);
            fields.opt("trust.status", *status);
            "trust_failure"
        }
        NetEvent::SecureTransportError { error, kind } => {
            fields.put("error.code", format!("{}:{}", error.domain, error.code));
            fields.put("error.kind", *kind);
            "securetransport_error"
        }
    };
    fields.put("event", kind);
}

/// Returns the file name of an input path, the host name endpoint alerts
/// use when `--host` is not given.
fn input_name(input: &str) -> String {
    std::path::Path::new(input).file_name().map_or_else(
        || input.to_owned(),
        |name| name.to_string_lossy().into_owned(),
    )
}

/// Names a protocol version code as sessions do (`TLS 1.2`).
fn version_name(code: u16) -> String {
    wiretrust_tls::registry::ProtocolVersion(code).to_string()
}
