//! One connection: its two directions, its handler, and the rules that end it.

use crate::half::{Env, HalfStream, IsnList};
use crate::handler::{FlowEnd, StreamHandler};
use crate::limits::{FlowCounters, Shared};
use crate::segment::{FlowKey, Segment, SegmentMeta, Side};
use crate::seq;

/// An open connection.
pub(crate) struct Flow<H> {
    /// Number unique over the table's life, which distinguishes a flow from a
    /// later one on the same four-tuple.
    pub id: u64,
    pub key: FlowKey,
    handler: H,
    client: HalfStream,
    server: HalfStream,
    /// Set once the handler returned Ignore.
    ignored: bool,
    /// Table clock at the last segment, in nanoseconds.
    pub last_seen: i64,
    pub last_meta: SegmentMeta,
    pub counters: FlowCounters,
    /// The first RST: which side sent it, and its table clock and meta.
    reset: Option<(Side, i64, SegmentMeta)>,
}

impl<H: StreamHandler> Flow<H> {
    /// Creates a flow with nothing seen yet.
    pub fn new(id: u64, key: FlowKey, handler: H, now: i64, meta: SegmentMeta) -> Self {
        Flow {
            id,
            key,
            handler,
            client: HalfStream::default(),
            server: HalfStream::default(),
            ignored: false,
            last_seen: now,
            last_meta: meta,
            counters: FlowCounters::default(),
            reset: None,
        }
    }

    /// Returns whether `seg` is a SYN that starts a new connection on this
    /// four-tuple: a bare SYN with a number no SYN of this flow carried, sent
    /// after data or a FIN has flowed. Before that, it is one more handshake
    /// candidate.
    pub fn is_reuse(&self, seg: &Segment<'_>) -> bool {
        if !seg.has(Segment::SYN) || seg.has(Segment::ACK) || seg.has(Segment::RST) {
            return false;
        }
        let side = self.key.side_of(seg.src, seg.dst);
        if self.half(side).isns().contains(seg.seq) {
            return false;
        }
        [&self.client, &self.server]
            .iter()
            .any(|half| half.has_data() || half.fin_seen())
    }

    /// Follows one segment of this flow; returns why the flow ended, if it did.
    pub fn on_segment(
        &mut self,
        seg: &Segment<'_>,
        meta: SegmentMeta,
        now: i64,
        ctx: &mut H::Context,
        shared: &mut Shared,
    ) -> Option<FlowEnd> {
        self.last_seen = now;
        self.last_meta = meta;
        let side = self.key.side_of(seg.src, seg.dst);
        if let Some((by, at, _)) = self.reset {
            if now.saturating_sub(at) > shared.limits.reset_drain_ns {
                return Some(FlowEnd::Reset { by });
            }
            if side == by {
                return None;
            }
        } else if seg.has(Segment::RST) {
            if shared.limits.reset_drain_ns <= 0 {
                return Some(FlowEnd::Reset { by: side });
            }
            self.reset = Some((side, now, meta));
            return None;
        }
        if !self.ignored {
            self.follow(side, seg, meta, ctx, shared);
        }
        if self.ignored {
            self.follow_ignored(side, seg, meta, ctx);
        }
        let closed = self.client.fin_reported() && self.server.fin_reported();
        closed.then_some(FlowEnd::Closed)
    }

