//! The reader, the sniffer and the process table on the constructed
//! eslogger files in tests/fixtures (written by make_constructed.py there).

use std::io::{BufReader, Cursor};
use std::path::PathBuf;

use wiretrust_eslogger::{EsError, EsEvent, EsEventKind, EsReader, ProcessTable, sniff};

const MS: i64 = 1_000_000;
const S: i64 = 1_000_000_000;
/// 2025-08-07T15:13:09Z, where every constructed timeline starts.
const BASE: i64 = 1_754_579_589 * S;

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

fn read_all(bytes: Vec<u8>) -> (Vec<Result<EsEvent, EsError>>, wiretrust_eslogger::EsStats) {
    let mut reader = EsReader::new(Cursor::new(bytes));
    let items: Vec<_> = reader.by_ref().collect();
    (items, reader.stats().clone())
}

fn events(name: &str) -> Vec<EsEvent> {
    let (items, _) = read_all(fixture(name));
    items
        .into_iter()
        .map(|item| item.unwrap_or_else(|err| panic!("{name}: {err}")))
        .collect()
}

fn kinds(name: &str) -> Vec<EsEventKind> {
    events(name).into_iter().map(|event| event.kind).collect()
}

#[test]
fn sniff_accepts_both_versions() {
    assert!(sniff(&fixture("constructed-v9-download.jsonl")));
    assert!(sniff(&fixture("constructed-v10-pid-reuse.jsonl")));
}

#[test]
fn sniff_accepts_cut_first_line() {
    let bytes = fixture("constructed-v9-download.jsonl");
    assert!(sniff(&bytes[..700]));
}

#[test]
fn sniff_looks_past_damaged_first_line() {
    let mut bytes = b"{\"schema_version\":1,\"event_ty\n\x00\x01garbage\n".to_vec();
    bytes.extend(fixture("constructed-v9-download.jsonl"));
    assert!(sniff(&bytes));
}

#[test]
fn sniff_rejects_unified_log() {
    let line = br#"{"timestamp":"2025-08-07 15:13:09.811587+0000","eventMessage":"TLS connected","eventType":"logEvent","processID":532,"processImagePath":"\/usr\/libexec\/nsurlsessiond"}
"#;
    assert!(!sniff(line));
    assert!(!sniff(&line[..60]));
}

#[test]
fn sniff_rejects_captures_and_text() {
    assert!(!sniff(&[0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0]));
    assert!(!sniff(&[0x0a, 0x0d, 0x0d, 0x0a, 0x1c, 0, 0, 0]));
    assert!(!sniff(b"hello world\n"));
    assert!(!sniff(b""));
}

#[test]
fn sniff_requires_integer_event_type() {
    let line = br#"{"schema_version":1,"event_type":"exec","process":{"audit_token":[1,2,3,4,5,6,7,8]},"event":{}}
"#;
    assert!(!sniff(line));
}

#[test]
fn v9_every_kind_read() {
    let names: Vec<String> = kinds("constructed-v9-download.jsonl")
        .iter()
        .map(|kind| kind.name().to_owned())
        .collect();
    let expected = [
        "fork",
        "exec",
        "create",
        "open",
        "write",
        "close",
        "rename",
        "setextattr",
        "create",
        "rename",
        "exit",
        "deleteextattr",
        "gatekeeper_user_override",
    ];
    assert_eq!(names, expected);
}

#[test]
fn v9_envelope_fields() {
    let events = events("constructed-v9-download.jsonl");
    let first = &events[0];
    assert_eq!(first.line, 1);
    assert_eq!(first.version, 9);
    assert_eq!(first.time_ns, BASE + 100 * MS);
    assert_eq!(first.seq_num, Some(1));
    assert_eq!(first.global_seq_num, Some(1101));
    assert_eq!(events[12].line, 13);
}

#[test]
fn v9_object_token_and_identity() {
    let events = events("constructed-v9-download.jsonl");
    let shell = &events[0].process;
    assert_eq!(shell.pid, 1200);
    assert_eq!(shell.pidversion, Some(3100));
    assert_eq!(shell.euid, Some(501));
    assert_eq!(shell.ppid, Some(1100));
    assert_eq!(shell.responsible_pid, Some(1100));
    assert_eq!(shell.path, "/bin/zsh");
    assert_eq!(shell.signing_id.as_deref(), Some("com.apple.zsh"));
    assert_eq!(shell.team_id, None);
    assert_eq!(
        shell.cdhash.as_deref(),
        Some("F988105881118CD77EF87293D97DECE8E193FA98")
    );
    assert!(shell.platform_binary);
    assert_eq!(shell.start_ns, Some(BASE));
}

