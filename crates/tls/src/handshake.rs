//! Parsers for the ClientHello, ServerHello and Certificate handshake messages.
//!
//! Every function takes a message body: the bytes after the 4-byte handshake
//! header (type and 24-bit length). Parsing never panics. A ClientHello cut
//! short by a lost fragment still yields what was read before the cut, so a
//! partial capture keeps its version, random and whatever lists survived.
//!
//! Hellos borrow their byte fields (session id, compression methods and
//! extension data) from the body they were parsed from, which saves an
//! allocation per field. `into_owned` detaches a hello from the body.

use std::borrow::Cow;

use crate::registry::{CipherSuite, ExtensionType, NamedGroup, ProtocolVersion, SignatureScheme};

/// `ServerHello.random` of a HelloRetryRequest: SHA-256 of "HelloRetryRequest"
/// (RFC 8446 section 4.1.3).
pub const HELLO_RETRY_REQUEST_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

/// Maximum length of a legacy session id in bytes (RFC 5246 section 7.4.1.2).
const MAX_SESSION_ID: usize = 32;

/// An error for a message that cannot be parsed at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandshakeError {
    /// The body ends before a field that every message of this type carries.
    #[error(
        "{message} body ends inside {field} at byte {offset}: the message is shorter than \
         its own length fields say"
    )]
    Truncated {
        /// The message being parsed, such as "ServerHello".
        message: &'static str,
        /// The field that was cut.
        field: &'static str,
        /// Offset in the body where the field starts or is cut.
        offset: usize,
    },
    /// A length or value that no well-formed message of this type contains.
    #[error("{message} has an invalid {field} at byte {offset}: {detail}")]
    Invalid {
        /// The message being parsed, such as "ClientHello".
        message: &'static str,
        /// The field with the invalid value.
        field: &'static str,
        /// Offset of the field in the body.
        offset: usize,
        /// Explanation of why the value is invalid.
        detail: String,
    },
}

/// A cursor over a byte slice whose reads return `None` instead of panicking.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    /// Offset of `data` in the enclosing message, so nested readers report message offsets.
    base: usize,
}

impl<'a> Reader<'a> {
    /// Starts reading at the first byte of `data`.
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Self {
            data,
            pos: 0,
            base: 0,
        }
    }

    /// Returns the offset of the next unread byte in the enclosing message.
    pub(crate) fn offset(&self) -> usize {
        self.base.saturating_add(self.pos)
    }

    /// Returns the bytes not yet read.
    pub(crate) fn rest(&self) -> &'a [u8] {
        self.data.get(self.pos..).unwrap_or_default()
    }

    /// Returns true when every byte has been read.
    pub(crate) fn is_empty(&self) -> bool {
        self.rest().is_empty()
    }

    /// Reads `n` bytes, or nothing when fewer remain.
    pub(crate) fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, _) = self.rest().split_at_checked(n)?;
        self.pos = self.pos.saturating_add(n);
        Some(head)
    }

    /// Reads one byte.
    pub(crate) fn u8(&mut self) -> Option<u8> {
        self.take(1)?.first().copied()
    }

    /// Reads a big-endian 16-bit integer.
    pub(crate) fn u16(&mut self) -> Option<u16> {
        let bytes = self.take(2)?;
        Some(u16::from_be_bytes(bytes.try_into().ok()?))
    }

    /// Reads a big-endian 24-bit integer.
    pub(crate) fn u24(&mut self) -> Option<usize> {
        let bytes = self.take(3)?;
        bytes
            .iter()
            .try_fold(0usize, |acc, b| Some(acc << 8 | usize::from(*b)))
    }

    /// Reads a vector with a 1-byte length prefix.
    pub(crate) fn prefixed_u8(&mut self) -> Option<&'a [u8]> {
        let start = self.pos;
        let len = self.u8()?;
        self.take_or_rewind(start, usize::from(len))
    }

    /// Reads a vector with a 2-byte length prefix.
    pub(crate) fn prefixed_u16(&mut self) -> Option<&'a [u8]> {
        let start = self.pos;
        let len = self.u16()?;
        self.take_or_rewind(start, usize::from(len))
    }

    /// Reads a vector with a 3-byte length prefix.
    pub(crate) fn prefixed_u24(&mut self) -> Option<&'a [u8]> {
        let start = self.pos;
        let len = self.u24()?;
        self.take_or_rewind(start, len)
    }

    /// Reads a vector with a 3-byte length prefix as a reader over its contents.
    pub(crate) fn nested_u24(&mut self) -> Option<Reader<'a>> {
        let data = self.prefixed_u24()?;
        let base = self.offset().saturating_sub(data.len());
        Some(Reader { data, pos: 0, base })
    }

    fn take_or_rewind(&mut self, start: usize, len: usize) -> Option<&'a [u8]> {
        let taken = self.take(len);
        if taken.is_none() {
            self.pos = start;
        }
        taken
    }
}

/// One hello extension as it appeared on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Extension<'a> {
    /// The extension type.
    pub kind: ExtensionType,
    /// The extension data, without the type and length fields.
    pub data: Cow<'a, [u8]>,
}

impl Extension<'_> {
    /// Returns the extension with its data copied out of the message body.
    pub fn into_owned(self) -> Extension<'static> {
        Extension {
            kind: self.kind,
            data: Cow::Owned(self.data.into_owned()),
        }
    }
}

