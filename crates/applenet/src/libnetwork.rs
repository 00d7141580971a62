//! Messages of libnetwork (`/usr/lib/libnetwork.dylib`, Network.framework).
//!
//! Connection lines carry a bracket that starts with the connection id:
//! `[C65 <uuid> host:443 tcp, ..., tls, ...] start`, the sub-flow form
//! `[C64.1 23.64.70.122:443 in_progress socket-flow (...)] event: ...`, or
//! a bare `[C60]` after a function name. Templates match on the bracket's
//! shape and the words after it.

use crate::scan::{self, bracket, connection_id, endpoint, seconds_to_ms};
use crate::{ConnectionId, NetEvent, StreamError};

/// Library image names that log these messages.
pub(crate) const LIBRARIES: &[&str] = &["libnetwork.dylib", "Network"];

pub(crate) fn parse(message: &str) -> Option<NetEvent> {
    let (function, rest) = split_function(message);
    if function == "nw_coretls_read_one_record" {
        return coretls_error(rest);
    }
    let (inner, tail) = bracket(rest)?;
    let (id, details) = inner.split_once(' ').unwrap_or((inner, ""));
    let connection = connection_id(id)?;
    if function.is_empty() {
        return connection_line(connection, details, tail, message);
    }
    function_line(function, connection, details, tail)
}

/// Splits a leading `nw_function ` off a message.
fn split_function(message: &str) -> (&str, &str) {
    let Some((word, rest)) = message.split_once(' ') else {
        return ("", message);
    };
    let is_function =
        word.starts_with("nw_") && word.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if is_function {
        (word, rest)
    } else {
        ("", message)
    }
}

/// Parses lines that start with the bracket itself: start, event and cancel lines.
fn connection_line(
    connection: ConnectionId,
    details: &str,
    tail: &str,
    message: &str,
) -> Option<NetEvent> {
    match tail {
        " start" => start(connection, details),
        " cancel" => Some(progress(connection, "connection cancel")),
        _ if tail.starts_with(" cancelled\n") => summary(connection, details, message),
        _ if tail.starts_with(" event: ") => Some(flow(connection, details, "connection event")),
        _ => None,
    }
}

/// Parses lines that start with a libnetwork function name: flow, state,
/// socket and TCP summary lines.
fn function_line(
    function: &str,
    connection: ConnectionId,
    details: &str,
    tail: &str,
) -> Option<NetEvent> {
    const FLOW_TAILS: [&str; 3] = [
        " Output protocol ",
        " Transport protocol ",
        " already failing",
    ];
    if FLOW_TAILS.iter().any(|start| tail.starts_with(start)) {
        return Some(flow(connection, details, "flow event"));
    }
    if tail.starts_with(" reporting state ") {
        return Some(progress(connection, "connection state"));
    }
    if tail.starts_with(" Socket received ") {
        return Some(progress(connection, "socket event"));
    }
    if function == "nw_protocol_tcp_log_summary" {
        return Some(progress(connection, "TCP summary"));
    }
    None
}

fn progress(connection: ConnectionId, kind: &'static str) -> NetEvent {
    NetEvent::Progress {
        connection: Some(connection),
        task: None,
        kind,
    }
}

/// Turns a flow line into [`NetEvent::ConnectionPath`] for a sub-flow
/// (`C64.1`) with an endpoint and a state, or into progress of `kind`
/// otherwise, because the top-level connection's lines name the host, not
/// the address.
fn flow(connection: ConnectionId, details: &str, kind: &'static str) -> NetEvent {
    let mut words = details.split(' ');
    let remote = words.next().unwrap_or("");
    let state = words.next().unwrap_or("");
    let is_remote = scan::is_redacted(remote) || endpoint(remote).is_some();
    let is_state = !state.is_empty() && state.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
    if connection.path.contains('.') && is_remote && is_state {
        return NetEvent::ConnectionPath {
            connection,
            remote: remote.to_owned(),
            state: state.to_owned(),
        };
    }
    progress(connection, kind)
}

