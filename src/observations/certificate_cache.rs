//! A bounded cache of certificate summaries, shared by the sessions of one scan.
//!
//! The same server certificates come back in session after session, and
//! parsing X.509 and formatting its names costs far more than comparing
//! the DER with a copy. Entries are found by the DER's length and last
//! bytes, which lie in the signature, and a hit is confirmed by comparing
//! the whole DER, so a hit costs neither a hash of the certificate nor a
//! parse.

use std::collections::HashMap;
use std::sync::Arc;

use wiretrust_tls::certificate::{CertificateInfo, summarize_certificate};

use super::session::CertificateRecord;
use super::time::format_rfc3339;

/// The two views of one certificate that a session uses: the parsed facts
/// for host name checks, and the record written to the observation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateSummary {
    /// The facts parsed from the DER.
    pub info: CertificateInfo,
    /// The observation record built from `info`, shared by every session
    /// that carries the certificate.
    pub record: Arc<CertificateRecord>,
}

impl CertificateSummary {
    /// Parses a DER certificate without looking in any cache.
    pub fn of(der: &[u8]) -> Self {
        let info = summarize_certificate(der);
        let record = Arc::new(certificate_record(&info));
        Self { info, record }
    }
}

/// Bytes from the end of a DER certificate that go into its cache key.
/// They lie in the signature, which differs between any two certificates
/// an issuer signed.
const KEY_TAIL_LEN: usize = 32;

/// The lookup key of a certificate: its DER length and last bytes.
type Key = (usize, [u8; KEY_TAIL_LEN]);

fn key_of(der: &[u8]) -> Key {
    let mut tail = [0; KEY_TAIL_LEN];
    let from = der.len().saturating_sub(KEY_TAIL_LEN);
    for (slot, &byte) in tail.iter_mut().zip(der.get(from..).unwrap_or_default()) {
        *slot = byte;
    }
    (der.len(), tail)
}

/// A cached summary with the DER it was made from, to confirm a hit.
#[derive(Debug)]
struct Entry {
    der: Box<[u8]>,
    summary: Arc<CertificateSummary>,
}

/// Summaries of the certificates seen most recently.
///
/// Memory stays bounded, because entries live in two generations, each
/// with at most half the entries and half the DER bytes of the limits.
/// When the newer generation fills up, the older one is dropped and the
/// newer one takes its place. A hit in the older generation moves the
/// entry to the newer one, so a recurring certificate stays while one seen
/// once is eventually forgotten. A summary copies the names, and the hex of
/// values that are not text, from its DER, so the DER limit bounds the
/// memory of the summaries too.
///
/// Two different certificates with the same key share one slot: each
/// lookup of either parses anew and replaces the other, so a crafted
/// capture can defeat the cache but never get a wrong summary.
#[derive(Debug)]
pub struct CertificateCache {
    newer: HashMap<Key, Entry>,
    older: HashMap<Key, Entry>,
    /// DER bytes of the certificates in `newer`.
    newer_der_bytes: usize,
    /// Largest number of entries in one generation.
    generation_entries: usize,
    /// Largest number of DER bytes in one generation.
    generation_der_bytes: usize,
    hits: u64,
    misses: u64,
}

impl Default for CertificateCache {
    /// Creates a cache with the default limits, [`CertificateCache::DEFAULT_MAX_ENTRIES`]
    /// and [`CertificateCache::DEFAULT_MAX_DER_BYTES`].
    fn default() -> Self {
        Self::new(Self::DEFAULT_MAX_ENTRIES, Self::DEFAULT_MAX_DER_BYTES)
    }
}

impl CertificateCache {
    /// Default limit on entries: about five times the distinct certificates
    /// in all public test captures together (209).
    pub const DEFAULT_MAX_ENTRIES: usize = 1024;

    /// Default limit on the DER bytes of the cached certificates, 2 MiB.
    pub const DEFAULT_MAX_DER_BYTES: usize = 2 << 20;

    /// Creates an empty cache that keeps at most `max_entries` summaries of
    /// certificates of at most `max_der_bytes` DER bytes together. Each limit
    /// is rounded up to an even number, and a certificate larger than half
    /// of `max_der_bytes` is summarized but not kept.
    pub fn new(max_entries: usize, max_der_bytes: usize) -> Self {
        Self {
            newer: HashMap::new(),
            older: HashMap::new(),
            newer_der_bytes: 0,
            generation_entries: max_entries.div_ceil(2).max(1),
            generation_der_bytes: max_der_bytes.div_ceil(2),
            hits: 0,
            misses: 0,
        }
    }

