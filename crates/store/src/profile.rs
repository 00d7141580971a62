//! TLS profiles: what one process on one host used to reach one server.
//!
//! A profile is keyed by host, process identity and server, and contains
//! each value it saw per facet (versions, suites, groups, ALPN, JA4, certificate
//! SPKI and issuer, transport) with its first and last sighting and count.
//! The JSON form of [`TlsProfile`] is the line format of `baseline export`
//! and `baseline import`, so its field names are stable.

use serde::{Deserialize, Serialize};

/// Host, process identity and server of a profile.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ProfileKey {
    /// The endpoint: `--host`, else the client address of a capture or the
    /// file name of an endpoint log.
    pub host: String,
    /// `signing:TEAM:SIGNING_ID` when the code-signing identity is known,
    /// else `path:…`, `name:…`, or `-` when the telemetry names no process.
    pub process: String,
    /// The SNI server name, else `IP:port` (`[IPv6]:port`).
    pub server: String,
}

/// A kind of value a profile records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Facet {
    Version,
    Suite,
    Group,
    Alpn,
    Ja4,
    SpkiSha256,
    Issuer,
    Transport,
}

impl Facet {
    /// Every facet, in the order exports list them.
    pub const ALL: [Facet; 8] = [
        Facet::Version,
        Facet::Suite,
        Facet::Group,
        Facet::Alpn,
        Facet::Ja4,
        Facet::SpkiSha256,
        Facet::Issuer,
        Facet::Transport,
    ];

    /// Returns the name stored in the `kind` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Facet::Version => "version",
            Facet::Suite => "suite",
            Facet::Group => "group",
            Facet::Alpn => "alpn",
            Facet::Ja4 => "ja4",
            Facet::SpkiSha256 => "spki_sha256",
            Facet::Issuer => "issuer",
            Facet::Transport => "transport",
        }
    }

    /// Returns the name of the facet's list in the JSON form of a
    /// [`TlsProfile`].
    pub fn field_name(self) -> &'static str {
        match self {
            Facet::Version => "versions",
            Facet::Suite => "suites",
            Facet::Group => "groups",
            Facet::Alpn => "alpn",
            Facet::Ja4 => "ja4",
            Facet::SpkiSha256 => "spki_sha256",
            Facet::Issuer => "issuers",
            Facet::Transport => "transports",
        }
    }

    /// Parses a name written by [`Facet::as_str`].
    pub fn parse(name: &str) -> Option<Facet> {
        Facet::ALL.into_iter().find(|facet| facet.as_str() == name)
    }
}

/// One value of a facet with its sightings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seen {
    pub value: String,
    /// Nanoseconds since the Unix epoch.
    pub first_seen_ns: i64,
    /// Nanoseconds since the Unix epoch.
    pub last_seen_ns: i64,
    /// Sessions that carried the value.
    pub count: u64,
}

/// The baseline of one host, process and server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsProfile {
    #[serde(flatten)]
    pub key: ProfileKey,
    /// Nanoseconds since the Unix epoch.
    pub first_seen_ns: i64,
    /// Nanoseconds since the Unix epoch.
    pub last_seen_ns: i64,
    /// Sessions learned into the profile.
    pub sessions: u64,
    /// Negotiated protocol versions, e.g. `TLS 1.3`.
    #[serde(default)]
    pub versions: Vec<Seen>,
    /// Negotiated cipher suites by IANA name.
    #[serde(default)]
    pub suites: Vec<Seen>,
    /// Key exchange groups offered or used.
    #[serde(default)]
    pub groups: Vec<Seen>,
    /// ALPN protocols negotiated.
    #[serde(default)]
    pub alpn: Vec<Seen>,
    /// JA4 fingerprints of the ClientHello.
    #[serde(default)]
    pub ja4: Vec<Seen>,
    /// SHA-256 of the leaf certificate's SubjectPublicKeyInfo, hex.
    #[serde(default)]
    pub spki_sha256: Vec<Seen>,
    /// Issuer names of the leaf certificate (RFC 4514).
    #[serde(default)]
    pub issuers: Vec<Seen>,
    /// `tls`, `starttls` or `plaintext`.
    #[serde(default)]
    pub transports: Vec<Seen>,
}

