//! `wiretrust verify`: checks files against hash manifests and reports
//! each file as verified, mismatched, missing, extra or unchecked.
//!
//! Each manifest's names are relative to the manifest's folder, as with
//! `sha256sum -c` run there, unless [`VerifyOptions::root`] is set. Files
//! are read on a pool of threads, each file once for all the digests its
//! entries request. Mismatches become `integrity.manifest_mismatch`
//! alerts and the other outcomes [`FileCheck`] records, both written to
//! the sinks in manifest order.

mod hashing;

pub use crate::observations::{CheckStatus, FileCheck};

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use wiretrust_manifest::{Algorithm, Entry, Mode, Request, parse};

use crate::detections::Severity;
use crate::detections::manifest_mismatch::{self, Mismatch};
use crate::observations::format_rfc3339;
use crate::sinks::Sink;
use hashing::{Job, JobResult};

/// Settings of one verification.
#[derive(Clone, Debug)]
pub struct VerifyOptions {
    pub manifests: Vec<PathBuf>,
    /// Files and folders whose files are compared with the manifests, so
    /// that files in no manifest are reported as extra. Empty checks only
    /// the manifests' entries.
    pub paths: Vec<PathBuf>,
    /// Folder the manifests' names are relative to, instead of each
    /// manifest's own folder.
    pub root: Option<PathBuf>,
    /// Algorithm of untagged lines, instead of the one the manifest's file
    /// name or each digest's length implies.
    pub algorithm: Option<Algorithm>,
    /// Worker threads that read and hash files.
    pub threads: usize,
    /// Host name written in alerts and records.
    pub host: String,
    /// Applied to every alert before the sinks see it.
    pub policy: std::sync::Arc<crate::policy::Policy>,
    /// Write suppressed alerts too, with their `suppressed_by`.
    pub show_suppressed: bool,
}

/// One manifest's outcome.
#[derive(Debug)]
pub struct ManifestSummary {
    pub path: PathBuf,
    /// Entries parsed.
    pub entries: usize,
    /// Lines that did not parse, as `line N: reason`.
    pub warnings: Vec<String>,
    /// Reason the manifest could not be read at all.
    pub error: Option<String>,
}

/// Counts and outcomes of a verification, for the summary and the exit
/// status.
#[derive(Debug, Default)]
pub struct VerifySummary {
    pub manifests: Vec<ManifestSummary>,
    /// Records of the files that were not verified, for the summary.
    pub problems: Vec<FileCheck>,
    pub verified: u64,
    pub mismatched: u64,
    pub missing: u64,
    pub extra: u64,
    pub unchecked: u64,
    /// Bytes read from the checked files.
    pub bytes: u64,
    /// Given paths that could not be walked, with the reason.
    pub walk_errors: Vec<String>,
    pub alerts_by_severity: BTreeMap<Severity, u64>,
    /// Alerts the policy suppressed; not in `alerts_by_severity`.
    pub suppressed: u64,
    pub elapsed: Duration,
}

impl VerifySummary {
    /// Manifest entries that could be parsed, over all manifests.
    pub fn usable_entries(&self) -> usize {
        self.manifests.iter().map(|m| m.entries).sum()
    }

    /// True when some manifest, manifest line, listed file or given path
    /// could not be read, or some digest could not be computed.
    pub fn had_unreadable(&self) -> bool {
        let manifest_problem = self
            .manifests
            .iter()
            .any(|m| m.error.is_some() || !m.warnings.is_empty());
        manifest_problem || self.missing > 0 || self.unchecked > 0 || !self.walk_errors.is_empty()
    }

    /// Number of alerts at or above `severity`.
    pub fn alerts_at_or_above(&self, severity: Severity) -> u64 {
        self.alerts_by_severity
            .range(severity..)
            .map(|(_, count)| count)
            .sum()
    }
}

/// One parsed entry with the file it names.
struct Listed {
    manifest: String,
    entry: Entry,
    path: PathBuf,
    /// Index of the job that reads the file, or the error that kept the
    /// file from being opened.
    job: Result<usize, String>,
}

