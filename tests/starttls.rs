//! Runs the `wiretrust` binary on the recorded mail captures
//! (scripts/make-mail-captures.sh) and on the public STARTTLS captures, and
//! checks the `starttls` records, the `tls.stripped` alerts and the summary.

mod common;

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

/// What one scan wrote: alerts, observation records and the summary.
struct Output {
    alerts: Vec<Value>,
    dialogues: Vec<Value>,
    sessions: Vec<Value>,
    stderr: String,
}

fn scan_with_threads(capture: &Path, threads: Option<&str>) -> Output {
    let dir = tempfile::tempdir().expect("temporary directory");
    let observations = dir.path().join("observations.jsonl");
    let mut command = Command::cargo_bin("wiretrust").expect("the wiretrust binary is built");
    command
        .args(["scan", "--no-store"])
        .arg("--format")
        .arg("jsonl")
        .arg("--observations")
        .arg(&observations);
    if let Some(threads) = threads {
        command.arg("--threads").arg(threads);
    }
    let output = command.arg(capture).output().expect("wiretrust runs");
    let parse = |text: &str| -> Vec<Value> {
        text.lines()
            .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{line}: {e}")))
            .collect()
    };
    let records = parse(&std::fs::read_to_string(&observations).expect("observations written"));
    let of_type = |kind: &str| -> Vec<Value> {
        records
            .iter()
            .filter(|r| r["type"] == kind)
            .cloned()
            .collect()
    };
    Output {
        alerts: parse(&String::from_utf8_lossy(&output.stdout)),
        dialogues: of_type("starttls"),
        sessions: of_type("tls_session"),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn scan(capture: &Path) -> Output {
    scan_with_threads(capture, None)
}

fn fixture(name: &str) -> Output {
    scan(&common::fixture(name))
}

fn stripped_alerts(output: &Output) -> Vec<&Value> {
    output
        .alerts
        .iter()
        .filter(|a| a["detection"] == "tls.stripped")
        .collect()
}

/// Returns the finding kinds of a record, with the garble class when set.
fn finding_kinds(dialogue: &Value) -> Vec<String> {
    let findings = dialogue["findings"].as_array().cloned().unwrap_or_default();
    findings
        .iter()
        .map(|f| match f["garble"].as_str() {
            Some(garble) => format!("{}:{garble}", f["kind"].as_str().unwrap_or_default()),
            None => f["kind"].as_str().unwrap_or_default().to_owned(),
        })
        .collect()
}

fn only_dialogue(output: &Output) -> &Value {
    assert_eq!(output.dialogues.len(), 1, "{:?}", output.dialogues);
    &output.dialogues[0]
}

/// Asserts a dialogue that requested STARTTLS, had it accepted and moved
/// both sides to TLS, with no finding.
fn assert_upgraded(name: &str, dialogue: &Value, protocol: &str) {
    assert_eq!(dialogue["protocol"], protocol, "{name}");
    assert!(dialogue["requested"].is_object(), "{name}: {dialogue}");
    assert!(dialogue["accepted"].is_object(), "{name}: {dialogue}");
    assert!(dialogue["refused"].is_null(), "{name}: {dialogue}");
    assert!(dialogue["client_tls_offset"].is_u64(), "{name}: {dialogue}");
    assert!(dialogue["server_tls_offset"].is_u64(), "{name}: {dialogue}");
    assert_eq!(dialogue["implicit_tls"], false, "{name}");
    assert!(finding_kinds(dialogue).is_empty(), "{name}: {dialogue}");
}

/// Asserts that every quoted line names its side, offset, line number and packet.
fn assert_lines_located(dialogue: &Value) {
    let findings = dialogue["findings"].as_array().cloned().unwrap_or_default();
    for finding in findings {
        for line in finding["evidence"].as_array().cloned().unwrap_or_default() {
            assert!(line["side"].is_string(), "{line}");
            assert!(line["offset"].is_u64(), "{line}");
            assert!(line["line"].is_u64(), "{line}");
            assert!(line["packet"].is_u64(), "{line}");
        }
    }
}

#[test]
fn smtp_used_upgrades_without_alert() {
    let output = fixture("smtp-starttls-used.pcap");
    assert!(stripped_alerts(&output).is_empty(), "{:?}", output.alerts);
    let dialogue = only_dialogue(&output);
    assert_upgraded("smtp-starttls-used", dialogue, "smtp");
    assert_eq!(dialogue["offered"], true);
    assert_eq!(dialogue["requested"]["packet"], 9);
    assert_eq!(dialogue["accepted"]["packet"], 10);
    assert_eq!(dialogue["accepted"]["text"], "220 2.0.0 Ready to start TLS");
    assert_eq!(output.sessions.len(), 1);
    assert_eq!(output.sessions[0]["preamble"], "smtp");
    assert!(
        output
            .stderr
            .contains("1 STARTTLS dialogue: 1 upgraded to TLS, 0 stripped"),
        "{}",
        output.stderr
    );
}

#[test]
fn imap_used_upgrades_without_alert() {
    let output = fixture("imap-starttls-used.pcap");
    assert!(stripped_alerts(&output).is_empty(), "{:?}", output.alerts);
    let dialogue = only_dialogue(&output);
    assert_upgraded("imap-starttls-used", dialogue, "imap");
    assert_eq!(dialogue["offered"], true);
    assert_eq!(output.sessions.len(), 1);
}

#[test]
fn pop3_used_upgrades_without_alert() {
    let output = fixture("pop3-stls-used.pcap");
    assert!(stripped_alerts(&output).is_empty(), "{:?}", output.alerts);
    let dialogue = only_dialogue(&output);
    assert_upgraded("pop3-stls-used", dialogue, "pop3");
    assert_eq!(dialogue["offered"], true);
    assert_eq!(dialogue["requested"]["text"], "STLS");
    assert_eq!(output.sessions.len(), 1);
}

#[test]
fn garbled_relay_raises_one_high_alert() {
    let output = fixture("smtp-starttls-garbled-relay.pcap");
    assert_eq!(output.dialogues.len(), 2, "{:?}", output.dialogues);
    let client_leg = output
        .dialogues
        .iter()
        .find(|d| d["server"]["port"] == 18202)
        .expect("client leg to the relay");
    assert_eq!(
        finding_kinds(client_leg),
        [
            "starttls_garbled:overwritten",
            "plaintext_credentials",
            "plaintext_mail"
        ]
    );
    assert_eq!(client_leg["offered"], false);
    assert_lines_located(client_leg);
    let garbled = &client_leg["findings"][0]["evidence"][0];
    assert_eq!(garbled["text"], "250-XXXXXXXA");
    assert_eq!(garbled["side"], "server");
    assert_eq!(garbled["packet"], 19);

    let server_leg = output
        .dialogues
        .iter()
        .find(|d| d["server"]["port"] == 18201)
        .expect("relay leg to the server");
    assert_eq!(server_leg["offered"], true);
    assert_eq!(
        finding_kinds(server_leg),
        ["plaintext_credentials", "plaintext_mail"]
    );

    let alerts = stripped_alerts(&output);
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    let alert = alerts[0];
    assert_eq!(alert["severity"], "high");
    assert_eq!(alert["confidence"], "high");
    assert_eq!(alert["destination"]["ip"], "127.0.0.1");
    assert_eq!(alert["destination"]["port"], 18202);
    let title = alert["title"].as_str().unwrap_or_default();
    assert!(title.contains("127.0.0.1:18202"), "{title}");
    assert!(title.contains("250-XXXXXXXA"), "{title}");
    assert_eq!(alert["tls"]["compared"]["protocol"], "smtp");
    let missing = alert["tls"]["compared"]["missing"].to_string();
    assert!(missing.contains("starttls_capability"), "{missing}");
    let evidence = alert["evidence"].as_array().cloned().unwrap_or_default();
    assert_eq!(evidence[0]["field"], "smtp.starttls_garbled");
    assert_eq!(evidence[0]["value"], "250-XXXXXXXA");
    let location = evidence[0]["location"].as_str().unwrap_or_default();
    assert!(
        location.starts_with("packet 19, server offset"),
        "{location}"
    );
    assert!(
        output.stderr.contains("0 upgraded to TLS, 1 stripped"),
        "{}",
        output.stderr
    );
}

#[test]
fn refused_454_raises_alert() {
    let output = fixture("smtp-starttls-refused-454.pcap");
    let dialogue = only_dialogue(&output);
    assert_eq!(
        finding_kinds(dialogue),
        [
            "starttls_refused",
            "plaintext_credentials",
            "plaintext_mail"
        ]
    );
    assert_eq!(dialogue["refused"]["code"], 454);
    assert_eq!(dialogue["refused"]["reply"]["packet"], 10);
    assert_lines_located(dialogue);
    let alerts = stripped_alerts(&output);
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0]["severity"], "high");
    assert_eq!(alerts[0]["destination"]["port"], 18203);
    assert_eq!(alerts[0]["tls"]["compared"]["starttls_reply_code"], 454);
    let title = alerts[0]["title"].as_str().unwrap_or_default();
    assert!(title.contains("rejected with 454"), "{title}");
}