/// Summary of one server over the profiles of every host and process:
/// the keys and issuers of its leaf certificates.
/// The store keeps it up to date with each profile written, so a
/// comparison reads one summary instead of every profile of a server that
/// thousands of hosts reach.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ServerSummary {
    pub server: String,
    /// Nanoseconds since the Unix epoch.
    pub first_seen_ns: i64,
    /// Nanoseconds since the Unix epoch.
    pub last_seen_ns: i64,
    /// Sessions learned into the server's profiles.
    pub sessions: u64,
    /// SHA-256 of the leaf certificate's SubjectPublicKeyInfo, hex.
    pub spki_sha256: Vec<Seen>,
    /// Issuer names of the leaf certificate (RFC 4514).
    pub issuers: Vec<Seen>,
}

impl ServerSummary {
    /// The facets a summary keeps.
    pub const FACETS: [Facet; 2] = [Facet::SpkiSha256, Facet::Issuer];

    /// Creates an empty summary first seen at `time_ns`.
    pub fn new(server: String, time_ns: i64) -> ServerSummary {
        ServerSummary {
            server,
            first_seen_ns: time_ns,
            last_seen_ns: time_ns,
            sessions: 0,
            spki_sha256: Vec::new(),
            issuers: Vec::new(),
        }
    }

    /// Returns the values of one of [`ServerSummary::FACETS`]; other
    /// facets are empty.
    pub fn facet(&self, facet: Facet) -> &[Seen] {
        match facet {
            Facet::SpkiSha256 => &self.spki_sha256,
            Facet::Issuer => &self.issuers,
            _ => &[],
        }
    }

    /// Counts one session at `time_ns`.
    pub fn count_session(&mut self, time_ns: i64) {
        self.sessions += 1;
        self.first_seen_ns = self.first_seen_ns.min(time_ns);
        self.last_seen_ns = self.last_seen_ns.max(time_ns);
    }

    /// Records one sighting of `value` in `facet` at `time_ns`; facets a
    /// summary does not keep are ignored.
    pub fn record(&mut self, facet: Facet, value: &str, time_ns: i64) {
        if let Some(values) = self.facet_mut(facet) {
            record_seen(values, value, time_ns);
        }
    }

    /// Adds what `profile` learned since `older`, the stored copy it
    /// replaces (`None` for a new profile): its sessions, and each key and
    /// issuer with the sightings added since.
    pub fn add_profile(&mut self, profile: &TlsProfile, older: Option<&TlsProfile>) {
        let older_sessions = older.map_or(0, |older| older.sessions);
        self.sessions = self
            .sessions
            .saturating_add(profile.sessions.saturating_sub(older_sessions));
        self.first_seen_ns = self.first_seen_ns.min(profile.first_seen_ns);
        self.last_seen_ns = self.last_seen_ns.max(profile.last_seen_ns);
        for facet in ServerSummary::FACETS {
            for seen in profile.facet(facet) {
                let before = older
                    .and_then(|older| older.find(facet, &seen.value))
                    .map_or(0, |older| older.count);
                let added = Seen {
                    count: seen.count.saturating_sub(before),
                    ..seen.clone()
                };
                if let Some(values) = self.facet_mut(facet) {
                    merge_seen(values, added);
                }
            }
        }
    }

    /// Appends a value read back from the store, as it was stored.
    pub(crate) fn push_stored(&mut self, facet: Facet, seen: Seen) {
        if let Some(values) = self.facet_mut(facet) {
            values.push(seen);
        }
    }

    fn facet_mut(&mut self, facet: Facet) -> Option<&mut Vec<Seen>> {
        match facet {
            Facet::SpkiSha256 => Some(&mut self.spki_sha256),
            Facet::Issuer => Some(&mut self.issuers),
            _ => None,
        }
    }
}

/// Selects profiles by exact host, process and server; `None` matches any.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProfileFilter {
    pub host: Option<String>,
    pub process: Option<String>,
    pub server: Option<String>,
}

impl ProfileFilter {
    /// Returns true when `key` matches every field that is set.
    pub fn matches(&self, key: &ProfileKey) -> bool {
        let field =
            |wanted: &Option<String>, value: &str| wanted.as_deref().is_none_or(|w| w == value);
        field(&self.host, &key.host)
            && field(&self.process, &key.process)
            && field(&self.server, &key.server)
    }
}

