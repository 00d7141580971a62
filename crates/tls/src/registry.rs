//! Protocol numbers with their IANA names.
//!
//! Every type here is a transparent newtype over the wire value, so a value
//! the registry does not list survives parsing unchanged and prints as hex.
//! Names follow the spelling of the IANA "Transport Layer Security (TLS)
//! Parameters" registries; the cipher-suite table comes from `tls-parser`,
//! which generates it from the same registry.

use std::borrow::Cow;
use std::fmt;
use std::ops::{BitOr, BitOrAssign};
use std::sync::OnceLock;

use tls_parser::{TlsCipherAu, TlsCipherEnc, TlsCipherEncMode, TlsCipherKx, TlsCipherMac};

/// True for the sixteen GREASE code points 0x0a0a, 0x1a1a, ... 0xfafa.
///
/// RFC 8701 section 2 reserves them so that clients can check that servers
/// ignore unknown values; they carry no meaning and fingerprints drop them.
pub const fn is_grease(value: u16) -> bool {
    value & 0x0f0f == 0x0a0a && value >> 8 == value & 0xff
}

fn hex_u8(value: u8) -> Cow<'static, str> {
    Cow::Owned(format!("0x{value:02x}"))
}

fn grease_or_hex_u16(value: u16) -> Cow<'static, str> {
    if is_grease(value) {
        return Cow::Borrowed("GREASE");
    }
    Cow::Owned(format!("0x{value:04x}"))
}

/// Declares a newtype over a wire integer with named constants, `as_str`,
/// `name` (falling back to `$fallback` for unlisted values) and `Display`.
macro_rules! registry {
    (
        $(#[$meta:meta])*
        $ty:ident($int:ty), fallback = $fallback:path;
        $($konst:ident = $val:literal => $text:literal,)*
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $ty(pub $int);

        impl $ty {
            $(
                #[doc = concat!("`", $text, "` (", stringify!($val), ").")]
                pub const $konst: Self = Self($val);
            )*

            /// Returns the registered name, or `None` for a value this table does not list.
            pub const fn as_str(self) -> Option<&'static str> {
                match self.0 {
                    $($val => Some($text),)*
                    _ => None,
                }
            }

            /// Returns the registered name, else a fallback spelling of the raw value.
            pub fn name(self) -> Cow<'static, str> {
                match self.as_str() {
                    Some(text) => Cow::Borrowed(text),
                    None => $fallback(self.0),
                }
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.name())
            }
        }
    };
}

registry! {
    /// A protocol version as carried in records, hellos and `supported_versions`.
    ///
    /// SSL 2.0 carries 0x0002 in its CLIENT-HELLO; TLS 1.3 drafts used
    /// 0x7fNN (N = draft number) and Facebook's experimental stacks 0xfbNN.
    ProtocolVersion(u16), fallback = version_fallback;
    SSL2 = 0x0002 => "SSL 2.0",
    SSL3 = 0x0300 => "SSL 3.0",
    TLS10 = 0x0301 => "TLS 1.0",
    TLS11 = 0x0302 => "TLS 1.1",
    TLS12 = 0x0303 => "TLS 1.2",
    TLS13 = 0x0304 => "TLS 1.3",
    DTLS10 = 0xfeff => "DTLS 1.0",
    DTLS12 = 0xfefd => "DTLS 1.2",
    DTLS13 = 0xfefc => "DTLS 1.3",
}

fn version_fallback(value: u16) -> Cow<'static, str> {
    match value {
        0x7f00..=0x7fff => Cow::Owned(format!("TLS 1.3 (draft {})", value & 0xff)),
        // Facebook's stacks numbered their TLS 1.3 variants after the IETF
        // draft they followed: 0xfb1a is based on draft 26.
        0xfb00..=0xfbff => Cow::Owned(format!("TLS 1.3 (Facebook draft {})", value & 0xff)),
        _ => grease_or_hex_u16(value),
    }
}

impl ProtocolVersion {
    /// True for a GREASE value (RFC 8701).
    pub const fn is_grease(self) -> bool {
        is_grease(self.0)
    }

    /// True for a pre-standard TLS 1.3 version: an IETF draft or Facebook's.
    pub const fn is_tls13_draft(self) -> bool {
        matches!(self.0, 0x7f00..=0x7fff | 0xfb00..=0xfbff)
    }

    /// Returns a key that orders versions by protocol strength.
    ///
    /// The key is the wire value of the TLS version with the same features.
    /// SSL 2.0 ranks 0x0200 and SSL 3.0 to TLS 1.3 rank as their own value.
    /// TLS 1.3 drafts and DTLS 1.3 rank as TLS 1.3 (0x0304), DTLS 1.2 as
    /// TLS 1.2, and DTLS 1.0 as TLS 1.1 (RFC 6347 section 1).
    /// GREASE and unknown values rank 0.
    pub const fn rank(self) -> u16 {
        match self.0 {
            0x0002 => 0x0200,
            0x0300..=0x0304 => self.0,
            0xfeff => 0x0302,
            0xfefd => 0x0303,
            0xfefc => 0x0304,
            _ if self.is_tls13_draft() => 0x0304,
            _ => 0,
        }
    }

    /// True for TLS 1.3, its drafts and DTLS 1.3.
    pub const fn is_tls13_family(self) -> bool {
        self.rank() == 0x0304
    }
}

/// A set of reasons why a cipher suite is weak.
///
/// `Display` joins the names with commas in the order of [`WeakClasses::ALL`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WeakClasses(u16);

impl WeakClasses {
    /// No weakness known.
    pub const NONE: Self = Self(0);
    /// No encryption at all.
    pub const NULL: Self = Self(1);
    /// Export-grade key sizes (40 or 56 bit secrets, 512-bit RSA).
    pub const EXPORT: Self = Self(1 << 1);
    /// Anonymous key exchange: the server is not authenticated.
    pub const ANON: Self = Self(1 << 2);
    /// RC4 stream cipher (prohibited by RFC 7465).
    pub const RC4: Self = Self(1 << 3);
    /// Single DES (56-bit key).
    pub const DES: Self = Self(1 << 4);
    /// Triple DES (64-bit block, Sweet32).
    pub const TRIPLE_DES: Self = Self(1 << 5);
    /// RC2 block cipher.
    pub const RC2: Self = Self(1 << 6);
    /// IDEA block cipher (64-bit block).
    pub const IDEA: Self = Self(1 << 7);
    /// HMAC-MD5 record MAC (or MD5 in SSL 2.0).
    pub const MD5: Self = Self(1 << 8);

