//! Reassembly of one direction's Initial CRYPTO stream into TLS handshake
//! messages (RFC 9000 section 19.6; RFC 9001 section 4.1.3).
//!
//! CRYPTO frames may arrive out of order, overlap, repeat, or be split
//! across packets (browsers scatter a ClientHello over several frames and
//! packets). Fragments ahead of the delivery point wait in an ordered map;
//! the first copy of every byte wins. Delivered bytes collect until they
//! form a whole message: a type byte, a 24-bit length and the body.

use std::collections::BTreeMap;

/// Bookkeeping bytes charged per buffered fragment, so that many one-byte
/// frames cannot hide behind a byte limit.
pub const FRAGMENT_COST: usize = 64;
/// Length of a TLS handshake message header: type (1) and length (3).
const MESSAGE_HEADER_LEN: usize = 4;

/// An error that ends a CRYPTO stream.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StreamError {
    /// A handshake message would end past the bytes a direction may buffer.
    #[error(
        "handshake message of type {msg_type} at stream offset {offset} claims {len} bytes, past \
         the {limit}-byte limit per direction; raise max_crypto_per_direction to read it"
    )]
    MessageTooLarge {
        /// The handshake message type.
        msg_type: u8,
        /// The stream offset of its header.
        offset: u64,
        /// Its length field.
        len: usize,
        /// The limit in force.
        limit: usize,
    },
}

/// Memory charged across all streams of a tracker.
#[derive(Debug, Default)]
pub(crate) struct Budget {
    /// Maximum bytes that may be charged.
    pub(crate) limit: usize,
    /// Bytes charged now.
    pub(crate) used: usize,
    /// Most bytes charged at once.
    pub(crate) peak: usize,
}

impl Budget {
    fn try_charge(&mut self, cost: usize) -> bool {
        let Some(used) = self.used.checked_add(cost).filter(|&u| u <= self.limit) else {
            return false;
        };
        self.used = used;
        self.peak = self.peak.max(used);
        true
    }

    fn refund(&mut self, cost: usize) {
        self.used = self.used.saturating_sub(cost);
    }
}

/// A complete handshake message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Message {
    /// The handshake type.
    pub(crate) msg_type: u8,
    /// The body, without the 4-byte header.
    pub(crate) body: Vec<u8>,
}

/// Counts of one insertion's bytes that were not delivered as new data.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct InsertReport {
    /// Bytes already delivered or buffered.
    pub(crate) duplicate_bytes: u64,
    /// Overlapping fragments whose bytes differed from the first copy.
    pub(crate) mismatches: u64,
    /// Bytes dropped by the per-direction limit or the budget.
    pub(crate) dropped_bytes: u64,
}

/// One direction's CRYPTO stream.
#[derive(Debug, Default)]
pub(crate) struct CryptoStream {
    /// Stream offset of the next byte to deliver.
    next: u64,
    /// Fragments ahead of `next`, keyed by offset; they never overlap.
    pending: BTreeMap<u64, Vec<u8>>,
    /// Delivered bytes of the message not yet complete.
    partial: Vec<u8>,
    /// Bytes charged to the budget by this stream.
    charged: usize,
    /// Set after an error; everything later is dropped.
    closed: bool,
}

/// Converts a stream offset to usize for comparison with limits; offsets
/// above usize::MAX are past any limit.
fn to_usize(value: u64) -> usize {
    usize::try_from(value).unwrap_or(usize::MAX)
}

impl CryptoStream {
    /// Adds the bytes of one CRYPTO frame and appends any messages they
    /// complete to `out`. `limit` is the highest stream offset followed.
    pub(crate) fn insert(
        &mut self,
        offset: u64,
        data: &[u8],
        limit: usize,
        budget: &mut Budget,
        out: &mut Vec<Message>,
    ) -> Result<InsertReport, StreamError> {
        let mut report = InsertReport::default();
        let len = data.len() as u64;
        let end = offset.saturating_add(len);
        if self.closed {
            report.dropped_bytes = len;
            return Ok(report);
        }
        let start = offset.max(self.next);
        let stop = end.min(limit as u64);
        let delivered_before = start.min(end).saturating_sub(offset);
        report.duplicate_bytes = delivered_before;
        report.dropped_bytes = len
            .saturating_sub(delivered_before)
            .saturating_sub(stop.saturating_sub(start));
        if start < stop {
            self.store(offset, data, start, stop, budget, &mut report);
        }
        self.deliver(budget);
        self.extract(limit, budget, out)?;
        Ok(report)
    }

