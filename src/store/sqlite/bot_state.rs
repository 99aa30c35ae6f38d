//! [`BotStates`] for the SQLite store: a bot's state read back, and polls committed (see
//! `commit` for how).

use async_trait::async_trait;
use rusqlite::types::Value;
use rusqlite::OptionalExtension;

use super::rows::instance_from_row;
use super::{Database, SqliteStore};
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
