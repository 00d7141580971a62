//! Apple's pktap header: the per-packet process and interface metadata that macOS puts in
//! front of every frame captured on a pktap pseudo-interface (`tcpdump -i pktap`, or the
//! default interface of tcpdump on macOS).
//!
//! Layout of `struct pktap_header` from XNU's `bsd/net/pktap.h` (as published in
//! apple-oss-distributions/xnu), written in the capturing Mac's byte order, which is
//! little endian on every Mac that runs pktap (x86-64 and arm64):
//!
//! | offset | field |
//! | --- | --- |
//! | 0 | `pth_length` (u32): length of this header, where the frame starts |
//! | 4 | `pth_type_next` (u32): 1 for a packet |
//! | 8 | `pth_dlt` (u32): DLT of the frame |
//! | 12 | `pth_ifname` (24 bytes, NUL-padded) |
//! | 36 | `pth_flags` (u32) |
//! | 40 | `pth_protocol_family` (u32) |
//! | 44 | `pth_frame_pre_length`, 48 `pth_frame_post_length` (u32) |
//! | 52 | `pth_pid` (i32) |
//! | 56 | `pth_comm` (17 bytes), 73 pad, 74 `pth_trace_tag` (u16) |
//! | 76 | `pth_svc` (u32), 80 `pth_iftype` (u16), 82 `pth_ifunit` (u16) |
//! | 84 | `pth_epid` (i32) |
//! | 88 | `pth_ecomm` (17 bytes), then 3 bytes of padding |
//! | 108 | `pth_flowid` (u32), 112 `pth_ipproto` (u32) |
//! | 116 | `pth_tstamp` (two i32), 124 `pth_uuid` (16), 140 `pth_euuid` (16) |
//!
//! The header is 156 bytes today. Older kernels wrote shorter ones, so only the first
//! [`MIN_HEADER_LEN`] bytes (through `pth_ecomm`) are required and later fields are read
//! when `pth_length` covers them.

use std::borrow::Cow;

use crate::bytes::ByteOrder;
use crate::decoded::{DecodeError, Layer};
use crate::linktype::LinkType;
use crate::pcapng::Direction;

/// Bytes up to and including `pth_ecomm` and its padding: the shortest header accepted.
/// Wireshark's pktap dissector uses the same minimum.
pub const MIN_HEADER_LEN: usize = 108;
/// `pth_type_next` of a header followed by a packet.
pub const TYPE_PACKET: u32 = 1;
/// `pth_flags` bit: the packet was received.
pub const FLAG_DIR_IN: u32 = 0x1;
/// `pth_flags` bit: the packet was sent.
pub const FLAG_DIR_OUT: u32 = 0x2;
/// `pth_flags` bit of the kernel's compact version 2 header, a different layout.
pub const FLAG_V2_HEADER: u32 = 0x8_0000;

const ORDER: ByteOrder = ByteOrder::Little;
const IFNAME: std::ops::Range<usize> = 12..36;
const COMM: std::ops::Range<usize> = 56..73;
const ECOMM: std::ops::Range<usize> = 88..105;

/// A parsed pktap header. Strings borrow the frame and stop at their first NUL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PktapHeader<'a> {
    /// `pth_length`: bytes before the frame.
    pub length: u32,
    /// `pth_dlt`: link type of the frame that follows.
    pub dlt: u32,
    /// `pth_ifname`: interface name such as `en0`.
    pub ifname: &'a [u8],
    /// `pth_flags`: direction and packet flags.
    pub flags: u32,
    /// `pth_pid`: the process that sent or received the packet; -1 or 0 when the kernel
    /// did not know it.
    pub pid: i32,
    /// `pth_comm`: that process's name, at most 16 bytes.
    pub comm: &'a [u8],
    /// `pth_svc`: service class.
    pub svc: u32,
    /// `pth_epid`: the effective process, the one a daemon acted for.
    pub epid: i32,
    /// `pth_ecomm`: the effective process's name.
    pub ecomm: &'a [u8],
    /// `pth_flowid`, when the header is long enough to have it.
    pub flow_id: Option<u32>,
    /// `pth_uuid`: UUID of the process's executable, when present and not all zero.
    pub uuid: Option<[u8; 16]>,
    /// `pth_euuid`: UUID of the effective process's executable, likewise.
    pub euuid: Option<[u8; 16]>,
}

