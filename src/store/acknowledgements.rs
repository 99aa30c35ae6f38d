//! Acknowledgements — who took an alert on — and the audit trail of what people did to
//! alerts from chat.
//!
//! They are kept beside alert state, so that they survive restarts and every replica sharing
//! the store sees them. An acknowledgement belongs to one firing (its [`AlertId`]): it lasts
//! while that alert instance exists and goes with it, so the next firing of the same rule for
//! the same bot starts unacknowledged. The audit trail outlives both: it says who did what,
//! to which alert, and when.

use std::fmt;

use async_trait::async_trait;

use super::StoreError;
use crate::alerts::{AlertId, AlertInstance};
use crate::time::Timestamp;

/// Someone acting on alerts: their id where they acted (a Discord user id) and the name
/// shown for them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// A stable id (the Discord user id).
    pub id: String,
    /// The name shown in the audit trail and on cards.
    pub name: String,
}

/// Who acknowledged an alert, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acknowledgement {
    /// Who.
    pub by: Actor,
    /// When.
    pub at: Timestamp,
}

/// What an attempt to acknowledge did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Acknowledged {
    /// The alert is acknowledged now, by this attempt.
    Now,
    /// It already was; the first acknowledgement stands.
    Already(Acknowledgement),
    /// No alert (pending or firing) has this id: it resolved, or never was.
    NoSuchAlert,
}

/// What someone did to an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditAction {
    /// Acknowledged it.
    Acknowledged,
    /// Withdrew an acknowledgement.
    Unacknowledged,
}

impl AuditAction {
    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::Acknowledged => "acknowledged",
            AuditAction::Unacknowledged => "unacknowledged",
        }
    }

    /// The action a stored name stands for.
    pub fn from_name(name: &str) -> Option<AuditAction> {
        [AuditAction::Acknowledged, AuditAction::Unacknowledged]
            .into_iter()
            .find(|action| action.as_str() == name)
    }
}

impl fmt::Display for AuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One line of the audit trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// When.
    pub at: Timestamp,
    /// Who.
    pub actor: Actor,
    /// What.
    pub action: AuditAction,
    /// To which alert.
    pub alert: AlertId,
    /// That alert as people read it (`quota-high bot=b1`): the id alone names nothing once
    /// the alert resolved.
    pub subject: String,
}

/// Acknowledgements of firing alerts, and the audit trail.
#[async_trait]
pub trait Acknowledgements: Send + Sync + 'static {
    /// Records that `by` acknowledged `alert` at `at`, with an audit entry.
    async fn acknowledge(
        &self,
        alert: &AlertInstance,
        by: &Actor,
        at: Timestamp,
    ) -> Result<Acknowledged, StoreError>;
    /// Withdraws the acknowledgement of `alert`, with an audit entry; `false` when there was
    /// none (nothing is recorded then).
    async fn unacknowledge(
        &self,
        alert: &AlertInstance,
        by: &Actor,
        at: Timestamp,
    ) -> Result<bool, StoreError>;
    /// The acknowledgement of `alert`, if it has one.
    async fn acknowledgement(&self, alert: AlertId) -> Result<Option<Acknowledgement>, StoreError>;
    /// The latest `limit` entries of the audit trail, newest first.
    async fn audit_trail(&self, limit: usize) -> Result<Vec<AuditEntry>, StoreError>;
}
