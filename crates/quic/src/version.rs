//! The QUIC versions whose Initial packets can be opened, with what differs
//! between them: the Initial salt, the key labels, the numbering of
//! long-header packet types and the Retry integrity key.

use std::fmt;

/// QUIC version 1 (RFC 9000).
pub const QUIC_V1: u32 = 0x0000_0001;
/// QUIC version 2 (RFC 9369 section 3.1).
pub const QUIC_V2: u32 = 0x6b33_43cf;
/// The version field of a Version Negotiation packet (RFC 9000 section 17.2.1).
pub const VERSION_NEGOTIATION: u32 = 0;

/// The four long-header packet types (RFC 9000 section 17.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LongPacketType {
    /// Carries the first CRYPTO frames, protected with keys anyone can derive.
    Initial,
    /// Early application data, protected with keys from a resumed session.
    ZeroRtt,
    /// Later handshake messages, protected with keys from the TLS key exchange.
    Handshake,
    /// A server's request that the client repeat its Initial with a token.
    Retry,
}

/// The proof that a Retry packet replies to the client's Initial.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetryIntegrity {
    /// Drafts 23 and 24 carry the original destination connection id in
    /// the packet instead of a tag; nothing can be checked.
    OriginalCid,
    /// A 16-byte AES-128-GCM tag over the pseudo-packet (RFC 9001 section 5.8).
    Tag {
        /// The fixed AEAD key.
        key: [u8; 16],
        /// The fixed AEAD nonce.
        nonce: [u8; 12],
    },
}

/// The parameters one QUIC version (or family of drafts) uses to protect Initial packets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VersionSpec {
    /// The salt of HKDF-Extract for the Initial secret (RFC 9001 section 5.2).
    pub initial_salt: [u8; 20],
    /// The HKDF-Expand-Label label of the AEAD key, without the "tls13 " prefix.
    pub key_label: &'static str,
    /// The label of the AEAD IV.
    pub iv_label: &'static str,
    /// The label of the header protection key.
    pub hp_label: &'static str,
    /// The authentication of Retry packets.
    pub retry: RetryIntegrity,
    /// True for QUIC v2, whose type numbers are rotated by one (RFC 9369 section 3.2).
    pub v2_packet_types: bool,
}

impl VersionSpec {
    /// Returns the packet type encoded in bits 4 and 5 of a long header's first byte.
    pub fn packet_type(&self, first_byte: u8) -> LongPacketType {
        let bits = (first_byte >> 4) & 0x03;
        // QUIC v2 numbers Retry 0, Initial 1, 0-RTT 2, Handshake 3.
        let v1_bits = if self.v2_packet_types {
            bits.wrapping_sub(1) & 0x03
        } else {
            bits
        };
        match v1_bits {
            0 => LongPacketType::Initial,
            1 => LongPacketType::ZeroRtt,
            2 => LongPacketType::Handshake,
            _ => LongPacketType::Retry,
        }
    }
}

const V1_LABELS: (&str, &str, &str) = ("quic key", "quic iv", "quic hp");

/// RFC 9001 section 5.2 and 5.8.
const SPEC_V1: VersionSpec = VersionSpec {
    initial_salt: [
        0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17, 0x9a, 0xe6, 0xa4, 0xc8, 0x0c,
        0xad, 0xcc, 0xbb, 0x7f, 0x0a,
    ],
    key_label: V1_LABELS.0,
    iv_label: V1_LABELS.1,
    hp_label: V1_LABELS.2,
    retry: RetryIntegrity::Tag {
        key: [
            0xbe, 0x0c, 0x69, 0x0b, 0x9f, 0x66, 0x57, 0x5a, 0x1d, 0x76, 0x6b, 0x54, 0xe3, 0x68,
            0xc8, 0x4e,
        ],
        nonce: [
            0x46, 0x15, 0x99, 0xd3, 0x5d, 0x63, 0x2b, 0xf2, 0x23, 0x98, 0x25, 0xbb,
        ],
    },
    v2_packet_types: false,
};

/// RFC 9369 sections 3.3.1 to 3.3.3.
const SPEC_V2: VersionSpec = VersionSpec {
    initial_salt: [
        0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93, 0x81, 0xbe, 0x6e, 0x26, 0x9d,
        0xcb, 0xf9, 0xbd, 0x2e, 0xd9,
    ],
    key_label: "quicv2 key",
    iv_label: "quicv2 iv",
    hp_label: "quicv2 hp",
    retry: RetryIntegrity::Tag {
        key: [
            0x8f, 0xb4, 0xb0, 0x1b, 0x56, 0xac, 0x48, 0xe2, 0x60, 0xfb, 0xcb, 0xce, 0xad, 0x7c,
            0xcc, 0x92,
        ],
        nonce: [
            0xd8, 0x69, 0x69, 0xbc, 0x2d, 0x7c, 0x6d, 0x99, 0x90, 0xef, 0xb0, 0x4a,
        ],
    },
    v2_packet_types: true,
};

/// draft-ietf-quic-tls-29 to -32 (versions 0xff00001d to 0xff000020).
const SPEC_DRAFT_29: VersionSpec = VersionSpec {
    initial_salt: [
        0xaf, 0xbf, 0xec, 0x28, 0x99, 0x93, 0xd2, 0x4c, 0x9e, 0x97, 0x86, 0xf1, 0x9c, 0x61, 0x11,
        0xe0, 0x43, 0x90, 0xa8, 0x99,
    ],
    key_label: V1_LABELS.0,
    iv_label: V1_LABELS.1,
    hp_label: V1_LABELS.2,
    retry: RetryIntegrity::Tag {
        key: [
            0xcc, 0xce, 0x18, 0x7e, 0xd0, 0x9a, 0x09, 0xd0, 0x57, 0x28, 0x15, 0x5a, 0x6c, 0xb9,
            0x6b, 0xe1,
        ],
        nonce: [
            0xe5, 0x49, 0x30, 0xf9, 0x7f, 0x21, 0x36, 0xf0, 0x53, 0x0a, 0x8c, 0x1c,
        ],
    },
    v2_packet_types: false,
};

