//! [`History`] for the SQLite store: writing a sample with each poll, the reads, compaction a
//! bot at a time, and moving the JSON snapshots of earlier versions into samples at start-up.

use std::collections::HashMap;
use std::time::Duration;

use rusqlite::{params, Connection};

use super::history_rows::{
    bot_number, bots_after, compact_bot, known_bot, rollup_at, rollups, samples, write_sample,
};
use super::{Database, SqliteStore};
use crate::analytics::{Field, FieldValue, Snapshot};
use crate::store::history::{Chains, Frame, MaintenanceStep, Summary, BUCKET_MS, FULL_RESOLUTION};
use crate::store::{History, StoreError};
use crate::time::Timestamp;
use async_trait::async_trait;

/// Rows moved per transaction when importing an earlier version's snapshots.
const IMPORT_BATCH: usize = 5_000;
/// Bots looked at in one step of maintenance at most.
const BOTS_PER_STEP: usize = 256;
/// A step ends after the bot that took it past this, so polls never wait long behind one.
const STEP_TIME: Duration = Duration::from_millis(5);

/// What the writer keeps between polls: each bot's chain and number, and where maintenance is.
#[derive(Debug, Default)]
pub(super) struct HistoryWriter {
    chains: Chains,
    numbers: HashMap<String, i64>,
    cursor: i64,
}

/// A sample written in a transaction not yet committed.
pub(super) struct Pending<'a> {
    bot_id: &'a str,
    number: i64,
    snapshot: &'a Snapshot,
    key: bool,
}

impl HistoryWriter {
    /// Writes `snapshot` as `bot_id`'s sample at `at` in `tx`; `None` if one was there already.
    pub(super) fn write<'a>(
        &self,
        tx: &Connection,
        bot_id: &'a str,
        at: Timestamp,
        snapshot: &'a Snapshot,
    ) -> Result<Option<Pending<'a>>, StoreError> {
        let number = match self.numbers.get(bot_id) {
            Some(number) => *number,
            None => bot_number(tx, bot_id)?,
        };
        let frame: Frame = self.chains.frame(bot_id, snapshot);
        let written = write_sample(tx, number, at, &frame)?;
        Ok(written.then_some(Pending {
            bot_id,
            number,
            snapshot,
            key: frame.key,
        }))
    }

    /// After the commit: the next sample of the bot builds on this one.
    pub(super) fn committed(&mut self, pending: Pending<'_>) {
        self.numbers
            .insert(pending.bot_id.to_owned(), pending.number);
        self.chains
            .written(pending.bot_id, pending.snapshot, pending.key);
    }

    /// The commit failed: start the bot's next sample afresh.
    pub(super) fn rolled_back(&mut self, bot_id: &str) {
        self.chains.forget(bot_id);
        self.numbers.remove(bot_id);
    }
}

#[async_trait]
impl History for SqliteStore {
    async fn history(
        &self,
        bot_id: &str,
        since: Timestamp,
    ) -> Result<Vec<(Timestamp, Snapshot)>, StoreError> {
        let bot_id = bot_id.to_owned();
        self.run(move |database| database.history(&bot_id, since))
            .await
    }

    async fn value_at(
        &self,
        bot_id: &str,
        field: Field,
        at: Timestamp,
    ) -> Result<Option<(Timestamp, FieldValue)>, StoreError> {
        let bot_id = bot_id.to_owned();
        self.run(move |database| database.value_at(&bot_id, field, at))
            .await
    }

