//! Builds [`TlsSession`] records from the TLS events of one connection.

use std::sync::Arc;

use wiretrust_tls::certificate::certificate_covers;
use wiretrust_tls::fingerprint::{Ja4Transport, ja3, ja3s, ja4};
use wiretrust_tls::handshake::{
    ClientHello, DowngradeSentinel, ServerHello, parse_certificate_list, parse_client_hello,
    parse_server_hello,
};
use wiretrust_tls::registry::{
    AlertDescription, AlertLevel, CipherSuite, ProtocolVersion, Sslv2Cipher, WeakClasses,
};
use wiretrust_tls::sslv2::{Sslv2Message, client_hello_from_sslv2, parse_sslv2_message};
use wiretrust_tls::stream::{TlsEvent, TlsEventKind};

use super::certificate_cache::{CertificateCache, CertificateSummary};
use super::session::{
    AlertRecord, ApplicationData, ClientHelloRecord, Endpoint, FlowEndReason, HeartbeatRecord,
    Sender, ServerHelloRecord, TlsSession, UnansweredDataAlert,
};
use super::time::format_rfc3339;

/// Handshake message types (RFC 8446 4, RFC 5246 7.4).
mod msg {
    pub const CLIENT_HELLO: u8 = 1;
    pub const SERVER_HELLO: u8 = 2;
    pub const NEW_SESSION_TICKET: u8 = 4;
    pub const CERTIFICATE: u8 = 11;
    pub const SERVER_KEY_EXCHANGE: u8 = 12;
    pub const CERTIFICATE_REQUEST: u8 = 13;
    pub const SERVER_HELLO_DONE: u8 = 14;
    pub const CERTIFICATE_VERIFY: u8 = 15;
    pub const CLIENT_KEY_EXCHANGE: u8 = 16;
}

/// A message from one side, with the packet that completed it.
#[derive(Debug, Clone, Copy)]
struct Incoming<'a> {
    from: Sender,
    body: &'a [u8],
    packet: u64,
    timestamp_ns: i64,
}

/// Collects the sessions of one TCP connection from its TLS events.
///
/// The builder is given, per event, which side is the TLS client (the side
/// that sent the ClientHello), so endpoint roles are right even when the
/// capture starts in the middle of the connection.
pub struct SessionBuilder {
    /// The input's name, shared with the other builders of the same input.
    input: Arc<str>,
    stream: u64,
    transport: &'static str,
    initiator: Endpoint,
    responder: Endpoint,
    client_is_initiator: bool,
    current: Option<TlsSession>,
    finished: Vec<TlsSession>,
    /// Whether each side (client, server) sent ChangeCipherSpec.
    ccs: [bool; 2],
    /// Whether the last history letter for each side was application data,
    /// so a run of records adds one `D`.
    in_data_run: [bool; 2],
    sslv2_server_ciphers: Vec<Sslv2Cipher>,
    last_ns: i64,
}

impl SessionBuilder {
    /// Starts a builder for the connection between `initiator` (the TCP
    /// initiator, as far as the capture shows) and `responder`.
    ///
    /// `input` is the name of the capture. Passing an `Arc<str>` that the
    /// caller keeps shares it between builders instead of copying it.
    pub fn new(
        input: impl Into<Arc<str>>,
        stream: u64,
        initiator: Endpoint,
        responder: Endpoint,
    ) -> Self {
        SessionBuilder {
            input: input.into(),
            stream,
            transport: "tcp",
            initiator,
            responder,
            client_is_initiator: true,
            current: None,
            finished: Vec::new(),
            ccs: [false; 2],
            in_data_run: [false; 2],
            sslv2_server_ciphers: Vec::new(),
            last_ns: 0,
        }
    }

    /// Starts a builder for a QUIC connection, whose TLS messages come from
    /// CRYPTO frames of Initial packets rather than from TLS records.
    pub fn new_quic(
        input: impl Into<Arc<str>>,
        connection: u64,
        client: Endpoint,
        server: Endpoint,
    ) -> Self {
        SessionBuilder {
            transport: "quic",
            ..SessionBuilder::new(input, connection, client, server)
        }
    }

    /// Sets which side is the TLS client, once the decoder has found the ClientHello.
    pub fn set_client_is_initiator(&mut self, client_is_initiator: bool) {
        self.client_is_initiator = client_is_initiator;
    }

