//! The store as one SQLite file: WAL journal, writes grouped in one
//! transaction until [`Store::commit`], a schema version table, and an
//! application id that distinguishes a wiretrust store from any other
//! database.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OptionalExtension, params};

use crate::{Facet, ObjectDigest, ProfileFilter, Seen, Store, StoreError, TlsProfile};

/// Schema version this code writes and reads. Version 1 had object
/// digests only; version 2 adds the TLS profiles, and opening a version 1
/// store adds their tables.
pub const SCHEMA_VERSION: i64 = 2;

/// `PRAGMA application_id` of a wiretrust store: "WTST" in ASCII.
const APPLICATION_ID: i64 = 0x5754_5354;

/// How long a write waits for another wiretrust process holding the lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

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

/// Tables added in schema version 2.
const CREATE_PROFILES: &str = "
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
            std::fs::create_dir_all(folder).map_err(|source| StoreError::CreateFolder {
                path: path.to_owned(),
                source,
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
        self.connection
            .execute_batch("PRAGMA synchronous = NORMAL")
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
        match found {
            Some(1) => self.migrate_from_1(),
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

    /// Adds the TLS profile tables to a version 1 store, in one
    /// transaction, so a crash leaves either version.
    fn migrate_from_1(&mut self) -> Result<(), StoreError> {
        let batch = format!(
            "BEGIN IMMEDIATE; {CREATE_PROFILES}
             UPDATE schema_version SET version = {SCHEMA_VERSION} WHERE component = 'wiretrust';
             COMMIT;"
        );
        self.connection
            .execute_batch(&batch)
            .map_err(|err| classify(&self.path, err))
    }

    /// Appends the values stored for profile `id` to `profile`.
    fn profile_values(&self, id: i64, profile: &mut TlsProfile) -> Result<(), StoreError> {
        let fail = |err| classify(&self.path, err);
        let mut statement = self
            .connection
            .prepare_cached(
                "SELECT kind, value, first_seen_ns, last_seen_ns, count
                 FROM tls_profile_value WHERE profile_id = ?1 ORDER BY kind, first_seen_ns, value",
            )
            .map_err(fail)?;
        let mut rows = statement.query(params![id]).map_err(fail)?;
        while let Some(row) = rows.next().map_err(fail)? {
            let kind: String = row.get(0).map_err(fail)?;
            // Rows of a kind this version does not know are left out.
            let Some(facet) = Facet::parse(&kind) else {
                continue;
            };
            let count: i64 = row.get(4).map_err(fail)?;
            let seen = Seen {
                value: row.get(1).map_err(fail)?,
                first_seen_ns: row.get(2).map_err(fail)?,
                last_seen_ns: row.get(3).map_err(fail)?,
                count: u64::try_from(count).unwrap_or(0),
            };
            profile.push_stored(facet, seen);
        }
        Ok(())
    }

    /// Opens the write transaction, unless one is open.
    ///
    /// NOTE: the transaction stays open until [`Store::commit`], so a
    /// second process writing the same store waits [`BUSY_TIMEOUT`] and then
    /// fails with "database is locked" while a long scan runs.
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
            "SELECT id, host, process, server, first_seen_ns, last_seen_ns, sessions
             FROM tls_profile {clause} ORDER BY host, process, server"
        );
        let mut found = Vec::new();
        {
            let mut statement = self.connection.prepare_cached(&sql).map_err(fail)?;
            let rows = statement
                .query_map(rusqlite::params_from_iter(values), |row| {
                    let sessions: i64 = row.get(6)?;
                    let key = crate::ProfileKey {
                        host: row.get(1)?,
                        process: row.get(2)?,
                        server: row.get(3)?,
                    };
                    let mut profile = TlsProfile::new(key, row.get(4)?);
                    profile.last_seen_ns = row.get(5)?;
                    profile.sessions = u64::try_from(sessions).unwrap_or(0);
                    Ok((row.get::<_, i64>(0)?, profile))
                })
                .map_err(fail)?;
            for row in rows {
                found.push(row.map_err(fail)?);
            }
        }
        let mut profiles = Vec::with_capacity(found.len());
        for (id, mut profile) in found {
            self.profile_values(id, &mut profile)?;
            profiles.push(profile);
        }
        Ok(profiles)
    }

    fn put_tls_profile(&mut self, profile: &TlsProfile) -> Result<(), StoreError> {
        self.begin()?;
        let fail = |err| classify(&self.path, err);
        let sessions = i64::try_from(profile.sessions).unwrap_or(i64::MAX);
        let id: i64 = self
            .connection
            .prepare_cached(
                "INSERT INTO tls_profile (host, process, server, first_seen_ns, last_seen_ns,
                     sessions)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (host, process, server) DO UPDATE SET
                     first_seen_ns = excluded.first_seen_ns,
                     last_seen_ns = excluded.last_seen_ns,
                     sessions = excluded.sessions
                 RETURNING id",
            )
            .and_then(|mut statement| {
                statement.query_row(
                    params![
                        profile.key.host,
                        profile.key.process,
                        profile.key.server,
                        profile.first_seen_ns,
                        profile.last_seen_ns,
                        sessions,
                    ],
                    |row| row.get(0),
                )
            })
            .map_err(fail)?;
        let mut statement = self
            .connection
            .prepare_cached(
                "INSERT INTO tls_profile_value (profile_id, kind, value, first_seen_ns,
                     last_seen_ns, count)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (profile_id, kind, value) DO UPDATE SET
                     first_seen_ns = excluded.first_seen_ns,
                     last_seen_ns = excluded.last_seen_ns,
                     count = excluded.count",
            )
            .map_err(fail)?;
        for facet in Facet::ALL {
            for seen in profile.facet(facet) {
                let count = i64::try_from(seen.count).unwrap_or(i64::MAX);
                statement
                    .execute(params![
                        id,
                        facet.as_str(),
                        seen.value,
                        seen.first_seen_ns,
                        seen.last_seen_ns,
                        count,
                    ])
                    .map_err(fail)?;
            }
        }
        Ok(())
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
        self.connection
            .execute(
                &format!(
                    "DELETE FROM tls_profile_value WHERE profile_id IN
                     (SELECT id FROM tls_profile WHERE {matching})"
                ),
                arguments,
            )
            .map_err(fail)?;
        let deleted = self
            .connection
            .execute(
                &format!("DELETE FROM tls_profile WHERE {matching}"),
                arguments,
            )
            .map_err(fail)?;
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

/// Names a damaged or non-SQLite file as such; other failures keep
/// SQLite's error.
fn classify(path: &Path, err: rusqlite::Error) -> StoreError {
    match err.sqlite_error_code() {
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => StoreError::Corrupt {
            path: path.to_owned(),
            reason: err.to_string(),
        },
        _ => StoreError::Sqlite {
            path: path.to_owned(),
            source: err,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let values: i64 = store
            .connection
            .query_row("SELECT count(*) FROM tls_profile_value", [], |row| {
                row.get(0)
            })
            .unwrap();
        assert_eq!(values, 2);
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
