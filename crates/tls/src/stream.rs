//! The TLS and SSL 2.0 content of one TCP connection, both directions.
//!
//! [`ConnectionDecoder`] takes the reassembled bytes of each side, finds
//! where TLS starts (see [`crate::start`]), cuts records with
//! [`RecordReader`] and turns them into [`TlsEvent`]s: whole handshake
//! messages reassembled across records, alerts in the clear, and the
//! lengths of everything encrypted. ChangeCipherSpec is tracked per
//! direction, so ciphertext is never parsed, and once a side is encrypted
//! its record bodies are skipped by length without being copied.

// Parsers must not panic on any input: no indexing, unchecked arithmetic or unwrap.
#![warn(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use crate::record::{
    BodyPolicy, Framing, GapEffect, HEADER_LEN, Header, Malformed, Record, RecordReader,
    RecordSink, RecordStats, TlsHeader, parse_tls_header,
};
use crate::registry::{ContentType, HandshakeType, ProtocolVersion};
use crate::start::{self, Preamble, Role, Search, StartKind};

/// Bounds on the memory a [`ConnectionDecoder`] uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecoderLimits {
    /// Bytes of a side searched for a TLS start before the side gives up.
    pub max_scan: usize,
    /// Largest handshake message buffered, header included, in bytes.
    pub max_handshake: usize,
}

impl Default for DecoderLimits {
    /// Returns 64 KiB of scanning per side and 1 MiB of handshake buffer.
    /// Long certificate chains run to a few hundred KiB (one public test
    /// capture carries a 339,629-byte Certificate message), far below the
    /// 16 MiB that the 24-bit length field allows.
    fn default() -> Self {
        Self {
            max_scan: 64 * 1024,
            max_handshake: 1024 * 1024,
        }
    }
}

/// Overall state of a [`ConnectionDecoder`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecoderState {
    /// No TLS start has been found yet on either side.
    Searching,
    /// TLS (or SSL 2.0) was found on at least one side.
    Tls,
    /// A side passed the scan limit before any TLS start was found, so the
    /// caller can stop buffering the flow. Later input is ignored.
    NotTls,
}

/// One thing the decoder saw in a direction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsEvent {
    /// True when the TCP initiator sent it.
    pub from_initiator: bool,
    /// Packet number passed to the `feed` call that completed the record or
    /// message, as Wireshark numbers a reassembled message by its last frame.
    pub packet: u64,
    /// Offset in the side's TCP byte stream, counting bytes before the TLS
    /// start and capture gaps: of the handshake message header for
    /// [`TlsEventKind::Handshake`], and of the record header otherwise.
    pub stream_offset: u64,
    /// The decoded content.
    pub kind: TlsEventKind,
}

/// The content of a [`TlsEvent`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsEventKind {
    /// A complete handshake message, reassembled across records.
    Handshake {
        /// Handshake message type.
        msg_type: u8,
        /// Version of the record that carried the message's first byte.
        record_version: u16,
        /// The message body, without the 4-byte message header.
        body: Vec<u8>,
    },
    /// A complete SSL 2.0 message in the clear, starting with its type
    /// byte, without record padding.
    Sslv2 {
        /// The message bytes.
        body: Vec<u8>,
    },
    /// A ChangeCipherSpec record.
    ChangeCipherSpec,
    /// An alert in the clear.
    Alert {
        /// Alert level: 1 warning, 2 fatal.
        level: u8,
        /// Alert description code.
        description: u8,
    },
    /// An alert record sent after this side's ChangeCipherSpec.
    EncryptedAlert {
        /// Record body length in bytes.
        length: usize,
    },
    /// A handshake record sent after this side's ChangeCipherSpec, such as
    /// Finished in TLS 1.2.
    EncryptedHandshake {
        /// Record body length in bytes.
        length: usize,
    },
    /// An application data record, which in TLS 1.3 also carries the
    /// encrypted handshake and alerts.
    ApplicationData {
        /// Record body length in bytes.
        length: usize,
    },
    /// A heartbeat record (RFC 6520).
    Heartbeat {
        /// Record body length in bytes.
        length: usize,
        /// True when sent after this side's ChangeCipherSpec.
        encrypted: bool,
        /// Heartbeat message type (1 request, 2 response), when in the clear.
        message_type: Option<u8>,
        /// Payload length claimed by the message, when in the clear. A value
        /// above `length - 19` is the Heartbleed pattern.
        payload_length: Option<u16>,
    },
    /// Data that breaks the protocol. Header errors stop the side.
    Malformed {
        /// The problem found.
        reason: Malformed,
    },
}

/// Counters of one side.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SideStats {
    /// Record-layer counters.
    pub records: RecordStats,
    /// Bytes before the side's TLS start.
    pub preamble_bytes: u64,
    /// Bytes ignored because the side or the decoder gave up searching.
    pub ignored_bytes: u64,
    /// Bytes reported missing through [`ConnectionDecoder::gap`].
    pub gap_bytes: u64,
    /// Gaps that fell in the side after its TLS start, while it was decoded.
    pub gaps_while_decoding: u64,
    /// Bytes of partial records and handshake messages dropped because of gaps.
    pub gap_dropped_bytes: u64,
    /// Plaintext handshake bytes skipped after a gap or an oversized message.
    pub skipped_handshake_bytes: u64,
}

/// SSL 2.0 CLIENT-MASTER-KEY message type.
const SSLV2_CLIENT_MASTER_KEY: u8 = 2;

/// SSL 2.0 SERVER-HELLO message type.
const SSLV2_SERVER_HELLO: u8 = 4;

/// Handshake header length: type and 24-bit length.
const HANDSHAKE_HEADER_LEN: usize = 4;

