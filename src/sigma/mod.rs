//! User rules in Sigma format (`--rules PATH`): every observation record is
//! flattened into named fields ([`record`]), the rules are evaluated over
//! them with rsigma-eval, and each match becomes an alert with detection id
//! `sigma.<rule id>`. Correlation rules (`event_count`, `value_count`,
//! `temporal`, `temporal_ordered`, ...) run in rsigma-eval's correlation
//! engine over the per-record matches, on the records' own times.

pub mod record;
pub mod samples;

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use rsigma_eval::{
    CorrelationConfig, CorrelationEngine, EvaluationResult, JsonEvent, LogSourceExtractor,
};
use rsigma_parser::{Level, SigmaCollection};

use crate::detections::{ATTACK, Alert, Attack, Confidence, Evidence, Severity};

pub use record::SigmaRecord;

/// Suffix of the sample files beside rule files, which the loader skips.
pub const SAMPLES_SUFFIX: &str = ".tests.yml";

/// A rule file that failed to load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleProblem {
    pub file: PathBuf,
    /// 1-based line of the document or token at fault, when known.
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for RuleProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.file.display(), self.message),
            None => write!(f, "{}: {}", self.file.display(), self.message),
        }
    }
}

/// Rules that failed to load, each with its file and line.
#[derive(Debug, thiserror::Error)]
#[error("{} Sigma rule problem(s):\n{}", .problems.len(), list_problems(.problems))]
pub struct LoadError {
    pub problems: Vec<RuleProblem>,
}

fn list_problems(problems: &[RuleProblem]) -> String {
    let lines: Vec<String> = problems.iter().map(|p| format!("  {p}")).collect();
    lines.join("\n")
}

/// Alert fields taken from the rule that raised it.
#[derive(Debug, Clone)]
struct RuleMeta {
    /// `sigma.<rule id>`, leaked once per loaded rule because alerts carry
    /// a `&'static str` detection id.
    detection: &'static str,
    severity: Severity,
    attack: Attack,
    file: PathBuf,
    /// Line of the rule's `title:` in its file.
    line: Option<usize>,
}

/// Parsed Sigma rules from one file or folder, ready to compile into a
/// [`SigmaEngine`] per pipeline.
#[derive(Debug)]
pub struct RuleSet {
    collection: SigmaCollection,
    /// Rule metadata by rule id.
    meta: HashMap<String, RuleMeta>,
    files: Vec<PathBuf>,
}

impl RuleSet {
    /// Loads every `.yml` and `.yaml` file under `path` (a file or a
    /// folder, walked in name order), skipping `*.tests.yml` sample files.
    /// Every rule needs an `id`, because alerts are named after it. All
    /// problems are collected before failing, so one run lists them all.
    pub fn load(path: &Path) -> Result<RuleSet, LoadError> {
        let mut problems = Vec::new();
        let files = rule_files(path, &mut problems);
        let mut collection = SigmaCollection::new();
        let mut meta = HashMap::new();
        for file in &files {
            let text = match std::fs::read_to_string(file) {
                Ok(text) => text,
                Err(error) => {
                    problems.push(problem(
                        file,
                        None,
                        format!("failed to read the file: {error}"),
                    ));
                    continue;
                }
            };
            match parse_file(file, &text) {
                Ok(parsed) => {
                    let before = problems.len();
                    collect_meta(file, &text, &parsed, &mut meta, &mut problems);
                    compile_each(file, &text, &parsed, &mut problems);
                    if problems.len() == before {
                        collection.rules.extend(parsed.rules);
                        collection.correlations.extend(parsed.correlations);
                        collection.filters.extend(parsed.filters);
                    }
                }
                Err(mut found) => problems.append(&mut found),
            }
        }
        resolve_names(&mut collection);
        if problems.is_empty() {
            check_references(&collection, &meta, &mut problems);
        }
        if files.is_empty() && problems.is_empty() {
            problems.push(problem(
                path,
                None,
                "no .yml or .yaml rule files found".to_owned(),
            ));
        }
        let rules = RuleSet {
            collection,
            meta,
            files,
        };
        // Compiling finds what parsing lets through, such as a correlation
        // naming a rule that does not exist or a regular expression that
        // does not compile.
        if problems.is_empty()
            && let Err(error) = rules.compile(true)
        {
            problems.push(problem(path, None, error));
        }
        if problems.is_empty() {
            Ok(rules)
        } else {
            Err(LoadError { problems })
        }
    }