    /// Applies one event; `timestamp_ns` is the time of its packet.
    ///
    /// Every certificate is parsed anew. [`SessionBuilder::apply_cached`]
    /// reuses summaries across the connections of a scan instead.
    pub fn apply(&mut self, event: TlsEvent, timestamp_ns: i64) {
        self.apply_with(event, timestamp_ns, None);
    }

    /// Applies one event as [`SessionBuilder::apply`] does, taking
    /// certificate summaries from `certificates` and adding new ones to it.
    pub fn apply_cached(
        &mut self,
        event: TlsEvent,
        timestamp_ns: i64,
        certificates: &mut CertificateCache,
    ) {
        self.apply_with(event, timestamp_ns, Some(certificates));
    }

    fn apply_with(
        &mut self,
        event: TlsEvent,
        timestamp_ns: i64,
        certificates: Option<&mut CertificateCache>,
    ) {
        self.last_ns = timestamp_ns;
        let from = self.sender(event.from_initiator);
        match event.kind {
            TlsEventKind::Handshake {
                msg_type,
                record_version,
                body,
            } => {
                let message = Incoming {
                    from,
                    body: &body,
                    packet: event.packet,
                    timestamp_ns,
                };
                self.on_handshake(message, msg_type, record_version, certificates);
            }
            TlsEventKind::Sslv2 { body } => {
                let message = Incoming {
                    from,
                    body: &body,
                    packet: event.packet,
                    timestamp_ns,
                };
                self.on_sslv2(message, certificates);
            }
            TlsEventKind::ChangeCipherSpec => {
                self.ccs[side_index(from)] = true;
                self.push_history(from, 'F', timestamp_ns);
            }
            TlsEventKind::Alert { level, description } => {
                self.on_alert(from, Some((level, description)), event.packet, timestamp_ns);
            }
            TlsEventKind::EncryptedAlert { .. } => {
                self.on_alert(from, None, event.packet, timestamp_ns);
            }
            TlsEventKind::EncryptedHandshake { .. } => self.push_history(from, 'E', timestamp_ns),
            TlsEventKind::ApplicationData { length } => {
                self.on_application_data(from, length, timestamp_ns);
            }
            TlsEventKind::Heartbeat {
                length,
                encrypted,
                message_type,
                payload_length,
            } => {
                self.push_history(from, 'B', timestamp_ns);
                let record = HeartbeatRecord {
                    packet: event.packet,
                    from,
                    message_type,
                    payload_length,
                    record_length: length,
                    encrypted,
                };
                let session = self.session_mut(timestamp_ns);
                if let Some(reason) = heartbeat_anomaly(&record, &session.heartbeats) {
                    session
                        .anomalies
                        .push(format!("packet {}: {reason}", record.packet));
                }
                session.heartbeats.push(record);
            }
            TlsEventKind::Malformed { reason } => {
                let session = self.session_mut(timestamp_ns);
                session
                    .anomalies
                    .push(format!("packet {}: {reason}", event.packet));
                push_letter(session, from, 'M');
            }
        }
    }

    /// Records bytes lost by the capture on one side.
    pub fn gap(&mut self, from_initiator: bool, missing: u64, timestamp_ns: i64) {
        let from = self.sender(from_initiator);
        if let Some(session) = self.current.as_mut() {
            session.gap_bytes = session.gap_bytes.saturating_add(missing);
            push_letter(session, from, 'G');
        }
        self.last_ns = timestamp_ns;
    }

    /// True once any TLS message was seen on this connection.
    pub fn has_sessions(&self) -> bool {
        self.current.is_some() || !self.finished.is_empty()
    }

    /// Ends the connection and returns its sessions in order.
    pub fn finish(mut self, end: FlowEndReason, timestamp_ns: i64) -> Vec<TlsSession> {
        self.last_ns = self.last_ns.max(timestamp_ns);
        if let Some(session) = self.current.take() {
            let done = self.close_session(session, end);
            // Most connections carry one session, and a first push would
            // reserve room for four of these kilobyte-sized records.
            self.finished.reserve_exact(1);
            self.finished.push(done);
        }
        self.finished
    }

    fn sender(&self, from_initiator: bool) -> Sender {
        if from_initiator == self.client_is_initiator {
            Sender::Client
        } else {
            Sender::Server
        }
    }

    fn endpoints(&self) -> (Endpoint, Endpoint) {
        if self.client_is_initiator {
            (self.initiator, self.responder)
        } else {
            (self.responder, self.initiator)
        }
    }

