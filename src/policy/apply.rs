//! The policy applied to each alert after the detections: allowlists,
//! suppressions, severity overrides, inspection CAs and critical assets.

use std::sync::Arc;

use serde::Serialize;

use super::pattern::{ProcessTarget, Target};
use super::{CaMatch, Located, Policy, ServerPattern};
use crate::detections::{Alert, Severity};
use crate::observations::CertificateRecord;

/// Detections the `legacy_services` and `processes` allowlists exempt.
const LEGACY_EXEMPT: &[&str] = &["tls.version_below_floor", "tls.weak_cipher"];

/// Certificate findings that become info for inspection CAs and proxies.
const CERTIFICATE_FINDINGS: &[&str] = &["tls.certificate_changed", "tls.certificate_name_mismatch"];

/// The policy entry that suppressed an alert, written as the alert's
/// `suppressed_by` key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SuppressedBy {
    /// `suppress`, `allow.legacy_services` or `allow.processes`.
    pub section: &'static str,
    /// Position of the entry in its section, from 0.
    pub index: usize,
    /// Line of the entry in the policy file.
    pub line: usize,
    pub reason: String,
}

/// Decision of the policy about one alert.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PolicyOutcome {
    /// Written to the sinks and counted.
    Kept,
    /// Counted as suppressed; written only with `--show-suppressed`.
    Suppressed(SuppressedBy),
}

impl Policy {
    /// Applies the policy to `alert`: adjusts its severity (noting why in
    /// `alert.policy`) and decides whether it is suppressed, in which case
    /// `alert.suppressed_by` is set too. `certificates` is the server chain
    /// of the session behind the alert, leaf first, when there is one.
    pub fn apply(
        &self,
        alert: &mut Alert,
        certificates: &[Arc<CertificateRecord>],
    ) -> PolicyOutcome {
        self.override_severity(alert);
        self.lower_inspected(alert, certificates);
        self.raise_critical(alert);
        let suppressed = self.allowlisted(alert).or_else(|| self.suppression(alert));
        match suppressed {
            Some(by) => {
                alert.suppressed_by = Some(by.clone());
                PolicyOutcome::Suppressed(by)
            }
            None => PolicyOutcome::Kept,
        }
    }

    fn override_severity(&self, alert: &mut Alert) {
        let Some(entry) = self.severity.iter().find(|e| e.value.0 == alert.detection) else {
            return;
        };
        let severity = entry.value.1;
        if severity != alert.severity {
            let note = format!(
                "severity set from {} to {severity} by [severity] at {}",
                alert.severity,
                self.place(entry.line)
            );
            alert.severity = severity;
            alert.policy.push(note);
        }
    }

    /// Lowers certificate findings to info when the chain comes from an
    /// allowed inspection CA or the session goes to an allowed proxy.
    fn lower_inspected(&self, alert: &mut Alert, certificates: &[Arc<CertificateRecord>]) {
        if !CERTIFICATE_FINDINGS.contains(&alert.detection) || alert.severity == Severity::Info {
            return;
        }
        let because = if let Some(ca) = self.inspection_ca(certificates) {
            format!(
                "the chain comes from the inspection CA at {}",
                self.place(ca.line)
            )
        } else if let Some(proxy) = first_match(&self.proxies, &server_target(alert)) {
            format!(
                "the server matches the proxy {} at {}",
                proxy.value,
                self.place(proxy.line)
            )
        } else {
            return;
        };
        alert.policy.push(format!(
            "severity lowered from {} to info: {because}",
            alert.severity
        ));
        alert.severity = Severity::Info;
    }

    fn inspection_ca(&self, certificates: &[Arc<CertificateRecord>]) -> Option<&Located<CaMatch>> {
        self.inspection_cas.iter().find(|ca| {
            certificates.iter().any(|certificate| match &ca.value {
                CaMatch::Spki(hash) => certificate.spki_sha256.as_deref() == Some(hash.as_str()),
                CaMatch::Issuer(issuer) => certificate
                    .issuer
                    .as_deref()
                    .is_some_and(|name| name.contains(issuer.as_str())),
            })
        })
    }

