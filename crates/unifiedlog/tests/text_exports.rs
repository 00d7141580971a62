//! `log show|stream` NDJSON and JSON array exports: the constructed fixtures,
//! lines built from the documented templates, and damaged input.

mod common;

use common::{FailAfter, Outcome, fixture, read_all, read_bytes, trickle};
use wiretrust_unifiedlog::{
    Filter, Format, LogErrorKind, LogReader, LogRecord, MAX_RAW, MAX_RECORD_LEN, sniff,
};

/// Trace ids of the nine network entries of the constructed fixtures, in order.
const NETWORK_TRACE_IDS: [u64; 9] = [
    (1 << 63) + 12345,
    (1 << 53) + 1,
    u64::MAX,
    1001,
    1002,
    1003,
    1004,
    1005,
    1006,
];

fn ndjson_fixture() -> Vec<u8> {
    std::fs::read(fixture("constructed-network.ndjson")).unwrap()
}

fn array_fixture() -> Vec<u8> {
    std::fs::read(fixture("constructed-network.json")).unwrap()
}

/// Byte offsets where the lines of `text` start.
fn line_starts(text: &[u8]) -> Vec<usize> {
    let mut starts = vec![0];
    starts.extend(
        text.iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .map(|(i, _)| i + 1),
    );
    starts
}

/// Returns the parts of a record that do not depend on the shape: all but location and raw text.
fn content(record: &LogRecord) -> LogRecord {
    LogRecord {
        location: Default::default(),
        raw: String::new(),
        ..record.clone()
    }
}

/// Builds a compact Apple entry with the keys the reader maps.
fn apple_line(
    trace_id: u64,
    subsystem: &str,
    category: &str,
    sender: &str,
    message: &str,
) -> String {
    serde_json::json!({
        "traceID": trace_id,
        "eventMessage": message,
        "eventType": "logEvent",
        "subsystem": subsystem,
        "category": category,
        "threadID": 77,
        "processImagePath": "/usr/libexec/nsurlsessiond",
        "timestamp": "2024-03-05 09:15:02.123456+0100",
        "senderImagePath": sender,
        "messageType": "Default",
        "processID": 377,
        "bootUUID": "0A1B2C3D-4E5F-4061-8273-94A5B6C7D8E9",
    })
    .to_string()
}

fn boringssl_line(trace_id: u64) -> String {
    let message = "boringssl_context_handle_fatal_alert(2313) [C1.1.1.1:2][0x12e2e6200] read \
                   alert, level: fatal, description: bad record mac";
    apple_line(
        trace_id,
        "com.apple.network",
        "boringssl",
        "/usr/lib/libboringssl.dylib",
        message,
    )
}

fn unrelated_line(trace_id: u64) -> String {
    let message = "[Q42] Question assigned DNS service 7";
    apple_line(
        trace_id,
        "com.apple.mDNSResponder",
        "Default",
        "/usr/sbin/mDNSResponder",
        message,
    )
}

fn trace_ids(outcome: &Outcome) -> Vec<Option<u64>> {
    outcome
        .records
        .iter()
        .map(|record| record.trace_id)
        .collect()
}

#[test]
fn ndjson_fixture_network_records() {
    let text = ndjson_fixture();
    let outcome = read_bytes(&text, Filter::Network);
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    let expected: Vec<Option<u64>> = NETWORK_TRACE_IDS.iter().copied().map(Some).collect();
    assert_eq!(trace_ids(&outcome), expected);

    let stats = &outcome.stats;
    assert_eq!(stats.bytes, text.len() as u64);
    assert_eq!(stats.lines, 14);
    assert_eq!(stats.records, 13);
    assert_eq!(stats.relevant, 9);
    // The three unrelated lines hold no needle; the loss event does.
    assert_eq!(stats.skipped_by_prefilter, 3);
    assert_eq!(stats.parsed, 10);
    assert_eq!(stats.loss_events, 1);
    assert_eq!(stats.lost_messages, 17);
    assert_eq!(stats.trailer_count, Some(13));
    assert_eq!(stats.errors, 0);
    assert_eq!(stats.warnings, 0);
}

