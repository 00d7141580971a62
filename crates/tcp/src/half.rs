//! One direction of a connection: where its sequence space starts, delivery of
//! in-order bytes, buffering of the rest, and deciding when a hole is permanent.
//!
//! Stream offsets are `u64` counts from the side's first byte. Sequence
//! numbers are only compared with the delivery point (`next_seq`), so a
//! stream can cross the 2^32 boundary any number of times.

use crate::handler::{Anomaly, Interest, StreamHandler};
#[cfg(test)]
use crate::limits::Limits;
use crate::limits::{FlowCounters, Shared};
use crate::recent::{Comparison, Recent};
use crate::reorder::{Reorder, Survey};
use crate::segment::{SegmentMeta, Side};
use crate::seq;

/// Farthest, in bytes, that a segment, FIN or ACK may point ahead of the
/// delivery point and still be taken as part of the stream: 2^30 is the largest
/// window TCP can advertise (RFC 7323 §2.3).
pub(crate) const MAX_AHEAD: i64 = 1 << 30;

/// Handler of one side's callbacks, with the flow and table state they update.
pub(crate) struct Env<'a, H: StreamHandler> {
    pub handler: &'a mut H,
    pub ctx: &'a mut H::Context,
    pub side: Side,
    pub shared: &'a mut Shared,
    pub counters: &'a mut FlowCounters,
    /// Set once the handler returns [`Interest::Ignore`]. Nothing is delivered after that.
    pub ignored: &'a mut bool,
    /// Out-of-order memory held by the other side of the same flow.
    pub other_cost: usize,
}

impl<H: StreamHandler> Env<'_, H> {
    fn data(&mut self, bytes: &[u8], meta: SegmentMeta) {
        if *self.ignored || bytes.is_empty() {
            return;
        }
        if self.handler.on_data(self.ctx, self.side, bytes, meta) == Interest::Ignore {
            *self.ignored = true;
        }
    }

    fn gap(&mut self, missing: u64, meta: SegmentMeta) {
        let stats = &mut self.shared.stats;
        stats.gaps = stats.gaps.saturating_add(1);
        stats.gap_bytes = stats.gap_bytes.saturating_add(missing);
        self.counters.gaps = self.counters.gaps.saturating_add(1);
        self.counters.gap_bytes = self.counters.gap_bytes.saturating_add(missing);
        self.handler.on_gap(self.ctx, self.side, missing, meta);
    }

    fn fin(&mut self, meta: SegmentMeta) {
        self.handler.on_fin(self.ctx, self.side, meta);
    }

    fn retransmitted(&mut self, bytes: u64) {
        let stats = &mut self.shared.stats;
        stats.retransmitted_bytes = stats.retransmitted_bytes.saturating_add(bytes);
        let counters = &mut self.counters;
        counters.retransmitted_bytes = counters.retransmitted_bytes.saturating_add(bytes);
    }

    /// Records the comparison of a second copy with the first, if they disagree.
    fn compared(&mut self, result: Comparison, meta: SegmentMeta) {
        if result.differing == 0 {
            return;
        }
        let stats = &mut self.shared.stats;
        stats.overlaps_disagreed = stats.overlaps_disagreed.saturating_add(1);
        self.counters.overlaps_disagreed = self.counters.overlaps_disagreed.saturating_add(1);
        let anomaly = Anomaly::OverlapMismatch {
            offset: result.offset,
            compared: result.compared,
            differing: result.differing,
        };
        self.handler.on_anomaly(self.ctx, self.side, anomaly, meta);
    }

    fn after_fin(&mut self, offset: u64, len: u64, meta: SegmentMeta) {
        let stats = &mut self.shared.stats;
        stats.data_after_fin_bytes = stats.data_after_fin_bytes.saturating_add(len);
        let anomaly = Anomaly::DataAfterFin { offset, len };
        self.handler.on_anomaly(self.ctx, self.side, anomaly, meta);
    }

    fn keep_alive(&mut self) {
        let stats = &mut self.shared.stats;
        stats.keep_alive_probes = stats.keep_alive_probes.saturating_add(1);
    }

    fn out_of_window(&mut self) {
        let stats = &mut self.shared.stats;
        stats.segments_out_of_window = stats.segments_out_of_window.saturating_add(1);
    }
}