/// A parsed ClientHello (RFC 8446 section 4.1.2, RFC 5246 section 7.4.1.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientHello<'a> {
    /// The version field of the hello (0x0303 for TLS 1.3 clients).
    pub legacy_version: ProtocolVersion,
    /// The client random.
    pub random: [u8; 32],
    /// The legacy session id (0 to 32 bytes).
    pub session_id: Cow<'a, [u8]>,
    /// Offered suites in wire order, GREASE and signalling values included.
    pub cipher_suites: Vec<CipherSuite>,
    /// Offered compression methods (0 is null compression).
    pub compression_methods: Cow<'a, [u8]>,
    /// Extensions in wire order, GREASE included.
    pub extensions: Vec<Extension<'a>>,
    /// `supported_versions` entries in wire order, GREASE included.
    pub supported_versions: Vec<ProtocolVersion>,
    /// The first `host_name` entry of `server_name`, decoded as lossy UTF-8.
    pub server_name: Option<String>,
    /// ALPN protocol ids in wire order, as raw bytes because they may be non-ASCII.
    pub alpn: Vec<Vec<u8>>,
    /// `supported_groups` entries in wire order, GREASE included.
    pub supported_groups: Vec<NamedGroup>,
    /// `ec_point_formats` entries in wire order.
    pub ec_point_formats: Vec<u8>,
    /// `signature_algorithms` entries in wire order, GREASE included.
    pub signature_algorithms: Vec<SignatureScheme>,
    /// Groups of the `key_share` entries in wire order, GREASE included.
    pub key_share_groups: Vec<NamedGroup>,
    /// True when the body ended early or a length in it was inconsistent.
    /// Fields from the fault onwards are empty, but extensions and list
    /// entries read before it are kept.
    pub truncated: bool,
}

impl ClientHello<'_> {
    /// Creates a hello with the fixed fields set and every list empty.
    pub fn new(legacy_version: ProtocolVersion, random: [u8; 32]) -> Self {
        Self {
            legacy_version,
            random,
            session_id: Cow::Borrowed(&[]),
            cipher_suites: Vec::new(),
            compression_methods: Cow::Borrowed(&[]),
            extensions: Vec::new(),
            supported_versions: Vec::new(),
            server_name: None,
            alpn: Vec::new(),
            supported_groups: Vec::new(),
            ec_point_formats: Vec::new(),
            signature_algorithms: Vec::new(),
            key_share_groups: Vec::new(),
            truncated: false,
        }
    }

    /// Returns the hello with its byte fields copied out of the message body.
    pub fn into_owned(self) -> ClientHello<'static> {
        ClientHello {
            session_id: Cow::Owned(self.session_id.into_owned()),
            compression_methods: Cow::Owned(self.compression_methods.into_owned()),
            extensions: self
                .extensions
                .into_iter()
                .map(Extension::into_owned)
                .collect(),
            legacy_version: self.legacy_version,
            random: self.random,
            cipher_suites: self.cipher_suites,
            supported_versions: self.supported_versions,
            server_name: self.server_name,
            alpn: self.alpn,
            supported_groups: self.supported_groups,
            ec_point_formats: self.ec_point_formats,
            signature_algorithms: self.signature_algorithms,
            key_share_groups: self.key_share_groups,
            truncated: self.truncated,
        }
    }

    /// Returns the highest version offered: the best non-GREASE
    /// `supported_versions` entry by [`ProtocolVersion::rank`], else `legacy_version`.
    pub fn max_version(&self) -> ProtocolVersion {
        let offered = self.supported_versions.iter().filter(|v| !v.is_grease());
        // Keep the first of equally ranked versions so the result follows wire order.
        let best = offered.fold(None, |best: Option<ProtocolVersion>, v| match best {
            Some(b) if b.rank() >= v.rank() => Some(b),
            _ => Some(*v),
        });
        best.unwrap_or(self.legacy_version)
    }

    /// Returns true when TLS_FALLBACK_SCSV (0x5600) is offered (RFC 7507).
    pub fn offers_fallback_scsv(&self) -> bool {
        self.cipher_suites.contains(&CipherSuite::TLS_FALLBACK_SCSV)
    }

    /// Returns true when the client signals RFC 5746 support, by the SCSV
    /// (0x00ff) or by a `renegotiation_info` extension.
    pub fn offers_renegotiation_info(&self) -> bool {
        self.cipher_suites
            .contains(&CipherSuite::TLS_EMPTY_RENEGOTIATION_INFO_SCSV)
            || self.has_extension(ExtensionType::RENEGOTIATION_INFO)
    }

    /// Returns true when at least one offered suite is [`CipherSuite::is_strong`].
    pub fn offers_strong_suite(&self) -> bool {
        self.cipher_suites.iter().any(|suite| suite.is_strong())
    }

    /// Returns true when an extension of this type is present.
    pub fn has_extension(&self, kind: ExtensionType) -> bool {
        self.extensions.iter().any(|ext| ext.kind == kind)
    }
}

/// The RFC 8446 section 4.1.3 downgrade marker in the last 8 bytes of
/// `ServerHello.random`, set by a TLS 1.3 capable server that negotiated less.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DowngradeSentinel {
    /// `DOWNGRD\x01`: the server negotiated TLS 1.2.
    Tls12,
    /// `DOWNGRD\x00`: the server negotiated TLS 1.1 or below.
    Tls11OrBelow,
}

impl DowngradeSentinel {
    /// Returns the 8 bytes that mark this downgrade.
    pub const fn bytes(self) -> [u8; 8] {
        match self {
            Self::Tls12 => *b"DOWNGRD\x01",
            Self::Tls11OrBelow => *b"DOWNGRD\x00",
        }
    }
}

/// A parsed ServerHello or HelloRetryRequest (RFC 8446 section 4.1.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerHello<'a> {
    /// The version field of the hello (0x0303 for TLS 1.3 servers).
    pub legacy_version: ProtocolVersion,
    /// The server random.
    pub random: [u8; 32],
    /// The echoed or new legacy session id (empty for TLS 1.3 drafts 0 to 21).
    pub session_id: Cow<'a, [u8]>,
    /// The chosen suite.
    pub cipher_suite: CipherSuite,
    /// The chosen compression method (0 is null compression).
    pub compression_method: u8,
    /// Extensions in wire order.
    pub extensions: Vec<Extension<'a>>,
    /// The version chosen in `supported_versions`, if present.
    pub selected_version: Option<ProtocolVersion>,
    /// The protocol chosen by ALPN, as raw bytes.
    pub alpn: Option<Vec<u8>>,
    /// The group of the `key_share` extension (selected group in a HelloRetryRequest).
    pub key_share_group: Option<NamedGroup>,
    /// True when `random` is the HelloRetryRequest value.
    pub is_hello_retry_request: bool,
    /// True when the extensions block ended early or an extension was
    /// malformed. Whole extensions before the fault are kept.
    pub truncated: bool,
}

