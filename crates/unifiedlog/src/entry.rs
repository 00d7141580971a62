//! The two JSON record shapes, parsed without copying unescaped strings, and
//! their mapping onto [`LogRecord`].

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

use crate::error::LogErrorKind;
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
#[derive(Debug, Deserialize)]
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
    let uuid: String = value
        .as_str()
        .chars()
        .filter(|c| *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (!uuid.is_empty()).then_some(uuid)
}

impl<'a> Entry<'a> for AppleEntry<'a> {
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
    let zoned = jiff::fmt::strtime::parse("%Y-%m-%d %H:%M:%S%.f%z", timestamp).ok()?;
    nanoseconds(zoned.to_timestamp().ok()?)
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
