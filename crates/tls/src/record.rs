//! The record layer of one direction: TLS records (RFC 8446 section 5.1,
//! RFC 5246 section 6.2) and SSL 2.0 records (SSL 2.0 draft of 1995,
//! "Record Protocol Specification").
//!
//! [`RecordReader`] cuts a direction's bytes into records, whatever the TCP
//! segmentation, and hands each complete record to a [`RecordSink`]. The
//! sink decides per record whether the body is worth buffering; bodies it
//! does not want (ciphertext) are skipped by length without being copied.

// Parsers must not panic on any input: no indexing, unchecked arithmetic or unwrap.
#![warn(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use thiserror::Error;

use crate::registry::ContentType;

/// Length of a TLS record header: content type, version and length.
pub const HEADER_LEN: usize = 5;

/// Largest TLS record body accepted, in bytes: 2^14 plus 2048 bytes of
/// compression and cipher expansion (RFC 5246 section 6.2.3). TLS 1.3
/// allows only 2^14 + 256, but earlier versions may use the larger bound.
pub const MAX_RECORD_LEN: usize = (1 << 14) + 2048;

/// A problem with the framing or the content of a record or handshake message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum Malformed {
    /// A record header names a content type outside 20..=24. The rest of the
    /// direction is not parsed, because its framing cannot be trusted.
    #[error(
        "unknown record content type {0}; expected 20 to 24, so the rest of this side is not decoded"
    )]
    UnknownContentType(u8),
    /// A record header has a version outside 0x0300..=0x0304, so the rest of
    /// the direction is not parsed.
    #[error(
        "invalid record version 0x{0:04x}; expected 0x0300 to 0x0304, so the rest of this side is not decoded"
    )]
    BadRecordVersion(u16),
    /// A record header declares more than [`MAX_RECORD_LEN`] bytes, so the
    /// rest of the direction is not parsed.
    #[error(
        "record length {0} exceeds the maximum of 18432 bytes, so the rest of this side is not decoded"
    )]
    RecordTooLong(usize),
    /// A plaintext ChangeCipherSpec, alert or handshake record with an empty
    /// body, which RFC 5246 section 6.2.1 forbids. The value is the content type.
    #[error("empty record of content type {0}; only application data records may be empty")]
    EmptyRecord(u8),
    /// A plaintext alert record whose length is not a multiple of 2, the
    /// size of one alert (RFC 5246 section 7.2).
    #[error("alert record of {0} bytes; alerts are 2 bytes each")]
    BadAlertLength(usize),
    /// A ChangeCipherSpec record whose body is not exactly one byte long. The
    /// side is still treated as encrypted from here on.
    #[error("ChangeCipherSpec record of {0} bytes; expected 1 byte")]
    BadChangeCipherSpecLength(usize),
    /// A one-byte ChangeCipherSpec record whose value is not 1.
    #[error("ChangeCipherSpec value {0}; expected 1")]
    BadChangeCipherSpecValue(u8),
    /// A handshake message longer than the decoder's handshake buffer limit,
    /// so the rest of this side's handshake is not parsed. The value is the
    /// length from the message header, in bytes.
    #[error(
        "handshake message of {0} bytes is larger than the handshake buffer, so the rest \
         of this side's handshake is not decoded"
    )]
    HandshakeTooLong(u32),
    /// A side switched to encryption with this many bytes of an unfinished
    /// handshake message buffered, and the bytes were dropped.
    #[error(
        "ChangeCipherSpec arrived with {0} bytes of an unfinished handshake message, which were dropped"
    )]
    TruncatedHandshake(usize),
    /// An SSL 2.0 record with an empty body.
    #[error("empty SSL 2.0 record")]
    EmptySslv2Record,
    /// An SSL 2.0 record whose padding length exceeds its length.
    #[error("SSL 2.0 record of {length} bytes declares {padding} bytes of padding")]
    BadSslv2Padding {
        /// Record length from the header, in bytes.
        length: usize,
        /// Padding length from the header, in bytes.
        padding: u8,
    },
}

/// Framing of one record: TLS (SSL 3.0 and later) or SSL 2.0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// A 5-byte header: content type, version, length.
    Tls,
    /// A 2-byte header (high bit set) or a 3-byte header with padding.
    Sslv2,
}

