//! Digest fields of a response and their comparison with the body's
//! hashes: `Content-MD5` (RFC 1864), `Digest` (RFC 3230), `Content-Digest`
//! and `Repr-Digest` (RFC 9530), and the MD5 ETag of single-part S3
//! uploads.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};

use crate::hash::{Algorithm, Hashes};

/// The field a digest value came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DigestField {
    ContentMd5,
    Digest,
    ContentDigest,
    ReprDigest,
    /// A 32-hex-digit ETag from Amazon S3, the MD5 of a single-part upload.
    S3Etag,
}

impl DigestField {
    /// Returns the field name as written in the message.
    pub fn name(self) -> &'static str {
        match self {
            DigestField::ContentMd5 => "Content-MD5",
            DigestField::Digest => "Digest",
            DigestField::ContentDigest => "Content-Digest",
            DigestField::ReprDigest => "Repr-Digest",
            DigestField::S3Etag => "ETag",
        }
    }

    /// Returns the octets this field's digest is computed over.
    pub fn covers(self) -> Covers {
        match self {
            // RFC 3230 computes an instance digest over the instance with
            // its content coding applied, which is the content as sent.
            DigestField::ContentMd5
            | DigestField::Digest
            | DigestField::ContentDigest
            | DigestField::S3Etag => Covers::Content,
            DigestField::ReprDigest => Covers::Representation,
        }
    }
}

/// The octets a digest describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Covers {
    /// The body as sent, after transfer coding is removed (content coding
    /// still applied).
    Content,
    /// The body with its content coding removed.
    Representation,
}

/// One digest value announced by a response, as parsed from its field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Announced {
    pub field: DigestField,
    /// The algorithm token as written, e.g. `sha-256` or `SHA`.
    pub token: String,
    pub algorithm: Option<Algorithm>,
    /// The value as written in the field.
    pub text: String,
    /// The decoded digest octets; `None` when the text is not valid base64
    /// (or hex, for an ETag) of the algorithm's length.
    pub value: Option<Vec<u8>>,
}

/// The result of comparing one announced digest with the body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Verified,
    Mismatch,
    NotCheckable(Unchecked),
}

impl Outcome {
    /// Returns a short lower-case name for records.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Verified => "verified",
            Outcome::Mismatch => "mismatch",
            Outcome::NotCheckable(reason) => reason.name(),
        }
    }
}

/// The reason an announced digest could not be compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unchecked {
    /// Part of the body is missing from the capture.
    BodyIncomplete,
    /// The algorithm is not one of md5, sha, sha-256, sha-512.
    UnknownAlgorithm,
    /// The value is not valid base64 (or hex) of the algorithm's length.
    InvalidValue,
    /// The response carries no body (HEAD, 204, 304).
    NoBody,
    /// A 206 response carries part of the representation, which a
    /// representation digest cannot be compared with.
    PartialContent,
    /// The content coding is unknown, stacked or invalid, so the
    /// representation could not be decoded.
    NotDecoded,
}

impl Unchecked {
    pub fn name(self) -> &'static str {
        match self {
            Unchecked::BodyIncomplete => "not_checkable_body_incomplete",
            Unchecked::UnknownAlgorithm => "not_checkable_unknown_algorithm",
            Unchecked::InvalidValue => "not_checkable_invalid_value",
            Unchecked::NoBody => "not_checkable_no_body",
            Unchecked::PartialContent => "not_checkable_partial_content",
            Unchecked::NotDecoded => "not_checkable_not_decoded",
        }
    }
}

/// One announced digest with its outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DigestCheck {
    pub announced: Announced,
    /// The digest computed over the covered octets, in the encoding of the
    /// field (base64, or hex for an ETag); `None` when not computed.
    pub computed: Option<String>,
    pub outcome: Outcome,
}

/// Parses a `Content-MD5` value.
pub fn parse_content_md5(text: &str, out: &mut Vec<Announced>) {
    let text = text.trim();
    out.push(Announced {
        field: DigestField::ContentMd5,
        token: "md5".to_owned(),
        algorithm: Some(Algorithm::Md5),
        text: text.to_owned(),
        value: decode_base64(text, 16),
    });
}

/// Parses an RFC 3230 `Digest` value: `algorithm=base64` items separated
/// by commas.
pub fn parse_digest(text: &str, out: &mut Vec<Announced>) {
    for item in text.split(',') {
        let Some((token, value)) = item.split_once('=') else {
            if !item.trim().is_empty() {
                push_unparsed(DigestField::Digest, item, out);
            }
            continue;
        };
        let (token, value) = (token.trim(), value.trim().trim_matches('"'));
        let algorithm = Algorithm::parse(token);
        let value = algorithm.and_then(|a| decode_base64(value, digest_length(a)));
        out.push(Announced {
            field: DigestField::Digest,
            token: token.to_owned(),
            algorithm,
            text: item.trim().to_owned(),
            value,
        });
    }
}

