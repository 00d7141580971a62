//! Turns the messages Apple's network stack writes to the unified log into
//! typed events: what libnetwork, its boringssl layer, CFNetwork,
//! SecureTransport, the Security framework and App Transport Security say
//! about each TLS connection. Error codes map to their names ([`codes`]).
//!
//! [`parse`] takes one message and who logged it ([`Origin`]) and returns
//! an event, [`Parsed::Unknown`] for a TLS-related message that no template
//! matches (so a new OS build's wording shows up as a count, not as silence)
//! or [`Parsed::Unrelated`]. Each producer has its own module of templates:
//! `boringssl`, `libnetwork`, `cfnetwork`, `trust` (Security framework and
//! trustd) and `ats` (App Transport Security).
//!
//! Parsing never matches on the source line numbers inside boringssl
//! function prefixes, which change with every OS build.
//!
//! A template is applied only to messages logged by its producer's library
//! when the record names the library (`senderImagePath`, or `library` in
//! `macos-unifiedlogs` output). An app can write any text to the unified
//! log through its own `os_log` calls, but not under another library's
//! image, so a copied `Connection 6: encountered error(3:-9836)` from an
//! app's own code does not become an event. Text exports without the image
//! are parsed by wording alone.
#![forbid(unsafe_code)]

mod ats;
mod boringssl;
mod cfnetwork;
pub mod codes;
mod libnetwork;
mod origin;
mod scan;
mod trust;

pub use origin::is_tls_relevant;

/// A libnetwork connection id as written in `[C64.1.1:2]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ConnectionId {
    /// The top-level connection number (`64`); CFNetwork's `Connection 64`
    /// is the same connection.
    pub number: u32,
    /// The full dotted path (`64.1.1`).
    pub path: String,
    /// The protocol instance after the colon (`2`).
    pub instance: Option<u32>,
}

/// Direction of a TLS alert as boringssl logs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlertDirection {
    /// `read alert`: received from the peer (or something in the path).
    Received,
    /// `write alert`: sent by this endpoint, rejecting what it received.
    Sent,
}

/// The negotiated cipher suite as logged: a code point in older builds,
/// an IANA name in newer ones.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoggedCipher {
    Code(u16),
    Name(String),
}

/// A CFStream error pair `[domain:code]`, e.g. `[3:-9838]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamError {
    pub domain: i32,
    pub code: i32,
}