impl TlsProfile {
    /// Creates an empty profile first seen at `time_ns`.
    pub fn new(key: ProfileKey, time_ns: i64) -> TlsProfile {
        TlsProfile {
            key,
            first_seen_ns: time_ns,
            last_seen_ns: time_ns,
            sessions: 0,
            versions: Vec::new(),
            suites: Vec::new(),
            groups: Vec::new(),
            alpn: Vec::new(),
            ja4: Vec::new(),
            spki_sha256: Vec::new(),
            issuers: Vec::new(),
            transports: Vec::new(),
        }
    }

    /// Returns the values of one facet.
    pub fn facet(&self, facet: Facet) -> &[Seen] {
        match facet {
            Facet::Version => &self.versions,
            Facet::Suite => &self.suites,
            Facet::Group => &self.groups,
            Facet::Alpn => &self.alpn,
            Facet::Ja4 => &self.ja4,
            Facet::SpkiSha256 => &self.spki_sha256,
            Facet::Issuer => &self.issuers,
            Facet::Transport => &self.transports,
        }
    }

    fn facet_mut(&mut self, facet: Facet) -> &mut Vec<Seen> {
        match facet {
            Facet::Version => &mut self.versions,
            Facet::Suite => &mut self.suites,
            Facet::Group => &mut self.groups,
            Facet::Alpn => &mut self.alpn,
            Facet::Ja4 => &mut self.ja4,
            Facet::SpkiSha256 => &mut self.spki_sha256,
            Facet::Issuer => &mut self.issuers,
            Facet::Transport => &mut self.transports,
        }
    }

    /// Returns the sightings of `value` in `facet`, if it was seen.
    pub fn find(&self, facet: Facet, value: &str) -> Option<&Seen> {
        self.facet(facet).iter().find(|seen| seen.value == value)
    }

    /// Counts one session at `time_ns` without recording any value.
    pub fn count_session(&mut self, time_ns: i64) {
        self.sessions += 1;
        self.first_seen_ns = self.first_seen_ns.min(time_ns);
        self.last_seen_ns = self.last_seen_ns.max(time_ns);
    }

    /// Records one sighting of `value` in `facet` at `time_ns`.
    pub fn record(&mut self, facet: Facet, value: &str, time_ns: i64) {
        record_seen(self.facet_mut(facet), value, time_ns);
    }

    /// Merges another profile of the same key: values are united, first
    /// times take the earlier and last times the later, counts add up.
    pub fn merge(&mut self, other: TlsProfile) {
        self.first_seen_ns = self.first_seen_ns.min(other.first_seen_ns);
        self.last_seen_ns = self.last_seen_ns.max(other.last_seen_ns);
        self.sessions = self.sessions.saturating_add(other.sessions);
        let mut other = other;
        for facet in Facet::ALL {
            for seen in std::mem::take(other.facet_mut(facet)) {
                merge_seen(self.facet_mut(facet), seen);
            }
        }
    }

    /// Unites another profile of the same key: values are united, first
    /// times take the earlier and last times the later, and sessions and
    /// counts take the larger, so uniting a copy of a profile with itself
    /// leaves it unchanged.
    pub fn unite(&mut self, other: TlsProfile) {
        self.first_seen_ns = self.first_seen_ns.min(other.first_seen_ns);
        self.last_seen_ns = self.last_seen_ns.max(other.last_seen_ns);
        self.sessions = self.sessions.max(other.sessions);
        let mut other = other;
        for facet in Facet::ALL {
            let values = self.facet_mut(facet);
            for seen in std::mem::take(other.facet_mut(facet)) {
                match values.iter_mut().find(|known| known.value == seen.value) {
                    Some(known) => {
                        known.first_seen_ns = known.first_seen_ns.min(seen.first_seen_ns);
                        known.last_seen_ns = known.last_seen_ns.max(seen.last_seen_ns);
                        known.count = known.count.max(seen.count);
                    }
                    None => values.push(seen),
                }
            }
        }
    }

