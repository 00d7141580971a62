//! A cursor over QUIC wire bytes: big-endian integers and the
//! variable-length integer encoding of RFC 9000 section 16.
//!
//! Every read returns `None` when the bytes run out, so parsers built on it
//! never index past the end of their input.

/// Largest value a variable-length integer can hold: 2^62 - 1.
pub const VARINT_MAX: u64 = (1 << 62) - 1;

/// Reads forward through a byte slice; failed reads leave the position unchanged.
#[derive(Debug, Clone)]
pub(crate) struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    /// Starts at the first byte of `data`.
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Self { data, pos: 0 }
    }

    /// Bytes consumed so far, which is also the offset of the next read.
    pub(crate) fn position(&self) -> usize {
        self.pos
    }

    /// Bytes not yet consumed.
    pub(crate) fn remaining(&self) -> usize {
        self.data.len().saturating_sub(self.pos)
    }

    /// Returns the bytes not yet consumed, without consuming them.
    pub(crate) fn rest(&self) -> &'a [u8] {
        self.data.get(self.pos..).unwrap_or_default()
    }

    /// Consumes `len` bytes.
    pub(crate) fn bytes(&mut self, len: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(len)?;
        let slice = self.data.get(self.pos..end)?;
        self.pos = end;
        Some(slice)
    }

    /// Consumes one byte.
    pub(crate) fn u8(&mut self) -> Option<u8> {
        let byte = *self.data.get(self.pos)?;
        self.pos += 1;
        Some(byte)
    }

    /// Consumes a big-endian 32-bit integer.
    pub(crate) fn u32(&mut self) -> Option<u32> {
        let bytes: [u8; 4] = self.bytes(4)?.try_into().ok()?;
        Some(u32::from_be_bytes(bytes))
    }

    /// Consumes a variable-length integer: the two high bits of the first
    /// byte give its size (1, 2, 4 or 8 bytes), the other 6, 14, 30 or 62
    /// bits its value.
    pub(crate) fn varint(&mut self) -> Option<u64> {
        let first = *self.data.get(self.pos)?;
        let len = 1usize << (first >> 6);
        let bytes = self.data.get(self.pos..self.pos.checked_add(len)?)?;
        let value = bytes
            .iter()
            .skip(1)
            .fold(u64::from(first & 0x3f), |acc, &b| (acc << 8) | u64::from(b));
        self.pos += len;
        Some(value)
    }
}

/// Encodes `value` as a variable-length integer in its shortest form, or
/// returns `None` when it exceeds [`VARINT_MAX`].
pub fn encode_varint(value: u64) -> Option<Vec<u8>> {
    let (len, tag): (usize, u8) = match value {
        0..=0x3f => (1, 0x00),
        0x40..=0x3fff => (2, 0x40),
        0x4000..=0x3fff_ffff => (4, 0x80),
        0x4000_0000..=VARINT_MAX => (8, 0xc0),
        _ => return None,
    };
    let be = value.to_be_bytes();
    let mut out = be.get(8 - len..)?.to_vec();
    if let Some(first) = out.first_mut() {
        *first |= tag;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The four examples of RFC 9000 appendix A.1.
    const EXAMPLES: [(&[u8], u64); 4] = [
        (
            &[0xc2, 0x19, 0x7c, 0x5e, 0xff, 0x14, 0xe8, 0x8c],
            151_288_809_941_952_652,
        ),
        (&[0x9d, 0x7f, 0x3e, 0x7d], 494_878_333),
        (&[0x7b, 0xbd], 15_293),
        (&[0x25], 37),
    ];

    #[test]
    fn varint_decodes_rfc_examples() {
        for (bytes, value) in EXAMPLES {
            assert_eq!(Cursor::new(bytes).varint(), Some(value), "{bytes:02x?}");
        }
    }

    #[test]
    fn varint_encodes_rfc_examples() {
        for (bytes, value) in EXAMPLES {
            assert_eq!(encode_varint(value).as_deref(), Some(bytes), "{value}");
        }
    }

    #[test]
    fn varint_accepts_longer_encoding() {
        // RFC 9000 A.1: 0x40 0x25 is also 37.
        assert_eq!(Cursor::new(&[0x40, 0x25]).varint(), Some(37));
    }

    #[test]
    fn varint_truncated_keeps_position() {
        let mut cursor = Cursor::new(&[0x80, 0x01, 0x02]);
        assert_eq!(cursor.varint(), None);
        assert_eq!(cursor.position(), 0);
    }

    #[test]
    fn encode_rejects_too_large() {
        assert_eq!(encode_varint(VARINT_MAX + 1), None);
    }

    #[test]
    fn bytes_past_end_is_none() {
        let mut cursor = Cursor::new(&[1, 2, 3]);
        assert_eq!(cursor.bytes(usize::MAX), None);
        assert_eq!(cursor.rest(), &[1, 2, 3]);
    }

    #[test]
    fn u32_reads_big_endian() {
        assert_eq!(
            Cursor::new(&[0x6b, 0x33, 0x43, 0xcf]).u32(),
            Some(0x6b33_43cf)
        );
    }
}
