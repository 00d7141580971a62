//! IPv4, IPv6 (with extension headers), TCP and UDP decoding.
//!
//! Lengths come from the IP header: bytes past the IP total length are link-layer padding
//! or trailers and are dropped, and a packet captured shorter than its IP length has its
//! payload marked truncated.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::bytes::{be16, be32};
use crate::decoded::{DecodeError, IpPacket, Layer, TcpSegment, Transport, UdpDatagram};

/// IP protocol numbers (IANA "Assigned Internet Protocol Numbers").
const PROTO_TCP: u8 = 6;
const PROTO_UDP: u8 = 17;
const PROTO_HOP_BY_HOP: u8 = 0;
const PROTO_ROUTING: u8 = 43;
const PROTO_FRAGMENT: u8 = 44;
const PROTO_AH: u8 = 51;
const PROTO_DESTINATION: u8 = 60;
const PROTO_MOBILITY: u8 = 135;
const PROTO_HIP: u8 = 139;
const PROTO_SHIM6: u8 = 140;

const IPV4_MIN_HEADER: usize = 20;
const IPV6_HEADER: usize = 40;
const TCP_MIN_HEADER: usize = 20;
const UDP_HEADER: usize = 8;

/// The IP payload and whether the capture cut it.
struct Payload<'a> {
    bytes: &'a [u8],
    truncated: bool,
}

/// Decodes an IP packet; `version` is the one the link layer announced, if any.
pub(crate) fn decode_ip(
    bytes: &[u8],
    version: Option<u8>,
    vlan_ids: [Option<u16>; 2],
) -> Result<IpPacket<'_>, DecodeError> {
    let layer = match version {
        Some(4) => Layer::Ipv4,
        Some(6) => Layer::Ipv6,
        _ => Layer::Ip,
    };
    let first = bytes.first().ok_or(DecodeError::Truncated {
        layer,
        needed: 1,
        available: 0,
    })?;
    let found = first >> 4;
    match (found, version) {
        (4, None | Some(4)) => ipv4(bytes, vlan_ids),
        (6, None | Some(6)) => ipv6(bytes, vlan_ids),
        _ => Err(DecodeError::BadIpVersion {
            expected: version,
            found,
        }),
    }
}

fn ipv4(bytes: &[u8], vlan_ids: [Option<u16>; 2]) -> Result<IpPacket<'_>, DecodeError> {
    let (header, rest) = ipv4_header(bytes)?;
    let payload = ipv4_payload(header, rest)?;

    let flags_offset = be16(header, 6).unwrap_or_default();
    // More-fragments flag (0x2000) or a non-zero fragment offset (low 13 bits).
    let is_fragment = flags_offset & 0x3fff != 0;
    let protocol = header.get(9).copied().unwrap_or_default();
    let transport = if is_fragment {
        Transport::Fragment
    } else {
        transport(protocol, &payload)?
    };

    let address = |at: usize| be32(header, at).map_or(Ipv4Addr::UNSPECIFIED, Ipv4Addr::from);
    Ok(IpPacket {
        src: IpAddr::V4(address(12)),
        dst: IpAddr::V4(address(16)),
        protocol,
        ttl: header.get(8).copied().unwrap_or_default(),
        vlan_ids,
        transport,
    })
}

/// Splits an IPv4 packet after its header, options included.
fn ipv4_header(bytes: &[u8]) -> Result<(&[u8], &[u8]), DecodeError> {
    let layer = Layer::Ipv4;
    let available = bytes.len();
    if available < IPV4_MIN_HEADER {
        let needed = IPV4_MIN_HEADER;
        return Err(DecodeError::Truncated {
            layer,
            needed,
            available,
        });
    }
    let first = bytes.first().copied().unwrap_or_default();
    let header_len = usize::from(first & 0x0f) * 4;
    if header_len < IPV4_MIN_HEADER {
        let (field, value, minimum) = ("header length", header_len, IPV4_MIN_HEADER);
        return Err(DecodeError::LengthTooSmall {
            layer,
            field,
            value,
            minimum,
        });
    }
    let needed = header_len;
    bytes
        .split_at_checked(header_len)
        .ok_or(DecodeError::Truncated {
            layer,
            needed,
            available,
        })
}

