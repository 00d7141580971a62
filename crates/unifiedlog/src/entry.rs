//! The two JSON record shapes, parsed without copying unescaped strings, and
//! their mapping onto [`LogRecord`].

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

use crate::error::LogErrorKind;
use crate::flat::{FlatValue, for_each_member};
use crate::{Location, LogRecord};

/// A JSON string, borrowed from the input when it has no escapes.
#[derive(Debug, Default)]
pub(crate) struct Text<'a>(Cow<'a, str>);

impl Text<'_> {
    fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, value: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(value)))
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(value.to_owned())))
            }
            fn visit_string<E: de::Error>(self, value: String) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(value)))
            }
        }
        deserializer.deserialize_str(TextVisitor)
    }
}

/// Reads an optional 64-bit id without going through `f64`: a JSON integer
/// in `0..=u64::MAX` or a string of decimal digits. A fraction, an exponent or
/// a larger number is an error, never a rounded value.
fn lossless_u64<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    struct IdVisitor;
    impl<'de> Visitor<'de> for IdVisitor {
        type Value = Option<u64>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an integer from 0 to 2^64-1, or one written as a string")
        }
        fn visit_u64<E: de::Error>(self, value: u64) -> Result<Self::Value, E> {
            Ok(Some(value))
        }
        fn visit_i64<E: de::Error>(self, value: i64) -> Result<Self::Value, E> {
            u64::try_from(value)
                .map(Some)
                .map_err(|_| E::custom("negative id"))
        }
        fn visit_f64<E: de::Error>(self, value: f64) -> Result<Self::Value, E> {
            Err(E::custom(format_args!(
                "id {value} is not an integer in 0..2^64; it cannot be read without loss"
            )))
        }
        fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
            value
                .parse()
                .map(Some)
                .map_err(|_| E::custom(format_args!("invalid id {value:?}")))
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, inner: D) -> Result<Self::Value, D::Error> {
            inner.deserialize_any(IdVisitor)
        }
    }
    deserializer.deserialize_option(IdVisitor)
}

/// One entry of `log show|stream --style ndjson|json`, with the keys read.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct AppleEntry<'a> {
    #[serde(borrow)]
    timestamp: Option<Text<'a>>,
    #[serde(rename = "eventType", borrow)]
    event_type: Option<Text<'a>>,
    #[serde(rename = "messageType", borrow)]
    message_type: Option<Text<'a>>,
    #[serde(borrow)]
    subsystem: Option<Text<'a>>,
    #[serde(borrow)]
    category: Option<Text<'a>>,
    #[serde(rename = "processImagePath", borrow)]
    process_image_path: Option<Text<'a>>,
    #[serde(rename = "processID", default, deserialize_with = "lossless_u64")]
    process_id: Option<u64>,
    #[serde(rename = "senderImagePath", borrow)]
    sender_image_path: Option<Text<'a>>,
    #[serde(rename = "eventMessage", borrow)]
    event_message: Option<Text<'a>>,
    #[serde(rename = "formatString", borrow)]
    format_string: Option<Text<'a>>,
    #[serde(rename = "traceID", default, deserialize_with = "lossless_u64")]
    trace_id: Option<u64>,
    #[serde(
        rename = "activityIdentifier",
        default,
        deserialize_with = "lossless_u64"
    )]
    activity_identifier: Option<u64>,
    #[serde(rename = "threadID", default, deserialize_with = "lossless_u64")]
    thread_id: Option<u64>,
    #[serde(rename = "bootUUID", borrow)]
    boot_uuid: Option<Text<'a>>,
    #[serde(rename = "lossCount", default, deserialize_with = "lossless_u64")]
    loss_count: Option<u64>,
    #[serde(default, deserialize_with = "lossless_u64")]
    count: Option<u64>,
    #[serde(default, deserialize_with = "lossless_u64")]
    finished: Option<u64>,
}

