//! Following the QUIC connections of a capture.
//!
//! Datagrams are recognised as QUIC by content, never by port. A long
//! header (form and fixed bits set) with a version listed in
//! [`crate::version`] opens a connection. So does a reserved version
//! (0x?a?a?a?a), which clients send to force Version Negotiation.
//! Later datagrams on the same UDP four-tuple belong to that connection
//! while their connection ids match it; a client Initial with new ids starts a new one.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;

use crate::connection::{Connection, Context, Datagram};
use crate::crypto_stream::Budget;
use crate::event::{QuicConnectionId, QuicEvent, QuicEventKind};
use crate::header::{HeaderError, LongHeader, LongPacket, parse_long_packet};
use crate::limits::{QuicLimits, QuicStats};
use crate::protection::retry_integrity_valid;
use crate::version::{LongPacketType, is_reserved, version_spec};

/// A connection's addresses: (client, server).
type FlowKey = (SocketAddr, SocketAddr);

/// The cause of a connection's end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum EndCause {
    Replaced,
    Idle,
    Evicted,
    Finished,
}

/// Follows the QUIC connections of a capture and yields the TLS handshake
/// messages carried in their Initial packets.
#[derive(Debug)]
pub struct QuicTracker {
    limits: QuicLimits,
    stats: QuicStats,
    budget: Budget,
    connections: HashMap<FlowKey, Connection>,
    /// Connections by (last activity, id), oldest first.
    activity: BTreeMap<(i64, u64), FlowKey>,
    next_id: u64,
}

impl QuicTracker {
    /// Creates a tracker bounded by `limits`.
    pub fn new(limits: QuicLimits) -> Self {
        Self {
            limits,
            stats: QuicStats::default(),
            budget: Budget {
                limit: limits.max_crypto_total,
                ..Budget::default()
            },
            connections: HashMap::new(),
            activity: BTreeMap::new(),
            next_id: 1,
        }
    }

    /// Returns the counters so far.
    pub fn stats(&self) -> &QuicStats {
        &self.stats
    }

    /// Returns how many connections are followed now.
    pub fn open_connections(&self) -> usize {
        self.connections.len()
    }

    /// Feeds one UDP datagram's payload, sent from `src` to `dst`, that the
    /// capture contains as packet number `packet` at `timestamp_ns`. Events
    /// are appended to `out`. Any port is accepted: QUIC is recognised by
    /// content.
    pub fn datagram(
        &mut self,
        src: SocketAddr,
        dst: SocketAddr,
        payload: &[u8],
        packet: u64,
        timestamp_ns: i64,
        out: &mut Vec<QuicEvent>,
    ) {
        self.stats.datagrams = self.stats.datagrams.saturating_add(1);
        self.expire_idle(timestamp_ns, out);
        let dg = Datagram {
            src,
            dst,
            packet,
            timestamp_ns,
        };
        if self.packets(&dg, payload, out) {
            self.stats.datagrams_quic = self.stats.datagrams_quic.saturating_add(1);
        }
        self.stats.peak_connections = self.stats.peak_connections.max(self.connections.len());
    }

    /// Handles the packets coalesced in one datagram and returns true when
    /// any of them was taken as QUIC.
    fn packets(&mut self, dg: &Datagram, payload: &[u8], out: &mut Vec<QuicEvent>) -> bool {
        let mut rest = payload;
        let mut first_dcid: Option<&[u8]> = None;
        let mut quic = false;
        while let Some(&first) = rest.first() {
            if first & 0x80 == 0 {
                return quic | self.short_header(dg);
            }
            let (parsed, len) = match parse_long_packet(rest) {
                Ok(parsed) => parsed,
                Err(err) => {
                    let at = payload.len().saturating_sub(rest.len());
                    return quic | self.unparsable(dg, &err, at, quic, out);
                }
            };
            let dcid = parsed.header().dcid;
            if first_dcid.is_some_and(|d| d != dcid) {
                // RFC 9000 section 12.2: coalesced packets with another
                // destination connection id belong to no connection here.
                self.stats.packets_ignored = self.stats.packets_ignored.saturating_add(1);
            } else {
                first_dcid = Some(dcid);
                quic |= self.long_packet(dg, &parsed, out);
            }
            rest = rest.get(len..).unwrap_or_default();
        }
        quic
    }