    /// Every class with its short name, in display order.
    pub const ALL: [(Self, &'static str); 9] = [
        (Self::NULL, "null"),
        (Self::EXPORT, "export"),
        (Self::ANON, "anon"),
        (Self::RC4, "rc4"),
        (Self::DES, "des"),
        (Self::TRIPLE_DES, "3des"),
        (Self::RC2, "rc2"),
        (Self::IDEA, "idea"),
        (Self::MD5, "md5"),
    ];

    /// Returns the raw bit pattern.
    pub const fn bits(self) -> u16 {
        self.0
    }

    /// True when no class is set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// True when every class in `other` is also in `self`.
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// Returns the classes in either set.
    pub const fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// Returns the classes in `self` that are not in `other`.
    pub const fn difference(self, other: Self) -> Self {
        Self(self.0 & !other.0)
    }

    /// Returns the short names of the classes in this set, in display order.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        Self::ALL
            .into_iter()
            .filter(move |(class, _)| self.contains(*class))
            .map(|(_, name)| name)
    }
}

impl BitOr for WeakClasses {
    type Output = Self;

    fn bitor(self, rhs: Self) -> Self {
        self.union(rhs)
    }
}

impl BitOrAssign for WeakClasses {
    fn bitor_assign(&mut self, rhs: Self) {
        *self = self.union(rhs);
    }
}

impl fmt::Display for WeakClasses {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, name) in self.names().enumerate() {
            if index > 0 {
                f.write_str(",")?;
            }
            f.write_str(name)?;
        }
        Ok(())
    }
}

/// A TLS cipher suite (IANA "TLS Cipher Suites" registry).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CipherSuite(pub u16);

impl CipherSuite {
    /// `TLS_NULL_WITH_NULL_NULL`: the initial state, never negotiable.
    pub const TLS_NULL_WITH_NULL_NULL: Self = Self(0x0000);
    /// `TLS_RSA_WITH_RC4_128_MD5`.
    pub const TLS_RSA_WITH_RC4_128_MD5: Self = Self(0x0004);
    /// `TLS_RSA_WITH_3DES_EDE_CBC_SHA`.
    pub const TLS_RSA_WITH_3DES_EDE_CBC_SHA: Self = Self(0x000a);
    /// `TLS_RSA_WITH_AES_128_CBC_SHA`.
    pub const TLS_RSA_WITH_AES_128_CBC_SHA: Self = Self(0x002f);
    /// `TLS_EMPTY_RENEGOTIATION_INFO_SCSV`: signals RFC 5746 support.
    pub const TLS_EMPTY_RENEGOTIATION_INFO_SCSV: Self = Self(0x00ff);
    /// `TLS_AES_128_GCM_SHA256` (TLS 1.3).
    pub const TLS_AES_128_GCM_SHA256: Self = Self(0x1301);
    /// `TLS_AES_256_GCM_SHA384` (TLS 1.3).
    pub const TLS_AES_256_GCM_SHA384: Self = Self(0x1302);
    /// `TLS_CHACHA20_POLY1305_SHA256` (TLS 1.3).
    pub const TLS_CHACHA20_POLY1305_SHA256: Self = Self(0x1303);
    /// `TLS_FALLBACK_SCSV`: the client is retrying with a lower version (RFC 7507).
    pub const TLS_FALLBACK_SCSV: Self = Self(0x5600);
    /// `TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA`.
    pub const TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: Self = Self(0xc013);
    /// `TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256`.
    pub const TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: Self = Self(0xc02b);
    /// `TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256`.
    pub const TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: Self = Self(0xc02f);
    /// `TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256`.
    pub const TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: Self = Self(0xcca8);

    fn info(self) -> Option<&'static tls_parser::TlsCipherSuite> {
        SuiteIndex::get().facts(self.0).map(|facts| facts.info)
    }

    /// Returns the IANA name, `GREASE`, or `0x1234` style hex for an unlisted value.
    pub fn name(self) -> Cow<'static, str> {
        match self.info() {
            Some(info) => Cow::Borrowed(info.name),
            None => grease_or_hex_u16(self.0),
        }
    }

    /// Looks up a suite by its IANA name, as Apple's boringssl logs it
    /// (`TLS_AES_256_GCM_SHA384`). Names are matched exactly.
    pub fn from_name(name: &str) -> Option<CipherSuite> {
        SuiteIndex::get()
            .facts
            .iter()
            .find(|facts| facts.info.name == name)
            .map(|facts| CipherSuite(facts.info.id.0))
    }

    /// True for a GREASE value (RFC 8701).
    pub const fn is_grease(self) -> bool {
        is_grease(self.0)
    }

    /// True for the two signalling values that name no algorithm:
    /// the renegotiation SCSV (RFC 5746) and the fallback SCSV (RFC 7507).
    pub const fn is_signalling(self) -> bool {
        matches!(self.0, 0x00ff | 0x5600)
    }

    /// Returns why this suite is weak: empty for strong, unknown or signalling values.
    pub fn weakness(self) -> WeakClasses {
        SuiteIndex::get()
            .facts(self.0)
            .map_or(WeakClasses::NONE, |facts| facts.weakness)
    }

    /// Derives [`CipherSuite::weakness`] from the suite's table entry.
    fn classify_weakness(self, info: &tls_parser::TlsCipherSuite) -> WeakClasses {
        if self.is_signalling() {
            return WeakClasses::NONE;
        }
        let mut weak = encryption_weakness(info.enc);
        // The table has no export column, but every export suite has EXPORT in its name.
        if info.name.contains("EXPORT") {
            weak |= WeakClasses::EXPORT;
        }
        if info.au == TlsCipherAu::Null && info.kx != TlsCipherKx::Tls13 {
            weak |= WeakClasses::ANON;
        }
        if info.mac == TlsCipherMac::HmacMd5 {
            weak |= WeakClasses::MD5;
        }
        weak
    }

    /// True when [`CipherSuite::weakness`] is not empty.
    pub fn is_weak(self) -> bool {
        !self.weakness().is_empty()
    }

    /// True for a forward-secret AEAD suite: AES-GCM, AES-CCM or
    /// ChaCha20-Poly1305 with ECDHE or DHE key exchange, or a TLS 1.3 suite
    /// that encrypts (the RFC 9150 integrity-only suites do not count).
    pub fn is_strong(self) -> bool {
        SuiteIndex::get()
            .facts(self.0)
            .is_some_and(|facts| facts.strong)
    }

    /// Derives [`CipherSuite::is_strong`] from the suite's table entry.
    fn classify_strength(self, info: &tls_parser::TlsCipherSuite) -> bool {
        if info.kx == TlsCipherKx::Tls13 {
            return self.classify_weakness(info).is_empty();
        }
        let aead = match info.enc {
            TlsCipherEnc::Aes => {
                matches!(info.enc_mode, TlsCipherEncMode::Gcm | TlsCipherEncMode::Ccm)
            }
            TlsCipherEnc::Chacha20_Poly1305 => true,
            _ => false,
        };
        aead && matches!(info.kx, TlsCipherKx::Ecdhe | TlsCipherKx::Dhe)
    }
}

