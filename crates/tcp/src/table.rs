//! The flow table: finds the flow of each segment, opens and ends flows, and
//! keeps memory and flow count within [`Limits`].

use std::collections::{HashMap, VecDeque};

use crate::flow::{Flow, Lingering};
use crate::handler::{FlowEnd, StreamHandler};
use crate::limits::{FlowCounters, FlowStats, Limits, Shared};
use crate::segment::{CanonKey, FlowKey, Segment, SegmentMeta};

/// A map keyed by flow, hashed once per segment.
///
/// The keys come from the capture, so a hostile capture chooses them. foldhash's
/// `RandomState` draws a random seed for every map, which keeps crafted colliding
/// four-tuples from degrading lookups, and it spends a fraction of the instructions
/// per key that the standard library's SipHash does.
type FlowMap<V> = HashMap<CanonKey, V, foldhash::fast::RandomState>;

/// A flow's place in one of the age queues.
#[derive(Clone, Copy, Debug)]
struct Entry {
    key: CanonKey,
    id: u64,
    /// Table clock when queued, in nanoseconds.
    stamp: i64,
}

/// Reassembles every TCP connection of a capture and hands each one's streams
/// to its own [`StreamHandler`].
///
/// Per segment the work is a hash lookup plus amortised O(1) queue upkeep;
/// in-order payload is passed to the handler without copying or allocating.
/// Time is the capture's: the table clock is the latest segment timestamp seen,
/// so captures whose timestamps step backwards do not end flows early.
///
/// Flows still open when the table is dropped get no `on_end`; call
/// [`FlowTable::finish`] first.
pub struct FlowTable<H: StreamHandler> {
    /// Open flows, boxed: a flow with its handler is kilobytes, and the map
    /// moves its values when it grows and on every insert and removal.
    flows: FlowMap<Box<Flow<H>>>,
    lingering: FlowMap<Lingering>,
    /// Open flows, roughly least recently active first: an entry is requeued
    /// with a fresh stamp only when it reaches the front, so a flow ends after
    /// between one and two idle timeouts of silence.
    activity: VecDeque<Entry>,
    /// Lingering flows in the order they closed.
    closings: VecDeque<Entry>,
    /// Flows draining after a RST, in the order of their RST.
    resets: VecDeque<Entry>,
    shared: Shared,
    now: i64,
    next_id: u64,
}

impl<H: StreamHandler> FlowTable<H> {
    /// Creates an empty table.
    pub fn new(limits: Limits) -> Self {
        FlowTable {
            flows: FlowMap::default(),
            lingering: FlowMap::default(),
            activity: VecDeque::new(),
            closings: VecDeque::new(),
            resets: VecDeque::new(),
            shared: Shared {
                limits,
                ..Shared::default()
            },
            now: i64::MIN,
            next_id: 0,
        }
    }

    /// Feeds one segment; `new_handler` is called when the segment opens a new flow.
    ///
    /// A segment opens a flow when it carries SYN or payload (and no RST);
    /// anything else for an unknown four-tuple is counted in
    /// [`FlowStats::segments_ignored`].
    pub fn segment(
        &mut self,
        seg: &Segment<'_>,
        meta: SegmentMeta,
        ctx: &mut H::Context,
        new_handler: impl FnOnce(&FlowKey, SegmentMeta) -> H,
    ) {
        let stats = &mut self.shared.stats;
        stats.segments = stats.segments.saturating_add(1);
        self.now = self.now.max(meta.timestamp_ns);
        self.expire(ctx);
        let canon = CanonKey::new(seg.src, seg.dst);
        if let Some(flow) = self.flows.get_mut(&canon) {
            if !flow.is_reuse(seg) {
                let was_reset = flow.reset().is_some();
                let end = flow.on_segment(seg, meta, self.now, ctx, &mut self.shared);
                if !was_reset && flow.reset().is_some() {
                    let id = flow.id;
                    self.resets.push_back(Entry {
                        key: canon,
                        id,
                        stamp: self.now,
                    });
                }
                if let Some(end) = end {
                    self.end_flow(canon, end, meta, ctx);
                }
                return;
            }
            self.end_flow(canon, FlowEnd::PortReused, meta, ctx);
        }
        let absorbed = self
            .lingering
            .get(&canon)
            .is_some_and(|closed| !closed.starts_new(seg));
        if absorbed || !opens_flow(seg) {
            let stats = &mut self.shared.stats;
            stats.segments_ignored = stats.segments_ignored.saturating_add(1);
            return;
        }
        self.lingering.remove(&canon);
        self.open(canon, seg, meta, ctx, new_handler);
    }

