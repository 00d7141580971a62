//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use wiretrust::detections::Severity;
use wiretrust_store::ProfileFilter;
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
    /// Scan packet captures (pcap, pcapng, gzip-compressed), macOS unified log
    /// exports and archives, and eslogger output for TLS downgrades, tampering
    /// and failures, and sensor logs with file hashes (Zeek, Suricata, osquery,
    /// quarantine records) for downloads whose content differs between hosts.
    /// Directories are walked, and each file is recognised by its content.
    Scan(ScanArgs),
    /// Watch live: the unified log through `log stream` (and `eslogger` as
    /// root) on a Mac, unified log NDJSON on standard input, or an interface;
    /// alerts are written as they are raised, until Ctrl-C or the sources end.
    Watch(WatchArgs),
    /// List the built-in detections, or explain one.
    Rules(RulesArgs),
    /// Print the built-in policy, or check a policy file.
    Policy(PolicyArgs),
    /// Check files against hash manifests (SHA256SUMS, sha256sum, md5sum and
    /// shasum output, BSD-style `SHA256 (file) = ...` lines); a file whose
    /// hash differs raises integrity.manifest_mismatch.
    Verify(VerifyArgs),
    /// Learn, list, export, import and forget the TLS baselines (per host,
    /// process and server) that `scan` compares sessions with.
    Baseline(BaselineArgs),
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Hash manifest to check (repeatable). Its names are relative to its
    /// own folder, as with `sha256sum -c` run there, unless --root is given.
    #[arg(long, value_name = "FILE", required = true)]
    pub manifest: Vec<PathBuf>,
    /// Files or folders (walked) whose files are compared with the
    /// manifests, so that files listed in no manifest are reported as extra.
    /// Without PATH only the manifests' entries are checked.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Folder the manifests' names are relative to.
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Algorithm of lines without a tag: md5, sha1, sha224, sha256, sha384,
    /// sha512, sha512/224 or sha512/256. Default: named by the manifest's
    /// file name (SHA256SUMS, *.md5), else by each digest's length.
    #[arg(long, value_name = "NAME", value_parser = parse_algorithm)]
    pub algorithm: Option<wiretrust_manifest::Algorithm>,
    /// Output: a table of alerts for people, or JSON Lines with one alert per
    /// mismatched file and one `file_check` record per other file. `auto` is
    /// a table on a terminal and JSON Lines otherwise.
    #[arg(long, value_enum, default_value_t = OutputFormat::Auto)]
    pub format: OutputFormat,
    /// Exit with status 1 when an alert at or above this severity is raised
    /// (info, low, medium, high, critical).
    #[arg(long, value_name = "SEVERITY", default_value = "high", value_parser = parse_severity)]
    pub fail_on: Severity,
    /// Host name written in alerts and records (default: this machine's).
    #[arg(long, value_name = "NAME")]
    pub host: Option<String>,
    /// Threads that read and hash files, one file each at a time. Default:
    /// the number of cores.
    #[arg(long, value_name = "N", value_parser = parse_threads)]
    pub threads: Option<usize>,
    #[command(flatten)]
    pub policy: PolicyFileArgs,
}

/// The policy file and what to do with suppressed alerts, shared by scan,
/// watch and verify.
#[derive(Debug, Args)]
pub struct PolicyFileArgs {
    /// Policy file (TOML) with the floor, cipher classes, pins, allowlists,
    /// suppressions and severity overrides; `wiretrust policy show` prints
    /// the built-in default used without it.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Also write the alerts the policy suppressed, each with the entry
    /// that suppressed it (`suppressed_by`). They never count for --fail-on.
    #[arg(long)]
    pub show_suppressed: bool,
}

