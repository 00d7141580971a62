//! Patterns a policy matches servers, hosts, processes and detection ids
//! with, each parsed once when the policy loads.

use std::fmt;
use std::net::IpAddr;

use ipnet::IpNet;

/// A server or host pattern: an exact name, a `*.` wildcard, an IP
/// address, a CIDR block, and any of these with `:port`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerPattern {
    /// The pattern as written, for messages.
    pub text: String,
    address: AddressPattern,
    port: Option<u16>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum AddressPattern {
    /// A lower-case name without its trailing dot.
    Name(String),
    /// `*.example.com`, stored as `.example.com`: one or more labels before
    /// the suffix.
    Suffix(String),
    Ip(IpAddr),
    Net(IpNet),
}

/// Server that a pattern is compared with: the name the client requested
/// (SNI or host name) and the address, as far as the telemetry gives them.
#[derive(Clone, Copy, Debug, Default)]
pub struct Target<'a> {
    pub name: Option<&'a str>,
    pub ip: Option<IpAddr>,
    pub port: Option<u16>,
}

impl ServerPattern {
    /// Parses a pattern, or returns why it is invalid.
    pub fn parse(text: &str) -> Result<ServerPattern, String> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err("the pattern is empty".to_owned());
        }
        let (address, port) = split_port(trimmed)?;
        let address = parse_address(address)?;
        Ok(ServerPattern {
            text: trimmed.to_owned(),
            address,
            port,
        })
    }

    /// True when the target's name or address matches, and its port too
    /// when the pattern names one.
    pub fn matches(&self, target: &Target<'_>) -> bool {
        if let Some(port) = self.port
            && target.port != Some(port)
        {
            return false;
        }
        match &self.address {
            AddressPattern::Name(name) => target
                .name
                .is_some_and(|candidate| normalize_name(candidate) == *name),
            AddressPattern::Suffix(suffix) => target.name.is_some_and(|candidate| {
                let candidate = normalize_name(candidate);
                candidate.len() > suffix.len() && candidate.ends_with(suffix.as_str())
            }),
            AddressPattern::Ip(ip) => target_ip(target) == Some(*ip),
            AddressPattern::Net(net) => target_ip(target).is_some_and(|ip| net.contains(&ip)),
        }
    }
}

impl fmt::Display for ServerPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Returns the target's address, or its name when the name is an address (a host
/// written as an IP, or a log that names the server by address).
fn target_ip(target: &Target<'_>) -> Option<IpAddr> {
    target
        .ip
        .or_else(|| target.name.and_then(|name| name.parse().ok()))
}

fn normalize_name(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// Splits `host:port` and `[v6]:port`; a bare IPv6 address has no port.
fn split_port(text: &str) -> Result<(&str, Option<u16>), String> {
    if let Some(rest) = text.strip_prefix('[') {
        let Some((address, after)) = rest.split_once(']') else {
            return Err("a `[` opens an IPv6 address but no `]` closes it".to_owned());
        };
        let port = match after.strip_prefix(':') {
            Some(port) => Some(parse_port(port)?),
            None if after.is_empty() => None,
            None => return Err(format!("unexpected {after:?} after the IPv6 address")),
        };
        return Ok((address, port));
    }
    if text.matches(':').count() == 1
        && let Some((address, port)) = text.split_once(':')
    {
        return Ok((address, Some(parse_port(port)?)));
    }
    Ok((text, None))
}

fn parse_port(text: &str) -> Result<u16, String> {
    match text.parse::<u16>() {
        Ok(port) if port > 0 => Ok(port),
        _ => Err(format!("{text:?} is not a port number from 1 to 65535")),
    }
}

fn parse_address(text: &str) -> Result<AddressPattern, String> {
    if text.contains('/') {
        let net = text.parse::<IpNet>().map_err(|_| {
            format!(
                "{text:?} is not a CIDR block: write an address, a slash and a prefix \
                 length of at most 32 (IPv4) or 128 (IPv6)"
            )
        })?;
        // A block with host bits set is usually a typo for a host or for
        // a wider block; ask which one was meant.
        if net.trunc() != net {
            return Err(format!(
                "{text:?} has host bits set after its /{} prefix: write the block as {} or \
                 the single address as {}",
                net.prefix_len(),
                net.trunc(),
                net.addr()
            ));
        }
        return Ok(AddressPattern::Net(net));
    }
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Ok(AddressPattern::Ip(ip));
    }
    if let Some(suffix) = text.strip_prefix("*.") {
        check_name(suffix)?;
        return Ok(AddressPattern::Suffix(format!(
            ".{}",
            normalize_name(suffix)
        )));
    }
    if text.contains('*') {
        return Err(format!(
            "{text:?} has a `*` that is not a leading `*.` label; only `*.example.com` style \
             wildcards are supported"
        ));
    }
    check_name(text)?;
    Ok(AddressPattern::Name(normalize_name(text)))
}

