//! Behaviour of the whole table, driven segment by segment.

use std::net::SocketAddr;

use super::*;
use crate::handler::Anomaly;
use crate::reorder::CHUNK_COST;
use crate::segment::Side;
use crate::testkit::*;

const C_ISN: u32 = 1000;
const S_ISN: u32 = 5000;

/// A table, its log, and a packet counter.
struct Run {
    table: FlowTable<Recorder>,
    log: Log,
    packet: u64,
    ignore_after: Option<usize>,
}

impl Run {
    fn new() -> Self {
        Run::with(Limits::default())
    }

    fn with(limits: Limits) -> Self {
        Run {
            table: FlowTable::new(limits),
            log: Log::default(),
            packet: 0,
            ignore_after: None,
        }
    }

    fn feed(&mut self, seg: Segment<'_>) {
        self.feed_at(seg, 0);
    }

    fn feed_at(&mut self, seg: Segment<'_>, seconds: i64) {
        self.packet += 1;
        let ignore_after = self.ignore_after;
        let opened = &mut self.log.opened;
        let make = |key: &FlowKey, _meta: SegmentMeta| {
            opened.push(*key);
            match ignore_after {
                Some(bytes) => Recorder::ignoring_after(key, bytes),
                None => Recorder::new(key),
            }
        };
        let mut events = Log {
            events: std::mem::take(&mut self.log.events),
            opened: Vec::new(),
        };
        self.table
            .segment(&seg, at(self.packet, seconds), &mut events, make);
        self.log.events = events.events;
    }

    fn finish(&mut self) {
        self.table.finish(&mut self.log);
    }

    fn handshake(&mut self) {
        self.feed(up(C_ISN, 0, S, b""));
        self.feed(down(S_ISN, C_ISN + 1, S | A, b""));
        self.feed(up(C_ISN + 1, S_ISN + 1, A, b""));
    }

    fn stats(&self) -> &FlowStats {
        self.table.stats()
    }
}

fn key() -> FlowKey {
    FlowKey {
        client: client_addr(),
        server: server_addr(),
    }
}

#[test]
fn in_order_client_bytes() {
    let mut run = Run::new();
    run.handshake();
    run.feed(up(C_ISN + 1, S_ISN + 1, P | A, b"hello"));
    run.feed(up(C_ISN + 6, S_ISN + 1, P | A, b" there"));
    assert_eq!(run.log.bytes(Side::Client), b"hello there");
}

#[test]
fn in_order_server_bytes() {
    let mut run = Run::new();
    run.handshake();
    run.feed(down(S_ISN + 1, C_ISN + 1, P | A, b"world"));
    assert_eq!(run.log.bytes(Side::Server), b"world");
}

#[test]
fn in_order_reports_no_gap() {
    let mut run = Run::new();
    run.handshake();
    run.feed(up(C_ISN + 1, S_ISN + 1, P | A, b"hello"));
    run.finish();
    assert_eq!(run.log.signals(), vec![Event::End(FlowEnd::EndOfInput)]);
}

#[test]
fn out_of_order_reassembled() {
    let mut run = Run::new();
    run.handshake();
    run.feed(up(C_ISN + 6, S_ISN + 1, A, b"world"));
    run.feed(up(C_ISN + 1, S_ISN + 1, A, b"hello"));
    assert_eq!(run.log.bytes(Side::Client), b"helloworld");
}

#[test]
fn out_of_order_counted() {
    let mut run = Run::new();
    run.handshake();
    run.feed(up(C_ISN + 6, S_ISN + 1, A, b"world"));
    run.feed(up(C_ISN + 1, S_ISN + 1, A, b"hello"));
    assert_eq!(run.stats().out_of_order_segments, 1);
}

#[test]
fn out_of_order_memory_returned() {
    let mut run = Run::new();
    run.handshake();
    run.feed(up(C_ISN + 6, S_ISN + 1, A, b"world"));
    run.feed(up(C_ISN + 1, S_ISN + 1, A, b"hello"));
    assert_eq!(run.table.shared.buffered, 0);
}

#[test]
fn retransmission_delivered_once() {
    let mut run = Run::new();
    run.handshake();
    run.feed(up(C_ISN + 1, S_ISN + 1, A, b"hello"));
    run.feed(up(C_ISN + 1, S_ISN + 1, A, b"hello"));
    assert_eq!(run.log.bytes(Side::Client), b"hello");
}

