//! The input of the endpoint detections (one parsed unified log line with
//! the connection it belongs to) and the alert built from it.

use std::net::SocketAddr;
use std::path::Path;

use wiretrust_applenet::codes::{self, CodeClass};
use wiretrust_applenet::{NetEvent, StreamError};
use wiretrust_unifiedlog::LogRecord;

use super::alert::TlsContext;
use super::alert::{Alert, Confidence, Destination, Evidence, Process, SessionRef, Severity};
use crate::observations::{ConnectionKey, EndpointConnection};
use crate::policy::Target;

/// One line of an endpoint log, parsed, with its context.
pub struct EndpointEvent<'a> {
    /// The file or stream the line was read from.
    pub input: &'a str,
    pub record: &'a LogRecord,
    pub event: &'a NetEvent,
    /// The connection the line belongs to, as known up to this line.
    pub connection: Option<(ConnectionKey, &'a EndpointConnection)>,
    /// The process that logged, with what Endpoint Security adds.
    pub process: &'a LazyProcess<'a>,
}

/// The process that logged a line, built on first use: most lines raise
/// no alert, and building it copies the path and name.
pub struct LazyProcess<'a> {
    cell: std::cell::OnceCell<Process>,
    build: &'a dyn Fn() -> Process,
}

impl<'a> LazyProcess<'a> {
    /// Wraps the function that builds the process.
    pub fn new(build: &'a dyn Fn() -> Process) -> Self {
        LazyProcess {
            cell: std::cell::OnceCell::new(),
            build,
        }
    }

    /// Returns the process, building it the first time.
    pub fn get(&self) -> &Process {
        self.cell.get_or_init(self.build)
    }
}

/// A failure an endpoint line reports, and which kind it is.
pub struct Failure {
    pub class: CodeClass,
    /// The failure in a few words, e.g. `fatal alert protocol version
    /// received`, `error -9836 errSSLPeerProtocolVersion`.
    pub what: String,
}

/// Classifies the failure a line reports: a fatal alert, a handshake
/// error, a SecureTransport code or an NSURLError, or a trust failure.
pub fn classify(event: &NetEvent) -> Option<Failure> {
    match event {
        NetEvent::Alert {
            fatal,
            description,
            code,
            direction,
            ..
        } => {
            let number = code.or_else(|| codes::alert_code(description))?;
            let class = codes::alert_class(number)?;
            let level = if *fatal { "fatal" } else { "warning" };
            let direction = match direction {
                wiretrust_applenet::AlertDirection::Received => "received",
                wiretrust_applenet::AlertDirection::Sent => "sent",
            };
            let what = format!("{level} alert {description} ({number}) {direction}");
            Some(Failure { class, what })
        }
        NetEvent::HandshakeError {
            reason,
            alert_number,
            ..
        } => {
            let class = alert_number
                .and_then(codes::alert_class)
                .or_else(|| reason_class(reason))?;
            Some(Failure {
                class,
                what: format!("handshake error {reason}"),
            })
        }
        NetEvent::ConnectionError { error, kind, .. } => {
            stream_failure(*error).map(|(class, name)| Failure {
                class,
                what: format!("{kind} {}:{} {name}", error.domain, error.code),
            })
        }
        NetEvent::TaskFailed {
            url_error,
            stream_error,
            ..
        } => task_failure(*url_error, *stream_error),
        NetEvent::SecureTransportError { error, kind } => {
            stream_failure(*error).map(|(class, name)| Failure {
                class,
                what: format!("{kind} {}:{} {name}", error.domain, error.code),
            })
        }
        NetEvent::TrustFailure {
            reasons, status, ..
        } => {
            let what = match (reasons.is_empty(), status) {
                (false, _) => format!("trust evaluation failed: {}", reasons.join(", ")),
                (true, Some(status)) => format!("trust evaluation failed with status {status}"),
                (true, None) => "trust evaluation failed".to_owned(),
            };
            Some(Failure {
                class: CodeClass::Certificate,
                what,
            })
        }
        _ => None,
    }
}

/// Classifies a SecureTransport code of the SSL stream domain.
fn stream_failure(error: StreamError) -> Option<(CodeClass, &'static str)> {
    const SSL_DOMAIN: i32 = 3;
    if error.domain != SSL_DOMAIN {
        return None;
    }
    let info = codes::os_status(error.code)?;
    Some((info.class?, info.name))
}

/// NSURLErrorAppTransportSecurityRequiresSecureConnection: App Transport
/// Security's own refusal, reported by `endpoint.ats_blocked` instead.
pub const ATS_REQUIRES_SECURE: i32 = -1022;

fn task_failure(url_error: i32, stream_error: Option<StreamError>) -> Option<Failure> {
    if url_error == ATS_REQUIRES_SECURE {
        return None;
    }
    if let Some((class, name)) = stream_error.and_then(stream_failure) {
        let inner = stream_error.map_or(0, |e| e.code);
        return Some(Failure {
            class,
            what: format!("load failed with {url_error} [3:{inner}] {name}"),
        });
    }
    let info = codes::url_error(url_error)?;
    Some(Failure {
        class: info.class?,
        what: format!("load failed with {url_error} {}", info.name),
    })
}