/// Cuts the bytes after an IPv4 header to the length its total length field gives.
fn ipv4_payload<'a>(header: &[u8], rest: &'a [u8]) -> Result<Payload<'a>, DecodeError> {
    let total_len = usize::from(be16(header, 2).unwrap_or_default());
    // A total length of 0 comes from TCP segmentation offload: the NIC fills it in after
    // the capture point, so the captured length is the best estimate.
    if total_len == 0 {
        return Ok(Payload {
            bytes: rest,
            truncated: false,
        });
    }
    let header_len = header.len();
    if total_len < header_len {
        let (layer, field, value, minimum) = (Layer::Ipv4, "total length", total_len, header_len);
        return Err(DecodeError::LengthTooSmall {
            layer,
            field,
            value,
            minimum,
        });
    }
    Ok(bounded(rest, total_len - header_len))
}

fn ipv6(bytes: &[u8], vlan_ids: [Option<u16>; 2]) -> Result<IpPacket<'_>, DecodeError> {
    let (header, rest) = bytes
        .split_at_checked(IPV6_HEADER)
        .ok_or(DecodeError::Truncated {
            layer: Layer::Ipv6,
            needed: IPV6_HEADER,
            available: bytes.len(),
        })?;
    let payload_len = usize::from(be16(header, 4).unwrap_or_default());
    let next_header = header.get(6).copied().unwrap_or_default();
    // A payload length of 0 with a hop-by-hop header is a jumbogram (RFC 2675) whose real
    // length is in a hop-by-hop option, so the captured length is used instead.
    let payload = if payload_len == 0 && next_header == PROTO_HOP_BY_HOP {
        Payload {
            bytes: rest,
            truncated: false,
        }
    } else {
        bounded(rest, payload_len)
    };
    let (protocol, transport) = extension_headers(next_header, payload)?;
    let address = |at: usize| {
        let octets: Option<[u8; 16]> = header.get(at..at + 16).and_then(|s| s.try_into().ok());
        octets.map_or(Ipv6Addr::UNSPECIFIED, Ipv6Addr::from)
    };
    Ok(IpPacket {
        src: IpAddr::V6(address(8)),
        dst: IpAddr::V6(address(24)),
        protocol,
        ttl: header.get(7).copied().unwrap_or_default(),
        vlan_ids,
        transport,
    })
}

/// Cuts `bytes` to the `len` the IP header gives; a shorter capture is marked truncated.
fn bounded(bytes: &[u8], len: usize) -> Payload<'_> {
    match bytes.get(..len) {
        Some(exact) => Payload {
            bytes: exact,
            truncated: false,
        },
        None => Payload {
            bytes,
            truncated: true,
        },
    }
}

/// Walks IPv6 extension headers (RFC 8200 section 4) to the transport header; returns
/// the final next-header value and the transport contents.
fn extension_headers(
    mut next_header: u8,
    mut payload: Payload<'_>,
) -> Result<(u8, Transport<'_>), DecodeError> {
    loop {
        let header_len = match next_header {
            PROTO_HOP_BY_HOP | PROTO_ROUTING | PROTO_DESTINATION | PROTO_MOBILITY | PROTO_HIP
            | PROTO_SHIM6 => {
                // Length in 8-octet units, not counting the first 8 octets.
                extension_len(&payload, |len| (usize::from(len) + 1) * 8)?
            }
            // AH length is in 4-octet units minus 2 (RFC 4302 section 2.2).
            PROTO_AH => extension_len(&payload, |len| (usize::from(len) + 2) * 4)?,
            PROTO_FRAGMENT => return fragment_header(payload),
            protocol => return Ok((protocol, transport(protocol, &payload)?)),
        };
        let header = payload.bytes.get(..header_len).unwrap_or_default();
        next_header = header.first().copied().unwrap_or_default();
        payload.bytes = payload.bytes.get(header_len..).unwrap_or_default();
    }
}

/// Reads the length byte of an extension header and checks that the header fits.
fn extension_len(
    payload: &Payload<'_>,
    to_bytes: impl Fn(u8) -> usize,
) -> Result<usize, DecodeError> {
    let available = payload.bytes.len();
    let Some(&len_byte) = payload.bytes.get(1) else {
        return Err(extension_error(payload, 2, available));
    };
    let header_len = to_bytes(len_byte);
    if header_len > available {
        return Err(extension_error(payload, header_len, available));
    }
    Ok(header_len)
}

