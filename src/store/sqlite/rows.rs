//! Rows of the SQLite store: alert instances to and from rows, and what one poll writes.

use rusqlite::{params, Connection};

use crate::alerts::{AlertInstance, AlertKey, Phase};
use crate::analytics::Platform;
use crate::store::history::frame::key_frame;
use crate::store::{PollCommit, StoreError};
use crate::time::Timestamp;

pub(super) fn platform_column(key: &AlertKey) -> &'static str {
    key.platform.map(Platform::id).unwrap_or("")
}

/// The outbox keeps events of one alert in order: a later one waits for an earlier one.
pub(super) fn ordering_key(key: &AlertKey) -> String {
    format!(
        "{}\u{1f}{}\u{1f}{}",
        key.rule,
        key.bot_id,
        platform_column(key)
    )
}

pub(super) fn instance_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<AlertInstance> {
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

/// The bot's API status and, after a poll that brought figures, its last known snapshot, in one
/// statement (a failed poll keeps the snapshot there was).
pub(super) fn write_bot_state(tx: &Connection, commit: &PollCommit<'_>) -> Result<(), StoreError> {
    let api = commit.api;
    // As a history key frame: a few dozen bytes, and cheaper to write than JSON.
    let last_known = commit.last_known.or(commit.snapshot).map(key_frame);
    let snapshot_at = last_known.as_ref().map(|_| commit.at.0);
    tx.prepare_cached(
        "INSERT INTO bot_state (bot_id, api_up, consecutive_failures, last_error, last_error_kind, polled_at, snapshot, snapshot_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (bot_id) DO UPDATE SET api_up = excluded.api_up,
           consecutive_failures = excluded.consecutive_failures, last_error = excluded.last_error,
           last_error_kind = excluded.last_error_kind, polled_at = excluded.polled_at,
           snapshot = COALESCE(excluded.snapshot, snapshot),
           snapshot_at = COALESCE(excluded.snapshot_at, snapshot_at)",
    )?
    .execute(params![
        commit.bot_id,
        api.up,
        api.consecutive_failures,
        api.error,
        api.error_kind,
        commit.at.0,
        last_known,
        snapshot_at
    ])?;
    Ok(())
}

pub(super) fn write_changes(tx: &Connection, commit: &PollCommit<'_>) -> Result<(), StoreError> {
    for instance in &commit.changes.upserts {
        tx.prepare_cached(
            "INSERT OR REPLACE INTO alert_instances (rule, bot_id, platform, phase, active_since, fired_at, last_notified_at, clearing_since, announced, alert_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )?
        .execute(params![
                instance.key.rule,
                instance.key.bot_id,
                platform_column(&instance.key),
                instance.phase.as_str(),
                instance.active_since.0,
                instance.fired_at.map(|t| t.0),
                instance.last_notified_at.map(|t| t.0),
                instance.clearing_since.map(|t| t.0),
                instance.announced.as_ref().map(serde_json::to_string).transpose()?,
                instance.id().to_i64(),
            ])?;
    }
    for key in &commit.changes.removed {
        // An acknowledgement lasts as long as its firing.
        tx.prepare_cached(
            "DELETE FROM acknowledgements WHERE alert_id IN
               (SELECT alert_id FROM alert_instances WHERE rule = ?1 AND bot_id = ?2 AND platform = ?3)",
        )?
        .execute(params![key.rule, key.bot_id, platform_column(key)])?;
        tx.prepare_cached(
            "DELETE FROM alert_instances WHERE rule = ?1 AND bot_id = ?2 AND platform = ?3",
        )?
        .execute(params![key.rule, key.bot_id, platform_column(key)])?;
    }
    for event in &commit.changes.events {
        tx.prepare_cached(
            "INSERT INTO outbox (created_at, event, next_attempt_at, alert_key) VALUES (?1, ?2, ?1, ?3)",
        )?
        .execute(params![commit.at.0, serde_json::to_string(event)?, ordering_key(&event.key)])?;
    }
    Ok(())
}
