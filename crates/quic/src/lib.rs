//! Passive decryption of QUIC Initial packets.
//!
//! QUIC protects even its first packets, but the keys of Initial packets
//! derive from public values: a per-version salt and the destination
//! connection id the client picked (RFC 9001 section 5.2, RFC 9369 for
//! QUIC v2). An observer of the client's first Initial can therefore open
//! both directions' Initial packets.
//!
//! - [`header`] parses long headers and splits coalesced packets;
//! - [`keys`] derives Initial secrets and keys;
//! - [`protection`] removes header and packet protection (and applies it,
//!   for building test packets), and checks Retry integrity tags;
//! - [`frame`] parses the frames an Initial packet may carry;
//! - [`version`] lists the versions understood: QUIC v1, v2 and IETF drafts 23 to 32.
#![forbid(unsafe_code)]

pub mod frame;
pub mod header;
pub mod keys;
pub mod protection;
#[cfg(test)]
mod testkit;
pub mod version;
mod wire;

pub use version::{QUIC_V1, QUIC_V2, VersionName};
pub use wire::{VARINT_MAX, encode_varint};