    fn new_session(&self, timestamp_ns: i64) -> TlsSession {
        let (client, server) = self.endpoints();
        TlsSession {
            record_type: "tls_session",
            input: self.input.to_string(),
            stream: self.stream,
            transport: self.transport,
            preamble: None,
            start_time: format_rfc3339(timestamp_ns),
            end_time: String::new(),
            start_ns: timestamp_ns,
            end_ns: timestamp_ns,
            client,
            server,
            process: None,
            server_name: None,
            client_hello: None,
            hello_retry_request: None,
            retried_client_hello: None,
            server_hello: None,
            version: None,
            version_code: None,
            cipher: None,
            cipher_weakness: Vec::new(),
            alpn: None,
            certificates: Vec::new(),
            certificate_packet: None,
            server_name_covered: None,
            client_certificates: 0,
            alerts: Vec::new(),
            heartbeats: Vec::new(),
            unanswered_data_alert: None,
            // Most histories in the corpus have 6 to 14 letters.
            history: String::with_capacity(16),
            ja3: None,
            ja3s: None,
            ja4: None,
            established: false,
            failed_attempt: false,
            application_data: ApplicationData::default(),
            end_reason: FlowEndReason::EndOfInput,
            gap_bytes: 0,
            anomalies: Vec::new(),
        }
    }

    fn session_mut(&mut self, timestamp_ns: i64) -> &mut TlsSession {
        if self.current.is_none() {
            self.current = Some(self.new_session(timestamp_ns));
        }
        let session = self.current.as_mut().expect("a session was just created");
        // Endpoint roles may have been settled after the session opened.
        let (client, server) = if self.client_is_initiator {
            (self.initiator, self.responder)
        } else {
            (self.responder, self.initiator)
        };
        session.client = client;
        session.server = server;
        session
    }

    fn push_history(&mut self, from: Sender, letter: char, timestamp_ns: i64) {
        self.in_data_run[side_index(from)] = false;
        let session = self.session_mut(timestamp_ns);
        push_letter(session, from, letter);
    }

    fn on_handshake(
        &mut self,
        message: Incoming<'_>,
        msg_type: u8,
        record_version: u16,
        certificates: Option<&mut CertificateCache>,
    ) {
        let Incoming {
            from,
            body,
            packet,
            timestamp_ns,
        } = message;
        self.in_data_run[side_index(from)] = false;
        match msg_type {
            msg::CLIENT_HELLO => match parse_client_hello(body) {
                Ok(hello) => {
                    self.on_client_hello(&hello, record_version, false, packet, timestamp_ns);
                }
                Err(err) => self.note_anomaly(from, packet, &format!("ClientHello: {err}")),
            },
            msg::SERVER_HELLO => match parse_server_hello(body) {
                Ok(hello) => self.on_server_hello(&hello, packet, timestamp_ns),
                Err(err) => self.note_anomaly(from, packet, &format!("ServerHello: {err}")),
            },
            msg::CERTIFICATE => {
                self.on_certificate(from, body, packet, timestamp_ns, certificates);
            }
            other => self.push_history(from, handshake_letter(other), timestamp_ns),
        }
    }

    fn note_anomaly(&mut self, from: Sender, packet: u64, reason: &str) {
        let session = self.session_mut(self.last_ns);
        session.anomalies.push(format!("packet {packet}: {reason}"));
        push_letter(session, from, 'M');
    }

