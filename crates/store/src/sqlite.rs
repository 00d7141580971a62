//! The store as one SQLite file: WAL journal, writes grouped in one
//! transaction until [`Store::commit`], a schema version table, and an
//! application id that distinguishes a wiretrust store from any other
//! database.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OptionalExtension, params};

use crate::facets::{Entry, StoredFacets, encode, encode_summary};
use crate::{ObjectDigest, ProfileFilter, ServerSummary, Store, StoreError, TlsProfile};

/// Schema version this code writes and reads. Version 1 had object
/// digests only. Version 2 added the TLS profiles with one row per value.
/// Version 3 stores each profile's values as one blob in the profile's row
/// (see [`crate::facets`]) and adds server summaries. Opening an older
/// store upgrades it.
pub const SCHEMA_VERSION: i64 = 3;

/// `PRAGMA application_id` of a wiretrust store: "WTST" in ASCII.
const APPLICATION_ID: i64 = 0x5754_5354;

/// How long a write waits for another wiretrust process holding the lock
/// before failing with [`StoreError::Locked`]. A scan holds the lock from
/// its first write (a flush of learned profiles or an object digest) to
/// its commit, so the wait covers another scan finishing its writes.
const BUSY_TIMEOUT: Duration = Duration::from_secs(60);

const CREATE_SCHEMA: &str = "
    CREATE TABLE schema_version (
        component TEXT PRIMARY KEY NOT NULL,
        version INTEGER NOT NULL
    );
    CREATE TABLE object_digest (
        object_key TEXT NOT NULL,
        algorithm TEXT NOT NULL,
        digest TEXT NOT NULL,
        first_host TEXT NOT NULL,
        first_time_ns INTEGER NOT NULL,
        first_input TEXT NOT NULL,
        first_location TEXT NOT NULL,
        size INTEGER,
        last_time_ns INTEGER NOT NULL,
        sightings INTEGER NOT NULL,
        PRIMARY KEY (object_key, algorithm, digest)
    ) WITHOUT ROWID;
";

/// The TLS profile table of schema version 3.
const CREATE_PROFILES: &str = "
    CREATE TABLE tls_profile (
        id INTEGER PRIMARY KEY,
        host TEXT NOT NULL,
        process TEXT NOT NULL,
        server TEXT NOT NULL,
        first_seen_ns INTEGER NOT NULL,
        last_seen_ns INTEGER NOT NULL,
        sessions INTEGER NOT NULL,
        facets BLOB NOT NULL DEFAULT x'',
        UNIQUE (host, process, server)
    );
    CREATE INDEX tls_profile_server ON tls_profile (server, host);
    CREATE TABLE tls_server (
        server TEXT PRIMARY KEY NOT NULL,
        first_seen_ns INTEGER NOT NULL,
        last_seen_ns INTEGER NOT NULL,
        sessions INTEGER NOT NULL,
        facets BLOB NOT NULL
    ) WITHOUT ROWID;
";

/// Version 2 kept one row per value in `tls_profile_value`; version 3
/// moves them into each profile's `facets` column and adds the server
/// summaries ([`SqliteStore::migrate_values`]).
const ADD_FACETS: &str = "
    ALTER TABLE tls_profile ADD COLUMN facets BLOB NOT NULL DEFAULT x'';
    DROP INDEX tls_profile_server;
    CREATE INDEX tls_profile_server ON tls_profile (server, host);
    CREATE TABLE tls_server (
        server TEXT PRIMARY KEY NOT NULL,
        first_seen_ns INTEGER NOT NULL,
        last_seen_ns INTEGER NOT NULL,
        sessions INTEGER NOT NULL,
        facets BLOB NOT NULL
    ) WITHOUT ROWID;
";

/// Pages SQLite keeps in memory, in KiB when negative: 64 MiB, so that
/// learning into a store of a million profiles does not read the same
/// index pages again and again. Only pages a run touches take memory.
const CACHE_KIB: i64 = 65_536;

/// The rule that combines a written profile with the stored profile of its key.
#[derive(Clone, Copy, Debug)]
enum Combine {
    /// The written profile replaces the stored values it also holds.
    Replace,
    /// The written profile is a delta whose sightings add to the stored ones.
    Add,
    /// The larger count and the wider span of each value win.
    Unite,
}

