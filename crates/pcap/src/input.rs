//! Buffered, optionally gzip-decompressing input with a reusable window over the stream.

use std::io::{self, Read};
use std::ops::Range;

use flate2::read::MultiGzDecoder;

/// Initial and minimum buffer size. Reads this large keep the per-packet cost to a
/// bounds check; the buffer grows only for a record or block larger than this.
pub(crate) const MIN_BUFFER_LEN: usize = 1 << 20;

/// The first two bytes of every gzip member (RFC 1952 section 2.3.1).
pub(crate) const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// A reader that counts the bytes it returns.
struct Counted<R> {
    inner: R,
    count: u64,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let read = self.inner.read(buf)?;
        self.count = self.count.saturating_add(read as u64);
        Ok(read)
    }
}

/// The compressed stream: the bytes read to detect gzip, replayed, then the rest.
type Replayed<R> = io::Chain<io::Cursor<Vec<u8>>, Counted<R>>;

/// The byte source: the reader as given, or a gzip decoder over it.
enum Source<R: Read> {
    Plain(Counted<R>),
    Gzip(Box<MultiGzDecoder<Replayed<R>>>),
}

impl<R: Read> Source<R> {
    /// Returns the number of bytes taken from the underlying reader.
    fn count(&self) -> u64 {
        match self {
            Self::Plain(reader) => reader.count,
            Self::Gzip(decoder) => {
                let (prefix, reader) = decoder.get_ref().get_ref();
                reader.count.saturating_add(prefix.get_ref().len() as u64)
            }
        }
    }
}

impl<R: Read> Read for Source<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Self::Plain(reader) => reader.read(buf),
            Self::Gzip(decoder) => decoder.read(buf),
        }
    }
}

/// A window `buf[start..end]` over the (decompressed) stream, refilled with large reads.
///
/// Invariant: `start <= end <= buf.len()`. Bytes before `start` stay in place until the
/// next `fill`, so ranges handed out by [`Input::take`] remain valid until then.
pub(crate) struct Input<R: Read> {
    source: Source<R>,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// Stream offset of `buf[0]`.
    base: u64,
    eof: bool,
    gzip: bool,
}

impl<R: Read> Input<R> {
    /// Wraps `reader`, reading its first bytes to detect gzip.
    pub(crate) fn new(mut reader: R) -> io::Result<Self> {
        let mut prefix = [0u8; 2];
        let prefix_len = read_up_to(&mut reader, &mut prefix)?;
        let prefix = prefix.get(..prefix_len).unwrap_or_default();
        let gzip = prefix == GZIP_MAGIC;
        let count = if gzip { 0 } else { prefix_len as u64 };
        let reader = Counted {
            inner: reader,
            count,
        };
        let source = if gzip {
            let replay = io::Cursor::new(prefix.to_vec()).chain(reader);
            Source::Gzip(Box::new(MultiGzDecoder::new(replay)))
        } else {
            Source::Plain(reader)
        };
        let mut input = Self {
            source,
            buf: vec![0; MIN_BUFFER_LEN],
            start: 0,
            end: 0,
            base: 0,
            eof: false,
            gzip,
        };
        if !gzip && let Some(head) = input.buf.get_mut(..prefix_len) {
            head.copy_from_slice(prefix);
            input.end = prefix_len;
        }
        Ok(input)
    }

    /// Tells whether the stream is gzip-compressed.
    pub(crate) fn is_gzip(&self) -> bool {
        self.gzip
    }

    /// Returns the number of bytes read from the underlying reader so far, compressed
    /// bytes for gzip input. Read-ahead makes it run ahead of [`Input::offset`].
    pub(crate) fn source_bytes(&self) -> u64 {
        self.source.count()
    }

    /// Returns the buffered bytes not yet consumed.
    pub(crate) fn window(&self) -> &[u8] {
        self.buf.get(self.start..self.end).unwrap_or_default()
    }

    /// Returns the bytes of an absolute buffer range from [`Input::take`].
    pub(crate) fn slice(&self, range: Range<usize>) -> &[u8] {
        self.buf.get(range).unwrap_or_default()
    }

    /// Returns the stream offset of the first unconsumed byte.
    pub(crate) fn offset(&self) -> u64 {
        self.base.saturating_add(self.start as u64)
    }

    /// Tells whether the source has reported its end; the window is then all that is left.
    pub(crate) fn at_eof(&self) -> bool {
        self.eof
    }

    /// Drops `len` bytes from the front of the window (at most the whole window).
    pub(crate) fn consume(&mut self, len: usize) {
        self.start = self.start.saturating_add(len).min(self.end);
    }

    /// Consumes `len` bytes and returns their absolute range for [`Input::slice`].
    pub(crate) fn take(&mut self, len: usize) -> Range<usize> {
        let first = self.start;
        self.consume(len);
        first..self.start
    }

    /// Makes the window at least `len` bytes long, reading and growing the buffer as
    /// needed. Returns `Ok(false)` when the stream ends first, and the window then
    /// contains everything that was left.
    pub(crate) fn fill(&mut self, len: usize) -> io::Result<bool> {
        if self.end - self.start >= len {
            return Ok(true);
        }
        if self.eof {
            return Ok(false);
        }
        // Compacting when the free tail is small keeps every read large.
        let free_tail = self.buf.len() - self.end;
        if self.buf.len() - self.start < len || free_tail < MIN_BUFFER_LEN / 4 {
            self.compact(len);
        }
        while self.end - self.start < len {
            let Some(free) = self.buf.get_mut(self.end..) else {
                return Err(io::Error::other("input buffer window is out of bounds"));
            };
            match self.source.read(free) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(read) => self.end += read,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => return Err(err),
            }
        }
        Ok(true)
    }

    /// Fills the whole buffer, or up to the end of the stream, for a search window.
    pub(crate) fn fill_buffer(&mut self) -> io::Result<()> {
        let capacity = self.buf.len().max(MIN_BUFFER_LEN);
        self.fill(capacity).map(drop)
    }

    /// Moves the window to the front of the buffer and grows the buffer to hold `len`.
    fn compact(&mut self, len: usize) {
        self.buf.copy_within(self.start..self.end, 0);
        self.base = self.base.saturating_add(self.start as u64);
        self.end -= self.start;
        self.start = 0;
        if self.buf.len() < len {
            self.buf.resize(len, 0);
        }
    }
}

/// Reads until `buf` is full or the reader ends; returns the number of bytes read.
fn read_up_to(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while let Some(free) = buf.get_mut(filled..) {
        if free.is_empty() {
            break;
        }
        match reader.read(free) {
            Ok(0) => break,
            Ok(read) => filled += read,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return Err(err),
        }
    }
    Ok(filled)
}
