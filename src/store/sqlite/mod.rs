//! The embedded default store: one SQLite file, created owner-only on first run.
//!
//! One connection behind a mutex is plenty: a poll commits a handful of rows, and SQLite in
//! WAL mode does thousands of such transactions a second. Callers in async code run these
//! methods on the blocking pool.

mod commit;
mod disk_full;
mod history;
mod history_rows;
mod rows;
mod schema;

use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension};

use self::disk_full::DiskGuard;
use self::history::{import_snapshots, HistoryWriter};
use self::rows::{instance_from_row, platform_column, PARKED};
use self::schema::MIGRATIONS;
use super::{BotRecord, CardKey, DeliveryStep, OutboxItem, PollCommit, Steps, Store, StoreError};
use crate::rules::ApiStatus;
use crate::time::Timestamp;

/// State in a SQLite file.
pub struct SqliteStore {
    connection: Mutex<Connection>,
    history: Duration,
    writer: Mutex<HistoryWriter>,
    disk: Mutex<DiskGuard>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens the state file at `path`, creating it (owner-only) and its schema if needed.
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
        // A lock is not damage: say so, so nobody moves a healthy file aside.
        let corrupt = |e: &dyn std::fmt::Display| {
            let message = e.to_string();
            if message.contains("locked") || message.contains("busy") {
                StoreError::Locked {
                    path: label.clone(),
                }
            } else {
                StoreError::Corrupt {
                    path: label.clone(),
                    message,
                }
            }
        };
        connection
            .busy_timeout(Duration::from_secs(5))
            .map_err(|e| corrupt(&e))?;
        connection
            .execute_batch(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
            )
            .map_err(|e| corrupt(&e))?;
        migrate(&connection).map_err(|e| corrupt(&e))?;
        let mut connection = connection;
        import_snapshots(&mut connection).map_err(|e| corrupt(&e))?;
        Ok(SqliteStore {
            connection: Mutex::new(connection),
            history,
            writer: Mutex::default(),
            disk: Mutex::new(DiskGuard::new(path)),
        })
    }

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
fn migrate(connection: &Connection) -> Result<(), String> {
    let version: i64 = connection
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|e| e.to_string())?;
    let version = usize::try_from(version).unwrap_or(usize::MAX);
    if version > MIGRATIONS.len() {
        return Err(format!(
            "schema version {version} was written by a newer botwatch (this one knows {})",
            MIGRATIONS.len()
        ));
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(version) {
        connection
            .execute_batch(&format!(
                "BEGIN; {sql}; PRAGMA user_version = {}; COMMIT;",
                index + 1
            ))
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

impl Store for SqliteStore {
    fn load_bot(&self, bot_id: &str) -> Result<BotRecord, StoreError> {
        let connection = self.lock();
        let state = connection
            .query_row(
                "SELECT snapshot, snapshot_at, api_up, consecutive_failures, last_error, last_error_kind FROM bot_state WHERE bot_id = ?1",
                [bot_id],
                |r| {
                    Ok((
                        r.get::<_, Option<String>>(0)?,
                        r.get::<_, Option<i64>>(1)?,
                        r.get::<_, bool>(2)?,
                        r.get::<_, u32>(3)?,
                        r.get::<_, Option<String>>(4)?,
                        r.get::<_, Option<String>>(5)?,
                    ))
                },
            )
            .optional()?;
        let mut record = BotRecord::default();
        if let Some((snapshot, at, up, failures, error, kind)) = state {
            if let (Some(json), Some(at)) = (snapshot, at) {
                record.last_snapshot = Some((Timestamp(at), serde_json::from_str(&json)?));
            }
            record.api = Some(ApiStatus {
                up,
                consecutive_failures: failures,
                error,
                error_kind: kind
                    .as_deref()
                    .and_then(crate::analytics::PollError::kind_from_name),
            });
        }
        let mut statement =
            connection.prepare("SELECT * FROM alert_instances WHERE bot_id = ?1")?;
        record.instances = statement
            .query_map([bot_id], instance_from_row)?
            .collect::<Result<_, _>>()?;
        Ok(record)
    }

    fn commit_poll(&self, commit: &PollCommit<'_>) -> Result<(), StoreError> {
        self.commit_alone(commit)
    }

    fn commit_polls(&self, commits: &[PollCommit<'_>]) -> Vec<Result<(), StoreError>> {
        self.commit_together(commits)
    }

    fn due_notifications(
        &self,
        now: Timestamp,
        limit: usize,
    ) -> Result<Vec<OutboxItem>, StoreError> {
        let connection = self.lock();
        // Due, and not behind an earlier notification of the same alert still waiting for a
        // retry: a resolution never overtakes the firing it resolves.
        let mut statement = connection.prepare(
            "SELECT id, event, attempts, steps_done FROM outbox o WHERE next_attempt_at <= ?1
               AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.alert_key = o.alert_key AND e.id < o.id AND e.next_attempt_at < ?3)
             ORDER BY id LIMIT ?2",
        )?;
        let rows = statement.query_map(params![now.0, limit as i64, PARKED], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, u32>(2)?,
                r.get::<_, u32>(3)?,
            ))
        })?;
        let mut items = Vec::new();
        let mut undecodable = Vec::new();
        for row in rows {
            let (id, json, attempts, done) = row?;
            match serde_json::from_str(&json) {
                Ok(event) => items.push(OutboxItem {
                    id,
                    event,
                    attempts,
                    done: Steps::from_bits(done),
                }),
                Err(_) => undecodable.push(id),
            }
        }
        drop(statement);
        for id in undecodable {
            // One unreadable row must not stop every delivery: park it for inspection.
            tracing::error!(id, "an outbox row does not decode; parked");
            connection.execute(
                "UPDATE outbox SET next_attempt_at = ?2, last_error = 'undecodable' WHERE id = ?1",
                params![id, PARKED],
            )?;
        }
        Ok(items)
    }

    fn record_step(&self, id: i64, step: DeliveryStep) -> Result<(), StoreError> {
        self.lock().execute(
            "UPDATE outbox SET steps_done = steps_done | ?2 WHERE id = ?1",
            params![id, Steps::default().with(step).bits()],
        )?;
        Ok(())
    }

    fn mark_delivered(&self, id: i64) -> Result<(), StoreError> {
        self.lock()
            .execute("DELETE FROM outbox WHERE id = ?1", [id])?;
        Ok(())
    }

    fn mark_failed(&self, id: i64, error: &str, retry_at: Timestamp) -> Result<(), StoreError> {
        self.lock().execute(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ?2, next_attempt_at = ?3 WHERE id = ?1",
            params![id, error, retry_at.0],
        )?;
        Ok(())
    }

    fn mark_parked(&self, id: i64, error: &str) -> Result<(), StoreError> {
        self.mark_failed(id, error, Timestamp(PARKED))
    }

    fn next_attempt_at(&self) -> Result<Option<Timestamp>, StoreError> {
        let next: Option<i64> = self.lock().query_row(
            "SELECT MIN(next_attempt_at) FROM outbox WHERE next_attempt_at < ?1",
            [PARKED],
            |r| r.get(0),
        )?;
        Ok(next.map(Timestamp))
    }

    fn outbox_len(&self) -> Result<usize, StoreError> {
        let count: i64 = self
            .lock()
            .query_row("SELECT COUNT(*) FROM outbox", [], |r| r.get(0))?;
        Ok(usize::try_from(count).unwrap_or(0))
    }

    fn card(&self, card: &CardKey<'_>) -> Result<Option<String>, StoreError> {
        let found = self
            .lock()
            .query_row(
                "SELECT message_id FROM cards WHERE rule = ?1 AND bot_id = ?2 AND platform = ?3 AND fired_at = ?4 AND destination = ?5",
                params![card.alert.rule, card.alert.bot_id, platform_column(card.alert), card.fired_at.0, card.destination],
                |r| r.get(0),
            )
            .optional()?;
        Ok(found)
    }

    fn save_card(&self, card: &CardKey<'_>, message_id: &str) -> Result<(), StoreError> {
        self.lock().execute(
            "INSERT OR REPLACE INTO cards (rule, bot_id, platform, fired_at, destination, message_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![card.alert.rule, card.alert.bot_id, platform_column(card.alert), card.fired_at.0, card.destination, message_id],
        )?;
        Ok(())
    }

    fn forget_card(&self, card: &CardKey<'_>) -> Result<(), StoreError> {
        self.lock().execute(
            "DELETE FROM cards WHERE rule = ?1 AND bot_id = ?2 AND platform = ?3 AND fired_at = ?4 AND destination = ?5",
            params![card.alert.rule, card.alert.bot_id, platform_column(card.alert), card.fired_at.0, card.destination],
        )?;
        Ok(())
    }
}