/// The `supported_versions` extension type (RFC 8446 section 4.2.1).
const SUPPORTED_VERSIONS: u16 = 43;

/// Connection facts that both directions need.
#[derive(Debug, Clone, Default)]
struct Shared {
    client_is_initiator: Option<bool>,
    /// The ServerHello selected TLS 1.3 or a draft of it, so ChangeCipherSpec
    /// is only a compatibility record (RFC 8446 appendix D.4) and does not
    /// start encryption.
    tls13: bool,
    /// Framing of the server's first record, once seen.
    server_framing: Option<Framing>,
    /// SSL 2.0 keys are in place: the client sent CLIENT-MASTER-KEY, or the
    /// server's SERVER-HELLO reported a session-id hit.
    sslv2_keyed: bool,
    /// The messages that one handshake record completes, always empty
    /// between records: kept so that its allocation serves every record.
    messages: Vec<Message>,
}

/// Record-level state of one direction.
#[derive(Debug, Clone)]
struct Flow {
    framing: Framing,
    /// The first record was an SSL 2.0 CLIENT-HELLO, so later records follow
    /// the server's choice of framing.
    sslv2_hello: bool,
    records: u64,
    ccs_seen: bool,
    sent_sslv2_server_hello: bool,
    handshake: Assembler,
    skipped_handshake_bytes: u64,
    /// This side sent an alert record, in clear or encrypted. Bytes after
    /// it that are not TLS records belong to whatever the connection
    /// carries once TLS has ended (an FTP control channel back in clear
    /// after CCC), so they are not reported as malformed.
    alert_sent: bool,
}

impl Flow {
    fn new(framing: Framing, sslv2_hello: bool) -> Self {
        Self {
            framing,
            sslv2_hello,
            records: 0,
            ccs_seen: false,
            sent_sslv2_server_hello: false,
            handshake: Assembler::default(),
            skipped_handshake_bytes: 0,
            alert_sent: false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Searching,
    Decoding,
    GaveUp,
}

/// Everything kept for one direction.
#[derive(Debug, Clone)]
struct Side {
    phase: Phase,
    /// Bytes searched for a start, emptied once the start is found.
    scan: Vec<u8>,
    /// Stream offset of `scan[0]`.
    scan_offset: u64,
    /// Index in `scan` before which no start can begin.
    scan_next: usize,
    /// Bytes before the start kept for [`classify_preamble`](start::classify_preamble).
    prefix: Vec<u8>,
    /// Index in `scan` of the first byte this side sent after the peer's
    /// ClientHello was found. A server's reply to a ClientHello must be a
    /// TLS record, so bytes there that are not one are malformed.
    answer_from: Option<usize>,
    reader: RecordReader,
    flow: Flow,
    stats: SideStats,
}

impl Side {
    fn new() -> Self {
        Self {
            phase: Phase::Searching,
            scan: Vec::new(),
            scan_offset: 0,
            scan_next: 0,
            prefix: Vec::new(),
            answer_from: None,
            reader: RecordReader::new(0),
            flow: Flow::new(Framing::Tls, false),
            stats: SideStats::default(),
        }
    }

    /// Returns the bytes known to precede TLS on this side.
    fn preamble_bytes(&self) -> Vec<u8> {
        let mut bytes = self.prefix.clone();
        if self.phase == Phase::Searching {
            bytes.extend_from_slice(self.scan.get(..self.scan_next).unwrap_or_default());
        }
        bytes
    }

    fn buffered_bytes(&self) -> usize {
        [
            self.scan.len(),
            self.prefix.len(),
            self.reader.buffered_bytes(),
            self.flow.handshake.pending.len(),
        ]
        .into_iter()
        .fold(0, usize::saturating_add)
    }

    /// Keeps `bytes` for preamble classification, up to `limit` bytes in all.
    fn keep_prefix(&mut self, bytes: &[u8], limit: usize) {
        let room = limit.saturating_sub(self.prefix.len());
        self.prefix
            .extend_from_slice(bytes.get(..room).unwrap_or(bytes));
    }

    fn ignore(&mut self, count: u64) {
        self.stats.ignored_bytes = self.stats.ignored_bytes.saturating_add(count);
    }

    fn give_up(&mut self) {
        self.ignore(to_u64(self.scan.len()));
        self.phase = Phase::GaveUp;
        self.scan = Vec::new();
    }
}

/// Per-call context for decoding one side's records.
struct SideSink<'a> {
    from_initiator: bool,
    packet: u64,
    max_handshake: usize,
    flow: &'a mut Flow,
    shared: &'a mut Shared,
    out: &'a mut Vec<TlsEvent>,
}

impl SideSink<'_> {
    fn emit(&mut self, stream_offset: u64, kind: TlsEventKind) {
        let from_initiator = self.from_initiator;
        self.out.push(TlsEvent {
            from_initiator,
            packet: self.packet,
            stream_offset,
            kind,
        });
    }

    fn is_client(&self) -> bool {
        self.shared.client_is_initiator == Some(self.from_initiator)
    }

    /// True when this side's alert, handshake and heartbeat records are
    /// ciphertext: after its ChangeCipherSpec, except in TLS 1.3.
    fn encrypted(&self) -> bool {
        self.flow.ccs_seen && !self.shared.tls13
    }

    /// True when this side's SSL 2.0 records are ciphertext. A server sends
    /// only SERVER-HELLO in the clear; a client encrypts once keys exist.
    fn sslv2_encrypted(&self) -> bool {
        self.flow.sent_sslv2_server_hello || (self.shared.sslv2_keyed && self.is_client())
    }

