/// Formats nanoseconds since the Unix epoch as RFC 3339 in UTC with
/// microsecond precision, the precision of classic pcap timestamps.
///
/// Times outside the range jiff supports (years -9999 to 9999) come out as
/// the raw number of nanoseconds, so a corrupt timestamp stays visible
/// instead of failing the whole record.
pub fn format_rfc3339(timestamp_ns: i64) -> String {
    match jiff::Timestamp::from_nanosecond(i128::from(timestamp_ns)) {
        Ok(ts) => {
            let rounded = ts.round(jiff::Unit::Microsecond).unwrap_or(ts);
            format!("{rounded:.6}")
        }
        Err(_) => format!("{timestamp_ns}ns"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_formats_as_utc() {
        assert_eq!(format_rfc3339(0), "1970-01-01T00:00:00.000000Z");
    }

    #[test]
    fn microseconds_kept() {
        let ns = 1_170_717_505_549_109_000;
        assert_eq!(format_rfc3339(ns), "2007-02-05T23:18:25.549109Z");
    }
}
