//! Turns policy text into a [`Policy`]: TOML syntax and types first, then
//! each value. Errors point at the value and give a fix.

use std::ops::Range;

use toml::Spanned;
use wiretrust_tls::registry::WeakClasses;

use super::error::PolicyError;
use super::file::{
    EXAMPLES, InspectionCaEntry, KEYS, PinEntry, PolicyFile, SuppressEntry, Text, TlsServerEntry,
};
use super::pattern::{ProcessPattern, ServerPattern, glob_matches};
use super::{
    CaMatch, Located, Pin, Policy, Suppression, TlsServerRule, parse_version_name, weak_class,
};
use crate::detections::{DETECTION_IDS, Severity};

/// Reads policy text, or returns the first error in it.
pub fn parse(text: &str, path: &str) -> Result<Policy, PolicyError> {
    let file: PolicyFile = toml::from_str(text).map_err(|err| syntax_error(&err, text, path))?;
    Loader { text, path }.build(file)
}

/// The text being loaded, for turning spans into lines.
struct Loader<'a> {
    text: &'a str,
    path: &'a str,
}

impl Loader<'_> {
    fn build(&self, file: PolicyFile) -> Result<Policy, PolicyError> {
        let mut policy = Policy {
            path: Some(self.path.to_owned()),
            ..Policy::default()
        };
        if let Some(since) = &file.since {
            policy.since_ns = Some(self.time(since)?);
        }
        self.tls(&file, &mut policy)?;
        self.stream(&file, &mut policy)?;
        policy.pins = file
            .pin
            .iter()
            .map(|pin| self.pin(pin))
            .collect::<Result<_, _>>()?;
        self.allow(&file, &mut policy)?;
        policy.suppressions = file
            .suppress
            .iter()
            .enumerate()
            .map(|(index, entry)| self.suppression(index, entry, policy.since_ns))
            .collect::<Result<_, _>>()?;
        self.severity(&file, &mut policy)?;
        policy.critical_assets = self.servers(&file.critical_assets)?;
        Ok(policy)
    }

    fn allow(&self, file: &PolicyFile, policy: &mut Policy) -> Result<(), PolicyError> {
        policy.legacy_services = self.servers(&file.allow.legacy_services)?;
        policy.proxies = self.servers(&file.allow.proxies)?;
        policy.inspection_cas = file
            .allow
            .inspection_cas
            .iter()
            .map(|entry| self.inspection_ca(entry))
            .collect::<Result<_, _>>()?;
        policy.processes = file
            .allow
            .processes
            .iter()
            .map(|text| self.process(text).map(|value| self.located(text, value)))
            .collect::<Result<_, _>>()?;
        Ok(())
    }

    fn severity(&self, file: &PolicyFile, policy: &mut Policy) -> Result<(), PolicyError> {
        for (id, severity) in &file.severity {
            self.detection_id(id, false)?;
            let value = Severity::parse(severity.get_ref()).ok_or_else(|| {
                self.error(
                    severity.span(),
                    format!("invalid severity {:?}", severity.get_ref()),
                    "use info, low, medium, high or critical, e.g. \"tls.weak_cipher\" = \"high\"",
                )
            })?;
            let located = self.located(id, (id.get_ref().clone(), value));
            policy.severity.push(located);
        }
        Ok(())
    }

    fn tls(&self, file: &PolicyFile, policy: &mut Policy) -> Result<(), PolicyError> {
        if let Some(floor) = &file.tls.floor {
            policy.floor = self.version(floor)?;
        }
        if let Some(classes) = &file.tls.weak_classes {
            policy.weak_classes = self.classes(classes)?;
        }
        if let Some(window) = &file.tls.fallback_window {
            policy.fallback_window_ns = self.duration(window)?;
        }
        policy.tls_servers = file
            .tls
            .server
            .iter()
            .map(|entry| self.tls_server(entry))
            .collect::<Result<_, _>>()?;
        Ok(())
    }

    fn tls_server(&self, entry: &TlsServerEntry) -> Result<TlsServerRule, PolicyError> {
        let pattern = self.server(&entry.pattern)?;
        if entry.floor.is_none() && entry.weak_classes.is_none() {
            return Err(self.error(
                entry.pattern.span(),
                "this [[tls.server]] entry sets neither floor nor weak_classes".to_owned(),
                "add floor = \"TLS1.0\" or weak_classes = [\"null\", \"export\"] below match",
            ));
        }
        Ok(TlsServerRule {
            pattern: self.located(&entry.pattern, pattern),
            floor: entry.floor.as_ref().map(|f| self.version(f)).transpose()?,
            weak_classes: entry
                .weak_classes
                .as_ref()
                .map(|c| self.classes(c))
                .transpose()?,
        })
    }

    fn stream(&self, file: &PolicyFile, policy: &mut Policy) -> Result<(), PolicyError> {
        if let Some(threshold) = &file.stream.burst_threshold {
            let value = *threshold.get_ref();
            if !(2..=1000).contains(&value) {
                return Err(self.error(
                    threshold.span(),
                    format!("burst_threshold {value} is out of range"),
                    "use a whole number from 2 to 1000, e.g. burst_threshold = 5",
                ));
            }
            policy.burst_threshold = value as usize;
        }
        if let Some(window) = &file.stream.burst_window {
            policy.burst_window_ns = self.duration(window)?;
        }
        Ok(())
    }

    fn pin(&self, entry: &PinEntry) -> Result<Pin, PolicyError> {
        let server = self.server(&entry.server)?;
        if entry.spki_sha256.is_empty() && entry.issuer.is_empty() {
            return Err(self.error(
                entry.server.span(),
                format!("the pin for {} names no key and no issuer", server.text),
                "add spki_sha256 = [\"<hex or base64 SHA-256 of the key>\"] or \
                 issuer = [\"O=Example CA\"]",
            ));
        }
        let spki_sha256 = entry
            .spki_sha256
            .iter()
            .map(|hash| self.spki(hash))
            .collect::<Result<_, _>>()?;
        let issuers = entry
            .issuer
            .iter()
            .map(|issuer| self.non_empty(issuer, "issuer"))
            .collect::<Result<_, _>>()?;
        Ok(Pin {
            server: self.located(&entry.server, server),
            spki_sha256,
            issuers,
        })
    }

    fn inspection_ca(&self, entry: &InspectionCaEntry) -> Result<Located<CaMatch>, PolicyError> {
        match (&entry.spki_sha256, &entry.issuer) {
            (Some(hash), None) => Ok(self.located(hash, CaMatch::Spki(self.spki(hash)?))),
            (None, Some(issuer)) => {
                let issuer_text = self.non_empty(issuer, "issuer")?;
                Ok(self.located(issuer, CaMatch::Issuer(issuer_text)))
            }
            (Some(hash), Some(_)) => Err(self.error(
                hash.span(),
                "an inspection_cas entry names both a key and an issuer".to_owned(),
                "write one entry per CA key or issuer: \
                 inspection_cas = [{ spki_sha256 = \"...\" }, { issuer = \"CN=Corp CA\" }]",
            )),
            (None, None) => Err(self.error(
                0..0,
                "an inspection_cas entry is empty".to_owned(),
                "write { spki_sha256 = \"...\" } or { issuer = \"CN=Corp Inspection CA\" }",
            )),
        }
    }

    fn suppression(
        &self,
        index: usize,
        entry: &SuppressEntry,
        since_ns: Option<i64>,
    ) -> Result<Suppression, PolicyError> {
        self.detection_id(&entry.detection, true)?;
        let mut from_ns = entry.from.as_ref().map(|t| self.time(t)).transpose()?;
        let mut until_ns = entry.until.as_ref().map(|t| self.time(t)).transpose()?;
        if let Some(duration) = &entry.duration {
            if until_ns.is_some() {
                return Err(self.error(
                    duration.span(),
                    "a suppression sets both `until` and `for`".to_owned(),
                    "keep one: until = \"2026-02-01T00:00:00Z\" or for = \"30d\"",
                ));
            }
            let Some(start) = from_ns.or(since_ns) else {
                return Err(self.error(
                    duration.span(),
                    "`for` counts from `from` or from the policy's `since`, and neither is set"
                        .to_owned(),
                    "add since = \"2026-01-01T00:00:00Z\" at the top of the file, before \
                     any [table]",
                ));
            };
            // The window of `for` starts at `since` when `from` is not given.
            from_ns = Some(start);
            until_ns = Some(start.saturating_add(self.duration(duration)?));
        }
        if let (Some(from), Some(until)) = (from_ns, until_ns)
            && until <= from
        {
            let span = entry.until.as_ref().or(entry.duration.as_ref());
            return Err(self.error(
                span.map_or(0..0, Spanned::span),
                "the suppression ends before it starts".to_owned(),
                "make `until` later than `from`",
            ));
        }
        let server = entry.server.as_ref().map(|s| self.server(s)).transpose()?;
        let host = entry.host.as_ref().map(|s| self.server(s)).transpose()?;
        let process = entry
            .process
            .as_ref()
            .map(|s| self.process(s))
            .transpose()?;
        Ok(Suppression {
            index,
            line: self.line(entry.detection.span()),
            detection: entry.detection.get_ref().clone(),
            server,
            host,
            process,
            from_ns,
            until_ns,
            reason: entry.reason.as_ref().map(|r| r.get_ref().clone()),
        })
    }

    fn servers(&self, texts: &[Text]) -> Result<Vec<Located<ServerPattern>>, PolicyError> {
        texts
            .iter()
            .map(|text| self.server(text).map(|value| self.located(text, value)))
            .collect()
    }

    fn server(&self, text: &Text) -> Result<ServerPattern, PolicyError> {
        ServerPattern::parse(text.get_ref()).map_err(|why| {
            self.error(
                text.span(),
                format!("invalid server pattern {:?}: {why}", text.get_ref()),
                "write an exact name (api.example.com), a wildcard (*.example.com), an IP \
                 (192.0.2.10), a CIDR block (10.0.0.0/8), or any of these with :port",
            )
        })
    }

    fn process(&self, text: &Text) -> Result<ProcessPattern, PolicyError> {
        ProcessPattern::parse(text.get_ref()).map_err(|why| {
            self.error(
                text.span(),
                format!("invalid process pattern: {why}"),
                "write TEAMID:signing.id (EQHXZ8M8AV:com.google.Chrome), \
                 platform:com.apple.curl, or an absolute path (/usr/bin/curl)",
            )
        })
    }

    fn version(
        &self,
        text: &Text,
    ) -> Result<wiretrust_tls::registry::ProtocolVersion, PolicyError> {
        parse_version_name(text.get_ref()).ok_or_else(|| {
            self.error(
                text.span(),
                format!("invalid protocol version {:?}", text.get_ref()),
                "use SSL3.0, TLS1.0, TLS1.1, TLS1.2 or TLS1.3, e.g. floor = \"TLS1.2\"",
            )
        })
    }

    fn classes(&self, texts: &[Text]) -> Result<WeakClasses, PolicyError> {
        let mut classes = WeakClasses::NONE;
        for text in texts {
            let Some(class) = weak_class(text.get_ref()) else {
                let names: Vec<&str> = WeakClasses::ALL.iter().map(|(_, name)| *name).collect();
                let hint = match closest(text.get_ref(), &names) {
                    Some(near) => format!("did you mean {near:?}? Classes: {}", names.join(", ")),
                    None => format!("use some of: {}", names.join(", ")),
                };
                return Err(self.error(
                    text.span(),
                    format!("unknown weak cipher class {:?}", text.get_ref()),
                    &hint,
                ));
            };
            classes |= class;
        }
        Ok(classes)
    }

    /// Accepts a detection id, or with `glob` a pattern that matches at
    /// least one id.
    fn detection_id(&self, text: &Text, glob: bool) -> Result<(), PolicyError> {
        let id = text.get_ref();
        if glob && id.contains('*') {
            if DETECTION_IDS.iter().any(|known| glob_matches(id, known)) {
                return Ok(());
            }
            return Err(self.error(
                text.span(),
                format!("detection pattern {id:?} matches no detection id"),
                "use a prefix such as \"endpoint.*\"; `wiretrust rules` lists the ids",
            ));
        }
        if DETECTION_IDS.contains(&id.as_str()) {
            return Ok(());
        }
        let hint = match closest(id, DETECTION_IDS) {
            Some(near) => format!("did you mean {near:?}? `wiretrust rules` lists the ids"),
            None => "`wiretrust rules` lists the ids, e.g. \"tls.weak_cipher\"".to_owned(),
        };
        Err(self.error(text.span(), format!("unknown detection id {id:?}"), &hint))
    }

    /// Accepts 64 hex digits or the base64 form of 32 bytes; returns hex.
    fn spki(&self, text: &Text) -> Result<String, PolicyError> {
        use base64::Engine as _;
        let value = text.get_ref().trim();
        let bytes = hex::decode(value)
            .ok()
            .or_else(|| base64::engine::general_purpose::STANDARD.decode(value).ok());
        match bytes {
            Some(bytes) if bytes.len() == 32 => Ok(hex::encode(bytes)),
            _ => Err(self.error(
                text.span(),
                format!("{value:?} is not a SHA-256 hash"),
                "write the SHA-256 of the DER SubjectPublicKeyInfo as 64 hex digits or 44 \
                 base64 characters, e.g. from `openssl x509 -pubkey -noout | openssl pkey \
                 -pubin -outform der | openssl dgst -sha256`",
            )),
        }
    }

    fn non_empty(&self, text: &Text, key: &str) -> Result<String, PolicyError> {
        if text.get_ref().trim().is_empty() {
            return Err(self.error(
                text.span(),
                format!("`{key}` is empty, so it would match every certificate"),
                "write part of the issuer name, e.g. \"O=Example Corp\"",
            ));
        }
        Ok(text.get_ref().clone())
    }

    fn time(&self, text: &Text) -> Result<i64, PolicyError> {
        text.get_ref()
            .parse::<jiff::Timestamp>()
            .map(|time| i64::try_from(time.as_nanosecond()).unwrap_or(i64::MAX))
            .map_err(|err| {
                self.error(
                    text.span(),
                    format!("invalid RFC 3339 time {:?}: {err}", text.get_ref()),
                    "write a time with its offset, e.g. \"2026-01-01T00:00:00Z\"",
                )
            })
    }

    /// Reads `30s`, `15m`, `12h`, `30d` or `2w` as nanoseconds.
    fn duration(&self, text: &Text) -> Result<i64, PolicyError> {
        parse_duration(text.get_ref()).ok_or_else(|| {
            self.error(
                text.span(),
                format!("invalid duration {:?}", text.get_ref()),
                "write a whole number above zero and a unit s, m, h, d or w, e.g. \"30d\"",
            )
        })
    }

    fn located<T, V>(&self, at: &Spanned<T>, value: V) -> Located<V> {
        Located {
            value,
            line: self.line(at.span()),
        }
    }

    fn line(&self, span: Range<usize>) -> usize {
        super::error::line_column(self.text, span.start).0
    }

    fn error(&self, span: Range<usize>, message: String, hint: &str) -> PolicyError {
        PolicyError::at(
            self.path,
            self.text,
            span.start,
            message,
            Some(hint.to_owned()),
        )
    }
}