    fn on_client_hello(
        &mut self,
        hello: &ClientHello,
        record_version: u16,
        sslv2_format: bool,
        packet: u64,
        timestamp_ns: i64,
    ) {
        let answers_retry = self
            .current
            .as_ref()
            .is_some_and(|s| s.hello_retry_request.is_some() && s.server_hello.is_none());
        // A TLS 1.3 client sends ChangeCipherSpec before the hello it sends
        // in reply to a HelloRetryRequest, so after that CCS the capture only
        // lacks the server's side.
        let after_client_ccs = self.ccs[side_index(Sender::Client)];
        let unanswered_hello = self.current.as_ref().is_some_and(|s| {
            s.client_hello.is_some() && s.server_hello.is_none() && !answers_retry
        }) && !after_client_ccs;
        if !answers_retry && let Some(previous) = self.current.take() {
            let done = self.close_session(previous, FlowEndReason::NextHandshake);
            self.finished.push(done);
        }
        let session = self.session_mut(timestamp_ns);
        push_letter(session, Sender::Client, 'H');
        if answers_retry {
            session.retried_client_hello = Some(packet);
            return;
        }
        // A session opened by this hello already has its time formatted.
        if session.start_ns != timestamp_ns {
            session.start_ns = timestamp_ns;
            session.start_time = format_rfc3339(timestamp_ns);
        }
        if unanswered_hello {
            let reason = "second ClientHello before any ServerHello on this connection";
            session.anomalies.push(format!("packet {packet}: {reason}"));
        }
        session.server_name = hello.server_name.clone();
        let mut record = client_hello_record(hello, record_version, sslv2_format, packet);
        if session.transport == "quic" {
            // QUIC carries TLS messages in CRYPTO frames, with no record layer.
            record.record_version = String::new();
        }
        session.client_hello = Some(record);
        // A fingerprint of a malformed or cut hello would not match the
        // client's real one, and SSL 2.0 framing has no extensions to hash.
        if !sslv2_format && !hello.truncated {
            session.ja3 = Some(ja3(hello).md5);
            let transport = if session.transport == "quic" {
                Ja4Transport::Quic
            } else {
                Ja4Transport::Tcp
            };
            session.ja4 = Some(ja4(hello, transport));
        }
    }

    fn on_server_hello(&mut self, hello: &ServerHello, packet: u64, timestamp_ns: i64) {
        let session = self.session_mut(timestamp_ns);
        if hello.is_hello_retry_request {
            session.hello_retry_request = Some(packet);
            push_letter(session, Sender::Server, 'r');
            return;
        }
        push_letter(session, Sender::Server, 'h');
        let version = hello.negotiated_version();
        session.version = Some(version.name().into_owned());
        session.version_code = Some(version.0);
        let cipher = hello.cipher_suite.name();
        session.cipher = Some(cipher.clone().into_owned());
        session.cipher_weakness = hello.cipher_suite.weakness().names().collect();
        session.alpn = hello.alpn.as_deref().map(alpn_text);
        session.ja3s = Some(ja3s(hello).md5);
        session.server_hello = Some(ServerHelloRecord {
            packet,
            legacy_version: hello.legacy_version.name().into_owned(),
            selected_version: hello.selected_version.map(|v| v.name().into_owned()),
            cipher: cipher.into_owned(),
            cipher_code: cipher_code(hello.cipher_suite.0),
            random_last8: hex_tail(&hello.random),
            downgrade_sentinel: hello.downgrade_sentinel().map(sentinel_label),
            client_master_key_packet: None,
        });
    }

    fn on_certificate(
        &mut self,
        from: Sender,
        body: &[u8],
        packet: u64,
        timestamp_ns: i64,
        mut certificates: Option<&mut CertificateCache>,
    ) {
        self.push_history(
            from,
            if from == Sender::Client { 'C' } else { 'c' },
            timestamp_ns,
        );
        // TLS 1.3 Certificate messages are encrypted and never reach here;
        // one in clear has the TLS 1.2 layout.
        let list = match parse_certificate_list(body) {
            Ok(list) => list,
            Err(err) => {
                self.note_anomaly(from, packet, &format!("Certificate: {err}"));
                return;
            }
        };
        let session = self.session_mut(timestamp_ns);
        match from {
            Sender::Client => session.client_certificates = list.len(),
            Sender::Server => {
                let summaries: Vec<Arc<CertificateSummary>> = list
                    .iter()
                    .map(|der| summarize(certificates.as_deref_mut(), der))
                    .collect();
                session.server_name_covered = match (summaries.first(), &session.server_name) {
                    (Some(leaf), Some(name)) if leaf.info.parse_error.is_none() => {
                        Some(certificate_covers(&leaf.info, name))
                    }
                    _ => None,
                };
                session.certificates = summaries.iter().map(|s| s.record.clone()).collect();
                session.certificate_packet = Some(packet);
            }
        }
    }

