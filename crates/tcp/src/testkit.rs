//! A recording handler and segment builders shared by the unit tests.

use std::net::SocketAddr;

use crate::handler::{Anomaly, FlowEnd, Interest, StreamHandler};
use crate::segment::{FlowKey, Segment, SegmentMeta, Side};

/// One callback as the handler saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    Data(Side, Vec<u8>),
    Gap(Side, u64),
    Fin(Side),
    Anomaly(Side, Anomaly),
    End(FlowEnd),
}

/// Everything all handlers saw, in order, tagged with the flow's key.
#[derive(Debug, Default)]
pub struct Log {
    pub events: Vec<(FlowKey, Event)>,
    pub opened: Vec<FlowKey>,
}

impl Log {
    /// Returns the bytes delivered on `side` by every flow, concatenated.
    pub fn bytes(&self, side: Side) -> Vec<u8> {
        let mut out = Vec::new();
        for (_, event) in &self.events {
            match event {
                Event::Data(s, data) if *s == side => out.extend_from_slice(data),
                _ => {}
            }
        }
        out
    }

    /// Events other than data, in order.
    pub fn signals(&self) -> Vec<Event> {
        let events = self.events.iter().map(|(_, event)| event.clone());
        events
            .filter(|event| !matches!(event, Event::Data(..)))
            .collect()
    }

    /// Returns how the flows ended, in order.
    pub fn ends(&self) -> Vec<FlowEnd> {
        let ends = self.events.iter().filter_map(|(_, event)| match event {
            Event::End(end) => Some(*end),
            _ => None,
        });
        ends.collect()
    }
}

/// Records every callback, and returns Ignore once `budget` data bytes have been seen.
pub struct Recorder {
    key: FlowKey,
    budget: Option<usize>,
}

impl Recorder {
    pub fn new(key: &FlowKey) -> Self {
        Recorder {
            key: *key,
            budget: None,
        }
    }

    pub fn ignoring_after(key: &FlowKey, bytes: usize) -> Self {
        Recorder {
            key: *key,
            budget: Some(bytes),
        }
    }
}

impl StreamHandler for Recorder {
    type Context = Log;

    fn on_data(&mut self, ctx: &mut Log, side: Side, data: &[u8], _meta: SegmentMeta) -> Interest {
        ctx.events
            .push((self.key, Event::Data(side, data.to_vec())));
        let Some(budget) = &mut self.budget else {
            return Interest::Continue;
        };
        *budget = budget.saturating_sub(data.len());
        if *budget == 0 {
            Interest::Ignore
        } else {
            Interest::Continue
        }
    }

    fn on_gap(&mut self, ctx: &mut Log, side: Side, missing: u64, _meta: SegmentMeta) {
        ctx.events.push((self.key, Event::Gap(side, missing)));
    }

    fn on_fin(&mut self, ctx: &mut Log, side: Side, _meta: SegmentMeta) {
        ctx.events.push((self.key, Event::Fin(side)));
    }

    fn on_anomaly(&mut self, ctx: &mut Log, side: Side, anomaly: Anomaly, _meta: SegmentMeta) {
        ctx.events.push((self.key, Event::Anomaly(side, anomaly)));
    }

    fn on_end(self, ctx: &mut Log, key: &FlowKey, end: FlowEnd, _meta: SegmentMeta) {
        ctx.events.push((*key, Event::End(end)));
    }
}

pub const CLIENT_PORT: u16 = 50000;
pub const SERVER_PORT: u16 = 443;

pub fn client_addr() -> SocketAddr {
    SocketAddr::from(([192, 168, 1, 10], CLIENT_PORT))
}

pub fn server_addr() -> SocketAddr {
    SocketAddr::from(([10, 0, 0, 1], SERVER_PORT))
}

/// Builds a segment from the client to the server.
pub fn up(seq: u32, ack: u32, flags: u8, payload: &[u8]) -> Segment<'_> {
    Segment {
        src: client_addr(),
        dst: server_addr(),
        seq,
        ack,
        flags,
        payload,
    }
}

/// Builds a segment from the server to the client.
pub fn down(seq: u32, ack: u32, flags: u8, payload: &[u8]) -> Segment<'_> {
    Segment {
        src: server_addr(),
        dst: client_addr(),
        seq,
        ack,
        flags,
        payload,
    }
}

pub const S: u8 = Segment::SYN;
pub const A: u8 = Segment::ACK;
pub const F: u8 = Segment::FIN;
pub const R: u8 = Segment::RST;
pub const P: u8 = Segment::PSH;

/// Builds the meta of packet `packet` at `seconds` of capture time.
pub fn at(packet: u64, seconds: i64) -> SegmentMeta {
    SegmentMeta {
        packet,
        timestamp_ns: seconds.saturating_mul(1_000_000_000),
    }
}
