//! The TLS session record, written with `--observations` as JSON Lines
//! (one object per session, like Zeek's ssl.log) and read by detections.

use std::borrow::Cow;
use std::net::IpAddr;
use std::sync::Arc;

use serde::Serialize;

/// One TLS (or SSL 2.0) handshake and what followed it on one TCP
/// connection. A connection that carries a second ClientHello in clear
/// (renegotiation before encryption, or a duplicate hello) yields one
/// record per ClientHello, except the ClientHello sent in reply to a
/// HelloRetryRequest, which belongs to the same handshake.
#[derive(Clone, Debug, Serialize)]
pub struct TlsSession {
    /// Always `"tls_session"`; alerts use `"alert"`.
    #[serde(rename = "type")]
    pub record_type: &'static str,
    /// The file or stream the session was read from.
    pub input: String,
    /// Index of the TCP connection in the input, in order of first packet,
    /// counting from 0 (the numbering of Wireshark's `tcp.stream`).
    pub stream: u64,
    /// `"tcp"`; QUIC sessions use `"quic"`.
    pub transport: &'static str,
    /// The plaintext protocol that ran before TLS started (`smtp`, `imap`,
    /// `http-connect`, `postgres`, ...), if any.
    pub preamble: Option<String>,
    /// First packet of the handshake (the ClientHello, or the first TLS
    /// message seen when the hello was not captured), RFC 3339.
    pub start_time: String,
    /// Last packet of the connection that reached this session, RFC 3339.
    pub end_time: String,
    #[serde(skip)]
    pub start_ns: i64,
    #[serde(skip)]
    pub end_ns: i64,
    pub client: Endpoint,
    pub server: Endpoint,
    /// The process on the capturing Mac that sent the connection's packets,
    /// from Apple capture metadata; `None` for captures without it.
    pub process: Option<ProcessInfo>,
    /// SNI host name from the ClientHello.
    pub server_name: Option<String>,
    pub client_hello: Option<ClientHelloRecord>,
    /// Packet number of a HelloRetryRequest, when the server sent one.
    pub hello_retry_request: Option<u64>,
    /// Packet number of the second ClientHello, sent in reply to the
    /// HelloRetryRequest.
    pub retried_client_hello: Option<u64>,
    pub server_hello: Option<ServerHelloRecord>,
    /// Negotiated protocol version name, e.g. `"TLS 1.2"`.
    pub version: Option<String>,
    #[serde(skip)]
    pub version_code: Option<u16>,
    /// Negotiated cipher suite name, e.g. `"TLS_RSA_WITH_RC4_128_MD5"`.
    pub cipher: Option<String>,
    #[serde(skip)]
    pub cipher_weakness: Vec<&'static str>,
    /// Negotiated application protocol (ALPN) from the ServerHello.
    pub alpn: Option<String>,
    /// The server's certificate chain in clear (TLS 1.2 and earlier, and
    /// SSL 2.0), leaf first. Records are shared with the certificate cache
    /// and every other session that carries the same certificate.
    pub certificates: Vec<Arc<CertificateRecord>>,
    /// Packet that completed the server's Certificate message.
    pub certificate_packet: Option<u64>,
    /// Whether the leaf certificate covers the SNI server name (RFC 6125
    /// matching); `None` when either is missing or the certificate did not
    /// parse.
    pub server_name_covered: Option<bool>,
    /// Number of certificates the client presented.
    pub client_certificates: usize,
    pub alerts: Vec<AlertRecord>,
    /// Heartbeat messages (RFC 6520), in clear or encrypted.
    pub heartbeats: Vec<HeartbeatRecord>,
    /// An encrypted alert (TLS 1.2 and earlier) from a side that had
    /// received application data but sent none, after which no more data
    /// flowed and the connection ended: the side rejected data it could not
    /// decrypt instead of replying.
    pub unanswered_data_alert: Option<UnansweredDataAlert>,
    /// One letter per message in order: upper case from the client, lower
    /// case from the server. H hello, R hello retry request, C certificate,
    /// K key exchange, Q certificate request, V certificate verify, N new
    /// session ticket, X other handshake, F ChangeCipherSpec, E encrypted
    /// handshake (Finished), D application data (once per run), A alert in
    /// clear, Z encrypted alert, B heartbeat, G capture gap, M malformed.
    pub history: String,
    pub ja3: Option<String>,
    pub ja3s: Option<String>,
    pub ja4: Option<String>,
    /// The handshake completed: a ServerHello followed by encrypted
    /// traffic (or ChangeCipherSpec) from both sides.
    pub established: bool,
    /// A ClientHello that got no ServerHello before the connection was
    /// reset, closed or met with a fatal alert.
    pub failed_attempt: bool,
    pub application_data: ApplicationData,
    /// Reason the TCP connection ended.
    pub end_reason: FlowEndReason,
    /// Bytes the capture lost inside this connection (capture gaps).
    pub gap_bytes: u64,
    /// Protocol anomalies seen in the TLS records, as short reasons.
    pub anomalies: Vec<String>,
}