/// One record of the macos-unifiedlogs crate's JSON output (its `LogData`).
#[derive(Debug, Deserialize)]
pub(crate) struct CrateEntry<'a> {
    #[serde(borrow)]
    timestamp: Option<Text<'a>>,
    time: Option<f64>,
    #[serde(borrow)]
    event_type: Option<Text<'a>>,
    #[serde(borrow)]
    log_type: Option<Text<'a>>,
    #[serde(borrow)]
    subsystem: Option<Text<'a>>,
    #[serde(borrow)]
    category: Option<Text<'a>>,
    #[serde(borrow)]
    process: Option<Text<'a>>,
    #[serde(default, deserialize_with = "lossless_u64")]
    pid: Option<u64>,
    #[serde(borrow)]
    library: Option<Text<'a>>,
    #[serde(borrow)]
    message: Option<Text<'a>>,
    #[serde(borrow)]
    raw_message: Option<Text<'a>>,
    #[serde(default, deserialize_with = "lossless_u64")]
    activity_id: Option<u64>,
    #[serde(default, deserialize_with = "lossless_u64")]
    thread_id: Option<u64>,
    #[serde(borrow)]
    boot_uuid: Option<Text<'a>>,
}

/// What the reader needs from a parsed entry before it decides to keep it.
pub(crate) trait Entry<'a>: Deserialize<'a> {
    /// Reads the entry without serde when that is certain to give serde's
    /// result; `None` leaves the text to serde_json.
    fn read_fast(_text: &'a str) -> Option<Self> {
        None
    }
    /// Returns the count of a `{"count":N,"finished":1}` trailer.
    fn trailer_count(&self) -> Option<u64>;
    /// Returns `Some(lost messages)` for a loss event.
    fn loss(&self) -> Option<u64>;
    /// Returns the first required key the entry lacks.
    fn missing_field(&self) -> Option<&'static str>;
    /// Returns the subsystem, category, process path and sender image, for the filter.
    fn origin(&self) -> [&str; 4];
    /// Builds the record; `raw` is the entry's original text, already capped.
    fn into_record(self, location: Location, raw: String) -> Result<LogRecord, LogErrorKind>;
}

fn text<'t>(value: &'t Option<Text<'_>>) -> &'t str {
    value.as_ref().map_or("", Text::as_str)
}

fn owned(value: Option<Text<'_>>) -> String {
    value.map(|text| text.0.into_owned()).unwrap_or_default()
}

fn pid(value: Option<u64>, field: &'static str) -> Result<Option<u32>, LogErrorKind> {
    value
        .map(|pid| {
            u32::try_from(pid).map_err(|_| LogErrorKind::InvalidField {
                field,
                reason: format!("process id {pid} is above 2^32-1"),
            })
        })
        .transpose()
}

/// Returns the UUID in upper-case hex without dashes, `None` when it is empty.
fn boot_uuid(value: Option<Text<'_>>) -> Option<String> {
    let value = value?;
    let mut uuid = String::with_capacity(value.as_str().len());
    for part in value.as_str().split('-') {
        uuid.push_str(part);
    }
    uuid.make_ascii_uppercase();
    (!uuid.is_empty()).then_some(uuid)
}

impl<'a> AppleEntry<'a> {
    /// Reads the members this type keeps with [`for_each_member`]. Gives up,
    /// so that serde_json reports the problem, on anything the derived
    /// deserializer would reject: a key given twice, a value of the wrong
    /// type, an id beyond 64 bits or written with a sign, an escaped id.
    fn read_flat(text: &'a str) -> Option<Self> {
        let mut entry = AppleEntry::default();
        let mut seen = 0u32;
        for_each_member(text, |key, value| {
            let (bit, slot) = match key {
                "timestamp" => (0, Slot::Text(&mut entry.timestamp)),
                "eventType" => (1, Slot::Text(&mut entry.event_type)),
                "messageType" => (2, Slot::Text(&mut entry.message_type)),
                "subsystem" => (3, Slot::Text(&mut entry.subsystem)),
                "category" => (4, Slot::Text(&mut entry.category)),
                "processImagePath" => (5, Slot::Text(&mut entry.process_image_path)),
                "processID" => (6, Slot::Id(&mut entry.process_id)),
                "senderImagePath" => (7, Slot::Text(&mut entry.sender_image_path)),
                "eventMessage" => (8, Slot::Text(&mut entry.event_message)),
                "formatString" => (9, Slot::Text(&mut entry.format_string)),
                "traceID" => (10, Slot::Id(&mut entry.trace_id)),
                "activityIdentifier" => (11, Slot::Id(&mut entry.activity_identifier)),
                "threadID" => (12, Slot::Id(&mut entry.thread_id)),
                "bootUUID" => (13, Slot::Text(&mut entry.boot_uuid)),
                "lossCount" => (14, Slot::Id(&mut entry.loss_count)),
                "count" => (15, Slot::Id(&mut entry.count)),
                "finished" => (16, Slot::Id(&mut entry.finished)),
                _ => return Some(()),
            };
            if seen & (1 << bit) != 0 {
                return None;
            }
            seen |= 1 << bit;
            slot.fill(value)
        })?;
        Some(entry)
    }
}

