//! Bounds on what the tracker holds, and the counters that show what it did.

use std::collections::BTreeMap;

/// Bounds on the tracker's memory and on how long it waits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuicLimits {
    /// Maximum connections followed at once. When a new one needs room, the
    /// one silent for longest ends with [`QuicEventKind::End`](crate::QuicEventKind).
    /// Zero is treated as one.
    pub max_connections: usize,
    /// Bytes of each direction's Initial CRYPTO stream that are followed. At
    /// the Initial level that stream carries only the ClientHello (two after
    /// a HelloRetryRequest) or the ServerHello. Data past this offset is
    /// dropped, and a handshake message that would end past it is reported
    /// as malformed.
    pub max_crypto_per_direction: usize,
    /// Maximum CRYPTO bytes held across all connections, out-of-order fragments
    /// and incomplete messages together. Fragments that would exceed it are
    /// dropped and counted in [`QuicStats::crypto_bytes_dropped`].
    pub max_crypto_total: usize,
    /// Capture time, in nanoseconds, after which a silent connection ends.
    /// Zero or less disables it.
    pub idle_timeout_ns: i64,
}

impl Default for QuicLimits {
    /// Returns limits of 100,000 connections, 64 KiB of CRYPTO stream per
    /// direction, 64 MiB of CRYPTO data in total, and three minutes idle.
    fn default() -> Self {
        QuicLimits {
            max_connections: 100_000,
            max_crypto_per_direction: 64 << 10,
            max_crypto_total: 64 << 20,
            idle_timeout_ns: 180 * NANOS_PER_SECOND,
        }
    }
}

const NANOS_PER_SECOND: i64 = 1_000_000_000;

/// Counters over the tracker's whole life.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QuicStats {
    /// Datagrams handed to [`QuicTracker::datagram`](crate::QuicTracker::datagram).
    pub datagrams: u64,
    /// Datagrams with at least one packet taken as QUIC.
    pub datagrams_quic: u64,
    /// Long-header packets counted in [`QuicStats::versions`].
    pub long_header_packets: u64,
    /// Short-header packets of followed connections; never decrypted.
    pub short_header_packets: u64,
    /// Long-header packets per version field: versions listed in
    /// [`crate::version`], reserved versions, and 0 for Version Negotiation.
    pub versions: BTreeMap<u32, u64>,
    /// Long-header packets of other versions on followed connections; they
    /// are counted here only, not in [`QuicStats::versions`].
    pub unknown_version_packets: u64,
    /// Initial packets seen.
    pub initial_packets: u64,
    /// Initial packets whose protection was removed.
    pub initials_decrypted: u64,
    /// Initial packets that did not decrypt: keys from a missed first
    /// Initial, a corrupted packet, or a packet that only looks like QUIC.
    pub decryption_failures: u64,
    /// 0-RTT packets seen (skipped: their keys come from a resumed session).
    pub zero_rtt_packets: u64,
    /// Handshake packets seen (skipped: their keys come from the key exchange).
    pub handshake_packets: u64,
    /// Retry packets accepted.
    pub retry_packets: u64,
    /// Retry packets whose integrity tag did not verify; clients ignore them.
    pub retry_integrity_failures: u64,
    /// Version Negotiation packets accepted.
    pub version_negotiation_packets: u64,
    /// Packets dropped as not belonging to the connection they arrived on:
    /// coalesced packets with another destination connection id, Version
    /// Negotiation or Retry packets with the wrong connection ids, a second Retry.
    pub packets_ignored: u64,
    /// Complete handshake messages reported.
    pub handshake_messages: u64,
    /// Handshake messages still incomplete when their connection ended.
    pub incomplete_messages: u64,
    /// CRYPTO bytes that arrived again after a first copy.
    pub crypto_duplicate_bytes: u64,
    /// Overlapping CRYPTO fragments whose bytes differed from the first copy.
    pub crypto_mismatched_overlaps: u64,
    /// CRYPTO bytes dropped by [`QuicLimits::max_crypto_per_direction`] or
    /// [`QuicLimits::max_crypto_total`].
    pub crypto_bytes_dropped: u64,
    /// Malformed events reported.
    pub malformed: u64,
    /// Connections opened.
    pub connections_opened: u64,
    /// Connections ended because a new connection started on the same
    /// addresses and ports with new connection ids.
    pub connections_replaced: u64,
    /// Connections ended by [`QuicLimits::idle_timeout_ns`].
    pub connections_idle: u64,
    /// Connections ended to make room ([`QuicLimits::max_connections`]).
    pub connections_evicted: u64,
    /// Connections still open at [`QuicTracker::finish`](crate::QuicTracker::finish).
    pub connections_finished: u64,
    /// Maximum connections held at once.
    pub peak_connections: usize,
    /// Maximum CRYPTO bytes held at once, as charged against
    /// [`QuicLimits::max_crypto_total`].
    pub peak_crypto_buffered: usize,
}

impl QuicStats {
    /// Adds one packet of `version` to [`QuicStats::versions`].
    pub(crate) fn count_version(&mut self, version: u32) {
        let count = self.versions.entry(version).or_insert(0);
        *count = count.saturating_add(1);
    }

    /// Connections ended for any reason.
    pub fn connections_ended(&self) -> u64 {
        self.connections_replaced
            .saturating_add(self.connections_idle)
            .saturating_add(self.connections_evicted)
            .saturating_add(self.connections_finished)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ended_sums_every_cause() {
        let stats = QuicStats {
            connections_replaced: 1,
            connections_idle: 2,
            connections_evicted: 4,
            connections_finished: 8,
            ..QuicStats::default()
        };
        assert_eq!(stats.connections_ended(), 15);
    }

    #[test]
    fn versions_are_counted() {
        let mut stats = QuicStats::default();
        stats.count_version(1);
        stats.count_version(1);
        assert_eq!(stats.versions.get(&1), Some(&2));
    }
}