/// Accepts host names made of letters, digits, `-`, `_` and dots between
/// non-empty labels; `_` appears in real service names (`_dmarc`).
fn check_name(name: &str) -> Result<(), String> {
    let name = name.trim_end_matches('.');
    if name.is_empty() {
        return Err("the host name is empty".to_owned());
    }
    if name.split('.').any(str::is_empty) {
        return Err(format!("{name:?} has an empty label (two dots in a row)"));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        return Err(format!(
            "{name:?} contains {bad:?}, which no host name contains"
        ));
    }
    if name
        .split('.')
        .all(|label| label.chars().all(|c| c.is_ascii_digit()))
    {
        return Err(format!("{name:?} is neither an IP address nor a host name"));
    }
    Ok(())
}

/// A process pattern: `TEAMID:signing.id`, `platform:signing.id` or an
/// absolute executable path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProcessPattern {
    /// A team id with a signing id, or `*` for every signing id of the team.
    Team { team_id: String, signing_id: String },
    /// An Apple platform binary by signing id.
    Platform { signing_id: String },
    /// An executable path, compared exactly.
    Path(String),
}

/// A process as alerts describe it.
#[derive(Clone, Copy, Debug, Default)]
pub struct ProcessTarget<'a> {
    pub path: Option<&'a str>,
    pub signing_id: Option<&'a str>,
    pub team_id: Option<&'a str>,
}

impl ProcessPattern {
    /// Parses a pattern, or returns why it is invalid.
    pub fn parse(text: &str) -> Result<ProcessPattern, String> {
        let text = text.trim();
        if text.starts_with('/') {
            return Ok(ProcessPattern::Path(text.to_owned()));
        }
        let Some((prefix, signing_id)) = text.split_once(':') else {
            return Err(format!(
                "{text:?} is not a process pattern: write TEAMID:signing.id, \
                 platform:signing.id or an absolute executable path"
            ));
        };
        if signing_id.is_empty() {
            return Err(format!("{text:?} has no signing id after the colon"));
        }
        if prefix == "platform" {
            return Ok(ProcessPattern::Platform {
                signing_id: signing_id.to_owned(),
            });
        }
        let is_team_id = prefix.len() == 10
            && prefix
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
        if !is_team_id {
            return Err(format!(
                "{prefix:?} is not a team id: Apple team ids are 10 upper-case letters and \
                 digits, e.g. EQHXZ8M8AV:com.google.Chrome"
            ));
        }
        Ok(ProcessPattern::Team {
            team_id: prefix.to_owned(),
            signing_id: signing_id.to_owned(),
        })
    }

    /// True when the process matches.
    ///
    /// NOTE: alerts do not carry eslogger's platform-binary flag, so
    /// `platform:` matches a process with that signing id and no team id,
    /// which is how eslogger reports Apple's own binaries.
    pub fn matches(&self, process: &ProcessTarget<'_>) -> bool {
        match self {
            ProcessPattern::Team {
                team_id,
                signing_id,
            } => {
                process.team_id == Some(team_id.as_str())
                    && (signing_id == "*" || process.signing_id == Some(signing_id.as_str()))
            }
            ProcessPattern::Platform { signing_id } => {
                process.signing_id == Some(signing_id.as_str())
                    && process.team_id.is_none_or(str::is_empty)
            }
            ProcessPattern::Path(path) => process.path == Some(path.as_str()),
        }
    }
}

