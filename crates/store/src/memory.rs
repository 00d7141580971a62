//! The store kept in memory: for tests, and for runs that must leave no
//! trace (`--no-store`), where divergence is judged within the run.

use std::collections::{BTreeMap, HashMap};

use crate::{
    ObjectDigest, ProfileFilter, ProfileKey, ServerSummary, Store, StoreError, TlsProfile,
};

/// A [`Store`] whose contents are dropped with it.
#[derive(Debug, Default)]
pub struct MemoryStore {
    /// Digests by (key, algorithm), in order of first sighting.
    objects: HashMap<(String, String), Vec<ObjectDigest>>,
    /// TLS profiles in key order, as `baseline show` lists them.
    profiles: BTreeMap<ProfileKey, TlsProfile>,
}

impl MemoryStore {
    pub fn new() -> Self {
        MemoryStore::default()
    }
}

impl Store for MemoryStore {
    fn object_digests(
        &mut self,
        key: &str,
        algorithm: &str,
    ) -> Result<Vec<ObjectDigest>, StoreError> {
        let digests = self
            .objects
            .get(&(key.to_owned(), algorithm.to_owned()))
            .cloned()
            .unwrap_or_default();
        Ok(digests)
    }

    fn record_object_digest(&mut self, digest: &ObjectDigest) -> Result<bool, StoreError> {
        let known = self
            .objects
            .entry((digest.key.clone(), digest.algorithm.clone()))
            .or_default();
        if known.iter().any(|d| d.digest == digest.digest) {
            return Ok(false);
        }
        known.push(digest.clone());
        Ok(true)
    }

    fn tls_profiles(&mut self, filter: &ProfileFilter) -> Result<Vec<TlsProfile>, StoreError> {
        let found = self
            .profiles
            .values()
            .filter(|profile| filter.matches(&profile.key))
            .cloned()
            .collect();
        Ok(found)
    }

    /// Builds the summary from the server's profiles on each call.
    fn server_summary(&mut self, server: &str) -> Result<Option<ServerSummary>, StoreError> {
        let mut summary: Option<ServerSummary> = None;
        for profile in self.profiles.values().filter(|p| p.key.server == server) {
            summary
                .get_or_insert_with(|| ServerSummary::new(server.to_owned(), profile.first_seen_ns))
                .add_profile(profile, None);
        }
        Ok(summary)
    }

    fn put_tls_profile(&mut self, profile: &TlsProfile) -> Result<(), StoreError> {
        match self.profiles.get_mut(&profile.key) {
            Some(stored) => {
                let mut merged = profile.clone();
                for facet in crate::Facet::ALL {
                    for seen in stored.facet(facet) {
                        if merged.find(facet, &seen.value).is_none() {
                            merged.push_stored(facet, seen.clone());
                        }
                    }
                }
                *stored = merged;
            }
            None => {
                self.profiles.insert(profile.key.clone(), profile.clone());
            }
        }
        Ok(())
    }

    fn add_tls_profile(&mut self, delta: &TlsProfile) -> Result<(), StoreError> {
        match self.profiles.get_mut(&delta.key) {
            Some(stored) => stored.merge(delta.clone()),
            None => {
                self.profiles.insert(delta.key.clone(), delta.clone());
            }
        }
        Ok(())
    }

    fn unite_tls_profile(&mut self, profile: &TlsProfile) -> Result<(), StoreError> {
        match self.profiles.get_mut(&profile.key) {
            Some(stored) => stored.unite(profile.clone()),
            None => {
                self.profiles.insert(profile.key.clone(), profile.clone());
            }
        }
        Ok(())
    }

    fn forget_tls_profiles(
        &mut self,
        filter: &ProfileFilter,
        last_seen_before_ns: Option<i64>,
    ) -> Result<u64, StoreError> {
        let before = self.profiles.len();
        self.profiles.retain(|key, profile| {
            let old = last_seen_before_ns.is_none_or(|limit| profile.last_seen_ns < limit);
            !(filter.matches(key) && old)
        });
        Ok((before - self.profiles.len()) as u64)
    }

    fn host_first_seen(&mut self, host: &str) -> Result<Option<i64>, StoreError> {
        let first = self
            .profiles
            .values()
            .filter(|profile| profile.key.host == host)
            .map(|profile| profile.first_seen_ns)
            .min();
        Ok(first)
    }

    fn commit(&mut self) -> Result<(), StoreError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeat_digest_is_not_new() {
        let mut store = MemoryStore::new();
        let digest = ObjectDigest {
            key: "url:a".to_owned(),
            algorithm: "md5".to_owned(),
            digest: "aa".to_owned(),
            host: "h".to_owned(),
            time_ns: 0,
            input: "eve.json".to_owned(),
            location: "line 1".to_owned(),
            size: None,
        };
        assert!(store.record_object_digest(&digest).unwrap());
        assert!(!store.record_object_digest(&digest).unwrap());
        assert_eq!(store.object_digests("url:a", "md5").unwrap().len(), 1);
        assert!(store.object_digests("url:a", "sha256").unwrap().is_empty());
    }
}
