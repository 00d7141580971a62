//! Object sightings: one record each time a sensor saw a downloaded file
//! (an object) with its hash. The `file_sighting` record of
//! `--observations`, and what `integrity.fleet_divergence` compares.
//!
//! An object is named by its key: the normalised URL when one is known,
//! else the file name with its size and a validator (ETag or
//! Last-Modified). Without either, a sighting has no key and is written
//! but not compared, because a bare name matches unrelated files.

use std::net::IpAddr;

use serde::Serialize;

use super::time::format_rfc3339;

/// Hash algorithms, strongest first. Digests are compared only within
/// one algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HashAlgorithm {
    Sha256,
    Sha1,
    Md5,
}

impl HashAlgorithm {
    /// Returns the lower-case name, as stored and written.
    pub fn as_str(self) -> &'static str {
        match self {
            HashAlgorithm::Sha256 => "sha256",
            HashAlgorithm::Sha1 => "sha1",
            HashAlgorithm::Md5 => "md5",
        }
    }
}

/// Lower-case hex digests of one object, as far as the sensor gave them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Digests {
    pub sha256: Option<String>,
    pub sha1: Option<String>,
    pub md5: Option<String>,
}

impl Digests {
    /// Returns the digests present, strongest first.
    pub fn present(&self) -> Vec<(HashAlgorithm, &str)> {
        let all = [
            (HashAlgorithm::Sha256, &self.sha256),
            (HashAlgorithm::Sha1, &self.sha1),
            (HashAlgorithm::Md5, &self.md5),
        ];
        all.into_iter()
            .filter_map(|(algorithm, digest)| Some((algorithm, digest.as_deref()?)))
            .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.sha256.is_none() && self.sha1.is_none() && self.md5.is_none()
    }
}

/// Location of a sighting: the input and the line, row or packet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SightingSource {
    pub input: String,
    /// e.g. `line 12`, `row 3`, `packet 40`.
    pub location: String,
}

/// The network connection that carried the object, as far as a network
/// sensor logged it: the client that downloaded it and the server.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SightingConnection {
    pub client_ip: Option<IpAddr>,
    pub client_port: Option<u16>,
    pub server_ip: Option<IpAddr>,
    pub server_port: Option<u16>,
}

/// The process that wrote the file, from eslogger file events.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SightingProcess {
    pub pid: Option<u32>,
    pub path: Option<String>,
    pub signing_id: Option<String>,
    pub team_id: Option<String>,
}

/// Quarantine record of the download, as macOS wrote it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct QuarantineOrigin {
    /// The event UUID in the attribute and the database.
    pub event_id: String,
    /// `LSQuarantineAgentBundleIdentifier`, e.g. `com.apple.Safari`.
    pub agent_bundle_id: Option<String>,
    pub agent_name: Option<String>,
    /// The page that linked the download (`LSQuarantineOriginURLString`).
    pub origin_url: Option<String>,
    /// When the download was quarantined, RFC 3339.
    pub time: Option<String>,
    /// The database and row the event came from.
    pub source: Option<SightingSource>,
}

/// Names of an object besides its content: URL, file name, size, validators.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ObjectIdentity {
    pub url: Option<String>,
    pub file_name: Option<String>,
    pub size: Option<u64>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// One sighting of an object on one host.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ObjectSighting {
    /// Always `"file_sighting"`.
    #[serde(rename = "type")]
    pub record_type: &'static str,
    /// The object key compared across sightings; `None` when neither a
    /// URL nor a name with a validator is known.
    pub key: Option<String>,
    /// Normalised download URL.
    pub url: Option<String>,
    pub file_name: Option<String>,
    /// Path on the host, from endpoint sensors.
    pub path: Option<String>,
    /// The receiving host: a host name from endpoint sensors, the client
    /// address from network sensors.
    pub host: String,
    /// RFC 3339.
    pub time: String,
    #[serde(skip)]
    pub time_ns: i64,
    #[serde(flatten)]
    pub digests: Digests,
    /// Size in bytes.
    pub size: Option<u64>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub mime_type: Option<String>,
    /// `zeek`, `suricata`, `osquery` or `capture`.
    pub sensor: &'static str,
    pub source: SightingSource,
    /// The connection that carried the object, from Zeek and Suricata.
    pub connection: Option<SightingConnection>,
    pub process: Option<SightingProcess>,
    pub quarantine: Option<QuarantineOrigin>,
}

impl ObjectSighting {
    /// Creates a sighting and derives its key from `identity`.
    pub fn new(
        identity: ObjectIdentity,
        digests: Digests,
        host: String,
        time_ns: i64,
        sensor: &'static str,
        source: SightingSource,
    ) -> ObjectSighting {
        let url = identity.url.as_deref().and_then(normalize_url);
        let mut sighting = ObjectSighting {
            record_type: "file_sighting",
            key: None,
            url,
            file_name: identity.file_name,
            path: None,
            host,
            time: format_rfc3339(time_ns),
            time_ns,
            digests,
            size: identity.size,
            etag: identity.etag,
            last_modified: identity.last_modified,
            mime_type: None,
            sensor,
            source,
            connection: None,
            process: None,
            quarantine: None,
        };
        sighting.key = sighting.derive_key();
        sighting
    }

    /// Sets the URL (normalised) and derives the key again.
    pub fn set_url(&mut self, url: &str) {
        self.url = normalize_url(url);
        self.key = self.derive_key();
    }

    /// True when the key comes from a URL rather than a name.
    pub fn keyed_by_url(&self) -> bool {
        self.url.is_some()
    }