/// The facts [`CipherSuite`] reports about one registered suite, derived
/// once from its entry in the `tls-parser` table.
#[derive(Debug, Clone, Copy)]
struct SuiteFacts {
    info: &'static tls_parser::TlsCipherSuite,
    weakness: WeakClasses,
    strong: bool,
}

/// The `tls-parser` cipher-suite table, indexed by the two bytes of the value.
///
/// The table itself is a perfect-hash map keyed through SipHash. A
/// ClientHello offers dozens of suites and each is looked up several
/// times, so the index replaces the hash with two array reads. Registered
/// values share a handful of high bytes (0x00, 0x13, 0xc0, 0xcc, ...),
/// so there are only a few pages of 256 entries.
#[derive(Debug)]
struct SuiteIndex {
    /// For each high byte, 1 + the index of its page in `pages`, or 0.
    page_of: [u8; 256],
    /// For each low byte, 1 + the index of the suite in `facts`, or 0.
    pages: Vec<[u16; 256]>,
    facts: Vec<SuiteFacts>,
}

impl SuiteIndex {
    /// Returns the index, building it on first use.
    fn get() -> &'static Self {
        static INDEX: OnceLock<SuiteIndex> = OnceLock::new();
        INDEX.get_or_init(Self::build)
    }

    fn build() -> Self {
        let mut index = Self {
            page_of: [0; 256],
            pages: Vec::new(),
            facts: Vec::new(),
        };
        for (&value, info) in tls_parser::CIPHERS.entries() {
            let suite = CipherSuite(value);
            let facts = SuiteFacts {
                info,
                weakness: suite.classify_weakness(info),
                strong: suite.classify_strength(info),
            };
            index.insert(value, facts);
        }
        index
    }

    /// Adds one suite. The table has a few hundred entries in a few pages,
    /// far below the `u16` and `u8` limits of the slot numbers, so a slot
    /// that would overflow is left empty rather than wrapped.
    fn insert(&mut self, value: u16, facts: SuiteFacts) {
        let [high, low] = value.to_be_bytes();
        let Some(slot) = self.page_of.get_mut(usize::from(high)) else {
            return;
        };
        if *slot == 0 {
            let Ok(number) = u8::try_from(self.pages.len().saturating_add(1)) else {
                return;
            };
            self.pages.push([0; 256]);
            *slot = number;
        }
        let page_index = usize::from(*slot).saturating_sub(1);
        let Ok(number) = u16::try_from(self.facts.len().saturating_add(1)) else {
            return;
        };
        if let Some(entry) = self
            .pages
            .get_mut(page_index)
            .and_then(|page| page.get_mut(usize::from(low)))
        {
            *entry = number;
            self.facts.push(facts);
        }
    }

    /// Returns the facts of a registered value.
    fn facts(&self, value: u16) -> Option<&SuiteFacts> {
        let [high, low] = value.to_be_bytes();
        let page = usize::from(*self.page_of.get(usize::from(high))?).checked_sub(1)?;
        let slot = *self.pages.get(page)?.get(usize::from(low))?;
        self.facts.get(usize::from(slot).checked_sub(1)?)
    }
}

fn encryption_weakness(enc: TlsCipherEnc) -> WeakClasses {
    match enc {
        TlsCipherEnc::Null => WeakClasses::NULL,
        TlsCipherEnc::Rc4 => WeakClasses::RC4,
        TlsCipherEnc::Des => WeakClasses::DES,
        TlsCipherEnc::TripleDes => WeakClasses::TRIPLE_DES,
        TlsCipherEnc::Rc2 => WeakClasses::RC2,
        TlsCipherEnc::Idea => WeakClasses::IDEA,
        _ => WeakClasses::NONE,
    }
}

impl fmt::Display for CipherSuite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// An SSL 2.0 cipher kind: a 3-byte value (RFC 6101 appendix E; the SSL 2.0
/// draft, section "Cipher kinds").
///
/// In an SSL 2.0-format CLIENT-HELLO a value whose first byte is zero names
/// the TLS suite in its low two bytes (RFC 5246 appendix E.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Sslv2Cipher(pub u32);

