//! `integrity.fleet_divergence`: the same object arrives with different
//! content on different hosts, or on one host at different times.
//!
//! Every object digest seen is kept in the store with its first sighting.
//! A sighting alerts when its key already has a digest of the same
//! algorithm and this digest is new for the key. Because the new digest is
//! stored at once, a repeat of it raises nothing: one alert per key and
//! new digest, across runs when the store is a file.

use std::path::PathBuf;

use wiretrust_store::{ObjectDigest, Store, StoreError};

use super::shared_store::SharedStore;

use super::alert::{Alert, Confidence, Destination, Evidence, FileRef, Flow, Process, Severity};
use super::rule::Rule;
use crate::observations::{Endpoint, HashAlgorithm, ObjectSighting, format_rfc3339};

pub const RULE: Rule = Rule {
    id: "integrity.fleet_divergence",
    default_severity: Severity::High,
    summary: "The same download has different content on different hosts or at different times",
    meaning: "Sensors (Zeek files.log, Suricata fileinfo, osquery hash rows) saw one object, \
        named by its URL or by file name, size and ETag or Last-Modified, with two different \
        hashes of the same algorithm. Content served to one host but not another, or changed \
        under an unchanged validator, is how a tampering proxy, a compromised mirror or a \
        targeted substitution shows. Evidence names the first sighting of the earlier digest and \
        the new one. Confidence is high for URL keys and medium for name keys.",
    false_positives: "URLs that serve changing content on purpose (a `latest` link, a nightly \
        build, per-user generated files), and servers that keep the ETag when the file changes.",
    tuning: "Prefer sensors that log the URL, so objects are keyed by URL. A re-scan of the \
        same evidence with the default store raises nothing, because its hashes are already \
        known. Run with --no-store to judge one run alone, or --store with another file to \
        compare afresh. Delete the store file to forget what earlier runs saw.",
};

/// Location of the object digests kept between sightings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum StoreLocation {
    /// In memory, for this run only (`--no-store`).
    #[default]
    Memory,
    /// A SQLite file, opened at the first sighting.
    File(PathBuf),
}

/// The detection's state: the store, opened at the first sighting so runs
/// without object sightings never touch the store file.
pub struct FleetDivergence {
    store: SharedStore,
}

impl FleetDivergence {
    /// Creates the detection over the store at `location`.
    pub fn new(location: StoreLocation) -> FleetDivergence {
        FleetDivergence {
            store: SharedStore::new(location),
        }
    }

    /// Creates the detection over an open store.
    pub fn with_store(store: Box<dyn Store>) -> FleetDivergence {
        FleetDivergence {
            store: SharedStore::with_store(store),
        }
    }

    /// Creates the detection over a store shared with other detections.
    pub fn with_shared(store: SharedStore) -> FleetDivergence {
        FleetDivergence { store }
    }

    /// Judges one sighting against every earlier digest of its object and
    /// records its digests. Sightings without a key or digest are ignored.
    pub fn check(
        &mut self,
        sighting: &ObjectSighting,
        out: &mut Vec<Alert>,
    ) -> Result<(), StoreError> {
        let Some(key) = sighting.key.as_deref() else {
            return Ok(());
        };
        let present = sighting.digests.present();
        if present.is_empty() {
            return Ok(());
        }
        self.store.with(|store| {
            let mut raised = false;
            for &(algorithm, digest) in &present {
                let known = store.object_digests(key, algorithm.as_str())?;
                if raised || known.iter().any(|earlier| earlier.digest == digest) {
                    continue;
                }
                // Only a differing digest seen on another host or at another
                // time counts: two digests in one report would be a sensor fault.
                let earlier = known.iter().find(|earlier| {
                    earlier.host != sighting.host || earlier.time_ns != sighting.time_ns
                });
                if let Some(earlier) = earlier {
                    out.push(alert(sighting, algorithm, digest, earlier));
                    raised = true;
                }
            }
            for &(algorithm, digest) in &present {
                store.record_object_digest(&stored(sighting, key, algorithm, digest))?;
            }
            Ok(())
        })
    }

