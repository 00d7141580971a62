//! Names and meanings of the error codes Apple's network stack logs.
//!
//! The numbers and names come from Apple's SDK headers. `SecureTransport.h`
//! defines `errSSL*` (-9800 to -9851 in the macOS 10.x SDKs, -9852 to
//! -9890 in later ones). `NSURLError.h` defines NSURLErrorDomain, whose
//! codes `kCFErrorDomainCFNetwork` shares. `CFStream.h` and
//! `CFSocketStream.h` define the CFStream error domains.
//! The alert strings are BoringSSL's `SSL_alert_desc_string_long` as
//! Apple's libboringssl builds it (iOS 26), which adds `missing
//! extension`, `no application protocol` and `ECH required`. The meanings
//! are summaries written for this crate.
//!
//! [`CodeClass`] marks the codes that a downgrade, tampering or a
//! substituted certificate produces. Codes that may or may not mean an
//! attack (a generic handshake failure, a connection reset) have no class.

/// The kind of attack an error code is evidence of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CodeClass {
    /// The peer or a middlebox refused or forced a lower protocol version
    /// or weaker parameters.
    Downgrade,
    /// A record failed its integrity check: data was changed in transit.
    Tamper,
    /// The certificate was rejected: untrusted, wrong name, expired,
    /// revoked or malformed, as a substituted certificate would be.
    Certificate,
}

/// One named error code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CodeInfo {
    pub code: i32,
    /// The SDK constant, e.g. `errSSLPeerProtocolVersion`.
    pub name: &'static str,
    pub meaning: &'static str,
    pub class: Option<CodeClass>,
}

use CodeClass::{Certificate, Downgrade, Tamper};

const fn info(
    code: i32,
    name: &'static str,
    meaning: &'static str,
    class: Option<CodeClass>,
) -> CodeInfo {
    CodeInfo {
        code,
        name,
        meaning,
        class,
    }
}