    fn on_sslv2(&mut self, incoming: Incoming<'_>, certificates: Option<&mut CertificateCache>) {
        let Incoming {
            from,
            body,
            packet,
            timestamp_ns,
        } = incoming;
        let message = match parse_sslv2_message(body) {
            Ok(message) => message,
            Err(err) => {
                self.note_anomaly(from, packet, &format!("SSL 2.0 message: {err}"));
                return;
            }
        };
        match message {
            Sslv2Message::ClientHello { .. } => {
                self.on_sslv2_client_hello(&message, packet, timestamp_ns);
            }
            Sslv2Message::ServerHello {
                version,
                certificate,
                cipher_specs,
                ..
            } => {
                self.sslv2_server_ciphers = cipher_specs;
                self.on_sslv2_server_hello(
                    version,
                    &certificate,
                    packet,
                    timestamp_ns,
                    certificates,
                );
            }
            Sslv2Message::ClientMasterKey { cipher } => {
                self.on_client_master_key(cipher, packet, timestamp_ns);
            }
            Sslv2Message::Error { code } => {
                let session = self.session_mut(timestamp_ns);
                session.anomalies.push(format!(
                    "packet {packet}: SSL 2.0 ERROR message {code:#06x}"
                ));
                push_letter(session, from, 'A');
            }
            Sslv2Message::Other { .. } => self.push_history(from, 'X', timestamp_ns),
        }
    }

    fn on_sslv2_client_hello(&mut self, message: &Sslv2Message, packet: u64, timestamp_ns: i64) {
        // A hello in SSL 2.0 format that offers SSL 3.0 or TLS is an ordinary
        // ClientHello in old framing; only a pure SSL 2.0 hello needs its own record.
        if let Some(hello) = client_hello_from_sslv2(message) {
            self.on_client_hello(&hello, ProtocolVersion::SSL2.0, true, packet, timestamp_ns);
            // The record counts every cipher kind offered, including the
            // SSL 2.0 ones that have no TLS equivalent.
            let record = self.current.as_mut().and_then(|s| s.client_hello.as_mut());
            if let (Some(record), Sslv2Message::ClientHello { cipher_specs, .. }) =
                (record, message)
            {
                record.cipher_count = cipher_specs.len();
            }
            return;
        }
        let Sslv2Message::ClientHello {
            version,
            cipher_specs,
            ..
        } = message
        else {
            return;
        };
        if let Some(previous) = self.current.take() {
            let done = self.close_session(previous, FlowEndReason::NextHandshake);
            self.finished.push(done);
        }
        let session = self.session_mut(timestamp_ns);
        push_letter(session, Sender::Client, 'H');
        session.client_hello = Some(ClientHelloRecord {
            packet,
            record_version: ProtocolVersion::SSL2.to_string(),
            legacy_version: version.to_string(),
            max_version: version.to_string(),
            max_version_code: version.0,
            cipher_count: cipher_specs.len(),
            ciphers: cipher_specs.iter().map(|c| c.name()).collect(),
            offered_weak: offered_sslv2_weakness(cipher_specs),
            sslv2_format: true,
            ..ClientHelloRecord::default()
        });
    }

    fn on_sslv2_server_hello(
        &mut self,
        version: ProtocolVersion,
        certificate: &[u8],
        packet: u64,
        timestamp_ns: i64,
        certificates: Option<&mut CertificateCache>,
    ) {
        let session = self.session_mut(timestamp_ns);
        push_letter(session, Sender::Server, 'h');
        session.version = Some(version.to_string());
        session.version_code = Some(version.0);
        // SSL 2.0 carries the server certificate inside SERVER-HELLO.
        if !certificate.is_empty() {
            push_letter(session, Sender::Server, 'c');
            let summary = summarize(certificates, certificate);
            session.certificates = vec![summary.record.clone()];
            session.certificate_packet = Some(packet);
        }
        session.server_hello = Some(ServerHelloRecord {
            packet,
            legacy_version: version.to_string(),
            ..ServerHelloRecord::default()
        });
    }

    fn on_client_master_key(&mut self, cipher: Sslv2Cipher, packet: u64, timestamp_ns: i64) {
        let session = self.session_mut(timestamp_ns);
        push_letter(session, Sender::Client, 'K');
        session.cipher = Some(cipher.to_string());
        session.cipher_weakness = cipher.weakness().names().collect();
        if let Some(record) = session.server_hello.as_mut() {
            record.cipher = cipher.to_string();
            record.cipher_code = format!("0x{:06x}", cipher.0);
            record.client_master_key_packet = Some(packet);
        }
    }