/// A parsed TLS record header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TlsHeader {
    /// Content type, one of 20..=24.
    pub content_type: ContentType,
    /// Record version, 0x0300..=0x0304.
    pub version: u16,
    /// Body length in bytes, at most [`MAX_RECORD_LEN`].
    pub length: usize,
}

/// A parsed SSL 2.0 record header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sslv2Header {
    /// Header length in bytes: 2, or 3 when the record carries padding.
    pub header_len: usize,
    /// Body length in bytes, padding included.
    pub length: usize,
    /// Padding bytes at the end of the body, always 0 with a 2-byte header.
    pub padding: u8,
}

/// A parsed record header of either framing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Header {
    /// A TLS record header.
    Tls(TlsHeader),
    /// An SSL 2.0 record header.
    Sslv2(Sslv2Header),
}

impl Header {
    /// Returns the header length in bytes.
    pub const fn header_len(&self) -> usize {
        match self {
            Self::Tls(_) => HEADER_LEN,
            Self::Sslv2(header) => header.header_len,
        }
    }

    /// Returns the body length in bytes.
    pub const fn body_len(&self) -> usize {
        match self {
            Self::Tls(header) => header.length,
            Self::Sslv2(header) => header.length,
        }
    }
}

/// True for a record version this decoder accepts: SSL 3.0 to TLS 1.3.
///
/// TLS 1.3 records carry 0x0303 and ClientHello records often 0x0301 or
/// 0x0300 (RFC 8446 section 5.1), so any of them may appear in one connection.
pub const fn is_record_version(version: u16) -> bool {
    matches!(version, 0x0300..=0x0304)
}

/// Parses a 5-byte TLS record header.
///
/// Checks, in this order, the content type (20..=24), the version and the
/// length bound. A zero-length body is accepted here, because whether it is
/// allowed depends on the content type and the encryption state.
pub fn parse_tls_header(bytes: [u8; HEADER_LEN]) -> Result<TlsHeader, Malformed> {
    let [content_type, major, minor, len_high, len_low] = bytes;
    if !(20..=24).contains(&content_type) {
        return Err(Malformed::UnknownContentType(content_type));
    }
    let version = u16::from_be_bytes([major, minor]);
    if !is_record_version(version) {
        return Err(Malformed::BadRecordVersion(version));
    }
    let length = usize::from(u16::from_be_bytes([len_high, len_low]));
    if length > MAX_RECORD_LEN {
        return Err(Malformed::RecordTooLong(length));
    }
    Ok(TlsHeader {
        content_type: ContentType(content_type),
        version,
        length,
    })
}

/// Returns the SSL 2.0 header length announced by a record's first byte:
/// 2 when its high bit is set, else 3.
pub const fn sslv2_header_len(first: u8) -> usize {
    if first & 0x80 != 0 { 2 } else { 3 }
}

/// Parses an SSL 2.0 record header, or returns `None` when `bytes` is
/// shorter than the header length that its first byte announces.
///
/// The 3-byte form's second-highest bit marks an escape record, which this
/// decoder treats like any other record.
pub fn parse_sslv2_header(bytes: &[u8]) -> Option<Sslv2Header> {
    let first = *bytes.first()?;
    let second = *bytes.get(1)?;
    if first & 0x80 != 0 {
        let length = usize::from(u16::from_be_bytes([first & 0x7f, second]));
        return Some(Sslv2Header {
            header_len: 2,
            length,
            padding: 0,
        });
    }
    let padding = *bytes.get(2)?;
    let length = usize::from(u16::from_be_bytes([first & 0x3f, second]));
    Some(Sslv2Header {
        header_len: 3,
        length,
        padding,
    })
}

/// Returns the record length, header included, when `bytes` starts with a
/// TLS header that [`parse_tls_header`] accepts and whose body is not
/// empty. Used to find record boundaries after a capture gap.
fn is_plausible_header(bytes: &[u8]) -> Option<usize> {
    let header: [u8; HEADER_LEN] = *bytes.first_chunk()?;
    let parsed = parse_tls_header(header).ok()?;
    (parsed.length > 0).then_some(HEADER_LEN.saturating_add(parsed.length))
}

/// Whether a record body is copied for the sink or skipped by length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyPolicy {
    /// Copy the body and pass it to [`RecordSink::record`].
    Buffer,
    /// Count the body's bytes without keeping them.
    Skip,
}

