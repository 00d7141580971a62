//! TLS and SSL 2.0 as seen by a passive observer.
//!
//! Two layers: [`stream`] turns the reassembled bytes of one TCP connection
//! into records and whole handshake messages (tracking ChangeCipherSpec per
//! direction, so ciphertext is never parsed), and the message modules
//! ([`handshake`], [`sslv2`], [`certificate`]) parse those messages into
//! typed values. [`registry`] names every protocol number and
//! [`fingerprint`] computes JA3, JA3S and JA4.
#![forbid(unsafe_code)]

pub mod certificate;
pub mod fingerprint;
pub mod handshake;
pub mod record;
pub mod registry;
pub mod sslv2;
pub mod start;
pub mod stream;

pub use certificate::{CertificateInfo, certificate_covers, summarize_certificate};
pub use fingerprint::{Ja3, Ja4Transport, ja3, ja3s, ja4, ja4_r};
pub use handshake::{
    ClientHello, DowngradeSentinel, Extension, HandshakeError, ServerHello, parse_certificate_list,
    parse_certificate_list_tls13, parse_client_hello, parse_server_hello,
};
pub use record::Malformed;
pub use registry::{
    AlertDescription, AlertLevel, CipherSuite, ContentType, ExtensionType, HandshakeType,
    NamedGroup, ProtocolVersion, SignatureScheme, Sslv2Cipher, WeakClasses,
};
pub use sslv2::{Sslv2Error, Sslv2Message, client_hello_from_sslv2, parse_sslv2_message};
pub use start::Preamble;
pub use stream::{
    ConnectionDecoder, DecoderLimits, DecoderState, SideStats, TlsEvent, TlsEventKind,
};