    /// Checks the times of the profile and of each value: none negative,
    /// and no first sighting after its last. The error names the field,
    /// such as `versions[1].first_seen_ns`.
    pub fn validate(&self) -> Result<(), String> {
        check_span("", self.first_seen_ns, self.last_seen_ns)?;
        for facet in Facet::ALL {
            for (index, seen) in self.facet(facet).iter().enumerate() {
                let field = format!("{}[{index}].", facet.field_name());
                check_span(&field, seen.first_seen_ns, seen.last_seen_ns)?;
            }
        }
        Ok(())
    }

    /// Appends a value read back from the store, as it was stored.
    pub(crate) fn push_stored(&mut self, facet: Facet, seen: Seen) {
        self.facet_mut(facet).push(seen);
    }
}

/// Checks one pair of sighting times; `prefix` leads the field names.
fn check_span(prefix: &str, first_seen_ns: i64, last_seen_ns: i64) -> Result<(), String> {
    for (name, time_ns) in [
        ("first_seen_ns", first_seen_ns),
        ("last_seen_ns", last_seen_ns),
    ] {
        if time_ns < 0 {
            return Err(format!(
                "{prefix}{name} is {time_ns}, before 1970; times are nanoseconds since the Unix \
                 epoch"
            ));
        }
    }
    if first_seen_ns > last_seen_ns {
        return Err(format!(
            "{prefix}first_seen_ns {first_seen_ns} is after {prefix}last_seen_ns {last_seen_ns}"
        ));
    }
    Ok(())
}

/// Counts one sighting of `value`, allocating only for a new value.
fn record_seen(values: &mut Vec<Seen>, value: &str, time_ns: i64) {
    match values.iter_mut().find(|known| known.value == value) {
        Some(known) => {
            known.first_seen_ns = known.first_seen_ns.min(time_ns);
            known.last_seen_ns = known.last_seen_ns.max(time_ns);
            known.count = known.count.saturating_add(1);
        }
        None => values.push(Seen {
            value: value.to_owned(),
            first_seen_ns: time_ns,
            last_seen_ns: time_ns,
            count: 1,
        }),
    }
}

