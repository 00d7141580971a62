//! Settings of a scan and the summary it returns, with the counts the summary is made of.
//!
//! The scan driver in `scan` and the per-session pipeline in `pipeline` both use these
//! types. Keeping them here lets the driver use the pipeline without the pipeline importing
//! the driver.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use wiretrust_http::BodyHashing;

use crate::detections::{DetectionConfig, Severity};
use crate::observations::{HttpTransfer, StarttlsDialogue};
use crate::sources::capture::CaptureStats;
use crate::sources::endpoint_log::EndpointStats;
use crate::sources::eslogger::EsloggerStats;
use crate::sources::provenance::ProvenanceStats;
use crate::sources::timing::PhaseTimes;

/// Settings for one scan.
#[derive(Clone, Debug, Default)]
pub struct ScanOptions {
    pub detection: DetectionConfig,
    /// Write alerts the policy suppressed, with their `suppressed_by`;
    /// they are counted apart either way.
    pub show_suppressed: bool,
    /// Selection of the plain HTTP bodies that get an MD5 hash. The
    /// default hashes every body. [`BodyHashing::WhenUsed`] skips MD5 where
    /// no detection reads it, which leaves `md5` out of those
    /// `http_transfer` records.
    pub body_hashing: BodyHashing,
}

/// Thread count and measurement of a scan.
#[derive(Clone, Copy, Debug)]
pub struct Execution {
    /// Threads that read captures. 1 reads everything on the calling
    /// thread. More read several inputs at once, or split a single input
    /// by flow over that many workers next to a reader thread.
    pub threads: usize,
    /// Measure time per phase and peak memory for the summary.
    pub measure: bool,
}

impl Default for Execution {
    /// Returns one thread and no measurement: the plain single-threaded scan.
    fn default() -> Self {
        Execution {
            threads: 1,
            measure: false,
        }
    }
}

/// Distribution of a scan's inputs over threads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Layout {
    /// Everything on the calling thread.
    #[default]
    Single,
    /// Whole inputs read at once by this many worker threads.
    Files {
        /// Worker threads.
        workers: usize,
    },
    /// One input read by a reader thread and split by flow over this many
    /// worker threads.
    Flows {
        /// Worker threads.
        workers: usize,
    },
}

/// Outcome of reading one input.
#[derive(Debug)]
pub enum InputStatus {
    /// Read to the end without trouble.
    Complete,
    /// Read, but parts could not be; the stats list which.
    Partial,
    /// Not read at all; the reason.
    Unreadable(String),
    /// Found by a directory walk and not a capture; skipped.
    Skipped(String),
}

/// One input's outcome.
#[derive(Debug)]
pub struct InputSummary {
    pub path: PathBuf,
    pub status: InputStatus,
    /// Counts of a capture; zero for other inputs.
    pub stats: CaptureStats,
    /// Counts of an endpoint log.
    pub endpoint: Option<EndpointStats>,
    /// Counts of an eslogger file.
    pub eslogger: Option<EsloggerStats>,
    /// Counts of a sensor log or quarantine record.
    pub provenance: Option<ProvenanceStats>,
}

impl InputSummary {
    pub(crate) fn new(path: PathBuf, status: InputStatus) -> Self {
        InputSummary {
            path,
            status,
            stats: CaptureStats::default(),
            endpoint: None,
            eslogger: None,
            provenance: None,
        }
    }
}