/// The first bracket of start and cancelled lines after the id:
/// `<uuid> host:443 tcp, url hash: 88f02d6a, tls, context: ...`.
struct Header<'a> {
    host: &'a str,
    port: u16,
    transport: &'a str,
    items: Vec<&'a str>,
}

impl<'a> Header<'a> {
    fn parse(details: &'a str) -> Option<Self> {
        let (head, items) = details.split_once(", ").unwrap_or((details, ""));
        let mut words = head.split(' ');
        let mut target = words.next()?;
        if scan::uuid(target).is_some() {
            target = words.next()?;
        }
        let transport = words.next()?;
        let is_transport =
            !transport.is_empty() && transport.bytes().all(|b| b.is_ascii_lowercase());
        if words.next().is_some() || !is_transport {
            return None;
        }
        let (host, port) = match endpoint(target) {
            Some(split) => split,
            None if scan::is_redacted(target) => (target, 0),
            None => return None,
        };
        let items = if items.is_empty() {
            Vec::new()
        } else {
            items.split(", ").collect()
        };
        Some(Header {
            host,
            port,
            transport,
            items,
        })
    }

    fn tls(&self) -> bool {
        self.items.contains(&"tls")
    }
}

/// Parses `[C65 <uuid> host:443 tcp, url hash: 88f02d6a, tls, ...] start`, or
/// the newer form with `url: https://...`.
fn start(connection: ConnectionId, details: &str) -> Option<NetEvent> {
    let header = Header::parse(details)?;
    let url = header
        .items
        .iter()
        .find_map(|item| item.strip_prefix("url: "));
    Some(NetEvent::ConnectionStart {
        connection,
        host: header.host.to_owned(),
        port: header.port,
        transport: header.transport.to_owned(),
        tls: header.tls(),
        url: url.map(str::to_owned),
    })
}

/// Parses the multi-line `cancelled` summary, whose lines after the first
/// start with a tab. macOS 10.13 and later builds write different lines, so
/// each value is looked up by its label.
fn summary(connection: ConnectionId, details: &str, message: &str) -> Option<NetEvent> {
    let header = Header::parse(details)?;
    let (local, remote) = addresses(message).unzip();
    let (duration_ms, tls_version) = durations(message);
    let (bytes_in, bytes_out) = bytes_in_out(message).unzip();
    Some(NetEvent::ConnectionSummary {
        connection,
        host: header.host.to_owned(),
        port: header.port,
        tls: header.tls(),
        local,
        remote,
        tls_version,
        bytes_in,
        bytes_out,
        duration_ms,
    })
}

/// Reads `local<->remote` from the summary's second line, `[C60.1 <uuid> a<->b]`.
fn addresses(message: &str) -> Option<(String, String)> {
    let line = message.lines().nth(1)?.trim_start();
    let (inner, _) = bracket(line)?;
    let pair = inner.rsplit(' ').next()?;
    let (local, remote) = pair.split_once("<->")?;
    Some((local.to_owned(), remote.to_owned()))
}

/// Reads `Duration: 0.211s, DNS @0.000s took 0.005s, TCP @0.006s took 0.103s,
/// TLS 1.3 took 0.037s`: the duration in milliseconds and the TLS version.
fn durations(message: &str) -> (Option<u64>, Option<String>) {
    let Some(line) = message
        .lines()
        .find_map(|line| line.trim_start().strip_prefix("Duration: "))
    else {
        return (None, None);
    };
    let mut parts = line.split(", ");
    let duration = parts
        .next()
        .and_then(|first| first.strip_suffix('s'))
        .and_then(seconds_to_ms);
    let tls = parts.find_map(|part| {
        let (label, _) = part.split_once(" took ")?;
        let words: Vec<&str> = label
            .split(' ')
            .filter(|word| !word.starts_with('@'))
            .collect();
        (words.first() == Some(&"TLS") && words.len() > 1).then(|| words.join(" "))
    });
    (duration, tls)
}

