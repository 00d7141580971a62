//! Process lifetimes: the process that had a pid at a given time.

use std::collections::HashMap;

use crate::ProcessIdentity;
use crate::event::{EsEvent, EsEventKind};

/// Process lifetimes rebuilt from eslogger events.
///
/// A lifetime starts at fork (or at the process's `start_time` when it is
/// first seen as the actor of an event) and ends at exit. Within it, each
/// exec starts a new image. A pid reused by a later process is a new
/// lifetime, distinguished by its start time or, when that is unknown, by its
/// pid version. Feed events in the order eslogger wrote them.
#[derive(Clone, Debug, Default)]
pub struct ProcessTable {
    by_pid: HashMap<u32, Vec<Lifetime>>,
}

/// One process from its start to its exit.
#[derive(Clone, Debug)]
struct Lifetime {
    start_ns: i64,
    /// Whether `start_ns` is the process's own start time rather than the
    /// time it was first seen.
    start_known: bool,
    end_ns: Option<i64>,
    /// Images by the time they began, oldest first; never empty.
    images: Vec<(i64, ProcessIdentity)>,
}

impl Lifetime {
    fn new(identity: &ProcessIdentity, seen_ns: i64) -> Self {
        let start_ns = identity.start_ns.unwrap_or(seen_ns);
        Lifetime {
            start_ns,
            start_known: identity.start_ns.is_some(),
            end_ns: None,
            images: vec![(start_ns, identity.clone())],
        }
    }

    fn covers(&self, time_ns: i64) -> bool {
        self.start_ns <= time_ns && self.end_ns.is_none_or(|end| time_ns <= end)
    }

    /// Tells whether `identity` is this process (in any of its images).
    fn is(&self, identity: &ProcessIdentity) -> bool {
        if let (true, Some(start)) = (self.start_known, identity.start_ns) {
            return start == self.start_ns;
        }
        identity.pidversion.is_some()
            && self
                .images
                .iter()
                .any(|(_, image)| image.pidversion == identity.pidversion)
    }

    fn image_at(&self, time_ns: i64) -> Option<&ProcessIdentity> {
        let later = self.images.partition_point(|(from, _)| *from <= time_ns);
        let index = later.saturating_sub(1);
        self.images.get(index).map(|(_, image)| image)
    }
}

impl ProcessTable {
    /// Creates an empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of process lifetimes known.
    pub fn len(&self) -> usize {
        self.by_pid.values().map(Vec::len).sum()
    }

    /// Tells whether no process is known.
    pub fn is_empty(&self) -> bool {
        self.by_pid.is_empty()
    }

    /// Updates the table with one event: fork adds the child, exec starts a
    /// new image, exit ends the process, and the actor of any event is
    /// remembered.
    pub fn feed(&mut self, event: &EsEvent) {
        let time = event.time_ns;
        self.remember(&event.process, time);
        match &event.kind {
            EsEventKind::Fork { child } => {
                self.start(child, time);
            }
            EsEventKind::Exec { target, .. } => {
                let lifetime = self.lifetime_mut(&event.process, time);
                let known = lifetime
                    .images
                    .iter()
                    .any(|(_, image)| image.pidversion == target.pidversion);
                if !known {
                    lifetime.images.push((time, target.clone()));
                }
            }
            EsEventKind::Exit { .. } => {
                let lifetime = self.lifetime_mut(&event.process, time);
                lifetime.end_ns = Some(time);
            }
            _ => {}
        }
    }

    /// Returns the process image that had `pid` at `time_ns`, if the events
    /// fed so far cover that time. Among lifetimes that overlap (when start
    /// times were unknown) the one that started last wins.
    pub fn lookup(&self, pid: u32, time_ns: i64) -> Option<&ProcessIdentity> {
        let lifetimes = self.by_pid.get(&pid)?;
        let lifetime = lifetimes
            .iter()
            .filter(|lifetime| lifetime.covers(time_ns))
            .max_by_key(|lifetime| lifetime.start_ns)?;
        lifetime.image_at(time_ns)
    }

    /// Adds a process seen at `time_ns` as an event's actor, unless it is
    /// known; fills in an image the table has not seen yet.
    fn remember(&mut self, identity: &ProcessIdentity, time_ns: i64) {
        let lifetime = self.lifetime_mut(identity, time_ns);
        let known = lifetime
            .images
            .iter()
            .any(|(_, image)| image.pidversion == identity.pidversion);
        if !known {
            let from = time_ns.max(lifetime.images.last().map_or(i64::MIN, |(from, _)| *from));
            lifetime.images.push((from, identity.clone()));
        }
    }

    /// Starts a new lifetime for a forked child.
    fn start(&mut self, identity: &ProcessIdentity, time_ns: i64) {
        let lifetimes = self.by_pid.entry(identity.pid).or_default();
        if lifetimes.iter().any(|lifetime| lifetime.is(identity)) {
            return;
        }
        let lifetime = Lifetime::new(identity, time_ns);
        Self::end_earlier(lifetimes, lifetime.start_ns);
        lifetimes.push(lifetime);
    }

    /// Returns the lifetime `identity` belongs to, adding one when none
    /// matches.
    fn lifetime_mut(&mut self, identity: &ProcessIdentity, time_ns: i64) -> &mut Lifetime {
        let lifetimes = self.by_pid.entry(identity.pid).or_default();
        let found = lifetimes.iter().rposition(|lifetime| lifetime.is(identity));
        let index = match found {
            Some(index) => index,
            None => {
                let lifetime = Lifetime::new(identity, time_ns);
                Self::end_earlier(lifetimes, lifetime.start_ns);
                lifetimes.push(lifetime);
                lifetimes.len() - 1
            }
        };
        &mut lifetimes[index]
    }

    /// Ends every earlier lifetime of a pid that a new process now uses,
    /// whether or not its exit was seen.
    fn end_earlier(lifetimes: &mut [Lifetime], start_ns: i64) {
        for lifetime in lifetimes {
            if lifetime.start_ns < start_ns && lifetime.end_ns.is_none() {
                lifetime.end_ns = Some(start_ns - 1);
            }
        }
    }
}
