//! [`Outbox`] for the SQLite store: claims as a `claimed_until` time on each row, parked rows
//! flagged as such.

use std::time::Duration;

use async_trait::async_trait;
use rusqlite::{params, Connection, TransactionBehavior};

use super::{Database, SqliteStore};
use crate::store::{Completion, DeliveryStep, Outbox, OutboxItem, Steps, StoreError};
use crate::time::Timestamp;

#[async_trait]
impl Outbox for SqliteStore {
    async fn claim(
        &self,
        now: Timestamp,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<OutboxItem>, StoreError> {
        self.run(move |database| database.claim(now, limit, now.plus(lease)))
            .await
    }

    async fn record_step(&self, id: i64, step: DeliveryStep) -> Result<(), StoreError> {
        self.run(move |database| {
            database.lock().execute(
                "UPDATE outbox SET steps_done = steps_done | ?2 WHERE id = ?1",
                params![id, Steps::default().with(step).bits()],
            )?;
            Ok(())
        })
        .await
    }

    async fn complete(&self, id: i64, completion: Completion) -> Result<(), StoreError> {
        self.run(move |database| {
            let connection = database.lock();
            match completion {
                Completion::Delivered => {
                    connection.execute("DELETE FROM outbox WHERE id = ?1", [id])?
                }
                Completion::Failed { error, retry_at } => connection.execute(
                    "UPDATE outbox SET attempts = attempts + 1, last_error = ?2, next_attempt_at = ?3, claimed_until = 0 WHERE id = ?1",
                    params![id, error, retry_at.0],
                )?,
                Completion::Parked { error } => connection.execute(
                    "UPDATE outbox SET attempts = attempts + 1, last_error = ?2, parked = 1, claimed_until = 0 WHERE id = ?1",
                    params![id, error],
                )?,
                Completion::Released => connection
                    .execute("UPDATE outbox SET claimed_until = 0 WHERE id = ?1", [id])?,
            };
            Ok(())
        })
        .await
    }

    async fn next_attempt_at(&self) -> Result<Option<Timestamp>, StoreError> {
        self.run(|database| {
            // Only the first waiting row of each alert can be claimed next (the others wait
            // for it); a claimed row is due again when its claim runs out.
            let next: Option<i64> = database.lock().query_row(
                "SELECT MIN(MAX(next_attempt_at, claimed_until)) FROM outbox o WHERE NOT parked
                   AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.alert_key = o.alert_key AND e.id < o.id AND NOT e.parked)",
                [],
                |r| r.get(0),
            )?;
            Ok(next.map(Timestamp))
        })
        .await
    }

    async fn outbox_len(&self) -> Result<usize, StoreError> {
        self.run(|database| {
            let count: i64 = database
                .lock()
                .query_row("SELECT COUNT(*) FROM outbox", [], |r| r.get(0))?;
            Ok(usize::try_from(count).unwrap_or(0))
        })
        .await
    }
}

impl Database {
    /// Due rows, oldest first, claimed until `until` in one transaction.
    fn claim(
        &self,
        now: Timestamp,
        limit: usize,
        until: Timestamp,
    ) -> Result<Vec<OutboxItem>, StoreError> {
        let mut connection = self.lock();
        let tx = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Due, unclaimed, and not behind an earlier notification of the same alert that is
        // still waiting or in flight: a resolution never overtakes the firing it resolves.
        let rows = tx
            .prepare(
                "SELECT id, event, attempts, steps_done FROM outbox o
                 WHERE NOT parked AND next_attempt_at <= ?1 AND claimed_until <= ?1
                   AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.alert_key = o.alert_key AND e.id < o.id AND NOT e.parked)
                 ORDER BY id LIMIT ?2",
            )?
            .query_map(params![now.0, limit as i64], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, u32>(2)?,
                    r.get::<_, u32>(3)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let mut items = Vec::with_capacity(rows.len());
        {
            let mut claim = tx.prepare("UPDATE outbox SET claimed_until = ?2 WHERE id = ?1")?;
            let mut park = tx.prepare(
                "UPDATE outbox SET parked = 1, last_error = 'undecodable' WHERE id = ?1",
            )?;
            for (id, json, attempts, done) in rows {
                match serde_json::from_str(&json) {
                    Ok(event) => {
                        claim.execute(params![id, until.0])?;
                        items.push(OutboxItem {
                            id,
                            event,
                            attempts,
                            done: Steps::from_bits(done),
                        });
                    }
                    Err(_) => {
                        // One unreadable row must not stop every delivery: park it.
                        tracing::error!(id, "an outbox row does not decode; parked");
                        park.execute([id])?;
                    }
                }
            }
        }
        tx.commit()?;
        Ok(items)
    }
}

/// Claims of a process that had the file before: it stopped, so they are void.
pub(super) fn release_claims(connection: &Connection) -> Result<(), rusqlite::Error> {
    connection.execute(
        "UPDATE outbox SET claimed_until = 0 WHERE claimed_until > 0",
        [],
    )?;
    Ok(())
}
