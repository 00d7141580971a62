//! Initial secrets and packet protection keys (RFC 9001 sections 5.1 and
//! 5.2; RFC 9369 section 3.3 for QUIC v2).
//!
//! The Initial secret is HKDF-Extract over the version's salt and the
//! destination connection id of the client's first Initial packet, so
//! anyone who captures that packet can derive both directions' keys.

use std::fmt;

use aes::Aes128;
use aes_gcm::Aes128Gcm;
use aes_gcm::aead::KeyInit;
use hkdf::Hkdf;
use sha2::Sha256;

use crate::version::VersionSpec;

/// Length in bytes of the SHA-256 secrets that QUIC Initial keys come from.
pub const SECRET_LEN: usize = 32;

/// An error deriving keys. HKDF-Expand rejects only outputs longer than 255
/// hash lengths and QUIC requests at most 32 bytes, so this error is
/// returned instead of panicking on a case that does not occur.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// HKDF-Expand refused the requested output length.
    #[error("HKDF-Expand-Label {label:?} cannot produce {len} bytes")]
    Expand {
        /// The label without the "tls13 " prefix.
        label: &'static str,
        /// The output length asked for.
        len: usize,
    },
}

/// TLS 1.3 HKDF-Expand-Label with an empty context (RFC 8446 section 7.1):
/// the info is the output length (u16), the label with "tls13 " in front
/// (u8 length), and an empty context (u8 length 0).
pub fn hkdf_expand_label(
    secret: &[u8; SECRET_LEN],
    label: &'static str,
    out: &mut [u8],
) -> Result<(), KeyError> {
    let error = KeyError::Expand {
        label,
        len: out.len(),
    };
    let full_label = [b"tls13 ", label.as_bytes()].concat();
    let out_len = u16::try_from(out.len()).map_err(|_| error.clone())?;
    let label_len = u8::try_from(full_label.len()).map_err(|_| error.clone())?;
    let mut info = Vec::with_capacity(full_label.len().saturating_add(4));
    info.extend_from_slice(&out_len.to_be_bytes());
    info.push(label_len);
    info.extend_from_slice(&full_label);
    info.push(0);
    let hkdf = Hkdf::<Sha256>::from_prk(secret).map_err(|_| error.clone())?;
    hkdf.expand(&info, out).map_err(|_| error)
}

/// The client and server Initial secrets derived from a destination
/// connection id.
#[derive(Clone, PartialEq, Eq)]
pub struct InitialSecrets {
    /// HKDF-Extract(salt, dcid).
    pub initial: [u8; SECRET_LEN],
    /// "client in": protects packets the client sends.
    pub client: [u8; SECRET_LEN],
    /// "server in": protects packets the server sends.
    pub server: [u8; SECRET_LEN],
}

impl fmt::Debug for InitialSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("InitialSecrets { .. }")
    }
}

impl InitialSecrets {
    /// Derives the secrets for `spec` from the client's original destination
    /// connection id.
    pub fn derive(spec: &VersionSpec, dcid: &[u8]) -> Result<Self, KeyError> {
        let (prk, _) = Hkdf::<Sha256>::extract(Some(&spec.initial_salt), dcid);
        let mut initial = [0u8; SECRET_LEN];
        initial.copy_from_slice(&prk);
        let mut client = [0u8; SECRET_LEN];
        let mut server = [0u8; SECRET_LEN];
        hkdf_expand_label(&initial, "client in", &mut client)?;
        hkdf_expand_label(&initial, "server in", &mut server)?;
        Ok(Self {
            initial,
            client,
            server,
        })
    }
}

/// The raw key, IV and header protection key of one direction.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyMaterial {
    /// AES-128-GCM key.
    pub key: [u8; 16],
    /// IV that packet numbers are XORed into to form the nonce.
    pub iv: [u8; 12],
    /// AES-128 key of header protection.
    pub hp: [u8; 16],
}

impl fmt::Debug for KeyMaterial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyMaterial { .. }")
    }
}

