//! `integrity.manifest_mismatch`: a file whose digest differs from the
//! one its hash manifest lists.

use super::{Alert, Confidence, Evidence, FileRef, Flow, Rule, Severity};

pub const RULE: Rule = Rule {
    id: "integrity.manifest_mismatch",
    default_severity: Severity::High,
    summary: "A file's hash differs from its entry in a hash manifest (SHA256SUMS, sha256sum, \
              shasum or BSD-style output)",
    meaning: "`wiretrust verify` read the file and computed the digest its manifest entry \
              names, and the two differ: the file was altered, truncated or replaced after the \
              manifest was made, or the download that produced it was tampered with. Evidence: \
              the manifest and line with the expected digest, and the file with the digest \
              and size found.",
    false_positives: "Files edited or rebuilt on purpose after the manifest was written, a \
                      manifest generated from another release, and text files whose line ends \
                      were converted after a text-mode manifest was made on another system.",
    tuning: "Regenerate the manifest after an intended change, or check only the files that \
             matter by listing them in their own manifest. --fail-on sets which severities \
             make the run fail.",
};

/// A file whose digest differs from its manifest entry.
#[derive(Clone, Copy, Debug)]
pub struct Mismatch<'a> {
    /// The file as checked.
    pub path: &'a str,
    pub manifest: &'a str,
    /// Line of the entry in the manifest, from 1.
    pub line: u64,
    /// Algorithm name, e.g. `sha256`.
    pub algorithm: &'a str,
    pub expected: &'a str,
    pub actual: &'a str,
    /// SHA-256 of the file, when the check computed it.
    pub sha256: Option<&'a str>,
    /// Size of the file in bytes.
    pub size: u64,
    /// Time of the check, in nanoseconds since the Unix epoch.
    pub time_ns: i64,
}

/// Builds the alert for one mismatched file. `host` is the machine the
/// files were checked on.
pub fn alert(mismatch: &Mismatch<'_>, host: &str) -> Alert {
    let title = format!(
        "{} of {} differs from {} line {}",
        mismatch.algorithm, mismatch.path, mismatch.manifest, mismatch.line
    );
    let evidence = vec![
        Evidence {
            input: mismatch.manifest.to_owned(),
            location: format!("line {}", mismatch.line),
            field: format!("expected.{}", mismatch.algorithm),
            value: mismatch.expected.to_owned(),
        },
        Evidence {
            input: mismatch.path.to_owned(),
            location: "file".to_owned(),
            field: format!("actual.{}", mismatch.algorithm),
            value: mismatch.actual.to_owned(),
        },
        Evidence {
            input: mismatch.path.to_owned(),
            location: "file".to_owned(),
            field: "size".to_owned(),
            value: mismatch.size.to_string(),
        },
    ];
    let mut missing = vec![
        "process",
        "source",
        "destination.ip",
        "destination.port",
        "destination.server_name",
        "tls",
        "flow.url",
    ];
    if mismatch.sha256.is_none() {
        missing.push("flow.file.sha256");
    }
    let mut alert = Alert::new(
        RULE.id,
        RULE.default_severity,
        Confidence::High,
        title,
        mismatch.time_ns,
    );
    alert.host = host.to_owned();
    alert.tls.absent = true;
    alert.flow = Flow {
        url: None,
        bytes: Some(mismatch.size),
        file: Some(FileRef {
            path: mismatch.path.to_owned(),
            sha256: mismatch.sha256.map(str::to_owned),
        }),
    };
    alert.evidence = evidence;
    alert.missing = missing;
    alert.session.input = mismatch.path.to_owned();
    alert
}

#[cfg(test)]
mod tests {
    use super::{Mismatch, RULE, alert};

    fn mismatch(sha256: Option<&str>) -> Mismatch<'_> {
        Mismatch {
            path: "/data/a.bin",
            manifest: "/data/SHA256SUMS",
            line: 3,
            algorithm: "sha256",
            expected: "00",
            actual: "11",
            sha256,
            size: 5,
            time_ns: 0,
        }
    }

    #[test]
    fn alert_json_has_no_tls() {
        let alert = alert(&mismatch(Some("11")), "host1");
        let json = serde_json::to_value(&alert).expect("alert serializes");
        assert_eq!(json["detection"], RULE.id);
        assert_eq!(json["severity"], "high");
        assert_eq!(json["host"], "host1");
        assert!(json.get("tls").is_none(), "{json}");
        assert_eq!(json["flow"]["file"]["path"], "/data/a.bin");
        assert_eq!(json["flow"]["file"]["sha256"], "11");
        assert_eq!(json["attack"]["technique"], "T1565.002");
        let missing = json["missing"].as_array().expect("missing is a list");
        assert!(missing.contains(&"tls".into()));
        assert!(!missing.contains(&"flow.file.sha256".into()));
        assert_eq!(json["flow"]["bytes"], 5);
        assert!(!missing.contains(&"flow.bytes".into()));
    }

    #[test]
    fn alert_evidence_names_manifest_line() {
        let alert = alert(&mismatch(Some("11")), "host1");
        assert_eq!(alert.evidence[0].input, "/data/SHA256SUMS");
        assert_eq!(alert.evidence[0].location, "line 3");
        assert_eq!(alert.evidence[0].value, "00");
        assert_eq!(alert.evidence[1].input, "/data/a.bin");
        assert_eq!(alert.evidence[1].value, "11");
    }

    #[test]
    fn alert_without_sha256_lists_it_missing() {
        let alert = alert(&mismatch(None), "host1");
        assert!(alert.missing.contains(&"flow.file.sha256"));
    }
}
