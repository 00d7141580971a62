//! Messages of CFNetwork (`CFNetwork.framework`, and `nsurlsessiond` for
//! background transfers): `Connection N: ...` lines, `Task <UUID>.<n> ...`
//! lines, and the older `TIC`, `CFNetwork SSLHandshake failed` and
//! `NSURLSession/NSURLConnection HTTP load failed` forms.

use crate::scan::{self, leading_stream_error, task_id};
use crate::{NetEvent, StreamError, codes};

/// Library image names that log these messages.
pub(crate) const LIBRARIES: &[&str] = &["CFNetwork", "nsurlsessiond"];

/// The CFStream domain of SecureTransport OSStatus values.
const SSL_DOMAIN: i32 = 3;

pub(crate) fn parse(message: &str) -> Option<NetEvent> {
    if let Some(rest) = message.strip_prefix("Connection ") {
        return connection_line(rest);
    }
    if message.starts_with("Task <") {
        let (task, rest) = task_id(message)?;
        return task_line(task, rest);
    }
    legacy_line(message)
}

/// Parses `Connection N: ...` lines: errors, trust steps and lifecycle.
fn connection_line(rest: &str) -> Option<NetEvent> {
    let (number, text) = rest.split_once(": ")?;
    let connection = scan::decimal(number)?;
    if let Some((error, kind)) = connection_error(text) {
        return Some(NetEvent::ConnectionError {
            connection,
            error,
            kind,
        });
    }
    connection_progress(text).map(|kind| NetEvent::Progress {
        connection: scan::connection_id(number),
        task: None,
        kind,
    })
}

/// Reads the error pair and template name of a `Connection N:` error line.
fn connection_error(text: &str) -> Option<(StreamError, &'static str)> {
    if let Some(rest) = text.strip_prefix("encountered error(") {
        return pair_then(rest, ")", "encountered error");
    }
    if let Some(rest) = text.strip_prefix("failed to connect ") {
        return pair_then(rest, ",", "failed to connect");
    }
    if let Some(rest) = text.strip_prefix("TLS Trust encountered error ") {
        return pair_then(rest, "", "TLS Trust encountered error");
    }
    if let Some(rest) = text.strip_prefix("system TLS Trust evaluation failed(") {
        let code = scan::signed_i32(rest.strip_suffix(')')?)?;
        return Some((ssl_error(code), "system TLS Trust evaluation failed"));
    }
    if let Some(rest) = text.strip_prefix("TLS Trust result ") {
        let code = scan::signed_i32(rest).filter(|&code| code != 0)?;
        return Some((ssl_error(code), "TLS Trust result"));
    }
    if let Some((_, name)) = text.split_once(" - generating ") {
        let info = codes::os_status_named(name.trim_end())?;
        return Some((ssl_error(info.code), "generated SecureTransport error"));
    }
    None
}

/// Reads `3:-9802` followed by `end` (empty: the end of the line).
fn pair_then(text: &str, end: &str, kind: &'static str) -> Option<(StreamError, &'static str)> {
    let (error, rest) = leading_stream_error(text)?;
    let ends = if end.is_empty() {
        rest.is_empty()
    } else {
        rest.starts_with(end)
    };
    ends.then_some((error, kind))
}

fn ssl_error(code: i32) -> StreamError {
    StreamError {
        domain: SSL_DOMAIN,
        code,
    }
}

/// Names the kind of a `Connection N:` progress line by its first words.
fn connection_progress(text: &str) -> Option<&'static str> {
    const PREFIXES: [(&str, &str); 11] = [
        (
            "creating secure tcp or quic connection",
            "connection lifecycle",
        ),
        ("enabling TLS", "connection lifecycle"),
        ("starting, ", "connection lifecycle"),
        ("connected successfully", "connection lifecycle"),
        ("ready ", "connection lifecycle"),
        ("cleaning up", "connection lifecycle"),
        ("done", "connection lifecycle"),
        ("received failure notification", "connection lifecycle"),
        ("asked to evaluate TLS Trust", "trust evaluation"),
        ("TLS Trust result 0", "trust evaluation"),
        ("TLS handshake complete", "handshake done"),
    ];
    PREFIXES
        .iter()
        .find(|(prefix, _)| text.starts_with(prefix))
        .map(|&(_, kind)| kind)
}

