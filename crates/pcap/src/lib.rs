//! Reads packet captures and decodes packets down to TCP and UDP.
//!
//! [`CaptureReader`] streams pcap and pcapng files, gzip-compressed or not, and hands out
//! each packet record as a [`Packet`] that borrows its buffer. Corrupt records are
//! reported as [`ReadError`]s and skipped. [`decode()`] then turns a packet's bytes into
//! addresses, ports and the TCP or UDP payload. Every parser works on `&[u8]` and returns
//! an error on malformed input instead of panicking.
#![forbid(unsafe_code)]

mod bytes;
pub mod decode;
mod decoded;
pub mod error;
#[cfg(test)]
mod fixtures;
mod input;
mod ip;
pub mod linktype;
pub mod pcap;
pub mod pcapng;
pub mod pktap;
pub mod reader;

pub use bytes::ByteOrder;
pub use decode::{
    DecodeError, Decoded, IpPacket, Layer, TcpSegment, Transport, UdpDatagram, decode, tcp_flags,
};
pub use error::{ReadError, ReadErrorKind, Recovery, TruncatedPart};
pub use linktype::LinkType;
pub use pcapng::{Direction, PacketProcess, ProcessInfo};
pub use pktap::PktapHeader;
pub use reader::{CaptureReader, Format, FormatKind, OpenError, Packet, ReadStats};