#[derive(Debug, Args)]
pub struct PolicyArgs {
    #[command(subcommand)]
    pub command: PolicyCommand,
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Print the built-in default policy as TOML.
    Show,
    /// Validate a policy file: exit 0 when valid, 2 with the line, column
    /// and a fix for the first error.
    Check {
        /// The policy file.
        file: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Read `log stream --style ndjson` output from standard input.
    #[arg(long)]
    pub stdin: bool,
    /// Run `log stream --style ndjson` for the network stack's subsystems and
    /// restart it when it exits; also `eslogger` when running as root. The
    /// default on macOS when no other source is given.
    #[arg(long)]
    pub endpoint: bool,
    /// Run `eslogger` for process identities even when not root (it fails
    /// without root and Full Disk Access); --no-eslogger never runs it.
    #[arg(long, overrides_with = "no_eslogger")]
    pub eslogger: bool,
    /// Never run `eslogger`.
    #[arg(long)]
    pub no_eslogger: bool,
    /// Program run for the unified log.
    #[arg(long, value_name = "PROGRAM", default_value = "log")]
    pub log_command: String,
    /// Program run for Endpoint Security events.
    #[arg(long, value_name = "PROGRAM", default_value = "eslogger")]
    pub eslogger_command: String,
    /// Capture live on this interface (repeatable); needs a build with the
    /// `live` feature, and root or CAP_NET_RAW.
    #[arg(long, value_name = "NAME")]
    pub interface: Vec<String>,
    /// BPF filter for --interface, e.g. "tcp port 443".
    #[arg(long, value_name = "EXPRESSION")]
    pub capture_filter: Option<String>,
    /// Alert output: one line per alert for people, or JSON Lines. `auto` is
    /// lines on a terminal and JSON Lines otherwise.
    #[arg(long, value_enum, default_value_t = OutputFormat::Auto)]
    pub format: OutputFormat,
    /// Also write one JSON Lines record per TLS session, HTTP transfer,
    /// STARTTLS dialogue and endpoint connection to FILE.
    #[arg(long, value_name = "FILE")]
    pub observations: Option<PathBuf>,
    /// SQLite store whose TLS baselines the watched sessions are compared
    /// with and learned into, committed every 1,000 sightings (the same
    /// file as `scan --store`). Without it, watch uses no baseline.
    #[arg(long = "store", visible_alias = "baseline-store", value_name = "PATH")]
    pub baseline_store: Option<PathBuf>,
    #[command(flatten)]
    pub detection: DetectionArgs,
}

/// Settings the detections read, shared by scan and watch.
#[derive(Debug, Args)]
pub struct DetectionArgs {
    /// Lowest acceptable negotiated version: ssl3, tls1.0, tls1.1, tls1.2 or
    /// tls1.3. Overrides the policy's [tls] floor (default tls1.2).
    #[arg(long, value_name = "VERSION", value_parser = parse_version)]
    pub min_version: Option<MinVersion>,
    /// Name of the endpoint the telemetry came from, used as each alert's host
    /// (default: the client address of each capture session, the file name of
    /// each endpoint log).
    #[arg(long, value_name = "NAME")]
    pub host: Option<String>,
    /// Fatal TLS alerts or trust failures for one server that raise
    /// stream.alert_burst within --burst-window (2 to 1000). Overrides the
    /// policy's [stream] burst_threshold (default 5).
    #[arg(long, value_name = "COUNT", value_parser = clap::value_parser!(u32).range(2..=1000))]
    pub burst_threshold: Option<u32>,
    /// Window for --burst-threshold, in seconds. Overrides the policy's
    /// [stream] burst_window (default 60).
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u32).range(1..))]
    pub burst_window: Option<u32>,
    #[command(flatten)]
    pub policy: PolicyFileArgs,
    /// User rules in Sigma format: a .yml file or a folder of them. Every
    /// TLS session, endpoint connection and parsed log line is matched, and
    /// a match raises an alert with detection id sigma.<rule id>.
    #[arg(long, value_name = "PATH")]
    pub rules: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Files or directories to scan: captures, unified log exports (log show
    /// --style ndjson or json), .logarchive bundles, eslogger JSON Lines, Zeek
    /// files.log and http.log, Suricata eve.json, osquery result logs,
    /// QuarantineEventsV2 databases.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Alert output: a table for people, or JSON Lines for machines.
    /// `auto` is a table on a terminal and JSON Lines otherwise.
    #[arg(long, value_enum, default_value_t = OutputFormat::Auto)]
    pub format: OutputFormat,
    /// Also write one JSON Lines record per TLS session, HTTP transfer and
    /// STARTTLS dialogue of a capture, per connection of an endpoint log
    /// and per file sighting of a sensor log to FILE.
    #[arg(long, value_name = "FILE")]
    pub observations: Option<PathBuf>,
    /// SQLite file that keeps the file hashes and TLS baselines seen, so later
    /// scans can compare against them (default: $XDG_DATA_HOME/wiretrust/store.sqlite,
    /// else ~/.local/share/wiretrust/store.sqlite; on macOS ~/Library/Application
    /// Support/wiretrust/store.sqlite). Opened only when an input yields TLS
    /// sessions, HTTP transfers, endpoint connections or file sightings.
    #[arg(long, value_name = "PATH", conflicts_with = "no_store")]
    pub store: Option<PathBuf>,
    /// Keep no store: file hashes are compared within this scan only, no TLS
    /// baseline is learned or compared, and nothing is written.
    #[arg(long)]
    pub no_store: bool,
    /// Compare sessions with the TLS baselines without adding to them.
    #[arg(long, conflicts_with = "no_store")]
    pub no_learn: bool,
    /// While a host's first baseline sighting is younger than this at the
    /// time of a session, baseline alerts for it are info: a number with s,
    /// m, h, d or w, e.g. 7d.
    #[arg(
        long,
        value_name = "AGE",
        default_value = "0",
        value_parser = parse_duration_ns,
        conflicts_with = "no_store"
    )]
    pub learning_period: i64,
    /// Exit with status 1 when an alert at or above this severity is raised
    /// (info, low, medium, high, critical).
    #[arg(long, value_name = "SEVERITY", default_value = "high", value_parser = parse_severity)]
    pub fail_on: Severity,
    #[command(flatten)]
    pub detection: DetectionArgs,
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
    /// Run the samples of Sigma rules: each NAME.yml has its true positives
    /// and true negatives in NAME.tests.yml. Exits with status 1 when a
    /// sample fails or a rule does not load.
    Test {
        /// A rule file or a folder of them.
        path: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct BaselineArgs {
    #[command(subcommand)]
    pub command: BaselineCommand,
    /// SQLite file of the baseline (default: the store `scan` uses).
    #[arg(long, value_name = "PATH", global = true)]
    pub store: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum BaselineCommand {
    /// Learn TLS profiles from captures and endpoint logs, raising no alerts.
    Learn(LearnArgs),
    /// List profiles as a table or JSON Lines.
    Show(ShowArgs),
    /// Write profiles to FILE as JSON Lines, one profile per line.
    Export {
        /// Output file, or `-` for standard output.
        file: PathBuf,
        #[command(flatten)]
        filter: FilterArgs,
    },
    /// Unite the store with profiles from a JSON Lines file written by
    /// `baseline export`. Each value keeps the earlier first sighting, the
    /// later last sighting and the larger count of the two copies, so
    /// importing the same file again changes nothing.
    Import {
        /// Input file, or `-` for standard input.
        file: PathBuf,
    },
    /// Delete profiles by host, process or server, or those not seen for a while.
    Forget(ForgetArgs),
}

#[derive(Debug, Args)]
pub struct LearnArgs {
    /// Captures, endpoint logs, or folders of them.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Host name the profiles are kept under (default: the client address
    /// of each capture session, the file name of each endpoint log).
    #[arg(long, value_name = "NAME")]
    pub host: Option<String>,
    /// Threads that read captures (default: the number of cores).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Commit after every N sightings, so a learn that is stopped keeps
    /// what it committed (default: one commit at the end).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub commit_every: Option<u64>,
}

/// Exact matches on a profile's key; unset fields match every profile.
#[derive(Debug, Args)]
pub struct FilterArgs {
    /// Host name or client address.
    #[arg(long, value_name = "H")]
    pub host: Option<String>,
    /// Process identity as `baseline show` lists it, e.g. `name:curl`.
    #[arg(long, value_name = "P")]
    pub process: Option<String>,
    /// Server name, or `IP:port` for sessions without one. Names match
    /// without regard to case, because profiles keep them in lowercase.
    #[arg(long, value_name = "S")]
    pub server: Option<String>,
}

impl FilterArgs {
    pub fn filter(&self) -> ProfileFilter {
        ProfileFilter {
            host: self.host.clone(),
            process: self.process.clone(),
            // Profiles keep DNS names in lower case and without the root's
            // trailing dot.
            server: self
                .server
                .as_deref()
                .map(|name| name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase()),
        }
    }
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    #[command(flatten)]
    pub filter: FilterArgs,
    /// A table for people, or JSON Lines; `auto` is a table on a terminal.
    #[arg(long, value_enum, default_value_t = OutputFormat::Auto)]
    pub format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct ForgetArgs {
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Only profiles last seen longer ago than this: a number with s, m,
    /// h, d or w, e.g. 90d.
    #[arg(long, value_name = "AGE", value_parser = parse_duration_ns)]
    pub older_than: Option<i64>,
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

fn parse_algorithm(text: &str) -> Result<wiretrust_manifest::Algorithm, String> {
    wiretrust_manifest::Algorithm::parse(text).ok_or_else(|| {
        format!(
            "invalid algorithm {text:?}; use md5, sha1, sha224, sha256, sha384, sha512, \
             sha512/224 or sha512/256"
        )
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

/// Parses a duration such as `2w`, `90d`, `12h`, `30m`, `45s` or `0` into
/// nanoseconds, with the units the policy accepts.
fn parse_duration_ns(text: &str) -> Result<i64, String> {
    let invalid =
        || format!("invalid duration {text:?}; use a whole number with s, m, h, d or w, e.g. 7d");
    let trimmed = text.trim();
    if trimmed == "0" {
        return Ok(0);
    }
    // The unit is the last character, which may be more than one byte.
    let unit_at = trimmed.char_indices().last().map_or(0, |(at, _)| at);
    let (number, unit) = trimmed.split_at(unit_at);
    let seconds_per_unit: i64 = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return Err(invalid()),
    };
    let count: i64 = number.parse().map_err(|_| invalid())?;
    if count < 0 {
        return Err(invalid());
    }
    count
        .checked_mul(seconds_per_unit)
        .and_then(|seconds| seconds.checked_mul(1_000_000_000))
        .ok_or_else(invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration_ns("0"), Ok(0));
        assert_eq!(parse_duration_ns("45s"), Ok(45_000_000_000));
        assert_eq!(parse_duration_ns("7d"), Ok(7 * 86_400 * 1_000_000_000));
        assert_eq!(parse_duration_ns("2w"), Ok(14 * 86_400 * 1_000_000_000));
        assert!(parse_duration_ns("7é").is_err());
        assert!(parse_duration_ns("").is_err());
        assert!(parse_duration_ns("7").is_err());
        assert!(parse_duration_ns("-1d").is_err());
        assert!(parse_duration_ns("d").is_err());
        assert!(parse_duration_ns("99999999999999d").is_err());
    }
}
