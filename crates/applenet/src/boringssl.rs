//! Messages of Apple's boringssl build (`libboringssl.dylib`).
//!
//! Every message has the prefix `function(line) [Cconn:inst][pointer] `,
//! from the format `%{public}s(%d) %{public}s[%p] `, where the connection
//! part may be empty and a few messages have no pointer either. The prefix
//! is read by shape only: the function name and line number change between
//! OS builds and are never matched. Templates match on the body after it.

use crate::scan::{self, bracket, connection_id, fields, flag, hex_u16, is_pointer, present};
use crate::{AlertDirection, ConnectionId, LoggedCipher, NetEvent, codes};

/// Library image names that log these messages.
pub(crate) const LIBRARIES: &[&str] = &["libboringssl.dylib"];

pub(crate) fn parse(message: &str) -> Option<NetEvent> {
    let (connection, body) = split_prefix(message);
    if let Some(list) = body.strip_prefix("TLS connected [") {
        return connected(connection?, list);
    }
    if let Some(list) = body.strip_prefix("TLS configured [") {
        return configured(connection?, list);
    }
    if body.starts_with("read alert, ") || body.starts_with("write alert, ") {
        return alert(connection, body);
    }
    if let Some(rest) = body.strip_prefix("handshake failed at state ") {
        return handshake_failed(connection?, rest);
    }
    if body.contains(":error:") {
        return handshake_error(connection, body);
    }
    if body.starts_with('[') {
        return session_error(connection, body);
    }
    progress_kind(body).map(|kind| NetEvent::Progress {
        connection,
        task: None,
        kind,
    })
}

/// Splits off `function(line) [C..][ptr] ` and returns the connection and
/// the body. A message without the prefix is returned whole.
fn split_prefix(message: &str) -> (Option<ConnectionId>, &str) {
    let Some(mut rest) = skip_function(message) else {
        return (None, message);
    };
    let mut connection = None;
    if let Some((inner, after)) = bracket(rest)
        && let Some(id) = inner
            .starts_with('C')
            .then(|| connection_id(inner))
            .flatten()
    {
        connection = Some(id);
        rest = after;
    }
    if let Some((inner, after)) = bracket(rest)
        && is_pointer(inner)
    {
        rest = after;
    }
    (connection, rest.strip_prefix(' ').unwrap_or(rest))
}

/// Skips `identifier(digits) ` and returns what follows.
fn skip_function(message: &str) -> Option<&str> {
    let open = message.find('(')?;
    let name = &message[..open];
    let is_name = !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    let (line, rest) = scan::leading_digits(&message[open + 1..]);
    if !is_name || line.is_empty() {
        return None;
    }
    let rest = rest.strip_prefix(')')?;
    Some(rest.strip_prefix(' ').unwrap_or(rest))
}

/// Parses `TLS connected [version(0x0304) ciphersuite(...) ...]` in its 2020
/// (hex cipher, `peer_key`), 2021–2024 (IANA cipher name, `signature_alg`)
/// and 2025–2026 (`server(...)` first) forms.
fn connected(connection: ConnectionId, list: &str) -> Option<NetEvent> {
    let mut found = Connected::default();
    for (name, value) in fields(list) {
        found.apply(name, value);
    }
    Some(NetEvent::TlsConnected {
        connection,
        version: found.version?,
        cipher: found.cipher?,
        group: found.group,
        signature_alg: found.signature_alg,
        alpn: found.alpn,
        resumed: found.resumed,
        server: found.server,
    })
}

#[derive(Default)]
struct Connected {
    version: Option<u16>,
    cipher: Option<LoggedCipher>,
    group: Option<u16>,
    signature_alg: Option<u16>,
    alpn: Option<String>,
    resumed: Option<bool>,
    server: Option<bool>,
}