/// Counts and outcomes of a scan, for the summary on stderr and the exit status.
#[derive(Debug, Default)]
pub struct Summary {
    pub inputs: Vec<InputSummary>,
    pub alerts_by_detection: BTreeMap<&'static str, u64>,
    pub alerts_by_severity: BTreeMap<Severity, u64>,
    pub sessions: u64,
    /// HTTP transfers read from captures, by outcome.
    pub http: TransferCounts,
    /// STARTTLS dialogues read from captures, by outcome.
    pub starttls: DialogueCounts,
    /// Endpoint log lines recognised as network-stack messages.
    pub endpoint_lines: u64,
    /// Connections written from endpoint logs.
    pub endpoint_connections: u64,
    /// Object sightings from sensor logs, judged and written.
    pub object_sightings: u64,
    /// Counts of what the TLS baseline learned and looked up.
    pub baseline: crate::detections::baseline::BaselineCounts,
    /// Switches of the run's baseline (learning, comparing or off), for the
    /// summary line that goes with `baseline`.
    pub baseline_config: crate::detections::baseline::BaselineConfig,
    /// Sessions whose TLS records held protocol anomalies.
    pub sessions_with_anomalies: u64,
    /// A few anomalies word for word, with their input, for the summary.
    pub anomaly_examples: Vec<String>,
    /// Alerts the policy suppressed; not in the counts above.
    pub suppressed: u64,
    /// The suppressed alerts were written too (`--show-suppressed`).
    pub suppressed_written: bool,
    pub elapsed: Duration,
    /// Distribution of the inputs over threads.
    pub layout: Layout,
    /// Time per phase, when [`Execution::measure`] was set.
    pub times: Option<PhaseTimes>,
    /// Peak resident memory in bytes, when [`Execution::measure`] was set
    /// and the system reports it (Linux).
    pub peak_rss_bytes: Option<u64>,
}

impl Summary {
    /// Inputs that were at least partly read.
    pub fn usable_inputs(&self) -> usize {
        self.inputs
            .iter()
            .filter(|i| matches!(i.status, InputStatus::Complete | InputStatus::Partial))
            .count()
    }

    /// True when some input, or part of one, could not be read.
    pub fn had_unreadable(&self) -> bool {
        self.inputs
            .iter()
            .any(|i| matches!(i.status, InputStatus::Partial | InputStatus::Unreadable(_)))
    }

    /// Number of alerts at or above `severity`.
    pub fn alerts_at_or_above(&self, severity: Severity) -> u64 {
        self.alerts_by_severity
            .range(severity..)
            .map(|(_, count)| count)
            .sum()
    }

    /// Total of a capture counter over all inputs.
    pub fn total(&self, counter: impl Fn(&CaptureStats) -> u64) -> u64 {
        self.inputs.iter().map(|input| counter(&input.stats)).sum()
    }
}

/// Counts of HTTP transfers by the outcome of their digests and lengths.
#[derive(Clone, Copy, Debug, Default)]
pub struct TransferCounts {
    pub seen: u64,
    /// Transfers with at least one verified digest and no mismatch.
    pub verified: u64,
    /// Transfers with at least one mismatching digest.
    pub mismatched: u64,
    /// Transfers whose length disagrees with their framing.
    pub length_mismatched: u64,
    /// Transfers whose body the capture did not see whole.
    pub incomplete: u64,
    /// Digest values that could not be compared with the body (an
    /// invalid value, an unknown algorithm, a body not seen whole or not
    /// decoded).
    pub digests_not_checkable: u64,
}

impl TransferCounts {
    pub(crate) fn count(&mut self, transfer: &HttpTransfer) {
        self.seen += 1;
        if transfer.digests.iter().any(|d| d.mismatch) {
            self.mismatched += 1;
        } else if transfer.digests.iter().any(|d| d.verified) {
            self.verified += 1;
        }
        let not_checkable = transfer
            .digests
            .iter()
            .filter(|d| d.outcome.starts_with("not_checkable"))
            .count();
        self.digests_not_checkable += not_checkable as u64;
        if transfer.length_problem.is_some() {
            self.length_mismatched += 1;
        } else if !transfer.complete {
            self.incomplete += 1;
        }
    }
}

/// Counts of STARTTLS dialogues by outcome.
#[derive(Clone, Copy, Debug, Default)]
pub struct DialogueCounts {
    /// Dialogues of SMTP, IMAP, POP3, FTP or XMPP seen.
    pub seen: u64,
    /// Dialogues where the server accepted STARTTLS and both sides began TLS.
    pub upgraded: u64,
    /// Dialogues with STARTTLS absent, garbled or refused.
    pub stripped: u64,
}

impl DialogueCounts {
    pub(crate) fn count(&mut self, dialogue: &StarttlsDialogue) {
        self.seen += 1;
        if dialogue.upgraded() {
            self.upgraded += 1;
        }
        if dialogue.stripped() {
            self.stripped += 1;
        }
    }
}