/// Checks the files of every manifest and writes alerts and records to
/// `sinks`.
///
/// Errors are only sink write failures; unreadable manifests and files
/// are reported in the summary.
pub fn verify(options: &VerifyOptions, sinks: &mut [&mut dyn Sink]) -> io::Result<VerifySummary> {
    let started = Instant::now();
    let mut summary = VerifySummary::default();
    let mut listed = read_manifests(options, &mut summary);
    let jobs = plan_jobs(&mut listed);
    let results = hashing::run(&jobs, options.threads);
    let time_ns = now_ns();

    for item in &listed {
        let check = check_entry(item, &results, options, time_ns);
        record(&mut summary, sinks, check, item, &results, options, time_ns)?;
    }
    for check in find_extra(options, &listed, &mut summary, time_ns) {
        summary.extra += 1;
        for sink in sinks.iter_mut() {
            sink.file_check(&check)?;
        }
        summary.problems.push(check);
    }
    for sink in sinks.iter_mut() {
        sink.finish()?;
    }
    summary.bytes = results
        .iter()
        .filter_map(|result| result.as_ref().ok())
        .map(|(size, _)| size)
        .sum();
    summary.elapsed = started.elapsed();
    Ok(summary)
}

/// Reads and parses every manifest; each entry gets the path of its file.
fn read_manifests(options: &VerifyOptions, summary: &mut VerifySummary) -> Vec<Listed> {
    let mut listed = Vec::new();
    for path in &options.manifests {
        let text = match std::fs::read(path) {
            Ok(text) => text,
            Err(err) => {
                summary.manifests.push(ManifestSummary {
                    path: path.clone(),
                    entries: 0,
                    warnings: Vec::new(),
                    error: Some(format!("cannot read manifest {}: {err}", path.display())),
                });
                continue;
            }
        };
        if text.iter().all(u8::is_ascii_whitespace) {
            summary.manifests.push(ManifestSummary {
                path: path.clone(),
                entries: 0,
                warnings: Vec::new(),
                error: Some(format!(
                    "manifest {} is empty: it contains no entries; pass the output of \
                     sha256sum, md5sum or shasum",
                    path.display()
                )),
            });
            continue;
        }
        let file_name = path.file_name().map(|name| name.to_string_lossy());
        let algorithm = options
            .algorithm
            .or_else(|| file_name.and_then(|name| Algorithm::from_file_name(&name)));
        let manifest = parse(&text, algorithm);
        let base = match &options.root {
            Some(root) => root.clone(),
            None => manifest_folder(path),
        };
        summary.manifests.push(ManifestSummary {
            path: path.clone(),
            entries: manifest.entries.len(),
            warnings: manifest.warnings.iter().map(|w| w.to_string()).collect(),
            error: None,
        });
        let manifest_name = path.display().to_string();
        for entry in manifest.entries {
            let path = normalize(&base.join(name_to_path(&entry.name)));
            listed.push(Listed {
                manifest: manifest_name.clone(),
                entry,
                path,
                job: Err(String::new()),
            });
        }
    }
    listed
}

/// Returns the folder of a manifest, `.` for a bare file name.
fn manifest_folder(manifest: &Path) -> PathBuf {
    match manifest.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Drops `.` components after the first, so that the entries `./a` and
/// `a` of manifests in one folder name one file.
fn normalize(path: &Path) -> PathBuf {
    path.components().collect()
}

#[cfg(unix)]
fn name_to_path(name: &[u8]) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    PathBuf::from(std::ffi::OsStr::from_bytes(name))
}

#[cfg(not(unix))]
fn name_to_path(name: &[u8]) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(name).into_owned())
}

/// Makes one job per file, with every digest its entries request, and
/// points each entry at its job. A file whose metadata cannot be read
/// gets no job, and its entries get the error.
fn plan_jobs(listed: &mut [Listed]) -> Vec<Job> {
    let mut jobs: Vec<Job> = Vec::new();
    let mut by_path: HashMap<PathBuf, Result<usize, String>> = HashMap::new();
    for item in listed.iter_mut() {
        let slot = by_path.entry(item.path.clone()).or_insert_with(|| {
            match std::fs::metadata(&item.path) {
                Ok(meta) if meta.is_dir() => Err(format!("{} is a directory", item.path.display())),
                Ok(meta) => {
                    jobs.push(Job {
                        path: item.path.clone(),
                        requests: Vec::new(),
                        size: meta.len(),
                    });
                    Ok(jobs.len() - 1)
                }
                Err(err) => Err(format!("cannot read {}: {err}", item.path.display())),
            }
        });
        item.job = slot.clone();
        if let Ok(index) = *slot {
            let request = Request {
                algorithm: item.entry.algorithm,
                mode: item.entry.mode.canonical(),
            };
            if !jobs[index].requests.contains(&request) {
                jobs[index].requests.push(request);
            }
        }
    }
    jobs
}

