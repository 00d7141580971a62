//! Byte-order aware field access shared by the pcap and pcapng parsers.

/// Byte order of the multi-byte fields in a pcap file or a pcapng section.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ByteOrder {
    /// Least significant byte first, as written by x86 and ARM hosts.
    Little,
    /// Most significant byte first.
    Big,
}

impl ByteOrder {
    /// Reads a `u16` at `at`, or `None` when fewer than 2 bytes remain there.
    pub fn u16_at(self, bytes: &[u8], at: usize) -> Option<u16> {
        let field: [u8; 2] = bytes.get(at..at.checked_add(2)?)?.try_into().ok()?;
        Some(match self {
            Self::Little => u16::from_le_bytes(field),
            Self::Big => u16::from_be_bytes(field),
        })
    }

    /// Reads a `u32` at `at`, or `None` when fewer than 4 bytes remain there.
    pub fn u32_at(self, bytes: &[u8], at: usize) -> Option<u32> {
        let field: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(match self {
            Self::Little => u32::from_le_bytes(field),
            Self::Big => u32::from_be_bytes(field),
        })
    }

    /// Reads a `u64` at `at`, or `None` when fewer than 8 bytes remain there.
    pub fn u64_at(self, bytes: &[u8], at: usize) -> Option<u64> {
        let field: [u8; 8] = bytes.get(at..at.checked_add(8)?)?.try_into().ok()?;
        Some(match self {
            Self::Little => u64::from_le_bytes(field),
            Self::Big => u64::from_be_bytes(field),
        })
    }
}

/// Reads a big-endian (network order) `u16` at `at`.
pub(crate) fn be16(bytes: &[u8], at: usize) -> Option<u16> {
    ByteOrder::Big.u16_at(bytes, at)
}

/// Reads a big-endian (network order) `u32` at `at`.
pub(crate) fn be32(bytes: &[u8], at: usize) -> Option<u32> {
    ByteOrder::Big.u32_at(bytes, at)
}

/// Outcome of a search for the next plausible record or block header in a window of bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scan {
    /// A plausible header starts at this index.
    Found(usize),
    /// The candidate at `at` can only be judged with at least `len` bytes from `at` on.
    NeedMore {
        /// Index of the candidate in the window.
        at: usize,
        /// Bytes needed from `at` to judge it.
        len: usize,
    },
    /// No header starts before this index, so these bytes can be dropped.
    NotFound(usize),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn u32_little_endian() {
        assert_eq!(
            ByteOrder::Little.u32_at(&[1, 2, 3, 4], 0),
            Some(0x0403_0201)
        );
    }

    #[test]
    fn u32_big_endian() {
        assert_eq!(ByteOrder::Big.u32_at(&[1, 2, 3, 4], 0), Some(0x0102_0304));
    }

    #[test]
    fn u16_past_end_is_none() {
        assert_eq!(ByteOrder::Big.u16_at(&[1, 2, 3], 2), None);
    }

    #[test]
    fn u64_offset_overflow_is_none() {
        assert_eq!(ByteOrder::Little.u64_at(&[0; 8], usize::MAX), None);
    }
}