/// Initial sequence numbers a side's SYNs carried before any data.
///
/// Captures show several SYN-ACKs with different numbers for one connection
/// (middleboxes, retried accepts). The peer's ACK, or failing that the first
/// data, selects the one the connection runs on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct IsnList {
    items: [u32; 4],
    len: usize,
}

impl IsnList {
    /// Returns whether a SYN carried `isn`.
    pub fn contains(&self, isn: u32) -> bool {
        self.as_slice().contains(&isn)
    }

    fn as_slice(&self) -> &[u32] {
        self.items.get(..self.len).unwrap_or_default()
    }

    /// Adds `isn`, forgetting the oldest when full.
    fn push(&mut self, isn: u32) {
        if self.contains(isn) {
            return;
        }
        if self.len == self.items.len() {
            self.items.rotate_left(1);
            self.len -= 1;
        }
        if let Some(slot) = self.items.get_mut(self.len) {
            *slot = isn;
            self.len += 1;
        }
    }

    /// Returns the candidate whose data would start closest at or before `seq`.
    fn nearest_below(&self, seq: u32) -> Option<u32> {
        let start = |isn: &u32| seq.wrapping_sub(isn.wrapping_add(1));
        self.as_slice().iter().copied().min_by_key(start)
    }
}

/// State of one direction.
#[derive(Debug, Default)]
pub(crate) struct HalfStream {
    /// Whether `next_seq` has been set (from a SYN, the peer's ACK or the first segment).
    anchored: bool,
    isns: IsnList,
    /// Set when the peer acknowledged one of `isns`; the choice is then final.
    isn_confirmed: bool,
    /// Sequence number of the next byte to deliver.
    next_seq: u32,
    /// Stream offset of that byte: bytes delivered plus bytes given up as gaps.
    next_off: u64,
    /// Whether any payload has been accepted; the anchor no longer moves after that.
    has_data: bool,
    reorder: Reorder,
    recent: Option<Recent>,
    /// Set when no compare window could be had; not asked again.
    compare_refused: bool,
    /// Stream offset of the FIN, once seen.
    fin_off: Option<u64>,
    fin_seen: bool,
    fin_reported: bool,
}

impl HalfStream {
    /// Returns the SYN sequence numbers seen before data.
    pub fn isns(&self) -> IsnList {
        self.isns
    }

    /// Returns whether payload has been accepted on this side.
    pub fn has_data(&self) -> bool {
        self.has_data
    }

    /// Returns whether a FIN was seen on this side.
    pub fn fin_seen(&self) -> bool {
        self.fin_seen
    }

    /// Returns whether `on_fin` has been called for this side.
    pub fn fin_reported(&self) -> bool {
        self.fin_reported
    }

    /// Returns the out-of-order memory held.
    pub fn cost(&self) -> usize {
        self.reorder.cost()
    }

    /// Records a FIN without following sequence numbers (the flow is ignored);
    /// returns true the first time, when `on_fin` is due.
    pub fn fin_unordered(&mut self) -> bool {
        self.fin_seen = true;
        !std::mem::replace(&mut self.fin_reported, true)
    }

    /// Returns whether a FIN was seen but not yet reported.
    pub fn fin_pending(&self) -> bool {
        self.fin_seen && !self.fin_reported
    }

    /// Records a SYN from this side. Returns false when the side already
    /// carried data or a FIN, so the SYN cannot belong to this connection's
    /// handshake.
    pub fn syn(&mut self, seq: u32) -> bool {
        if self.has_data || self.fin_seen {
            return false;
        }
        self.isns.push(seq);
        if !self.isn_confirmed {
            // Data starts one past the SYN's own number (RFC 9293 §3.4).
            self.anchor(seq.wrapping_add(1));
        }
        true
    }