    /// Returns the summary of a DER certificate, parsing it only when the
    /// cache contains no certificate with the same DER.
    pub fn summarize(&mut self, der: &[u8]) -> Arc<CertificateSummary> {
        let key = key_of(der);
        if let Some(entry) = self.newer.get(&key).filter(|entry| *entry.der == *der) {
            self.hits = self.hits.saturating_add(1);
            return Arc::clone(&entry.summary);
        }
        let entry = match self.older.remove(&key) {
            Some(entry) if *entry.der == *der => {
                self.hits = self.hits.saturating_add(1);
                entry
            }
            _ => {
                self.misses = self.misses.saturating_add(1);
                let summary = Arc::new(CertificateSummary::of(der));
                Entry {
                    der: der.into(),
                    summary,
                }
            }
        };
        let summary = Arc::clone(&entry.summary);
        if der.len() <= self.generation_der_bytes {
            self.insert(key, entry);
        }
        summary
    }

    /// Adds an entry to the newer generation, first making that generation
    /// the older one when the entry would not fit.
    fn insert(&mut self, key: Key, entry: Entry) {
        let der_len = entry.der.len();
        let der_bytes = self.newer_der_bytes.saturating_add(der_len);
        if self.newer.len() >= self.generation_entries || der_bytes > self.generation_der_bytes {
            self.older = std::mem::take(&mut self.newer);
            self.newer_der_bytes = 0;
        }
        if let Some(replaced) = self.newer.insert(key, entry) {
            self.newer_der_bytes = self.newer_der_bytes.saturating_sub(replaced.der.len());
        }
        self.newer_der_bytes = self.newer_der_bytes.saturating_add(der_len);
    }

    /// Returns the number of summaries held.
    pub fn len(&self) -> usize {
        self.newer.len().saturating_add(self.older.len())
    }

    /// True when no summary is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Returns how many lookups found a summary in the cache.
    pub fn hits(&self) -> u64 {
        self.hits
    }

    /// Returns how many lookups had to parse the certificate.
    pub fn misses(&self) -> u64 {
        self.misses
    }
}

/// Builds the observation record of a certificate; validity times are
/// Unix seconds in `info` and RFC 3339 in the record.
pub(crate) fn certificate_record(info: &CertificateInfo) -> CertificateRecord {
    CertificateRecord {
        sha256: info.sha256.clone(),
        subject: info.subject.clone(),
        issuer: info.issuer.clone(),
        dns_names: info.dns_names.clone(),
        not_before: info
            .not_before
            .map(|s| format_rfc3339(s.saturating_mul(1_000_000_000))),
        not_after: info
            .not_after
            .map(|s| format_rfc3339(s.saturating_mul(1_000_000_000))),
        key_type: info.key_type.clone(),
        key_bits: info.key_bits,
        self_issued: info.self_issued,
        spki_sha256: info.spki_sha256.clone(),
        parse_error: info.parse_error.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn der(index: u8) -> Vec<u8> {
        vec![0x30, 0x03, 0x02, 0x01, index]
    }

    #[test]
    fn second_lookup_is_hit() {
        let mut cache = CertificateCache::new(4, 1 << 20);
        let first = cache.summarize(&der(1));
        let second = cache.summarize(&der(1));
        assert!(Arc::ptr_eq(&first, &second));
        assert_eq!((cache.hits(), cache.misses()), (1, 1));
    }

    #[test]
    fn cached_summary_matches_fresh() {
        let mut cache = CertificateCache::new(4, 1 << 20);
        cache.summarize(&der(7));
        assert_eq!(*cache.summarize(&der(7)), CertificateSummary::of(&der(7)));
    }

    #[test]
    fn capacity_bounds_entries() {
        let mut cache = CertificateCache::new(4, 1 << 20);
        for index in 0..20 {
            cache.summarize(&der(index));
        }
        assert!(cache.len() <= 4, "{} entries", cache.len());
        assert_eq!(cache.misses(), 20);
    }

    #[test]
    fn der_budget_bounds_entries() {
        let mut cache = CertificateCache::new(100, 2 * der(0).len());
        for index in 0..5 {
            cache.summarize(&der(index));
        }
        // One certificate per generation fits the budget of two.
        assert_eq!(cache.len(), 2);
    }

    #[test]
    fn oversized_certificate_not_kept() {
        let mut cache = CertificateCache::new(100, der(0).len());
        cache.summarize(&der(1));
        assert!(cache.is_empty());
    }

    #[test]
    fn shared_key_never_mixes_certificates() {
        let mut cache = CertificateCache::new(4, 1 << 20);
        // Longer than the key tail, and different only before it.
        let mut first = vec![0x30, 38, 0x04, 36];
        first.extend([0x55; 36]);
        let mut second = first.clone();
        second[4] = 0x66;
        assert_eq!(key_of(&first), key_of(&second));
        assert_eq!(*cache.summarize(&first), CertificateSummary::of(&first));
        assert_eq!(*cache.summarize(&second), CertificateSummary::of(&second));
        assert_eq!(*cache.summarize(&first), CertificateSummary::of(&first));
        assert_eq!(cache.misses(), 3);
    }

    #[test]
    fn recurring_entry_survives_rotation() {
        let mut cache = CertificateCache::new(4, 1 << 20);
        for index in 10..30 {
            cache.summarize(&der(1));
            cache.summarize(&der(index));
        }
        assert_eq!(cache.misses(), 21);
        assert_eq!(cache.hits(), 19);
    }
}