/// Parses `Task <UUID>.<n> ...` lines: failures, summaries, links and lifecycle.
fn task_line(task: String, text: &str) -> Option<NetEvent> {
    if let Some(rest) = text.strip_prefix("HTTP load failed, ") {
        return load_failed(task, rest);
    }
    if let Some(rest) = text.strip_prefix("finished with error") {
        return finished_with_error(task, rest);
    }
    if let Some(rest) = text.strip_prefix("summary for task ") {
        return summary(task, rest);
    }
    for prefix in ["setting up Connection ", "done using Connection "] {
        if let Some(number) = text.strip_prefix(prefix) {
            let connection = scan::decimal(number)?;
            return Some(NetEvent::TaskConnection { task, connection });
        }
    }
    task_progress(text).map(|kind| NetEvent::Progress {
        connection: None,
        task: Some(task),
        kind,
    })
}

/// Parses `HTTP load failed, 0/0 bytes (error code: -1200 [3:-9838])`.
fn load_failed(task: String, rest: &str) -> Option<NetEvent> {
    let (_, error_text) = rest.split_once(" (error code: ")?;
    let (url_error, stream_error) = error_codes(error_text.strip_suffix(')')?)?;
    Some(task_failed(task, url_error, stream_error))
}

/// Reads `-1200 [3:-9838]` or `-1200` alone.
fn error_codes(text: &str) -> Option<(i32, Option<StreamError>)> {
    let (code, pair) = match text.split_once(" [") {
        Some((code, pair)) => (code, Some(scan::stream_error(pair.strip_suffix(']')?)?)),
        None => (text, None),
    };
    Some((scan::signed_i32(code)?, pair))
}

fn task_failed(task: String, url_error: i32, stream_error: Option<StreamError>) -> NetEvent {
    NetEvent::TaskFailed {
        task,
        url_error,
        stream_error,
        certificate_chain: Vec::new(),
        failing_url: None,
    }
}

/// Parses `finished with error [-1200] Error Domain=NSURLErrorDomain Code=-1200
/// "..." UserInfo={...}`, where the NSError dump may run over many lines;
/// also the shorter `finished with error - code: -1001`.
fn finished_with_error(task: String, rest: &str) -> Option<NetEvent> {
    if let Some(code) = rest.strip_prefix(" - code: ") {
        let url_error = scan::signed_i32(code.trim_end())?;
        return Some(task_failed(task, url_error, None));
    }
    let (code, dump) = rest.strip_prefix(" [")?.split_once(']')?;
    Some(NetEvent::TaskFailed {
        task,
        url_error: scan::signed_i32(code)?,
        stream_error: dump_stream_error(dump),
        certificate_chain: certificate_subjects(dump),
        failing_url: dump_value(dump, "NSErrorFailingURLKey=").map(str::to_owned),
    })
}

/// Reads the SSL error pair from an NSError dump: `_kCFStreamErrorDomainKey=3`
/// with `_kCFStreamErrorCodeKey=-9802`, else the
/// `_kCFNetworkCFStreamSSLErrorOriginalValue=-9802` that CFNetwork keeps.
fn dump_stream_error(dump: &str) -> Option<StreamError> {
    let number = |key| dump_value(dump, key).and_then(scan::signed_i32);
    let domain = number("_kCFStreamErrorDomainKey=");
    let code = number("_kCFStreamErrorCodeKey=");
    if let (Some(domain), Some(code)) = (domain, code) {
        return Some(StreamError { domain, code });
    }
    number("_kCFNetworkCFStreamSSLErrorOriginalValue=").map(ssl_error)
}

