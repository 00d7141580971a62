//! The baseline detections: each compares one sighting with the profiles
//! loaded for it and names the baseline entry in its evidence.

use wiretrust_store::{Facet, Seen, ServerSummary, TlsProfile};

use super::cache::ProfileCache;
use super::observed::{Observed, PLAINTEXT, STARTTLS, TLS};
use super::rank::{SuiteClass, version_rank};
use crate::detections::version_floor::destination_label;
use crate::detections::{Alert, Confidence, Evidence, Process, Rule, Severity};
use crate::observations::{
    EndpointConnection, HttpTransfer, StarttlsDialogue, TlsSession, format_rfc3339,
};

pub const DOWNGRADE: Rule = Rule {
    id: "tls.baseline_downgrade",
    default_severity: Severity::High,
    summary: "A version or cipher suite below what this process used to this server before",
    meaning: "The store's profile for this host, process and server lists every version and \
              suite seen before. The alert is raised when the negotiated version ranks below \
              the lowest version of the profile, or the suite's class (weak, then legacy \
              without AEAD or forward secrecy, then AEAD with forward secrecy) is below the \
              lowest class of the profile. A man in the middle that forces an older protocol \
              or cipher shows this way, also when the result is still above the policy floor. \
              Evidence: the ServerHello packet and the profile entry with its first sighting \
              and count. Endpoint logs are compared per connection when its record is \
              complete (libnetwork's `cancelled` line or the end of the input), and the \
              evidence quotes the `TLS connected` line and the closing summary line that gave \
              the version or suite, with file and line. A session that raises a baseline alert above info is not learned, \
              so the alert repeats until the profile is reset.",
    false_positives: "A server whose configuration was weakened, or a load balancer whose \
                      members differ; a client update that lowered its own maximum.",
    tuning: "`wiretrust baseline forget --server NAME` resets a server whose change is \
             legitimate; --learning-period lowers alerts of new hosts to info; --no-learn \
             compares without adding to the baseline.",
};

pub const CLIENT_HELLO_CHANGED: Rule = Rule {
    id: "tls.client_hello_changed",
    default_severity: Severity::Medium,
    summary: "A signed process's ClientHello fingerprint (JA4) differs from its baseline",
    meaning: "A process with a code-signing identity sends the same ClientHello for as long \
              as its TLS library and settings stay the same. The alert is raised at medium \
              when its JA4 is not among those of its profile for this server or, when it has \
              no JA4 for this server, differs from the single JA4 it has used to every server. \
              Another JA4 means another TLS stack in that process: injected code, a proxy \
              library, or a different binary behind the same identity. A session that raises \
              it at medium is not learned, so the alert repeats. A process without a signing \
              identity (known only by path or name, or a capture that names no process, \
              profile process `-`) is compared with its profile for this server only, and the \
              alert is info with low confidence: several programs may share that profile. \
              That session is learned, so the first sighting of a new JA4 is reported once and \
              later sessions with it raise nothing.",
    false_positives: "An update of the program or of the system's TLS library; a program \
                      that uses two TLS stacks for one server. Without a signing identity, a \
                      second program on the same host that reaches the same server (reported \
                      once, at info).",
    tuning: "After an update of a signed program, `wiretrust baseline forget --process ID` \
             lets the new fingerprint be learned, because sessions that raise it at medium \
             are not learned. The info alert of a process without a signing identity needs \
             no reset. --learning-period lowers alerts of new hosts to info.",
};

/// One rule id with the policy's pins: see [`crate::detections::certificate_changed`].
pub(crate) use crate::detections::certificate_changed::RULE as CERTIFICATE_CHANGED;