    /// Handles the peer's acknowledgement of everything before `ack` on this side.
    pub fn peer_ack<H: StreamHandler>(&mut self, ack: u32, meta: SegmentMeta, env: &mut Env<H>) {
        if *env.ignored {
            return;
        }
        if !self.anchored {
            self.anchor(ack);
            return;
        }
        if !self.has_data && !self.isn_confirmed && !self.isns.as_slice().is_empty() {
            // The first ACK of the handshake names the SYN that counts, even one
            // the capture missed.
            self.anchor(ack);
            self.isn_confirmed = true;
            return;
        }
        let ahead = seq::distance(self.next_seq, ack);
        if ahead <= 0 || ahead > MAX_AHEAD {
            return;
        }
        // The peer has received these bytes, so any of them not seen here never will be.
        let mut target = self.next_off.saturating_add(ahead.unsigned_abs());
        if let Some(fin) = self.fin_off {
            target = target.min(fin);
        }
        self.skip_to(target, meta, env);
        self.check_fin(meta, env);
    }

    /// Places payload from this side whose first byte has sequence number `seq`.
    pub fn data<H: StreamHandler>(
        &mut self,
        seq: u32,
        payload: &[u8],
        meta: SegmentMeta,
        env: &mut Env<H>,
    ) {
        if payload.is_empty() || *env.ignored {
            return;
        }
        let payload = payload
            .get(..MAX_AHEAD.unsigned_abs() as usize)
            .unwrap_or(payload);
        if !self.anchored {
            self.anchor(seq);
        }
        self.choose_isn(seq);
        let ahead = seq::distance(self.next_seq, seq);
        if ahead > MAX_AHEAD {
            env.out_of_window();
            return;
        }
        if ahead == -1 && payload.len() == 1 {
            // A keep-alive probe (RFC 9293 §3.8.4) repeats the last byte, and
            // stacks may send any value in it: neither data nor a retransmission.
            env.keep_alive();
            return;
        }
        self.has_data = true;
        let (start, payload) = self.locate(ahead, payload, env);
        let payload = self.clip_at_fin(start, payload, meta, env);
        self.place(start, payload, meta, env);
        self.check_fin(meta, env);
    }

    /// Records a FIN from this side with sequence number `seq` (after the segment's payload).
    pub fn fin<H: StreamHandler>(&mut self, seq: u32, meta: SegmentMeta, env: &mut Env<H>) {
        self.fin_seen = true;
        if *env.ignored || self.fin_off.is_some() {
            return;
        }
        if !self.anchored {
            self.anchor(seq);
        }
        let ahead = seq::distance(self.next_seq, seq);
        if ahead > MAX_AHEAD {
            env.out_of_window();
            return;
        }
        // A FIN behind the delivery point can only close the stream at the delivery point.
        let fin = self.next_off.saturating_add(ahead.max(0).unsigned_abs());
        self.fin_off = Some(fin);
        let (dropped, freed) = self.reorder.truncate_from(fin);
        env.shared.refund(freed);
        if dropped > 0 {
            env.after_fin(fin, dropped, meta);
        }
        self.check_fin(meta, env);
    }

    /// Flushes the side as the flow ends: gives up every remaining hole,
    /// delivers what is buffered, and reports the FIN if one was seen.
    pub fn flush<H: StreamHandler>(&mut self, meta: SegmentMeta, env: &mut Env<H>) {
        if *env.ignored {
            return;
        }
        let target = self.reorder.last_end().max(self.fin_off);
        if let Some(target) = target {
            self.skip_to(target, meta, env);
        }
        self.check_fin(meta, env);
    }

    /// Frees all buffered memory, returning it to the shared budget.
    pub fn release(&mut self, shared: &mut Shared) {
        shared.refund(self.reorder.clear());
        if let Some(recent) = self.recent.take() {
            shared.compare = shared.compare.saturating_sub(recent.capacity());
            shared.recycle_ring(recent.into_ring());
        }
    }

    fn anchor(&mut self, next_seq: u32) {
        self.anchored = true;
        self.next_seq = next_seq;
    }

    /// Moves the anchor, before any data, to the SYN that `seq` fits best.
    fn choose_isn(&mut self, seq: u32) {
        if self.isn_confirmed || self.has_data {
            return;
        }
        if let Some(isn) = self.isns.nearest_below(seq) {
            self.anchor(isn.wrapping_add(1));
        }
    }

