//! The embedded default store: one SQLite file, created owner-only on first run.
//!
//! One connection behind a mutex is plenty: a poll commits a handful of rows, and SQLite in
//! WAL mode does thousands of such transactions a second. [`Database`] does the work
//! synchronously; [`SqliteStore`] implements the store's async traits by running it on the
//! blocking pool, one file per concern (`bot_state`, `outbox`, `cards`, `acknowledgements`,
//! `history`).
//!
//! One process owns the file (a second one finds it locked), so claims on the outbox left by a
//! process that stopped are released when the file is opened.

mod acknowledgements;
mod bot_state;
mod cards;
mod commit;
mod disk_full;
mod history;
mod history_rows;
mod outbox;
mod rows;
mod schema;

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode};

use self::disk_full::DiskGuard;
use self::history::{import_snapshots, HistoryWriter};
use self::schema::MIGRATIONS;
use super::StoreError;

/// State in a SQLite file. Cheap to clone: clones share the file's one connection.
#[derive(Clone)]
pub struct SqliteStore {
    database: Arc<Database>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

/// The file's connection and what the writer keeps between polls; synchronous.
struct Database {
    connection: Mutex<Connection>,
    retention: Duration,
    writer: Mutex<HistoryWriter>,
    disk: Mutex<DiskGuard>,
}

impl SqliteStore {
    /// Opens the state file at `path`, creating it (owner-only) and its schema if needed.
    /// Blocks while it migrates the file; call it where blocking is allowed.
    pub fn open(path: &Path, history: Duration) -> Result<SqliteStore, StoreError> {
        let label = path.display().to_string();
        create_private(path).map_err(|e| StoreError::Open {
            path: label.clone(),
            message: e.to_string(),
        })?;
        let connection = Connection::open(path).map_err(|e| StoreError::Open {
            path: label.clone(),
            message: e.to_string(),
        })?;
        // A lock is not damage: say so (by the driver's code), so nobody moves a healthy file
        // aside.
        let unusable = |error: OpenError| match error {
            OpenError::Driver(e)
                if matches!(
                    e.sqlite_error_code(),
                    Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
                ) =>
            {
                StoreError::Locked {
                    path: label.clone(),
                }
            }
            other => StoreError::Corrupt {
                path: label.clone(),
                message: other.to_string(),
            },
        };
        let mut connection = connection;
        prepare(&mut connection).map_err(unusable)?;
        Ok(SqliteStore {
            database: Arc::new(Database {
                connection: Mutex::new(connection),
                retention: history,
                writer: Mutex::default(),
                disk: Mutex::new(DiskGuard::new(path)),
            }),
        })
    }

    /// Runs `call` on the blocking pool.
    async fn run<T: Send + 'static>(
        &self,
        call: impl FnOnce(&Database) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let database = self.database.clone();
        tokio::task::spawn_blocking(move || call(&database))
            .await
            .map_err(|e| StoreError::Query(format!("store task failed: {e}")))?
    }
}

/// Why a file could not be made ready.
#[derive(Debug, thiserror::Error)]
enum OpenError {
    #[error("{0}")]
    Driver(#[from] rusqlite::Error),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("schema version {found} was written by a newer botwatch (this one knows {known})")]
    Newer { found: usize, known: usize },
}

/// Settings, migrations, the import of an earlier version's snapshots, and the release of
/// outbox claims left by the process that had the file before.
fn prepare(connection: &mut Connection) -> Result<(), OpenError> {
    connection.busy_timeout(Duration::from_secs(5))?;
    connection.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
    )?;
    migrate(connection)?;
    import_snapshots(connection)?;
    bot_state::fill_alert_ids(connection)?;
    outbox::release_claims(connection)?;
    Ok(())
}

impl Database {
    /// The full-disk guard; taken after the connection and the writer.
    fn disk(&self) -> MutexGuard<'_, DiskGuard> {
        self.disk.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The history writer; always taken after the connection, never before it.
    fn writer(&self) -> MutexGuard<'_, HistoryWriter> {
        self.writer.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves no half transaction behind (rusqlite rolls
        // back on drop), so the connection is still usable.
        self.connection.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(unix)]
fn create_private(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(not(unix))]
fn create_private(_path: &Path) -> std::io::Result<()> {
    Ok(())
}

/// Brings the schema up to date; refuses a file written by a newer botwatch.
fn migrate(connection: &Connection) -> Result<(), OpenError> {
    let version: i64 = connection.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let version = usize::try_from(version).unwrap_or(usize::MAX);
    if version > MIGRATIONS.len() {
        return Err(OpenError::Newer {
            found: version,
            known: MIGRATIONS.len(),
        });
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(version) {
        connection.execute_batch(&format!(
            "BEGIN; {sql}; PRAGMA user_version = {}; COMMIT;",
            index + 1
        ))?;
    }
    Ok(())
}
