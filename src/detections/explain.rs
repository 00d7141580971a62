//! The text `wiretrust rules explain ID` prints for every detection id the
//! product defines: meaning, evidence fields, false positives, the policy
//! keys that tune it and its ATT&CK mapping.
//!
//! Ids that [`super::RULES`] implements take their meaning and false
//! positives from their [`super::Rule`], and the table below contains the rest.

use super::alert::Severity;

/// Every detection id of the product, with its default severity. Alerts,
/// policy files and suppressions use these ids; a policy may name an id
/// that this build does not raise yet.
pub const DETECTION_IDS: &[&str] = &[
    "tls.version_below_floor",
    "tls.downgrade_sentinel",
    "tls.fallback_retry",
    "tls.weak_cipher",
    "tls.baseline_downgrade",
    "tls.client_hello_changed",
    "tls.certificate_changed",
    "tls.certificate_name_mismatch",
    "tls.stripped",
    "stream.record_tamper",
    "stream.alert_burst",
    "stream.malformed",
    "endpoint.tls_failure",
    "endpoint.ats_blocked",
    "integrity.digest_mismatch",
    "integrity.length_mismatch",
    "integrity.manifest_mismatch",
    "integrity.fleet_divergence",
];

/// The explanation of one detection id.
#[derive(Clone, Copy, Debug)]
pub struct Explanation {
    pub id: &'static str,
    pub default_severity: Severity,
    /// Meaning, for ids without a [`super::Rule`] in this build.
    pub meaning: &'static str,
    /// Alert keys and evidence fields that carry the finding.
    pub evidence: &'static str,
    /// Legitimate traffic that raises it, for ids without a Rule.
    pub false_positives: &'static str,
    /// Policy keys that change whether or how it is raised.
    pub tuning: &'static str,
    /// ATT&CK techniques beside T1565.002 (DET0254, AN0704).
    pub attack: &'static str,
}

/// Policy keys every detection honours.
const COMMON_TUNING: &str = "[[suppress]] detection = \"<id>\" with server, host, process and \
                             from/until/for; [severity] \"<id>\" = \"<level>\"; critical_assets.";

const T1565: &str = "T1565.002 Transmitted Data Manipulation";
const T1565_AITM: &str = "T1565.002 Transmitted Data Manipulation; T1557 Adversary-in-the-Middle";

