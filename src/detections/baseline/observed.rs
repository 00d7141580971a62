//! The contribution of one session, transfer or endpoint connection to a
//! TLS profile, with the profile's key.

use wiretrust_store::{Facet, ProfileKey};

use crate::detections::Process;
use crate::observations::{
    Endpoint, EndpointConnection, HttpTransfer, StarttlsDialogue, TlsSession,
};

/// Transport of a sighting, as the profiles store it.
pub(crate) const TLS: &str = "tls";
pub(crate) const STARTTLS: &str = "starttls";
pub(crate) const PLAINTEXT: &str = "plaintext";

/// One sighting reduced to the profile's facets.
#[derive(Debug)]
pub(crate) struct Observed {
    pub key: ProfileKey,
    pub time_ns: i64,
    /// The process has a code-signing identity.
    pub signed: bool,
    /// The SNI server name, when the key's server is one.
    pub server_name: Option<String>,
    pub values: Vec<(Facet, String)>,
}

impl Observed {
    /// Returns the first value of `facet`.
    pub fn value(&self, facet: Facet) -> Option<&str> {
        self.values
            .iter()
            .find(|(kind, _)| *kind == facet)
            .map(|(_, value)| value.as_str())
    }

    /// Builds the sighting of a capture session whose process is
    /// `process` (empty when the capture names none). Returns `None` for
    /// a session that never got a ServerHello, which shows no choice.
    pub fn from_session(session: &TlsSession, process: &Process, host: &str) -> Option<Observed> {
        session.server_hello.as_ref()?;
        let key = ProfileKey {
            host: host.to_owned(),
            process: process_identity(process),
            server: server_identity(session.server_name.as_deref(), &session.server),
        };
        let mut values = Vec::new();
        let transport = if session.preamble.is_some() {
            STARTTLS
        } else {
            TLS
        };
        values.push((Facet::Transport, transport.to_owned()));
        if let Some(version) = &session.version {
            values.push((Facet::Version, version.clone()));
        }
        if let Some(cipher) = &session.cipher {
            values.push((Facet::Suite, cipher.clone()));
        }
        if let Some(alpn) = &session.alpn {
            values.push((Facet::Alpn, alpn.clone()));
        }
        if let Some(ja4) = &session.ja4 {
            values.push((Facet::Ja4, ja4.clone()));
        }
        if let Some(hello) = &session.client_hello {
            for group in &hello.groups {
                values.push((Facet::Group, group.clone()));
            }
        }
        if let Some(leaf) = session.certificates.first() {
            if let Some(spki) = &leaf.spki_sha256 {
                values.push((Facet::SpkiSha256, spki.clone()));
            }
            if let Some(issuer) = &leaf.issuer {
                values.push((Facet::Issuer, issuer.clone()));
            }
        }
        Some(Observed {
            key,
            time_ns: session.start_ns,
            signed: process.signing_id.is_some(),
            server_name: session.server_name.clone(),
            values,
        })
    }

    /// Builds the sighting of a plaintext HTTP transfer. Captures tie no
    /// process to a transfer, so the key's process is `-`.
    pub fn from_transfer(transfer: &HttpTransfer, host: &str) -> Observed {
        let server_name = transfer
            .host_name()
            .map(|name| strip_port(&name).to_ascii_lowercase());
        let key = ProfileKey {
            host: host.to_owned(),
            process: process_identity(&Process::default()),
            server: server_identity(server_name.as_deref(), &transfer.server),
        };
        Observed {
            key,
            time_ns: transfer.time_ns,
            signed: false,
            server_name,
            values: vec![(Facet::Transport, PLAINTEXT.to_owned())],
        }
    }

    /// Builds the plaintext sighting of a STARTTLS dialogue that stayed in
    /// plaintext. The key's server is the address and port, as for a
    /// session without SNI, because a dialogue carries no SNI. The
    /// greeting's host name is kept in lowercase in `server_name` for the
    /// lookup.
    pub fn from_dialogue(dialogue: &StarttlsDialogue, host: &str) -> Observed {
        let key = ProfileKey {
            host: host.to_owned(),
            process: process_identity(&Process::default()),
            server: server_identity(None, &dialogue.server),
        };
        Observed {
            key,
            time_ns: dialogue.time_ns,
            signed: false,
            server_name: dialogue.server_name.as_deref().map(str::to_ascii_lowercase),
            values: vec![(Facet::Transport, PLAINTEXT.to_owned())],
        }
    }