/// A complete record handed to [`RecordSink::record`].
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    /// The record's header.
    pub header: Header,
    /// Stream offset of the header's first byte.
    pub offset: u64,
    /// The body when it was buffered and no capture gap fell inside it.
    pub body: Option<&'a [u8]>,
    /// True when a capture gap fell inside the body, so its bytes are lost.
    pub damaged: bool,
}

/// The decisions and results of a [`RecordReader`]'s caller.
pub trait RecordSink {
    /// Chooses the framing of the record whose first header byte is `first`.
    fn framing(&mut self, first: u8) -> Framing;
    /// Chooses whether the body of the record with this header is buffered.
    fn body_policy(&mut self, header: &Header) -> BodyPolicy;
    /// Receives a complete record.
    fn record(&mut self, record: Record<'_>);
    /// Receives a header error, after which the reader stops decoding the direction.
    fn malformed(&mut self, reason: Malformed, offset: u64);
}

/// Counters of one direction's record layer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecordStats {
    /// Records whose header was read, in both framings.
    pub records: u64,
    /// Records whose body was skipped by length.
    pub skipped_records: u64,
    /// Bytes of skipped record bodies.
    pub skipped_bytes: u64,
    /// Bytes left undecoded after a fatal header error or a lost SSL 2.0 framing.
    pub unparsed_bytes: u64,
    /// Bytes discarded while searching for a record boundary after a gap.
    pub resync_bytes: u64,
}

/// The effect of a capture gap on the record layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GapEffect {
    /// The gap fell inside a record body and framing is intact. The record
    /// is reported as damaged and the rest of its body is skipped.
    InsideBody {
        /// Bytes of the partial record read before the gap, header included.
        dropped: usize,
    },
    /// Framing was lost: the partial record was discarded, and the reader
    /// searches for the next record header, or stops when the direction
    /// uses SSL 2.0 framing.
    LostFraming {
        /// Bytes of the partial record read before the gap, header included,
        /// or of the search window when the reader was already searching.
        dropped: usize,
        /// True when the reader searches for a boundary, false when it stopped.
        resynchronising: bool,
    },
    /// The reader had already stopped, so nothing changed.
    Stopped,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Records,
    Resync,
    Stopped,
}

/// A record whose header has been read and whose body is being read.
#[derive(Debug, Clone, Copy)]
struct InProgress {
    header: Header,
    offset: u64,
    remaining: usize,
    policy: BodyPolicy,
    damaged: bool,
}

/// Reassembles the records of one direction from in-order bytes.
///
/// Memory is bounded: at most one record body (at most 32767 bytes in SSL
/// 2.0 framing) is buffered, and while resynchronising after a gap at most
/// two headers and one body.
#[derive(Debug, Clone)]
pub struct RecordReader {
    /// Stream offset of the next byte fed.
    offset: u64,
    mode: Mode,
    framing: Framing,
    header: [u8; HEADER_LEN],
    header_len: usize,
    current: Option<InProgress>,
    /// The buffered body, or while resynchronising the search window.
    buffer: Vec<u8>,
    /// Stream offset of `buffer[0]` while resynchronising.
    window_offset: u64,
    stats: RecordStats,
}

impl RecordReader {
    /// Creates a reader whose first byte is at stream offset `offset`.
    pub fn new(offset: u64) -> Self {
        Self {
            offset,
            mode: Mode::Records,
            framing: Framing::Tls,
            header: [0; HEADER_LEN],
            header_len: 0,
            current: None,
            buffer: Vec::new(),
            window_offset: offset,
            stats: RecordStats::default(),
        }
    }

    /// Returns the stream offset of the next byte to be fed.
    pub const fn offset(&self) -> u64 {
        self.offset
    }

    /// Returns the record-layer counters.
    pub const fn stats(&self) -> RecordStats {
        self.stats
    }

    /// Returns the number of bytes held in memory.
    pub fn buffered_bytes(&self) -> usize {
        self.buffer.len().saturating_add(self.header_len)
    }

    /// True once a header error or a lost SSL 2.0 framing stopped the reader.
    pub fn is_stopped(&self) -> bool {
        self.mode == Mode::Stopped
    }

    /// Stops decoding, so later bytes are only counted as unparsed.
    pub fn stop(&mut self) {
        self.mode = Mode::Stopped;
        self.current = None;
        self.header_len = 0;
        self.buffer = Vec::new();
    }

