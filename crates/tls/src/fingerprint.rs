//! JA3 and JA3S (Salesforce, BSD-3-Clause) and JA4 (FoxIO, BSD-3-Clause)
//! fingerprints of hellos.
//!
//! Only the JA4 client fingerprint is implemented. The other JA4+ methods
//! are under a different licence and are deliberately absent.

use md5::Md5;
use sha2::{Digest, Sha256};

use crate::handshake::{ClientHello, ServerHello};
use crate::registry::{ExtensionType, ProtocolVersion, is_grease};

/// A JA3 or JA3S fingerprint: the comma-separated text and its MD5.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Ja3 {
    /// The fingerprint text, e.g. `771,4865-4866,0-23-65281,29-23,0`.
    pub text: String,
    /// Lowercase hex MD5 of `text`.
    pub md5: String,
}

impl Ja3 {
    fn from_text(text: String) -> Self {
        let digest = Md5::digest(text.as_bytes());
        let mut md5 = String::with_capacity(2 * digest.len());
        for byte in digest {
            for nibble in [byte >> 4, byte & 0xf] {
                let digit = HEX_DIGITS.get(usize::from(nibble)).copied().unwrap_or(b'0');
                md5.push(char::from(digit));
            }
        }
        Self { text, md5 }
    }
}

/// Appends `value` in decimal without leading zeros.
fn push_decimal(out: &mut String, value: u16) {
    // Constant divisors compile to multiplications, and a JA3 text has a
    // hundred or more values.
    let mut started = false;
    for divisor in [10_000, 1_000, 100, 10, 1] {
        let digit = value / divisor % 10;
        started |= digit != 0 || divisor == 1;
        if started {
            out.push(char::from(b'0' + u8::try_from(digit).unwrap_or(0)));
        }
    }
}

/// Appends the non-GREASE values in decimal joined with '-', as JA3 lists them.
fn push_dash_list(out: &mut String, values: impl Iterator<Item = u16>) {
    for (index, value) in values.filter(|v| !is_grease(*v)).enumerate() {
        if index > 0 {
            out.push('-');
        }
        push_decimal(out, value);
    }
}

/// Computes JA3: `version,ciphers,extensions,groups,point_formats` with each
/// list in wire order, decimal, '-'-joined and GREASE removed.
pub fn ja3(hello: &ClientHello) -> Ja3 {
    // A value takes at most 6 bytes (5 digits and a dash). The extra 32
    // bytes cover the version and typical group and point-format lists.
    let values = hello.cipher_suites.len() + hello.extensions.len();
    let mut text = String::with_capacity(values.saturating_mul(6).saturating_add(32));
    push_decimal(&mut text, hello.legacy_version.0);
    text.push(',');
    push_dash_list(&mut text, hello.cipher_suites.iter().map(|s| s.0));
    text.push(',');
    push_dash_list(&mut text, hello.extensions.iter().map(|e| e.kind.0));
    text.push(',');
    push_dash_list(&mut text, hello.supported_groups.iter().map(|g| g.0));
    text.push(',');
    push_dash_list(
        &mut text,
        hello.ec_point_formats.iter().map(|f| u16::from(*f)),
    );
    Ja3::from_text(text)
}

/// Computes JA3S: `version,cipher,extensions` of a ServerHello, extensions
/// in wire order, decimal and '-'-joined.
pub fn ja3s(hello: &ServerHello) -> Ja3 {
    let mut text = String::with_capacity(hello.extensions.len().saturating_mul(6) + 16);
    push_decimal(&mut text, hello.legacy_version.0);
    text.push(',');
    push_decimal(&mut text, hello.cipher_suite.0);
    text.push(',');
    push_dash_list(&mut text, hello.extensions.iter().map(|e| e.kind.0));
    Ja3::from_text(text)
}

/// The transport a ClientHello travelled over, the first character of JA4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ja4Transport {
    /// TLS over TCP (`t`).
    Tcp,
    /// TLS inside QUIC CRYPTO frames (`q`).
    Quic,
    /// DTLS over UDP (`d`).
    Dtls,
}

