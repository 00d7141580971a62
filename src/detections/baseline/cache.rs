//! The profiles a run has touched, held in memory between the store and
//! the detections.

// foldhash: the keys are host, process and server names from the input;
// its per-process random seed keeps crafted names from colliding.
use foldhash::{HashMap, HashSet};

use serde::Serialize;
use wiretrust_store::{
    Facet, ProfileFilter, ProfileKey, ServerSummary, Store, StoreError, TlsProfile,
};

use super::observed::{Observed, PLAINTEXT, STARTTLS, TLS};

/// Counts of a run's baseline work, for the summary and `baseline learn`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct BaselineCounts {
    /// Sightings added to profiles.
    pub learned: u64,
    /// Profiles created by this run.
    pub new_profiles: u64,
    /// Profiles written back to the store.
    pub written: u64,
    /// Profile lookups by the detections.
    pub lookups: u64,
    /// Queries sent to the store to fill the cache.
    pub store_reads: u64,
    /// Alerts lowered to info because their host was still learning.
    pub softened: u64,
}

/// Set lookups over one server: its certificates from the server's
/// summary, and the transports of the hosts whose profiles are loaded.
#[derive(Default)]
pub(crate) struct ServerIndex {
    /// SPKI SHA-256 values of the server's leaf certificates.
    pub keys: HashSet<String>,
    pub issuers: HashSet<String>,
    /// Loaded hosts that reached the server over TLS or STARTTLS.
    pub tls_hosts: HashSet<String>,
    /// Loaded hosts that reached the server in plaintext.
    pub plaintext_hosts: HashSet<String>,
}

impl ServerIndex {
    fn add(&mut self, host: &str, facet: Facet, value: &str) {
        let set = match (facet, value) {
            (Facet::SpkiSha256, _) => &mut self.keys,
            (Facet::Issuer, _) => &mut self.issuers,
            (Facet::Transport, TLS | STARTTLS) => &mut self.tls_hosts,
            (Facet::Transport, PLAINTEXT) => &mut self.plaintext_hosts,
            _ => return,
        };
        let entry = match facet {
            Facet::Transport => host,
            _ => value,
        };
        if !set.contains(entry) {
            set.insert(entry.to_owned());
        }
    }
}

/// Profiles by key, loaded on first need per host and server and per
/// signed process, and each server's summary.
///
/// The owner empties the cache with [`ProfileCache::clear`] after writing it
/// back once it has more than [`ProfileCache::LIMIT`] profiles, so memory stays
/// bounded however many hosts and servers a run reads.
#[derive(Default)]
pub(crate) struct ProfileCache {
    profiles: HashMap<ProfileKey, TlsProfile>,
    /// Keys of each server's loaded profiles.
    by_server: HashMap<String, Vec<ProfileKey>>,
    /// Summaries of the servers seen, with this run's sightings added.
    summaries: HashMap<String, ServerSummary>,
    /// Set lookups per server, so the common case (nothing new) needs no
    /// walk over values.
    server_index: HashMap<String, ServerIndex>,
    /// Keys of each (host, process)'s profiles.
    by_process: HashMap<(String, String), Vec<ProfileKey>>,
    /// (server, host) pairs whose profiles were read.
    hosts_loaded: HashSet<(String, String)>,
    /// Servers whose summary was read.
    summaries_loaded: HashSet<String>,
    processes_loaded: HashSet<(String, String)>,
    host_first_seen: HashMap<String, Option<i64>>,
    /// Per changed profile, only the sightings learned since the last
    /// flush. The flush adds them to the stored profile instead of writing
    /// the cached copy, so the sightings another process wrote since the
    /// profile was loaded are kept.
    deltas: HashMap<ProfileKey, TlsProfile>,
    counts: BaselineCounts,
}

impl ProfileCache {
    /// Profiles held before the owner writes them back and empties the
    /// cache. An estimate of the memory: in the 1 GB benchmark the peak RSS
    /// less SQLite's 64 MiB page cache stayed near 55 MiB.
    pub const LIMIT: usize = 20_000;

