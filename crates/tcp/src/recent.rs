//! The last bytes delivered on one side, kept so that a later retransmission of
//! them can be compared with what was delivered (first copy wins, but a
//! retransmission that disagrees is evidence of injection or tampering).

/// Outcome of comparing new bytes with a first copy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Comparison {
    /// Stream offset of the first compared byte (meaningless when nothing was compared).
    pub offset: u64,
    /// Bytes compared.
    pub compared: u64,
    /// Bytes among them that differ.
    pub differing: u64,
}

impl Comparison {
    /// Compares two copies of the bytes at stream offset `offset`, as far as both reach.
    pub fn of(offset: u64, first: &[u8], second: &[u8]) -> Comparison {
        let pairs = first.iter().zip(second);
        let compared = pairs.len() as u64;
        let differing = pairs.filter(|(a, b)| a != b).count() as u64;
        Comparison {
            offset,
            compared,
            differing,
        }
    }

    /// Folds another comparison of later bytes of the same segment into this one.
    pub fn merge(&mut self, later: Comparison) {
        if later.compared == 0 {
            return;
        }
        if self.compared == 0 {
            self.offset = later.offset;
        }
        self.compared = self.compared.saturating_add(later.compared);
        self.differing = self.differing.saturating_add(later.differing);
    }
}

/// A ring holding the stream bytes in `[end - filled, end)`.
#[derive(Debug)]
pub(crate) struct Recent {
    ring: Vec<u8>,
    /// Stream offset just past the newest kept byte.
    end: u64,
    /// How many bytes before `end` are valid (at most the ring's length).
    filled: usize,
}

impl Recent {
    /// Creates an empty window of `capacity` bytes (at least one) whose next byte is at `end`.
    pub fn new(capacity: usize, end: u64) -> Recent {
        Recent {
            ring: vec![0; capacity.max(1)],
            end,
            filled: 0,
        }
    }

    /// Creates an empty window over `ring`, whose length is the capacity
    /// (an empty ring is replaced by one byte) and whose contents are
    /// ignored, with its next byte at `end`.
    pub fn with_ring(mut ring: Vec<u8>, end: u64) -> Recent {
        if ring.is_empty() {
            ring.push(0);
        }
        Recent {
            ring,
            end,
            filled: 0,
        }
    }

    /// Gives up the ring, for a later window to reuse.
    pub fn into_ring(self) -> Vec<u8> {
        self.ring
    }

    /// Returns the memory held, in bytes.
    pub fn capacity(&self) -> usize {
        self.ring.len()
    }

    /// Records `data`, delivered at stream offset `start`. A start other than
    /// the current end means bytes were skipped, so the history restarts there.
    pub fn push(&mut self, start: u64, data: &[u8]) {
        if start != self.end {
            self.end = start;
            self.filled = 0;
        }
        let cap = self.ring.len();
        let keep = data.len().min(cap);
        let tail = data
            .get(data.len().saturating_sub(keep)..)
            .unwrap_or_default();
        let tail_start = self
            .end
            .saturating_add(data.len().saturating_sub(keep) as u64);
        self.write(tail_start, tail);
        self.end = self.end.saturating_add(data.len() as u64);
        self.filled = self.filled.saturating_add(data.len()).min(cap);
    }

    /// Compares `data`, claimed to sit at stream offset `start`, with the kept
    /// bytes it overlaps; bytes outside the window are not compared.
    pub fn compare(&self, start: u64, data: &[u8]) -> Comparison {
        let kept_from = self.end.saturating_sub(self.filled as u64);
        let from = start.max(kept_from);
        let to = start.saturating_add(data.len() as u64).min(self.end);
        let mut result = Comparison {
            offset: from,
            ..Comparison::default()
        };
        let mut offset = from;
        while offset < to {
            let theirs = data.get(offset.saturating_sub(start) as usize);
            if theirs.is_some() && theirs != self.ring.get(self.slot(offset)) {
                result.differing += 1;
            }
            result.compared += 1;
            offset += 1;
        }
        result
    }

    /// Returns the ring index of stream offset `offset`.
    fn slot(&self, offset: u64) -> usize {
        // The remainder is below the ring length, which is a usize.
        (offset % self.ring.len() as u64) as usize
    }

    /// Copies `data` (at most the ring's length) into the ring at stream offset `start`.
    fn write(&mut self, start: u64, data: &[u8]) {
        let mut slot = self.slot(start);
        let mut rest = data;
        while !rest.is_empty() {
            let room = self.ring.len().saturating_sub(slot);
            let Some((now, later)) = rest.split_at_checked(room.min(rest.len())) else {
                return;
            };
            if let Some(target) = self.ring.get_mut(slot..slot + now.len()) {
                target.copy_from_slice(now);
            }
            slot = 0;
            rest = later;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compare_same_bytes_agree() {
        let mut recent = Recent::new(8, 0);
        recent.push(0, b"abcdef");
        assert_eq!(recent.compare(2, b"cd").differing, 0);
    }

    #[test]
    fn compare_changed_byte_differs() {
        let mut recent = Recent::new(8, 0);
        recent.push(0, b"abcdef");
        assert_eq!(recent.compare(2, b"cX").differing, 1);
    }

    #[test]
    fn reused_ring_ignores_old_bytes() {
        let mut recent = Recent::with_ring(b"stale!!!".to_vec(), 100);
        assert_eq!(recent.compare(100, b"ab").compared, 0);
        recent.push(100, b"ab");
        assert_eq!(recent.compare(99, b"xab").differing, 0);
    }

    #[test]
    fn compare_across_ring_wrap() {
        let mut recent = Recent::new(4, 0);
        recent.push(0, b"abc");
        recent.push(3, b"def");
        assert_eq!(recent.compare(2, b"cdef").differing, 0);
    }

    #[test]
    fn compare_skips_evicted_bytes() {
        let mut recent = Recent::new(4, 0);
        recent.push(0, b"abcdefgh");
        assert_eq!(recent.compare(0, b"XXXXefgh").compared, 4);
    }

    #[test]
    fn compare_reports_first_offset() {
        let mut recent = Recent::new(4, 0);
        recent.push(0, b"abcdefgh");
        assert_eq!(recent.compare(2, b"XXgh").offset, 4);
    }

    #[test]
    fn push_after_skip_restarts() {
        let mut recent = Recent::new(8, 0);
        recent.push(0, b"abcd");
        recent.push(10, b"kl");
        assert_eq!(recent.compare(0, b"abcd").compared, 0);
    }

    #[test]
    fn merge_keeps_first_offset() {
        let mut total = Comparison {
            offset: 5,
            compared: 2,
            differing: 0,
        };
        total.merge(Comparison {
            offset: 9,
            compared: 3,
            differing: 1,
        });
        assert_eq!(
            total,
            Comparison {
                offset: 5,
                compared: 5,
                differing: 1
            }
        );
    }
}
