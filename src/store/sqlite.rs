//! The embedded default store: one SQLite file, created owner-only on first run.
//!
//! One connection behind a mutex is plenty: a poll commits a handful of rows, and SQLite in
//! WAL mode does thousands of such transactions a second. Callers in async code run these
//! methods on the blocking pool.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension, Transaction};

use super::schema::MIGRATIONS;
use super::{BotRecord, CardKey, OutboxItem, PollCommit, Store, StoreError};
use crate::alerts::{AlertInstance, AlertKey, Phase};
use crate::analytics::{Platform, Snapshot};
use crate::rules::ApiStatus;
use crate::time::Timestamp;

/// State in a SQLite file.
pub struct SqliteStore {
    connection: Mutex<Connection>,
    history: Duration,
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
        let corrupt = |e: &dyn std::fmt::Display| StoreError::Corrupt {
            path: label.clone(),
            message: e.to_string(),
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
        Ok(SqliteStore {
            connection: Mutex::new(connection),
            history,
        })
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

fn platform_column(key: &AlertKey) -> &'static str {
    key.platform.map(Platform::id).unwrap_or("")
}

/// The outbox keeps events of one alert in order: a later one waits for an earlier one.
fn ordering_key(key: &AlertKey) -> String {
    format!(
        "{}\u{1f}{}\u{1f}{}",
        key.rule,
        key.bot_id,
        platform_column(key)
    )
}

/// `next_attempt_at` of a parked (rejected) notification: never due, and blocking nothing.
const PARKED: i64 = i64::MAX;

fn instance_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<AlertInstance> {
    let platform: String = row.get("platform")?;
    let phase: String = row.get("phase")?;
    let at = |name: &str| row.get::<_, Option<i64>>(name).map(|v| v.map(Timestamp));
    Ok(AlertInstance {
        key: AlertKey {
            rule: row.get("rule")?,
            bot_id: row.get("bot_id")?,
            platform: Platform::from_id(&platform),
        },
        phase: if phase == "firing" {
            Phase::Firing
        } else {
            Phase::Pending
        },
        active_since: Timestamp(row.get("active_since")?),
        fired_at: at("fired_at")?,
        last_notified_at: at("last_notified_at")?,
        clearing_since: at("clearing_since")?,
        announced: row
            .get::<_, Option<String>>("announced")?
            .and_then(|json| serde_json::from_str(&json).ok()),
    })
}

fn write_bot_state(tx: &Transaction<'_>, commit: &PollCommit<'_>) -> Result<(), StoreError> {
    let api = commit.api;
    let updated = tx.execute(
        "UPDATE bot_state SET api_up = ?2, consecutive_failures = ?3, last_error = ?4, last_error_kind = ?5, polled_at = ?6 WHERE bot_id = ?1",
        params![commit.bot_id, api.up, api.consecutive_failures, api.error, api.error_kind, commit.at.0],
    )?;
    if updated == 0 {
        tx.execute(
            "INSERT INTO bot_state (bot_id, api_up, consecutive_failures, last_error, last_error_kind, polled_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![commit.bot_id, api.up, api.consecutive_failures, api.error, api.error_kind, commit.at.0],
        )?;
    }
    if let Some(last_known) = commit.last_known.or(commit.snapshot) {
        tx.execute(
            "UPDATE bot_state SET snapshot = ?2, snapshot_at = ?3 WHERE bot_id = ?1",
            params![
                commit.bot_id,
                serde_json::to_string(last_known)?,
                commit.at.0
            ],
        )?;
    }
    if let Some(snapshot) = commit.snapshot {
        tx.execute(
            "INSERT INTO snapshots (bot_id, taken_at, snapshot) VALUES (?1, ?2, ?3)",
            params![commit.bot_id, commit.at.0, serde_json::to_string(snapshot)?],
        )?;
    }
    Ok(())
}

fn write_changes(tx: &Transaction<'_>, commit: &PollCommit<'_>) -> Result<(), StoreError> {
    for instance in &commit.changes.upserts {
        tx.execute(
            "INSERT OR REPLACE INTO alert_instances (rule, bot_id, platform, phase, active_since, fired_at, last_notified_at, clearing_since, announced)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                instance.key.rule,
                instance.key.bot_id,
                platform_column(&instance.key),
                instance.phase.as_str(),
                instance.active_since.0,
                instance.fired_at.map(|t| t.0),
                instance.last_notified_at.map(|t| t.0),
                instance.clearing_since.map(|t| t.0),
                instance.announced.as_ref().map(serde_json::to_string).transpose()?,
            ],
        )?;
    }
    for key in &commit.changes.removed {
        tx.execute(
            "DELETE FROM alert_instances WHERE rule = ?1 AND bot_id = ?2 AND platform = ?3",
            params![key.rule, key.bot_id, platform_column(key)],
        )?;
    }
    for event in &commit.changes.events {
        tx.execute(
            "INSERT INTO outbox (created_at, event, next_attempt_at, alert_key) VALUES (?1, ?2, ?1, ?3)",
            params![commit.at.0, serde_json::to_string(event)?, ordering_key(&event.key)],
        )?;
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
        let mut connection = self.lock();
        let tx = connection.transaction()?;
        write_bot_state(&tx, commit)?;
        write_changes(&tx, commit)?;
        if commit.snapshot.is_some() {
            let cutoff = Timestamp(
                commit.at.0 - i64::try_from(self.history.as_millis()).unwrap_or(i64::MAX),
            );
            tx.execute(
                "DELETE FROM snapshots WHERE bot_id = ?1 AND taken_at < ?2",
                params![commit.bot_id, cutoff.0],
            )?;
        }
        tx.commit()?;
        Ok(())
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
            "SELECT id, event, attempts FROM outbox o WHERE next_attempt_at <= ?1
               AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.alert_key = o.alert_key AND e.id < o.id AND e.next_attempt_at < ?3)
             ORDER BY id LIMIT ?2",
        )?;
        let rows = statement.query_map(params![now.0, limit as i64, PARKED], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, u32>(2)?,
            ))
        })?;
        let mut items = Vec::new();
        let mut undecodable = Vec::new();
        for row in rows {
            let (id, json, attempts) = row?;
            match serde_json::from_str(&json) {
                Ok(event) => items.push(OutboxItem {
                    id,
                    event,
                    attempts,
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

    fn history(
        &self,
        bot_id: &str,
        since: Timestamp,
    ) -> Result<Vec<(Timestamp, Snapshot)>, StoreError> {
        let connection = self.lock();
        let mut statement = connection
            .prepare("SELECT taken_at, snapshot FROM snapshots WHERE bot_id = ?1 AND taken_at >= ?2 ORDER BY taken_at")?;
        let rows = statement.query_map(params![bot_id, since.0], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (at, json) = row?;
            out.push((Timestamp(at), serde_json::from_str(&json)?));
        }
        Ok(out)
    }
}