/// Runs the session detections. `out[..own]` contains the alerts the other
/// detections raised for the session, and `store` names the store in
/// evidence. Returns true when a certificate change above info was added to
/// the policy pin's alert in `out[..own]` in place of an alert of its own.
pub(crate) fn check_session(
    session: &TlsSession,
    observed: &Observed,
    cache: &mut ProfileCache,
    store: &str,
    own: usize,
    out: &mut Vec<Alert>,
) -> bool {
    if let Some(profile) = cache.get(&observed.key) {
        check_downgrade(session, observed, profile, store, out);
    }
    check_client_hello(session, observed, cache, store, out);
    check_certificate(session, observed, cache, store, own, out)
}

/// Raises `tls.baseline_downgrade` when the version, else the suite, is
/// below every one the profile holds.
fn check_downgrade(
    session: &TlsSession,
    observed: &Observed,
    profile: &TlsProfile,
    store: &str,
    out: &mut Vec<Alert>,
) {
    let Some(downgrade) = find_downgrade(observed, profile) else {
        return;
    };
    let packet = session
        .server_hello
        .as_ref()
        .map_or(0, |hello| hello.packet);
    let title = downgrade.title(&destination_label(session), profile);
    let mut alert = start(session, DOWNGRADE, Confidence::High, title);
    downgrade.describe(&mut alert, profile, store);
    let field = match downgrade {
        Downgrade::Version(_) => "server_hello.version",
        Downgrade::Suite { .. } => "server_hello.cipher",
    };
    alert.evidence.push(Evidence::at_packet(
        session,
        packet,
        field,
        downgrade.value().to_owned(),
    ));
    out.push(alert);
}

/// Raises `tls.baseline_downgrade` for a finished endpoint connection
/// whose version, else suite, is below every one the profile holds. The
/// evidence quotes the log lines that gave the value: the `TLS connected`
/// line and, for a version, the closing summary line that names it too.
pub(crate) fn check_connection(
    connection: &EndpointConnection,
    process: &Process,
    observed: &Observed,
    cache: &mut ProfileCache,
    store: &str,
    out: &mut Vec<Alert>,
) {
    let Some(profile) = cache.get(&observed.key) else {
        return;
    };
    let Some(downgrade) = find_downgrade(observed, profile) else {
        return;
    };
    let lines = match downgrade {
        Downgrade::Version(_) => [
            connection
                .version
                .as_ref()
                .and(connection.connected_line.as_ref())
                .map(|line| (line, "tls_connected.version")),
            connection
                .summary_line
                .as_ref()
                .map(|line| (line, "summary.tls_version")),
        ],
        Downgrade::Suite { .. } => [
            connection
                .connected_line
                .as_ref()
                .map(|line| (line, "tls_connected.ciphersuite")),
            None,
        ],
    };
    let title = downgrade.title(&connection_label(connection), profile);
    let mut alert = Alert::for_connection(
        connection,
        process,
        DOWNGRADE.id,
        DOWNGRADE.default_severity,
        Confidence::High,
        title,
    );
    downgrade.describe(&mut alert, profile, store);
    for (line, field) in lines.into_iter().flatten() {
        alert.evidence.push(Evidence {
            input: connection.input.clone(),
            location: line.location.clone(),
            field: field.to_owned(),
            value: crate::detections::quote(&line.message),
        });
    }
    out.push(alert);
}

/// `name:port` of an endpoint connection for titles, else its connection
/// number.
fn connection_label(connection: &EndpointConnection) -> String {
    let name = connection
        .server_name
        .as_deref()
        .or(connection.host.as_deref());
    match (name, connection.port) {
        (Some(name), Some(port)) => format!("{name}:{port}"),
        (Some(name), None) => name.to_owned(),
        (None, _) => format!("connection {}", connection.connection),
    }
}

/// A version or suite below every one of a profile.
#[derive(Clone, Copy, Debug)]
enum Downgrade<'a> {
    Version(&'a str),
    Suite {
        suite: &'a str,
        class: SuiteClass,
        lowest: SuiteClass,
    },
}