    /// Raises the alert one step, never above critical, when its server or
    /// host is a critical asset.
    fn raise_critical(&self, alert: &mut Alert) {
        let server = server_target(alert);
        let host = Target {
            name: Some(alert.host.as_str()),
            ..Target::default()
        };
        let asset = first_match(&self.critical_assets, &server)
            .or_else(|| first_match(&self.critical_assets, &host));
        let Some(asset) = asset else {
            return;
        };
        let raised = raise(alert.severity);
        let note = if raised == alert.severity {
            format!(
                "critical asset {} at {}; already critical",
                asset.value,
                self.place(asset.line)
            )
        } else {
            format!(
                "severity raised from {} to {raised}: critical asset {} at {}",
                alert.severity,
                asset.value,
                self.place(asset.line)
            )
        };
        alert.severity = raised;
        alert.policy.push(note);
    }

    fn allowlisted(&self, alert: &Alert) -> Option<SuppressedBy> {
        if !LEGACY_EXEMPT.contains(&alert.detection) {
            return None;
        }
        let server = server_target(alert);
        if let Some((index, service)) = self
            .legacy_services
            .iter()
            .enumerate()
            .find(|(_, service)| service.value.matches(&server))
        {
            return Some(SuppressedBy {
                section: "allow.legacy_services",
                index,
                line: service.line,
                reason: format!("legacy service {}", service.value),
            });
        }
        let process = process_target(alert);
        let (index, entry) = self
            .processes
            .iter()
            .enumerate()
            .find(|(_, entry)| entry.value.matches(&process))?;
        Some(SuppressedBy {
            section: "allow.processes",
            index,
            line: entry.line,
            reason: "allowlisted process".to_owned(),
        })
    }

    fn suppression(&self, alert: &Alert) -> Option<SuppressedBy> {
        let server = server_target(alert);
        let host = Target {
            name: Some(alert.host.as_str()),
            ..Target::default()
        };
        let process = process_target(alert);
        let entry = self.suppressions.iter().find(|entry| {
            super::glob_matches(&entry.detection, alert.detection)
                && entry.server.as_ref().is_none_or(|p| p.matches(&server))
                && entry.host.as_ref().is_none_or(|p| p.matches(&host))
                && entry.process.as_ref().is_none_or(|p| p.matches(&process))
                && entry.from_ns.is_none_or(|from| alert.time_ns >= from)
                && entry.until_ns.is_none_or(|until| alert.time_ns < until)
        })?;
        let reason = entry
            .reason
            .clone()
            .unwrap_or_else(|| format!("suppression of {}", entry.detection));
        Some(SuppressedBy {
            section: "suppress",
            index: entry.index,
            line: entry.line,
            reason,
        })
    }

    /// `file:line` of an entry, or `the built-in policy`.
    fn place(&self, line: usize) -> String {
        match &self.path {
            Some(path) => format!("{path}:{line}"),
            None => "the built-in policy".to_owned(),
        }
    }
}

fn first_match<'p>(
    patterns: &'p [Located<ServerPattern>],
    target: &Target<'_>,
) -> Option<&'p Located<ServerPattern>> {
    patterns
        .iter()
        .find(|pattern| pattern.value.matches(target))
}

fn server_target(alert: &Alert) -> Target<'_> {
    Target {
        name: alert.destination.server_name.as_deref(),
        ip: alert.destination.ip,
        port: alert.destination.port,
    }
}

fn process_target(alert: &Alert) -> ProcessTarget<'_> {
    ProcessTarget {
        path: alert.process.path.as_deref(),
        signing_id: alert.process.signing_id.as_deref(),
        team_id: alert.process.team_id.as_deref(),
    }
}

