//! Link-layer decoding down to IP, for every link type the corpus and macOS produce.
//!
//! [`decode`] strips the link-layer header (Ethernet with VLAN and PPPoE, Linux cooked,
//! BSD loopback, PPP, Cisco HDLC or nothing for raw IP, and Apple's pktap header in front
//! of any of these) and hands the IP packet to the IP and transport decoders in the `ip`
//! module.

use crate::bytes::{be16, be32};
use crate::ip;
use crate::linktype::LinkType;
use crate::pktap::PktapHeader;

pub use crate::decoded::{
    DecodeError, Decoded, IpPacket, Layer, TcpSegment, Transport, UdpDatagram, tcp_flags,
};

/// EtherType of IPv4.
pub const ETHERTYPE_IPV4: u16 = 0x0800;
/// EtherType of IPv6.
pub const ETHERTYPE_IPV6: u16 = 0x86dd;
/// EtherType of ARP.
pub const ETHERTYPE_ARP: u16 = 0x0806;
/// EtherType of an IEEE 802.1Q VLAN tag.
pub const ETHERTYPE_VLAN: u16 = 0x8100;
/// EtherType of an IEEE 802.1ad service tag (QinQ outer tag).
pub const ETHERTYPE_QINQ: u16 = 0x88a8;
/// EtherType of a PPPoE session frame (RFC 2516).
pub const ETHERTYPE_PPPOE_SESSION: u16 = 0x8864;

/// Pre-standard QinQ tag EtherTypes still sent by some switches.
const ETHERTYPES_LEGACY_QINQ: [u16; 3] = [0x9100, 0x9200, 0x9300];
/// Smallest EtherType; smaller values in that field are IEEE 802.3 lengths.
const MIN_ETHERTYPE: u16 = 0x0600;
/// PPP protocol numbers of IPv4 and IPv6 (RFC 1332, RFC 5072).
const PPP_IPV4: u16 = 0x0021;
const PPP_IPV6: u16 = 0x0057;
/// Address families that BSD loopback headers use for IPv4 and IPv6: AF_INET is 2
/// everywhere, AF_INET6 is 24 on NetBSD and OpenBSD, 28 on FreeBSD and 30 on macOS.
const AF_INET: u32 = 2;
const AF_INET6: [u32; 3] = [24, 28, 30];
/// Linux ARPHRD_NETLINK: cooked captures of netlink sockets, which carry no IP.
const ARPHRD_NETLINK: u16 = 824;

/// Payload of the link layer.
enum Network<'a> {
    /// An IP packet; `version` is set when the link layer names the IP version.
    Ip {
        bytes: &'a [u8],
        version: Option<u8>,
        vlan_ids: [Option<u16>; 2],
    },
    NonIp(u16),
    Other(u32),
}

/// Decodes a captured frame of `link_type` down to TCP or UDP.
pub fn decode(link_type: LinkType, frame: &[u8]) -> Result<Decoded<'_>, DecodeError> {
    match network_layer(link_type, frame)? {
        Network::Ip {
            bytes,
            version,
            vlan_ids,
        } => ip::decode_ip(bytes, version, vlan_ids).map(Decoded::Ip),
        Network::NonIp(ethertype) => Ok(Decoded::NonIp {
            ethertype,
            link_protocol: None,
        }),
        Network::Other(protocol) => Ok(Decoded::NonIp {
            ethertype: 0,
            link_protocol: Some(protocol),
        }),
    }
}

fn network_layer(link_type: LinkType, frame: &[u8]) -> Result<Network<'_>, DecodeError> {
    match link_type {
        LinkType::ETHERNET => ethernet(frame),
        LinkType::LINUX_SLL => cooked(frame, Layer::Sll),
        LinkType::LINUX_SLL2 => cooked(frame, Layer::Sll2),
        LinkType::RAW => Ok(ip_network(frame, None)),
        LinkType::IPV4 => Ok(ip_network(frame, Some(4))),
        LinkType::IPV6 => Ok(ip_network(frame, Some(6))),
        LinkType::RAW_LEGACY | LinkType::RAW_OPENBSD => raw_or_loopback(frame),
        LinkType::NULL | LinkType::LOOP => loopback(frame),
        LinkType::PPP | LinkType::PPP_HDLC => ppp_framed(frame),
        LinkType::PPP_ETHER => pppoe_session(frame, [None; 2]),
        LinkType::C_HDLC => cisco_hdlc(frame),
        LinkType::PKTAP | LinkType::PKTAP_APPLE => pktap(frame),
        other => Err(DecodeError::UnsupportedLinkType(other)),
    }
}