/// One entry per id of [`DETECTION_IDS`], in the same order.
pub const EXPLANATIONS: &[Explanation] = &[
    Explanation {
        id: "tls.version_below_floor",
        default_severity: Severity::Medium,
        meaning: "",
        evidence: "tls.version, tls.compared.floor, tls.compared.negotiated_version; evidence \
                   server_hello.version and client_hello.max_version with packet numbers",
        false_positives: "",
        tuning: "[tls] floor; [[tls.server]] match + floor; allow.legacy_services; \
                 allow.processes; --min-version overrides the policy floor.",
        attack: T1565_AITM,
    },
    Explanation {
        id: "tls.downgrade_sentinel",
        default_severity: Severity::High,
        meaning: "",
        evidence: "server_hello.random (the sentinel bytes), client_hello.max_version, \
                   tls.version",
        false_positives: "",
        tuning: "No policy key of its own: a middlebox that rewrites the ClientHello is the \
                 attack pattern itself.",
        attack: T1565_AITM,
    },
    Explanation {
        id: "tls.fallback_retry",
        default_severity: Severity::Low,
        meaning: "",
        evidence: "the failed attempt and the retry with their packet numbers and versions, \
                   TLS_FALLBACK_SCSV in client_hello.cipher_suites, inappropriate_fallback \
                   alerts",
        false_positives: "",
        tuning: "[tls] fallback_window (default \"30s\").",
        attack: T1565_AITM,
    },
    Explanation {
        id: "tls.weak_cipher",
        default_severity: Severity::Medium,
        meaning: "",
        evidence: "tls.cipher, tls.compared.weak_classes, tls.compared.client_offered_strong; \
                   evidence server_hello.cipher",
        false_positives: "",
        tuning: "[tls] weak_classes; [[tls.server]] match + weak_classes; \
                 allow.legacy_services; allow.processes.",
        attack: T1565_AITM,
    },
    Explanation {
        id: "tls.baseline_downgrade",
        default_severity: Severity::High,
        meaning: "The version or cipher suite negotiated by a process with a server is below \
                  what the baseline store recorded for the same host, process and server.",
        evidence: "tls.version, tls.cipher, the ServerHello packet or the endpoint log's \
                   `TLS connected` and summary lines, and the baseline's version and suite in \
                   tls.compared",
        false_positives: "A server that was really reconfigured to an older stack, or a \
                          baseline learned from too little traffic.",
        tuning: "[tls] floor for the absolute floor; baselines are reviewed and reset with \
                 the baseline store.",
        attack: T1565_AITM,
    },
    Explanation {
        id: "tls.client_hello_changed",
        default_severity: Severity::Medium,
        meaning: "A signed process's ClientHello fingerprint (JA4) differs from its baseline \
                  or from what the endpoint log recorded for the same connection. A process \
                  without a signing identity raises it at info with low confidence.",
        evidence: "ja4 of the session, the baseline or endpoint fingerprint, process \
                   signing_id and team_id",
        false_positives: "Application and operating-system updates that change the TLS \
                          library or its defaults.",
        tuning: "allow.processes for processes whose fingerprint varies by design. After an \
                 update of a signed program, `wiretrust baseline forget --process ID` lets \
                 the new fingerprint be learned, because sessions that raise it at medium are \
                 not learned; the info alert of a process without a signing identity is \
                 learned and needs no reset.",
        attack: T1565_AITM,
    },
    Explanation {
        id: "tls.certificate_changed",
        default_severity: Severity::High,
        meaning: "The certificate or issuer for a server name differs from its baseline or \
                  from the policy's pinned keys and issuers, or comes from an interception CA. \
                  This build raises it for [[pin]] entries: the leaf SubjectPublicKeyInfo \
                  hash and the leaf issuer are compared with the pin, and a session whose \
                  leaf matches neither a pinned key nor a pinned issuer raises it.",
        evidence: "tls.compared.pin (the pin's server pattern and policy line), \
                   tls.compared.leaf_spki_sha256 and leaf_issuer; evidence certificate.leaf \
                   at the Certificate packet",
        false_positives: "Planned certificate rotation to a new key or CA that the pin does \
                          not list yet; a TLS-inspecting proxy that the policy does not list.",
        tuning: "[[pin]] server + spki_sha256 / issuer; allow.inspection_cas and \
                 allow.proxies make it info.",
        attack: T1565_AITM,
    },
    Explanation {
        id: "tls.certificate_name_mismatch",
        default_severity: Severity::Medium,
        meaning: "",
        evidence: "tls.compared.server_name, certificate_names, certificate_sha256; evidence \
                   client_hello.server_name and certificate.names",
        false_positives: "",
        tuning: "allow.inspection_cas and allow.proxies make it info.",
        attack: T1565_AITM,
    },
    Explanation {
        id: "tls.stripped",
        default_severity: Severity::High,
        meaning: "Plaintext HTTP or a plaintext STARTTLS dialogue where the baseline had \
                  only TLS or STARTTLS to that server, or STARTTLS removed, garbled or \
                  refused in a server's capability list.",
        evidence: "the server's capability or greeting line with its packet number, the \
                   plaintext protocol, and the baseline's TLS session when one exists",
        false_positives: "Servers that really do not offer STARTTLS, and mail relays \
                          temporarily refusing it (454) under load.",
        tuning: "allow.legacy_services does not exempt it: suppress it by server.",
        attack: T1565_AITM,
    },
    Explanation {
        id: "stream.record_tamper",
        default_severity: Severity::High,
        meaning: "",
        evidence: "the alert record (level, description, packet) or the endpoint log line and \
                   its error code; for the encrypted pattern, the data and alert packets",
        false_positives: "",
        tuning: "No policy key of its own.",
        attack: T1565,
    },
    Explanation {
        id: "stream.alert_burst",
        default_severity: Severity::High,
        meaning: "",
        evidence: "the failures in the window with their inputs and packets or lines, the \
                   count and the window",
        false_positives: "",
        tuning: "[stream] burst_threshold (2 to 1000) and burst_window; --burst-threshold \
                 and --burst-window override them.",
        attack: T1565_AITM,
    },
    Explanation {
        id: "stream.malformed",
        default_severity: Severity::Low,
        meaning: "",
        evidence: "the anomaly text with its packet number and the session's history",
        false_positives: "",
        tuning: "No policy key of its own.",
        attack: T1565,
    },
    Explanation {
        id: "endpoint.tls_failure",
        default_severity: Severity::Medium,
        meaning: "",
        evidence: "the log line (input and line number), the error code or alert, the process \
                   and the connection id",
        false_positives: "",
        tuning: "allow.processes does not exempt it: suppress by process or server.",
        attack: T1565,
    },
    Explanation {
        id: "endpoint.ats_blocked",
        default_severity: Severity::Low,
        meaning: "",
        evidence: "the App Transport Security log line and the URL or host it blocked",
        false_positives: "",
        tuning: "No policy key of its own.",
        attack: T1565,
    },
    Explanation {
        id: "integrity.digest_mismatch",
        default_severity: Severity::High,
        meaning: "An HTTP body's hash differs from its Content-MD5, Digest, Content-Digest \
                  or Repr-Digest header.",
        evidence: "flow.url, the header and its value, the computed hash, the packets of the \
                   response",
        false_positives: "Servers that compute the header over the encoded body while the \
                          body is decoded, or the reverse.",
        tuning: "No policy key of its own.",
        attack: T1565,
    },
    Explanation {
        id: "integrity.length_mismatch",
        default_severity: Severity::Medium,
        meaning: "A body is shorter or longer than its Content-Length or chunk framing says: \
                  truncation or injection.",
        evidence: "flow.url, the declared and the received length, the packets of the \
                   response",
        false_positives: "Connections cut by the capture rather than by the network (capture \
                          gaps are counted separately and do not raise it).",
        tuning: "No policy key of its own.",
        attack: T1565,
    },
    Explanation {
        id: "integrity.manifest_mismatch",
        default_severity: Severity::High,
        meaning: "",
        evidence: "flow.file.path and sha256, the manifest file and line, the expected hash",
        false_positives: "",
        tuning: "No policy key of its own.",
        attack: T1565,
    },
    Explanation {
        id: "integrity.fleet_divergence",
        default_severity: Severity::High,
        meaning: "The same object (URL, or name with size and a validator such as ETag) \
                  arrives with different hashes on different hosts or at different times.",
        evidence: "the object's URL or name, each host and time with its hash",
        false_positives: "Objects that change legitimately without a new validator, such as \
                          per-user content under one URL.",
        tuning: "No policy key of its own. Every digest seen is kept in the store (--store \
                 PATH, default store.sqlite in the data folder), so a re-scan of the same \
                 evidence with the default store raises nothing: its hashes are already \
                 known. To compare afresh, pass --no-store, which compares the inputs of this \
                 scan with each other only, or --store with another file. Delete the store \
                 file to forget what earlier runs saw.",
        attack: T1565,
    },
];