/// One message from the network stack, parsed.
#[derive(Clone, Debug, PartialEq)]
pub enum NetEvent {
    /// boringssl `TLS configured [min_version(..) max_version(..) ...]`.
    TlsConfigured {
        connection: ConnectionId,
        min_version: u16,
        max_version: u16,
        /// `name(...)` unless `<private>`.
        server_name: Option<String>,
        enforce_ats: Option<bool>,
    },
    /// boringssl `TLS connected [...]`.
    TlsConnected {
        connection: ConnectionId,
        version: u16,
        cipher: LoggedCipher,
        group: Option<u16>,
        signature_alg: Option<u16>,
        alpn: Option<String>,
        resumed: Option<bool>,
        /// `server(1)` when this endpoint was the TLS server; only the
        /// 2025–2026 form logs it.
        server: Option<bool>,
    },
    /// boringssl `read|write alert, level: fatal|warning, description: ...`.
    Alert {
        connection: Option<ConnectionId>,
        direction: AlertDirection,
        fatal: bool,
        /// The description exactly as logged (`bad record mac`).
        description: String,
        /// Its number on the wire (20 for bad record mac), when known.
        code: Option<u8>,
    },
    /// boringssl `... Error: ...:SSL routines:OPENSSL_internal:REASON:...`.
    HandshakeError {
        connection: Option<ConnectionId>,
        /// The OpenSSL reason, e.g. `TLSV1_ALERT_PROTOCOL_VERSION`.
        reason: String,
        alert_number: Option<u8>,
    },
    /// boringssl `handshake failed at state N: not completed`.
    HandshakeFailed {
        connection: ConnectionId,
        state: Option<u32>,
    },
    /// boringssl `[boringssl_session_read] SSL_ERROR_SSL(1): ...`: a read or
    /// write on an established session failed.
    SessionError {
        connection: Option<ConnectionId>,
        /// The failing operation, e.g. `boringssl_session_read`.
        operation: String,
        /// The `SSL_get_error` name, e.g. `SSL_ERROR_SSL`.
        error: String,
    },
    /// boringssl or libnetwork lines that concern TLS and carry nothing
    /// the detections use (handshake progress, trust hand-off, SNI
    /// settings, lifecycle): recognised, counted, not otherwise used.
    Progress {
        connection: Option<ConnectionId>,
        /// The CFNetwork task the line names, normalised like
        /// [`NetEvent::TaskFailed::task`].
        task: Option<String>,
        /// What kind of line, e.g. `handshake state`.
        kind: &'static str,
    },
    /// libnetwork `[C65 <uuid> host:443 tcp, ..., tls, ...] start`.
    ConnectionStart {
        connection: ConnectionId,
        /// `<private>` when the log redacts the endpoint.
        host: String,
        /// 0 when the log redacts the endpoint with its port.
        port: u16,
        /// `tcp`, `udp` or `quic`.
        transport: String,
        tls: bool,
        url: Option<String>,
    },
    /// libnetwork sub-flow line giving the resolved remote address,
    /// `[C64.1 23.64.70.122:443 in_progress ...]`.
    /// The same comes from `nw_flow_connected`, `nw_flow_disconnected` and
    /// `nw_endpoint_flow_failed_with_error` lines.
    ConnectionPath {
        connection: ConnectionId,
        /// `ip:port`, a hashed endpoint such as `IPv4#2fe5e49d:443` or
        /// `IPv6#297a0349.443`, or `<private>`.
        remote: String,
        /// The flow state after the endpoint: `in_progress`, `cancelled`, ...
        state: String,
    },
    /// libnetwork `cancelled` summary.
    /// macOS 10.13 writes `[11 <private> stream, pid: 344] cancelled`, with
    /// no `C`, no UUID and a redacted endpoint: `host` is then `<private>`
    /// and `port` 0.
    ConnectionSummary {
        connection: ConnectionId,
        host: String,
        port: u16,
        /// The `tls` flag in the first line.
        tls: bool,
        /// `local<->remote` as logged (addresses may be hashed or private).
        local: Option<String>,
        remote: Option<String>,
        /// From `TLS 1.3 took 0.037s`: `"TLS 1.3"`.
        tls_version: Option<String>,
        bytes_in: Option<u64>,
        bytes_out: Option<u64>,
        duration_ms: Option<u64>,
    },
    /// CFNetwork `Connection N: ...` lines that report an error:
    /// `encountered error(3:-9802)`, `failed to connect 3:-9838, ...`,
    /// `TLS Trust encountered error 3:-9802`,
    /// `system TLS Trust evaluation failed(-9802)`, `TLS Trust result N`
    /// with N not 0, `received ECONNRESET ... generating errSSLClosedNoNotify`,
    /// and the older `TIC TCP Conn Failed [1:0x...]: 3:-9802 Err(-9802)`.
    /// Lines that give a bare OSStatus get domain 3 (SSL).
    ConnectionError {
        /// CFNetwork's connection number (libnetwork's `C` number).
        connection: u32,
        error: StreamError,
        /// Which of the templates above.
        kind: &'static str,
    },
    /// CFNetwork `Task <UUID>.<n> HTTP load failed, a/b bytes (error code: -1200 [3:-9838])`
    /// and `Task <...> finished with error [-1200] ...`.
    TaskFailed {
        /// `UUID.<n>` with the UUID upper case without dashes, e.g.
        /// `69684AA9BAB14D0BA5DF247EB0ED148C.<1>`.
        task: String,
        /// NSURLError code.
        url_error: i32,
        stream_error: Option<StreamError>,
        /// The peer's certificate chain subjects, when the error dump lists them.
        certificate_chain: Vec<String>,
        /// `NSErrorFailingURLKey` from the error dump.
        failing_url: Option<String>,
    },
    /// CFNetwork `Task <...> summary for task success|failure {...}`.
    TaskSummary {
        task: String,
        connection: Option<u32>,
        success: bool,
        protocol: Option<String>,
        response_status: Option<u16>,
        response_bytes: Option<u64>,
        /// `secure_connection_duration_ms`: 0 when the load did not set up
        /// TLS on a new connection.
        secure_connection_ms: Option<u64>,
    },
    /// CFNetwork `Task <...> setting up Connection N` or `done using
    /// Connection N`: ties a task to a connection.
    TaskConnection { task: String, connection: u32 },
    /// CFNetwork ATS policy line `Task <...> {strength 0, tls 4, ct 0, ...}`.
    /// Apple does not document the numbers, so they are kept as logged for
    /// comparison with a baseline.
    AtsPolicy {
        task: String,
        /// Setting name and value in log order, e.g. `("tls", 4)`.
        settings: Vec<(String, i64)>,
    },
    /// App Transport Security refused a load: the cleartext HTTP block that
    /// fails the task with NSURLError -1022, or `ATS failed system trust`.
    AtsBlocked {
        task: Option<String>,
        /// The words of the log line that give the reason.
        reason: String,
    },
    /// Security framework / trustd: `Trust evaluate failure: [leaf ...]`,
    /// `System Trust Evaluation yielded status(N)` with N not 0.
    TrustFailure {
        /// The failed checks, e.g. `MissingIntermediate`.
        reasons: Vec<String>,
        /// The same checks with the certificate each failed on.
        checks: Vec<TrustCheck>,
        status: Option<i32>,
    },
    /// An OSStatus from the older SecureTransport / coreTLS stack with no
    /// connection or task: `CFNetwork SSLHandshake failed (-9824)`,
    /// `NSURLSession/NSURLConnection HTTP load failed
    /// (kCFStreamErrorDomainSSL, -9824)`, `nw_coretls_read_one_record
    /// tls_handshake_process: [-9824]`.
    SecureTransportError {
        error: StreamError,
        /// Which of the templates above.
        kind: &'static str,
    },
}