fn merge_seen(values: &mut Vec<Seen>, seen: Seen) {
    match values.iter_mut().find(|known| known.value == seen.value) {
        Some(known) => {
            known.first_seen_ns = known.first_seen_ns.min(seen.first_seen_ns);
            known.last_seen_ns = known.last_seen_ns.max(seen.last_seen_ns);
            known.count = known.count.saturating_add(seen.count);
        }
        None => values.push(seen),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> ProfileKey {
        ProfileKey {
            host: "h".to_owned(),
            process: "name:curl".to_owned(),
            server: "example.test".to_owned(),
        }
    }

    #[test]
    fn record_counts_repeats() {
        let mut profile = TlsProfile::new(key(), 10);
        profile.record(Facet::Version, "TLS 1.3", 10);
        profile.record(Facet::Version, "TLS 1.3", 30);
        profile.record(Facet::Version, "TLS 1.2", 20);
        assert_eq!(profile.versions.len(), 2);
        let seen = profile.find(Facet::Version, "TLS 1.3").unwrap();
        assert_eq!(seen.count, 2);
        assert_eq!(seen.first_seen_ns, 10);
        assert_eq!(seen.last_seen_ns, 30);
    }

    #[test]
    fn merge_unites_values() {
        let mut left = TlsProfile::new(key(), 50);
        left.count_session(50);
        left.record(Facet::Ja4, "a", 50);
        let mut right = TlsProfile::new(key(), 5);
        right.count_session(5);
        right.record(Facet::Ja4, "a", 5);
        right.record(Facet::Ja4, "b", 6);
        left.merge(right);
        assert_eq!(left.sessions, 2);
        assert_eq!(left.first_seen_ns, 5);
        assert_eq!(left.ja4.len(), 2);
        assert_eq!(left.find(Facet::Ja4, "a").unwrap().count, 2);
        assert_eq!(left.find(Facet::Ja4, "a").unwrap().first_seen_ns, 5);
    }

    #[test]
    fn unite_takes_larger_counts() {
        let mut left = TlsProfile::new(key(), 50);
        left.count_session(50);
        left.count_session(60);
        left.record(Facet::Ja4, "a", 50);
        left.record(Facet::Ja4, "a", 60);
        let mut right = TlsProfile::new(key(), 5);
        right.count_session(5);
        right.record(Facet::Ja4, "a", 5);
        right.record(Facet::Ja4, "b", 6);
        let before = left.clone();
        left.unite(right.clone());
        assert_eq!(left.sessions, 2);
        assert_eq!(left.first_seen_ns, 5);
        assert_eq!(left.last_seen_ns, 60);
        let a = left.find(Facet::Ja4, "a").unwrap();
        assert_eq!((a.count, a.first_seen_ns, a.last_seen_ns), (2, 5, 60));
        assert_eq!(left.find(Facet::Ja4, "b").unwrap().count, 1);
        let once = left.clone();
        left.unite(right);
        assert_eq!(left, once);
        let mut same = before.clone();
        same.unite(before.clone());
        assert_eq!(same, before);
    }

    #[test]
    fn validate_names_bad_field() {
        let mut profile = TlsProfile::new(key(), 10);
        profile.record(Facet::Version, "TLS 1.3", 10);
        profile.record(Facet::Version, "TLS 1.2", 20);
        assert_eq!(profile.validate(), Ok(()));

        let mut reversed = profile.clone();
        reversed.versions[1].first_seen_ns = 30;
        let err = reversed.validate().unwrap_err();
        assert!(
            err.starts_with("versions[1].first_seen_ns 30 is after"),
            "{err}"
        );

        let mut negative = profile.clone();
        negative.first_seen_ns = -1;
        let err = negative.validate().unwrap_err();
        assert!(err.starts_with("first_seen_ns is -1"), "{err}");

        let mut late = profile;
        late.last_seen_ns = 5;
        let err = late.validate().unwrap_err();
        assert!(err.contains("after last_seen_ns 5"), "{err}");
    }

    #[test]
    fn seen_rejects_unknown_fields() {
        let line = r#"{"value":"a","first_seen_ns":1,"last_seen_ns":2,"count":1,"extra":0}"#;
        let err = serde_json::from_str::<Seen>(line).unwrap_err();
        assert!(err.to_string().contains("unknown field `extra`"), "{err}");
    }

    #[test]
    fn json_field_names_are_stable() {
        let mut profile = TlsProfile::new(key(), 1);
        profile.record(Facet::SpkiSha256, "ab", 1);
        let line = serde_json::to_string(&profile).unwrap();
        for field in [
            "\"host\"",
            "\"process\"",
            "\"server\"",
            "\"first_seen_ns\"",
            "\"spki_sha256\"",
            "\"transports\"",
        ] {
            assert!(line.contains(field), "{field} missing from {line}");
        }
        let back: TlsProfile = serde_json::from_str(&line).unwrap();
        assert_eq!(back, profile);
    }

    #[test]
    fn summary_adds_only_new_sightings() {
        let mut older = TlsProfile::new(key(), 10);
        older.count_session(10);
        older.record(Facet::SpkiSha256, "k1", 10);
        older.record(Facet::Version, "TLS 1.3", 10);
        let mut newer = older.clone();
        newer.count_session(20);
        newer.record(Facet::SpkiSha256, "k1", 20);
        newer.count_session(30);
        newer.record(Facet::SpkiSha256, "k2", 30);

        let mut summary = ServerSummary::new("example.test".to_owned(), 10);
        summary.add_profile(&older, None);
        summary.add_profile(&newer, Some(&older));
        assert_eq!(summary.sessions, 3);
        assert_eq!(summary.spki_sha256.len(), 2);
        assert_eq!(summary.spki_sha256[0].count, 2);
        assert_eq!(summary.spki_sha256[0].last_seen_ns, 20);
        assert_eq!(summary.spki_sha256[1].count, 1);
        assert!(summary.facet(Facet::Version).is_empty());
    }

    #[test]
    fn filter_matches_set_fields() {
        let filter = ProfileFilter {
            server: Some("example.test".to_owned()),
            ..ProfileFilter::default()
        };
        assert!(filter.matches(&key()));
        let other = ProfileFilter {
            host: Some("x".to_owned()),
            ..ProfileFilter::default()
        };
        assert!(!other.matches(&key()));
    }
}
