//! Resource limits and the counters that show what the table did.

/// Bounds on the table's memory and on how long it waits.
///
/// "Buffered" memory is charged as payload bytes plus
/// [`CHUNK_COST`](crate::CHUNK_COST) bytes of bookkeeping per stored segment,
/// so that many tiny segments cannot hide behind a byte limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Most flows held at once, open or lingering after close. When a new flow
    /// needs room, lingering closed flows go first, then an open flow inactive
    /// for longest ends with [`FlowEnd::Evicted`](crate::FlowEnd). The order is
    /// second-chance, close to but not exactly least recently used. Zero is
    /// treated as one.
    pub max_flows: usize,
    /// Most out-of-order bytes held for one flow (both sides together). When a
    /// segment would exceed it, the side receiving the segment gives up on its
    /// earliest hole: reports it as a gap, delivers what follows, and tries again.
    pub max_buffered_per_flow: usize,
    /// Most out-of-order bytes held across all flows. Exceeding it is handled
    /// like the per-flow limit, by the flow that needed the room; other flows
    /// are left alone.
    pub max_buffered_total: usize,
    /// Capture time, in nanoseconds, after which a silent flow ends with
    /// [`FlowEnd::IdleTimeout`](crate::FlowEnd). Zero or less disables it.
    pub idle_timeout_ns: i64,
    /// Capture time, in nanoseconds, for which a closed or reset flow is
    /// remembered so that its late retransmissions and ACKs are absorbed rather
    /// than opening a new flow. A SYN with a new sequence number still opens one.
    pub closed_linger_ns: i64,
    /// Capture time, in nanoseconds, for which the peer of a side that sent
    /// RST is still followed: its segments already in flight when the RST
    /// went out are delivered, then the flow ends with
    /// [`FlowEnd::Reset`](crate::FlowEnd). Zero ends the flow at the RST.
    pub reset_drain_ns: i64,
    /// Recently delivered bytes kept per side to compare retransmissions
    /// against, so that a retransmission differing from the delivered copy is
    /// noticed. Zero disables the comparison.
    pub compare_window_per_side: usize,
    /// Most bytes of such windows across all flows; sides that would exceed it
    /// go without (counted in [`FlowStats::compare_windows_refused`]).
    pub max_compare_total: usize,
}

impl Default for Limits {
    /// Returns limits of one million flows, 1 MiB per flow, 256 MiB in total,
    /// five minutes idle, two minutes of lingering after close (TCP's 2×MSL
    /// with a 60-second MSL), one second of draining after a RST, and a 4 KiB
    /// compare window per side within 64 MiB.
    fn default() -> Self {
        Limits {
            max_flows: 1_000_000,
            max_buffered_per_flow: 1 << 20,
            max_buffered_total: 256 << 20,
            idle_timeout_ns: 300 * NANOS_PER_SECOND,
            closed_linger_ns: 120 * NANOS_PER_SECOND,
            reset_drain_ns: NANOS_PER_SECOND,
            compare_window_per_side: 4096,
            max_compare_total: 64 << 20,
        }
    }
}

const NANOS_PER_SECOND: i64 = 1_000_000_000;

/// Counters over the table's whole life.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FlowStats {
    /// Segments handed to [`FlowTable::segment`](crate::FlowTable::segment).
    pub segments: u64,
    /// Segments that neither belonged to an open flow nor could open one: a
    /// bare ACK, FIN or RST for an unknown connection, or late traffic of a
    /// closed one.
    pub segments_ignored: u64,
    /// Segments more than 2^30 bytes (the largest TCP window) ahead of the
    /// delivery point. They are dropped as not belonging to the stream.
    pub segments_out_of_window: u64,
    /// One-byte keep-alive probes just behind the delivery point; neither
    /// delivered nor compared.
    pub keep_alive_probes: u64,
    /// Flows opened.
    pub flows_opened: u64,
    /// Flows ended by FIN both ways.
    pub flows_closed: u64,
    /// Flows ended by RST.
    pub flows_reset: u64,
    /// Flows ended by idle timeout.
    pub flows_idle_timeout: u64,
    /// Flows evicted because the table was full.
    pub flows_evicted: u64,
    /// Flows replaced by a new connection on the same four-tuple.
    pub flows_port_reused: u64,
    /// Flows still open when [`FlowTable::finish`](crate::FlowTable::finish) was called.
    pub flows_end_of_input: u64,
    /// Times [`Limits::max_buffered_per_flow`] forced a hole to be given up as a gap.
    pub per_flow_limit_hits: u64,
    /// Times [`Limits::max_buffered_total`] forced a hole to be given up as a gap.
    pub total_limit_hits: u64,
    /// Gaps reported.
    pub gaps: u64,
    /// Bytes reported missing in those gaps.
    pub gap_bytes: u64,
    /// Bytes dropped because a first copy was already buffered or delivered,
    /// or because their offset had already been given up as a gap.
    pub retransmitted_bytes: u64,
    /// Retransmissions or overlaps whose bytes differed from the first copy.
    pub overlaps_disagreed: u64,
    /// Segments that arrived ahead of a hole and were buffered.
    pub out_of_order_segments: u64,
    /// Payload bytes seen beyond a side's FIN (dropped).
    pub data_after_fin_bytes: u64,
    /// Largest out-of-order memory held at once, in bytes as charged by [`Limits`].
    pub peak_buffered_bytes: usize,
    /// Largest compare-window memory held at once, in bytes.
    pub peak_compare_bytes: usize,
    /// Sides that got no compare window because [`Limits::max_compare_total`] was reached.
    pub compare_windows_refused: u64,
}