    /// Ends every open flow (delivers what can be delivered, reports gaps) with
    /// [`FlowEnd::EndOfInput`], or [`FlowEnd::Reset`] for a flow draining after
    /// a RST, in the order the flows opened. The table is
    /// empty afterwards and may be fed again.
    pub fn finish(&mut self, ctx: &mut H::Context) {
        let mut flows: Vec<Box<Flow<H>>> = self.flows.drain().map(|(_, flow)| flow).collect();
        flows.sort_by_key(|flow| flow.id);
        for flow in flows {
            // A flow still draining after its RST ended by that RST.
            let (end, meta) = match flow.reset() {
                Some((by, _, meta)) => (FlowEnd::Reset { by }, meta),
                None => (FlowEnd::EndOfInput, flow.last_meta),
            };
            self.retire(flow, end, meta, ctx);
        }
        self.lingering.clear();
        self.activity.clear();
        self.closings.clear();
        self.resets.clear();
    }

    /// Counters over the table's life.
    pub fn stats(&self) -> &FlowStats {
        &self.shared.stats
    }

    /// Flows open now (not counting closed flows that linger).
    pub fn open_flows(&self) -> usize {
        self.flows.len()
    }

    /// Counters of one open flow, found in either orientation; `None` once it ended.
    pub fn flow_counters(&self, key: &FlowKey) -> Option<FlowCounters> {
        self.flows
            .get(&CanonKey::from(key))
            .map(|flow| flow.counters)
    }

    /// Returns the limits the table was built with.
    pub fn limits(&self) -> &Limits {
        &self.shared.limits
    }

    fn open(
        &mut self,
        canon: CanonKey,
        seg: &Segment<'_>,
        meta: SegmentMeta,
        ctx: &mut H::Context,
        new_handler: impl FnOnce(&FlowKey, SegmentMeta) -> H,
    ) {
        self.make_room(ctx);
        let key = FlowKey::orient(seg);
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        let mut flow = Box::new(Flow::new(id, key, new_handler(&key, meta), self.now, meta));
        let stats = &mut self.shared.stats;
        stats.flows_opened = stats.flows_opened.saturating_add(1);
        if let Some(end) = flow.on_segment(seg, meta, self.now, ctx, &mut self.shared) {
            self.retire(flow, end, meta, ctx);
            return;
        }
        self.activity.push_back(Entry {
            key: canon,
            id,
            stamp: self.now,
        });
        self.flows.insert(canon, flow);
    }

    fn end_flow(&mut self, canon: CanonKey, end: FlowEnd, meta: SegmentMeta, ctx: &mut H::Context) {
        if let Some(flow) = self.flows.remove(&canon) {
            self.retire(flow, end, meta, ctx);
        }
    }

    /// Counts the end, remembers a closed flow for a while, and ends `flow`.
    fn retire(
        &mut self,
        flow: Box<Flow<H>>,
        end: FlowEnd,
        meta: SegmentMeta,
        ctx: &mut H::Context,
    ) {
        let stats = &mut self.shared.stats;
        let counter = match end {
            FlowEnd::Closed => &mut stats.flows_closed,
            FlowEnd::Reset { .. } => &mut stats.flows_reset,
            FlowEnd::IdleTimeout => &mut stats.flows_idle_timeout,
            FlowEnd::Evicted => &mut stats.flows_evicted,
            FlowEnd::EndOfInput => &mut stats.flows_end_of_input,
            FlowEnd::PortReused => &mut stats.flows_port_reused,
        };
        *counter = counter.saturating_add(1);
        let closes = matches!(end, FlowEnd::Closed | FlowEnd::Reset { .. });
        if closes && self.shared.limits.closed_linger_ns > 0 {
            let canon = CanonKey::from(&flow.key);
            self.lingering.insert(canon, flow.lingering());
            self.closings.push_back(Entry {
                key: canon,
                id: flow.id,
                stamp: self.now,
            });
        }
        flow.end(end, meta, ctx, &mut self.shared);
    }