/// Parses a positive duration with a unit, as nanoseconds.
pub fn parse_duration(text: &str) -> Option<i64> {
    let text = text.trim();
    let unit_at = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(unit_at);
    let number: i64 = number.parse().ok().filter(|n| *n > 0)?;
    let seconds = match unit.trim() {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return None,
    };
    number.checked_mul(seconds)?.checked_mul(1_000_000_000)
}

/// Returns the candidate nearest to `word` by edit distance, when it is
/// close enough to be a likely typo (at most a third of its length).
pub fn closest<'c>(word: &str, candidates: &[&'c str]) -> Option<&'c str> {
    let limit = (word.len() / 3).max(2);
    candidates
        .iter()
        .map(|candidate| (strsim::levenshtein(word, candidate), *candidate))
        .filter(|(distance, _)| *distance <= limit)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// Turns a TOML syntax or type error into a policy error with a fix.
fn syntax_error(err: &toml::de::Error, text: &str, path: &str) -> PolicyError {
    let offset = err.span().map_or(0, |span| span.start);
    let message = err.message().trim().to_owned();
    let hint = if let Some(field) = between_backticks(&message, "unknown field `") {
        Some(unknown_key_hint(field, &message))
    } else if message.starts_with("invalid type") || message.starts_with("missing field") {
        type_hint(&message, text, offset)
    } else {
        None
    };
    PolicyError::at(path, text, offset, message, hint)
}