/// Skips a pktap header and decodes the frame after it with the link type it names.
fn pktap(frame: &[u8]) -> Result<Network<'_>, DecodeError> {
    let (header, inner) = PktapHeader::parse(frame)?;
    let link_type = header.link_type();
    if matches!(link_type, LinkType::PKTAP | LinkType::PKTAP_APPLE) {
        return Err(DecodeError::Unsupported {
            layer: Layer::Pktap,
            reason: "pth_dlt names pktap again",
        });
    }
    network_layer(link_type, inner)
}

fn ip_network(bytes: &[u8], version: Option<u8>) -> Network<'_> {
    Network::Ip {
        bytes,
        version,
        vlan_ids: [None; 2],
    }
}

/// Splits `bytes` after a header of `len` bytes, or reports it truncated.
fn split_header(bytes: &[u8], len: usize, layer: Layer) -> Result<(&[u8], &[u8]), DecodeError> {
    bytes.split_at_checked(len).ok_or(DecodeError::Truncated {
        layer,
        needed: len,
        available: bytes.len(),
    })
}

fn ethernet(frame: &[u8]) -> Result<Network<'_>, DecodeError> {
    let (header, rest) = split_header(frame, 14, Layer::Ethernet)?;
    let ethertype = be16(header, 12).unwrap_or_default();
    if ethertype >= MIN_ETHERTYPE {
        return ethertype_payload(ethertype, rest, [None; 2]);
    }
    // An IEEE 802.3 length: the payload starts with an 802.2 LLC header, and only SNAP
    // (DSAP = SSAP = 0xaa, control 0x03, OUI, EtherType) carries an EtherType.
    let (llc, _) = split_header(rest, 3, Layer::Llc)?;
    if llc != [0xaa, 0xaa, 0x03] {
        let dsap = llc.first().copied().unwrap_or_default();
        return Ok(Network::Other(dsap.into()));
    }
    let (snap, payload) = split_header(rest, 8, Layer::Llc)?;
    let ethertype = be16(snap, 6).unwrap_or_default();
    ethertype_payload(ethertype, payload, [None; 2])
}

/// Follows an EtherType through VLAN tags and PPPoE to the network layer.
fn ethertype_payload(
    mut ethertype: u16,
    mut bytes: &[u8],
    mut vlan_ids: [Option<u16>; 2],
) -> Result<Network<'_>, DecodeError> {
    let mut tags = 0usize;
    loop {
        match ethertype {
            ETHERTYPE_IPV4 => {
                return Ok(Network::Ip {
                    bytes,
                    version: Some(4),
                    vlan_ids,
                });
            }
            ETHERTYPE_IPV6 => {
                return Ok(Network::Ip {
                    bytes,
                    version: Some(6),
                    vlan_ids,
                });
            }
            ETHERTYPE_PPPOE_SESSION => return pppoe_session(bytes, vlan_ids),
            ETHERTYPE_VLAN | ETHERTYPE_QINQ => {}
            t if ETHERTYPES_LEGACY_QINQ.contains(&t) => {}
            other => return Ok(Network::NonIp(other)),
        }
        let (tag, rest) = split_header(bytes, 4, Layer::Vlan)?;
        if let Some(slot) = vlan_ids.get_mut(tags) {
            // The VLAN id is the low 12 bits of the tag control information.
            *slot = be16(tag, 0).map(|tci| tci & 0x0fff);
        }
        tags = tags.saturating_add(1);
        ethertype = be16(tag, 2).unwrap_or_default();
        bytes = rest;
    }
}

