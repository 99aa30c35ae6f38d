//! Applying one poll of one bot to that bot's alert instances.
//!
//! [`advance`] evaluates every rule (the rules stage), steps every instance's lifecycle and
//! renders an [`AlertEvent`] for every transition. It changes the in-memory instances and
//! returns exactly what changed, so the caller can persist state and events in one
//! transaction: an event is never announced without its state, nor the reverse.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::id::AlertId;
use super::instance::{AlertInstance, AlertKey, AnnouncedText, Phase};
use super::lifecycle::{step, Tick, Timing, Transition};
use crate::rules::{evaluate, EvalInput, Evaluation, Rule, RuleSet, Severity, Truth};
use crate::time::Timestamp;

/// Something people must be told: an alert fired, is still firing, or resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertEvent {
    /// Fired, reminder or resolved.
    pub transition: Transition,
    /// Which alert.
    pub key: AlertKey,
    /// The bot's display name.
    pub bot_name: String,
    /// The rule's severity.
    pub severity: Severity,
    /// The rule's labels plus the instance labels (`platform`).
    pub labels: BTreeMap<String, String>,
    /// The rendered summary.
    pub summary: String,
    /// The rendered description.
    pub description: Option<String>,
    /// The rendered value, if the rule has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// When the condition started to hold.
    pub active_since: Timestamp,
    /// When the alert fired.
    pub fired_at: Option<Timestamp>,
    /// When this event happened.
    pub at: Timestamp,
    /// The rule's destination override (`channel:`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
}

impl AlertEvent {
    /// The id of the alert instance (the firing) this event is about.
    pub fn alert_id(&self) -> AlertId {
        AlertId::of(&self.key, self.active_since)
    }
}

/// What one poll changed.
#[derive(Debug, Default)]
pub struct Changes {
    /// Events to deliver, in evaluation order.
    pub events: Vec<AlertEvent>,
    /// Instances created or changed.
    pub upserts: Vec<AlertInstance>,
    /// Instances that became inactive (resolved, pending cancelled, or rule gone).
    pub removed: Vec<AlertKey>,
    /// Rule instances evaluated.
    pub evaluated: usize,
    /// Evaluations that failed (an expression error; missing data is not a failure).
    pub failed: usize,
}

impl Changes {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty() && self.upserts.is_empty() && self.removed.is_empty()
    }
}

/// Evaluates `rules` on `input` and moves the bot's `instances` forward to `tick`.
///
/// Most evaluations of a healthy bot find no instance and start none: those cost no key, no
/// lookup by key and no copy. Instances are taken out of the map, matched to their rule by
/// name and platform, and put back only if they are still active; the ones no rule claimed
/// belong to rules that are gone (or no longer apply to this bot) and end quietly.
pub fn advance(
    rules: &RuleSet,
    instances: &mut BTreeMap<AlertKey, AlertInstance>,
    input: &EvalInput<'_>,
    tick: Tick,
) -> Changes {
    let now = tick.now;
    let mut changes = Changes::default();
    let mut unclaimed: Vec<AlertInstance> = std::mem::take(instances).into_values().collect();
    for evaluation in evaluate(rules, input) {
        changes.evaluated += 1;
        if log_unknown(&evaluation, input.bot_id) {
            changes.failed += 1;
        }
        let current = unclaimed
            .iter()
            .position(|i| {
                i.key.rule == evaluation.rule.name && i.key.platform == evaluation.platform
            })
            .map(|index| unclaimed.swap_remove(index));
        if current.is_none() && evaluation.fire.known() != Some(true) {
            continue; // inactive and staying so: the lifecycle would not change a thing
        }
        let key = match &current {
            Some(instance) => instance.key.clone(),
            None => key_of(&evaluation, input),
        };
        let before = current.clone();
        let mut stepped = step(
            &key,
            current,
            evaluation.fire.known(),
            evaluation.recover.known(),
            &timing_of(evaluation.rule),
            tick,
        );
        if let Some((transition, instance)) = &stepped.transition {
            let event = announce(evaluation.rule, *transition, instance, input, now);
            if let Some(next) = stepped.next.as_mut() {
                next.announced = Some(AnnouncedText {
                    summary: event.summary.clone(),
                    description: event.description.clone(),
                    value: event.value.clone(),
                });
            }
            changes.events.push(event);
        }
        match stepped.next {
            Some(next) => {
                if before.as_ref() != Some(&next) {
                    changes.upserts.push(next.clone());
                }
                instances.insert(key, next);
            }
            None if before.is_some() => changes.removed.push(key),
            None => {}
        }
    }
    // In key order, as the map held them: what is stored and logged does not depend on
    // the order rules were matched in.
    unclaimed.sort_unstable_by(|a, b| a.key.cmp(&b.key));
    changes.removed.extend(unclaimed.into_iter().map(|i| i.key));
    changes
}

/// The event a firing of `evaluation`'s instance would announce at `now`, whatever the rule's
/// `for`: what `eval --preview` shows a rule author.
pub fn firing_event(
    evaluation: &Evaluation<'_>,
    input: &EvalInput<'_>,
    now: Timestamp,
) -> AlertEvent {
    let instance = AlertInstance {
        key: key_of(evaluation, input),
        phase: Phase::Firing,
        active_since: now,
        fired_at: Some(now),
        last_notified_at: None,
        clearing_since: None,
        announced: None,
    };
    announce(evaluation.rule, Transition::Fired, &instance, input, now)
}

fn key_of(evaluation: &Evaluation<'_>, input: &EvalInput<'_>) -> AlertKey {
    AlertKey {
        rule: evaluation.rule.name.clone(),
        bot_id: input.bot_id.to_owned(),
        platform: evaluation.platform,
    }
}

fn timing_of(rule: &Rule) -> Timing {
    Timing {
        pending_for: rule.pending_for,
        keep_firing_for: rule.keep_firing_for,
        repeat_every: rule.repeat_every,
    }
}

/// The event for a transition: texts rendered now, except that a resolution repeats the
/// texts last announced.
fn announce(
    rule: &Rule,
    transition: Transition,
    instance: &AlertInstance,
    input: &EvalInput<'_>,
    now: Timestamp,
) -> AlertEvent {
    let platform = instance.key.platform;
    let mut labels = rule.labels.clone();
    labels.extend(instance.key.instance_labels());
    let text = match (&instance.announced, transition) {
        (Some(text), Transition::Resolved) => text.clone(),
        _ => AnnouncedText {
            summary: rule.summary.render(input, platform),
            description: rule.description.as_ref().map(|d| d.render(input, platform)),
            value: rule.value.as_ref().map(|v| v.render(input, platform)),
        },
    };
    AlertEvent {
        transition,
        key: instance.key.clone(),
        bot_name: input.bot_name.to_owned(),
        severity: rule.severity,
        labels,
        summary: text.summary,
        description: text.description,
        value: text.value,
        active_since: instance.active_since,
        fired_at: instance.fired_at,
        at: now,
        channel: rule.channel.clone(),
    }
}

/// Logs an evaluation that failed; `true` if it did.
fn log_unknown(evaluation: &Evaluation<'_>, bot_id: &str) -> bool {
    for truth in [&evaluation.fire, &evaluation.recover] {
        if let Truth::Unknown {
            missing_data: false,
            reason,
        } = truth
        {
            tracing::warn!(rule = %evaluation.rule.name, bot = bot_id, platform = ?evaluation.platform, %reason, "rule evaluation failed; alert state kept");
            return true;
        }
    }
    false
}
