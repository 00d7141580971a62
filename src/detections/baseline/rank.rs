//! Orders of protocol versions and cipher suites, for "below the
//! baseline": a version by its protocol rank, a suite by its class.

use wiretrust_tls::registry::{CipherSuite, ProtocolVersion};

/// Version codes whose names the profiles store: SSL 2.0 to TLS 1.3 and
/// DTLS 1.0 to 1.3.
const VERSION_CODES: [u16; 9] = [
    0x0002, 0x0300, 0x0301, 0x0302, 0x0303, 0x0304, 0xfeff, 0xfefd, 0xfefc,
];

/// Returns the rank of a version named as [`ProtocolVersion::name`] writes
/// it (`TLS 1.2`), or `None` for a name it does not write.
pub(crate) fn version_rank(name: &str) -> Option<u16> {
    VERSION_CODES
        .into_iter()
        .map(ProtocolVersion)
        .find(|version| version.name() == name)
        .map(ProtocolVersion::rank)
}

/// Strength class of a cipher suite, weakest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum SuiteClass {
    /// In a weak class: NULL, EXPORT, anonymous, RC4, DES, 3DES, RC2,
    /// IDEA or an MD5 MAC.
    Weak,
    /// Neither weak nor both AEAD and forward secret, e.g. RSA key
    /// exchange or CBC mode.
    Legacy,
    /// AEAD with forward secrecy, and every encrypting TLS 1.3 suite.
    Strong,
}

impl SuiteClass {
    /// Returns the class of a suite by IANA name, or `None` for a name the
    /// registry does not list.
    pub(crate) fn of(name: &str) -> Option<SuiteClass> {
        let suite = CipherSuite::from_name(name)?;
        let class = if suite.is_weak() {
            SuiteClass::Weak
        } else if suite.is_strong() {
            SuiteClass::Strong
        } else {
            SuiteClass::Legacy
        };
        Some(class)
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            SuiteClass::Weak => "weak",
            SuiteClass::Legacy => "legacy (no AEAD or no forward secrecy)",
            SuiteClass::Strong => "AEAD with forward secrecy",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_rank_in_protocol_order() {
        let tls13 = version_rank("TLS 1.3").unwrap();
        let tls12 = version_rank("TLS 1.2").unwrap();
        let tls10 = version_rank("TLS 1.0").unwrap();
        assert!(tls13 > tls12);
        assert!(tls12 > tls10);
        assert_eq!(version_rank("TLS 9"), None);
    }

    #[test]
    fn suite_classes() {
        let strong = SuiteClass::of("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
        assert_eq!(strong, Some(SuiteClass::Strong));
        let legacy = SuiteClass::of("TLS_RSA_WITH_AES_128_CBC_SHA");
        assert_eq!(legacy, Some(SuiteClass::Legacy));
        let weak = SuiteClass::of("TLS_RSA_WITH_RC4_128_SHA");
        assert_eq!(weak, Some(SuiteClass::Weak));
        assert_eq!(
            SuiteClass::of("TLS_AES_128_GCM_SHA256"),
            Some(SuiteClass::Strong)
        );
        assert_eq!(SuiteClass::of("no such suite"), None);
    }
}
