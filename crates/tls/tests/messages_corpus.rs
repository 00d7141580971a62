//! The message parsers checked against tshark 4.0 on real captures: every
//! ClientHello, ServerHello, Certificate and SSL 2.0 message in the corpus
//! ground truth that fits in one packet is parsed and compared field by field.

mod messages_support;

use std::collections::BTreeSet;

use messages_support::{
    TruthRow, captures_with_truth, cell, corpus_pcap_dir, frame, handshake_messages, read_packets,
    sslv2_messages, truth_rows,
};
use wiretrust_tls::certificate::summarize_certificate;
use wiretrust_tls::handshake::{
    ClientHello, DowngradeSentinel, ServerHello, parse_certificate_list, parse_client_hello,
    parse_server_hello,
};
use wiretrust_tls::registry::{ProtocolVersion, WeakClasses};
use wiretrust_tls::sslv2::{Sslv2Message, client_hello_from_sslv2, parse_sslv2_message};

/// Spells a version the way the truth files do (tshark names, draft suffixes).
fn tshark_version(version: ProtocolVersion) -> String {
    match version.0 {
        0x0002 => "SSLv2".to_string(),
        0x0300 => "SSLv3".to_string(),
        0x0301..=0x0304 => format!("TLSv1.{}", version.0 - 0x0301),
        _ if version.is_grease() => "GREASE".to_string(),
        0x7f00..=0x7fff => format!("TLSv1.3-draft{}", version.0 & 0xff),
        0xfb17 | 0xfb1a => format!("TLSv1.3-fb{}", version.0 & 0xff),
        other => format!("0x{other:04x}"),
    }
}

/// Spells weak classes as the truth's tag set: `md5` is `md5mac` there.
fn truth_tags(weak: WeakClasses) -> BTreeSet<String> {
    weak.names()
        .map(|name| if name == "md5" { "md5mac" } else { name }.to_string())
        .collect()
}

fn tag_set(text: &str) -> BTreeSet<String> {
    text.split(',')
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

fn flag(value: bool) -> &'static str {
    if value { "1" } else { "0" }
}

/// Collects differences between our value and tshark's for one row.
struct Comparison<'a> {
    place: String,
    row: &'a TruthRow,
    differences: Vec<String>,
}

impl<'a> Comparison<'a> {
    fn new(capture: &str, row: &'a TruthRow) -> Self {
        let place = format!("{capture} frame {} {}", frame(row), cell(row, "msg"));
        Self {
            place,
            row,
            differences: Vec::new(),
        }
    }

    fn check(&mut self, column: &str, ours: impl Into<String>) {
        let ours = ours.into();
        let theirs = cell(self.row, column);
        if ours != theirs {
            self.differences.push(format!(
                "{}: {column} ours {ours:?}, tshark {theirs:?}",
                self.place
            ));
        }
    }
}

/// Returns the one handshake message of `msg_type` in the row's packet, if
/// exactly one lies whole in it.
fn single_message(packets: &[Vec<u8>], row: &TruthRow, msg_type: u8) -> Option<Vec<u8>> {
    let packet = packets.get(frame(row).checked_sub(1)?)?;
    let mut found = handshake_messages(packet)
        .into_iter()
        .filter(|m| m.msg_type == msg_type);
    let first = found.next()?;
    found.next().is_none().then_some(first.body)
}