impl Sslv2Cipher {
    /// `SSL_CK_RC4_128_WITH_MD5`.
    pub const RC4_128_WITH_MD5: Self = Self(0x01_0080);
    /// `SSL_CK_RC4_128_EXPORT40_WITH_MD5`.
    pub const RC4_128_EXPORT40_WITH_MD5: Self = Self(0x02_0080);
    /// `SSL_CK_RC2_128_CBC_WITH_MD5`.
    pub const RC2_128_CBC_WITH_MD5: Self = Self(0x03_0080);
    /// `SSL_CK_RC2_128_CBC_EXPORT40_WITH_MD5`.
    pub const RC2_128_CBC_EXPORT40_WITH_MD5: Self = Self(0x04_0080);
    /// `SSL_CK_IDEA_128_CBC_WITH_MD5`.
    pub const IDEA_128_CBC_WITH_MD5: Self = Self(0x05_0080);
    /// `SSL_CK_DES_64_CBC_WITH_MD5`.
    pub const DES_64_CBC_WITH_MD5: Self = Self(0x06_0040);
    /// `SSL_CK_DES_192_EDE3_CBC_WITH_MD5`.
    pub const DES_192_EDE3_CBC_WITH_MD5: Self = Self(0x07_00c0);
    /// `SSL_CK_RC4_64_WITH_MD5` (Netscape extension, 64-bit RC4 key).
    pub const RC4_64_WITH_MD5: Self = Self(0x08_0080);

    /// Name, class bits (cipher and export) of each SSL 2.0 kind.
    const TABLE: [(Self, &'static str, WeakClasses); 8] = [
        (
            Self::RC4_128_WITH_MD5,
            "SSL_CK_RC4_128_WITH_MD5",
            WeakClasses::RC4,
        ),
        (
            Self::RC4_128_EXPORT40_WITH_MD5,
            "SSL_CK_RC4_128_EXPORT40_WITH_MD5",
            WeakClasses::RC4.union(WeakClasses::EXPORT),
        ),
        (
            Self::RC2_128_CBC_WITH_MD5,
            "SSL_CK_RC2_128_CBC_WITH_MD5",
            WeakClasses::RC2,
        ),
        (
            Self::RC2_128_CBC_EXPORT40_WITH_MD5,
            "SSL_CK_RC2_128_CBC_EXPORT40_WITH_MD5",
            WeakClasses::RC2.union(WeakClasses::EXPORT),
        ),
        (
            Self::IDEA_128_CBC_WITH_MD5,
            "SSL_CK_IDEA_128_CBC_WITH_MD5",
            WeakClasses::IDEA,
        ),
        (
            Self::DES_64_CBC_WITH_MD5,
            "SSL_CK_DES_64_CBC_WITH_MD5",
            WeakClasses::DES,
        ),
        (
            Self::DES_192_EDE3_CBC_WITH_MD5,
            "SSL_CK_DES_192_EDE3_CBC_WITH_MD5",
            WeakClasses::TRIPLE_DES,
        ),
        (
            Self::RC4_64_WITH_MD5,
            "SSL_CK_RC4_64_WITH_MD5",
            WeakClasses::RC4,
        ),
    ];

    fn entry(self) -> Option<&'static (Self, &'static str, WeakClasses)> {
        Self::TABLE.iter().find(|(kind, _, _)| *kind == self)
    }

    /// Returns the TLS suite this value carries, when its first byte is zero.
    pub fn as_tls_suite(self) -> Option<CipherSuite> {
        u16::try_from(self.0).ok().map(CipherSuite)
    }

    /// Returns the SSL 2.0 name, the TLS suite name for a TLS value, else `0x010080` style hex.
    pub fn name(self) -> Cow<'static, str> {
        if let Some((_, name, _)) = self.entry() {
            return Cow::Borrowed(name);
        }
        match self.as_tls_suite() {
            Some(suite) => suite.name(),
            None => Cow::Owned(format!("0x{:06x}", self.0)),
        }
    }

    /// Returns the weak classes: MD5 plus the cipher class (and export) for an
    /// SSL 2.0 kind, the suite's classes for a TLS value, none for unknown kinds.
    pub fn weakness(self) -> WeakClasses {
        if let Some((_, _, classes)) = self.entry() {
            return classes.union(WeakClasses::MD5);
        }
        match self.as_tls_suite() {
            Some(suite) => suite.weakness(),
            None => WeakClasses::NONE,
        }
    }
}

impl fmt::Display for Sslv2Cipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

registry! {
    /// The level byte of an alert (RFC 8446 section 6).
    AlertLevel(u8), fallback = hex_u8;
    WARNING = 1 => "warning",
    FATAL = 2 => "fatal",
}

registry! {
    /// The description byte of an alert (IANA "TLS Alerts" registry).
    AlertDescription(u8), fallback = hex_u8;
    CLOSE_NOTIFY = 0 => "close_notify",
    UNEXPECTED_MESSAGE = 10 => "unexpected_message",
    BAD_RECORD_MAC = 20 => "bad_record_mac",
    DECRYPTION_FAILED = 21 => "decryption_failed",
    RECORD_OVERFLOW = 22 => "record_overflow",
    DECOMPRESSION_FAILURE = 30 => "decompression_failure",
    HANDSHAKE_FAILURE = 40 => "handshake_failure",
    NO_CERTIFICATE = 41 => "no_certificate",
    BAD_CERTIFICATE = 42 => "bad_certificate",
    UNSUPPORTED_CERTIFICATE = 43 => "unsupported_certificate",
    CERTIFICATE_REVOKED = 44 => "certificate_revoked",
    CERTIFICATE_EXPIRED = 45 => "certificate_expired",
    CERTIFICATE_UNKNOWN = 46 => "certificate_unknown",
    ILLEGAL_PARAMETER = 47 => "illegal_parameter",
    UNKNOWN_CA = 48 => "unknown_ca",
    ACCESS_DENIED = 49 => "access_denied",
    DECODE_ERROR = 50 => "decode_error",
    DECRYPT_ERROR = 51 => "decrypt_error",
    TOO_MANY_CIDS_REQUESTED = 52 => "too_many_cids_requested",
    EXPORT_RESTRICTION = 60 => "export_restriction",
    PROTOCOL_VERSION = 70 => "protocol_version",
    INSUFFICIENT_SECURITY = 71 => "insufficient_security",
    INTERNAL_ERROR = 80 => "internal_error",
    INAPPROPRIATE_FALLBACK = 86 => "inappropriate_fallback",
    USER_CANCELED = 90 => "user_canceled",
    NO_RENEGOTIATION = 100 => "no_renegotiation",
    MISSING_EXTENSION = 109 => "missing_extension",
    UNSUPPORTED_EXTENSION = 110 => "unsupported_extension",
    CERTIFICATE_UNOBTAINABLE = 111 => "certificate_unobtainable",
    UNRECOGNIZED_NAME = 112 => "unrecognized_name",
    BAD_CERTIFICATE_STATUS_RESPONSE = 113 => "bad_certificate_status_response",
    BAD_CERTIFICATE_HASH_VALUE = 114 => "bad_certificate_hash_value",
    UNKNOWN_PSK_IDENTITY = 115 => "unknown_psk_identity",
    CERTIFICATE_REQUIRED = 116 => "certificate_required",
    GENERAL_ERROR = 117 => "general_error",
    NO_APPLICATION_PROTOCOL = 120 => "no_application_protocol",
    ECH_REQUIRED = 121 => "ech_required",
}

