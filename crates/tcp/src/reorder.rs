//! Out-of-order segments of one side, waiting for the hole before them to fill.
//!
//! Stored chunks never overlap and all start at or after the side's delivery
//! point. A new segment only fills the parts no chunk covers yet: the first
//! copy of every byte wins (as in most stacks and in Zeek and Suricata's
//! default policy), and overlapping bytes are compared so that disagreement
//! can be counted.

use std::collections::BTreeMap;
use std::ops::Range;

use crate::recent::Comparison;
use crate::segment::SegmentMeta;

/// Bookkeeping bytes charged per stored chunk on top of its payload (map node,
/// vector header, packet metadata), so that a flood of one-byte segments is
/// bounded by the same limits as large ones.
pub const CHUNK_COST: usize = 64;

/// One stored run of bytes and the packet that brought it.
#[derive(Debug)]
pub(crate) struct Chunk {
    pub data: Vec<u8>,
    pub meta: SegmentMeta,
}

impl Chunk {
    fn end(&self, start: u64) -> u64 {
        start.saturating_add(self.data.len() as u64)
    }
}

/// The parts of a new segment that no chunk covers yet, and how the covered
/// parts compare.
#[derive(Debug, Default)]
pub(crate) struct Survey {
    /// Stream ranges to store, in order.
    pub fresh: Vec<Range<u64>>,
    /// Memory the fresh ranges would be charged.
    pub cost: usize,
    /// Comparison of the already covered bytes with the new copy.
    pub overlap: Comparison,
}

/// Chunks keyed by stream offset.
#[derive(Debug, Default)]
pub(crate) struct Reorder {
    chunks: BTreeMap<u64, Chunk>,
    cost: usize,
}

impl Reorder {
    /// Returns the memory charged for everything stored.
    pub fn cost(&self) -> usize {
        self.cost
    }

    /// Returns the stream offset of the earliest chunk.
    pub fn first_start(&self) -> Option<u64> {
        self.chunks.first_key_value().map(|(start, _)| *start)
    }

    /// Returns the stream offset just past the latest chunk.
    pub fn last_end(&self) -> Option<u64> {
        self.chunks
            .last_key_value()
            .map(|(start, chunk)| chunk.end(*start))
    }

    /// Removes the earliest chunk; the second value is the memory it freed.
    pub fn pop_first(&mut self) -> Option<(u64, Chunk, usize)> {
        let (start, chunk) = self.chunks.pop_first()?;
        let freed = chunk_cost(chunk.data.len());
        self.cost = self.cost.saturating_sub(freed);
        Some((start, chunk, freed))
    }

    /// Drops everything; returns the memory freed.
    pub fn clear(&mut self) -> usize {
        self.chunks.clear();
        std::mem::take(&mut self.cost)
    }

    /// Works out which parts of `data` (at stream offset `start`) are new.
    pub fn survey(&self, start: u64, data: &[u8]) -> Survey {
        let end = start.saturating_add(data.len() as u64);
        let mut survey = Survey::default();
        let mut cursor = start;
        let before = self.chunks.range(..start).next_back();
        let within = self.chunks.range(start..end);
        for (&chunk_start, chunk) in before.into_iter().chain(within) {
            let chunk_end = chunk.end(chunk_start);
            if chunk_end <= cursor {
                continue;
            }
            if chunk_start > cursor {
                survey.fresh.push(cursor..chunk_start);
            }
            let from = chunk_start.max(cursor);
            let to = chunk_end.min(end);
            survey
                .overlap
                .merge(compare(chunk, chunk_start, from..to, start, data));
            cursor = to;
        }
        if cursor < end {
            survey.fresh.push(cursor..end);
        }
        survey.cost = survey.fresh.iter().map(|r| chunk_cost(span(r))).sum();
        survey
    }

    /// Stores the fresh ranges found by [`Reorder::survey`] for the same `start`
    /// and `data`; returns the memory charged.
    pub fn commit(&mut self, start: u64, data: &[u8], survey: &Survey, meta: SegmentMeta) -> usize {
        for range in &survey.fresh {
            let from = range.start.saturating_sub(start) as usize;
            let to = range.end.saturating_sub(start) as usize;
            let Some(bytes) = data.get(from..to) else {
                continue;
            };
            self.chunks.insert(
                range.start,
                Chunk {
                    data: bytes.to_vec(),
                    meta,
                },
            );
        }
        self.cost = self.cost.saturating_add(survey.cost);
        survey.cost
    }

