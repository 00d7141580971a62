//! Passive decryption of QUIC Initial packets.
//!
//! QUIC protects even its first packets, but the keys of Initial packets
//! derive from public values: a per-version salt and the destination
//! connection id the client picked (RFC 9001 section 5.2, RFC 9369 for
//! QUIC v2). An observer of the client's first Initial can therefore open
//! both directions' Initial packets and read the TLS ClientHello and
//! ServerHello they carry in CRYPTO frames.
//!
//! [`QuicTracker`] does this for a whole capture: feed it every UDP
//! datagram and it reports, per connection, complete handshake messages,
//! Version Negotiation, Retry, CONNECTION_CLOSE and malformed packets as
//! [`QuicEvent`]s. The layers below it are public too:
//!
//! - [`header`] parses long headers and splits coalesced packets;
//! - [`keys`] derives Initial secrets and keys;
//! - [`protection`] removes header and packet protection (and applies it,
//!   for building test packets), and checks Retry integrity tags;
//! - [`frame`] parses the frames an Initial packet may carry;
//! - [`version`] lists the versions understood: QUIC v1, v2 and IETF drafts 23 to 32.
//!
//! Parsers are pure functions over byte slices that return typed errors
//! instead of panicking (the integration tests feed them random and
//! mutated datagrams). Packets that fail to decrypt are counted, not
//! reported, because a datagram that merely looks like QUIC, or one whose
//! connection's first client Initial was not captured, cannot be opened.
//!
//! NOTE: connections are keyed by their UDP four-tuple, so a connection
//! that migrates to new addresses is not followed there, and 0-RTT or
//! Handshake packets captured before the connection's first Initial are
//! not counted. Neither carries Initial CRYPTO data.
#![forbid(unsafe_code)]

mod connection;
mod crypto_stream;
pub mod event;
pub mod frame;
pub mod header;
pub mod keys;
pub mod limits;
pub mod protection;
#[cfg(test)]
mod testkit;
mod tracker;
pub mod version;
mod wire;

pub use crypto_stream::{FRAGMENT_COST, StreamError};
pub use event::{QuicConnectionId, QuicEvent, QuicEventKind};
pub use limits::{QuicLimits, QuicStats};
pub use tracker::QuicTracker;
pub use version::{QUIC_V1, QUIC_V2, VersionName};
pub use wire::{VARINT_MAX, encode_varint};