impl ServerHello<'_> {
    /// Returns the hello with its byte fields copied out of the message body.
    pub fn into_owned(self) -> ServerHello<'static> {
        ServerHello {
            session_id: Cow::Owned(self.session_id.into_owned()),
            extensions: self
                .extensions
                .into_iter()
                .map(Extension::into_owned)
                .collect(),
            legacy_version: self.legacy_version,
            random: self.random,
            cipher_suite: self.cipher_suite,
            compression_method: self.compression_method,
            selected_version: self.selected_version,
            alpn: self.alpn,
            key_share_group: self.key_share_group,
            is_hello_retry_request: self.is_hello_retry_request,
            truncated: self.truncated,
        }
    }

    /// Returns the negotiated version: `selected_version`, else `legacy_version`.
    pub fn negotiated_version(&self) -> ProtocolVersion {
        self.selected_version.unwrap_or(self.legacy_version)
    }

    /// Returns the downgrade marker in the last 8 bytes of the random, if any.
    pub fn downgrade_sentinel(&self) -> Option<DowngradeSentinel> {
        let tail = self.random.get(24..)?;
        [DowngradeSentinel::Tls12, DowngradeSentinel::Tls11OrBelow]
            .into_iter()
            .find(|sentinel| sentinel.bytes() == tail)
    }

    /// Returns true when an extension of this type is present.
    pub fn has_extension(&self, kind: ExtensionType) -> bool {
        self.extensions.iter().any(|ext| ext.kind == kind)
    }
}

fn truncated(message: &'static str, field: &'static str, r: &Reader<'_>) -> HandshakeError {
    HandshakeError::Truncated {
        message,
        field,
        offset: r.offset(),
    }
}

fn read_version_and_random(
    r: &mut Reader<'_>,
    message: &'static str,
) -> Result<(ProtocolVersion, [u8; 32]), HandshakeError> {
    let version = r
        .u16()
        .ok_or_else(|| truncated(message, "legacy_version", r))?;
    let random = r
        .take(32)
        .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
        .ok_or_else(|| truncated(message, "random", r))?;
    Ok((ProtocolVersion(version), random))
}

/// Reads a ServerHello session id and rejects lengths above 32. Returns
/// `Ok(None)` when the body ends.
fn read_session_id<'a>(
    r: &mut Reader<'a>,
    message: &'static str,
) -> Result<Option<&'a [u8]>, HandshakeError> {
    let offset = r.offset();
    let Some(len) = r.u8() else {
        return Ok(None);
    };
    if usize::from(len) > MAX_SESSION_ID {
        return Err(HandshakeError::Invalid {
            message,
            field: "session_id",
            offset,
            detail: format!("length {len} exceeds the 32-byte maximum of RFC 5246 section 7.4.1.2"),
        });
    }
    Ok(r.take(usize::from(len)))
}

/// Parses a ClientHello body.
///
/// Fails only when the body is too short for `legacy_version` and `random`.
/// A body that is cut later, or whose session id, cipher-suite or extension
/// lengths are inconsistent, returns `Ok` with `truncated` set and the fields
/// from the fault onwards empty.
pub fn parse_client_hello(body: &[u8]) -> Result<ClientHello<'_>, HandshakeError> {
    let mut r = Reader::new(body);
    let (version, random) = read_version_and_random(&mut r, "ClientHello")?;
    let mut hello = ClientHello::new(version, random);
    if !read_client_lists(&mut r, &mut hello) {
        hello.truncated = true;
        return Ok(hello);
    }
    let (extensions, complete) = read_extensions(&mut r);
    hello.extensions = extensions;
    let well_formed = apply_client_extensions(&mut hello);
    hello.truncated = !complete || !well_formed;
    Ok(hello)
}

/// Reads session id, cipher suites and compression methods into `hello`.
/// Returns false when the body ends inside them or a length is impossible:
/// a session id over 32 bytes or an odd cipher-suite length.
fn read_client_lists<'a>(r: &mut Reader<'a>, hello: &mut ClientHello<'a>) -> bool {
    let session_id = r.prefixed_u8().filter(|id| id.len() <= MAX_SESSION_ID);
    let Some(session_id) = session_id else {
        return false;
    };
    hello.session_id = Cow::Borrowed(session_id);
    // Every suite takes 2 bytes, so an odd length cannot be split into suites.
    let suites = r.prefixed_u16().filter(|list| list.len() % 2 == 0);
    let Some(suites) = suites else {
        return false;
    };
    hello.cipher_suites = u16_vec(suites, CipherSuite);
    let Some(methods) = r.prefixed_u8() else {
        return false;
    };
    hello.compression_methods = Cow::Borrowed(methods);
    true
}

/// Splits an extensions block into extensions.
///
/// Returns the whole extensions read and whether the block was complete. A
/// body that ends right before the block has no extensions and is complete
/// (SSL 3.0 and early TLS hellos carry none).
fn read_extensions<'a>(r: &mut Reader<'a>) -> (Vec<Extension<'a>>, bool) {
    if r.is_empty() {
        return (Vec::new(), true);
    }
    let Some(declared) = r.u16().map(usize::from) else {
        return (Vec::new(), false);
    };
    let rest = r.rest();
    let block = rest.get(..declared).unwrap_or(rest);
    let mut complete = block.len() == declared;
    let mut inner = Reader::new(block);
    let mut extensions = Vec::with_capacity(count_extensions(block));
    while !inner.is_empty() {
        let Some(extension) = read_extension(&mut inner) else {
            complete = false;
            break;
        };
        extensions.push(extension);
    }
    (extensions, complete)
}

/// Counts the whole extensions at the start of an extensions block, so their
/// vector is allocated once.
fn count_extensions(block: &[u8]) -> usize {
    let mut r = Reader::new(block);
    let mut count = 0;
    while read_extension(&mut r).is_some() {
        count += 1;
    }
    count
}

fn read_extension<'a>(r: &mut Reader<'a>) -> Option<Extension<'a>> {
    let kind = ExtensionType(r.u16()?);
    let data = Cow::Borrowed(r.prefixed_u16()?);
    Some(Extension { kind, data })
}

