//! Errors met while iterating over the records of a capture, and how reading went on.

use std::fmt;
use std::io;

use thiserror::Error;

use crate::pcap::PcapError;
use crate::pcapng::PcapNgError;

/// The structure that the input ended inside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TruncatedPart {
    /// A pcap file header.
    FileHeader,
    /// A pcap record header.
    RecordHeader,
    /// A pcap record's data.
    Record,
    /// The type and length words at the start of a pcapng block.
    BlockHeader,
    /// A pcapng block.
    Block,
}

impl fmt::Display for TruncatedPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::FileHeader => "file header",
            Self::RecordHeader => "record header",
            Self::Record => "record",
            Self::BlockHeader => "block header",
            Self::Block => "block",
        })
    }
}

/// Cause of a [`ReadError`].
#[derive(Debug, Error)]
pub enum ReadErrorKind {
    /// Reading or decompressing the input failed.
    #[error("reading the input failed: {0}")]
    Io(#[from] io::Error),
    /// A pcap record header is invalid.
    #[error(transparent)]
    Pcap(#[from] PcapError),
    /// A pcapng block is invalid.
    #[error(transparent)]
    PcapNg(#[from] PcapNgError),
    /// The input ends inside a header, record or block.
    #[error("the input ends {missing} bytes short of the end of this {needed}-byte {part}")]
    Truncated {
        /// Structure the input ended inside.
        part: TruncatedPart,
        /// Length of that structure in bytes.
        needed: u64,
        /// Bytes missing at the end of the input.
        missing: u64,
    },
    /// A length runs past the end of the input, yet a valid header follows, so the
    /// length itself is corrupt.
    #[error("the {part} length {len} runs past the end of the input ({available} bytes remain)")]
    BeyondEnd {
        /// Record or block.
        part: TruncatedPart,
        /// Length from the header, in bytes.
        len: u64,
        /// Bytes left in the input from the start of the header.
        available: u64,
    },
}

/// Action the reader took after an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recovery {
    /// The reader searched forward and resumed at the next plausible header.
    Resynchronized {
        /// Offset of the header where reading resumed.
        resumed_at: u64,
        /// Bytes skipped from the start of the invalid header.
        skipped: u64,
    },
    /// The block's framing was intact, so only this block was skipped.
    SkippedBlock,
    /// The section header is unusable, so every block up to the next section was skipped.
    SkippedSection,
    /// No valid record follows; the reader returns no more packets.
    Ended,
    /// Reading stopped because the input could not be read further.
    Stopped,
}

impl fmt::Display for Recovery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Resynchronized { resumed_at, skipped } => write!(
                f,
                "skipped {skipped} bytes to the next valid header at offset {resumed_at}"
            ),
            Self::SkippedBlock => f.write_str("skipped this block"),
            Self::SkippedSection => f.write_str("skipped the blocks of this section"),
            Self::Ended => f.write_str(
                "no valid record follows, so reading ended; every packet before this offset was read",
            ),
            Self::Stopped => f.write_str(
                "reading stopped; check that the file is readable and, if compressed, that the gzip data is intact",
            ),
        }
    }
}

/// An invalid or unreadable record, with its position and how reading went on.
///
/// Display: `offset 5035 (packet 7): record length 4325376 exceeds snapshot length 262144;
/// skipped 83 bytes to the next valid header at offset 5118`.
#[derive(Debug, Error)]
#[error("offset {offset}{}: {kind}; {recovery}", packet_label(*.packet))]
pub struct ReadError {
    /// Byte offset of the invalid header in the (decompressed) input.
    pub offset: u64,
    /// Number the packet record would have had, for errors inside a packet record.
    pub packet: Option<u64>,
    /// Cause of the error.
    pub kind: ReadErrorKind,
    /// Whether reading stopped before the end of the input; the reader then returns no
    /// more packets. Only I/O and decompression failures are fatal.
    pub fatal: bool,
    /// Action the reader took, which determines whether more packets follow.
    pub recovery: Recovery,
}

impl ReadError {
    /// Builds an error; it is fatal exactly when reading stopped.
    pub(crate) fn new(
        offset: u64,
        packet: Option<u64>,
        kind: impl Into<ReadErrorKind>,
        recovery: Recovery,
    ) -> Self {
        let fatal = recovery == Recovery::Stopped;
        Self {
            offset,
            packet,
            kind: kind.into(),
            fatal,
            recovery,
        }
    }

    /// Builds the fatal error for an I/O failure at `offset`.
    pub(crate) fn io(offset: u64, packet: Option<u64>, err: io::Error) -> Self {
        Self::new(offset, packet, err, Recovery::Stopped)
    }

    /// Tells whether the reader returns no more packets after this error.
    pub fn ends_reading(&self) -> bool {
        matches!(self.recovery, Recovery::Ended | Recovery::Stopped)
    }
}

fn packet_label(packet: Option<u64>) -> String {
    packet.map(|n| format!(" (packet {n})")).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_resynchronized_record() {
        let kind = PcapError::RecordTooLong {
            caplen: 4_194_304,
            snaplen: 65535,
        };
        let recovery = Recovery::Resynchronized {
            resumed_at: 123_500,
            skipped: 44,
        };
        let err = ReadError::new(123_456, Some(42), kind, recovery);
        let expected = "offset 123456 (packet 42): record length 4194304 exceeds snapshot \
                        length 65535; skipped 44 bytes to the next valid header at offset 123500";
        assert_eq!(err.to_string(), expected);
    }

    #[test]
    fn display_without_packet_number() {
        let kind = PcapNgError::BadBlockLength { len: 13 };
        let err = ReadError::new(8, None, kind, Recovery::SkippedBlock);
        assert!(
            err.to_string()
                .starts_with("offset 8: block total length 13")
        );
    }

    #[test]
    fn io_error_is_fatal() {
        let err = ReadError::io(0, None, io::Error::other("disk gone"));
        assert!(err.fatal);
    }

    #[test]
    fn truncation_is_not_fatal() {
        let kind = ReadErrorKind::Truncated {
            part: TruncatedPart::Record,
            needed: 60,
            missing: 9,
        };
        let err = ReadError::new(100, Some(3), kind, Recovery::Ended);
        assert!(!err.fatal);
    }

    #[test]
    fn truncation_names_missing_bytes() {
        let kind = ReadErrorKind::Truncated {
            part: TruncatedPart::Record,
            needed: 60,
            missing: 9,
        };
        let err = ReadError::new(100, Some(3), kind, Recovery::Ended);
        assert!(
            err.to_string()
                .contains("ends 9 bytes short of the end of this 60-byte record")
        );
    }
}
