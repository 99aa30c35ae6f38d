//! [`Acknowledgements`] for the SQLite store: each change and its audit entry in one
//! transaction, so the trail never misses an action that took effect nor shows one that did
//! not. An acknowledgement row goes with its alert instance (`rows::write_changes`).

use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension};

use super::SqliteStore;
use crate::alerts::{AlertId, AlertInstance};
use crate::store::{
    Acknowledged, Acknowledgement, Acknowledgements, Actor, AuditAction, AuditEntry, StoreError,
};
use crate::time::Timestamp;

#[async_trait]
impl Acknowledgements for SqliteStore {
    async fn acknowledge(
        &self,
        alert: &AlertInstance,
        by: &Actor,
        at: Timestamp,
    ) -> Result<Acknowledged, StoreError> {
        let (by, alert) = (by.clone(), Subject::of(alert));
        self.run(move |database| {
            let mut connection = database.lock();
            let tx = connection.transaction()?;
            if let Some(existing) = find(&tx, alert.id)? {
                return Ok(Acknowledged::Already(existing));
            }
            let inserted = tx.execute(
                "INSERT INTO acknowledgements (alert_id, by_id, by_name, at)
                 SELECT ?1, ?2, ?3, ?4 WHERE EXISTS (SELECT 1 FROM alert_instances WHERE alert_id = ?1)",
                params![alert.id.to_i64(), by.id, by.name, at.0],
            )?;
            if inserted == 0 {
                return Ok(Acknowledged::NoSuchAlert);
            }
            audit(&tx, at, &by, AuditAction::Acknowledged, &alert)?;
            tx.commit()?;
            Ok(Acknowledged::Now)
        })
        .await
    }

    async fn unacknowledge(
        &self,
        alert: &AlertInstance,
        by: &Actor,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        let (by, alert) = (by.clone(), Subject::of(alert));
        self.run(move |database| {
            let mut connection = database.lock();
            let tx = connection.transaction()?;
            let deleted = tx.execute(
                "DELETE FROM acknowledgements WHERE alert_id = ?1",
                [alert.id.to_i64()],
            )?;
            if deleted == 0 {
                return Ok(false);
            }
            audit(&tx, at, &by, AuditAction::Unacknowledged, &alert)?;
            tx.commit()?;
            Ok(true)
        })
        .await
    }

    async fn acknowledgement(&self, alert: AlertId) -> Result<Option<Acknowledgement>, StoreError> {
        self.run(move |database| find(&database.lock(), alert))
            .await
    }

    async fn audit_trail(&self, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.run(move |database| {
            let connection = database.lock();
            let mut statement = connection.prepare(
                "SELECT at, actor_id, actor_name, action, alert_id, subject FROM audit ORDER BY id DESC LIMIT ?1",
            )?;
            let rows = statement.query_map([limit], |r| {
                Ok((
                    Timestamp(r.get(0)?),
                    Actor { id: r.get(1)?, name: r.get(2)? },
                    r.get::<_, String>(3)?,
                    AlertId::from_i64(r.get(4)?),
                    r.get::<_, String>(5)?,
                ))
            })?;
            let mut trail = Vec::new();
            for row in rows {
                let (at, actor, action, alert, subject) = row?;
                let action = AuditAction::from_name(&action).ok_or_else(|| {
                    StoreError::Query(format!("the audit trail holds an unknown action `{action}`"))
                })?;
                trail.push(AuditEntry {
                    at,
                    actor,
                    action,
                    alert,
                    subject,
                });
            }
            Ok(trail)
        })
        .await
    }
}

fn find(connection: &Connection, alert: AlertId) -> Result<Option<Acknowledgement>, StoreError> {
    let found = connection
        .query_row(
            "SELECT by_id, by_name, at FROM acknowledgements WHERE alert_id = ?1",
            [alert.to_i64()],
            |r| {
                Ok(Acknowledgement {
                    by: Actor {
                        id: r.get(0)?,
                        name: r.get(1)?,
                    },
                    at: Timestamp(r.get(2)?),
                })
            },
        )
        .optional()?;
    Ok(found)
}

/// An alert's id and how people read it, to take to the blocking pool.
struct Subject {
    id: AlertId,
    text: String,
}

impl Subject {
    fn of(alert: &AlertInstance) -> Subject {
        Subject {
            id: alert.id(),
            text: alert.key.to_string(),
        }
    }
}

fn audit(
    tx: &Connection,
    at: Timestamp,
    by: &Actor,
    action: AuditAction,
    alert: &Subject,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO audit (at, actor_id, actor_name, action, alert_id, subject) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![at.0, by.id, by.name, action.as_str(), alert.id.to_i64(), alert.text],
    )?;
    Ok(())
}
