//! Header protection, packet number recovery and AEAD packet protection
//! (RFC 9001 sections 5.3, 5.4 and 5.8; RFC 9000 appendix A.3).
//!
//! [`open_packet`] reverses [`seal_packet`]. It removes header protection
//! with a mask made by encrypting a 16-byte sample of the ciphertext with
//! AES-128. It then rebuilds the full packet number from the truncated one
//! and decrypts the payload with AES-128-GCM, with the unprotected header as
//! associated data.

use aes::cipher::BlockEncrypt;
use aes_gcm::Aes128Gcm;
use aes_gcm::aead::{Aead, KeyInit, Payload};

use crate::keys::PacketKeys;
use crate::version::{RetryIntegrity, VersionSpec};
use crate::wire::VARINT_MAX;

/// Length of the AES-GCM authentication tag, and of the header protection sample.
pub const TAG_LEN: usize = 16;
/// The sample starts this many bytes after the start of the packet number
/// field, as if the packet number were always 4 bytes long (RFC 9001 section 5.4.2).
const SAMPLE_OFFSET: usize = 4;

/// An error opening or sealing a packet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtectionError {
    /// The packet ends before the header protection sample or the tag.
    #[error(
        "packet of {len} bytes is too short for header protection: it needs at least {needed} \
         bytes"
    )]
    TooShort {
        /// Bytes in the packet.
        len: usize,
        /// Bytes needed for the sample or the tag.
        needed: usize,
    },
    /// The packet number field starts outside the packet.
    #[error("packet number offset {offset} lies outside the {len}-byte packet")]
    BadOffset {
        /// The offset given.
        offset: usize,
        /// Bytes in the packet.
        len: usize,
    },
    /// The AEAD tag did not verify: wrong keys, or the packet was altered.
    #[error(
        "packet number {packet_number} does not decrypt: wrong keys, or the bytes were altered"
    )]
    Authentication {
        /// The packet number recovered from the header.
        packet_number: u64,
    },
    /// The payload could not be encrypted.
    #[error("payload of {len} bytes cannot be encrypted")]
    Seal {
        /// Bytes in the payload.
        len: usize,
    },
}

/// A packet with protection removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    /// The full packet number.
    pub packet_number: u64,
    /// The header without protection, packet number included.
    pub header: Vec<u8>,
    /// The decrypted frames.
    pub payload: Vec<u8>,
    /// The two reserved bits of the first byte (0x0c in long headers, 0x18
    /// in short ones); a compliant sender leaves them zero.
    pub reserved_bits: u8,
}

/// Bits of the first byte that header protection covers: 4 in long
/// headers, 5 in short ones (RFC 9001 section 5.4.1).
fn first_byte_mask(first: u8) -> u8 {
    if first & 0x80 != 0 { 0x0f } else { 0x1f }
}

/// Encrypts the sample with the header protection key and returns the
/// first five bytes of the result.
fn header_mask(
    keys: &PacketKeys,
    packet: &[u8],
    pn_offset: usize,
) -> Result<[u8; 5], ProtectionError> {
    let start = pn_offset
        .checked_add(SAMPLE_OFFSET)
        .ok_or(ProtectionError::BadOffset {
            offset: pn_offset,
            len: packet.len(),
        })?;
    let needed = start.saturating_add(TAG_LEN);
    let sample = packet.get(start..needed).ok_or(ProtectionError::TooShort {
        len: packet.len(),
        needed,
    })?;
    let sample: [u8; TAG_LEN] = sample.try_into().map_err(|_| ProtectionError::TooShort {
        len: packet.len(),
        needed,
    })?;
    let mut block = aes::Block::from(sample);
    keys.hp.encrypt_block(&mut block);
    let mut mask = [0u8; 5];
    mask.iter_mut().zip(block.iter()).for_each(|(m, b)| *m = *b);
    Ok(mask)
}