/// SecureTransport OSStatus values (`errSSL*`), sorted by code, descending.
#[rustfmt::skip]
static OS_STATUS: &[CodeInfo] = &[
    info(-9800, "errSSLProtocol", "generic SSL/TLS protocol error", None),
    info(-9801, "errSSLNegotiation", "no cipher suite both sides support", None),
    info(-9802, "errSSLFatalAlert", "a fatal alert ended the connection; ATS trust failures report it too", None),
    info(-9803, "errSSLWouldBlock", "the operation would block (not an error)", None),
    info(-9804, "errSSLSessionNotFound", "the session to resume is unknown", None),
    info(-9805, "errSSLClosedGraceful", "the connection closed with close_notify", None),
    info(-9806, "errSSLClosedAbort", "the connection closed because of an error", None),
    info(-9807, "errSSLXCertChainInvalid", "the certificate chain is invalid", Some(Certificate)),
    info(-9808, "errSSLBadCert", "a certificate is malformed", Some(Certificate)),
    info(-9809, "errSSLCrypto", "a cryptographic operation failed", None),
    info(-9810, "errSSLInternal", "internal error in SecureTransport", None),
    info(-9811, "errSSLModuleAttach", "a module failed to attach", None),
    info(-9812, "errSSLUnknownRootCert", "the chain is valid but its root is not trusted", Some(Certificate)),
    info(-9813, "errSSLNoRootCert", "no trusted root verifies the chain", Some(Certificate)),
    info(-9814, "errSSLCertExpired", "a certificate in the chain has expired", Some(Certificate)),
    info(-9815, "errSSLCertNotYetValid", "a certificate in the chain is not valid yet", Some(Certificate)),
    info(-9816, "errSSLClosedNoNotify", "the peer closed the connection without close_notify", None),
    info(-9817, "errSSLBufferOverflow", "the buffer given was too small", None),
    info(-9818, "errSSLBadCipherSuite", "an invalid cipher suite was configured", None),
    info(-9819, "errSSLPeerUnexpectedMsg", "the peer sent an unexpected_message alert", None),
    info(-9820, "errSSLPeerBadRecordMac", "the peer sent a bad_record_mac alert", Some(Tamper)),
    info(-9821, "errSSLPeerDecryptionFail", "the peer sent a decryption_failed alert", Some(Tamper)),
    info(-9822, "errSSLPeerRecordOverflow", "the peer sent a record_overflow alert", Some(Tamper)),
    info(-9823, "errSSLPeerDecompressFail", "the peer sent a decompression_failure alert", None),
    info(-9824, "errSSLPeerHandshakeFail", "the peer sent a handshake_failure alert", None),
    info(-9825, "errSSLPeerBadCert", "the peer sent a bad_certificate alert", Some(Certificate)),
    info(-9826, "errSSLPeerUnsupportedCert", "the peer sent an unsupported_certificate alert", Some(Certificate)),
    info(-9827, "errSSLPeerCertRevoked", "the peer sent a certificate_revoked alert", Some(Certificate)),
    info(-9828, "errSSLPeerCertExpired", "the peer sent a certificate_expired alert", Some(Certificate)),
    info(-9829, "errSSLPeerCertUnknown", "the peer sent a certificate_unknown alert", Some(Certificate)),
    info(-9830, "errSSLIllegalParam", "a parameter was invalid", None),
    info(-9831, "errSSLPeerUnknownCA", "the peer sent an unknown_ca alert", Some(Certificate)),
    info(-9832, "errSSLPeerAccessDenied", "the peer sent an access_denied alert", None),
    info(-9833, "errSSLPeerDecodeError", "the peer sent a decode_error alert", None),
    info(-9834, "errSSLPeerDecryptError", "the peer sent a decrypt_error alert", Some(Tamper)),
    info(-9835, "errSSLPeerExportRestriction", "the peer sent an export_restriction alert", None),
    info(-9836, "errSSLPeerProtocolVersion", "the peer sent a protocol_version alert", Some(Downgrade)),
    info(-9837, "errSSLPeerInsufficientSecurity", "the peer sent an insufficient_security alert", Some(Downgrade)),
    info(-9838, "errSSLPeerInternalError", "the peer sent an internal_error alert", None),
    info(-9839, "errSSLPeerUserCancelled", "the peer sent a user_canceled alert", None),
    info(-9840, "errSSLPeerNoRenegotiation", "the peer sent a no_renegotiation alert", None),
    info(-9841, "errSSLPeerAuthCompleted", "the peer certificate is valid or was not checked (not fatal)", None),
    info(-9842, "errSSLClientCertRequested", "the server asked for a client certificate (not fatal)", None),
    info(-9843, "errSSLHostNameMismatch", "the certificate does not match the host name", Some(Certificate)),
    info(-9844, "errSSLConnectionRefused", "the peer dropped the connection before answering", None),
    info(-9845, "errSSLDecryptionFail", "a received record failed to decrypt", Some(Tamper)),
    info(-9846, "errSSLBadRecordMac", "a received record failed its MAC check", Some(Tamper)),
    info(-9847, "errSSLRecordOverflow", "a received record was longer than allowed", Some(Tamper)),
    info(-9848, "errSSLBadConfiguration", "the TLS configuration is invalid", None),
    info(-9849, "errSSLUnexpectedRecord", "an unexpected record arrived (DTLS)", None),
    info(-9850, "errSSLWeakPeerEphemeralDHKey", "the server's ephemeral Diffie-Hellman key is too weak", Some(Downgrade)),
    info(-9851, "errSSLClientHelloReceived", "a ClientHello with SNI arrived (not fatal)", None),
    info(-9852, "errSSLTransportReset", "the transport connection was reset", None),
    info(-9853, "errSSLNetworkTimeout", "the network timed out", None),
    info(-9854, "errSSLConfigurationFailed", "applying the TLS configuration failed", None),
    info(-9855, "errSSLUnsupportedExtension", "an unsupported extension was received", None),
    info(-9856, "errSSLUnexpectedMessage", "an unexpected handshake message was received", None),
    info(-9857, "errSSLDecompressFail", "decompression failed", None),
    info(-9858, "errSSLHandshakeFail", "the handshake failed", None),
    info(-9859, "errSSLDecodeError", "a message could not be decoded", None),
    info(-9860, "errSSLInappropriateFallback", "an inappropriate_fallback alert: a fallback retry was refused (RFC 7507)", Some(Downgrade)),
    info(-9861, "errSSLMissingExtension", "a required extension is missing", None),
    info(-9862, "errSSLBadCertificateStatusResponse", "the OCSP response is invalid", Some(Certificate)),
    info(-9863, "errSSLCertificateRequired", "a certificate was required but not sent", None),
    info(-9864, "errSSLUnknownPSKIdentity", "the pre-shared key identity is unknown", None),
    info(-9865, "errSSLUnrecognizedName", "the server name is not recognised", None),
    info(-9880, "errSSLATSViolation", "the connection breaks an App Transport Security rule", None),
    info(-9881, "errSSLATSMinimumVersionViolation", "the TLS version is below the ATS minimum", Some(Downgrade)),
    info(-9882, "errSSLATSCiphersuiteViolation", "the cipher suite is not allowed by ATS", Some(Downgrade)),
    info(-9883, "errSSLATSMinimumKeySizeViolation", "a key is shorter than ATS allows", Some(Downgrade)),
    info(-9884, "errSSLATSLeafCertificateHashAlgorithmViolation", "the leaf certificate's hash algorithm is not allowed by ATS", Some(Certificate)),
    info(-9885, "errSSLATSCertificateHashAlgorithmViolation", "a chain certificate's hash algorithm is not allowed by ATS", Some(Certificate)),
    info(-9886, "errSSLATSCertificateTrustViolation", "the certificate chain is not trusted under ATS", Some(Certificate)),
    info(-9890, "errSSLEarlyDataRejected", "the server rejected 0-RTT early data", None),
];

