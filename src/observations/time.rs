/// Formats nanoseconds since the Unix epoch as RFC 3339 in UTC with
/// microsecond precision, the precision of classic pcap timestamps.
/// Nanoseconds round to the nearest microsecond, halves away from zero.
///
/// Every `i64` count of nanoseconds lies in the years 1677 to 2262, so the
/// text always has four-digit years. Every session formats two times, so
/// this formats them directly instead of through jiff; the tests check
/// that both give the same text.
pub fn format_rfc3339(timestamp_ns: i64) -> String {
    format_micros(round_to_micros(timestamp_ns))
}

/// Rounds nanoseconds to microseconds, halves away from zero as jiff's
/// default rounding mode does.
fn round_to_micros(timestamp_ns: i64) -> i64 {
    let quotient = timestamp_ns.div_euclid(1000);
    let remainder = timestamp_ns.rem_euclid(1000);
    let round_up = if timestamp_ns >= 0 {
        remainder >= 500
    } else {
        remainder > 500
    };
    quotient + i64::from(round_up)
}

/// Microseconds in a day.
const DAY_US: i64 = 86_400_000_000;

/// Formats microseconds since the Unix epoch, for years 0 to 9999, as
/// `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
fn format_micros(micros: i64) -> String {
    let (year, month, day) = civil_from_days(micros.div_euclid(DAY_US));
    let of_day = micros.rem_euclid(DAY_US);
    let second_of_day = of_day / 1_000_000;
    let mut text = *b"0000-00-00T00:00:00.000000Z";
    write_digits(&mut text[0..4], year);
    write_digits(&mut text[5..7], month);
    write_digits(&mut text[8..10], day);
    write_digits(&mut text[11..13], second_of_day / 3600);
    write_digits(&mut text[14..16], second_of_day / 60 % 60);
    write_digits(&mut text[17..19], second_of_day % 60);
    write_digits(&mut text[20..26], of_day % 1_000_000);
    String::from_utf8(text.to_vec()).unwrap_or_default()
}

/// Writes the last `out.len()` decimal digits of the non-negative `value`
/// into `out`, zero-padded.
fn write_digits(out: &mut [u8], mut value: i64) {
    for slot in out.iter_mut().rev() {
        *slot = b'0' + u8::try_from(value.rem_euclid(10)).unwrap_or(0);
        value /= 10;
    }
}

/// Converts days since 1970-01-01 to a proleptic Gregorian (year, month,
/// day), by Howard Hinnant's `civil_from_days` algorithm, which counts in
/// 400-year eras that start on March 1.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Formats as the function did before it had its own formatter.
    fn with_jiff(timestamp_ns: i64) -> String {
        match jiff::Timestamp::from_nanosecond(i128::from(timestamp_ns)) {
            Ok(ts) => {
                let rounded = ts.round(jiff::Unit::Microsecond).unwrap_or(ts);
                format!("{rounded:.6}")
            }
            Err(_) => format!("{timestamp_ns}ns"),
        }
    }

    #[test]
    fn epoch_formats_as_utc() {
        assert_eq!(format_rfc3339(0), "1970-01-01T00:00:00.000000Z");
    }

    #[test]
    fn microseconds_kept() {
        let ns = 1_170_717_505_549_109_000;
        assert_eq!(format_rfc3339(ns), "2007-02-05T23:18:25.549109Z");
    }

    #[test]
    fn nanoseconds_round_like_jiff() {
        for ns in [
            499, 500, 501, 1_499, 1_500, -499, -500, -501, -1_500, -1_501,
        ] {
            let base = 1_700_000_000_000_000_000i64;
            for timestamp in [ns, base + ns] {
                assert_eq!(
                    format_rfc3339(timestamp),
                    with_jiff(timestamp),
                    "{timestamp}"
                );
            }
        }
    }

    #[test]
    fn range_edges_match_jiff() {
        for timestamp in [i64::MIN, i64::MIN + 500, i64::MAX - 500, i64::MAX, -1, 1] {
            assert_eq!(
                format_rfc3339(timestamp),
                with_jiff(timestamp),
                "{timestamp}"
            );
        }
    }

    #[test]
    fn spread_of_times_matches_jiff() {
        // A linear congruential sequence samples i64 timestamps over the
        // whole range, 1677 to 2262.
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..20_000 {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let timestamp = state as i64;
            assert_eq!(
                format_rfc3339(timestamp),
                with_jiff(timestamp),
                "{timestamp}"
            );
        }
    }

    #[test]
    fn leap_days_match_jiff() {
        // 2000-02-29, 1900-03-01, 1700-03-01 and 2260-02-29 in seconds
        // since the epoch.
        for seconds in [
            951_782_400i64,
            -2_203_891_200,
            -8_515_238_400,
            9_156_585_600,
        ] {
            let timestamp = seconds.saturating_mul(1_000_000_000);
            assert_eq!(
                format_rfc3339(timestamp),
                with_jiff(timestamp),
                "{timestamp}"
            );
        }
    }

    #[test]
    fn saturated_certificate_times_match_jiff() {
        // Certificate validity times in seconds saturate when scaled to
        // nanoseconds, as the certificate cache scales them.
        for seconds in [
            -62_135_596_800i64,
            253_402_300_799,
            -9_223_372_036,
            9_223_372_036,
        ] {
            let timestamp = seconds.saturating_mul(1_000_000_000);
            assert_eq!(
                format_rfc3339(timestamp),
                with_jiff(timestamp),
                "{timestamp}"
            );
        }
    }
}