    /// Forgets lingering flows past their time and ends idle ones.
    fn expire(&mut self, ctx: &mut H::Context) {
        let linger = self.shared.limits.closed_linger_ns;
        while let Some(entry) = self.closings.front().copied() {
            if entry.stamp.saturating_add(linger) >= self.now {
                break;
            }
            self.closings.pop_front();
            self.forget_lingering(entry);
        }
        self.expire_resets(ctx);
        let timeout = self.shared.limits.idle_timeout_ns;
        if timeout > 0 {
            self.expire_idle(timeout, ctx);
        }
        self.compact();
    }

    /// Ends reset flows whose drain time has passed, with the RST's meta.
    fn expire_resets(&mut self, ctx: &mut H::Context) {
        let drain = self.shared.limits.reset_drain_ns;
        while let Some(entry) = self.resets.front().copied() {
            if entry.stamp.saturating_add(drain) >= self.now {
                return;
            }
            self.resets.pop_front();
            let reset = self
                .flows
                .get(&entry.key)
                .filter(|flow| flow.id == entry.id)
                .and_then(|flow| flow.reset());
            if let Some((by, _, meta)) = reset {
                self.end_flow(entry.key, FlowEnd::Reset { by }, meta, ctx);
            }
        }
    }

    fn expire_idle(&mut self, timeout: i64, ctx: &mut H::Context) {
        while let Some(entry) = self.activity.front().copied() {
            if entry.stamp.saturating_add(timeout) >= self.now {
                return;
            }
            self.activity.pop_front();
            let Some(flow) = self
                .flows
                .get(&entry.key)
                .filter(|flow| flow.id == entry.id)
            else {
                continue;
            };
            if flow.last_seen.saturating_add(timeout) >= self.now {
                // Active since it was queued: look again a timeout after that activity.
                self.activity.push_back(Entry {
                    stamp: flow.last_seen,
                    ..entry
                });
                continue;
            }
            let meta = flow.last_meta;
            self.end_flow(entry.key, FlowEnd::IdleTimeout, meta, ctx);
        }
    }

    /// Frees a slot for a new flow: lingering flows go first, oldest first,
    /// then the least recently active open flow is evicted.
    fn make_room(&mut self, ctx: &mut H::Context) {
        let cap = self.shared.limits.max_flows.max(1);
        while self.flows.len().saturating_add(self.lingering.len()) >= cap {
            if let Some(entry) = self.closings.pop_front() {
                self.forget_lingering(entry);
                continue;
            }
            if !self.evict_one(ctx) {
                return;
            }
        }
    }

    /// Evicts the front open flow that has not been active since it was queued
    /// (a flow that has gets one more round: second-chance order).
    fn evict_one(&mut self, ctx: &mut H::Context) -> bool {
        while let Some(entry) = self.activity.pop_front() {
            let Some(flow) = self
                .flows
                .get(&entry.key)
                .filter(|flow| flow.id == entry.id)
            else {
                continue;
            };
            if flow.last_seen > entry.stamp {
                self.activity.push_back(Entry {
                    stamp: flow.last_seen,
                    ..entry
                });
                continue;
            }
            let meta = flow.last_meta;
            self.end_flow(entry.key, FlowEnd::Evicted, meta, ctx);
            return true;
        }
        false
    }

    fn forget_lingering(&mut self, entry: Entry) {
        if self
            .lingering
            .get(&entry.key)
            .is_some_and(|closed| closed.id == entry.id)
        {
            self.lingering.remove(&entry.key);
        }
    }

    /// Drops queue entries of flows that are gone, once they outnumber the
    /// live ones; each live flow has exactly one entry, so this runs rarely.
    fn compact(&mut self) {
        let flows = &self.flows;
        if self.activity.len() > flows.len().saturating_mul(2).saturating_add(64) {
            self.activity
                .retain(|e| flows.get(&e.key).is_some_and(|flow| flow.id == e.id));
        }
        let lingering = &self.lingering;
        if self.closings.len() > lingering.len().saturating_mul(2).saturating_add(64) {
            self.closings.retain(|e| {
                lingering
                    .get(&e.key)
                    .is_some_and(|closed| closed.id == e.id)
            });
        }
    }
}

/// Returns whether `seg` may open a flow, which takes a SYN or payload and no RST.
fn opens_flow(seg: &Segment<'_>) -> bool {
    !seg.has(Segment::RST) && (seg.has(Segment::SYN) || !seg.payload.is_empty())
}

#[cfg(test)]
mod tests;
