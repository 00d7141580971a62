//! Sequence-number arithmetic modulo 2^32.
//!
//! TCP compares sequence numbers as serial numbers (RFC 9293 §3.4, RFC 1982):
//! `b` is after `a` when `b - a`, taken modulo 2^32, is below 2^31. Every
//! comparison in this crate goes through these helpers so that streams crossing
//! the 2^32 boundary behave exactly like streams that do not.

/// Returns the signed distance in bytes from `from` to `to`, positive when `to` comes later.
///
/// Exact while the two numbers are less than 2^31 apart; beyond that the sign
/// flips, which is the serial-number rule itself.
pub(crate) fn distance(from: u32, to: u32) -> i64 {
    // The cast reinterprets the modular difference as two's complement, which
    // is what RFC 1982 comparison means.
    i64::from(to.wrapping_sub(from) as i32)
}

/// Returns `seq` moved forward by `bytes`.
pub(crate) fn advance(seq: u32, bytes: u64) -> u32 {
    // Truncating to 32 bits keeps `bytes` modulo 2^32, which is exactly how
    // sequence space adds.
    seq.wrapping_add(bytes as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_forward_plain() {
        assert_eq!(distance(100, 150), 50);
    }

    #[test]
    fn distance_backward_plain() {
        assert_eq!(distance(150, 100), -50);
    }

    #[test]
    fn distance_across_wrap() {
        assert_eq!(distance(u32::MAX - 9, 10), 20);
    }

    #[test]
    fn distance_backward_across_wrap() {
        assert_eq!(distance(10, u32::MAX - 9), -20);
    }

    #[test]
    fn advance_wraps_at_boundary() {
        assert_eq!(advance(u32::MAX, 2), 1);
    }

    #[test]
    fn advance_keeps_low_bits() {
        assert_eq!(advance(7, (1 << 32) + 3), 10);
    }
}
