//! pcapng blocks: section and interface headers, packet blocks and their options.
//!
//! Layout as in the IETF draft "PCAP Now Generic (pcapng) Capture File Format"
//! (draft-ietf-opsawg-pcapng). Every block is `type, total length, body, total length`,
//! with the total length a multiple of 4 and written in the section's byte order.
//! The functions here take the block body: the bytes between the 8-byte head and the
//! 4-byte trailing length.

use thiserror::Error;

use crate::bytes::{ByteOrder, Scan};
use crate::linktype::LinkType;

/// Section Header Block. The value reads the same in both byte orders.
pub const SECTION_HEADER: u32 = 0x0a0d_0d0a;
/// Interface Description Block.
pub const INTERFACE_DESCRIPTION: u32 = 1;
/// Packet Block, obsolete since 2011 but still read.
pub const OBSOLETE_PACKET: u32 = 2;
/// Simple Packet Block.
pub const SIMPLE_PACKET: u32 = 3;
/// Name Resolution Block.
pub const NAME_RESOLUTION: u32 = 4;
/// Interface Statistics Block.
pub const INTERFACE_STATISTICS: u32 = 5;
/// Enhanced Packet Block.
pub const ENHANCED_PACKET: u32 = 6;
/// Decryption Secrets Block.
pub const DECRYPTION_SECRETS: u32 = 10;
/// Apple's process information block, written by macOS tcpdump with `-k`.
pub const APPLE_PROCESS_INFORMATION: u32 = 0x8000_0001;

/// Byte-order magic of the section header, read in the writer's byte order.
pub const BYTE_ORDER_MAGIC: u32 = 0x1a2b_3c4d;
/// Smallest legal block: type, total length and trailing length.
pub const MIN_BLOCK_LEN: u32 = 12;
/// Largest block the reader accepts, so that a corrupt length cannot make it allocate
/// gigabytes. Wireshark's own limit is of the same order.
pub const MAX_BLOCK_LEN: u32 = 64 << 20;

/// Option code that ends an option list.
const OPT_END: u16 = 0;
/// Interface option: timestamp resolution (RFC draft section 4.2, `if_tsresol`).
const IF_TSRESOL: u16 = 9;
/// Interface option: seconds added to every timestamp (`if_tsoffset`).
const IF_TSOFFSET: u16 = 14;
/// Apple process information option: process name.
const PIB_NAME: u16 = 2;
/// Apple process information option: executable path.
const PIB_PATH: u16 = 3;
/// Apple process information option: process UUID.
const PIB_UUID: u16 = 4;
/// Packet block option: direction and reception flags (`epb_flags`).
const EPB_FLAGS: u16 = 2;
/// Apple packet option: index of the process information block of the process.
const EPB_PIB_INDEX: u16 = 0x8001;
/// Apple packet option: index of the process information block of the effective
/// (delegated) process.
const EPB_E_PIB_INDEX: u16 = 0x8003;
/// Apple packet option: flow id.
const EPB_FLOW_ID: u16 = 0x8005;
/// Powers of ten that fit a `u64`, for timestamp scaling.
const POW10: [u64; 20] = {
    let mut table = [1u64; 20];
    let mut i = 1;
    while i < 20 {
        table[i] = table[i - 1] * 10;
        i += 1;
    }
    table
};

