//! The scan summary on stderr: totals, what was skipped, and what could not
//! be read and why. Problems are written even with `-q`; totals are not.

use std::io::{self, Write};

use wiretrust::scan::{InputStatus, InputSummary, Summary};
use wiretrust::sinks::printable;

/// Writes the totals and every problem. `verbose` also lists each input.
pub fn write_summary(out: &mut dyn Write, summary: &Summary, verbose: bool) -> io::Result<()> {
    write_totals(out, summary)?;
    write_skipped(out, summary)?;
    write_problems(out, summary, verbose)
}

/// Writes what went wrong with the inputs: unreadable files, damaged parts
/// and frames that could not be decoded.
pub fn write_problems(out: &mut dyn Write, summary: &Summary, verbose: bool) -> io::Result<()> {
    for input in &summary.inputs {
        write_input(out, input, verbose)?;
    }
    let skipped = summary
        .inputs
        .iter()
        .filter(|i| matches!(i.status, InputStatus::Skipped(_)));
    let skipped = skipped.count();
    if skipped > 0 && !verbose {
        writeln!(
            out,
            "  skipped {} in directories that {} not packet captures (-v lists them)",
            plural(skipped as u64, "file"),
            if skipped == 1 { "is" } else { "are" }
        )?;
    }
    if summary.usable_inputs() == 0 {
        writeln!(
            out,
            "error: no packet capture could be read from the given paths"
        )?;
    }
    Ok(())
}

fn write_totals(out: &mut dyn Write, summary: &Summary) -> io::Result<()> {
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
        "scanned {usable} of {}: {}, {:.1} MB in {seconds:.2} s",
        plural(inputs as u64, "input"),
        plural(packets, "packet"),
        bytes as f64 / 1e6
    )?;
    writeln!(
        out,
        "  {}, {}, {}, {}",
        plural(summary.total(|s| s.flows), "TCP flow"),
        plural(summary.total(|s| s.quic_connections), "QUIC connection"),
        plural(summary.sessions, "TLS session"),
        plural(summary.alerts_by_detection.values().sum::<u64>(), "alert")
    )?;
    for (detection, count) in &summary.alerts_by_detection {
        writeln!(out, "    {detection}: {count}")?;
    }
    Ok(())
}

fn write_skipped(out: &mut dyn Write, summary: &Summary) -> io::Result<()> {
    let counters: [(&str, u64); 6] = [
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
    ];
    for (what, count) in counters {
        if count > 0 {
            writeln!(out, "  skipped: {count} {what}")?;
        }
    }
    if summary.sessions_with_anomalies > 0 {
        writeln!(
            out,
            "  malformed TLS data in {} (see `anomalies` in --observations), e.g.:",
            plural(summary.sessions_with_anomalies, "session")
        )?;
        for example in &summary.anomaly_examples {
            writeln!(out, "    {}", printable(example))?;
        }
    }
    Ok(())
}

fn write_input(out: &mut dyn Write, input: &InputSummary, verbose: bool) -> io::Result<()> {
    let path = input.path.display().to_string();
    let path = printable(&path);
    match &input.status {
        InputStatus::Complete if verbose => {
            writeln!(out, "  {path}: {}", plural(input.stats.packets, "packet"))?;
        }
        InputStatus::Complete => {}
        InputStatus::Skipped(reason) if verbose => {
            writeln!(out, "  {path}: skipped: {}", printable(reason))?;
        }
        InputStatus::Skipped(_) => {}
        InputStatus::Unreadable(reason) if reason.contains(path.as_ref()) => {
            writeln!(out, "error: {}", printable(reason))?;
        }
        InputStatus::Unreadable(reason) => writeln!(out, "error: {path}: {}", printable(reason))?,
        InputStatus::Partial => write_partial(out, input)?,
    }
    Ok(())
}

fn write_partial(out: &mut dyn Write, input: &InputSummary) -> io::Result<()> {
    let path = input.path.display().to_string();
    let path = printable(&path);
    let stats = &input.stats;
    if stats.read_errors_total > 0 || stats.incomplete {
        writeln!(
            out,
            "warning: {path}: read {}, but {} of the file could not be read{}",
            plural(stats.packets, "packet"),
            plural(stats.read_errors_total, "part"),
            if stats.incomplete {
                "; reading stopped early"
            } else {
                ""
            }
        )?;
    }
    for message in &stats.read_errors {
        writeln!(out, "  {path}: {}", printable(message))?;
    }
    let unlisted = stats
        .read_errors_total
        .saturating_sub(stats.read_errors.len() as u64);
    if unlisted > 0 {
        writeln!(out, "  {path}: {unlisted} more")?;
    }
    for (reason, count) in &stats.undecodable {
        writeln!(
            out,
            "warning: {path}: {} could not be decoded: {}",
            plural(*count, "frame"),
            printable(reason)
        )?;
    }
    Ok(())
}

/// `1 packet`, `2 packets`.
fn plural(count: u64, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}