/// Parses an RFC 9530 `Content-Digest` or `Repr-Digest` value, a
/// structured-field dictionary of byte sequences: `sha-256=:base64:`.
/// Parameters after `;` are ignored.
pub fn parse_structured(field: DigestField, text: &str, out: &mut Vec<Announced>) {
    for item in text.split(',') {
        let item = item.split(';').next().unwrap_or_default().trim();
        if item.is_empty() {
            continue;
        }
        let Some((token, value)) = item.split_once('=') else {
            push_unparsed(field, item, out);
            continue;
        };
        let token = token.trim();
        let algorithm = Algorithm::parse(token);
        let value = value.trim();
        let inner = value
            .strip_prefix(':')
            .and_then(|value| value.strip_suffix(':'));
        let decoded = match (algorithm, inner) {
            (Some(algorithm), Some(inner)) => decode_base64(inner, digest_length(algorithm)),
            _ => None,
        };
        out.push(Announced {
            field,
            token: token.to_owned(),
            algorithm,
            text: item.to_owned(),
            value: decoded,
        });
    }
}

/// Parses an ETag as the MD5 of a single-part S3 upload: a strong tag of
/// 32 hex digits. Multipart tags (`-N` suffix) and weak tags are not
/// digests and give nothing.
pub fn parse_s3_etag(text: &str, out: &mut Vec<Announced>) {
    let Some(inner) = text
        .trim()
        .strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"'))
    else {
        return;
    };
    if inner.len() != 32 || !inner.bytes().all(|b| b.is_ascii_hexdigit()) {
        return;
    }
    out.push(Announced {
        field: DigestField::S3Etag,
        token: "md5".to_owned(),
        algorithm: Some(Algorithm::Md5),
        text: inner.to_owned(),
        value: hex::decode(inner).ok(),
    });
}

fn push_unparsed(field: DigestField, item: &str, out: &mut Vec<Announced>) {
    out.push(Announced {
        field,
        token: item.trim().to_owned(),
        algorithm: None,
        text: item.trim().to_owned(),
        value: None,
    });
}

fn digest_length(algorithm: Algorithm) -> usize {
    match algorithm {
        Algorithm::Md5 => 16,
        Algorithm::Sha1 => 20,
        Algorithm::Sha256 => 32,
        Algorithm::Sha512 => 64,
    }
}

/// Decodes base64, with or without padding, of exactly `length` octets.
fn decode_base64(text: &str, length: usize) -> Option<Vec<u8>> {
    let decoded = STANDARD
        .decode(text)
        .or_else(|_| STANDARD_NO_PAD.decode(text))
        .ok()?;
    (decoded.len() == length).then_some(decoded)
}

/// The body's hashes and shape, as [`check`] needs them.
#[derive(Clone, Copy, Debug)]
pub struct BodyView<'a> {
    /// Hashes of the content, `None` when part of it is missing.
    pub content: Option<&'a Hashes>,
    /// Hashes of the representation: the content itself when no content
    /// coding applies, `None` when it could not be decoded.
    pub representation: Option<&'a Hashes>,
    /// The response has no body by its status or request method.
    pub no_body: bool,
    /// The response is 206 Partial Content.
    pub partial: bool,
}

/// Compares one announced digest with the body.
pub fn check(announced: &Announced, body: BodyView<'_>) -> DigestCheck {
    let (outcome, computed) = compare(announced, body);
    DigestCheck {
        announced: announced.clone(),
        computed,
        outcome,
    }
}

fn compare(announced: &Announced, body: BodyView<'_>) -> (Outcome, Option<String>) {
    let unchecked = |reason| (Outcome::NotCheckable(reason), None);
    let Some(algorithm) = announced.algorithm else {
        return unchecked(Unchecked::UnknownAlgorithm);
    };
    let Some(expected) = &announced.value else {
        return unchecked(Unchecked::InvalidValue);
    };
    if body.no_body {
        return unchecked(Unchecked::NoBody);
    }
    let covers = announced.field.covers();
    let whole_representation = matches!(
        announced.field,
        DigestField::ReprDigest | DigestField::Digest | DigestField::S3Etag
    );
    if body.partial && whole_representation {
        return unchecked(Unchecked::PartialContent);
    }
    let Some(content) = body.content else {
        return unchecked(Unchecked::BodyIncomplete);
    };
    let hashes = match covers {
        Covers::Content => content,
        Covers::Representation => match body.representation {
            Some(hashes) => hashes,
            None => return unchecked(Unchecked::NotDecoded),
        },
    };
    let Some(actual) = hashes.get(algorithm) else {
        return unchecked(Unchecked::UnknownAlgorithm);
    };
    let computed = if announced.field == DigestField::S3Etag {
        hex::encode(actual)
    } else {
        STANDARD.encode(actual)
    };
    let outcome = if actual == expected.as_slice() {
        Outcome::Verified
    } else {
        Outcome::Mismatch
    };
    (outcome, Some(computed))
}