    async fn values(
        &self,
        bot_id: &str,
        field: Field,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<(Timestamp, FieldValue)>, StoreError> {
        let bot_id = bot_id.to_owned();
        self.run(move |database| database.values(&bot_id, field, from, to))
            .await
    }

    async fn summaries(
        &self,
        bot_id: &str,
        field: Field,
        from: Timestamp,
        to: Timestamp,
        step: Duration,
    ) -> Result<Vec<Summary>, StoreError> {
        let bot_id = bot_id.to_owned();
        self.run(move |database| database.summaries(&bot_id, field, from, to, step))
            .await
    }

    async fn compact_history(&self, now: Timestamp) -> Result<MaintenanceStep, StoreError> {
        self.run(move |database| database.compact_history(now))
            .await
    }

    fn history_paused(&self) -> tokio::sync::watch::Receiver<bool> {
        self.database.disk().watch()
    }
}

impl Database {
    fn history(
        &self,
        bot_id: &str,
        since: Timestamp,
    ) -> Result<Vec<(Timestamp, Snapshot)>, StoreError> {
        let connection = self.lock();
        match known_bot(&connection, bot_id)? {
            Some(bot) => samples(&connection, bot, since, Timestamp(i64::MAX)),
            None => Ok(Vec::new()),
        }
    }

    fn value_at(
        &self,
        bot_id: &str,
        field: Field,
        at: Timestamp,
    ) -> Result<Option<(Timestamp, FieldValue)>, StoreError> {
        let connection = self.lock();
        let Some(bot) = known_bot(&connection, bot_id)? else {
            return Ok(None);
        };
        if let Some((taken, snapshot)) = samples(&connection, bot, at, at)?.pop() {
            return Ok(field.get(&snapshot).map(|v| (taken, v)));
        }
        // No sample at that instant: the last one before it, if samples reach back that far.
        let before = last_sample_before(&connection, bot, at)?;
        if let Some(taken) = before {
            let snapshot = samples(&connection, bot, taken, taken)?.pop();
            return Ok(snapshot.and_then(|(t, s)| field.get(&s).map(|v| (t, v))));
        }
        Ok(rollup_at(&connection, bot, at)?
            .and_then(|r| r.field(field).map(|s| (s.start, s.last.clone()))))
    }