    /// Builds the sighting of a TLS connection an endpoint logged; `None`
    /// for one that libnetwork did not flag as TLS, or without a host name.
    /// The version is the negotiated one, else the closing summary's.
    /// `process` is the connection's process, with its code-signing
    /// identity when eslogger input gave one, so the profile is the one
    /// that the process's capture sessions fill.
    pub fn from_connection(
        connection: &EndpointConnection,
        process: &Process,
        host: &str,
    ) -> Option<Observed> {
        let version = connection
            .version
            .as_ref()
            .or(connection.summary_version.as_ref());
        if !connection.tls && version.is_none() {
            return None;
        }
        // DNS names are case-insensitive, and capture sessions key their
        // SNI name in lowercase.
        let server_name = connection
            .server_name
            .as_deref()
            .or(connection.host.as_deref())?
            .to_ascii_lowercase();
        let mut process = process.clone();
        if process.path.is_none() && !connection.process_path.is_empty() {
            process.path = Some(connection.process_path.clone());
        }
        let key = ProfileKey {
            host: host.to_owned(),
            process: process_identity(&process),
            server: server_name.clone(),
        };
        let mut values = vec![(Facet::Transport, TLS.to_owned())];
        let optional = [
            (Facet::Version, version),
            (Facet::Suite, connection.cipher.as_ref()),
            (Facet::Alpn, connection.alpn.as_ref()),
        ];
        for (facet, value) in optional {
            if let Some(value) = value {
                values.push((facet, value.clone()));
            }
        }
        if let Some(group) = &connection.group {
            values.push((Facet::Group, group_name(group)));
        }
        Some(Observed {
            key,
            time_ns: connection.start_ns,
            signed: process.signing_id.is_some(),
            server_name: Some(server_name),
            values,
        })
    }
}

/// Returns the identity a profile is keyed by: the code-signing identity
/// when known, else the executable path, else the name, else `-`.
pub(crate) fn process_identity(process: &Process) -> String {
    if let Some(signing_id) = &process.signing_id {
        let team = process.team_id.as_deref().unwrap_or("-");
        return format!("signing:{team}:{signing_id}");
    }
    if let Some(path) = &process.path {
        return format!("path:{path}");
    }
    if let Some(name) = &process.name {
        return format!("name:{name}");
    }
    "-".to_owned()
}

/// Returns the server a profile is keyed by: the server name, else the
/// address and port.
fn server_identity(server_name: Option<&str>, server: &Endpoint) -> String {
    match server_name {
        Some(name) if !name.is_empty() => name.to_ascii_lowercase(),
        _ => std::net::SocketAddr::new(server.ip, server.port).to_string(),
    }
}

/// Names a group the endpoint logged as a code point (`0x001d`) the way
/// captures name it (`x25519`), so both sources fill one profile alike.
fn group_name(logged: &str) -> String {
    let code = logged
        .strip_prefix("0x")
        .and_then(|hex| u16::from_str_radix(hex, 16).ok());
    match code {
        Some(code) => wiretrust_tls::registry::NamedGroup(code).to_string(),
        None => logged.to_owned(),
    }
}

/// Removes a `:port` suffix from an HTTP Host value; bracketed IPv6
/// literals keep their brackets.
fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host
            .split_once(']')
            .map_or(host, |(inside, _)| &host[..inside.len() + 1]);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_prefers_signing() {
        let process = Process {
            pid: Some(1),
            path: Some("/usr/bin/curl".to_owned()),
            name: Some("curl".to_owned()),
            signing_id: Some("com.apple.curl".to_owned()),
            team_id: None,
        };
        assert_eq!(process_identity(&process), "signing:-:com.apple.curl");
        let unsigned = Process {
            signing_id: None,
            ..process
        };
        assert_eq!(process_identity(&unsigned), "path:/usr/bin/curl");
        assert_eq!(process_identity(&Process::default()), "-");
    }

    #[test]
    fn logged_group_is_named() {
        assert_eq!(group_name("0x001d"), "x25519");
        assert_eq!(group_name("0x0017"), "secp256r1");
        assert_eq!(group_name("x25519"), "x25519");
    }

    #[test]
    fn host_port_is_stripped() {
        assert_eq!(strip_port("example.test:8080"), "example.test");
        assert_eq!(strip_port("example.test"), "example.test");
        assert_eq!(strip_port("[::1]:80"), "[::1]");
    }
}