#[test]
fn raw_text_left_out_on_request() {
    let text = ndjson_fixture();
    let with_raw: Vec<LogRecord> = LogReader::new(&text[..], Filter::Network)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let without_raw: Vec<LogRecord> = LogReader::new(&text[..], Filter::Network)
        .unwrap()
        .keep_raw(false)
        .map(Result::unwrap)
        .collect();
    assert_eq!(with_raw.len(), NETWORK_TRACE_IDS.len());
    assert_eq!(without_raw.len(), with_raw.len());
    for (kept, left_out) in with_raw.iter().zip(&without_raw) {
        assert!(!kept.raw.is_empty());
        assert!(left_out.raw.is_empty());
        let mut same = kept.clone();
        same.raw.clear();
        assert_eq!(&same, left_out);
    }
}

#[test]
fn ndjson_fixture_fields() {
    let text = ndjson_fixture();
    let outcome = read_bytes(&text, Filter::Network);
    let starts = line_starts(&text);

    let first = &outcome.records[0];
    assert_eq!(first.location.line, 1);
    assert_eq!(first.location.offset, 0);
    assert_eq!(first.timestamp, "2024-03-05 09:15:02.123456+0100");
    assert_eq!(first.time_ns, Some(1_709_626_502_123_456_000));
    assert_eq!(first.event_type, "logEvent");
    assert_eq!(first.level, "Default");
    assert_eq!(first.subsystem, "com.apple.network");
    assert_eq!(first.category, "boringssl");
    assert_eq!(
        first.process_path,
        "/Applications/Safari.app/Contents/MacOS/Safari"
    );
    assert_eq!(first.sender_image, "/usr/lib/libboringssl.dylib");
    assert_eq!(first.pid, Some(812));
    assert_eq!(first.trace_id, Some(9_223_372_036_854_788_153));
    assert_eq!(first.thread_id, Some(9_007_199_254_740_993));
    assert_eq!(first.activity_id, Some(0));
    assert_eq!(
        first.boot_uuid.as_deref(),
        Some("0A1B2C3D4E5F4061827394A5B6C7D8E9")
    );
    assert!(
        first
            .message
            .contains("TLS connected [server(0) version(0x0303)")
    );
    assert_eq!(
        first.format_string,
        "%{public}s(%d) %{public}s[%p] TLS connected [...]"
    );
    let first_line = std::str::from_utf8(&text[..starts[1] - 1]).unwrap();
    assert_eq!(first.raw, first_line);

    let second = &outcome.records[1];
    assert_eq!(second.location.line, 2);
    assert_eq!(second.location.offset, starts[1] as u64);
    assert_eq!(second.activity_id, Some(9_223_372_036_854_775_815));
    assert_eq!(second.time_ns, Some(1_709_626_503_000_001_000));

    // JSON escapes in the message come out as the characters.
    let cancelled = &outcome.records[2];
    assert!(
        cancelled.message.contains("cancelled\n\t[C8.1 "),
        "{}",
        cancelled.message
    );
    assert_eq!(outcome.records[3].level, "Error");
    assert_eq!(outcome.records[4].subsystem, "");

    for record in &outcome.records {
        let line = record.location.line as usize;
        assert_eq!(
            record.location.offset,
            starts[line - 1] as u64,
            "line {line}"
        );
    }
}

#[test]
fn ndjson_fixture_all_records() {
    let outcome = read_bytes(&ndjson_fixture(), Filter::All);
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    assert_eq!(outcome.records.len(), 13);
    assert_eq!(outcome.stats.parsed, 13);
    assert_eq!(outcome.stats.skipped_by_prefilter, 0);
    assert_eq!(outcome.stats.loss_events, 1);
    let loss = &outcome.records[9];
    assert_eq!(loss.event_type, "lossEvent");
    assert_eq!(loss.location.line, 10);
    let lines: Vec<u64> = outcome
        .records
        .iter()
        .map(|record| record.location.line)
        .collect();
    assert_eq!(lines, (1..=13).collect::<Vec<u64>>());
}

