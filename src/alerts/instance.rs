//! An alert instance: one rule, for one bot (and one platform), with its lifecycle state.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::id::AlertId;
use crate::analytics::Platform;
use crate::time::Timestamp;

/// The identity of an alert: rule + bot + instance labels. Values are never part of it, so
/// a quota alert at 81 % and at 90 % is the same alert.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AlertKey {
    /// The rule's name.
    pub rule: String,
    /// The bot's id.
    pub bot_id: String,
    /// The platform, for `each: platform` rules.
    pub platform: Option<Platform>,
}

impl AlertKey {
    /// The labels that tell instances of one rule apart (`platform=fb`).
    pub fn instance_labels(&self) -> BTreeMap<String, String> {
        self.platform
            .map(|p| ("platform".to_owned(), p.id().to_owned()))
            .into_iter()
            .collect()
    }
}

impl std::fmt::Display for AlertKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} bot={}", self.rule, self.bot_id)?;
        if let Some(platform) = self.platform {
            write!(f, " platform={platform}")?;
        }
        Ok(())
    }
}

/// Where an instance is in its lifecycle. Inactive instances are not kept at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// The condition holds, but not yet for the rule's `for`.
    Pending,
    /// The alert has fired and not resolved.
    Firing,
}

impl Phase {
    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Pending => "pending",
            Phase::Firing => "firing",
        }
    }
}

/// The state of one alert instance that is not inactive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertInstance {
    /// Which alert this is.
    pub key: AlertKey,
    /// Pending or firing.
    pub phase: Phase,
    /// When the condition started to hold (the start of pending).
    pub active_since: Timestamp,
    /// When the alert fired, once it has.
    pub fired_at: Option<Timestamp>,
    /// When people were last told about it (fired or reminded).
    pub last_notified_at: Option<Timestamp>,
    /// While firing: when the condition stopped holding (the start of `keep_firing_for`).
    pub clearing_since: Option<Timestamp>,
    /// The texts last announced (at firing or the last reminder). A resolution repeats them,
    /// as Alertmanager does: "quota at 96 %, resolved" says more than the recovered value.
    pub announced: Option<AnnouncedText>,
}

impl AlertInstance {
    /// The instance's short id, for buttons and commands (see [`AlertId`]).
    pub fn id(&self) -> AlertId {
        AlertId::of(&self.key, self.active_since)
    }
}

/// The rendered texts of an alert as last announced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnnouncedText {
    /// The rendered summary.
    pub summary: String,
    /// The rendered description.
    pub description: Option<String>,
    /// The rendered value.
    #[serde(default)]
    pub value: Option<String>,
}