    /// Buffers the parts of `[start, stop)` that no fragment contains yet.
    fn store(
        &mut self,
        offset: u64,
        data: &[u8],
        start: u64,
        stop: u64,
        budget: &mut Budget,
        report: &mut InsertReport,
    ) {
        let mut cursor = start;
        let mut gaps = Vec::new();
        for (a, b) in self.overlapping(start, stop) {
            if a > cursor {
                gaps.push((cursor, a));
            }
            let (lo, hi) = (a.max(start), b.min(stop));
            report.duplicate_bytes = report.duplicate_bytes.saturating_add(hi - lo);
            if self.differs(a, lo, hi, offset, data) {
                report.mismatches = report.mismatches.saturating_add(1);
            }
            cursor = cursor.max(b);
        }
        if cursor < stop {
            gaps.push((cursor, stop));
        }
        for (lo, hi) in gaps {
            let slice = data.get(to_usize(lo - offset)..to_usize(hi - offset));
            let Some(slice) = slice else { continue };
            let cost = slice.len().saturating_add(FRAGMENT_COST);
            if !budget.try_charge(cost) {
                report.dropped_bytes = report.dropped_bytes.saturating_add(hi - lo);
                continue;
            }
            self.charged = self.charged.saturating_add(cost);
            self.pending.insert(lo, slice.to_vec());
        }
    }

    /// Returns the `[start, end)` ranges of buffered fragments that overlap `[lo, hi)`.
    fn overlapping(&self, lo: u64, hi: u64) -> Vec<(u64, u64)> {
        let before = self.pending.range(..lo).next_back();
        let inside = self.pending.range(lo..hi);
        before
            .into_iter()
            .chain(inside)
            .map(|(&a, bytes)| (a, a.saturating_add(bytes.len() as u64)))
            .filter(|&(a, b)| b > lo && a < hi)
            .collect()
    }

    /// True when the buffered fragment at `frag` and the new `data` at
    /// `offset` disagree on `[lo, hi)`.
    fn differs(&self, frag: u64, lo: u64, hi: u64, offset: u64, data: &[u8]) -> bool {
        let old = self
            .pending
            .get(&frag)
            .and_then(|bytes| bytes.get(to_usize(lo - frag)..to_usize(hi - frag)));
        let new = data.get(to_usize(lo - offset)..to_usize(hi - offset));
        old != new
    }

    /// Moves fragments that start at the delivery point into `partial`.
    fn deliver(&mut self, budget: &mut Budget) {
        while let Some(entry) = self.pending.first_entry() {
            if *entry.key() != self.next {
                break;
            }
            let bytes = entry.remove();
            // The fragment's bytes stay charged while in `partial`; only its
            // bookkeeping cost is returned.
            budget.refund(FRAGMENT_COST);
            self.charged = self.charged.saturating_sub(FRAGMENT_COST);
            self.next = self.next.saturating_add(bytes.len() as u64);
            self.partial.extend_from_slice(&bytes);
        }
    }

    /// Splits complete messages off the front of `partial`.
    fn extract(
        &mut self,
        limit: usize,
        budget: &mut Budget,
        out: &mut Vec<Message>,
    ) -> Result<(), StreamError> {
        while let Some((msg_type, body_len)) = self.header() {
            let total = body_len.saturating_add(MESSAGE_HEADER_LEN);
            let msg_offset = self.next.saturating_sub(self.partial.len() as u64);
            if to_usize(msg_offset).saturating_add(total) > limit {
                self.close(budget);
                return Err(StreamError::MessageTooLarge {
                    msg_type,
                    offset: msg_offset,
                    len: body_len,
                    limit,
                });
            }
            let Some(body) = self.partial.get(MESSAGE_HEADER_LEN..total) else {
                break;
            };
            out.push(Message {
                msg_type,
                body: body.to_vec(),
            });
            self.partial.drain(..total);
            budget.refund(total);
            self.charged = self.charged.saturating_sub(total);
        }
        Ok(())
    }