impl Ja4Transport {
    const fn marker(self) -> char {
        match self {
            Self::Tcp => 't',
            Self::Quic => 'q',
            Self::Dtls => 'd',
        }
    }
}

/// JA4 `b` and `c` sections when their list is empty.
const EMPTY_HASH: &str = "000000000000";

/// Length of a JA4 fingerprint: a 10-character `a` section and two hashes.
const JA4_LEN: usize = 10 + 2 * (1 + EMPTY_HASH.len());

/// Lowercase hex digits by value.
const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

/// Computes the JA4 client fingerprint `a_b_c`.
///
/// `a` is transport, version, SNI flag, cipher and extension counts and the
/// ALPN marker. `b` is the truncated SHA-256 of the sorted cipher list, and
/// `c` of the sorted extension list (without SNI and ALPN) followed by the
/// signature algorithms in wire order. GREASE is ignored everywhere.
pub fn ja4(hello: &ClientHello, transport: Ja4Transport) -> String {
    let lists = Ja4Lists::new(hello);
    let mut print = String::with_capacity(JA4_LEN);
    lists.push_a(&mut print, hello, transport);
    // The hashed texts are built in one buffer, reused for both sections.
    let mut text = Vec::with_capacity(lists.ciphers.len().max(lists.extensions.len()) * 5 + 64);
    write_hex_list(&mut text, lists.ciphers.iter().copied());
    print.push('_');
    push_short_hash(&mut print, &text);
    text.clear();
    lists.write_c(&mut text, hello);
    print.push('_');
    push_short_hash(&mut print, &text);
    print
}

/// Computes the raw JA4 (`JA4_r`): the `a` section followed by the sorted
/// lists that `ja4` hashes.
pub fn ja4_r(hello: &ClientHello, transport: Ja4Transport) -> String {
    let lists = Ja4Lists::new(hello);
    let mut print = String::new();
    lists.push_a(&mut print, hello, transport);
    let mut text = Vec::new();
    text.push(b'_');
    write_hex_list(&mut text, lists.ciphers.iter().copied());
    text.push(b'_');
    lists.write_c(&mut text, hello);
    // The text contains ASCII only.
    print.push_str(std::str::from_utf8(&text).unwrap_or_default());
    print
}

/// The non-GREASE cipher and extension lists of a hello, each sorted.
struct Ja4Lists {
    ciphers: Vec<u16>,
    extensions: Vec<u16>,
}

impl Ja4Lists {
    fn new(hello: &ClientHello) -> Self {
        let mut ciphers = non_grease(hello.cipher_suites.iter().map(|s| s.0));
        let mut extensions = non_grease(hello.extensions.iter().map(|e| e.kind.0));
        ciphers.sort_unstable();
        extensions.sort_unstable();
        Self {
            ciphers,
            extensions,
        }
    }

    /// Appends the `a` section.
    fn push_a(&self, out: &mut String, hello: &ClientHello, transport: Ja4Transport) {
        let sni = if hello.has_extension(ExtensionType::SERVER_NAME) {
            'd'
        } else {
            'i'
        };
        out.push(transport.marker());
        out.push_str(ja4_version(hello));
        out.push(sni);
        push_two_digits(out, self.ciphers.len());
        push_two_digits(out, self.extensions.len());
        out.extend(alpn_marker(hello.alpn.first().map(Vec::as_slice)));
    }

    /// Writes the text of the `c` section: the sorted extensions without
    /// SNI and ALPN, then `_` and the signature algorithms when both exist.
    fn write_c(&self, out: &mut Vec<u8>, hello: &ClientHello) {
        let start = out.len();
        let hashed = self.extensions.iter().copied().filter(|kind| {
            *kind != ExtensionType::SERVER_NAME.0
                && *kind != ExtensionType::APPLICATION_LAYER_PROTOCOL_NEGOTIATION.0
        });
        write_hex_list(out, hashed);
        let mut signatures = hello
            .signature_algorithms
            .iter()
            .map(|s| s.0)
            .filter(|v| !is_grease(*v))
            .peekable();
        if out.len() > start && signatures.peek().is_some() {
            out.push(b'_');
            write_hex_list(out, signatures);
        }
    }
}