    /// Ends the flow: gives up remaining holes, delivers what is buffered,
    /// frees its memory and hands the handler its `on_end`.
    ///
    /// The flow stays in the box the table keeps it in until only the
    /// handler is moved out, which saves copying the whole flow.
    #[expect(
        clippy::boxed_local,
        reason = "taking the flow by value would copy it out of its box"
    )]
    pub fn end(
        mut self: Box<Self>,
        end: FlowEnd,
        meta: SegmentMeta,
        ctx: &mut H::Context,
        shared: &mut Shared,
    ) {
        for side in [Side::Client, Side::Server] {
            self.with(side, ctx, shared, |half, env| half.flush(meta, env));
        }
        self.client.release(shared);
        self.server.release(shared);
        let Flow { handler, key, .. } = *self;
        handler.on_end(ctx, &key, end, meta);
    }

    /// The side that sent the first RST, with the table clock and meta of
    /// that segment, while the flow drains the other side's segments.
    pub fn reset(&self) -> Option<(Side, i64, SegmentMeta)> {
        self.reset
    }

    /// Returns what to remember about the flow once it has closed.
    pub fn lingering(&self) -> Lingering {
        Lingering {
            id: self.id,
            key: self.key,
            client_isns: self.client.isns(),
            server_isns: self.server.isns(),
        }
    }

    fn half(&self, side: Side) -> &HalfStream {
        match side {
            Side::Client => &self.client,
            Side::Server => &self.server,
        }
    }

    fn half_mut(&mut self, side: Side) -> &mut HalfStream {
        match side {
            Side::Client => &mut self.client,
            Side::Server => &mut self.server,
        }
    }

    /// Processes a segment while bytes are followed: SYN, then the ACK (which
    /// concerns the other side and may settle its holes first), then payload
    /// and FIN.
    fn follow(
        &mut self,
        side: Side,
        seg: &Segment<'_>,
        meta: SegmentMeta,
        ctx: &mut H::Context,
        shared: &mut Shared,
    ) {
        let syn = seg.has(Segment::SYN);
        if syn {
            self.half_mut(side).syn(seg.seq);
        }
        if seg.has(Segment::ACK) {
            self.with(side.other(), ctx, shared, |half, env| {
                half.peer_ack(seg.ack, meta, env)
            });
        }
        // Data carried by a SYN (TCP Fast Open, RFC 7413) starts one past the SYN.
        let data_seq = if syn {
            seg.seq.wrapping_add(1)
        } else {
            seg.seq
        };
        self.with(side, ctx, shared, |half, env| {
            half.data(data_seq, seg.payload, meta, env);
            if seg.has(Segment::FIN) {
                let fin_seq = seq::advance(data_seq, seg.payload.len() as u64);
                half.fin(fin_seq, meta, env);
            }
        });
        if self.ignored {
            self.client.release(shared);
            self.server.release(shared);
        }
    }

    /// Reports FINs once the handler has lost interest. They count when seen,
    /// because sequence order is no longer followed.
    fn follow_ignored(
        &mut self,
        side: Side,
        seg: &Segment<'_>,
        meta: SegmentMeta,
        ctx: &mut H::Context,
    ) {
        if seg.has(Segment::FIN) && self.half_mut(side).fin_unordered() {
            self.handler.on_fin(ctx, side, meta);
        }
        for other in [Side::Client, Side::Server] {
            if self.half(other).fin_pending() && self.half_mut(other).fin_unordered() {
                self.handler.on_fin(ctx, other, meta);
            }
        }
    }

    /// Runs `work` on one side with the callbacks wired to this flow's handler.
    fn with<R>(
        &mut self,
        side: Side,
        ctx: &mut H::Context,
        shared: &mut Shared,
        work: impl FnOnce(&mut HalfStream, &mut Env<'_, H>) -> R,
    ) -> R {
        let Flow {
            handler,
            client,
            server,
            ignored,
            counters,
            ..
        } = self;
        let (half, other) = match side {
            Side::Client => (client, &*server),
            Side::Server => (server, &*client),
        };
        let other_cost = other.cost();
        let mut env = Env {
            handler,
            ctx,
            side,
            shared,
            counters,
            ignored,
            other_cost,
        };
        work(half, &mut env)
    }
}

/// A closed flow, remembered for a while so that its late segments (final
/// ACKs, retransmitted FINs, segments racing a RST) are absorbed.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Lingering {
    pub id: u64,
    key: FlowKey,
    client_isns: IsnList,
    server_isns: IsnList,
}

impl Lingering {
    /// Returns whether `seg` opens a new connection, which takes a SYN with a
    /// number the closed flow's SYNs from that side did not carry.
    pub fn starts_new(&self, seg: &Segment<'_>) -> bool {
        if !seg.has(Segment::SYN) || seg.has(Segment::RST) {
            return false;
        }
        let isns = match self.key.side_of(seg.src, seg.dst) {
            Side::Client => &self.client_isns,
            Side::Server => &self.server_isns,
        };
        !isns.contains(seg.seq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{A, R, S, client_addr, down, server_addr, up};

    /// Builds what a closed flow leaves behind after one SYN each way.
    fn closed(client_isn: u32, server_isn: u32) -> Lingering {
        let mut client = HalfStream::default();
        let mut server = HalfStream::default();
        client.syn(client_isn);
        server.syn(server_isn);
        let key = FlowKey {
            client: client_addr(),
            server: server_addr(),
        };
        Lingering {
            id: 0,
            key,
            client_isns: client.isns(),
            server_isns: server.isns(),
        }
    }

    #[test]
    fn lingering_new_syn_starts() {
        assert!(closed(100, 200).starts_new(&up(900, 0, S, b"")));
    }

    #[test]
    fn lingering_old_syn_absorbed() {
        assert!(!closed(100, 200).starts_new(&up(100, 0, S, b"")));
    }

    #[test]
    fn lingering_old_synack_absorbed() {
        assert!(!closed(100, 200).starts_new(&down(200, 101, S | A, b"")));
    }

    #[test]
    fn lingering_data_absorbed() {
        assert!(!closed(100, 200).starts_new(&up(101, 201, A, b"late")));
    }

    #[test]
    fn lingering_syn_rst_absorbed() {
        assert!(!closed(100, 200).starts_new(&up(900, 0, S | R, b"")));
    }
}