    /// Consumes in-order bytes, reporting each complete record to `sink`.
    pub fn feed<S: RecordSink>(&mut self, data: &[u8], sink: &mut S) {
        let mut rest = data;
        while !rest.is_empty() {
            rest = match self.mode {
                Mode::Stopped => {
                    self.advance(rest.len());
                    self.stats.unparsed_bytes = add_len(self.stats.unparsed_bytes, rest.len());
                    &[]
                }
                Mode::Resync => self.feed_resync(rest, sink),
                Mode::Records if self.current.is_some() => self.feed_body(rest, sink),
                Mode::Records => self.feed_header(rest, sink),
            };
        }
    }

    fn advance(&mut self, count: usize) {
        self.offset = add_len(self.offset, count);
    }

    /// Collects header bytes, and starts the body once the header is complete.
    fn feed_header<'d, S: RecordSink>(&mut self, data: &'d [u8], sink: &mut S) -> &'d [u8] {
        let Some(&first) = data.first() else {
            return data;
        };
        if self.header_len == 0 {
            self.framing = sink.framing(first);
        }

        let needed = match self.framing {
            Framing::Tls => HEADER_LEN,
            // The first header byte sets the SSL 2.0 header length.
            Framing::Sslv2 if self.header_len == 0 => sslv2_header_len(first),
            Framing::Sslv2 => sslv2_header_len(self.header[0]),
        };
        let (start, rest) = split_at_most(data, needed.saturating_sub(self.header_len));
        let filled = self.header_len.saturating_add(start.len());
        if let Some(slot) = self.header.get_mut(self.header_len..filled) {
            slot.copy_from_slice(start);
        }
        self.header_len = filled;
        self.advance(start.len());
        if self.header_len < needed {
            return rest;
        }

        let header_offset = self.offset.saturating_sub(to_u64(needed));
        self.header_len = 0;
        match self.parse_header(needed) {
            Ok(header) => self.begin_body(header, header_offset, sink),
            Err(reason) => {
                sink.malformed(reason, header_offset);
                self.stop();
                return rest;
            }
        }
        rest
    }

    fn parse_header(&self, needed: usize) -> Result<Header, Malformed> {
        match self.framing {
            Framing::Tls => parse_tls_header(self.header).map(Header::Tls),
            Framing::Sslv2 => {
                let bytes = self.header.get(..needed).unwrap_or_default();
                let header = parse_sslv2_header(bytes).ok_or(Malformed::EmptySslv2Record)?;
                if usize::from(header.padding) > header.length {
                    return Err(Malformed::BadSslv2Padding {
                        length: header.length,
                        padding: header.padding,
                    });
                }
                Ok(Header::Sslv2(header))
            }
        }
    }

    fn begin_body<S: RecordSink>(&mut self, header: Header, offset: u64, sink: &mut S) {
        self.stats.records = self.stats.records.saturating_add(1);
        let policy = sink.body_policy(&header);
        let remaining = header.body_len();
        if policy == BodyPolicy::Buffer {
            self.buffer.clear();
        }
        let record = InProgress {
            header,
            offset,
            remaining,
            policy,
            damaged: false,
        };
        self.current = Some(record);
        if remaining == 0 {
            self.finish_record(sink, None);
        }
    }

    /// Buffers or skips body bytes, and reports the record after its last byte.
    ///
    /// A body that arrives whole in one call is reported where it lies,
    /// without being copied into the buffer.
    fn feed_body<'d, S: RecordSink>(&mut self, data: &'d [u8], sink: &mut S) -> &'d [u8] {
        let Some(current) = self.current.as_mut() else {
            return data;
        };
        let (body, rest) = split_at_most(data, current.remaining);
        let total = current.remaining;
        current.remaining = current.remaining.saturating_sub(body.len());
        let finished = current.remaining == 0;
        let policy = current.policy;
        self.advance(body.len());
        if policy != BodyPolicy::Buffer {
            self.stats.skipped_bytes = add_len(self.stats.skipped_bytes, body.len());
        } else if finished && self.buffer.is_empty() {
            self.finish_record(sink, Some(body));
            return rest;
        } else {
            if self.buffer.is_empty() {
                // The first part of a body that spans calls: room for all of it.
                self.buffer.reserve(total);
            }
            self.buffer.extend_from_slice(body);
        }
        if finished {
            self.finish_record(sink, None);
        }
        rest
    }

    /// Reports the current record to `sink`, with `whole_body` when the body
    /// was never buffered, else with the buffer.
    fn finish_record<S: RecordSink>(&mut self, sink: &mut S, whole_body: Option<&[u8]>) {
        let Some(current) = self.current.take() else {
            return;
        };
        let buffered = current.policy == BodyPolicy::Buffer && !current.damaged;
        if !buffered {
            self.stats.skipped_records = self.stats.skipped_records.saturating_add(1);
        }
        let body = whole_body.unwrap_or(self.buffer.as_slice());
        sink.record(Record {
            header: current.header,
            offset: current.offset,
            body: buffered.then_some(body),
            damaged: current.damaged,
        });
        self.buffer.clear();
    }

    /// Reports a capture gap of `missing` bytes at the current offset.
    ///
    /// A gap that ends inside the body being read keeps the framing: the
    /// rest of the body is skipped and the record is reported as damaged.
    /// Otherwise the reader drops the partial record and searches for the
    /// next TLS header, because the gap may have swallowed any number of
    /// records. SSL 2.0 framing is too weak to search for, so an SSL 2.0
    /// direction stops instead.
    pub fn gap(&mut self, missing: u64) -> GapEffect {
        self.offset = self.offset.saturating_add(missing);
        match self.mode {
            Mode::Stopped => {
                self.stats.unparsed_bytes = self.stats.unparsed_bytes.saturating_add(missing);
                GapEffect::Stopped
            }
            Mode::Resync => {
                let dropped = self.buffer.len();
                self.count_resync(dropped);
                self.buffer.clear();
                self.window_offset = self.offset;
                GapEffect::LostFraming {
                    dropped,
                    resynchronising: true,
                }
            }
            Mode::Records => self.gap_in_records(missing),
        }
    }

    fn gap_in_records(&mut self, missing: u64) -> GapEffect {
        let dropped = self.partial_len();
        if let Some(current) = self.current.as_mut()
            && missing < to_u64(current.remaining)
        {
            let lost = usize::try_from(missing).unwrap_or(usize::MAX);
            current.remaining = current.remaining.saturating_sub(lost);
            current.damaged = true;
            current.policy = BodyPolicy::Skip;
            self.buffer.clear();
            return GapEffect::InsideBody { dropped };
        }
        self.current = None;
        self.header_len = 0;
        self.buffer.clear();
        if self.framing == Framing::Sslv2 {
            self.stop();
            return GapEffect::LostFraming {
                dropped,
                resynchronising: false,
            };
        }
        self.mode = Mode::Resync;
        self.window_offset = self.offset;
        GapEffect::LostFraming {
            dropped,
            resynchronising: true,
        }
    }

    /// Returns the bytes of the partial record read so far, header included.
    fn partial_len(&self) -> usize {
        match &self.current {
            Some(current) => {
                let body_read = current.header.body_len().saturating_sub(current.remaining);
                current.header.header_len().saturating_add(body_read)
            }
            None => self.header_len,
        }
    }

    fn count_resync(&mut self, count: usize) {
        self.stats.resync_bytes = add_len(self.stats.resync_bytes, count);
    }

    /// Searches the window for a header whose successor header is also
    /// plausible. In random bytes a single header matches about once per
    /// 2.4 MB (estimate: 5/256 content types, 1/256 major and 5/256 minor
    /// versions, 28% of lengths), so two chained headers are required.
    fn feed_resync<'d, S: RecordSink>(&mut self, data: &'d [u8], sink: &mut S) -> &'d [u8] {
        self.buffer.extend_from_slice(data);
        self.advance(data.len());
        let mut position = 0;
        let confirmed = loop {
            let Some(window) = self.buffer.get(position..) else {
                break false;
            };
            let Some(record_len) = is_plausible_header(window) else {
                if window.len() < HEADER_LEN {
                    break false;
                }
                position = position.saturating_add(1);
                continue;
            };
            match window.get(record_len..) {
                // NOTE: a candidate is confirmed only by the header after it,
                // so the last record before the end of the capture is lost.
                Some(next) if next.len() >= HEADER_LEN => {
                    if is_plausible_header(next).is_some() {
                        break true;
                    }
                    position = position.saturating_add(1);
                }
                _ => break false,
            }
        };
        self.count_resync(position);
        self.window_offset = add_len(self.window_offset, position);
        self.buffer.drain(..position.min(self.buffer.len()));
        if confirmed {
            let window = std::mem::take(&mut self.buffer);
            self.mode = Mode::Records;
            self.offset = self.window_offset;
            self.feed(&window, sink);
        }
        &[]
    }
}