    /// Returns the type and body length of the message at the front of `partial`.
    fn header(&self) -> Option<(u8, usize)> {
        let header = self.partial.get(..MESSAGE_HEADER_LEN)?;
        let (&msg_type, len) = header.split_first()?;
        let len = len
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        Some((msg_type, len))
    }

    /// True when bytes of a message not yet complete were delivered or wait
    /// in fragments.
    pub(crate) fn has_incomplete(&self) -> bool {
        !self.partial.is_empty() || !self.pending.is_empty()
    }

    /// Drops everything and returns its memory to the budget.
    pub(crate) fn close(&mut self, budget: &mut Budget) {
        budget.refund(self.charged);
        self.charged = 0;
        self.pending.clear();
        self.partial = Vec::new();
        self.closed = true;
    }

    /// Drops everything and starts again at offset 0, as when a client
    /// begins a new handshake after Version Negotiation.
    pub(crate) fn reset(&mut self, budget: &mut Budget) {
        self.close(budget);
        *self = Self::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: usize = 1 << 16;

    fn budget() -> Budget {
        Budget {
            limit: 1 << 20,
            ..Budget::default()
        }
    }

    /// Builds a handshake message of type 1 with a `len`-byte body counting up.
    fn message(len: usize) -> Vec<u8> {
        let mut bytes = vec![1, 0, (len >> 8) as u8, len as u8];
        bytes.extend((0..len).map(|i| i as u8));
        bytes
    }

    fn feed(
        stream: &mut CryptoStream,
        budget: &mut Budget,
        pieces: &[(u64, &[u8])],
    ) -> Vec<Message> {
        let mut out = Vec::new();
        for &(offset, data) in pieces {
            stream
                .insert(offset, data, LIMIT, budget, &mut out)
                .expect("within limits");
        }
        out
    }

    #[test]
    fn whole_message_delivered() {
        let msg = message(10);
        let out = feed(&mut CryptoStream::default(), &mut budget(), &[(0, &msg)]);
        assert_eq!(
            out,
            vec![Message {
                msg_type: 1,
                body: msg[4..].to_vec()
            }]
        );
    }

    #[test]
    fn reordered_fragments_delivered() {
        let msg = message(300);
        let (a, rest) = msg.split_at(100);
        let (b, c) = rest.split_at(100);
        let out = feed(
            &mut CryptoStream::default(),
            &mut budget(),
            &[(200, c), (0, a), (100, b)],
        );
        assert_eq!(out.first().map(|m| m.body.len()), Some(300));
    }

    #[test]
    fn nothing_before_the_gap_fills() {
        let msg = message(300);
        let out = feed(
            &mut CryptoStream::default(),
            &mut budget(),
            &[(100, &msg[100..])],
        );
        assert!(out.is_empty());
    }

    #[test]
    fn overlapping_copies_counted() {
        let msg = message(50);
        let mut stream = CryptoStream::default();
        let mut budget = budget();
        let mut out = Vec::new();
        stream
            .insert(20, &msg[20..40], LIMIT, &mut budget, &mut out)
            .ok();
        let report = stream.insert(10, &msg[10..50], LIMIT, &mut budget, &mut out);
        assert_eq!(
            report.map(|r| (r.duplicate_bytes, r.mismatches)),
            Ok((20, 0))
        );
    }

    #[test]
    fn differing_overlap_keeps_first_copy() {
        let msg = message(50);
        let mut forged = msg.clone();
        forged[30] ^= 0xff;
        let mut stream = CryptoStream::default();
        let mut budget = budget();
        let mut out = Vec::new();
        stream
            .insert(20, &msg[20..40], LIMIT, &mut budget, &mut out)
            .ok();
        let report = stream.insert(0, &forged, LIMIT, &mut budget, &mut out);
        assert_eq!(report.map(|r| r.mismatches), Ok(1));
        assert_eq!(out.first().map(|m| m.body.clone()), Some(msg[4..].to_vec()));
    }

    #[test]
    fn retransmission_after_delivery_is_duplicate() {
        let msg = message(20);
        let mut stream = CryptoStream::default();
        let mut budget = budget();
        let mut out = Vec::new();
        stream.insert(0, &msg, LIMIT, &mut budget, &mut out).ok();
        let report = stream.insert(0, &msg, LIMIT, &mut budget, &mut out);
        assert_eq!(report.map(|r| r.duplicate_bytes), Ok(24));
        assert_eq!(out.len(), 1);
    }

    #[test]
    fn two_messages_in_one_frame() {
        let bytes = [message(3), message(5)].concat();
        let out = feed(&mut CryptoStream::default(), &mut budget(), &[(0, &bytes)]);
        assert_eq!(out.iter().map(|m| m.body.len()).collect::<Vec<_>>(), [3, 5]);
    }

    #[test]
    fn oversized_message_closes_stream() {
        let mut stream = CryptoStream::default();
        let mut budget = budget();
        let mut out = Vec::new();
        let result = stream.insert(0, &[1, 0xff, 0xff, 0xff], 1000, &mut budget, &mut out);
        assert!(matches!(
            result,
            Err(StreamError::MessageTooLarge { len: 0xff_ffff, .. })
        ));
        assert_eq!(budget.used, 0);
    }

    #[test]
    fn bytes_past_limit_dropped() {
        let mut stream = CryptoStream::default();
        let mut budget = budget();
        let mut out = Vec::new();
        let report = stream.insert(990, &[0; 20], 1000, &mut budget, &mut out);
        assert_eq!(report.map(|r| r.dropped_bytes), Ok(10));
    }

    #[test]
    fn budget_refuses_fragment() {
        let mut stream = CryptoStream::default();
        let mut budget = Budget {
            limit: 100,
            ..Budget::default()
        };
        let mut out = Vec::new();
        let report = stream.insert(10, &[0; 50], LIMIT, &mut budget, &mut out);
        assert_eq!(report.map(|r| r.dropped_bytes), Ok(50));
    }

    #[test]
    fn budget_returns_to_zero() {
        let msg = message(100);
        let mut budget = budget();
        feed(
            &mut CryptoStream::default(),
            &mut budget,
            &[(50, &msg[50..]), (0, &msg[..50])],
        );
        assert_eq!(budget.used, 0);
    }

    #[test]
    fn close_refunds_pending() {
        let msg = message(100);
        let mut stream = CryptoStream::default();
        let mut budget = budget();
        feed(&mut stream, &mut budget, &[(50, &msg[50..])]);
        stream.close(&mut budget);
        assert_eq!(budget.used, 0);
    }

    #[test]
    fn reset_accepts_offset_zero_again() {
        let msg = message(8);
        let mut stream = CryptoStream::default();
        let mut budget = budget();
        feed(&mut stream, &mut budget, &[(0, &msg)]);
        stream.reset(&mut budget);
        let out = feed(&mut stream, &mut budget, &[(0, &msg)]);
        assert_eq!(out.len(), 1);
    }

    #[test]
    fn incomplete_message_noticed() {
        let msg = message(100);
        let mut stream = CryptoStream::default();
        feed(&mut stream, &mut budget(), &[(0, &msg[..10])]);
        assert!(stream.has_incomplete());
    }

    #[test]
    fn huge_offset_is_dropped() {
        let mut stream = CryptoStream::default();
        let mut budget = budget();
        let mut out = Vec::new();
        let report = stream.insert(u64::MAX - 2, &[1, 2, 3, 4], LIMIT, &mut budget, &mut out);
        assert_eq!(report.map(|r| r.dropped_bytes), Ok(4));
    }
}