impl Connected {
    /// Records one field; fields this crate does not use are ignored.
    fn apply(&mut self, name: &str, value: &str) {
        match name {
            "version" => self.version = hex_u16(value),
            "ciphersuite" => self.cipher = logged_cipher(value),
            "group" => self.group = hex_u16(value),
            // The 2020 form calls the peer's signature algorithm `peer_key`.
            "signature_alg" | "peer_key" => self.signature_alg = hex_u16(value),
            "alpn" => self.alpn = present(value).map(str::to_owned),
            "resumed" => self.resumed = flag(value),
            "server" => self.server = flag(value),
            _ => {}
        }
    }
}

fn logged_cipher(value: &str) -> Option<LoggedCipher> {
    if value.starts_with("0x") {
        return hex_u16(value).map(LoggedCipher::Code);
    }
    let is_name = !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_');
    is_name.then(|| LoggedCipher::Name(value.to_owned()))
}

/// Parses `TLS configured [min_version(0x0301) max_version(0x0304) name(...) ...]`,
/// with or without the newer `ats_non_pfs_ciphersuite_allowed`, `ech`,
/// `pqtls` and `pake` fields.
fn configured(connection: ConnectionId, list: &str) -> Option<NetEvent> {
    let (mut min_version, mut max_version) = (None, None);
    let (mut server_name, mut enforce_ats) = (None, None);
    for (name, value) in fields(list) {
        match name {
            "min_version" => min_version = hex_u16(value),
            "max_version" => max_version = hex_u16(value),
            "name" => server_name = present(value).map(str::to_owned),
            "enforce_ats" => enforce_ats = flag(value),
            _ => {}
        }
    }
    Some(NetEvent::TlsConfigured {
        connection,
        min_version: min_version?,
        max_version: max_version?,
        server_name,
        enforce_ats,
    })
}

/// Parses `read alert, level: fatal, description: bad record mac`. The
/// description is boringssl's long alert string, kept as logged.
fn alert(connection: Option<ConnectionId>, body: &str) -> Option<NetEvent> {
    let (direction, rest) = match body.split_once(" alert, level: ")? {
        ("read", rest) => (AlertDirection::Received, rest),
        ("write", rest) => (AlertDirection::Sent, rest),
        _ => return None,
    };
    let (level, description) = rest.split_once(", description: ")?;
    let fatal = match level {
        "fatal" => true,
        "warning" => false,
        _ => return None,
    };
    let description = description.trim_end();
    if description.is_empty() {
        return None;
    }
    Some(NetEvent::Alert {
        connection,
        direction,
        fatal,
        description: description.to_owned(),
        code: codes::alert_code(description),
    })
}

/// Parses boringssl's error queue as `ERR_error_string_n` writes it, after
/// an optional `Error: `:
/// `5080655488:error:10000438:SSL routines:OPENSSL_internal:REASON:file:line:extra`.
fn handshake_error(connection: Option<ConnectionId>, body: &str) -> Option<NetEvent> {
    let text = body.strip_prefix("Error: ").unwrap_or(body);
    let (thread, rest) = text.split_once(":error:")?;
    let mut parts = rest.splitn(5, ':');
    let packed = parts.next()?;
    let _library = parts.next()?;
    let _function = parts.next()?;
    let reason = parts.next()?;
    let extra = parts.next().unwrap_or("");
    let is_reason = !reason.is_empty()
        && reason
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
    if !scan::is_digits(thread) || !is_pointer(packed) || !is_reason {
        return None;
    }
    Some(NetEvent::HandshakeError {
        connection,
        reason: reason.to_owned(),
        alert_number: alert_number(extra),
    })
}

/// Reads the `SSL alert number 80` that ends a handshake error for an alert.
fn alert_number(extra: &str) -> Option<u8> {
    let (_, tail) = extra.split_once("SSL alert number ")?;
    scan::decimal(scan::leading_digits(tail).0)
}