/// Removes protection from a packet whose packet number field starts at
/// `pn_offset`. `packet` must hold exactly one packet: for a long header,
/// `pn_offset` plus the value of its Length field. `largest` is the largest
/// packet number opened so far in the same direction and number space.
pub fn open_packet(
    packet: &[u8],
    pn_offset: usize,
    keys: &PacketKeys,
    largest: Option<u64>,
) -> Result<Opened, ProtectionError> {
    let mask = header_mask(keys, packet, pn_offset)?;
    let (header, truncated, pn_len) = unmask_header(packet, pn_offset, &mask)?;
    let ciphertext = packet.get(header.len()..).unwrap_or_default();
    let bits = u32::try_from(pn_len * 8).unwrap_or(32);
    let packet_number = decode_packet_number(largest, truncated, bits);

    let nonce = keys.nonce(packet_number);
    let payload = Payload {
        msg: ciphertext,
        aad: &header,
    };
    let payload = keys
        .aead
        .decrypt(&nonce.into(), payload)
        .map_err(|_| ProtectionError::Authentication { packet_number })?;

    let first = header.first().copied().unwrap_or(0);
    let reserved = if first & 0x80 != 0 { 0x0c } else { 0x18 };
    Ok(Opened {
        packet_number,
        header,
        payload,
        reserved_bits: first & reserved,
    })
}

/// Removes header protection: returns the unprotected header (packet number
/// included), the truncated packet number and its length in bytes.
fn unmask_header(
    packet: &[u8],
    pn_offset: usize,
    mask: &[u8; 5],
) -> Result<(Vec<u8>, u64, usize), ProtectionError> {
    let bad_offset = ProtectionError::BadOffset {
        offset: pn_offset,
        len: packet.len(),
    };
    let first_protected = *packet.first().ok_or(bad_offset.clone())?;
    let first = first_protected ^ (mask[0] & first_byte_mask(first_protected));
    // The two low bits of the unprotected first byte give the packet number length.
    let pn_len = usize::from(first & 0x03) + 1;
    let header_len = pn_offset.checked_add(pn_len).ok_or(bad_offset.clone())?;
    let mut header = packet.get(..header_len).ok_or(bad_offset)?.to_vec();
    let mut truncated = 0u64;
    for (i, byte) in header.iter_mut().enumerate() {
        if i == 0 {
            *byte = first;
        } else if i >= pn_offset {
            *byte ^= mask.get(i - pn_offset + 1).copied().unwrap_or(0);
            truncated = (truncated << 8) | u64::from(*byte);
        }
    }
    Ok((header, truncated, pn_len))
}

/// Protects a packet: `header` is the complete unprotected header ending
/// with the `pn_len`-byte truncated packet number, whose full value is
/// `packet_number`. For a long header the Length field must already count
/// the packet number, the payload and the 16-byte tag.
pub fn seal_packet(
    header: &[u8],
    pn_len: usize,
    packet_number: u64,
    payload: &[u8],
    keys: &PacketKeys,
) -> Result<Vec<u8>, ProtectionError> {
    let pn_offset = header
        .len()
        .checked_sub(pn_len)
        .ok_or(ProtectionError::BadOffset {
            offset: pn_len,
            len: header.len(),
        })?;
    let nonce = keys.nonce(packet_number);
    let ciphertext = keys
        .aead
        .encrypt(
            &nonce.into(),
            Payload {
                msg: payload,
                aad: header,
            },
        )
        .map_err(|_| ProtectionError::Seal { len: payload.len() })?;
    let mut packet = [header, &ciphertext].concat();
    let mask = header_mask(keys, &packet, pn_offset)?;
    for (i, byte) in packet.iter_mut().enumerate().take(pn_offset + pn_len) {
        if i == 0 {
            *byte ^= mask[0] & first_byte_mask(*byte);
        } else if i >= pn_offset {
            *byte ^= mask.get(i - pn_offset + 1).copied().unwrap_or(0);
        }
    }
    Ok(packet)
}

/// Rebuilds a full packet number from its `bits`-bit truncation: the value
/// closest to one past the largest number received so far (RFC 9000
/// appendix A.3).
pub fn decode_packet_number(largest: Option<u64>, truncated: u64, bits: u32) -> u64 {
    let expected = largest.map_or(0, |l| l.saturating_add(1));
    let window = 1u64.checked_shl(bits).unwrap_or(0);
    if window == 0 || bits >= 62 {
        return truncated;
    }
    let half = window / 2;
    let candidate = (expected & !(window - 1)) | (truncated & (window - 1));
    let too_low = expected
        .checked_sub(half)
        .is_some_and(|low| candidate <= low);
    if too_low && candidate < VARINT_MAX.saturating_add(1).saturating_sub(window) {
        return candidate.saturating_add(window);
    }
    if candidate > expected.saturating_add(half) && candidate >= window {
        return candidate - window;
    }
    candidate
}

