//! The `facets` column of a stored TLS profile or server summary: every
//! value in one compact blob, so that writing a profile is one statement
//! and a profile with a dozen values takes a few hundred bytes.
//!
//! Layout (all integers LEB128; signed ones zigzag-encoded first):
//!
//! ```text
//! blob    = format:u8 (1) block*
//! block   = kind:u8 entries:uint entry{entries}
//! entry   = length:uint value:utf8[length]
//!           first:sint   first sighting minus the row's first sighting, ns
//!           span:sint    last sighting minus first sighting, ns
//!           count:uint
//! ```
//!
//! Kinds are numbered in [`kind_tag`]; a block of a kind this version does
//! not know is kept as it is when the profile is written again. Entries
//! are ordered by first sighting and then by value.

use std::collections::BTreeMap;

use crate::{Facet, Seen, ServerSummary, TlsProfile};

/// The layout version in the first byte.
const FORMAT: u8 = 1;

/// Returns the stable number of a facet in the blob.
fn kind_tag(facet: Facet) -> u8 {
    match facet {
        Facet::Version => 1,
        Facet::Suite => 2,
        Facet::Group => 3,
        Facet::Alpn => 4,
        Facet::Ja4 => 5,
        Facet::SpkiSha256 => 6,
        Facet::Issuer => 7,
        Facet::Transport => 8,
    }
}

fn facet_of(tag: u8) -> Option<Facet> {
    Facet::ALL.into_iter().find(|facet| kind_tag(*facet) == tag)
}

/// Returns the number of a kind named as in [`Facet::as_str`].
pub(crate) fn tag_of_name(name: &str) -> Option<u8> {
    Facet::parse(name).map(kind_tag)
}

/// One decoded value, with absolute times in nanoseconds since the epoch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Entry {
    pub value: String,
    pub first_seen_ns: i64,
    pub last_seen_ns: i64,
    pub count: u64,
}

/// Failure to decode a blob.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DecodeError {
    #[error("layout version {0}, expected {FORMAT}")]
    Format(u8),
    #[error("it ends inside a value at byte {0}")]
    Truncated(usize),
    #[error("an integer at byte {0} is longer than 64 bits")]
    Overlong(usize),
    #[error("the value at byte {0} is not UTF-8")]
    NotUtf8(usize),
}

/// The decoded column, including kinds this version does not know, so that
/// rewriting a profile keeps them.
#[derive(Clone, Debug, Default)]
pub(crate) struct StoredFacets(BTreeMap<u8, Vec<Entry>>);

impl StoredFacets {
    /// Parses a blob written by [`encode`] for a profile first seen at
    /// `profile_first_ns`. An empty blob has no values.
    pub fn parse(blob: &[u8], profile_first_ns: i64) -> Result<StoredFacets, DecodeError> {
        let mut facets = StoredFacets::default();
        let Some((&format, rest)) = blob.split_first() else {
            return Ok(facets);
        };
        if format != FORMAT {
            return Err(DecodeError::Format(format));
        }
        let mut reader = Reader {
            blob,
            at: blob.len() - rest.len(),
        };
        while reader.at < blob.len() {
            let tag = reader.byte()?;
            let entries = reader.uint()?;
            let list = facets.0.entry(tag).or_default();
            for _ in 0..entries {
                let length = usize::try_from(reader.uint()?).unwrap_or(usize::MAX);
                let start = reader.at;
                let bytes = reader.take(length)?;
                let value = std::str::from_utf8(bytes)
                    .map_err(|_| DecodeError::NotUtf8(start))?
                    .to_owned();
                let first_seen_ns = profile_first_ns.saturating_add(reader.sint()?);
                let last_seen_ns = first_seen_ns.saturating_add(reader.sint()?);
                let count = reader.uint()?;
                list.push(Entry {
                    value,
                    first_seen_ns,
                    last_seen_ns,
                    count,
                });
            }
        }
        Ok(facets)
    }

    /// Builds the stored form of the values `pairs` lists per kind name,
    /// leaving out names this version does not know.
    pub fn from_named(pairs: impl IntoIterator<Item = (String, Entry)>) -> StoredFacets {
        let mut facets = StoredFacets::default();
        for (name, entry) in pairs {
            if let Some(tag) = tag_of_name(&name) {
                facets.0.entry(tag).or_default().push(entry);
            }
        }
        facets
    }

    /// Appends every value of a known facet to `profile`.
    pub fn fill(self, profile: &mut TlsProfile) {
        self.each_known(|facet, seen| profile.push_stored(facet, seen));
    }

    /// Appends the values of the facets a summary keeps to `summary`.
    pub fn fill_summary(self, summary: &mut ServerSummary) {
        self.each_known(|facet, seen| summary.push_stored(facet, seen));
    }

