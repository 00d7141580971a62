//! Long-header packets (RFC 9000 sections 17.2 and 17.2.1 to 17.2.5; RFC
//! 8999 for the version-independent part).
//!
//! A datagram may contain several long-header packets back to back
//! (coalesced, RFC 9000 section 12.2). Initial, 0-RTT and Handshake packets
//! carry a Length field, and whatever follows the last of them is a
//! short-header packet or padding. Version Negotiation and Retry packets
//! have no length field and fill the rest of the datagram.

use crate::version::{LongPacketType, VERSION_NEGOTIATION, version_spec};
use crate::wire::Cursor;

/// Maximum connection id length in QUIC v1 and v2 (RFC 9000 section 17.2).
pub const MAX_CID_LEN: usize = 20;

/// An error parsing a long-header packet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    /// The first byte has the header form bit clear: a short header.
    #[error("byte 0x{first_byte:02x} starts a short header, not a long one")]
    NotLongHeader {
        /// The first byte.
        first_byte: u8,
    },
    /// The packet ends inside a header field.
    #[error("long header ends inside its {field} at byte {offset}")]
    Truncated {
        /// The field that was cut.
        field: &'static str,
        /// Offset of the field from the start of the packet.
        offset: usize,
    },
    /// A connection id is longer than the version allows.
    #[error("{field} of {len} bytes at byte {offset} exceeds the 20-byte maximum")]
    ConnectionIdTooLong {
        /// "destination connection id" or "source connection id".
        field: &'static str,
        /// Its length byte.
        len: usize,
        /// Offset of the length byte.
        offset: usize,
    },
    /// The Length field counts more bytes than the datagram has left.
    #[error("Length field says {length} bytes at byte {offset} but only {available} follow")]
    LengthBeyondDatagram {
        /// The value of the Length field.
        length: u64,
        /// Bytes left in the datagram after the field.
        available: usize,
        /// Offset of the Length field.
        offset: usize,
    },
    /// A Version Negotiation packet whose version list is empty or not a
    /// whole number of 4-byte versions.
    #[error("Version Negotiation lists {len} bytes of versions, not a non-empty multiple of 4")]
    BadVersionList {
        /// Bytes after the connection ids.
        len: usize,
    },
}

/// The version-independent part of a long header (RFC 8999 section 5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LongHeader<'a> {
    /// The first byte as sent (its low bits are still header-protected).
    pub first_byte: u8,
    /// The version field.
    pub version: u32,
    /// Destination connection id.
    pub dcid: &'a [u8],
    /// Source connection id.
    pub scid: &'a [u8],
}

impl LongHeader<'_> {
    /// True when the fixed bit (0x40) is set, as every QUIC v1 and v2
    /// packet has unless the peers agreed to grease it (RFC 9287).
    pub fn fixed_bit(&self) -> bool {
        self.first_byte & 0x40 != 0
    }
}

/// One long-header packet, as far as it can be read without keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LongPacket<'a> {
    /// A server's list of the versions it supports.
    VersionNegotiation {
        /// The header; `version` is 0.
        header: LongHeader<'a>,
        /// The supported versions, in packet order.
        versions: Vec<u32>,
    },
    /// An Initial packet.
    Initial {
        /// The header.
        header: LongHeader<'a>,
        /// The address validation token (empty from servers).
        token: &'a [u8],
        /// Offset of the protected packet number field in `packet`.
        pn_offset: usize,
        /// The whole packet, from the first byte to the end of the tag.
        packet: &'a [u8],
    },
    /// A 0-RTT or Handshake packet, which Initial keys do not open.
    Protected {
        /// The header.
        header: LongHeader<'a>,
        /// [`LongPacketType::ZeroRtt`] or [`LongPacketType::Handshake`].
        kind: LongPacketType,
        /// The whole packet.
        packet: &'a [u8],
    },
    /// A Retry packet.
    Retry {
        /// The header.
        header: LongHeader<'a>,
        /// The whole packet, integrity tag included.
        packet: &'a [u8],
    },
    /// A packet of a version this crate does not know; its length is
    /// unknown, so it is taken to fill the rest of the datagram.
    UnknownVersion {
        /// The header.
        header: LongHeader<'a>,
    },
}

impl<'a> LongPacket<'a> {
    /// Returns the packet's header.
    pub fn header(&self) -> &LongHeader<'a> {
        match self {
            LongPacket::VersionNegotiation { header, .. }
            | LongPacket::Initial { header, .. }
            | LongPacket::Protected { header, .. }
            | LongPacket::Retry { header, .. }
            | LongPacket::UnknownVersion { header } => header,
        }
    }
}