/// One failed trust check from `Trust evaluate failure: [leaf SSLHostname]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustCheck {
    /// `leaf`, `ca1`, `ca2`, ... or `root`.
    pub certificate: String,
    /// The Security framework policy key, e.g. `SSLHostname`, `AnchorTrusted`.
    pub check: String,
}

/// What [`parse`] made of a message.
#[derive(Clone, Debug, PartialEq)]
pub enum Parsed {
    /// A message the network stack writes, recognised.
    Event(NetEvent),
    /// A message from a TLS-relevant source that matches no known template:
    /// counted as unparsed so that a new OS build's wording is noticed.
    Unknown,
    /// Not a message about network connections at all.
    Unrelated,
}

/// Who logged a message: the fields of a log record that decide which
/// templates can apply.
#[derive(Clone, Copy, Debug, Default)]
pub struct Origin<'a> {
    pub subsystem: &'a str,
    pub category: &'a str,
    /// Library that logged (`senderImagePath`).
    pub sender_image: &'a str,
    pub process_path: &'a str,
}

/// Parses one unified log message from Apple's network stack.
///
/// Pure and total: any text gives a result, never a panic.
pub fn parse(origin: &Origin<'_>, message: &str) -> Parsed {
    if let Some(event) = recognise(origin, message) {
        return Parsed::Event(event);
    }
    if is_tls_relevant(origin, message) {
        return Parsed::Unknown;
    }
    Parsed::Unrelated
}

/// A producer's template parser and the library images that log its lines.
///
/// NOTE: the image names are those of macOS 10.13 to 26 samples. A build
/// that moves a producer to another image gets no events from it: its
/// TLS-worded lines count as unknown, but the rest (sub-flow addresses,
/// task links) count as unrelated and go unnoticed.
type Producer = (fn(&str) -> Option<NetEvent>, &'static [&'static str]);

const PRODUCERS: [Producer; 5] = [
    (boringssl::parse, boringssl::LIBRARIES),
    (libnetwork::parse, libnetwork::LIBRARIES),
    (cfnetwork::parse, cfnetwork::LIBRARIES),
    (trust::parse, trust::LIBRARIES),
    (ats::parse, ats::LIBRARIES),
];

