//! The scan summary on stderr: what was read, what was found, and what
//! could not be read and why.

use std::io::{self, Write};

use wiretrust::scan::{InputStatus, InputSummary, Summary};

/// Writes the summary. `verbose` lists every input, not only troubled ones.
pub fn write_summary(out: &mut dyn Write, summary: &Summary, verbose: bool) -> io::Result<()> {
    let inputs = summary
        .inputs
        .iter()
        .filter(|input| !matches!(input.status, InputStatus::Skipped(_)))
        .count();
    let usable = summary.usable_inputs();
    let packets = summary.total(|s| s.packets);
    let bytes = summary.total(|s| s.bytes);
    let seconds = summary.elapsed.as_secs_f64();
    writeln!(
        out,
        "scanned {usable} of {inputs} inputs: {packets} packets, {:.1} MB in {seconds:.2} s",
        bytes as f64 / 1e6
    )?;
    writeln!(
        out,
        "  {} TCP flows, {} TLS sessions, {} alerts",
        summary.total(|s| s.flows),
        summary.sessions,
        summary.alerts_by_detection.values().sum::<u64>()
    )?;
    for (detection, count) in &summary.alerts_by_detection {
        writeln!(out, "    {detection}: {count}")?;
    }
    write_skipped(out, summary)?;
    write_inputs(out, summary, verbose)
}

fn write_skipped(out: &mut dyn Write, summary: &Summary) -> io::Result<()> {
    let counters: [(&str, u64); 7] = [
        (
            "UDP datagrams (QUIC is not decoded yet)",
            summary.total(|s| s.udp_datagrams),
        ),
        ("non-IP frames", summary.total(|s| s.non_ip_frames)),
        (
            "IP fragments (not reassembled)",
            summary.total(|s| s.ip_fragments),
        ),
        (
            "packets cut short by the snapshot length",
            summary.total(|s| s.truncated_packets),
        ),
        (
            "capture gaps inside TCP streams",
            summary.total(|s| s.capture_gaps),
        ),
        (
            "flows evicted to bound memory",
            summary.total(|s| s.flows_evicted),
        ),
        (
            "frames that could not be decoded",
            summary.total(|s| s.undecodable.values().sum()),
        ),
    ];
    for (what, count) in counters {
        if count > 0 {
            writeln!(out, "  skipped: {count} {what}")?;
        }
    }
    if summary.sessions_with_anomalies > 0 {
        writeln!(
            out,
            "  malformed TLS data in {} sessions (see `anomalies` in --observations), e.g.:",
            summary.sessions_with_anomalies
        )?;
        for example in &summary.anomaly_examples {
            writeln!(out, "    {example}")?;
        }
    }
    Ok(())
}

fn write_inputs(out: &mut dyn Write, summary: &Summary, verbose: bool) -> io::Result<()> {
    for input in &summary.inputs {
        let path = input.path.display();
        match &input.status {
            InputStatus::Complete if verbose => {
                writeln!(out, "  {path}: {} packets", input.stats.packets)?;
            }
            InputStatus::Complete => {}
            InputStatus::Skipped(reason) if verbose => {
                writeln!(out, "  {path}: skipped: {reason}")?
            }
            InputStatus::Skipped(_) => {}
            InputStatus::Unreadable(reason) => writeln!(out, "error: {path}: {reason}")?,
            InputStatus::Partial => write_partial(out, input)?,
        }
        for (reason, count) in &input.stats.undecodable {
            if verbose {
                writeln!(out, "  {path}: {count} frames not decoded: {reason}")?;
            }
        }
    }
    let skipped = summary
        .inputs
        .iter()
        .filter(|i| matches!(i.status, InputStatus::Skipped(_)));
    let skipped = skipped.count();
    if skipped > 0 && !verbose {
        writeln!(
            out,
            "  skipped {skipped} files in directories that are not captures (-v lists them)"
        )?;
    }
    Ok(())
}

fn write_partial(out: &mut dyn Write, input: &InputSummary) -> io::Result<()> {
    let path = input.path.display();
    let stats = &input.stats;
    writeln!(
        out,
        "warning: {path}: read {} packets, but {} part(s) of the file could not be read{}",
        stats.packets,
        stats.read_errors_total,
        if stats.incomplete {
            "; reading stopped early"
        } else {
            ""
        }
    )?;
    for message in &stats.read_errors {
        writeln!(out, "  {path}: {message}")?;
    }
    let unlisted = stats
        .read_errors_total
        .saturating_sub(stats.read_errors.len() as u64);
    if unlisted > 0 {
        writeln!(out, "  {path}: {unlisted} more")?;
    }
    Ok(())
}