fn first_data<'e>(extensions: &'e [Extension<'_>], kind: ExtensionType) -> Option<&'e [u8]> {
    extensions
        .iter()
        .find(|ext| ext.kind == kind)
        .map(|ext| ext.data.as_ref())
}

/// Decodes the extensions a ClientHello summary needs (first occurrence of
/// each type). Returns false when one of them is malformed.
fn apply_client_extensions(hello: &mut ClientHello<'_>) -> bool {
    let exts = std::mem::take(&mut hello.extensions);
    let mut ok = true;
    if let Some(data) = first_data(&exts, ExtensionType::SERVER_NAME) {
        hello.server_name = keep(&mut ok, parse_server_name(data));
    }
    if let Some(data) = first_data(&exts, ExtensionType::SUPPORTED_VERSIONS) {
        let versions = keep(&mut ok, u16_list(data, Prefix::U8));
        hello.supported_versions = versions.into_iter().map(ProtocolVersion).collect();
    }
    if let Some(data) = first_data(&exts, ExtensionType::SUPPORTED_GROUPS) {
        let groups = keep(&mut ok, u16_list(data, Prefix::U16));
        hello.supported_groups = groups.into_iter().map(NamedGroup).collect();
    }
    if let Some(data) = first_data(&exts, ExtensionType::EC_POINT_FORMATS) {
        hello.ec_point_formats = keep(&mut ok, u8_list(data));
    }
    if let Some(data) = first_data(&exts, ExtensionType::SIGNATURE_ALGORITHMS) {
        let schemes = keep(&mut ok, u16_list(data, Prefix::U16));
        hello.signature_algorithms = schemes.into_iter().map(SignatureScheme).collect();
    }
    if let Some(data) = first_data(&exts, ExtensionType::APPLICATION_LAYER_PROTOCOL_NEGOTIATION) {
        hello.alpn = keep(&mut ok, parse_alpn(data));
    }
    if let Some(data) = first_data(&exts, ExtensionType::KEY_SHARE) {
        hello.key_share_groups = keep(&mut ok, parse_client_key_shares(data));
    }
    hello.extensions = exts;
    ok
}

/// Returns the value of a `(value, well_formed)` pair, clearing `ok` when malformed.
fn keep<T>(ok: &mut bool, (value, well_formed): (T, bool)) -> T {
    *ok &= well_formed;
    value
}

/// Width of a vector length prefix.
#[derive(Debug, Clone, Copy)]
enum Prefix {
    U8,
    U16,
}

/// Returns the body of a length-prefixed list that must fill `data` exactly,
/// and whether it did. A list that overruns `data` is cut to what is present.
fn list_body(data: &[u8], prefix: Prefix) -> (&[u8], bool) {
    let mut r = Reader::new(data);
    let len = match prefix {
        Prefix::U8 => r.u8().map(usize::from),
        Prefix::U16 => r.u16().map(usize::from),
    };
    let Some(len) = len else {
        return (&[], false);
    };
    let rest = r.rest();
    (rest.get(..len).unwrap_or(rest), rest.len() == len)
}

/// Iterates over the whole big-endian 16-bit values in `bytes`.
fn u16_values(bytes: &[u8]) -> impl Iterator<Item = u16> + '_ {
    bytes.chunks_exact(2).filter_map(|pair| match pair {
        [hi, lo] => Some(u16::from_be_bytes([*hi, *lo])),
        _ => None,
    })
}

/// Collects the values of [`u16_values`] through `map` into a vector
/// allocated once at its final size.
fn u16_vec<T>(bytes: &[u8], map: impl Fn(u16) -> T) -> Vec<T> {
    let mut values = Vec::with_capacity(bytes.len() / 2);
    values.extend(u16_values(bytes).map(map));
    values
}

fn u16_list(data: &[u8], prefix: Prefix) -> (Vec<u16>, bool) {
    let (body, exact) = list_body(data, prefix);
    (u16_vec(body, |value| value), exact && body.len() % 2 == 0)
}

fn u8_list(data: &[u8]) -> (Vec<u8>, bool) {
    let (body, exact) = list_body(data, Prefix::U8);
    (body.to_vec(), exact)
}

/// Decodes `server_name` (RFC 6066 section 3) to its first `host_name` entry.
fn parse_server_name(data: &[u8]) -> (Option<String>, bool) {
    let (body, exact) = list_body(data, Prefix::U16);
    let mut r = Reader::new(body);
    let mut host = None;
    while !r.is_empty() {
        let entry = r.u8().and_then(|kind| Some((kind, r.prefixed_u16()?)));
        let Some((kind, name)) = entry else {
            return (host, false);
        };
        // Name type 0 is host_name, the only type RFC 6066 defines.
        if kind == 0 && host.is_none() {
            host = Some(String::from_utf8_lossy(name).into_owned());
        }
    }
    (host, exact)
}

/// Decodes the ALPN protocol list (RFC 7301 section 3.1).
fn parse_alpn(data: &[u8]) -> (Vec<Vec<u8>>, bool) {
    let (body, exact) = list_body(data, Prefix::U16);
    let mut r = Reader::new(body);
    let mut protocols = Vec::new();
    while !r.is_empty() {
        let Some(protocol) = r.prefixed_u8() else {
            return (protocols, false);
        };
        protocols.push(protocol.to_vec());
    }
    (protocols, exact)
}

/// Decodes the groups of a ClientHello `key_share` (RFC 8446 section 4.2.8).
fn parse_client_key_shares(data: &[u8]) -> (Vec<NamedGroup>, bool) {
    let (body, exact) = list_body(data, Prefix::U16);
    let mut r = Reader::new(body);
    let mut groups = Vec::new();
    while !r.is_empty() {
        let entry = r.u16().and_then(|group| r.prefixed_u16().map(|_| group));
        let Some(group) = entry else {
            return (groups, false);
        };
        groups.push(NamedGroup(group));
    }
    (groups, exact)
}

