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