#[test]
fn retransmission_bytes_counted() {
    let mut run = Run::new();
    run.handshake();
    run.feed(up(C_ISN + 1, S_ISN + 1, A, b"hello"));
    run.feed(up(C_ISN + 1, S_ISN + 1, A, b"hello"));
    assert_eq!(run.stats().retransmitted_bytes, 5);
}

#[test]
fn retransmission_same_bytes_no_anomaly() {
    let mut run = Run::new();
    run.handshake();
    run.feed(up(C_ISN + 1, S_ISN + 1, A, b"hello"));
    run.feed(up(C_ISN + 1, S_ISN + 1, A, b"hello"));
    assert_eq!(run.stats().overlaps_disagreed, 0);
}

#[test]
fn retransmission_changed_bytes_flagged() {
    let mut run = Run::new();
    run.handshake();
    run.feed(up(C_ISN + 1, S_ISN + 1, A, b"hello"));
    run.feed(up(C_ISN + 1, S_ISN + 1, A, b"jello"));
    let mismatch = Anomaly::OverlapMismatch {
        offset: 0,
        compared: 5,
        differing: 1,
    };
    assert_eq!(
        run.log.signals(),
        vec![Event::Anomaly(Side::Client, mismatch)]
    );
}

#[test]
fn retransmission_changed_first_copy_wins() {
    let mut run = Run::new();
    run.handshake();
    run.feed(up(C_ISN + 1, S_ISN + 1, A, b"hello"));
    run.feed(up(C_ISN + 1, S_ISN + 1, A, b"jello!"));
    assert_eq!(run.log.bytes(Side::Client), b"hello!");
}

#[test]
fn retransmission_mismatch_per_flow() {
    let mut run = Run::new();
    run.handshake();
    run.feed(up(C_ISN + 1, S_ISN + 1, A, b"hello"));
    run.feed(up(C_ISN + 1, S_ISN + 1, A, b"jello"));
    let counters = run.table.flow_counters(&key()).unwrap_or_default();
    assert_eq!(counters.overlaps_disagreed, 1);
}

#[test]
fn retransmission_unchecked_without_window() {
    let limits = Limits {
        compare_window_per_side: 0,
        ..Limits::default()
    };
    let mut run = Run::with(limits);
    run.handshake();
    run.feed(up(C_ISN + 1, S_ISN + 1, A, b"hello"));
    run.feed(up(C_ISN + 1, S_ISN + 1, A, b"jello"));
    assert_eq!(run.stats().overlaps_disagreed, 0);
}

#[test]
fn keep_alive_not_compared() {
    let mut run = Run::new();
    run.handshake();
    run.feed(up(C_ISN + 1, S_ISN + 1, A, b"hello"));
    run.feed(up(C_ISN + 5, S_ISN + 1, A, b"\0"));
    assert_eq!(run.log.signals(), Vec::new());
}

#[test]
fn keep_alive_counted() {
    let mut run = Run::new();
    run.handshake();
    run.feed(up(C_ISN + 1, S_ISN + 1, A, b"hello"));
    run.feed(up(C_ISN + 5, S_ISN + 1, A, b"\0"));
    assert_eq!(run.stats().keep_alive_probes, 1);
}

#[test]
fn one_byte_gap_on_ack() {
    let mut run = Run::new();
    run.handshake();
    run.feed(up(C_ISN + 1, S_ISN + 1, A, b"hello"));
    run.feed(down(S_ISN + 1, C_ISN + 7, A, b""));
    assert_eq!(run.log.signals(), vec![Event::Gap(Side::Client, 1)]);
}

#[test]
fn partial_overlap_same_bytes() {
    let mut run = Run::new();
    run.handshake();
    run.feed(up(C_ISN + 3, S_ISN + 1, A, b"cdef"));
    run.feed(up(C_ISN + 1, S_ISN + 1, A, b"abcd"));
    assert_eq!(run.log.bytes(Side::Client), b"abcdef");
}

#[test]
fn partial_overlap_same_not_flagged() {
    let mut run = Run::new();
    run.handshake();
    run.feed(up(C_ISN + 3, S_ISN + 1, A, b"cdef"));
    run.feed(up(C_ISN + 1, S_ISN + 1, A, b"abcd"));
    assert_eq!(run.stats().overlaps_disagreed, 0);
}