/// A [`Store`] in a SQLite file.
pub struct SqliteStore {
    path: PathBuf,
    connection: Connection,
    /// True while a write transaction is open.
    writing: bool,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens the store at `path`, creating the file and its folder when
    /// missing. A file that is damaged, not SQLite, another program's
    /// database or from a newer schema is an error naming the file; it is
    /// never reset.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        if path.is_dir() {
            return Err(StoreError::IsDirectory {
                path: path.to_owned(),
            });
        }
        if let Some(folder) = path.parent().filter(|f| !f.as_os_str().is_empty()) {
            std::fs::create_dir_all(folder).map_err(|error| StoreError::CreateFolder {
                path: path.to_owned(),
                error,
            })?;
        }
        let connection = Connection::open(path).map_err(|err| classify(path, err))?;
        let mut store = SqliteStore {
            path: path.to_owned(),
            connection,
            writing: false,
        };
        store.prepare()?;
        Ok(store)
    }

    /// Returns the file the store lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Checks what the file holds, creates the schema in an empty file and
    /// switches to WAL.
    fn prepare(&mut self) -> Result<(), StoreError> {
        let path = self.path.clone();
        let fail = |err| classify(&path, err);
        self.connection.busy_timeout(BUSY_TIMEOUT).map_err(fail)?;
        let application_id: i64 = self
            .connection
            .query_row("PRAGMA application_id", [], |row| row.get(0))
            .map_err(fail)?;
        let tables: i64 = self
            .connection
            .query_row("SELECT count(*) FROM sqlite_schema", [], |row| row.get(0))
            .map_err(fail)?;
        match (application_id, tables) {
            (APPLICATION_ID, _) => self.check_version()?,
            (0, 0) => self.create()?,
            (0, _) => {
                return Err(StoreError::Foreign {
                    path,
                    reason: format!("{tables} tables and no wiretrust application id"),
                });
            }
            (other, _) => {
                return Err(StoreError::Foreign {
                    path,
                    reason: format!("application id {other:#x}"),
                });
            }
        }
        self.connection
            .query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))
            .map_err(fail)?;
        // WAL with synchronous=NORMAL stays consistent after a crash; only
        // the last commits before a power loss can be lost.
        // Statement journals stay in memory instead of temporary files.
        self.connection
            .execute_batch(&format!(
                "PRAGMA synchronous = NORMAL; PRAGMA temp_store = MEMORY;
                 PRAGMA cache_size = -{CACHE_KIB}"
            ))
            .map_err(fail)
    }

    fn create(&mut self) -> Result<(), StoreError> {
        let batch = format!(
            "BEGIN IMMEDIATE; {CREATE_SCHEMA} {CREATE_PROFILES}
             INSERT INTO schema_version (component, version) VALUES ('wiretrust', {SCHEMA_VERSION});
             PRAGMA application_id = {APPLICATION_ID};
             COMMIT;"
        );
        self.connection
            .execute_batch(&batch)
            .map_err(|err| classify(&self.path, err))
    }

    fn check_version(&mut self) -> Result<(), StoreError> {
        let found: Option<i64> = self
            .connection
            .query_row(
                "SELECT version FROM schema_version WHERE component = 'wiretrust'",
                [],
                |row| row.get(0),
            )
            .optional()
            .map_err(|err| classify(&self.path, err))?;
        if let Some(version) = found
            && version < 1
        {
            return Err(StoreError::Corrupt {
                path: self.path.clone(),
                reason: format!(
                    "schema version {version} is not one wiretrust writes; versions start at 1"
                ),
            });
        }
        if let Some(version) = found
            && version <= SCHEMA_VERSION
        {
            self.check_tables(version)?;
        }
        match found {
            Some(1) => self.migrate(CREATE_PROFILES),
            Some(2) => self.migrate_values(),
            Some(version) if version <= SCHEMA_VERSION => Ok(()),
            Some(found) => Err(StoreError::NewerSchema {
                path: self.path.clone(),
                found,
                supported: SCHEMA_VERSION,
            }),
            None => Err(StoreError::Corrupt {
                path: self.path.clone(),
                reason: "the schema_version table has no wiretrust row".to_owned(),
            }),
        }
    }

    /// Checks that every table schema `version` has exists, so a damaged
    /// store is reported as such instead of failing at its first query.
    fn check_tables(&self, version: i64) -> Result<(), StoreError> {
        let expected: &[&str] = match version {
            1 => &["schema_version", "object_digest"],
            2 => &[
                "schema_version",
                "object_digest",
                "tls_profile",
                "tls_profile_value",
            ],
            _ => &[
                "schema_version",
                "object_digest",
                "tls_profile",
                "tls_server",
            ],
        };
        let mut statement = self
            .connection
            .prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?1")
            .map_err(|err| classify(&self.path, err))?;
        for table in expected {
            let exists = statement
                .exists(params![table])
                .map_err(|err| classify(&self.path, err))?;
            if !exists {
                return Err(StoreError::Corrupt {
                    path: self.path.clone(),
                    reason: format!("table {table} of schema version {version} is missing"),
                });
            }
        }
        Ok(())
    }

    /// Brings an older store to [`SCHEMA_VERSION`] with `changes`, in one
    /// transaction, so a crash leaves either version.
    fn migrate(&mut self, changes: &str) -> Result<(), StoreError> {
        let batch = format!(
            "BEGIN IMMEDIATE; {changes}
             UPDATE schema_version SET version = {SCHEMA_VERSION} WHERE component = 'wiretrust';
             COMMIT;"
        );
        self.connection
            .execute_batch(&batch)
            .map_err(|err| classify(&self.path, err))
    }

    /// Upgrades a version 2 store: each profile's value rows become its
    /// `facets` column, in one transaction, so a crash leaves either
    /// version. Values of kinds this version does not know are dropped
    /// (version 2 wrote none).
    fn migrate_values(&mut self) -> Result<(), StoreError> {
        let fail = |err| classify(&self.path, err);
        self.connection
            .execute_batch(&format!("BEGIN IMMEDIATE; {ADD_FACETS};"))
            .map_err(fail)?;
        let moved = self
            .move_values()
            .and_then(|()| self.rebuild_summaries(None))
            .and_then(|()| {
                self.connection
                    .execute_batch(&format!(
                        "DROP TABLE tls_profile_value;
                     UPDATE schema_version SET version = {SCHEMA_VERSION}
                     WHERE component = 'wiretrust';
                     COMMIT;"
                    ))
                    .map_err(fail)
            });
        if moved.is_err() {
            // The error to report is the first one.
            let _ = self.connection.execute_batch("ROLLBACK");
        }
        moved
    }

    /// Writes the `facets` column of every profile that has value rows,
    /// reading the rows in profile order.
    fn move_values(&self) -> Result<(), StoreError> {
        let fail = |err| classify(&self.path, err);
        let mut rows = self
            .connection
            .prepare(
                "SELECT v.profile_id, p.first_seen_ns, v.kind, v.value, v.first_seen_ns,
                     v.last_seen_ns, v.count
                 FROM tls_profile_value v JOIN tls_profile p ON p.id = v.profile_id
                 ORDER BY v.profile_id",
            )
            .map_err(fail)?;
        let mut update = self
            .connection
            .prepare("UPDATE tls_profile SET facets = ?2 WHERE id = ?1")
            .map_err(fail)?;
        let mut write = |id: i64, first_ns: i64, values: Vec<(String, Entry)>| {
            let profile = TlsProfile::new(crate::ProfileKey::default(), first_ns);
            let blob = encode(&profile, StoredFacets::from_named(values));
            update.execute(params![id, blob]).map(|_| ())
        };
        let mut current: Option<(i64, i64)> = None;
        let mut values = Vec::new();
        let mut cursor = rows.query([]).map_err(fail)?;
        while let Some(row) = cursor.next().map_err(fail)? {
            let id: i64 = row.get(0).map_err(fail)?;
            if let Some((held, first_ns)) = current
                && held != id
            {
                write(held, first_ns, std::mem::take(&mut values)).map_err(fail)?;
            }
            current = Some((id, row.get(1).map_err(fail)?));
            let count: i64 = row.get(6).map_err(fail)?;
            let entry = Entry {
                value: row.get(3).map_err(fail)?,
                first_seen_ns: row.get(4).map_err(fail)?,
                last_seen_ns: row.get(5).map_err(fail)?,
                count: u64::try_from(count).unwrap_or(0),
            };
            values.push((row.get(2).map_err(fail)?, entry));
        }
        if let Some((id, first_ns)) = current {
            write(id, first_ns, values).map_err(fail)?;
        }
        Ok(())
    }

    /// Writes the summary of every server from its profiles, or of
    /// `server` only, deleting its summary when no profile is left.
    fn rebuild_summaries(&self, server: Option<&str>) -> Result<(), StoreError> {
        let fail = |err| classify(&self.path, err);
        let mut statement = self
            .connection
            .prepare_cached(
                "SELECT id, host, process, server, first_seen_ns, last_seen_ns, sessions, facets
                 FROM tls_profile WHERE ?1 IS NULL OR server = ?1 ORDER BY server",
            )
            .map_err(fail)?;
        let mut rows = statement.query(params![server]).map_err(fail)?;
        let mut summary: Option<ServerSummary> = None;
        while let Some(row) = rows.next().map_err(fail)? {
            let profile = self.profile_of(row)?;
            if summary
                .as_ref()
                .is_some_and(|held| held.server != profile.key.server)
                && let Some(done) = summary.take()
            {
                self.write_summary(&done)?;
            }
            summary
                .get_or_insert_with(|| {
                    ServerSummary::new(profile.key.server.clone(), profile.first_seen_ns)
                })
                .add_profile(&profile, None);
        }
        match (summary, server) {
            (Some(done), _) => self.write_summary(&done),
            (None, Some(server)) => self
                .connection
                .prepare_cached("DELETE FROM tls_server WHERE server = ?1")
                .and_then(|mut statement| statement.execute(params![server]))
                .map(|_| ())
                .map_err(fail),
            (None, None) => Ok(()),
        }
    }

    /// Reads a profile from a row of `id, host, process, server,
    /// first_seen_ns, last_seen_ns, sessions, facets`.
    fn profile_of(&self, row: &rusqlite::Row<'_>) -> Result<TlsProfile, StoreError> {
        let fail = |err| classify(&self.path, err);
        let key = crate::ProfileKey {
            host: row.get(1).map_err(fail)?,
            process: row.get(2).map_err(fail)?,
            server: row.get(3).map_err(fail)?,
        };
        let mut profile = TlsProfile::new(key, row.get(4).map_err(fail)?);
        profile.last_seen_ns = row.get(5).map_err(fail)?;
        let sessions: i64 = row.get(6).map_err(fail)?;
        profile.sessions = u64::try_from(sessions).unwrap_or(0);
        let facets: Vec<u8> = row.get(7).map_err(fail)?;
        let id: i64 = row.get(0).map_err(fail)?;
        parse_facets(&self.path, id, &facets, profile.first_seen_ns)?.fill(&mut profile);
        Ok(profile)
    }

    fn read_summary(&self, server: &str) -> Result<Option<ServerSummary>, StoreError> {
        let fail = |err| classify(&self.path, err);
        let row: Option<(i64, i64, i64, Vec<u8>)> = self
            .connection
            .prepare_cached(
                "SELECT first_seen_ns, last_seen_ns, sessions, facets FROM tls_server
                 WHERE server = ?1",
            )
            .and_then(|mut statement| {
                statement
                    .query_row(params![server], |row| {
                        Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
                    })
                    .optional()
            })
            .map_err(fail)?;
        let Some((first_seen_ns, last_seen_ns, sessions, facets)) = row else {
            return Ok(None);
        };
        let mut summary = ServerSummary::new(server.to_owned(), first_seen_ns);
        summary.last_seen_ns = last_seen_ns;
        summary.sessions = u64::try_from(sessions).unwrap_or(0);
        StoredFacets::parse(&facets, first_seen_ns)
            .map_err(|err| StoreError::Corrupt {
                path: self.path.clone(),
                reason: format!("the summary of server {server:?} is not valid: {err}"),
            })?
            .fill_summary(&mut summary);
        Ok(Some(summary))
    }

    fn write_summary(&self, summary: &ServerSummary) -> Result<(), StoreError> {
        let sessions = i64::try_from(summary.sessions).unwrap_or(i64::MAX);
        self.connection
            .prepare_cached(
                "INSERT OR REPLACE INTO tls_server (server, first_seen_ns, last_seen_ns, sessions,
                     facets)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .and_then(|mut statement| {
                statement.execute(params![
                    summary.server,
                    summary.first_seen_ns,
                    summary.last_seen_ns,
                    sessions,
                    encode_summary(summary),
                ])
            })
            .map(|_| ())
            .map_err(|err| classify(&self.path, err))
    }

    /// Reads the stored profile of `key` with its `facets` column parsed
    /// as stored, which keeps the kinds this version does not know.
    fn read_profile_row(
        &self,
        key: &crate::ProfileKey,
    ) -> Result<Option<(i64, TlsProfile, StoredFacets)>, StoreError> {
        let fail = |err| classify(&self.path, err);
        let mut statement = self
            .connection
            .prepare_cached(
                "SELECT id, host, process, server, first_seen_ns, last_seen_ns, sessions, facets
                 FROM tls_profile WHERE host = ?1 AND process = ?2 AND server = ?3",
            )
            .map_err(fail)?;
        let mut rows = statement
            .query(params![key.host, key.process, key.server])
            .map_err(fail)?;
        let Some(row) = rows.next().map_err(fail)? else {
            return Ok(None);
        };
        let id: i64 = row.get(0).map_err(fail)?;
        let first_ns: i64 = row.get(4).map_err(fail)?;
        let blob: Vec<u8> = row.get(7).map_err(fail)?;
        let stored_facets = parse_facets(&self.path, id, &blob, first_ns)?;
        Ok(Some((id, self.profile_of(row)?, stored_facets)))
    }

    /// Writes `profile` into the open write transaction, combined with the
    /// stored profile of its key by the `combine` rule, and adds what the
    /// stored profile gained to its server's summary. Reading and writing
    /// inside one transaction keeps another process's write from landing
    /// in between.
    fn write_profile(&mut self, profile: &TlsProfile, combine: Combine) -> Result<(), StoreError> {
        self.begin()?;
        let fail = |err| classify(&self.path, err);
        let older = match self.read_profile_row(&profile.key)? {
            None => {
                // With nothing stored, every way of combining writes the
                // profile as it is.
                let sessions = i64::try_from(profile.sessions).unwrap_or(i64::MAX);
                self.connection
                    .prepare_cached(
                        "INSERT INTO tls_profile (host, process, server, first_seen_ns,
                             last_seen_ns, sessions, facets)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    )
                    .and_then(|mut statement| {
                        statement.execute(params![
                            profile.key.host,
                            profile.key.process,
                            profile.key.server,
                            profile.first_seen_ns,
                            profile.last_seen_ns,
                            sessions,
                            encode(profile, StoredFacets::default()),
                        ])
                    })
                    .map_err(fail)?;
                self.add_to_summary(profile, None)?;
                return Ok(());
            }
            Some(stored) => stored,
        };
        let (id, older, stored_facets) = older;
        let written = match combine {
            Combine::Replace => profile.clone(),
            Combine::Add => {
                let mut sum = older.clone();
                sum.merge(profile.clone());
                sum
            }
            Combine::Unite => {
                let mut union = older.clone();
                union.unite(profile.clone());
                union
            }
        };
        let sessions = i64::try_from(written.sessions).unwrap_or(i64::MAX);
        self.connection
            .prepare_cached(
                "UPDATE tls_profile SET first_seen_ns = ?2, last_seen_ns = ?3, sessions = ?4,
                     facets = ?5
                 WHERE id = ?1",
            )
            .and_then(|mut statement| {
                statement.execute(params![
                    id,
                    written.first_seen_ns,
                    written.last_seen_ns,
                    sessions,
                    encode(&written, stored_facets),
                ])
            })
            .map_err(fail)?;
        self.add_to_summary(&written, Some(&older))
    }

    /// Adds what `profile` gained over `older`, the stored copy it
    /// replaced, to the summary of its server.
    fn add_to_summary(
        &self,
        profile: &TlsProfile,
        older: Option<&TlsProfile>,
    ) -> Result<(), StoreError> {
        let mut summary = self.read_summary(&profile.key.server)?.unwrap_or_else(|| {
            ServerSummary::new(profile.key.server.clone(), profile.first_seen_ns)
        });
        summary.add_profile(profile, older);
        self.write_summary(&summary)
    }

    /// Opens the write transaction, unless one is open.
    ///
    /// NOTE: the transaction stays open until [`Store::commit`], so a
    /// second process writing the same store waits up to [`BUSY_TIMEOUT`]
    /// and then fails with [`StoreError::Locked`] when the first keeps it
    /// longer, as a scan that records object digests from its start does.
    fn begin(&mut self) -> Result<(), StoreError> {
        if !self.writing {
            self.connection
                .execute_batch("BEGIN IMMEDIATE")
                .map_err(|err| classify(&self.path, err))?;
            self.writing = true;
        }
        Ok(())
    }
}

