//! Randomised checks: a byte stream cut into random segments, reordered,
//! duplicated, re-cut and partly lost must come out as exactly the original
//! bytes, with every lost byte accounted for as a gap.

use std::net::SocketAddr;

use wiretrust_tcp::{
    FlowEnd, FlowKey, FlowTable, Interest, Limits, Segment, SegmentMeta, Side, StreamHandler,
};

/// Marsaglia's xorshift64: small, deterministic, good enough to shuffle tests.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// Returns a number in `0..bound` (`bound` > 0).
    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound as u64) as usize
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

/// What the client side delivered.
#[derive(Default)]
struct Received {
    bytes: Vec<u8>,
    gap_bytes: u64,
    ends: Vec<FlowEnd>,
}

struct Collect;

impl StreamHandler for Collect {
    type Context = Received;

    fn on_data(&mut self, ctx: &mut Received, side: Side, data: &[u8], _: SegmentMeta) -> Interest {
        if side == Side::Client {
            ctx.bytes.extend_from_slice(data);
        }
        Interest::Continue
    }

    fn on_gap(&mut self, ctx: &mut Received, side: Side, missing: u64, _: SegmentMeta) {
        if side == Side::Client {
            ctx.gap_bytes += missing;
        }
    }

    fn on_end(self, ctx: &mut Received, _: &FlowKey, end: FlowEnd, _: SegmentMeta) {
        ctx.ends.push(end);
    }
}

/// One segment to feed: its offset into the stream and its bytes (a
/// corrupted copy differs from the stream).
#[derive(Clone, Debug)]
struct Piece {
    offset: usize,
    data: Vec<u8>,
}

impl Piece {
    fn of(stream: &[u8], offset: usize, len: usize) -> Piece {
        let data = stream.get(offset..offset + len).unwrap_or(&[]).to_vec();
        Piece { offset, data }
    }
}

/// A random test case: the stream, the client's ISN, and the pieces in feeding order.
struct Case {
    stream: Vec<u8>,
    isn: u32,
    pieces: Vec<Piece>,
}

impl Case {
    fn generate(rng: &mut XorShift) -> Case {
        let stream: Vec<u8> = (0..rng.below(6000)).map(|_| rng.next() as u8).collect();
        // Half the cases start within a few kilobytes of the 2^32 boundary.
        let isn = if rng.chance(50) {
            u32::MAX - rng.below(8000) as u32
        } else {
            rng.next() as u32
        };
        let mut pieces = cut(rng, &stream);
        add_retransmissions(rng, &mut pieces, &stream);
        let window = 1 + rng.below(12);
        shuffle_nearby(rng, &mut pieces, window);
        Case {
            stream,
            isn,
            pieces,
        }
    }

    fn segment<'p>(&self, piece: &'p Piece) -> Segment<'p> {
        let seq = self.isn.wrapping_add(1).wrapping_add(piece.offset as u32);
        let payload = &piece.data;
        Segment {
            src: client(),
            dst: server(),
            seq,
            ack: 0,
            flags: Segment::PSH,
            payload,
        }
    }

    /// Feeds the SYN and then `pieces`; returns what was delivered at finish.
    fn run(&self, pieces: &[Piece], limits: Limits) -> (Received, FlowTable<Collect>) {
        let mut table = FlowTable::new(limits);
        let mut received = Received::default();
        let syn = Segment {
            src: client(),
            dst: server(),
            seq: self.isn,
            ack: 0,
            flags: Segment::SYN,
            payload: b"",
        };
        let mut packet = 0;
        let mut feed = |table: &mut FlowTable<Collect>, seg: &Segment<'_>, ctx: &mut Received| {
            packet += 1;
            let meta = SegmentMeta {
                packet,
                timestamp_ns: 0,
            };
            table.segment(seg, meta, ctx, |_, _| Collect);
        };
        feed(&mut table, &syn, &mut received);
        for piece in pieces {
            feed(&mut table, &self.segment(piece), &mut received);
        }
        table.finish(&mut received);
        (received, table)
    }
}

fn client() -> SocketAddr {
    SocketAddr::from(([172, 16, 0, 2], 51515))
}

fn server() -> SocketAddr {
    SocketAddr::from(([172, 16, 0, 1], 443))
}

/// Cuts `stream` into consecutive pieces of 1 to 300 bytes.
fn cut(rng: &mut XorShift, stream: &[u8]) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut offset = 0;
    while offset < stream.len() {
        let len = (1 + rng.below(300)).min(stream.len() - offset);
        pieces.push(Piece::of(stream, offset, len));
        offset += len;
    }
    pieces
}

/// Adds exact duplicates and re-cut copies (different boundaries, same bytes).
fn add_retransmissions(rng: &mut XorShift, pieces: &mut Vec<Piece>, stream: &[u8]) {
    let len = stream.len();
    if len == 0 {
        return;
    }
    let extra = rng.below(pieces.len() / 3 + 1);
    for _ in 0..extra {
        let copy = if rng.chance(50) {
            let pick = rng.below(pieces.len());
            pieces[pick].clone()
        } else {
            let offset = rng.below(len);
            Piece::of(stream, offset, (1 + rng.below(500)).min(len - offset))
        };
        let at = rng.below(pieces.len() + 1);
        pieces.insert(at, copy);
    }
}

/// Moves each piece to a random place at most `window` positions later.
fn shuffle_nearby(rng: &mut XorShift, pieces: &mut [Piece], window: usize) {
    for i in 0..pieces.len() {
        let j = (i + rng.below(window)).min(pieces.len() - 1);
        pieces.swap(i, j);
    }
}