/// Checks a Retry packet's integrity tag against the client's original
/// destination connection id (RFC 9001 section 5.8). Returns `None` for
/// draft versions whose Retry packets carry no tag.
pub fn retry_integrity_valid(
    spec: &VersionSpec,
    original_dcid: &[u8],
    retry: &[u8],
) -> Option<bool> {
    let RetryIntegrity::Tag { key, nonce } = spec.retry else {
        return None;
    };
    let Some(split) = retry.len().checked_sub(TAG_LEN) else {
        return Some(false);
    };
    let (body, tag) = retry.split_at(split);
    let Ok(odcid_len) = u8::try_from(original_dcid.len()) else {
        return Some(false);
    };
    let pseudo = [&[odcid_len][..], original_dcid, body].concat();
    let aead = Aes128Gcm::new(&key.into());
    let opened = aead.decrypt(
        &nonce.into(),
        Payload {
            msg: tag,
            aad: &pseudo,
        },
    );
    Some(opened.is_ok_and(|plain| plain.is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{InitialKeys, KeyMaterial};
    use crate::testkit::{
        RFC_DCID, hex, keys_for, v1_client_initial, v1_client_payload, v1_server_initial,
        v1_server_payload, v2_client_initial, v2_server_initial,
    };
    use crate::version::{QUIC_V1, QUIC_V2, version_spec};

    #[test]
    fn decode_pn_matches_rfc_example() {
        assert_eq!(
            decode_packet_number(Some(0xa82f_30ea), 0x9b32, 16),
            0xa82f_9b32
        );
    }

    #[test]
    fn decode_pn_first_packet() {
        assert_eq!(decode_packet_number(None, 2, 32), 2);
    }

    #[test]
    fn decode_pn_wraps_forward() {
        assert_eq!(decode_packet_number(Some(0xfe), 0x01, 8), 0x101);
    }

    #[test]
    fn decode_pn_stays_behind() {
        assert_eq!(decode_packet_number(Some(0x101), 0xff, 8), 0xff);
    }

    #[test]
    fn decode_pn_near_limit_no_overflow() {
        let got = decode_packet_number(Some(VARINT_MAX), 0, 8);
        assert!(got <= VARINT_MAX.saturating_add(256));
    }

    #[test]
    fn v1_client_initial_seals_like_rfc() {
        let keys = keys_for(QUIC_V1);
        let header = hex("c300000001088394c8f03e5157080000449e00000002");
        let sealed = seal_packet(&header, 4, 2, &v1_client_payload(), &keys.client);
        assert_eq!(sealed, Ok(v1_client_initial()));
    }

    #[test]
    fn v1_client_initial_opens() {
        let keys = keys_for(QUIC_V1);
        let opened = open_packet(&v1_client_initial(), 18, &keys.client, None);
        assert_eq!(opened.map(|o| o.payload), Ok(v1_client_payload()));
    }

    #[test]
    fn v1_client_initial_header_unprotected() {
        let keys = keys_for(QUIC_V1);
        let opened = open_packet(&v1_client_initial(), 18, &keys.client, None);
        let expected = hex("c300000001088394c8f03e5157080000449e00000002");
        assert_eq!(
            opened.map(|o| (o.header, o.packet_number)),
            Ok((expected, 2))
        );
    }

    #[test]
    fn v1_server_initial_opens() {
        let keys = keys_for(QUIC_V1);
        let opened = open_packet(&v1_server_initial(), 18, &keys.server, None);
        assert_eq!(
            opened.map(|o| (o.packet_number, o.payload)),
            Ok((1, v1_server_payload()))
        );
    }

    #[test]
    fn v1_server_initial_seals_like_rfc() {
        let keys = keys_for(QUIC_V1);
        let header = hex("c1000000010008f067a5502a4262b50040750001");
        let sealed = seal_packet(&header, 2, 1, &v1_server_payload(), &keys.server);
        assert_eq!(sealed, Ok(v1_server_initial()));
    }

    #[test]
    fn v2_client_initial_seals_like_rfc() {
        let keys = keys_for(QUIC_V2);
        let header = hex("d36b3343cf088394c8f03e5157080000449e00000002");
        let sealed = seal_packet(&header, 4, 2, &v1_client_payload(), &keys.client);
        assert_eq!(sealed, Ok(v2_client_initial()));
    }

    #[test]
    fn v2_client_initial_opens() {
        let keys = keys_for(QUIC_V2);
        let opened = open_packet(&v2_client_initial(), 18, &keys.client, None);
        assert_eq!(opened.map(|o| o.payload), Ok(v1_client_payload()));
    }

    #[test]
    fn v2_server_initial_opens() {
        let keys = keys_for(QUIC_V2);
        let opened = open_packet(&v2_server_initial(), 18, &keys.server, None);
        assert_eq!(
            opened.map(|o| (o.packet_number, o.payload)),
            Ok((1, v1_server_payload()))
        );
    }

    #[test]
    fn server_keys_do_not_open_client_packet() {
        let keys = keys_for(QUIC_V1);
        let opened = open_packet(&v1_client_initial(), 18, &keys.server, None);
        assert!(matches!(
            opened,
            Err(ProtectionError::Authentication { .. })
        ));
    }

    #[test]
    fn flipped_byte_fails_authentication() {
        let keys = keys_for(QUIC_V1);
        let mut packet = v1_client_initial();
        if let Some(byte) = packet.last_mut() {
            *byte ^= 1;
        }
        let opened = open_packet(&packet, 18, &keys.client, None);
        assert!(matches!(
            opened,
            Err(ProtectionError::Authentication { .. })
        ));
    }

    #[test]
    fn short_packet_is_too_short() {
        let keys = keys_for(QUIC_V1);
        let packet = v1_client_initial();
        let opened = open_packet(packet.get(..30).unwrap_or_default(), 18, &keys.client, None);
        assert!(matches!(opened, Err(ProtectionError::TooShort { .. })));
    }

    #[test]
    fn offset_past_end_is_error() {
        let keys = keys_for(QUIC_V1);
        let opened = open_packet(&[0xc0; 8], usize::MAX, &keys.client, None);
        assert!(opened.is_err());
    }

    #[test]
    fn v1_retry_tag_verifies() {
        let spec = version_spec(QUIC_V1).expect("known version");
        let retry = hex("ff000000010008f067a5502a4262b5746f6b656e04a265ba2eff4d829058fb3f0f2496ba");
        assert_eq!(retry_integrity_valid(spec, &RFC_DCID, &retry), Some(true));
    }

    #[test]
    fn v2_retry_tag_verifies() {
        let spec = version_spec(QUIC_V2).expect("known version");
        let retry = hex("cf6b3343cf0008f067a5502a4262b5746f6b656ec8646ce8bfe33952d955543665dcc7b6");
        assert_eq!(retry_integrity_valid(spec, &RFC_DCID, &retry), Some(true));
    }

    #[test]
    fn retry_tag_rejects_other_dcid() {
        let spec = version_spec(QUIC_V1).expect("known version");
        let retry = hex("ff000000010008f067a5502a4262b5746f6b656e04a265ba2eff4d829058fb3f0f2496ba");
        assert_eq!(retry_integrity_valid(spec, &[1, 2, 3], &retry), Some(false));
    }

    #[test]
    fn retry_draft_24_has_no_tag() {
        let spec = version_spec(0xff00_0018).expect("known version");
        assert_eq!(retry_integrity_valid(spec, &RFC_DCID, &[0xf0; 40]), None);
    }

    #[test]
    fn material_round_trips_through_keys() {
        let material = KeyMaterial {
            key: [1; 16],
            iv: [2; 12],
            hp: [3; 16],
        };
        let keys = InitialKeys {
            client: PacketKeys::new(&material),
            server: PacketKeys::new(&material),
        };
        let header = [0xc0, 0, 0, 0, 1, 0, 0, 0x16, 0x07];
        let sealed = seal_packet(&header, 1, 7, &[1u8; 20], &keys.client);
        let opened = sealed.and_then(|p| open_packet(&p, 8, &keys.server, Some(6)));
        assert_eq!(opened.map(|o| o.packet_number), Ok(7));
    }
}
