//! Values the frame decoder returns: decoded frames, IP packets, TCP and UDP contents, and
//! decode errors.
//!
//! The link-layer decoder in `decode`, the IP and transport decoders in `ip` and the pktap
//! parser in `pktap` all build these values. Keeping them here lets those modules use them
//! without importing each other.

use std::fmt;
use std::net::IpAddr;

use thiserror::Error;

use crate::linktype::LinkType;

/// A decoded frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded<'a> {
    /// An IPv4 or IPv6 packet.
    Ip(IpPacket<'a>),
    /// A frame that carries something other than IP (ARP, LLDP, PPP LCP, ...).
    NonIp {
        /// EtherType after any VLAN tags; 0 when the link layer has no EtherType (values
        /// below 0x0600 are IEEE 802.3 lengths, so 0 is never a real EtherType).
        ethertype: u16,
        /// For frames without an EtherType, the link layer's own payload identifier: the
        /// PPP protocol number, loopback address family, Linux cooked protocol below
        /// 0x0600, or IEEE 802.2 DSAP. `None` when `ethertype` is set.
        link_protocol: Option<u32>,
    },
}

/// An IP packet with its transport-layer contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpPacket<'a> {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// IPv4 protocol, or the last IPv6 next-header value after the extension headers.
    pub protocol: u8,
    /// IPv4 TTL or IPv6 hop limit.
    pub ttl: u8,
    /// VLAN ids, outer tag first; more than two tags are walked but not recorded.
    pub vlan_ids: [Option<u16>; 2],
    /// Transport-layer contents.
    pub transport: Transport<'a>,
}

/// Transport-layer contents of an IP packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport<'a> {
    /// A TCP segment.
    Tcp(TcpSegment<'a>),
    /// A UDP datagram.
    Udp(UdpDatagram<'a>),
    /// A fragment of a larger IP packet: IPv4 with MF set or a non-zero offset, or IPv6
    /// with a fragment header that is not atomic (RFC 6946). Fragments are not reassembled.
    Fragment,
    /// Any other protocol (ICMP, ICMPv6, ESP, ...); see [`IpPacket::protocol`].
    Other,
}

/// TCP flag bits in [`TcpSegment::flags`].
pub mod tcp_flags {
    /// No more data from sender.
    pub const FIN: u8 = 0x01;
    /// Synchronise sequence numbers.
    pub const SYN: u8 = 0x02;
    /// Reset the connection.
    pub const RST: u8 = 0x04;
    /// Push function.
    pub const PSH: u8 = 0x08;
    /// Acknowledgment field is significant.
    pub const ACK: u8 = 0x10;
    /// Urgent pointer field is significant.
    pub const URG: u8 = 0x20;
}

/// A TCP segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpSegment<'a> {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgment number.
    pub ack: u32,
    /// Flag byte; see [`tcp_flags`].
    pub flags: u8,
    /// Receive window, not scaled.
    pub window: u16,
    /// Options between the fixed header and the data offset.
    pub options: &'a [u8],
    /// Payload, trimmed to the IP length (link-layer padding removed).
    pub payload: &'a [u8],
    /// Whether the capture cut the payload: fewer bytes were captured than the IP length
    /// field gives.
    pub payload_truncated: bool,
}

/// A UDP datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UdpDatagram<'a> {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Payload, trimmed to the UDP or IP length.
    pub payload: &'a [u8],
    /// Whether the capture cut the payload.
    pub payload_truncated: bool,
}

/// The protocol layer an error refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layer {
    /// Ethernet II or IEEE 802.3 header.
    Ethernet,
    /// IEEE 802.2 LLC and SNAP header.
    Llc,
    /// IEEE 802.1Q or 802.1ad tag.
    Vlan,
    /// Linux cooked header, version 1.
    Sll,
    /// Linux cooked header, version 2.
    Sll2,
    /// BSD loopback address family.
    Loopback,
    /// PPP header.
    Ppp,
    /// PPPoE session header.
    Pppoe,
    /// Cisco HDLC header.
    CiscoHdlc,
    /// Apple pktap header.
    Pktap,
    /// IP header of unknown version.
    Ip,
    /// IPv4 header.
    Ipv4,
    /// IPv6 fixed header.
    Ipv6,
    /// IPv6 extension header.
    Ipv6Extension,
    /// TCP header.
    Tcp,
    /// UDP header.
    Udp,
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Ethernet => "Ethernet",
            Self::Llc => "802.2 LLC",
            Self::Vlan => "VLAN tag",
            Self::Sll => "Linux cooked (SLL)",
            Self::Sll2 => "Linux cooked (SLL2)",
            Self::Loopback => "loopback",
            Self::Ppp => "PPP",
            Self::Pppoe => "PPPoE",
            Self::CiscoHdlc => "Cisco HDLC",
            Self::Pktap => "pktap",
            Self::Ip => "IP",
            Self::Ipv4 => "IPv4",
            Self::Ipv6 => "IPv6",
            Self::Ipv6Extension => "IPv6 extension",
            Self::Tcp => "TCP",
            Self::Udp => "UDP",
        })
    }
}

/// Errors from decoding a frame.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    /// No decoder exists for the link type.
    #[error(
        "link type {0} is not supported; supported are Ethernet, Linux cooked (SLL, SLL2), \
         raw IP, BSD loopback, PPP, Cisco HDLC and Apple pktap"
    )]
    UnsupportedLinkType(LinkType),
    /// The captured bytes end inside a header.
    #[error("{layer} header is truncated: it needs {needed} bytes but {available} were captured")]
    Truncated {
        /// Layer of the header.
        layer: Layer,
        /// Bytes the header needs.
        needed: usize,
        /// Bytes available for it.
        available: usize,
    },
    /// A length field is smaller than its header's minimum.
    #[error("{layer} {field} is {value}, below the minimum of {minimum}")]
    LengthTooSmall {
        /// Layer of the header.
        layer: Layer,
        /// Name of the length field.
        field: &'static str,
        /// Value in bytes.
        value: usize,
        /// Smallest legal value in bytes.
        minimum: usize,
    },
    /// A length field runs past the length of the enclosing packet.
    #[error("{layer} {field} is {value}, past the {available} bytes of the enclosing packet")]
    LengthPastEnd {
        /// Layer of the header.
        layer: Layer,
        /// Name of the length field.
        field: &'static str,
        /// Value in bytes.
        value: usize,
        /// Bytes the enclosing length allows.
        available: usize,
    },
    /// A header of a form this decoder does not read.
    #[error("{layer} header is not supported: {reason}")]
    Unsupported {
        /// Layer of the header.
        layer: Layer,
        /// The reason it is not supported.
        reason: &'static str,
    },
    /// The IP version nibble is not the one the link layer announced, or neither 4 nor 6.
    #[error("IP version is {found}, expected {}", expected.map_or_else(|| "4 or 6".to_owned(), |v| v.to_string()))]
    BadIpVersion {
        /// Version the link layer announced, if it did.
        expected: Option<u8>,
        /// Version nibble found.
        found: u8,
    },
}