/// Builds the error for an extension header that does not fit, which is either truncated
/// by the capture or impossible.
fn extension_error(payload: &Payload<'_>, needed: usize, available: usize) -> DecodeError {
    let layer = Layer::Ipv6Extension;
    if payload.truncated {
        DecodeError::Truncated {
            layer,
            needed,
            available,
        }
    } else {
        let field = "extension header length";
        DecodeError::LengthPastEnd {
            layer,
            field,
            value: needed,
            available,
        }
    }
}

/// Handles the IPv6 fragment header: only an atomic fragment (offset 0, M flag clear,
/// RFC 6946) carries a whole transport header and payload.
fn fragment_header(payload: Payload<'_>) -> Result<(u8, Transport<'_>), DecodeError> {
    let available = payload.bytes.len();
    if available < 8 {
        return Err(extension_error(&payload, 8, available));
    }
    let next_header = payload.bytes.first().copied().unwrap_or_default();
    let offset_flags = be16(payload.bytes, 2).unwrap_or_default();
    // Fragment offset in the high 13 bits, M (more fragments) in the lowest bit.
    if offset_flags & 0xfff9 != 0 {
        return Ok((next_header, Transport::Fragment));
    }
    let rest = Payload {
        bytes: payload.bytes.get(8..).unwrap_or_default(),
        ..payload
    };
    extension_headers(next_header, rest)
}

fn transport<'a>(protocol: u8, payload: &Payload<'a>) -> Result<Transport<'a>, DecodeError> {
    match protocol {
        PROTO_TCP => tcp(payload).map(Transport::Tcp),
        PROTO_UDP => udp(payload).map(Transport::Udp),
        _ => Ok(Transport::Other),
    }
}

/// Reports a transport header that does not fit its IP payload.
fn short_transport(layer: Layer, payload: &Payload<'_>, needed: usize) -> DecodeError {
    let available = payload.bytes.len();
    if payload.truncated {
        DecodeError::Truncated {
            layer,
            needed,
            available,
        }
    } else {
        let field = "IP payload length";
        DecodeError::LengthTooSmall {
            layer,
            field,
            value: available,
            minimum: needed,
        }
    }
}

fn tcp<'a>(payload: &Payload<'a>) -> Result<TcpSegment<'a>, DecodeError> {
    let segment = payload.bytes;
    if segment.len() < TCP_MIN_HEADER {
        return Err(short_transport(Layer::Tcp, payload, TCP_MIN_HEADER));
    }
    let offset_byte = segment.get(12).copied().unwrap_or_default();
    let data_offset = usize::from(offset_byte >> 4) * 4;
    if data_offset < TCP_MIN_HEADER {
        let (layer, field, value, minimum) = (Layer::Tcp, "data offset", data_offset, 20);
        return Err(DecodeError::LengthTooSmall {
            layer,
            field,
            value,
            minimum,
        });
    }
    let Some((header, data)) = segment.split_at_checked(data_offset) else {
        if payload.truncated {
            return Err(short_transport(Layer::Tcp, payload, data_offset));
        }
        let (layer, field, value, available) =
            (Layer::Tcp, "data offset", data_offset, segment.len());
        return Err(DecodeError::LengthPastEnd {
            layer,
            field,
            value,
            available,
        });
    };
    Ok(TcpSegment {
        src_port: be16(header, 0).unwrap_or_default(),
        dst_port: be16(header, 2).unwrap_or_default(),
        seq: be32(header, 4).unwrap_or_default(),
        ack: be32(header, 8).unwrap_or_default(),
        flags: header.get(13).copied().unwrap_or_default(),
        window: be16(header, 14).unwrap_or_default(),
        options: header.get(TCP_MIN_HEADER..).unwrap_or_default(),
        payload: data,
        payload_truncated: payload.truncated,
    })
}

