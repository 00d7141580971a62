//! Message body framing (RFC 9112 section 6): a declared length, the
//! chunked transfer coding, or the end of the connection.

/// Octets a chunk-size line (with extensions) may take.
const MAX_CHUNK_LINE: usize = 1024;

/// The rule that finds a body's end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// No body (HEAD, 1xx, 204, 304, or a request without one).
    None,
    ContentLength,
    Chunked,
    /// The body ends when the server closes the connection.
    Close,
}

impl Framing {
    pub fn name(self) -> &'static str {
        match self {
            Framing::None => "none",
            Framing::ContentLength => "content-length",
            Framing::Chunked => "chunked",
            Framing::Close => "close",
        }
    }
}

/// A chunked body that cannot be followed any further.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct FramingError {
    /// Offset of the bad octets within the slice given to `feed`.
    pub at: usize,
    pub detail: String,
}

#[derive(Debug)]
pub(crate) enum Chunk {
    Size(Vec<u8>),
    Data(u64),
    /// The CRLF after chunk data; the count of octets of it seen.
    DataEnd(u8),
    /// Trailer section. The buffer contains the current line, and the
    /// count is the octets of the section so far.
    Trailer(Vec<u8>, usize),
}

/// State of one body being delimited.
#[derive(Debug)]
pub(crate) enum Framer {
    Length(u64),
    Chunked {
        state: Chunk,
        chunks: u64,
        /// The trailer field lines seen so far, each ending in LF.
        trailer: Vec<u8>,
    },
    Close,
    Done,
    /// A chunked body after its last chunk and trailer section.
    ChunkedDone {
        chunks: u64,
        trailer: Vec<u8>,
    },
}

/// The result of one call to [`Framer::feed`].
pub(crate) struct Fed {
    pub consumed: usize,
    pub done: bool,
}

impl Framer {
    pub fn length(length: u64) -> Framer {
        if length == 0 {
            Framer::Done
        } else {
            Framer::Length(length)
        }
    }

    pub fn chunked() -> Framer {
        Framer::Chunked {
            state: Chunk::Size(Vec::new()),
            chunks: 0,
            trailer: Vec::new(),
        }
    }

    pub fn is_done(&self) -> bool {
        matches!(self, Framer::Done | Framer::ChunkedDone { .. })
    }

    /// Chunks started so far.
    pub fn chunks(&self) -> u64 {
        match self {
            Framer::Chunked { chunks, .. } | Framer::ChunkedDone { chunks, .. } => *chunks,
            _ => 0,
        }
    }

    /// Returns the field lines of a finished chunked body's trailer
    /// section, empty when it had none.
    pub fn trailer(&self) -> &[u8] {
        match self {
            Framer::ChunkedDone { trailer, .. } => trailer,
            _ => &[],
        }
    }

    /// Takes body octets from `data`, handing the content (transfer coding
    /// removed) to `content`.
    pub fn feed(
        &mut self,
        data: &[u8],
        content: &mut dyn FnMut(&[u8]),
    ) -> Result<Fed, FramingError> {
        match self {
            Framer::Length(remaining) => {
                let take = usize::try_from(*remaining)
                    .unwrap_or(usize::MAX)
                    .min(data.len());
                content(&data[..take]);
                *remaining -= take as u64;
                let done = *remaining == 0;
                if done {
                    *self = Framer::Done;
                }
                Ok(Fed {
                    consumed: take,
                    done,
                })
            }
            Framer::Close => {
                content(data);
                Ok(Fed {
                    consumed: data.len(),
                    done: false,
                })
            }
            Framer::Done | Framer::ChunkedDone { .. } => Ok(Fed {
                consumed: 0,
                done: true,
            }),
            Framer::Chunked { .. } => self.feed_chunked(data, content),
        }
    }

    /// Skips `missing` octets lost by the capture; returns the octets of
    /// the gap beyond the body's end, or `None` when the framing is lost.
    pub fn skip(&mut self, missing: u64) -> Option<u64> {
        match self {
            Framer::Length(remaining) => {
                let taken = missing.min(*remaining);
                *remaining -= taken;
                if *remaining == 0 {
                    *self = Framer::Done;
                }
                Some(missing - taken)
            }
            Framer::Close => Some(0),
            Framer::Done | Framer::ChunkedDone { .. } => Some(missing),
            Framer::Chunked { .. } => None,
        }
    }