    /// Loads what the detections may compare `observed` with: the profiles
    /// of its host to its server, the summary of a named server and, for a
    /// signed process, every profile of that process on that host.
    pub fn load(&mut self, store: &mut dyn Store, observed: &Observed) -> Result<(), StoreError> {
        let key = &observed.key;
        // Only a named server's certificates are compared, so an address
        // and port needs no summary.
        if observed.server_name.is_some() && !self.summaries_loaded.contains(&key.server) {
            if let Some(summary) = store.server_summary(&key.server)? {
                let index = self.server_index.entry(key.server.clone()).or_default();
                for seen in &summary.spki_sha256 {
                    index.add(&key.host, Facet::SpkiSha256, &seen.value);
                }
                for seen in &summary.issuers {
                    index.add(&key.host, Facet::Issuer, &seen.value);
                }
                self.summaries.insert(key.server.clone(), summary);
            }
            self.counts.store_reads += 1;
            self.summaries_loaded.insert(key.server.clone());
        }
        self.load_host(store, &key.host, &key.server)?;
        let process = (key.host.clone(), key.process.clone());
        if observed.signed && !self.processes_loaded.contains(&process) {
            let filter = ProfileFilter {
                host: Some(process.0.clone()),
                process: Some(process.1.clone()),
                server: None,
            };
            self.absorb(store.tls_profiles(&filter)?);
            self.counts.store_reads += 1;
            self.processes_loaded.insert(process);
        }
        Ok(())
    }

    /// Loads the profiles of `host` to `server`, once until the cache is
    /// emptied.
    pub fn load_host(
        &mut self,
        store: &mut dyn Store,
        host: &str,
        server: &str,
    ) -> Result<(), StoreError> {
        let pair = (server.to_owned(), host.to_owned());
        if self.hosts_loaded.contains(&pair) {
            return Ok(());
        }
        let filter = ProfileFilter {
            host: Some(pair.1.clone()),
            server: Some(pair.0.clone()),
            process: None,
        };
        self.absorb(store.tls_profiles(&filter)?);
        self.counts.store_reads += 1;
        self.hosts_loaded.insert(pair);
        Ok(())
    }

    /// Adds profiles read from the store, keeping the cached copy of any
    /// key already held, because it may carry unflushed sightings.
    fn absorb(&mut self, profiles: Vec<TlsProfile>) {
        for profile in profiles {
            if self.profiles.contains_key(&profile.key) {
                continue;
            }
            self.index(&profile.key);
            let index = self
                .server_index
                .entry(profile.key.server.clone())
                .or_default();
            for seen in profile.facet(Facet::Transport) {
                index.add(&profile.key.host, Facet::Transport, &seen.value);
            }
            self.profiles.insert(profile.key.clone(), profile);
        }
    }

    /// Returns how many profiles are held.
    pub fn len(&self) -> usize {
        self.profiles.len()
    }

    /// Drops every profile and summary, keeping the counts. Call it only
    /// after [`ProfileCache::flush`]: the store then contains what was learned,
    /// and the next [`ProfileCache::load`] reads it back.
    pub fn clear(&mut self) {
        let counts = self.counts;
        *self = ProfileCache::default();
        self.counts = counts;
    }

    fn index(&mut self, key: &ProfileKey) {
        self.by_server
            .entry(key.server.clone())
            .or_default()
            .push(key.clone());
        self.by_process
            .entry((key.host.clone(), key.process.clone()))
            .or_default()
            .push(key.clone());
    }

    /// Returns the profile of `key`, if one is loaded.
    pub fn get(&mut self, key: &ProfileKey) -> Option<&TlsProfile> {
        self.counts.lookups += 1;
        self.profiles.get(key)
    }

    /// Returns the summary of `server` with this run's sightings, if it
    /// has one.
    pub fn server_summary(&self, server: &str) -> Option<&ServerSummary> {
        self.summaries.get(server)
    }