#[test]
fn json_array_fixture_matches_ndjson() {
    for filter in [Filter::Network, Filter::All] {
        let from_lines = read_bytes(&ndjson_fixture(), filter);
        let from_array = read_bytes(&array_fixture(), filter);
        assert!(from_array.errors.is_empty(), "{:?}", from_array.errors);
        let lines: Vec<LogRecord> = from_lines.records.iter().map(content).collect();
        let array: Vec<LogRecord> = from_array.records.iter().map(content).collect();
        assert_eq!(lines, array, "{filter:?}");
        assert_eq!(from_array.stats.records, 13);
        assert_eq!(from_array.stats.loss_events, 1);
        assert_eq!(from_array.stats.lost_messages, 17);
        assert_eq!(from_array.stats.trailer_count, None);
    }
}

#[test]
fn json_array_fixture_locations() {
    let text = array_fixture();
    let outcome = read_bytes(&text, Filter::All);
    let element_starts: Vec<usize> = text
        .windows(5)
        .enumerate()
        .filter(|(_, window)| *window == b"{\n  \"")
        .map(|(at, _)| at)
        .collect();
    assert_eq!(element_starts.len(), 13);
    for (record, start) in outcome.records.iter().zip(&element_starts) {
        let line = text[..*start].iter().filter(|b| **b == b'\n').count() as u64 + 1;
        assert_eq!(record.location.offset, *start as u64);
        assert_eq!(record.location.line, line);
        assert!(
            record.raw.starts_with("{\n  \"traceID\" : "),
            "{}",
            record.raw
        );
        assert!(record.raw.ends_with('}'));
    }
    let stats = &outcome.stats;
    assert_eq!(
        stats.lines,
        text.iter().filter(|b| **b == b'\n').count() as u64
    );
    assert_eq!(stats.bytes, text.len() as u64);
}

#[test]
fn trickled_input_reads_the_same() {
    for text in [ndjson_fixture(), array_fixture()] {
        let whole = read_bytes(&text, Filter::Network);
        for step in [1, 2, 3, 7, 64, 4093] {
            let reader = LogReader::new(trickle(&text, step), Filter::Network).unwrap();
            let split = read_all(reader);
            assert_eq!(split.records, whole.records, "step {step}");
            assert_eq!(split.stats, whole.stats, "step {step}");
        }
    }
}

#[test]
fn sniff_fixtures() {
    assert_eq!(sniff(&ndjson_fixture()), Some(Format::Ndjson));
    assert_eq!(sniff(&array_fixture()), Some(Format::JsonArray));
    let array = array_fixture();
    let reader = LogReader::new(&array[..], Filter::All).unwrap();
    assert_eq!(reader.format(), Format::JsonArray);
}

#[test]
fn stream_banner_is_skipped() {
    let mut text =
        b"Filtering the log data using \"subsystem BEGINSWITH \\\"com.apple\\\"\"\n".to_vec();
    text.extend(format!("{}\n{}\n", boringssl_line(1), unrelated_line(2)).bytes());
    let outcome = read_bytes(&text, Filter::Network);
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    assert_eq!(trace_ids(&outcome), [Some(1)]);
    assert_eq!(outcome.records[0].location.line, 2);
    assert_eq!(outcome.stats.lines, 3);
    assert_eq!(outcome.stats.records, 2);
    assert_eq!(outcome.stats.trailer_count, None);
}