    /// Ends every connection, oldest activity first, each with an
    /// [`QuicEventKind::End`] event.
    pub fn finish(&mut self, out: &mut Vec<QuicEvent>) {
        while let Some((_, &key)) = self.activity.first_key_value() {
            self.end(key, EndCause::Finished, out);
        }
    }

    /// Finds the connection of a datagram and returns it with true when the
    /// sender is its client.
    fn find(&self, src: SocketAddr, dst: SocketAddr) -> Option<(FlowKey, bool)> {
        if self.connections.contains_key(&(src, dst)) {
            return Some(((src, dst), true));
        }
        if self.connections.contains_key(&(dst, src)) {
            return Some(((dst, src), false));
        }
        None
    }

    /// Moves a connection to the back of the activity order.
    fn touch(&mut self, key: FlowKey, dg: &Datagram) {
        let Some(conn) = self.connections.get_mut(&key) else {
            return;
        };
        self.activity.remove(&(conn.last_seen, conn.id.0));
        conn.last_seen = conn.last_seen.max(dg.timestamp_ns);
        conn.last_packet = dg.packet;
        self.activity.insert((conn.last_seen, conn.id.0), key);
    }

    /// Counts a long-header packet taken as QUIC.
    fn count_long(&mut self, version: u32) {
        self.stats.long_header_packets = self.stats.long_header_packets.saturating_add(1);
        self.stats.count_version(version);
    }

    /// Dispatches one parsed long-header packet and returns true when it
    /// was taken as QUIC.
    fn long_packet(
        &mut self,
        dg: &Datagram,
        parsed: &LongPacket<'_>,
        out: &mut Vec<QuicEvent>,
    ) -> bool {
        match parsed {
            LongPacket::VersionNegotiation { header, versions } => {
                self.version_negotiation(dg, header, versions, out)
            }
            LongPacket::Initial {
                header,
                pn_offset,
                packet,
                ..
            } => self.initial(dg, header, (packet, *pn_offset), out),
            LongPacket::Protected { header, kind, .. } => self.protected(dg, header, *kind),
            LongPacket::Retry { header, packet } => self.retry(dg, header, packet, out),
            LongPacket::UnknownVersion { header } => self.unknown_version(dg, header, out),
        }
    }

    /// Counts a short-header packet of a followed connection. On other
    /// addresses a short header is not recognisable as QUIC.
    fn short_header(&mut self, dg: &Datagram) -> bool {
        let Some((key, _)) = self.find(dg.src, dg.dst) else {
            return false;
        };
        self.stats.short_header_packets = self.stats.short_header_packets.saturating_add(1);
        self.touch(key, dg);
        true
    }

    /// Handles a long header that does not parse: malformed on a followed
    /// connection, otherwise not QUIC. `after_quic` is returned unchanged
    /// for datagrams of other addresses.
    fn unparsable(
        &mut self,
        dg: &Datagram,
        err: &HeaderError,
        at: usize,
        after_quic: bool,
        out: &mut Vec<QuicEvent>,
    ) -> bool {
        let Some((key, _)) = self.find(dg.src, dg.dst) else {
            return after_quic;
        };
        self.touch(key, dg);
        let Some(conn) = self.connections.get(&key) else {
            return true;
        };
        let reason = format!(
            "long-header packet at byte {at} of the datagram in capture packet {}: {err}; the \
             rest of the datagram was skipped",
            dg.packet
        );
        self.stats.malformed = self.stats.malformed.saturating_add(1);
        out.push(conn.event(dg, conn.version, QuicEventKind::Malformed { reason }));
        true
    }

    /// Finds the connection a client long header belongs to, ending a
    /// connection it replaces and opening a new one when needed.
    fn attach(
        &mut self,
        dg: &Datagram,
        header: &LongHeader<'_>,
        out: &mut Vec<QuicEvent>,
    ) -> (FlowKey, bool) {
        match self.find(dg.src, dg.dst) {
            Some((key, false)) => return (key, false),
            Some((key, true)) => {
                if self
                    .connections
                    .get(&key)
                    .is_some_and(|c| c.accepts(header))
                {
                    return (key, true);
                }
                self.end(key, EndCause::Replaced, out);
            }
            None => {}
        }
        self.open(dg, header, out)
    }