    fn on_alert(&mut self, from: Sender, clear: Option<(u8, u8)>, packet: u64, timestamp_ns: i64) {
        let letter = if clear.is_some() { 'A' } else { 'Z' };
        self.push_history(from, letter, timestamp_ns);
        let record = match clear {
            Some((level, description)) => AlertRecord {
                packet,
                from,
                level: AlertLevel(level).to_string(),
                description: Some(AlertDescription(description).to_string()),
                code: Some(description),
            },
            None => AlertRecord {
                packet,
                from,
                level: "encrypted".to_owned(),
                description: None,
                code: None,
            },
        };
        let session = self.session_mut(timestamp_ns);
        if clear.is_none() && session.unanswered_data_alert.is_none() {
            session.unanswered_data_alert = unanswered_data_alert(session, from, packet);
        }
        session.alerts.push(record);
    }

    fn on_application_data(&mut self, from: Sender, length: usize, timestamp_ns: i64) {
        let index = side_index(from);
        let first_of_run = !self.in_data_run[index];
        let session = self.session_mut(timestamp_ns);
        if first_of_run {
            push_letter(session, from, 'D');
        }
        // Data after the alert means the connection went on: not a rejection.
        session.unanswered_data_alert = None;
        let bytes = u64::try_from(length).unwrap_or(u64::MAX);
        let data = &mut session.application_data;
        match from {
            Sender::Client => {
                data.client_records += 1;
                data.client_bytes = data.client_bytes.saturating_add(bytes);
            }
            Sender::Server => {
                data.server_records += 1;
                data.server_bytes = data.server_bytes.saturating_add(bytes);
            }
        }
        self.in_data_run[index] = true;
    }

    fn close_session(&self, mut session: TlsSession, end: FlowEndReason) -> TlsSession {
        session.end_reason = end;
        session.end_ns = self.last_ns.max(session.start_ns);
        session.end_time = format_rfc3339(session.end_ns);
        let data = session.application_data;
        let encrypted_both =
            (self.ccs[0] || data.client_records > 0) && (self.ccs[1] || data.server_records > 0);
        session.established = session.server_hello.is_some() && encrypted_both;
        session.failed_attempt = is_failed_attempt(&session);
        let ended = matches!(
            end,
            FlowEndReason::Closed | FlowEndReason::ResetByClient | FlowEndReason::ResetByServer
        );
        if !ended {
            session.unanswered_data_alert = None;
        }
        session
    }
}

/// A ClientHello that got no ServerHello before the connection was reset,
/// closed or met with a fatal alert.
fn is_failed_attempt(session: &TlsSession) -> bool {
    if session.client_hello.is_none() || session.server_hello.is_some() {
        return false;
    }
    let ended = matches!(
        session.end_reason,
        FlowEndReason::Closed | FlowEndReason::ResetByClient | FlowEndReason::ResetByServer
    );
    ended || session.first_fatal_alert().is_some()
}

/// Returns the alert record for [`TlsSession::unanswered_data_alert`]
/// when an encrypted alert from `from` fits it so far: TLS 1.2 or earlier
/// (TLS 1.3 hides the record type), the peer sent application data, and
/// `from` sent none.
fn unanswered_data_alert(
    session: &TlsSession,
    from: Sender,
    packet: u64,
) -> Option<UnansweredDataAlert> {
    let version = ProtocolVersion(session.version_code?);
    if version.rank() == 0 || version.is_tls13_family() {
        return None;
    }
    let data = &session.application_data;
    let (sent, received) = match from {
        Sender::Client => (data.client_records, data.server_records),
        Sender::Server => (data.server_records, data.client_records),
    };
    (sent == 0 && received > 0).then_some(UnansweredDataAlert {
        packet,
        from,
        records_received: received,
    })
}

/// Checks a heartbeat in clear against RFC 6520 4: the record must hold the
/// type, the 2-byte length, the payload and at least 16 bytes of padding,
/// and a response echoes its request's payload.
fn heartbeat_anomaly(beat: &HeartbeatRecord, earlier: &[HeartbeatRecord]) -> Option<String> {
    let declared = usize::from(beat.payload_length?);
    let needed = declared + 3 + 16;
    if needed > beat.record_length {
        return Some(format!(
            "heartbeat declares a {declared}-byte payload in a {}-byte record (at least {needed} \
             needed)",
            beat.record_length
        ));
    }
    let request = earlier
        .iter()
        .rev()
        .find(|b| b.message_type == Some(1) && b.from != beat.from)?;
    let response_larger =
        beat.message_type == Some(2) && beat.record_length > request.record_length;
    response_larger.then(|| {
        format!(
            "heartbeat response of {} bytes is larger than its {}-byte request in packet {}",
            beat.record_length, request.record_length, request.packet
        )
    })
}

