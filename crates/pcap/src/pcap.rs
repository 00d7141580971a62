//! Classic libpcap files: the 24-byte file header and the 16-byte record headers.
//!
//! Layout as in the IETF draft "PCAP Capture File Format" (draft-ietf-opsawg-pcap):
//! magic, version 2.4, two reserved words, snapshot length and the link type, then
//! records of `ts_sec, ts_frac, captured length, original length` followed by the data.

use thiserror::Error;

use crate::bytes::{ByteOrder, Scan};
use crate::linktype::LinkType;

/// Length of the file header.
pub const FILE_HEADER_LEN: usize = 24;
/// Length of a record header.
pub const RECORD_HEADER_LEN: usize = 16;
/// Largest captured length accepted when the file header gives no usable snapshot length.
/// 262144 is the largest snapshot length libpcap and Wireshark use for IP link types.
pub const DEFAULT_SNAPLEN: u32 = 262_144;
/// Largest captured length accepted whatever the file header gives, so that a corrupt
/// snapshot length cannot make the reader allocate gigabytes.
pub const MAX_RECORD_LEN: u32 = 64 << 20;

/// Magic number of files with microsecond timestamps, read in the writer's byte order.
pub const MAGIC_MICROS: u32 = 0xa1b2_c3d4;
/// Magic number of files with nanosecond timestamps, read in the writer's byte order.
pub const MAGIC_NANOS: u32 = 0xa1b2_3c4d;

/// Tells whether `magic`, the first four bytes read big-endian, is one of the four pcap
/// magic numbers.
pub fn is_magic(magic: u32) -> bool {
    [MAGIC_MICROS, MAGIC_NANOS]
        .iter()
        .any(|&m| magic == m || magic.swap_bytes() == m)
}

/// Resynchronisation accepts a candidate record only within this many seconds of the
/// previous record, because captures rarely pause for a day.
const RESYNC_MAX_GAP_S: u32 = 86_400;

/// Errors in pcap file and record headers.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PcapError {
    /// The first four bytes match no pcap magic number.
    #[error(
        "magic number {magic:#010x} is not a pcap magic (a1b2c3d4 or a1b23c4d, either byte order)"
    )]
    BadMagic {
        /// The first four bytes as a big-endian number.
        magic: u32,
    },
    /// The file header has a major version other than 2.
    #[error("pcap version {major}.{minor} is not supported; only version 2.x is defined")]
    UnsupportedVersion {
        /// Major version from the file header.
        major: u16,
        /// Minor version from the file header.
        minor: u16,
    },
    /// A record's captured length is larger than the snapshot length of the file.
    #[error("record length {caplen} exceeds snapshot length {snaplen}")]
    RecordTooLong {
        /// Captured length from the record header.
        caplen: u32,
        /// Snapshot length in force (from the file header, or the default when it is 0).
        snaplen: u32,
    },
    /// A record header no capture writer produces: an empty record with no
    /// length on the wire, or a sub-second field past one second. Runs of
    /// zero bytes (a hole in a damaged file) look like this.
    #[error("record header is not plausible ({reason})")]
    ImplausibleRecord {
        /// Which check failed.
        reason: &'static str,
    },
}

/// The fields of a pcap file header that the reader needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileHeader {
    /// Byte order of every field after the magic.
    pub byte_order: ByteOrder,
    /// Whether the record timestamps count nanoseconds instead of microseconds.
    pub nanosecond: bool,
    /// Major version (2 in every file this reader accepts).
    pub version_major: u16,
    /// Minor version (4 in current files).
    pub version_minor: u16,
    /// Snapshot length from the header; 0 means the writer set none.
    pub snaplen: u32,
    /// Link type from the low 16 bits of the link-type word.
    pub link_type: LinkType,
    /// Number of FCS bytes at the end of each frame, when the header says so.
    pub fcs_len: Option<u8>,
}