impl KeyMaterial {
    /// Expands one direction's secret with the version's labels.
    pub fn from_secret(spec: &VersionSpec, secret: &[u8; SECRET_LEN]) -> Result<Self, KeyError> {
        let mut material = Self {
            key: [0; 16],
            iv: [0; 12],
            hp: [0; 16],
        };
        hkdf_expand_label(secret, spec.key_label, &mut material.key)?;
        hkdf_expand_label(secret, spec.iv_label, &mut material.iv)?;
        hkdf_expand_label(secret, spec.hp_label, &mut material.hp)?;
        Ok(material)
    }
}

/// Ready-to-use ciphers of one direction.
#[derive(Clone)]
pub struct PacketKeys {
    pub(crate) aead: Aes128Gcm,
    pub(crate) iv: [u8; 12],
    pub(crate) hp: Aes128,
}

impl fmt::Debug for PacketKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PacketKeys { .. }")
    }
}

impl PacketKeys {
    /// Builds the ciphers from raw key material.
    pub fn new(material: &KeyMaterial) -> Self {
        Self {
            aead: Aes128Gcm::new(&material.key.into()),
            iv: material.iv,
            hp: Aes128::new(&material.hp.into()),
        }
    }

    /// Returns the AEAD nonce of a packet: the IV with the packet number
    /// XORed into its last 8 bytes (RFC 9001 section 5.3).
    pub(crate) fn nonce(&self, packet_number: u64) -> [u8; 12] {
        let mut nonce = self.iv;
        for (byte, pn) in nonce.iter_mut().skip(4).zip(packet_number.to_be_bytes()) {
            *byte ^= pn;
        }
        nonce
    }
}

/// Both directions' raw Initial key material: 88 bytes, small enough to
/// keep per connection, where [`InitialKeys`] takes about 3 KB on x86-64.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InitialMaterial {
    /// Protects packets the client sends.
    pub client: KeyMaterial,
    /// Protects packets the server sends.
    pub server: KeyMaterial,
}

impl InitialMaterial {
    /// Derives both directions' key material from the client's original
    /// destination connection id.
    pub fn derive(spec: &VersionSpec, dcid: &[u8]) -> Result<Self, KeyError> {
        let secrets = InitialSecrets::derive(spec, dcid)?;
        Ok(Self {
            client: KeyMaterial::from_secret(spec, &secrets.client)?,
            server: KeyMaterial::from_secret(spec, &secrets.server)?,
        })
    }
}

/// Both directions' Initial keys of one connection attempt.
#[derive(Clone, Debug)]
pub struct InitialKeys {
    /// Protects packets the client sends.
    pub client: PacketKeys,
    /// Protects packets the server sends.
    pub server: PacketKeys,
}

