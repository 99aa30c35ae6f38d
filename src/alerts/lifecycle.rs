//! The lifecycle of one alert instance, as a pure function of (state, condition, now).
//!
//! ```text
//! inactive ──when──▶ pending ──held for `for`──▶ firing ──recovered (+ keep_firing_for)──▶ resolved
//!    ▲                  │                          │  └─ every `repeat_every`: reminder
//!    └────recovered─────┘                          ▼
//! ```
//!
//! The condition is hysteretic: once active it stays active until `recover_when` holds (which
//! defaults to `!when`), so a value hovering at a threshold cannot make an alert flap. An
//! unknown condition (missing data, failed poll) changes nothing: no fire, no resolve.

use std::time::Duration;

use super::instance::{AlertInstance, AlertKey, Phase};
use crate::time::Timestamp;

/// The timing settings of a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Timing {
    /// `for`: how long the condition must hold before firing.
    pub pending_for: Duration,
    /// `keep_firing_for`: how long to keep firing after recovery.
    pub keep_firing_for: Duration,
    /// `repeat_every`: reminder interval while firing.
    pub repeat_every: Option<Duration>,
}

/// What people must be told about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Transition {
    /// The alert started firing.
    Fired,
    /// The alert is still firing (a `repeat_every` reminder).
    Reminder,
    /// The alert stopped firing.
    Resolved,
}

/// The result of one lifecycle step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The new state (`None`: inactive).
    pub next: Option<AlertInstance>,
    /// What happened, with the instance as it was when it happened.
    pub transition: Option<(Transition, AlertInstance)>,
}

/// Moves one instance forward by one evaluation.
///
/// `fire` is `when`, `recover` is `recover_when` (or `!when`); `None` means unknown.
pub fn step(
    key: &AlertKey,
    current: Option<AlertInstance>,
    fire: Option<bool>,
    recover: Option<bool>,
    timing: &Timing,
    now: Timestamp,
) -> Step {
    let condition_was_active = current
        .as_ref()
        .is_some_and(|i| i.phase == Phase::Pending || i.clearing_since.is_none());
    let active = if condition_was_active {
        recover.map(|recovered| !recovered)
    } else {
        fire
    };
    match (current, active) {
        (None, None | Some(false)) => quiet(None),
        (None, Some(true)) => {
            let pending = AlertInstance {
                key: key.clone(),
                phase: Phase::Pending,
                active_since: now,
                fired_at: None,
                last_notified_at: None,
                clearing_since: None,
                announced: None,
            };
            fire_if_due(pending, timing, now)
        }
        // Unknown changes nothing: no fire, no resolve, no reminder rendered from missing data.
        (Some(instance), None) => quiet(Some(instance)),
        (Some(instance), Some(active)) if instance.phase == Phase::Pending => match active {
            false => quiet(None),
            true => fire_if_due(instance, timing, now),
        },
        (Some(instance), Some(active)) => firing_step(instance, active, timing, now),
    }
}

fn quiet(next: Option<AlertInstance>) -> Step {
    Step {
        next,
        transition: None,
    }
}

fn fire_if_due(mut pending: AlertInstance, timing: &Timing, now: Timestamp) -> Step {
    if now.since(pending.active_since) < timing.pending_for {
        return quiet(Some(pending));
    }
    pending.phase = Phase::Firing;
    pending.fired_at = Some(now);
    pending.last_notified_at = Some(now);
    Step {
        next: Some(pending.clone()),
        transition: Some((Transition::Fired, pending)),
    }
}

fn firing_step(mut instance: AlertInstance, active: bool, timing: &Timing, now: Timestamp) -> Step {
    match (active, instance.clearing_since) {
        (false, None) if timing.keep_firing_for.is_zero() => resolve(instance),
        (false, None) => {
            instance.clearing_since = Some(now);
            quiet(Some(instance))
        }
        (false, Some(since)) if now.since(since) >= timing.keep_firing_for => resolve(instance),
        (false, Some(_)) => quiet(Some(instance)),
        (true, _) => {
            instance.clearing_since = None;
            remind_if_due(instance, timing, now)
        }
    }
}

fn resolve(instance: AlertInstance) -> Step {
    Step {
        next: None,
        transition: Some((Transition::Resolved, instance)),
    }
}

fn remind_if_due(mut instance: AlertInstance, timing: &Timing, now: Timestamp) -> Step {
    let last = instance
        .last_notified_at
        .or(instance.fired_at)
        .unwrap_or(instance.active_since);
    match timing.repeat_every {
        Some(every) if now.since(last) >= every => {
            instance.last_notified_at = Some(now);
            Step {
                next: Some(instance.clone()),
                transition: Some((Transition::Reminder, instance)),
            }
        }
        _ => quiet(Some(instance)),
    }
}