/// A process named by the packets of a connection: Apple pcapng process
/// information blocks (`tcpdump -k` on macOS) or pktap headers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProcessInfo {
    pub pid: u32,
    pub name: Option<String>,
    /// Executable path; pktap headers have none.
    pub path: Option<String>,
    /// UUID of the executable's Mach-O image, in the usual 8-4-4-4-12 form.
    pub uuid: Option<String>,
    /// The process this one acted for (a daemon such as nsurlsessiond
    /// working for an app), when it differs.
    pub effective_pid: Option<u32>,
    pub effective_name: Option<String>,
    /// The side whose packets named the process: the client, unless none
    /// of the client's packets carried process metadata.
    pub side: Sender,
    /// pids of other processes that packets of the same side named, in
    /// order of appearance, at most [`ProcessInfo::MAX_OTHER_PIDS`].
    pub other_pids: Vec<u32>,
}

impl ProcessInfo {
    /// Bound on [`ProcessInfo::other_pids`].
    pub const MAX_OTHER_PIDS: usize = 8;
}

/// An IP address and port.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Endpoint {
    pub ip: IpAddr,
    pub port: u16,
}

/// Offer of a ClientHello.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ClientHelloRecord {
    pub packet: u64,
    /// Version in the record header that carried the hello.
    pub record_version: String,
    pub legacy_version: String,
    /// `supported_versions` entries in wire order, GREASE removed.
    pub supported_versions: Vec<String>,
    /// Highest version offered: the best `supported_versions` entry, else
    /// the legacy version.
    pub max_version: String,
    #[serde(skip)]
    pub max_version_code: u16,
    pub cipher_count: usize,
    /// Offered cipher suites by name, GREASE removed. Registered names are
    /// borrowed from the registry, so only unlisted values allocate.
    pub ciphers: Vec<Cow<'static, str>>,
    /// TLS_FALLBACK_SCSV (RFC 7507) offered: the client says this is a
    /// retry with a lower version.
    pub fallback_scsv: bool,
    /// TLS_EMPTY_RENEGOTIATION_INFO_SCSV offered.
    pub renegotiation_scsv: bool,
    /// Weak classes among the offered suites (export, null, anon, rc4, ...).
    pub offered_weak: Vec<&'static str>,
    /// At least one offered suite is AEAD with forward secrecy.
    pub offers_strong: bool,
    /// `supported_groups` entries by name in wire order, GREASE removed.
    #[serde(skip)]
    pub groups: Vec<String>,
    pub alpn: Vec<String>,
    /// Extension type numbers in wire order, GREASE included.
    pub extensions: Vec<u16>,
    /// The hello came in SSL 2.0 record format.
    pub sslv2_format: bool,
    /// The hello was cut short (capture loss); later fields may be empty.
    pub truncated: bool,
}