    /// Opens a connection, evicting the least recently active one if full.
    fn open(
        &mut self,
        dg: &Datagram,
        header: &LongHeader<'_>,
        out: &mut Vec<QuicEvent>,
    ) -> (FlowKey, bool) {
        let max = self.limits.max_connections.max(1);
        while self.connections.len() >= max {
            let Some((_, &oldest)) = self.activity.first_key_value() else {
                break;
            };
            self.end(oldest, EndCause::Evicted, out);
        }
        let id = QuicConnectionId(self.next_id);
        self.next_id = self.next_id.saturating_add(1);
        let key = (dg.src, dg.dst);
        let conn = Connection::new(id, dg, header);
        self.activity.insert((conn.last_seen, id.0), key);
        self.connections.insert(key, conn);
        self.stats.connections_opened = self.stats.connections_opened.saturating_add(1);
        (key, true)
    }

    /// Ends a connection and reports it.
    fn end(&mut self, key: FlowKey, cause: EndCause, out: &mut Vec<QuicEvent>) {
        let Some(mut conn) = self.connections.remove(&key) else {
            return;
        };
        self.activity.remove(&(conn.last_seen, conn.id.0));
        let incomplete = conn.close(&mut self.budget);
        let stats = &mut self.stats;
        stats.incomplete_messages = stats.incomplete_messages.saturating_add(incomplete);
        let counter = match cause {
            EndCause::Replaced => &mut stats.connections_replaced,
            EndCause::Idle => &mut stats.connections_idle,
            EndCause::Evicted => &mut stats.connections_evicted,
            EndCause::Finished => &mut stats.connections_finished,
        };
        *counter = counter.saturating_add(1);
        let last = Datagram {
            src: conn.client,
            dst: conn.server,
            packet: conn.last_packet,
            timestamp_ns: conn.last_seen,
        };
        out.push(conn.event(&last, conn.version, QuicEventKind::End));
    }

    /// Ends connections silent for longer than the idle timeout.
    fn expire_idle(&mut self, now: i64, out: &mut Vec<QuicEvent>) {
        let idle = self.limits.idle_timeout_ns;
        if idle <= 0 {
            return;
        }
        let horizon = now.saturating_sub(idle);
        while let Some((&(last_seen, _), &key)) = self.activity.first_key_value() {
            if last_seen >= horizon {
                break;
            }
            self.end(key, EndCause::Idle, out);
        }
    }

    /// Handles an Initial packet, opening the connection if it is the client's first.
    fn initial(
        &mut self,
        dg: &Datagram,
        header: &LongHeader<'_>,
        packet: (&[u8], usize),
        out: &mut Vec<QuicEvent>,
    ) -> bool {
        if !header.fixed_bit() && self.find(dg.src, dg.dst).is_none() {
            return false;
        }
        let (key, from_client) = self.attach(dg, header, out);
        self.count_long(header.version);
        self.stats.initial_packets = self.stats.initial_packets.saturating_add(1);
        self.touch(key, dg);
        let Some(conn) = self.connections.get_mut(&key) else {
            return true;
        };
        if from_client {
            conn.client_header(header, &mut self.budget);
        }
        let mut ctx = Context {
            stats: &mut self.stats,
            budget: &mut self.budget,
            crypto_limit: self.limits.max_crypto_per_direction,
            out,
        };
        conn.initial(dg, header, packet, from_client, &mut ctx);
        true
    }

    /// Counts a 0-RTT or Handshake packet of a followed connection.
    fn protected(&mut self, dg: &Datagram, header: &LongHeader<'_>, kind: LongPacketType) -> bool {
        let Some((key, from_client)) = self.find(dg.src, dg.dst) else {
            return false;
        };
        self.count_long(header.version);
        let counter = if kind == LongPacketType::ZeroRtt {
            &mut self.stats.zero_rtt_packets
        } else {
            &mut self.stats.handshake_packets
        };
        *counter = counter.saturating_add(1);
        self.touch(key, dg);
        if from_client && let Some(conn) = self.connections.get_mut(&key) {
            conn.client_header(header, &mut self.budget);
        }
        true
    }

