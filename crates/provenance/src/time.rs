//! Timestamps as the sensors write them, to nanoseconds since the Unix
//! epoch.

/// Seconds between the Unix epoch and the Cocoa epoch, 2001-01-01 UTC.
pub const COCOA_EPOCH_OFFSET: f64 = 978_307_200.0;

/// Latest time accepted, 9999-12-31, in seconds since the Unix epoch.
const MAX_SECONDS: f64 = 253_402_300_799.0;

/// Converts fractional Unix seconds; `None` when not finite or outside
/// years 1970 to 9999.
pub fn from_unix_seconds(seconds: f64) -> Option<i64> {
    if !seconds.is_finite() || !(0.0..=MAX_SECONDS).contains(&seconds) {
        return None;
    }
    // Rounded to microseconds, the precision the sensors write.
    let micros = (seconds * 1e6).round() as i64;
    micros.checked_mul(1_000)
}

/// Parses an RFC 3339 time, or Suricata's form with a `+0000` offset.
pub fn from_text(text: &str) -> Option<i64> {
    if let Ok(timestamp) = text.parse::<jiff::Timestamp>() {
        return i64::try_from(timestamp.as_nanosecond()).ok();
    }
    let zoned = jiff::fmt::strtime::parse("%Y-%m-%dT%H:%M:%S%.f%z", text).ok()?;
    let timestamp = zoned.to_timestamp().ok()?;
    i64::try_from(timestamp.as_nanosecond()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suricata_offset_form_parses() {
        let ns = from_text("2026-11-20T10:00:00.250000+0000").unwrap();
        assert_eq!(ns, 1_795_168_800_250_000_000);
    }

    #[test]
    fn rfc3339_parses() {
        assert_eq!(from_text("1970-01-01T00:00:01Z"), Some(1_000_000_000));
    }

    #[test]
    fn out_of_range_seconds_rejected() {
        assert_eq!(from_unix_seconds(f64::NAN), None);
        assert_eq!(from_unix_seconds(-1.0), None);
        assert_eq!(from_unix_seconds(1e300), None);
        assert_eq!(from_unix_seconds(1.5), Some(1_500_000_000));
    }
}