/// Parses `handshake failed at state 12288: not completed`.
fn handshake_failed(connection: ConnectionId, rest: &str) -> Option<NetEvent> {
    let (state, tail) = scan::leading_digits(rest);
    if !tail.starts_with(':') {
        return None;
    }
    Some(NetEvent::HandshakeFailed {
        connection,
        state: scan::decimal(state),
    })
}

/// Parses `[boringssl_session_read] SSL_ERROR_SSL(1): operation failed within the library`.
fn session_error(connection: Option<ConnectionId>, body: &str) -> Option<NetEvent> {
    let (operation, rest) = bracket(body)?;
    let rest = rest.strip_prefix(' ')?;
    let (error, _) = rest.split_once('(')?;
    let is_name = error.starts_with("SSL_ERROR_")
        && error.bytes().all(|b| b.is_ascii_uppercase() || b == b'_');
    let is_operation = !operation.is_empty()
        && operation
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !is_name || !is_operation {
        return None;
    }
    Some(NetEvent::SessionError {
        connection,
        operation: operation.to_owned(),
        error: error.to_owned(),
    })
}

/// Names the kind of a progress line (handshake start, state and end,
/// trust hand-off, SNI, record and shutdown traces), which the detections
/// do not use.
fn progress_kind(body: &str) -> Option<&'static str> {
    if let Some((role, step)) = body.split_once(" handshake ") {
        return handshake_step(role, step);
    }
    const PREFIXES: [(&str, &str); 8] = [
        (
            "Performing external trust evaluation",
            "external trust evaluation",
        ),
        (
            "Asyncing for external verify block",
            "external trust evaluation",
        ),
        ("SNI ", "SNI"),
        ("Adding message(", "handshake message"),
        ("Writing SSL3_RT_", "record write"),
        ("SSL_shutdown ", "shutdown"),
        ("session state: ", "session state"),
        ("set 0x", "version setting"),
    ];
    PREFIXES
        .iter()
        .find(|(prefix, _)| body.starts_with(prefix))
        .map(|&(_, kind)| kind)
}