    /// Rule files read, in load order.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// Number of detection and correlation rules.
    pub fn len(&self) -> usize {
        self.collection.rules.len() + self.collection.correlations.len()
    }

    /// True when no rule was loaded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Ids of the rules (detection and correlation) defined in `file`.
    pub fn rule_ids_in(&self, file: &Path) -> Vec<String> {
        let mut ids: Vec<String> = self
            .meta
            .iter()
            .filter(|(_, meta)| meta.file == file)
            .map(|(id, _)| id.clone())
            .collect();
        ids.sort();
        ids
    }

    /// Compiles the rules into a correlation engine. `emit_all` also emits
    /// the matches of rules that only feed correlations (`generate: false`),
    /// which Sigma otherwise keeps silent, because rule tests need them.
    fn compile(&self, emit_all: bool) -> Result<CorrelationEngine, String> {
        let config = CorrelationConfig {
            emit_detections: emit_all,
            ..CorrelationConfig::default()
        };
        let mut engine = CorrelationEngine::new(config);
        // A rule whose logsource names another service or category than the
        // record's is skipped. A rule that leaves one out applies to all.
        engine.set_logsource_extractor(Some(LogSourceExtractor::new().with_field_names(
            record::LOGSOURCE_PRODUCT,
            record::LOGSOURCE_SERVICE,
            record::LOGSOURCE_CATEGORY,
        )));
        engine
            .add_collection(&self.collection)
            .map_err(|error| format!("invalid rule set: {error}"))?;
        Ok(engine)
    }
}

fn problem(file: &Path, line: Option<usize>, message: String) -> RuleProblem {
    RuleProblem {
        file: file.to_owned(),
        line,
        message,
    }
}

fn rule_files(path: &Path, problems: &mut Vec<RuleProblem>) -> Vec<PathBuf> {
    if path.is_file() {
        return vec![path.to_owned()];
    }
    if !path.is_dir() {
        problems.push(problem(
            path,
            None,
            "not found: give a rule file or a folder".into(),
        ));
        return Vec::new();
    }
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(path).sort_by_file_name() {
        let entry = match entry {
            Ok(entry) => entry,
            Err(error) => {
                problems.push(problem(
                    path,
                    None,
                    format!("failed to list the folder: {error}"),
                ));
                continue;
            }
        };
        let name = entry.file_name().to_string_lossy();
        let is_rule = (name.ends_with(".yml") || name.ends_with(".yaml"))
            && !name.ends_with(SAMPLES_SUFFIX)
            && !name.ends_with(".tests.yaml");
        if entry.file_type().is_file() && is_rule {
            files.push(entry.into_path());
        }
    }
    files
}

/// Parses one rule file. On failure each document is parsed alone to name
/// the line where the failing document starts, plus the YAML error's own
/// line when the parser gives one.
fn parse_file(file: &Path, text: &str) -> Result<SigmaCollection, Vec<RuleProblem>> {
    let whole = rsigma_parser::parse_sigma_yaml(text);
    if let Ok(collection) = &whole
        && collection.errors.is_empty()
    {
        return whole.map_err(|_| Vec::new());
    }
    let mut problems = Vec::new();
    for (start, document) in documents(text) {
        match rsigma_parser::parse_sigma_yaml(document) {
            Ok(collection) => {
                for message in collection.errors {
                    // A condition error counts its position inside the
                    // condition, so it points at the `condition:` line.
                    let line = if message.starts_with("Condition parse error") {
                        line_of(document, "condition:")
                    } else {
                        yaml_error_line(&message)
                    };
                    let line = line.map_or(start, |line| start + line - 1);
                    problems.push(problem(file, Some(line), message));
                }
            }
            Err(error) => {
                let line = match &error {
                    rsigma_parser::SigmaParserError::Yaml(yaml) => {
                        yaml.location().map(|l| start + l.line() - 1)
                    }
                    other => other.location().map(|l| start + l.line as usize - 1),
                };
                let message = error.to_string();
                let line = line.or_else(|| yaml_error_line(&message).map(|l| start + l - 1));
                problems.push(problem(file, line.or(Some(start)), message));
            }
        }
    }
    if problems.is_empty() {
        // The documents parse alone but not together, e.g. an `action:
        // global` document that the others depend on.
        let message = match whole {
            Err(error) => error.to_string(),
            Ok(collection) => collection.errors.join("; "),
        };
        problems.push(problem(file, None, message));
    }
    Err(problems)
}