#[test]
fn fork_names_child() {
    let kinds = kinds("constructed-v9-download.jsonl");
    let EsEventKind::Fork { child } = &kinds[0] else {
        panic!("{:?}", kinds[0]);
    };
    assert_eq!((child.pid, child.pidversion), (4321, Some(3200)));
    assert_eq!(child.start_ns, Some(BASE + 100 * MS));
}

#[test]
fn exec_target_and_args() {
    let kinds = kinds("constructed-v9-download.jsonl");
    let EsEventKind::Exec { target, args } = &kinds[1] else {
        panic!("{:?}", kinds[1]);
    };
    assert_eq!(target.path, "/usr/bin/curl");
    assert_eq!(target.pidversion, Some(3201));
    assert_eq!(
        args,
        &[
            "curl",
            "-o",
            "/Users/analyst/Downloads/tool.zip",
            "https://downloads.example.com/tool.zip"
        ]
    );
}

#[test]
fn file_events_paths() {
    let kinds = kinds("constructed-v9-download.jsonl");
    let downloads = "/Users/analyst/Downloads";
    let part = format!("{downloads}/tool.zip.part");
    let zip = format!("{downloads}/tool.zip");
    assert_eq!(kinds[2], EsEventKind::Create { path: part.clone() });
    assert_eq!(
        kinds[3],
        EsEventKind::Open {
            path: part.clone(),
            fflag: 0x602
        }
    );
    assert_eq!(kinds[4], EsEventKind::Write { path: part.clone() });
    assert_eq!(
        kinds[5],
        EsEventKind::Close {
            path: part.clone(),
            modified: true
        }
    );
    assert_eq!(
        kinds[6],
        EsEventKind::Rename {
            from: part,
            to: zip.clone()
        }
    );
    assert_eq!(
        kinds[7],
        EsEventKind::SetExtattr {
            path: zip.clone(),
            name: "com.apple.quarantine".to_owned()
        }
    );
    assert_eq!(
        kinds[11],
        EsEventKind::DeleteExtattr {
            path: zip,
            name: "com.apple.quarantine".to_owned()
        }
    );
}

#[test]
fn existing_file_destinations() {
    let kinds = kinds("constructed-v9-download.jsonl");
    let downloads = "/Users/analyst/Downloads";
    assert_eq!(
        kinds[8],
        EsEventKind::Create {
            path: format!("{downloads}/tool.log")
        }
    );
    assert_eq!(
        kinds[9],
        EsEventKind::Rename {
            from: format!("{downloads}/tool.log"),
            to: format!("{downloads}/previous.log"),
        }
    );
}

#[test]
fn exit_status_read() {
    let kinds = kinds("constructed-v9-download.jsonl");
    assert_eq!(kinds[10], EsEventKind::Exit { status: 0 });
}

#[test]
fn gatekeeper_override_fields() {
    let kinds = kinds("constructed-v9-download.jsonl");
    let expected = EsEventKind::GatekeeperOverride {
        path: "/Users/analyst/Downloads/tool.zip".to_owned(),
        sha256: Some("5f2b51ca2fdc5baa31ec02e002f69aec6d1e1a6e3b9cbb41ae4b5e1f8b7c0d93".to_owned()),
        signing_id: Some("com.example.tool".to_owned()),
        team_id: Some("ABCDE12345".to_owned()),
    };
    assert_eq!(kinds[12], expected);
}

#[test]
fn v9_stats_by_kind() {
    let (items, stats) = read_all(fixture("constructed-v9-download.jsonl"));
    assert_eq!(items.len(), 13);
    assert_eq!((stats.lines, stats.events, stats.errors), (13, 13, 0));
    assert_eq!(stats.by_kind.get("create"), Some(&2));
    assert_eq!(stats.by_kind.get("rename"), Some(&2));
    assert_eq!(stats.by_kind.get("exec"), Some(&1));
    assert_eq!(stats.event_type_mismatches, 0);
}