    /// True when a handshake record after this side's ChangeCipherSpec may
    /// still be in the clear. After a HelloRetryRequest a TLS 1.3 client
    /// sends a compatibility ChangeCipherSpec and then its second ClientHello,
    /// and without the server's side in the capture nothing shows that TLS
    /// 1.3 was chosen.
    fn may_send_retry_hello(&self) -> bool {
        self.flow.ccs_seen && self.shared.server_framing.is_none() && self.is_client()
    }

    fn tls_record(&mut self, header: TlsHeader, record: &Record<'_>) {
        let (content_type, length, offset) = (header.content_type, header.length, record.offset);
        if content_type == ContentType::APPLICATION_DATA {
            self.emit(offset, TlsEventKind::ApplicationData { length });
            return;
        }
        if content_type != ContentType::CHANGE_CIPHER_SPEC && self.encrypted() {
            match record
                .body
                .filter(|body| is_retry_client_hello(content_type, body))
            {
                Some(body) => self.plaintext_record(header, body, offset),
                None => self.encrypted_record(content_type, length, offset),
            }
            return;
        }
        if record.damaged {
            if content_type == ContentType::HANDSHAKE {
                self.flow.handshake.lose();
            }
            return;
        }
        match record.body {
            Some(body) => self.plaintext_record(header, body, offset),
            // Only handshake bodies go unbuffered in the clear, once parsing stopped.
            None => self.skip_handshake(length),
        }
    }

    fn encrypted_record(&mut self, content_type: ContentType, length: usize, offset: u64) {
        if content_type == ContentType::ALERT {
            self.flow.alert_sent = true;
        }
        let kind = match content_type {
            ContentType::ALERT => TlsEventKind::EncryptedAlert { length },
            ContentType::HANDSHAKE => TlsEventKind::EncryptedHandshake { length },
            _ => TlsEventKind::Heartbeat {
                length,
                encrypted: true,
                message_type: None,
                payload_length: None,
            },
        };
        self.emit(offset, kind);
    }

    fn skip_handshake(&mut self, length: usize) {
        let skipped = &mut self.flow.skipped_handshake_bytes;
        *skipped = skipped.saturating_add(to_u64(length));
    }

    fn plaintext_record(&mut self, header: TlsHeader, body: &[u8], offset: u64) {
        let content_type = header.content_type;
        if body.is_empty() && content_type != ContentType::HEARTBEAT {
            let reason = Malformed::EmptyRecord(content_type.0);
            self.emit(offset, TlsEventKind::Malformed { reason });
            return;
        }
        match content_type {
            ContentType::CHANGE_CIPHER_SPEC => self.change_cipher_spec(body, offset),
            ContentType::ALERT => self.alerts(body, offset),
            ContentType::HANDSHAKE => self.handshake(header.version, body, offset),
            _ => self.heartbeat(body, offset),
        }
    }

    fn change_cipher_spec(&mut self, body: &[u8], offset: u64) {
        // A renegotiation's ChangeCipherSpec is itself encrypted, so only
        // the first one of a direction (or any in TLS 1.3) is checked.
        if !self.flow.ccs_seen || self.shared.tls13 {
            let reason = match body {
                [1] => None,
                [value] => Some(Malformed::BadChangeCipherSpecValue(*value)),
                _ => Some(Malformed::BadChangeCipherSpecLength(body.len())),
            };
            if let Some(reason) = reason {
                self.emit(offset, TlsEventKind::Malformed { reason });
            }
        }
        self.emit(offset, TlsEventKind::ChangeCipherSpec);
        self.flow.ccs_seen = true;
        // In TLS 1.3 the record is only for middleboxes and changes nothing.
        let pending = self.flow.handshake.pending.len();
        if pending > 0 && !self.shared.tls13 {
            self.flow.handshake.pending.clear();
            let reason = Malformed::TruncatedHandshake(pending);
            self.emit(offset, TlsEventKind::Malformed { reason });
        }
    }

    /// Emits each 2-byte alert, because TLS 1.2 and earlier allow several per record.
    fn alerts(&mut self, body: &[u8], offset: u64) {
        if !body.len().is_multiple_of(2) {
            let reason = Malformed::BadAlertLength(body.len());
            self.emit(offset, TlsEventKind::Malformed { reason });
            return;
        }
        for alert in body.chunks_exact(2) {
            if let &[level, description] = alert {
                self.emit(offset, TlsEventKind::Alert { level, description });
            }
        }
        self.flow.alert_sent = true;
    }

    fn heartbeat(&mut self, body: &[u8], offset: u64) {
        let payload_length = match body.get(1..3) {
            Some(&[high, low]) => Some(u16::from_be_bytes([high, low])),
            _ => None,
        };
        let kind = TlsEventKind::Heartbeat {
            length: body.len(),
            encrypted: false,
            message_type: body.first().copied(),
            payload_length,
        };
        self.emit(offset, kind);
    }

    fn handshake(&mut self, version: u16, body: &[u8], offset: u64) {
        let body_offset = offset.saturating_add(to_u64(crate::record::HEADER_LEN));
        let mut messages = std::mem::take(&mut self.shared.messages);
        let fragment = Fragment {
            body,
            offset: body_offset,
            version,
        };
        let result = self
            .flow
            .handshake
            .push(fragment, self.max_handshake, &mut messages);
        for message in messages.drain(..) {
            self.note_server_version(message.msg_type, &message.body);
            let kind = TlsEventKind::Handshake {
                msg_type: message.msg_type,
                record_version: message.record_version,
                body: message.body,
            };
            self.emit(message.offset, kind);
        }
        self.shared.messages = messages;
        match result {
            Ok(skipped) => self.skip_handshake(skipped),
            Err((reason, at)) => self.emit(at, TlsEventKind::Malformed { reason }),
        }
    }