const DRAFT_23_SALT: [u8; 20] = [
    0xc3, 0xee, 0xf7, 0x12, 0xc7, 0x2e, 0xbb, 0x5a, 0x11, 0xa7, 0xd2, 0x43, 0x2b, 0xb4, 0x63, 0x65,
    0xbe, 0xf9, 0xf5, 0x02,
];

/// draft-ietf-quic-tls-25 to -28.
const SPEC_DRAFT_25: VersionSpec = VersionSpec {
    initial_salt: DRAFT_23_SALT,
    key_label: V1_LABELS.0,
    iv_label: V1_LABELS.1,
    hp_label: V1_LABELS.2,
    retry: RetryIntegrity::Tag {
        key: [
            0x4d, 0x32, 0xec, 0xdb, 0x2a, 0x21, 0x33, 0xc8, 0x41, 0xe4, 0x04, 0x3d, 0xf2, 0x7d,
            0x44, 0x30,
        ],
        nonce: [
            0x4d, 0x16, 0x11, 0xd0, 0x55, 0x13, 0xa5, 0x52, 0xc5, 0x87, 0xd5, 0x75,
        ],
    },
    v2_packet_types: false,
};

/// draft-ietf-quic-tls-23 and -24.
const SPEC_DRAFT_23: VersionSpec = VersionSpec {
    initial_salt: DRAFT_23_SALT,
    key_label: V1_LABELS.0,
    iv_label: V1_LABELS.1,
    hp_label: V1_LABELS.2,
    retry: RetryIntegrity::OriginalCid,
    v2_packet_types: false,
};

/// Version numbers of IETF drafts are 0xff000000 plus the draft number.
const DRAFT_PREFIX: u32 = 0xff00_0000;

/// Returns how `version` protects its Initial packets, or `None` for a
/// version this crate cannot open (including gQUIC and reserved versions).
pub fn version_spec(version: u32) -> Option<&'static VersionSpec> {
    match version {
        QUIC_V1 => Some(&SPEC_V1),
        QUIC_V2 => Some(&SPEC_V2),
        _ => match version.checked_sub(DRAFT_PREFIX)? {
            23..=24 => Some(&SPEC_DRAFT_23),
            25..=28 => Some(&SPEC_DRAFT_25),
            29..=32 => Some(&SPEC_DRAFT_29),
            _ => None,
        },
    }
}

/// True for the versions of the form 0x?a?a?a?a that RFC 9000 section 15
/// reserves for forcing version negotiation.
pub fn is_reserved(version: u32) -> bool {
    version & 0x0f0f_0f0f == 0x0a0a_0a0a
}

/// Displays a version number as people name it: "QUICv1", "QUICv2",
/// "draft-29", "reserved 0x1a2a3a4a" or the bare number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VersionName(pub u32);

impl fmt::Display for VersionName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            VERSION_NEGOTIATION => f.write_str("version negotiation"),
            QUIC_V1 => f.write_str("QUICv1"),
            QUIC_V2 => f.write_str("QUICv2"),
            v if v & 0xffff_ff00 == DRAFT_PREFIX => write!(f, "draft-{}", v & 0xff),
            v if is_reserved(v) => write!(f, "reserved 0x{v:08x}"),
            v => write!(f, "0x{v:08x}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_initial_is_type_zero() {
        assert_eq!(SPEC_V1.packet_type(0xc3), LongPacketType::Initial);
    }

    #[test]
    fn v1_retry_is_type_three() {
        assert_eq!(SPEC_V1.packet_type(0xf0), LongPacketType::Retry);
    }

    #[test]
    fn v2_types_are_rotated() {
        let types: Vec<_> = [0xc0, 0xd0, 0xe0, 0xf0]
            .iter()
            .map(|&b| SPEC_V2.packet_type(b))
            .collect();
        let expected = [
            LongPacketType::Retry,
            LongPacketType::Initial,
            LongPacketType::ZeroRtt,
            LongPacketType::Handshake,
        ];
        assert_eq!(types, expected);
    }

    #[test]
    fn drafts_map_to_their_salts() {
        let salt = |v| version_spec(v).map(|s| s.initial_salt[0]);
        assert_eq!(
            [salt(0xff00_0017), salt(0xff00_001c), salt(0xff00_001d)],
            [Some(0xc3), Some(0xc3), Some(0xaf)]
        );
    }

    #[test]
    fn unknown_versions_have_no_spec() {
        assert!(
            [0, 0xff00_0016, 0xff00_0021, 0x5130_3530, 0x1a2a_3a4a]
                .iter()
                .all(|&v| version_spec(v).is_none())
        );
    }

    #[test]
    fn reserved_pattern_detected() {
        assert!(is_reserved(0xbaba_baba));
        assert!(is_reserved(0x0a1a_2a3a));
    }

    #[test]
    fn real_versions_not_reserved() {
        assert!(!is_reserved(QUIC_V1));
        assert!(!is_reserved(QUIC_V2));
    }

    #[test]
    fn names_read_naturally() {
        let names: Vec<String> = [QUIC_V1, QUIC_V2, 0xff00_001d, 0xbaba_baba, 0x5130_3530]
            .iter()
            .map(|&v| VersionName(v).to_string())
            .collect();
        let expected = [
            "QUICv1",
            "QUICv2",
            "draft-29",
            "reserved 0xbabababa",
            "0x51303530",
        ];
        assert_eq!(names, expected);
    }
}