    /// Returns every loaded profile of `server`: those of the hosts that
    /// reached it in this run.
    pub fn for_server(&self, server: &str) -> Vec<&TlsProfile> {
        self.by_server
            .get(server)
            .into_iter()
            .flatten()
            .filter_map(|key| self.profiles.get(key))
            .collect()
    }

    /// Returns the index of a server's loaded profiles, if it has any.
    pub fn server_index(&self, server: &str) -> Option<&ServerIndex> {
        self.server_index.get(server)
    }

    /// Returns every loaded profile of a process on a host. Complete only
    /// for signed processes, whose profiles [`ProfileCache::load`] reads.
    pub fn for_process(&self, host: &str, process: &str) -> Vec<&TlsProfile> {
        self.by_process
            .get(&(host.to_owned(), process.to_owned()))
            .into_iter()
            .flatten()
            .filter_map(|key| self.profiles.get(key))
            .collect()
    }

    /// Adds one sighting to its profile, creating the profile when new.
    pub fn learn(&mut self, observed: &Observed) {
        if !self.profiles.contains_key(&observed.key) {
            self.index(&observed.key);
            let profile = TlsProfile::new(observed.key.clone(), observed.time_ns);
            self.profiles.insert(observed.key.clone(), profile);
            self.counts.new_profiles += 1;
        }
        let Some(profile) = self.profiles.get_mut(&observed.key) else {
            return;
        };
        profile.count_session(observed.time_ns);
        // The store brings its own summaries up to date when the profiles
        // are written. The cache keeps those of named servers current for
        // the rest of the run.
        let named = observed.server_name.is_some();
        if named && !self.summaries.contains_key(&observed.key.server) {
            let summary = ServerSummary::new(observed.key.server.clone(), observed.time_ns);
            self.summaries.insert(observed.key.server.clone(), summary);
        }
        let summary = self.summaries.get_mut(&observed.key.server);
        let index = match self.server_index.get_mut(&observed.key.server) {
            Some(index) => index,
            None => self
                .server_index
                .entry(observed.key.server.clone())
                .or_default(),
        };
        if let Some(summary) = summary {
            summary.count_session(observed.time_ns);
            for (facet, value) in &observed.values {
                summary.record(*facet, value, observed.time_ns);
            }
        }
        let delta = match self.deltas.get_mut(&observed.key) {
            Some(delta) => delta,
            None => self
                .deltas
                .entry(observed.key.clone())
                .or_insert_with(|| TlsProfile::new(observed.key.clone(), observed.time_ns)),
        };
        delta.count_session(observed.time_ns);
        for (facet, value) in &observed.values {
            profile.record(*facet, value, observed.time_ns);
            delta.record(*facet, value, observed.time_ns);
            index.add(&observed.key.host, *facet, value);
        }
        // The caller asked the store for the host's first sighting before,
        // so a missing entry cannot hide an earlier stored one.
        match self.host_first_seen.get_mut(&observed.key.host) {
            Some(first) => {
                if first.is_none_or(|known| observed.time_ns < known) {
                    *first = Some(observed.time_ns);
                }
            }
            None => {
                let first = Some(observed.time_ns);
                self.host_first_seen
                    .insert(observed.key.host.clone(), first);
            }
        }
        self.counts.learned += 1;
    }

    /// Returns the earliest first sighting of `host`, asking the store
    /// once per host.
    pub fn host_first_seen(
        &mut self,
        store: &mut dyn Store,
        host: &str,
    ) -> Result<Option<i64>, StoreError> {
        if let Some(first) = self.host_first_seen.get(host) {
            return Ok(*first);
        }
        let first = store.host_first_seen(host)?;
        self.counts.store_reads += 1;
        self.host_first_seen.insert(host.to_owned(), first);
        Ok(first)
    }

