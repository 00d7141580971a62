//! Bounded-memory TCP stream reassembly for passive analysis.
//!
//! The caller decodes packets and feeds each TCP segment to a [`FlowTable`].
//! The table keeps one flow per connection and hands each side's byte stream,
//! in sequence order, to that flow's [`StreamHandler`]: contiguous bytes
//! through [`StreamHandler::on_data`], bytes that will never arrive through
//! [`StreamHandler::on_gap`], and the end through [`StreamHandler::on_end`].
//!
//! The policy, in short:
//!
//! - **Orientation.** The SYN sender is the client, and so is a SYN-ACK's
//!   receiver. A flow first seen mid-stream takes the higher port as the
//!   client, or the first sender when ports are equal. See [`FlowKey`].
//! - **Sequence space.** Numbers wrap at 2^32 and are compared as serial
//!   numbers. A side's stream starts one past its SYN, or at its first segment
//!   (or the peer's first ACK) when the handshake was missed. When several
//!   SYN-ACKs disagree, the one the client acknowledges wins; before that
//!   acknowledgement, the first data chooses the SYN-ACK it fits.
//! - **Overlaps.** The first copy of every byte wins. Later copies are dropped
//!   and counted; where they differ from the first copy the handler hears
//!   [`Anomaly::OverlapMismatch`] (compared against buffered bytes, or against
//!   the last [`Limits::compare_window_per_side`] delivered bytes).
//! - **Holes.** A hole is given up, reported as a gap, when the peer
//!   acknowledges past it (the peer has the bytes, the capture does not), when
//!   a buffer limit is hit (the earliest hole of the side that needs room goes
//!   first), or when the flow ends.
//! - **Ends.** FIN both ways (reached in order), RST, idle timeout in capture
//!   time, eviction when the table is full, a new SYN on the four-tuple, or
//!   [`FlowTable::finish`]. Closed flows linger for
//!   [`Limits::closed_linger_ns`] to absorb their late segments.
#![forbid(unsafe_code)]

mod flow;
mod half;
mod handler;
mod limits;
mod recent;
mod reorder;
mod segment;
mod seq;
mod table;
#[cfg(test)]
mod testkit;

pub use handler::{Anomaly, FlowEnd, Interest, StreamHandler};
pub use limits::{FlowCounters, FlowStats, Limits};
pub use reorder::CHUNK_COST;
pub use segment::{FlowKey, Segment, SegmentMeta, Side};
pub use table::FlowTable;