impl Downgrade<'_> {
    fn value(&self) -> &str {
        match self {
            Downgrade::Version(version) => version,
            Downgrade::Suite { suite, .. } => suite,
        }
    }

    fn title(&self, destination: &str, profile: &TlsProfile) -> String {
        match self {
            Downgrade::Version(version) => format!(
                "Version downgrade with {destination}: {version}, below the baseline's {}",
                values(&profile.versions)
            ),
            Downgrade::Suite {
                suite,
                class,
                lowest,
            } => format!(
                "Cipher downgrade with {destination}: {suite} ({}), below the baseline's {}",
                class.as_str(),
                lowest.as_str()
            ),
        }
    }

    /// Adds the profile entry and, for a suite, both classes to the alert.
    fn describe(&self, alert: &mut Alert, profile: &TlsProfile, store: &str) {
        match self {
            Downgrade::Version(_) => {
                describe_profile(alert, profile, "versions", &profile.versions, store);
            }
            Downgrade::Suite { class, lowest, .. } => {
                describe_profile(alert, profile, "suites", &profile.suites, store);
                alert.compare("suite_class", class.as_str());
                alert.compare("baseline_lowest_class", lowest.as_str());
            }
        }
    }
}

/// Returns the sighting's version when it ranks below the profile's lowest
/// version, else its suite when the suite's class is below the profile's
/// lowest class.
fn find_downgrade<'a>(observed: &'a Observed, profile: &TlsProfile) -> Option<Downgrade<'a>> {
    // A value the profile already contains cannot be below its lowest, and
    // that check is a short scan, while ranking walks the registries.
    if let Some(version) = observed.value(Facet::Version)
        && profile.find(Facet::Version, version).is_none()
        && let Some(rank) = version_rank(version)
    {
        let lowest = profile
            .versions
            .iter()
            .filter_map(|seen| version_rank(&seen.value))
            .min();
        if lowest.is_some_and(|lowest| rank < lowest) {
            return Some(Downgrade::Version(version));
        }
    }
    let suite = observed.value(Facet::Suite)?;
    if profile.find(Facet::Suite, suite).is_some() {
        return None;
    }
    let class = SuiteClass::of(suite)?;
    let lowest = profile
        .suites
        .iter()
        .filter_map(|seen| SuiteClass::of(&seen.value))
        .min()?;
    (class < lowest).then_some(Downgrade::Suite {
        suite,
        class,
        lowest,
    })
}

/// Raises `tls.client_hello_changed` when the JA4 is new for the server
/// (at info for a process without a signing identity), or new for a signed
/// process that has only ever used one.
fn check_client_hello(
    session: &TlsSession,
    observed: &Observed,
    cache: &mut ProfileCache,
    store: &str,
    out: &mut Vec<Alert>,
) {
    let Some(ja4) = observed.value(Facet::Ja4) else {
        return;
    };
    // Only a code-signing identity ties the profile to one program. A
    // profile keyed by path, name or `-` may mix programs, so its alert is
    // info. The session is then learned, and the next one stays quiet.
    let (severity, confidence) = if observed.signed {
        (Severity::Medium, Confidence::Medium)
    } else {
        (Severity::Info, Confidence::Low)
    };
    let packet = session
        .client_hello
        .as_ref()
        .map_or(0, |hello| hello.packet);
    let own = cache
        .get(&observed.key)
        .filter(|profile| !profile.ja4.is_empty());
    if let Some(profile) = own {
        if profile.find(Facet::Ja4, ja4).is_some() {
            return;
        }
        let title = format!(
            "ClientHello to {} changed: JA4 {ja4} instead of {}",
            destination_label(session),
            values(&profile.ja4)
        );
        let mut alert = start(session, CLIENT_HELLO_CHANGED, confidence, title);
        alert.severity = severity;
        describe_profile(&mut alert, profile, "ja4", &profile.ja4, store);
        alert.evidence.push(Evidence::at_packet(
            session,
            packet,
            "client_hello.ja4",
            ja4.to_owned(),
        ));
        out.push(alert);
        return;
    }
    if !observed.signed {
        return;
    }
    let profiles = cache.for_process(&observed.key.host, &observed.key.process);
    let mut used: Vec<(&TlsProfile, &Seen)> = Vec::new();
    for profile in profiles {
        for seen in &profile.ja4 {
            if !used.iter().any(|(_, known)| known.value == seen.value) {
                used.push((profile, seen));
            }
        }
    }
    let [(profile, only)] = used.as_slice() else {
        return;
    };
    if only.value == ja4 {
        return;
    }
    let title = format!(
        "ClientHello to {} changed: JA4 {ja4}, while this process used only {} to every server",
        destination_label(session),
        only.value
    );
    let mut alert = start(session, CLIENT_HELLO_CHANGED, confidence, title);
    describe_profile(
        &mut alert,
        profile,
        "ja4",
        std::slice::from_ref(only),
        store,
    );
    alert.compare("baseline_scope", "every server of the process");
    alert.evidence.push(Evidence::at_packet(
        session,
        packet,
        "client_hello.ja4",
        ja4.to_owned(),
    ));
    out.push(alert);
}