/// The field [`AppleEntry::read_flat`] stores one member in.
enum Slot<'s, 'a> {
    Text(&'s mut Option<Text<'a>>),
    Id(&'s mut Option<u64>),
}

impl<'a> Slot<'_, 'a> {
    fn fill(self, value: FlatValue<'a>) -> Option<()> {
        match (self, value) {
            (_, FlatValue::Null) => {}
            (
                Slot::Text(slot),
                FlatValue::Str {
                    raw,
                    escaped: false,
                },
            ) => {
                *slot = Some(Text(Cow::Borrowed(raw)));
            }
            (Slot::Text(slot), FlatValue::Str { raw, escaped: true }) => {
                *slot = Some(Text(Cow::Owned(unescape(raw)?)));
            }
            (Slot::Id(slot), FlatValue::Unsigned(digits)) => *slot = Some(digits.parse().ok()?),
            (
                Slot::Id(slot),
                FlatValue::Str {
                    raw,
                    escaped: false,
                },
            ) => {
                // As `lossless_u64` reads an id written as a string.
                *slot = Some(raw.parse().ok()?);
            }
            _ => return None,
        }
        Some(())
    }
}

/// Decodes the escapes of a JSON string's contents. Returns `None` for an
/// escape serde_json rejects (an unpaired surrogate), so that it reports it.
fn unescape(raw: &str) -> Option<String> {
    fn hex4(text: &str) -> Option<u32> {
        let digits = text.get(..4)?;
        if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        u32::from_str_radix(digits, 16).ok()
    }
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(at) = memchr::memchr(b'\\', rest.as_bytes()) {
        out.push_str(rest.get(..at)?);
        let after = rest.get(at + 1..)?;
        let (decoded, used) = match after.as_bytes().first()? {
            b'"' => ('"', 1),
            b'\\' => ('\\', 1),
            b'/' => ('/', 1),
            b'b' => ('\u{8}', 1),
            b'f' => ('\u{c}', 1),
            b'n' => ('\n', 1),
            b'r' => ('\r', 1),
            b't' => ('\t', 1),
            b'u' => {
                let high = hex4(after.get(1..)?)?;
                match high {
                    0xD800..0xDC00 => {
                        let low = after.get(5..)?.strip_prefix("\\u").and_then(hex4)?;
                        if !(0xDC00..0xE000).contains(&low) {
                            return None;
                        }
                        let code = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
                        (char::from_u32(code)?, 11)
                    }
                    0xDC00..0xE000 => return None,
                    _ => (char::from_u32(high)?, 5),
                }
            }
            _ => return None,
        };
        out.push(decoded);
        rest = after.get(used..)?;
    }
    out.push_str(rest);
    Some(out)
}