    fn feed_chunked(
        &mut self,
        data: &[u8],
        content: &mut dyn FnMut(&[u8]),
    ) -> Result<Fed, FramingError> {
        let mut at = 0;
        while at < data.len() {
            let Framer::Chunked {
                state,
                chunks,
                trailer,
            } = self
            else {
                break;
            };
            let rest = &data[at..];
            match state {
                Chunk::Size(line) => {
                    let Some(newline) = memchr::memchr(b'\n', rest) else {
                        line.extend_from_slice(rest);
                        if line.len() > MAX_CHUNK_LINE {
                            return Err(error(at, "chunk-size line longer than 1024 octets"));
                        }
                        at = data.len();
                        break;
                    };
                    line.extend_from_slice(&rest[..newline]);
                    let size = chunk_size(line).ok_or_else(|| {
                        let text = line.strip_suffix(b"\r").unwrap_or(line);
                        let shown = String::from_utf8_lossy(text).into_owned();
                        error(at, &format!("malformed chunk size {shown:?}"))
                    })?;
                    at += newline + 1;
                    *chunks += 1;
                    *state = if size == 0 {
                        Chunk::Trailer(Vec::new(), 0)
                    } else {
                        Chunk::Data(size)
                    };
                }
                Chunk::Data(remaining) => {
                    let take = usize::try_from(*remaining)
                        .unwrap_or(usize::MAX)
                        .min(rest.len());
                    content(&rest[..take]);
                    *remaining -= take as u64;
                    at += take;
                    if *remaining == 0 {
                        *state = Chunk::DataEnd(0);
                    }
                }
                Chunk::DataEnd(seen) => {
                    let byte = rest[0];
                    match (byte, *seen) {
                        (b'\r', 0) => *seen = 1,
                        (b'\n', _) => *state = Chunk::Size(Vec::new()),
                        _ => return Err(error(at, "chunk data not followed by CRLF")),
                    }
                    at += 1;
                }
                Chunk::Trailer(line, total) => {
                    let Some(newline) = memchr::memchr(b'\n', rest) else {
                        line.extend_from_slice(rest);
                        *total += rest.len();
                        if *total > crate::MAX_HEAD {
                            return Err(error(at, "trailer section over 64 KiB"));
                        }
                        at = data.len();
                        break;
                    };
                    line.extend_from_slice(&rest[..newline]);
                    *total += newline + 1;
                    at += newline + 1;
                    let empty = line.is_empty() || line.as_slice() == b"\r";
                    if !empty {
                        trailer.extend_from_slice(line);
                        trailer.push(b'\n');
                    }
                    line.clear();
                    if empty {
                        *self = Framer::ChunkedDone {
                            chunks: *chunks,
                            trailer: std::mem::take(trailer),
                        };
                        return Ok(Fed {
                            consumed: at,
                            done: true,
                        });
                    }
                }
            }
        }
        Ok(Fed {
            consumed: at,
            done: false,
        })
    }
}

fn error(at: usize, detail: &str) -> FramingError {
    FramingError {
        at,
        detail: detail.to_owned(),
    }
}

/// Parses a chunk-size line: hex digits, then optional whitespace and
/// chunk extensions after `;`. Sizes beyond 2^60 are rejected.
fn chunk_size(line: &[u8]) -> Option<u64> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let digits = line.split(|b| *b == b';').next()?;
    let digits = digits.trim_ascii();
    if digits.is_empty() || digits.len() > 15 || !digits.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    let text = std::str::from_utf8(digits).ok()?;
    u64::from_str_radix(text, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(framer: &mut Framer, data: &[u8]) -> (Vec<u8>, Result<Fed, FramingError>) {
        let mut out = Vec::new();
        let result = framer.feed(data, &mut |part| out.extend_from_slice(part));
        (out, result)
    }

    #[test]
    fn chunked_with_trailer() {
        let mut framer = Framer::chunked();
        let data = b"4;ext=1\r\nWiki\r\n5\r\npedia\r\n0\r\nX-Sum: 1\r\n\r\nNEXT";
        let (out, result) = run(&mut framer, data);
        assert_eq!(out, b"Wikipedia");
        let fed = result.ok();
        assert_eq!(fed.as_ref().map(|f| f.done), Some(true));
        assert_eq!(fed.map(|f| f.consumed), Some(data.len() - 4));
    }

    #[test]
    fn chunked_trailer_fields_kept() {
        let mut framer = Framer::chunked();
        let data = b"3\r\nabc\r\n0\r\nContent-Digest: sha-256=:x:\r\nX-Sum: 1\n\r\n";
        let (_, result) = run(&mut framer, data);
        assert_eq!(result.ok().map(|f| f.done), Some(true));
        let expected: &[u8] = b"Content-Digest: sha-256=:x:\r\nX-Sum: 1\n";
        assert_eq!(framer.trailer(), expected);
    }

    #[test]
    fn chunked_without_trailer_has_none() {
        let mut framer = Framer::chunked();
        let (_, result) = run(&mut framer, b"3\r\nabc\r\n0\r\n\r\n");
        assert_eq!(result.ok().map(|f| f.done), Some(true));
        assert!(framer.trailer().is_empty());
    }

    #[test]
    fn chunked_split_byte_by_byte() {
        let mut framer = Framer::chunked();
        let data = b"3\r\nabc\r\n0\r\n\r\n";
        let mut out = Vec::new();
        let mut done = false;
        for byte in data.chunks(1) {
            let fed = framer.feed(byte, &mut |part| out.extend_from_slice(part));
            done = fed.is_ok_and(|fed| fed.done);
        }
        assert_eq!(out, b"abc");
        assert!(done);
    }

    #[test]
    fn chunk_size_malformed() {
        let mut framer = Framer::chunked();
        let (_, result) = run(&mut framer, b"3\r\nabc\r\nzz\r\n");
        assert_eq!(result.err().map(|e| e.at), Some(8));
    }

    #[test]
    fn chunk_size_too_big() {
        assert_eq!(chunk_size(b"ffffffffffffffff"), None);
    }

    #[test]
    fn length_stops_at_end() {
        let mut framer = Framer::length(3);
        let (out, result) = run(&mut framer, b"abcdef");
        assert_eq!(out, b"abc");
        assert_eq!(result.ok().map(|f| f.consumed), Some(3));
    }

    #[test]
    fn skip_past_length_end() {
        let mut framer = Framer::length(3);
        assert_eq!(framer.skip(5), Some(2));
        assert!(framer.is_done());
    }
}
