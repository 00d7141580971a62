//! Several digests over one pass of the data, in the read modes that
//! manifests name.

use std::io::{self, Read};

use sha2::digest::DynDigest;
use thiserror::Error;

use crate::algorithm::{Algorithm, Mode};

/// One digest to compute: an algorithm over the bytes as a mode reads them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Request {
    pub algorithm: Algorithm,
    pub mode: Mode,
}

/// Failure to compute a digest from data that was read.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum HashError {
    /// BITS mode over a number of `0`/`1` characters that is not a whole
    /// number of bytes; the hash implementations here take bytes only.
    #[error(
        "BITS mode (`^`) message of {bits} bits is not a whole number of bytes, \
         which this tool cannot hash; check it with `shasum -0 -c`"
    )]
    PartialByte { bits: u64 },
}

/// Computes several digests over the same data, each request once.
pub struct MultiHasher {
    states: Vec<State>,
}

struct State {
    request: Request,
    hasher: Box<dyn DynDigest + Send>,
    transform: Transform,
    /// Bytes after the transform, reused between updates.
    scratch: Vec<u8>,
}

/// Change a read mode makes to the bytes before hashing.
enum Transform {
    /// The bytes as they are.
    None,
    /// CRLF and lone CR become LF. `pending_cr` is a CR at the end of the
    /// previous update, whose meaning depends on the next byte.
    Newlines { pending_cr: bool },
    /// `0` and `1` characters packed into bytes, most significant bit
    /// first. `partial` contains the `bits % 8` bits not yet written.
    Bits { partial: u8, bits: u64 },
}

impl MultiHasher {
    /// Creates a hasher for every request; each result of
    /// [`MultiHasher::finish`] is at the index of its request.
    pub fn new(requests: &[Request]) -> MultiHasher {
        let states = requests
            .iter()
            .map(|&request| State {
                request,
                hasher: new_digest(request.algorithm),
                transform: match request.mode.canonical() {
                    Mode::Universal => Transform::Newlines { pending_cr: false },
                    Mode::Bits => Transform::Bits {
                        partial: 0,
                        bits: 0,
                    },
                    _ => Transform::None,
                },
                scratch: Vec::new(),
            })
            .collect();
        MultiHasher { states }
    }

    /// Feeds the next bytes to every digest.
    pub fn update(&mut self, bytes: &[u8]) {
        for state in &mut self.states {
            state.update(bytes);
        }
    }

    /// Returns each request with its digest in lower-case hex, in the
    /// order of the requests.
    pub fn finish(self) -> Digests {
        self.states
            .into_iter()
            .map(|state| (state.request, state.finish()))
            .collect()
    }
}

impl State {
    fn update(&mut self, bytes: &[u8]) {
        match &mut self.transform {
            Transform::None => self.hasher.update(bytes),
            Transform::Newlines { pending_cr } => {
                self.scratch.clear();
                translate_newlines(bytes, pending_cr, &mut self.scratch);
                self.hasher.update(&self.scratch);
            }
            Transform::Bits { partial, bits } => {
                self.scratch.clear();
                pack_bits(bytes, partial, bits, &mut self.scratch);
                self.hasher.update(&self.scratch);
            }
        }
    }

    fn finish(mut self) -> Result<String, HashError> {
        match self.transform {
            Transform::None => {}
            Transform::Newlines { pending_cr } => {
                if pending_cr {
                    self.hasher.update(b"\n");
                }
            }
            Transform::Bits { bits, .. } => {
                if !bits.is_multiple_of(8) {
                    return Err(HashError::PartialByte { bits });
                }
            }
        }
        Ok(hex::encode(self.hasher.finalize()))
    }
}

fn new_digest(algorithm: Algorithm) -> Box<dyn DynDigest + Send> {
    match algorithm {
        Algorithm::Md5 => Box::new(md5::Md5::default()),
        Algorithm::Sha1 => Box::new(sha1::Sha1::default()),
        Algorithm::Sha224 => Box::new(sha2::Sha224::default()),
        Algorithm::Sha256 => Box::new(sha2::Sha256::default()),
        Algorithm::Sha384 => Box::new(sha2::Sha384::default()),
        Algorithm::Sha512 => Box::new(sha2::Sha512::default()),
        Algorithm::Sha512_224 => Box::new(sha2::Sha512_224::default()),
        Algorithm::Sha512_256 => Box::new(sha2::Sha512_256::default()),
    }
}

/// Appends `bytes` to `out` with CRLF and lone CR turned into LF, as
/// `shasum -U` reads a file.
fn translate_newlines(bytes: &[u8], pending_cr: &mut bool, out: &mut Vec<u8>) {
    for &byte in bytes {
        if *pending_cr {
            *pending_cr = false;
            out.push(b'\n');
            if byte == b'\n' {
                continue;
            }
        }
        if byte == b'\r' {
            *pending_cr = true;
        } else {
            out.push(byte);
        }
    }
}