fn side_index(from: Sender) -> usize {
    match from {
        Sender::Client => 0,
        Sender::Server => 1,
    }
}

fn push_letter(session: &mut TlsSession, from: Sender, letter: char) {
    let letter = match from {
        Sender::Client => letter.to_ascii_uppercase(),
        Sender::Server => letter.to_ascii_lowercase(),
    };
    session.history.push(letter);
}

fn handshake_letter(msg_type: u8) -> char {
    match msg_type {
        msg::SERVER_KEY_EXCHANGE | msg::CLIENT_KEY_EXCHANGE => 'K',
        msg::CERTIFICATE_REQUEST => 'Q',
        msg::CERTIFICATE_VERIFY => 'V',
        msg::NEW_SESSION_TICKET => 'N',
        msg::SERVER_HELLO_DONE => 'O',
        _ => 'X',
    }
}

fn client_hello_record(
    hello: &ClientHello,
    record_version: u16,
    sslv2_format: bool,
    packet: u64,
) -> ClientHelloRecord {
    let mut suites = Vec::with_capacity(hello.cipher_suites.len());
    suites.extend(
        hello
            .cipher_suites
            .iter()
            .copied()
            .filter(|s| !s.is_grease()),
    );
    let max_version = hello.max_version();
    ClientHelloRecord {
        packet,
        record_version: ProtocolVersion(record_version).name().into_owned(),
        legacy_version: hello.legacy_version.name().into_owned(),
        supported_versions: hello
            .supported_versions
            .iter()
            .filter(|v| !v.is_grease())
            .map(|v| v.name().into_owned())
            .collect(),
        max_version: max_version.name().into_owned(),
        max_version_code: max_version.0,
        cipher_count: hello.cipher_suites.len(),
        ciphers: suites.iter().map(|s| s.name()).collect(),
        fallback_scsv: hello.offers_fallback_scsv(),
        renegotiation_scsv: hello.cipher_suites.contains(&CipherSuite(0x00ff)),
        offered_weak: offered_weakness(&suites),
        offers_strong: hello.offers_strong_suite(),
        groups: hello
            .supported_groups
            .iter()
            .filter(|g| !wiretrust_tls::registry::is_grease(g.0))
            .map(|g| g.to_string())
            .collect(),
        alpn: hello.alpn.iter().map(|p| alpn_text(p)).collect(),
        extensions: hello.extensions.iter().map(|e| e.kind.0).collect(),
        sslv2_format,
        truncated: hello.truncated,
    }
}

/// Returns the names of the weak classes among `suites`, sorted by name.
fn offered_weakness(suites: &[CipherSuite]) -> Vec<&'static str> {
    let classes = suites.iter().fold(WeakClasses::NONE, |classes, suite| {
        classes | suite.weakness()
    });
    let mut names: Vec<&'static str> = classes.names().collect();
    names.sort_unstable();
    names
}

/// Returns the names of the weak classes among SSL 2.0 `ciphers`, sorted by name.
fn offered_sslv2_weakness(ciphers: &[Sslv2Cipher]) -> Vec<&'static str> {
    let classes = ciphers.iter().fold(WeakClasses::NONE, |classes, cipher| {
        classes | cipher.weakness()
    });
    let mut names: Vec<&'static str> = classes.names().collect();
    names.sort_unstable();
    names
}

/// Returns the summary of a DER certificate, from `certificates` when given.
fn summarize(certificates: Option<&mut CertificateCache>, der: &[u8]) -> Arc<CertificateSummary> {
    match certificates {
        Some(cache) => cache.summarize(der),
        None => Arc::new(CertificateSummary::of(der)),
    }
}

/// Shows an ALPN protocol id as text, escaping bytes that are not
/// printable ASCII as `\xNN` so the value stays unambiguous.
fn alpn_text(raw: &[u8]) -> String {
    let mut text = String::with_capacity(raw.len());
    for &byte in raw {
        if byte.is_ascii_graphic() {
            text.push(char::from(byte));
        } else {
            text.push_str(&format!("\\x{byte:02x}"));
        }
    }
    text
}