/// Returns the value after `key` up to the next `,`, `}` or whitespace.
fn dump_value<'a>(dump: &'a str, key: &str) -> Option<&'a str> {
    let (_, rest) = dump.split_once(key)?;
    let end = rest
        .find(|c: char| c == ',' || c == '}' || c.is_whitespace())
        .unwrap_or(rest.len());
    let value = &rest[..end];
    (!value.is_empty()).then_some(value)
}

/// Collects the subjects of `NSErrorPeerCertificateChainKey=( "<cert(0x...) s: NAME i: ISSUER>", ... )`.
fn certificate_subjects(dump: &str) -> Vec<String> {
    let Some((_, chain)) = dump.split_once("NSErrorPeerCertificateChainKey=(") else {
        return Vec::new();
    };
    let mut subjects = Vec::new();
    let mut rest = chain;
    loop {
        rest = rest.trim_start_matches(|c: char| c == ',' || c.is_whitespace());
        let Some(entry) = rest.strip_prefix('"') else {
            break;
        };
        let Some((certificate, after)) = entry.split_once('"') else {
            break;
        };
        subjects.extend(certificate_subject(certificate));
        rest = after;
    }
    subjects
}

/// Reads `NAME` from `<cert(0x13c822a00) s: NAME i: ISSUER>`.
fn certificate_subject(certificate: &str) -> Option<String> {
    let (_, named) = certificate.split_once(" s: ")?;
    let (subject, _) = named.rsplit_once(" i: ")?;
    Some(subject.to_owned())
}

/// Parses `summary for task success {transaction_duration_ms=323, ..., cache_hit=0}`.
fn summary(task: String, rest: &str) -> Option<NetEvent> {
    let (outcome, values) = rest.split_once(" {")?;
    let success = match outcome {
        "success" => true,
        "failure" => false,
        _ => return None,
    };
    let values = values.trim_end().strip_suffix('}').unwrap_or(values);
    let value = |key: &str| {
        values.split(", ").find_map(|pair| {
            let (name, value) = pair.split_once('=')?;
            (name == key).then_some(value)
        })
    };
    Some(NetEvent::TaskSummary {
        task,
        connection: value("connection").and_then(scan::decimal),
        success,
        protocol: value("protocol").map(|text| text.trim_matches('"').to_owned()),
        response_status: value("response_status").and_then(scan::decimal),
        response_bytes: value("response_bytes").and_then(scan::decimal),
        secure_connection_ms: value("secure_connection_duration_ms").and_then(scan::decimal),
    })
}

/// Names the kind of a `Task <...>` progress line by its first words.
fn task_progress(text: &str) -> Option<&'static str> {
    const PREFIXES: [(&str, &str); 9] = [
        ("resuming, ", "task lifecycle"),
        ("received response, ", "task lifecycle"),
        ("response ended", "task lifecycle"),
        ("finished successfully", "task lifecycle"),
        ("RELEASING power assertion", "task lifecycle"),
        ("auth completion ", "authentication challenge"),
        ("client acknowledged file download", "download acknowledged"),
        ("client acknowledged completion", "task lifecycle"),
        ("sent request, ", "task lifecycle"),
    ];
    PREFIXES
        .iter()
        .find(|(prefix, _)| text.starts_with(prefix))
        .map(|&(_, kind)| kind)
}

/// Parses the lines of older builds (macOS 10.11–10.13, iOS 9–11): `TIC ...`,
/// `CFNetwork SSLHandshake failed (-9824)`,
/// `NSURLSession/NSURLConnection HTTP load failed (kCFStreamErrorDomainSSL, -9824)`
/// and `HTTP load failed (error code: -1200 [3:-9802]) for Task <...>.<1>`.
fn legacy_line(message: &str) -> Option<NetEvent> {
    if let Some(rest) = message.strip_prefix("TIC ") {
        return tic_line(rest);
    }
    if let Some(rest) = message.strip_prefix("CFNetwork SSLHandshake failed (") {
        let code = scan::signed_i32(rest.strip_suffix(')')?)?;
        return Some(secure_transport(
            ssl_error(code),
            "CFNetwork SSLHandshake failed",
        ));
    }
    if let Some(rest) = message.strip_prefix("NSURLSession/NSURLConnection HTTP load failed (") {
        let (domain, code) = rest.strip_suffix(')')?.split_once(", ")?;
        let error = StreamError {
            domain: codes::stream_domain_named(domain)?,
            code: scan::signed_i32(code)?,
        };
        return Some(secure_transport(error, "HTTP load failed"));
    }
    let rest = message.strip_prefix("HTTP load failed (error code: ")?;
    let (error_text, task) = rest.split_once(") for ")?;
    let (url_error, stream_error) = error_codes(error_text)?;
    let (task, tail) = task_id(task)?;
    tail.is_empty()
        .then(|| task_failed(task, url_error, stream_error))
}