#[test]
fn v10_array_token() {
    let events = events("constructed-v10-pid-reuse.jsonl");
    let shell = &events[0].process;
    assert_eq!(events[0].version, 10);
    assert_eq!(
        (shell.pid, shell.pidversion, shell.euid),
        (2001, Some(8000), Some(501))
    );
    assert_eq!(shell.responsible_pid, Some(1100));
}

#[test]
fn v10_team_id_read() {
    let kinds = kinds("constructed-v10-pid-reuse.jsonl");
    let EsEventKind::Exec { target, .. } = &kinds[4] else {
        panic!("{:?}", kinds[4]);
    };
    assert_eq!(target.team_id.as_deref(), Some("ABCDE12345"));
    assert!(!target.platform_binary);
}

fn table(name: &str) -> ProcessTable {
    let mut table = ProcessTable::new();
    for event in events(name) {
        table.feed(&event);
    }
    table
}

fn path_at(table: &ProcessTable, pid: u32, time_ns: i64) -> Option<String> {
    table.lookup(pid, time_ns).map(|p| p.path.clone())
}

#[test]
fn table_exec_replaces_image() {
    let table = table("constructed-v9-download.jsonl");
    let before = path_at(&table, 4321, BASE + 110 * MS);
    let after = path_at(&table, 4321, BASE + 200 * MS);
    assert_eq!(before.as_deref(), Some("/bin/zsh"));
    assert_eq!(after.as_deref(), Some("/usr/bin/curl"));
}

#[test]
fn table_fork_starts_child() {
    let table = table("constructed-v9-download.jsonl");
    assert_eq!(path_at(&table, 4321, BASE + 50 * MS), None);
}

#[test]
fn table_exit_ends_process() {
    let table = table("constructed-v9-download.jsonl");
    assert_eq!(
        path_at(&table, 4321, BASE + 600 * MS).as_deref(),
        Some("/usr/bin/curl")
    );
    assert_eq!(path_at(&table, 4321, BASE + 601 * MS), None);
}

#[test]
fn table_remembers_actors() {
    let table = table("constructed-v9-download.jsonl");
    assert_eq!(
        path_at(&table, 1200, BASE + 5 * S).as_deref(),
        Some("/bin/zsh")
    );
    assert_eq!(
        path_at(&table, 310, BASE + 3 * S).as_deref(),
        Some("/usr/libexec/syspolicyd")
    );
    assert_eq!(
        path_at(&table, 4400, BASE + 950 * MS).as_deref(),
        Some("/usr/bin/xattr")
    );
}

#[test]
fn table_pid_reuse_told_apart() {
    let table = table("constructed-v10-pid-reuse.jsonl");
    let first = table.lookup(5150, BASE + 11 * S);
    let second = table.lookup(5150, BASE + 60 * S);
    assert_eq!(
        first.map(|p| (p.path.as_str(), p.pidversion)),
        Some(("/usr/bin/curl", Some(8101)))
    );
    assert_eq!(
        second.map(|p| (p.path.as_str(), p.pidversion)),
        Some((
            "/Applications/Example.app/Contents/MacOS/Example",
            Some(9201)
        ))
    );
}

#[test]
fn table_gap_between_reused_pids() {
    let table = table("constructed-v10-pid-reuse.jsonl");
    assert_eq!(path_at(&table, 5150, BASE + 30 * S), None);
    assert_eq!(path_at(&table, 5150, BASE + 71 * S), None);
    assert_eq!(table.len(), 3);
}

#[test]
fn table_reuse_without_exit_ends_earlier() {
    let mut events = events("constructed-v10-pid-reuse.jsonl");
    // Drop the first process's exit: the second fork still ends it.
    events.remove(2);
    let mut table = ProcessTable::new();
    for event in &events {
        table.feed(event);
    }
    assert_eq!(
        path_at(&table, 5150, BASE + 49 * S).as_deref(),
        Some("/usr/bin/curl")
    );
    assert_eq!(
        path_at(&table, 5150, BASE + 55 * S).as_deref(),
        Some("/Applications/Example.app/Contents/MacOS/Example")
    );
}