#[test]
fn partial_overlap_different_first_wins() {
    let mut run = Run::new();
    run.handshake();
    run.feed(up(C_ISN + 3, S_ISN + 1, A, b"cdef"));
    run.feed(up(C_ISN + 1, S_ISN + 1, A, b"abXY"));
    assert_eq!(run.log.bytes(Side::Client), b"abcdef");
}

#[test]
fn partial_overlap_different_flagged() {
    let mut run = Run::new();
    run.handshake();
    run.feed(up(C_ISN + 3, S_ISN + 1, A, b"cdef"));
    run.feed(up(C_ISN + 1, S_ISN + 1, A, b"abXY"));
    let mismatch = Anomaly::OverlapMismatch {
        offset: 2,
        compared: 2,
        differing: 2,
    };
    assert_eq!(
        run.log.signals(),
        vec![Event::Anomaly(Side::Client, mismatch)]
    );
}

#[test]
fn partial_overlap_between_buffered() {
    let mut run = Run::new();
    run.handshake();
    run.feed(up(C_ISN + 3, S_ISN + 1, A, b"cd"));
    run.feed(up(C_ISN + 7, S_ISN + 1, A, b"gh"));
    run.feed(up(C_ISN + 2, S_ISN + 1, A, b"bcdefg"));
    run.feed(up(C_ISN + 1, S_ISN + 1, A, b"a"));
    assert_eq!(run.log.bytes(Side::Client), b"abcdefgh");
}

#[test]
fn partial_overlap_with_delivered() {
    let mut run = Run::new();
    run.handshake();
    run.feed(up(C_ISN + 1, S_ISN + 1, A, b"abcd"));
    run.feed(up(C_ISN + 3, S_ISN + 1, A, b"cdef"));
    assert_eq!(run.log.bytes(Side::Client), b"abcdef");
}

#[test]
fn wrap_around_in_order() {
    let isn = u32::MAX - 2;
    let mut run = Run::new();
    run.feed(up(isn, 0, S, b""));
    run.feed(up(isn.wrapping_add(1), 0, A, b"ab"));
    run.feed(up(0, 0, A, b"cd"));
    run.feed(up(2, 0, A, b"ef"));
    assert_eq!(run.log.bytes(Side::Client), b"abcdef");
}

#[test]
fn wrap_around_out_of_order() {
    let isn = u32::MAX - 2;
    let mut run = Run::new();
    run.feed(up(isn, 0, S, b""));
    run.feed(up(2, 0, A, b"ef"));
    run.feed(up(0, 0, A, b"cd"));
    run.feed(up(isn.wrapping_add(1), 0, A, b"ab"));
    assert_eq!(run.log.bytes(Side::Client), b"abcdef");
}

#[test]
fn wrap_around_ack_gap() {
    let isn = u32::MAX - 2;
    let mut run = Run::new();
    run.feed(up(isn, 0, S, b""));
    run.feed(up(isn.wrapping_add(1), 0, A, b"ab"));
    run.feed(down(S_ISN, 4, S | A, b""));
    assert_eq!(run.log.signals(), vec![Event::Gap(Side::Client, 4)]);
}

#[test]
fn gap_reported_on_peer_ack() {
    let mut run = Run::new();
    run.handshake();
    run.feed(up(C_ISN + 1, S_ISN + 1, A, b"hello"));
    run.feed(up(C_ISN + 11, S_ISN + 1, A, b"world"));
    run.feed(down(S_ISN + 1, C_ISN + 16, A, b""));
    assert_eq!(run.log.signals(), vec![Event::Gap(Side::Client, 5)]);
}

#[test]
fn gap_then_data_continues() {
    let mut run = Run::new();
    run.handshake();
    run.feed(up(C_ISN + 1, S_ISN + 1, A, b"hello"));
    run.feed(up(C_ISN + 11, S_ISN + 1, A, b"world"));
    run.feed(down(S_ISN + 1, C_ISN + 16, A, b""));
    run.feed(up(C_ISN + 16, S_ISN + 1, A, b"!"));
    assert_eq!(run.log.bytes(Side::Client), b"helloworld!");
}