/// Splits `data` after at most `count` bytes.
fn split_at_most(data: &[u8], count: usize) -> (&[u8], &[u8]) {
    data.split_at_checked(count).unwrap_or((data, &[]))
}

fn to_u64(value: usize) -> u64 {
    u64::try_from(value).unwrap_or(u64::MAX)
}

fn add_len(total: u64, count: usize) -> u64 {
    total.saturating_add(to_u64(count))
}

#[cfg(test)]
#[allow(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::unwrap_used
)]
mod tests {
    use super::*;

    /// Records every callback of the reader and buffers every body unless `skip` is set.
    #[derive(Default)]
    struct Collect {
        records: Vec<(Header, u64, Option<Vec<u8>>, bool)>,
        malformed: Vec<(Malformed, u64)>,
        framing: Option<Framing>,
        skip: bool,
    }

    impl RecordSink for Collect {
        fn framing(&mut self, _first: u8) -> Framing {
            self.framing.unwrap_or(Framing::Tls)
        }
        fn body_policy(&mut self, _header: &Header) -> BodyPolicy {
            if self.skip {
                BodyPolicy::Skip
            } else {
                BodyPolicy::Buffer
            }
        }
        fn record(&mut self, record: Record<'_>) {
            let body = record.body.map(<[u8]>::to_vec);
            self.records
                .push((record.header, record.offset, body, record.damaged));
        }
        fn malformed(&mut self, reason: Malformed, offset: u64) {
            self.malformed.push((reason, offset));
        }
    }