/// NSURLErrorDomain codes, sorted by code, descending.
#[rustfmt::skip]
static URL_ERRORS: &[CodeInfo] = &[
    info(-1, "NSURLErrorUnknown", "unknown error", None),
    info(-999, "NSURLErrorCancelled", "the load was cancelled, also when app code rejects a server trust challenge", None),
    info(-1000, "NSURLErrorBadURL", "the URL is malformed", None),
    info(-1001, "NSURLErrorTimedOut", "the request timed out", None),
    info(-1002, "NSURLErrorUnsupportedURL", "the URL scheme is not supported", None),
    info(-1003, "NSURLErrorCannotFindHost", "the host name did not resolve", None),
    info(-1004, "NSURLErrorCannotConnectToHost", "connecting to the host failed", None),
    info(-1005, "NSURLErrorNetworkConnectionLost", "the connection dropped during the load", None),
    info(-1006, "NSURLErrorDNSLookupFailed", "the DNS lookup failed", None),
    info(-1007, "NSURLErrorHTTPTooManyRedirects", "too many HTTP redirects", None),
    info(-1008, "NSURLErrorResourceUnavailable", "the resource is unavailable", None),
    info(-1009, "NSURLErrorNotConnectedToInternet", "the device is offline", None),
    info(-1010, "NSURLErrorRedirectToNonExistentLocation", "a redirect points nowhere", None),
    info(-1011, "NSURLErrorBadServerResponse", "the server's response is invalid", None),
    info(-1012, "NSURLErrorUserCancelledAuthentication", "the user cancelled authentication", None),
    info(-1013, "NSURLErrorUserAuthenticationRequired", "authentication is required", None),
    info(-1014, "NSURLErrorZeroByteResource", "the resource is empty", None),
    info(-1015, "NSURLErrorCannotDecodeRawData", "the response body could not be decoded", None),
    info(-1016, "NSURLErrorCannotDecodeContentData", "the content encoding could not be decoded", None),
    info(-1017, "NSURLErrorCannotParseResponse", "the response could not be parsed", None),
    info(-1018, "NSURLErrorInternationalRoamingOff", "roaming data is off", None),
    info(-1019, "NSURLErrorCallIsActive", "a phone call blocks the data connection", None),
    info(-1020, "NSURLErrorDataNotAllowed", "cellular data is not allowed", None),
    info(-1021, "NSURLErrorRequestBodyStreamExhausted", "the request body stream ended early", None),
    info(-1022, "NSURLErrorAppTransportSecurityRequiresSecureConnection", "ATS blocked a cleartext HTTP load", Some(Downgrade)),
    info(-1100, "NSURLErrorFileDoesNotExist", "the file does not exist", None),
    info(-1101, "NSURLErrorFileIsDirectory", "the file is a directory", None),
    info(-1102, "NSURLErrorNoPermissionsToReadFile", "no permission to read the file", None),
    info(-1103, "NSURLErrorDataLengthExceedsMaximum", "the data is longer than allowed", None),
    info(-1200, "NSURLErrorSecureConnectionFailed", "TLS failed; the CFStream pair beside it gives the cause", None),
    info(-1201, "NSURLErrorServerCertificateHasBadDate", "the server certificate is expired or not yet valid", Some(Certificate)),
    info(-1202, "NSURLErrorServerCertificateUntrusted", "the server certificate is not trusted", Some(Certificate)),
    info(-1203, "NSURLErrorServerCertificateHasUnknownRoot", "the server certificate's root is unknown", Some(Certificate)),
    info(-1204, "NSURLErrorServerCertificateNotYetValid", "the server certificate is not valid yet", Some(Certificate)),
    info(-1205, "NSURLErrorClientCertificateRejected", "the server rejected the client certificate", None),
    info(-1206, "NSURLErrorClientCertificateRequired", "the server requires a client certificate", None),
    info(-2000, "NSURLErrorCannotLoadFromNetwork", "the load needed the network but was limited to the cache", None),
    info(-3000, "NSURLErrorCannotCreateFile", "the download file could not be created", None),
    info(-3001, "NSURLErrorCannotOpenFile", "the download file could not be opened", None),
    info(-3002, "NSURLErrorCannotCloseFile", "the download file could not be closed", None),
    info(-3003, "NSURLErrorCannotWriteToFile", "the download file could not be written", None),
    info(-3004, "NSURLErrorCannotRemoveFile", "the download file could not be removed", None),
    info(-3005, "NSURLErrorCannotMoveFile", "the download file could not be moved", None),
    info(-3006, "NSURLErrorDownloadDecodingFailedMidStream", "decoding the download failed part way", Some(Tamper)),
    info(-3007, "NSURLErrorDownloadDecodingFailedToComplete", "decoding the download failed at its end", Some(Tamper)),
];