#[test]
fn gap_late_bytes_dropped() {
    let mut run = Run::new();
    run.handshake();
    run.feed(up(C_ISN + 1, S_ISN + 1, A, b"hello"));
    run.feed(down(S_ISN + 1, C_ISN + 11, A, b""));
    run.feed(up(C_ISN + 6, S_ISN + 1, A, b"late!"));
    assert_eq!(run.log.bytes(Side::Client), b"hello");
}

#[test]
fn gap_reported_at_finish() {
    let mut run = Run::new();
    run.handshake();
    run.feed(up(C_ISN + 1, S_ISN + 1, A, b"hello"));
    run.feed(up(C_ISN + 11, S_ISN + 1, A, b"world"));
    run.finish();
    let expected = vec![Event::Gap(Side::Client, 5), Event::End(FlowEnd::EndOfInput)];
    assert_eq!(run.log.signals(), expected);
}

#[test]
fn gap_bytes_counted() {
    let mut run = Run::new();
    run.handshake();
    run.feed(up(C_ISN + 11, S_ISN + 1, A, b"world"));
    run.finish();
    assert_eq!(run.stats().gap_bytes, 10);
}

#[test]
fn orientation_from_syn() {
    let mut run = Run::new();
    run.feed(up(C_ISN, 0, S, b""));
    assert_eq!(run.log.opened, vec![key()]);
}

#[test]
fn orientation_from_synack() {
    let mut run = Run::new();
    run.feed(down(S_ISN, C_ISN + 1, S | A, b""));
    assert_eq!(run.log.opened, vec![key()]);
}

#[test]
fn orientation_synack_sides() {
    let mut run = Run::new();
    run.feed(down(S_ISN, C_ISN + 1, S | A, b""));
    run.feed(up(C_ISN + 1, S_ISN + 1, A, b"hi"));
    run.feed(down(S_ISN + 1, C_ISN + 3, A, b"yo"));
    assert_eq!(run.log.bytes(Side::Server), b"yo");
}

#[test]
fn midstream_orientation_by_port() {
    let mut run = Run::new();
    run.feed(down(7000, 2000, A, b"data"));
    assert_eq!(run.log.opened, vec![key()]);
}

#[test]
fn midstream_first_segment_delivered() {
    let mut run = Run::new();
    run.feed(down(7000, 2000, A, b"data"));
    assert_eq!(run.log.bytes(Side::Server), b"data");
}

#[test]
fn midstream_peer_anchored_by_ack() {
    let mut run = Run::new();
    run.feed(down(7000, 2000, A, b"data"));
    run.feed(up(2000, 7004, A, b"more"));
    assert_eq!(run.log.bytes(Side::Client), b"more");
}

#[test]
fn midstream_earlier_bytes_dropped() {
    let mut run = Run::new();
    run.feed(down(7000, 2000, A, b"data"));
    run.feed(down(6996, 2000, A, b"olddata"));
    assert_eq!(run.log.bytes(Side::Server), b"data");
}

#[test]
fn midstream_pure_ack_opens_nothing() {
    let mut run = Run::new();
    run.feed(down(7000, 2000, A, b""));
    assert_eq!(run.table.open_flows(), 0);
}

#[test]
fn syn_data_delivered() {
    let mut run = Run::new();
    run.feed(up(C_ISN, 0, S, b"early"));
    assert_eq!(run.log.bytes(Side::Client), b"early");
}

#[test]
fn synack_multiple_anchor_on_ack() {
    let mut run = Run::new();
    run.feed(down(111, C_ISN + 1, S | A, b""));
    run.feed(down(S_ISN, C_ISN + 1, S | A, b""));
    run.feed(down(999_999, C_ISN + 1, S | A, b""));
    run.feed(up(C_ISN + 1, S_ISN + 1, A, b"hello"));
    run.feed(down(S_ISN + 1, C_ISN + 6, A, b"reply"));
    run.finish();
    assert_eq!(run.log.signals(), vec![Event::End(FlowEnd::EndOfInput)]);
}

#[test]
fn synack_multiple_anchor_on_data() {
    let mut run = Run::new();
    run.feed(down(111, C_ISN + 1, S | A, b""));
    run.feed(down(S_ISN, C_ISN + 1, S | A, b""));
    run.feed(down(999_999, C_ISN + 1, S | A, b""));
    run.feed(down(S_ISN + 1, C_ISN + 1, A, b"reply"));
    assert_eq!(run.log.bytes(Side::Server), b"reply");
}

