//! `wiretrust verify`: wires the command line to [`wiretrust::verify`] and
//! writes the summary on stderr.

use std::io::{self, BufWriter, IsTerminal, Write};
use wiretrust::plural::plural;

use anyhow::Result;

use crate::cli::{OutputFormat, VerifyArgs};
use crate::summary::suppressed_line;
use crate::{
    EXIT_ALERTS, EXIT_CLEAN, EXIT_FAILED, EXIT_PARTIAL, default_threads, load_policy,
    terminal_width, watch_command::host_name,
};
use wiretrust::sinks::{AlertLines, AlertTable, Sink, printable};
use wiretrust::verify::{CheckStatus, VerifyOptions, VerifySummary, verify};

/// Files listed per outcome in the summary without `-v`.
const LISTED_WITHOUT_VERBOSE: usize = 20;

/// Runs `wiretrust verify` and returns its exit status.
pub fn run_verify(args: &VerifyArgs, quiet: bool, verbose: bool) -> Result<u8> {
    let options = VerifyOptions {
        manifests: args.manifest.clone(),
        paths: args.paths.clone(),
        root: args.root.clone(),
        algorithm: args.algorithm,
        threads: args.threads.unwrap_or_else(default_threads),
        host: args
            .host
            .clone()
            .or_else(host_name)
            .unwrap_or_else(|| "unknown".to_owned()),
        policy: load_policy(&args.policy)?,
        show_suppressed: args.policy.show_suppressed,
    };
    let stdout = io::stdout();
    let terminal = stdout.is_terminal();
    let out = BufWriter::new(stdout.lock());
    let mut sink: Box<dyn Sink> = match args.format {
        OutputFormat::Table => Box::new(AlertTable::new(out, terminal_width())),
        OutputFormat::Auto if terminal => Box::new(AlertTable::new(out, terminal_width())),
        _ => Box::new(AlertLines::new(out)),
    };
    let summary = verify(&options, &mut [sink.as_mut()])?;

    let mut stderr = io::stderr().lock();
    if !quiet {
        write_totals(&mut stderr, &summary)?;
        if summary.suppressed > 0 {
            let line = suppressed_line(summary.suppressed, options.show_suppressed);
            writeln!(stderr, "{line}")?;
        }
    }
    write_problems(&mut stderr, &summary, verbose)?;

    if summary.usable_entries() == 0 {
        return Ok(EXIT_FAILED);
    }
    if summary.alerts_at_or_above(args.fail_on) > 0 {
        return Ok(EXIT_ALERTS);
    }
    if summary.had_unreadable() {
        return Ok(EXIT_PARTIAL);
    }
    Ok(EXIT_CLEAN)
}

fn write_totals(out: &mut dyn Write, summary: &VerifySummary) -> io::Result<()> {
    let checked = summary.verified + summary.mismatched + summary.missing + summary.unchecked;
    writeln!(
        out,
        "checked {} from {}: {} verified, {} mismatched, {} missing, {} unchecked, \
         {} extra; {:.1} MB read in {:.2} s",
        plural(checked, "manifest entry"),
        plural(summary.manifests.len() as u64, "manifest"),
        summary.verified,
        summary.mismatched,
        summary.missing,
        summary.unchecked,
        summary.extra,
        summary.bytes as f64 / 1e6,
        summary.elapsed.as_secs_f64()
    )
}

/// Writes unreadable manifests and lines, and every file that was not
/// verified; more than [`LISTED_WITHOUT_VERBOSE`] per outcome only with
/// `verbose`.
fn write_problems(out: &mut dyn Write, summary: &VerifySummary, verbose: bool) -> io::Result<()> {
    for manifest in &summary.manifests {
        if let Some(error) = &manifest.error {
            writeln!(out, "  {}", printable(error))?;
        }
        let name = manifest.path.display().to_string();
        for warning in &manifest.warnings {
            writeln!(out, "  {}: {}", printable(&name), printable(warning))?;
        }
    }
    for error in &summary.walk_errors {
        writeln!(out, "  {}", printable(error))?;
    }
    let statuses = [
        CheckStatus::Mismatched,
        CheckStatus::Missing,
        CheckStatus::Unchecked,
        CheckStatus::Extra,
    ];
    for status in statuses {
        let files: Vec<_> = summary
            .problems
            .iter()
            .filter(|check| check.status == status)
            .collect();
        let shown = if verbose {
            files.len()
        } else {
            files.len().min(LISTED_WITHOUT_VERBOSE)
        };
        for check in &files[..shown] {
            let detail = match (&check.error, &check.manifest, check.line) {
                (Some(error), _, _) => format!(": {error}"),
                (None, Some(manifest), Some(line)) => format!(" ({manifest} line {line})"),
                _ => String::new(),
            };
            writeln!(
                out,
                "  {}: {}{}",
                status.as_str(),
                printable(&check.path),
                printable(&detail)
            )?;
        }
        if shown < files.len() {
            writeln!(
                out,
                "  and {} more {} files (-v lists them)",
                files.len() - shown,
                status.as_str()
            )?;
        }
    }
    if summary.usable_entries() == 0 {
        writeln!(
            out,
            "error: no manifest entry could be read from the given manifests"
        )?;
    }
    Ok(())
}
