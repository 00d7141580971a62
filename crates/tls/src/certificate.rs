//! X.509 certificate summaries and RFC 6125 host name checks.
//!
//! A summary always carries the SHA-256 of the DER, so a certificate that
//! `x509-parser` rejects can still be matched against other sightings.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use sha2::{Digest, Sha256};
use x509_parser::asn1_rs::{Any, Tag, ToDer};
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::prelude::FromDer;
use x509_parser::public_key::RSAPublicKey;
use x509_parser::x509::{SubjectPublicKeyInfo, X509Name};

/// The fields of a certificate that matter for judging a TLS session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateInfo {
    /// Lowercase hex SHA-256 of the DER; present even when parsing failed.
    pub sha256: String,
    /// Subject distinguished name in RFC 4514 form (last RDN first).
    pub subject: Option<String>,
    /// Issuer distinguished name in RFC 4514 form (last RDN first).
    pub issuer: Option<String>,
    /// Every commonName in the subject, in certificate order.
    pub common_names: Vec<String>,
    /// dNSName entries of the subjectAltName extension.
    pub dns_names: Vec<String>,
    /// iPAddress entries of the subjectAltName extension.
    pub ip_addresses: Vec<IpAddr>,
    /// Start of the validity period, in Unix seconds.
    pub not_before: Option<i64>,
    /// End of the validity period, in Unix seconds.
    pub not_after: Option<i64>,
    /// Serial number as lowercase hex, without the DER sign byte.
    pub serial: Option<String>,
    /// Public key algorithm: "RSA", "RSA-PSS", "EC P-256", "Ed25519", "ML-DSA-44",
    /// ... or the dotted OID of an algorithm not listed here.
    pub key_type: Option<String>,
    /// Key size in bits: the modulus for RSA, the curve's field for EC and the
    /// public key length for Ed25519, Ed448, X25519 and X448.
    pub key_bits: Option<u32>,
    /// True when subject and issuer are the same name, as RFC 5280 defines
    /// self-issued. Self-signed certificates are a subset of these.
    pub self_issued: bool,
    /// Lowercase hex SHA-256 of the DER SubjectPublicKeyInfo (the value
    /// HPKP-style pins hash), present when the certificate parsed.
    pub spki_sha256: Option<String>,
    /// Reason `x509-parser` rejected the DER, or `None` when it parsed.
    pub parse_error: Option<String>,
}

impl CertificateInfo {
    fn unparsed(sha256: String) -> Self {
        Self {
            sha256,
            subject: None,
            issuer: None,
            common_names: Vec::new(),
            dns_names: Vec::new(),
            ip_addresses: Vec::new(),
            not_before: None,
            not_after: None,
            serial: None,
            key_type: None,
            key_bits: None,
            self_issued: false,
            spki_sha256: None,
            parse_error: None,
        }
    }
}

/// Summarizes a DER certificate. When the DER does not parse, only `sha256`
/// and `parse_error` are set.
pub fn summarize_certificate(der: &[u8]) -> CertificateInfo {
    let mut info = CertificateInfo::unparsed(hex::encode(Sha256::digest(der)));
    match X509Certificate::from_der(der) {
        Ok((_, cert)) => fill(&mut info, &cert),
        Err(err) => {
            let error = format!(
                "x509-parser rejected the {}-byte certificate DER: {err}",
                der.len()
            );
            info.parse_error = Some(error);
        }
    }
    info
}

fn fill(info: &mut CertificateInfo, cert: &X509Certificate<'_>) {
    let tbs = &cert.tbs_certificate;
    info.subject = Some(rfc4514(tbs.subject()));
    info.issuer = Some(rfc4514(tbs.issuer()));
    info.common_names = tbs
        .subject()
        .iter_common_name()
        .filter_map(|attr| decode_string(attr.attr_value()))
        .collect();
    collect_alt_names(info, cert);
    info.not_before = Some(tbs.validity().not_before.timestamp());
    info.not_after = Some(tbs.validity().not_after.timestamp());
    info.serial = Some(serial_hex(tbs.raw_serial()));
    let (key_type, key_bits) = key_summary(tbs.public_key());
    info.key_type = Some(key_type);
    info.key_bits = key_bits;
    info.spki_sha256 = Some(hex::encode(Sha256::digest(tbs.public_key().raw)));
    info.self_issued = tbs.subject().as_raw() == tbs.issuer().as_raw();
}