impl<'a> PktapHeader<'a> {
    /// Parses the header at the start of `frame` and returns it with the frame that
    /// follows. Rejects, with the reason, a header that is cut short, a `pth_length`
    /// below the minimum or past the captured bytes, a version 2 header, and a
    /// `pth_type_next` other than packet.
    pub fn parse(frame: &'a [u8]) -> Result<(Self, &'a [u8]), DecodeError> {
        let field = |at| ORDER.u32_at(frame, at).unwrap_or_default();

        if frame.len() < MIN_HEADER_LEN {
            return Err(DecodeError::Truncated {
                layer: Layer::Pktap,
                needed: MIN_HEADER_LEN,
                available: frame.len(),
            });
        }

        let flags = field(36);
        if flags & FLAG_V2_HEADER != 0 {
            return Err(DecodeError::Unsupported {
                layer: Layer::Pktap,
                reason: "version 2 header (pth_flags 0x80000); only the version 1 layout is read",
            });
        }

        let length = field(0);
        let len = length as usize;
        if len < MIN_HEADER_LEN {
            return Err(DecodeError::LengthTooSmall {
                layer: Layer::Pktap,
                field: "pth_length",
                value: len,
                minimum: MIN_HEADER_LEN,
            });
        }
        let Some(inner) = frame.get(len..) else {
            return Err(DecodeError::LengthPastEnd {
                layer: Layer::Pktap,
                field: "pth_length",
                value: len,
                available: frame.len(),
            });
        };

        let type_next = field(4);
        if type_next != TYPE_PACKET {
            return Err(DecodeError::Unsupported {
                layer: Layer::Pktap,
                reason: "pth_type_next is not 1 (packet)",
            });
        }

        let header = frame.get(..len).unwrap_or_default();
        let signed = |at| field(at) as i32;
        let parsed = PktapHeader {
            length,
            dlt: field(8),
            ifname: c_string(header, IFNAME),
            flags,
            pid: signed(52),
            comm: c_string(header, COMM),
            svc: field(76),
            epid: signed(84),
            ecomm: c_string(header, ECOMM),
            flow_id: ORDER.u32_at(header, 108),
            uuid: uuid_at(header, 124),
            euuid: uuid_at(header, 140),
        };
        Ok((parsed, inner))
    }

    /// Returns the link type of the frame after the header. macOS numbers it as a DLT,
    /// which matches the LINKTYPE number for every link type pktap carries (Ethernet,
    /// BSD loopback, raw IP as DLT 12, PPP).
    pub fn link_type(&self) -> LinkType {
        LinkType(self.dlt)
    }

    /// Returns the direction from `pth_flags` when exactly one direction bit is set.
    pub fn direction(&self) -> Option<Direction> {
        match self.flags & (FLAG_DIR_IN | FLAG_DIR_OUT) {
            FLAG_DIR_IN => Some(Direction::Inbound),
            FLAG_DIR_OUT => Some(Direction::Outbound),
            _ => None,
        }
    }

    /// Returns `pth_pid` when it names a process (positive).
    pub fn process_id(&self) -> Option<u32> {
        u32::try_from(self.pid).ok().filter(|&pid| pid > 0)
    }

    /// Returns `pth_epid` when it names a process (positive).
    pub fn effective_process_id(&self) -> Option<u32> {
        u32::try_from(self.epid).ok().filter(|&pid| pid > 0)
    }

    /// Returns `pth_comm` as text, replacing invalid UTF-8.
    pub fn process_name(&self) -> Cow<'a, str> {
        String::from_utf8_lossy(self.comm)
    }

    /// Returns `pth_ecomm` as text, replacing invalid UTF-8.
    pub fn effective_process_name(&self) -> Cow<'a, str> {
        String::from_utf8_lossy(self.ecomm)
    }
}

/// Returns the bytes of a fixed-size C string field up to its first NUL.
fn c_string(header: &[u8], range: std::ops::Range<usize>) -> &[u8] {
    let field = header.get(range).unwrap_or_default();
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    field.get(..end).unwrap_or_default()
}

/// Returns the 16 bytes at `at`, unless the header ends first or they are all zero.
fn uuid_at(header: &[u8], at: usize) -> Option<[u8; 16]> {
    let bytes: [u8; 16] = header.get(at..at + 16)?.try_into().ok()?;
    (bytes != [0; 16]).then_some(bytes)
}