/// Choice of a ServerHello (or SSL 2.0 SERVER-HELLO).
#[derive(Clone, Debug, Default, Serialize)]
pub struct ServerHelloRecord {
    pub packet: u64,
    pub legacy_version: String,
    /// The `supported_versions` selection (TLS 1.3), if present.
    pub selected_version: Option<String>,
    pub cipher: String,
    pub cipher_code: String,
    /// Last 8 bytes of ServerHello.random in hex.
    pub random_last8: String,
    /// `DOWNGRD01(TLS1.2)` or `DOWNGRD00(<=TLS1.1)` when the random ends
    /// with an RFC 8446 4.1.3 downgrade sentinel.
    pub downgrade_sentinel: Option<&'static str>,
    /// Packet of the SSL 2.0 CLIENT-MASTER-KEY that carried the chosen
    /// cipher (SSL 2.0 only).
    pub client_master_key_packet: Option<u64>,
}

/// One certificate of a chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CertificateRecord {
    pub sha256: String,
    pub subject: Option<String>,
    pub issuer: Option<String>,
    pub dns_names: Vec<String>,
    pub not_before: Option<String>,
    pub not_after: Option<String>,
    pub key_type: Option<String>,
    pub key_bits: Option<u32>,
    /// Lower-case hex SHA-256 of the SubjectPublicKeyInfo, compared with
    /// policy pins and the baseline's keys.
    pub spki_sha256: Option<String>,
    pub self_issued: bool,
    pub parse_error: Option<String>,
}

/// Side that sent a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Sender {
    Client,
    Server,
}

/// A TLS alert, in clear or encrypted.
#[derive(Clone, Debug, Serialize)]
pub struct AlertRecord {
    pub packet: u64,
    pub from: Sender,
    /// `"fatal"`, `"warning"`, or `"encrypted"` when only the record type
    /// is visible.
    pub level: String,
    /// IANA name such as `"inappropriate_fallback"`; `None` when encrypted.
    pub description: Option<String>,
    pub code: Option<u8>,
}

/// A heartbeat record. In clear its type and declared payload length are
/// visible, which is what a Heartbleed request overstates.
#[derive(Clone, Debug, Serialize)]
pub struct HeartbeatRecord {
    pub packet: u64,
    pub from: Sender,
    /// 1 request, 2 response; `None` when encrypted.
    pub message_type: Option<u8>,
    /// The payload length the message declares; `None` when encrypted.
    pub payload_length: Option<u16>,
    /// Length of the record that carried it.
    pub record_length: usize,
    pub encrypted: bool,
}

/// The encrypted alert of [`TlsSession::unanswered_data_alert`].
#[derive(Clone, Copy, Debug, Serialize)]
pub struct UnansweredDataAlert {
    pub packet: u64,
    pub from: Sender,
    /// Application-data records the alerting side had received.
    pub records_received: u64,
}

/// Application-data records and bytes per direction.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct ApplicationData {
    pub client_records: u64,
    pub client_bytes: u64,
    pub server_records: u64,
    pub server_bytes: u64,
}

/// Reason the TCP connection carrying a session ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FlowEndReason {
    /// Both sides sent FIN.
    Closed,
    ResetByClient,
    ResetByServer,
    IdleTimeout,
    /// Dropped to stay within the memory limits.
    Evicted,
    /// The capture ended with the connection still open.
    EndOfInput,
    /// A new connection (SYN) reused the same addresses and ports.
    PortReused,
    /// A later ClientHello on the same connection started a new session.
    NextHandshake,
}

impl TlsSession {
    /// True when the ClientHello offered a version above the negotiated one.
    pub fn client_offered_more(&self) -> bool {
        match (&self.client_hello, self.version_code) {
            (Some(hello), Some(negotiated)) => {
                wiretrust_tls::registry::ProtocolVersion(hello.max_version_code).rank()
                    > wiretrust_tls::registry::ProtocolVersion(negotiated).rank()
            }
            _ => false,
        }
    }

    /// Returns the first fatal alert in clear, if any.
    pub fn first_fatal_alert(&self) -> Option<&AlertRecord> {
        self.alerts.iter().find(|alert| alert.level == "fatal")
    }
}