/// Collects DNS and IP entries from every subjectAltName extension; a
/// duplicate extension is read rather than rejected, since this is a summary.
fn collect_alt_names(info: &mut CertificateInfo, cert: &X509Certificate<'_>) {
    for extension in cert.extensions() {
        let ParsedExtension::SubjectAlternativeName(san) = extension.parsed_extension() else {
            continue;
        };
        for name in &san.general_names {
            match name {
                GeneralName::DNSName(dns) => info.dns_names.push((*dns).to_string()),
                GeneralName::IPAddress(bytes) => info.ip_addresses.extend(ip_from_bytes(bytes)),
                _ => {}
            }
        }
    }
}

fn ip_from_bytes(bytes: &[u8]) -> Option<IpAddr> {
    if let Ok(v4) = <[u8; 4]>::try_from(bytes) {
        return Some(IpAddr::V4(Ipv4Addr::from(v4)));
    }
    let v6 = <[u8; 16]>::try_from(bytes).ok()?;
    Some(IpAddr::V6(Ipv6Addr::from(v6)))
}

fn serial_hex(raw: &[u8]) -> String {
    // DER prepends 0x00 to keep a positive serial positive; keep one byte for serial 0.
    let significant = raw
        .iter()
        .position(|b| *b != 0)
        .unwrap_or(raw.len().saturating_sub(1));
    hex::encode(raw.get(significant..).unwrap_or_default())
}

/// Attribute types with a short name: RFC 4514 section 3 plus the short names
/// OpenSSL uses for other common subject attributes.
const ATTRIBUTE_NAMES: [(&str, &str); 20] = [
    ("2.5.4.3", "CN"),
    ("2.5.4.7", "L"),
    ("2.5.4.8", "ST"),
    ("2.5.4.10", "O"),
    ("2.5.4.11", "OU"),
    ("2.5.4.6", "C"),
    ("2.5.4.9", "STREET"),
    ("0.9.2342.19200300.100.1.25", "DC"),
    ("0.9.2342.19200300.100.1.1", "UID"),
    ("2.5.4.4", "SN"),
    ("2.5.4.5", "serialNumber"),
    ("2.5.4.12", "title"),
    ("2.5.4.15", "businessCategory"),
    ("2.5.4.17", "postalCode"),
    ("2.5.4.42", "GN"),
    ("2.5.4.97", "organizationIdentifier"),
    ("1.2.840.113549.1.9.1", "emailAddress"),
    ("1.3.6.1.4.1.311.60.2.1.1", "jurisdictionL"),
    ("1.3.6.1.4.1.311.60.2.1.2", "jurisdictionST"),
    ("1.3.6.1.4.1.311.60.2.1.3", "jurisdictionC"),
];

/// Formats a name as RFC 4514 section 2 does: RDNs from last to first,
/// separated by commas, with multi-valued RDNs joined by '+'.
fn rfc4514(name: &X509Name<'_>) -> String {
    let rdns: Vec<String> = name
        .iter_rdn()
        .map(|rdn| {
            let parts: Vec<String> = rdn
                .iter()
                .map(|attr| attribute(&attr.attr_type().to_id_string(), attr.attr_value()))
                .collect();
            parts.join("+")
        })
        .collect();
    let reversed: Vec<String> = rdns.into_iter().rev().collect();
    reversed.join(",")
}

fn attribute(oid: &str, value: &Any<'_>) -> String {
    let short = ATTRIBUTE_NAMES
        .iter()
        .find(|(id, _)| *id == oid)
        .map(|(_, short)| *short);
    match (short, decode_string(value)) {
        (Some(short), Some(text)) => format!("{short}={}", escape_value(&text)),
        // RFC 4514 section 2.4: other values are '#' and the hex of their BER encoding.
        (Some(short), None) => format!("{short}=#{}", der_hex(value)),
        (None, _) => format!("{oid}=#{}", der_hex(value)),
    }
}