    /// Sets the connection's TLS 1.3 flag from a ServerHello, or from a
    /// HelloRetryRequest of the drafts that gave it its own type (6).
    fn note_server_version(&mut self, msg_type: u8, body: &[u8]) {
        let tls13 = match HandshakeType(msg_type) {
            HandshakeType::SERVER_HELLO => server_hello_selects_tls13(body),
            HandshakeType::HELLO_RETRY_REQUEST => true,
            _ => false,
        };
        self.shared.tls13 |= tls13;
    }

    fn sslv2_record(&mut self, padding: u8, record: &Record<'_>) {
        let Some(body) = record.body else {
            return;
        };
        let data_len = body.len().saturating_sub(usize::from(padding));
        let message = body.get(..data_len).unwrap_or_default();
        let Some(&msg_type) = message.first() else {
            let reason = Malformed::EmptySslv2Record;
            self.emit(record.offset, TlsEventKind::Malformed { reason });
            return;
        };
        match msg_type {
            SSLV2_CLIENT_MASTER_KEY if !self.flow.sent_sslv2_server_hello => {
                self.shared.sslv2_keyed = true;
            }
            SSLV2_SERVER_HELLO if !self.is_client() => {
                self.flow.sent_sslv2_server_hello = true;
                self.shared.server_framing = Some(Framing::Sslv2);
                // SESSION-ID-HIT: both sides reuse keys and encrypt at once.
                self.shared.sslv2_keyed |= message.get(1).is_some_and(|&hit| hit != 0);
            }
            _ => {}
        }
        self.emit(
            record.offset,
            TlsEventKind::Sslv2 {
                body: message.to_vec(),
            },
        );
    }
}

impl RecordSink for SideSink<'_> {
    fn framing(&mut self, first: u8) -> Framing {
        if self.flow.sslv2_hello && self.flow.records > 0 && self.flow.framing == Framing::Sslv2 {
            // After an SSL 2.0-compatible ClientHello the framing of the
            // server's first record is used. Until that record is seen, a TLS
            // content type byte selects TLS framing.
            self.flow.framing = match self.shared.server_framing {
                Some(framing) => framing,
                None if (20..=24).contains(&first) => Framing::Tls,
                None => Framing::Sslv2,
            };
        }
        self.flow.framing
    }

    fn body_policy(&mut self, header: &Header) -> BodyPolicy {
        self.flow.records = self.flow.records.saturating_add(1);
        let buffer = match header {
            Header::Sslv2(_) => !self.sslv2_encrypted(),
            Header::Tls(tls) => match tls.content_type {
                ContentType::CHANGE_CIPHER_SPEC => true,
                ContentType::APPLICATION_DATA => false,
                ContentType::HANDSHAKE => {
                    (!self.encrypted() || self.may_send_retry_hello())
                        && !self.flow.handshake.stopped
                }
                _ => !self.encrypted(),
            },
        };
        if buffer {
            BodyPolicy::Buffer
        } else {
            BodyPolicy::Skip
        }
    }

    fn record(&mut self, record: Record<'_>) {
        match record.header {
            Header::Tls(header) => self.tls_record(header, &record),
            Header::Sslv2(header) => self.sslv2_record(header.padding, &record),
        }
    }

    fn malformed(&mut self, reason: Malformed, offset: u64) {
        if !self.flow.alert_sent {
            self.emit(offset, TlsEventKind::Malformed { reason });
        }
    }
}

/// Returns true when a ServerHello body selects TLS 1.3 or one of its
/// drafts: through `supported_versions` (RFC 8446 section 4.2.1), or, in
/// drafts before 22, through the version field itself.
fn server_hello_selects_tls13(body: &[u8]) -> bool {
    let version = |bytes: &[u8]| match bytes {
        [high, low] => ProtocolVersion(u16::from_be_bytes([*high, *low])).is_tls13_family(),
        _ => false,
    };
    if body.get(..2).is_some_and(version) {
        return true;
    }
    // legacy_version (2), random (32), legacy_session_id (1 + n),
    // cipher_suite (2), legacy_compression_method (1), extensions (2 + m).
    let Some(&session_id_len) = body.get(34) else {
        return false;
    };
    let extensions_at = 35usize
        .saturating_add(usize::from(session_id_len))
        .saturating_add(5);
    let mut extensions = body.get(extensions_at..).unwrap_or_default();
    while let Some((&[type_high, type_low, len_high, len_low], rest)) =
        extensions.split_first_chunk()
    {
        let length = usize::from(u16::from_be_bytes([len_high, len_low]));
        let Some((data, next)) = rest.split_at_checked(length) else {
            return false;
        };
        if u16::from_be_bytes([type_high, type_low]) == SUPPORTED_VERSIONS {
            return version(data);
        }
        extensions = next;
    }
    false
}

/// True for a handshake record body that is exactly one ClientHello with
/// `legacy_version` 0x0303, as TLS 1.3 requires (RFC 8446 section 4.1.2).
/// Ciphertext matches by chance with a probability below 2^-40.
fn is_retry_client_hello(content_type: ContentType, body: &[u8]) -> bool {
    let Some(&[1, a, b, c, 3, 3]) = body.first_chunk::<6>() else {
        return false;
    };
    let length = usize::try_from(u32::from_be_bytes([0, a, b, c])).unwrap_or(usize::MAX);
    content_type == ContentType::HANDSHAKE
        && length.saturating_add(HANDSHAKE_HEADER_LEN) == body.len()
}

/// A handshake record body with its position.
#[derive(Debug, Clone, Copy)]
struct Fragment<'a> {
    body: &'a [u8],
    /// Stream offset of `body[0]`.
    offset: u64,
    /// Version of the record that carried it.
    version: u16,
}

