//! Time spent per scan phase, for `wiretrust scan --stats`: wall and CPU
//! time per phase, and the peak memory of the process.
//!
//! Timing is chosen at compile time: code generic over [`Stopwatch`] and
//! given [`Off`] contains no clock reads at all, so a scan without
//! `--stats` pays nothing for it.

use std::time::{Duration, Instant};

/// A stage of the scan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Reading the capture file and decoding link, IP and transport headers.
    Read,
    /// TCP reassembly, QUIC Initial decryption and TLS parsing into sessions.
    Reassembly,
    /// Ordering sessions by start time and running the detections.
    Detection,
    /// Writing alerts and observations to the sinks.
    Output,
}

impl Phase {
    /// Every phase, in pipeline order.
    pub const ALL: [Phase; 4] = [
        Phase::Read,
        Phase::Reassembly,
        Phase::Detection,
        Phase::Output,
    ];

    fn index(self) -> usize {
        match self {
            Phase::Read => 0,
            Phase::Reassembly => 1,
            Phase::Detection => 2,
            Phase::Output => 3,
        }
    }
}

/// Charges elapsed wall time to phases.
pub trait Stopwatch {
    /// Charges the time since the previous lap or restart to `phase`.
    fn lap(&mut self, phase: Phase);
    /// Starts counting from now without charging the time before to anything.
    fn restart(&mut self);
}

/// A stopwatch that measures nothing and costs nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct Off;

impl Stopwatch for Off {
    #[inline(always)]
    fn lap(&mut self, _phase: Phase) {}
    #[inline(always)]
    fn restart(&mut self) {}
}

/// Wall time per phase, measured on one thread.
#[derive(Clone, Debug)]
pub struct PhaseClock {
    last: Instant,
    wall: [Duration; 4],
}

impl Default for PhaseClock {
    fn default() -> Self {
        PhaseClock::new()
    }
}

impl PhaseClock {
    /// Starts a clock that counts from now.
    pub fn new() -> Self {
        PhaseClock {
            last: Instant::now(),
            wall: [Duration::ZERO; 4],
        }
    }

    /// Adds `other`'s wall times, measured on the same thread, to this one's.
    pub fn absorb(&mut self, other: &PhaseClock) {
        for (mine, theirs) in self.wall.iter_mut().zip(other.wall) {
            *mine = mine.saturating_add(theirs);
        }
    }
}

/// The CPU time of one thread, from when it was started.
#[derive(Clone, Copy, Debug)]
pub struct ThreadCpu(Option<Duration>);

impl ThreadCpu {
    /// Starts measuring the calling thread; call [`ThreadCpu::stop`] on the
    /// same thread.
    pub fn start() -> Self {
        ThreadCpu(thread_cpu_time())
    }

    /// Adds the thread's wall times from `clock` to `times`, with its CPU
    /// time since the start shared out over the phases in proportion to
    /// their wall time: one thread interleaves phases packet by packet, and
    /// reading the CPU clock per packet would cost more than the work
    /// measured.
    pub fn stop(self, clock: &PhaseClock, times: &mut PhaseTimes) {
        let cpu = match (self.0, thread_cpu_time()) {
            (Some(start), Some(end)) => Some(end.saturating_sub(start)),
            _ => None,
        };
        let busy: Duration = clock.wall.iter().sum();
        for phase in Phase::ALL {
            let wall = clock.wall[phase.index()];
            times.add(phase, wall, cpu.map(|cpu| cpu_share(cpu, wall, busy)));
        }
    }
}

/// The part of `cpu` that a phase with `wall` out of `busy` wall time used.
fn cpu_share(cpu: Duration, wall: Duration, busy: Duration) -> Duration {
    if busy.is_zero() {
        return Duration::ZERO;
    }
    cpu.mul_f64(wall.as_secs_f64() / busy.as_secs_f64())
}

impl Stopwatch for PhaseClock {
    fn lap(&mut self, phase: Phase) {
        let now = Instant::now();
        let slot = &mut self.wall[phase.index()];
        *slot = slot.saturating_add(now.saturating_duration_since(self.last));
        self.last = now;
    }

    fn restart(&mut self) {
        self.last = Instant::now();
    }
}

/// Wall and CPU time per phase, summed over the threads that ran it.
#[derive(Clone, Debug, Default)]
pub struct PhaseTimes {
    wall: [Duration; 4],
    cpu: [Duration; 4],
    /// Threads that charged time to each phase.
    threads: [u32; 4],
    /// Some thread could not read its CPU clock.
    cpu_unknown: bool,
}