/// Collects the values that are not GREASE, allocating once for all of
/// `values` because filtering hides the final count.
fn non_grease(values: impl ExactSizeIterator<Item = u16>) -> Vec<u16> {
    let mut kept = Vec::with_capacity(values.len());
    kept.extend(values.filter(|v| !is_grease(*v)));
    kept
}

/// Appends `count`, capped at 99, as two decimal digits.
fn push_two_digits(out: &mut String, count: usize) {
    let count = count.min(99);
    for digit in [count / 10, count % 10] {
        out.push(char::from(HEX_DIGITS.get(digit).copied().unwrap_or(b'0')));
    }
}

/// Joins the values as 4-digit lowercase hex with ',', as JA4 lists them.
#[cfg(test)]
fn hex_list(values: &[u16]) -> String {
    let mut out = Vec::new();
    write_hex_list(&mut out, values.iter().copied());
    String::from_utf8(out).unwrap_or_default()
}

/// Appends the values as 4-digit lowercase hex joined with ',', as JA4
/// lists them.
fn write_hex_list(out: &mut Vec<u8>, values: impl Iterator<Item = u16>) {
    for (index, value) in values.enumerate() {
        if index > 0 {
            out.push(b',');
        }
        for shift in [12, 8, 4, 0] {
            let nibble = usize::from(value >> shift & 0xf);
            out.push(HEX_DIGITS.get(nibble).copied().unwrap_or(b'0'));
        }
    }
}

/// Appends the first 12 hex digits of the SHA-256 of `text`, or zeros for
/// an empty list.
fn push_short_hash(out: &mut String, text: &[u8]) {
    if text.is_empty() {
        out.push_str(EMPTY_HASH);
        return;
    }
    let digest = Sha256::digest(text);
    // Two hex digits per byte.
    for &byte in digest.get(..EMPTY_HASH.len() / 2).unwrap_or_default() {
        for nibble in [byte >> 4, byte & 0xf] {
            let digit = HEX_DIGITS.get(usize::from(nibble)).copied().unwrap_or(b'0');
            out.push(char::from(digit));
        }
    }
}

/// Returns the two-character JA4 version: the best non-GREASE
/// `supported_versions` entry, else `legacy_version`.
///
/// NOTE: the JA4 specification asks for the "highest value". Entries are
/// compared by [`ProtocolVersion::rank`] first and by value second, which
/// agrees for TLS but also ranks DTLS 1.3 (0xfefc) above DTLS 1.2 (0xfefd).
/// An unlisted version such as 0x0305 ranks below TLS 1.3 here.
fn ja4_version(hello: &ClientHello) -> &'static str {
    let best = hello
        .supported_versions
        .iter()
        .filter(|v| !v.is_grease())
        .max_by_key(|v| (v.rank(), v.0))
        .copied()
        .unwrap_or(hello.legacy_version);
    match best {
        ProtocolVersion::TLS13 => "13",
        ProtocolVersion::TLS12 => "12",
        ProtocolVersion::TLS11 => "11",
        ProtocolVersion::TLS10 => "10",
        ProtocolVersion::SSL3 => "s3",
        ProtocolVersion::SSL2 => "s2",
        ProtocolVersion::DTLS10 => "d1",
        ProtocolVersion::DTLS12 => "d2",
        ProtocolVersion::DTLS13 => "d3",
        _ => "00",
    }
}