/// A complete handshake message.
#[derive(Debug, Clone)]
struct Message {
    msg_type: u8,
    record_version: u16,
    offset: u64,
    body: Vec<u8>,
}

/// Joins handshake fragments into messages (RFC 8446 section 5.1: messages
/// may span records and records may carry several messages).
#[derive(Debug, Clone, Default)]
struct Assembler {
    /// An unfinished message, from its header on.
    pending: Vec<u8>,
    pending_offset: u64,
    pending_version: u16,
    /// A message exceeded the limit, so the side's handshake is no longer parsed.
    stopped: bool,
    /// A gap lost handshake bytes, so records are skipped until one starts
    /// with a plausible message header.
    lost: bool,
}

impl Assembler {
    /// Drops the unfinished message after a capture gap.
    fn lose(&mut self) {
        self.pending.clear();
        self.lost = !self.stopped;
    }

    /// Adds a fragment and moves every completed message to `out`.
    ///
    /// Returns the bytes skipped because of an earlier gap, or the error and
    /// offset of a message that exceeds `limit`.
    fn push(
        &mut self,
        fragment: Fragment<'_>,
        limit: usize,
        out: &mut Vec<Message>,
    ) -> Result<usize, (Malformed, u64)> {
        if self.stopped {
            return Ok(fragment.body.len());
        }
        if self.lost {
            if !is_plausible_message(fragment.body, limit) {
                return Ok(fragment.body.len());
            }
            self.lost = false;
        }
        if self.pending.is_empty() {
            return self.push_whole(fragment, limit, out);
        }
        let carried = self.pending.len();
        self.pending.extend_from_slice(fragment.body);
        let carried_at = (self.pending_offset, self.pending_version);
        let extracted = extract(&self.pending, carried, carried_at, fragment, limit, out);
        let consumed = self.stop_on_error(extracted)?;
        self.pending.drain(..consumed.min(self.pending.len()));
        if consumed > carried {
            // The rest starts inside this fragment.
            let into_fragment = to_u64(consumed.saturating_sub(carried));
            self.pending_offset = fragment.offset.saturating_add(into_fragment);
            self.pending_version = fragment.version;
        }
        Ok(0)
    }

    /// Pushes a fragment when no message is unfinished. The messages that
    /// lie whole in the fragment are copied once, into their bodies, and
    /// only an unfinished tail is kept.
    fn push_whole(
        &mut self,
        fragment: Fragment<'_>,
        limit: usize,
        out: &mut Vec<Message>,
    ) -> Result<usize, (Malformed, u64)> {
        let carried_at = (fragment.offset, fragment.version);
        let extracted = extract(fragment.body, 0, carried_at, fragment, limit, out);
        let consumed = self.stop_on_error(extracted)?;
        let rest = fragment.body.get(consumed..).unwrap_or_default();
        if !rest.is_empty() {
            self.pending.extend_from_slice(rest);
            self.pending_offset = fragment.offset.saturating_add(to_u64(consumed));
            self.pending_version = fragment.version;
        }
        Ok(0)
    }

    /// Stops handshake parsing for good when `result` is an error.
    fn stop_on_error<T, E>(&mut self, result: Result<T, E>) -> Result<T, E> {
        if result.is_err() {
            self.stopped = true;
            self.pending = Vec::new();
        }
        result
    }
}

/// Moves the complete messages at the start of `bytes` to `out` and
/// returns the number of bytes they used.
///
/// The first `carried` bytes of `bytes` came from earlier fragments and
/// began at `carried_at` (stream offset and record version), and the rest
/// is `fragment`'s body. Returns the error and offset of a message that
/// exceeds `limit`.
fn extract(
    bytes: &[u8],
    carried: usize,
    carried_at: (u64, u16),
    fragment: Fragment<'_>,
    limit: usize,
    out: &mut Vec<Message>,
) -> Result<usize, (Malformed, u64)> {
    let mut position = 0;
    while let Some(&[msg_type, a, b, c]) = bytes.get(position..).and_then(first4) {
        let (offset, record_version) = if position < carried {
            carried_at
        } else {
            let into_fragment = to_u64(position.saturating_sub(carried));
            (
                fragment.offset.saturating_add(into_fragment),
                fragment.version,
            )
        };
        let length = u32::from_be_bytes([0, a, b, c]);
        let total = usize::try_from(length)
            .unwrap_or(usize::MAX)
            .saturating_add(4);
        if total > limit {
            return Err((Malformed::HandshakeTooLong(length), offset));
        }
        let end = position.saturating_add(total);
        let Some(body) = bytes.get(position.saturating_add(4)..end) else {
            break;
        };
        out.push(Message {
            msg_type,
            record_version,
            offset,
            body: body.to_vec(),
        });
        position = end;
    }
    Ok(position)
}

fn first4(bytes: &[u8]) -> Option<&[u8; HANDSHAKE_HEADER_LEN]> {
    bytes.first_chunk()
}

/// True when `body` starts with a registered handshake type and a length
/// within `limit`: the test for where handshake parsing resumes after a gap.
fn is_plausible_message(body: &[u8], limit: usize) -> bool {
    let Some(&[msg_type, a, b, c]) = first4(body) else {
        return false;
    };
    let length = usize::try_from(u32::from_be_bytes([0, a, b, c])).unwrap_or(usize::MAX);
    HandshakeType(msg_type).as_str().is_some() && length.saturating_add(4) <= limit
}

