//! The store as one SQLite file: WAL journal, writes grouped in one
//! transaction until [`Store::commit`], a schema version table, and an
//! application id that distinguishes a wiretrust store from any other
//! database.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OptionalExtension, params};

use crate::{ObjectDigest, Store, StoreError};

/// Schema version this code writes and reads.
pub const SCHEMA_VERSION: i64 = 1;

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
            "BEGIN IMMEDIATE; {CREATE_SCHEMA}
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