#[test]
fn crlf_and_byte_order_mark() {
    let plain = read_bytes(&ndjson_fixture(), Filter::Network);
    let text = String::from_utf8(ndjson_fixture()).unwrap();
    let crlf = format!("\u{feff}{}", text.replace('\n', "\r\n"));
    let outcome = read_bytes(crlf.as_bytes(), Filter::Network);
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    let expected: Vec<LogRecord> = plain.records.iter().map(content).collect();
    let found: Vec<LogRecord> = outcome.records.iter().map(content).collect();
    assert_eq!(found, expected);
    assert!(!outcome.records[0].raw.ends_with('\r'));
    assert_eq!(outcome.records[0].location.offset, 3);
}

#[test]
fn trailer_mismatch_is_a_warning() {
    let text = String::from_utf8(ndjson_fixture()).unwrap();
    // Drop the kernel line: the trailer still counts 13 entries.
    let remaining: Vec<&str> = text
        .lines()
        .filter(|line| !line.contains("\"\\/kernel\""))
        .collect();
    assert_eq!(remaining.len(), 13);
    let outcome = read_bytes(
        format!("{}\n", remaining.join("\n")).as_bytes(),
        Filter::Network,
    );
    assert_eq!(outcome.records.len(), 9);
    assert_eq!(outcome.errors.len(), 1);
    let warning = &outcome.errors[0];
    assert!(warning.is_warning());
    assert_eq!(warning.location.line, 13);
    assert!(matches!(
        warning.kind,
        LogErrorKind::TrailerMismatch {
            trailer: 13,
            read: 12
        }
    ));
    assert_eq!(outcome.stats.warnings, 1);
    assert_eq!(outcome.stats.errors, 0);
    assert_eq!(outcome.stats.trailer_count, Some(13));
}

#[test]
fn loss_events_count_under_every_filter() {
    let loss = r#"{"traceID":0,"eventType":"lossEvent","lossCount":250,"subsystem":"","timestamp":"2024-03-05 09:15:05.400000+0100"}"#;
    let text = format!(
        "{}\n{loss}\n{loss}\n{}\n",
        unrelated_line(1),
        boringssl_line(2)
    );
    for filter in [Filter::Network, Filter::All] {
        let outcome = read_bytes(text.as_bytes(), filter);
        assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
        assert_eq!(outcome.stats.loss_events, 2, "{filter:?}");
        assert_eq!(outcome.stats.lost_messages, 500, "{filter:?}");
    }
}

#[test]
fn damaged_lines_are_reported_and_skipped() {
    let good_first = boringssl_line(1);
    let broken =
        r#"{"eventType":"logEvent","subsystem":"com.apple.network","category":"boringssl""#;
    let missing = r#"{"subsystem":"com.apple.network","timestamp":"2024-03-05 09:15:02.1+0100"}"#;
    let mut garbage = vec![0x00, 0xFF, 0x13, 0x37];
    garbage.extend_from_slice(b"CFNetwork\x80\x81");
    let invalid_utf8 = b"{\"eventType\":\"logEvent\",\"subsystem\":\"com.apple.network\xC3\x28\"}";
    let good_last = boringssl_line(6);

    let mut text = Vec::new();
    for line in [
        good_first.as_bytes(),
        broken.as_bytes(),
        missing.as_bytes(),
        &garbage,
        invalid_utf8,
        good_last.as_bytes(),
    ] {
        text.extend_from_slice(line);
        text.push(b'\n');
    }
    let starts = line_starts(&text);

    for filter in [Filter::Network, Filter::All] {
        let reader = LogReader::with_format(&text[..], Format::Ndjson, filter);
        let outcome = read_all(reader);
        assert_eq!(trace_ids(&outcome), [Some(1), Some(6)], "{filter:?}");
        assert_eq!(outcome.records[1].location.line, 6);
        let lines: Vec<u64> = outcome
            .errors
            .iter()
            .map(|error| error.location.line)
            .collect();
        assert_eq!(lines, [2, 3, 4, 5], "{filter:?}");
        for error in &outcome.errors {
            let line = error.location.line as usize;
            assert_eq!(error.location.offset, starts[line - 1] as u64);
            assert!(
                error
                    .to_string()
                    .starts_with(&format!("line {line} (byte offset "))
            );
        }
        assert!(matches!(
            outcome.errors[0].kind,
            LogErrorKind::InvalidJson(_)
        ));
        assert!(matches!(
            outcome.errors[1].kind,
            LogErrorKind::MissingField("eventType")
        ));
        assert!(matches!(outcome.errors[2].kind, LogErrorKind::NotAnObject));
        assert!(matches!(
            outcome.errors[3].kind,
            LogErrorKind::InvalidJson(_)
        ));
        assert_eq!(outcome.stats.errors, 4);
        assert_eq!(outcome.stats.records, 6);
    }
}