/// True when `id` matches `glob`, where `*` stands for any run of
/// characters, dots included.
pub fn glob_matches(glob: &str, id: &str) -> bool {
    let mut parts = glob.split('*');
    let Some(first) = parts.next() else {
        return glob == id;
    };
    let Some(mut rest) = id.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(name: &str, ip: &str, port: u16) -> Target<'static> {
        Target {
            name: Some(Box::leak(name.to_owned().into_boxed_str())),
            ip: ip.parse().ok(),
            port: Some(port),
        }
    }

    #[test]
    fn exact_name_ignores_case() {
        let pattern = ServerPattern::parse("API.example.com").unwrap();
        assert!(pattern.matches(&server("api.example.com.", "192.0.2.1", 443)));
        assert!(!pattern.matches(&server("www.example.com", "192.0.2.1", 443)));
    }

    #[test]
    fn wildcard_needs_a_label() {
        let pattern = ServerPattern::parse("*.legacy.example").unwrap();
        assert!(pattern.matches(&server("a.b.legacy.example", "192.0.2.1", 443)));
        assert!(!pattern.matches(&server("legacy.example", "192.0.2.1", 443)));
        assert!(!pattern.matches(&server("xlegacy.example", "192.0.2.1", 443)));
    }

    #[test]
    fn cidr_and_port() {
        let pattern = ServerPattern::parse("10.0.0.0/8").unwrap();
        assert!(pattern.matches(&server("x", "10.2.3.4", 443)));
        assert!(!pattern.matches(&server("x", "11.2.3.4", 443)));
        let pattern = ServerPattern::parse("mail.example:587").unwrap();
        assert!(pattern.matches(&server("mail.example", "192.0.2.1", 587)));
        assert!(!pattern.matches(&server("mail.example", "192.0.2.1", 25)));
        let pattern = ServerPattern::parse("[2001:db8::1]:443").unwrap();
        assert!(pattern.matches(&server("x", "2001:db8::1", 443)));
        let pattern = ServerPattern::parse("2001:db8::/32").unwrap();
        assert!(pattern.matches(&server("x", "2001:db8::7", 443)));
    }

    #[test]
    fn host_written_as_address() {
        let pattern = ServerPattern::parse("192.168.1.0/24").unwrap();
        let host = Target {
            name: Some("192.168.1.20"),
            ..Target::default()
        };
        assert!(pattern.matches(&host));
    }

    #[test]
    fn invalid_patterns_say_why() {
        for (text, why) in [
            ("10.0.0.0/33", "CIDR"),
            ("10.0.0.1/8", "write the block as 10.0.0.0/8"),
            ("a*b.example", "wildcard"),
            ("bad name", "contains"),
            ("host:0", "port"),
            ("", "empty"),
            ("a..b", "empty label"),
        ] {
            let err = ServerPattern::parse(text).unwrap_err();
            assert!(err.contains(why), "{text}: {err}");
        }
    }

    #[test]
    fn process_patterns() {
        let team = ProcessPattern::parse("EQHXZ8M8AV:com.google.Chrome").unwrap();
        let chrome = ProcessTarget {
            path: None,
            signing_id: Some("com.google.Chrome"),
            team_id: Some("EQHXZ8M8AV"),
        };
        assert!(team.matches(&chrome));
        let curl = ProcessPattern::parse("platform:com.apple.curl").unwrap();
        assert!(!curl.matches(&chrome));
        let apple_curl = ProcessTarget {
            path: Some("/usr/bin/curl"),
            signing_id: Some("com.apple.curl"),
            team_id: None,
        };
        assert!(curl.matches(&apple_curl));
        let path = ProcessPattern::parse("/usr/bin/curl").unwrap();
        assert!(path.matches(&apple_curl));
        assert!(ProcessPattern::parse("abc:com.x").is_err());
        assert!(ProcessPattern::parse("curl").is_err());
    }

    #[test]
    fn detection_globs() {
        assert!(glob_matches("endpoint.*", "endpoint.tls_failure"));
        assert!(glob_matches("*", "tls.stripped"));
        assert!(glob_matches("tls.*_changed", "tls.certificate_changed"));
        assert!(!glob_matches("tls.*_changed", "tls.stripped"));
        assert!(glob_matches("tls.stripped", "tls.stripped"));
        assert!(!glob_matches("tls.strip", "tls.stripped"));
    }
}