impl InitialKeys {
    /// Derives both directions' keys from the client's original destination
    /// connection id.
    pub fn derive(spec: &VersionSpec, dcid: &[u8]) -> Result<Self, KeyError> {
        let material = InitialMaterial::derive(spec, dcid)?;
        Ok(Self {
            client: PacketKeys::new(&material.client),
            server: PacketKeys::new(&material.server),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::hex;
    use crate::version::{QUIC_V1, QUIC_V2, version_spec};

    /// The client-chosen connection id of RFC 9001 and RFC 9369 appendix A.
    const DCID: [u8; 8] = [0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08];

    fn secrets(version: u32) -> InitialSecrets {
        let spec = version_spec(version).expect("known version");
        InitialSecrets::derive(spec, &DCID).expect("fixed lengths")
    }

    fn material(version: u32, client: bool) -> KeyMaterial {
        let spec = version_spec(version).expect("known version");
        let s = secrets(version);
        let secret = if client { s.client } else { s.server };
        KeyMaterial::from_secret(spec, &secret).expect("fixed lengths")
    }

    #[test]
    fn v1_initial_secret_matches_rfc() {
        let expected = hex("7db5df06e7a69e432496adedb00851923595221596ae2ae9fb8115c1e9ed0a44");
        assert_eq!(secrets(QUIC_V1).initial.to_vec(), expected);
    }

    #[test]
    fn v1_client_secret_matches_rfc() {
        let expected = hex("c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea");
        assert_eq!(secrets(QUIC_V1).client.to_vec(), expected);
    }

    #[test]
    fn v1_server_secret_matches_rfc() {
        let expected = hex("3c199828fd139efd216c155ad844cc81fb82fa8d7446fa7d78be803acdda951b");
        assert_eq!(secrets(QUIC_V1).server.to_vec(), expected);
    }

    #[test]
    fn v1_client_keys_match_rfc() {
        let m = material(QUIC_V1, true);
        assert_eq!(m.key.to_vec(), hex("1f369613dd76d5467730efcbe3b1a22d"));
        assert_eq!(m.iv.to_vec(), hex("fa044b2f42a3fd3b46fb255c"));
        assert_eq!(m.hp.to_vec(), hex("9f50449e04a0e810283a1e9933adedd2"));
    }

    #[test]
    fn v1_server_keys_match_rfc() {
        let m = material(QUIC_V1, false);
        assert_eq!(m.key.to_vec(), hex("cf3a5331653c364c88f0f379b6067e37"));
        assert_eq!(m.iv.to_vec(), hex("0ac1493ca1905853b0bba03e"));
        assert_eq!(m.hp.to_vec(), hex("c206b8d9b9f0f37644430b490eeaa314"));
    }

    #[test]
    fn v2_initial_secret_matches_rfc() {
        let expected = hex("2062e8b3cd8d52092614b8071d0aa1fb7c2e3ac193f78b280e72d8f5751f6aba");
        assert_eq!(secrets(QUIC_V2).initial.to_vec(), expected);
    }

    #[test]
    fn v2_client_secret_matches_rfc() {
        let expected = hex("14ec9d6eb9fd7af83bf5a668bc17a7e283766aade7ecd0891f70f9ff7f4bf47b");
        assert_eq!(secrets(QUIC_V2).client.to_vec(), expected);
    }

    #[test]
    fn v2_server_secret_matches_rfc() {
        let expected = hex("0263db1782731bf4588e7e4d93b7463907cb8cd8200b5da55a8bd488eafc37c1");
        assert_eq!(secrets(QUIC_V2).server.to_vec(), expected);
    }

    #[test]
    fn v2_client_keys_match_rfc() {
        let m = material(QUIC_V2, true);
        assert_eq!(m.key.to_vec(), hex("8b1a0bc121284290a29e0971b5cd045d"));
        assert_eq!(m.iv.to_vec(), hex("91f73e2351d8fa91660e909f"));
        assert_eq!(m.hp.to_vec(), hex("45b95e15235d6f45a6b19cbcb0294ba9"));
    }

    #[test]
    fn v2_server_keys_match_rfc() {
        let m = material(QUIC_V2, false);
        assert_eq!(m.key.to_vec(), hex("82db637861d55e1d011f19ea71d5d2a7"));
        assert_eq!(m.iv.to_vec(), hex("dd13c276499c0249d3310652"));
        assert_eq!(m.hp.to_vec(), hex("edf6d05c83121201b436e16877593c3a"));
    }

    #[test]
    fn nonce_xors_packet_number() {
        let keys = PacketKeys::new(&material(QUIC_V1, true));
        assert_eq!(keys.nonce(2).to_vec(), hex("fa044b2f42a3fd3b46fb255e"));
    }

    #[test]
    fn material_matches_rfc_server_key() {
        let spec = version_spec(QUIC_V1).expect("known version");
        let material = InitialMaterial::derive(spec, &DCID).expect("fixed lengths");
        assert_eq!(
            material.server.key.to_vec(),
            hex("cf3a5331653c364c88f0f379b6067e37")
        );
    }

    #[test]
    fn empty_dcid_still_derives() {
        let spec = version_spec(QUIC_V1).expect("known version");
        assert!(InitialKeys::derive(spec, &[]).is_ok());
    }
}
