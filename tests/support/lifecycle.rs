//! One bot's alert state driven poll by poll, with time passed explicitly: rules from YAML,
//! snapshots in, events out as readable lines (`Fired quota`, `Resolved dropped fb`).
//!
//! `for: 5m` is then tested in microseconds, and a poll can land a few milliseconds off its
//! grid, as real polls do.

use std::collections::BTreeMap;
use std::time::Duration;

use botwatch::alerts::{advance, AlertInstance, AlertKey, Changes, Phase, Tick};
use botwatch::analytics::Snapshot;
use botwatch::rules::{ApiStatus, EvalInput, RuleSet};
use botwatch::time::Timestamp;

use super::{rules, snapshot};

/// The instant the first poll is measured from.
const START: Timestamp = Timestamp(1_700_000_000_000);

/// One bot's alert state, driven poll by poll.
pub struct Bot {
    rules: RuleSet,
    instances: BTreeMap<AlertKey, AlertInstance>,
    previous: Option<Snapshot>,
    failures: u32,
    now: Timestamp,
    poll_interval: Duration,
}

impl Bot {
    /// A bot under the rules in `yaml`, with deadlines met exactly (no poll grid).
    pub fn new(yaml: &str) -> Bot {
        Bot::polled_every(yaml, Duration::ZERO)
    }

    /// A bot under the rules in `yaml`, polled every `poll_interval`.
    pub fn polled_every(yaml: &str, poll_interval: Duration) -> Bot {
        Bot {
            rules: rules(yaml),
            instances: BTreeMap::new(),
            previous: None,
            failures: 0,
            now: START,
            poll_interval,
        }
    }

    /// A successful poll `seconds` after the last one; returns the events as readable lines.
    pub fn poll(&mut self, seconds: i64, data: serde_json::Value) -> Vec<String> {
        self.poll_at(self.now.0 - START.0 + seconds * 1000, data)
    }

    /// A successful poll `ms` milliseconds after the first one.
    pub fn poll_at(&mut self, ms: i64, data: serde_json::Value) -> Vec<String> {
        let current = snapshot(data);
        self.failures = 0;
        let lines = self.step(ms, Some(&current));
        self.previous = Some(current);
        lines
    }

    /// A failed poll `seconds` after the last one.
    pub fn fail(&mut self, seconds: i64) -> Vec<String> {
        self.failures += 1;
        self.step(self.now.0 - START.0 + seconds * 1000, None)
    }

    fn step(&mut self, ms: i64, current: Option<&Snapshot>) -> Vec<String> {
        self.now = Timestamp(START.0 + ms);
        let api = if current.is_some() {
            ApiStatus::up()
        } else {
            ApiStatus {
                up: false,
                consecutive_failures: self.failures,
                error: Some("timeout".into()),
                error_kind: Some("timeout"),
            }
        };
        let input = EvalInput {
            snapshot: current,
            previous: self.previous.as_ref(),
            bot_id: "b1",
            bot_name: "Support",
            api: &api,
        };
        let tick = Tick {
            now: self.now,
            poll_interval: self.poll_interval,
        };
        lines(&advance(&self.rules, &mut self.instances, &input, tick))
    }

    /// Whether no alert instance is pending or firing.
    pub fn has_no_instances(&self) -> bool {
        self.instances.is_empty()
    }

    /// The phase of the rule's instance (the first, with `each: platform`), if it has one.
    pub fn phase(&self, rule: &str) -> Option<Phase> {
        self.instances
            .values()
            .find(|i| i.key.rule == rule)
            .map(|i| i.phase)
    }
}

/// The events of a poll as `Transition rule [platform]` lines.
fn lines(changes: &Changes) -> Vec<String> {
    changes
        .events
        .iter()
        .map(|e| match e.key.platform {
            Some(p) => format!("{:?} {} {p}", e.transition, e.key.rule),
            None => format!("{:?} {}", e.transition, e.key.rule),
        })
        .collect()
}
