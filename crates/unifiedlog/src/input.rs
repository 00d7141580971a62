//! A fixed-size read buffer that keeps track of input offsets.

use std::io::{self, ErrorKind, Read};

/// Bytes read from the input but not yet consumed sit in `buf[start..filled]`.
/// The buffer never grows, which bounds the memory a reader needs.
pub(crate) struct Input<R> {
    reader: R,
    pub(crate) buf: Box<[u8]>,
    pub(crate) start: usize,
    pub(crate) filled: usize,
    /// Input offset of `buf[0]`.
    pub(crate) base: u64,
    pub(crate) eof: bool,
    /// Bytes read from the input so far.
    pub(crate) total: u64,
}

impl<R: Read> Input<R> {
    pub(crate) fn new(reader: R, capacity: usize) -> Self {
        Self {
            reader,
            buf: vec![0; capacity].into_boxed_slice(),
            start: 0,
            filled: 0,
            base: 0,
            eof: false,
            total: 0,
        }
    }

    /// Input offset of `buf[index]`.
    pub(crate) fn offset(&self, index: usize) -> u64 {
        self.base + index as u64
    }

    pub(crate) fn is_full(&self) -> bool {
        self.start == 0 && self.filled == self.buf.len()
    }

    /// Moves the unconsumed bytes to the front of the buffer, then reads once
    /// into the free space. Returns the number of bytes read; 0 means the end
    /// of the input (or a full buffer, which callers check first).
    pub(crate) fn fill(&mut self) -> io::Result<usize> {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.filled, 0);
            self.base += self.start as u64;
            self.filled -= self.start;
            self.start = 0;
        }
        if self.eof || self.filled == self.buf.len() {
            return Ok(0);
        }
        loop {
            match self.reader.read(&mut self.buf[self.filled..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(0);
                }
                Ok(read) => {
                    self.filled += read;
                    self.total += read as u64;
                    return Ok(read);
                }
                Err(error) if error.kind() == ErrorKind::Interrupted => continue,
                Err(error) => return Err(error),
            }
        }
    }

    /// Reads until `want` bytes are buffered or the input ends.
    pub(crate) fn fill_to(&mut self, want: usize) -> io::Result<()> {
        let want = want.min(self.buf.len());
        while self.filled - self.start < want && !self.eof {
            self.fill()?;
        }
        Ok(())
    }

    /// Drops every buffered byte.
    pub(crate) fn discard(&mut self) {
        self.base += self.filled as u64;
        self.start = 0;
        self.filled = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_compacts_and_tracks_offsets() {
        let mut input = Input::new(&b"abcdefghij"[..], 4);
        input.fill_to(4).unwrap();
        assert_eq!(&input.buf[..input.filled], b"abcd");
        input.start = 3;
        input.fill().unwrap();
        assert_eq!(&input.buf[..input.filled], b"defg");
        assert_eq!(input.offset(0), 3);
        input.discard();
        assert_eq!(input.offset(0), 7);
        input.fill_to(4).unwrap();
        assert_eq!(&input.buf[..input.filled], b"hij");
        assert!(input.eof);
        assert_eq!(input.total, 10);
    }
}