#[test]
fn imap_removed_raises_alert() {
    let output = fixture("imap-starttls-removed.pcap");
    let dialogue = only_dialogue(&output);
    assert_eq!(
        finding_kinds(dialogue),
        ["starttls_absent", "plaintext_credentials"]
    );
    assert_lines_located(dialogue);
    let alerts = stripped_alerts(&output);
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0]["severity"], "high");
    assert_eq!(alerts[0]["confidence"], "medium");
    assert_eq!(alerts[0]["destination"]["port"], 18204);
    let evidence = alerts[0]["evidence"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let values: Vec<&str> = evidence
        .iter()
        .filter_map(|e| e["value"].as_str())
        .collect();
    assert!(
        values.contains(&"* CAPABILITY IMAP4rev1 AUTH=PLAIN"),
        "{values:?}"
    );
    assert!(values.contains(&"LOGIN"), "{values:?}");
}

#[test]
fn pop3_removed_raises_alert() {
    let output = fixture("pop3-stls-removed.pcap");
    let dialogue = only_dialogue(&output);
    assert_eq!(
        finding_kinds(dialogue),
        [
            "starttls_absent",
            "plaintext_credentials",
            "plaintext_credentials"
        ]
    );
    let alerts = stripped_alerts(&output);
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0]["destination"]["port"], 18205);
    let title = alerts[0]["title"].as_str().unwrap_or_default();
    assert!(title.starts_with("POP3 server 127.0.0.1:18205"), "{title}");
}