/// Returns true for the ServerHello layout of TLS 1.3 drafts 0 to 21, which
/// has no session id and no compression method. Draft 22 restored both so
/// that middleboxes would accept TLS 1.3.
fn is_early_draft_layout(version: ProtocolVersion) -> bool {
    matches!(version.0, 0x7f00..=0x7f15)
}

/// Parses a ServerHello or HelloRetryRequest body.
///
/// Fails when the fixed fields (version, random, session id, suite,
/// compression) are incomplete. Faults in the extensions block set `truncated`.
/// The layout of TLS 1.3 drafts 0 to 21 (no session id or compression) is
/// recognised by its version field.
pub fn parse_server_hello(body: &[u8]) -> Result<ServerHello<'_>, HandshakeError> {
    const MESSAGE: &str = "ServerHello";
    let mut r = Reader::new(body);
    let (legacy_version, random) = read_version_and_random(&mut r, MESSAGE)?;
    let early_draft = is_early_draft_layout(legacy_version);
    let mut session_id: &[u8] = &[];
    if !early_draft {
        let read = read_session_id(&mut r, MESSAGE)?;
        session_id = read.ok_or_else(|| truncated(MESSAGE, "session_id", &r))?;
    }
    let cipher_suite = r
        .u16()
        .ok_or_else(|| truncated(MESSAGE, "cipher_suite", &r))?;
    let mut compression_method = 0;
    if !early_draft {
        let read = r.u8();
        compression_method = read.ok_or_else(|| truncated(MESSAGE, "compression_method", &r))?;
    }
    let (extensions, complete) = read_extensions(&mut r);
    let mut hello = ServerHello {
        legacy_version,
        random,
        session_id: Cow::Borrowed(session_id),
        cipher_suite: CipherSuite(cipher_suite),
        compression_method,
        extensions,
        selected_version: None,
        alpn: None,
        key_share_group: None,
        is_hello_retry_request: random == HELLO_RETRY_REQUEST_RANDOM,
        truncated: false,
    };
    let well_formed = apply_server_extensions(&mut hello);
    hello.truncated = !complete || !well_formed;
    Ok(hello)
}

/// Decodes the ServerHello extensions that carry a choice. Returns false when
/// one of them is malformed.
fn apply_server_extensions(hello: &mut ServerHello<'_>) -> bool {
    let mut ok = true;
    if let Some(data) = first_data(&hello.extensions, ExtensionType::SUPPORTED_VERSIONS) {
        // RFC 8446 section 4.2.1: the server sends exactly one version, unprefixed.
        let mut r = Reader::new(data);
        hello.selected_version = r.u16().map(ProtocolVersion);
        ok &= hello.selected_version.is_some() && r.is_empty();
    }
    if let Some(data) = first_data(&hello.extensions, ExtensionType::KEY_SHARE) {
        // A ServerHello entry starts with its group; a HelloRetryRequest carries only the group.
        hello.key_share_group = Reader::new(data).u16().map(NamedGroup);
        ok &= hello.key_share_group.is_some();
    }
    let alpn = first_data(
        &hello.extensions,
        ExtensionType::APPLICATION_LAYER_PROTOCOL_NEGOTIATION,
    );
    if let Some(data) = alpn {
        let (protocols, exact) = parse_alpn(data);
        // RFC 7301 section 3.1: the server list holds exactly one protocol.
        ok &= exact && protocols.len() == 1;
        hello.alpn = protocols.into_iter().next();
    }
    ok
}

/// Parses a TLS 1.2 or earlier Certificate body into DER certificates,
/// leaf first (RFC 5246 section 7.4.2), borrowed from the body.
pub fn parse_certificate_list(body: &[u8]) -> Result<Vec<&[u8]>, HandshakeError> {
    const MESSAGE: &str = "Certificate";
    let mut r = Reader::new(body);
    let mut entries = r
        .nested_u24()
        .ok_or_else(|| truncated(MESSAGE, "certificate_list", &r))?;
    expect_end(&r)?;
    let mut certificates = Vec::new();
    while !entries.is_empty() {
        certificates.push(read_certificate(&mut entries)?);
    }
    Ok(certificates)
}

/// Parses a TLS 1.3 Certificate body into DER certificates, leaf first,
/// dropping the request context and per-certificate extensions
/// (RFC 8446 section 4.4.2). Only raw X.509 entries are supported. The
/// certificates are borrowed from the body.
pub fn parse_certificate_list_tls13(body: &[u8]) -> Result<Vec<&[u8]>, HandshakeError> {
    const MESSAGE: &str = "Certificate";
    let mut r = Reader::new(body);
    r.prefixed_u8()
        .ok_or_else(|| truncated(MESSAGE, "certificate_request_context", &r))?;
    let mut entries = r
        .nested_u24()
        .ok_or_else(|| truncated(MESSAGE, "certificate_list", &r))?;
    expect_end(&r)?;
    let mut certificates = Vec::new();
    while !entries.is_empty() {
        let der = read_certificate(&mut entries)?;
        if entries.prefixed_u16().is_none() {
            return Err(overrun("certificate extensions", &entries));
        }
        certificates.push(der);
    }
    Ok(certificates)
}

/// Returns the error for an entry whose length runs past the end of its list.
fn overrun(field: &'static str, r: &Reader<'_>) -> HandshakeError {
    HandshakeError::Invalid {
        message: "Certificate",
        field,
        offset: r.offset(),
        detail: format!(
            "the length runs past the list, which has {} bytes left",
            r.rest().len()
        ),
    }
}

/// Reads one length-prefixed, non-empty certificate from a certificate list.
fn read_certificate<'a>(r: &mut Reader<'a>) -> Result<&'a [u8], HandshakeError> {
    let Some(der) = r.prefixed_u24() else {
        return Err(overrun("certificate entry", r));
    };
    if der.is_empty() {
        return Err(HandshakeError::Invalid {
            message: "Certificate",
            field: "certificate entry",
            offset: r.offset(),
            detail: "the entry is empty but RFC 5246 requires at least one byte".to_string(),
        });
    }
    Ok(der)
}