impl<'a> Entry<'a> for AppleEntry<'a> {
    fn read_fast(text: &'a str) -> Option<Self> {
        Self::read_flat(text)
    }

    fn trailer_count(&self) -> Option<u64> {
        match (self.event_type.is_none(), self.count, self.finished) {
            (true, Some(count), Some(_)) => Some(count),
            _ => None,
        }
    }

    fn loss(&self) -> Option<u64> {
        (text(&self.event_type) == "lossEvent").then(|| self.loss_count.unwrap_or(0))
    }

    fn missing_field(&self) -> Option<&'static str> {
        if self.event_type.is_none() {
            return Some("eventType");
        }
        if self.timestamp.is_none() {
            return Some("timestamp");
        }
        None
    }

    fn origin(&self) -> [&str; 4] {
        [
            text(&self.subsystem),
            text(&self.category),
            text(&self.process_image_path),
            text(&self.sender_image_path),
        ]
    }

    fn into_record(self, location: Location, raw: String) -> Result<LogRecord, LogErrorKind> {
        let timestamp = owned(self.timestamp);
        Ok(LogRecord {
            location,
            time_ns: apple_time_ns(&timestamp),
            timestamp,
            event_type: owned(self.event_type),
            level: owned(self.message_type),
            subsystem: owned(self.subsystem),
            category: owned(self.category),
            process_path: owned(self.process_image_path),
            pid: pid(self.process_id, "processID")?,
            sender_image: owned(self.sender_image_path),
            message: owned(self.event_message),
            format_string: owned(self.format_string),
            trace_id: self.trace_id,
            activity_id: self.activity_identifier,
            thread_id: self.thread_id,
            boot_uuid: boot_uuid(self.boot_uuid),
            raw,
        })
    }
}

impl<'a> Entry<'a> for CrateEntry<'a> {
    fn trailer_count(&self) -> Option<u64> {
        None
    }

    fn loss(&self) -> Option<u64> {
        // The crate's loss entries carry no count of the messages lost.
        (text(&self.event_type) == "Loss").then_some(0)
    }

    fn missing_field(&self) -> Option<&'static str> {
        if self.event_type.is_none() {
            return Some("event_type");
        }
        if self.timestamp.is_none() && self.time.is_none() {
            return Some("timestamp");
        }
        None
    }

    fn origin(&self) -> [&str; 4] {
        [
            text(&self.subsystem),
            text(&self.category),
            text(&self.process),
            text(&self.library),
        ]
    }

    fn into_record(self, location: Location, raw: String) -> Result<LogRecord, LogErrorKind> {
        let timestamp = owned(self.timestamp);
        let time_ns = rfc3339_time_ns(&timestamp).or_else(|| self.time.and_then(float_ns));
        Ok(LogRecord {
            location,
            timestamp,
            time_ns,
            event_type: owned(self.event_type),
            level: owned(self.log_type),
            subsystem: owned(self.subsystem),
            category: owned(self.category),
            process_path: owned(self.process),
            pid: pid(self.pid, "pid")?,
            sender_image: owned(self.library),
            message: owned(self.message),
            format_string: owned(self.raw_message),
            trace_id: None,
            activity_id: self.activity_id,
            thread_id: self.thread_id,
            boot_uuid: boot_uuid(self.boot_uuid),
            raw,
        })
    }
}

/// Parses Apple's local time with offset, `2023-06-30 18:11:29.650678+1000`,
/// into UTC nanoseconds since the Unix epoch.
pub(crate) fn apple_time_ns(timestamp: &str) -> Option<i64> {
    if let Some(ns) = apple_time_fast(timestamp.as_bytes()) {
        return Some(ns);
    }
    let zoned = jiff::fmt::strtime::parse("%Y-%m-%d %H:%M:%S%.f%z", timestamp).ok()?;
    nanoseconds(zoned.to_timestamp().ok()?)
}