/// Errors in pcapng blocks.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PcapNgError {
    /// The section header's byte-order magic is neither 1a2b3c4d nor 4d3c2b1a.
    #[error("section header byte-order magic {magic:#010x} is invalid (expected 0x1a2b3c4d)")]
    BadByteOrderMagic {
        /// The four bytes as a big-endian number.
        magic: u32,
    },
    /// The section header has a major version other than 1.
    #[error("pcapng version {major}.{minor} is not supported; only version 1.x is defined")]
    UnsupportedVersion {
        /// Major version from the section header.
        major: u16,
        /// Minor version from the section header.
        minor: u16,
    },
    /// A total length is below 12 or not a multiple of 4.
    #[error("block total length {len} is invalid (must be a multiple of 4 and at least 12)")]
    BadBlockLength {
        /// Total length from the block head.
        len: u32,
    },
    /// A total length is above [`MAX_BLOCK_LEN`].
    #[error("block total length {len} exceeds the limit of {MAX_BLOCK_LEN} bytes")]
    BlockTooLong {
        /// Total length from the block head.
        len: u32,
    },
    /// The total lengths before and after a block body differ.
    #[error("block total length {leading} differs from the trailing copy {trailing}")]
    LengthMismatch {
        /// Total length from the block head.
        leading: u32,
        /// Total length after the body.
        trailing: u32,
    },
    /// A block body is shorter than its fixed fields.
    #[error("block type {block_type:#x} has a {len}-byte body but needs at least {needed} bytes")]
    BodyTooShort {
        /// Block type.
        block_type: u32,
        /// Body length.
        len: usize,
        /// Length of the fixed fields.
        needed: usize,
    },
    /// A packet's captured length runs past the end of its block.
    #[error("captured length {caplen} exceeds the {room} bytes left in the block")]
    PacketExceedsBlock {
        /// Captured length from the packet block.
        caplen: u32,
        /// Bytes of the body available for packet data.
        room: usize,
    },
    /// A packet names an interface that the section has not described.
    #[error("packet refers to interface {id} but the section describes {count} interfaces")]
    UnknownInterface {
        /// Interface id from the packet block.
        id: u32,
        /// Number of Interface Description Blocks seen in this section.
        count: usize,
    },
}

/// Fixed fields of a Section Header Block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SectionHeader {
    /// Byte order of every field in the section.
    pub byte_order: ByteOrder,
    /// Major version (1).
    pub version_major: u16,
    /// Minor version (0; 2 was written by some old tools).
    pub version_minor: u16,
}

/// Reads the byte order of a section from the first 12 bytes of its header block.
/// Returns `Ok(None)` when fewer than 12 bytes are given.
pub fn section_byte_order(block: &[u8]) -> Result<Option<ByteOrder>, PcapNgError> {
    let Some(magic) = ByteOrder::Big.u32_at(block, 8) else {
        return Ok(None);
    };
    match magic {
        BYTE_ORDER_MAGIC => Ok(Some(ByteOrder::Big)),
        m if m.swap_bytes() == BYTE_ORDER_MAGIC => Ok(Some(ByteOrder::Little)),
        _ => Err(PcapNgError::BadByteOrderMagic { magic }),
    }
}

/// Parses the body of a Section Header Block (it starts with the byte-order magic).
pub fn parse_section_header(body: &[u8], order: ByteOrder) -> Result<SectionHeader, PcapNgError> {
    let short = PcapNgError::BodyTooShort {
        block_type: SECTION_HEADER,
        len: body.len(),
        needed: 16,
    };
    let (Some(major), Some(minor)) = (order.u16_at(body, 4), order.u16_at(body, 6)) else {
        return Err(short);
    };
    if body.len() < 16 {
        return Err(short);
    }
    if major != 1 {
        return Err(PcapNgError::UnsupportedVersion { major, minor });
    }
    Ok(SectionHeader {
        byte_order: order,
        version_major: major,
        version_minor: minor,
    })
}

/// Timestamp unit of an interface, from its `if_tsresol` option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TsResolution {
    /// Ticks of 10^-n seconds (the default is 6, microseconds).
    Decimal(u8),
    /// Ticks of 2^-n seconds.
    Binary(u8),
}

impl TsResolution {
    /// Decodes the one-byte option value: the high bit selects a power of 2.
    pub fn from_option(value: u8) -> Self {
        if value & 0x80 == 0 {
            Self::Decimal(value)
        } else {
            Self::Binary(value & 0x7f)
        }
    }

    /// Converts a tick count to nanoseconds, saturating at `i64::MAX`. Binary resolutions
    /// round down to the nanosecond.
    pub fn ticks_to_ns(self, ticks: u64) -> i64 {
        let ns = match self {
            Self::Decimal(exp) if exp <= 9 => {
                let scale = POW10.get(usize::from(9 - exp)).copied().unwrap_or(1);
                u128::from(ticks) * u128::from(scale)
            }
            Self::Decimal(exp) => match POW10.get(usize::from(exp - 9)) {
                Some(&divisor) => u128::from(ticks / divisor),
                None => 0,
            },
            Self::Binary(exp) => (u128::from(ticks) * 1_000_000_000)
                .checked_shr(exp.into())
                .unwrap_or(0),
        };
        i64::try_from(ns).unwrap_or(i64::MAX)
    }
}