/// Decodes the TLS (and SSL 2.0) content of one TCP connection, both directions.
///
/// Feed each side's reassembled bytes in order with [`feed`](Self::feed),
/// interleaved across sides as they appear in the capture, and report
/// capture losses with [`gap`](Self::gap). No input makes it panic, and
/// memory stays within [`DecoderLimits`] plus one record per side.
#[derive(Debug, Clone)]
pub struct ConnectionDecoder {
    limits: DecoderLimits,
    initiator: Side,
    responder: Side,
    shared: Shared,
    state: DecoderState,
    /// The classification, fixed once neither side is still searching.
    settled_preamble: Option<Option<Preamble>>,
}

impl Default for ConnectionDecoder {
    fn default() -> Self {
        Self::new(DecoderLimits::default())
    }
}

impl ConnectionDecoder {
    /// Creates a decoder for a new connection.
    pub fn new(limits: DecoderLimits) -> Self {
        Self {
            limits,
            initiator: Side::new(),
            responder: Side::new(),
            shared: Shared::default(),
            state: DecoderState::Searching,
            settled_preamble: None,
        }
    }

    /// Feeds in-order bytes from one side (`from_initiator` = the TCP initiator's side).
    ///
    /// Appends the events that these bytes complete to `out`, each stamped
    /// with `packet`, and returns the decoder state after them.
    pub fn feed(
        &mut self,
        from_initiator: bool,
        data: &[u8],
        packet: u64,
        out: &mut Vec<TlsEvent>,
    ) -> DecoderState {
        if self.state == DecoderState::NotTls {
            self.side_mut(from_initiator).ignore(to_u64(data.len()));
            return self.state;
        }
        match self.side_mut(from_initiator).phase {
            Phase::Searching => self.search(from_initiator, data, packet, out),
            Phase::Decoding => self.decode(from_initiator, data, packet, out),
            Phase::GaveUp => self.side_mut(from_initiator).ignore(to_u64(data.len())),
        }
        self.settle_preamble();
        self.state
    }

    /// Reports bytes lost by the capture on one side: drop the partial record, resynchronise.
    ///
    /// Emits no event, because the caller counts capture gaps itself. The
    /// loss is recorded once in the side's [`SideStats`]. A side being
    /// decoded then skips to the next plausible record header, and its
    /// handshake parsing resumes at the next record that starts with a
    /// message header. A side still searching for its start searches on
    /// after the gap, but no start may span it.
    pub fn gap(
        &mut self,
        from_initiator: bool,
        missing: u64,
        _packet: u64,
        _out: &mut Vec<TlsEvent>,
    ) {
        let max_scan = self.limits.max_scan;
        let side = self.side_mut(from_initiator);
        side.stats.gap_bytes = side.stats.gap_bytes.saturating_add(missing);
        match side.phase {
            Phase::Searching => {
                side.answer_from = None;
                let scanned = std::mem::take(&mut side.scan);
                side.keep_prefix(&scanned, max_scan);
                side.scan_offset = side
                    .scan_offset
                    .saturating_add(to_u64(scanned.len()))
                    .saturating_add(missing);
                side.scan_next = 0;
                if side.scan_offset >= to_u64(max_scan) {
                    self.give_up(from_initiator);
                }
            }
            Phase::Decoding => {
                if let Some(dropped) = lose_partial(side, missing) {
                    let stats = &mut side.stats;
                    stats.gaps_while_decoding = stats.gaps_while_decoding.saturating_add(1);
                    stats.gap_dropped_bytes =
                        stats.gap_dropped_bytes.saturating_add(to_u64(dropped));
                }
            }
            Phase::GaveUp => side.ignore(missing),
        }
        self.settle_preamble();
    }

    /// Returns the overall state: Searching, Tls, or NotTls (gave up).
    pub fn state(&self) -> DecoderState {
        self.state
    }

    /// Returns what came before TLS, or `None` when TLS started at the
    /// first byte of both sides or no start has been found yet.
    pub fn preamble(&self) -> Option<Preamble> {
        if let Some(settled) = self.settled_preamble {
            return settled;
        }
        self.classify_preamble()
    }

    /// Returns whether the TCP initiator is the TLS client, once a side's
    /// first record (ClientHello, ServerHello, alert or SSL 2.0 hello) was found.
    pub fn client_is_initiator(&self) -> Option<bool> {
        self.shared.client_is_initiator
    }

    /// Returns the bytes held in memory for this connection.
    pub fn buffered_bytes(&self) -> usize {
        self.initiator
            .buffered_bytes()
            .saturating_add(self.responder.buffered_bytes())
    }

    /// Returns the counters of one side.
    pub fn stats(&self, from_initiator: bool) -> SideStats {
        let side = if from_initiator {
            &self.initiator
        } else {
            &self.responder
        };
        let mut stats = side.stats;
        stats.records = side.reader.stats();
        stats.skipped_handshake_bytes = side.flow.skipped_handshake_bytes;
        stats
    }

    fn side_mut(&mut self, from_initiator: bool) -> &mut Side {
        if from_initiator {
            &mut self.initiator
        } else {
            &mut self.responder
        }
    }

