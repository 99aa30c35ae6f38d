//! History rows in SQLite: samples and rollups (see [`crate::store::history`]), keyed by a
//! small number per bot so that the bot's id is not repeated in every row.

use rusqlite::{params, Connection, OptionalExtension, Transaction};

use crate::analytics::Snapshot;
use crate::store::history::frame::{apply, key_frame, FrameError};
use crate::store::history::{bucket_of, Frame, Rollup};
use crate::store::StoreError;
use crate::time::Timestamp;

/// Samples rolled up per bot and transaction: short transactions whatever the backlog.
const SAMPLES_PER_STEP: usize = 5_000;

impl From<FrameError> for StoreError {
    fn from(error: FrameError) -> Self {
        StoreError::Query(error.to_string())
    }
}

/// The number `bot_id`'s rows are kept under, given one if it has none yet.
pub(super) fn bot_number(connection: &Connection, bot_id: &str) -> Result<i64, StoreError> {
    connection.execute(
        "INSERT OR IGNORE INTO history_bots (bot_id) VALUES (?1)",
        [bot_id],
    )?;
    Ok(connection.query_row(
        "SELECT id FROM history_bots WHERE bot_id = ?1",
        [bot_id],
        |r| r.get(0),
    )?)
}

/// The number of `bot_id`, if it has any history.
pub(super) fn known_bot(connection: &Connection, bot_id: &str) -> Result<Option<i64>, StoreError> {
    Ok(connection
        .query_row(
            "SELECT id FROM history_bots WHERE bot_id = ?1",
            [bot_id],
            |r| r.get(0),
        )
        .optional()?)
}

/// Stores one sample; `false` if the bot already has one at that instant.
pub(super) fn write_sample(
    tx: &Connection,
    bot: i64,
    at: Timestamp,
    frame: &Frame,
) -> Result<bool, StoreError> {
    let written = tx
        .prepare_cached(
            "INSERT OR IGNORE INTO history_samples (bot, at, key, frame) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![bot, at.0, frame.key, frame.bytes])?;
    Ok(written == 1)
}

/// The bot's samples from `from` to `to` (inclusive), oldest first, replayed from the key frame
/// at or before `from`.
pub(super) fn samples(
    connection: &Connection,
    bot: i64,
    from: Timestamp,
    to: Timestamp,
) -> Result<Vec<(Timestamp, Snapshot)>, StoreError> {
    let start: Option<i64> = connection
        .query_row(
            "SELECT at FROM history_samples WHERE bot = ?1 AND at <= ?2 AND key = 1 ORDER BY at DESC LIMIT 1",
            params![bot, from.0],
            |r| r.get(0),
        )
        .optional()?;
    let mut statement = connection.prepare_cached(
        "SELECT at, key, frame FROM history_samples WHERE bot = ?1 AND at >= ?2 AND at <= ?3 ORDER BY at",
    )?;
    let rows = statement.query_map(params![bot, start.unwrap_or(i64::MIN), to.0], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, bool>(1)?,
            r.get::<_, Vec<u8>>(2)?,
        ))
    })?;
    let mut state = Snapshot::default();
    let mut out = Vec::new();
    for row in rows {
        let (at, key, frame) = row?;
        apply(&mut state, &frame, key)?;
        if at >= from.0 {
            out.push((Timestamp(at), state.clone()));
        }
    }
    Ok(out)
}

/// The bot's rollups whose buckets start from `from` to `to` (inclusive), oldest first.
pub(super) fn rollups(
    connection: &Connection,
    bot: i64,
    from: Timestamp,
    to: Timestamp,
) -> Result<Vec<Rollup>, StoreError> {
    let mut statement = connection.prepare_cached(
        "SELECT bucket, summary FROM history_rollups WHERE bot = ?1 AND bucket >= ?2 AND bucket <= ?3 ORDER BY bucket",
    )?;
    let rows = statement.query_map(params![bot, from.0, to.0], |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (bucket, bytes) = row?;
        out.push(Rollup::decode(Timestamp(bucket), &bytes)?);
    }
    Ok(out)
}

/// The latest rollup starting at or before `at`.
pub(super) fn rollup_at(
    connection: &Connection,
    bot: i64,
    at: Timestamp,
) -> Result<Option<Rollup>, StoreError> {
    let row: Option<(i64, Vec<u8>)> = connection
        .query_row(
            "SELECT bucket, summary FROM history_rollups WHERE bot = ?1 AND bucket <= ?2 ORDER BY bucket DESC LIMIT 1",
            params![bot, at.0],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    Ok(row
        .map(|(bucket, bytes)| Rollup::decode(Timestamp(bucket), &bytes))
        .transpose()?)
}

/// What compacting one bot did.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Compacted {
    pub samples: usize,
    pub rollups: usize,
    /// The bot has no samples left (its writer must start again with a key frame).
    pub emptied: bool,
    /// More of this bot is due than one step takes.
    pub more: bool,
}