fn udp<'a>(payload: &Payload<'a>) -> Result<UdpDatagram<'a>, DecodeError> {
    let Some((header, data)) = payload.bytes.split_at_checked(UDP_HEADER) else {
        return Err(short_transport(Layer::Udp, payload, UDP_HEADER));
    };
    let udp_len = usize::from(be16(header, 4).unwrap_or_default());
    if (1..UDP_HEADER).contains(&udp_len) {
        let (layer, field, value, minimum) = (Layer::Udp, "length", udp_len, UDP_HEADER);
        return Err(DecodeError::LengthTooSmall {
            layer,
            field,
            value,
            minimum,
        });
    }
    // The UDP length may trim the IP payload further. A length of 0 (IPv6 jumbograms) or
    // one past the IP payload is ignored in favour of the IP length.
    let data = data
        .get(..udp_len.saturating_sub(UDP_HEADER))
        .unwrap_or(data);
    let data = if udp_len == 0 {
        payload.bytes.get(UDP_HEADER..).unwrap_or_default()
    } else {
        data
    };
    Ok(UdpDatagram {
        src_port: be16(header, 0).unwrap_or_default(),
        dst_port: be16(header, 2).unwrap_or_default(),
        payload: data,
        payload_truncated: payload.truncated,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decoded::tcp_flags;
    use crate::fixtures::{ipv4, ipv6, tcp, udp};

    fn decode(bytes: &[u8]) -> Result<IpPacket<'_>, DecodeError> {
        decode_ip(bytes, None, [None; 2])
    }

    fn segment<'a>(packet: &Result<IpPacket<'a>, DecodeError>) -> TcpSegment<'a> {
        match packet {
            Ok(IpPacket {
                transport: Transport::Tcp(segment),
                ..
            }) => segment.clone(),
            other => panic!("expected TCP, got {other:?}"),
        }
    }

    fn transport<'a>(packet: &Result<IpPacket<'a>, DecodeError>) -> Transport<'a> {
        match packet {
            Ok(packet) => packet.transport.clone(),
            Err(err) => panic!("expected a packet, got {err}"),
        }
    }

    /// Builds an IPv6 extension header of `len` bytes (a multiple of 8) naming `next`.
    fn extension(next: u8, len: usize) -> Vec<u8> {
        let mut header = vec![next, (len / 8 - 1) as u8];
        header.resize(len, 0);
        header
    }

    #[test]
    fn ipv4_addresses_and_ttl() {
        let bytes = ipv4(6, &[], &tcp(1, 2, 0, &[], b""));
        let packet = decode(&bytes);
        let fields = packet.map(|p| (p.src.to_string(), p.dst.to_string(), p.ttl));
        assert_eq!(
            fields,
            Ok(("10.0.0.1".to_owned(), "10.0.0.2".to_owned(), 64))
        );
    }

    #[test]
    fn tcp_fields() {
        let bytes = ipv4(
            6,
            &[],
            &tcp(1234, 443, tcp_flags::SYN | tcp_flags::ACK, &[], b"x"),
        );
        let tcp = segment(&decode(&bytes));
        let fields = (
            tcp.src_port,
            tcp.dst_port,
            tcp.seq,
            tcp.ack,
            tcp.flags,
            tcp.window,
        );
        assert_eq!(fields, (1234, 443, 1000, 2000, 0x12, 0xffff));
    }

    #[test]
    fn ipv4_options_skipped() {
        let options = [0x94, 0x04, 0x00, 0x00];
        let bytes = ipv4(6, &options, &tcp(1, 2, 0, &[], b"data"));
        assert_eq!(segment(&decode(&bytes)).payload, b"data");
    }

    #[test]
    fn tcp_options_skipped() {
        let options = [2, 4, 0x05, 0xb4, 1, 1, 4, 2];
        let bytes = ipv4(6, &[], &tcp(1, 2, 0, &options, b"data"));
        let tcp = segment(&decode(&bytes));
        assert_eq!((tcp.options, tcp.payload), (&options[..], &b"data"[..]));
    }

    #[test]
    fn tcp_payload_truncated_by_capture() {
        let bytes = ipv4(6, &[], &tcp(1, 2, 0, &[], b"0123456789"));
        let cut = &bytes[..bytes.len() - 4];
        let tcp = segment(&decode(cut));
        assert_eq!((tcp.payload, tcp.payload_truncated), (&b"012345"[..], true));
    }

    #[test]
    fn tcp_header_truncated_by_capture() {
        let bytes = ipv4(6, &[], &tcp(1, 2, 0, &[], b"0123456789"));
        let expected = DecodeError::Truncated {
            layer: Layer::Tcp,
            needed: 20,
            available: 10,
        };
        assert_eq!(decode(&bytes[..30]), Err(expected));
    }

    #[test]
    fn tcp_data_offset_too_small() {
        let mut bytes = ipv4(6, &[], &tcp(1, 2, 0, &[], b""));
        bytes[32] = 0x40;
        let expected = DecodeError::LengthTooSmall {
            layer: Layer::Tcp,
            field: "data offset",
            value: 16,
            minimum: 20,
        };
        assert_eq!(decode(&bytes), Err(expected));
    }

    #[test]
    fn tcp_data_offset_past_segment() {
        let mut bytes = ipv4(6, &[], &tcp(1, 2, 0, &[], b"abcd"));
        bytes[32] = 0xf0;
        let expected = DecodeError::LengthPastEnd {
            layer: Layer::Tcp,
            field: "data offset",
            value: 60,
            available: 24,
        };
        assert_eq!(decode(&bytes), Err(expected));
    }

    #[test]
    fn udp_payload() {
        let bytes = ipv4(17, &[], &udp(53, 5353, b"dns"));
        let Transport::Udp(datagram) = transport(&decode(&bytes)) else {
            panic!("expected UDP");
        };
        assert_eq!(
            (datagram.src_port, datagram.dst_port, datagram.payload),
            (53, 5353, &b"dns"[..])
        );
    }

    #[test]
    fn udp_length_too_small() {
        let mut bytes = ipv4(17, &[], &udp(53, 53, b"dns"));
        bytes[25] = 4;
        let expected = DecodeError::LengthTooSmall {
            layer: Layer::Udp,
            field: "length",
            value: 4,
            minimum: 8,
        };
        assert_eq!(decode(&bytes), Err(expected));
    }

    #[test]
    fn ipv4_first_fragment() {
        let mut bytes = ipv4(6, &[], &tcp(1, 2, 0, &[], b"x"));
        bytes[6] = 0x20;
        assert_eq!(transport(&decode(&bytes)), Transport::Fragment);
    }

    #[test]
    fn ipv4_later_fragment() {
        let mut bytes = ipv4(6, &[], &[0; 16]);
        bytes[6] = 0x00;
        bytes[7] = 0xb9;
        assert_eq!(transport(&decode(&bytes)), Transport::Fragment);
    }

    #[test]
    fn ipv4_zero_total_length_uses_capture() {
        let mut bytes = ipv4(6, &[], &tcp(1, 2, 0, &[], b"tso"));
        bytes[2] = 0;
        bytes[3] = 0;
        assert_eq!(segment(&decode(&bytes)).payload, b"tso");
    }

    #[test]
    fn ipv4_total_length_below_header() {
        let mut bytes = ipv4(6, &[], &tcp(1, 2, 0, &[], b""));
        bytes[3] = 12;
        let expected = DecodeError::LengthTooSmall {
            layer: Layer::Ipv4,
            field: "total length",
            value: 12,
            minimum: 20,
        };
        assert_eq!(decode(&bytes), Err(expected));
    }

    #[test]
    fn ipv4_header_length_below_minimum() {
        let mut bytes = ipv4(6, &[], &tcp(1, 2, 0, &[], b""));
        bytes[0] = 0x44;
        let expected = DecodeError::LengthTooSmall {
            layer: Layer::Ipv4,
            field: "header length",
            value: 16,
            minimum: 20,
        };
        assert_eq!(decode(&bytes), Err(expected));
    }

    #[test]
    fn ipv4_header_truncated() {
        let bytes = ipv4(6, &[], &[]);
        let expected = DecodeError::Truncated {
            layer: Layer::Ipv4,
            needed: 20,
            available: 12,
        };
        assert_eq!(decode(&bytes[..12]), Err(expected));
    }

    #[test]
    fn ipv4_other_protocol() {
        let bytes = ipv4(1, &[], &[8, 0, 0, 0]);
        let packet = decode(&bytes);
        assert_eq!(
            packet.map(|p| (p.protocol, p.transport)),
            Ok((1, Transport::Other))
        );
    }

    #[test]
    fn ipv6_tcp() {
        let bytes = ipv6(6, &tcp(1, 2, 0, &[], b"six"));
        assert_eq!(segment(&decode(&bytes)).payload, b"six");
    }

    #[test]
    fn ipv6_hop_routing_destination_chain() {
        let mut payload = extension(43, 8);
        payload.extend(extension(60, 24));
        payload.extend(extension(6, 16));
        payload.extend(tcp(1, 2, 0, &[], b"chain"));
        let bytes = ipv6(0, &payload);
        let packet = decode_ip(&bytes, Some(6), [None; 2]);
        assert_eq!(segment(&packet).payload, b"chain");
    }

    #[test]
    fn ipv6_final_next_header() {
        let mut payload = extension(17, 8);
        payload.extend(udp(1, 2, b""));
        let bytes = ipv6(60, &payload);
        let packet = decode(&bytes);
        assert_eq!(packet.map(|p| p.protocol), Ok(17));
    }

    #[test]
    fn ipv6_authentication_header() {
        // AH with a 12-byte ICV: 24 bytes, length field (24 / 4) - 2 = 4.
        let mut payload = vec![6, 4];
        payload.resize(24, 0);
        payload.extend(tcp(1, 2, 0, &[], b"ah"));
        assert_eq!(segment(&decode(&ipv6(51, &payload))).payload, b"ah");
    }

    #[test]
    fn ipv6_first_fragment() {
        let mut payload = vec![6, 0, 0x00, 0x01, 0, 0, 0, 9];
        payload.extend(tcp(1, 2, 0, &[], b"frag"));
        assert_eq!(transport(&decode(&ipv6(44, &payload))), Transport::Fragment);
    }

    #[test]
    fn ipv6_later_fragment() {
        let mut payload = vec![6, 0, 0x05, 0x00, 0, 0, 0, 9];
        payload.extend_from_slice(&[0; 16]);
        let bytes = ipv6(44, &payload);
        let packet = decode(&bytes);
        assert_eq!(
            packet.map(|p| (p.protocol, p.transport)),
            Ok((6, Transport::Fragment))
        );
    }

    #[test]
    fn ipv6_atomic_fragment_decoded() {
        let mut payload = vec![6, 0, 0, 0, 0, 0, 0, 9];
        payload.extend(tcp(1, 2, 0, &[], b"atomic"));
        assert_eq!(segment(&decode(&ipv6(44, &payload))).payload, b"atomic");
    }

    #[test]
    fn ipv6_extension_past_payload() {
        let payload = extension(6, 8);
        let mut bytes = ipv6(0, &payload);
        bytes[41] = 3;
        let expected = DecodeError::LengthPastEnd {
            layer: Layer::Ipv6Extension,
            field: "extension header length",
            value: 32,
            available: 8,
        };
        assert_eq!(decode(&bytes), Err(expected));
    }

    #[test]
    fn ipv6_extension_truncated_by_capture() {
        let mut payload = extension(6, 16);
        payload.extend(tcp(1, 2, 0, &[], b""));
        let bytes = ipv6(0, &payload);
        let expected = DecodeError::Truncated {
            layer: Layer::Ipv6Extension,
            needed: 16,
            available: 4,
        };
        assert_eq!(decode(&bytes[..44]), Err(expected));
    }

    #[test]
    fn ipv6_header_truncated() {
        let expected = DecodeError::Truncated {
            layer: Layer::Ipv6,
            needed: 40,
            available: 39,
        };
        assert_eq!(decode(&ipv6(59, &[])[..39]), Err(expected));
    }

    #[test]
    fn ipv6_no_next_header() {
        let bytes = ipv6(59, &[]);
        let packet = decode(&bytes);
        assert_eq!(
            packet.map(|p| (p.protocol, p.transport)),
            Ok((59, Transport::Other))
        );
    }

    #[test]
    fn ipv6_trailing_padding_trimmed() {
        let mut bytes = ipv6(6, &tcp(1, 2, 0, &[], b"pad"));
        bytes.extend_from_slice(&[0xee; 8]);
        assert_eq!(segment(&decode(&bytes)).payload, b"pad");
    }

    #[test]
    fn empty_ip_packet() {
        let expected = DecodeError::Truncated {
            layer: Layer::Ip,
            needed: 1,
            available: 0,
        };
        assert_eq!(decode(&[]), Err(expected));
    }
}