impl Store for SqliteStore {
    fn object_digests(
        &mut self,
        key: &str,
        algorithm: &str,
    ) -> Result<Vec<ObjectDigest>, StoreError> {
        let fail = |err| classify(&self.path, err);
        let mut statement = self
            .connection
            .prepare_cached(
                "SELECT digest, first_host, first_time_ns, first_input, first_location, size
                 FROM object_digest WHERE object_key = ?1 AND algorithm = ?2
                 ORDER BY first_time_ns, digest",
            )
            .map_err(fail)?;
        let rows = statement
            .query_map(params![key, algorithm], |row| {
                let size: Option<i64> = row.get(5)?;
                Ok(ObjectDigest {
                    key: key.to_owned(),
                    algorithm: algorithm.to_owned(),
                    digest: row.get(0)?,
                    host: row.get(1)?,
                    time_ns: row.get(2)?,
                    input: row.get(3)?,
                    location: row.get(4)?,
                    size: size.and_then(|s| u64::try_from(s).ok()),
                })
            })
            .map_err(fail)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(fail)
    }

    fn record_object_digest(&mut self, digest: &ObjectDigest) -> Result<bool, StoreError> {
        self.begin()?;
        let fail = |err| classify(&self.path, err);
        let size = digest.size.and_then(|s| i64::try_from(s).ok());
        let inserted = self
            .connection
            .prepare_cached(
                "INSERT INTO object_digest (object_key, algorithm, digest, first_host,
                     first_time_ns, first_input, first_location, size, last_time_ns, sightings)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?5, 1)
                 ON CONFLICT (object_key, algorithm, digest) DO NOTHING",
            )
            .and_then(|mut statement| {
                statement.execute(params![
                    digest.key,
                    digest.algorithm,
                    digest.digest,
                    digest.host,
                    digest.time_ns,
                    digest.input,
                    digest.location,
                    size,
                ])
            })
            .map_err(fail)?;
        if inserted == 1 {
            return Ok(true);
        }
        self.connection
            .prepare_cached(
                "UPDATE object_digest SET sightings = sightings + 1,
                     last_time_ns = max(last_time_ns, ?4)
                 WHERE object_key = ?1 AND algorithm = ?2 AND digest = ?3",
            )
            .and_then(|mut statement| {
                statement.execute(params![
                    digest.key,
                    digest.algorithm,
                    digest.digest,
                    digest.time_ns
                ])
            })
            .map_err(fail)?;
        Ok(false)
    }

    fn tls_profiles(&mut self, filter: &ProfileFilter) -> Result<Vec<TlsProfile>, StoreError> {
        let fail = |err| classify(&self.path, err);
        let mut conditions = Vec::new();
        let mut values: Vec<&str> = Vec::new();
        for (column, wanted) in [
            ("host", &filter.host),
            ("process", &filter.process),
            ("server", &filter.server),
        ] {
            if let Some(wanted) = wanted {
                values.push(wanted);
                conditions.push(format!("{column} = ?{}", values.len()));
            }
        }
        let clause = if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        };
        let sql = format!(
            "SELECT id, host, process, server, first_seen_ns, last_seen_ns, sessions, facets
             FROM tls_profile {clause} ORDER BY host, process, server"
        );
        let mut statement = self.connection.prepare_cached(&sql).map_err(fail)?;
        let mut rows = statement
            .query(rusqlite::params_from_iter(values))
            .map_err(fail)?;
        let mut profiles = Vec::new();
        while let Some(row) = rows.next().map_err(fail)? {
            profiles.push(self.profile_of(row)?);
        }
        Ok(profiles)
    }

    fn server_summary(&mut self, server: &str) -> Result<Option<ServerSummary>, StoreError> {
        self.read_summary(server)
    }

    fn put_tls_profile(&mut self, profile: &TlsProfile) -> Result<(), StoreError> {
        self.write_profile(profile, Combine::Replace)
    }

    fn add_tls_profile(&mut self, delta: &TlsProfile) -> Result<(), StoreError> {
        self.write_profile(delta, Combine::Add)
    }

    fn unite_tls_profile(&mut self, profile: &TlsProfile) -> Result<(), StoreError> {
        self.write_profile(profile, Combine::Unite)
    }

    fn forget_tls_profiles(
        &mut self,
        filter: &ProfileFilter,
        last_seen_before_ns: Option<i64>,
    ) -> Result<u64, StoreError> {
        self.begin()?;
        let fail = |err| classify(&self.path, err);
        let matching = "(?1 IS NULL OR host = ?1) AND (?2 IS NULL OR process = ?2)
             AND (?3 IS NULL OR server = ?3) AND (?4 IS NULL OR last_seen_ns < ?4)";
        let arguments = params![
            filter.host,
            filter.process,
            filter.server,
            last_seen_before_ns
        ];
        let servers: Vec<String> = {
            let mut statement = self
                .connection
                .prepare(&format!(
                    "SELECT DISTINCT server FROM tls_profile WHERE {matching}"
                ))
                .map_err(fail)?;
            let rows = statement
                .query_map(arguments, |row| row.get(0))
                .map_err(fail)?;
            rows.collect::<Result<_, _>>().map_err(fail)?
        };
        let deleted = self
            .connection
            .execute(
                &format!("DELETE FROM tls_profile WHERE {matching}"),
                arguments,
            )
            .map_err(fail)?;
        for server in &servers {
            self.rebuild_summaries(Some(server))?;
        }
        Ok(deleted as u64)
    }

    fn host_first_seen(&mut self, host: &str) -> Result<Option<i64>, StoreError> {
        self.connection
            .prepare_cached("SELECT min(first_seen_ns) FROM tls_profile WHERE host = ?1")
            .and_then(|mut statement| statement.query_row(params![host], |row| row.get(0)))
            .map_err(|err| classify(&self.path, err))
    }

    fn commit(&mut self) -> Result<(), StoreError> {
        if self.writing {
            self.connection
                .execute_batch("COMMIT")
                .map_err(|err| classify(&self.path, err))?;
            self.writing = false;
        }
        Ok(())
    }
}