#[test]
fn rst_ends_flow() {
    let mut run = Run::new();
    run.handshake();
    run.feed(down(S_ISN + 1, C_ISN + 1, R, b""));
    assert!(
        run.log.ends().is_empty(),
        "the peer's in-flight segments drain first"
    );
    run.finish();
    assert_eq!(run.log.ends(), vec![FlowEnd::Reset { by: Side::Server }]);
}

#[test]
fn rst_drains_peer_in_flight() {
    let mut run = Run::new();
    run.handshake();
    run.feed_at(up(C_ISN + 1, 0, R, b""), 0);
    run.feed_at(down(S_ISN + 1, C_ISN + 1, A, b"late"), 0);
    run.feed_at(up(C_ISN + 1, S_ISN + 1, A, b"after"), 0);
    assert_eq!(run.log.bytes(Side::Server), b"late");
    assert_eq!(run.log.bytes(Side::Client), b"");
    run.feed_at(down(S_ISN + 5, C_ISN + 1, A, b"too late"), 5);
    assert_eq!(run.log.ends(), vec![FlowEnd::Reset { by: Side::Client }]);
    assert_eq!(run.log.bytes(Side::Server), b"late");
}

#[test]
fn rst_ends_after_drain_without_traffic() {
    let mut run = Run::new();
    run.handshake();
    run.feed_at(up(C_ISN + 1, 0, R, b""), 0);
    let mut other = up(1, 0, S, b"");
    other.src = SocketAddr::from(([192, 168, 1, 11], CLIENT_PORT));
    run.feed_at(other, 5);
    assert_eq!(
        run.log.ends().first(),
        Some(&FlowEnd::Reset { by: Side::Client })
    );
}

#[test]
fn rst_removes_flow() {
    let mut run = Run::with(Limits {
        reset_drain_ns: 0,
        ..Limits::default()
    });
    run.handshake();
    run.feed(up(C_ISN + 1, 0, R, b""));
    assert_eq!(run.table.open_flows(), 0);
}

#[test]
fn rst_flushes_buffered_bytes() {
    let mut run = Run::with(Limits {
        reset_drain_ns: 0,
        ..Limits::default()
    });
    run.handshake();
    run.feed(up(C_ISN + 4, S_ISN + 1, A, b"def"));
    run.feed(up(C_ISN + 7, 0, R, b""));
    let expected = vec![
        Event::Gap(Side::Client, 3),
        Event::End(FlowEnd::Reset { by: Side::Client }),
    ];
    assert_eq!(run.log.signals(), expected);
}

#[test]
fn rst_late_segments_absorbed() {
    let mut run = Run::new();
    run.handshake();
    run.feed(up(C_ISN + 1, 0, R, b""));
    run.feed(down(S_ISN + 1, C_ISN + 1, A, b"in flight"));
    assert_eq!(run.stats().flows_opened, 1);
}

/// Runs a handshake, one message each way, then FIN from both sides.
fn closed_run() -> Run {
    let mut run = Run::new();
    run.handshake();
    run.feed(up(C_ISN + 1, S_ISN + 1, A, b"ping"));
    run.feed(down(S_ISN + 1, C_ISN + 5, A, b"pong"));
    run.feed(up(C_ISN + 5, S_ISN + 5, F | A, b""));
    run.feed(down(S_ISN + 5, C_ISN + 6, F | A, b""));
    run
}

#[test]
fn fin_both_ways_closes() {
    let run = closed_run();
    let expected = vec![
        Event::Fin(Side::Client),
        Event::Fin(Side::Server),
        Event::End(FlowEnd::Closed),
    ];
    assert_eq!(run.log.signals(), expected);
}

#[test]
fn fin_both_ways_removes_flow() {
    let run = closed_run();
    assert_eq!(run.table.open_flows(), 0);
}

#[test]
fn fin_one_way_stays_open() {
    let mut run = Run::new();
    run.handshake();
    run.feed(up(C_ISN + 1, S_ISN + 1, F | A, b"bye"));
    assert_eq!(run.table.open_flows(), 1);
}

#[test]
fn fin_waits_for_hole() {
    let mut run = Run::new();
    run.handshake();
    run.feed(up(C_ISN + 6, S_ISN + 1, F | A, b"world"));
    run.feed(down(S_ISN + 1, C_ISN + 1, F | A, b""));
    assert_eq!(run.log.signals(), vec![Event::Fin(Side::Server)]);
}