    fn tls_record(content_type: u8, body: &[u8]) -> Vec<u8> {
        let length = u16::try_from(body.len()).unwrap();
        let mut record = vec![content_type, 3, 3];
        record.extend_from_slice(&length.to_be_bytes());
        record.extend_from_slice(body);
        record
    }

    #[test]
    fn header_rejects_content_type_zero() {
        let result = parse_tls_header([0, 3, 3, 0, 2]);
        assert_eq!(result, Err(Malformed::UnknownContentType(0)));
    }

    #[test]
    fn header_rejects_version_zero() {
        let result = parse_tls_header([22, 0, 0, 0, 2]);
        assert_eq!(result, Err(Malformed::BadRecordVersion(0)));
    }

    #[test]
    fn header_rejects_long_length() {
        let result = parse_tls_header([23, 3, 3, 0x48, 0x01]);
        assert_eq!(result, Err(Malformed::RecordTooLong(0x4801)));
    }

    #[test]
    fn header_accepts_maximum_length() {
        let header = parse_tls_header([23, 3, 3, 0x48, 0x00]).unwrap();
        assert_eq!(header.length, MAX_RECORD_LEN);
    }

    #[test]
    fn header_accepts_ssl3_hello_version() {
        let header = parse_tls_header([22, 3, 0, 0, 4]).unwrap();
        assert_eq!(header.version, 0x0300);
    }

    #[test]
    fn sslv2_header_short_form() {
        let header = parse_sslv2_header(&[0x80, 0x2e]).unwrap();
        assert_eq!(
            header,
            Sslv2Header {
                header_len: 2,
                length: 0x2e,
                padding: 0
            }
        );
    }

    #[test]
    fn sslv2_header_long_form() {
        let header = parse_sslv2_header(&[0x01, 0x10, 0x07]).unwrap();
        assert_eq!(
            header,
            Sslv2Header {
                header_len: 3,
                length: 0x110,
                padding: 7
            }
        );
    }

    #[test]
    fn sslv2_header_needs_third_byte() {
        assert_eq!(parse_sslv2_header(&[0x01, 0x10]), None);
    }

    #[test]
    fn reader_joins_byte_by_byte_records() {
        let mut stream = tls_record(22, b"abc");
        stream.extend(tls_record(23, b"defg"));
        let mut sink = Collect::default();
        let mut reader = RecordReader::new(0);
        for byte in &stream {
            reader.feed(std::slice::from_ref(byte), &mut sink);
        }
        assert_eq!(sink.records.len(), 2);
        assert_eq!(sink.records[0].2.as_deref(), Some(&b"abc"[..]));
        assert_eq!(sink.records[1].1, 8);
        assert_eq!(reader.offset(), 17);
    }