/// Fields the reader keeps from an Interface Description Block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interface {
    /// Link type of every packet on this interface.
    pub link_type: LinkType,
    /// Snapshot length; 0 means none.
    pub snaplen: u32,
    /// Unit of the packet timestamps.
    pub resolution: TsResolution,
    /// Seconds to add to every timestamp (`if_tsoffset`).
    pub offset_s: i64,
}

impl Interface {
    /// Converts a packet block's tick count to nanoseconds since the Unix epoch.
    pub fn timestamp_ns(&self, ticks: u64) -> i64 {
        let offset_ns = self.offset_s.saturating_mul(1_000_000_000);
        self.resolution.ticks_to_ns(ticks).saturating_add(offset_ns)
    }
}

/// Parses the body of an Interface Description Block.
pub fn parse_interface(body: &[u8], order: ByteOrder) -> Result<Interface, PcapNgError> {
    let (Some(link_type), Some(snaplen), Some(options)) =
        (order.u16_at(body, 0), order.u32_at(body, 4), body.get(8..))
    else {
        return Err(PcapNgError::BodyTooShort {
            block_type: INTERFACE_DESCRIPTION,
            len: body.len(),
            needed: 8,
        });
    };
    let mut interface = Interface {
        link_type: LinkType(link_type.into()),
        snaplen,
        resolution: TsResolution::Decimal(6),
        offset_s: 0,
    };
    for option in OptionIter::new(options, order) {
        match (option.code, option.value) {
            (IF_TSRESOL, [value, ..]) => interface.resolution = TsResolution::from_option(*value),
            (IF_TSOFFSET, value) => {
                let offset = order.u64_at(value, 0);
                interface.offset_s = offset.map_or(0, |v| v as i64);
            }
            _ => {}
        }
    }
    Ok(interface)
}

/// The fields of a packet block (enhanced, simple or obsolete) as ranges of its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PacketFields {
    /// Interface id (0 for a Simple Packet Block).
    pub interface: u32,
    /// Timestamp in the interface's ticks, absent from a Simple Packet Block.
    pub ticks: Option<u64>,
    /// Range of the packet data in the body.
    pub data: std::ops::Range<usize>,
    /// Length of the packet on the wire.
    pub original_len: u32,
    /// Range of the options in the body.
    pub options: std::ops::Range<usize>,
}

/// Parses the body of an Enhanced Packet Block.
pub fn parse_enhanced_packet(body: &[u8], order: ByteOrder) -> Result<PacketFields, PcapNgError> {
    let (Some(interface), Some(high), Some(low), Some(caplen), Some(origlen)) = (
        order.u32_at(body, 0),
        order.u32_at(body, 4),
        order.u32_at(body, 8),
        order.u32_at(body, 12),
        order.u32_at(body, 16),
    ) else {
        let needed = 20;
        return Err(PcapNgError::BodyTooShort {
            block_type: ENHANCED_PACKET,
            len: body.len(),
            needed,
        });
    };
    let ticks = (u64::from(high) << 32) | u64::from(low);
    packet_fields(body, 20, caplen).map(|(data, options)| PacketFields {
        interface,
        ticks: Some(ticks),
        data,
        original_len: origlen,
        options,
    })
}

/// Parses the body of an obsolete Packet Block.
pub fn parse_obsolete_packet(body: &[u8], order: ByteOrder) -> Result<PacketFields, PcapNgError> {
    let (Some(interface), Some(high), Some(low), Some(caplen), Some(origlen)) = (
        order.u16_at(body, 0),
        order.u32_at(body, 4),
        order.u32_at(body, 8),
        order.u32_at(body, 12),
        order.u32_at(body, 16),
    ) else {
        let needed = 20;
        return Err(PcapNgError::BodyTooShort {
            block_type: OBSOLETE_PACKET,
            len: body.len(),
            needed,
        });
    };
    let ticks = (u64::from(high) << 32) | u64::from(low);
    packet_fields(body, 20, caplen).map(|(data, options)| PacketFields {
        interface: interface.into(),
        ticks: Some(ticks),
        data,
        original_len: origlen,
        options,
    })
}