/// Runs `compare` on each truth row whose `msg` column is one of `names` and
/// whose message lies whole in one packet. Returns the number of rows
/// compared and the differences, or `None` when `test` is skipped.
fn compare_rows(
    test: &str,
    names: &[&str],
    msg_type: u8,
    compare: impl Fn(&mut Comparison<'_>, &[u8]),
) -> Option<(usize, Vec<String>)> {
    let dir = corpus_pcap_dir(test)?;
    let (mut compared, mut differences) = (0, Vec::new());
    for capture in captures_with_truth(&dir) {
        let packets = read_packets(&dir.join(&capture));
        for row in truth_rows(&dir, &capture) {
            if !names.contains(&cell(&row, "msg")) {
                continue;
            }
            let Some(body) = single_message(&packets, &row, msg_type) else {
                continue;
            };
            let mut comparison = Comparison::new(&capture, &row);
            compare(&mut comparison, &body);
            compared += 1;
            differences.append(&mut comparison.differences);
        }
    }
    Some((compared, differences))
}

fn compare_client_hello(c: &mut Comparison<'_>, hello: &ClientHello) {
    let versions: Vec<String> = hello
        .supported_versions
        .iter()
        .map(|v| tshark_version(*v))
        .collect();
    c.check("hs_version", tshark_version(hello.legacy_version));
    c.check("supported_versions", versions.join(","));
    c.check("client_max_version", tshark_version(hello.max_version()));
    c.check("sni", hello.server_name.clone().unwrap_or_default());
    c.check("cipher_count", hello.cipher_suites.len().to_string());
    let ciphers: Vec<String> = hello
        .cipher_suites
        .iter()
        .map(|s| format!("0x{:04x}", s.0))
        .collect();
    c.check("ciphers", ciphers.join(","));
    let extensions: Vec<String> = hello
        .extensions
        .iter()
        .map(|e| e.kind.0.to_string())
        .collect();
    c.check("ext_types", extensions.join(","));
    c.check("fallback_scsv", flag(hello.offers_fallback_scsv()));
    let reneg_scsv = hello.cipher_suites.iter().any(|s| s.0 == 0x00ff);
    c.check("reneg_scsv", flag(reneg_scsv));
    if hello.alpn.iter().all(|p| p.is_ascii()) {
        let alpn: Vec<String> = hello
            .alpn
            .iter()
            .map(|p| String::from_utf8_lossy(p).into_owned())
            .collect();
        c.check("alpn", alpn.join(","));
    }
    // The truth leaves MD5 out of the offered classes.
    let offered = hello
        .cipher_suites
        .iter()
        .fold(WeakClasses::NONE, |acc, s| acc | s.weakness())
        .difference(WeakClasses::MD5);
    let expected = tag_set(cell(c.row, "offered_weak"));
    if truth_tags(offered) != expected {
        let ours: Vec<String> = truth_tags(offered).into_iter().collect();
        c.check("offered_weak", ours.join(","));
    }
}

#[test]
fn client_hellos_match_tshark() {
    let result = compare_rows(
        "client_hellos_match_tshark",
        &["ClientHello"],
        1,
        |c, body| {
            match parse_client_hello(body) {
                Ok(hello) if !hello.truncated => compare_client_hello(c, &hello),
                // tshark shows broken hellos in its own way; only check they parse.
                Ok(_) => {}
                Err(err) => c.differences.push(format!("{}: {err}", c.place)),
            }
        },
    );
    let Some((compared, differences)) = result else {
        return;
    };
    println!("compared {compared} ClientHellos with tshark");
    assert!(
        differences.is_empty(),
        "ClientHello differences:\n{}",
        differences.join("\n")
    );
    assert!(
        compared >= 400,
        "only {compared} ClientHellos fit in one packet"
    );
}

fn sentinel_label(sentinel: Option<DowngradeSentinel>) -> &'static str {
    match sentinel {
        Some(DowngradeSentinel::Tls12) => "DOWNGRD01(TLS1.2)",
        Some(DowngradeSentinel::Tls11OrBelow) => "DOWNGRD00(<=TLS1.1)",
        None => "",
    }
}