impl FlowStats {
    /// Flows the table ended itself rather than the connection: evicted to
    /// make room ([`Limits::max_flows`]) or silent past
    /// [`Limits::idle_timeout_ns`].
    pub fn evicted_total(&self) -> u64 {
        self.flows_evicted.saturating_add(self.flows_idle_timeout)
    }

    /// Flows ended for any reason.
    pub fn flows_ended(&self) -> u64 {
        self.flows_closed
            .saturating_add(self.flows_reset)
            .saturating_add(self.flows_idle_timeout)
            .saturating_add(self.flows_evicted)
            .saturating_add(self.flows_port_reused)
            .saturating_add(self.flows_end_of_input)
    }
}

/// Counters for one flow, readable with
/// [`FlowTable::flow_counters`](crate::FlowTable::flow_counters) while it is open.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FlowCounters {
    /// Gaps reported on either side.
    pub gaps: u64,
    /// Bytes reported missing.
    pub gap_bytes: u64,
    /// Bytes that arrived again after a first copy.
    pub retransmitted_bytes: u64,
    /// Retransmissions or overlaps whose bytes differed from the first copy.
    pub overlaps_disagreed: u64,
    /// Segments buffered ahead of a hole.
    pub out_of_order_segments: u64,
}

/// State every flow updates: the limits, global counters and memory in use.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    pub limits: Limits,
    pub stats: FlowStats,
    /// Out-of-order memory held now, as charged against the limits.
    pub buffered: usize,
    /// Compare-window memory held now.
    pub compare: usize,
    /// Rings of ended compare windows, kept for new flows to reuse. They
    /// count neither as `compare` memory nor against the limits.
    pub spare_rings: Vec<Vec<u8>>,
}

/// Most spare compare rings kept. Flows end and open at about the same
/// rate on average, but the idle timeout ends them in bursts: with 64
/// spare rings a quarter of the windows of a handshake-dense capture were
/// allocated and zeroed anew. 1024 rings hold at most 4 MiB with the
/// default 4 KiB window.
const MAX_SPARE_RINGS: usize = 1024;

impl Shared {
    /// Returns a ring of `len` bytes from an ended window, or `None`. Its
    /// old bytes are garbage that the new window marks as not yet filled.
    pub fn take_ring(&mut self, len: usize) -> Option<Vec<u8>> {
        let ring = self.spare_rings.pop()?;
        (ring.len() == len).then_some(ring)
    }

    /// Keeps the ring of an ended window for reuse, unless enough are kept.
    pub fn recycle_ring(&mut self, ring: Vec<u8>) {
        if self.spare_rings.len() < MAX_SPARE_RINGS {
            self.spare_rings.push(ring);
        }
    }

    /// Charges `cost` more bytes of out-of-order memory.
    pub fn charge(&mut self, cost: usize) {
        self.buffered = self.buffered.saturating_add(cost);
        self.stats.peak_buffered_bytes = self.stats.peak_buffered_bytes.max(self.buffered);
    }

    /// Returns `cost` bytes of out-of-order memory.
    pub fn refund(&mut self, cost: usize) {
        self.buffered = self.buffered.saturating_sub(cost);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats() -> FlowStats {
        FlowStats {
            flows_closed: 1,
            flows_reset: 2,
            flows_idle_timeout: 4,
            flows_evicted: 8,
            flows_port_reused: 16,
            flows_end_of_input: 32,
            ..FlowStats::default()
        }
    }

    #[test]
    fn flows_ended_sums_every_cause() {
        assert_eq!(stats().flows_ended(), 63);
    }

    #[test]
    fn evicted_total_counts_table_causes() {
        assert_eq!(stats().evicted_total(), 12);
    }

    #[test]
    fn ring_reused_when_length_fits() {
        let mut shared = Shared::default();
        shared.recycle_ring(vec![7; 16]);
        assert_eq!(shared.take_ring(16), Some(vec![7; 16]));
        assert_eq!(shared.take_ring(16), None);
    }

    #[test]
    fn ring_of_other_length_dropped() {
        let mut shared = Shared::default();
        shared.recycle_ring(vec![7; 16]);
        assert_eq!(shared.take_ring(32), None);
        assert!(shared.spare_rings.is_empty());
    }

    #[test]
    fn spare_rings_bounded() {
        let mut shared = Shared::default();
        for _ in 0..MAX_SPARE_RINGS + 5 {
            shared.recycle_ring(vec![0; 4]);
        }
        assert_eq!(shared.spare_rings.len(), MAX_SPARE_RINGS);
    }

    #[test]
    fn refund_never_underflows() {
        let mut shared = Shared::default();
        shared.refund(5);
        assert_eq!(shared.buffered, 0);
    }

    #[test]
    fn charge_raises_peak() {
        let mut shared = Shared::default();
        shared.charge(70);
        shared.refund(70);
        assert_eq!(shared.stats.peak_buffered_bytes, 70);
    }
}