impl FileHeader {
    /// Parses the 24-byte file header. Returns `Ok(None)` when `bytes` is shorter than that.
    pub fn parse(bytes: &[u8]) -> Result<Option<Self>, PcapError> {
        let Some(magic_bytes) = bytes.get(..4) else {
            return Ok(None);
        };
        let magic = ByteOrder::Big.u32_at(magic_bytes, 0).unwrap_or_default();
        let (byte_order, nanosecond) = match (magic, magic.swap_bytes()) {
            (MAGIC_MICROS, _) => (ByteOrder::Big, false),
            (MAGIC_NANOS, _) => (ByteOrder::Big, true),
            (_, MAGIC_MICROS) => (ByteOrder::Little, false),
            (_, MAGIC_NANOS) => (ByteOrder::Little, true),
            _ => return Err(PcapError::BadMagic { magic }),
        };
        let (Some(major), Some(minor), Some(snaplen), Some(link_word)) = (
            byte_order.u16_at(bytes, 4),
            byte_order.u16_at(bytes, 6),
            byte_order.u32_at(bytes, 16),
            byte_order.u32_at(bytes, 20),
        ) else {
            return Ok(None);
        };
        if major != 2 {
            return Err(PcapError::UnsupportedVersion { major, minor });
        }
        // Bits 28-31 carry the FCS length, which is valid only when bit 26 is set.
        let fcs_len = (link_word & 0x0400_0000 != 0).then_some((link_word >> 28) as u8);
        Ok(Some(Self {
            byte_order,
            nanosecond,
            version_major: major,
            version_minor: minor,
            snaplen,
            link_type: LinkType(link_word & 0xffff),
            fcs_len,
        }))
    }

    /// Returns the largest captured length a record may have in this file.
    pub fn record_limit(&self) -> u32 {
        if self.snaplen == 0 {
            DEFAULT_SNAPLEN
        } else {
            self.snaplen.min(MAX_RECORD_LEN)
        }
    }

    /// Returns the exclusive upper bound of the sub-second timestamp field.
    fn fraction_limit(&self) -> u32 {
        if self.nanosecond {
            1_000_000_000
        } else {
            1_000_000
        }
    }
}

/// A 16-byte record header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordHeader {
    /// Seconds since the Unix epoch (unsigned, as in current libpcap).
    pub ts_sec: u32,
    /// Microseconds or nanoseconds within the second, per the file's magic.
    pub ts_frac: u32,
    /// Number of bytes of packet data that follow the header.
    pub caplen: u32,
    /// Length of the packet on the wire.
    pub origlen: u32,
}

impl RecordHeader {
    /// Parses a record header at the start of `bytes`, or `None` when it is shorter than 16.
    pub fn parse(bytes: &[u8], byte_order: ByteOrder) -> Option<Self> {
        Some(Self {
            ts_sec: byte_order.u32_at(bytes, 0)?,
            ts_frac: byte_order.u32_at(bytes, 4)?,
            caplen: byte_order.u32_at(bytes, 8)?,
            origlen: byte_order.u32_at(bytes, 12)?,
        })
    }

    /// Returns the timestamp in nanoseconds since the Unix epoch.
    pub fn timestamp_ns(&self, nanosecond: bool) -> i64 {
        let unit = if nanosecond { 1 } else { 1_000 };
        // Cannot overflow: u32::MAX * 1e9 + u32::MAX * 1e3 < i64::MAX.
        i64::from(self.ts_sec) * 1_000_000_000 + i64::from(self.ts_frac) * unit
    }

    /// Checks the captured length against the file's snapshot length, and
    /// rejects headers that no writer produces.
    pub fn check(&self, file: &FileHeader) -> Result<(), PcapError> {
        let limit = file.record_limit();
        if self.caplen > limit {
            return Err(PcapError::RecordTooLong {
                caplen: self.caplen,
                snaplen: limit,
            });
        }
        if self.caplen == 0 && self.origlen == 0 {
            let reason = "captured and original lengths are both 0";
            return Err(PcapError::ImplausibleRecord { reason });
        }
        if self.ts_frac >= file.fraction_limit() {
            let reason = "the sub-second timestamp field is one second or more";
            return Err(PcapError::ImplausibleRecord { reason });
        }
        Ok(())
    }

    /// Tells whether this header is believable as the start of a record when searching for
    /// one after corruption. `previous_ts_sec` is the time of the last good record, if any.
    fn is_plausible(&self, file: &FileHeader, previous_ts_sec: Option<u32>) -> bool {
        let limit = file.record_limit();
        let in_time = previous_ts_sec.is_none_or(|p| p.abs_diff(self.ts_sec) <= RESYNC_MAX_GAP_S);
        in_time
            && self.ts_frac < file.fraction_limit()
            && self.caplen > 0
            && self.caplen <= limit
            && self.caplen <= self.origlen
            && self.origlen <= limit.max(DEFAULT_SNAPLEN)
    }
}

