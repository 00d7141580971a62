//! Input types: one TCP segment, its place in the capture, and the roles of
//! the two endpoints.

use std::hash::{Hash, Hasher};
use std::net::SocketAddr;

/// One TCP segment as decoded by the caller; the payload is borrowed, never copied
/// on the in-order path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment<'a> {
    /// Sender's address and port.
    pub src: SocketAddr,
    /// Receiver's address and port.
    pub dst: SocketAddr,
    /// Sequence number of the first payload byte (of the SYN itself when SYN is set).
    pub seq: u32,
    /// Acknowledgement number; meaningful only when [`Segment::ACK`] is set.
    pub ack: u32,
    /// TCP flag bits as on the wire (RFC 9293 §3.1), see the `Segment::*` constants.
    pub flags: u8,
    /// TCP payload as captured (possibly shorter than sent if the capture truncated it).
    pub payload: &'a [u8],
}

impl Segment<'_> {
    /// FIN: the sender has no more data.
    pub const FIN: u8 = 0x01;
    /// SYN: synchronise sequence numbers (opens a connection).
    pub const SYN: u8 = 0x02;
    /// RST: abort the connection.
    pub const RST: u8 = 0x04;
    /// PSH: push buffered data to the application.
    pub const PSH: u8 = 0x08;
    /// ACK: the acknowledgement field is valid.
    pub const ACK: u8 = 0x10;

    /// Returns whether every bit of `flag` is set.
    pub fn has(&self, flag: u8) -> bool {
        self.flags & flag == flag
    }
}

/// Position of a segment in the capture, carried through to the handler so that
/// findings can name the packet they came from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SegmentMeta {
    /// Packet number in the capture (the caller decides whether it counts from 0 or 1).
    pub packet: u64,
    /// Capture timestamp in nanoseconds since the Unix epoch.
    pub timestamp_ns: i64,
}

/// One direction of a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    /// The connection initiator (sender of the SYN), or the best guess for it.
    Client,
    /// The side that accepted the connection.
    Server,
}

impl Side {
    /// Returns the opposite direction.
    pub fn other(self) -> Side {
        match self {
            Side::Client => Side::Server,
            Side::Server => Side::Client,
        }
    }
}

/// A connection's two endpoints, oriented client first.
///
/// For connections whose handshake was captured the orientation is certain. For
/// a flow first seen mid-stream it is a guess: the endpoint with the higher port
/// (ephemeral ports sit high) is taken as the client, or the first sender when
/// both ports are equal. Callers that learn otherwise from the payload can swap
/// with [`FlowKey::reversed`] and [`Side::other`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FlowKey {
    /// The initiator's address and port.
    pub client: SocketAddr,
    /// The acceptor's address and port.
    pub server: SocketAddr,
}

impl FlowKey {
    /// Returns the same connection with the roles swapped.
    pub fn reversed(&self) -> FlowKey {
        FlowKey {
            client: self.server,
            server: self.client,
        }
    }

    /// Returns the side that sent a segment from `src` to `dst` on this connection.
    ///
    /// A segment that does not travel client to server is taken as server to
    /// client, because the table only passes segments that belong to the flow.
    pub fn side_of(&self, src: SocketAddr, dst: SocketAddr) -> Side {
        if src == self.client && dst == self.server {
            Side::Client
        } else {
            Side::Server
        }
    }

    /// Returns the orientation of the flow that `seg` opens (see the type's documentation).
    pub(crate) fn orient(seg: &Segment<'_>) -> FlowKey {
        let forward = FlowKey {
            client: seg.src,
            server: seg.dst,
        };
        if seg.has(Segment::SYN) {
            // A bare SYN comes from the initiator; a SYN-ACK goes to it.
            return if seg.has(Segment::ACK) {
                forward.reversed()
            } else {
                forward
            };
        }
        if seg.src.port() < seg.dst.port() {
            return forward.reversed();
        }
        forward
    }
}

/// Direction-free key for the flow map: both directions of a connection hash
/// to the same entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CanonKey {
    low: SocketAddr,
    high: SocketAddr,
}

impl Hash for CanonKey {
    /// Feeds each address to the hasher as one or two integers. The derived
    /// hash feeds every enum tag, length prefix and field separately, and
    /// the flow table hashes a key for every segment.
    fn hash<S: Hasher>(&self, state: &mut S) {
        for addr in [self.low, self.high] {
            match addr {
                SocketAddr::V4(v4) => {
                    state.write_u64(u64::from(v4.ip().to_bits()) << 16 | u64::from(v4.port()));
                }
                SocketAddr::V6(v6) => {
                    state.write_u128(v6.ip().to_bits());
                    state.write_u16(v6.port());
                }
            }
        }
    }
}

impl CanonKey {
    /// Builds the key for a segment travelling either way between `a` and `b`.
    pub(crate) fn new(a: SocketAddr, b: SocketAddr) -> CanonKey {
        if a <= b {
            CanonKey { low: a, high: b }
        } else {
            CanonKey { low: b, high: a }
        }
    }
}

impl From<&FlowKey> for CanonKey {
    fn from(key: &FlowKey) -> CanonKey {
        CanonKey::new(key.client, key.server)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(text: &str) -> SocketAddr {
        text.parse()
            .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)))
    }

    fn seg(src: &str, dst: &str, flags: u8) -> Segment<'static> {
        Segment {
            src: addr(src),
            dst: addr(dst),
            seq: 0,
            ack: 0,
            flags,
            payload: b"",
        }
    }

    #[test]
    fn orient_syn_sender_is_client() {
        let key = FlowKey::orient(&seg("10.0.0.1:40000", "10.0.0.2:443", Segment::SYN));
        assert_eq!(key.client, addr("10.0.0.1:40000"));
    }

    #[test]
    fn orient_synack_receiver_is_client() {
        let flags = Segment::SYN | Segment::ACK;
        let key = FlowKey::orient(&seg("10.0.0.2:443", "10.0.0.1:40000", flags));
        assert_eq!(key.client, addr("10.0.0.1:40000"));
    }

    #[test]
    fn orient_midstream_higher_port_client() {
        let key = FlowKey::orient(&seg("10.0.0.2:443", "10.0.0.1:40000", Segment::ACK));
        assert_eq!(key.client, addr("10.0.0.1:40000"));
    }

    #[test]
    fn orient_midstream_equal_ports_sender() {
        let key = FlowKey::orient(&seg("10.0.0.2:500", "10.0.0.1:500", Segment::ACK));
        assert_eq!(key.client, addr("10.0.0.2:500"));
    }

    #[test]
    fn side_other_swaps() {
        assert_eq!(Side::Client.other(), Side::Server);
    }

    #[test]
    fn side_of_reverse_direction() {
        let key = FlowKey {
            client: addr("10.0.0.1:40000"),
            server: addr("10.0.0.2:443"),
        };
        assert_eq!(key.side_of(key.server, key.client), Side::Server);
    }

    #[test]
    fn canon_key_hash_ignores_direction() {
        use std::hash::BuildHasher;

        let (a, b) = (addr("10.0.0.1:40000"), addr("[2001:db8::1]:443"));
        let state = std::collections::hash_map::RandomState::new();
        assert_eq!(
            state.hash_one(CanonKey::new(a, b)),
            state.hash_one(CanonKey::new(b, a))
        );
    }

    #[test]
    fn canon_key_ignores_direction() {
        let (a, b) = (addr("10.0.0.1:40000"), addr("[::1]:443"));
        assert_eq!(CanonKey::new(a, b), CanonKey::new(b, a));
    }
}