fn truncated(field: &'static str, offset: usize) -> HeaderError {
    HeaderError::Truncated { field, offset }
}

/// Reads a connection id: a length byte, then that many bytes.
fn read_cid<'a>(
    cursor: &mut Cursor<'a>,
    field: &'static str,
    max: usize,
) -> Result<&'a [u8], HeaderError> {
    let offset = cursor.position();
    let len = usize::from(cursor.u8().ok_or(truncated(field, offset))?);
    if len > max {
        return Err(HeaderError::ConnectionIdTooLong { field, len, offset });
    }
    cursor.bytes(len).ok_or(truncated(field, offset))
}

/// Reads the header fields every version shares.
fn read_header<'a>(cursor: &mut Cursor<'a>) -> Result<LongHeader<'a>, HeaderError> {
    let first_byte = cursor.u8().ok_or(truncated("first byte", 0))?;
    if first_byte & 0x80 == 0 {
        return Err(HeaderError::NotLongHeader { first_byte });
    }
    let version = cursor.u32().ok_or(truncated("version", 1))?;
    // Versions with a spec cap ids at 20 bytes. RFC 8999 allows 255 in general.
    let max = if version_spec(version).is_some() {
        MAX_CID_LEN
    } else {
        usize::from(u8::MAX)
    };
    let dcid = read_cid(cursor, "destination connection id", max)?;
    let scid = read_cid(cursor, "source connection id", max)?;
    Ok(LongHeader {
        first_byte,
        version,
        dcid,
        scid,
    })
}

/// Reads the Length field and returns the offset where the packet number
/// starts and the total packet length.
fn read_length(cursor: &mut Cursor<'_>) -> Result<(usize, usize), HeaderError> {
    let offset = cursor.position();
    let length = cursor.varint().ok_or(truncated("length", offset))?;
    let available = cursor.remaining();
    let too_long = HeaderError::LengthBeyondDatagram {
        length,
        available,
        offset,
    };
    let body = usize::try_from(length).map_err(|_| too_long.clone())?;
    if body > available {
        return Err(too_long);
    }
    let pn_offset = cursor.position();
    Ok((pn_offset, pn_offset.saturating_add(body)))
}

/// Parses the long-header packet at the start of `data` and returns it with
/// the number of bytes it occupies.
pub fn parse_long_packet(data: &[u8]) -> Result<(LongPacket<'_>, usize), HeaderError> {
    let mut cursor = Cursor::new(data);
    let header = read_header(&mut cursor)?;
    if header.version == VERSION_NEGOTIATION {
        let versions = read_versions(cursor.rest())?;
        let packet = LongPacket::VersionNegotiation { header, versions };
        return Ok((packet, data.len()));
    }
    let Some(spec) = version_spec(header.version) else {
        return Ok((LongPacket::UnknownVersion { header }, data.len()));
    };
    let kind = spec.packet_type(header.first_byte);
    if kind == LongPacketType::Retry {
        let packet = LongPacket::Retry {
            header,
            packet: data,
        };
        return Ok((packet, data.len()));
    }
    let token = if kind == LongPacketType::Initial {
        read_token(&mut cursor)?
    } else {
        &[]
    };
    let (pn_offset, end) = read_length(&mut cursor)?;
    let packet = data.get(..end).ok_or(truncated("packet", pn_offset))?;
    let parsed = if kind == LongPacketType::Initial {
        LongPacket::Initial {
            header,
            token,
            pn_offset,
            packet,
        }
    } else {
        LongPacket::Protected {
            header,
            kind,
            packet,
        }
    };
    Ok((parsed, end))
}

/// Reads the supported versions that fill the rest of a Version
/// Negotiation packet.
fn read_versions(rest: &[u8]) -> Result<Vec<u32>, HeaderError> {
    if rest.is_empty() || !rest.len().is_multiple_of(4) {
        return Err(HeaderError::BadVersionList { len: rest.len() });
    }
    let versions = rest
        .chunks_exact(4)
        .filter_map(|c| <[u8; 4]>::try_from(c).ok())
        .map(u32::from_be_bytes)
        .collect();
    Ok(versions)
}