/// Decodes a Linux cooked header, whose protocol field is an EtherType for IP.
fn cooked(frame: &[u8], layer: Layer) -> Result<Network<'_>, DecodeError> {
    let (len, protocol_at, arphrd_at) = match layer {
        Layer::Sll => (16, 14, 2),
        _ => (20, 0, 8),
    };
    let (header, rest) = split_header(frame, len, layer)?;
    let protocol = be16(header, protocol_at).unwrap_or_default();
    let arphrd = be16(header, arphrd_at).unwrap_or_default();
    if arphrd == ARPHRD_NETLINK || protocol < MIN_ETHERTYPE {
        return Ok(Network::Other(protocol.into()));
    }
    ethertype_payload(protocol, rest, [None; 2])
}

fn loopback(frame: &[u8]) -> Result<Network<'_>, DecodeError> {
    let (header, rest) = split_header(frame, 4, Layer::Loopback)?;
    // DLT_NULL writes the family in the capturing host's byte order and DLT_LOOP in
    // network order. Families are below 0x10000, so a large big-endian value means the
    // field is little-endian.
    let big = be32(header, 0).unwrap_or_default();
    let family = if big <= 0xffff { big } else { big.swap_bytes() };
    if family == AF_INET {
        return Ok(ip_network(rest, Some(4)));
    }
    if AF_INET6.contains(&family) {
        return Ok(ip_network(rest, Some(6)));
    }
    Ok(Network::Other(family))
}

/// Link types 12 and 14 mean raw IP in most files but BSD loopback in some, so the IP
/// version nibble decides.
fn raw_or_loopback(frame: &[u8]) -> Result<Network<'_>, DecodeError> {
    match frame.first().map(|b| b >> 4) {
        Some(4 | 6) => Ok(ip_network(frame, None)),
        _ => loopback(frame),
    }
}

/// Decodes PPP with or without HDLC-like framing (RFC 1662), or Cisco HDLC framing,
/// which link type 50 may also carry (address 0x0f or 0x8f).
fn ppp_framed(frame: &[u8]) -> Result<Network<'_>, DecodeError> {
    match frame.first() {
        Some(0x0f | 0x8f) => cisco_hdlc(frame),
        _ => {
            let payload = frame.strip_prefix(&[0xff, 0x03]).unwrap_or(frame);
            ppp(payload, [None; 2])
        }
    }
}

/// Decodes a PPP protocol field, one byte when protocol-field compression is on
/// (RFC 1661 section 6.5: the low bit of the last protocol byte is 1).
fn ppp(bytes: &[u8], vlan_ids: [Option<u16>; 2]) -> Result<Network<'_>, DecodeError> {
    let first = bytes.first().copied().ok_or(DecodeError::Truncated {
        layer: Layer::Ppp,
        needed: 1,
        available: 0,
    })?;
    let (protocol, rest) = if first & 1 == 1 {
        (u16::from(first), bytes.get(1..).unwrap_or_default())
    } else {
        let (field, rest) = split_header(bytes, 2, Layer::Ppp)?;
        (be16(field, 0).unwrap_or_default(), rest)
    };
    match protocol {
        PPP_IPV4 => Ok(Network::Ip {
            bytes: rest,
            version: Some(4),
            vlan_ids,
        }),
        PPP_IPV6 => Ok(Network::Ip {
            bytes: rest,
            version: Some(6),
            vlan_ids,
        }),
        other => Ok(Network::Other(other.into())),
    }
}

/// Decodes a PPPoE session header (RFC 2516 section 4) and the PPP protocol after it.
fn pppoe_session(bytes: &[u8], vlan_ids: [Option<u16>; 2]) -> Result<Network<'_>, DecodeError> {
    let (header, rest) = split_header(bytes, 6, Layer::Pppoe)?;
    // The length field counts the PPP protocol and payload; bytes past it are padding.
    let len = usize::from(be16(header, 4).unwrap_or_default());
    let payload = rest.get(..len).unwrap_or(rest);
    ppp(payload, vlan_ids)
}

