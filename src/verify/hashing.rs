//! Reads files on a pool of worker threads and computes the digests their
//! manifest entries request, each file once.

use std::fs::File;
use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

use wiretrust_manifest::{Digests, Request, hash_reader};

/// Read buffer of each worker, in bytes. Large reads keep the cost of each
/// read call small next to the hashing of the bytes it returns.
const BUFFER_BYTES: usize = 1 << 20;

/// One file to read and the digests to compute over it.
#[derive(Debug)]
pub struct Job {
    pub path: PathBuf,
    pub requests: Vec<Request>,
    /// Size from the file's metadata, used to start the largest files first.
    pub size: u64,
}

/// Outcome of one job: the bytes read and the digests, or the error that
/// stopped the read.
pub type JobResult = io::Result<(u64, Digests)>;

/// Runs `jobs` on up to `threads` workers and returns the results in the
/// order of `jobs`. The largest files start first, so one large file read
/// last does not leave the other workers idle.
pub fn run(jobs: &[Job], threads: usize) -> Vec<JobResult> {
    let mut order: Vec<usize> = (0..jobs.len()).collect();
    order.sort_by(|&a, &b| jobs[b].size.cmp(&jobs[a].size));
    let workers = threads.clamp(1, jobs.len().max(1));
    let next = AtomicUsize::new(0);

    let mut results: Vec<Option<JobResult>> = (0..jobs.len()).map(|_| None).collect();
    thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| scope.spawn(|| work(jobs, &order, &next)))
            .collect();
        for handle in handles {
            let done = match handle.join() {
                Ok(done) => done,
                Err(panic) => std::panic::resume_unwind(panic),
            };
            for (index, result) in done {
                results[index] = Some(result);
            }
        }
    });
    results
        .into_iter()
        .map(|result| result.unwrap_or_else(|| Err(io::Error::other("file was not read"))))
        .collect()
}

// NOTE: a worker reads and hashes on one thread, with no read-ahead
// thread for large files. On the 1 GB tree of scripts/bench/verify.sh, in
// the page cache, `--threads 1` took 0.63 s user and 0.39 s system time on
// a loaded 2-core EPYC guest, and every core already runs a worker. A read
// thread is untested on cold or slow storage, where it may help.
/// Takes jobs in `order` until none are left and returns each job's index
/// with its result.
fn work(jobs: &[Job], order: &[usize], next: &AtomicUsize) -> Vec<(usize, JobResult)> {
    let mut buffer = vec![0u8; BUFFER_BYTES];
    let mut done = Vec::new();
    loop {
        let position = next.fetch_add(1, Ordering::Relaxed);
        let Some(&index) = order.get(position) else {
            return done;
        };
        let job = &jobs[index];
        let result =
            File::open(&job.path).and_then(|file| hash_reader(file, &job.requests, &mut buffer));
        done.push((index, result));
    }
}