#[test]
fn fin_hole_given_up_on_ack() {
    let mut run = Run::new();
    run.handshake();
    run.feed(up(C_ISN + 6, S_ISN + 1, F | A, b"world"));
    run.feed(down(S_ISN + 1, C_ISN + 12, F | A, b""));
    let expected = vec![
        Event::Gap(Side::Client, 5),
        Event::Fin(Side::Client),
        Event::Fin(Side::Server),
        Event::End(FlowEnd::Closed),
    ];
    assert_eq!(run.log.signals(), expected);
}

#[test]
fn fin_data_after_dropped() {
    let mut run = Run::new();
    run.handshake();
    run.feed(up(C_ISN + 1, S_ISN + 1, F | A, b"bye"));
    run.feed(up(C_ISN + 4, S_ISN + 1, A, b"more"));
    assert_eq!(run.log.bytes(Side::Client), b"bye");
}

#[test]
fn fin_data_after_reported() {
    let mut run = Run::new();
    run.handshake();
    run.feed(up(C_ISN + 1, S_ISN + 1, F | A, b"bye"));
    run.feed(up(C_ISN + 4, S_ISN + 1, A, b"more"));
    let anomaly = Anomaly::DataAfterFin { offset: 3, len: 4 };
    let expected = vec![
        Event::Fin(Side::Client),
        Event::Anomaly(Side::Client, anomaly),
    ];
    assert_eq!(run.log.signals(), expected);
}

#[test]
fn closed_late_ack_absorbed() {
    let mut run = closed_run();
    run.feed(up(C_ISN + 6, S_ISN + 6, A, b""));
    assert_eq!(run.stats().segments_ignored, 1);
}

#[test]
fn closed_retransmission_absorbed() {
    let mut run = closed_run();
    run.feed(down(S_ISN + 1, C_ISN + 6, F | A, b"pong"));
    assert_eq!(run.stats().flows_opened, 1);
}

#[test]
fn closed_forgotten_after_linger() {
    let mut run = closed_run();
    run.feed_at(down(S_ISN + 1, C_ISN + 6, A, b"pong"), 121);
    assert_eq!(run.stats().flows_opened, 2);
}

#[test]
fn port_reuse_after_close() {
    let mut run = closed_run();
    run.feed(up(90_000, 0, S, b""));
    assert_eq!(run.table.open_flows(), 1);
}

#[test]
fn port_reuse_after_close_new_stream() {
    let mut run = closed_run();
    run.feed(up(90_000, 0, S, b""));
    run.feed(up(90_001, 0, A, b"again"));
    assert_eq!(run.log.bytes(Side::Client), b"pingagain");
}

#[test]
fn port_reuse_while_open() {
    let mut run = Run::new();
    run.handshake();
    run.feed(up(C_ISN + 1, S_ISN + 1, A, b"ping"));
    run.feed(up(90_000, 0, S, b""));
    assert_eq!(run.log.ends(), vec![FlowEnd::PortReused]);
}

#[test]
fn syn_retransmission_same_flow() {
    let mut run = Run::new();
    run.feed(up(C_ISN, 0, S, b""));
    run.feed(up(C_ISN, 0, S, b""));
    assert_eq!(run.stats().flows_opened, 1);
}

#[test]
fn limit_flows_evicts_oldest() {
    let mut run = Run::with(Limits {
        max_flows: 2,
        ..Limits::default()
    });
    for port in [40001, 40002, 40003] {
        let client = SocketAddr::from(([192, 168, 1, 10], port));
        let seg = Segment {
            src: client,
            dst: server_addr(),
            seq: 1,
            ack: 0,
            flags: S,
            payload: b"",
        };
        run.feed(seg);
    }
    let evicted = run.log.events.first().map(|(key, _)| key.client.port());
    assert_eq!(evicted, Some(40001));
}

#[test]
fn limit_flows_eviction_counted() {
    let mut run = Run::with(Limits {
        max_flows: 2,
        ..Limits::default()
    });
    for port in [40001, 40002, 40003] {
        let client = SocketAddr::from(([192, 168, 1, 10], port));
        let seg = Segment {
            src: client,
            dst: server_addr(),
            seq: 1,
            ack: 0,
            flags: S,
            payload: b"",
        };
        run.feed(seg);
    }
    assert_eq!(run.stats().flows_evicted, 1);
}