fn secure_transport(error: StreamError, kind: &'static str) -> NetEvent {
    NetEvent::SecureTransportError { error, kind }
}

/// Parses `TIC TCP Conn Failed [1:0x1c4164c80]: 3:-9802 Err(-9802)` and
/// `TIC Enabling TLS [1:0x1c416ef40]`.
fn tic_line(rest: &str) -> Option<NetEvent> {
    let (words, tail) = rest.split_once(" [")?;
    let (number, tail) = tail.split_once(':')?;
    let (_pointer, tail) = tail.split_once(']')?;
    let connection = scan::decimal(number)?;
    match words {
        "TCP Conn Failed" => {
            let (error, _) = leading_stream_error(tail.strip_prefix(": ")?)?;
            Some(NetEvent::ConnectionError {
                connection,
                error,
                kind: "TIC TCP Conn Failed",
            })
        }
        "Enabling TLS" => Some(NetEvent::Progress {
            connection: scan::connection_id(number),
            task: None,
            kind: "connection lifecycle",
        }),
        _ => None,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::{Origin, Parsed};

    /// Real lines from public bug reports, forum posts and Console dumps,
    /// cut to what the tests need.
    pub(crate) const REAL: &[&str] = &[
        // A 2026 build's log.
        "Connection 1: enabling TLS",
        "Task <EB950BA3-56B0-4F61-86DE-EB2F6E471B2A>.<1> setting up Connection 1",
        "Connection 1: asked to evaluate TLS Trust",
        "Connection 1: TLS Trust result 0",
        "Connection 1: TLS handshake complete",
        // An ATS trust failure.
        "Connection 6: system TLS Trust evaluation failed(-9802)",
        "Connection 6: TLS Trust encountered error 3:-9802",
        "Connection 6: encountered error(3:-9802)",
        "Task <1C1C4F6F-771B-4349-9122-0F42AFFC0021>.<1> HTTP load failed, 0/0 bytes (error code: -1200 [3:-9802])",
        // A fatal internal_error alert from the server.
        "Task <0772985F-0520-47EE-BC44-639463FBC944>.<1> HTTP load failed, 0/0 bytes (error code: -1200 [3:-9838])",
        "Connection 1: failed to connect 3:-9838, reason -1",
        "Connection 1: received failure notification",
        // macOS 11 (Big Sur), as the macos-unifiedlogs crate writes them.
        "Task <69684AA9BAB14D0BA5DF247EB0ED148C>.<1> summary for task success {transaction_duration_ms=323, response_status=200, connection=60, protocol=\"http/1.1\", domain_lookup_duration_ms=5, connect_duration_ms=140, secure_connection_duration_ms=36, request_start_ms=259, request_duration_ms=0, response_start_ms=321, response_duration_ms=2, request_bytes=532, response_bytes=18010, cache_hit=0}",
        "Task <56A4B8BF-75CF-422B-811B-89FC9D8E659F>.<1> resuming, timeouts(60.0, 604800.0) QOS(0x15) Voucher <private>",
        "Task <69684AA9-BAB1-4D0B-A5DF-247EB0ED148C>.<1> done using Connection 60",
        "Connection 60: cleaning up",
        "Task <EB64B79E-26BB-44FB-9B89-4565342AEED0>.<21> client acknowledged file download",
        // The coreTLS era (iOS 9–11, macOS 10.11–10.13).
        "TIC Enabling TLS [1:0x1c416ef40]",
        "TIC TCP Conn Failed [1:0x1c4164c80]: 3:-9802 Err(-9802)",
        "HTTP load failed (error code: -1200 [3:-9802]) for Task <1C1C4F6F-771B-4349-9122-0F42AFFC0021>.<1>",
        "CFNetwork SSLHandshake failed (-9824)",
        "NSURLSession/NSURLConnection HTTP load failed (kCFStreamErrorDomainSSL, -9824)",
        "Connection 1: received ECONNRESET with incomplete TLS handshake - generating errSSLClosedNoNotify",
    ];

    /// A real `finished with error` dump from an ATS trust failure, with the
    /// parts its publisher elided left out.
    pub(crate) const FINISHED_WITH_ERROR: &str = "Task <1C1C4F6F-771B-4349-9122-0F42AFFC0021>.<1> finished with error [-1200] Error Domain=NSURLErrorDomain Code=-1200 \"An SSL error has occurred and a secure connection to the server cannot be made.\" UserInfo={_kCFStreamErrorDomainKey=3, NSErrorPeerCertificateChainKey=(\n    \"<cert(0x13c822a00) s: servicos24horas.com i: R3>\",\n    \"<cert(0x13c823200) s: R3 i: ISRG Root X1>\",\n    \"<cert(0x13c814400) s: ISRG Root X1 i: DST Root CA X3>\"\n), NSErrorClientCertificateStateKey=0, NSErrorFailingURLKey=https://servicos24horas.com/api/localizacaos, NSUnderlyingError=0x283f2f0c0 {Error Domain=kCFErrorDomainCFNetwork Code=-1200 \"(null)\" UserInfo={_kCFNetworkCFStreamSSLErrorOriginalValue=-9802, _kCFStreamErrorDomainKey=3, _kCFStreamErrorCodeKey=-9802}}}";

    /// Lines built from the verified templates for the attack cases no
    /// public log shows.
    pub(crate) const CONSTRUCTED: &[&str] = &[
        "Task <0772985F-0520-47EE-BC44-639463FBC944>.<3> HTTP load failed, 0/0 bytes (error code: -1200 [3:-9836])",
        "Task <0772985F-0520-47EE-BC44-639463FBC944>.<4> HTTP load failed, 517/0 bytes (error code: -1005 [3:-9820])",
        "Connection 12: encountered error(3:-9836)",
        "Connection 12: failed to connect 3:-9860, reason -1",
        "Task <0772985F-0520-47EE-BC44-639463FBC944>.<5> finished with error [-1202] Error Domain=NSURLErrorDomain Code=-1202 \"The certificate for this server is invalid.\" UserInfo={NSErrorPeerCertificateChainKey=(\n    \"<cert(0x10a000000) s: example.com i: Corporate Inspection CA>\",\n    \"<cert(0x10a000800) s: Corporate Inspection CA i: Corporate Inspection CA>\"\n), _kCFStreamErrorCodeKey=-9813, NSErrorFailingURLKey=https://example.com/, _kCFStreamErrorDomainKey=3}",
        "Task <0772985F-0520-47EE-BC44-639463FBC944>.<6> summary for task failure {transaction_duration_ms=20, connection=12, protocol=\"h2\", secure_connection_duration_ms=0, private_relay=false, cache_hit=false}",
        "Task <0772985F-0520-47EE-BC44-639463FBC944>.<7> finished with error - code: -1001",
    ];

    fn parse_line(message: &str) -> Parsed {
        let origin = Origin {
            sender_image: "/System/Library/Frameworks/CFNetwork.framework/Versions/A/CFNetwork",
            process_path: "/usr/libexec/nsurlsessiond",
            ..Origin::default()
        };
        crate::parse(&origin, message)
    }

    fn event(message: &str) -> NetEvent {
        match parse_line(message) {
            Parsed::Event(event) => event,
            other => panic!("{other:?} for {message}"),
        }
    }

    fn error(domain: i32, code: i32) -> StreamError {
        StreamError { domain, code }
    }

    #[test]
    fn every_sample_recognised() {
        let all = REAL.iter().chain(CONSTRUCTED).chain([&FINISHED_WITH_ERROR]);
        for message in all {
            assert!(matches!(parse_line(message), Parsed::Event(_)), "{message}");
        }
    }

    #[test]
    fn connection_errors() {
        let cases = [
            (
                REAL[5],
                6,
                error(3, -9802),
                "system TLS Trust evaluation failed",
            ),
            (REAL[6], 6, error(3, -9802), "TLS Trust encountered error"),
            (REAL[7], 6, error(3, -9802), "encountered error"),
            (REAL[10], 1, error(3, -9838), "failed to connect"),
            (REAL[18], 1, error(3, -9802), "TIC TCP Conn Failed"),
            (
                REAL[22],
                1,
                error(3, -9816),
                "generated SecureTransport error",
            ),
            (CONSTRUCTED[2], 12, error(3, -9836), "encountered error"),
            (CONSTRUCTED[3], 12, error(3, -9860), "failed to connect"),
        ];
        for (line, number, expected_error, expected_kind) in cases {
            let expected = NetEvent::ConnectionError {
                connection: number,
                error: expected_error,
                kind: expected_kind,
            };
            assert_eq!(event(line), expected, "{line}");
        }
    }

    #[test]
    fn trust_result_nonzero_is_error() {
        let NetEvent::ConnectionError { error: logged, .. } =
            event("Connection 4: TLS Trust result -9813")
        else {
            panic!("not an error");
        };
        assert_eq!(logged, error(3, -9813));
    }

    #[test]
    fn task_load_failed() {
        let expected = NetEvent::TaskFailed {
            task: "0772985F052047EEBC44639463FBC944.<1>".into(),
            url_error: -1200,
            stream_error: Some(error(3, -9838)),
            certificate_chain: Vec::new(),
            failing_url: None,
        };
        assert_eq!(event(REAL[9]), expected);
    }

    #[test]
    fn task_load_failed_attack_codes() {
        let cases = [
            (CONSTRUCTED[0], -1200, -9836),
            (CONSTRUCTED[1], -1005, -9820),
        ];
        for (line, url, code) in cases {
            let NetEvent::TaskFailed {
                url_error,
                stream_error,
                ..
            } = event(line)
            else {
                panic!("not a failure: {line}");
            };
            assert_eq!(url_error, url);
            assert_eq!(stream_error, Some(error(3, code)));
        }
    }

    #[test]
    fn legacy_load_failed_for_task() {
        let NetEvent::TaskFailed {
            task, stream_error, ..
        } = event(REAL[19])
        else {
            panic!("not a failure");
        };
        assert_eq!(task, "1C1C4F6F771B434991220F42AFFC0021.<1>");
        assert_eq!(stream_error, Some(error(3, -9802)));
    }

    #[test]
    fn finished_with_error_dump() {
        let expected = NetEvent::TaskFailed {
            task: "1C1C4F6F771B434991220F42AFFC0021.<1>".into(),
            url_error: -1200,
            stream_error: Some(error(3, -9802)),
            certificate_chain: vec![
                "servicos24horas.com".into(),
                "R3".into(),
                "ISRG Root X1".into(),
            ],
            failing_url: Some("https://servicos24horas.com/api/localizacaos".into()),
        };
        assert_eq!(event(FINISHED_WITH_ERROR), expected);
    }

    #[test]
    fn finished_with_untrusted_certificate() {
        let NetEvent::TaskFailed {
            url_error,
            stream_error,
            certificate_chain,
            ..
        } = event(CONSTRUCTED[4])
        else {
            panic!("not a failure");
        };
        assert_eq!(url_error, -1202);
        assert_eq!(stream_error, Some(error(3, -9813)));
        assert_eq!(
            certificate_chain,
            ["example.com", "Corporate Inspection CA"]
        );
    }

    #[test]
    fn finished_with_error_short_form() {
        let NetEvent::TaskFailed {
            url_error,
            stream_error,
            ..
        } = event(CONSTRUCTED[6])
        else {
            panic!("not a failure");
        };
        assert_eq!(url_error, -1001);
        assert_eq!(stream_error, None);
    }

    #[test]
    fn finished_with_error_original_value_only() {
        let line = "Task <0772985F-0520-47EE-BC44-639463FBC944>.<8> finished with error [-1200] Error Domain=NSURLErrorDomain Code=-1200 \"x\" UserInfo={_kCFNetworkCFStreamSSLErrorOriginalValue=-9820}";
        let NetEvent::TaskFailed { stream_error, .. } = event(line) else {
            panic!("not a failure");
        };
        assert_eq!(stream_error, Some(error(3, -9820)));
    }

    #[test]
    fn summary_success() {
        let expected = NetEvent::TaskSummary {
            task: "69684AA9BAB14D0BA5DF247EB0ED148C.<1>".into(),
            connection: Some(60),
            success: true,
            protocol: Some("http/1.1".into()),
            response_status: Some(200),
            response_bytes: Some(18010),
            secure_connection_ms: Some(36),
        };
        assert_eq!(event(REAL[12]), expected);
    }

    #[test]
    fn summary_failure_newer_keys() {
        let NetEvent::TaskSummary {
            success,
            protocol,
            response_status,
            secure_connection_ms,
            ..
        } = event(CONSTRUCTED[5])
        else {
            panic!("not a summary");
        };
        assert!(!success);
        assert_eq!(protocol.as_deref(), Some("h2"));
        assert_eq!(response_status, None);
        assert_eq!(secure_connection_ms, Some(0));
    }

    #[test]
    fn task_connection_links() {
        let setting_up = NetEvent::TaskConnection {
            task: "EB950BA356B04F6186DEEB2F6E471B2A.<1>".into(),
            connection: 1,
        };
        assert_eq!(event(REAL[1]), setting_up);
        let NetEvent::TaskConnection { connection, .. } = event(REAL[14]) else {
            panic!("not a link");
        };
        assert_eq!(connection, 60);
    }

    #[test]
    fn progress_kinds() {
        let cases = [
            (REAL[0], "connection lifecycle"),
            (REAL[2], "trust evaluation"),
            (REAL[3], "trust evaluation"),
            (REAL[4], "handshake done"),
            (REAL[11], "connection lifecycle"),
            (REAL[13], "task lifecycle"),
            (REAL[15], "connection lifecycle"),
            (REAL[16], "download acknowledged"),
            (REAL[17], "connection lifecycle"),
        ];
        for (line, expected) in cases {
            let NetEvent::Progress { kind, .. } = event(line) else {
                panic!("not progress: {line}");
            };
            assert_eq!(kind, expected, "{line}");
        }
    }

    #[test]
    fn progress_carries_task() {
        let NetEvent::Progress { task, .. } = event(REAL[16]) else {
            panic!("not progress");
        };
        assert_eq!(
            task.as_deref(),
            Some("EB64B79E26BB44FB9B894565342AEED0.<21>")
        );
    }

    #[test]
    fn legacy_secure_transport() {
        let cases = [
            (REAL[20], "CFNetwork SSLHandshake failed"),
            (REAL[21], "HTTP load failed"),
        ];
        for (line, expected_kind) in cases {
            let expected = NetEvent::SecureTransportError {
                error: error(3, -9824),
                kind: expected_kind,
            };
            assert_eq!(event(line), expected);
        }
    }

    #[test]
    fn copied_line_from_app_not_trusted() {
        let origin = Origin {
            sender_image: "/Applications/Example.app/Contents/MacOS/Example",
            ..Origin::default()
        };
        assert_eq!(crate::parse(&origin, CONSTRUCTED[2]), Parsed::Unknown);
    }

    #[test]
    fn unknown_connection_wording() {
        assert_eq!(
            parse_line("Connection 1: TLS renegotiated"),
            Parsed::Unknown
        );
        assert_eq!(
            parse_line("Connection 1: received viability advisory(Y)"),
            Parsed::Unrelated
        );
    }
}