fn expect_end(r: &Reader<'_>) -> Result<(), HandshakeError> {
    if r.is_empty() {
        return Ok(());
    }
    Err(HandshakeError::Invalid {
        message: "Certificate",
        field: "certificate_list",
        offset: r.offset(),
        detail: format!("{} bytes follow the list", r.rest().len()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Prefixes `body` with its length in `width` big-endian bytes.
    fn vec_with_len(width: usize, body: &[u8]) -> Vec<u8> {
        let len = body.len().to_be_bytes();
        let mut out = len[len.len() - width..].to_vec();
        out.extend_from_slice(body);
        out
    }

    fn u16_bytes(values: &[u16]) -> Vec<u8> {
        values.iter().flat_map(|v| v.to_be_bytes()).collect()
    }

    fn extension(kind: u16, data: &[u8]) -> Vec<u8> {
        let mut out = kind.to_be_bytes().to_vec();
        out.extend(vec_with_len(2, data));
        out
    }

    /// Builds a ClientHello body with a 1-byte session id and null compression.
    fn client_hello(suites: &[u16], extensions: Option<&[Vec<u8>]>) -> Vec<u8> {
        let mut body = vec![0x03, 0x03];
        body.extend([0x11; 32]);
        body.extend(vec_with_len(1, &[0xaa]));
        body.extend(vec_with_len(2, &u16_bytes(suites)));
        body.extend(vec_with_len(1, &[0]));
        if let Some(extensions) = extensions {
            body.extend(vec_with_len(2, &extensions.concat()));
        }
        body
    }

    fn sni(host: &[u8]) -> Vec<u8> {
        let mut entry = vec![0];
        entry.extend(vec_with_len(2, host));
        extension(0, &vec_with_len(2, &entry))
    }

    fn alpn(protocols: &[&[u8]]) -> Vec<u8> {
        let list: Vec<u8> = protocols.iter().flat_map(|p| vec_with_len(1, p)).collect();
        extension(16, &vec_with_len(2, &list))
    }

    fn supported_versions(versions: &[u16]) -> Vec<u8> {
        extension(43, &vec_with_len(1, &u16_bytes(versions)))
    }

    fn browser_like_hello() -> Vec<u8> {
        let extensions = [
            extension(0x0a0a, &[]),
            sni(b"example.com"),
            extension(10, &vec_with_len(2, &u16_bytes(&[0x2a2a, 0x11ec, 29, 23]))),
            extension(11, &vec_with_len(1, &[0])),
            extension(13, &vec_with_len(2, &u16_bytes(&[0x0403, 0x0804]))),
            alpn(&[b"h2", b"http/1.1"]),
            supported_versions(&[0x7a7a, 0x0304, 0x0303]),
            extension(
                51,
                &vec_with_len(2, &[&[0x00, 0x1d][..], &vec_with_len(2, &[7; 32])].concat()),
            ),
            extension(0xff01, &[0]),
        ];
        client_hello(&[0x1a1a, 0x1301, 0xc02f, 0x00ff], Some(&extensions))
    }

    fn server_hello(random: [u8; 32], extensions: &[Vec<u8>]) -> Vec<u8> {
        let mut body = vec![0x03, 0x03];
        body.extend(random);
        body.extend(vec_with_len(1, &[]));
        body.extend([0x13, 0x01, 0x00]);
        body.extend(vec_with_len(2, &extensions.concat()));
        body
    }

    #[test]
    fn client_hello_fixed_fields() {
        let body = client_hello(&[0x002f], None);
        let hello = parse_client_hello(&body).unwrap();
        assert_eq!(hello.legacy_version, ProtocolVersion::TLS12);
        assert_eq!(hello.random, [0x11; 32]);
        assert_eq!(hello.session_id, vec![0xaa]);
        assert_eq!(hello.cipher_suites, vec![CipherSuite(0x002f)]);
        assert_eq!(hello.compression_methods, vec![0]);
    }

    #[test]
    fn client_hello_without_extensions_complete() {
        let body = client_hello(&[0x002f], None);
        let hello = parse_client_hello(&body).unwrap();
        assert!(hello.extensions.is_empty());
        assert!(!hello.truncated);
    }

    #[test]
    fn client_hello_empty_extensions_block() {
        let body = client_hello(&[0x002f], Some(&[]));
        let hello = parse_client_hello(&body).unwrap();
        assert!(hello.extensions.is_empty());
        assert!(!hello.truncated);
    }

    #[test]
    fn client_hello_keeps_grease_everywhere() {
        let body = browser_like_hello();
        let hello = parse_client_hello(&body).unwrap();
        assert_eq!(hello.cipher_suites.first(), Some(&CipherSuite(0x1a1a)));
        assert_eq!(
            hello.extensions.first().map(|e| e.kind),
            Some(ExtensionType(0x0a0a))
        );
        assert_eq!(
            hello.supported_versions.first(),
            Some(&ProtocolVersion(0x7a7a))
        );
        assert_eq!(hello.supported_groups.first(), Some(&NamedGroup(0x2a2a)));
    }

    #[test]
    fn client_hello_decodes_extensions() {
        let body = browser_like_hello();
        let hello = parse_client_hello(&body).unwrap();
        assert_eq!(hello.server_name.as_deref(), Some("example.com"));
        assert_eq!(hello.alpn, vec![b"h2".to_vec(), b"http/1.1".to_vec()]);
        assert_eq!(hello.ec_point_formats, vec![0]);
        assert_eq!(
            hello.signature_algorithms,
            vec![SignatureScheme(0x0403), SignatureScheme(0x0804)]
        );
        assert_eq!(hello.key_share_groups, vec![NamedGroup::X25519]);
        assert!(!hello.truncated);
    }

    #[test]
    fn client_hello_non_ascii_alpn_raw() {
        let body = client_hello(&[0x1301], Some(&[alpn(&[&[0xab, 0xcd]])]));
        let hello = parse_client_hello(&body).unwrap();
        assert_eq!(hello.alpn, vec![vec![0xab, 0xcd]]);
    }

    #[test]
    fn client_hello_sni_lossy_utf8() {
        let body = client_hello(&[0x1301], Some(&[sni(b"caf\xff.example")]));
        let hello = parse_client_hello(&body).unwrap();
        assert_eq!(hello.server_name.as_deref(), Some("caf\u{fffd}.example"));
    }

    #[test]
    fn client_hello_max_version_skips_grease() {
        let body = browser_like_hello();
        let hello = parse_client_hello(&body).unwrap();
        assert_eq!(hello.max_version(), ProtocolVersion::TLS13);
    }

    #[test]
    fn client_hello_max_version_draft_beats_tls12() {
        let body = client_hello(&[0x1301], Some(&[supported_versions(&[0x0303, 0x7f12])]));
        let hello = parse_client_hello(&body).unwrap();
        assert_eq!(hello.max_version(), ProtocolVersion(0x7f12));
    }

    #[test]
    fn client_hello_max_version_legacy_fallback() {
        let body = client_hello(&[0x002f], None);
        let hello = parse_client_hello(&body).unwrap();
        assert_eq!(hello.max_version(), ProtocolVersion::TLS12);
    }

    #[test]
    fn client_hello_scsv_flags() {
        let body = client_hello(&[0x002f, 0x5600], None);
        let hello = parse_client_hello(&body).unwrap();
        assert!(hello.offers_fallback_scsv());
        assert!(!hello.offers_renegotiation_info());
        assert!(!hello.offers_strong_suite());
    }

    #[test]
    fn client_hello_renegotiation_by_extension() {
        let body = client_hello(&[0xc02f], Some(&[extension(0xff01, &[0])]));
        let hello = parse_client_hello(&body).unwrap();
        assert!(hello.offers_renegotiation_info());
        assert!(hello.offers_strong_suite());
    }

    #[test]
    fn client_hello_renegotiation_by_scsv() {
        let body = browser_like_hello();
        let hello = parse_client_hello(&body).unwrap();
        assert!(hello.offers_renegotiation_info());
        assert!(!hello.offers_fallback_scsv());
    }

    #[test]
    fn client_hello_cut_after_random() {
        let body = client_hello(&[0x002f], None);
        let hello = parse_client_hello(&body[..34]).unwrap();
        assert!(hello.truncated);
        assert_eq!(hello.random, [0x11; 32]);
        assert!(hello.cipher_suites.is_empty());
    }

    #[test]
    fn client_hello_cut_inside_suites() {
        let body = client_hello(&[0x002f, 0x0035], None);
        let hello = parse_client_hello(&body[..40]).unwrap();
        assert!(hello.truncated);
        assert_eq!(hello.session_id, vec![0xaa]);
        assert!(hello.cipher_suites.is_empty());
    }

    #[test]
    fn client_hello_cut_inside_extension() {
        let body = browser_like_hello();
        let hello = parse_client_hello(&body[..body.len() - 3]).unwrap();
        assert!(hello.truncated);
        assert_eq!(hello.server_name.as_deref(), Some("example.com"));
        assert!(!hello.has_extension(ExtensionType::RENEGOTIATION_INFO));
    }

    #[test]
    fn client_hello_overlong_versions_flagged() {
        let broken = extension(43, &[4, 0x03, 0x04]);
        let body = client_hello(&[0x1301], Some(&[sni(b"a.test"), broken]));
        let hello = parse_client_hello(&body).unwrap();
        assert!(hello.truncated);
        assert_eq!(hello.server_name.as_deref(), Some("a.test"));
        assert_eq!(hello.supported_versions, vec![ProtocolVersion::TLS13]);
    }

    #[test]
    fn client_hello_too_short_error() {
        let body = client_hello(&[0x002f], None);
        let err = parse_client_hello(&body[..20]).unwrap_err();
        assert!(matches!(
            err,
            HandshakeError::Truncated {
                field: "random",
                ..
            }
        ));
    }

    #[test]
    fn client_hello_long_session_id_flagged() {
        let mut body = client_hello(&[0x002f], None);
        body[34] = 33;
        body.extend([0; 40]);
        let hello = parse_client_hello(&body).unwrap();
        assert!(hello.truncated);
        assert!(hello.session_id.is_empty());
    }

    #[test]
    fn client_hello_odd_suites_flagged() {
        let mut body = client_hello(&[0x002f], None);
        body[37] = 3;
        let hello = parse_client_hello(&body).unwrap();
        assert!(hello.truncated);
        assert_eq!(hello.session_id, vec![0xaa]);
        assert!(hello.cipher_suites.is_empty());
    }

    #[test]
    fn server_hello_long_session_id_error() {
        let mut body = server_hello([0x22; 32], &[]);
        body[34] = 33;
        let err = parse_server_hello(&body).unwrap_err();
        assert!(matches!(
            err,
            HandshakeError::Invalid {
                field: "session_id",
                offset: 34,
                ..
            }
        ));
    }

    #[test]
    fn client_hello_every_prefix_no_panic() {
        let body = browser_like_hello();
        for end in 0..=body.len() {
            let parsed = parse_client_hello(&body[..end]);
            assert_eq!(parsed.is_ok(), end >= 34, "prefix of {end} bytes");
        }
    }

    #[test]
    fn client_hello_flipped_bytes_no_panic() {
        let body = browser_like_hello();
        for index in 0..body.len() {
            for value in [0x00, 0x01, 0x7f, 0xff] {
                let mut mutated = body.clone();
                mutated[index] = value;
                let _ = parse_client_hello(&mutated);
            }
        }
    }

    #[test]
    fn server_hello_fields_and_extensions() {
        let extensions = [
            extension(43, &[0x03, 0x04]),
            extension(
                51,
                &[&[0x00, 0x1d][..], &vec_with_len(2, &[9; 32])].concat(),
            ),
            alpn(&[b"h2"]),
        ];
        let body = server_hello([0x22; 32], &extensions);
        let hello = parse_server_hello(&body).unwrap();
        assert_eq!(hello.cipher_suite, CipherSuite::TLS_AES_128_GCM_SHA256);
        assert_eq!(hello.negotiated_version(), ProtocolVersion::TLS13);
        assert_eq!(hello.key_share_group, Some(NamedGroup::X25519));
        assert_eq!(hello.alpn.as_deref(), Some(&b"h2"[..]));
        assert!(!hello.is_hello_retry_request);
        assert!(!hello.truncated);
    }

    #[test]
    fn server_hello_legacy_version_fallback() {
        let body = server_hello([0x22; 32], &[]);
        let hello = parse_server_hello(&body).unwrap();
        assert_eq!(hello.selected_version, None);
        assert_eq!(hello.negotiated_version(), ProtocolVersion::TLS12);
    }

    #[test]
    fn server_hello_detects_retry_request() {
        let extensions = [extension(43, &[0x03, 0x04]), extension(51, &[0x11, 0xec])];
        let body = server_hello(HELLO_RETRY_REQUEST_RANDOM, &extensions);
        let hello = parse_server_hello(&body).unwrap();
        assert!(hello.is_hello_retry_request);
        assert_eq!(hello.key_share_group, Some(NamedGroup::X25519_MLKEM768));
        assert_eq!(hello.downgrade_sentinel(), None);
    }

    #[test]
    fn server_hello_tls12_sentinel() {
        let mut random = [0x33; 32];
        random[24..].copy_from_slice(b"DOWNGRD\x01");
        let body = server_hello(random, &[]);
        let hello = parse_server_hello(&body).unwrap();
        assert_eq!(hello.downgrade_sentinel(), Some(DowngradeSentinel::Tls12));
    }

    #[test]
    fn server_hello_tls11_sentinel() {
        let mut random = [0x33; 32];
        random[24..].copy_from_slice(b"DOWNGRD\x00");
        let body = server_hello(random, &[]);
        let hello = parse_server_hello(&body).unwrap();
        assert_eq!(
            hello.downgrade_sentinel(),
            Some(DowngradeSentinel::Tls11OrBelow)
        );
    }

    #[test]
    fn server_hello_no_sentinel() {
        let body = server_hello([0x33; 32], &[]);
        let hello = parse_server_hello(&body).unwrap();
        assert_eq!(hello.downgrade_sentinel(), None);
    }

    #[test]
    fn server_hello_without_extensions_block() {
        let body = server_hello([0x22; 32], &[]);
        let hello = parse_server_hello(&body[..body.len() - 2]).unwrap();
        assert!(hello.extensions.is_empty());
        assert!(!hello.truncated);
    }

    #[test]
    fn server_hello_two_alpn_flagged() {
        let body = server_hello([0x22; 32], &[alpn(&[b"h2", b"h3"])]);
        let hello = parse_server_hello(&body).unwrap();
        assert!(hello.truncated);
    }

    #[test]
    fn server_hello_missing_suite_error() {
        let body = server_hello([0x22; 32], &[]);
        let err = parse_server_hello(&body[..36]).unwrap_err();
        assert!(matches!(
            err,
            HandshakeError::Truncated {
                field: "cipher_suite",
                offset: 35,
                ..
            }
        ));
    }

    #[test]
    fn server_hello_early_draft_layout() {
        let mut body = vec![0x7f, 0x12];
        body.extend([0x22; 32]);
        body.extend([0x13, 0x01]);
        body.extend(vec_with_len(2, &extension(40, &[0x00, 0x1d, 0x00, 0x00])));
        let hello = parse_server_hello(&body).unwrap();
        assert_eq!(hello.cipher_suite, CipherSuite::TLS_AES_128_GCM_SHA256);
        assert_eq!(
            hello.extensions.first().map(|e| e.kind),
            Some(ExtensionType(40))
        );
        assert!(hello.session_id.is_empty());
        assert!(!hello.truncated);
    }

    #[test]
    fn server_hello_every_prefix_no_panic() {
        let body = server_hello([0x22; 32], &[extension(43, &[0x03, 0x04]), alpn(&[b"h2"])]);
        for end in 0..=body.len() {
            let _ = parse_server_hello(&body[..end]);
        }
    }

    fn certificate_body(certificates: &[&[u8]]) -> Vec<u8> {
        let list: Vec<u8> = certificates
            .iter()
            .flat_map(|c| vec_with_len(3, c))
            .collect();
        vec_with_len(3, &list)
    }

    #[test]
    fn certificate_list_leaf_first() {
        let body = certificate_body(&[b"leaf", b"intermediate"]);
        let list = parse_certificate_list(&body).unwrap();
        assert_eq!(list, vec![&b"leaf"[..], &b"intermediate"[..]]);
    }

    #[test]
    fn certificate_list_empty_is_ok() {
        let body = certificate_body(&[]);
        let list = parse_certificate_list(&body).unwrap();
        assert!(list.is_empty());
    }

    #[test]
    fn certificate_list_cut_body_error() {
        let body = certificate_body(&[b"leaf"]);
        let err = parse_certificate_list(&body[..body.len() - 1]).unwrap_err();
        assert!(matches!(
            err,
            HandshakeError::Truncated {
                field: "certificate_list",
                ..
            }
        ));
    }

    #[test]
    fn certificate_list_entry_overrun_error() {
        let mut body = certificate_body(&[b"leaf"]);
        body[5] = 9;
        let err = parse_certificate_list(&body).unwrap_err();
        assert!(matches!(
            err,
            HandshakeError::Invalid {
                field: "certificate entry",
                offset: 3,
                ..
            }
        ));
    }

    #[test]
    fn certificate_list_trailing_bytes_error() {
        let mut body = certificate_body(&[b"leaf"]);
        body.push(0);
        let err = parse_certificate_list(&body).unwrap_err();
        assert!(matches!(
            err,
            HandshakeError::Invalid {
                field: "certificate_list",
                ..
            }
        ));
    }

    #[test]
    fn certificate_list_tls13_entries() {
        let entry = |der: &[u8]| [vec_with_len(3, der), vec_with_len(2, &[])].concat();
        let list = [entry(b"leaf"), entry(b"ca")].concat();
        let body = [vec_with_len(1, &[]), vec_with_len(3, &list)].concat();
        let certificates = parse_certificate_list_tls13(&body).unwrap();
        assert_eq!(certificates, vec![&b"leaf"[..], &b"ca"[..]]);
    }
}