registry! {
    /// The content type of a TLS record (IANA "TLS ContentType" registry).
    ContentType(u8), fallback = hex_u8;
    CHANGE_CIPHER_SPEC = 20 => "change_cipher_spec",
    ALERT = 21 => "alert",
    HANDSHAKE = 22 => "handshake",
    APPLICATION_DATA = 23 => "application_data",
    HEARTBEAT = 24 => "heartbeat",
    TLS12_CID = 25 => "tls12_cid",
    ACK = 26 => "ack",
    RETURN_ROUTABILITY_CHECK = 27 => "return_routability_check",
}

registry! {
    /// The type byte of a handshake message (IANA "TLS HandshakeType" registry).
    HandshakeType(u8), fallback = hex_u8;
    HELLO_REQUEST = 0 => "hello_request",
    CLIENT_HELLO = 1 => "client_hello",
    SERVER_HELLO = 2 => "server_hello",
    HELLO_VERIFY_REQUEST = 3 => "hello_verify_request",
    NEW_SESSION_TICKET = 4 => "new_session_ticket",
    END_OF_EARLY_DATA = 5 => "end_of_early_data",
    HELLO_RETRY_REQUEST = 6 => "hello_retry_request",
    ENCRYPTED_EXTENSIONS = 8 => "encrypted_extensions",
    REQUEST_CONNECTION_ID = 9 => "request_connection_id",
    NEW_CONNECTION_ID = 10 => "new_connection_id",
    CERTIFICATE = 11 => "certificate",
    SERVER_KEY_EXCHANGE = 12 => "server_key_exchange",
    CERTIFICATE_REQUEST = 13 => "certificate_request",
    SERVER_HELLO_DONE = 14 => "server_hello_done",
    CERTIFICATE_VERIFY = 15 => "certificate_verify",
    CLIENT_KEY_EXCHANGE = 16 => "client_key_exchange",
    CLIENT_CERTIFICATE_REQUEST = 17 => "client_certificate_request",
    FINISHED = 20 => "finished",
    CERTIFICATE_URL = 21 => "certificate_url",
    CERTIFICATE_STATUS = 22 => "certificate_status",
    SUPPLEMENTAL_DATA = 23 => "supplemental_data",
    KEY_UPDATE = 24 => "key_update",
    COMPRESSED_CERTIFICATE = 25 => "compressed_certificate",
    EKT_KEY = 26 => "ekt_key",
    MESSAGE_HASH = 254 => "message_hash",
}

registry! {
    /// A hello extension type (IANA "TLS ExtensionType Values" registry, plus
    /// a few unregistered code points that browsers send).
    ExtensionType(u16), fallback = grease_or_hex_u16;
    SERVER_NAME = 0 => "server_name",
    MAX_FRAGMENT_LENGTH = 1 => "max_fragment_length",
    CLIENT_CERTIFICATE_URL = 2 => "client_certificate_url",
    TRUSTED_CA_KEYS = 3 => "trusted_ca_keys",
    TRUNCATED_HMAC = 4 => "truncated_hmac",
    STATUS_REQUEST = 5 => "status_request",
    USER_MAPPING = 6 => "user_mapping",
    CLIENT_AUTHZ = 7 => "client_authz",
    SERVER_AUTHZ = 8 => "server_authz",
    CERT_TYPE = 9 => "cert_type",
    SUPPORTED_GROUPS = 10 => "supported_groups",
    EC_POINT_FORMATS = 11 => "ec_point_formats",
    SRP = 12 => "srp",
    SIGNATURE_ALGORITHMS = 13 => "signature_algorithms",
    USE_SRTP = 14 => "use_srtp",
    HEARTBEAT = 15 => "heartbeat",
    APPLICATION_LAYER_PROTOCOL_NEGOTIATION = 16 => "application_layer_protocol_negotiation",
    STATUS_REQUEST_V2 = 17 => "status_request_v2",
    SIGNED_CERTIFICATE_TIMESTAMP = 18 => "signed_certificate_timestamp",
    CLIENT_CERTIFICATE_TYPE = 19 => "client_certificate_type",
    SERVER_CERTIFICATE_TYPE = 20 => "server_certificate_type",
    PADDING = 21 => "padding",
    ENCRYPT_THEN_MAC = 22 => "encrypt_then_mac",
    EXTENDED_MASTER_SECRET = 23 => "extended_master_secret",
    TOKEN_BINDING = 24 => "token_binding",
    CACHED_INFO = 25 => "cached_info",
    TLS_LTS = 26 => "tls_lts",
    COMPRESS_CERTIFICATE = 27 => "compress_certificate",
    RECORD_SIZE_LIMIT = 28 => "record_size_limit",
    PWD_PROTECT = 29 => "pwd_protect",
    PWD_CLEAR = 30 => "pwd_clear",
    PASSWORD_SALT = 31 => "password_salt",
    TICKET_PINNING = 32 => "ticket_pinning",
    TLS_CERT_WITH_EXTERN_PSK = 33 => "tls_cert_with_extern_psk",
    DELEGATED_CREDENTIAL = 34 => "delegated_credential",
    SESSION_TICKET = 35 => "session_ticket",
    TLMSP = 36 => "TLMSP",
    TLMSP_PROXYING = 37 => "TLMSP_proxying",
    TLMSP_DELEGATE = 38 => "TLMSP_delegate",
    SUPPORTED_EKT_CIPHERS = 39 => "supported_ekt_ciphers",
    KEY_SHARE_DRAFT = 40 => "key_share (TLS 1.3 draft)",
    PRE_SHARED_KEY = 41 => "pre_shared_key",
    EARLY_DATA = 42 => "early_data",
    SUPPORTED_VERSIONS = 43 => "supported_versions",
    COOKIE = 44 => "cookie",
    PSK_KEY_EXCHANGE_MODES = 45 => "psk_key_exchange_modes",
    CERTIFICATE_AUTHORITIES = 47 => "certificate_authorities",
    OID_FILTERS = 48 => "oid_filters",
    POST_HANDSHAKE_AUTH = 49 => "post_handshake_auth",
    SIGNATURE_ALGORITHMS_CERT = 50 => "signature_algorithms_cert",
    KEY_SHARE = 51 => "key_share",
    TRANSPARENCY_INFO = 52 => "transparency_info",
    CONNECTION_ID_DEPRECATED = 53 => "connection_id_deprecated",
    CONNECTION_ID = 54 => "connection_id",
    EXTERNAL_ID_HASH = 55 => "external_id_hash",
    EXTERNAL_SESSION_ID = 56 => "external_session_id",
    QUIC_TRANSPORT_PARAMETERS = 57 => "quic_transport_parameters",
    TICKET_REQUEST = 58 => "ticket_request",
    DNSSEC_CHAIN = 59 => "dnssec_chain",
    SEQUENCE_NUMBER_ENCRYPTION_ALGORITHMS = 60 => "sequence_number_encryption_algorithms",
    RRC = 61 => "rrc",
    TLS_FLAGS = 62 => "tls_flags",
    NEXT_PROTOCOL_NEGOTIATION = 0x3374 => "next_protocol_negotiation",
    APPLICATION_SETTINGS_OLD = 0x4469 => "application_settings (old)",
    APPLICATION_SETTINGS = 0x44cd => "application_settings",
    CHANNEL_ID = 0x7550 => "channel_id",
    ECH_OUTER_EXTENSIONS = 0xfd00 => "ech_outer_extensions",
    ENCRYPTED_CLIENT_HELLO = 0xfe0d => "encrypted_client_hello",
    ENCRYPTED_SERVER_NAME = 0xffce => "encrypted_server_name",
    RENEGOTIATION_INFO = 0xff01 => "renegotiation_info",
}