    /// Makes the digests recorded so far durable.
    pub fn commit(&mut self) -> Result<(), StoreError> {
        self.store.commit()
    }
}

fn stored(
    sighting: &ObjectSighting,
    key: &str,
    algorithm: HashAlgorithm,
    digest: &str,
) -> ObjectDigest {
    ObjectDigest {
        key: key.to_owned(),
        algorithm: algorithm.as_str().to_owned(),
        digest: digest.to_owned(),
        host: sighting.host.clone(),
        time_ns: sighting.time_ns,
        input: sighting.source.input.clone(),
        location: sighting.source.location.clone(),
        size: sighting.size,
    }
}

fn alert(
    sighting: &ObjectSighting,
    algorithm: HashAlgorithm,
    digest: &str,
    earlier: &ObjectDigest,
) -> Alert {
    let object = sighting
        .url
        .clone()
        .or_else(|| sighting.file_name.clone())
        .unwrap_or_else(|| earlier.key.clone());
    let algorithm_name = algorithm.as_str();
    let title = format!(
        "{object} arrived on {} with {algorithm_name} {} but on {} with {}",
        sighting.host,
        short(digest),
        earlier.host,
        short(&earlier.digest)
    );
    let confidence = if sighting.keyed_by_url() {
        Confidence::High
    } else {
        Confidence::Medium
    };
    let file = sighting
        .path
        .clone()
        .or_else(|| sighting.file_name.clone())
        .map(|path| FileRef {
            path,
            sha256: sighting.digests.sha256.clone(),
        });
    let earlier_time = format_rfc3339(earlier.time_ns);
    let mut alert = Alert::new(
        RULE.id,
        RULE.default_severity,
        confidence,
        title,
        sighting.time_ns,
    );
    alert.host = sighting.host.clone();
    alert.process = process(sighting);
    alert.source = client_endpoint(sighting);
    alert.destination = Destination {
        ip: sighting.connection.and_then(|c| c.server_ip),
        port: sighting.connection.and_then(|c| c.server_port),
        server_name: sighting.url.as_deref().and_then(url_host),
    };
    alert.flow = Flow {
        url: sighting.url.clone(),
        bytes: sighting.size,
        file,
    };
    alert.evidence = vec![
        Evidence {
            input: earlier.input.clone(),
            location: earlier.location.clone(),
            field: algorithm_name.to_owned(),
            value: format!("{} on {} at {earlier_time}", earlier.digest, earlier.host),
        },
        Evidence {
            input: sighting.source.input.clone(),
            location: sighting.source.location.clone(),
            field: algorithm_name.to_owned(),
            value: format!("{digest} on {} at {}", sighting.host, sighting.time),
        },
    ];
    alert.session.input = sighting.source.input.clone();
    alert.compare("object", earlier.key.clone());
    alert.compare("algorithm", algorithm_name);
    alert.compare("earlier_digest", earlier.digest.clone());
    alert.compare("earlier_host", earlier.host.clone());
    alert.compare("earlier_time", earlier_time);
    alert.compare("digest", digest);
    alert.refresh_missing();
    alert
}

/// Returns the client of the connection that carried the object, when the
/// sensor logged both its address and its port.
fn client_endpoint(sighting: &ObjectSighting) -> Option<Endpoint> {
    let connection = sighting.connection?;
    Some(Endpoint {
        ip: connection.client_ip?,
        port: connection.client_port?,
    })
}

fn process(sighting: &ObjectSighting) -> Process {
    let Some(process) = &sighting.process else {
        return Process::default();
    };
    Process {
        pid: process.pid,
        name: process
            .path
            .as_deref()
            .and_then(|path| path.rsplit('/').next())
            .map(str::to_owned),
        path: process.path.clone(),
        signing_id: process.signing_id.clone(),
        team_id: process.team_id.clone(),
    }
}

/// Returns the first 16 hex digits, enough to tell digests apart in a title.
fn short(digest: &str) -> String {
    match digest.get(..16) {
        Some(prefix) if digest.len() > 16 => format!("{prefix}…"),
        _ => digest.to_owned(),
    }
}

