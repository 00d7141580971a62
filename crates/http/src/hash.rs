//! Hashes of body octets taken while they stream past, and the content
//! decoders that turn the content into the representation.

use std::io::{self, Write};

use brotli_decompressor::DecompressorWriter;
use flate2::write::{DeflateDecoder, GzDecoder, ZlibDecoder};
use md5::Md5;
use sha1::Sha1;
use sha2::{Digest as _, Sha256, Sha512};

/// Hash algorithms that a digest field can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Algorithm {
    Md5,
    Sha1,
    Sha256,
    Sha512,
}

impl Algorithm {
    /// Parses an algorithm token as the HTTP digest registries spell it
    /// (`md5`, `sha`, `sha-256`, `sha-512`), ignoring case.
    pub fn parse(token: &str) -> Option<Algorithm> {
        match token.to_ascii_lowercase().as_str() {
            "md5" => Some(Algorithm::Md5),
            "sha" => Some(Algorithm::Sha1),
            "sha-256" => Some(Algorithm::Sha256),
            "sha-512" => Some(Algorithm::Sha512),
            _ => None,
        }
    }

    /// Returns the registry name, lower case.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Md5 => "md5",
            Algorithm::Sha1 => "sha",
            Algorithm::Sha256 => "sha-256",
            Algorithm::Sha512 => "sha-512",
        }
    }
}

/// The finished hashes of one octet sequence. SHA-256 is always computed.
/// MD5, SHA-1 and SHA-512 are computed when the stream's [`BodyHashing`]
/// or a digest field of the message calls for them.
///
/// [`BodyHashing`]: crate::BodyHashing
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Hashes {
    /// Octets hashed.
    pub length: u64,
    pub sha256: [u8; 32],
    pub md5: Option<[u8; 16]>,
    pub sha1: Option<[u8; 20]>,
    pub sha512: Option<Vec<u8>>,
}

impl Hashes {
    /// Returns the digest by `algorithm`, when it was computed.
    pub fn get(&self, algorithm: Algorithm) -> Option<&[u8]> {
        match algorithm {
            Algorithm::Md5 => self.md5.as_ref().map(|d| &d[..]),
            Algorithm::Sha1 => self.sha1.as_ref().map(|d| &d[..]),
            Algorithm::Sha256 => Some(&self.sha256),
            Algorithm::Sha512 => self.sha512.as_deref(),
        }
    }
}

/// Running hashes over a stream of octets, with a cap on the octets
/// accepted: writing past `limit` fails, which stops a content decoder
/// from inflating a compression bomb any further.
pub(crate) struct Hasher {
    length: u64,
    limit: u64,
    sha256: Sha256,
    md5: Option<Md5>,
    sha1: Option<Sha1>,
    sha512: Option<Sha512>,
}

impl Hasher {
    /// Starts SHA-256 and each other algorithm that `extra` names.
    pub(crate) fn new(limit: u64, extra: &[Algorithm]) -> Self {
        Hasher {
            length: 0,
            limit,
            sha256: Sha256::new(),
            md5: extra.contains(&Algorithm::Md5).then(Md5::new),
            sha1: extra.contains(&Algorithm::Sha1).then(Sha1::new),
            sha512: extra.contains(&Algorithm::Sha512).then(Sha512::new),
        }
    }

    pub(crate) fn update(&mut self, data: &[u8]) {
        self.length = self.length.saturating_add(data.len() as u64);
        self.sha256.update(data);
        if let Some(md5) = &mut self.md5 {
            md5.update(data);
        }
        if let Some(sha1) = &mut self.sha1 {
            sha1.update(data);
        }
        if let Some(sha512) = &mut self.sha512 {
            sha512.update(data);
        }
    }

    pub(crate) fn finish(self) -> Hashes {
        Hashes {
            length: self.length,
            sha256: self.sha256.finalize().into(),
            md5: self.md5.map(|h| h.finalize().into()),
            sha1: self.sha1.map(|h| h.finalize().into()),
            sha512: self.sha512.map(|h| h.finalize().to_vec()),
        }
    }
}

