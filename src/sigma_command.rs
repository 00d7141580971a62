//! `--rules PATH` loading and `wiretrust rules test PATH`.

use std::io::{self, Write};
use std::path::Path;

use anyhow::{Result, anyhow};
use wiretrust::plural::plural;
use wiretrust::sigma::{RuleSet, samples};

use crate::{EXIT_ALERTS, EXIT_CLEAN};

/// Loads the Sigma rules of `--rules`. The error lists every rule file
/// that failed, with its line when known.
pub(crate) fn load(path: &Path) -> Result<RuleSet> {
    let rules = RuleSet::load(path).map_err(|error| anyhow!("invalid --rules: {error}"))?;
    tracing::info!(
        rules = rules.len(),
        files = rules.files().len(),
        path = %path.display(),
        "Sigma rules loaded"
    );
    Ok(rules)
}

/// Runs the samples of every rule file under `path`, printing one line per
/// file and one per failed sample. Returns status 1 when a sample fails or
/// a rule does not load.
pub(crate) fn run_test(path: &Path) -> Result<u8> {
    let mut out = io::stdout().lock();
    let reports = match samples::run(path) {
        Ok(reports) => reports,
        Err(error) => {
            for problem in &error.problems {
                writeln!(out, "FAIL {problem}")?;
            }
            writeln!(
                out,
                "{}; no samples run",
                plural(error.problems.len() as u64, "rule file problem")
            )?;
            return Ok(EXIT_ALERTS);
        }
    };
    let mut failed = 0;
    for report in &reports {
        let verdict = if report.ok() { "PASS" } else { "FAIL" };
        writeln!(
            out,
            "{verdict} {} [{}]: {} passed",
            report.file.display(),
            report.rules.join(", "),
            plural(report.passed as u64, "sample")
        )?;
        for failure in &report.failures {
            writeln!(out, "    {failure}")?;
        }
        failed += usize::from(!report.ok());
    }
    writeln!(
        out,
        "{}, {} passed, {failed} failed",
        plural(reports.len() as u64, "rule file"),
        reports.len() - failed
    )?;
    Ok(if failed == 0 { EXIT_CLEAN } else { EXIT_ALERTS })
}