/// CFStream error domains: the first number of a `[3:-9836]` pair.
static STREAM_DOMAINS: &[(i32, &str)] = &[
    (-1, "kCFStreamErrorDomainCustom"),
    (1, "kCFStreamErrorDomainPOSIX"),
    (2, "kCFStreamErrorDomainMacOSStatus"),
    (3, "kCFStreamErrorDomainSSL"),
    (5, "kCFStreamErrorDomainSOCKS"),
];

/// BoringSSL's long alert descriptions and their wire numbers (RFC 8446
/// section 6 and the registry). The spelling is boringssl's own, mixing
/// spaces and one underscore (`unexpected_message`).
static ALERTS: &[(&str, u8)] = &[
    ("close notify", 0),
    ("unexpected_message", 10),
    ("bad record mac", 20),
    ("decryption failed", 21),
    ("record overflow", 22),
    ("decompression failure", 30),
    ("handshake failure", 40),
    ("no certificate", 41),
    ("bad certificate", 42),
    ("unsupported certificate", 43),
    ("certificate revoked", 44),
    ("certificate expired", 45),
    ("certificate unknown", 46),
    ("illegal parameter", 47),
    ("unknown CA", 48),
    ("access denied", 49),
    ("decode error", 50),
    ("decrypt error", 51),
    ("export restriction", 60),
    ("protocol version", 70),
    ("insufficient security", 71),
    ("internal error", 80),
    ("inappropriate fallback", 86),
    ("user canceled", 90),
    ("no renegotiation", 100),
    ("missing extension", 109),
    ("unsupported extension", 110),
    ("certificate unobtainable", 111),
    ("unrecognized name", 112),
    ("bad certificate status response", 113),
    ("bad certificate hash value", 114),
    ("unknown PSK identity", 115),
    ("certificate required", 116),
    ("no application protocol", 120),
    ("ECH required", 121),
];