/// One step for one bot, in one transaction: rollups older than `keep_from` are dropped;
/// samples older than `roll_before` are folded into rollups (or dropped, when they are older
/// than `keep_from` too); the first sample left is rewritten as a key frame.
pub(super) fn compact_bot(
    connection: &mut Connection,
    bot: i64,
    roll_before: Timestamp,
    keep_from: Timestamp,
) -> Result<Compacted, StoreError> {
    let tx = connection.transaction()?;
    let mut done = Compacted {
        rollups: tx
            .prepare_cached("DELETE FROM history_rollups WHERE bot = ?1 AND bucket < ?2")?
            .execute(params![bot, bucket_of(keep_from).0])?,
        ..Compacted::default()
    };
    // The oldest samples are read only as far as they are due: a bot with nothing old costs
    // one index lookup.
    let old = sample_rows(
        &tx,
        "SELECT at, key, frame FROM history_samples WHERE bot = ?1 AND at < ?2 ORDER BY at LIMIT ?3",
        params![bot, roll_before.0, SAMPLES_PER_STEP as i64],
    )?;
    let Some(&(last_old, ..)) = old.last() else {
        tx.commit()?;
        return Ok(done);
    };
    // The bot's oldest sample is a key frame, so the replay starts right.
    let mut state = Snapshot::default();
    let mut folded: Vec<Rollup> = Vec::new();
    for (at, key, frame) in &old {
        apply(&mut state, frame, *key)?;
        if *at < keep_from.0 {
            continue;
        }
        let bucket = bucket_of(Timestamp(*at));
        if folded.last().is_none_or(|r| r.start != bucket) {
            folded.push(Rollup::new(bucket));
        }
        if let Some(rollup) = folded.last_mut() {
            rollup.add(&state);
        }
    }
    let next = sample_rows(
        &tx,
        "SELECT at, key, frame FROM history_samples WHERE bot = ?1 AND at > ?2 ORDER BY at LIMIT 1",
        params![bot, last_old],
    )?;
    if let Some((at, key, frame)) = next.first() {
        // The first sample kept becomes the oldest: it must decode without the ones before.
        if !key {
            apply(&mut state, frame, false)?;
            tx.execute(
                "UPDATE history_samples SET key = 1, frame = ?3 WHERE bot = ?1 AND at = ?2",
                params![bot, at, key_frame(&state)],
            )?;
        }
    }
    tx.prepare_cached("DELETE FROM history_samples WHERE bot = ?1 AND at <= ?2")?
        .execute(params![bot, last_old])?;
    for rollup in folded {
        store_rollup(&tx, bot, rollup)?;
    }
    done.samples = old.len();
    done.more = old.len() == SAMPLES_PER_STEP;
    done.emptied = next.is_empty();
    tx.commit()?;
    Ok(done)
}

fn sample_rows(
    tx: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<(i64, bool, Vec<u8>)>, StoreError> {
    let mut statement = tx.prepare_cached(sql)?;
    let rows = statement.query_map(params, |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Writes a rollup, merged after the one already stored for its bucket (a bucket rolled up
/// over two steps).
fn store_rollup(tx: &Transaction<'_>, bot: i64, rollup: Rollup) -> Result<(), StoreError> {
    let start = rollup.start;
    let existing: Option<Vec<u8>> = tx
        .query_row(
            "SELECT summary FROM history_rollups WHERE bot = ?1 AND bucket = ?2",
            params![bot, start.0],
            |r| r.get(0),
        )
        .optional()?;
    let merged = match existing {
        Some(bytes) => {
            let mut earlier = Rollup::decode(start, &bytes)?;
            earlier.merge(rollup);
            earlier
        }
        None => rollup,
    };
    tx.execute(
        "INSERT OR REPLACE INTO history_rollups (bot, bucket, summary) VALUES (?1, ?2, ?3)",
        params![bot, start.0, merged.encode()],
    )?;
    Ok(())
}

/// The bot numbers after `after`, in order, at most `limit`, with their bot ids.
pub(super) fn bots_after(
    connection: &Connection,
    after: i64,
    limit: usize,
) -> Result<Vec<(i64, String)>, StoreError> {
    let mut statement = connection
        .prepare_cached("SELECT id, bot_id FROM history_bots WHERE id > ?1 ORDER BY id LIMIT ?2")?;
    let rows = statement.query_map(params![after, limit as i64], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}
