//! Streaming capture reader: format detection, packet iteration and recovery.

mod classic;
mod ng;

use std::collections::BTreeMap;
use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::ops::Range;
use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::bytes::{ByteOrder, Scan};
use crate::error::{ReadError, ReadErrorKind, Recovery, TruncatedPart};
use crate::input::Input;
use crate::linktype::LinkType;
use crate::pcap;
use crate::pcapng::{self, OptionIter, ProcessInfo};

/// Container format of a capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FormatKind {
    /// Classic libpcap format.
    Pcap,
    /// pcapng.
    PcapNg,
}

impl fmt::Display for FormatKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Pcap => "pcap",
            Self::PcapNg => "pcapng",
        })
    }
}

/// Detected format of a capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Format {
    /// Container format after decompression.
    pub kind: FormatKind,
    /// Whether the input was gzip-compressed.
    pub gzip: bool,
}

/// One packet record. The data borrows the reader's buffer until the next call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet<'a> {
    /// 1-based record number, counting every packet record as Wireshark numbers frames.
    /// Records that were found but failed validation also take a number.
    pub number: u64,
    /// Byte offset of the record or block in the (decompressed) input.
    pub offset: u64,
    /// Nanoseconds since the Unix epoch; 0 for pcapng Simple Packet Blocks, which carry no
    /// timestamp.
    pub timestamp_ns: i64,
    /// Link type of the interface the packet was captured on.
    pub link_type: LinkType,
    /// pcapng interface id within the section; 0 for pcap.
    pub interface: u32,
    /// Captured bytes.
    pub data: &'a [u8],
    /// Length on the wire; larger than `data.len()` when the snapshot length cut the packet.
    pub original_len: u32,
    /// Raw options of a pcapng Enhanced or obsolete Packet Block (empty otherwise), in
    /// `byte_order`. macOS writes its per-packet process and service options here.
    pub options: &'a [u8],
    /// Byte order of `options`.
    pub byte_order: ByteOrder,
}

impl<'a> Packet<'a> {
    /// Iterates over the packet block options.
    pub fn option_iter(&self) -> OptionIter<'a> {
        OptionIter::new(self.options, self.byte_order)
    }

    /// Tells whether the snapshot length cut the packet.
    pub fn is_truncated(&self) -> bool {
        (self.data.len() as u64) < u64::from(self.original_len)
    }
}

/// Counters kept while reading.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadStats {
    /// Bytes of (decompressed) input consumed so far, headers included.
    pub bytes_consumed: u64,
    /// Packets returned.
    pub packets: u64,
    /// Non-packet pcapng blocks by block type, except section and interface headers.
    pub skipped_blocks: BTreeMap<u32, u64>,
    /// Bytes passed over while searching for a valid header after corruption.
    pub bytes_skipped: u64,
    /// Errors returned.
    pub errors: u64,
    /// pcapng sections read.
    pub sections: u64,
    /// pcapng interfaces described.
    pub interfaces: u64,
}

/// Errors that prevent a capture from being opened.
#[derive(Debug, Error)]
pub enum OpenError {
    /// The file could not be opened or read.
    #[error("cannot read {}: {source}", path_label(.path.as_deref()))]
    Io {
        /// File path, when opened by path.
        path: Option<PathBuf>,
        /// The I/O or decompression error.
        #[source]
        source: io::Error,
    },
    /// The input starts with bytes of no supported format.
    #[error(
        "{} is not a packet capture: {}; accepted formats are pcap (magic a1b2c3d4 or \
         a1b23c4d, either byte order), pcapng (0a0d0d0a) and either one compressed with gzip",
        path_label(.path.as_deref()),
        describe_start(.first_bytes, *.gzip)
    )]
    NotACapture {
        /// File path, when opened by path.
        path: Option<PathBuf>,
        /// Up to the first 8 bytes (after decompression when `gzip`).
        first_bytes: Vec<u8>,
        /// Whether the input was gzip-compressed.
        gzip: bool,
    },
    /// The file or first section header is incomplete or unsupported.
    #[error("{}: invalid {kind} file header: {reason}", path_label(.path.as_deref()))]
    BadHeader {
        /// File path, when opened by path.
        path: Option<PathBuf>,
        /// The format the magic number announced.
        kind: FormatKind,
        /// What is wrong with the header.
        reason: ReadErrorKind,
    },
}

impl OpenError {
    /// Sets the path that the messages name.
    fn with_path(mut self, file: &Path) -> Self {
        let (Self::Io { path, .. } | Self::NotACapture { path, .. } | Self::BadHeader { path, .. }) =
            &mut self;
        *path = Some(file.to_path_buf());
        self
    }
}

fn path_label(path: Option<&Path>) -> String {
    path.map_or_else(|| "the input".to_owned(), |p| p.display().to_string())
}

fn describe_start(first_bytes: &[u8], gzip: bool) -> String {
    if first_bytes.is_empty() {
        let what = if gzip {
            "it decompresses to nothing"
        } else {
            "it is empty"
        };
        return what.to_owned();
    }
    let hex: Vec<String> = first_bytes.iter().map(|b| format!("{b:02x}")).collect();
    let after = if gzip {
        " after gzip decompression"
    } else {
        ""
    };
    format!("its first bytes{after} are {}", hex.join(" "))
}