fn recognise(origin: &Origin<'_>, message: &str) -> Option<NetEvent> {
    PRODUCERS
        .iter()
        .filter(|(_, libraries)| origin.logged_by(libraries))
        .find_map(|(parse, _)| parse(message))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Collects every sample line of every producer's tests.
    fn samples() -> Vec<&'static str> {
        let groups: [&[&str]; 8] = [
            boringssl::tests::REAL,
            boringssl::tests::CONSTRUCTED,
            libnetwork::tests::REAL,
            libnetwork::tests::CONSTRUCTED,
            cfnetwork::tests::REAL,
            cfnetwork::tests::CONSTRUCTED,
            trust::tests::REAL,
            ats::tests::REAL,
        ];
        let mut all: Vec<&str> = groups.concat();
        all.extend(trust::tests::CONSTRUCTED);
        all.push(cfnetwork::tests::FINISHED_WITH_ERROR);
        all
    }

    fn origins() -> [Origin<'static>; 4] {
        [
            Origin::default(),
            Origin {
                category: "boringssl",
                ..Origin::default()
            },
            Origin {
                sender_image: "/usr/lib/libnetwork.dylib",
                ..Origin::default()
            },
            Origin {
                sender_image: "/Applications/Example.app/Contents/MacOS/Example",
                ..Origin::default()
            },
        ]
    }

    /// Outcomes of [`parse_everywhere`], to show a loop reached the parsers.
    #[derive(Default)]
    struct Outcomes {
        events: usize,
        unknown: usize,
        unrelated: usize,
    }

    /// Parses `text` under every origin; a panic fails the calling test.
    fn parse_everywhere(text: &str, outcomes: &mut Outcomes) {
        for origin in &origins() {
            let first = parse(origin, text);
            match &first {
                Parsed::Event(_) => outcomes.events += 1,
                Parsed::Unknown => outcomes.unknown += 1,
                Parsed::Unrelated => outcomes.unrelated += 1,
            }
            assert_eq!(first, parse(origin, text), "not deterministic: {text:?}");
        }
    }

    fn assert_all_outcomes(outcomes: &Outcomes) {
        assert!(outcomes.events > 0, "no input parsed to an event");
        assert!(outcomes.unknown > 0, "no input parsed as unknown");
        assert!(outcomes.unrelated > 0, "no input parsed as unrelated");
    }

    /// A small deterministic xorshift generator, so a failure reproduces.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, bound: usize) -> usize {
            (self.next() % bound.max(1) as u64) as usize
        }
    }

    /// Pieces that change how the scanners branch: delimiters, digits,
    /// signs, template words and multi-byte characters.
    const PIECES: &[&str] = &[
        "[",
        "]",
        "(",
        ")",
        "{",
        "}",
        "<",
        ">",
        ":",
        ",",
        ".",
        " ",
        "-",
        "=",
        "\"",
        "\n",
        "\t",
        "0",
        "9",
        "0x",
        "C",
        "C1.2:3",
        "<->",
        "<private>",
        "…",
        "é",
        "\u{0}",
        "TLS ",
        " alert, level: ",
        ", description: ",
        "Task <",
        ">.<",
        ":error:",
        "SSL alert number ",
        " took ",
        "s: ",
        " i: ",
        "NSErrorPeerCertificateChainKey=(",
        "bytes in/out: ",
        "Duration: ",
        "-9836",
        "3:-98",
    ];

    fn mutate(rng: &mut Rng, seed: &str, other: &str) -> String {
        let mut bytes = seed.as_bytes().to_vec();
        for _ in 0..1 + rng.below(4) {
            let at = rng.below(bytes.len() + 1);
            match rng.below(5) {
                0 => {
                    let piece = PIECES[rng.below(PIECES.len())].as_bytes();
                    bytes.splice(at..at, piece.iter().copied());
                }
                1 if at < bytes.len() => {
                    let end = (at + 1 + rng.below(8)).min(bytes.len());
                    bytes.drain(at..end);
                }
                2 if at < bytes.len() => bytes[at] = rng.next() as u8,
                3 => {
                    let from = rng.below(other.len());
                    let piece = &other.as_bytes()[from..(from + rng.below(40)).min(other.len())];
                    bytes.splice(at..at, piece.iter().copied());
                }
                _ => bytes.truncate(at),
            }
        }
        String::from_utf8_lossy(&bytes).into_owned()
    }

    #[test]
    fn cut_at_every_byte() {
        let mut outcomes = Outcomes::default();
        for sample in samples() {
            let bytes = sample.as_bytes();
            for at in 0..=bytes.len() {
                parse_everywhere(&String::from_utf8_lossy(&bytes[..at]), &mut outcomes);
                parse_everywhere(&String::from_utf8_lossy(&bytes[at..]), &mut outcomes);
            }
        }
        assert_all_outcomes(&outcomes);
    }

    #[test]
    fn random_mutations() {
        let all = samples();
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut outcomes = Outcomes::default();
        for round in 0..40_000 {
            let seed = all[round % all.len()];
            let other = all[rng.below(all.len())];
            parse_everywhere(&mutate(&mut rng, seed, other), &mut outcomes);
        }
        assert_all_outcomes(&outcomes);
    }

    #[test]
    fn random_piece_strings() {
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        let mut outcomes = Outcomes::default();
        for _ in 0..20_000 {
            let text: String = (0..rng.below(30))
                .map(|_| PIECES[rng.below(PIECES.len())])
                .collect();
            parse_everywhere(&text, &mut outcomes);
        }
        assert!(outcomes.unknown + outcomes.unrelated > 0);
    }

    #[test]
    fn long_input_no_panic() {
        let mut outcomes = Outcomes::default();
        let brackets = "[".repeat(100_000) + &"]".repeat(100_000);
        parse_everywhere(&brackets, &mut outcomes);
        let fields = format!("f(1) [C1:2][0x1] TLS connected [{}", "a(".repeat(50_000));
        parse_everywhere(&fields, &mut outcomes);
        assert_eq!(outcomes.events, 0);
    }
}