/// Reports each correlation reference that names no loaded rule, with
/// the correlation's file and line. The engine would otherwise reject the
/// whole set naming only the reference.
fn check_references(
    collection: &SigmaCollection,
    meta: &HashMap<String, RuleMeta>,
    problems: &mut Vec<RuleProblem>,
) {
    for correlation in &collection.correlations {
        let Some(own) = correlation.id.as_ref().and_then(|id| meta.get(id)) else {
            continue;
        };
        for reference in &correlation.rules {
            if !meta.contains_key(reference) {
                problems.push(problem(
                    &own.file,
                    own.line,
                    format!(
                        "correlation {:?} names rule {reference:?}, which no loaded rule file \
                         defines by id or name; load the folder that contains it or fix the name",
                        correlation.title
                    ),
                ));
            }
        }
    }
}

/// Rewrites the rule names a correlation refers to into rule ids.
///
/// rsigma-eval 0.21 compares a correlation's references with rule ids in two
/// places: when it keeps the rules of a `generate: false` correlation quiet,
/// and when one correlation feeds another. A reference by `name`, which
/// Sigma allows, fails both, so names are resolved here.
fn resolve_names(collection: &mut SigmaCollection) {
    let mut ids: HashMap<String, String> = HashMap::new();
    let rules = collection.rules.iter().map(|r| (&r.name, &r.id));
    let correlations = collection.correlations.iter().map(|r| (&r.name, &r.id));
    for (name, id) in rules.chain(correlations) {
        if let (Some(name), Some(id)) = (name, id) {
            ids.insert(name.clone(), id.clone());
        }
    }
    for correlation in &mut collection.correlations {
        for reference in &mut correlation.rules {
            if let Some(id) = ids.get(reference.as_str()) {
                reference.clone_from(id);
            }
        }
    }
}

/// Splits a YAML stream at `---` lines into documents, each with its
/// 1-based first line.
fn documents(text: &str) -> Vec<(usize, &str)> {
    let mut documents = Vec::new();
    let mut start_line = 1;
    let mut start_byte = 0;
    let mut offset = 0;
    for (index, line) in text.split_inclusive('\n').enumerate() {
        if line.trim_end() == "---" {
            documents.push((start_line, &text[start_byte..offset]));
            start_line = index + 2;
            start_byte = offset + line.len();
        }
        offset += line.len();
    }
    documents.push((start_line, &text[start_byte..]));
    documents.retain(|(_, document)| !document.trim().is_empty());
    documents
}

/// Records each rule's alert metadata. Rules without an id and ids defined
/// twice are problems.
fn collect_meta(
    file: &Path,
    text: &str,
    parsed: &SigmaCollection,
    meta: &mut HashMap<String, RuleMeta>,
    problems: &mut Vec<RuleProblem>,
) {
    let rules = parsed
        .rules
        .iter()
        .map(|r| (&r.title, &r.id, r.level, &r.tags));
    let correlations = parsed
        .correlations
        .iter()
        .map(|r| (&r.title, &r.id, r.level, &r.tags));
    for (title, id, level, tags) in rules.chain(correlations) {
        let line = line_of(text, &format!("title: {title}"));
        let Some(id) = id else {
            problems.push(problem(
                file,
                line,
                format!("rule {title:?} has no id; add `id:` (a UUID), which names its alerts"),
            ));
            continue;
        };
        if let Some(other) = meta.get(id) {
            problems.push(problem(
                file,
                line,
                format!(
                    "rule id {id} is already defined in {}",
                    other.file.display()
                ),
            ));
            continue;
        }
        let detection: &'static str = Box::leak(format!("sigma.{id}").into_boxed_str());
        meta.insert(
            id.clone(),
            RuleMeta {
                detection,
                severity: severity(level),
                attack: attack(tags),
                file: file.to_owned(),
                line,
            },
        );
    }
}