/// Raises `tls.certificate_changed` when the leaf's key or issuer is new
/// for the server name across every loaded profile of that name. When a
/// policy pin already raised it for the session in `out[..own]`, the
/// previous key and issuer are added to that alert instead, so the session
/// has one alert of this id. Returns true when it added a change above info
/// to the pin's alert.
fn check_certificate(
    session: &TlsSession,
    observed: &Observed,
    cache: &ProfileCache,
    store: &str,
    own: usize,
    out: &mut Vec<Alert>,
) -> bool {
    if observed.server_name.is_none() {
        return false;
    }
    let spki = observed.value(Facet::SpkiSha256);
    let issuer = observed.value(Facet::Issuer);
    if spki.is_none() && issuer.is_none() {
        return false;
    }
    let Some(index) = cache.server_index(&observed.key.server) else {
        return false;
    };
    let new_spki = spki.filter(|spki| !index.keys.is_empty() && !index.keys.contains(*spki));
    let new_issuer =
        issuer.filter(|issuer| !index.issuers.is_empty() && !index.issuers.contains(*issuer));
    if new_spki.is_none() && new_issuer.is_none() {
        return false;
    }
    let Some(summary) = cache.server_summary(&observed.key.server) else {
        return false;
    };
    // Only a change looks for the previous values.
    let latest = |facet: Facet| {
        summary
            .facet(facet)
            .iter()
            .max_by_key(|seen| seen.last_seen_ns)
    };
    let previous_spki = latest(Facet::SpkiSha256);
    let previous_issuer = latest(Facet::Issuer);
    // A new key under an issuer seen before for this name is a rotation.
    let rotation = new_issuer.is_none() && issuer.is_some();
    let severity = if rotation {
        Severity::Info
    } else {
        CERTIFICATE_CHANGED.default_severity
    };
    let change = match (new_spki, new_issuer) {
        (Some(_), Some(issuer)) => format!("new key from new issuer {issuer}"),
        (Some(_), None) => "new key from a known issuer".to_owned(),
        (None, _) => format!("new issuer {}", issuer.unwrap_or("?")),
    };
    let previous = [previous_spki, previous_issuer];

    let pinned = out[..own]
        .iter_mut()
        .find(|alert| alert.detection == CERTIFICATE_CHANGED.id);
    if let Some(alert) = pinned {
        alert.compare("baseline_change", change);
        alert.compare("rotation_to_known_issuer", rotation);
        add_previous_certificate(alert, summary, previous, store);
        return severity > Severity::Info;
    }

    let title = format!(
        "Certificate of {} changed: {change}",
        destination_label(session)
    );
    let mut alert = start(session, CERTIFICATE_CHANGED, Confidence::High, title);
    alert.severity = severity;
    alert.compare("rotation_to_known_issuer", rotation);
    add_previous_certificate(&mut alert, summary, previous, store);
    add_certificate_evidence(&mut alert, session, spki, issuer);
    out.push(alert);
    false
}