impl ExtensionType {
    /// True for a GREASE value (RFC 8701).
    pub const fn is_grease(self) -> bool {
        is_grease(self.0)
    }
}

registry! {
    /// A key-exchange group (IANA "TLS Supported Groups" registry, including
    /// the obsolete Kyber768 draft hybrids).
    NamedGroup(u16), fallback = grease_or_hex_u16;
    SECT163K1 = 1 => "sect163k1",
    SECT163R1 = 2 => "sect163r1",
    SECT163R2 = 3 => "sect163r2",
    SECT193R1 = 4 => "sect193r1",
    SECT193R2 = 5 => "sect193r2",
    SECT233K1 = 6 => "sect233k1",
    SECT233R1 = 7 => "sect233r1",
    SECT239K1 = 8 => "sect239k1",
    SECT283K1 = 9 => "sect283k1",
    SECT283R1 = 10 => "sect283r1",
    SECT409K1 = 11 => "sect409k1",
    SECT409R1 = 12 => "sect409r1",
    SECT571K1 = 13 => "sect571k1",
    SECT571R1 = 14 => "sect571r1",
    SECP160K1 = 15 => "secp160k1",
    SECP160R1 = 16 => "secp160r1",
    SECP160R2 = 17 => "secp160r2",
    SECP192K1 = 18 => "secp192k1",
    SECP192R1 = 19 => "secp192r1",
    SECP224K1 = 20 => "secp224k1",
    SECP224R1 = 21 => "secp224r1",
    SECP256K1 = 22 => "secp256k1",
    SECP256R1 = 23 => "secp256r1",
    SECP384R1 = 24 => "secp384r1",
    SECP521R1 = 25 => "secp521r1",
    BRAINPOOLP256R1 = 26 => "brainpoolP256r1",
    BRAINPOOLP384R1 = 27 => "brainpoolP384r1",
    BRAINPOOLP512R1 = 28 => "brainpoolP512r1",
    X25519 = 29 => "x25519",
    X448 = 30 => "x448",
    BRAINPOOLP256R1TLS13 = 31 => "brainpoolP256r1tls13",
    BRAINPOOLP384R1TLS13 = 32 => "brainpoolP384r1tls13",
    BRAINPOOLP512R1TLS13 = 33 => "brainpoolP512r1tls13",
    GC256A = 34 => "GC256A",
    GC256B = 35 => "GC256B",
    GC256C = 36 => "GC256C",
    GC256D = 37 => "GC256D",
    GC512A = 38 => "GC512A",
    GC512B = 39 => "GC512B",
    GC512C = 40 => "GC512C",
    CURVE_SM2 = 41 => "curveSM2",
    FFDHE2048 = 256 => "ffdhe2048",
    FFDHE3072 = 257 => "ffdhe3072",
    FFDHE4096 = 258 => "ffdhe4096",
    FFDHE6144 = 259 => "ffdhe6144",
    FFDHE8192 = 260 => "ffdhe8192",
    MLKEM512 = 512 => "MLKEM512",
    MLKEM768 = 513 => "MLKEM768",
    MLKEM1024 = 514 => "MLKEM1024",
    SECP256R1_MLKEM768 = 0x11eb => "SecP256r1MLKEM768",
    X25519_MLKEM768 = 0x11ec => "X25519MLKEM768",
    SECP384R1_MLKEM1024 = 0x11ed => "SecP384r1MLKEM1024",
    X25519_KYBER768_DRAFT00 = 0x6399 => "X25519Kyber768Draft00",
    SECP256R1_KYBER768_DRAFT00 = 0x639a => "SecP256r1Kyber768Draft00",
    ARBITRARY_EXPLICIT_PRIME_CURVES = 0xff01 => "arbitrary_explicit_prime_curves",
    ARBITRARY_EXPLICIT_CHAR2_CURVES = 0xff02 => "arbitrary_explicit_char2_curves",
}