#[test]
fn credentials_never_written() {
    for name in [
        "smtp-starttls-garbled-relay.pcap",
        "smtp-starttls-refused-454.pcap",
        "imap-starttls-removed.pcap",
        "pop3-stls-removed.pcap",
    ] {
        let output = fixture(name);
        for dialogue in &output.dialogues {
            let findings = dialogue["findings"].as_array().cloned().unwrap_or_default();
            for finding in findings {
                for line in finding["evidence"].as_array().cloned().unwrap_or_default() {
                    // Server lines (capabilities, replies) carry no client secret.
                    if line["side"] == "server" {
                        continue;
                    }
                    let text = line["text"].as_str().unwrap_or_default();
                    let commands = ["AUTH PLAIN", "LOGIN", "USER", "PASS", "mail", "MAIL"];
                    let is_verb = text.contains("CAPABILITY")
                        || text.starts_with("+OK")
                        || text.starts_with("250")
                        || text.starts_with("454")
                        || text == "STARTTLS"
                        || commands.contains(&text);
                    assert!(is_verb, "{name}: quoted more than a verb: {text:?}");
                }
            }
        }
    }
}

#[test]
fn relay_split_by_flow_same_records() {
    let capture = common::fixture("smtp-starttls-garbled-relay.pcap");
    let single = scan_with_threads(&capture, Some("1"));
    let split = scan_with_threads(&capture, Some("3"));
    assert_eq!(single.dialogues, split.dialogues);
    assert_eq!(single.alerts, split.alerts);
}

/// The public STARTTLS captures, their protocol and whether the client
/// saw a capability list with STARTTLS. The FTP clients send `AUTH TLS`
/// without asking for FEAT, and the Zeek POP3 client sends STLS without
/// CAPA, so nothing is offered there.
const PUBLIC: &[(&str, &str, bool)] = &[
    ("arkime__smtp-starttls.pcap", "smtp", true),
    ("ndpi__smtp-starttls.pcap", "smtp", true),
    ("ndpi__pop3_stls.pcap", "pop3", true),
    ("ndpi__ftp-start-tls.pcap", "ftp", false),
    ("zeek__smtp-starttls.pcap", "smtp", true),
    ("zeek__imap-starttls.pcap", "imap", true),
    ("zeek__pop3-starttls.pcap", "pop3", false),
    ("zeek__ftp-auth-tls.pcap", "ftp", false),
    ("zeek__xmpp-starttls.pcap", "xmpp", true),
    ("suricata__smtp-startssl__input.pcap", "smtp", true),
];