/// Builds a pktap header for tests: `len` bytes, with the given DLT, flags, processes
/// and flow id, in the layout above.
#[cfg(test)]
pub(crate) fn header_bytes(len: usize, dlt: u32, flags: u32, procs: [(i32, &str); 2]) -> Vec<u8> {
    let mut header = vec![0u8; len.max(MIN_HEADER_LEN)];
    let mut put = |at: usize, bytes: &[u8]| {
        if let Some(slot) = header.get_mut(at..at + bytes.len()) {
            slot.copy_from_slice(bytes);
        }
    };
    put(0, &(len as u32).to_le_bytes());
    put(4, &TYPE_PACKET.to_le_bytes());
    put(8, &dlt.to_le_bytes());
    put(12, b"lo0");
    put(36, &flags.to_le_bytes());
    put(40, &2u32.to_le_bytes());
    put(52, &procs[0].0.to_le_bytes());
    put(56, procs[0].1.as_bytes());
    put(84, &procs[1].0.to_le_bytes());
    put(88, procs[1].1.as_bytes());
    put(108, &0x1234u32.to_le_bytes());
    put(124, &[0xab; 16]);
    header.truncate(len);
    header
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_header_fields() {
        let mut frame = header_bytes(156, 1, FLAG_DIR_OUT, [(501, "curl"), (88, "nsurlsessiond")]);
        frame.extend_from_slice(b"frame");
        let Ok((header, inner)) = PktapHeader::parse(&frame) else {
            panic!("header rejected");
        };
        assert_eq!(inner, b"frame");
        assert_eq!(header.link_type(), LinkType::ETHERNET);
        assert_eq!(header.ifname, b"lo0");
        assert_eq!(header.process_id(), Some(501));
        assert_eq!(header.process_name(), "curl");
        assert_eq!(header.effective_process_id(), Some(88));
        assert_eq!(header.effective_process_name(), "nsurlsessiond");
        assert_eq!(header.direction(), Some(Direction::Outbound));
        assert_eq!(header.flow_id, Some(0x1234));
        assert_eq!(header.uuid, Some([0xab; 16]));
        assert_eq!(header.euuid, None);
    }

    #[test]
    fn short_header_has_no_optional_fields() {
        let frame = header_bytes(108, 0, FLAG_DIR_IN, [(7, "ssh"), (0, "")]);
        let header = PktapHeader::parse(&frame).map(|(h, _)| h);
        let fields = header.map(|h| (h.flow_id, h.uuid, h.direction(), h.effective_process_id()));
        assert_eq!(fields, Ok((None, None, Some(Direction::Inbound), None)));
    }

    #[test]
    fn comm_of_sixteen_bytes() {
        let frame = header_bytes(156, 1, 0, [(9, "sixteen-letters!"), (0, "")]);
        let name = PktapHeader::parse(&frame).map(|(h, _)| h.process_name().into_owned());
        assert_eq!(name.as_deref(), Ok("sixteen-letters!"));
    }

    #[test]
    fn negative_pid_is_unknown() {
        let frame = header_bytes(156, 1, 0, [(-1, ""), (-1, "")]);
        let pid = PktapHeader::parse(&frame).map(|(h, _)| h.process_id());
        assert_eq!(pid, Ok(None));
    }

    #[test]
    fn truncated_header_rejected() {
        let frame = header_bytes(156, 1, 0, [(1, "a"), (1, "a")]);
        let err = PktapHeader::parse(&frame[..100]).map(drop);
        let expected = DecodeError::Truncated {
            layer: Layer::Pktap,
            needed: 108,
            available: 100,
        };
        assert_eq!(err, Err(expected));
    }

    #[test]
    fn length_below_minimum_rejected() {
        let mut frame = header_bytes(156, 1, 0, [(1, "a"), (1, "a")]);
        frame[..4].copy_from_slice(&40u32.to_le_bytes());
        let err = PktapHeader::parse(&frame).map(drop);
        let expected = DecodeError::LengthTooSmall {
            layer: Layer::Pktap,
            field: "pth_length",
            value: 40,
            minimum: 108,
        };
        assert_eq!(err, Err(expected));
    }

    #[test]
    fn length_past_frame_rejected() {
        let mut frame = header_bytes(156, 1, 0, [(1, "a"), (1, "a")]);
        frame[..4].copy_from_slice(&4000u32.to_le_bytes());
        let err = PktapHeader::parse(&frame).map(drop);
        let expected = DecodeError::LengthPastEnd {
            layer: Layer::Pktap,
            field: "pth_length",
            value: 4000,
            available: 156,
        };
        assert_eq!(err, Err(expected));
    }

    #[test]
    fn version_two_rejected() {
        let frame = header_bytes(156, 1, FLAG_V2_HEADER, [(1, "a"), (1, "a")]);
        let err = PktapHeader::parse(&frame).map_err(|e| e.to_string());
        let message = err.err().unwrap_or_default();
        assert!(message.contains("version 2 header"), "{message}");
    }

    #[test]
    fn type_next_not_packet_rejected() {
        let mut frame = header_bytes(156, 1, 0, [(1, "a"), (1, "a")]);
        frame[4..8].copy_from_slice(&0u32.to_le_bytes());
        let err = PktapHeader::parse(&frame).map_err(|e| e.to_string());
        let message = err.err().unwrap_or_default();
        assert!(message.contains("pth_type_next"), "{message}");
    }
}