    fn values(
        &self,
        bot_id: &str,
        field: Field,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<(Timestamp, FieldValue)>, StoreError> {
        Ok(self
            .pieces(bot_id, field, from, to)?
            .into_iter()
            .map(|piece| (piece.start, piece.last))
            .collect())
    }

    fn summaries(
        &self,
        bot_id: &str,
        field: Field,
        from: Timestamp,
        to: Timestamp,
        step: Duration,
    ) -> Result<Vec<Summary>, StoreError> {
        let step = i64::try_from(step.as_millis())
            .unwrap_or(i64::MAX)
            .max(BUCKET_MS);
        let span_of = |at: Timestamp| Timestamp(at.0.div_euclid(step) * step);
        let mut out: Vec<Summary> = Vec::new();
        for piece in self.pieces(bot_id, field, from, to)? {
            let span = span_of(piece.start);
            match out.last_mut() {
                Some(last) if last.start == span => last.merge(piece),
                _ => out.push(Summary {
                    start: span,
                    ..piece
                }),
            }
        }
        Ok(out)
    }

    fn compact_history(&self, now: Timestamp) -> Result<MaintenanceStep, StoreError> {
        let retention = i64::try_from(self.retention.as_millis()).unwrap_or(i64::MAX);
        let full = i64::try_from(FULL_RESOLUTION.as_millis()).unwrap_or(i64::MAX);
        let keep_from = Timestamp(now.0.saturating_sub(retention));
        let roll_before = Timestamp(now.0.saturating_sub(full.min(retention)));
        let mut connection = self.lock();
        let mut writer = self.writer();
        let started = std::time::Instant::now();
        let mut step = MaintenanceStep::default();
        // Bots with nothing due cost an index lookup or two: many are looked at per step, so
        // a pass over 10,000 bots is a few dozen steps, not 10,000 hops to the blocking pool.
        for (bot, bot_id) in bots_after(&connection, writer.cursor, BOTS_PER_STEP)? {
            let done = compact_bot(&mut connection, bot, roll_before, keep_from)?;
            if done.emptied {
                writer.rolled_back(&bot_id);
            }
            step.samples += done.samples;
            step.rollups += done.rollups;
            if done.more {
                return Ok(step); // the same bot again at the next step
            }
            writer.cursor = bot;
            if started.elapsed() >= STEP_TIME {
                return Ok(step);
            }
        }
        if bots_after(&connection, writer.cursor, 1)?.is_empty() {
            writer.cursor = 0;
            step.pass_done = true;
        }
        Ok(step)
    }
}

impl Database {
    /// A field from `from` to `to`, oldest first: a summary per rollup (its five minutes), then
    /// one per sample after the last rollup. One read of each tier.
    fn pieces(
        &self,
        bot_id: &str,
        field: Field,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<Summary>, StoreError> {
        let connection = self.lock();
        let Some(bot) = known_bot(&connection, bot_id)? else {
            return Ok(Vec::new());
        };
        let mut out: Vec<Summary> = rollups(&connection, bot, from, to)?
            .iter()
            .filter_map(|r| r.field(field).cloned())
            .collect();
        let rolled_until = out.last().map(|s| s.start.0 + BUCKET_MS);
        out.extend(
            samples(&connection, bot, from, to)?
                .into_iter()
                .filter(|(t, _)| rolled_until.is_none_or(|until| t.0 >= until))
                .filter_map(|(t, s)| field.get(&s).map(|v| Summary::of(t, v))),
        );
        Ok(out)
    }
}

fn last_sample_before(
    connection: &Connection,
    bot: i64,
    at: Timestamp,
) -> Result<Option<Timestamp>, StoreError> {
    use rusqlite::OptionalExtension;
    Ok(connection
        .query_row(
            "SELECT at FROM history_samples WHERE bot = ?1 AND at <= ?2 ORDER BY at DESC LIMIT 1",
            params![bot, at.0],
            |r| r.get(0),
        )
        .optional()?
        .map(Timestamp))
}

/// Moves the JSON snapshots of a file written before compact history into samples, in
/// batches of short transactions, then drops their table. Returns how many were moved.
pub(super) fn import_snapshots(connection: &mut Connection) -> Result<usize, StoreError> {
    let exists: bool = connection.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'snapshots')",
        [],
        |r| r.get(0),
    )?;
    if !exists {
        return Ok(0);
    }
    let total: i64 = connection.query_row("SELECT COUNT(*) FROM snapshots", [], |r| r.get(0))?;
    let mut writer = HistoryWriter::default();
    let mut moved = 0;
    // Every batch deletes the rows it read: the last batch finds the table empty.
    let batches = usize::try_from(total).unwrap_or(0) / IMPORT_BATCH + 1;
    for _ in 0..=batches {
        let tx = connection.transaction()?;
        let rows: Vec<(i64, String, i64, String)> = {
            let mut statement = tx.prepare(
                "SELECT rowid, bot_id, taken_at, snapshot FROM snapshots ORDER BY bot_id, taken_at LIMIT ?1",
            )?;
            let rows = statement.query_map([IMPORT_BATCH as i64], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })?;
            rows.collect::<Result<_, _>>()?
        };
        if rows.is_empty() {
            tx.execute_batch("DROP TABLE snapshots;")?;
            tx.commit()?;
            return Ok(moved);
        }
        let mut written = Vec::new();
        for (rowid, bot_id, at, json) in &rows {
            tx.execute("DELETE FROM snapshots WHERE rowid = ?1", [rowid])?;
            // A row that does not decode is dropped: it could never have been read either.
            let Ok(snapshot) = serde_json::from_str::<Snapshot>(json) else {
                continue;
            };
            if let Some(pending) = writer.write(&tx, bot_id, Timestamp(*at), &snapshot)? {
                written.push((
                    pending.bot_id.to_owned(),
                    pending.number,
                    pending.key,
                    snapshot,
                ));
            }
        }
        tx.commit()?;
        for (bot_id, number, key, snapshot) in written {
            writer.committed(Pending {
                bot_id: &bot_id,
                number,
                snapshot: &snapshot,
                key,
            });
            moved += 1;
        }
        tracing::info!(
            moved,
            total,
            "moving snapshot history to the compact format"
        );
    }
    Err(StoreError::Query(
        "the earlier version's snapshots did not all move; start again to resume".into(),
    ))
}
