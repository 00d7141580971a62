//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use wiretrust::detections::Severity;
use wiretrust_tls::registry::ProtocolVersion;

/// Proves TLS traffic from macOS endpoints was not downgraded or tampered
/// with, and finds the evidence when it was.
#[derive(Debug, Parser)]
#[command(name = "wiretrust", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// More diagnostics on stderr (-v info and every input, -vv debug); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// No progress, no summary, only errors on stderr.
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan packet captures (pcap, pcapng, gzip-compressed; directories are walked)
    /// for TLS downgrades and weak negotiation.
    Scan(ScanArgs),
    /// List the built-in detections, or explain one.
    Rules(RulesArgs),
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Capture files or directories to scan.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Alert output: a table for people, or JSON Lines for machines.
    /// `auto` is a table on a terminal and JSON Lines otherwise.
    #[arg(long, value_enum, default_value_t = OutputFormat::Auto)]
    pub format: OutputFormat,
    /// Also write one JSON Lines record per TLS session to FILE.
    #[arg(long, value_name = "FILE")]
    pub observations: Option<PathBuf>,
    /// Exit with status 1 when an alert at or above this severity is raised
    /// (info, low, medium, high, critical).
    #[arg(long, value_name = "SEVERITY", default_value = "high", value_parser = parse_severity)]
    pub fail_on: Severity,
    /// Lowest acceptable negotiated version: ssl3, tls1.0, tls1.1, tls1.2 or tls1.3.
    #[arg(long, value_name = "VERSION", default_value = "tls1.2", value_parser = parse_version)]
    pub min_version: MinVersion,
    /// Name of the endpoint the telemetry came from, used as each alert's host
    /// (default: the client address of each session).
    #[arg(long, value_name = "NAME")]
    pub host: Option<String>,
    /// Threads that read captures: several inputs are read at once, or, from 3
    /// threads on, a single input is split by flow over N-1 workers next to a
    /// reader thread. The output is the same for every N; 1 reads on one
    /// thread. Default: the number of cores.
    #[arg(long, value_name = "N", value_parser = parse_threads)]
    pub threads: Option<usize>,
    /// After the summary, print on stderr the wall and CPU time of each phase,
    /// what went in and out of it, what was dropped, and the peak memory (also
    /// with -q).
    #[arg(long)]
    pub stats: bool,
}

#[derive(Debug, Args)]
pub struct RulesArgs {
    #[command(subcommand)]
    pub command: Option<RulesCommand>,
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// List every detection with its default severity (the default).
    List,
    /// Explain one detection: what it means, false positives, tuning.
    Explain {
        /// Detection id, e.g. tls.downgrade_sentinel.
        id: String,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Auto,
    Table,
    Jsonl,
}

/// A protocol floor given on the command line.
#[derive(Clone, Copy, Debug)]
pub struct MinVersion(pub ProtocolVersion);

fn parse_severity(text: &str) -> Result<Severity, String> {
    Severity::parse(text).ok_or_else(|| {
        format!("invalid severity {text:?}; use info, low, medium, high or critical")
    })
}

fn parse_threads(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(threads) if (1..=MAX_THREADS).contains(&threads) => Ok(threads),
        _ => Err(format!(
            "invalid thread count {text:?}; use a whole number from 1 to {MAX_THREADS}"
        )),
    }
}

/// More threads than this only add channels and memory: the reader thread
/// and the merging thread are the limit long before.
const MAX_THREADS: usize = 256;

fn parse_version(text: &str) -> Result<MinVersion, String> {
    let version = match text
        .to_ascii_lowercase()
        .replace(['_', ' ', 'v'], "")
        .as_str()
    {
        "ssl3" | "ssl3.0" => ProtocolVersion::SSL3,
        "tls1" | "tls1.0" => ProtocolVersion::TLS10,
        "tls1.1" => ProtocolVersion::TLS11,
        "tls1.2" => ProtocolVersion::TLS12,
        "tls1.3" => ProtocolVersion::TLS13,
        _ => {
            return Err(format!(
                "invalid version {text:?}; use ssl3, tls1.0, tls1.1, tls1.2 or tls1.3"
            ));
        }
    };
    Ok(MinVersion(version))
}