/// Classifies an OpenSSL-style reason that boringssl printed without an
/// alert number.
fn reason_class(reason: &str) -> Option<CodeClass> {
    const DOWNGRADE: [&str; 4] = [
        "PROTOCOL_VERSION",
        "UNSUPPORTED_PROTOCOL",
        "INAPPROPRIATE_FALLBACK",
        "INSUFFICIENT_SECURITY",
    ];
    const TAMPER: [&str; 4] = [
        "BAD_RECORD_MAC",
        "DECRYPTION_FAILED",
        "RECORD_OVERFLOW",
        "DECRYPT_ERROR",
    ];
    const CERTIFICATE: [&str; 3] = ["CERTIFICATE", "UNKNOWN_CA", "CERT_"];
    if DOWNGRADE.iter().any(|needle| reason.contains(needle)) {
        Some(CodeClass::Downgrade)
    } else if TAMPER.iter().any(|needle| reason.contains(needle)) {
        Some(CodeClass::Tamper)
    } else if CERTIFICATE.iter().any(|needle| reason.contains(needle)) {
        Some(CodeClass::Certificate)
    } else {
        None
    }
}

impl Evidence {
    /// Evidence at a line of an endpoint log: the logged message. The
    /// location gives the line, its byte offset and the record's traceID,
    /// by which `log show` can find it again.
    pub fn at_line(input: &str, record: &LogRecord, field: &str, value: String) -> Evidence {
        let location = match record.trace_id {
            Some(trace) => format!("{}, traceID {trace}", record.location),
            None => record.location.to_string(),
        };
        Evidence {
            input: input.to_owned(),
            location,
            field: field.to_owned(),
            value,
        }
    }
}

/// Maximum length of a message quoted as evidence, in bytes.
const MAX_QUOTE: usize = 400;

impl Alert {
    /// Starts an alert about an endpoint log line, with the connection's
    /// context; the detection then adds compared values. The line itself
    /// is the first evidence. `host` is `--host`, else the input's name.
    pub fn for_endpoint(
        event: &EndpointEvent<'_>,
        detection: &'static str,
        severity: Severity,
        confidence: Confidence,
        title: String,
        host: Option<&str>,
    ) -> Alert {
        let record = event.record;
        let connection = event.connection.map(|(_, c)| c);
        let time_ns = record.time_ns.unwrap_or(0);
        let mut alert = Alert::new(detection, severity, confidence, title, time_ns);
        alert.host = host.map_or_else(|| input_name(event.input), str::to_owned);
        alert.process = event.process.get().clone();
        alert.source = connection.and_then(|c| parse_address(c.local.as_deref()));
        alert.destination = destination(connection);
        alert.tls = TlsContext {
            version: connection.and_then(|c| c.version.clone().or(c.summary_version.clone())),
            cipher: connection.and_then(|c| c.cipher.clone()),
            alpn: connection.and_then(|c| c.alpn.clone()),
            client_max_version: connection.and_then(|c| c.offered_max_version.clone()),
            ..TlsContext::default()
        };
        alert.flow.url = connection.and_then(|c| c.url.clone());
        alert.flow.bytes = connection.and_then(|c| Some(c.bytes_in? + c.bytes_out?));
        alert.evidence = vec![Evidence::at_line(
            event.input,
            record,
            "eventMessage",
            quote(&record.message),
        )];
        alert.session = SessionRef {
            input: event.input.to_owned(),
            stream: None,
            connection: event
                .connection
                .map(|((pid, number), _)| format!("{pid}/C{number}")),
        };
        if let NetEvent::TaskFailed {
            failing_url: Some(url),
            ..
        } = event.event
        {
            alert.flow.url.get_or_insert_with(|| url.clone());
            if alert.destination.server_name.is_none()
                && let Some((host, port)) = url_host_port(url)
            {
                alert.destination.server_name = Some(host);
                alert.destination.port = Some(port);
            }
        }
        alert.refresh_missing();
        alert
    }
}

impl Alert {
    /// Starts an alert about an endpoint connection whose record is
    /// complete, with its destination, TLS values and process; the
    /// detection adds the evidence. The host is the input's name, which
    /// the baseline replaces with its profile's host.
    pub fn for_connection(
        connection: &EndpointConnection,
        process: &Process,
        detection: &'static str,
        severity: Severity,
        confidence: Confidence,
        title: String,
    ) -> Alert {
        let mut alert = Alert::new(detection, severity, confidence, title, connection.start_ns);
        alert.host = input_name(&connection.input);
        alert.process = process.clone();
        alert.source = parse_address(connection.local.as_deref());
        alert.destination = destination(Some(connection));
        alert.tls = TlsContext {
            version: connection
                .version
                .clone()
                .or(connection.summary_version.clone()),
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
            connection: connection
                .key()
                .map(|(pid, number)| format!("{pid}/C{number}")),
        };
        alert.refresh_missing();
        alert
    }
}