/// Adds the previous key and issuer of the server name, from its summary
/// over every host and process, to a `tls.certificate_changed` alert.
fn add_previous_certificate(
    alert: &mut Alert,
    summary: &ServerSummary,
    [previous_spki, previous_issuer]: [Option<&Seen>; 2],
    store: &str,
) {
    alert.compare("baseline_server", summary.server.as_str());
    alert.compare("baseline_first_seen", format_rfc3339(summary.first_seen_ns));
    alert.compare("baseline_sessions", summary.sessions);
    let location = format!("server summary server={}", summary.server);
    for (field, previous) in [("spki_sha256", previous_spki), ("issuers", previous_issuer)] {
        if let Some(seen) = previous {
            alert.compare(&format!("baseline_{field}"), seen.value.as_str());
            alert.evidence.push(Evidence {
                input: store.to_owned(),
                location: location.clone(),
                field: format!("baseline.{field}"),
                value: seen_values(std::slice::from_ref(seen)),
            });
        }
    }
}

/// Adds the new session's leaf key and issuer to a
/// `tls.certificate_changed` alert.
fn add_certificate_evidence(
    alert: &mut Alert,
    session: &TlsSession,
    spki: Option<&str>,
    issuer: Option<&str>,
) {
    let packet = session.certificate_packet.unwrap_or(0);
    if let Some(spki) = spki {
        alert.evidence.push(Evidence::at_packet(
            session,
            packet,
            "certificate.spki_sha256",
            spki.to_owned(),
        ));
    }
    if let Some(issuer) = issuer {
        alert.evidence.push(Evidence::at_packet(
            session,
            packet,
            "certificate.issuer",
            issuer.to_owned(),
        ));
    }
}

/// Raises `tls.stripped` for plaintext HTTP to a server this host reached
/// only over TLS before. Redirects are left out: a plain request that is
/// sent on to https is how most sites upgrade, not stripping.
pub(crate) fn check_transfer(
    transfer: &HttpTransfer,
    observed: &Observed,
    cache: &ProfileCache,
    store: &str,
    out: &mut Vec<Alert>,
) {
    if transfer.method.as_deref() == Some("CONNECT")
        || transfer
            .status
            .is_some_and(|status| (300..400).contains(&status))
    {
        return;
    }
    let Some(profile) = profile_over_tls(cache, &observed.key.server, &observed.key.host) else {
        return;
    };
    let title = format!(
        "Plaintext HTTP to {}, which this host reached over TLS in {}",
        observed.key.server,
        earlier_sessions(profile.sessions)
    );
    let rule = crate::detections::tls_stripped::RULE;
    let mut alert = Alert::for_transfer(
        transfer,
        rule.id,
        rule.default_severity,
        Confidence::Medium,
        title,
        Some(&observed.key.host),
    );
    describe_profile(
        &mut alert,
        profile,
        "transports",
        &profile.transports,
        store,
    );
    if let Some(packet) = transfer.request_packet {
        let url = transfer.url.clone().unwrap_or_default();
        alert.evidence.push(Evidence::at_transfer_packet(
            transfer,
            packet,
            "http.request",
            url,
        ));
    }
    out.push(alert);
}