/// Returns the host of a normalised URL, without its port.
fn url_host(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?']).next()?;
    let host = match authority.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next()?,
        None => authority.split(':').next()?,
    };
    (!host.is_empty()).then(|| host.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observations::{Digests, ObjectIdentity, SightingSource};

    const A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    fn sighting(host: &str, time_ns: i64, sha256: &str, line: u64) -> ObjectSighting {
        let identity = ObjectIdentity {
            url: Some("http://dl.example.test/a.dmg".to_owned()),
            file_name: Some("a.dmg".to_owned()),
            size: Some(42),
            ..ObjectIdentity::default()
        };
        let digests = Digests {
            sha256: Some(sha256.to_owned()),
            ..Digests::default()
        };
        let source = SightingSource {
            input: "files.log".to_owned(),
            location: format!("line {line}"),
        };
        ObjectSighting::new(identity, digests, host.to_owned(), time_ns, "zeek", source)
    }

    fn run(sightings: &[ObjectSighting]) -> Vec<Alert> {
        let mut detection = FleetDivergence::new(StoreLocation::Memory);
        let mut out = Vec::new();
        for sighting in sightings {
            detection.check(sighting, &mut out).unwrap();
        }
        out
    }

    #[test]
    fn different_hash_on_other_host_alerts() {
        let alerts = run(&[sighting("h1", 1, A, 1), sighting("h2", 2, B, 2)]);
        assert_eq!(alerts.len(), 1);
        let alert = &alerts[0];
        assert_eq!(alert.detection, "integrity.fleet_divergence");
        assert_eq!(alert.severity, Severity::High);
        assert_eq!(alert.confidence, Confidence::High);
        assert_eq!(alert.host, "h2");
        assert_eq!(
            alert.flow.url.as_deref(),
            Some("http://dl.example.test/a.dmg")
        );
        assert_eq!(alert.flow.file.as_ref().unwrap().sha256.as_deref(), Some(B));
        assert_eq!(
            alert.destination.server_name.as_deref(),
            Some("dl.example.test")
        );
        assert_eq!(alert.evidence.len(), 2);
        assert_eq!(alert.evidence[0].location, "line 1");
        assert!(alert.evidence[0].value.starts_with(A));
        assert_eq!(alert.evidence[1].location, "line 2");
    }

    #[test]
    fn same_hash_does_not_alert() {
        let alerts = run(&[sighting("h1", 1, A, 1), sighting("h2", 2, A, 2)]);
        assert!(alerts.is_empty());
    }

    #[test]
    fn repeat_of_new_hash_alerts_once() {
        let alerts = run(&[
            sighting("h1", 1, A, 1),
            sighting("h2", 2, B, 2),
            sighting("h3", 3, B, 3),
        ]);
        assert_eq!(alerts.len(), 1);
    }

    #[test]
    fn same_host_and_time_does_not_alert() {
        let alerts = run(&[sighting("h1", 1, A, 1), sighting("h1", 1, B, 2)]);
        assert!(alerts.is_empty());
    }

    #[test]
    fn other_algorithms_are_not_compared() {
        let mut md5_only = sighting("h2", 2, A, 2);
        md5_only.digests = Digests {
            md5: Some("cccccccccccccccccccccccccccccccc".to_owned()),
            ..Digests::default()
        };
        let alerts = run(&[sighting("h1", 1, A, 1), md5_only]);
        assert!(alerts.is_empty());
    }

    #[test]
    fn unkeyed_sighting_is_ignored() {
        let mut first = sighting("h1", 1, A, 1);
        let mut second = sighting("h2", 2, B, 2);
        first.key = None;
        second.key = None;
        assert!(run(&[first, second]).is_empty());
    }

    #[test]
    fn url_host_strips_port() {
        assert_eq!(url_host("http://a.test:8080/x").as_deref(), Some("a.test"));
        assert_eq!(url_host("http://[::1]:80/").as_deref(), Some("::1"));
    }
}