/// Reads an Initial packet's token: a variable-length integer, then that
/// many bytes (RFC 9000 section 17.2.2).
fn read_token<'a>(cursor: &mut Cursor<'a>) -> Result<&'a [u8], HeaderError> {
    let offset = cursor.position();
    let token_len = cursor.varint().ok_or(truncated("token length", offset))?;
    usize::try_from(token_len)
        .ok()
        .and_then(|len| cursor.bytes(len))
        .ok_or(truncated("token", offset))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{RFC_DCID, RFC_SERVER_CID, hex, v1_client_initial, v2_server_initial};
    use crate::version::{QUIC_V1, QUIC_V2};

    #[test]
    fn rfc_client_initial_parses() {
        let packet = v1_client_initial();
        let Ok((
            LongPacket::Initial {
                header,
                token,
                pn_offset,
                ..
            },
            len,
        )) = parse_long_packet(&packet)
        else {
            panic!("not an Initial");
        };
        assert_eq!(
            (header.version, header.dcid, header.scid),
            (QUIC_V1, &RFC_DCID[..], &[][..])
        );
        assert_eq!((token, pn_offset, len), (&[][..], 18, 1200));
    }

    #[test]
    fn v2_server_initial_parses() {
        let packet = v2_server_initial();
        let parsed = parse_long_packet(&packet);
        let Ok((LongPacket::Initial { header, .. }, len)) = parsed else {
            panic!("not an Initial: {parsed:?}");
        };
        assert_eq!(
            (header.version, header.scid, len),
            (QUIC_V2, &RFC_SERVER_CID[..], 135)
        );
    }

    #[test]
    fn coalesced_length_stops_at_packet_end() {
        let mut datagram = v1_client_initial();
        datagram.extend_from_slice(&[0x40, 1, 2, 3]);
        let parsed = parse_long_packet(&datagram).map(|(_, len)| len);
        assert_eq!(parsed, Ok(1200));
    }

    #[test]
    fn truncated_initial_reports_length() {
        let packet = v1_client_initial();
        let cut = packet.get(..600).unwrap_or_default();
        let parsed = parse_long_packet(cut);
        assert!(matches!(
            parsed,
            Err(HeaderError::LengthBeyondDatagram { length: 1182, .. })
        ));
    }

    #[test]
    fn version_negotiation_lists_versions() {
        let packet = hex("80 00000000 04 01020304 04 0a0b0c0d 00000001 6b3343cf");
        let parsed = parse_long_packet(&packet).map(|(p, _)| p);
        let Ok(LongPacket::VersionNegotiation { versions, .. }) = parsed else {
            panic!("not a Version Negotiation: {parsed:?}");
        };
        assert_eq!(versions, [QUIC_V1, QUIC_V2]);
    }

    #[test]
    fn version_list_must_be_whole() {
        let packet = hex("80 00000000 00 00 000000");
        assert_eq!(
            parse_long_packet(&packet),
            Err(HeaderError::BadVersionList { len: 3 })
        );
    }

    #[test]
    fn retry_fills_datagram() {
        let retry = hex("ff000000010008f067a5502a4262b5746f6b656e04a265ba2eff4d829058fb3f0f2496ba");
        let parsed = parse_long_packet(&retry);
        assert!(matches!(parsed, Ok((LongPacket::Retry { .. }, 36))));
    }

    #[test]
    fn handshake_packet_is_protected() {
        let packet = hex("e0 00000001 00 00 02 aabb");
        let parsed = parse_long_packet(&packet);
        let expected = LongPacketType::Handshake;
        assert!(matches!(parsed, Ok((LongPacket::Protected { kind, .. }, 10)) if kind == expected));
    }

    #[test]
    fn unknown_version_fills_datagram() {
        let packet = hex("c0 babababa 01 aa 01 bb 0000");
        let parsed = parse_long_packet(&packet);
        assert!(matches!(
            parsed,
            Ok((LongPacket::UnknownVersion { .. }, 11))
        ));
    }

    #[test]
    fn long_cid_rejected_for_v1() {
        let mut packet = hex("c0 00000001 15");
        packet.extend_from_slice(&[0; 30]);
        let parsed = parse_long_packet(&packet);
        assert!(matches!(
            parsed,
            Err(HeaderError::ConnectionIdTooLong { len: 21, .. })
        ));
    }

    #[test]
    fn short_header_rejected() {
        assert_eq!(
            parse_long_packet(&[0x40, 0, 0]),
            Err(HeaderError::NotLongHeader { first_byte: 0x40 })
        );
    }

    #[test]
    fn empty_input_is_truncated() {
        assert!(matches!(
            parse_long_packet(&[]),
            Err(HeaderError::Truncated { .. })
        ));
    }

    #[test]
    fn huge_token_length_is_truncated() {
        let packet = hex("c0 00000001 00 00 ffffffffffffffff");
        let parsed = parse_long_packet(&packet);
        assert!(matches!(
            parsed,
            Err(HeaderError::Truncated { field: "token", .. })
        ));
    }

    #[test]
    fn fixed_bit_read_from_first_byte() {
        let packet = hex("80 00000001 00 00 00 01 00");
        let fixed = parse_long_packet(&packet).map(|(p, _)| p.header().fixed_bit());
        assert_eq!(fixed, Ok(false));
    }
}