/// Compares one entry with its file's digest.
fn check_entry(
    item: &Listed,
    results: &[JobResult],
    options: &VerifyOptions,
    time_ns: i64,
) -> FileCheck {
    let mut check = FileCheck {
        record_type: "file_check",
        time: format_rfc3339(time_ns),
        host: options.host.clone(),
        path: item.path.display().to_string(),
        algorithm: Some(item.entry.algorithm.name()),
        expected: Some(item.entry.digest.clone()),
        actual: None,
        status: CheckStatus::Missing,
        size: None,
        error: None,
        manifest: Some(item.manifest.clone()),
        line: Some(item.entry.line),
    };
    let index = match &item.job {
        Ok(index) => *index,
        Err(error) => {
            check.error = Some(error.clone());
            return check;
        }
    };
    let (size, digests) = match &results[index] {
        Ok(read) => read,
        Err(err) => {
            check.error = Some(format!("cannot read {}: {err}", item.path.display()));
            return check;
        }
    };
    check.size = Some(*size);
    let mode = item.entry.mode.canonical();
    let found = digests
        .iter()
        .find(|(request, _)| request.algorithm == item.entry.algorithm && request.mode == mode);
    match found {
        Some((_, Ok(actual))) => {
            check.status = if *actual == item.entry.digest {
                CheckStatus::Verified
            } else {
                CheckStatus::Mismatched
            };
            check.actual = Some(actual.clone());
        }
        Some((_, Err(err))) => {
            check.status = CheckStatus::Unchecked;
            check.error = Some(err.to_string());
        }
        None => {
            check.status = CheckStatus::Unchecked;
            check.error = Some("no digest was computed for this entry".to_owned());
        }
    }
    check
}

/// Counts one entry's outcome and writes it: an alert for a mismatch, a
/// record for the rest.
fn record(
    summary: &mut VerifySummary,
    sinks: &mut [&mut dyn Sink],
    check: FileCheck,
    item: &Listed,
    results: &[JobResult],
    options: &VerifyOptions,
    time_ns: i64,
) -> io::Result<()> {
    match check.status {
        CheckStatus::Verified => summary.verified += 1,
        CheckStatus::Mismatched => summary.mismatched += 1,
        CheckStatus::Missing => summary.missing += 1,
        CheckStatus::Extra => summary.extra += 1,
        CheckStatus::Unchecked => summary.unchecked += 1,
    }
    if check.status != CheckStatus::Mismatched {
        for sink in sinks.iter_mut() {
            sink.file_check(&check)?;
        }
        if check.status != CheckStatus::Verified {
            summary.problems.push(check);
        }
        return Ok(());
    }

    let sha256 = sha256_of(item, results);
    let mismatch = Mismatch {
        path: &check.path,
        manifest: &item.manifest,
        line: item.entry.line,
        algorithm: item.entry.algorithm.name(),
        expected: &item.entry.digest,
        actual: check.actual.as_deref().unwrap_or_default(),
        sha256: sha256.as_deref(),
        size: check.size.unwrap_or_default(),
        time_ns,
    };
    let mut alert = manifest_mismatch::alert(&mismatch, &options.host);
    let outcome = options.policy.apply(&mut alert, &[]);
    let write = match outcome {
        crate::policy::PolicyOutcome::Kept => {
            *summary
                .alerts_by_severity
                .entry(alert.severity)
                .or_default() += 1;
            true
        }
        crate::policy::PolicyOutcome::Suppressed(_) => {
            summary.suppressed += 1;
            options.show_suppressed
        }
    };
    if write {
        for sink in sinks.iter_mut() {
            sink.alert(&alert)?;
        }
    }
    summary.problems.push(check);
    Ok(())
}

/// Returns the file's SHA-256 when one of its entries requested it.
// NOTE: a file listed only in an MD5 or SHA-1 manifest has no SHA-256, so
// its alert lists flow.file.sha256 as missing rather than reading the
// file a second time.
fn sha256_of(item: &Listed, results: &[JobResult]) -> Option<String> {
    let index = *item.job.as_ref().ok()?;
    let (_, digests) = results[index].as_ref().ok()?;
    digests
        .iter()
        .find(|(request, _)| request.algorithm == Algorithm::Sha256 && request.mode == Mode::Binary)
        .and_then(|(_, digest)| digest.as_ref().ok().cloned())
}