/// Reads `bytes in/out: 24006/1151`.
fn bytes_in_out(message: &str) -> Option<(u64, u64)> {
    let (_, rest) = message.split_once("bytes in/out: ")?;
    let value = rest.split([',', '\n']).next()?;
    let (bytes_in, bytes_out) = value.split_once('/')?;
    Some((
        scan::decimal(bytes_in)?,
        scan::decimal(bytes_out.trim_end())?,
    ))
}

/// Parses the older coreTLS stack's `nw_coretls_read_one_record tls_handshake_process: [-9824]`.
fn coretls_error(rest: &str) -> Option<NetEvent> {
    let (_, status) = rest.rsplit_once(": [")?;
    let code = scan::signed_i32(status.strip_suffix(']')?)?;
    Some(NetEvent::SecureTransportError {
        error: StreamError { domain: 3, code },
        kind: "coreTLS record error",
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::{Origin, Parsed};

    /// Real lines from public bug reports and Console dumps, cut to what
    /// the tests need.
    pub(crate) const REAL: &[&str] = &[
        // macOS 11 (Big Sur), as the macos-unifiedlogs crate writes them.
        "[C65 A825042C9988472C81B2C86781FC90DE gspe21-ssl.ls.apple.com:443 tcp, url hash: 88f02d6a, tls, context: com.apple.CFNetwork.NSURLSession.{FB15755B-50A4-4EDD-88D5-31BB83184164}{(null)}{Y}{1}, proc: 21B380F4-D50C-3463-9CAF-46BB2178258B] start",
        "[C64.1 23.64.70.122:443 in_progress socket-flow (satisfied (Path is satisfied), interface: en0, ipv4, dns)] event: flow:start_connect @0.001s",
        "[C60 C2575898DFA64A8ABE8DA5CC1ADC51CB gspe21-ssl.ls.apple.com:443 tcp, url hash: b3f492ec, tls] cancelled\n\t[C60.1 7FAF4450D5E842A4813050C4E79A5B0B 192.168.101.144:49442<->23.64.70.122:443]\n\tConnected Path: satisfied (Path is satisfied), viable, interface: en0, ipv4, dns\n\tDuration: 0.211s, DNS @0.000s took 0.005s, TCP @0.006s took 0.103s, TLS 1.3 took 0.037s\n\tbytes in/out: 24006/1151, packets in/out: 6/3, rtt: 0.020s, retransmitted bytes: 0, out-of-order bytes: 0",
        "nw_flow_disconnected [C60.1 23.64.70.122:443 cancelled socket-flow ((null))] Output protocol disconnected",
        "nw_connection_report_state_with_handler_on_nw_queue [C60] reporting state cancelled",
        "nw_socket_handle_socket_event [C64.1:3] Socket received CONNECTED event",
        "[C60 C2575898DFA64A8ABE8DA5CC1ADC51CB gspe21-ssl.ls.apple.com:443 tcp, url hash: b3f492ec, tls] cancel",
        "[C65 gspe21-ssl.ls.apple.com:443 initial path ((null))] event: path:start @0.000s",
        // 2020, over a VPN interface (utun).
        "nw_flow_connected [C2.1 IPv4#2fe5e49d:443 in_progress socket-flow (satisfied (Path is satisfied), interface: utun2, ipv4, dns)] Output protocol connected",
        // Newer builds, from a Console dump.
        "nw_flow_connected [C47.1.1 IPv6#297a0349.443 in_progress channel-flow (satisfied (Path is satisfied), viable, interface: en0, ipv6, dns)] Output protocol connected (CFNetworkConnection-2220563743)",
        "nw_endpoint_flow_failed_with_error [C1.1.1.1 84.32.84.32:443 in_progress channel-flow (satisfied (Path is satisfied), viable, interface: pdp_ip0[lte], ipv4, ipv6, dns, expensive, uses cell)] already failing, returning",
        // The coreTLS era (2017).
        "nw_coretls_read_one_record tls_handshake_process: [-9824]",
    ];

    /// Lines built from the verified templates: the newer start form (the
    /// public sample's UUIDs are shortened, so full ones stand in), the
    /// macOS 10.13 summary (the public sample elides its middle lines), a
    /// redacted sub-flow and a TCP summary.
    pub(crate) const CONSTRUCTED: &[&str] = &[
        "[C2 7162D2BB5AB14A5C8C2B6C2F3C1D9E0A tcgbusfs.blob.core.windows.net:443 tcp, url: https://tcgbusfs.blob.core.windows.net/x, tls, definite, attribution: developer, context: com.apple.CFNetwork.NSURLSession.{0A1B2C3D-0A1B-0A1B-0A1B-0A1B2C3D4E5F}{(null)}{Y}{2}{0x0} (private), proc: 1B526020-0A1B-0A1B-0A1B-0A1B2C3D4E5F, delegated upid: 0] start",
        "[11 <private> stream, pid: 344] cancelled\n\t[11.1 0A1B2C3D4E5F60718293A4B5C6D7E8F9 <private>.49154<-><private>]\n\tConnected Path: satisfied (Path is satisfied), interface: en0\n\tDuration: 1.500s, DNS @0.000s took 0.001s, TCP @0.001s took 0.020s\n\tbytes in/out: 818/542, packets in/out: 2/2, rtt: 0.020s, retransmitted packets: 1, out-of-order packets: 2",
        "[C11.1 <private> in_progress socket-flow (satisfied (Path is satisfied), interface: en0, ipv4, dns)] event: flow:start_connect @0.001s",
        "nw_protocol_tcp_log_summary [C10.1:3] \n\t[0A1B2C3D4E5F60718293A4B5C6D7E8F9 192.168.1.2:50000<->23.64.70.122:443]\n\tInit: 1, Conn_Time: 19.412ms, Syn's: 1",
        "[C9 D15E1A2B3C4D5E6F708192A3B4C5D6E7 example.com:80 tcp, url hash: 11223344] cancelled\n\t[C9.1 0A1B2C3D4E5F60718293A4B5C6D7E8F9 10.0.0.2:50001<->93.184.216.34:80]\n\tConnected Path: satisfied (Path is satisfied), viable, interface: en0, ipv4, dns\n\tDuration: 0.100s, DNS @0.000s took 0.005s, TCP @0.006s took 0.020s\n\tbytes in/out: 100/50, packets in/out: 1/1, rtt: 0.020s, retransmitted bytes: 0, out-of-order bytes: 0",
    ];

    fn parse_line(message: &str) -> Parsed {
        let origin = Origin {
            subsystem: "com.apple.network",
            category: "connection",
            sender_image: "/usr/lib/libnetwork.dylib",
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

    fn id(text: &str) -> ConnectionId {
        connection_id(text).unwrap()
    }

    #[test]
    fn every_sample_recognised() {
        for message in REAL.iter().chain(CONSTRUCTED) {
            assert!(matches!(parse_line(message), Parsed::Event(_)), "{message}");
        }
    }

    #[test]
    fn start_big_sur() {
        let expected = NetEvent::ConnectionStart {
            connection: id("C65"),
            host: "gspe21-ssl.ls.apple.com".into(),
            port: 443,
            transport: "tcp".into(),
            tls: true,
            url: None,
        };
        assert_eq!(event(REAL[0]), expected);
    }

    #[test]
    fn start_newer_with_url() {
        let NetEvent::ConnectionStart { host, url, tls, .. } = event(CONSTRUCTED[0]) else {
            panic!("not a start");
        };
        assert_eq!(host, "tcgbusfs.blob.core.windows.net");
        assert_eq!(
            url.as_deref(),
            Some("https://tcgbusfs.blob.core.windows.net/x")
        );
        assert!(tls);
    }

    #[test]
    fn start_without_tls_flag() {
        let line = "[C3 A825042C9988472C81B2C86781FC90DE example.com:80 tcp, url hash: 1] start";
        let NetEvent::ConnectionStart { tls, port, .. } = event(line) else {
            panic!("not a start");
        };
        assert!(!tls);
        assert_eq!(port, 80);
    }

    #[test]
    fn path_plain_address() {
        let expected = NetEvent::ConnectionPath {
            connection: id("C64.1"),
            remote: "23.64.70.122:443".into(),
            state: "in_progress".into(),
        };
        assert_eq!(event(REAL[1]), expected);
    }

    #[test]
    fn path_hashed_and_redacted() {
        let cases = [
            (REAL[8], "IPv4#2fe5e49d:443", "in_progress"),
            (REAL[9], "IPv6#297a0349.443", "in_progress"),
            (REAL[10], "84.32.84.32:443", "in_progress"),
            (REAL[3], "23.64.70.122:443", "cancelled"),
            (CONSTRUCTED[2], "<private>", "in_progress"),
        ];
        for (line, expected_remote, expected_state) in cases {
            let NetEvent::ConnectionPath { remote, state, .. } = event(line) else {
                panic!("not a path: {line}");
            };
            assert_eq!(remote, expected_remote);
            assert_eq!(state, expected_state);
        }
    }

    #[test]
    fn top_level_event_is_progress() {
        let NetEvent::Progress { kind, .. } = event(REAL[7]) else {
            panic!("not progress");
        };
        assert_eq!(kind, "connection event");
    }

    #[test]
    fn summary_big_sur() {
        let expected = NetEvent::ConnectionSummary {
            connection: id("C60"),
            host: "gspe21-ssl.ls.apple.com".into(),
            port: 443,
            tls: true,
            local: Some("192.168.101.144:49442".into()),
            remote: Some("23.64.70.122:443".into()),
            tls_version: Some("TLS 1.3".into()),
            bytes_in: Some(24006),
            bytes_out: Some(1151),
            duration_ms: Some(211),
        };
        assert_eq!(event(REAL[2]), expected);
    }

    #[test]
    fn summary_high_sierra() {
        let expected = NetEvent::ConnectionSummary {
            connection: id("11"),
            host: "<private>".into(),
            port: 0,
            tls: false,
            local: Some("<private>.49154".into()),
            remote: Some("<private>".into()),
            tls_version: None,
            bytes_in: Some(818),
            bytes_out: Some(542),
            duration_ms: Some(1500),
        };
        assert_eq!(event(CONSTRUCTED[1]), expected);
    }

    #[test]
    fn summary_plain_http() {
        let NetEvent::ConnectionSummary {
            tls, tls_version, ..
        } = event(CONSTRUCTED[4])
        else {
            panic!("not a summary");
        };
        assert!(!tls);
        assert_eq!(tls_version, None);
    }

    #[test]
    fn lifecycle_progress() {
        let cases = [
            (REAL[4], "connection state"),
            (REAL[5], "socket event"),
            (REAL[6], "connection cancel"),
            (CONSTRUCTED[3], "TCP summary"),
        ];
        for (line, expected) in cases {
            let NetEvent::Progress { kind, .. } = event(line) else {
                panic!("not progress: {line}");
            };
            assert_eq!(kind, expected);
        }
    }

    #[test]
    fn coretls_status() {
        let expected = NetEvent::SecureTransportError {
            error: StreamError {
                domain: 3,
                code: -9824,
            },
            kind: "coreTLS record error",
        };
        assert_eq!(event(REAL[11]), expected);
    }

    #[test]
    fn unknown_tls_wording() {
        let line = "[C65 A825042C9988472C81B2C86781FC90DE host:443 tcp, tls] restarted";
        assert_eq!(parse_line(line), Parsed::Unknown);
    }

    #[test]
    fn activity_lines_unrelated() {
        assert_eq!(
            parse_line("Create activity <nw_activity 28:43>"),
            Parsed::Unrelated
        );
    }
}