/// Appends the whole bytes that the `0` and `1` characters of `bytes`
/// complete, as `shasum -0` reads a file; other bytes are ignored.
fn pack_bits(bytes: &[u8], partial: &mut u8, bits: &mut u64, out: &mut Vec<u8>) {
    for &byte in bytes {
        let bit = match byte {
            b'0' => 0,
            b'1' => 1,
            _ => continue,
        };
        *partial = (*partial << 1) | bit;
        *bits += 1;
        if bits.is_multiple_of(8) {
            out.push(*partial);
            *partial = 0;
        }
    }
}

/// Each request with its digest in lower-case hex, or why it has none.
pub type Digests = Vec<(Request, Result<String, HashError>)>;

/// Reads `reader` to the end through `buffer` and returns the number of
/// bytes read and every request's digest.
pub fn hash_reader(
    mut reader: impl Read,
    requests: &[Request],
    buffer: &mut [u8],
) -> io::Result<(u64, Digests)> {
    let mut hasher = MultiHasher::new(requests);
    let mut total = 0u64;
    loop {
        let read = match reader.read(buffer) {
            Ok(0) => break,
            Ok(read) => read,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        hasher.update(&buffer[..read]);
        total += read as u64;
    }
    Ok((total, hasher.finish()))
}

#[cfg(test)]
mod tests {
    use super::{HashError, MultiHasher, Request, hash_reader};
    use crate::algorithm::{Algorithm, Mode};

    fn digest(algorithm: Algorithm, mode: Mode, data: &[u8]) -> Result<String, HashError> {
        let request = Request { algorithm, mode };
        let mut buffer = [0u8; 3];
        let (_, results) = hash_reader(data, &[request], &mut buffer).expect("reading a slice");
        results.into_iter().next().expect("one result").1
    }

    #[test]
    fn known_answers() {
        // FIPS 180-2 appendix examples and RFC 1321 for the message "abc".
        let cases = [
            (Algorithm::Md5, "900150983cd24fb0d6963f7d28e17f72"),
            (Algorithm::Sha1, "a9993e364706816aba3e25717850c26c9cd0d89d"),
            (
                Algorithm::Sha256,
                "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            ),
        ];
        for (algorithm, expected) in cases {
            let found = digest(algorithm, Mode::Binary, b"abc");
            assert_eq!(found.as_deref(), Ok(expected), "{algorithm}");
        }
    }

    #[test]
    fn text_equals_binary() {
        let text = digest(Algorithm::Sha256, Mode::Text, b"a\r\nb");
        let binary = digest(Algorithm::Sha256, Mode::Binary, b"a\r\nb");
        assert_eq!(text, binary);
    }

    #[test]
    fn universal_translates_line_ends() {
        let unix = digest(Algorithm::Sha1, Mode::Binary, b"a\nb\nc\n\n");
        // The 3-byte buffer splits the CRLF pairs across reads.
        let windows = digest(Algorithm::Sha1, Mode::Universal, b"a\r\nb\rc\r\r\n");
        assert_eq!(windows, unix);
    }

    #[test]
    fn universal_trailing_cr() {
        let unix = digest(Algorithm::Sha1, Mode::Binary, b"ab\n");
        assert_eq!(digest(Algorithm::Sha1, Mode::Portable, b"ab\r"), unix);
    }

    #[test]
    fn universal_differs_from_binary() {
        let binary = digest(Algorithm::Sha1, Mode::Binary, b"a\r\n");
        let universal = digest(Algorithm::Sha1, Mode::Universal, b"a\r\n");
        assert_ne!(binary, universal);
    }

    #[test]
    fn bits_pack_into_bytes() {
        let packed = digest(Algorithm::Sha256, Mode::Binary, b"abc");
        // "abc" is 0x61 0x62 0x63; spaces and newlines are ignored.
        let bits = b"01100001 01100010\n0110 0011\n";
        assert_eq!(digest(Algorithm::Sha256, Mode::Bits, bits), packed);
    }

    #[test]
    fn bits_partial_byte_rejected() {
        let found = digest(Algorithm::Sha256, Mode::Bits, b"0001100");
        assert_eq!(found, Err(HashError::PartialByte { bits: 7 }));
    }

    #[test]
    fn several_requests_one_pass() {
        let requests = [
            Request {
                algorithm: Algorithm::Md5,
                mode: Mode::Binary,
            },
            Request {
                algorithm: Algorithm::Sha256,
                mode: Mode::Binary,
            },
        ];
        let mut hasher = MultiHasher::new(&requests);
        hasher.update(b"a");
        hasher.update(b"bc");
        let results = hasher.finish();
        assert_eq!(results.len(), 2);
        assert_eq!(results[0].0, requests[0]);
        assert_eq!(
            results[0].1.as_deref(),
            Ok("900150983cd24fb0d6963f7d28e17f72")
        );
        assert_eq!(results[1].0, requests[1]);
        assert_eq!(
            results[1].1.as_deref(),
            Ok("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        );
    }

    #[test]
    fn reader_counts_bytes() {
        let request = Request {
            algorithm: Algorithm::Md5,
            mode: Mode::Binary,
        };
        let mut buffer = [0u8; 4];
        let (size, _) = hash_reader(&b"0123456789"[..], &[request], &mut buffer).expect("read");
        assert_eq!(size, 10);
    }
}
