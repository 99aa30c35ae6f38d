//! [`BotStates`] for the SQLite store: a bot's state read back, and polls committed (see
//! `commit` for how).

use async_trait::async_trait;
use rusqlite::types::Value;
use rusqlite::OptionalExtension;

use super::rows::instance_from_row;
use super::{Database, SqliteStore};
use crate::alerts::{AlertId, AlertInstance};
use crate::analytics::Snapshot;
use crate::rules::ApiStatus;
use crate::store::history::frame;
use crate::store::{BotRecord, BotStates, PollCommit, StoreError};
use crate::time::Timestamp;

#[async_trait]
impl BotStates for SqliteStore {
    async fn load_bot(&self, bot_id: &str) -> Result<BotRecord, StoreError> {
        let bot_id = bot_id.to_owned();
        self.run(move |database| database.load_bot(&bot_id)).await
    }

    async fn find_alert(&self, id: AlertId) -> Result<Option<AlertInstance>, StoreError> {
        self.run(move |database| {
            let connection = database.lock();
            let mut statement =
                connection.prepare_cached("SELECT * FROM alert_instances WHERE alert_id = ?1")?;
            // Ids are 64-bit hashes: two instances could share one (a pair does with odds of
            // 1 in 2^64), and an id must name exactly one alert to be acted on.
            let mut found = statement.query_map([id.to_i64()], instance_from_row)?;
            let first = found.next().transpose()?;
            Ok(first.filter(|_| found.next().is_none()))
        })
        .await
    }

    fn commit_polls(&self, commits: &[PollCommit<'_>]) -> Vec<Result<(), StoreError>> {
        self.database.commit_together(commits)
    }
}

impl Database {
    fn load_bot(&self, bot_id: &str) -> Result<BotRecord, StoreError> {
        let connection = self.lock();
        let state = connection
            .query_row(
                "SELECT snapshot, snapshot_at, api_up, consecutive_failures, last_error, last_error_kind FROM bot_state WHERE bot_id = ?1",
                [bot_id],
                |r| {
                    Ok((
                        r.get::<_, rusqlite::types::Value>(0)?,
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
            if let (Some(snapshot), Some(at)) = (last_known(snapshot)?, at) {
                record.last_snapshot = Some((Timestamp(at), snapshot));
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
}

/// Gives the alert instances stored by versions without ids theirs (derived from each row's
/// key and start, so the same as the engine will give them).
pub(super) fn fill_alert_ids(connection: &rusqlite::Connection) -> rusqlite::Result<()> {
    let missing: Vec<(i64, AlertInstance)> = connection
        .prepare("SELECT rowid, * FROM alert_instances WHERE alert_id IS NULL")?
        .query_map([], |row| Ok((row.get("rowid")?, instance_from_row(row)?)))?
        .collect::<Result<_, _>>()?;
    for (row, instance) in missing {
        connection.execute(
            "UPDATE alert_instances SET alert_id = ?1 WHERE rowid = ?2",
            [instance.id().to_i64(), row],
        )?;
    }
    Ok(())
}

/// The last known snapshot as stored: a history key frame (a blob), or the JSON that earlier
/// versions wrote (text), read until the bot's next poll replaces it.
fn last_known(stored: Value) -> Result<Option<Snapshot>, StoreError> {
    Ok(match stored {
        Value::Blob(frame) => {
            let mut snapshot = Snapshot::default();
            frame::apply(&mut snapshot, &frame, true)?;
            Some(snapshot)
        }
        Value::Text(json) => Some(serde_json::from_str(&json)?),
        _ => None,
    })
}