#[test]
fn limit_flows_prefers_lingering() {
    let mut run = closed_run();
    run.table.shared.limits.max_flows = 1;
    let client = SocketAddr::from(([192, 168, 1, 10], 40001));
    run.feed(Segment {
        src: client,
        dst: server_addr(),
        seq: 1,
        ack: 0,
        flags: S,
        payload: b"",
    });
    assert_eq!(run.stats().flows_evicted, 0);
}

/// Limits that let one flow buffer two 4-byte segments but not three.
fn small_flow_limits() -> Limits {
    Limits {
        max_buffered_per_flow: 2 * (4 + CHUNK_COST),
        ..Limits::default()
    }
}

#[test]
fn limit_per_flow_gives_up_hole() {
    let mut run = Run::with(small_flow_limits());
    run.handshake();
    run.feed(up(C_ISN + 5, S_ISN + 1, A, b"bbbb"));
    run.feed(up(C_ISN + 13, S_ISN + 1, A, b"dddd"));
    run.feed(up(C_ISN + 21, S_ISN + 1, A, b"ffff"));
    assert_eq!(run.log.signals(), vec![Event::Gap(Side::Client, 4)]);
}

#[test]
fn limit_per_flow_delivers_rest() {
    let mut run = Run::with(small_flow_limits());
    run.handshake();
    run.feed(up(C_ISN + 5, S_ISN + 1, A, b"bbbb"));
    run.feed(up(C_ISN + 13, S_ISN + 1, A, b"dddd"));
    run.feed(up(C_ISN + 21, S_ISN + 1, A, b"ffff"));
    run.feed(up(C_ISN + 9, S_ISN + 1, A, b"cccc"));
    assert_eq!(run.log.bytes(Side::Client), b"bbbbccccdddd");
}

#[test]
fn limit_per_flow_counted() {
    let mut run = Run::with(small_flow_limits());
    run.handshake();
    run.feed(up(C_ISN + 5, S_ISN + 1, A, b"bbbb"));
    run.feed(up(C_ISN + 13, S_ISN + 1, A, b"dddd"));
    run.feed(up(C_ISN + 21, S_ISN + 1, A, b"ffff"));
    assert_eq!(run.stats().per_flow_limit_hits, 1);
}

#[test]
fn limit_total_counted() {
    let limits = Limits {
        max_buffered_total: 4 + CHUNK_COST,
        ..Limits::default()
    };
    let mut run = Run::with(limits);
    run.handshake();
    run.feed(up(C_ISN + 5, S_ISN + 1, A, b"bbbb"));
    run.feed(up(C_ISN + 13, S_ISN + 1, A, b"dddd"));
    assert_eq!(run.stats().total_limit_hits, 1);
}

#[test]
fn limit_segment_larger_than_limit() {
    let limits = Limits {
        max_buffered_per_flow: 8,
        ..Limits::default()
    };
    let mut run = Run::with(limits);
    run.handshake();
    run.feed(up(C_ISN + 5, S_ISN + 1, A, b"bbbb"));
    assert_eq!(run.log.signals(), vec![Event::Gap(Side::Client, 4)]);
}

#[test]
fn limit_peak_buffered_recorded() {
    let mut run = Run::new();
    run.handshake();
    run.feed(up(C_ISN + 5, S_ISN + 1, A, b"bbbb"));
    run.feed(up(C_ISN + 1, S_ISN + 1, A, b"aaaa"));
    assert_eq!(run.stats().peak_buffered_bytes, 4 + CHUNK_COST);
}

#[test]
fn limit_compare_total_refuses() {
    let limits = Limits {
        max_compare_total: 4096,
        ..Limits::default()
    };
    let mut run = Run::with(limits);
    run.handshake();
    run.feed(up(C_ISN + 1, S_ISN + 1, A, b"ping"));
    run.feed(down(S_ISN + 1, C_ISN + 5, A, b"pong"));
    assert_eq!(run.stats().compare_windows_refused, 1);
}

#[test]
fn idle_flow_times_out() {
    let mut run = Run::new();
    run.handshake();
    let other = SocketAddr::from(([192, 168, 1, 11], 40000));
    run.feed_at(
        Segment {
            src: other,
            dst: server_addr(),
            seq: 1,
            ack: 0,
            flags: S,
            payload: b"",
        },
        700,
    );
    assert_eq!(run.log.ends(), vec![FlowEnd::IdleTimeout]);
}

