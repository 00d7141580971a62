//! The profiles a run has touched, held in memory between the store and
//! the detections.

use std::collections::{HashMap, HashSet};

use serde::Serialize;
use wiretrust_store::{Facet, ProfileFilter, ProfileKey, Store, StoreError, TlsProfile};

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

/// The values of every loaded profile of one server, for set lookups.
#[derive(Default)]
pub(crate) struct ServerIndex {
    /// SPKI SHA-256 values of the server's leaf certificates.
    pub keys: HashSet<String>,
    pub issuers: HashSet<String>,
    /// Hosts that reached the server over TLS or STARTTLS.
    pub tls_hosts: HashSet<String>,
    /// Hosts that reached the server in plaintext.
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

/// Profiles by key, loaded per server and per process on first need.
///
/// NOTE: nothing is evicted, so a run keeps every profile of every server it
/// saw in memory. On a 1 GB capture with a 1 M-profile store that reached 178 MiB.
#[derive(Default)]
pub(crate) struct ProfileCache {
    profiles: HashMap<ProfileKey, TlsProfile>,
    /// Keys of each server's profiles, for lookups across hosts and
    /// processes.
    by_server: HashMap<String, Vec<ProfileKey>>,
    /// Certificates and transports of each server over all its profiles,
    /// so the common case (nothing new) needs no walk over them.
    server_index: HashMap<String, ServerIndex>,
    /// Keys of each (host, process)'s profiles.
    by_process: HashMap<(String, String), Vec<ProfileKey>>,
    servers_loaded: HashSet<String>,
    processes_loaded: HashSet<(String, String)>,
    host_first_seen: HashMap<String, Option<i64>>,
    dirty: HashSet<ProfileKey>,
    counts: BaselineCounts,
}

impl ProfileCache {
    /// Loads what the detections may compare `observed` with: every
    /// profile of its server and, for a signed process, every profile of
    /// that process on that host.
    pub fn load(&mut self, store: &mut dyn Store, observed: &Observed) -> Result<(), StoreError> {
        self.load_server(store, &observed.key.server)?;
        let process = (observed.key.host.clone(), observed.key.process.clone());
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

    /// Loads every profile of `server`, once per run.
    pub fn load_server(&mut self, store: &mut dyn Store, server: &str) -> Result<(), StoreError> {
        if self.servers_loaded.contains(server) {
            return Ok(());
        }
        let filter = ProfileFilter {
            server: Some(server.to_owned()),
            ..ProfileFilter::default()
        };
        self.absorb(store.tls_profiles(&filter)?);
        self.counts.store_reads += 1;
        self.servers_loaded.insert(server.to_owned());
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
            for facet in [Facet::SpkiSha256, Facet::Issuer, Facet::Transport] {
                for seen in profile.facet(facet) {
                    index.add(&profile.key.host, facet, &seen.value);
                }
            }
            self.profiles.insert(profile.key.clone(), profile);
        }
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

    /// Returns every loaded profile of `server`.
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
        let index = self
            .server_index
            .entry(observed.key.server.clone())
            .or_default();
        for (facet, value) in &observed.values {
            profile.record(*facet, value, observed.time_ns);
            index.add(&observed.key.host, *facet, value);
        }
        // The caller asked the store for the host's first sighting before,
        // so a missing entry cannot hide an earlier stored one.
        let first = self
            .host_first_seen
            .entry(observed.key.host.clone())
            .or_insert(None);
        if first.is_none_or(|known| observed.time_ns < known) {
            *first = Some(observed.time_ns);
        }
        self.dirty.insert(observed.key.clone());
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

    /// Writes every changed profile into the store's transaction.
    pub fn flush(&mut self, store: &mut dyn Store) -> Result<(), StoreError> {
        let mut dirty: Vec<ProfileKey> = self.dirty.drain().collect();
        dirty.sort_unstable();
        for key in dirty {
            if let Some(profile) = self.profiles.get(&key) {
                store.put_tls_profile(profile)?;
                self.counts.written += 1;
            }
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