/// Names `Client handshake started`, `... done` and `... state: ...` lines.
fn handshake_step(role: &str, step: &str) -> Option<&'static str> {
    if role.is_empty() || !role.bytes().all(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    if step.starts_with("state: ") {
        return Some("handshake state");
    }
    match step {
        "started" => Some("handshake started"),
        "done" => Some("handshake done"),
        _ => None,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::{Origin, Parsed};

    /// Real lines from public bug reports, Console dumps and decompiled
    /// builds, one or more per template, cut to what the tests need.
    pub(crate) const REAL: &[&str] = &[
        // macOS 11 (Big Sur), as the macos-unifiedlogs crate writes them.
        "boringssl_session_apply_protocol_options_for_transport_block_invoke(1685) [C64.1:2][7FF737210920] TLS configured [min_version(0x0301) max_version(0x0304) name(<private>) tickets(false) false_start(false) enforce_ev(false) enforce_ats(false)]",
        "boringssl_context_info_handler(1858) [C64.1:2][7FF737210920] Client handshake started",
        "boringssl_context_info_handler(1873) [C64.1:2][7FF737210920] Client handshake state: TLS 1.3 client read_hello_retry_request",
        "boringssl_context_evaluate_trust_async(1547) [C64.1:2][7FF737210920] Performing external trust evaluation",
        "boringssl_context_evaluate_trust_async_external(1532) [C64.1:2][7FF737210920] Asyncing for external verify block",
        // 2020, Apple's `log` output.
        "boringssl_context_info_handler(1974) [C2.1:2][0x7feefa660ef0] Client handshake done",
        "nw_protocol_boringssl_signal_connected(701) [C2.1:2][0x7feefa660ef0] TLS connected [version(0x0304) ciphersuite(0x1301) group(0x001d) peer_key(0x0804) alpn(http/1.1) resumed(0) offered_ticket(0) false_started(0) ocsp(0) sct(0)]",
        // The 2021–2024 form.
        "nw_protocol_boringssl_signal_connected(755) [C2:1][0x105b7dc00] TLS connected [version(0x0304) ciphersuite(TLS_AES_128_GCM_SHA256) group(0x001d) signature_alg(0x0403) alpn(h3) resumed(0) offered_ticket(0) false_started(0) ocsp_received(1) sct_received(0) connect_time(52ms) flight_time(32ms) rtt(32ms) write_stalls(0) read_stalls(4) pake(0x0000)]",
        // The 2026 form, cut short where it was published.
        "nw_protocol_boringssl_signal_connected(895) [C1.1.1.1:2][0x11944b9e0] TLS connected [server(0) version(0x0304) ciphersuite(TLS_AES_256_GCM_SHA384) group(0x11ec) signature_alg(0x0403) alpn(h2) resumed(0) offered_ticket(0) in_early_data(0) early_data_accepted(0) false_started(0) ocsp_received(0) sct_received(1",
        "boringssl_context_handle_fatal_alert(2313) [C1.1.1.1:2][0x12e2e6200] read alert, level: fatal, description: internal error",
        "boringssl_context_handle_warning_alert(1894) [C10.1:2][0x14db35a30] write alert, level: warning, description: close notify",
        "boringssl_session_handshake_error_print(47) [C1.1.1.1:2][0x12e2e6200] Error: 5080655488:error:10000438:SSL routines:OPENSSL_internal:TLSV1_ALERT_INTERNAL_ERROR:/Library/Caches/com.apple.xbs/Sources/boringssl/ssl/tls_record.cc:579:SSL alert number 80",
        // An older form (2018), its source path shortened here.
        "boringssl_session_handshake_error_print(205) [C9.1:2][0x7fd99848d120] 140572541390664:error:100000d7:SSL routines:OPENSSL_internal:SSL_HANDSHAKE_FAILURE:/BuildRoot/ssl/ssl_lib.cc:1081:",
        "nw_protocol_boringssl_handshake_negotiate_proceed(788) [C1.1.1.1:2][0x12e2e6200] handshake failed at state 12288: not completed",
        // 2019, with no connection part.
        "boringssl_session_set_peer_hostname(1181) [0x7f8e11c139c0] SNI settings.crashlytics.com",
    ];

    /// Lines built from the verified templates: the attack cases no public
    /// log shows, and the short trace lines whose published samples lack
    /// the prefix (their function names and line numbers are made up).
    pub(crate) const CONSTRUCTED: &[&str] = &[
        "boringssl_context_handle_fatal_alert(2313) [C7.1.1:2][0x12e2e6200] read alert, level: fatal, description: bad record mac",
        "boringssl_context_handle_fatal_alert(2313) [C7.1.1:2][0x12e2e6200] read alert, level: fatal, description: protocol version",
        "boringssl_context_handle_fatal_alert(2313) [C7.1.1:2][0x12e2e6200] write alert, level: fatal, description: unexpected_message",
        "boringssl_context_handle_fatal_alert(2313) [C7.1.1:2][0x12e2e6200] read alert, level: fatal, description: inappropriate fallback",
        "boringssl_context_handle_fatal_alert(1938) [C4.1.1:2][0x10c0a4b60] read alert, level: fatal, description: certificate unknown",
        "boringssl_session_handshake_error_print(47) [C7.1.1:2][0x12e2e6200] Error: 5080655488:error:1000046e:SSL routines:OPENSSL_internal:TLSV1_ALERT_PROTOCOL_VERSION:/Library/Caches/com.apple.xbs/Sources/boringssl/ssl/tls_record.cc:579:SSL alert number 70",
        "nw_protocol_boringssl_signal_connected(755) [C3.1:2][0x105b7dc00] TLS connected [version(0x0301) ciphersuite(TLS_RSA_WITH_RC4_128_SHA) group(0x0000) signature_alg(0x0201) alpn((null)) resumed(1) offered_ticket(0) false_started(0) ocsp_received(0) sct_received(0) connect_time(52ms) flight_time(32ms) rtt(32ms) write_stalls(0) read_stalls(4)]",
        "boringssl_session_apply_protocol_options_for_transport_block_invoke(1722) [C5.1:2][0x11944b9e0] TLS configured [min_version(0x0303) max_version(0x0304) name(example.com) tickets(false) false_start(false) enforce_ev(false) enforce_ats(true) ats_non_pfs_ciphersuite_allowed(false) ech(false) pqtls(true), pake(false)]",
        "boringssl_session_errorlog(224) [C3.1:2][0x7fd99848d120] [boringssl_session_read] SSL_ERROR_SSL(1): operation failed within the library",
        "boringssl_context_message_handler(2253) [C10.1:2][0x14db35a30] Adding message(20)",
        "boringssl_context_message_handler(2253) [C10.1:2][0x14db35a30] Writing SSL3_RT_ALERT 2 bytes",
        "boringssl_session_shutdown(1210) [C10.1:2][0x14db35a30] SSL_shutdown 0",
        "boringssl_session_set_state(890) [C10.1:2][0x14db35a30] session state: connected [2]",
        "boringssl_context_set_min_version(301) [C10.1:2][0x14db35a30] set 0x0303",
        "boringssl_context_info_handler(1873) [C11.1:2][0x14db35a30] Server handshake state: TLS server read_client_hello",
    ];

    fn parse_line(message: &str) -> Parsed {
        let origin = Origin {
            subsystem: "com.apple.network",
            category: "boringssl",
            sender_image: "/usr/lib/libboringssl.dylib",
            process_path: "/usr/libexec/nsurlsessiond",
        };
        crate::parse(&origin, message)
    }

    fn event(message: &str) -> NetEvent {
        match parse_line(message) {
            Parsed::Event(event) => event,
            other => panic!("{other:?} for {message}"),
        }
    }

    fn id(path: &str, instance: u32) -> ConnectionId {
        connection_id(&format!("C{path}:{instance}")).unwrap()
    }

    #[test]
    fn every_sample_recognised() {
        for message in REAL.iter().chain(CONSTRUCTED) {
            assert!(matches!(parse_line(message), Parsed::Event(_)), "{message}");
        }
    }

    #[test]
    fn configured_big_sur() {
        let expected = NetEvent::TlsConfigured {
            connection: id("64.1", 2),
            min_version: 0x0301,
            max_version: 0x0304,
            server_name: None,
            enforce_ats: Some(false),
        };
        assert_eq!(event(REAL[0]), expected);
    }

    #[test]
    fn configured_newer_fields_and_name() {
        let NetEvent::TlsConfigured {
            server_name,
            enforce_ats,
            min_version,
            ..
        } = event(CONSTRUCTED[7])
        else {
            panic!("not TLS configured");
        };
        assert_eq!(server_name.as_deref(), Some("example.com"));
        assert_eq!(enforce_ats, Some(true));
        assert_eq!(min_version, 0x0303);
    }

    #[test]
    fn configured_without_versions_unknown() {
        let line = "f(1) [C1:2][0x1] TLS configured [name(a) tickets(false)]";
        assert_eq!(parse_line(line), Parsed::Unknown);
    }

    #[test]
    fn connected_2020_hex_cipher() {
        let expected = NetEvent::TlsConnected {
            connection: id("2.1", 2),
            version: 0x0304,
            cipher: LoggedCipher::Code(0x1301),
            group: Some(0x001d),
            signature_alg: Some(0x0804),
            alpn: Some("http/1.1".into()),
            resumed: Some(false),
            server: None,
        };
        assert_eq!(event(REAL[6]), expected);
    }

    #[test]
    fn connected_2021_iana_name() {
        let NetEvent::TlsConnected {
            connection,
            cipher,
            signature_alg,
            alpn,
            ..
        } = event(REAL[7])
        else {
            panic!("not TLS connected");
        };
        assert_eq!(connection, id("2", 1));
        assert_eq!(cipher, LoggedCipher::Name("TLS_AES_128_GCM_SHA256".into()));
        assert_eq!(signature_alg, Some(0x0403));
        assert_eq!(alpn.as_deref(), Some("h3"));
    }

    #[test]
    fn connected_2026_cut_keeps_fields() {
        let NetEvent::TlsConnected {
            server,
            group,
            cipher,
            ..
        } = event(REAL[8])
        else {
            panic!("not TLS connected");
        };
        assert_eq!(server, Some(false));
        assert_eq!(group, Some(0x11ec));
        assert_eq!(cipher, LoggedCipher::Name("TLS_AES_256_GCM_SHA384".into()));
    }

    #[test]
    fn connected_fields_any_order() {
        let line = "f(9) [C8.1:2][0x1] TLS connected [future(1 2) alpn(h2) ciphersuite(0xc02f) version(0x0303)]";
        let NetEvent::TlsConnected {
            version,
            cipher,
            group,
            ..
        } = event(line)
        else {
            panic!("not TLS connected");
        };
        assert_eq!(version, 0x0303);
        assert_eq!(cipher, LoggedCipher::Code(0xc02f));
        assert_eq!(group, None);
    }

    #[test]
    fn connected_downgraded_constructed() {
        let NetEvent::TlsConnected {
            version,
            cipher,
            alpn,
            resumed,
            ..
        } = event(CONSTRUCTED[6])
        else {
            panic!("not TLS connected");
        };
        assert_eq!(version, 0x0301);
        assert_eq!(
            cipher,
            LoggedCipher::Name("TLS_RSA_WITH_RC4_128_SHA".into())
        );
        assert_eq!(alpn, None);
        assert_eq!(resumed, Some(true));
    }

    #[test]
    fn connected_without_connection_unknown() {
        let line = "f(9) [0x1] TLS connected [version(0x0304) ciphersuite(0x1301)]";
        assert_eq!(parse_line(line), Parsed::Unknown);
    }

    #[test]
    fn alert_internal_error_received() {
        let expected = NetEvent::Alert {
            connection: Some(id("1.1.1.1", 2)),
            direction: AlertDirection::Received,
            fatal: true,
            description: "internal error".into(),
            code: Some(80),
        };
        assert_eq!(event(REAL[9]), expected);
    }

    #[test]
    fn alert_close_notify_sent() {
        let NetEvent::Alert {
            direction,
            fatal,
            code,
            ..
        } = event(REAL[10])
        else {
            panic!("not an alert");
        };
        assert_eq!(direction, AlertDirection::Sent);
        assert!(!fatal);
        assert_eq!(code, Some(0));
    }

    #[test]
    fn alert_attack_descriptions() {
        let cases = [
            (CONSTRUCTED[0], "bad record mac", 20),
            (CONSTRUCTED[1], "protocol version", 70),
            (CONSTRUCTED[2], "unexpected_message", 10),
            (CONSTRUCTED[3], "inappropriate fallback", 86),
            (CONSTRUCTED[4], "certificate unknown", 46),
        ];
        for (line, description, number) in cases {
            let NetEvent::Alert {
                description: logged,
                code,
                fatal,
                ..
            } = event(line)
            else {
                panic!("not an alert: {line}");
            };
            assert_eq!(logged, description);
            assert_eq!(code, Some(number), "{description}");
            assert!(fatal, "{description}");
        }
    }

    #[test]
    fn alert_unknown_description_kept() {
        let line = "f(1) [C1:2][0x1] read alert, level: fatal, description: unknown";
        let NetEvent::Alert {
            description, code, ..
        } = event(line)
        else {
            panic!("not an alert");
        };
        assert_eq!(description, "unknown");
        assert_eq!(code, None);
    }

    #[test]
    fn alert_odd_level_unknown() {
        let line = "f(1) [C1:2][0x1] read alert, level: severe, description: bad record mac";
        assert_eq!(parse_line(line), Parsed::Unknown);
    }

    #[test]
    fn handshake_error_new_form() {
        let expected = NetEvent::HandshakeError {
            connection: Some(id("1.1.1.1", 2)),
            reason: "TLSV1_ALERT_INTERNAL_ERROR".into(),
            alert_number: Some(80),
        };
        assert_eq!(event(REAL[11]), expected);
    }

    #[test]
    fn handshake_error_old_form() {
        let NetEvent::HandshakeError {
            reason,
            alert_number,
            ..
        } = event(REAL[12])
        else {
            panic!("not a handshake error");
        };
        assert_eq!(reason, "SSL_HANDSHAKE_FAILURE");
        assert_eq!(alert_number, None);
    }

    #[test]
    fn handshake_error_protocol_version() {
        let NetEvent::HandshakeError {
            reason,
            alert_number,
            ..
        } = event(CONSTRUCTED[5])
        else {
            panic!("not a handshake error");
        };
        assert_eq!(reason, "TLSV1_ALERT_PROTOCOL_VERSION");
        assert_eq!(alert_number, Some(70));
    }

    #[test]
    fn handshake_failed_state() {
        let expected = NetEvent::HandshakeFailed {
            connection: id("1.1.1.1", 2),
            state: Some(12288),
        };
        assert_eq!(event(REAL[13]), expected);
    }

    #[test]
    fn session_error_read() {
        let expected = NetEvent::SessionError {
            connection: Some(id("3.1", 2)),
            operation: "boringssl_session_read".into(),
            error: "SSL_ERROR_SSL".into(),
        };
        assert_eq!(event(CONSTRUCTED[8]), expected);
    }

    #[test]
    fn progress_kinds() {
        let cases = [
            (REAL[1], "handshake started"),
            (REAL[2], "handshake state"),
            (REAL[3], "external trust evaluation"),
            (REAL[4], "external trust evaluation"),
            (REAL[5], "handshake done"),
            (REAL[14], "SNI"),
            (CONSTRUCTED[9], "handshake message"),
            (CONSTRUCTED[10], "record write"),
            (CONSTRUCTED[11], "shutdown"),
            (CONSTRUCTED[12], "session state"),
            (CONSTRUCTED[13], "version setting"),
            (CONSTRUCTED[14], "handshake state"),
        ];
        for (line, expected) in cases {
            let NetEvent::Progress { kind, .. } = event(line) else {
                panic!("not progress: {line}");
            };
            assert_eq!(kind, expected);
        }
    }

    #[test]
    fn sni_line_has_no_connection() {
        let NetEvent::Progress { connection, .. } = event(REAL[14]) else {
            panic!("not progress");
        };
        assert_eq!(connection, None);
    }

    #[test]
    fn line_numbers_not_matched() {
        let line = REAL[9].replace("(2313)", "(7)");
        assert_eq!(event(&line), event(REAL[9]));
    }

    #[test]
    fn unknown_body_from_boringssl() {
        let line = "boringssl_context_new(12) [C1:2][0x1] Something new happened";
        assert_eq!(parse_line(line), Parsed::Unknown);
        let odd_step = "boringssl_context_info_handler(1) [C1:2][0x1] Client handshake paused";
        assert_eq!(parse_line(odd_step), Parsed::Unknown);
    }

    /// An app that logs a copied alert line under boringssl's subsystem and
    /// category from its own image gets no event, only an unknown count.
    #[test]
    fn other_library_not_trusted() {
        let origin = Origin {
            subsystem: "com.apple.network",
            category: "boringssl",
            sender_image: "/Applications/Example.app/Contents/MacOS/Example",
            process_path: "/Applications/Example.app/Contents/MacOS/Example",
        };
        assert_eq!(crate::parse(&origin, CONSTRUCTED[0]), Parsed::Unknown);
    }
}