/// Walks the given paths and returns a record for every file that no
/// manifest lists and that is not itself a manifest.
fn find_extra(
    options: &VerifyOptions,
    listed: &[Listed],
    summary: &mut VerifySummary,
    time_ns: i64,
) -> Vec<FileCheck> {
    if options.paths.is_empty() {
        return Vec::new();
    }
    let mut known: HashSet<PathBuf> = listed
        .iter()
        .filter_map(|item| item.path.canonicalize().ok())
        .collect();
    known.extend(
        options
            .manifests
            .iter()
            .filter_map(|path| path.canonicalize().ok()),
    );

    let mut extra = Vec::new();
    let mut seen = HashSet::new();
    for root in &options.paths {
        for entry in walkdir::WalkDir::new(root).sort_by_file_name() {
            let entry = match entry {
                Ok(entry) => entry,
                Err(err) => {
                    summary
                        .walk_errors
                        .push(format!("cannot walk {}: {err}", root.display()));
                    continue;
                }
            };
            if !entry.file_type().is_file() {
                continue;
            }
            let Ok(canonical) = entry.path().canonicalize() else {
                continue;
            };
            if known.contains(&canonical) || !seen.insert(canonical) {
                continue;
            }
            extra.push(FileCheck {
                record_type: "file_check",
                time: format_rfc3339(time_ns),
                host: options.host.clone(),
                path: entry.path().display().to_string(),
                algorithm: None,
                expected: None,
                actual: None,
                status: CheckStatus::Extra,
                size: entry.metadata().ok().map(|meta| meta.len()),
                error: None,
                manifest: None,
                line: None,
            });
        }
    }
    extra
}

fn now_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_nanos()).unwrap_or(i64::MAX)
        })
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::path::PathBuf;

    use wiretrust_manifest::Algorithm;

    use super::{VerifyOptions, VerifySummary, plan_jobs, read_manifests};

    const SHA256_EMPTY: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    const MD5_EMPTY: &str = "d41d8cd98f00b204e9800998ecf8427e";

    fn options(manifests: Vec<PathBuf>) -> VerifyOptions {
        VerifyOptions {
            manifests,
            paths: Vec::new(),
            root: None,
            algorithm: None,
            threads: 1,
            host: "test-host".to_owned(),
            policy: std::sync::Arc::default(),
            show_suppressed: false,
        }
    }

    #[test]
    fn plan_reads_each_file_once() {
        let folder = tempfile::tempdir().expect("temporary folder");
        fs::write(folder.path().join("empty"), b"").expect("file is written");
        let sha256 = folder.path().join("SHA256SUMS");
        let md5 = folder.path().join("MD5SUMS");
        fs::write(&sha256, format!("{SHA256_EMPTY}  empty\n")).expect("manifest is written");
        fs::write(&md5, format!("{MD5_EMPTY}  ./empty\n{MD5_EMPTY} *empty\n"))
            .expect("manifest is written");

        let mut summary = VerifySummary::default();
        let mut listed = read_manifests(&options(vec![sha256, md5]), &mut summary);
        assert_eq!(listed.len(), 3);
        let jobs = plan_jobs(&mut listed);
        assert_eq!(jobs.len(), 1, "{jobs:?}");
        let algorithms: Vec<Algorithm> = jobs[0].requests.iter().map(|r| r.algorithm).collect();
        assert_eq!(algorithms, vec![Algorithm::Sha256, Algorithm::Md5]);
        assert!(listed.iter().all(|item| item.job == Ok(0)));
    }

    #[test]
    fn plan_skips_absent_file() {
        let folder = tempfile::tempdir().expect("temporary folder");
        let manifest = folder.path().join("SHA256SUMS");
        fs::write(&manifest, format!("{SHA256_EMPTY}  absent\n")).expect("manifest is written");

        let mut summary = VerifySummary::default();
        let mut listed = read_manifests(&options(vec![manifest]), &mut summary);
        let jobs = plan_jobs(&mut listed);
        assert!(jobs.is_empty());
        let error = listed[0].job.clone().expect_err("absent file has no job");
        assert!(error.contains("absent"), "{error}");
    }
}