/// Returns the profile of `host` with the most sessions to `server` when
/// that host reached the server only over TLS or STARTTLS before, and
/// `None` when it also reached it in plaintext or never reached it.
fn profile_over_tls<'a>(
    cache: &'a ProfileCache,
    server: &str,
    host: &str,
) -> Option<&'a TlsProfile> {
    let index = cache.server_index(server)?;
    if index.plaintext_hosts.contains(host) || !index.tls_hosts.contains(host) {
        return None;
    }
    cache
        .for_server(server)
        .into_iter()
        .filter(|profile| profile.key.host == host)
        .filter(|profile| {
            profile.find(Facet::Transport, TLS).is_some()
                || profile.find(Facet::Transport, STARTTLS).is_some()
        })
        .max_by_key(|profile| profile.sessions)
}

/// Returns the profile of `host` to the server name `name` with the most
/// STARTTLS sessions, with that count, when the host reached the name over
/// STARTTLS and never in plaintext in that profile.
fn profile_over_starttls<'a>(
    cache: &'a ProfileCache,
    name: &str,
    host: &str,
) -> Option<(&'a TlsProfile, u64)> {
    cache
        .for_server(name)
        .into_iter()
        .filter(|profile| profile.key.host == host)
        .filter(|profile| profile.find(Facet::Transport, PLAINTEXT).is_none())
        .filter_map(|profile| {
            let starttls = profile.find(Facet::Transport, STARTTLS)?;
            Some((profile, starttls.count))
        })
        .max_by_key(|(_, sessions)| *sessions)
}

/// Outcome of comparing a STARTTLS dialogue that stayed in plaintext with
/// the baseline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DialogueVerdict {
    /// No profile shows that this host reached the server only over TLS
    /// or STARTTLS before.
    NoBaseline,
    /// The profile was added to the `tls.stripped` alert that the dialogue
    /// detection raised for the same dialogue.
    AddedToAlert,
    /// A new `tls.stripped` alert was raised, the last one in `out`.
    Raised,
}

/// Evidence lines of the dialogue quoted by a new alert at most.
const MAX_DIALOGUE_EVIDENCE: usize = 6;

/// Raises `tls.stripped` for a STARTTLS dialogue that stayed in plaintext
/// to a server that this host reached only over TLS or STARTTLS before.
/// The server is looked up by address and port, where TLS or STARTTLS
/// counts, and by the greeting's host name, where only STARTTLS counts. A
/// name covers every port of a host, so TLS to it (such as HTTPS) shows
/// nothing about the mail or chat port. When `out[own..]` already
/// contains the dialogue detection's `tls.stripped` alert, the profile is
/// added to that alert, whose confidence rises to at least medium, so one
/// dialogue raises one alert.
///
/// NOTE: a session keyed by its SNI name matches only when the dialogue's
/// greeting names the same host, which SMTP and XMPP greetings may do and
/// IMAP, POP3 and FTP greetings do not, because profiles keep no address.
pub(crate) fn check_dialogue(
    dialogue: &StarttlsDialogue,
    observed: &Observed,
    cache: &ProfileCache,
    store: &str,
    own: usize,
    out: &mut Vec<Alert>,
) -> DialogueVerdict {
    let host = observed.key.host.as_str();
    let address = observed.key.server.as_str();
    // Plaintext dialogues are learned by address and port, so plaintext to
    // this address before means the baseline shows no change. Plaintext to
    // the name comes from HTTP and shows nothing about this port.
    let reached_in_plaintext = cache
        .server_index(address)
        .is_some_and(|index| index.plaintext_hosts.contains(host));
    if reached_in_plaintext {
        return DialogueVerdict::NoBaseline;
    }

    let by_address = profile_over_tls(cache, address, host)
        .map(|profile| (profile, profile.sessions, values(&profile.transports)));
    let by_name = observed
        .server_name
        .as_deref()
        .and_then(|name| profile_over_starttls(cache, name, host))
        .map(|(profile, sessions)| (profile, sessions, STARTTLS.to_owned()));
    let Some((profile, sessions, transports)) = by_address
        .into_iter()
        .chain(by_name)
        .max_by_key(|(_, sessions, _)| *sessions)
    else {
        return DialogueVerdict::NoBaseline;
    };

    let rule = crate::detections::tls_stripped::RULE;
    if let Some(alert) = out[own..]
        .iter_mut()
        .find(|alert| alert.detection == rule.id)
    {
        alert.confidence = alert.confidence.max(Confidence::Medium);
        describe_profile(alert, profile, "transports", &profile.transports, store);
        return DialogueVerdict::AddedToAlert;
    }

    let title = format!(
        "{} server {} in plaintext, which this host reached over {} in {}",
        dialogue.protocol.to_ascii_uppercase(),
        observed.key.server,
        transports.to_ascii_uppercase(),
        earlier_sessions(sessions)
    );
    let mut alert = Alert::for_dialogue(
        dialogue,
        rule.id,
        rule.default_severity,
        Confidence::Medium,
        title,
        Some(host),
    );
    alert.compare("protocol", dialogue.protocol);
    alert.compare("starttls_offered", dialogue.offered);
    alert.compare("starttls_requested", dialogue.requested.is_some());
    describe_profile(
        &mut alert,
        profile,
        "transports",
        &profile.transports,
        store,
    );

    let greeting = dialogue.greeting.iter().map(|line| ("greeting", line));
    let findings = dialogue.findings.iter().flat_map(|finding| {
        finding
            .evidence
            .iter()
            .map(move |line| (finding.kind, line))
    });
    for (kind, line) in greeting.chain(findings).take(MAX_DIALOGUE_EVIDENCE) {
        let evidence = crate::detections::tls_stripped::dialogue_evidence(dialogue, kind, line);
        alert.evidence.push(evidence);
    }
    out.push(alert);
    DialogueVerdict::Raised
}

