//! `wiretrust rules test`: every rule file carries samples in a sibling
//! `NAME.tests.yml` file:
//!
//! ```yaml
//! rule: 5f0c...          # optional: the rule id under test
//! true_positives:
//!   - {tls.version: TLS 1.0, logsource.service: tls}
//!   - [{...}, {...}]     # a sequence of records, for correlations
//! true_negatives:
//!   - {tls.version: TLS 1.3, logsource.service: tls}
//! ```
//!
//! Each sample is one flattened record or a list of them, evaluated in order
//! on a fresh engine. A record's time is its `time` field (RFC 3339) when
//! present, else one second after the previous record. A true positive
//! passes when the rule under test matched at least once, a true negative
//! when it never matched. Without `rule:` the rule under test is the file's
//! correlation rules when it has any, else all its rules.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use super::{LoadError, RuleSet, SAMPLES_SUFFIX, SigmaEngine};

/// The outcome of one rule file's samples.
#[derive(Debug, Clone)]
pub struct SampleReport {
    pub file: PathBuf,
    /// Ids of the rules under test.
    pub rules: Vec<String>,
    /// Samples that gave the expected result.
    pub passed: usize,
    /// One line per failed sample, or the reason the samples could not run.
    pub failures: Vec<String>,
}

impl SampleReport {
    /// True when every sample gave the expected result.
    pub fn ok(&self) -> bool {
        self.failures.is_empty()
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SamplesFile {
    rule: Option<String>,
    #[serde(default)]
    true_positives: Vec<Sample>,
    #[serde(default)]
    true_negatives: Vec<Sample>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Sample {
    Sequence(Vec<Value>),
    Record(Value),
}

impl Sample {
    fn records(&self) -> Vec<&Value> {
        match self {
            Sample::Sequence(records) => records.iter().collect(),
            Sample::Record(record) => vec![record],
        }
    }
}

/// Loads the rules under `path` and runs every rule file's samples.
/// Fails only when the rules do not load. Failed samples are in the
/// reports.
pub fn run(path: &Path) -> Result<Vec<SampleReport>, LoadError> {
    let rules = RuleSet::load(path)?;
    let mut reports = Vec::new();
    for file in rules.files() {
        reports.push(run_file(&rules, file));
    }
    Ok(reports)
}

/// Returns the samples file beside a rule file: `x.yml` has `x.tests.yml`.
pub fn samples_path(rule_file: &Path) -> PathBuf {
    let stem = rule_file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    rule_file.with_file_name(format!("{stem}{SAMPLES_SUFFIX}"))
}

fn run_file(rules: &RuleSet, file: &Path) -> SampleReport {
    let mut report = SampleReport {
        file: file.to_owned(),
        rules: Vec::new(),
        passed: 0,
        failures: Vec::new(),
    };
    let samples_file = samples_path(file);
    let samples = match read_samples(&samples_file) {
        Ok(samples) => samples,
        Err(message) => {
            report.rules = default_rules(rules, file);
            report.failures.push(message);
            return report;
        }
    };
    report.rules = match &samples.rule {
        Some(id) => vec![id.clone()],
        None => default_rules(rules, file),
    };
    let defined = rules.rule_ids_in(file);
    for id in &report.rules {
        if !defined.contains(id) {
            report.failures.push(format!(
                "{}: rule {id} is not defined in {}",
                samples_file.display(),
                file.display()
            ));
        }
    }
    if samples.true_positives.is_empty() || samples.true_negatives.is_empty() {
        report.failures.push(format!(
            "{}: needs at least one true positive and one true negative",
            samples_file.display()
        ));
    }
    if !report.failures.is_empty() {
        return report;
    }
    let cases = samples
        .true_positives
        .iter()
        .map(|s| (true, s))
        .chain(samples.true_negatives.iter().map(|s| (false, s)));
    let mut index = [0usize; 2];
    for (expected, sample) in cases {
        index[usize::from(expected)] += 1;
        let label = if expected {
            "true positive"
        } else {
            "true negative"
        };
        let number = index[usize::from(expected)];
        match matches_rules(rules, &report.rules, sample) {
            Ok(matched) if matched == expected => report.passed += 1,
            Ok(matched) => report.failures.push(format!(
                "{label} {number}: expected {}, but the rule {}",
                if expected { "a match" } else { "no match" },
                if matched { "matched" } else { "did not match" },
            )),
            Err(message) => report.failures.push(format!("{label} {number}: {message}")),
        }
    }
    report
}

fn read_samples(path: &Path) -> Result<SamplesFile, String> {
    let text = std::fs::read_to_string(path).map_err(|error| {
        format!(
            "{}: failed to read the samples file ({error}); every rule file needs one",
            path.display()
        )
    })?;
    yaml_serde::from_str(&text).map_err(|error| {
        let line = error.location().map(|l| format!(":{}", l.line()));
        format!(
            "{}{}: invalid samples: {error}",
            path.display(),
            line.unwrap_or_default()
        )
    })
}

/// Returns the correlations defined in `file`, else every rule in it.
fn default_rules(rules: &RuleSet, file: &Path) -> Vec<String> {
    let ids = rules.rule_ids_in(file);
    let correlations: Vec<String> = rules
        .collection
        .correlations
        .iter()
        .filter_map(|c| c.id.clone())
        .filter(|id| ids.contains(id))
        .collect();
    if correlations.is_empty() {
        ids
    } else {
        correlations
    }
}

/// Runs one sample on a fresh engine and returns true when a rule in `ids`
/// matched.
fn matches_rules(rules: &RuleSet, ids: &[String], sample: &Sample) -> Result<bool, String> {
    let mut engine = SigmaEngine::for_tests(rules)?;
    let mut time_ns = 0i64;
    let mut matched = false;
    for (position, record) in sample.records().into_iter().enumerate() {
        if !record.is_object() {
            return Err(format!(
                "record {} is not a map of field names to values",
                position + 1
            ));
        }
        time_ns = match record.get("time").and_then(Value::as_str) {
            Some(text) => parse_time(text)?,
            None => time_ns + 1_000_000_000,
        };
        let found = engine.evaluate(record, time_ns);
        matched |= found.iter().any(|m| ids.contains(&m.rule_id));
    }
    Ok(matched)
}

fn parse_time(text: &str) -> Result<i64, String> {
    let timestamp: jiff::Timestamp = text
        .parse()
        .map_err(|error| format!("invalid time {text:?} ({error}); use RFC 3339"))?;
    i64::try_from(timestamp.as_nanosecond()).map_err(|_| format!("time {text:?} is out of range"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_path_beside_rule() {
        let path = samples_path(Path::new("rules/weak-cipher.yml"));
        assert_eq!(path, Path::new("rules/weak-cipher.tests.yml"));
    }

    #[test]
    fn sample_time_parses_rfc3339() {
        assert_eq!(parse_time("1970-01-01T00:00:01Z"), Ok(1_000_000_000));
        assert!(parse_time("yesterday").is_err());
    }
}