fn der_hex(value: &Any<'_>) -> String {
    match value.to_der_vec() {
        Ok(der) => hex::encode(der),
        Err(_) => hex::encode(value.data),
    }
}

/// Decodes a directory string. 8-bit types are read as UTF-8 when valid and
/// as Latin-1 otherwise, because TeletexString values in the wild are one or
/// the other; BMPString is UTF-16BE and UniversalString UTF-32BE.
fn decode_string(value: &Any<'_>) -> Option<String> {
    let data = value.data;
    match value.tag() {
        Tag::Utf8String
        | Tag::PrintableString
        | Tag::Ia5String
        | Tag::NumericString
        | Tag::VisibleString
        | Tag::T61String => Some(match std::str::from_utf8(data) {
            Ok(text) => text.to_string(),
            Err(_) => data.iter().map(|b| char::from(*b)).collect(),
        }),
        Tag::BmpString => {
            let units = data.chunks_exact(2).map(|pair| match pair {
                [hi, lo] => u16::from_be_bytes([*hi, *lo]),
                _ => 0xfffd,
            });
            let decoded =
                char::decode_utf16(units).map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER));
            Some(decoded.collect())
        }
        Tag::UniversalString => {
            let chars = data.chunks_exact(4).map(|quad| {
                let code = quad.iter().fold(0u32, |acc, b| acc << 8 | u32::from(*b));
                char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER)
            });
            Some(chars.collect())
        }
        _ => None,
    }
}