/// Compiles each detection rule alone, so that an invalid regular
/// expression or condition is reported with its file and line.
fn compile_each(
    file: &Path,
    text: &str,
    parsed: &SigmaCollection,
    problems: &mut Vec<RuleProblem>,
) {
    for rule in &parsed.rules {
        if let Err(error) = rsigma_eval::compile_rule(rule) {
            let title = line_of(text, &format!("title: {}", rule.title));
            let message = error.to_string();
            // An identifier the condition names but no selection defines
            // is on the rule's `condition:` line.
            let line = match title {
                Some(title) if message.contains("identifier") => {
                    line_after(text, title, "condition:").or(Some(title))
                }
                other => other,
            };
            problems.push(problem(
                file,
                line,
                format!("rule {:?} is invalid: {message}", rule.title),
            ));
        }
    }
}

/// Returns N from the first "at line N" of a YAML parser message, for
/// errors that carry their position only in the text.
fn yaml_error_line(message: &str) -> Option<usize> {
    let (_, after) = message.split_once("at line ")?;
    let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// Returns the 1-based line of the first line at or after line `from`
/// that starts with `needle` once indented.
fn line_after(text: &str, from: usize, needle: &str) -> Option<usize> {
    text.lines()
        .enumerate()
        .skip(from.saturating_sub(1))
        .find(|(_, line)| line.trim_start().starts_with(needle))
        .map(|(index, _)| index + 1)
}

fn line_of(text: &str, needle: &str) -> Option<usize> {
    text.lines()
        .position(|line| line.trim_start().starts_with(needle))
        .map(|index| index + 1)
}

/// Maps a Sigma level to a severity. A rule without one is `medium`, the
/// middle of Sigma's scale.
fn severity(level: Option<Level>) -> Severity {
    match level {
        Some(Level::Informational) => Severity::Info,
        Some(Level::Low) => Severity::Low,
        Some(Level::Medium) | None => Severity::Medium,
        Some(Level::High) => Severity::High,
        Some(Level::Critical) => Severity::Critical,
    }
}

/// Takes the first `attack.tNNNN[.NNN]` tag as the ATT&CK technique. The
/// detection strategy and analytic are only known for T1565.002, the
/// technique the built-in detections implement, and left empty for others.
fn attack(tags: &[String]) -> Attack {
    let technique = tags.iter().find_map(|tag| {
        let rest = tag.strip_prefix("attack.t")?;
        let valid = rest
            .split('.')
            .all(|part| !part.is_empty() && part.bytes().all(|byte| byte.is_ascii_digit()));
        valid.then(|| format!("T{rest}"))
    });
    match technique {
        Some(technique) if technique == ATTACK.technique => ATTACK,
        Some(technique) => Attack {
            technique: Box::leak(technique.into_boxed_str()),
            detection_strategy: "",
            analytic: "",
        },
        None => Attack {
            technique: "",
            detection_strategy: "",
            analytic: "",
        },
    }
}

/// A rule that matched one record: its id and, for correlations, the
/// aggregated value and group.
#[derive(Debug, Clone)]
pub struct RuleMatch {
    pub rule_id: String,
    pub title: String,
    /// Correlation type, count or value that fired, and the group key.
    pub correlation: Option<CorrelationFacts>,
}

/// The values a correlation rule compared when it fired.
#[derive(Debug, Clone)]
pub struct CorrelationFacts {
    pub kind: String,
    pub value: f64,
    pub timespan_secs: u64,
    pub group: Vec<(String, String)>,
}

/// Compiled rules with the correlation state of one stream of records.
pub struct SigmaEngine {
    engine: CorrelationEngine,
    meta: HashMap<String, RuleMeta>,
}

impl SigmaEngine {
    /// Compiles `rules` for a scan or watch: rules that only feed a
    /// correlation stay silent, as Sigma specifies.
    pub fn new(rules: &RuleSet) -> Result<SigmaEngine, String> {
        Self::with_emit(rules, false)
    }

    /// Compiles `rules` so that every rule's matches are reported, including
    /// rules that only feed correlations; used by `rules test`.
    pub fn for_tests(rules: &RuleSet) -> Result<SigmaEngine, String> {
        Self::with_emit(rules, true)
    }

    fn with_emit(rules: &RuleSet, emit_all: bool) -> Result<SigmaEngine, String> {
        Ok(SigmaEngine {
            engine: rules.compile(emit_all)?,
            meta: rules.meta.clone(),
        })
    }

    /// Evaluates one flattened record at `time_ns` and returns the rules
    /// that matched, correlations included.
    pub fn evaluate(&mut self, fields: &serde_json::Value, time_ns: i64) -> Vec<RuleMatch> {
        let event = JsonEvent::borrow(fields);
        let results = self
            .engine
            .process_event_at(&event, time_ns.div_euclid(1_000_000_000));
        results.iter().filter_map(rule_match).collect()
    }

    /// Evaluates `record` and appends one alert per matching rule.
    pub fn check(&mut self, record: &SigmaRecord, out: &mut Vec<Alert>) {
        for found in self.evaluate(&record.fields, record.time_ns) {
            let Some(meta) = self.meta.get(&found.rule_id) else {
                continue;
            };
            let mut alert = record.alert.clone();
            alert.detection = meta.detection;
            alert.severity = meta.severity;
            alert.confidence = Confidence::Medium;
            alert.title = found.title.clone();
            alert.attack = meta.attack.clone();
            alert.compare("sigma.rule_file", meta.file.display().to_string());
            if let Some(facts) = &found.correlation {
                alert.compare("sigma.correlation", facts.kind.clone());
                alert.compare("sigma.value", facts.value);
                alert.compare("sigma.timespan_secs", facts.timespan_secs);
                for (field, value) in &facts.group {
                    alert.compare(&format!("sigma.group.{field}"), value.clone());
                }
            }
            alert.evidence.push(Evidence {
                input: record.input.clone(),
                location: record.location.clone(),
                field: "sigma.record".to_owned(),
                value: record.fields.to_string(),
            });
            out.push(alert);
        }
    }
}

fn rule_match(result: &EvaluationResult) -> Option<RuleMatch> {
    let rule_id = result.header.rule_id.clone()?;
    let correlation = result.as_correlation().map(|body| CorrelationFacts {
        kind: body.correlation_type.as_str().to_owned(),
        value: body.aggregated_value,
        timespan_secs: body.timespan_secs,
        group: body.group_key.clone(),
    });
    Some(RuleMatch {
        rule_id,
        title: result.header.rule_title.clone(),
        correlation,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_error_line_is_read_from_the_message() {
        let message = "YAML parse error: did not find expected ',' or ']' at line 8 column 12, \
                       while parsing a flow sequence at line 7 column 18";
        assert_eq!(yaml_error_line(message), Some(8));
        assert_eq!(yaml_error_line("no position"), None);
    }

    #[test]
    fn documents_split_with_lines() {
        let text = "a: 1\n---\nb: 2\nc: 3\n---\n";
        let found = documents(text);
        assert_eq!(found, vec![(1, "a: 1\n"), (3, "b: 2\nc: 3\n")]);
    }

    #[test]
    fn attack_tag_to_technique() {
        let known = attack(&["attack.t1565.002".to_owned()]);
        assert_eq!(known.technique, "T1565.002");
        assert_eq!(known.analytic, "AN0704");
        let other = attack(&[
            "attack.defense_evasion".to_owned(),
            "attack.t1040".to_owned(),
        ]);
        assert_eq!(other.technique, "T1040");
        assert_eq!(other.analytic, "");
        let none = attack(&["attack.credential_access".to_owned()]);
        assert_eq!(none.technique, "");
    }

    #[test]
    fn correlation_names_resolve_to_ids() {
        let yaml = "\
title: base
id: id-base
name: base_rule
logsource:
  product: macos
detection:
  selection:
    a: 1
  condition: selection
---
title: count
id: id-count
name: count_rule
correlation:
  type: event_count
  rules:
    - base_rule
  group-by:
    - b
  timespan: 60s
  condition:
    gte: 2
---
title: chain
id: id-chain
correlation:
  type: temporal_ordered
  rules:
    - count_rule
    - id-base
  group-by:
    - b
  timespan: 60s
";
        let mut collection = rsigma_parser::parse_sigma_yaml(yaml).unwrap();
        resolve_names(&mut collection);
        assert_eq!(collection.correlations[0].rules, vec!["id-base"]);
        assert_eq!(
            collection.correlations[1].rules,
            vec!["id-count", "id-base"]
        );
    }

    #[test]
    fn level_to_severity() {
        assert_eq!(severity(Some(Level::Informational)), Severity::Info);
        assert_eq!(severity(Some(Level::Critical)), Severity::Critical);
        assert_eq!(severity(None), Severity::Medium);
    }
}