/// Raises a severity one step, never above critical.
fn raise(severity: Severity) -> Severity {
    match severity {
        Severity::Info => Severity::Low,
        Severity::Low => Severity::Medium,
        Severity::Medium => Severity::High,
        Severity::High | Severity::Critical => Severity::Critical,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detections::{Confidence, Destination};

    fn alert(detection: &'static str, severity: Severity) -> Alert {
        let mut alert = Alert::new(
            detection,
            severity,
            Confidence::High,
            "test".to_owned(),
            1_796_342_400_000_000_000,
        );
        alert.host = "mac-1.corp.example".to_owned();
        alert.process.signing_id = Some("com.apple.curl".to_owned());
        alert.destination = Destination {
            ip: "203.0.113.5".parse().ok(),
            port: Some(443),
            server_name: Some("printer.legacy.example".to_owned()),
        };
        alert.session.input = "test".to_owned();
        alert
    }

    fn policy(text: &str) -> Policy {
        Policy::parse(text, "p.toml").expect("test policy parses")
    }

    #[test]
    fn default_policy_keeps_everything() {
        let mut kept = alert("tls.weak_cipher", Severity::Medium);
        assert_eq!(Policy::default().apply(&mut kept, &[]), PolicyOutcome::Kept);
        assert_eq!(kept.severity, Severity::Medium);
        assert!(kept.policy.is_empty());
    }

    #[test]
    fn legacy_service_exempts_only_floor_and_cipher() {
        let policy = policy("[allow]\nlegacy_services = [\"*.legacy.example\"]\n");
        let mut weak = alert("tls.weak_cipher", Severity::Medium);
        let PolicyOutcome::Suppressed(by) = policy.apply(&mut weak, &[]) else {
            panic!("a legacy service's weak cipher is suppressed");
        };
        assert_eq!(by.section, "allow.legacy_services");
        assert_eq!(by.line, 2);
        let mut tamper = alert("stream.record_tamper", Severity::High);
        assert_eq!(policy.apply(&mut tamper, &[]), PolicyOutcome::Kept);
    }

    #[test]
    fn platform_process_matches_without_team() {
        let policy = policy("[allow]\nprocesses = [\"platform:com.apple.curl\"]\n");
        let mut curl = alert("tls.version_below_floor", Severity::Medium);
        assert!(matches!(
            policy.apply(&mut curl, &[]),
            PolicyOutcome::Suppressed(_)
        ));
        let mut signed = alert("tls.version_below_floor", Severity::Medium);
        signed.process.team_id = Some("EQHXZ8M8AV".to_owned());
        assert_eq!(policy.apply(&mut signed, &[]), PolicyOutcome::Kept);
    }

    #[test]
    fn suppression_needs_every_key() {
        let text = "[[suppress]]\ndetection = \"endpoint.*\"\nhost = \"*.corp.example\"\n\
                    process = \"platform:com.apple.curl\"\n";
        let policy = policy(text);
        let mut matching = alert("endpoint.tls_failure", Severity::Medium);
        assert!(matches!(
            policy.apply(&mut matching, &[]),
            PolicyOutcome::Suppressed(_)
        ));
        assert!(matching.suppressed_by.is_some());
        let mut other_host = alert("endpoint.tls_failure", Severity::Medium);
        other_host.host = "mac-2.home.example".to_owned();
        assert_eq!(policy.apply(&mut other_host, &[]), PolicyOutcome::Kept);
        let mut other_detection = alert("tls.weak_cipher", Severity::Medium);
        assert_eq!(policy.apply(&mut other_detection, &[]), PolicyOutcome::Kept);
    }

    #[test]
    fn critical_never_exceeds_critical() {
        let policy = policy("critical_assets = [\"203.0.113.0/24\"]\n");
        let mut high = alert("stream.record_tamper", Severity::High);
        policy.apply(&mut high, &[]);
        assert_eq!(high.severity, Severity::Critical);
        let mut critical = alert("stream.record_tamper", Severity::Critical);
        policy.apply(&mut critical, &[]);
        assert_eq!(critical.severity, Severity::Critical);
        assert!(critical.policy[0].contains("already critical"));
    }

    #[test]
    fn host_can_be_critical_asset() {
        let policy = policy("critical_assets = [\"mac-1.corp.example\"]\n");
        let mut low = alert("endpoint.ats_blocked", Severity::Low);
        policy.apply(&mut low, &[]);
        assert_eq!(low.severity, Severity::Medium);
    }

    #[test]
    fn inspection_ca_by_key() {
        let hash = "15a563041bc672006969fbbdcd68d4e37fc01dfd252d080ace0454a2c2d5c192";
        let policy = policy(&format!(
            "[allow]\ninspection_cas = [{{ spki_sha256 = \"{hash}\" }}]\n"
        ));
        let ca = CertificateRecord {
            sha256: String::new(),
            subject: Some("CN=Intercepting Proxy CA".to_owned()),
            issuer: Some("CN=Intercepting Proxy CA".to_owned()),
            dns_names: Vec::new(),
            not_before: None,
            not_after: None,
            key_type: None,
            key_bits: None,
            spki_sha256: Some(hash.to_owned()),
            self_issued: true,
            parse_error: None,
        };
        let chain = [Arc::new(ca)];
        let mut changed = alert("tls.certificate_changed", Severity::High);
        policy.apply(&mut changed, &chain);
        assert_eq!(changed.severity, Severity::Info);
        let mut without_chain = alert("tls.certificate_changed", Severity::High);
        policy.apply(&mut without_chain, &[]);
        assert_eq!(without_chain.severity, Severity::High);
    }
}