/// Looks up a SecureTransport OSStatus (`errSSL*`, -9800 to -9890).
pub fn os_status(code: i32) -> Option<&'static CodeInfo> {
    OS_STATUS.iter().find(|info| info.code == code)
}

/// Looks up an `errSSL*` constant by name.
pub(crate) fn os_status_named(name: &str) -> Option<&'static CodeInfo> {
    OS_STATUS.iter().find(|info| info.name == name)
}

/// Looks up an NSURLErrorDomain (or `kCFErrorDomainCFNetwork`) code.
pub fn url_error(code: i32) -> Option<&'static CodeInfo> {
    URL_ERRORS.iter().find(|info| info.code == code)
}

/// Names a CFStream error domain, e.g. 3 as `kCFStreamErrorDomainSSL`.
pub fn stream_domain(domain: i32) -> Option<&'static str> {
    STREAM_DOMAINS
        .iter()
        .find(|&&(number, _)| number == domain)
        .map(|&(_, name)| name)
}

/// Looks up a CFStream error domain by its constant's name.
pub(crate) fn stream_domain_named(name: &str) -> Option<i32> {
    STREAM_DOMAINS
        .iter()
        .find(|&&(_, known)| known == name)
        .map(|&(number, _)| number)
}

/// Returns the wire number of a boringssl long alert description, matched
/// exactly (`bad record mac` gives 20).
pub fn alert_code(description: &str) -> Option<u8> {
    ALERTS
        .iter()
        .find(|&&(known, _)| known == description)
        .map(|&(_, code)| code)
}

