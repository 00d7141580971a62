//! Link-layer header types, numbered as in the tcpdump.org LINKTYPE_* registry.

use std::fmt;

/// A LINKTYPE_* number from a pcap file header or a pcapng Interface Description Block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LinkType(pub u32);

impl LinkType {
    /// BSD loopback: a 4-byte address family in the byte order of the capturing host.
    pub const NULL: Self = Self(0);
    /// Ethernet II and IEEE 802.3 frames.
    pub const ETHERNET: Self = Self(1);
    /// PPP, optionally with the HDLC address and control bytes.
    pub const PPP: Self = Self(9);
    /// Raw IP as DLT_RAW is numbered on most BSDs; some old writers put it in files.
    pub const RAW_LEGACY: Self = Self(12);
    /// Raw IP as DLT_RAW is numbered on OpenBSD; some old writers put it in files.
    pub const RAW_OPENBSD: Self = Self(14);
    /// PPP in HDLC-like framing (RFC 1662).
    pub const PPP_HDLC: Self = Self(50);
    /// PPPoE session header without the Ethernet header (RFC 2516).
    pub const PPP_ETHER: Self = Self(51);
    /// Raw IPv4 or IPv6, distinguished by the version nibble.
    pub const RAW: Self = Self(101);
    /// Cisco HDLC: address, control and an EtherType.
    pub const C_HDLC: Self = Self(104);
    /// OpenBSD loopback: the address family in network byte order.
    pub const LOOP: Self = Self(108);
    /// Linux cooked capture, version 1 (16-byte header).
    pub const LINUX_SLL: Self = Self(113);
    /// Raw IPv4 only.
    pub const IPV4: Self = Self(228);
    /// Raw IPv6 only.
    pub const IPV6: Self = Self(229);
    /// Linux cooked capture, version 2 (20-byte header).
    pub const LINUX_SLL2: Self = Self(276);
    /// Apple pktap: a pktap header with process metadata, then a frame of the link type
    /// the header names.
    pub const PKTAP: Self = Self(258);
    /// Apple pktap as numbered on macOS (`DLT_PKTAP` is `DLT_USER2`, 149), found in
    /// legacy pcap files that macOS tcpdump wrote with `-y PKTAP`. Elsewhere 149 is a
    /// private-use number, and such frames fail to decode with a reason.
    pub const PKTAP_APPLE: Self = Self(149);

    /// Returns the registry name without the LINKTYPE_ prefix, or "unknown".
    pub fn name(self) -> &'static str {
        match self.0 {
            0 => "NULL",
            1 => "ETHERNET",
            9 => "PPP",
            12 | 14 | 101 => "RAW",
            50 => "PPP_HDLC",
            51 => "PPP_ETHER",
            104 => "C_HDLC",
            105 => "IEEE802_11",
            108 => "LOOP",
            113 => "LINUX_SLL",
            127 => "IEEE802_11_RADIOTAP",
            149 | 258 => "PKTAP",
            228 => "IPV4",
            229 => "IPV6",
            276 => "LINUX_SLL2",
            _ => "unknown",
        }
    }
}

impl fmt::Display for LinkType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.0, self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_of_known_type() {
        assert_eq!(LinkType::LINUX_SLL2.name(), "LINUX_SLL2");
    }

    #[test]
    fn pktap_both_numbers() {
        assert_eq!(LinkType::PKTAP.to_string(), "258 (PKTAP)");
        assert_eq!(LinkType::PKTAP_APPLE.to_string(), "149 (PKTAP)");
    }

    #[test]
    fn name_of_unknown_type() {
        assert_eq!(LinkType(65000).name(), "unknown");
    }

    #[test]
    fn display_shows_number_and_name() {
        assert_eq!(LinkType::ETHERNET.to_string(), "1 (ETHERNET)");
    }
}