    fn derive_key(&self) -> Option<String> {
        if let Some(url) = &self.url {
            return Some(format!("url:{url}"));
        }
        let name = self.file_name.as_deref().filter(|name| !name.is_empty())?;
        let size = self.size?;
        let validator = match (&self.etag, &self.last_modified) {
            (Some(etag), _) => format!("etag:{etag}"),
            (None, Some(modified)) => format!("last-modified:{modified}"),
            (None, None) => return None,
        };
        Some(format!("name:{name}|size:{size}|{validator}"))
    }
}

/// Normalises an absolute `http` or `https` URL: scheme and host in lower
/// case, the scheme's default port and any fragment removed, an empty path
/// written as `/`. Path and query stay as sent, because servers may treat
/// their case and encoding as significant. Returns `None` for anything
/// else.
pub fn normalize_url(url: &str) -> Option<String> {
    let url = url.trim();
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => ":80",
        "https" => ":443",
        _ => return None,
    };
    let rest = rest.split('#').next().unwrap_or_default();
    let split = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, target) = rest.split_at(split);
    // User information is dropped: it is a credential, not the object.
    let authority = authority.rsplit('@').next().unwrap_or_default();
    let mut authority = authority.to_ascii_lowercase();
    if authority.ends_with(default_port) {
        authority.truncate(authority.len() - default_port.len());
    }
    if authority.is_empty() || authority.contains(char::is_whitespace) {
        return None;
    }
    let target = if target.is_empty() || target.starts_with('?') {
        format!("/{target}")
    } else {
        target.to_owned()
    };
    Some(format!("{scheme}://{authority}{target}"))
}

/// Builds the URL of a plaintext HTTP request from its Host header and
/// request target. A target that is already absolute (a proxy request) is
/// taken as it is.
pub fn http_url(host: Option<&str>, target: &str, port: Option<u16>) -> Option<String> {
    if target.starts_with("http://") || target.starts_with("https://") {
        return normalize_url(target);
    }
    let host = host?.trim();
    if host.is_empty() || !target.starts_with('/') {
        return None;
    }
    let port = match port {
        Some(port) if port != 80 && !host.contains(':') => format!(":{port}"),
        _ => String::new(),
    };
    normalize_url(&format!("http://{host}{port}{target}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_normalisation_cases() {
        let cases = [
            (
                "HTTP://Dl.Example.TEST:80/A.dmg#x",
                Some("http://dl.example.test/A.dmg"),
            ),
            (
                "https://user:pw@dl.example.test:443",
                Some("https://dl.example.test/"),
            ),
            (
                "https://dl.example.test:8443/a?b=C",
                Some("https://dl.example.test:8443/a?b=C"),
            ),
            (
                "https://dl.example.test?x",
                Some("https://dl.example.test/?x"),
            ),
            ("ftp://dl.example.test/a", None),
            ("/a.dmg", None),
            ("http:///a", None),
        ];
        for (input, expected) in cases {
            assert_eq!(normalize_url(input).as_deref(), expected, "{input}");
        }
    }

    #[test]
    fn http_url_from_parts() {
        let url = http_url(Some("Dl.Example.test"), "/a.dmg", Some(80));
        assert_eq!(url.as_deref(), Some("http://dl.example.test/a.dmg"));
        let url = http_url(Some("dl.example.test"), "/a.dmg", Some(8080));
        assert_eq!(url.as_deref(), Some("http://dl.example.test:8080/a.dmg"));
        let url = http_url(None, "http://proxy.example.test/a", Some(3128));
        assert_eq!(url.as_deref(), Some("http://proxy.example.test/a"));
        assert_eq!(http_url(None, "/a", Some(80)), None);
    }

    fn sighting(identity: ObjectIdentity) -> ObjectSighting {
        let source = SightingSource {
            input: "files.log".to_owned(),
            location: "line 1".to_owned(),
        };
        ObjectSighting::new(
            identity,
            Digests::default(),
            "h".to_owned(),
            0,
            "zeek",
            source,
        )
    }

    #[test]
    fn key_prefers_url() {
        let found = sighting(ObjectIdentity {
            url: Some("http://A.test/x".to_owned()),
            file_name: Some("x".to_owned()),
            ..ObjectIdentity::default()
        });
        assert_eq!(found.key.as_deref(), Some("url:http://a.test/x"));
    }

    #[test]
    fn key_from_name_needs_validator() {
        let mut identity = ObjectIdentity {
            file_name: Some("x.pkg".to_owned()),
            size: Some(9),
            ..ObjectIdentity::default()
        };
        assert_eq!(sighting(identity.clone()).key, None);
        identity.last_modified = Some("Tue, 01 Dec 2026 10:00:00 GMT".to_owned());
        assert_eq!(
            sighting(identity.clone()).key.as_deref(),
            Some("name:x.pkg|size:9|last-modified:Tue, 01 Dec 2026 10:00:00 GMT")
        );
        identity.etag = Some("\"v1\"".to_owned());
        assert_eq!(
            sighting(identity).key.as_deref(),
            Some("name:x.pkg|size:9|etag:\"v1\"")
        );
    }

    #[test]
    fn digests_listed_strongest_first() {
        let digests = Digests {
            sha256: None,
            sha1: Some("b".to_owned()),
            md5: Some("c".to_owned()),
        };
        let present = digests.present();
        assert_eq!(
            present,
            vec![(HashAlgorithm::Sha1, "b"), (HashAlgorithm::Md5, "c")]
        );
    }
}