/// Returns the outcome of one line: the event name or the error's variant.
fn outcome(item: &Result<EsEvent, EsError>) -> (u64, String) {
    match item {
        Ok(event) => (event.line, event.kind.name().to_owned()),
        Err(err) => {
            let variant = match err {
                EsError::Io { .. } => "io",
                EsError::LineTooLong { .. } => "too long",
                EsError::InvalidUtf8 { .. } => "utf-8",
                EsError::InvalidJson { .. } => "json",
                EsError::MissingField { .. } => "missing",
                EsError::InvalidField { .. } => "invalid",
            };
            (err.line(), variant.to_owned())
        }
    }
}

#[test]
fn bad_lines_counted_reading_goes_on() {
    let (items, stats) = read_all(fixture("constructed-bad-lines.jsonl"));
    let outcomes: Vec<(u64, String)> = items.iter().map(outcome).collect();
    let expected = [
        (1, "open"),
        (2, "json"),
        (3, "missing"),
        (5, "close"),
        (6, "xp_malware_detected"),
        (7, "invalid"),
        (8, "invalid"),
        (9, "invalid"),
        (10, "exit"),
    ];
    let expected: Vec<(u64, String)> = expected
        .iter()
        .map(|(line, what)| (*line, (*what).to_owned()))
        .collect();
    assert_eq!(outcomes, expected);
    assert_eq!((stats.lines, stats.blank_lines), (10, 1));
    assert_eq!((stats.events, stats.errors), (4, 5));
}

#[test]
fn bad_lines_name_the_field() {
    let (items, _) = read_all(fixture("constructed-bad-lines.jsonl"));
    let messages: Vec<String> = items
        .iter()
        .filter_map(|item| item.as_ref().err().map(ToString::to_string))
        .collect();
    assert_eq!(messages[1], "line 3: missing field process.audit_token");
    assert_eq!(
        messages[3],
        "line 8: field process.audit_token is invalid: expected an object or an array of 8 \
         unsigned 32-bit integers"
    );
    assert_eq!(
        messages[4],
        "line 9: field time is invalid: expected an RFC 3339 time"
    );
}

#[test]
fn event_type_disagreement_counted() {
    let (_, stats) = read_all(fixture("constructed-bad-lines.jsonl"));
    assert_eq!(stats.event_type_mismatches, 1);
    assert_eq!(stats.first_event_type_mismatch, Some(5));
}

#[test]
fn huge_line_skipped() {
    let good = fixture("constructed-v9-download.jsonl");
    let first_line_end = good.iter().position(|&b| b == b'\n').unwrap_or(0) + 1;
    let mut bytes = vec![b'{'; 200_000];
    bytes.push(b'\n');
    bytes.extend_from_slice(&good[..first_line_end]);
    let limit = 100_000;
    let reader = EsReader::with_max_line(BufReader::with_capacity(4096, &bytes[..]), limit);
    let outcomes: Vec<(u64, String)> = reader.map(|item| outcome(&item)).collect();
    assert_eq!(
        outcomes,
        [(1, "too long".to_owned()), (2, "fork".to_owned())]
    );
}

#[test]
fn invalid_utf8_counted() {
    let mut bytes = b"{\"a\":\"\xff\"}\n".to_vec();
    bytes.extend_from_slice(&fixture("constructed-v10-pid-reuse.jsonl"));
    let (items, stats) = read_all(bytes);
    assert_eq!(outcome(&items[0]), (1, "utf-8".to_owned()));
    assert_eq!(stats.events, 6);
}

#[test]
fn crlf_and_missing_final_newline() {
    let text = String::from_utf8(fixture("constructed-v10-pid-reuse.jsonl")).unwrap_or_default();
    let crlf = text.trim_end().replace('\n', "\r\n");
    let (items, stats) = read_all(crlf.into_bytes());
    assert!(items.iter().all(Result::is_ok));
    assert_eq!(stats.events, 6);
}

#[test]
fn event_with_two_members_rejected() {
    let text = String::from_utf8(fixture("constructed-v9-download.jsonl")).unwrap_or_default();
    let first = text.lines().next().unwrap_or_default();
    let doubled = first.replace(
        "\"event\":{\"fork\":",
        "\"event\":{\"exit\":{\"stat\":0},\"fork\":",
    );
    let (items, _) = read_all(format!("{doubled}\n").into_bytes());
    let message = items[0].as_ref().err().map(ToString::to_string);
    assert_eq!(
        message.as_deref(),
        Some("line 1: field event is invalid: expected an object with exactly one member")
    );
}