    /// Adds the sightings learned since the last flush to the stored
    /// profiles, in the store's transaction and in key order.
    pub fn flush(&mut self, store: &mut dyn Store) -> Result<(), StoreError> {
        let mut deltas: Vec<TlsProfile> = self.deltas.drain().map(|(_, delta)| delta).collect();
        deltas.sort_unstable_by(|a, b| a.key.cmp(&b.key));
        for delta in &deltas {
            store.add_tls_profile(delta)?;
            self.counts.written += 1;
        }
        Ok(())
    }

    pub fn count_softened(&mut self, alerts: usize) {
        self.counts.softened += alerts as u64;
    }

    pub fn counts(&self) -> BaselineCounts {
        self.counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wiretrust_store::MemoryStore;

    fn observed(server: &str, spki: &str, time_ns: i64) -> Observed {
        Observed {
            key: ProfileKey {
                host: "h1".to_owned(),
                process: "-".to_owned(),
                server: server.to_owned(),
            },
            time_ns,
            signed: false,
            server_name: Some(server.to_owned()),
            values: vec![
                (Facet::Transport, TLS.to_owned()),
                (Facet::SpkiSha256, spki.to_owned()),
            ],
        }
    }

    #[test]
    fn cleared_cache_reads_back_what_it_learned() {
        let mut store = MemoryStore::new();
        let mut cache = ProfileCache::default();
        for (server, time_ns) in [("a.test", 10), ("b.test", 20)] {
            let sighting = observed(server, "k1", time_ns);
            cache.load(&mut store, &sighting).unwrap();
            cache.learn(&sighting);
        }
        assert_eq!(cache.len(), 2);
        cache.flush(&mut store).unwrap();
        cache.clear();
        assert_eq!(cache.len(), 0);
        assert_eq!(cache.counts().learned, 2);

        let again = observed("a.test", "k2", 30);
        cache.load(&mut store, &again).unwrap();
        let index = cache.server_index("a.test").unwrap();
        assert!(index.keys.contains("k1"));
        assert!(!index.keys.contains("k2"));
        assert!(index.tls_hosts.contains("h1"));
        assert_eq!(cache.get(&again.key).unwrap().sessions, 1);
        assert_eq!(cache.server_summary("a.test").unwrap().sessions, 1);
        // b.test was not needed, so it stays in the store only.
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn flush_keeps_sightings_written_meanwhile() {
        let mut store = MemoryStore::new();
        let mut cache = ProfileCache::default();
        let first = observed("a.test", "k1", 10);
        cache.load(&mut store, &first).unwrap();
        cache.learn(&first);
        cache.flush(&mut store).unwrap();

        // Another process adds a session after this run loaded the profile.
        let mut other = TlsProfile::new(first.key.clone(), 15);
        other.count_session(15);
        other.record(Facet::SpkiSha256, "k1", 15);
        store.add_tls_profile(&other).unwrap();

        cache.learn(&observed("a.test", "k1", 20));
        cache.flush(&mut store).unwrap();
        let stored = store.tls_profiles(&ProfileFilter::default()).unwrap();
        assert_eq!(stored.len(), 1);
        assert_eq!(stored[0].sessions, 3);
        let key = stored[0].find(Facet::SpkiSha256, "k1").unwrap();
        assert_eq!(key.count, 3);
        assert_eq!((key.first_seen_ns, key.last_seen_ns), (10, 20));
        // The cache keeps its own copy for detection.
        assert_eq!(cache.get(&first.key).unwrap().sessions, 2);
        assert_eq!(cache.counts().written, 2);
    }

    #[test]
    fn learning_updates_the_summary_for_later_sessions() {
        let mut store = MemoryStore::new();
        let mut cache = ProfileCache::default();
        let first = observed("a.test", "k1", 10);
        cache.load(&mut store, &first).unwrap();
        cache.learn(&first);
        let summary = cache.server_summary("a.test").unwrap();
        assert_eq!(summary.sessions, 1);
        assert_eq!(summary.spki_sha256[0].value, "k1");
        assert!(summary.issuers.is_empty());
    }
}