    /// Searches a side's bytes for its first TLS record.
    ///
    /// Bytes from earlier calls that may still begin a start are kept in
    /// the side's scan buffer. When there are none, `data` is searched where
    /// it lies and copied only if the side keeps searching, so a side that
    /// starts with a TLS record is never copied.
    fn search(&mut self, from_initiator: bool, data: &[u8], packet: u64, out: &mut Vec<TlsEvent>) {
        let role = match self.shared.client_is_initiator {
            None => Role::Either,
            Some(client) if client == from_initiator => Role::Client,
            Some(_) => Role::Server,
        };
        let side = self.side_mut(from_initiator);
        let buffered = (!side.scan.is_empty()).then(|| {
            let mut scan = std::mem::take(&mut side.scan);
            scan.extend_from_slice(data);
            scan
        });
        let bytes = buffered.as_deref().unwrap_or(data);
        match self.locate(from_initiator, role, bytes) {
            Located::Start { at, kind } => {
                self.begin_decoding(from_initiator, bytes, at, kind, packet, out);
            }
            Located::Malformed { at, reason } => {
                let side = self.side_mut(from_initiator);
                side.scan = buffered.unwrap_or_else(|| data.to_vec());
                let stream_offset = side.scan_offset.saturating_add(to_u64(at));
                out.push(TlsEvent {
                    from_initiator,
                    packet,
                    stream_offset,
                    kind: TlsEventKind::Malformed { reason },
                });
                self.give_up(from_initiator);
            }
            Located::Searching { next } => {
                let max_scan = to_u64(self.limits.max_scan);
                let side = self.side_mut(from_initiator);
                side.scan = buffered.unwrap_or_else(|| data.to_vec());
                side.scan_next = next;
                if side.scan_offset.saturating_add(to_u64(next)) >= max_scan {
                    self.give_up(from_initiator);
                }
            }
        }
    }

    /// Finds the first TLS record of a side in `bytes`, the side's scan
    /// buffer with the new bytes appended.
    fn locate(&self, from_initiator: bool, role: Role, bytes: &[u8]) -> Located {
        let side = if from_initiator {
            &self.initiator
        } else {
            &self.responder
        };
        if role == Role::Server
            && let Some(located) = check_answer(side.answer_from, bytes)
        {
            return located;
        }
        let from = side.scan_next;
        match start::find_start(bytes.get(from..).unwrap_or_default(), role) {
            Search::Found(found) => Located::Start {
                at: from.saturating_add(found.offset),
                kind: found.kind,
            },
            Search::Pending(index) => Located::Searching {
                next: from.saturating_add(index),
            },
            Search::NotFound => Located::Searching { next: bytes.len() },
        }
    }

    /// Switches a side to record decoding at index `at` of `scanned`, its
    /// scan buffer with the new bytes appended.
    fn begin_decoding(
        &mut self,
        from_initiator: bool,
        scanned: &[u8],
        at: usize,
        kind: StartKind,
        packet: u64,
        out: &mut Vec<TlsEvent>,
    ) {
        let max_scan = self.limits.max_scan;
        let client = *self
            .shared
            .client_is_initiator
            .get_or_insert(kind.is_client() == from_initiator);
        let framing = if kind.is_sslv2() {
            Framing::Sslv2
        } else {
            Framing::Tls
        };
        if client != from_initiator {
            self.shared.server_framing = Some(framing);
        }
        self.state = DecoderState::Tls;
        if kind.is_client() {
            let peer = self.side_mut(!from_initiator);
            if peer.phase == Phase::Searching && peer.answer_from.is_none() {
                peer.answer_from = Some(peer.scan.len());
            }
        }
        let side = self.side_mut(from_initiator);
        side.scan = Vec::new();
        let (before, records) = scanned.split_at_checked(at).unwrap_or((scanned, &[]));
        side.keep_prefix(before, max_scan);
        let start_offset = side.scan_offset.saturating_add(to_u64(at));
        side.stats.preamble_bytes = start_offset;
        side.reader = RecordReader::new(start_offset);
        side.flow = Flow::new(framing, kind == StartKind::Sslv2ClientHello);
        side.phase = Phase::Decoding;
        self.decode(from_initiator, records, packet, out);
    }

    fn decode(&mut self, from_initiator: bool, data: &[u8], packet: u64, out: &mut Vec<TlsEvent>) {
        let Self {
            limits,
            initiator,
            responder,
            shared,
            ..
        } = self;
        let side = if from_initiator { initiator } else { responder };
        let mut sink = SideSink {
            from_initiator,
            packet,
            max_handshake: limits.max_handshake,
            flow: &mut side.flow,
            shared,
            out,
        };
        side.reader.feed(data, &mut sink);
    }

    /// Stops searching a side. With no start on either side, the whole
    /// connection is declared not TLS.
    fn give_up(&mut self, from_initiator: bool) {
        self.side_mut(from_initiator).give_up();
        if self.shared.client_is_initiator.is_some() {
            return;
        }
        self.state = DecoderState::NotTls;
        self.initiator.give_up();
        self.responder.give_up();
        self.initiator.prefix = Vec::new();
        self.responder.prefix = Vec::new();
    }

    fn classify_preamble(&self) -> Option<Preamble> {
        let client_is_initiator = self.shared.client_is_initiator?;
        let (client, server) = if client_is_initiator {
            (&self.initiator, &self.responder)
        } else {
            (&self.responder, &self.initiator)
        };
        let client_bytes = client.preamble_bytes();
        let server_bytes = server.preamble_bytes();
        if client_bytes.is_empty() && server_bytes.is_empty() {
            return None;
        }
        Some(start::classify_preamble(&client_bytes, &server_bytes))
    }

    /// Fixes the preamble once no side is searching, and frees the prefixes.
    fn settle_preamble(&mut self) {
        let searching = [&self.initiator, &self.responder]
            .iter()
            .any(|s| s.phase == Phase::Searching);
        if searching || self.settled_preamble.is_some() {
            return;
        }
        self.settled_preamble = Some(self.classify_preamble());
        self.initiator.prefix = Vec::new();
        self.responder.prefix = Vec::new();
    }
}

/// The outcome of [`ConnectionDecoder::locate`] for a side's first record.
#[derive(Debug, Clone, Copy)]
enum Located {
    /// A start at this index of the searched bytes.
    Start { at: usize, kind: StartKind },
    /// The server's first bytes after a ClientHello, at this index, are a
    /// record header that cannot be TLS, so the side ends.
    Malformed { at: usize, reason: Malformed },
    /// No start yet, and none can begin before index `next`.
    Searching { next: usize },
}