    /// Drops every byte at or beyond stream offset `limit`; returns the bytes
    /// dropped (payload only) and the memory freed.
    pub fn truncate_from(&mut self, limit: u64) -> (u64, usize) {
        let mut dropped = 0u64;
        let mut freed = 0usize;
        for chunk in self.chunks.split_off(&limit).into_values() {
            dropped = dropped.saturating_add(chunk.data.len() as u64);
            freed = freed.saturating_add(chunk_cost(chunk.data.len()));
        }
        if let Some((&start, chunk)) = self.chunks.last_key_value() {
            let keep = limit.saturating_sub(start) as usize;
            if keep < chunk.data.len() {
                let cut = chunk.data.len() - keep;
                if let Some(chunk) = self.chunks.get_mut(&start) {
                    chunk.data.truncate(keep);
                }
                dropped = dropped.saturating_add(cut as u64);
                freed = freed.saturating_add(cut);
            }
        }
        self.cost = self.cost.saturating_sub(freed);
        (dropped, freed)
    }
}

/// Returns the memory charged for a chunk of `len` payload bytes.
fn chunk_cost(len: usize) -> usize {
    len.saturating_add(CHUNK_COST)
}

fn span(range: &Range<u64>) -> usize {
    range.end.saturating_sub(range.start) as usize
}

/// Compares the stream range `range`, covered both by `chunk` (at `chunk_start`)
/// and by `data` (at `start`).
fn compare(
    chunk: &Chunk,
    chunk_start: u64,
    range: Range<u64>,
    start: u64,
    data: &[u8],
) -> Comparison {
    let ours = slice(&chunk.data, chunk_start, &range);
    Comparison::of(range.start, ours, slice(data, start, &range))
}

/// Returns the part of `bytes` (at stream offset `at`) covering `range`, or
/// nothing if that is out of bounds.
fn slice<'a>(bytes: &'a [u8], at: u64, range: &Range<u64>) -> &'a [u8] {
    let from = range.start.saturating_sub(at) as usize;
    let to = range.end.saturating_sub(at) as usize;
    bytes.get(from..to).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(reorder: &mut Reorder, start: u64, data: &[u8]) -> Survey {
        let survey = reorder.survey(start, data);
        reorder.commit(start, data, &survey, SegmentMeta::default());
        survey
    }

    #[test]
    fn survey_empty_all_fresh() {
        let reorder = Reorder::default();
        assert_eq!(reorder.survey(10, b"abcd").fresh, vec![10..14]);
    }

    #[test]
    fn survey_fills_only_holes() {
        let mut reorder = Reorder::default();
        store(&mut reorder, 12, b"cd");
        assert_eq!(reorder.survey(10, b"abcdef").fresh, vec![10..12, 14..16]);
    }

    #[test]
    fn survey_counts_overlap_bytes() {
        let mut reorder = Reorder::default();
        store(&mut reorder, 12, b"cd");
        assert_eq!(reorder.survey(10, b"abcdef").overlap.compared, 2);
    }

    #[test]
    fn survey_detects_differing_overlap() {
        let mut reorder = Reorder::default();
        store(&mut reorder, 12, b"cd");
        assert_eq!(reorder.survey(11, b"bXd").overlap.differing, 1);
    }

    #[test]
    fn survey_overlap_from_earlier_chunk() {
        let mut reorder = Reorder::default();
        store(&mut reorder, 10, b"abcd");
        assert_eq!(reorder.survey(12, b"cdef").fresh, vec![14..16]);
    }

    #[test]
    fn commit_charges_chunk_cost() {
        let mut reorder = Reorder::default();
        store(&mut reorder, 10, b"abcd");
        assert_eq!(reorder.cost(), 4 + CHUNK_COST);
    }

    #[test]
    fn pop_first_refunds_cost() {
        let mut reorder = Reorder::default();
        store(&mut reorder, 10, b"abcd");
        let _ = reorder.pop_first();
        assert_eq!(reorder.cost(), 0);
    }

    #[test]
    fn truncate_cuts_crossing_chunk() {
        let mut reorder = Reorder::default();
        store(&mut reorder, 10, b"abcd");
        store(&mut reorder, 20, b"xy");
        assert_eq!(reorder.truncate_from(12), (4, 2 + 2 + CHUNK_COST));
    }

    #[test]
    fn truncate_keeps_earlier_bytes() {
        let mut reorder = Reorder::default();
        store(&mut reorder, 10, b"abcd");
        reorder.truncate_from(12);
        assert_eq!(reorder.last_end(), Some(12));
    }
}