/// Parses the body of a Simple Packet Block. It has no captured length, so the data
/// length is the smallest of the original length, the snapshot length of interface 0
/// (`snaplen`, 0 for none) and the body room.
pub fn parse_simple_packet(
    body: &[u8],
    order: ByteOrder,
    snaplen: u32,
) -> Result<PacketFields, PcapNgError> {
    let Some(origlen) = order.u32_at(body, 0) else {
        let len = body.len();
        return Err(PcapNgError::BodyTooShort {
            block_type: SIMPLE_PACKET,
            len,
            needed: 4,
        });
    };
    let room = body.len().saturating_sub(4);
    let mut caplen = (origlen as usize).min(room);
    if snaplen != 0 {
        caplen = caplen.min(snaplen as usize);
    }
    let end = 4 + caplen;
    Ok(PacketFields {
        interface: 0,
        ticks: None,
        data: 4..end,
        original_len: origlen,
        options: body.len()..body.len(),
    })
}

/// Returns the data and options ranges of a packet whose data starts at `start`.
fn packet_fields(
    body: &[u8],
    start: usize,
    caplen: u32,
) -> Result<(std::ops::Range<usize>, std::ops::Range<usize>), PcapNgError> {
    let room = body.len().saturating_sub(start);
    let len = caplen as usize;
    if len > room {
        return Err(PcapNgError::PacketExceedsBlock { caplen, room });
    }
    let end = start + len;
    // Packet data is padded to 32 bits; the options follow the padding.
    let options_start = end.saturating_add(3) & !3;
    let options_start = options_start.min(body.len());
    Ok((start..end, options_start..body.len()))
}

/// One option of a pcapng block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockOption<'a> {
    /// Option code (custom and vendor codes included).
    pub code: u16,
    /// Option value without its padding.
    pub value: &'a [u8],
}

/// Iterator over the options of a block, stopping at `opt_endofopt` or at the first
/// option whose length runs past the end.
#[derive(Debug, Clone)]
pub struct OptionIter<'a> {
    rest: &'a [u8],
    order: ByteOrder,
}

impl<'a> OptionIter<'a> {
    /// Iterates over `options`, which are in byte order `order`.
    pub fn new(options: &'a [u8], order: ByteOrder) -> Self {
        Self {
            rest: options,
            order,
        }
    }
}

impl<'a> Iterator for OptionIter<'a> {
    type Item = BlockOption<'a>;

    fn next(&mut self) -> Option<Self::Item> {
        let code = self.order.u16_at(self.rest, 0)?;
        let len = usize::from(self.order.u16_at(self.rest, 2)?);
        if code == OPT_END {
            self.rest = &[];
            return None;
        }
        let Some(value) = self.rest.get(4..4 + len) else {
            self.rest = &[];
            return None;
        };
        let padded = (4 + len + 3) & !3;
        self.rest = self.rest.get(padded..).unwrap_or_default();
        Some(BlockOption { code, value })
    }
}

/// A process described by Apple's process information block. Enhanced Packet Blocks
/// written by macOS refer to these by their index within the section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessInfo {
    /// Process id.
    pub pid: u32,
    /// Process name, when the block has one (lossily decoded as UTF-8).
    pub name: Option<String>,
    /// Executable path, when the block has one (lossily decoded as UTF-8).
    pub path: Option<String>,
    /// Process UUID, when the block has one.
    pub uuid: Option<[u8; 16]>,
}

/// Direction of a packet from the `epb_flags` option or a pktap header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Received by the capturing host.
    Inbound,
    /// Sent by the capturing host.
    Outbound,
}

/// Apple's per-packet metadata from the options of an Enhanced Packet Block, as macOS
/// `tcpdump` writes them for pktap captures. Every field is `None` when the packet has no
/// such option, which is the case for every packet not captured on a Mac.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct PacketProcess {
    /// Option 0x8001: index of the process information block, counted from 0 in the
    /// order the blocks appear in the section.
    pub process_index: Option<u32>,
    /// Option 0x8003: index of the process information block of the effective process,
    /// the one a daemon acted for.
    pub effective_process_index: Option<u32>,
    /// Option 0x8005: the flow id macOS gave the socket.
    pub flow_id: Option<u32>,
    /// Direction bits of the standard `epb_flags` option.
    pub direction: Option<Direction>,
}