/// Returns the host and port of an `http` or `https` URL, the port
/// defaulting to the scheme's.
fn url_host_port(url: &str) -> Option<(String, u16)> {
    let (scheme, rest) = url.split_once("://")?;
    let default = match scheme.to_ascii_lowercase().as_str() {
        "http" => 80,
        "https" => 443,
        _ => return None,
    };
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
    let (host, port) = match host_port.strip_prefix('[') {
        Some(bracketed) => {
            let (host, after) = bracketed.split_once(']')?;
            match after.strip_prefix(':') {
                Some(port) => (host, port.parse().ok()?),
                None => (host, default),
            }
        }
        None => match host_port.rsplit_once(':') {
            Some((host, port)) => (host, port.parse().ok()?),
            None => (host_port, default),
        },
    };
    (!host.is_empty()).then(|| (host.to_owned(), port))
}

/// Returns the name an endpoint log is reported under when no `--host` is
/// given: its file name, because logs carry no host name.
fn input_name(input: &str) -> String {
    Path::new(input).file_name().map_or_else(
        || input.to_owned(),
        |name| name.to_string_lossy().into_owned(),
    )
}

fn destination(connection: Option<&EndpointConnection>) -> Destination {
    let Some(connection) = connection else {
        return Destination::default();
    };
    let remote = parse_address(connection.remote.as_deref());
    let host_is_address = connection
        .host
        .as_deref()
        .is_some_and(|host| host.parse::<std::net::IpAddr>().is_ok());
    let server_name = connection
        .server_name
        .clone()
        .or_else(|| connection.host.clone().filter(|_| !host_is_address));
    let host_ip = connection
        .host
        .as_deref()
        .and_then(|host| host.parse::<std::net::IpAddr>().ok());
    Destination {
        ip: remote.map(|r| r.ip).or(host_ip),
        port: connection.port.or(remote.map(|r| r.port)),
        server_name,
    }
}

/// Returns the connection's server as policy patterns see it.
pub fn endpoint_target<'e>(event: &EndpointEvent<'e>) -> Target<'e> {
    let Some((_, connection)) = event.connection else {
        return Target::default();
    };
    let remote = parse_address(connection.remote.as_deref());
    Target {
        name: connection
            .server_name
            .as_deref()
            .or(connection.host.as_deref()),
        ip: remote.map(|r| r.ip),
        port: connection.port.or(remote.map(|r| r.port)),
    }
}

/// Parses `ip:port` or `[v6]:port`; hashed and private addresses give `None`.
fn parse_address(text: Option<&str>) -> Option<crate::observations::Endpoint> {
    let address: SocketAddr = text?.parse().ok()?;
    Some(crate::observations::Endpoint {
        ip: address.ip(),
        port: address.port(),
    })
}

/// Cuts the message to [`MAX_QUOTE`] bytes on a character boundary.
/// Returns `message`, cut to [`MAX_QUOTE`] bytes with an ellipsis.
pub(crate) fn quote(message: &str) -> String {
    if message.len() <= MAX_QUOTE {
        return message.to_owned();
    }
    let mut end = MAX_QUOTE;
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &message[..end])
}

/// `name (destination)` for titles: the server name or host, else the
/// remote address, else the connection id.
pub fn endpoint_label(event: &EndpointEvent<'_>) -> String {
    let Some(((_, number), connection)) = event.connection else {
        if let NetEvent::TaskFailed {
            failing_url: Some(url),
            ..
        } = event.event
        {
            return url.clone();
        }
        return "an unknown server".to_owned();
    };
    let name = connection
        .server_name
        .as_deref()
        .or(connection.host.as_deref());
    match (name, connection.port) {
        (Some(name), Some(port)) => format!("{name}:{port}"),
        (Some(name), None) => name.to_owned(),
        (None, _) => match &connection.remote {
            Some(remote) => remote.clone(),
            None => format!("connection C{number}"),
        },
    }
}

/// Names the process for titles: its file name and pid.
pub fn process_label(process: &Process) -> String {
    match (&process.name, process.pid) {
        (Some(name), Some(pid)) => format!("{name}[{pid}]"),
        (Some(name), None) => name.clone(),
        (None, Some(pid)) => format!("pid {pid}"),
        (None, None) => "an unknown process".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::url_host_port;

    #[test]
    fn url_host_and_default_port() {
        let parsed = url_host_port("http://downloads.example.org/update.pkg");
        assert_eq!(parsed, Some(("downloads.example.org".to_owned(), 80)));
    }

    #[test]
    fn url_explicit_port_and_ipv6() {
        assert_eq!(
            url_host_port("https://user@example.com:8443/x?y"),
            Some(("example.com".to_owned(), 8443))
        );
        assert_eq!(
            url_host_port("https://[2001:db8::1]/"),
            Some(("2001:db8::1".to_owned(), 443))
        );
        assert_eq!(url_host_port("ftp://example.com/"), None);
    }
}