/// Searches `window` for the next plausible record header after corruption.
///
/// A candidate must pass [`RecordHeader::is_plausible`] and be followed either by another
/// plausible header, by the end of the input, or by fewer than 16 bytes before the end.
/// `at_eof` is true when `window` runs to the end of the input.
pub(crate) fn find_record(
    window: &[u8],
    file: &FileHeader,
    previous_ts_sec: Option<u32>,
    at_eof: bool,
) -> Scan {
    for at in 0..window.len() {
        let Some(rest) = window.get(at..) else { break };
        let Some(header) = RecordHeader::parse(rest, file.byte_order) else {
            return if at_eof {
                Scan::NotFound(window.len())
            } else {
                Scan::NotFound(at)
            };
        };
        if !header.is_plausible(file, previous_ts_sec) {
            continue;
        }
        let next_at = RECORD_HEADER_LEN + header.caplen as usize;
        let needed = next_at + RECORD_HEADER_LEN;
        let Some(next) = rest.get(next_at..) else {
            if at_eof {
                continue;
            }
            return Scan::NeedMore { at, len: needed };
        };
        match RecordHeader::parse(next, file.byte_order) {
            Some(following) if following.is_plausible(file, Some(header.ts_sec)) => {
                return Scan::Found(at);
            }
            Some(_) => continue,
            None if at_eof => return Scan::Found(at),
            None => return Scan::NeedMore { at, len: needed },
        }
    }
    Scan::NotFound(window.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header_bytes(magic: u32, order: ByteOrder, snaplen: u32) -> Vec<u8> {
        let mut bytes = magic.to_be_bytes().to_vec();
        let words = [2u16.to_be_bytes(), 4u16.to_be_bytes()];
        for word in words {
            let mut word = word;
            if order == ByteOrder::Little {
                word.reverse();
            }
            bytes.extend_from_slice(&word);
        }
        bytes.extend_from_slice(&[0; 8]);
        for word in [snaplen, 1] {
            match order {
                ByteOrder::Little => bytes.extend_from_slice(&word.to_le_bytes()),
                ByteOrder::Big => bytes.extend_from_slice(&word.to_be_bytes()),
            }
        }
        bytes
    }

    fn record(ts_sec: u32, caplen: u32, origlen: u32) -> Vec<u8> {
        let mut bytes = Vec::new();
        for word in [ts_sec, 0, caplen, origlen] {
            bytes.extend_from_slice(&word.to_le_bytes());
        }
        bytes.resize(RECORD_HEADER_LEN + caplen as usize, 0xab);
        bytes
    }

    fn little_endian_file() -> FileHeader {
        FileHeader::parse(&header_bytes(0xd4c3_b2a1, ByteOrder::Little, 65535))
            .ok()
            .flatten()
            .unwrap_or_else(|| panic!("test header must parse"))
    }

    #[test]
    fn magic_micros_little_endian() {
        let header = FileHeader::parse(&header_bytes(0xd4c3_b2a1, ByteOrder::Little, 100));
        let header = header.ok().flatten();
        assert_eq!(
            header.map(|h| (h.byte_order, h.nanosecond)),
            Some((ByteOrder::Little, false))
        );
    }

    #[test]
    fn magic_nanos_little_endian() {
        let header = FileHeader::parse(&header_bytes(0x4d3c_b2a1, ByteOrder::Little, 100));
        let header = header.ok().flatten();
        assert_eq!(
            header.map(|h| (h.byte_order, h.nanosecond)),
            Some((ByteOrder::Little, true))
        );
    }

    #[test]
    fn magic_micros_big_endian() {
        let header = FileHeader::parse(&header_bytes(MAGIC_MICROS, ByteOrder::Big, 100));
        let header = header.ok().flatten();
        assert_eq!(
            header.map(|h| (h.byte_order, h.nanosecond)),
            Some((ByteOrder::Big, false))
        );
    }

    #[test]
    fn magic_nanos_big_endian() {
        let header = FileHeader::parse(&header_bytes(MAGIC_NANOS, ByteOrder::Big, 100));
        let header = header.ok().flatten();
        assert_eq!(
            header.map(|h| (h.byte_order, h.nanosecond)),
            Some((ByteOrder::Big, true))
        );
    }

    #[test]
    fn header_snaplen_and_link_type() {
        let header = FileHeader::parse(&header_bytes(MAGIC_MICROS, ByteOrder::Big, 1500));
        let header = header.ok().flatten();
        assert_eq!(
            header.map(|h| (h.snaplen, h.link_type)),
            Some((1500, LinkType::ETHERNET))
        );
    }

    #[test]
    fn header_short_is_none() {
        let bytes = header_bytes(MAGIC_MICROS, ByteOrder::Big, 1500);
        assert_eq!(FileHeader::parse(&bytes[..20]), Ok(None));
    }

    #[test]
    fn header_bad_magic() {
        let err = FileHeader::parse(b"GIF89a..................");
        assert_eq!(err, Err(PcapError::BadMagic { magic: 0x4749_4638 }));
    }

    #[test]
    fn header_version_one_rejected() {
        let mut bytes = header_bytes(MAGIC_MICROS, ByteOrder::Big, 1500);
        bytes[5] = 1;
        let err = FileHeader::parse(&bytes);
        assert_eq!(
            err,
            Err(PcapError::UnsupportedVersion { major: 1, minor: 4 })
        );
    }

    #[test]
    fn snaplen_zero_uses_default() {
        let header = FileHeader {
            snaplen: 0,
            ..little_endian_file()
        };
        assert_eq!(header.record_limit(), DEFAULT_SNAPLEN);
    }

    #[test]
    fn timestamp_micros_to_ns() {
        let header = RecordHeader {
            ts_sec: 2,
            ts_frac: 5,
            caplen: 0,
            origlen: 0,
        };
        assert_eq!(header.timestamp_ns(false), 2_000_005_000);
    }

    #[test]
    fn timestamp_max_does_not_overflow() {
        let header = RecordHeader {
            ts_sec: u32::MAX,
            ts_frac: u32::MAX,
            caplen: 0,
            origlen: 0,
        };
        assert!(header.timestamp_ns(false) > 0);
    }

    #[test]
    fn record_over_snaplen_rejected() {
        let header = RecordHeader {
            ts_sec: 0,
            ts_frac: 0,
            caplen: 4 << 20,
            origlen: 0,
        };
        let err = header.check(&little_endian_file());
        assert_eq!(
            err,
            Err(PcapError::RecordTooLong {
                caplen: 4 << 20,
                snaplen: 65535
            })
        );
    }

    #[test]
    fn find_record_skips_garbage() {
        let mut window = vec![0xff; 7];
        window.extend(record(1000, 20, 60));
        window.extend(record(1001, 30, 30));
        let file = little_endian_file();
        assert_eq!(
            find_record(&window, &file, Some(999), false),
            Scan::Found(7)
        );
    }

    #[test]
    fn find_record_rejects_distant_time() {
        let mut window = record(1000 + 2 * RESYNC_MAX_GAP_S, 20, 60);
        window.extend(record(1000 + 2 * RESYNC_MAX_GAP_S, 30, 30));
        let file = little_endian_file();
        assert_eq!(
            find_record(&window, &file, Some(1000), true),
            Scan::NotFound(window.len())
        );
    }

    #[test]
    fn find_record_accepts_last_record() {
        let window = record(1000, 20, 60);
        let file = little_endian_file();
        assert_eq!(
            find_record(&window, &file, Some(1000), true),
            Scan::Found(0)
        );
    }

    #[test]
    fn find_record_asks_for_more() {
        let window = record(1000, 20, 60);
        let file = little_endian_file();
        let scan = find_record(&window, &file, Some(1000), false);
        assert_eq!(scan, Scan::NeedMore { at: 0, len: 52 });
    }

    #[test]
    fn find_record_needs_following_header() {
        let mut window = record(1000, 20, 60);
        window.extend_from_slice(&[0xff; 16]);
        let file = little_endian_file();
        assert_eq!(
            find_record(&window, &file, None, true),
            Scan::NotFound(window.len())
        );
    }
}