/// Looks up the explanation of a detection id.
pub fn explanation(id: &str) -> Option<&'static Explanation> {
    EXPLANATIONS.iter().find(|explanation| explanation.id == id)
}

/// Policy keys every detection honours, printed after its own.
pub fn common_tuning() -> &'static str {
    COMMON_TUNING
}

#[cfg(test)]
mod tests {
    use super::super::RULES;
    use super::*;

    #[test]
    fn every_rule_is_explained() {
        for rule in RULES {
            let explained = explanation(rule.id);
            assert!(explained.is_some(), "{} has no explanation", rule.id);
        }
    }

    #[test]
    fn explained_ids_are_product_ids() {
        let ids: Vec<&str> = EXPLANATIONS.iter().map(|e| e.id).collect();
        assert_eq!(ids, DETECTION_IDS);
    }

    #[test]
    fn default_severities_match_rules() {
        for rule in RULES {
            let Some(explained) = explanation(rule.id) else {
                continue;
            };
            assert_eq!(
                explained.default_severity, rule.default_severity,
                "{}",
                rule.id
            );
        }
    }

    #[test]
    fn unimplemented_ids_have_texts() {
        for explained in EXPLANATIONS {
            if RULES.iter().any(|rule| rule.id == explained.id) {
                continue;
            }
            assert!(!explained.meaning.is_empty(), "{}", explained.id);
            assert!(!explained.false_positives.is_empty(), "{}", explained.id);
        }
    }
}