/// Classifies a TLS alert number as evidence of an attack.
pub fn alert_class(code: u8) -> Option<CodeClass> {
    match code {
        // protocol_version, insufficient_security, inappropriate_fallback
        70 | 71 | 86 => Some(Downgrade),
        // bad_record_mac, decryption_failed, record_overflow, decrypt_error
        20 | 21 | 22 | 51 => Some(Tamper),
        // bad_certificate, unsupported_certificate, certificate_revoked,
        // certificate_expired, certificate_unknown, unknown_ca,
        // bad_certificate_status_response, bad_certificate_hash_value
        42..=46 | 48 | 113 | 114 => Some(Certificate),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    fn assert_table(table: &[CodeInfo], range: std::ops::RangeInclusive<i32>) {
        let mut codes = HashSet::new();
        let mut names = HashSet::new();
        for info in table {
            assert!(range.contains(&info.code), "{} out of range", info.code);
            assert!(codes.insert(info.code), "duplicate code {}", info.code);
            assert!(names.insert(info.name), "duplicate name {}", info.name);
            assert!(!info.meaning.is_empty(), "{} has no meaning", info.name);
        }
        let sorted = table.windows(2).all(|pair| pair[0].code > pair[1].code);
        assert!(sorted, "table not sorted by descending code");
    }

    #[test]
    fn os_status_table_shape() {
        assert_table(OS_STATUS, -9890..=-9800);
        for info in OS_STATUS {
            assert!(info.name.starts_with("errSSL"), "{}", info.name);
        }
    }

    #[test]
    fn os_status_contiguous_classic_range() {
        for code in -9865..=-9800 {
            assert!(os_status(code).is_some(), "{code} missing");
        }
    }

    #[test]
    fn url_error_table_shape() {
        assert_table(URL_ERRORS, -3007..=-1);
        for info in URL_ERRORS {
            assert!(info.name.starts_with("NSURLError"), "{}", info.name);
        }
    }

    #[test]
    fn os_status_spot_checks() {
        let cases = [
            (-9802, "errSSLFatalAlert", None),
            (-9813, "errSSLNoRootCert", Some(Certificate)),
            (-9820, "errSSLPeerBadRecordMac", Some(Tamper)),
            (-9836, "errSSLPeerProtocolVersion", Some(Downgrade)),
            (-9846, "errSSLBadRecordMac", Some(Tamper)),
            (-9860, "errSSLInappropriateFallback", Some(Downgrade)),
            (-9881, "errSSLATSMinimumVersionViolation", Some(Downgrade)),
            (
                -9886,
                "errSSLATSCertificateTrustViolation",
                Some(Certificate),
            ),
        ];
        for (code, name, class) in cases {
            let info = os_status(code).unwrap();
            assert_eq!(info.name, name);
            assert_eq!(info.class, class, "{name}");
        }
        assert_eq!(os_status(-9866), None);
        assert_eq!(os_status(9802), None);
    }

    #[test]
    fn os_status_by_name() {
        assert_eq!(os_status_named("errSSLClosedNoNotify").unwrap().code, -9816);
        assert_eq!(os_status_named("errSSLNope"), None);
    }

    #[test]
    fn url_error_spot_checks() {
        let cases = [
            (-1200, "NSURLErrorSecureConnectionFailed", None),
            (
                -1202,
                "NSURLErrorServerCertificateUntrusted",
                Some(Certificate),
            ),
            (
                -1203,
                "NSURLErrorServerCertificateHasUnknownRoot",
                Some(Certificate),
            ),
            (
                -1022,
                "NSURLErrorAppTransportSecurityRequiresSecureConnection",
                Some(Downgrade),
            ),
            (
                -3006,
                "NSURLErrorDownloadDecodingFailedMidStream",
                Some(Tamper),
            ),
            (-1001, "NSURLErrorTimedOut", None),
        ];
        for (code, name, class) in cases {
            let info = url_error(code).unwrap();
            assert_eq!(info.name, name);
            assert_eq!(info.class, class, "{name}");
        }
        assert_eq!(url_error(-1023), None);
    }

    #[test]
    fn stream_domains() {
        assert_eq!(stream_domain(3), Some("kCFStreamErrorDomainSSL"));
        assert_eq!(stream_domain(1), Some("kCFStreamErrorDomainPOSIX"));
        assert_eq!(stream_domain(-1), Some("kCFStreamErrorDomainCustom"));
        assert_eq!(stream_domain(4), None);
        for &(number, name) in STREAM_DOMAINS {
            assert_eq!(stream_domain_named(name), Some(number));
        }
    }

    #[test]
    fn alert_table_unique() {
        let mut numbers = HashSet::new();
        let mut names = HashSet::new();
        for &(name, number) in ALERTS {
            assert!(numbers.insert(number), "duplicate number {number}");
            assert!(names.insert(name), "duplicate name {name}");
        }
    }

    #[test]
    fn alert_codes_exact() {
        assert_eq!(alert_code("bad record mac"), Some(20));
        assert_eq!(alert_code("unexpected_message"), Some(10));
        assert_eq!(alert_code("unexpected message"), None);
        assert_eq!(alert_code("protocol version"), Some(70));
        assert_eq!(alert_code("unknown CA"), Some(48));
        assert_eq!(alert_code("unknown ca"), None);
        assert_eq!(alert_code("user canceled"), Some(90));
        assert_eq!(alert_code("ECH required"), Some(121));
    }

    #[test]
    fn alert_classes() {
        for code in [70, 71, 86] {
            assert_eq!(alert_class(code), Some(Downgrade), "{code}");
        }
        for code in [20, 21, 22, 51] {
            assert_eq!(alert_class(code), Some(Tamper), "{code}");
        }
        for code in [42, 43, 44, 45, 46, 48, 113, 114] {
            assert_eq!(alert_class(code), Some(Certificate), "{code}");
        }
        for code in [0, 10, 40, 41, 47, 50, 80, 90, 112, 116] {
            assert_eq!(alert_class(code), None, "{code}");
        }
    }

    /// The `errSSLPeer*` codes name the alert they report; their classes
    /// must agree with the alert's.
    #[test]
    fn peer_codes_agree_with_alerts() {
        let pairs = [
            (-9820, 20),
            (-9821, 21),
            (-9822, 22),
            (-9825, 42),
            (-9829, 46),
            (-9831, 48),
            (-9834, 51),
            (-9836, 70),
            (-9837, 71),
            (-9838, 80),
            (-9860, 86),
        ];
        for (status, alert) in pairs {
            assert_eq!(
                os_status(status).unwrap().class,
                alert_class(alert),
                "{status}"
            );
        }
    }
}