#[test]
fn shuffled_duplicated_stream_exact() {
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    for trial in 0..400 {
        let case = Case::generate(&mut rng);
        let (received, _) = case.run(&case.pieces, Limits::default());
        assert!(
            received.bytes == case.stream,
            "trial {trial}: delivered bytes differ"
        );
    }
}

#[test]
fn shuffled_duplicated_stream_no_gaps() {
    let mut rng = XorShift(0x2545_f491_4f6c_dd1d);
    for trial in 0..400 {
        let case = Case::generate(&mut rng);
        let (received, _) = case.run(&case.pieces, Limits::default());
        assert_eq!(received.gap_bytes, 0, "trial {trial}");
    }
}

#[test]
fn shuffled_duplicated_stream_agrees() {
    let mut rng = XorShift(0x5851_f42d_4c95_7f2d);
    for trial in 0..400 {
        let case = Case::generate(&mut rng);
        let (_, table) = case.run(&case.pieces, Limits::default());
        assert_eq!(table.stats().overlaps_disagreed, 0, "trial {trial}");
    }
}

#[test]
fn lost_pieces_become_gaps() {
    let mut rng = XorShift(0x1405_7b7e_f767_814f);
    for trial in 0..400 {
        let case = Case::generate(&mut rng);
        let kept: Vec<Piece> = case
            .pieces
            .iter()
            .filter(|_| !rng.chance(15))
            .cloned()
            .collect();
        let (received, _) = case.run(&kept, Limits::default());
        let (expected, holes) = expected_with_loss(&case.stream, &kept);
        assert!(
            received.bytes == expected,
            "trial {trial}: delivered bytes differ"
        );
        assert_eq!(received.gap_bytes, holes, "trial {trial}: gap bytes");
    }
}

#[test]
fn corrupted_copies_first_copy_wins() {
    let mut rng = XorShift(0x0123_4567_89ab_cdef);
    for trial in 0..400 {
        let mut case = Case::generate(&mut rng);
        for piece in &mut case.pieces {
            if rng.chance(20) {
                piece.data.iter_mut().for_each(|b| *b ^= 0x5a);
            }
        }
        let (received, _) = case.run(&case.pieces, Limits::default());
        assert!(
            received.bytes == first_arrivals(&case),
            "trial {trial}: delivered bytes differ"
        );
    }
}

#[test]
fn corrupted_copies_are_counted() {
    let mut rng = XorShift(0x0f1e_2d3c_4b5a_6978);
    let (mut expected, mut disagreed) = (0, 0);
    for _ in 0..100 {
        let mut case = Case::generate(&mut rng);
        // The stream's last piece lies within the compare window of the
        // delivered tail (at most 500 bytes, the window is 4 KiB).
        let last = case
            .pieces
            .iter()
            .max_by_key(|piece| piece.offset + piece.data.len());
        if let Some(mut copy) = last.cloned() {
            copy.data.iter_mut().for_each(|b| *b ^= 0xff);
            case.pieces.push(copy);
            expected += 1;
        }
        let (_, table) = case.run(&case.pieces, Limits::default());
        disagreed += table.stats().overlaps_disagreed;
    }
    assert_eq!(disagreed, expected);
}

#[test]
fn generator_reorders_and_wraps() {
    let mut rng = XorShift(0x7777_1111_3333_5555);
    let (mut reordered, mut wrapped) = (0, 0);
    for _ in 0..100 {
        let case = Case::generate(&mut rng);
        let (_, table) = case.run(&case.pieces, Limits::default());
        reordered += table.stats().out_of_order_segments;
        let last_seq = u64::from(case.isn) + case.stream.len() as u64;
        wrapped += u64::from(last_seq > u64::from(u32::MAX));
    }
    assert!(
        reordered > 100,
        "only {reordered} segments arrived out of order"
    );
    assert!(wrapped > 10, "only {wrapped} streams crossed 2^32");
}

#[test]
fn every_flow_ends_once() {
    let mut rng = XorShift(0xdead_beef_cafe_f00d);
    for trial in 0..100 {
        let case = Case::generate(&mut rng);
        let (received, _) = case.run(&case.pieces, Limits::default());
        assert_eq!(received.ends, vec![FlowEnd::EndOfInput], "trial {trial}");
    }
}

/// Rebuilds the stream from the first copy of each byte to arrive.
fn first_arrivals(case: &Case) -> Vec<u8> {
    let mut first: Vec<Option<u8>> = vec![None; case.stream.len()];
    for piece in &case.pieces {
        let slots = first.iter_mut().skip(piece.offset);
        for (slot, byte) in slots.zip(&piece.data) {
            slot.get_or_insert(*byte);
        }
    }
    first.into_iter().flatten().collect()
}

/// Returns the bytes some kept piece covers, in order, and the count of uncovered
/// bytes before the last covered one (trailing loss cannot be known).
fn expected_with_loss(stream: &[u8], kept: &[Piece]) -> (Vec<u8>, u64) {
    let mut covered = vec![false; stream.len()];
    for piece in kept {
        for flag in covered.iter_mut().skip(piece.offset).take(piece.data.len()) {
            *flag = true;
        }
    }
    let last = covered.iter().rposition(|&c| c).map_or(0, |i| i + 1);
    let bytes = stream
        .iter()
        .zip(&covered)
        .filter(|(_, c)| **c)
        .map(|(b, _)| *b)
        .collect();
    let holes = covered.iter().take(last).filter(|c| !**c).count() as u64;
    (bytes, holes)
}
