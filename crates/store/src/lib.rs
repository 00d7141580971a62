//! The embedded store: what wiretrust remembers from one run to the next.
//!
//! [`Store`] is the interface the detections use. It contains object digests
//! (which hashes each downloaded object had, first seen where and when) and
//! TLS profiles (what each process on each host used to reach each server,
//! see [`TlsProfile`]). Two
//! implementations exist: [`SqliteStore`], a single SQLite file in WAL
//! mode, and [`MemoryStore`] for tests and `--no-store` runs.
#![forbid(unsafe_code)]

mod facets;
mod location;
mod memory;
mod profile;
mod sqlite;

use std::path::PathBuf;

pub use location::default_path;
pub use memory::MemoryStore;
pub use profile::{Facet, ProfileFilter, ProfileKey, Seen, ServerSummary, TlsProfile};
pub use sqlite::{SCHEMA_VERSION, SqliteStore};

/// One digest of one object, with the first sighting that showed it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectDigest {
    /// Normalised object key: `url:…` or `name:…` (see the sighting type).
    pub key: String,
    /// `sha256`, `sha1` or `md5`.
    pub algorithm: String,
    /// Lower-case hex.
    pub digest: String,
    /// Host of the first sighting.
    pub host: String,
    /// Time of the first sighting, nanoseconds since the Unix epoch.
    pub time_ns: i64,
    /// Input file of the first sighting.
    pub input: String,
    /// Line, packet or row of the first sighting in its input.
    pub location: String,
    /// Object size in bytes, when the first sighting gave it.
    pub size: Option<u64>,
}

/// Failure of the store. Every variant names the store file, because the
/// fix (move it aside, pass another `--store`) is about that file.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The file is not a SQLite database, or SQLite found it damaged.
    #[error(
        "store {path} is not a readable SQLite database ({reason}); move it aside or pass \
         another --store"
    )]
    Corrupt { path: PathBuf, reason: String },
    /// The file is a SQLite database written by another program.
    #[error(
        "store {path} is a SQLite database of another program ({reason}); pass another --store"
    )]
    Foreign { path: PathBuf, reason: String },
    /// The file was written by a newer wiretrust with a later schema.
    #[error(
        "store {path} has schema version {found}, newer than the {supported} this wiretrust \
         reads; upgrade wiretrust or pass another --store"
    )]
    NewerSchema {
        path: PathBuf,
        found: i64,
        supported: i64,
    },
    /// The path names a directory, not a database file.
    #[error(
        "store {path} is a directory; pass the path of a database file to --store, such as \
         {path}/store.sqlite"
    )]
    IsDirectory { path: PathBuf },
    /// Another connection held the write lock for longer than the store
    /// waits.
    #[error(
        "store {path} is locked: another process (usually another wiretrust) is writing it; \
         retry when it ends or pass another --store"
    )]
    Locked { path: PathBuf },
    // The two variants below print their cause and do not expose it as
    // `source()`, because an error chain would print it twice. A rusqlite
    // error's own source is SQLite's message, which repeats its text.
    /// The store's folder could not be created.
    #[error("cannot create the folder of store {path}: {error}")]
    CreateFolder {
        path: PathBuf,
        error: std::io::Error,
    },
    /// A query or write failed.
    #[error("store {path}: {error}")]
    Sqlite {
        path: PathBuf,
        error: rusqlite::Error,
    },
}

/// Persistent state wiretrust keeps between runs. Writes become durable
/// at [`Store::commit`], and reads see the writes made before it.
pub trait Store {
    /// Returns every digest recorded for `key` with `algorithm`.
    fn object_digests(
        &mut self,
        key: &str,
        algorithm: &str,
    ) -> Result<Vec<ObjectDigest>, StoreError>;

    /// Records a sighting of `digest`. Returns true when the (key,
    /// algorithm, digest) triple was new; a repeat only updates its count
    /// and last time.
    fn record_object_digest(&mut self, digest: &ObjectDigest) -> Result<bool, StoreError>;

    /// Returns every TLS profile that `filter` matches.
    fn tls_profiles(&mut self, filter: &ProfileFilter) -> Result<Vec<TlsProfile>, StoreError>;

    /// Returns the summary of `server` over all its profiles, if any
    /// profile of it was written.
    fn server_summary(&mut self, server: &str) -> Result<Option<ServerSummary>, StoreError>;

    /// Writes `profile` as it is, replacing the stored profile of its key
    /// and every stored value it also holds. Values stored but absent from
    /// `profile` are kept. The server's summary gains what the profile
    /// added to the stored copy.
    ///
    /// Another process may have written the profile since it was read, so
    /// a run that learned sightings writes them with
    /// [`Store::add_tls_profile`] instead.
    fn put_tls_profile(&mut self, profile: &TlsProfile) -> Result<(), StoreError>;

    /// Adds `delta`, the sightings of one profile gathered since its last
    /// write, to the stored profile of its key in the write transaction.
    /// Sessions and counts add up, first times take the earlier, last
    /// times the later, and new values are appended. The server's summary
    /// gains the same sightings, so two processes that add their own
    /// deltas to one profile keep the sightings of both.
    fn add_tls_profile(&mut self, delta: &TlsProfile) -> Result<(), StoreError>;

    /// Unites `profile` with the stored profile of its key: first times
    /// take the earlier, last times the later, and sessions and counts the
    /// larger of the two, so uniting the same profile twice changes nothing.
    /// `baseline import` writes with it.
    fn unite_tls_profile(&mut self, profile: &TlsProfile) -> Result<(), StoreError>;

    /// Deletes the profiles `filter` matches, only those last seen before
    /// `last_seen_before_ns` when given, and rebuilds the summaries of
    /// their servers from the profiles left. Returns how many were
    /// deleted.
    fn forget_tls_profiles(
        &mut self,
        filter: &ProfileFilter,
        last_seen_before_ns: Option<i64>,
    ) -> Result<u64, StoreError>;

    /// Returns the earliest first sighting of any profile of `host`.
    fn host_first_seen(&mut self, host: &str) -> Result<Option<i64>, StoreError>;

    /// Makes the writes so far durable.
    fn commit(&mut self) -> Result<(), StoreError>;
}