impl PhaseTimes {
    /// Adds one thread's time in `phase`; `cpu` is `None` when the thread
    /// could not read its CPU clock.
    pub fn add(&mut self, phase: Phase, wall: Duration, cpu: Option<Duration>) {
        let i = phase.index();
        self.wall[i] = self.wall[i].saturating_add(wall);
        if !wall.is_zero() {
            self.threads[i] = self.threads[i].saturating_add(1);
        }
        match cpu {
            Some(cpu) => self.cpu[i] = self.cpu[i].saturating_add(cpu),
            None => self.cpu_unknown = true,
        }
    }

    /// Adds all of `other`'s times.
    pub fn merge(&mut self, other: &PhaseTimes) {
        for i in 0..4 {
            self.wall[i] = self.wall[i].saturating_add(other.wall[i]);
            self.cpu[i] = self.cpu[i].saturating_add(other.cpu[i]);
            self.threads[i] = self.threads[i].saturating_add(other.threads[i]);
        }
        self.cpu_unknown |= other.cpu_unknown;
    }

    /// Wall time spent in `phase`, summed over threads (so it can exceed
    /// the scan's elapsed time when threads overlap).
    pub fn wall(&self, phase: Phase) -> Duration {
        self.wall[phase.index()]
    }

    /// CPU time spent in `phase`; `None` where thread CPU time cannot be
    /// read (outside Linux).
    pub fn cpu(&self, phase: Phase) -> Option<Duration> {
        (!self.cpu_unknown).then(|| self.cpu[phase.index()])
    }

    /// Number of threads that worked in `phase`.
    pub fn threads(&self, phase: Phase) -> u32 {
        self.threads[phase.index()]
    }
}

/// CPU time the calling thread has used, from `/proc/thread-self/schedstat`
/// (its first field is nanoseconds on the CPU); `None` where it cannot be
/// read.
pub fn thread_cpu_time() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos: u64 = text.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(nanos))
}

/// The process's peak resident set size in bytes, from the `VmHWM` line of
/// `/proc/self/status`; `None` where it cannot be read.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    parse_vm_hwm(&status)
}

/// Reads `VmHWM:   10240 kB` from the text of `/proc/self/status`.
fn parse_vm_hwm(status: &str) -> Option<u64> {
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let mut fields = line.split_whitespace().skip(1);
    let kib: u64 = fields.next()?.parse().ok()?;
    match fields.next() {
        Some("kB") => kib.checked_mul(1024),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vm_hwm_parsed_in_bytes() {
        let status = "Name:\twiretrust\nVmPeak:\t 20000 kB\nVmHWM:\t   10240 kB\n";
        assert_eq!(parse_vm_hwm(status), Some(10_485_760));
    }

    #[test]
    fn vm_hwm_missing_is_none() {
        assert_eq!(parse_vm_hwm("Name:\twiretrust\n"), None);
    }

    #[test]
    fn vm_hwm_unknown_unit_is_none() {
        assert_eq!(parse_vm_hwm("VmHWM:\t10 MB\n"), None);
    }

    #[test]
    fn off_stopwatch_is_zero_sized() {
        assert_eq!(std::mem::size_of::<Off>(), 0);
    }

    #[test]
    fn cpu_share_follows_wall_time() {
        let share = cpu_share(
            Duration::from_millis(100),
            Duration::from_millis(30),
            Duration::from_millis(40),
        );
        assert_eq!(share, Duration::from_millis(75));
    }

    #[test]
    fn cpu_share_of_idle_thread_zero() {
        let share = cpu_share(Duration::from_millis(5), Duration::ZERO, Duration::ZERO);
        assert_eq!(share, Duration::ZERO);
    }

    #[test]
    fn added_wall_times_sum() {
        let mut times = PhaseTimes::default();
        times.add(Phase::Output, Duration::from_millis(2), None);
        times.add(Phase::Output, Duration::from_millis(3), None);
        assert_eq!(times.wall(Phase::Output), Duration::from_millis(5));
    }

    #[test]
    fn unknown_cpu_reported_as_none() {
        let mut times = PhaseTimes::default();
        times.add(Phase::Read, Duration::from_millis(1), None);
        assert_eq!(times.cpu(Phase::Read), None);
    }
}