impl NamedGroup {
    /// True for a GREASE value (RFC 8701).
    pub const fn is_grease(self) -> bool {
        is_grease(self.0)
    }
}

registry! {
    /// A signature scheme (IANA "TLS SignatureScheme" registry). The TLS 1.2
    /// hash/signature pairs without a registered scheme name are spelled
    /// `<signature>_<hash>` as RFC 5246 section 7.4.1.4.1 lists them.
    SignatureScheme(u16), fallback = grease_or_hex_u16;
    RSA_MD5 = 0x0101 => "rsa_md5",
    DSA_MD5 = 0x0102 => "dsa_md5",
    ECDSA_MD5 = 0x0103 => "ecdsa_md5",
    RSA_PKCS1_SHA1 = 0x0201 => "rsa_pkcs1_sha1",
    DSA_SHA1 = 0x0202 => "dsa_sha1",
    ECDSA_SHA1 = 0x0203 => "ecdsa_sha1",
    RSA_SHA224 = 0x0301 => "rsa_sha224",
    DSA_SHA224 = 0x0302 => "dsa_sha224",
    ECDSA_SHA224 = 0x0303 => "ecdsa_sha224",
    RSA_PKCS1_SHA256 = 0x0401 => "rsa_pkcs1_sha256",
    DSA_SHA256 = 0x0402 => "dsa_sha256",
    ECDSA_SECP256R1_SHA256 = 0x0403 => "ecdsa_secp256r1_sha256",
    RSA_PKCS1_SHA384 = 0x0501 => "rsa_pkcs1_sha384",
    DSA_SHA384 = 0x0502 => "dsa_sha384",
    ECDSA_SECP384R1_SHA384 = 0x0503 => "ecdsa_secp384r1_sha384",
    RSA_PKCS1_SHA512 = 0x0601 => "rsa_pkcs1_sha512",
    DSA_SHA512 = 0x0602 => "dsa_sha512",
    ECDSA_SECP521R1_SHA512 = 0x0603 => "ecdsa_secp521r1_sha512",
    SM2SIG_SM3 = 0x0708 => "sm2sig_sm3",
    GOSTR34102012_256A = 0x0709 => "gostr34102012_256a",
    GOSTR34102012_256B = 0x070a => "gostr34102012_256b",
    GOSTR34102012_256C = 0x070b => "gostr34102012_256c",
    GOSTR34102012_256D = 0x070c => "gostr34102012_256d",
    GOSTR34102012_512A = 0x070d => "gostr34102012_512a",
    GOSTR34102012_512B = 0x070e => "gostr34102012_512b",
    GOSTR34102012_512C = 0x070f => "gostr34102012_512c",
    RSA_PSS_RSAE_SHA256 = 0x0804 => "rsa_pss_rsae_sha256",
    RSA_PSS_RSAE_SHA384 = 0x0805 => "rsa_pss_rsae_sha384",
    RSA_PSS_RSAE_SHA512 = 0x0806 => "rsa_pss_rsae_sha512",
    ED25519 = 0x0807 => "ed25519",
    ED448 = 0x0808 => "ed448",
    RSA_PSS_PSS_SHA256 = 0x0809 => "rsa_pss_pss_sha256",
    RSA_PSS_PSS_SHA384 = 0x080a => "rsa_pss_pss_sha384",
    RSA_PSS_PSS_SHA512 = 0x080b => "rsa_pss_pss_sha512",
    ECDSA_BRAINPOOLP256R1TLS13_SHA256 = 0x081a => "ecdsa_brainpoolP256r1tls13_sha256",
    ECDSA_BRAINPOOLP384R1TLS13_SHA384 = 0x081b => "ecdsa_brainpoolP384r1tls13_sha384",
    ECDSA_BRAINPOOLP512R1TLS13_SHA512 = 0x081c => "ecdsa_brainpoolP512r1tls13_sha512",
    MLDSA44 = 0x0904 => "mldsa44",
    MLDSA65 = 0x0905 => "mldsa65",
    MLDSA87 = 0x0906 => "mldsa87",
}