fn cisco_hdlc(frame: &[u8]) -> Result<Network<'_>, DecodeError> {
    let (header, rest) = split_header(frame, 4, Layer::CiscoHdlc)?;
    let ethertype = be16(header, 2).unwrap_or_default();
    ethertype_payload(ethertype, rest, [None; 2])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{ethernet, ipv4, ipv6, tcp, udp};

    fn tcp_ipv4() -> Vec<u8> {
        ipv4(6, &[], &tcp(1234, 443, tcp_flags::SYN, &[], b"hello"))
    }

    fn ip(decoded: Result<Decoded<'_>, DecodeError>) -> IpPacket<'_> {
        match decoded {
            Ok(Decoded::Ip(ip)) => ip,
            other => panic!("expected an IP packet, got {other:?}"),
        }
    }

    fn tcp_payload<'a>(packet: &IpPacket<'a>) -> &'a [u8] {
        match &packet.transport {
            Transport::Tcp(segment) => segment.payload,
            other => panic!("expected TCP, got {other:?}"),
        }
    }

    #[test]
    fn ethernet_ipv4_tcp() {
        let frame = ethernet(ETHERTYPE_IPV4, &tcp_ipv4());
        assert_eq!(
            tcp_payload(&ip(decode(LinkType::ETHERNET, &frame))),
            b"hello"
        );
    }

    #[test]
    fn ethernet_padding_trimmed() {
        let mut frame = ethernet(ETHERTYPE_IPV4, &tcp_ipv4());
        frame.extend_from_slice(&[0; 6]);
        assert_eq!(
            tcp_payload(&ip(decode(LinkType::ETHERNET, &frame))),
            b"hello"
        );
    }

    #[test]
    fn ethernet_arp_is_non_ip() {
        let frame = ethernet(ETHERTYPE_ARP, &[0; 28]);
        let decoded = decode(LinkType::ETHERNET, &frame);
        assert_eq!(
            decoded,
            Ok(Decoded::NonIp {
                ethertype: ETHERTYPE_ARP,
                link_protocol: None
            })
        );
    }

    #[test]
    fn ethernet_short_header() {
        let err = decode(LinkType::ETHERNET, &[0; 10]);
        let expected = DecodeError::Truncated {
            layer: Layer::Ethernet,
            needed: 14,
            available: 10,
        };
        assert_eq!(err, Err(expected));
    }

    fn tagged(tags: &[(u16, u16)], ethertype: u16, payload: &[u8]) -> Vec<u8> {
        let mut inner = Vec::new();
        for (i, (_, id)) in tags.iter().enumerate() {
            inner.extend_from_slice(&id.to_be_bytes());
            let next = tags.get(i + 1).map_or(ethertype, |(t, _)| *t);
            inner.extend_from_slice(&next.to_be_bytes());
        }
        inner.extend_from_slice(payload);
        ethernet(tags.first().map_or(ethertype, |(t, _)| *t), &inner)
    }

    #[test]
    fn vlan_single_tag() {
        let frame = tagged(&[(ETHERTYPE_VLAN, 0x2064)], ETHERTYPE_IPV4, &tcp_ipv4());
        assert_eq!(
            ip(decode(LinkType::ETHERNET, &frame)).vlan_ids,
            [Some(100), None]
        );
    }

    #[test]
    fn vlan_qinq_802_1ad() {
        let tags = [(ETHERTYPE_QINQ, 10), (ETHERTYPE_VLAN, 20)];
        let frame = tagged(&tags, ETHERTYPE_IPV4, &tcp_ipv4());
        assert_eq!(
            ip(decode(LinkType::ETHERNET, &frame)).vlan_ids,
            [Some(10), Some(20)]
        );
    }

    #[test]
    fn vlan_qinq_legacy_9100() {
        let tags = [(0x9100, 10), (ETHERTYPE_VLAN, 20)];
        let frame = tagged(&tags, ETHERTYPE_IPV4, &tcp_ipv4());
        assert_eq!(
            ip(decode(LinkType::ETHERNET, &frame)).vlan_ids,
            [Some(10), Some(20)]
        );
    }

    #[test]
    fn vlan_three_tags_keeps_two() {
        let tags = [
            (ETHERTYPE_QINQ, 1),
            (ETHERTYPE_VLAN, 2),
            (ETHERTYPE_VLAN, 3),
        ];
        let frame = tagged(&tags, ETHERTYPE_IPV4, &tcp_ipv4());
        assert_eq!(
            ip(decode(LinkType::ETHERNET, &frame)).vlan_ids,
            [Some(1), Some(2)]
        );
    }

    #[test]
    fn vlan_tag_truncated() {
        let frame = ethernet(ETHERTYPE_VLAN, &[0, 1]);
        let expected = DecodeError::Truncated {
            layer: Layer::Vlan,
            needed: 4,
            available: 2,
        };
        assert_eq!(decode(LinkType::ETHERNET, &frame), Err(expected));
    }

    #[test]
    fn llc_snap_ipv4() {
        let mut payload = vec![0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00];
        payload.extend(tcp_ipv4());
        let frame = ethernet(payload.len() as u16, &payload);
        assert_eq!(
            tcp_payload(&ip(decode(LinkType::ETHERNET, &frame))),
            b"hello"
        );
    }

    #[test]
    fn llc_spanning_tree_non_ip() {
        let frame = ethernet(38, &[0x42, 0x42, 0x03, 0, 0]);
        let expected = Decoded::NonIp {
            ethertype: 0,
            link_protocol: Some(0x42),
        };
        assert_eq!(decode(LinkType::ETHERNET, &frame), Ok(expected));
    }

    #[test]
    fn pppoe_session_ipv4() {
        let packet = tcp_ipv4();
        let mut session = vec![0x11, 0x00, 0x12, 0x34];
        session.extend_from_slice(&(packet.len() as u16 + 2).to_be_bytes());
        session.extend_from_slice(&[0x00, 0x21]);
        session.extend(packet);
        let frame = ethernet(ETHERTYPE_PPPOE_SESSION, &session);
        assert_eq!(
            tcp_payload(&ip(decode(LinkType::ETHERNET, &frame))),
            b"hello"
        );
    }

    #[test]
    fn pppoe_session_ipv6() {
        let packet = ipv6(17, &udp(5353, 5353, b"x"));
        let mut session = vec![0x11, 0x00, 0x12, 0x34];
        session.extend_from_slice(&(packet.len() as u16 + 2).to_be_bytes());
        session.extend_from_slice(&[0x00, 0x57]);
        session.extend(packet);
        let frame = ethernet(ETHERTYPE_PPPOE_SESSION, &session);
        assert!(ip(decode(LinkType::ETHERNET, &frame)).dst.is_ipv6());
    }

    #[test]
    fn ppp_ether_link_type() {
        let packet = tcp_ipv4();
        let mut session = vec![0x11, 0x00, 0x00, 0x01];
        session.extend_from_slice(&(packet.len() as u16 + 2).to_be_bytes());
        session.extend_from_slice(&[0x00, 0x21]);
        session.extend(packet);
        assert_eq!(
            tcp_payload(&ip(decode(LinkType::PPP_ETHER, &session))),
            b"hello"
        );
    }

    #[test]
    fn sll_ipv4() {
        let mut frame = vec![0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x08, 0x00];
        frame.extend(tcp_ipv4());
        assert_eq!(
            tcp_payload(&ip(decode(LinkType::LINUX_SLL, &frame))),
            b"hello"
        );
    }

    #[test]
    fn sll_with_vlan_tag() {
        let mut frame = vec![0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x81, 0x00];
        frame.extend_from_slice(&[0x00, 0x07, 0x08, 0x00]);
        frame.extend(tcp_ipv4());
        assert_eq!(
            ip(decode(LinkType::LINUX_SLL, &frame)).vlan_ids,
            [Some(7), None]
        );
    }

    #[test]
    fn sll_llc_protocol_non_ip() {
        let frame = [0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x00, 0x04, 0x42];
        let expected = Decoded::NonIp {
            ethertype: 0,
            link_protocol: Some(4),
        };
        assert_eq!(decode(LinkType::LINUX_SLL, &frame), Ok(expected));
    }

    #[test]
    fn sll2_ipv6() {
        let mut frame = vec![
            0x86, 0xdd, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0,
        ];
        frame.extend(ipv6(6, &tcp(1, 2, tcp_flags::ACK, &[], b"v6")));
        assert_eq!(
            tcp_payload(&ip(decode(LinkType::LINUX_SLL2, &frame))),
            b"v6"
        );
    }

    #[test]
    fn sll2_short_header() {
        let expected = DecodeError::Truncated {
            layer: Layer::Sll2,
            needed: 20,
            available: 19,
        };
        assert_eq!(decode(LinkType::LINUX_SLL2, &[0; 19]), Err(expected));
    }

    #[test]
    fn raw_ip_by_version_nibble() {
        let packet = ipv6(17, &udp(1, 2, b"raw"));
        assert!(ip(decode(LinkType::RAW, &packet)).src.is_ipv6());
    }

    #[test]
    fn raw_legacy_numbers() {
        for link_type in [LinkType::RAW_LEGACY, LinkType::RAW_OPENBSD] {
            assert_eq!(tcp_payload(&ip(decode(link_type, &tcp_ipv4()))), b"hello");
        }
    }

    #[test]
    fn raw_legacy_loopback_header() {
        let mut frame = 2u32.to_le_bytes().to_vec();
        frame.extend(tcp_ipv4());
        assert_eq!(
            tcp_payload(&ip(decode(LinkType::RAW_LEGACY, &frame))),
            b"hello"
        );
    }

    #[test]
    fn ipv4_link_type_rejects_ipv6() {
        let packet = ipv6(17, &udp(1, 2, b""));
        let expected = DecodeError::BadIpVersion {
            expected: Some(4),
            found: 6,
        };
        assert_eq!(decode(LinkType::IPV4, &packet), Err(expected));
    }

    #[test]
    fn ipv6_link_type() {
        let packet = ipv6(17, &udp(1, 2, b""));
        assert!(ip(decode(LinkType::IPV6, &packet)).src.is_ipv6());
    }

    #[test]
    fn raw_bad_version() {
        let expected = DecodeError::BadIpVersion {
            expected: None,
            found: 5,
        };
        assert_eq!(decode(LinkType::RAW, &[0x50; 40]), Err(expected));
    }

    #[test]
    fn null_host_order_ipv4() {
        let mut frame = 2u32.to_le_bytes().to_vec();
        frame.extend(tcp_ipv4());
        assert_eq!(tcp_payload(&ip(decode(LinkType::NULL, &frame))), b"hello");
    }

    #[test]
    fn null_network_order_ipv4() {
        let mut frame = 2u32.to_be_bytes().to_vec();
        frame.extend(tcp_ipv4());
        assert_eq!(tcp_payload(&ip(decode(LinkType::NULL, &frame))), b"hello");
    }

    #[test]
    fn null_ipv6_families() {
        for family in [24u32, 28, 30] {
            let mut frame = family.to_le_bytes().to_vec();
            frame.extend(ipv6(17, &udp(1, 2, b"")));
            assert!(
                ip(decode(LinkType::NULL, &frame)).dst.is_ipv6(),
                "family {family}"
            );
        }
    }

    #[test]
    fn loop_network_order_ipv6() {
        let mut frame = 30u32.to_be_bytes().to_vec();
        frame.extend(ipv6(17, &udp(1, 2, b"")));
        assert!(ip(decode(LinkType::LOOP, &frame)).dst.is_ipv6());
    }

    #[test]
    fn null_unknown_family() {
        let frame = 7u32.to_le_bytes();
        let expected = Decoded::NonIp {
            ethertype: 0,
            link_protocol: Some(7),
        };
        assert_eq!(decode(LinkType::NULL, &frame), Ok(expected));
    }

    #[test]
    fn ppp_without_hdlc_bytes() {
        let mut frame = vec![0x00, 0x57];
        frame.extend(ipv6(17, &udp(443, 50000, b"q")));
        assert!(ip(decode(LinkType::PPP, &frame)).src.is_ipv6());
    }

    #[test]
    fn ppp_with_hdlc_bytes() {
        let mut frame = vec![0xff, 0x03, 0x00, 0x21];
        frame.extend(tcp_ipv4());
        assert_eq!(tcp_payload(&ip(decode(LinkType::PPP, &frame))), b"hello");
    }

    #[test]
    fn ppp_compressed_protocol() {
        let mut frame = vec![0x21];
        frame.extend(tcp_ipv4());
        assert_eq!(tcp_payload(&ip(decode(LinkType::PPP, &frame))), b"hello");
    }

    #[test]
    fn ppp_hdlc_link_type() {
        let mut frame = vec![0xff, 0x03, 0x00, 0x21];
        frame.extend(tcp_ipv4());
        assert_eq!(
            tcp_payload(&ip(decode(LinkType::PPP_HDLC, &frame))),
            b"hello"
        );
    }

    #[test]
    fn ppp_lcp_non_ip() {
        let frame = [0xff, 0x03, 0xc0, 0x21, 1, 1, 0, 4];
        let expected = Decoded::NonIp {
            ethertype: 0,
            link_protocol: Some(0xc021),
        };
        assert_eq!(decode(LinkType::PPP, &frame), Ok(expected));
    }

    #[test]
    fn ppp_empty_frame() {
        let expected = DecodeError::Truncated {
            layer: Layer::Ppp,
            needed: 1,
            available: 0,
        };
        assert_eq!(decode(LinkType::PPP, &[]), Err(expected));
    }

    #[test]
    fn cisco_hdlc_ipv4() {
        let mut frame = vec![0x0f, 0x00, 0x08, 0x00];
        frame.extend(tcp_ipv4());
        assert_eq!(tcp_payload(&ip(decode(LinkType::C_HDLC, &frame))), b"hello");
    }

    #[test]
    fn cisco_hdlc_in_ppp_hdlc() {
        let mut frame = vec![0x8f, 0x00, 0x08, 0x00];
        frame.extend(tcp_ipv4());
        assert_eq!(
            tcp_payload(&ip(decode(LinkType::PPP_HDLC, &frame))),
            b"hello"
        );
    }

    fn pktap_frame(dlt: u32, inner: &[u8]) -> Vec<u8> {
        let procs = [(501, "curl"), (501, "curl")];
        let mut frame = crate::pktap::header_bytes(156, dlt, 2, procs);
        frame.extend_from_slice(inner);
        frame
    }

    #[test]
    fn pktap_ethernet_inner() {
        let mut ethernet = vec![0; 12];
        ethernet.extend_from_slice(&[0x08, 0x00]);
        ethernet.extend(tcp_ipv4());
        let frame = pktap_frame(1, &ethernet);
        for link_type in [LinkType::PKTAP, LinkType::PKTAP_APPLE] {
            assert_eq!(tcp_payload(&ip(decode(link_type, &frame))), b"hello");
        }
    }

    #[test]
    fn pktap_loopback_inner() {
        let mut looped = 2u32.to_le_bytes().to_vec();
        looped.extend(tcp_ipv4());
        let frame = pktap_frame(0, &looped);
        assert_eq!(tcp_payload(&ip(decode(LinkType::PKTAP, &frame))), b"hello");
    }

    #[test]
    fn pktap_nested_rejected() {
        let frame = pktap_frame(258, &pktap_frame(1, &[0; 40]));
        let err = decode(LinkType::PKTAP, &frame).map_err(|e| e.to_string());
        let expected = "pktap header is not supported: pth_dlt names pktap again";
        assert_eq!(err.err().as_deref(), Some(expected));
    }

    #[test]
    fn pktap_truncated_is_error() {
        let err = decode(LinkType::PKTAP, &[0; 50]);
        let expected = DecodeError::Truncated {
            layer: Layer::Pktap,
            needed: 108,
            available: 50,
        };
        assert_eq!(err, Err(expected));
    }

    #[test]
    fn pktap_inner_unsupported_link() {
        let frame = pktap_frame(147, &[0; 40]);
        let err = decode(LinkType::PKTAP, &frame);
        assert_eq!(err, Err(DecodeError::UnsupportedLinkType(LinkType(147))));
    }

    #[test]
    fn unsupported_link_type() {
        let err = decode(LinkType(147), &[0; 64]);
        assert_eq!(err, Err(DecodeError::UnsupportedLinkType(LinkType(147))));
    }

    #[test]
    fn error_message_names_layer() {
        let err = DecodeError::Truncated {
            layer: Layer::Tcp,
            needed: 20,
            available: 7,
        };
        let expected = "TCP header is truncated: it needs 20 bytes but 7 were captured";
        assert_eq!(err.to_string(), expected);
    }
}
