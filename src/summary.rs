//! The scan summary on stderr: totals, what was skipped, and what could not
//! be read and why. Problems are written even with `-q`; totals are not.

use std::io::{self, Write};

use std::time::Duration;

use wiretrust::scan::{InputStatus, InputSummary, Layout, Summary};
use wiretrust::sinks::printable;
use wiretrust::sources::capture::CaptureStats;
use wiretrust::sources::provenance::ProvenanceStats;
use wiretrust::sources::timing::Phase;

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
        let what = if skipped == 1 {
            "1 file that is neither a packet capture, an endpoint log nor a sensor log".to_owned()
        } else {
            format!(
                "{skipped} files that are neither packet captures, endpoint logs nor sensor logs"
            )
        };
        writeln!(out, "  skipped {what} in the directories (-v lists them)")?;
    }
    if summary.usable_inputs() == 0 {
        writeln!(
            out,
            "error: no packet capture, endpoint log or sensor log could be read from the given \
             paths"
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
    let log_bytes: u64 = summary
        .inputs
        .iter()
        .filter_map(|input| input.endpoint.as_ref())
        .map(|stats| stats.reader.bytes)
        .sum();
    let bytes = summary.total(|s| s.bytes) + log_bytes;
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
    write_http_totals(out, summary)?;
    write_starttls_totals(out, summary)?;
    write_endpoint_totals(out, summary)?;
    for (detection, count) in &summary.alerts_by_detection {
        writeln!(out, "    {detection}: {count}")?;
    }
    if summary.suppressed > 0 {
        writeln!(
            out,
            "  {}",
            suppressed_line(summary.suppressed, summary.suppressed_written)
        )?;
    }
    if let Some(line) = baseline_line(summary) {
        writeln!(out, "  {line}")?;
    }
    Ok(())
}

/// Returns the count of alerts the policy suppressed and whether they were
/// written, for the summaries of `scan` and `verify`.
pub fn suppressed_line(suppressed: u64, written: bool) -> String {
    let alerts = plural(suppressed, "alert");
    if written {
        format!("{alerts} suppressed by the policy (written with suppressed_by)")
    } else {
        format!("{alerts} suppressed by the policy (written only with --show-suppressed)")
    }
}

/// Returns what the TLS baseline did in the run, or `None` when it was
/// off (`--no-store`).
pub(crate) fn baseline_line(summary: &Summary) -> Option<String> {
    let config = &summary.baseline_config;
    if config.is_off() {
        return None;
    }
    let counts = &summary.baseline;
    let mut line = if config.learn {
        format!(
            "baseline: learned {} into {} ({} new), {}",
            plural(counts.learned, "sighting"),
            plural(counts.written, "profile"),
            counts.new_profiles,
            plural(counts.lookups, "lookup")
        )
    } else {
        format!(
            "baseline: compared only (--no-learn), {}",
            plural(counts.lookups, "lookup")
        )
    };
    if config.learning_period_ns > 0 {
        line.push_str(&format!(
            ", {} lowered to info (learning period)",
            plural(counts.softened, "alert")
        ));
    }
    Some(line)
}

/// Writes the HTTP transfer totals, when plaintext HTTP was seen.
fn write_http_totals(out: &mut dyn Write, summary: &Summary) -> io::Result<()> {
    let http = &summary.http;
    if http.seen == 0 {
        return Ok(());
    }
    writeln!(
        out,
        "  {}: {} verified by a digest, {} with a digest mismatch, {} with a length mismatch, \
         {} incomplete in the capture, {} not checkable",
        plural(http.seen, "HTTP transfer"),
        http.verified,
        http.mismatched,
        http.length_mismatched,
        http.incomplete,
        plural(http.digests_not_checkable, "digest")
    )
}

/// Writes the STARTTLS dialogue totals, when a mail, file transfer or chat
/// dialogue was seen.
fn write_starttls_totals(out: &mut dyn Write, summary: &Summary) -> io::Result<()> {
    let starttls = &summary.starttls;
    if starttls.seen == 0 {
        return Ok(());
    }
    writeln!(
        out,
        "  {}: {} upgraded to TLS, {} stripped",
        plural(starttls.seen, "STARTTLS dialogue"),
        starttls.upgraded,
        starttls.stripped
    )
}

/// Writes the totals of endpoint logs and eslogger files, when there were any.
fn write_endpoint_totals(out: &mut dyn Write, summary: &Summary) -> io::Result<()> {
    let logs: Vec<_> = summary
        .inputs
        .iter()
        .filter_map(|i| i.endpoint.as_ref())
        .collect();
    if !logs.is_empty() {
        let records: u64 = logs.iter().map(|l| l.reader.records).sum();
        let lost: u64 = logs.iter().map(|l| l.reader.lost_messages).sum();
        writeln!(
            out,
            "  endpoint logs: {}, {} from the network stack, {}",
            plural(records, "record"),
            plural(summary.endpoint_lines, "line"),
            plural(summary.endpoint_connections, "connection")
        )?;
        if lost > 0 {
            writeln!(
                out,
                "  the logs report {} lost before they were written (loss events): \
                 detections may have missed them",
                plural(lost, "message")
            )?;
        }
    }
    let events: u64 = summary
        .inputs
        .iter()
        .filter_map(|i| i.eslogger.as_ref())
        .map(|e| e.events)
        .sum();
    if summary.inputs.iter().any(|i| i.eslogger.is_some()) {
        writeln!(out, "  eslogger: {}", plural(events, "event"))?;
    }
    write_provenance_totals(out, summary)
}

/// Writes the totals of sensor logs and quarantine records, when there
/// were any.
fn write_provenance_totals(out: &mut dyn Write, summary: &Summary) -> io::Result<()> {
    let inputs: Vec<_> = summary
        .inputs
        .iter()
        .filter_map(|i| i.provenance.as_ref())
        .collect();
    if inputs.is_empty() {
        return Ok(());
    }
    let records: u64 = inputs.iter().map(|p| p.read.records).sum();
    let without_hash: u64 = inputs.iter().map(|p| p.without_hash).sum();
    let incomplete: u64 = inputs.iter().map(|p| p.incomplete).sum();
    writeln!(
        out,
        "  sensor logs: {}, {}",
        plural(records, "record"),
        plural(summary.object_sightings, "file sighting")
    )?;
    if without_hash > 0 || incomplete > 0 {
        writeln!(
            out,
            "  not compared: {} without a hash, {} seen only in part",
            plural(without_hash, "file record"),
            plural(incomplete, "transfer")
        )?;
    }
    Ok(())
}

fn write_skipped(out: &mut dyn Write, summary: &Summary) -> io::Result<()> {
    let counters: [(&str, u64); 6] = [
        (
            "UDP datagrams without QUIC",
            summary.total(|s| s.udp_not_quic),
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
    if input.endpoint.is_some() || input.eslogger.is_some() {
        return write_endpoint_input(out, input, &path, verbose);
    }
    if let Some(stats) = &input.provenance {
        return write_provenance_input(out, stats, &path, verbose);
    }
    write_http_warnings(out, &input.stats, &path)?;
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

/// Writes the HTTP parse problems of a capture that was read: the count
/// and the first few word for word. They are findings about the traffic,
/// so they leave the exit status alone.
fn write_http_warnings(out: &mut dyn Write, stats: &CaptureStats, path: &str) -> io::Result<()> {
    if stats.http_warnings == 0 {
        return Ok(());
    }
    writeln!(
        out,
        "warning: {path}: {} in plain HTTP; the transfers around them were read, e.g.:",
        plural(stats.http_warnings, "parse problem")
    )?;
    for example in &stats.http_warning_examples {
        writeln!(out, "  {path}: {}", printable(example))?;
    }
    let unlisted = stats
        .http_warnings
        .saturating_sub(stats.http_warning_examples.len() as u64);
    if unlisted > 0 {
        writeln!(out, "  {path}: {unlisted} more")?;
    }
    Ok(())
}

/// Writes the problems of an endpoint log or eslogger file: unreadable
/// records and lines from the network stack that matched no template.
fn write_endpoint_input(
    out: &mut dyn Write,
    input: &InputSummary,
    path: &str,
    verbose: bool,
) -> io::Result<()> {
    if let Some(stats) = &input.endpoint {
        if verbose {
            writeln!(
                out,
                "  {path}: {} ({}), {} from the network stack",
                plural(stats.reader.records, "record"),
                stats.format,
                plural(stats.parsed + stats.unparsed, "line")
            )?;
        }
        if stats.reader.errors > 0 {
            writeln!(
                out,
                "warning: {path}: {} could not be read; the rest was read",
                plural(stats.reader.errors, "record")
            )?;
        }
        for message in &stats.errors {
            writeln!(out, "  {}", printable(message))?;
        }
        if stats.unparsed > 0 {
            writeln!(
                out,
                "warning: {path}: {} from the network stack matched no known message; \
                 a new macOS release may word them differently, e.g.:",
                plural(stats.unparsed, "line")
            )?;
            for example in &stats.unparsed_examples {
                writeln!(out, "  {}", printable(example))?;
            }
        }
    }
    if let Some(stats) = &input.eslogger {
        if verbose {
            writeln!(
                out,
                "  {path}: {} (eslogger)",
                plural(stats.events, "event")
            )?;
        }
        if stats.errors_total > 0 {
            writeln!(
                out,
                "warning: {path}: {} could not be read; the rest was read",
                plural(stats.errors_total, "line")
            )?;
        }
        for message in &stats.errors {
            writeln!(out, "  {}", printable(message))?;
        }
    }
    Ok(())
}

/// Writes the bad lines of a sensor log or quarantine database.
fn write_provenance_input(
    out: &mut dyn Write,
    stats: &ProvenanceStats,
    path: &str,
    verbose: bool,
) -> io::Result<()> {
    if verbose {
        writeln!(
            out,
            "  {path}: {} ({}), {}",
            plural(stats.read.records, "record"),
            stats.format,
            plural(stats.sightings, "file sighting")
        )?;
    }
    if stats.read.records == 0 && stats.read.bad_lines == 0 {
        writeln!(
            out,
            "warning: {path}: read as {} but it contains no records, only headers or blank \
             lines; pass the log after the sensor has written to it",
            stats.format
        )?;
    }
    if stats.read.bad_lines > 0 {
        writeln!(
            out,
            "warning: {path}: {} could not be read; the rest was read",
            plural(stats.read.bad_lines, "record")
        )?;
    }
    for example in &stats.read.bad_examples {
        writeln!(out, "  {path}: {}", printable(&example.to_string()))?;
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

/// Writes what `--stats` shows: how the work was spread over threads,
/// each phase's wall and CPU time with what went in and out of it, what
/// was dropped, and the peak memory. `written` is the number of bytes the
/// sinks wrote.
pub fn write_stats(out: &mut dyn Write, summary: &Summary, written: u64) -> io::Result<()> {
    writeln!(out, "stats: {}", layout_text(summary.layout))?;
    writeln!(
        out,
        "  {:<16} {:>8} {:>8} {:>7}  {:<40} out",
        "phase", "wall s", "cpu s", "threads", "in"
    )?;
    for (phase, name) in [
        (Phase::Read, "read+decode"),
        (Phase::Reassembly, "reassembly+TLS"),
        (Phase::Detection, "detection"),
        (Phase::Output, "output"),
    ] {
        let (inflow, outflow) = phase_counts(summary, phase, written);
        let (wall, cpu, threads) = match &summary.times {
            Some(times) => (
                seconds(Some(times.wall(phase))),
                seconds(times.cpu(phase)),
                times.threads(phase).to_string(),
            ),
            None => ("-".to_owned(), "-".to_owned(), "-".to_owned()),
        };
        writeln!(
            out,
            "  {name:<16} {wall:>8} {cpu:>8} {threads:>7}  {inflow:<40} {outflow}"
        )?;
    }
    writeln!(
        out,
        "  elapsed {:.3} s; wall and cpu add up the threads of a phase, and a thread \
         that runs several phases shares its cpu among them by wall time",
        summary.elapsed.as_secs_f64()
    )?;
    write_drops(out, summary)?;
    match summary.peak_rss_bytes {
        Some(bytes) => writeln!(out, "  peak RSS: {:.1} MB (VmHWM)", bytes as f64 / 1e6),
        None => writeln!(out, "  peak RSS: not available on this system"),
    }
}

fn layout_text(layout: Layout) -> String {
    match layout {
        Layout::Single => "1 thread".to_owned(),
        Layout::Files { workers } => {
            format!("{workers} worker threads, each reading whole inputs")
        }
        Layout::Flows { workers } => format!(
            "a reader thread and {workers} worker threads, each owning the flows \
             whose addresses hash to it"
        ),
    }
}

/// Describes what went into and came out of `phase`.
fn phase_counts(summary: &Summary, phase: Phase, written: u64) -> (String, String) {
    let total = |counter: fn(&CaptureStats) -> u64| thousands(summary.total(counter));
    let alerts = thousands(summary.alerts_by_detection.values().sum());
    let sessions = thousands(summary.sessions);
    match phase {
        Phase::Read => (
            format!(
                "{:.1} MB, {} packets",
                summary.total(|s| s.bytes) as f64 / 1e6,
                total(|s| s.packets)
            ),
            format!(
                "{} TCP segments, {} UDP datagrams",
                total(|s| s.tcp_segments),
                total(|s| s.udp_datagrams)
            ),
        ),
        Phase::Reassembly => (
            format!(
                "{} segments, {} datagrams",
                total(|s| s.tcp_segments),
                total(|s| s.udp_datagrams)
            ),
            format!(
                "{} TCP flows, {} QUIC connections, {} sessions",
                total(|s| s.flows),
                total(|s| s.quic_connections),
                sessions
            ),
        ),
        Phase::Detection => (format!("{sessions} sessions"), format!("{alerts} alerts")),
        Phase::Output => (
            format!("{sessions} sessions, {alerts} alerts"),
            format!("{:.1} MB written", written as f64 / 1e6),
        ),
    }
}

/// Writes every counter of something dropped or cut short, zero or not, so
/// that runs can be compared line by line.
fn write_drops(out: &mut dyn Write, summary: &Summary) -> io::Result<()> {
    let undecodable: u64 = summary
        .inputs
        .iter()
        .flat_map(|input| input.stats.undecodable.values())
        .sum();
    let drops: [(&str, u64); 16] = [
        (
            "read errors (damaged parts of files)",
            summary.total(|s| s.read_errors_total),
        ),
        ("undecodable frames", undecodable),
        (
            "packets cut short by the snapshot length",
            summary.total(|s| s.truncated_packets),
        ),
        ("non-IP frames", summary.total(|s| s.non_ip_frames)),
        (
            "IP fragments (not reassembled)",
            summary.total(|s| s.ip_fragments),
        ),
        (
            "UDP datagrams without QUIC",
            summary.total(|s| s.udp_not_quic),
        ),
        (
            "QUIC Initial packets not decrypted",
            summary.total(|s| s.quic_undecrypted),
        ),
        ("TCP flows without TLS", summary.total(|s| s.flows_not_tls)),
        ("HTTP parse warnings", summary.total(|s| s.http_warnings)),
        ("capture gaps", summary.total(|s| s.capture_gaps)),
        (
            "bytes missing in capture gaps",
            summary.total(|s| s.capture_gap_bytes),
        ),
        (
            "TCP flows ended by the idle timeout",
            summary.total(|s| s.flows_idle_timeout),
        ),
        (
            "TCP flows evicted (flow table full)",
            summary.total(|s| s.flows_evicted),
        ),
        (
            "TCP buffer limit hits",
            summary.total(|s| s.buffer_limit_hits),
        ),
        (
            "TCP retransmission checks refused (memory limit)",
            summary.total(|s| s.compare_windows_refused),
        ),
        (
            "QUIC connections evicted (tracker full)",
            summary.total(|s| s.quic_connections_evicted),
        ),
    ];
    writeln!(out, "  dropped or cut short:")?;
    for (what, count) in drops {
        writeln!(out, "    {:>12}  {what}", thousands(count))?;
    }
    let crypto = summary.total(|s| s.quic_crypto_bytes_dropped);
    writeln!(
        out,
        "    {:>12}  QUIC CRYPTO bytes dropped (memory limit)",
        thousands(crypto)
    )
}

/// Seconds with three decimals, or `n/a` when unknown.
fn seconds(duration: Option<Duration>) -> String {
    duration.map_or_else(|| "n/a".to_owned(), |d| format!("{:.3}", d.as_secs_f64()))
}

/// `1234567` as `1,234,567`.
fn thousands(count: u64) -> String {
    let digits = count.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

use wiretrust::plural::plural;

#[cfg(test)]
mod tests {
    use wiretrust::detections::baseline::{BaselineConfig, BaselineCounts};

    use super::*;

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn thousands_short_number_plain() {
        assert_eq!(thousands(999), "999");
    }

    #[test]
    fn seconds_unknown_is_na() {
        assert_eq!(seconds(None), "n/a");
    }

    #[test]
    fn stats_without_times_list_phases() {
        let mut out = Vec::new();
        let summary = Summary::default();
        write_stats(&mut out, &summary, 0).unwrap_or_default();
        let text = String::from_utf8_lossy(&out);
        assert!(text.contains("read+decode"), "{text}");
    }

    #[test]
    fn baseline_off_has_no_line() {
        assert_eq!(baseline_line(&Summary::default()), None);
    }

    #[test]
    fn baseline_learning_line() {
        let summary = Summary {
            baseline_config: BaselineConfig {
                learn: true,
                detect: true,
                learning_period_ns: 7 * 86_400_000_000_000,
                commit_every: None,
            },
            baseline: BaselineCounts {
                learned: 15_090,
                new_profiles: 8_653,
                written: 8_653,
                lookups: 15_090,
                store_reads: 9_000,
                softened: 12,
            },
            ..Summary::default()
        };
        let line = baseline_line(&summary).unwrap();
        assert_eq!(
            line,
            "baseline: learned 15090 sightings into 8653 profiles (8653 new), 15090 lookups, \
             12 alerts lowered to info (learning period)"
        );
    }

    #[test]
    fn baseline_compare_only_line() {
        let summary = Summary {
            baseline_config: BaselineConfig {
                learn: false,
                detect: true,
                ..BaselineConfig::default()
            },
            baseline: BaselineCounts {
                lookups: 1,
                ..BaselineCounts::default()
            },
            ..Summary::default()
        };
        let line = baseline_line(&summary).unwrap();
        assert_eq!(line, "baseline: compared only (--no-learn), 1 lookup");
    }

    #[test]
    fn stats_list_every_drop_counter() {
        let mut out = Vec::new();
        write_stats(&mut out, &Summary::default(), 0).unwrap_or_default();
        let text = String::from_utf8_lossy(&out);
        assert!(text.contains("TCP flows evicted"), "{text}");
    }
}