impl SignatureScheme {
    /// True for a GREASE value (RFC 8701).
    pub const fn is_grease(self) -> bool {
        is_grease(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suite_index_matches_table() {
        for value in 0..=u16::MAX {
            let indexed = CipherSuite(value).info().map(|info| info.name);
            let listed = tls_parser::TlsCipherSuite::from_id(value).map(|info| info.name);
            assert_eq!(indexed, listed, "value {value:#06x}");
        }
    }

    #[test]
    fn grease_all_sixteen_values() {
        let count = (0..=u16::MAX).filter(|v| is_grease(*v)).count();
        assert_eq!(count, 16);
    }

    #[test]
    fn grease_rejects_unequal_bytes() {
        assert!(!is_grease(0x0a1a));
    }

    #[test]
    fn version_names_final_releases() {
        assert_eq!(ProtocolVersion::TLS12.to_string(), "TLS 1.2");
        assert_eq!(ProtocolVersion::SSL2.to_string(), "SSL 2.0");
    }

    #[test]
    fn version_name_draft_number() {
        assert_eq!(ProtocolVersion(0x7f17).to_string(), "TLS 1.3 (draft 23)");
    }

    #[test]
    fn version_name_facebook_draft() {
        assert_eq!(
            ProtocolVersion(0xfb1a).to_string(),
            "TLS 1.3 (Facebook draft 26)"
        );
    }

    #[test]
    fn version_name_grease_and_unknown() {
        assert_eq!(ProtocolVersion(0x3a3a).to_string(), "GREASE");
        assert_eq!(ProtocolVersion(0x1234).to_string(), "0x1234");
    }

    #[test]
    fn version_rank_orders_families() {
        assert!(ProtocolVersion::SSL2.rank() < ProtocolVersion::SSL3.rank());
        assert!(ProtocolVersion::TLS12.rank() < ProtocolVersion(0x7f12).rank());
        assert_eq!(
            ProtocolVersion(0xfb1a).rank(),
            ProtocolVersion::TLS13.rank()
        );
    }

    #[test]
    fn version_rank_unknown_is_zero() {
        assert_eq!(ProtocolVersion(0x0a0a).rank(), 0);
        assert_eq!(ProtocolVersion(0x0305).rank(), 0);
    }

    #[test]
    fn version_tls13_family_members() {
        assert!(ProtocolVersion(0x7f1c).is_tls13_family());
        assert!(!ProtocolVersion::TLS12.is_tls13_family());
    }

    #[test]
    fn suite_name_from_table() {
        let name = CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256.name();
        assert_eq!(name, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
    }

    #[test]
    fn suite_name_scsv_and_grease() {
        assert_eq!(CipherSuite(0x5600).name(), "TLS_FALLBACK_SCSV");
        assert_eq!(
            CipherSuite(0x00ff).name(),
            "TLS_EMPTY_RENEGOTIATION_INFO_SCSV"
        );
        assert_eq!(CipherSuite(0xdada).name(), "GREASE");
    }

    #[test]
    fn suite_name_unknown_is_hex() {
        assert_eq!(CipherSuite(0xfefe).name(), "0xfefe");
    }

    #[test]
    fn suite_weakness_export_rc4_md5() {
        let weak = CipherSuite(0x0003).weakness();
        let expected = WeakClasses::EXPORT | WeakClasses::RC4 | WeakClasses::MD5;
        assert_eq!(weak, expected);
    }

    #[test]
    fn suite_weakness_export1024_from_name() {
        assert!(CipherSuite(0x0062).weakness().contains(WeakClasses::EXPORT));
    }

    #[test]
    fn suite_weakness_anon_and_3des() {
        let weak = CipherSuite(0x001b).weakness();
        assert_eq!(weak, WeakClasses::ANON | WeakClasses::TRIPLE_DES);
    }

    #[test]
    fn suite_weakness_null_cipher() {
        assert!(CipherSuite(0x0002).weakness().contains(WeakClasses::NULL));
    }

    #[test]
    fn suite_weakness_idea_and_rc2() {
        assert_eq!(CipherSuite(0x0007).weakness(), WeakClasses::IDEA);
        assert!(CipherSuite(0x0006).weakness().contains(WeakClasses::RC2));
    }

    #[test]
    fn suite_weakness_des_single() {
        assert_eq!(CipherSuite(0x0009).weakness(), WeakClasses::DES);
    }

    #[test]
    fn suite_signalling_not_weak() {
        assert!(!CipherSuite::TLS_FALLBACK_SCSV.is_weak());
        assert!(CipherSuite::TLS_FALLBACK_SCSV.is_signalling());
    }

    #[test]
    fn suite_strong_aead_forward_secret() {
        assert!(CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256.is_strong());
        assert!(CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256.is_strong());
        assert!(CipherSuite(0xc09e).is_strong());
    }

    #[test]
    fn suite_strong_tls13_suites() {
        assert!(CipherSuite::TLS_AES_128_GCM_SHA256.is_strong());
        assert!(!CipherSuite(0xc0b4).is_strong());
    }

    #[test]
    fn suite_not_strong_without_pfs_or_aead() {
        assert!(!CipherSuite(0x009c).is_strong());
        assert!(!CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA.is_strong());
    }

    #[test]
    fn weak_classes_difference() {
        let weak = WeakClasses::RC4 | WeakClasses::MD5;
        assert_eq!(weak.difference(WeakClasses::MD5), WeakClasses::RC4);
    }

    #[test]
    fn weak_classes_display_order() {
        let weak = WeakClasses::MD5 | WeakClasses::NULL | WeakClasses::TRIPLE_DES;
        assert_eq!(weak.to_string(), "null,3des,md5");
    }

    #[test]
    fn sslv2_cipher_names_and_classes() {
        let kind = Sslv2Cipher::DES_192_EDE3_CBC_WITH_MD5;
        assert_eq!(kind.name(), "SSL_CK_DES_192_EDE3_CBC_WITH_MD5");
        assert_eq!(kind.weakness(), WeakClasses::TRIPLE_DES | WeakClasses::MD5);
    }

    #[test]
    fn sslv2_cipher_export_kind() {
        let weak = Sslv2Cipher::RC2_128_CBC_EXPORT40_WITH_MD5.weakness();
        assert_eq!(
            weak,
            WeakClasses::RC2 | WeakClasses::EXPORT | WeakClasses::MD5
        );
    }

    #[test]
    fn sslv2_cipher_tls_value() {
        let kind = Sslv2Cipher(0x00_0004);
        assert_eq!(
            kind.as_tls_suite(),
            Some(CipherSuite::TLS_RSA_WITH_RC4_128_MD5)
        );
        assert_eq!(kind.name(), "TLS_RSA_WITH_RC4_128_MD5");
    }

    #[test]
    fn sslv2_cipher_unknown_hex() {
        assert_eq!(Sslv2Cipher(0x09_1234).to_string(), "0x091234");
    }

    #[test]
    fn alert_names_snake_case() {
        assert_eq!(AlertDescription(86).to_string(), "inappropriate_fallback");
        assert_eq!(AlertDescription(20).to_string(), "bad_record_mac");
        assert_eq!(AlertLevel::FATAL.to_string(), "fatal");
    }

    #[test]
    fn alert_unknown_is_hex() {
        assert_eq!(AlertDescription(200).to_string(), "0xc8");
    }

    #[test]
    fn group_names_post_quantum() {
        assert_eq!(NamedGroup(0x11ec).to_string(), "X25519MLKEM768");
        assert_eq!(NamedGroup(0x6399).to_string(), "X25519Kyber768Draft00");
    }

    #[test]
    fn extension_names_and_grease() {
        assert_eq!(ExtensionType(0xff01).to_string(), "renegotiation_info");
        assert_eq!(ExtensionType(0x4a4a).to_string(), "GREASE");
    }

    #[test]
    fn signature_scheme_names() {
        assert_eq!(SignatureScheme(0x0804).to_string(), "rsa_pss_rsae_sha256");
        assert_eq!(SignatureScheme(0x0807).to_string(), "ed25519");
    }

    #[test]
    fn content_and_handshake_types() {
        assert_eq!(ContentType(22).to_string(), "handshake");
        assert_eq!(HandshakeType(11).to_string(), "certificate");
    }
}