    fn each_known(self, mut push: impl FnMut(Facet, Seen)) {
        for (tag, entries) in self.0 {
            let Some(facet) = facet_of(tag) else {
                continue;
            };
            for entry in entries {
                let seen = Seen {
                    value: entry.value,
                    first_seen_ns: entry.first_seen_ns,
                    last_seen_ns: entry.last_seen_ns,
                    count: entry.count,
                };
                push(facet, seen);
            }
        }
    }
}

/// Returns the blob for `profile`, adding the values of `older` that the
/// profile lacks (an older copy of the same profile, or kinds this version
/// does not know).
pub(crate) fn encode(profile: &TlsProfile, older: StoredFacets) -> Vec<u8> {
    encode_values(profile.first_seen_ns, |facet| profile.facet(facet), older)
}

/// Returns the blob for `summary`.
pub(crate) fn encode_summary(summary: &ServerSummary) -> Vec<u8> {
    let values = |facet| summary.facet(facet);
    encode_values(summary.first_seen_ns, values, StoredFacets::default())
}

/// Returns the blob of the values `facet_values` gives per facet, for a
/// row first seen at `row_first_ns`, with the values of `older` it lacks.
fn encode_values<'a>(
    row_first_ns: i64,
    facet_values: impl Fn(Facet) -> &'a [Seen],
    older: StoredFacets,
) -> Vec<u8> {
    let mut blocks: BTreeMap<u8, Vec<Entry>> = BTreeMap::new();
    for facet in Facet::ALL {
        let values = facet_values(facet);
        if values.is_empty() {
            continue;
        }
        let entries = values
            .iter()
            .map(|seen| Entry {
                value: seen.value.clone(),
                first_seen_ns: seen.first_seen_ns,
                last_seen_ns: seen.last_seen_ns,
                count: seen.count,
            })
            .collect();
        blocks.insert(kind_tag(facet), entries);
    }
    for (tag, stored) in older.0 {
        let entries = blocks.entry(tag).or_default();
        let own = entries.len();
        for entry in stored {
            if !entries[..own].iter().any(|held| held.value == entry.value) {
                entries.push(entry);
            }
        }
    }
    let mut blob = Vec::with_capacity(256);
    blob.push(FORMAT);
    for (tag, mut entries) in blocks {
        entries
            .sort_unstable_by(|a, b| (a.first_seen_ns, &a.value).cmp(&(b.first_seen_ns, &b.value)));
        blob.push(tag);
        put_uint(&mut blob, entries.len() as u64);
        for entry in entries {
            put_uint(&mut blob, entry.value.len() as u64);
            blob.extend_from_slice(entry.value.as_bytes());
            put_sint(&mut blob, entry.first_seen_ns.saturating_sub(row_first_ns));
            put_sint(
                &mut blob,
                entry.last_seen_ns.saturating_sub(entry.first_seen_ns),
            );
            put_uint(&mut blob, entry.count);
        }
    }
    blob
}

fn put_uint(blob: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        blob.push((value as u8) | 0x80);
        value >>= 7;
    }
    blob.push(value as u8);
}

fn put_sint(blob: &mut Vec<u8>, value: i64) {
    put_uint(blob, ((value << 1) ^ (value >> 63)) as u64);
}

