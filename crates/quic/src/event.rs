//! Events that the tracker reports about each QUIC connection.

use std::fmt;
use std::net::SocketAddr;

/// A number that identifies one QUIC connection for the life of a tracker.
/// Numbers are given out in the order connections are first seen, from 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct QuicConnectionId(pub u64);

impl fmt::Display for QuicConnectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "quic{}", self.0)
    }
}

/// Something seen on one QUIC connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuicEvent {
    /// The connection.
    pub connection: QuicConnectionId,
    /// The client's address: the sender of the first Initial packet.
    pub client: SocketAddr,
    /// The server's address.
    pub server: SocketAddr,
    /// The version field of the packet that produced the event; for
    /// [`QuicEventKind::VersionNegotiation`] and [`QuicEventKind::End`], the
    /// version the client used last.
    pub version: u32,
    /// The capture's packet number of the datagram that completed the event
    /// (for `End`, the last datagram seen on the connection).
    pub packet: u64,
    /// That datagram's capture time, in nanoseconds since the Unix epoch.
    pub timestamp_ns: i64,
    /// What happened.
    pub kind: QuicEventKind,
}

/// The kind of an event on a QUIC connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QuicEventKind {
    /// A complete TLS handshake message from CRYPTO frames at the Initial
    /// level (ClientHello from the client, ServerHello from the server);
    /// body excludes the 4-byte handshake header.
    Handshake {
        /// True when the client sent it.
        from_client: bool,
        /// The handshake message type (1 ClientHello, 2 ServerHello).
        msg_type: u8,
        /// The message body.
        body: Vec<u8>,
    },
    /// The server replied with the list of versions it supports (RFC 9000 section 6).
    VersionNegotiation {
        /// The versions listed, in packet order.
        offered: Vec<u32>,
    },
    /// The server asked the client to repeat its Initial with a token; the
    /// client's next Initial uses keys derived from the new connection id.
    Retry,
    /// A CONNECTION_CLOSE frame in an Initial packet.
    ConnectionClose {
        /// True when the client sent it.
        from_client: bool,
        /// The error code (RFC 9000 section 20; 0x01xx are TLS alerts).
        error_code: u64,
        /// The frame type that caused the error; `None` for an
        /// application close (frame type 0x1d).
        frame_type: Option<u64>,
        /// The reason phrase, with invalid UTF-8 replaced.
        reason: String,
    },
    /// The connection went quiet or the capture ended.
    End,
    /// A decrypted Initial packet, a Retry or a handshake message broke the
    /// protocol. The reason names the packet and the rule.
    Malformed {
        /// Description of the failure, the packet it was found in, and its effect on the analysis.
        reason: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_id_displays_with_prefix() {
        assert_eq!(QuicConnectionId(7).to_string(), "quic7");
    }
}