    /// Returns the stream offset of a segment `ahead` bytes from the delivery
    /// point. Bytes from before the side's first byte are cut off, because they
    /// cannot be placed.
    fn locate<'p, H: StreamHandler>(
        &self,
        ahead: i64,
        payload: &'p [u8],
        env: &mut Env<H>,
    ) -> (u64, &'p [u8]) {
        let back = ahead.min(0).unsigned_abs();
        if ahead >= 0 || back <= self.next_off {
            let start = self.next_off.saturating_add(ahead.max(0).unsigned_abs());
            return (start.saturating_sub(back), payload);
        }
        let (cut, rest) = split(payload, back.saturating_sub(self.next_off));
        env.retransmitted(cut.len() as u64);
        (0, rest)
    }

    /// Drops payload beyond a known FIN, reporting it.
    fn clip_at_fin<'p, H: StreamHandler>(
        &self,
        start: u64,
        payload: &'p [u8],
        meta: SegmentMeta,
        env: &mut Env<H>,
    ) -> &'p [u8] {
        let Some(fin) = self.fin_off else {
            return payload;
        };
        let (kept, dropped) = split(payload, fin.saturating_sub(start));
        if !dropped.is_empty() {
            env.after_fin(start.max(fin), dropped.len() as u64, meta);
        }
        kept
    }

    /// Puts `data` (at stream offset `start`) where it belongs: delivered if it
    /// continues the stream, buffered if ahead, compared and dropped if old.
    fn place<H: StreamHandler>(
        &mut self,
        mut start: u64,
        mut data: &[u8],
        meta: SegmentMeta,
        env: &mut Env<H>,
    ) {
        // Each pass either returns or moves `next_off` forward past a hole.
        loop {
            if *env.ignored {
                return;
            }
            if start < self.next_off {
                let (seen, rest) = split(data, self.next_off.saturating_sub(start));
                self.recheck(start, seen, meta, env);
                (start, data) = (self.next_off, rest);
            }
            if data.is_empty() {
                return;
            }
            if start == self.next_off {
                self.deliver_in_order(data, meta, env);
                return;
            }
            let survey = self.reorder.survey(start, data);
            if survey.cost == 0 || self.fits(survey.cost, env) {
                self.store(start, data, &survey, meta, env);
                return;
            }
            if !self.give_up_first_hole(meta, env) {
                // Nothing is buffered on this side, so the hole this segment
                // would wait behind is the one given up.
                self.gap(start.saturating_sub(self.next_off), meta, env);
            }
        }
    }

    /// Returns whether `cost` more bytes of out-of-order memory are allowed,
    /// counting the limit that rejects them.
    fn fits<H: StreamHandler>(&self, cost: usize, env: &mut Env<H>) -> bool {
        let limits = env.shared.limits;
        let flow = env
            .other_cost
            .saturating_add(self.reorder.cost())
            .saturating_add(cost);
        let stats = &mut env.shared.stats;
        if flow > limits.max_buffered_per_flow {
            stats.per_flow_limit_hits = stats.per_flow_limit_hits.saturating_add(1);
            return false;
        }
        if env.shared.buffered.saturating_add(cost) > limits.max_buffered_total {
            stats.total_limit_hits = stats.total_limit_hits.saturating_add(1);
            return false;
        }
        true
    }

    /// Buffers the fresh parts of an out-of-order segment.
    fn store<H: StreamHandler>(
        &mut self,
        start: u64,
        data: &[u8],
        survey: &Survey,
        meta: SegmentMeta,
        env: &mut Env<H>,
    ) {
        env.retransmitted(survey.overlap.compared);
        env.compared(survey.overlap, meta);
        if survey.cost == 0 {
            return;
        }
        let cost = self.reorder.commit(start, data, survey, meta);
        env.shared.charge(cost);
        let stats = &mut env.shared.stats;
        stats.out_of_order_segments = stats.out_of_order_segments.saturating_add(1);
        let counters = &mut env.counters;
        counters.out_of_order_segments = counters.out_of_order_segments.saturating_add(1);
    }

    /// Bytes at `start` that were already delivered or given up: dropped, but
    /// compared with the delivered copy where it is still kept.
    fn recheck<H: StreamHandler>(
        &self,
        start: u64,
        seen: &[u8],
        meta: SegmentMeta,
        env: &mut Env<H>,
    ) {
        env.retransmitted(seen.len() as u64);
        if let Some(recent) = &self.recent {
            env.compared(recent.compare(start, seen), meta);
        }
    }

    /// Delivers `data`, which starts at the delivery point, straight from the
    /// caller's buffer, except where a buffered chunk already contains the
    /// bytes (first copy wins). Then delivers the chunks it made contiguous.
    fn deliver_in_order<H: StreamHandler>(
        &mut self,
        data: &[u8],
        meta: SegmentMeta,
        env: &mut Env<H>,
    ) {
        let mut rest = data;
        while !rest.is_empty() && !*env.ignored {
            let end = self.next_off.saturating_add(rest.len() as u64);
            let Some(chunk_start) = self.reorder.first_start().filter(|&s| s < end) else {
                self.emit(rest, meta, env);
                break;
            };
            let (now, later) = split(rest, chunk_start.saturating_sub(self.next_off));
            self.emit(now, meta, env);
            let Some((_, chunk, freed)) = self.reorder.pop_first() else {
                break;
            };
            env.shared.refund(freed);
            let (copy, after) = split(later, chunk.data.len() as u64);
            env.retransmitted(copy.len() as u64);
            env.compared(Comparison::of(self.next_off, &chunk.data, copy), meta);
            self.emit(&chunk.data, chunk.meta, env);
            rest = after;
        }
        self.drain(env);
    }

    /// Delivers buffered chunks while they continue the stream.
    fn drain<H: StreamHandler>(&mut self, env: &mut Env<H>) {
        while let Some(start) = self.reorder.first_start() {
            if start > self.next_off || *env.ignored {
                return;
            }
            let Some((start, chunk, freed)) = self.reorder.pop_first() else {
                return;
            };
            env.shared.refund(freed);
            let (_, fresh) = split(&chunk.data, self.next_off.saturating_sub(start));
            self.emit(fresh, chunk.meta, env);
        }
    }

    /// Gives up every hole before stream offset `target`, delivering the
    /// buffered chunks between them.
    fn skip_to<H: StreamHandler>(&mut self, target: u64, meta: SegmentMeta, env: &mut Env<H>) {
        while self.next_off < target && !*env.ignored {
            match self.reorder.first_start() {
                Some(first) if first <= self.next_off => self.drain(env),
                Some(first) if first < target => {
                    self.gap(first.saturating_sub(self.next_off), meta, env);
                }
                _ => self.gap(target.saturating_sub(self.next_off), meta, env),
            }
        }
        self.drain(env);
    }

    /// Gives up the hole before the earliest buffered chunk; false if nothing is buffered.
    fn give_up_first_hole<H: StreamHandler>(
        &mut self,
        meta: SegmentMeta,
        env: &mut Env<H>,
    ) -> bool {
        let Some(first) = self.reorder.first_start() else {
            return false;
        };
        self.gap(first.saturating_sub(self.next_off), meta, env);
        self.drain(env);
        true
    }

    /// Hands `bytes` (at the delivery point) to the handler and moves past them.
    fn emit<H: StreamHandler>(&mut self, bytes: &[u8], meta: SegmentMeta, env: &mut Env<H>) {
        if bytes.is_empty() {
            return;
        }
        self.remember(bytes, env);
        self.next_off = self.next_off.saturating_add(bytes.len() as u64);
        self.next_seq = seq::advance(self.next_seq, bytes.len() as u64);
        env.data(bytes, meta);
    }

    /// Declares `missing` bytes at the delivery point lost and moves past them.
    fn gap<H: StreamHandler>(&mut self, missing: u64, meta: SegmentMeta, env: &mut Env<H>) {
        if missing == 0 {
            return;
        }
        self.next_off = self.next_off.saturating_add(missing);
        self.next_seq = seq::advance(self.next_seq, missing);
        env.gap(missing, meta);
    }

    /// Keeps the tail of delivered bytes for later comparison.
    fn remember<H: StreamHandler>(&mut self, bytes: &[u8], env: &mut Env<H>) {
        if self.recent.is_none() && !self.compare_refused {
            self.recent = open_window(self.next_off, env.shared);
            self.compare_refused = self.recent.is_none();
        }
        if let Some(recent) = &mut self.recent {
            recent.push(self.next_off, bytes);
        }
    }

    fn check_fin<H: StreamHandler>(&mut self, meta: SegmentMeta, env: &mut Env<H>) {
        if self.fin_reported || self.fin_off.is_none_or(|fin| self.next_off < fin) {
            return;
        }
        self.fin_reported = true;
        env.fin(meta);
    }
}