impl PacketProcess {
    /// Reads the options of a packet block. Unknown, short and repeated options are
    /// ignored, and a repeated option keeps its first value.
    pub fn from_options(options: &[u8], order: ByteOrder) -> Self {
        let mut process = PacketProcess::default();
        for option in OptionIter::new(options, order) {
            let Some(value) = order.u32_at(option.value, 0) else {
                continue;
            };
            let slot = match option.code {
                EPB_PIB_INDEX => &mut process.process_index,
                EPB_E_PIB_INDEX => &mut process.effective_process_index,
                EPB_FLOW_ID => &mut process.flow_id,
                EPB_FLAGS => {
                    // Bits 0-1: 0 unknown, 1 inbound, 2 outbound (pcapng draft, epb_flags).
                    let direction = match value & 0b11 {
                        1 => Some(Direction::Inbound),
                        2 => Some(Direction::Outbound),
                        _ => None,
                    };
                    process.direction = process.direction.or(direction);
                    continue;
                }
                _ => continue,
            };
            slot.get_or_insert(value);
        }
        process
    }

    /// Tells whether the packet carries any of Apple's metadata.
    pub fn is_empty(&self) -> bool {
        *self == PacketProcess::default()
    }
}

/// Parses the body of Apple's process information block: a process id then options.
pub fn parse_process_info(body: &[u8], order: ByteOrder) -> Result<ProcessInfo, PcapNgError> {
    let (Some(pid), Some(options)) = (order.u32_at(body, 0), body.get(4..)) else {
        let len = body.len();
        let block_type = APPLE_PROCESS_INFORMATION;
        return Err(PcapNgError::BodyTooShort {
            block_type,
            len,
            needed: 4,
        });
    };
    let mut info = ProcessInfo {
        pid,
        name: None,
        path: None,
        uuid: None,
    };
    for option in OptionIter::new(options, order) {
        match option.code {
            PIB_NAME => info.name = Some(option_string(option.value)),
            PIB_PATH => info.path = Some(option_string(option.value)),
            PIB_UUID => info.uuid = option.value.try_into().ok(),
            _ => {}
        }
    }
    Ok(info)
}

/// Decodes a string option up to its first NUL, replacing invalid UTF-8.
fn option_string(value: &[u8]) -> String {
    let text = value.split(|&b| b == 0).next().unwrap_or_default();
    String::from_utf8_lossy(text).into_owned()
}

/// Checks a block's total length as read from its head.
pub fn check_block_length(len: u32) -> Result<(), PcapNgError> {
    if len < MIN_BLOCK_LEN || !len.is_multiple_of(4) {
        return Err(PcapNgError::BadBlockLength { len });
    }
    if len > MAX_BLOCK_LEN {
        return Err(PcapNgError::BlockTooLong { len });
    }
    Ok(())
}

/// Searches `window` for the next block whose leading and trailing total lengths agree,
/// trying every byte offset because corruption may have shifted the alignment.
/// A section header brings its own byte order; other blocks are read in `order`.
/// Candidates longer than `max_len` are skipped so the search stays within a bounded
/// window. `at_eof` is true when `window` runs to the end of the input.
pub(crate) fn find_block(window: &[u8], order: ByteOrder, max_len: usize, at_eof: bool) -> Scan {
    for at in 0..window.len() {
        let Some(rest) = window.get(at..) else { break };
        if rest.len() < MIN_BLOCK_LEN as usize {
            return if at_eof {
                Scan::NotFound(window.len())
            } else {
                Scan::NotFound(at)
            };
        }
        let Some(len) = candidate_length(rest, order) else {
            continue;
        };
        if len > max_len {
            continue;
        }
        let Some(trailing_at) = len.checked_sub(4) else {
            continue;
        };
        let candidate_order = section_order_or(rest, order);
        match candidate_order.u32_at(rest, trailing_at) {
            Some(trailing) if trailing as usize == len => return Scan::Found(at),
            Some(_) => continue,
            None if at_eof => continue,
            None => return Scan::NeedMore { at, len },
        }
    }
    Scan::NotFound(window.len())
}

/// Returns the total length of a block starting at `rest` when it passes the length
/// checks, reading a section header in its own byte order.
fn candidate_length(rest: &[u8], order: ByteOrder) -> Option<usize> {
    let candidate_order = section_order_or(rest, order);
    let len = candidate_order.u32_at(rest, 4)?;
    check_block_length(len).ok()?;
    Some(len as usize)
}