#[test]
fn public_starttls_upgraded_without_alert() {
    let Some(corpus) = common::corpus("public_starttls_upgraded_without_alert") else {
        return;
    };
    for (name, protocol, offered) in PUBLIC {
        let output = scan(&corpus.join("pcap").join(name));
        assert!(!output.dialogues.is_empty(), "{name}: no starttls record");
        for dialogue in &output.dialogues {
            assert_upgraded(name, dialogue, protocol);
            assert_eq!(dialogue["offered"], *offered, "{name}: {dialogue}");
        }
        assert_eq!(
            output.sessions.len(),
            output.dialogues.len(),
            "{name}: one TLS session per dialogue"
        );
        for session in &output.sessions {
            assert_eq!(session["preamble"], *protocol, "{name}");
        }
        assert!(
            stripped_alerts(&output).is_empty(),
            "{name}: {:?}",
            output.alerts
        );
    }
}

/// Writes a classic pcap of one constructed TCP connection from
/// 192.0.2.10:40000 to 192.0.2.25:`port`: the handshake, then each step's
/// bytes in its own segment from the client (`true`) or the server, one
/// millisecond apart. IP and TCP checksums are zero, which the decoder
/// does not check.
fn write_constructed_dialogue(path: &Path, port: u16, steps: &[(bool, &[u8])]) {
    const CLIENT: ([u8; 4], u16) = ([192, 0, 2, 10], 40_000);
    let server = ([192, 0, 2, 25], port);
    let (syn, ack) = (0x02u8, 0x10u8);
    let mut seq = [1_000u32, 5_000u32];
    let mut frames: Vec<Vec<u8>> = Vec::new();
    let mut segment = |from_client: bool, flags: u8, data: &[u8], seq: &mut [u32; 2]| {
        let (src, dst, own, other) = if from_client {
            (CLIENT, server, 0, 1)
        } else {
            (server, CLIENT, 1, 0)
        };
        let mut frame = vec![0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x08, 0x00];
        let total = u16::try_from(40 + data.len()).expect("segment fits in one packet");
        let total = total.to_be_bytes();
        frame.extend_from_slice(&[0x45, 0, total[0], total[1], 0, 0, 0x40, 0, 64, 6, 0, 0]);
        frame.extend_from_slice(&src.0);
        frame.extend_from_slice(&dst.0);
        frame.extend_from_slice(&src.1.to_be_bytes());
        frame.extend_from_slice(&dst.1.to_be_bytes());
        frame.extend_from_slice(&seq[own].to_be_bytes());
        frame.extend_from_slice(&seq[other].to_be_bytes());
        frame.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
        frame.extend_from_slice(data);
        let advance = data.len() as u32 + u32::from(flags & syn != 0);
        seq[own] = seq[own].wrapping_add(advance);
        frames.push(frame);
    };
    segment(true, syn, b"", &mut seq);
    segment(false, syn | ack, b"", &mut seq);
    segment(true, ack, b"", &mut seq);
    for (from_client, data) in steps {
        segment(*from_client, ack, data, &mut seq);
    }
    let mut out = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    out.extend_from_slice(&65_535u32.to_le_bytes());
    out.extend_from_slice(&1u32.to_le_bytes());
    for (index, frame) in frames.iter().enumerate() {
        let micros = 1_000 * index as u32;
        out.extend_from_slice(&1_700_000_000u32.to_le_bytes());
        out.extend_from_slice(&micros.to_le_bytes());
        out.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        out.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        out.extend_from_slice(frame);
    }
    std::fs::write(path, out).expect("constructed capture written");
}

/// Scans a constructed connection and returns what the scan wrote.
fn scan_constructed(port: u16, steps: &[(bool, &[u8])]) -> Output {
    let dir = tempfile::tempdir().expect("temporary directory");
    let capture = dir.path().join("constructed-dialogue.pcap");
    write_constructed_dialogue(&capture, port, steps);
    scan(&capture)
}

