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
//!
//! Timers are met at polls, and polls land a few milliseconds early or late. So a deadline is
//! due at the poll nearest to it: at a poll at most half a poll interval before it (see
//! [`Tick::reached`]), as the next poll would be further past it. A timer that has a length
//! (`for: 5s`) never runs out at the poll that started it: the condition must be seen again.
//! Reminders keep to a grid: the n-th is due at `fired_at + n × repeat_every`, so they do not
//! slip by a poll each time.

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

/// When an evaluation happens, and how often they happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tick {
    /// The instant of this evaluation.
    pub now: Timestamp,
    /// The time between two evaluations of the bot (its poll interval); zero when there is
    /// no next one to wait for, which makes every deadline exact.
    pub poll_interval: Duration,
}

impl Tick {
    /// An evaluation at `now`, with deadlines met exactly (no poll grid).
    pub fn exact(now: Timestamp) -> Tick {
        Tick {
            now,
            poll_interval: Duration::ZERO,
        }
    }

    /// Whether `deadline` is due at this evaluation: passed, or at most half a poll interval
    /// ahead. Waiting for the next poll would then miss it by at least as much as meeting it
    /// now does.
    pub fn reached(self, deadline: Timestamp) -> bool {
        self.now.plus(self.poll_interval / 2) >= deadline
    }

    /// Whether a timer of `length` started at `since` has run out. A timer with a length never
    /// runs out at the evaluation that started it.
    fn ran_out(self, since: Timestamp, length: Duration) -> bool {
        length.is_zero() || (self.now > since && self.reached(since.plus(length)))
    }
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
    tick: Tick,
) -> Step {
    let now = tick.now;
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
            fire_if_due(pending, timing, tick)
        }
        // Unknown changes nothing: no fire, no resolve, no reminder rendered from missing data.
        (Some(instance), None) => quiet(Some(instance)),
        (Some(instance), Some(active)) if instance.phase == Phase::Pending => match active {
            false => quiet(None),
            true => fire_if_due(instance, timing, tick),
        },
        (Some(instance), Some(active)) => firing_step(instance, active, timing, tick),
    }
}

fn quiet(next: Option<AlertInstance>) -> Step {
    Step {
        next,
        transition: None,
    }
}

fn fire_if_due(mut pending: AlertInstance, timing: &Timing, tick: Tick) -> Step {
    if !tick.ran_out(pending.active_since, timing.pending_for) {
        return quiet(Some(pending));
    }
    pending.phase = Phase::Firing;
    pending.fired_at = Some(tick.now);
    pending.last_notified_at = Some(tick.now);
    Step {
        next: Some(pending.clone()),
        transition: Some((Transition::Fired, pending)),
    }
}

fn firing_step(mut instance: AlertInstance, active: bool, timing: &Timing, tick: Tick) -> Step {
    match (active, instance.clearing_since) {
        (false, None) if timing.keep_firing_for.is_zero() => resolve(instance),
        (false, None) => {
            instance.clearing_since = Some(tick.now);
            quiet(Some(instance))
        }
        (false, Some(since)) if tick.ran_out(since, timing.keep_firing_for) => resolve(instance),
        (false, Some(_)) => quiet(Some(instance)),
        (true, _) => {
            instance.clearing_since = None;
            remind_if_due(instance, timing, tick)
        }
    }
}

fn resolve(instance: AlertInstance) -> Step {
    Step {
        next: None,
        transition: Some((Transition::Resolved, instance)),
    }
}

fn remind_if_due(mut instance: AlertInstance, timing: &Timing, tick: Tick) -> Step {
    let due = timing
        .repeat_every
        .and_then(|every| next_reminder(&instance, every, tick.poll_interval / 2))
        .is_some_and(|at| tick.reached(at));
    if !due {
        return quiet(Some(instance));
    }
    instance.last_notified_at = Some(tick.now);
    Step {
        next: Some(instance.clone()),
        transition: Some((Transition::Reminder, instance)),
    }
}

/// When the next reminder is due: the first instant of the grid `fired_at + n × every` that
/// is at least `every` after the last notice, less the `slack` that notice may have been met
/// early by. A notice met on the grid is followed by the next grid point; one that came late
/// (after an outage, or a restart) by the first grid point a full interval after it, so that
/// reminders never bunch up.
fn next_reminder(instance: &AlertInstance, every: Duration, slack: Duration) -> Option<Timestamp> {
    let fired = instance.fired_at?;
    let every_ms = i64::try_from(every.as_millis()).ok().filter(|&ms| ms > 0)?;
    let slack_ms = i64::try_from(slack.as_millis()).unwrap_or(i64::MAX);
    let last = instance.last_notified_at.unwrap_or(fired);
    let earliest = last
        .0
        .saturating_sub(fired.0)
        .saturating_add(every_ms)
        .saturating_sub(slack_ms);
    // The smallest n ≥ 1 with n × every ≥ earliest (a ceiling division that works below zero).
    let n = earliest
        .saturating_neg()
        .div_euclid(every_ms)
        .saturating_neg()
        .max(1);
    Some(Timestamp(
        fired.0.saturating_add(n.saturating_mul(every_ms)),
    ))
}