/// Names an RFC 8446 4.1.3 downgrade sentinel as the observation record spells it.
fn sentinel_label(sentinel: DowngradeSentinel) -> &'static str {
    match sentinel {
        DowngradeSentinel::Tls12 => "DOWNGRD01(TLS1.2)",
        DowngradeSentinel::Tls11OrBelow => "DOWNGRD00(<=TLS1.1)",
    }
}

/// Formats a TLS cipher suite number as the observation record spells it,
/// `0x` and four lowercase hex digits.
fn cipher_code(code: u16) -> String {
    let mut text = String::with_capacity(6);
    text.push_str("0x");
    for shift in [12, 8, 4, 0] {
        let nibble = u32::from(code >> shift & 0xf);
        text.push(char::from_digit(nibble, 16).unwrap_or('0'));
    }
    text
}

/// Returns the last 8 bytes of a hello random as lowercase hex.
fn hex_tail(random: &[u8; 32]) -> String {
    let mut text = String::with_capacity(16);
    for &byte in random.last_chunk::<8>().into_iter().flatten() {
        for nibble in [byte >> 4, byte & 0xf] {
            text.push(char::from_digit(u32::from(nibble), 16).unwrap_or('0'));
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};

    use super::*;

    fn endpoint(last: u8, port: u16) -> Endpoint {
        Endpoint {
            ip: IpAddr::V4(Ipv4Addr::new(192, 0, 2, last)),
            port,
        }
    }

    /// Builds a server Certificate event whose chain is `der` twice, as the
    /// leaf and as its issuer. Lengths are 24-bit (RFC 5246 section 7.4.2).
    fn certificate_event(der: &[u8]) -> TlsEvent {
        let entry_len = u32::try_from(der.len()).unwrap().to_be_bytes();
        let mut list: Vec<u8> = Vec::new();
        for _ in 0..2 {
            list.extend(&entry_len[1..]);
            list.extend(der);
        }
        let list_len = u32::try_from(list.len()).unwrap().to_be_bytes();
        let mut body = list_len[1..].to_vec();
        body.extend(list);
        TlsEvent {
            from_initiator: false,
            packet: 4,
            stream_offset: 0,
            kind: TlsEventKind::Handshake {
                msg_type: msg::CERTIFICATE,
                record_version: 0x0303,
                body,
            },
        }
    }

    fn builder() -> SessionBuilder {
        SessionBuilder::new("test.pcap", 0, endpoint(1, 50000), endpoint(2, 443))
    }

    #[test]
    fn hex_tail_last_eight_bytes() {
        let mut random = [0u8; 32];
        random[24..].copy_from_slice(&[0x00, 0x0f, 0x10, 0xab, 0x44, 0x4f, 0x57, 0xff]);
        assert_eq!(hex_tail(&random), "000f10ab444f57ff");
    }

    #[test]
    fn cipher_code_four_hex_digits() {
        for code in [0x0000u16, 0x002f, 0x1301, 0xc02f, 0xffff] {
            assert_eq!(cipher_code(code), format!("0x{code:04x}"));
        }
    }

    #[test]
    fn offered_weakness_sorted_once() {
        let suites = [0x0004, 0x000a, 0x0005, 0xc02f].map(CipherSuite);
        assert_eq!(offered_weakness(&suites), vec!["3des", "md5", "rc4"]);
    }

    #[test]
    fn cached_certificates_match_uncached() {
        let der = [0x30, 0x03, 0x02, 0x01, 0x05];
        let mut cache = CertificateCache::new(8, 1 << 20);
        let mut plain = builder();
        let mut cached = builder();
        plain.apply(certificate_event(&der), 1_000);
        cached.apply_cached(certificate_event(&der), 1_000, &mut cache);
        let plain = plain.finish(FlowEndReason::Closed, 2_000);
        let cached = cached.finish(FlowEndReason::Closed, 2_000);
        assert_eq!(cached[0].certificates, plain[0].certificates);
        assert_eq!(cached[0].certificates.len(), 2);
    }

    #[test]
    fn repeated_certificate_parsed_once() {
        let der = [0x30, 0x03, 0x02, 0x01, 0x05];
        let mut cache = CertificateCache::new(8, 1 << 20);
        let mut first = builder();
        let mut second = builder();
        first.apply_cached(certificate_event(&der), 1_000, &mut cache);
        second.apply_cached(certificate_event(&der), 1_000, &mut cache);
        assert_eq!(cache.misses(), 1);
        assert_eq!(cache.hits(), 3);
    }
}
