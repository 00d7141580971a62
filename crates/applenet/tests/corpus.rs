//! Parses the real Big Sur unified log sample in the public corpus named by
//! `WIRETRUST_CORPUS` (168 records that the `macos-unifiedlogs` crate wrote
//! from a Mandiant test archive). The test prints a line and passes when
//! the variable is unset.

use std::collections::BTreeMap;
use std::path::PathBuf;

use wiretrust_applenet::{NetEvent, Origin, Parsed, parse};

const SAMPLE: &str = "unifiedlog/artemis-bigsur-unifiedlogs.jsonl";

/// One record's fields as the `macos-unifiedlogs` crate names them.
struct Record {
    subsystem: String,
    category: String,
    library: String,
    process: String,
    message: String,
}

/// Reads the sample, or returns `None` after printing that `test` was skipped.
fn records(test: &str) -> Option<Vec<Record>> {
    let Some(root) = std::env::var_os("WIRETRUST_CORPUS") else {
        println!("{test}: skipped, WIRETRUST_CORPUS is not set");
        return None;
    };
    let path = PathBuf::from(root).join(SAMPLE);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {}: {e}; check WIRETRUST_CORPUS",
            path.display()
        )
    });
    let records = text.lines().enumerate().map(|(index, line)| {
        let value: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("{}:{}: invalid JSON: {e}", path.display(), index + 1));
        let field = |key: &str| value[key].as_str().unwrap_or_default().to_owned();
        Record {
            subsystem: field("subsystem"),
            category: field("category"),
            library: field("library"),
            process: field("process"),
            message: field("message"),
        }
    });
    Some(records.collect())
}

fn parse_record(record: &Record) -> Parsed {
    let origin = Origin {
        subsystem: &record.subsystem,
        category: &record.category,
        sender_image: &record.library,
        process_path: &record.process,
    };
    parse(&origin, &record.message)
}

/// Labels a result with its event variant, and progress with its kind.
fn label(parsed: &Parsed) -> String {
    match parsed {
        Parsed::Event(NetEvent::Progress { kind, .. }) => format!("Progress/{kind}"),
        Parsed::Event(event) => {
            let debug = format!("{event:?}");
            let end = debug.find([' ', '{', '(']).unwrap_or(debug.len());
            debug[..end].to_owned()
        }
        Parsed::Unknown => "Unknown".to_owned(),
        Parsed::Unrelated => "Unrelated".to_owned(),
    }
}

#[test]
fn corpus_counts_per_kind() {
    let Some(records) = records("corpus_counts_per_kind") else {
        return;
    };
    assert_eq!(records.len(), 168);
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for record in &records {
        *counts.entry(label(&parse_record(record))).or_default() += 1;
    }
    let expected: BTreeMap<String, usize> = [
        ("AtsPolicy", 1),
        ("ConnectionPath", 11),
        ("ConnectionStart", 1),
        ("ConnectionSummary", 3),
        ("Progress/authentication challenge", 2),
        ("Progress/connection cancel", 4),
        ("Progress/connection event", 12),
        ("Progress/connection lifecycle", 8),
        ("Progress/connection state", 4),
        ("Progress/download acknowledged", 1),
        ("Progress/external trust evaluation", 4),
        ("Progress/handshake started", 2),
        ("Progress/handshake state", 16),
        ("Progress/socket event", 2),
        ("Progress/task lifecycle", 18),
        ("Progress/trust evaluation", 2),
        ("TaskConnection", 6),
        ("TaskSummary", 5),
        ("TlsConfigured", 2),
        ("Unrelated", 64),
    ]
    .into_iter()
    .map(|(label, count)| (label.to_owned(), count))
    .collect();
    assert_eq!(counts, expected);
}

#[test]
fn corpus_no_unknown() {
    let Some(records) = records("corpus_no_unknown") else {
        return;
    };
    for record in &records {
        let parsed = parse_record(record);
        assert_ne!(parsed, Parsed::Unknown, "unparsed: {}", record.message);
    }
}

#[test]
fn corpus_boringssl_all_recognised() {
    let Some(records) = records("corpus_boringssl_all_recognised") else {
        return;
    };
    let boringssl: Vec<&Record> = records
        .iter()
        .filter(|r| r.category == "boringssl")
        .collect();
    assert_eq!(boringssl.len(), 24);
    for record in boringssl {
        let parsed = parse_record(record);
        assert!(
            matches!(parsed, Parsed::Event(_)),
            "{parsed:?}: {}",
            record.message
        );
    }
}

#[test]
fn corpus_tls_configured_versions() {
    let Some(records) = records("corpus_tls_configured_versions") else {
        return;
    };
    let mut connections = Vec::new();
    for record in &records {
        let parsed = parse_record(record);
        if let Parsed::Event(NetEvent::TlsConfigured {
            connection,
            min_version,
            max_version,
            server_name,
            ..
        }) = parsed
        {
            assert_eq!(min_version, 0x0301);
            assert_eq!(max_version, 0x0304);
            assert_eq!(server_name, None, "the sample redacts names");
            connections.push(connection.path);
        }
    }
    assert_eq!(connections, ["64.1", "65.1"]);
}

#[test]
fn corpus_summaries_tls_13() {
    let Some(records) = records("corpus_summaries_tls_13") else {
        return;
    };
    let mut summaries = Vec::new();
    for record in &records {
        if let Parsed::Event(NetEvent::ConnectionSummary {
            connection,
            host,
            tls,
            tls_version,
            remote,
            bytes_in,
            ..
        }) = parse_record(record)
        {
            assert_eq!(host, "gspe21-ssl.ls.apple.com");
            assert!(tls);
            assert_eq!(tls_version.as_deref(), Some("TLS 1.3"));
            assert_eq!(remote.as_deref(), Some("23.64.70.122:443"));
            summaries.push((connection.number, bytes_in));
        }
    }
    let expected = [(60, Some(24006)), (62, Some(69028)), (63, Some(25790))];
    assert_eq!(summaries, expected);
}

#[test]
fn corpus_tasks_link_connections() {
    let Some(records) = records("corpus_tasks_link_connections") else {
        return;
    };
    let mut summaries = BTreeMap::new();
    let mut links = Vec::new();
    for record in &records {
        match parse_record(record) {
            Parsed::Event(NetEvent::TaskSummary {
                task, connection, ..
            }) => {
                summaries.insert(task, connection);
            }
            Parsed::Event(NetEvent::TaskConnection { task, connection }) => {
                links.push((task, connection));
            }
            _ => {}
        }
    }
    // The summary's dashless UUID and the dashed `done using` UUID name the
    // same task once normalised.
    let task = "69684AA9BAB14D0BA5DF247EB0ED148C.<1>".to_owned();
    assert_eq!(summaries.get(&task), Some(&Some(60)));
    assert!(links.contains(&(task, 60)));
}