/// Checks a server's first bytes after the ClientHello, which begin at
/// index `answer_from` of `bytes`. A TLS start there is located, and a
/// record header that cannot be TLS is malformed. Returns `None` when the
/// search continues as for any other side.
fn check_answer(answer_from: Option<usize>, bytes: &[u8]) -> Option<Located> {
    let at = answer_from?;
    let answer = bytes.get(at..)?;
    match start::start_at(answer, Role::Server) {
        Search::Found(found) => {
            return Some(Located::Start {
                at,
                kind: found.kind,
            });
        }
        // A start may still begin here once more bytes arrive (an SSL
        // 2.0 SERVER-HELLO needs more than a TLS header to be sure).
        Search::Pending(_) => return None,
        Search::NotFound => {}
    }
    let header = answer
        .get(..HEADER_LEN)
        .and_then(|h| <[u8; HEADER_LEN]>::try_from(h).ok())?;
    let reason = parse_tls_header(header).err()?;
    Some(Located::Malformed { at, reason })
}

/// Applies a gap to a decoding side and returns the bytes dropped, or
/// `None` when the side had already stopped.
fn lose_partial(side: &mut Side, missing: u64) -> Option<usize> {
    let effect = side.reader.gap(missing);
    let handshake = &mut side.flow.handshake;
    let pending = handshake.pending.len();
    match effect {
        GapEffect::Stopped => None,
        // The damaged record drops the unfinished message when it completes.
        GapEffect::InsideBody { dropped } => Some(dropped),
        GapEffect::LostFraming { dropped, .. } => {
            handshake.lose();
            Some(dropped.saturating_add(pending))
        }
    }
}

fn to_u64(value: usize) -> u64 {
    u64::try_from(value).unwrap_or(u64::MAX)
}

#[cfg(test)]
#[allow(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::unwrap_used
)]
mod tests {
    use super::*;

    /// Builds a ServerHello body with an empty session id and the given extensions.
    fn server_hello(version: u16, extensions: &[u8]) -> Vec<u8> {
        let mut body = version.to_be_bytes().to_vec();
        body.extend([0x33; 32]);
        body.extend([0, 0x13, 0x01, 0]);
        body.extend(u16::try_from(extensions.len()).unwrap().to_be_bytes());
        body.extend(extensions);
        body
    }

    #[test]
    fn supported_versions_selects_tls13() {
        let body = server_hello(0x0303, &[0xff, 0x01, 0, 1, 0, 0, 43, 0, 2, 3, 4]);
        assert!(server_hello_selects_tls13(&body));
    }

    #[test]
    fn tls12_server_hello_is_not_tls13() {
        let body = server_hello(0x0303, &[0xff, 0x01, 0, 1, 0]);
        assert!(!server_hello_selects_tls13(&body));
    }

    #[test]
    fn draft_version_field_is_tls13() {
        assert!(server_hello_selects_tls13(&server_hello(0x7f12, &[])));
    }

    #[test]
    fn truncated_extension_is_not_tls13() {
        let body = server_hello(0x0303, &[0, 43, 0, 2, 3]);
        assert!(!server_hello_selects_tls13(&body));
    }

    fn push(assembler: &mut Assembler, body: &[u8], offset: u64) -> Vec<Message> {
        let mut out = Vec::new();
        let fragment = Fragment {
            body,
            offset,
            version: 0x0301 + u16::from(offset > 100),
        };
        assembler.push(fragment, 1024, &mut out).unwrap();
        out
    }

    #[test]
    fn assembler_keeps_first_record_position() {
        let mut assembler = Assembler::default();
        let message = [11, 0, 0, 6, 1, 2, 3, 4, 5, 6, 14, 0, 0, 0];
        assert!(push(&mut assembler, &message[..3], 5).is_empty());
        let out = push(&mut assembler, &message[3..], 200);
        assert_eq!(out.len(), 2);
        assert_eq!((out[0].offset, out[0].record_version), (5, 0x0301));
        assert_eq!((out[1].offset, out[1].record_version), (207, 0x0302));
        assert_eq!(out[0].body, vec![1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn assembler_rebases_leftover() {
        let mut assembler = Assembler::default();
        let out = push(&mut assembler, &[14, 0, 0, 0, 11, 0], 5);
        assert_eq!(out.len(), 1);
        assert_eq!(assembler.pending_offset, 9);
    }

    #[test]
    fn assembler_rejects_oversized_message() {
        let mut assembler = Assembler::default();
        let fragment = Fragment {
            body: &[11, 0, 4, 0, 1],
            offset: 5,
            version: 0x0303,
        };
        let result = assembler.push(fragment, 1024, &mut Vec::new());
        assert_eq!(result.unwrap_err(), (Malformed::HandshakeTooLong(1024), 5));
        assert!(assembler.stopped);
    }

    #[test]
    fn lost_assembler_waits_for_header() {
        let mut assembler = Assembler::default();
        assembler.lose();
        assert!(push(&mut assembler, &[0x99, 0x98, 0x97, 0x96, 0x95], 5).is_empty());
        let out = push(&mut assembler, &[14, 0, 0, 0], 20);
        assert_eq!(out.len(), 1);
        assert!(!assembler.lost);
    }

    #[test]
    fn retry_client_hello_recognised() {
        let mut body = vec![1, 0, 0, 6, 3, 3, 0, 0, 0, 0];
        assert!(is_retry_client_hello(ContentType::HANDSHAKE, &body));
        body.push(0);
        assert!(!is_retry_client_hello(ContentType::HANDSHAKE, &body));
    }
}