#[test]
fn idle_active_flow_kept() {
    let mut run = Run::new();
    run.handshake();
    run.feed_at(up(C_ISN + 1, S_ISN + 1, A, b"a"), 200);
    run.feed_at(up(C_ISN + 2, S_ISN + 1, A, b"b"), 400);
    assert_eq!(run.table.open_flows(), 1);
}

#[test]
fn idle_clock_never_runs_back() {
    let mut run = Run::new();
    run.handshake();
    run.feed_at(up(C_ISN + 1, S_ISN + 1, A, b"a"), 250);
    run.feed_at(up(C_ISN + 2, S_ISN + 1, A, b"b"), -1000);
    run.feed_at(up(C_ISN + 3, S_ISN + 1, A, b"c"), 500);
    assert_eq!(run.log.ends(), Vec::new());
}

#[test]
fn idle_timeout_counted() {
    let mut run = Run::new();
    run.handshake();
    run.feed_at(down(7000, 2000, A, b"x"), 700);
    assert_eq!(run.stats().flows_idle_timeout, 1);
}

#[test]
fn ignore_stops_delivery() {
    let mut run = Run::new();
    run.ignore_after = Some(4);
    run.handshake();
    run.feed(up(C_ISN + 1, S_ISN + 1, A, b"ping"));
    run.feed(up(C_ISN + 5, S_ISN + 1, A, b"more"));
    run.feed(down(S_ISN + 1, C_ISN + 9, A, b"pong"));
    assert_eq!(run.log.events.len(), 1);
}

#[test]
fn ignore_still_ends_on_fin() {
    let mut run = Run::new();
    run.ignore_after = Some(4);
    run.handshake();
    run.feed(up(C_ISN + 1, S_ISN + 1, A, b"ping"));
    run.feed(up(C_ISN + 99, S_ISN + 1, F | A, b""));
    run.feed(down(S_ISN + 77, C_ISN + 1, F | A, b""));
    assert_eq!(run.log.ends(), vec![FlowEnd::Closed]);
}

#[test]
fn ignore_still_ends_on_rst() {
    let mut run = Run::with(Limits {
        reset_drain_ns: 0,
        ..Limits::default()
    });
    run.ignore_after = Some(4);
    run.handshake();
    run.feed(up(C_ISN + 1, S_ISN + 1, A, b"ping"));
    run.feed(down(S_ISN + 77, 0, R, b""));
    assert_eq!(run.log.ends(), vec![FlowEnd::Reset { by: Side::Server }]);
}

#[test]
fn ignore_frees_buffers() {
    let mut run = Run::new();
    run.ignore_after = Some(4);
    run.handshake();
    run.feed(down(S_ISN + 9, C_ISN + 1, A, b"later"));
    run.feed(up(C_ISN + 1, S_ISN + 1, A, b"ping"));
    assert_eq!(run.table.shared.buffered, 0);
}

#[test]
fn ignore_frees_compare_windows() {
    let mut run = Run::new();
    run.ignore_after = Some(4);
    run.handshake();
    run.feed(up(C_ISN + 1, S_ISN + 1, A, b"ping"));
    assert_eq!(run.table.shared.compare, 0);
}

#[test]
fn finish_ends_in_open_order() {
    let mut run = Run::new();
    let ports = [40003u16, 40001, 40002];
    for port in ports {
        let client = SocketAddr::from(([192, 168, 1, 10], port));
        run.feed(Segment {
            src: client,
            dst: server_addr(),
            seq: 1,
            ack: 0,
            flags: S,
            payload: b"",
        });
    }
    run.finish();
    let ended: Vec<u16> = run
        .log
        .events
        .iter()
        .map(|(key, _)| key.client.port())
        .collect();
    assert_eq!(ended, ports);
}

#[test]
fn finish_empties_table() {
    let mut run = closed_run();
    run.feed(up(90_000, 0, S, b""));
    run.finish();
    assert_eq!(run.table.open_flows(), 0);
}

#[test]
fn stats_flows_ended_sum() {
    let mut run = closed_run();
    run.feed(up(90_000, 0, S, b""));
    run.finish();
    assert_eq!(run.stats().flows_ended(), 2);
}
