//! Turns the messages Apple's network stack writes to the unified log into
//! typed events: what libnetwork, its boringssl layer, CFNetwork,
//! SecureTransport, the Security framework and App Transport Security say
//! about each TLS connection. Error codes map to their names ([`codes`]).
//!
//! Parsing never matches on the source line numbers inside boringssl
//! function prefixes, which change with every OS build.
#![forbid(unsafe_code)]

pub mod codes;

/// A libnetwork connection id as written in `[C64.1.1:2]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ConnectionId {
    /// The top-level connection number (`64`); CFNetwork's `Connection 64`
    /// is the same connection.
    pub number: u32,
    /// The full dotted path (`64.1.1`).
    pub path: String,
    /// The protocol instance after the colon (`2`).
    pub instance: Option<u32>,
}

/// Direction of a TLS alert as boringssl logs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlertDirection {
    /// `read alert`: received from the peer (or something in the path).
    Received,
    /// `write alert`: sent by this endpoint, rejecting what it received.
    Sent,
}

/// The negotiated cipher suite as logged: a code point in older builds,
/// an IANA name in newer ones.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoggedCipher {
    Code(u16),
    Name(String),
}

/// A CFStream error pair `[domain:code]`, e.g. `[3:-9838]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamError {
    pub domain: i32,
    pub code: i32,
}

/// One message from the network stack, parsed.
#[derive(Clone, Debug, PartialEq)]
pub enum NetEvent {
    /// boringssl `TLS configured [min_version(..) max_version(..) ...]`.
    TlsConfigured {
        connection: ConnectionId,
        min_version: u16,
        max_version: u16,
        /// `name(...)` unless `<private>`.
        server_name: Option<String>,
        enforce_ats: Option<bool>,
    },
    /// boringssl `TLS connected [...]`.
    TlsConnected {
        connection: ConnectionId,
        version: u16,
        cipher: LoggedCipher,
        group: Option<u16>,
        signature_alg: Option<u16>,
        alpn: Option<String>,
        resumed: Option<bool>,
    },
    /// boringssl `read|write alert, level: fatal|warning, description: ...`.
    Alert {
        connection: Option<ConnectionId>,
        direction: AlertDirection,
        fatal: bool,
        /// The description exactly as logged (`bad record mac`).
        description: String,
        /// Its number on the wire (20 for bad record mac), when known.
        code: Option<u8>,
    },
    /// boringssl `... Error: ...:SSL routines:OPENSSL_internal:REASON:...`.
    HandshakeError {
        connection: Option<ConnectionId>,
        /// The OpenSSL reason, e.g. `TLSV1_ALERT_PROTOCOL_VERSION`.
        reason: String,
        alert_number: Option<u8>,
    },
    /// boringssl `handshake failed at state N: not completed`.
    HandshakeFailed {
        connection: ConnectionId,
        state: Option<u32>,
    },
    /// boringssl or libnetwork lines that concern TLS and carry nothing
    /// the detections use (handshake progress, trust hand-off, SNI
    /// settings, lifecycle): recognised, counted, not otherwise used.
    Progress {
        connection: Option<ConnectionId>,
        /// What kind of line, e.g. `handshake state`.
        kind: &'static str,
    },
    /// libnetwork `[C65 <uuid> host:443 tcp, ..., tls, ...] start`.
    ConnectionStart {
        connection: ConnectionId,
        host: String,
        port: u16,
        /// `tcp`, `udp` or `quic`.
        transport: String,
        tls: bool,
        url: Option<String>,
    },
    /// libnetwork sub-flow line giving the resolved remote address,
    /// `[C64.1 23.64.70.122:443 in_progress ...]`.
    ConnectionPath {
        connection: ConnectionId,
        /// `ip:port`, or a hashed endpoint such as `IPv4#2fe5e49d:443`.
        remote: String,
    },
    /// libnetwork `cancelled` summary.
    ConnectionSummary {
        connection: ConnectionId,
        host: String,
        port: u16,
        tls: bool,
        /// `local<->remote` as logged (addresses may be hashed or private).
        local: Option<String>,
        remote: Option<String>,
        /// From `TLS 1.3 took 0.037s`: `"TLS 1.3"`.
        tls_version: Option<String>,
        bytes_in: Option<u64>,
        bytes_out: Option<u64>,
        duration_ms: Option<u64>,
    },
    /// CFNetwork `Connection N: ...` lines that report an error:
    /// `encountered error(3:-9802)`, `failed to connect 3:-9838, ...`,
    /// `TLS Trust encountered error 3:-9802`,
    /// `system TLS Trust evaluation failed(-9802)`.
    ConnectionError {
        /// CFNetwork's connection number (libnetwork's `C` number).
        connection: u32,
        error: StreamError,
        /// Which of the templates above.
        kind: &'static str,
    },
    /// CFNetwork `Task <UUID>.<n> HTTP load failed, a/b bytes (error code: -1200 [3:-9838])`
    /// and `Task <...> finished with error [-1200] ...`.
    TaskFailed {
        /// `UUID.<n>` with the UUID upper case without dashes.
        task: String,
        /// NSURLError code.
        url_error: i32,
        stream_error: Option<StreamError>,
        /// The peer's certificate chain subjects, when the error dump lists them.
        certificate_chain: Vec<String>,
    },
    /// CFNetwork `Task <...> summary for task success|failure {...}`.
    TaskSummary {
        task: String,
        connection: Option<u32>,
        success: bool,
        protocol: Option<String>,
        response_status: Option<u16>,
        response_bytes: Option<u64>,
    },
    /// CFNetwork `Task <...> setting up Connection N`: ties a task to a connection.
    TaskConnection { task: String, connection: u32 },
    /// App Transport Security refused a load (`-1022`, `ATS failed system
    /// trust`, or an ATS policy that blocks).
    AtsBlocked {
        task: Option<String>,
        /// The words of the log line that say why.
        reason: String,
    },
    /// Security framework / trustd: `Trust evaluate failure: [leaf ...]`,
    /// `System Trust Evaluation yielded status(N)` with N not 0.
    TrustFailure {
        /// The failed checks, e.g. `MissingIntermediate`.
        reasons: Vec<String>,
        status: Option<i32>,
    },
}

/// What [`parse`] made of a message.
#[derive(Clone, Debug, PartialEq)]
pub enum Parsed {
    /// A message the network stack writes, recognised.
    Event(NetEvent),
    /// A message from a TLS-relevant source that matches no known template:
    /// counted as unparsed so that a new OS build's wording is noticed.
    Unknown,
    /// Not a message about network connections at all.
    Unrelated,
}

/// Who logged a message: the fields of a log record that decide which
/// templates can apply.
#[derive(Clone, Copy, Debug, Default)]
pub struct Origin<'a> {
    pub subsystem: &'a str,
    pub category: &'a str,
    /// Library that logged (`senderImagePath`).
    pub sender_image: &'a str,
    pub process_path: &'a str,
}