/// Reads the exact shape `log` writes, `YYYY-MM-DD HH:MM:SS.ffffff+HHMM`
/// with one to nine fraction digits, without a general format parser. It
/// returns `None` for anything else, including out-of-range fields and
/// leap seconds, and the caller then asks jiff, so both agree on every
/// input this accepts.
fn apple_time_fast(text: &[u8]) -> Option<i64> {
    fn number(digits: &[u8]) -> Option<i64> {
        digits.iter().try_fold(0i64, |value, &digit| {
            digit
                .is_ascii_digit()
                .then(|| value * 10 + i64::from(digit - b'0'))
        })
    }
    let (date, rest) = text.split_at_checked(10)?;
    let (clock, rest) = rest.split_at_checked(9)?;
    let [y0, y1, y2, y3, b'-', m0, m1, b'-', d0, d1] = *date else {
        return None;
    };
    let [b' ', h0, h1, b':', n0, n1, b':', s0, s1] = *clock else {
        return None;
    };
    let (year, month, day) = (
        number(&[y0, y1, y2, y3])?,
        number(&[m0, m1])?,
        number(&[d0, d1])?,
    );
    let (hour, minute, second) = (number(&[h0, h1])?, number(&[n0, n1])?, number(&[s0, s1])?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let (fraction, zone) = match rest.split_first()? {
        (b'.', after) => {
            let digits = after.iter().take_while(|b| b.is_ascii_digit()).count();
            if !(1..=9).contains(&digits) {
                return None;
            }
            let (digits, zone) = after.split_at(digits);
            let scale = 10i64.pow(9 - digits.len() as u32);
            (number(digits)? * scale, zone)
        }
        _ => (0, rest),
    };
    let [sign, zh0, zh1, zm0, zm1] = *zone else {
        return None;
    };
    let (zone_hours, zone_minutes) = (number(&[zh0, zh1])?, number(&[zm0, zm1])?);
    if zone_hours > 23 || zone_minutes > 59 {
        return None;
    }
    let offset = (zone_hours * 60 + zone_minutes) * 60;
    let offset = match sign {
        b'+' => offset,
        b'-' => -offset,
        _ => return None,
    };
    let seconds =
        days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset;
    seconds.checked_mul(1_000_000_000)?.checked_add(fraction)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a date of the proleptic Gregorian calendar
/// (the era-based method: 400-year eras of 146,097 days).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// Parses an RFC 3339 time such as `2022-01-16T03:12:48.646032128Z`.
pub(crate) fn rfc3339_time_ns(timestamp: &str) -> Option<i64> {
    nanoseconds(timestamp.parse::<jiff::Timestamp>().ok()?)
}

fn nanoseconds(timestamp: jiff::Timestamp) -> Option<i64> {
    i64::try_from(timestamp.as_nanosecond()).ok()
}

/// Converts the crate's `time` field, nanoseconds as an `f64`, which is
/// precise only to 256 ns at today's dates. Used when `timestamp` is absent
/// or invalid.
pub(crate) fn float_ns(time: f64) -> Option<i64> {
    // i64::MAX as f64 rounds up to 2^63, so the upper bound is exclusive.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    (time.is_finite() && (-LIMIT..LIMIT).contains(&time)).then(|| time.round() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Entries in the shape `log show --style ndjson` writes, with the
    /// escapes, nulls and id spellings the flat reader must get right.
    const FLAT_SAMPLES: [&str; 6] = [
        r#"{"traceID":4253812867596292,"eventMessage":"boringssl_context_info_handler(2102) [C4.1.1:2][0x7fb4] Client handshake state: TLS client enter_early_data","eventType":"logEvent","source":null,"formatString":"%{public}s(%d) %s[%{public}s] Client handshake state: %{public}s","activityIdentifier":0,"subsystem":"com.apple.network","category":"boringssl","threadID":1234,"senderImageUUID":"D3D4","backtrace":{"frames":[{"imageOffset":12,"imageUUID":"D3D4"}]},"bootUUID":"05e2bf6d-3612-4209-8e97-e09983bcb28f","processImagePath":"\/Applications\/Safari.app\/Contents\/MacOS\/Safari","timestamp":"2023-06-30 18:11:29.650678+1000","senderImagePath":"\/usr\/lib\/libboringssl.dylib","machTimestamp":1234,"messageType":"Default","processImageUUID":"AB","processID":442,"senderProgramCounter":56,"parentActivityIdentifier":0,"timezoneName":""}"#,
        r#"{"eventMessage":"quote \" tab \t nl \n uni \u00e9 pair \ud83d\ude00 nul \u0000","eventType":"logEvent","timestamp":"2023-06-30 18:11:29+0000","traceID":"18446744073709551615","processID":null,"subsystem":null}"#,
        r#"{"count":5,"finished":1}"#,
        r#"{"eventType":"lossEvent","timestamp":"2023-06-30 18:11:29+0000","lossCount":17}"#,
        r#"  {"eventType":"logEvent","timestamp":"t","extra":[1,-2.5e3,{"a":[true,false,null]},"x"]}  "#,
        r#"{}"#,
    ];

    fn both(text: &str) -> (Option<String>, Result<String, String>) {
        let flat = AppleEntry::read_flat(text).map(|entry| format!("{entry:?}"));
        let serde = serde_json::from_str::<AppleEntry>(text)
            .map(|entry| format!("{entry:?}"))
            .map_err(|error| error.to_string());
        (flat, serde)
    }

    #[test]
    fn flat_reader_matches_serde_on_samples() {
        for text in FLAT_SAMPLES {
            let (flat, serde) = both(text);
            assert_eq!(flat.as_ref(), serde.as_ref().ok(), "{text}");
        }
    }

    #[test]
    fn flat_reader_leaves_refusals_to_serde() {
        let refused = [
            r#"{"timestamp":"a","timestamp":"b"}"#,
            r#"{"processID":null,"processID":1}"#,
            r#"{"processID":-1}"#,
            r#"{"processID":18446744073709551616}"#,
            r#"{"traceID":1.5}"#,
            r#"{"subsystem":5}"#,
            r#"{"eventMessage":"lone \ud800 surrogate"}"#,
            r#"{"eventMessage":"x"} trailing"#,
        ];
        for text in refused {
            assert!(AppleEntry::read_flat(text).is_none(), "{text}");
        }
    }

    /// Damages the samples byte by byte: wherever the flat reader still
    /// reads an entry, serde_json must read the same entry.
    #[test]
    fn flat_reader_never_disagrees_with_serde() {
        const ALPHABET: &[u8] = b"{}[]\",:\\u0123456789.-+eEtrfalsn \t\x01/";
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = |limit: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % limit as u64) as usize
        };
        let (mut read, mut tried) = (0, 0);
        for text in FLAT_SAMPLES {
            for _ in 0..4_000 {
                let mut bytes = text.as_bytes().to_vec();
                for _ in 0..1 + next(3) {
                    let at = next(bytes.len().max(1));
                    let byte = ALPHABET[next(ALPHABET.len())];
                    match next(3) {
                        0 if at < bytes.len() => bytes[at] = byte,
                        1 if at < bytes.len() => {
                            bytes.remove(at);
                        }
                        _ => bytes.insert(at.min(bytes.len()), byte),
                    }
                }
                let Ok(damaged) = std::str::from_utf8(&bytes) else {
                    continue;
                };
                tried += 1;
                let (flat, serde) = both(damaged);
                if let Some(flat) = flat {
                    read += 1;
                    assert_eq!(Ok(flat), serde, "{damaged}");
                }
            }
        }
        assert!(read > 1_000, "read {read} of {tried}");
        assert!(read < tried, "read {read} of {tried}");
    }

    #[test]
    fn apple_time_with_offset() {
        // 2023-06-30 08:11:29.650678 UTC.
        let ns = apple_time_ns("2023-06-30 18:11:29.650678+1000");
        assert_eq!(ns, Some(1_688_112_689_650_678_000));
        assert_eq!(
            apple_time_ns("2023-06-30 18:11:29+0000"),
            Some(1_688_148_689_000_000_000)
        );
        assert_eq!(apple_time_ns("2023-06-30T18:11:29"), None);
        assert_eq!(apple_time_ns(""), None);
    }

    /// The fast reader must return jiff's result wherever it returns one.
    #[test]
    fn apple_time_fast_agrees_with_jiff() {
        let jiff_ns = |text: &str| {
            jiff::fmt::strtime::parse("%Y-%m-%d %H:%M:%S%.f%z", text)
                .ok()
                .and_then(|zoned| zoned.to_timestamp().ok())
                .and_then(nanoseconds)
        };
        let mut checked = 0;
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = |limit: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % limit
        };
        for _ in 0..20_000 {
            let year = 1900 + next(300);
            let month = 1 + next(12);
            let day = 1 + next(31);
            let (hour, minute, second) = (next(24), next(60), next(60));
            let digits = next(10) as usize;
            let fraction = format!("{:09}", next(1_000_000_000));
            let sign = if next(2) == 0 { '+' } else { '-' };
            let (zone_hours, zone_minutes) = (next(15), next(4) * 15);
            let mut text =
                format!("{year:04}-{month:02}-{day:02} {hour:02}:{minute:02}:{second:02}");
            if digits > 0 {
                text.push('.');
                text.push_str(&fraction[..digits]);
            }
            text.push_str(&format!("{sign}{zone_hours:02}{zone_minutes:02}"));
            let fast = apple_time_fast(text.as_bytes());
            if fast.is_some() {
                checked += 1;
            }
            assert_eq!(apple_time_ns(&text), jiff_ns(&text), "{text}");
            if let Some(fast) = fast {
                assert_eq!(Some(fast), jiff_ns(&text), "{text}");
            }
        }
        assert!(
            checked > 15_000,
            "the fast path read only {checked} of 20000"
        );
        for odd in [
            "2023-02-29 00:00:00+0000",
            "2024-02-29 23:59:59.5-0130",
            "2023-06-30 18:11:60+0000",
            "2023-06-30 18:11:29.+0000",
            "2023-06-30 18:11:29.1234567890+0000",
            "2023-06-30 18:11:29.123 +0000",
            "0000-01-01 00:00:00+0000",
        ] {
            assert_eq!(apple_time_ns(odd), jiff_ns(odd), "{odd}");
        }
    }

    #[test]
    fn rfc3339_time_keeps_nanoseconds() {
        let ns = rfc3339_time_ns("2022-01-16T03:12:48.646032128Z");
        assert_eq!(ns, Some(1_642_302_768_646_032_128));
        assert_eq!(rfc3339_time_ns("yesterday"), None);
    }

    #[test]
    fn float_time_rounds_and_rejects_out_of_range() {
        assert_eq!(float_ns(1.5), Some(2));
        assert_eq!(float_ns(f64::NAN), None);
        assert_eq!(float_ns(1e19), None);
    }

    #[test]
    fn ids_read_without_loss() {
        let line = r#"{"traceID":18446744073709551615,"threadID":"9007199254740993"}"#;
        let entry: AppleEntry = serde_json::from_str(line).unwrap();
        assert_eq!(entry.trace_id, Some(u64::MAX));
        assert_eq!(entry.thread_id, Some(9_007_199_254_740_993));
    }

    #[test]
    fn ids_reject_floats_and_overflow() {
        for line in [
            r#"{"traceID":1.5}"#,
            r#"{"traceID":1e3}"#,
            r#"{"traceID":18446744073709551616}"#,
            r#"{"traceID":-1}"#,
            r#"{"traceID":"12x"}"#,
        ] {
            assert!(serde_json::from_str::<AppleEntry>(line).is_err(), "{line}");
        }
    }

    #[test]
    fn null_fields_read_as_absent() {
        let entry: AppleEntry =
            serde_json::from_str(r#"{"traceID":null,"subsystem":null}"#).unwrap();
        assert_eq!(entry.trace_id, None);
        assert!(entry.subsystem.is_none());
    }

    #[test]
    fn unescaped_strings_are_borrowed() {
        let line = r#"{"subsystem":"com.apple.network","processImagePath":"\/usr\/bin\/x"}"#;
        let entry: AppleEntry = serde_json::from_str(line).unwrap();
        assert!(matches!(
            entry.subsystem.as_ref().unwrap().0,
            Cow::Borrowed(_)
        ));
        assert_eq!(text(&entry.process_image_path), "/usr/bin/x");
    }

    #[test]
    fn boot_uuid_loses_dashes() {
        let uuid = boot_uuid(Some(Text(Cow::Borrowed(
            "05e2bf6d-3612-4209-8e97-e09983bcb28f",
        ))));
        assert_eq!(uuid.as_deref(), Some("05E2BF6D361242098E97E09983BCB28F"));
        assert_eq!(boot_uuid(Some(Text(Cow::Borrowed("")))), None);
    }

    #[test]
    fn pid_above_u32_is_invalid() {
        assert!(pid(Some(1 << 40), "pid").is_err());
        assert_eq!(pid(Some(146), "pid").unwrap(), Some(146));
    }
}