/// Returns the JA4 ALPN marker: the first and last character of the first
/// protocol id, or `00` when there is none. When either end byte is not an
/// ASCII letter or digit, the marker is the first and last hex digit of the id.
fn alpn_marker(first: Option<&[u8]>) -> [char; 2] {
    let Some((&head, &tail)) = first.and_then(|id| Some((id.first()?, id.last()?))) else {
        return ['0', '0'];
    };
    if head.is_ascii_alphanumeric() && tail.is_ascii_alphanumeric() {
        return [char::from(head), char::from(tail)];
    }
    let hex = |nibble: u8| char::from(HEX_DIGITS.get(usize::from(nibble)).copied().unwrap_or(b'0'));
    [hex(head >> 4), hex(tail & 0xf)]
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;
    use crate::handshake::Extension;
    use crate::registry::{CipherSuite, NamedGroup, SignatureScheme};

    fn ext(kind: u16) -> Extension<'static> {
        Extension {
            kind: ExtensionType(kind),
            data: Cow::Borrowed(&[]),
        }
    }

    /// Builds a TLS 1.3 hello with GREASE in suites, extensions, groups, versions and signatures.
    fn hello() -> ClientHello<'static> {
        let mut hello = ClientHello::new(ProtocolVersion::TLS12, [0; 32]);
        hello.cipher_suites = [0x5a5a, 0x1302, 0x1301, 0xc02f, 0x00ff]
            .map(CipherSuite)
            .to_vec();
        hello.extensions = [
            0x3a3a, 0x0000, 0x0010, 0x002b, 0x000d, 0x000a, 0x000b, 0xff01,
        ]
        .map(ext)
        .to_vec();
        hello.supported_versions = [0x8a8a, 0x0304, 0x0303].map(ProtocolVersion).to_vec();
        hello.supported_groups = [0xcaca, 0x001d, 0x0017].map(NamedGroup).to_vec();
        hello.ec_point_formats = vec![0];
        hello.signature_algorithms = [0x0403, 0x2a2a, 0x0804].map(SignatureScheme).to_vec();
        hello.alpn = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        hello
    }

    fn sha12(text: &str) -> String {
        hex::encode(Sha256::digest(text.as_bytes()))[..12].to_string()
    }

    #[test]
    fn ja3_text_drops_grease() {
        let print = ja3(&hello());
        assert_eq!(
            print.text,
            "771,4866-4865-49199-255,0-16-43-13-10-11-65281,29-23,0"
        );
    }

    #[test]
    fn ja3_md5_of_text() {
        let print = ja3(&hello());
        assert_eq!(print.md5, hex::encode(Md5::digest(print.text.as_bytes())));
        assert_eq!(print.md5.len(), 32);
    }

    #[test]
    fn decimal_matches_display() {
        for value in [0, 1, 9, 10, 99, 100, 771, 1000, 9999, 10000, 65535] {
            let mut text = String::new();
            push_decimal(&mut text, value);
            assert_eq!(text, value.to_string());
        }
    }

    #[test]
    fn hex_list_pads_to_four_digits() {
        assert_eq!(
            hex_list(&[0x0000, 0x000a, 0x1301, 0xffff]),
            "0000,000a,1301,ffff"
        );
    }

    #[test]
    fn ja3_empty_extensions() {
        let mut hello = ClientHello::new(ProtocolVersion::TLS10, [0; 32]);
        hello.cipher_suites = vec![CipherSuite(0x002f)];
        assert_eq!(ja3(&hello).text, "769,47,,,");
    }

    #[test]
    fn ja3s_text_and_md5() {
        let body = [
            &[0x03, 0x03][..],
            &[0x44; 32],
            &[0x00, 0xc0, 0x2f, 0x00],
            &[0x00, 0x05, 0xff, 0x01, 0x00, 0x01, 0x00],
        ]
        .concat();
        let hello = crate::handshake::parse_server_hello(&body).unwrap();
        let print = ja3s(&hello);
        assert_eq!(print.text, "771,49199,65281");
        assert_eq!(print.md5, hex::encode(Md5::digest(b"771,49199,65281")));
    }

    #[test]
    fn ja4_raw_sections() {
        let raw = ja4_r(&hello(), Ja4Transport::Tcp);
        let expected = "t13d0407h2_00ff,1301,1302,c02f_000a,000b,000d,002b,ff01_0403,0804";
        assert_eq!(raw, expected);
    }

    #[test]
    fn ja4_hashes_raw_sections() {
        let print = ja4(&hello(), Ja4Transport::Tcp);
        let b = sha12("00ff,1301,1302,c02f");
        let c = sha12("000a,000b,000d,002b,ff01_0403,0804");
        assert_eq!(print, format!("t13d0407h2_{b}_{c}"));
    }

    #[test]
    fn ja4_transport_markers() {
        assert!(ja4(&hello(), Ja4Transport::Quic).starts_with("q13"));
        assert!(ja4(&hello(), Ja4Transport::Dtls).starts_with("d13"));
    }

    #[test]
    fn ja4_no_sni_no_alpn() {
        let mut hello = hello();
        hello
            .extensions
            .retain(|e| e.kind.0 != 0x0000 && e.kind.0 != 0x0010);
        hello.alpn.clear();
        assert!(ja4(&hello, Ja4Transport::Tcp).starts_with("t13i040500_"));
    }

    #[test]
    fn ja4_legacy_version_without_extension() {
        let mut hello = hello();
        hello.supported_versions.clear();
        assert!(ja4(&hello, Ja4Transport::Tcp).starts_with("t12d"));
    }

    #[test]
    fn ja4_draft_version_unknown() {
        let mut hello = hello();
        hello.supported_versions = vec![ProtocolVersion(0x7f17), ProtocolVersion::TLS13];
        assert!(ja4(&hello, Ja4Transport::Tcp).starts_with("t00d"));
    }

    #[test]
    fn ja4_dtls13_beats_dtls12() {
        let mut hello = hello();
        hello.supported_versions = vec![ProtocolVersion::DTLS12, ProtocolVersion::DTLS13];
        assert!(ja4(&hello, Ja4Transport::Dtls).starts_with("dd3d"));
    }

    #[test]
    fn ja4_empty_lists_zero_hashes() {
        let hello = ClientHello::new(ProtocolVersion::TLS12, [0; 32]);
        assert_eq!(
            ja4(&hello, Ja4Transport::Tcp),
            "t12i000000_000000000000_000000000000"
        );
    }

    #[test]
    fn ja4_no_signatures_no_underscore() {
        let mut hello = hello();
        hello.signature_algorithms.clear();
        let raw = ja4_r(&hello, Ja4Transport::Tcp);
        assert!(raw.ends_with("_000a,000b,000d,002b,ff01"));
    }

    #[test]
    fn ja4_counts_cap_at_99() {
        let mut hello = hello();
        hello.cipher_suites = (1..=120).map(CipherSuite).collect();
        assert!(ja4(&hello, Ja4Transport::Tcp).starts_with("t13d9907"));
    }

    #[test]
    fn ja4_non_ascii_alpn_hex() {
        let mut hello = hello();
        hello.alpn = vec![vec![0xe2, 0x41, 0x9c]];
        assert!(ja4(&hello, Ja4Transport::Tcp).starts_with("t13d0407ec_"));
    }

    #[test]
    fn alpn_marker_cases() {
        assert_eq!(alpn_marker(Some(b"http/1.1")), ['h', '1']);
        assert_eq!(alpn_marker(Some(b"h")), ['h', 'h']);
        assert_eq!(alpn_marker(Some(b"")), ['0', '0']);
        assert_eq!(alpn_marker(None), ['0', '0']);
    }

    #[test]
    fn alpn_marker_non_alphanumeric_hex() {
        assert_eq!(alpn_marker(Some(&[0xc3])), ['c', '3']);
        assert_eq!(alpn_marker(Some(&[0xe2, 0x9c])), ['e', 'c']);
        assert_eq!(alpn_marker(Some(&[0x68, 0x9c])), ['6', 'c']);
        assert_eq!(alpn_marker(Some(&[0x61, 0xfe, 0x7a])), ['a', 'z']);
    }
}