/// Escapes an attribute value as RFC 4514 section 2.4 requires, and also
/// hex-escapes control characters so names print safely on a terminal.
fn escape_value(text: &str) -> String {
    let last = text.chars().count().saturating_sub(1);
    let mut out = String::with_capacity(text.len());
    for (index, c) in text.chars().enumerate() {
        let edge_space = c == ' ' && (index == 0 || index == last);
        let special = matches!(c, '"' | '+' | ',' | ';' | '<' | '>' | '\\');
        if special || edge_space || (c == '#' && index == 0) {
            out.push('\\');
            out.push(c);
        } else if c.is_control() {
            let mut buf = [0u8; 4];
            for byte in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("\\{byte:02x}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Returns the key type label and size in bits for a SubjectPublicKeyInfo.
fn key_summary(spki: &SubjectPublicKeyInfo<'_>) -> (String, Option<u32>) {
    let oid = spki.algorithm.algorithm.to_id_string();
    let key = spki.subject_public_key.data.as_ref();
    let fixed = |label: &str, bits: u32| (label.to_string(), Some(bits));
    match oid.as_str() {
        "1.2.840.113549.1.1.1" => ("RSA".to_string(), rsa_bits(key)),
        "1.2.840.113549.1.1.10" => ("RSA-PSS".to_string(), rsa_bits(key)),
        "1.2.840.10045.2.1" => ec_summary(spki),
        "1.2.840.10040.4.1" => ("DSA".to_string(), None),
        "1.3.101.110" => fixed("X25519", 256),
        "1.3.101.111" => fixed("X448", 448),
        "1.3.101.112" => fixed("Ed25519", 256),
        "1.3.101.113" => fixed("Ed448", 456),
        "2.16.840.1.101.3.4.3.17" => ("ML-DSA-44".to_string(), None),
        "2.16.840.1.101.3.4.3.18" => ("ML-DSA-65".to_string(), None),
        "2.16.840.1.101.3.4.3.19" => ("ML-DSA-87".to_string(), None),
        _ => (oid, None),
    }
}

/// Returns the exact bit length of an RSA modulus.
fn rsa_bits(key: &[u8]) -> Option<u32> {
    let (_, rsa) = RSAPublicKey::from_der(key).ok()?;
    let start = rsa.modulus.iter().position(|b| *b != 0)?;
    let modulus = rsa.modulus.get(start..)?;
    let first = modulus.first()?;
    let rest_bits = u32::try_from(modulus.len().checked_sub(1)?)
        .ok()?
        .checked_mul(8)?;
    rest_bits.checked_add(8 - first.leading_zeros())
}

/// Names the curve of an EC key from its namedCurve parameter (RFC 5480).
fn ec_summary(spki: &SubjectPublicKeyInfo<'_>) -> (String, Option<u32>) {
    let curve = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|params| params.as_oid().ok())
        .map(|oid| oid.to_id_string());
    let (name, bits) = match curve.as_deref() {
        Some("1.2.840.10045.3.1.7") => ("P-256", 256),
        Some("1.3.132.0.34") => ("P-384", 384),
        Some("1.3.132.0.35") => ("P-521", 521),
        Some("1.3.132.0.10") => ("secp256k1", 256),
        Some("1.3.36.3.3.2.8.1.1.7") => ("brainpoolP256r1", 256),
        Some("1.3.36.3.3.2.8.1.1.11") => ("brainpoolP384r1", 384),
        Some("1.3.36.3.3.2.8.1.1.13") => ("brainpoolP512r1", 512),
        Some(other) => return (format!("EC {other}"), None),
        None => return ("EC".to_string(), None),
    };
    (format!("EC {name}"), Some(bits))
}

/// Checks whether the certificate is valid for `server_name` by the
/// RFC 6125 section 6.4 rules.
///
/// An IP literal (IPv6 with or without brackets) matches only iPAddress
/// entries. A DNS name is compared with the dNSName entries, or with the
/// common names when there are none, ignoring ASCII case and a trailing dot.
/// A presented name may start with a "*." wildcard that stands for exactly one
/// whole left-most label. Wildcards elsewhere, partial-label wildcards and
/// wildcards directly above a single-label suffix ("*.com") never match.
pub fn certificate_covers(info: &CertificateInfo, server_name: &str) -> bool {
    let bare = server_name
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .unwrap_or(server_name);
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return info.ip_addresses.contains(&ip);
    }
    let reference = server_name.strip_suffix('.').unwrap_or(server_name);
    if reference.is_empty() {
        return false;
    }
    let presented = if info.dns_names.is_empty() {
        &info.common_names
    } else {
        &info.dns_names
    };
    presented
        .iter()
        .any(|name| dns_name_matches(name, reference))
}

fn dns_name_matches(presented: &str, reference: &str) -> bool {
    let presented = presented.strip_suffix('.').unwrap_or(presented);
    let Some(suffix) = presented.strip_prefix("*.") else {
        return !presented.contains('*') && presented.eq_ignore_ascii_case(reference);
    };
    if suffix.contains('*') || !suffix.contains('.') {
        return false;
    }
    let Some((label, rest)) = reference.split_once('.') else {
        return false;
    };
    !label.is_empty() && rest.eq_ignore_ascii_case(suffix)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Encodes one DER TLV with a short or 2-byte long-form length.
    fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        match content.len() {
            len @ 0..=127 => out.push(len as u8),
            len @ 128..=255 => out.extend([0x81, len as u8]),
            len => out.extend([0x82, (len >> 8) as u8, len as u8]),
        }
        out.extend_from_slice(content);
        out
    }

    fn seq(parts: &[Vec<u8>]) -> Vec<u8> {
        tlv(0x30, &parts.concat())
    }

    fn oid(encoded: &[u8]) -> Vec<u8> {
        tlv(0x06, encoded)
    }

    const OID_CN: &[u8] = &[0x55, 0x04, 0x03];
    const OID_O: &[u8] = &[0x55, 0x04, 0x0a];
    const OID_C: &[u8] = &[0x55, 0x04, 0x06];
    const OID_EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
    const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
    const OID_ECDSA_SHA256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
    const OID_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
    const OID_SAN: &[u8] = &[0x55, 0x1d, 0x11];

    /// Builds a Name with one attribute per RDN, in the order given.
    fn name(attributes: &[(&[u8], u8, &[u8])]) -> Vec<u8> {
        let rdns: Vec<Vec<u8>> = attributes
            .iter()
            .map(|(attr_oid, tag, value)| tlv(0x31, &seq(&[oid(attr_oid), tlv(*tag, value)])))
            .collect();
        seq(&rdns)
    }

    fn ec_p256_key() -> Vec<u8> {
        let mut point = vec![0x00, 0x04];
        point.extend([0x42; 64]);
        seq(&[
            seq(&[oid(OID_EC_PUBLIC_KEY), oid(OID_P256)]),
            tlv(0x03, &point),
        ])
    }

    fn rsa_2048_key() -> Vec<u8> {
        let mut modulus = vec![0x00, 0xc1];
        modulus.extend([0x01; 255]);
        let rsa = seq(&[tlv(0x02, &modulus), tlv(0x02, &[0x01, 0x00, 0x01])]);
        let mut bits = vec![0x00];
        bits.extend(rsa);
        seq(&[seq(&[oid(OID_RSA), tlv(0x05, &[])]), tlv(0x03, &bits)])
    }

    fn san_extension() -> Vec<u8> {
        let names = seq(&[
            tlv(0x82, b"www.example.com"),
            tlv(0x82, b"*.Example.org"),
            tlv(0x87, &[192, 0, 2, 1]),
        ]);
        let extension = seq(&[oid(OID_SAN), tlv(0x04, &names)]);
        tlv(0xa3, &seq(&[extension]))
    }

    /// Builds a v3 certificate; the signature is filler since nothing verifies it.
    fn certificate(
        issuer: &[u8],
        subject: &[u8],
        key: Vec<u8>,
        extensions: Option<Vec<u8>>,
    ) -> Vec<u8> {
        let algorithm = seq(&[oid(OID_ECDSA_SHA256)]);
        let validity = seq(&[tlv(0x17, b"240101000000Z"), tlv(0x17, b"250101000000Z")]);
        let mut tbs = vec![
            tlv(0xa0, &tlv(0x02, &[0x02])),
            tlv(0x02, &[0x00, 0x8f, 0x01]),
            algorithm.clone(),
            issuer.to_vec(),
            validity,
            subject.to_vec(),
            key,
        ];
        tbs.extend(extensions);
        seq(&[seq(&tbs), algorithm, tlv(0x03, &[0x00, 0xaa, 0xbb])])
    }

    fn leaf() -> Vec<u8> {
        let issuer = name(&[(OID_C, 0x13, b"US"), (OID_O, 0x0c, b"Test CA")]);
        let subject = name(&[
            (OID_C, 0x13, b"US"),
            (OID_O, 0x0c, b"Example"),
            (OID_CN, 0x0c, b"a,b+c"),
        ]);
        certificate(&issuer, &subject, ec_p256_key(), Some(san_extension()))
    }

    #[test]
    fn summary_hash_always_present() {
        let info = summarize_certificate(b"not a certificate");
        let expected = hex::encode(Sha256::digest(b"not a certificate"));
        assert_eq!(info.sha256, expected);
        assert!(info.parse_error.is_some());
        assert_eq!(info.subject, None);
    }

    #[test]
    fn summary_names_rfc4514() {
        let info = summarize_certificate(&leaf());
        assert_eq!(info.parse_error, None);
        assert_eq!(info.subject.as_deref(), Some("CN=a\\,b\\+c,O=Example,C=US"));
        assert_eq!(info.issuer.as_deref(), Some("O=Test CA,C=US"));
        assert_eq!(info.common_names, vec!["a,b+c".to_string()]);
    }

    #[test]
    fn summary_alt_names() {
        let info = summarize_certificate(&leaf());
        let dns = vec!["www.example.com".to_string(), "*.Example.org".to_string()];
        assert_eq!(info.dns_names, dns);
        assert_eq!(info.ip_addresses, vec![IpAddr::from([192, 0, 2, 1])]);
    }

    #[test]
    fn summary_validity_serial_key() {
        let info = summarize_certificate(&leaf());
        assert_eq!(info.not_before, Some(1_704_067_200));
        assert_eq!(info.not_after, Some(1_735_689_600));
        assert_eq!(info.serial.as_deref(), Some("8f01"));
        assert_eq!(info.key_type.as_deref(), Some("EC P-256"));
        assert_eq!(info.key_bits, Some(256));
        assert!(!info.self_issued);
    }

    #[test]
    fn summary_self_issued_rsa() {
        let subject = name(&[(OID_CN, 0x13, b"root")]);
        let info = summarize_certificate(&certificate(&subject, &subject, rsa_2048_key(), None));
        assert!(info.self_issued);
        assert_eq!(info.key_type.as_deref(), Some("RSA"));
        assert_eq!(info.key_bits, Some(2048));
        assert!(info.dns_names.is_empty());
    }

    #[test]
    fn summary_bmp_string_cn() {
        let subject = name(&[(OID_CN, 0x1e, &[0x00, 0x68, 0x00, 0xe9])]);
        let info = summarize_certificate(&certificate(&subject, &subject, ec_p256_key(), None));
        assert_eq!(info.common_names, vec!["h\u{e9}".to_string()]);
    }

    #[test]
    fn summary_unknown_attribute_hex() {
        let subject = name(&[(&[0x55, 0x04, 0x41], 0x0c, b"x")]);
        let info = summarize_certificate(&certificate(&subject, &subject, ec_p256_key(), None));
        assert_eq!(info.subject.as_deref(), Some("2.5.4.65=#0c0178"));
    }

    #[test]
    fn escape_edges_and_controls() {
        assert_eq!(escape_value(" #a "), "\\ #a\\ ");
        assert_eq!(escape_value("#a"), "\\#a");
        assert_eq!(escape_value("a\nb"), "a\\0ab");
    }

    #[test]
    fn every_prefix_no_panic() {
        let der = leaf();
        for end in 0..der.len() {
            let info = summarize_certificate(&der[..end]);
            assert!(info.parse_error.is_some(), "prefix of {end} bytes");
        }
    }

    fn covering(dns: &[&str], cn: &[&str]) -> CertificateInfo {
        let mut info = CertificateInfo::unparsed(String::new());
        info.dns_names = dns.iter().map(|s| s.to_string()).collect();
        info.common_names = cn.iter().map(|s| s.to_string()).collect();
        info.ip_addresses = vec![IpAddr::from([192, 0, 2, 1]), "2001:db8::1".parse().unwrap()];
        info
    }

    #[test]
    fn covers_exact_ignoring_case() {
        let info = covering(&["www.Example.com"], &[]);
        assert!(certificate_covers(&info, "WWW.example.COM"));
        assert!(certificate_covers(&info, "www.example.com."));
        assert!(!certificate_covers(&info, "example.com"));
    }

    #[test]
    fn covers_wildcard_one_label() {
        let info = covering(&["*.example.org"], &[]);
        assert!(certificate_covers(&info, "mail.example.org"));
        assert!(!certificate_covers(&info, "a.b.example.org"));
        assert!(!certificate_covers(&info, "example.org"));
    }

    #[test]
    fn covers_rejects_bad_wildcards() {
        assert!(!certificate_covers(
            &covering(&["*.com"], &[]),
            "example.com"
        ));
        assert!(!certificate_covers(
            &covering(&["w*.example.org"], &[]),
            "www.example.org"
        ));
        assert!(!certificate_covers(
            &covering(&["www.*.org"], &[]),
            "www.example.org"
        ));
    }

    #[test]
    fn covers_cn_only_without_sans() {
        assert!(certificate_covers(
            &covering(&[], &["host.test"]),
            "host.test"
        ));
        let with_san = covering(&["other.test"], &["host.test"]);
        assert!(!certificate_covers(&with_san, "host.test"));
    }

    #[test]
    fn covers_ip_literals() {
        let info = covering(&["192.0.2.1"], &[]);
        assert!(certificate_covers(&info, "192.0.2.1"));
        assert!(certificate_covers(&info, "[2001:db8::1]"));
        assert!(!certificate_covers(&info, "192.0.2.2"));
    }

    #[test]
    fn covers_ip_not_by_dns_name() {
        let mut info = covering(&["192.0.2.9"], &[]);
        info.ip_addresses.clear();
        assert!(!certificate_covers(&info, "192.0.2.9"));
    }

    #[test]
    fn covers_empty_name_false() {
        assert!(!certificate_covers(&covering(&["example.com"], &[]), ""));
    }
}