fn start(session: &TlsSession, rule: Rule, confidence: Confidence, title: String) -> Alert {
    Alert::for_session(
        session,
        rule.id,
        rule.default_severity,
        confidence,
        title,
        None,
    )
}

/// Adds the profile's identity and the values it contained to the alert.
fn describe_profile(
    alert: &mut Alert,
    profile: &TlsProfile,
    field: &str,
    seen_values: &[Seen],
    store: &str,
) {
    alert.host.clone_from(&profile.key.host);
    alert.compare("baseline_process", profile.key.process.as_str());
    alert.compare("baseline_server", profile.key.server.as_str());
    alert.compare("baseline_first_seen", format_rfc3339(profile.first_seen_ns));
    alert.compare("baseline_sessions", profile.sessions);
    alert.compare(&format!("baseline_{field}"), values(seen_values));
    alert
        .evidence
        .push(baseline_evidence(profile, field, seen_values, store));
}

/// Evidence naming a baseline entry in `store`: the profile and each value
/// with its first sighting and count.
fn baseline_evidence(profile: &TlsProfile, field: &str, values: &[Seen], store: &str) -> Evidence {
    let value = seen_values(values);
    Evidence {
        input: store.to_owned(),
        location: format!(
            "profile host={} process={} server={}",
            profile.key.host, profile.key.process, profile.key.server
        ),
        field: format!("baseline.{field}"),
        value,
    }
}

/// Lists values with their first sighting and count.
fn seen_values(values: &[Seen]) -> String {
    values
        .iter()
        .map(|seen| {
            format!(
                "{} (first seen {}, {})",
                seen.value,
                format_rfc3339(seen.first_seen_ns),
                sessions(seen.count)
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn values(seen_values: &[Seen]) -> String {
    seen_values
        .iter()
        .map(|seen| seen.value.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Returns `1 session` or `N sessions`.
fn sessions(count: u64) -> String {
    if count == 1 {
        "1 session".to_owned()
    } else {
        format!("{count} sessions")
    }
}

/// Returns `1 earlier session` or `N earlier sessions` for alert titles.
fn earlier_sessions(count: u64) -> String {
    if count == 1 {
        "1 earlier session".to_owned()
    } else {
        format!("{count} earlier sessions")
    }
}