    #[test]
    fn reader_skips_unwanted_bodies() {
        let mut sink = Collect {
            skip: true,
            ..Collect::default()
        };
        let mut reader = RecordReader::new(0);
        reader.feed(&tls_record(23, &[9; 100]), &mut sink);
        assert_eq!(sink.records[0].2, None);
        assert_eq!(reader.stats().skipped_bytes, 100);
        assert_eq!(reader.buffered_bytes(), 0);
    }

    #[test]
    fn reader_stops_after_bad_header() {
        let mut stream = vec![0, 0, 0, 0, 2, 2, 40];
        stream.extend(tls_record(21, &[2, 40]));
        let mut sink = Collect::default();
        let mut reader = RecordReader::new(10);
        reader.feed(&stream, &mut sink);
        assert_eq!(sink.malformed, vec![(Malformed::UnknownContentType(0), 10)]);
        assert!(sink.records.is_empty());
        assert_eq!(reader.stats().unparsed_bytes, 9);
    }

    #[test]
    fn reader_reads_sslv2_padding_header() {
        let mut sink = Collect {
            framing: Some(Framing::Sslv2),
            ..Collect::default()
        };
        let mut reader = RecordReader::new(0);
        reader.feed(&[0x00, 0x04, 0x01, 1, 2, 3, 0], &mut sink);
        let expected = Sslv2Header {
            header_len: 3,
            length: 4,
            padding: 1,
        };
        assert_eq!(sink.records[0].0, Header::Sslv2(expected));
        assert_eq!(sink.records[0].2.as_deref(), Some(&[1, 2, 3, 0][..]));
    }

    #[test]
    fn reader_rejects_sslv2_padding_overflow() {
        let mut sink = Collect {
            framing: Some(Framing::Sslv2),
            ..Collect::default()
        };
        let mut reader = RecordReader::new(0);
        reader.feed(&[0x00, 0x02, 0x05, 1, 2], &mut sink);
        let expected = Malformed::BadSslv2Padding {
            length: 2,
            padding: 5,
        };
        assert_eq!(sink.malformed, vec![(expected, 0)]);
    }

    #[test]
    fn gap_inside_body_keeps_framing() {
        let mut sink = Collect::default();
        let mut reader = RecordReader::new(0);
        let record = tls_record(22, &[7; 20]);
        reader.feed(&record[..10], &mut sink);
        let effect = reader.gap(5);
        reader.feed(&record[15..], &mut sink);
        reader.feed(&tls_record(21, &[1, 0]), &mut sink);
        assert_eq!(effect, GapEffect::InsideBody { dropped: 10 });
        assert!(sink.records[0].3);
        assert_eq!(sink.records[0].2, None);
        assert_eq!(sink.records[1].2.as_deref(), Some(&[1, 0][..]));
    }

    #[test]
    fn gap_over_boundary_resynchronises() {
        let mut sink = Collect::default();
        let mut reader = RecordReader::new(0);
        let first = tls_record(22, &[7; 20]);
        reader.feed(&first[..10], &mut sink);
        let effect = reader.gap(30);
        let mut after = vec![0x55; 7];
        after.extend(tls_record(23, &[1; 30]));
        after.extend(tls_record(23, &[2; 30]));
        reader.feed(&after, &mut sink);
        assert_eq!(
            effect,
            GapEffect::LostFraming {
                dropped: 10,
                resynchronising: true
            }
        );
        assert_eq!(sink.records.len(), 2);
        assert_eq!(sink.records[0].1, 47);
        assert_eq!(reader.stats().resync_bytes, 7);
    }

    #[test]
    fn gap_in_sslv2_stops_reader() {
        let mut sink = Collect {
            framing: Some(Framing::Sslv2),
            ..Collect::default()
        };
        let mut reader = RecordReader::new(0);
        reader.feed(&[0x80, 0x10, 1, 2], &mut sink);
        let effect = reader.gap(20);
        assert_eq!(
            effect,
            GapEffect::LostFraming {
                dropped: 4,
                resynchronising: false
            }
        );
        assert!(reader.is_stopped());
    }
}