#[test]
fn long_line_is_skipped_without_losing_neighbours() {
    let head = r#"{"eventType":"logEvent","subsystem":"com.apple.network","eventMessage":""#;
    let huge = format!(
        "{head}{}\"}}",
        "a".repeat(MAX_RECORD_LEN + MAX_RECORD_LEN / 2)
    );
    let text = format!("{}\n{huge}\n{}\n", boringssl_line(1), boringssl_line(3));
    let outcome = read_bytes(text.as_bytes(), Filter::Network);
    assert_eq!(trace_ids(&outcome), [Some(1), Some(3)]);
    assert_eq!(outcome.errors.len(), 1);
    let error = &outcome.errors[0];
    assert!(matches!(
        error.kind,
        LogErrorKind::LineTooLong {
            max: MAX_RECORD_LEN
        }
    ));
    assert_eq!(error.location.line, 2);
    assert_eq!(error.location.offset, boringssl_line(1).len() as u64 + 1);
    let last = &outcome.records[1];
    assert_eq!(last.location.line, 3);
    assert_eq!(
        last.location.offset,
        (boringssl_line(1).len() + huge.len() + 2) as u64
    );
    assert_eq!(outcome.stats.lines, 3);
    assert_eq!(outcome.stats.records, 3);
    assert_eq!(outcome.stats.bytes, text.len() as u64);
}

#[test]
fn line_at_the_limit_is_read() {
    let line = boringssl_line(5);
    // Pad inside the object with spaces, which JSON allows between tokens.
    let padded = format!(
        "{{{}{}",
        " ".repeat(MAX_RECORD_LEN - line.len()),
        &line[1..]
    );
    assert_eq!(padded.len(), MAX_RECORD_LEN);
    let text = format!("{padded}\n{padded} \n{}", boringssl_line(7));
    // The padding hides the keys from sniff, so the format is given.
    let outcome = read_all(LogReader::with_format(
        text.as_bytes(),
        Format::Ndjson,
        Filter::Network,
    ));
    assert_eq!(trace_ids(&outcome), [Some(5), Some(7)]);
    assert_eq!(outcome.errors.len(), 1);
    assert_eq!(outcome.errors[0].location.line, 2);
    assert_eq!(outcome.records[0].raw.len(), MAX_RAW);
    // The last line has no line end.
    assert_eq!(outcome.stats.lines, 3);
}

#[test]
fn cut_unrelated_line_is_reported() {
    let text = format!(
        "{}\n{{\"traceID\":1,\"eventMessage\":\"cut here\n{}\n",
        boringssl_line(1),
        boringssl_line(2)
    );
    let network = read_all(LogReader::with_format(
        text.as_bytes(),
        Format::Ndjson,
        Filter::Network,
    ));
    assert_eq!(network.errors.len(), 1);
    assert_eq!(network.errors[0].location.line, 2);
    assert_eq!(network.stats.relevant, 2);
}