#[test]
fn auth_after_accepted_starttls_is_stripped() {
    let output = scan_constructed(
        25,
        &[
            (false, b"220 localhost ESMTP\r\n"),
            (true, b"EHLO client.test\r\n"),
            (false, b"250-localhost\r\n250-STARTTLS\r\n250 8BITMIME\r\n"),
            (true, b"STARTTLS\r\n"),
            (false, b"220 2.0.0 Ready to start TLS\r\n"),
            (true, b"AUTH PLAIN AHVzZXIAc2VjcmV0\r\n"),
        ],
    );
    let dialogue = only_dialogue(&output);
    assert_eq!(
        finding_kinds(dialogue),
        ["starttls_not_started", "plaintext_credentials"]
    );
    assert_lines_located(dialogue);
    let alerts = stripped_alerts(&output);
    assert_eq!(alerts.len(), 1, "{:?}", output.alerts);
    let alert = alerts[0];
    assert_eq!(alert["severity"], "high");
    assert_eq!(alert["confidence"], "high");
    let title = alert["title"].as_str().unwrap_or_default();
    assert!(title.contains("STARTTLS accepted"), "{title}");
    assert!(title.contains("credentials in plaintext"), "{title}");
    let values: Vec<&str> = alert["evidence"]
        .as_array()
        .map(|e| e.iter().filter_map(|e| e["value"].as_str()).collect())
        .unwrap_or_default();
    assert!(
        values.contains(&"220 2.0.0 Ready to start TLS"),
        "{values:?}"
    );
    assert!(values.contains(&"AUTH PLAIN"), "{values:?}");
    assert!(!values.iter().any(|v| v.contains("AHVzZXIA")), "{values:?}");
    assert!(
        output.stderr.contains("0 upgraded to TLS, 1 stripped"),
        "{}",
        output.stderr
    );
}

#[test]
fn shortened_capability_quoted_as_garbled() {
    let steps: [(bool, &[u8]); 5] = [
        (false, b"220 localhost ESMTP\r\n"),
        (true, b"EHLO client.test\r\n"),
        (
            false,
            b"250-mx.test\r\n250-PIPELINING\r\n250-STARTT\r\n250 8BITMIME\r\n",
        ),
        (true, b"MAIL FROM:<a@client.test>\r\n"),
        (false, b"250 2.1.0 Ok\r\n"),
    ];
    let output = scan_constructed(25, &steps);
    let dialogue = only_dialogue(&output);
    assert_eq!(
        finding_kinds(dialogue),
        ["starttls_garbled:near_miss", "plaintext_mail"]
    );
    let alerts = stripped_alerts(&output);
    assert_eq!(alerts.len(), 1, "{:?}", output.alerts);
    let alert = alerts[0];
    let title = alert["title"].as_str().unwrap_or_default();
    assert!(title.contains("garbled as \"250-STARTT\""), "{title}");
    assert_eq!(alert["evidence"][0]["field"], "smtp.starttls_garbled");
    assert_eq!(alert["evidence"][0]["value"], "250-STARTT");
    assert_eq!(alert["destination"]["server_name"], "localhost");
    let total: usize = steps.iter().map(|(_, data)| data.len()).sum();
    assert_eq!(alert["flow"]["bytes"], total as u64);
    let missing = alert["missing"].to_string();
    assert!(!missing.contains("destination.server_name"), "{missing}");
    assert!(!missing.contains("flow.bytes"), "{missing}");
}

#[test]
fn absent_evidence_quotes_each_line_once() {
    let output = fixture("imap-starttls-removed.pcap");
    let alert = stripped_alerts(&output)[0];
    let evidence = alert["evidence"].as_array().cloned().unwrap_or_default();
    let pairs: Vec<(String, String)> = evidence
        .iter()
        .map(|e| (e["field"].to_string(), e["value"].to_string()))
        .collect();
    let logins: Vec<_> = pairs.iter().filter(|(_, v)| v == "\"LOGIN\"").collect();
    assert_eq!(logins.len(), 1, "{pairs:?}");
    assert_eq!(logins[0].0, "\"imap.plaintext_credentials\"");

    let output = scan_constructed(
        110,
        &[
            (false, b"+OK POP3 ready\r\n"),
            (true, b"CAPA\r\n"),
            (
                false,
                b"+OK Capability list follows\r\nUSER\r\nUIDL\r\nTOP\r\n.\r\n",
            ),
            (true, b"USER alice\r\n"),
        ],
    );
    let alert = stripped_alerts(&output)[0];
    let values: Vec<(&str, &str)> = alert["evidence"]
        .as_array()
        .map(|e| {
            e.iter()
                .map(|e| {
                    let field = e["field"].as_str().unwrap_or_default();
                    (field, e["value"].as_str().unwrap_or_default())
                })
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        values,
        [
            ("pop3.starttls_absent", "USER"),
            ("pop3.starttls_absent", "UIDL"),
            ("pop3.starttls_absent", "TOP"),
            ("pop3.plaintext_credentials", "USER"),
        ]
    );
    assert!(alert["destination"]["server_name"].is_null());
}
