//! A compiled rule: what `rules.yaml` says, checked and ready to evaluate.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::expr::Expression;
use super::template::Template;

/// How urgent an alert is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing.
    Info,
    /// Needs attention soon.
    Warning,
    /// Needs attention now.
    Critical,
}

impl Severity {
    /// The name used in `rules.yaml` and in messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }

    /// Every severity, for "did you mean".
    pub const NAMES: [&'static str; 3] = ["info", "warning", "critical"];

    /// Parses a severity name.
    pub fn from_name(name: &str) -> Option<Severity> {
        match name {
            "info" => Some(Severity::Info),
            "warning" => Some(Severity::Warning),
            "critical" => Some(Severity::Critical),
            _ => None,
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What one rule is evaluated over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Each {
    /// Once per bot.
    Bot,
    /// Once per bot and platform, with `platform` bound and a `platform` label.
    Platform,
}

/// A rule, compiled.
#[derive(Debug)]
pub struct Rule {
    /// Unique name; part of every alert's identity.
    pub name: String,
    /// The problem condition.
    pub when: Expression,
    /// The recovery condition; without it, recovery is `!when`.
    pub recover_when: Option<Expression>,
    /// How long the condition must hold before the alert fires (`for`).
    pub pending_for: Duration,
    /// How long the alert keeps firing after the condition cleared.
    pub keep_firing_for: Duration,
    /// Interval of reminders while firing, if any.
    pub repeat_every: Option<Duration>,
    /// How urgent the alert is.
    pub severity: Severity,
    /// Static labels, shown with the alert (not part of its identity).
    pub labels: BTreeMap<String, String>,
    /// One-line text of the alert.
    pub summary: Template,
    /// Longer text of the alert.
    pub description: Option<Template>,
    /// The alert's current value, as text (shown on the card, updated by reminders).
    pub value: Option<Template>,
    /// What the rule is evaluated over.
    pub each: Each,
    /// Only these bot ids, when set.
    pub bots: Option<Vec<String>>,
    /// Where to send this rule's alerts (a destination name of the config), overriding the
    /// routing by severity.
    pub channel: Option<String>,
}

impl Rule {
    /// Whether the rule applies to the bot with this id.
    pub fn applies_to(&self, bot_id: &str) -> bool {
        self.bots
            .as_ref()
            .is_none_or(|bots| bots.iter().any(|b| b == bot_id))
    }
}