fn compare_server_hello(c: &mut Comparison<'_>, hello: &ServerHello) {
    let kind = if hello.is_hello_retry_request {
        "HelloRetryRequest"
    } else {
        "ServerHello"
    };
    c.check("msg", kind);
    c.check("hs_version", tshark_version(hello.legacy_version));
    let selected = hello
        .selected_version
        .map(tshark_version)
        .unwrap_or_default();
    c.check("supported_versions", selected);
    c.check(
        "negotiated_version",
        tshark_version(hello.negotiated_version()),
    );
    c.check("cipher", format!("0x{:04x}", hello.cipher_suite.0));
    c.check("random_last8", hex_tail(&hello.random));
    c.check(
        "downgrade_sentinel",
        sentinel_label(hello.downgrade_sentinel()),
    );
    let extensions: Vec<String> = hello
        .extensions
        .iter()
        .map(|e| e.kind.0.to_string())
        .collect();
    c.check("ext_types", extensions.join(","));
    let weak = truth_tags(hello.cipher_suite.weakness());
    if weak != tag_set(cell(c.row, "cipher_weak")) {
        c.check(
            "cipher_weak",
            weak.into_iter().collect::<Vec<_>>().join(","),
        );
    }
}

fn hex_tail(random: &[u8; 32]) -> String {
    random[24..].iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn server_hellos_match_tshark() {
    let names = ["ServerHello", "HelloRetryRequest"];
    let result =
        compare_rows(
            "server_hellos_match_tshark",
            &names,
            2,
            |c, body| match parse_server_hello(body) {
                Ok(hello) => compare_server_hello(c, &hello),
                Err(err) => c.differences.push(format!("{}: {err}", c.place)),
            },
        );
    let Some((compared, differences)) = result else {
        return;
    };
    println!("compared {compared} ServerHellos with tshark");
    assert!(
        differences.is_empty(),
        "ServerHello differences:\n{}",
        differences.join("\n")
    );
    assert!(
        compared >= 300,
        "only {compared} ServerHellos fit in one packet"
    );
}

/// Returns the length of the DER element at the start of `der` (tag, length
/// and contents), when its header is readable.
fn der_element_len(der: &[u8]) -> Option<usize> {
    let first = usize::from(*der.get(1)?);
    if first < 0x80 {
        return Some(2 + first);
    }
    let count = first & 0x7f;
    let bytes = der.get(2..2 + count)?;
    let contents = bytes
        .iter()
        .fold(0usize, |acc, b| acc << 8 | usize::from(*b));
    Some(2 + count + contents)
}

/// Compares the leaf certificate. tshark hashes the leading DER element of
/// an entry rather than the whole entry, so for an entry that is not exactly
/// one DER element the SHA-256 of that element is what it reports.
fn compare_leaf(c: &mut Comparison<'_>, der: &[u8]) {
    let element = der_element_len(der).filter(|len| *len <= der.len());
    let hashed = element.map_or(der, |len| &der[..len]);
    c.check("leaf_cert_sha256", summarize_certificate(hashed).sha256);
    let info = summarize_certificate(der);
    if let (Some(error), Some(len)) = (info.parse_error, element)
        && len == der.len()
    {
        c.differences
            .push(format!("{}: leaf certificate: {error}", c.place));
    }
}

#[test]
fn certificates_match_tshark() {
    let result = compare_rows(
        "certificates_match_tshark",
        &["Certificate"],
        11,
        |c, body| match parse_certificate_list(body) {
            Ok(list) => {
                c.check("cert_count", list.len().to_string());
                match list.first() {
                    Some(leaf) => compare_leaf(c, leaf),
                    None => c.check("leaf_cert_sha256", ""),
                }
            }
            Err(err) => c.differences.push(format!("{}: {err}", c.place)),
        },
    );
    let Some((compared, differences)) = result else {
        return;
    };
    println!("compared {compared} Certificate messages with tshark");
    assert!(
        differences.is_empty(),
        "Certificate differences:\n{}",
        differences.join("\n")
    );
    assert!(
        compared >= 20,
        "only {compared} Certificate messages fit in one packet"
    );
}

/// Message types of SSL 2.0 CLIENT-HELLO, CLIENT-MASTER-KEY and SERVER-HELLO.
const SSLV2_TYPES: [(&str, u8); 3] = [
    ("SSLv2-ClientHello", 1),
    ("SSLv2-ClientMasterKey", 2),
    ("SSLv2-ServerHello", 4),
];

fn compare_sslv2(c: &mut Comparison<'_>, message: &Sslv2Message) {
    let specs = |kinds: &[wiretrust_tls::registry::Sslv2Cipher]| {
        let hex: Vec<String> = kinds.iter().map(|k| format!("0x{:06x}", k.0)).collect();
        hex.join(",")
    };
    match message {
        Sslv2Message::ClientHello {
            version,
            cipher_specs,
            ..
        } => {
            c.check("hs_version", tshark_version(*version));
            c.check("cipher_count", cipher_specs.len().to_string());
            c.check("ciphers", specs(cipher_specs));
            let converted = client_hello_from_sslv2(message);
            let convertible = version.0 >= 0x0300;
            if converted.is_some() != convertible {
                c.differences
                    .push(format!("{}: conversion result {converted:?}", c.place));
            }
        }
        Sslv2Message::ServerHello {
            cipher_specs,
            certificate,
            ..
        } => {
            c.check("cipher", specs(cipher_specs));
            c.check(
                "leaf_cert_sha256",
                summarize_certificate(certificate).sha256,
            );
        }
        Sslv2Message::ClientMasterKey { cipher } => {
            c.check("cipher", format!("0x{:06x}", cipher.0));
            let weak = truth_tags(cipher.weakness());
            let mut expected = tag_set(cell(c.row, "cipher_weak"));
            expected.remove("ssl2cipher");
            if weak != expected {
                c.check(
                    "cipher_weak",
                    weak.into_iter().collect::<Vec<_>>().join(","),
                );
            }
        }
        other => c
            .differences
            .push(format!("{}: parsed as {other:?}", c.place)),
    }
}

#[test]
fn sslv2_messages_match_tshark() {
    let Some(dir) = corpus_pcap_dir("sslv2_messages_match_tshark") else {
        return;
    };
    let (mut compared, mut differences) = (0, Vec::new());
    for capture in captures_with_truth(&dir) {
        let packets = read_packets(&dir.join(&capture));
        for row in truth_rows(&dir, &capture) {
            let Some((_, msg_type)) = SSLV2_TYPES
                .iter()
                .find(|(name, _)| *name == cell(&row, "msg"))
            else {
                continue;
            };
            let Some(packet) = packets.get(frame(&row).wrapping_sub(1)) else {
                continue;
            };
            let found = sslv2_messages(packet, *msg_type);
            let [bytes] = found.as_slice() else {
                continue;
            };
            let mut comparison = Comparison::new(&capture, &row);
            match parse_sslv2_message(bytes) {
                Ok(message) => compare_sslv2(&mut comparison, &message),
                Err(err) => comparison
                    .differences
                    .push(format!("{}: {err}", comparison.place)),
            }
            compared += 1;
            differences.append(&mut comparison.differences);
        }
    }
    println!("compared {compared} SSL 2.0 messages with tshark");
    assert!(
        differences.is_empty(),
        "SSL 2.0 differences:\n{}",
        differences.join("\n")
    );
    assert!(
        compared >= 8,
        "only {compared} SSL 2.0 messages fit in one packet"
    );
}

/// Feeds every handshake message found in the corpus, and every prefix of
/// it, to each parser. Nothing may panic whatever the message type.
#[test]
fn corpus_messages_never_panic() {
    let Some(dir) = corpus_pcap_dir("corpus_messages_never_panic") else {
        return;
    };
    let mut messages = 0;
    for capture in captures_with_truth(&dir) {
        for packet in read_packets(&dir.join(&capture)) {
            for message in handshake_messages(&packet) {
                messages += 1;
                let body = message.body.as_slice();
                for end in (0..=body.len()).step_by(7).chain([body.len()]) {
                    let prefix = &body[..end];
                    let _ = parse_client_hello(prefix);
                    let _ = parse_server_hello(prefix);
                    let _ = parse_certificate_list(prefix);
                    let _ = parse_sslv2_message(prefix);
                }
                let _ = summarize_certificate(body);
            }
        }
    }
    println!("fed {messages} corpus handshake messages to every parser");
    assert!(messages >= 1000, "only {messages} handshake messages found");
}