struct Reader<'a> {
    blob: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn byte(&mut self) -> Result<u8, DecodeError> {
        let byte = *self
            .blob
            .get(self.at)
            .ok_or(DecodeError::Truncated(self.at))?;
        self.at += 1;
        Ok(byte)
    }

    fn take(&mut self, length: usize) -> Result<&[u8], DecodeError> {
        let end = self
            .at
            .checked_add(length)
            .filter(|end| *end <= self.blob.len())
            .ok_or(DecodeError::Truncated(self.at))?;
        let bytes = &self.blob[self.at..end];
        self.at = end;
        Ok(bytes)
    }

    fn uint(&mut self) -> Result<u64, DecodeError> {
        let start = self.at;
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.byte()?;
            let bits = u64::from(byte & 0x7f);
            if shift == 63 && bits > 1 {
                return Err(DecodeError::Overlong(start));
            }
            value |= bits << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(DecodeError::Overlong(start))
    }

    fn sint(&mut self) -> Result<i64, DecodeError> {
        let raw = self.uint()?;
        Ok(((raw >> 1) as i64) ^ -((raw & 1) as i64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ProfileKey;

    fn profile() -> TlsProfile {
        let key = ProfileKey {
            host: "h".to_owned(),
            process: "-".to_owned(),
            server: "example.test".to_owned(),
        };
        let mut profile = TlsProfile::new(key, 1_700_000_000_000_000_000);
        profile.record(Facet::Version, "TLS 1.3", 1_700_000_000_000_000_900);
        profile.record(Facet::Version, "TLS 1.3", 1_700_000_086_400_000_000);
        profile.record(Facet::Version, "TLS 1.2", 1_700_000_000_000_000_000);
        profile.record(Facet::Issuer, "CN=Ünïcode CA", 1_700_000_000_000_000_000);
        profile
    }

    fn decode(blob: &[u8], first: i64) -> TlsProfile {
        let mut back = TlsProfile::new(profile().key, first);
        StoredFacets::parse(blob, first).unwrap().fill(&mut back);
        back
    }

    #[test]
    fn round_trip_orders_by_first_sighting() {
        let original = profile();
        let blob = encode(&original, StoredFacets::default());
        let back = decode(&blob, original.first_seen_ns);
        let versions: Vec<&str> = back.versions.iter().map(|s| s.value.as_str()).collect();
        assert_eq!(versions, ["TLS 1.2", "TLS 1.3"]);
        assert_eq!(
            back.find(Facet::Version, "TLS 1.3"),
            original.find(Facet::Version, "TLS 1.3")
        );
        assert_eq!(back.issuers, original.issuers);
        // Relative times keep the blob small: 1 + 2 blocks of 2 bytes,
        // values, and a few bytes of times and counts each.
        assert!(blob.len() < 60, "{} bytes", blob.len());
    }

    #[test]
    fn extreme_times_and_counts_survive() {
        let mut original = profile();
        original.record(Facet::Ja4, "early", i64::MIN);
        original.record(Facet::Ja4, "late", i64::MAX);
        original.spki_sha256.push(Seen {
            value: String::new(),
            first_seen_ns: 0,
            last_seen_ns: 0,
            count: u64::MAX,
        });
        let blob = encode(&original, StoredFacets::default());
        let back = decode(&blob, original.first_seen_ns);
        assert_eq!(
            back.find(Facet::Ja4, "late").unwrap().last_seen_ns,
            i64::MAX
        );
        assert_eq!(back.find(Facet::SpkiSha256, "").unwrap().count, u64::MAX);
    }

    #[test]
    fn kept_values_and_unknown_kinds_survive() {
        let mut older = StoredFacets::from_named([(
            "version".to_owned(),
            Entry {
                value: "TLS 1.0".to_owned(),
                first_seen_ns: 5,
                last_seen_ns: 6,
                count: 2,
            },
        )]);
        older.0.insert(
            200,
            vec![Entry {
                value: "x".to_owned(),
                first_seen_ns: 1,
                last_seen_ns: 1,
                count: 1,
            }],
        );
        let original = profile();
        let blob = encode(&original, older);
        let parsed = StoredFacets::parse(&blob, original.first_seen_ns).unwrap();
        assert_eq!(parsed.0[&200][0].value, "x");
        assert_eq!(parsed.0[&200][0].first_seen_ns, 1);
        assert_eq!(parsed.0[&kind_tag(Facet::Version)].len(), 3);
    }

    #[test]
    fn own_values_win_over_kept_copies() {
        let older = StoredFacets::from_named([(
            "version".to_owned(),
            Entry {
                value: "TLS 1.3".to_owned(),
                first_seen_ns: 1,
                last_seen_ns: 1,
                count: 99,
            },
        )]);
        let original = profile();
        let back = decode(&encode(&original, older), original.first_seen_ns);
        assert_eq!(back.find(Facet::Version, "TLS 1.3").unwrap().count, 2);
    }

    #[test]
    fn damaged_blobs_are_errors_never_panics() {
        let blob = encode(&profile(), StoredFacets::default());
        for cut in 1..blob.len() {
            // Some cuts end exactly between blocks and still parse.
            let _ = StoredFacets::parse(&blob[..cut], 0);
        }
        assert!(matches!(
            StoredFacets::parse(&blob[..blob.len() - 1], 0),
            Err(DecodeError::Truncated(_))
        ));
        assert!(matches!(
            StoredFacets::parse(&[9], 0),
            Err(DecodeError::Format(9))
        ));
        let overlong = [
            FORMAT, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
        ];
        assert!(matches!(
            StoredFacets::parse(&overlong, 0),
            Err(DecodeError::Overlong(2))
        ));
        let not_utf8 = [FORMAT, 1, 1, 1, 0xff, 0, 0, 1];
        assert!(matches!(
            StoredFacets::parse(&not_utf8, 0),
            Err(DecodeError::NotUtf8(4))
        ));
        let mut flipped = blob.clone();
        for at in 1..flipped.len() {
            flipped[at] ^= 0xff;
            let _ = StoredFacets::parse(&flipped, 0);
            flipped[at] ^= 0xff;
        }
        assert!(StoredFacets::parse(&[], 0).unwrap().0.is_empty());
    }
}
