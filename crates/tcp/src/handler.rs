//! The callbacks through which reassembled bytes leave the table.

use crate::segment::{FlowKey, SegmentMeta, Side};

/// Handler's request after seeing some bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interest {
    /// Keep reassembling and delivering this flow.
    Continue,
    /// Stop buffering and delivering this flow's bytes (both sides). The table
    /// still follows FIN and RST, so [`StreamHandler::on_fin`] and
    /// [`StreamHandler::on_end`] still come.
    Ignore,
}

/// Reason a flow ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlowEnd {
    /// Both sides' FINs were reached in sequence order.
    Closed,
    /// A RST was seen.
    Reset {
        /// The side that sent the RST.
        by: Side,
    },
    /// No segment arrived for [`Limits::idle_timeout_ns`](crate::Limits) of capture time.
    IdleTimeout,
    /// The table was full ([`Limits::max_flows`](crate::Limits)) and this flow
    /// had been inactive for longest (by second-chance order).
    Evicted,
    /// [`FlowTable::finish`](crate::FlowTable::finish) was called.
    EndOfInput,
    /// A SYN with a new initial sequence number reused the four-tuple after the
    /// flow had carried data, so a new connection replaced this one.
    PortReused,
}

/// Something unusual in one side's byte stream, reported as it is found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Anomaly {
    /// A retransmitted or overlapping segment carried bytes that differ from the
    /// copy seen first. The first copy was kept (and has been or will be
    /// delivered); injection and tampering show up this way.
    OverlapMismatch {
        /// Stream offset of the first compared byte.
        offset: u64,
        /// Bytes compared.
        compared: u64,
        /// Bytes among them that differ.
        differing: u64,
    },
    /// Payload beyond this side's FIN; it was dropped.
    DataAfterFin {
        /// Stream offset of the first dropped byte.
        offset: u64,
        /// Bytes dropped.
        len: u64,
    },
}

/// Receives one flow's reassembled streams. One handler exists per flow; the
/// table creates it when the flow opens and consumes it in [`on_end`](Self::on_end).
///
/// Stream offsets count payload bytes from the first byte after the SYN. When
/// the handshake was not captured they count from the first byte seen. Bytes
/// reported as gaps count too.
pub trait StreamHandler: Sized {
    /// Caller state shared by every flow (output sinks, counters).
    type Context;

    /// In-order bytes for one side. For in-order segments this is a slice of
    /// the caller's payload (no copy).
    fn on_data(
        &mut self,
        ctx: &mut Self::Context,
        side: Side,
        data: &[u8],
        meta: SegmentMeta,
    ) -> Interest;

    /// Bytes that will never arrive (lost, or never captured); data resumes after them.
    fn on_gap(
        &mut self,
        ctx: &mut Self::Context,
        side: Side,
        missing_bytes: u64,
        meta: SegmentMeta,
    );

    /// A FIN from this side has been reached in sequence order.
    fn on_fin(&mut self, _ctx: &mut Self::Context, _side: Side, _meta: SegmentMeta) {}

    /// Reports something unusual seen on one side. The default does nothing.
    fn on_anomaly(
        &mut self,
        _ctx: &mut Self::Context,
        _side: Side,
        _anomaly: Anomaly,
        _meta: SegmentMeta,
    ) {
    }

    /// The flow is over; the handler is consumed.
    fn on_end(self, ctx: &mut Self::Context, key: &FlowKey, end: FlowEnd, meta: SegmentMeta);
}