impl Write for Hasher {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.length.saturating_add(data.len() as u64) > self.limit {
            return Err(io::Error::from(io::ErrorKind::FileTooLarge));
        }
        self.update(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A content coding named by `Content-Encoding`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Coding {
    Gzip,
    /// `deflate`: a zlib stream (RFC 9110), or the raw DEFLATE data that
    /// some servers send instead; the first two octets tell them apart.
    Deflate,
    Brotli,
}

impl Coding {
    /// Parses one coding name; `identity` and unknown names give `None`.
    pub fn parse(token: &str) -> Option<Coding> {
        match token.trim().to_ascii_lowercase().as_str() {
            "gzip" | "x-gzip" => Some(Coding::Gzip),
            "deflate" => Some(Coding::Deflate),
            "br" => Some(Coding::Brotli),
            _ => None,
        }
    }
}

/// The reason the representation could not be hashed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeFailure {
    /// The content is not valid data of its coding.
    Invalid,
    /// The decoded octets passed the size limit.
    TooLarge,
}

/// Brotli's window buffer, in octets.
const BROTLI_BUFFER: usize = 4096;

enum Inner {
    /// `deflate` waiting for its first two octets.
    Deflate(Vec<u8>, Box<Hasher>),
    Gzip(Box<GzDecoder<Hasher>>),
    Zlib(Box<ZlibDecoder<Hasher>>),
    Raw(Box<DeflateDecoder<Hasher>>),
    Brotli(Box<DecompressorWriter<Hasher>>),
    Failed(DecodeFailure),
}

/// Decodes content octets as they arrive and hashes the result.
pub(crate) struct ContentDecoder {
    inner: Inner,
}

impl ContentDecoder {
    pub(crate) fn new(coding: Coding, hasher: Hasher) -> Self {
        let inner = match coding {
            Coding::Gzip => Inner::Gzip(Box::new(GzDecoder::new(hasher))),
            Coding::Deflate => Inner::Deflate(Vec::with_capacity(2), Box::new(hasher)),
            Coding::Brotli => {
                Inner::Brotli(Box::new(DecompressorWriter::new(hasher, BROTLI_BUFFER)))
            }
        };
        ContentDecoder { inner }
    }

    pub(crate) fn write(&mut self, mut data: &[u8]) {
        if let Inner::Deflate(head, _) = &mut self.inner {
            let take = (2 - head.len()).min(data.len());
            head.extend_from_slice(&data[..take]);
            data = &data[take..];
            if head.len() < 2 {
                return;
            }
            self.start_deflate();
        }
        let result = match &mut self.inner {
            Inner::Gzip(decoder) => decoder.write_all(data),
            Inner::Zlib(decoder) => decoder.write_all(data),
            Inner::Raw(decoder) => decoder.write_all(data),
            Inner::Brotli(decoder) => decoder.write_all(data),
            Inner::Deflate(..) | Inner::Failed(_) => Ok(()),
        };
        if let Err(err) = result {
            self.fail(&err);
        }
    }

    /// Chooses zlib or raw DEFLATE from the first two octets (RFC 1950
    /// section 2.2: method 8, and the header is a multiple of 31).
    fn start_deflate(&mut self) {
        let placeholder = Inner::Failed(DecodeFailure::Invalid);
        let Inner::Deflate(head, hasher) = std::mem::replace(&mut self.inner, placeholder) else {
            return;
        };
        let (cmf, flg) = (head[0], head[1]);
        let zlib = cmf & 0x0f == 8 && (u16::from(cmf) * 256 + u16::from(flg)) % 31 == 0;
        let mut inner = if zlib {
            Inner::Zlib(Box::new(ZlibDecoder::new(*hasher)))
        } else {
            Inner::Raw(Box::new(DeflateDecoder::new(*hasher)))
        };
        let result = match &mut inner {
            Inner::Zlib(decoder) => decoder.write_all(&head),
            Inner::Raw(decoder) => decoder.write_all(&head),
            _ => Ok(()),
        };
        self.inner = inner;
        if let Err(err) = result {
            self.fail(&err);
        }
    }

    fn fail(&mut self, err: &io::Error) {
        let failure = if err.kind() == io::ErrorKind::FileTooLarge {
            DecodeFailure::TooLarge
        } else {
            DecodeFailure::Invalid
        };
        self.inner = Inner::Failed(failure);
    }

    /// Ends the content; returns the representation's hashes.
    pub(crate) fn finish(self) -> Result<Hashes, DecodeFailure> {
        let finished = match self.inner {
            Inner::Gzip(decoder) => decoder.finish(),
            Inner::Zlib(decoder) => decoder.finish(),
            Inner::Raw(decoder) => decoder.finish(),
            Inner::Brotli(mut decoder) => match decoder.close() {
                Ok(()) => decoder
                    .into_inner()
                    .map_err(|_| io::Error::from(io::ErrorKind::InvalidData)),
                Err(err) => Err(err),
            },
            Inner::Deflate(..) => return Err(DecodeFailure::Invalid),
            Inner::Failed(failure) => return Err(failure),
        };
        match finished {
            Ok(hasher) => Ok(hasher.finish()),
            Err(err) if err.kind() == io::ErrorKind::FileTooLarge => Err(DecodeFailure::TooLarge),
            Err(_) => Err(DecodeFailure::Invalid),
        }
    }
}