#[test]
fn prefilter_misses_are_never_parsed() {
    // Invalid JSON without any needle, yet closed: only a full parse would
    // notice it.
    let broken_unrelated = r#"{"eventType":"logEvent","subsystem":"com.apple.xpc" BROKEN}"#;
    let mut text = String::new();
    for i in 0..1000 {
        text.push_str(broken_unrelated);
        text.push('\n');
        if i % 100 == 0 {
            text.push_str(&boringssl_line(i));
            text.push('\n');
        }
    }
    let network = read_all(LogReader::with_format(
        text.as_bytes(),
        Format::Ndjson,
        Filter::Network,
    ));
    assert!(network.errors.is_empty());
    assert_eq!(network.stats.parsed, 10);
    assert_eq!(network.stats.skipped_by_prefilter, 1000);
    assert_eq!(network.stats.relevant, 10);
    assert_eq!(network.stats.records, 1010);

    let all = read_all(LogReader::with_format(
        text.as_bytes(),
        Format::Ndjson,
        Filter::All,
    ));
    assert_eq!(all.errors.len(), 1000);
    assert_eq!(all.stats.parsed, 1010);
    assert_eq!(all.stats.skipped_by_prefilter, 0);
}

#[test]
fn ids_beyond_u64_or_fractional_are_errors() {
    let too_big =
        boringssl_line(1).replacen("\"traceID\":1", "\"traceID\":18446744073709551616", 1);
    let fraction = boringssl_line(1).replacen("\"traceID\":1", "\"traceID\":1.5e19", 1);
    let text = format!("{too_big}\n{fraction}\n{}\n", boringssl_line(3));
    let outcome = read_bytes(text.as_bytes(), Filter::Network);
    assert_eq!(trace_ids(&outcome), [Some(3)]);
    assert_eq!(outcome.errors.len(), 2);
    for error in &outcome.errors {
        assert!(
            matches!(error.kind, LogErrorKind::InvalidJson(_)),
            "{error}"
        );
    }
}

#[test]
fn unparsable_time_keeps_the_record() {
    let line = boringssl_line(1).replace("2024-03-05 09:15:02.123456+0100", "next tuesday");
    let outcome = read_bytes(format!("{line}\n").as_bytes(), Filter::Network);
    assert!(outcome.errors.is_empty());
    assert_eq!(outcome.records[0].timestamp, "next tuesday");
    assert_eq!(outcome.records[0].time_ns, None);
}

#[test]
fn truncated_array_ends_with_an_error() {
    let text = array_fixture();
    let element_starts: Vec<usize> = text
        .windows(5)
        .enumerate()
        .filter(|(_, window)| *window == b"{\n  \"")
        .map(|(at, _)| at)
        .collect();
    // Cut in the middle of the fifth element.
    let cut = element_starts[4] + 200;
    let outcome = read_bytes(&text[..cut], Filter::Network);
    assert_eq!(
        trace_ids(&outcome),
        [
            Some(NETWORK_TRACE_IDS[0]),
            Some(NETWORK_TRACE_IDS[1]),
            Some(NETWORK_TRACE_IDS[2]),
            Some(NETWORK_TRACE_IDS[3])
        ]
    );
    assert_eq!(outcome.errors.len(), 1);
    let error = &outcome.errors[0];
    assert!(matches!(error.kind, LogErrorKind::TruncatedArray));
    assert_eq!(error.location.offset, element_starts[4] as u64);
    assert_eq!(outcome.stats.errors, 1);

    // Cut right after a comma: the error points at the end of the input.
    let after_comma = element_starts[2];
    let outcome = read_bytes(&text[..after_comma], Filter::All);
    assert_eq!(outcome.records.len(), 2);
    assert!(matches!(
        outcome.errors[0].kind,
        LogErrorKind::TruncatedArray
    ));
    assert_eq!(outcome.errors[0].location.offset, after_comma as u64);
}