    /// A packet of a version this crate cannot open. A reserved version
    /// from a client opens a connection so that the server's Version
    /// Negotiation can be matched to it.
    fn unknown_version(
        &mut self,
        dg: &Datagram,
        header: &LongHeader<'_>,
        out: &mut Vec<QuicEvent>,
    ) -> bool {
        let found = self.find(dg.src, dg.dst);
        let probe = is_reserved(header.version) && header.fixed_bit();
        let key = match found {
            Some((_, true)) | None if probe => {
                let (key, _) = self.attach(dg, header, out);
                if let Some(conn) = self.connections.get_mut(&key) {
                    conn.client_header(header, &mut self.budget);
                }
                key
            }
            Some((key, _)) => {
                // Other versions are not added to the per-version counts,
                // so random bytes cannot grow that map without bound.
                self.stats.unknown_version_packets =
                    self.stats.unknown_version_packets.saturating_add(1);
                self.touch(key, dg);
                return true;
            }
            None => return false,
        };
        self.count_long(header.version);
        self.touch(key, dg);
        true
    }

    /// Handles a Version Negotiation packet, accepted from the server of a
    /// followed connection when its ids mirror the client's (RFC 9000 section 17.2.1).
    fn version_negotiation(
        &mut self,
        dg: &Datagram,
        header: &LongHeader<'_>,
        versions: &[u32],
        out: &mut Vec<QuicEvent>,
    ) -> bool {
        let Some((key, false)) = self.find(dg.src, dg.dst) else {
            return false;
        };
        self.count_long(header.version);
        self.touch(key, dg);
        let Some(conn) = self.connections.get_mut(&key) else {
            return true;
        };
        if header.dcid != conn.client_scid.as_slice() || !conn.knows_dcid(header.scid) {
            self.stats.packets_ignored = self.stats.packets_ignored.saturating_add(1);
            return true;
        }
        self.stats.version_negotiation_packets =
            self.stats.version_negotiation_packets.saturating_add(1);
        conn.version_negotiated();
        let kind = QuicEventKind::VersionNegotiation {
            offered: versions.to_vec(),
        };
        out.push(conn.event(dg, conn.version, kind));
        true
    }

    /// Handles a Retry packet. Once it is verified, the client's next Initial
    /// uses keys derived from the server's new connection id.
    fn retry(
        &mut self,
        dg: &Datagram,
        header: &LongHeader<'_>,
        packet: &[u8],
        out: &mut Vec<QuicEvent>,
    ) -> bool {
        let Some((key, false)) = self.find(dg.src, dg.dst) else {
            return false;
        };
        self.count_long(header.version);
        self.touch(key, dg);
        let (Some(conn), Some(spec)) =
            (self.connections.get_mut(&key), version_spec(header.version))
        else {
            return true;
        };
        if !conn.retry_applies(header) {
            self.stats.packets_ignored = self.stats.packets_ignored.saturating_add(1);
            return true;
        }
        if retry_integrity_valid(spec, conn.key_dcid(), packet) == Some(false) {
            self.stats.retry_integrity_failures =
                self.stats.retry_integrity_failures.saturating_add(1);
            self.stats.malformed = self.stats.malformed.saturating_add(1);
            let reason = format!(
                "Retry packet in capture packet {} fails its integrity check against the original \
                 destination connection id {}; a client ignores it, so the connection keeps its keys",
                dg.packet,
                hex_id(conn.key_dcid())
            );
            out.push(conn.event(dg, header.version, QuicEventKind::Malformed { reason }));
            return true;
        }
        self.stats.retry_packets = self.stats.retry_packets.saturating_add(1);
        conn.apply_retry(header.scid, &mut self.budget);
        out.push(conn.event(dg, header.version, QuicEventKind::Retry));
        true
    }
}

/// Lower-case hex of a connection id, for messages.
fn hex_id(id: &[u8]) -> String {
    id.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests;