/// Parses the `facets` column of profile `id`; a column that is not what
/// wiretrust writes makes the store corrupt.
fn parse_facets(
    path: &Path,
    id: i64,
    blob: &[u8],
    first_seen_ns: i64,
) -> Result<StoredFacets, StoreError> {
    StoredFacets::parse(blob, first_seen_ns).map_err(|err| StoreError::Corrupt {
        path: path.to_owned(),
        reason: format!("the values of TLS profile {id} are not valid: {err}"),
    })
}

/// Names a damaged or non-SQLite file as such; other failures keep
/// SQLite's error.
fn classify(path: &Path, err: rusqlite::Error) -> StoreError {
    match err.sqlite_error_code() {
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => StoreError::Corrupt {
            path: path.to_owned(),
            reason: err.to_string(),
        },
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StoreError::Locked {
            path: path.to_owned(),
        },
        _ => StoreError::Sqlite {
            path: path.to_owned(),
            error: err,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Facet;

    fn digest(key: &str, hex: &str, host: &str) -> ObjectDigest {
        ObjectDigest {
            key: key.to_owned(),
            algorithm: "sha256".to_owned(),
            digest: hex.to_owned(),
            host: host.to_owned(),
            time_ns: 1_000,
            input: "files.log".to_owned(),
            location: "line 9".to_owned(),
            size: Some(42),
        }
    }

    #[test]
    fn digests_survive_reopen() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("nested/store.sqlite");
        let mut store = SqliteStore::open(&path).unwrap();
        assert!(
            store
                .record_object_digest(&digest("url:a", "aa", "h1"))
                .unwrap()
        );
        assert!(
            !store
                .record_object_digest(&digest("url:a", "aa", "h2"))
                .unwrap()
        );
        store.commit().unwrap();
        drop(store);

        let mut store = SqliteStore::open(&path).unwrap();
        let found = store.object_digests("url:a", "sha256").unwrap();
        assert_eq!(found, vec![digest("url:a", "aa", "h1")]);
        assert!(store.object_digests("url:a", "md5").unwrap().is_empty());
    }

    #[test]
    fn uncommitted_writes_are_dropped() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("store.sqlite");
        let mut store = SqliteStore::open(&path).unwrap();
        store
            .record_object_digest(&digest("url:a", "aa", "h1"))
            .unwrap();
        assert_eq!(store.object_digests("url:a", "sha256").unwrap().len(), 1);
        drop(store);

        let mut store = SqliteStore::open(&path).unwrap();
        assert!(store.object_digests("url:a", "sha256").unwrap().is_empty());
    }

    #[test]
    fn garbage_file_is_corrupt() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("store.sqlite");
        std::fs::write(&path, vec![0x5a; 8192]).unwrap();
        let err = SqliteStore::open(&path).unwrap_err();
        assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
        assert!(err.to_string().contains("store.sqlite"), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), vec![0x5a; 8192]);
    }

    #[test]
    fn truncated_store_is_corrupt() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("store.sqlite");
        let mut store = SqliteStore::open(&path).unwrap();
        store
            .record_object_digest(&digest("url:a", "aa", "h1"))
            .unwrap();
        store.commit().unwrap();
        store
            .connection
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
            .unwrap();
        drop(store);
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() / 2 + 10]).unwrap();

        let result =
            SqliteStore::open(&path).and_then(|mut store| store.object_digests("url:a", "sha256"));
        let err = result.unwrap_err();
        assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
    }

    #[test]
    fn foreign_database_is_rejected() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("other.db");
        let other = Connection::open(&path).unwrap();
        other.execute_batch("CREATE TABLE t (x)").unwrap();
        drop(other);
        let err = SqliteStore::open(&path).unwrap_err();
        assert!(matches!(err, StoreError::Foreign { .. }), "{err}");
        assert!(err.to_string().contains("other.db"), "{err}");
    }

    #[test]
    fn newer_schema_is_rejected() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("store.sqlite");
        drop(SqliteStore::open(&path).unwrap());
        let raw = Connection::open(&path).unwrap();
        raw.execute_batch("UPDATE schema_version SET version = 99")
            .unwrap();
        drop(raw);
        let err = SqliteStore::open(&path).unwrap_err();
        assert!(
            matches!(err, StoreError::NewerSchema { found: 99, .. }),
            "{err}"
        );
    }

    fn profile(server: &str, time_ns: i64) -> TlsProfile {
        let key = crate::ProfileKey {
            host: "h1".to_owned(),
            process: "signing:TEAM:com.example.app".to_owned(),
            server: server.to_owned(),
        };
        let mut profile = TlsProfile::new(key, time_ns);
        profile.count_session(time_ns);
        profile.record(Facet::Version, "TLS 1.3", time_ns);
        profile.record(Facet::Ja4, "t13d1516h2_8daaf6152771_e5627efa2ab1", time_ns);
        profile
    }

    #[test]
    fn profiles_survive_reopen() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("store.sqlite");
        let mut store = SqliteStore::open(&path).unwrap();
        store.put_tls_profile(&profile("a.test", 100)).unwrap();
        store.put_tls_profile(&profile("b.test", 50)).unwrap();
        store.commit().unwrap();
        drop(store);

        let mut store = SqliteStore::open(&path).unwrap();
        let filter = ProfileFilter {
            server: Some("a.test".to_owned()),
            ..ProfileFilter::default()
        };
        let found = store.tls_profiles(&filter).unwrap();
        assert_eq!(found, vec![profile("a.test", 100)]);
        assert_eq!(
            store.tls_profiles(&ProfileFilter::default()).unwrap().len(),
            2
        );
        assert_eq!(store.host_first_seen("h1").unwrap(), Some(50));
        assert_eq!(store.host_first_seen("h2").unwrap(), None);
    }

    #[test]
    fn put_replaces_values_and_keeps_others() {
        let folder = tempfile::tempdir().unwrap();
        let mut store = SqliteStore::open(&folder.path().join("s.sqlite")).unwrap();
        store.put_tls_profile(&profile("a.test", 100)).unwrap();
        let mut later = profile("a.test", 100);
        later.count_session(200);
        later.record(Facet::Version, "TLS 1.3", 200);
        later.ja4.clear();
        store.put_tls_profile(&later).unwrap();
        let found = store.tls_profiles(&ProfileFilter::default()).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].sessions, 2);
        assert_eq!(found[0].find(Facet::Version, "TLS 1.3").unwrap().count, 2);
        assert_eq!(found[0].ja4.len(), 1);
    }

    #[test]
    fn forget_by_server_and_age() {
        let folder = tempfile::tempdir().unwrap();
        let mut store = SqliteStore::open(&folder.path().join("s.sqlite")).unwrap();
        store.put_tls_profile(&profile("a.test", 100)).unwrap();
        store.put_tls_profile(&profile("b.test", 500)).unwrap();
        store.put_tls_profile(&profile("c.test", 900)).unwrap();
        let by_server = ProfileFilter {
            server: Some("c.test".to_owned()),
            ..ProfileFilter::default()
        };
        assert_eq!(store.forget_tls_profiles(&by_server, None).unwrap(), 1);
        let all = ProfileFilter::default();
        assert_eq!(store.forget_tls_profiles(&all, Some(200)).unwrap(), 1);
        let left = store.tls_profiles(&all).unwrap();
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].key.server, "b.test");
        assert_eq!(left[0], profile("b.test", 500));
    }

    fn keyed(host: &str, spki: &str, time_ns: i64) -> TlsProfile {
        let mut profile = profile("a.test", time_ns);
        profile.key.host = host.to_owned();
        profile.record(Facet::SpkiSha256, spki, time_ns);
        profile
    }

    #[test]
    fn summaries_follow_puts_and_forgets() {
        let folder = tempfile::tempdir().unwrap();
        let mut store = SqliteStore::open(&folder.path().join("s.sqlite")).unwrap();
        let first = keyed("h1", "k1", 100);
        store.put_tls_profile(&first).unwrap();
        store.put_tls_profile(&keyed("h2", "k2", 50)).unwrap();
        let mut again = first.clone();
        again.count_session(300);
        again.record(Facet::SpkiSha256, "k1", 300);
        store.put_tls_profile(&again).unwrap();
        // Writing the same copy twice adds nothing.
        store.put_tls_profile(&again).unwrap();

        let summary = store.server_summary("a.test").unwrap().unwrap();
        assert_eq!(summary.sessions, 3);
        assert_eq!((summary.first_seen_ns, summary.last_seen_ns), (50, 300));
        let keys: Vec<(&str, u64)> = summary
            .spki_sha256
            .iter()
            .map(|seen| (seen.value.as_str(), seen.count))
            .collect();
        assert_eq!(keys, [("k2", 1), ("k1", 2)]);
        assert!(store.server_summary("b.test").unwrap().is_none());

        let host2 = ProfileFilter {
            host: Some("h2".to_owned()),
            ..ProfileFilter::default()
        };
        assert_eq!(store.forget_tls_profiles(&host2, None).unwrap(), 1);
        let summary = store.server_summary("a.test").unwrap().unwrap();
        assert_eq!(summary.sessions, 2);
        assert_eq!(summary.spki_sha256.len(), 1);
        let server = ProfileFilter {
            server: Some("a.test".to_owned()),
            ..ProfileFilter::default()
        };
        assert_eq!(store.forget_tls_profiles(&server, None).unwrap(), 1);
        assert!(store.server_summary("a.test").unwrap().is_none());
    }

    #[test]
    fn concurrent_deltas_add_up() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("s.sqlite");
        let mut first = SqliteStore::open(&path).unwrap();
        let mut second = SqliteStore::open(&path).unwrap();
        first.add_tls_profile(&keyed("h1", "k1", 100)).unwrap();
        first.commit().unwrap();

        // Both load the stored profile, then each adds its own sightings.
        let all = ProfileFilter::default();
        assert_eq!(first.tls_profiles(&all).unwrap()[0].sessions, 1);
        assert_eq!(second.tls_profiles(&all).unwrap()[0].sessions, 1);
        first.add_tls_profile(&keyed("h1", "k1", 50)).unwrap();
        first.commit().unwrap();
        let mut later = keyed("h1", "k2", 300);
        later.count_session(400);
        second.add_tls_profile(&later).unwrap();
        second.commit().unwrap();

        let mut reader = SqliteStore::open(&path).unwrap();
        let stored = reader.tls_profiles(&all).unwrap();
        assert_eq!(stored.len(), 1);
        let profile = &stored[0];
        assert_eq!(profile.sessions, 4);
        assert_eq!((profile.first_seen_ns, profile.last_seen_ns), (50, 400));
        let k1 = profile.find(Facet::SpkiSha256, "k1").unwrap();
        assert_eq!(k1.count, 2);
        assert_eq!((k1.first_seen_ns, k1.last_seen_ns), (50, 100));
        assert_eq!(profile.find(Facet::SpkiSha256, "k2").unwrap().count, 1);
        assert_eq!(profile.find(Facet::Version, "TLS 1.3").unwrap().count, 3);

        let summary = reader.server_summary("a.test").unwrap().unwrap();
        assert_eq!(summary.sessions, 4);
        assert_eq!((summary.first_seen_ns, summary.last_seen_ns), (50, 400));
        let keys: Vec<(&str, u64)> = summary
            .spki_sha256
            .iter()
            .map(|seen| (seen.value.as_str(), seen.count))
            .collect();
        assert_eq!(keys, [("k1", 2), ("k2", 1)]);
    }

    #[test]
    fn unite_twice_changes_nothing() {
        let folder = tempfile::tempdir().unwrap();
        let mut store = SqliteStore::open(&folder.path().join("s.sqlite")).unwrap();
        let mut stored = keyed("h1", "k1", 100);
        stored.count_session(200);
        stored.record(Facet::SpkiSha256, "k1", 200);
        store.add_tls_profile(&stored).unwrap();
        let imported = keyed("h1", "k1", 50);
        store.unite_tls_profile(&imported).unwrap();
        store.unite_tls_profile(&imported).unwrap();

        let found = store.tls_profiles(&ProfileFilter::default()).unwrap();
        assert_eq!(found[0].sessions, 2);
        assert_eq!((found[0].first_seen_ns, found[0].last_seen_ns), (50, 200));
        let k1 = found[0].find(Facet::SpkiSha256, "k1").unwrap();
        assert_eq!(k1.count, 2);
        assert_eq!((k1.first_seen_ns, k1.last_seen_ns), (50, 200));
        let summary = store.server_summary("a.test").unwrap().unwrap();
        assert_eq!(summary.sessions, 2);
        assert_eq!(summary.spki_sha256[0].count, 2);
    }

    #[test]
    fn held_write_lock_is_locked_error() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("s.sqlite");
        let mut holder = SqliteStore::open(&path).unwrap();
        holder.add_tls_profile(&keyed("h1", "k1", 100)).unwrap();
        let mut waiter = SqliteStore::open(&path).unwrap();
        waiter
            .connection
            .busy_timeout(Duration::from_millis(50))
            .unwrap();
        let err = waiter.add_tls_profile(&keyed("h2", "k1", 100)).unwrap_err();
        assert!(matches!(err, StoreError::Locked { .. }), "{err}");
        let message = err.to_string();
        assert!(message.contains("usually another wiretrust"), "{message}");
        assert!(std::error::Error::source(&err).is_none());
        holder.commit().unwrap();
        waiter.add_tls_profile(&keyed("h2", "k1", 100)).unwrap();
    }

    #[test]
    fn sqlite_error_prints_cause_once() {
        let folder = tempfile::tempdir().unwrap();
        let mut store = SqliteStore::open(&folder.path().join("s.sqlite")).unwrap();
        store
            .connection
            .execute_batch("DROP TABLE tls_server")
            .unwrap();
        let err = store.server_summary("a.test").unwrap_err();
        assert!(matches!(err, StoreError::Sqlite { .. }), "{err}");
        assert!(
            err.to_string().contains("no such table: tls_server"),
            "{err}"
        );
        assert!(std::error::Error::source(&err).is_none());
    }

    #[test]
    fn folder_error_prints_cause_once() {
        let folder = tempfile::tempdir().unwrap();
        let file = folder.path().join("file");
        std::fs::write(&file, b"x").unwrap();
        let err = SqliteStore::open(&file.join("s.sqlite")).unwrap_err();
        assert!(matches!(err, StoreError::CreateFolder { .. }), "{err}");
        assert!(std::error::Error::source(&err).is_none());
    }

    #[test]
    fn bad_schema_version_is_corrupt() {
        for version in [0, -3] {
            let folder = tempfile::tempdir().unwrap();
            let path = folder.path().join("s.sqlite");
            drop(SqliteStore::open(&path).unwrap());
            let raw = Connection::open(&path).unwrap();
            raw.execute("UPDATE schema_version SET version = ?1", [version])
                .unwrap();
            drop(raw);
            let err = SqliteStore::open(&path).unwrap_err();
            assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
            let message = err.to_string();
            assert!(
                message.contains(&format!("schema version {version}")),
                "{message}"
            );
        }
    }

    #[test]
    fn missing_table_is_corrupt() {
        for table in ["tls_server", "tls_profile", "object_digest"] {
            let folder = tempfile::tempdir().unwrap();
            let path = folder.path().join("s.sqlite");
            drop(SqliteStore::open(&path).unwrap());
            let raw = Connection::open(&path).unwrap();
            raw.execute_batch(&format!("DROP TABLE {table}")).unwrap();
            drop(raw);
            let err = SqliteStore::open(&path).unwrap_err();
            assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
            let message = err.to_string();
            assert!(message.contains(&format!("table {table}")), "{message}");
        }
    }

    #[test]
    fn damaged_values_are_reported() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("s.sqlite");
        let mut store = SqliteStore::open(&path).unwrap();
        store.put_tls_profile(&profile("a.test", 100)).unwrap();
        store
            .connection
            .execute_batch("UPDATE tls_profile SET facets = x'0101'")
            .unwrap();
        let err = store.tls_profiles(&ProfileFilter::default()).unwrap_err();
        assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
        assert!(err.to_string().contains("TLS profile 1"), "{err}");
        let err = store.put_tls_profile(&profile("a.test", 200)).unwrap_err();
        assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
    }

    /// The version 2 table of TLS profile values, one row per value.
    const VERSION_2_VALUES: &str = "
        CREATE TABLE tls_profile (
            id INTEGER PRIMARY KEY,
            host TEXT NOT NULL,
            process TEXT NOT NULL,
            server TEXT NOT NULL,
            first_seen_ns INTEGER NOT NULL,
            last_seen_ns INTEGER NOT NULL,
            sessions INTEGER NOT NULL,
            UNIQUE (host, process, server)
        );
        CREATE INDEX tls_profile_server ON tls_profile (server);
        CREATE TABLE tls_profile_value (
            profile_id INTEGER NOT NULL,
            kind TEXT NOT NULL,
            value TEXT NOT NULL,
            first_seen_ns INTEGER NOT NULL,
            last_seen_ns INTEGER NOT NULL,
            count INTEGER NOT NULL,
            PRIMARY KEY (profile_id, kind, value)
        ) WITHOUT ROWID;
    ";

    #[test]
    fn version_2_store_is_migrated() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("store.sqlite");
        let raw = Connection::open(&path).unwrap();
        raw.execute_batch(&format!(
            "{CREATE_SCHEMA} {VERSION_2_VALUES}
             INSERT INTO schema_version (component, version) VALUES ('wiretrust', 2);
             PRAGMA application_id = {APPLICATION_ID};
             INSERT INTO tls_profile VALUES (7, 'h1', '-', 'a.test', 10, 90, 3);
             INSERT INTO tls_profile VALUES (8, 'h1', '-', 'empty.test', 5, 5, 0);
             INSERT INTO tls_profile_value VALUES
                 (7, 'version', 'TLS 1.3', 50, 90, 2),
                 (7, 'version', 'TLS 1.2', 10, 10, 1),
                 (7, 'issuer', 'CN=A', 10, 90, 3),
                 (7, 'later_kind', 'x', 10, 10, 1);"
        ))
        .unwrap();
        drop(raw);

        let mut store = SqliteStore::open(&path).unwrap();
        let found = store.tls_profiles(&ProfileFilter::default()).unwrap();
        assert_eq!(found.len(), 2);
        let migrated = &found[0];
        assert_eq!(migrated.key.server, "a.test");
        assert_eq!((migrated.first_seen_ns, migrated.sessions), (10, 3));
        let versions: Vec<(&str, u64)> = migrated
            .versions
            .iter()
            .map(|seen| (seen.value.as_str(), seen.count))
            .collect();
        assert_eq!(versions, [("TLS 1.2", 1), ("TLS 1.3", 2)]);
        assert_eq!(
            migrated.find(Facet::Issuer, "CN=A").unwrap().last_seen_ns,
            90
        );
        assert!(found[1].versions.is_empty());
        let summary = store.server_summary("a.test").unwrap().unwrap();
        assert_eq!(summary.sessions, 3);
        assert_eq!(summary.issuers[0].value, "CN=A");
        assert!(store.server_summary("empty.test").unwrap().is_some());
        let tables: i64 = store
            .connection
            .query_row(
                "SELECT count(*) FROM sqlite_schema WHERE name = 'tls_profile_value'",
                [],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(tables, 0);
        let version: i64 = store
            .connection
            .query_row("SELECT version FROM schema_version", [], |row| row.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
    }

    #[test]
    fn version_1_store_is_migrated() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("store.sqlite");
        let raw = Connection::open(&path).unwrap();
        raw.execute_batch(&format!(
            "{CREATE_SCHEMA}
             INSERT INTO schema_version (component, version) VALUES ('wiretrust', 1);
             PRAGMA application_id = {APPLICATION_ID};"
        ))
        .unwrap();
        drop(raw);

        let mut store = SqliteStore::open(&path).unwrap();
        store.put_tls_profile(&profile("a.test", 1)).unwrap();
        store.commit().unwrap();
        let version: i64 = store
            .connection
            .query_row("SELECT version FROM schema_version", [], |row| row.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        drop(store);
        let mut store = SqliteStore::open(&path).unwrap();
        assert_eq!(
            store.tls_profiles(&ProfileFilter::default()).unwrap().len(),
            1
        );
    }

    #[test]
    fn store_uses_wal() {
        let folder = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&folder.path().join("s.sqlite")).unwrap();
        let mode: String = store
            .connection
            .query_row("PRAGMA journal_mode", [], |row| row.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
    }
}
