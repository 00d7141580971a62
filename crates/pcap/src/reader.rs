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
use crate::pcapng::{self, OptionIter, PacketProcess, ProcessInfo};

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
    /// The process information blocks of the packet's section, which
    /// [`PacketProcess::process_index`] refers to; see [`CaptureReader::processes`].
    pub processes: &'a [Option<ProcessInfo>],
}

impl<'a> Packet<'a> {
    /// Returns Apple's process and flow metadata from the packet's options. The options are
    /// parsed on each call rather than stored, so the reader does no work for callers that
    /// never ask. A packet without options (every pcap record) returns an empty value at
    /// once.
    pub fn process(&self) -> PacketProcess {
        if self.options.is_empty() {
            return PacketProcess::default();
        }
        PacketProcess::from_options(self.options, self.byte_order)
    }

    /// Returns the process that the packet's option 0x8001 names, if the section has it.
    pub fn process_info(&self) -> Option<&'a ProcessInfo> {
        self.process_block(self.process().process_index?)
    }

    /// Returns the effective process that the packet's option 0x8003 names, if the
    /// section has it.
    pub fn effective_process_info(&self) -> Option<&'a ProcessInfo> {
        self.process_block(self.process().effective_process_index?)
    }

    /// Returns the process information block at `index` in the packet's section.
    pub fn process_block(&self, index: u32) -> Option<&'a ProcessInfo> {
        let index = usize::try_from(index).ok()?;
        self.processes.get(index)?.as_ref()
    }

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
    /// Bytes read from the file or reader so far: the compressed size for gzip input.
    /// Reads of 1 MiB and more make it run ahead of what was consumed, so it suits
    /// progress against the file size.
    pub bytes_read: u64,
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
        /// Cause of the rejection.
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

    /// Handles a length that runs past the end of the input. When a valid header follows,
    /// the length is corrupt and reading resumes there. Otherwise the input was cut short.
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
    /// per-packet option 0x8001 value `i` refers to. A block that failed to parse is
    /// `None` (and was reported as an error). Empty for pcap.
    pub fn processes(&self) -> &[Option<ProcessInfo>] {
        match &self.driver {
            Driver::Pcap(_) => &[],
            Driver::PcapNg(driver) => driver.processes(),
        }
    }

    /// Returns the process that a packet's [`PacketProcess::process_index`] or
    /// [`PacketProcess::effective_process_index`] refers to, in the current section.
    pub fn process(&self, index: u32) -> Option<&ProcessInfo> {
        let index = usize::try_from(index).ok()?;
        self.processes().get(index)?.as_ref()
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
        self.stream.stats.bytes_read = self.stream.input.source_bytes();
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
            processes: self.processes(),
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

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::Compression;
    use flate2::write::GzEncoder;

    use super::*;
    use crate::error::ReadErrorKind;
    use crate::fixtures::{PcapFile, PcapNgFile, options_bytes, put_u32};
    use crate::pcap::PcapError;
    use crate::pcapng::PcapNgError;

    const LE: ByteOrder = ByteOrder::Little;
    const BE: ByteOrder = ByteOrder::Big;

    /// One item of a reading pass: a packet as (number, timestamp, data) or an error.
    #[derive(Debug)]
    enum Item {
        Packet(u64, i64, Vec<u8>),
        Error(ReadError),
    }

    fn reader(bytes: Vec<u8>) -> CaptureReader<io::Cursor<Vec<u8>>> {
        CaptureReader::new(io::Cursor::new(bytes)).unwrap_or_else(|err| panic!("{err}"))
    }

    fn read_all<R: Read>(reader: &mut CaptureReader<R>) -> Vec<Item> {
        let mut items = Vec::new();
        while let Some(item) = reader.next_packet() {
            items.push(match item {
                Ok(p) => Item::Packet(p.number, p.timestamp_ns, p.data.to_vec()),
                Err(err) => Item::Error(err),
            });
        }
        items
    }

    fn packets(items: &[Item]) -> Vec<(u64, Vec<u8>)> {
        let packets = items.iter().filter_map(|item| match item {
            Item::Packet(number, _, data) => Some((*number, data.clone())),
            Item::Error(_) => None,
        });
        packets.collect()
    }

    fn errors(items: &[Item]) -> Vec<&ReadError> {
        let errors = items.iter().filter_map(|item| match item {
            Item::Error(err) => Some(err),
            Item::Packet(..) => None,
        });
        errors.collect()
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
        encoder
            .write_all(bytes)
            .unwrap_or_else(|err| panic!("{err}"));
        encoder.finish().unwrap_or_else(|err| panic!("{err}"))
    }

    fn open_error(bytes: Vec<u8>) -> OpenError {
        match CaptureReader::new(io::Cursor::new(bytes)) {
            Ok(_) => panic!("expected an open error"),
            Err(err) => err,
        }
    }

    fn three_records(order: ByteOrder, nanosecond: bool) -> Vec<u8> {
        let file = PcapFile::new(order, nanosecond, 65535, 1);
        file.record(1000, 1, b"one")
            .record(1001, 2, b"two")
            .record(1002, 3, b"three")
            .bytes
    }

    #[test]
    fn pcap_all_magics_read() {
        for (order, nanosecond) in [(LE, false), (LE, true), (BE, false), (BE, true)] {
            let items = read_all(&mut reader(three_records(order, nanosecond)));
            let numbers: Vec<u64> = packets(&items).iter().map(|(n, _)| *n).collect();
            assert_eq!(numbers, [1, 2, 3], "{order:?} nanosecond={nanosecond}");
        }
    }

    #[test]
    fn pcap_microsecond_timestamp() {
        let items = read_all(&mut reader(three_records(BE, false)));
        assert!(matches!(
            items.first(),
            Some(Item::Packet(1, 1_000_000_001_000, _))
        ));
    }

    #[test]
    fn pcap_nanosecond_timestamp() {
        let items = read_all(&mut reader(three_records(LE, true)));
        assert!(matches!(
            items.first(),
            Some(Item::Packet(1, 1_000_000_000_001, _))
        ));
    }

    #[test]
    fn pcap_packet_fields() {
        let bytes = PcapFile::new(LE, false, 4, 101).record(7, 0, b"abcd").bytes;
        let mut capture = reader(bytes);
        let packet = capture.next_packet().and_then(Result::ok);
        let fields = packet.map(|p| (p.offset, p.link_type, p.interface, p.original_len));
        assert_eq!(fields, Some((24, LinkType::RAW, 0, 4)));
    }

    #[test]
    fn pcap_format_and_stats() {
        let bytes = three_records(LE, false);
        let len = bytes.len() as u64;
        let mut capture = reader(bytes);
        read_all(&mut capture);
        let format = Format {
            kind: FormatKind::Pcap,
            gzip: false,
        };
        let stats = (capture.stats().bytes_consumed, capture.stats().packets);
        assert_eq!((capture.format(), stats), (format, (len, 3)));
    }

    #[test]
    fn pcap_cut_mid_record() {
        let mut bytes = three_records(LE, false);
        bytes.truncate(bytes.len() - 2);
        let items = read_all(&mut reader(bytes));
        let errors = errors(&items);
        assert_eq!(packets(&items).len(), 2);
        assert_eq!(errors.len(), 1);
        let err = errors[0];
        assert!(!err.fatal);
        assert_eq!((err.offset, err.packet), (24 + 19 + 19, Some(3)));
        let expected = "offset 62 (packet 3): the input ends 2 bytes short of the end of this \
                        21-byte record; no valid record follows, so reading ended; every packet \
                        before this offset was read";
        assert_eq!(err.to_string(), expected);
    }

    #[test]
    fn pcap_cut_mid_header() {
        let mut bytes = three_records(LE, false);
        bytes.extend_from_slice(&[1, 2, 3, 4, 5]);
        let items = read_all(&mut reader(bytes));
        let kinds: Vec<String> = errors(&items).iter().map(|e| e.kind.to_string()).collect();
        assert_eq!(
            kinds,
            ["the input ends 11 bytes short of the end of this 16-byte record header"]
        );
    }

    #[test]
    fn pcap_bogus_length_then_good_records() {
        let mut file = PcapFile::new(LE, false, 65535, 1).record(1000, 0, b"first");
        file.raw_record(1000, 5, 4 << 20, 4 << 20);
        file.bytes.extend_from_slice(&[0x55; 9]);
        let bytes = file
            .record(1001, 0, b"second")
            .record(1002, 0, b"third")
            .bytes;
        let items = read_all(&mut reader(bytes));
        let payloads: Vec<Vec<u8>> = packets(&items).into_iter().map(|(_, d)| d).collect();
        assert_eq!(
            payloads,
            [b"first".to_vec(), b"second".to_vec(), b"third".to_vec()]
        );
        let errors = errors(&items);
        assert_eq!(errors.len(), 1);
        assert!(matches!(
            errors[0].kind,
            ReadErrorKind::Pcap(PcapError::RecordTooLong {
                caplen: 4_194_304,
                snaplen: 65535
            })
        ));
        let recovery = Recovery::Resynchronized {
            resumed_at: 45 + 25,
            skipped: 25,
        };
        assert_eq!(errors[0].recovery, recovery);
    }

    #[test]
    fn pcap_numbers_count_bad_record() {
        let mut file = PcapFile::new(LE, false, 65535, 1).record(1000, 0, b"first");
        file.raw_record(1000, 5, 4 << 20, 4 << 20);
        let bytes = file.record(1001, 0, b"second").bytes;
        let items = read_all(&mut reader(bytes));
        let numbers: Vec<u64> = packets(&items).iter().map(|(n, _)| *n).collect();
        assert_eq!(numbers, [1, 3]);
    }

    #[test]
    fn pcap_length_past_end_recovers() {
        let mut file = PcapFile::new(LE, false, 65535, 1).record(1000, 0, b"first");
        file.raw_record(1000, 5, 5000, 5000);
        let bytes = file
            .record(1001, 0, b"second")
            .record(1002, 0, b"third")
            .bytes;
        let items = read_all(&mut reader(bytes));
        assert_eq!(packets(&items).len(), 3);
        let errors = errors(&items);
        let kind = errors.first().map(|e| e.kind.to_string());
        let expected = "the record length 5016 runs past the end of the input (59 bytes remain)";
        assert_eq!(kind.as_deref(), Some(expected));
    }

    #[test]
    fn pcap_garbage_tail_ends_reading() {
        let mut file = PcapFile::new(LE, false, 65535, 1).record(1000, 0, b"first");
        file.raw_record(1000, 5, 4 << 20, 4 << 20);
        file.bytes.extend_from_slice(&[0xee; 100]);
        let items = read_all(&mut reader(file.bytes));
        let recoveries: Vec<Recovery> = errors(&items).iter().map(|e| e.recovery).collect();
        assert_eq!(recoveries, [Recovery::Ended]);
    }

    #[test]
    fn pcap_large_record_grows_buffer() {
        let data = vec![0x42; 3 << 20];
        let bytes = PcapFile::new(LE, false, 4 << 20, 1)
            .record(1, 0, &data)
            .record(2, 0, b"x")
            .bytes;
        let items = read_all(&mut reader(bytes));
        let lengths: Vec<usize> = packets(&items).iter().map(|(_, d)| d.len()).collect();
        assert_eq!(lengths, [3 << 20, 1]);
    }

    #[test]
    fn pcap_many_records_span_refills() {
        let mut file = PcapFile::new(LE, false, 65535, 1);
        for i in 0..3000u32 {
            file = file.record(i, 0, &[i as u8; 1000]);
        }
        let items = read_all(&mut reader(file.bytes));
        let all_intact = packets(&items)
            .iter()
            .all(|(n, d)| d.len() == 1000 && d[0] == (*n - 1) as u8);
        assert_eq!((packets(&items).len(), all_intact), (3000, true));
    }

    /// A reader that returns at most one byte per call.
    struct Trickle(io::Cursor<Vec<u8>>);

    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let one = buf.get_mut(..1).unwrap_or_default();
            self.0.read(one)
        }
    }

    #[test]
    fn pcap_one_byte_reads() {
        let source = Trickle(io::Cursor::new(three_records(BE, false)));
        let mut capture = CaptureReader::new(source).unwrap_or_else(|err| panic!("{err}"));
        assert_eq!(packets(&read_all(&mut capture)).len(), 3);
    }

    /// A reader that fails after its bytes run out.
    struct Failing(io::Cursor<Vec<u8>>);

    impl Read for Failing {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            match self.0.read(buf)? {
                0 => Err(io::Error::other("device removed")),
                n => Ok(n),
            }
        }
    }

    #[test]
    fn io_error_is_fatal() {
        let mut bytes = three_records(LE, false);
        bytes.truncate(bytes.len() - 2);
        let source = Failing(io::Cursor::new(bytes));
        let mut capture = CaptureReader::new(source).unwrap_or_else(|err| panic!("{err}"));
        let items = read_all(&mut capture);
        let fatal: Vec<bool> = errors(&items).iter().map(|e| e.fatal).collect();
        assert_eq!(fatal, [true]);
    }

    #[test]
    fn gzip_pcap_read() {
        let mut capture = reader(gzip(&three_records(LE, false)));
        let items = read_all(&mut capture);
        assert_eq!((capture.format().gzip, packets(&items).len()), (true, 3));
    }

    #[test]
    fn gzip_bytes_read_counts_compressed() {
        let compressed = gzip(&three_records(LE, false));
        let len = compressed.len() as u64;
        let mut capture = reader(compressed);
        read_all(&mut capture);
        assert_eq!(capture.stats().bytes_read, len);
    }

    #[test]
    fn plain_bytes_read_counts_file() {
        let bytes = three_records(LE, false);
        let len = bytes.len() as u64;
        let mut capture = reader(bytes);
        read_all(&mut capture);
        assert_eq!(capture.stats().bytes_read, len);
    }

    #[test]
    fn gzip_cut_short_stops() {
        let mut file = PcapFile::new(LE, false, 65535, 1);
        for i in 0..2000u32 {
            file = file.record(i, 0, &i.to_le_bytes().repeat(100));
        }
        let mut compressed = gzip(&file.bytes);
        compressed.truncate(compressed.len() / 2);
        let items = read_all(&mut reader(compressed));
        let errors = errors(&items);
        assert!(
            packets(&items).len() > 100,
            "{} packets",
            packets(&items).len()
        );
        assert_eq!(errors.len(), 1);
        assert!(errors[0].fatal, "{}", errors[0]);
    }

    #[test]
    fn gzip_multiple_members() {
        let bytes = three_records(LE, false);
        let (head, tail) = bytes.split_at(40);
        let mut joined = gzip(head);
        joined.extend(gzip(tail));
        assert_eq!(packets(&read_all(&mut reader(joined))).len(), 3);
    }

    #[test]
    fn gzip_pcapng_read() {
        let file = PcapNgFile::new(LE)
            .interface(1, 0, &[])
            .enhanced(0, 5, b"ng", &[]);
        let mut capture = reader(gzip(&file.bytes));
        let format = Format {
            kind: FormatKind::PcapNg,
            gzip: true,
        };
        assert_eq!(
            (capture.format(), packets(&read_all(&mut capture)).len()),
            (format, 1)
        );
    }

    #[test]
    fn not_a_capture_names_bytes() {
        let err = open_error(b"GIF89a, not a capture".to_vec());
        let expected = "the input is not a packet capture: its first bytes are 47 49 46 38 39 61 \
                        2c 20; accepted formats are pcap (magic a1b2c3d4 or a1b23c4d, either \
                        byte order), pcapng (0a0d0d0a) and either one compressed with gzip";
        assert_eq!(err.to_string(), expected);
    }

    #[test]
    fn not_a_capture_inside_gzip() {
        let err = open_error(gzip(b"plain text"));
        assert!(
            matches!(err, OpenError::NotACapture { gzip: true, .. }),
            "{err}"
        );
    }

    #[test]
    fn empty_input_rejected() {
        let err = open_error(Vec::new());
        assert!(err.to_string().contains("it is empty"), "{err}");
    }

    #[test]
    fn pcap_header_cut_short() {
        let mut bytes = three_records(LE, false);
        bytes.truncate(10);
        let err = open_error(bytes);
        assert!(matches!(
            err,
            OpenError::BadHeader {
                kind: FormatKind::Pcap,
                reason: ReadErrorKind::Truncated { .. },
                ..
            }
        ));
    }

    #[test]
    fn pcap_version_rejected() {
        let mut bytes = three_records(BE, false);
        bytes[5] = 3;
        let err = open_error(bytes);
        let reason = PcapError::UnsupportedVersion { major: 3, minor: 4 };
        let expected = format!("the input: invalid pcap file header: {reason}");
        assert_eq!(err.to_string(), expected);
    }

    #[test]
    fn open_missing_file_names_path() {
        let path = Path::new("/nonexistent/capture.pcap");
        let err = CaptureReader::open(path).map(drop);
        let message = err.map_err(|e| e.to_string()).err().unwrap_or_default();
        assert!(
            message.starts_with("cannot read /nonexistent/capture.pcap: "),
            "{message}"
        );
    }

    fn two_interfaces() -> PcapNgFile {
        let offset = 1000i64.to_le_bytes();
        PcapNgFile::new(LE)
            .interface(1, 65535, &[])
            .interface(101, 0, &[(9, &[9]), (14, &offset)])
    }

    #[test]
    fn pcapng_interfaces_resolution() {
        let file = two_interfaces()
            .enhanced(0, 2_000_000, b"a", &[])
            .enhanced(1, 7, b"b", &[]);
        let items = read_all(&mut reader(file.bytes));
        let times: Vec<i64> = items
            .iter()
            .filter_map(|i| {
                if let Item::Packet(_, ts, _) = i {
                    Some(*ts)
                } else {
                    None
                }
            })
            .collect();
        assert_eq!(times, [2_000_000_000, 1_000_000_000_007]);
    }

    #[test]
    fn pcapng_binary_resolution() {
        let file = PcapNgFile::new(LE)
            .interface(1, 0, &[(9, &[0x84])])
            .enhanced(0, 40, b"a", &[]);
        let items = read_all(&mut reader(file.bytes));
        // 2^-4 s per tick: 40 ticks are 2.5 s.
        assert!(matches!(
            items.first(),
            Some(Item::Packet(1, 2_500_000_000, _))
        ));
    }

    #[test]
    fn pcapng_link_type_per_interface() {
        let file = two_interfaces()
            .enhanced(1, 0, b"a", &[])
            .enhanced(0, 0, b"b", &[]);
        let mut capture = reader(file.bytes);
        let mut link_types = Vec::new();
        while let Some(Ok(packet)) = capture.next_packet() {
            link_types.push((packet.interface, packet.link_type));
        }
        assert_eq!(link_types, [(1, LinkType::RAW), (0, LinkType::ETHERNET)]);
    }

    #[test]
    fn pcapng_sections_reset_interfaces() {
        let file = two_interfaces()
            .enhanced(1, 0, b"a", &[])
            .section(BE)
            .interface(1, 0, &[])
            .enhanced(0, 3, b"b", &[])
            .enhanced(1, 0, b"c", &[]);
        let mut capture = reader(file.bytes);
        let items = read_all(&mut capture);
        let payloads: Vec<Vec<u8>> = packets(&items).into_iter().map(|(_, d)| d).collect();
        assert_eq!(payloads, [b"a".to_vec(), b"b".to_vec()]);
        let kinds: Vec<String> = errors(&items).iter().map(|e| e.kind.to_string()).collect();
        assert_eq!(
            kinds,
            ["packet refers to interface 1 but the section describes 1 interfaces"]
        );
        assert_eq!(
            (capture.stats().sections, capture.stats().interfaces),
            (2, 3)
        );
    }

    #[test]
    fn pcapng_big_endian_section_times() {
        let file = PcapNgFile::new(BE)
            .interface(1, 0, &[])
            .enhanced(0, 3_000_001, b"b", &[]);
        let items = read_all(&mut reader(file.bytes));
        assert!(matches!(
            items.first(),
            Some(Item::Packet(1, 3_000_001_000, _))
        ));
    }

    #[test]
    fn pcapng_simple_packet_snaplen() {
        let mut body = Vec::new();
        put_u32(&mut body, LE, 6);
        body.extend_from_slice(b"abcdef");
        let file = PcapNgFile::new(LE).interface(1, 4, &[]).block(3, &body);
        let items = read_all(&mut reader(file.bytes));
        assert_eq!(packets(&items), [(1, b"abcd".to_vec())]);
    }

    #[test]
    fn pcapng_obsolete_packet_block() {
        let mut body = vec![0, 0, 0, 0];
        for word in [0, 1_000_000, 2, 2] {
            put_u32(&mut body, LE, word);
        }
        body.extend_from_slice(b"pb");
        let file = PcapNgFile::new(LE).interface(1, 0, &[]).block(2, &body);
        let items = read_all(&mut reader(file.bytes));
        assert!(matches!(
            items.first(),
            Some(Item::Packet(1, 1_000_000_000, _))
        ));
    }

    #[test]
    fn pcapng_skipped_blocks_counted() {
        let mut process = Vec::new();
        put_u32(&mut process, LE, 77);
        process.extend(options_bytes(LE, &[(2, b"curl")]));
        let file = PcapNgFile::new(LE)
            .interface(1, 0, &[])
            .block(4, &[0; 4])
            .block(0x8000_0001, &process)
            .block(0x0000_0bad, b"custom")
            .block(10, &[0; 8])
            .enhanced(0, 0, b"x", &[])
            .block(5, &[0; 12]);
        let mut capture = reader(file.bytes);
        assert_eq!(packets(&read_all(&mut capture)).len(), 1);
        let counts: Vec<(u32, u64)> = capture
            .stats()
            .skipped_blocks
            .iter()
            .map(|(t, n)| (*t, *n))
            .collect();
        assert_eq!(
            counts,
            [(4, 1), (5, 1), (10, 1), (0xbad, 1), (0x8000_0001, 1)]
        );
    }

    #[test]
    fn pcapng_process_info_kept() {
        let mut process = Vec::new();
        put_u32(&mut process, LE, 77);
        process.extend(options_bytes(LE, &[(2, b"curl")]));
        let file = PcapNgFile::new(LE)
            .block(0x8000_0001, &process)
            .interface(1, 0, &[]);
        let mut capture = reader(file.bytes);
        read_all(&mut capture);
        let names: Vec<(u32, Option<String>)> = capture
            .processes()
            .iter()
            .flatten()
            .map(|p| (p.pid, p.name.clone()))
            .collect();
        assert_eq!(names, [(77, Some("curl".to_owned()))]);
    }

    #[test]
    fn pcapng_packet_options_reachable() {
        let index = 3u32.to_le_bytes();
        let file =
            PcapNgFile::new(LE)
                .interface(1, 0, &[])
                .enhanced(0, 0, b"x", &[(0x8001, &index)]);
        let mut capture = reader(file.bytes);
        let packet = capture.next_packet().and_then(Result::ok);
        let options: Vec<(u16, Vec<u8>)> = packet
            .map(|p| {
                p.option_iter()
                    .map(|o| (o.code, o.value.to_vec()))
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(options, [(0x8001, index.to_vec())]);
    }

    fn process_block(pid: u32, name: &[u8]) -> Vec<u8> {
        let mut process = Vec::new();
        put_u32(&mut process, LE, pid);
        process.extend(options_bytes(LE, &[(2, name)]));
        process
    }

    #[test]
    fn pcapng_packet_process_carried() {
        let file = PcapNgFile::new(LE)
            .block(0x8000_0001, &process_block(77, b"curl"))
            .block(0x8000_0001, &process_block(88, b"nsurlsessiond"))
            .interface(1, 0, &[])
            .enhanced(
                0,
                0,
                b"x",
                &[
                    (0x8001, &1u32.to_le_bytes()),
                    (0x8003, &0u32.to_le_bytes()),
                    (0x8005, &42u32.to_le_bytes()),
                    (2, &2u32.to_le_bytes()),
                ],
            )
            .enhanced(0, 0, b"y", &[]);
        let mut capture = reader(file.bytes);
        let first = capture
            .next_packet()
            .and_then(Result::ok)
            .map(|p| p.process());
        let expected = PacketProcess {
            process_index: Some(1),
            effective_process_index: Some(0),
            flow_id: Some(42),
            direction: Some(pcapng::Direction::Outbound),
        };
        assert_eq!(first, Some(expected));
        let names = (
            capture.process(1).map(|p| p.pid),
            capture.process(0).map(|p| p.pid),
        );
        assert_eq!(names, (Some(88), Some(77)));
        let second = capture
            .next_packet()
            .and_then(Result::ok)
            .map(|p| p.process());
        assert_eq!(second, Some(PacketProcess::default()));
    }

    #[test]
    fn packet_resolves_its_processes() {
        let file = PcapNgFile::new(LE)
            .block(0x8000_0001, &process_block(77, b"curl"))
            .block(0x8000_0001, &process_block(88, b"nsurlsessiond"))
            .interface(1, 0, &[])
            .enhanced(
                0,
                0,
                b"x",
                &[(0x8001, &1u32.to_le_bytes()), (0x8003, &0u32.to_le_bytes())],
            )
            .enhanced(0, 0, b"y", &[(0x8001, &7u32.to_le_bytes())]);
        let mut capture = reader(file.bytes);
        let first = capture.next_packet().and_then(Result::ok);
        let pids = first.map(|p| {
            let process = p.process_info().map(|i| i.pid);
            (process, p.effective_process_info().map(|i| i.pid))
        });
        assert_eq!(pids, Some((Some(88), Some(77))));
        let second = capture.next_packet().and_then(Result::ok);
        let missing = second.map(|p| p.process_info().is_none());
        assert_eq!(missing, Some(true));
    }

    #[test]
    fn pcapng_process_index_per_section() {
        let file = PcapNgFile::new(LE)
            .block(0x8000_0001, &process_block(77, b"curl"))
            .interface(1, 0, &[])
            .enhanced(0, 0, b"x", &[(0x8001, &0u32.to_le_bytes())])
            .section(LE)
            .block(0x8000_0001, &process_block(99, b"Safari"))
            .interface(1, 0, &[])
            .enhanced(0, 0, b"y", &[(0x8001, &0u32.to_le_bytes())]);
        let mut capture = reader(file.bytes);
        let mut pids = Vec::new();
        while let Some(Ok(packet)) = capture.next_packet() {
            let index = packet.process().process_index.unwrap_or(u32::MAX);
            pids.push(capture.process(index).map(|p| p.pid));
        }
        assert_eq!(pids, [Some(77), Some(99)]);
    }

    #[test]
    fn pcapng_bad_process_block_keeps_index() {
        let file = PcapNgFile::new(LE)
            .block(0x8000_0001, &[])
            .block(0x8000_0001, &process_block(88, b"curl"))
            .interface(1, 0, &[])
            .enhanced(0, 0, b"x", &[]);
        let mut capture = reader(file.bytes);
        let items = read_all(&mut capture);
        assert_eq!(errors(&items).len(), 1);
        assert_eq!(capture.process(0), None);
        assert_eq!(capture.process(1).map(|p| p.pid), Some(88));
    }

    fn three_packets_with(corrupt: impl FnOnce(&mut Vec<u8>, usize)) -> Vec<Item> {
        let file = PcapNgFile::new(LE)
            .interface(1, 0, &[])
            .enhanced(0, 1, b"one", &[]);
        let second_at = file.bytes.len();
        let mut file = file
            .enhanced(0, 2, b"two", &[])
            .enhanced(0, 3, b"three", &[]);
        corrupt(&mut file.bytes, second_at);
        read_all(&mut reader(file.bytes))
    }

    #[test]
    fn pcapng_length_not_multiple_of_four() {
        let items = three_packets_with(|bytes, at| bytes[at + 4] = 37);
        let kinds: Vec<String> = errors(&items).iter().map(|e| e.kind.to_string()).collect();
        let expected = "block total length 37 is invalid (must be a multiple of 4 and at least 12)";
        assert_eq!(kinds, [expected]);
        assert_eq!(
            packets(&items).iter().map(|(n, _)| *n).collect::<Vec<_>>(),
            [1, 2]
        );
    }

    #[test]
    fn pcapng_recovers_next_block() {
        let items = three_packets_with(|bytes, at| bytes[at + 4] = 37);
        let payloads: Vec<Vec<u8>> = packets(&items).into_iter().map(|(_, d)| d).collect();
        assert_eq!(payloads, [b"one".to_vec(), b"three".to_vec()]);
    }

    #[test]
    fn pcapng_trailing_length_mismatch() {
        let items = three_packets_with(|bytes, at| bytes[at + 32] = 0x40);
        let errors = errors(&items);
        assert!(matches!(
            errors.first().map(|e| &e.kind),
            Some(ReadErrorKind::PcapNg(PcapNgError::LengthMismatch {
                leading: 36,
                trailing: 64
            }))
        ));
        assert_eq!(packets(&items).len(), 2);
    }

    #[test]
    fn pcapng_length_beyond_file() {
        let items = three_packets_with(|bytes, at| bytes[at + 5] = 0x10);
        let errors = errors(&items);
        let kind = errors.first().map(|e| e.kind.to_string());
        let expected = "the block length 4132 runs past the end of the input (76 bytes remain)";
        assert_eq!(kind.as_deref(), Some(expected));
        assert_eq!(packets(&items).len(), 2);
    }

    #[test]
    fn pcapng_cut_mid_block() {
        let file = PcapNgFile::new(LE)
            .interface(1, 0, &[])
            .enhanced(0, 1, b"one", &[]);
        let mut bytes = file.enhanced(0, 2, b"two", &[]).bytes;
        bytes.truncate(bytes.len() - 10);
        let items = read_all(&mut reader(bytes));
        let errors = errors(&items);
        let fields = errors
            .first()
            .map(|e| (e.kind.to_string(), e.fatal, e.recovery));
        let message = "the input ends 10 bytes short of the end of this 36-byte block".to_owned();
        assert_eq!(fields, Some((message, false, Recovery::Ended)));
    }

    #[test]
    fn pcapng_unsupported_section_skipped() {
        let mut file = PcapNgFile::new(LE)
            .interface(1, 0, &[])
            .enhanced(0, 1, b"one", &[]);
        let second = file.bytes.len();
        file = file
            .section(LE)
            .interface(1, 0, &[])
            .enhanced(0, 1, b"lost", &[]);
        file.bytes[second + 12] = 9;
        let file = file
            .section(LE)
            .interface(1, 0, &[])
            .enhanced(0, 1, b"three", &[]);
        let items = read_all(&mut reader(file.bytes));
        let payloads: Vec<Vec<u8>> = packets(&items).into_iter().map(|(_, d)| d).collect();
        assert_eq!(payloads, [b"one".to_vec(), b"three".to_vec()]);
        let recoveries: Vec<Recovery> = errors(&items).iter().map(|e| e.recovery).collect();
        assert_eq!(recoveries, [Recovery::SkippedSection]);
    }

    #[test]
    fn pcapng_first_section_bad_byte_order() {
        let mut bytes = PcapNgFile::new(LE).bytes;
        bytes[8..12].copy_from_slice(&[1, 2, 3, 4]);
        let err = open_error(bytes);
        assert!(
            matches!(
                err,
                OpenError::BadHeader {
                    kind: FormatKind::PcapNg,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn pcapng_first_section_cut() {
        let mut bytes = PcapNgFile::new(LE).bytes;
        bytes.truncate(20);
        let err = open_error(bytes);
        let expected = "the input: invalid pcapng file header: the input ends 8 bytes short of \
                        the end of this 28-byte block";
        assert_eq!(err.to_string(), expected);
    }
}