/// Splits `bytes` after `at` bytes, or after all of them if it is shorter.
fn split(bytes: &[u8], at: u64) -> (&[u8], &[u8]) {
    let at = usize::try_from(at).unwrap_or(usize::MAX).min(bytes.len());
    bytes.split_at_checked(at).unwrap_or((bytes, &[]))
}

/// Allocates a compare window starting at stream offset `at`, if the limits allow one.
fn open_window(at: u64, shared: &mut Shared) -> Option<Recent> {
    let size = shared.limits.compare_window_per_side;
    if size == 0 {
        return None;
    }
    let total = shared.compare.saturating_add(size);
    if total > shared.limits.max_compare_total {
        let stats = &mut shared.stats;
        stats.compare_windows_refused = stats.compare_windows_refused.saturating_add(1);
        return None;
    }
    shared.compare = total;
    shared.stats.peak_compare_bytes = shared.stats.peak_compare_bytes.max(total);
    // Reusing an ended window's ring saves allocating and zeroing one per side.
    Some(match shared.take_ring(size) {
        Some(ring) => Recent::with_ring(ring, at),
        None => Recent::new(size, at),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(isns: &[u32]) -> IsnList {
        let mut list = IsnList::default();
        isns.iter().for_each(|isn| list.push(*isn));
        list
    }

    #[test]
    fn isn_list_ignores_repeat() {
        assert_eq!(list(&[7, 7, 7]).as_slice(), &[7]);
    }

    #[test]
    fn isn_list_forgets_oldest() {
        assert_eq!(list(&[1, 2, 3, 4, 5]).as_slice(), &[2, 3, 4, 5]);
    }

    #[test]
    fn nearest_below_picks_fitting_isn() {
        let isns = list(&[238_755_595, 2_859_879_429, 2_829_651_200]);
        assert_eq!(isns.nearest_below(2_829_651_201), Some(2_829_651_200));
    }

    #[test]
    fn nearest_below_across_wrap() {
        let isns = list(&[u32::MAX - 1, 1_000_000]);
        assert_eq!(isns.nearest_below(20), Some(u32::MAX - 1));
    }

    #[test]
    fn nearest_below_empty_none() {
        assert_eq!(IsnList::default().nearest_below(5), None);
    }

    #[test]
    fn split_short_input_whole() {
        assert_eq!(split(b"abc", 10), (&b"abc"[..], &b""[..]));
    }

    #[test]
    fn split_inside_input() {
        assert_eq!(split(b"abcdef", 2), (&b"ab"[..], &b"cdef"[..]));
    }

    #[test]
    fn open_window_within_total() {
        let mut shared = Shared::default();
        assert!(open_window(0, &mut shared).is_some());
    }

    #[test]
    fn open_window_over_total_refused() {
        let limits = Limits {
            max_compare_total: 10,
            ..Limits::default()
        };
        let mut shared = Shared {
            limits,
            ..Shared::default()
        };
        assert!(open_window(0, &mut shared).is_none());
    }

    #[test]
    fn open_window_charges_total() {
        let mut shared = Shared::default();
        let _ = open_window(0, &mut shared);
        assert_eq!(shared.compare, Limits::default().compare_window_per_side);
    }
}