/// Returns the byte order of `block` when it is a valid section header, else `order`.
fn section_order_or(block: &[u8], order: ByteOrder) -> ByteOrder {
    if ByteOrder::Big.u32_at(block, 0) != Some(SECTION_HEADER) {
        return order;
    }
    section_byte_order(block).ok().flatten().unwrap_or(order)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{options_bytes, put_u16, put_u32};

    const LE: ByteOrder = ByteOrder::Little;

    fn epb_body(order: ByteOrder, caplen: u32, data: &[u8], options: &[(u16, &[u8])]) -> Vec<u8> {
        let mut body = Vec::new();
        for word in [1, 0x0001_0000, 5, caplen, 100] {
            put_u32(&mut body, order, word);
        }
        body.extend_from_slice(data);
        body.resize(body.len().next_multiple_of(4), 0);
        body.extend(options_bytes(order, options));
        body
    }

    #[test]
    fn resolution_micro_default() {
        assert_eq!(
            TsResolution::Decimal(6).ticks_to_ns(1_500_000),
            1_500_000_000
        );
    }

    #[test]
    fn resolution_nano() {
        assert_eq!(TsResolution::from_option(9).ticks_to_ns(7), 7);
    }

    #[test]
    fn resolution_pico_divides() {
        assert_eq!(TsResolution::from_option(12).ticks_to_ns(5_000), 5);
    }

    #[test]
    fn resolution_power_of_two() {
        // 2^-10 seconds per tick: 1024 ticks are one second.
        assert_eq!(
            TsResolution::from_option(0x8a).ticks_to_ns(2048),
            2_000_000_000
        );
    }

    #[test]
    fn resolution_extreme_exponents() {
        let decimal = TsResolution::Decimal(127).ticks_to_ns(u64::MAX);
        let binary = TsResolution::Binary(127).ticks_to_ns(u64::MAX);
        assert_eq!((decimal, binary), (0, 0));
    }

    #[test]
    fn resolution_saturates() {
        assert_eq!(TsResolution::Decimal(0).ticks_to_ns(u64::MAX), i64::MAX);
    }

    #[test]
    fn interface_options_read() {
        let mut body = Vec::new();
        put_u16(&mut body, LE, 1);
        put_u16(&mut body, LE, 0);
        put_u32(&mut body, LE, 65535);
        let offset = 100i64.to_le_bytes();
        body.extend(options_bytes(LE, &[(2, b"en0"), (9, &[9]), (14, &offset)]));
        let interface = parse_interface(&body, LE);
        let expected = Interface {
            link_type: LinkType::ETHERNET,
            snaplen: 65535,
            resolution: TsResolution::Decimal(9),
            offset_s: 100,
        };
        assert_eq!(interface, Ok(expected));
    }

    #[test]
    fn interface_offset_applied() {
        let interface = Interface {
            link_type: LinkType::ETHERNET,
            snaplen: 0,
            resolution: TsResolution::Decimal(6),
            offset_s: 10,
        };
        assert_eq!(interface.timestamp_ns(1), 10_000_001_000);
    }

    #[test]
    fn interface_body_too_short() {
        let err = parse_interface(&[1, 0, 0], LE);
        let expected = PcapNgError::BodyTooShort {
            block_type: 1,
            len: 3,
            needed: 8,
        };
        assert_eq!(err, Err(expected));
    }

    #[test]
    fn enhanced_packet_fields() {
        let body = epb_body(LE, 3, b"abc", &[(0x8001, &7u32.to_le_bytes())]);
        let fields = parse_enhanced_packet(&body, LE);
        let fields = fields.map(|f| (f.interface, f.ticks, f.data, f.original_len));
        assert_eq!(fields, Ok((1, Some(0x0001_0000_0000_0005), 20..23, 100)));
    }

    #[test]
    fn enhanced_packet_options_after_padding() {
        let body = epb_body(LE, 3, b"abc", &[(0x8001, &7u32.to_le_bytes())]);
        let options = parse_enhanced_packet(&body, LE).map(|f| f.options);
        let range = options.unwrap_or_default();
        let parsed: Vec<BlockOption<'_>> = OptionIter::new(&body[range], LE).collect();
        assert_eq!(
            parsed,
            [BlockOption {
                code: 0x8001,
                value: &7u32.to_le_bytes()
            }]
        );
    }

    #[test]
    fn enhanced_packet_big_endian() {
        let body = epb_body(ByteOrder::Big, 2, b"hi", &[]);
        let fields = parse_enhanced_packet(&body, ByteOrder::Big).map(|f| f.data);
        assert_eq!(fields, Ok(20..22));
    }

    #[test]
    fn enhanced_packet_exceeds_block() {
        let body = epb_body(LE, 50, b"abc", &[]);
        let err = parse_enhanced_packet(&body, LE);
        assert_eq!(
            err,
            Err(PcapNgError::PacketExceedsBlock {
                caplen: 50,
                room: 4
            })
        );
    }

    #[test]
    fn enhanced_packet_too_short() {
        let err = parse_enhanced_packet(&[0; 12], LE);
        let expected = PcapNgError::BodyTooShort {
            block_type: 6,
            len: 12,
            needed: 20,
        };
        assert_eq!(err, Err(expected));
    }

    #[test]
    fn simple_packet_uses_snaplen() {
        let mut body = Vec::new();
        put_u32(&mut body, LE, 8);
        body.extend_from_slice(b"abcdefgh");
        let fields = parse_simple_packet(&body, LE, 5).map(|f| (f.data, f.ticks));
        assert_eq!(fields, Ok((4..9, None)));
    }

    #[test]
    fn simple_packet_without_snaplen() {
        let mut body = Vec::new();
        put_u32(&mut body, LE, 6);
        body.extend_from_slice(b"abcdef\0\0");
        let fields = parse_simple_packet(&body, LE, 0).map(|f| f.data);
        assert_eq!(fields, Ok(4..10));
    }

    #[test]
    fn obsolete_packet_fields() {
        let mut body = Vec::new();
        put_u16(&mut body, LE, 2);
        put_u16(&mut body, LE, 0);
        for word in [0, 9, 2, 2] {
            put_u32(&mut body, LE, word);
        }
        body.extend_from_slice(b"ok\0\0");
        let fields = parse_obsolete_packet(&body, LE).map(|f| (f.interface, f.ticks, f.data));
        assert_eq!(fields, Ok((2, Some(9), 20..22)));
    }

    #[test]
    fn options_stop_at_end_marker() {
        let mut bytes = options_bytes(LE, &[(1, b"comment")]);
        bytes.extend(options_bytes(LE, &[(1, b"after end")]));
        assert_eq!(OptionIter::new(&bytes, LE).count(), 1);
    }

    #[test]
    fn options_stop_at_overlong_value() {
        let mut bytes = Vec::new();
        put_u16(&mut bytes, LE, 1);
        put_u16(&mut bytes, LE, 200);
        bytes.extend_from_slice(b"short");
        assert_eq!(OptionIter::new(&bytes, LE).count(), 0);
    }

    #[test]
    fn process_info_name_and_uuid() {
        let mut body = Vec::new();
        put_u32(&mut body, LE, 4242);
        body.extend(options_bytes(LE, &[(2, b"Safari\0"), (4, &[7; 16])]));
        let info = parse_process_info(&body, LE);
        let expected = ProcessInfo {
            pid: 4242,
            name: Some("Safari".to_owned()),
            path: None,
            uuid: Some([7; 16]),
        };
        assert_eq!(info, Ok(expected));
    }

    #[test]
    fn process_info_path() {
        let mut body = Vec::new();
        put_u32(&mut body, ByteOrder::Big, 77);
        let path = b"/usr/bin/curl";
        body.extend(options_bytes(ByteOrder::Big, &[(3, path), (2, b"curl")]));
        let info = parse_process_info(&body, ByteOrder::Big);
        let fields = info.map(|i| (i.pid, i.name, i.path));
        let expected = (
            77,
            Some("curl".to_owned()),
            Some("/usr/bin/curl".to_owned()),
        );
        assert_eq!(fields, Ok(expected));
    }

    #[test]
    fn process_info_too_short() {
        let err = parse_process_info(&[1, 2], LE);
        let expected = PcapNgError::BodyTooShort {
            block_type: APPLE_PROCESS_INFORMATION,
            len: 2,
            needed: 4,
        };
        assert_eq!(err, Err(expected));
    }

    #[test]
    fn packet_process_all_options() {
        let options = options_bytes(
            LE,
            &[
                (0x8001, &3u32.to_le_bytes()),
                (0x8002, &100u32.to_le_bytes()),
                (0x8003, &1u32.to_le_bytes()),
                (0x8005, &0xfeedu32.to_le_bytes()),
                (2, &2u32.to_le_bytes()),
            ],
        );
        let expected = PacketProcess {
            process_index: Some(3),
            effective_process_index: Some(1),
            flow_id: Some(0xfeed),
            direction: Some(Direction::Outbound),
        };
        assert_eq!(PacketProcess::from_options(&options, LE), expected);
    }

    #[test]
    fn packet_process_big_endian_inbound() {
        let options = options_bytes(
            ByteOrder::Big,
            &[(2, &1u32.to_be_bytes()), (0x8001, &9u32.to_be_bytes())],
        );
        let process = PacketProcess::from_options(&options, ByteOrder::Big);
        assert_eq!(process.process_index, Some(9));
        assert_eq!(process.direction, Some(Direction::Inbound));
    }

    #[test]
    fn packet_process_absent_or_short() {
        let options = options_bytes(LE, &[(0x8001, &[1, 2]), (1, b"comment")]);
        let process = PacketProcess::from_options(&options, LE);
        assert!(process.is_empty());
        assert!(PacketProcess::from_options(&[], LE).is_empty());
    }

    #[test]
    fn packet_process_first_value_kept() {
        let options = options_bytes(
            LE,
            &[(0x8001, &4u32.to_le_bytes()), (0x8001, &5u32.to_le_bytes())],
        );
        let process = PacketProcess::from_options(&options, LE);
        assert_eq!(process.process_index, Some(4));
    }

    #[test]
    fn section_byte_order_both() {
        let mut little = vec![0x0a, 0x0d, 0x0d, 0x0a, 0, 0, 0, 0];
        little.extend_from_slice(&[0x4d, 0x3c, 0x2b, 0x1a]);
        let mut big = little.clone();
        big[8..].copy_from_slice(&[0x1a, 0x2b, 0x3c, 0x4d]);
        let orders = (section_byte_order(&little), section_byte_order(&big));
        assert_eq!(orders, (Ok(Some(LE)), Ok(Some(ByteOrder::Big))));
    }

    #[test]
    fn section_byte_order_invalid() {
        let block = [0x0a, 0x0d, 0x0d, 0x0a, 0, 0, 0, 0, 1, 2, 3, 4];
        let expected = PcapNgError::BadByteOrderMagic { magic: 0x0102_0304 };
        assert_eq!(section_byte_order(&block), Err(expected));
    }

    #[test]
    fn section_version_two_rejected() {
        let mut body = Vec::new();
        put_u32(&mut body, LE, BYTE_ORDER_MAGIC);
        put_u16(&mut body, LE, 2);
        put_u16(&mut body, LE, 0);
        body.extend_from_slice(&[0; 8]);
        let expected = PcapNgError::UnsupportedVersion { major: 2, minor: 0 };
        assert_eq!(parse_section_header(&body, LE), Err(expected));
    }

    #[test]
    fn block_length_checks() {
        let results = [13, 8, MAX_BLOCK_LEN + 4, 16].map(check_block_length);
        let expected = [
            Err(PcapNgError::BadBlockLength { len: 13 }),
            Err(PcapNgError::BadBlockLength { len: 8 }),
            Err(PcapNgError::BlockTooLong {
                len: MAX_BLOCK_LEN + 4,
            }),
            Ok(()),
        ];
        assert_eq!(results, expected);
    }

    #[test]
    fn find_block_after_garbage() {
        let mut window = vec![0xee; 5];
        for word in [5u32, 16, 0, 16] {
            put_u32(&mut window, LE, word);
        }
        assert_eq!(find_block(&window, LE, 1 << 20, true), Scan::Found(5));
    }

    #[test]
    fn find_block_needs_trailer() {
        let mut window = Vec::new();
        for word in [5u32, 64, 0] {
            put_u32(&mut window, LE, word);
        }
        assert_eq!(
            find_block(&window, LE, 1 << 20, false),
            Scan::NeedMore { at: 0, len: 64 }
        );
    }

    #[test]
    fn find_block_none_at_end() {
        let window = [0xee; 40];
        assert_eq!(find_block(&window, LE, 1 << 20, true), Scan::NotFound(40));
    }
}