/// A packet found by a format driver, as ranges into the input buffer.
struct RawPacket {
    number: u64,
    offset: u64,
    timestamp_ns: i64,
    link_type: LinkType,
    interface: u32,
    data: Range<usize>,
    original_len: u32,
    options: Range<usize>,
    byte_order: ByteOrder,
}

/// The input with the counters that the format drivers update.
struct Stream<R: Read> {
    input: Input<R>,
    stats: ReadStats,
    next_number: u64,
}

impl<R: Read> Stream<R> {
    /// Returns the next packet record number.
    fn take_number(&mut self) -> u64 {
        let number = self.next_number;
        self.next_number = number.saturating_add(1);
        number
    }

    /// Makes the window at least `len` bytes long; `Ok(false)` at the end of the input.
    fn fill(&mut self, len: usize, packet: Option<u64>) -> Result<bool, ReadError> {
        let offset = self.input.offset();
        self.input
            .fill(len)
            .map_err(|err| ReadError::io(offset, packet, err))
    }

    /// Reports that the input ended `needed - available` bytes into a structure at the
    /// window start, and consumes the rest of the input.
    fn truncated(&mut self, part: TruncatedPart, needed: usize, packet: Option<u64>) -> ReadError {
        let offset = self.input.offset();
        let available = self.input.window().len();
        self.input.consume(available);
        let missing = needed.saturating_sub(available) as u64;
        let kind = ReadErrorKind::Truncated {
            part,
            needed: needed as u64,
            missing,
        };
        ReadError::new(offset, packet, kind, Recovery::Ended)
    }

    /// Skips the invalid header at the window start by searching forward with `scan`, and
    /// returns the error describing what was skipped.
    fn recover(
        &mut self,
        packet: Option<u64>,
        kind: impl Into<ReadErrorKind>,
        scan: impl FnMut(&[u8], bool) -> Scan,
    ) -> ReadError {
        let offset = self.input.offset();
        let recovery = match self.resync(scan) {
            Ok(Some(resumed_at)) => Recovery::Resynchronized {
                resumed_at,
                skipped: resumed_at.saturating_sub(offset),
            },
            Ok(None) => Recovery::Ended,
            Err(err) => return err,
        };
        ReadError::new(offset, packet, kind, recovery)
    }

    /// Handles a length that runs past the end of the input: when a valid header follows,
    /// the length is corrupt and reading resumes there; otherwise the input was cut short.
    fn recover_past_end(
        &mut self,
        part: TruncatedPart,
        needed: usize,
        packet: Option<u64>,
        scan: impl FnMut(&[u8], bool) -> Scan,
    ) -> ReadError {
        let available = self.input.window().len() as u64;
        let kind = ReadErrorKind::BeyondEnd {
            part,
            len: needed as u64,
            available,
        };
        let err = self.recover(packet, kind, scan);
        if err.recovery != Recovery::Ended {
            return err;
        }
        let missing = (needed as u64).saturating_sub(available);
        let kind = ReadErrorKind::Truncated {
            part,
            needed: needed as u64,
            missing,
        };
        ReadError::new(err.offset, packet, kind, Recovery::Ended)
    }

    /// Consumes bytes until `scan` finds a header; returns its offset, or `None` when the
    /// input ends first. The first byte is always skipped.
    fn resync(
        &mut self,
        mut scan: impl FnMut(&[u8], bool) -> Scan,
    ) -> Result<Option<u64>, ReadError> {
        let start = self.input.offset();
        self.input.consume(1);
        loop {
            let offset = self.input.offset();
            self.input
                .fill_buffer()
                .map_err(|err| ReadError::io(offset, None, err))?;
            let at_eof = self.input.at_eof();
            let window_len = self.input.window().len();
            match scan(self.input.window(), at_eof) {
                Scan::Found(at) => {
                    self.input.consume(at);
                    break;
                }
                Scan::NotFound(at) if at_eof && at >= window_len => {
                    self.input.consume(at);
                    self.count_skipped(start);
                    return Ok(None);
                }
                Scan::NotFound(at) => self.input.consume(at),
                Scan::NeedMore { at, len } => {
                    self.input.consume(at);
                    self.fill(len, None)?;
                }
            }
        }
        self.count_skipped(start);
        Ok(Some(self.input.offset()))
    }

    fn count_skipped(&mut self, start: u64) {
        let skipped = self.input.offset().saturating_sub(start);
        self.stats.bytes_skipped = self.stats.bytes_skipped.saturating_add(skipped);
    }
}

/// Per-format reading state.
enum Driver {
    Pcap(classic::PcapDriver),
    PcapNg(ng::PcapNgDriver),
}

/// Streaming reader of pcap and pcapng captures, optionally gzip-compressed.
///
/// The input is read in chunks of at least 1 MiB into one reusable buffer, so memory use
/// does not depend on the file size and returning a packet allocates nothing.
pub struct CaptureReader<R: Read> {
    stream: Stream<R>,
    driver: Driver,
    format: Format,
    finished: bool,
}