fn unknown_key_hint(field: &str, message: &str) -> String {
    let expected: Vec<&str> = message
        .split_once("expected")
        .map(|(_, list)| list.split('`').skip(1).step_by(2).collect())
        .unwrap_or_default();
    let candidates: Vec<&str> = if expected.is_empty() {
        KEYS.iter()
            .flat_map(|(_, keys)| keys.iter().copied())
            .collect()
    } else {
        expected.clone()
    };
    match closest(field, &candidates) {
        Some(near) => format!("did you mean `{near}`?"),
        None if !expected.is_empty() => format!("valid keys here: {}", expected.join(", ")),
        None => "docs/policy.md lists every key".to_owned(),
    }
}

/// Names the expected type with an example of the key on the error's line
/// (or the missing key).
fn type_hint(message: &str, text: &str, offset: usize) -> Option<String> {
    let key = between_backticks(message, "missing field `")
        .map(str::to_owned)
        .or_else(|| {
            let line_start = text[..offset.min(text.len())]
                .rfind('\n')
                .map_or(0, |at| at + 1);
            let line = text[line_start..].lines().next()?;
            let (key, _) = line.split_once('=')?;
            Some(key.trim().trim_matches('"').to_owned())
        })?;
    let example = EXAMPLES.iter().find(|(name, _)| *name == key)?.1;
    Some(format!("for example:\n{example}"))
}

fn between_backticks<'m>(message: &'m str, prefix: &str) -> Option<&'m str> {
    let rest = &message[message.find(prefix)? + prefix.len()..];
    rest.split('`').next()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30s"), Some(30_000_000_000));
        assert_eq!(parse_duration("2w"), Some(14 * 86_400_000_000_000));
        assert_eq!(parse_duration("30"), None);
        assert_eq!(parse_duration("0d"), None);
        assert_eq!(parse_duration("3y"), None);
        assert_eq!(parse_duration("d"), None);
    }

    #[test]
    fn closest_finds_typos() {
        assert_eq!(closest("flor", &["floor", "server"]), Some("floor"));
        assert_eq!(closest("zzzzzz", &["floor", "server"]), None);
    }
}