#[test]
fn array_element_too_long_is_skipped() {
    let huge_message = "b".repeat(MAX_RECORD_LEN + 10);
    let huge = boringssl_line(2).replace("read alert", &huge_message);
    let text = format!(
        "[\n{},\n{huge},\n{}\n]\n",
        boringssl_line(1),
        boringssl_line(3)
    );
    let outcome = read_bytes(text.as_bytes(), Filter::Network);
    assert_eq!(trace_ids(&outcome), [Some(1), Some(3)]);
    assert_eq!(outcome.errors.len(), 1);
    let error = &outcome.errors[0];
    assert!(matches!(
        error.kind,
        LogErrorKind::ElementTooLong {
            max: MAX_RECORD_LEN
        }
    ));
    assert_eq!(error.location.line, 3);
    assert_eq!(outcome.records[1].location.line, 4);
    assert_eq!(outcome.stats.lines, 5);
    assert_eq!(outcome.stats.records, 3);
}

#[test]
fn array_syntax_slips_are_reported() {
    let (one, two, three) = (boringssl_line(1), boringssl_line(2), boringssl_line(3));
    let missing_comma = format!("[{one},{two}\n {three}]");
    let outcome = read_bytes(missing_comma.as_bytes(), Filter::Network);
    assert_eq!(trace_ids(&outcome), [Some(1), Some(2), Some(3)]);
    assert_eq!(outcome.errors.len(), 1);
    assert!(matches!(
        outcome.errors[0].kind,
        LogErrorKind::UnexpectedInArray { found: '{', .. }
    ));
    assert_eq!(outcome.errors[0].location.line, 2);

    let non_objects = format!("[1, \"text\", {one}]");
    let reader = LogReader::with_format(non_objects.as_bytes(), Format::JsonArray, Filter::All);
    let outcome = read_all(reader);
    assert_eq!(trace_ids(&outcome), [Some(1)]);
    let kinds: Vec<bool> = outcome
        .errors
        .iter()
        .map(|error| matches!(error.kind, LogErrorKind::NotAnObject))
        .collect();
    assert_eq!(kinds, [true, true]);

    let trailing_comma = format!("[{one},\n]\n");
    let outcome = read_bytes(trailing_comma.as_bytes(), Filter::Network);
    assert_eq!(trace_ids(&outcome), [Some(1)]);
    assert_eq!(outcome.errors.len(), 1);
    assert!(matches!(
        outcome.errors[0].kind,
        LogErrorKind::UnexpectedInArray { found: ']', .. }
    ));

    let trailing = format!("[{one}]\n{{\"count\":1}}\n");
    let outcome = read_bytes(trailing.as_bytes(), Filter::Network);
    assert_eq!(trace_ids(&outcome), [Some(1)]);
    assert!(matches!(outcome.errors[0].kind, LogErrorKind::TrailingData));
    assert_eq!(outcome.errors[0].location.line, 2);
}

#[test]
fn io_error_ends_reading() {
    let text = ndjson_fixture();
    let starts = line_starts(&text);
    // Fail just after the third line.
    let good = starts[3];
    let reader = LogReader::with_format(
        std::io::BufReader::new(FailAfter { data: &text, good }),
        Format::Ndjson,
        Filter::Network,
    );
    let outcome = read_all(reader);
    assert_eq!(
        trace_ids(&outcome),
        [
            Some(NETWORK_TRACE_IDS[0]),
            Some(NETWORK_TRACE_IDS[1]),
            Some(NETWORK_TRACE_IDS[2])
        ]
    );
    assert_eq!(outcome.errors.len(), 1);
    assert!(matches!(outcome.errors[0].kind, LogErrorKind::Io(_)));
    assert_eq!(outcome.errors[0].location.offset, good as u64);
}

#[test]
fn unknown_input_is_rejected() {
    let eslogger = br#"{"schema_version":1,"event_type":9,"process":{"audit_token":{"pid":1}},"time":"2024-01-01T00:00:00Z","seq_num":1}"#;
    for input in [
        &eslogger[..],
        b"",
        b"random text\n",
        b"\xd4\xc3\xb2\xa1\x02\x00\x04\x00",
    ] {
        let Err(error) = LogReader::new(input, Filter::All) else {
            panic!("accepted {input:?}");
        };
        assert!(matches!(error.kind, LogErrorKind::UnknownFormat));
        assert_eq!(error.location.line, 1);
    }
}