impl CaptureReader<Box<dyn Read + Send>> {
    /// Opens a file. The format is detected from its content, never its name: gzip
    /// (`1f 8b`) is decompressed while streaming, then classic pcap (all four magics:
    /// microsecond or nanosecond timestamps, either byte order) or pcapng.
    pub fn open(path: &Path) -> Result<Self, OpenError> {
        let file = File::open(path).map_err(|source| OpenError::Io {
            path: Some(path.to_path_buf()),
            source,
        })?;
        let reader: Box<dyn Read + Send> = Box::new(file);
        Self::new(reader).map_err(|err| err.with_path(path))
    }
}

impl<R: Read> CaptureReader<R> {
    /// Reads the file header from `reader`, detecting the format as [`CaptureReader::open`]
    /// does.
    pub fn new(reader: R) -> Result<Self, OpenError> {
        let io_error = |source| OpenError::Io { path: None, source };
        let mut input = Input::new(reader).map_err(io_error)?;
        input.fill(pcap::FILE_HEADER_LEN).map_err(io_error)?;
        let gzip = input.is_gzip();
        let window = input.window();
        let magic = ByteOrder::Big.u32_at(window, 0);
        let driver = match magic {
            Some(pcapng::SECTION_HEADER) => Driver::PcapNg(ng::PcapNgDriver::open(&mut input)?),
            Some(magic) if pcap::is_magic(magic) => {
                Driver::Pcap(classic::PcapDriver::open(&mut input)?)
            }
            _ => {
                let first_bytes = window.get(..8).unwrap_or(window).to_vec();
                return Err(OpenError::NotACapture {
                    path: None,
                    first_bytes,
                    gzip,
                });
            }
        };
        let kind = match driver {
            Driver::Pcap(_) => FormatKind::Pcap,
            Driver::PcapNg(_) => FormatKind::PcapNg,
        };
        let stats = ReadStats {
            bytes_consumed: input.offset(),
            ..ReadStats::default()
        };
        Ok(Self {
            stream: Stream {
                input,
                stats,
                next_number: 1,
            },
            driver,
            format: Format { kind, gzip },
            finished: false,
        })
    }

    /// Returns the detected format.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Returns the counters so far.
    pub fn stats(&self) -> &ReadStats {
        &self.stream.stats
    }

    /// Returns the processes described by Apple process information blocks in the current
    /// pcapng section, in block order, so that index `i` is the process that the
    /// per-packet option 0x8001 value `i` refers to. Empty for pcap.
    pub fn processes(&self) -> &[ProcessInfo] {
        match &self.driver {
            Driver::Pcap(_) => &[],
            Driver::PcapNg(driver) => driver.processes(),
        }
    }

    /// Returns the next packet, an error about an invalid record, or `None` at the end.
    ///
    /// After a non-fatal error, iteration goes on with the records that follow, as
    /// [`ReadError::recovery`] describes. The packet borrows the reader's buffer, so it
    /// must be dropped before the next call.
    pub fn next_packet(&mut self) -> Option<Result<Packet<'_>, ReadError>> {
        if self.finished {
            return None;
        }
        let step = match &mut self.driver {
            Driver::Pcap(driver) => driver.next(&mut self.stream),
            Driver::PcapNg(driver) => driver.next(&mut self.stream),
        };
        self.stream.stats.bytes_consumed = self.stream.input.offset();
        match step {
            Ok(Some(raw)) => {
                self.stream.stats.packets += 1;
                Some(Ok(self.packet(raw)))
            }
            Ok(None) => {
                self.finished = true;
                None
            }
            Err(err) => {
                self.stream.stats.errors += 1;
                self.finished = err.ends_reading();
                Some(Err(err))
            }
        }
    }

    fn packet(&self, raw: RawPacket) -> Packet<'_> {
        Packet {
            number: raw.number,
            offset: raw.offset,
            timestamp_ns: raw.timestamp_ns,
            link_type: raw.link_type,
            interface: raw.interface,
            data: self.stream.input.slice(raw.data),
            original_len: raw.original_len,
            options: self.stream.input.slice(raw.options),
            byte_order: raw.byte_order,
        }
    }
}

impl<R: Read> fmt::Debug for CaptureReader<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CaptureReader")
            .field("format", &self.format)
            .field("stats", &self.stream.stats)
            .finish_non_exhaustive()
    }
}

/// Maps a header problem found while opening to [`OpenError::BadHeader`].
fn bad_header(kind: FormatKind, reason: impl Into<ReadErrorKind>) -> OpenError {
    OpenError::BadHeader {
        path: None,
        kind,
        reason: reason.into(),
    }
}

/// Maps an end of input inside the opening header to [`OpenError::BadHeader`].
fn short_header(
    kind: FormatKind,
    part: TruncatedPart,
    needed: usize,
    available: usize,
) -> OpenError {
    let missing = needed.saturating_sub(available) as u64;
    bad_header(
        kind,
        ReadErrorKind::Truncated {
            part,
            needed: needed as u64,
            missing,
        },
    )
}
