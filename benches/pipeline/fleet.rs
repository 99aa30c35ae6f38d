//! The simulated fleet: N bots whose analytics look like a real fleet's, and the config that
//! points the real binary at them.
//!
//! As in production, every poll of a bot shows its LINE consumption grown a little while the
//! rest (plan, integrations, conversation figures) stays as it was, so a benchmark writes the
//! history and evaluates the rules a real fleet would make it write and evaluate. One bot in a
//! hundred starts just under the 80 % quota threshold and crosses it after a few polls, so the
//! alerting path (events, outbox, Discord) carries the trickle of alerts a healthy fleet has,
//! not a storm (the storm is another benchmark's).

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use botwatch::analytics::simulator::{timelines_for, Step, Timeline};
use botwatch::analytics::Snapshot;

use crate::support::process::{write_config_polling, Polling};

/// Larger fleets than this are polled every minute, smaller ones every second.
const LARGEST_POLLED_EVERY_SECOND: usize = 1000;

/// N bots and how often they are polled.
#[derive(Debug, Clone, Copy)]
pub struct Fleet {
    /// How many bots.
    pub bots: usize,
    /// `analytics.poll_interval`.
    pub interval: Duration,
    /// Whether one bot in a hundred crosses the 80 % quota threshold by itself (the trickle of
    /// a healthy fleet); scenarios that make their own alerts turn it off.
    pub crossers: bool,
}

impl Fleet {
    /// `bots` bots, polled every second up to 1,000 bots and every minute beyond.
    pub fn of(bots: usize) -> Fleet {
        let seconds = if bots <= LARGEST_POLLED_EVERY_SECOND {
            1
        } else {
            60
        };
        Fleet {
            bots,
            interval: Duration::from_secs(seconds),
            crossers: true,
        }
    }

    /// The same fleet with no bot crossing a threshold by itself.
    pub fn without_crossers(self) -> Fleet {
        Fleet {
            crossers: false,
            ..self
        }
    }

    /// The polls per second the fleet needs.
    pub fn polls_per_second(&self) -> f64 {
        self.bots as f64 / self.interval.as_secs_f64()
    }

    /// `analytics.requests_per_second`: what the fleet needs and a fifth more, as an operator
    /// would size it (botwatch's default of 5 would throttle every fleet measured here).
    pub fn budget(&self) -> u32 {
        (self.polls_per_second() * 1.2).ceil() as u32
    }

    /// The bot ids: `b1` (the bot `write_config_polling` always writes) to `bN`.
    pub fn ids(&self) -> Vec<String> {
        (1..=self.bots).map(|i| format!("b{i}")).collect()
    }

    /// Every bot's answers for its first `polls` polls (the last one repeats after that).
    pub fn timelines(&self, polls: usize) -> HashMap<String, Timeline> {
        let ids = self.ids();
        let steps = ids
            .iter()
            .enumerate()
            .map(|(bot, id)| {
                let steps =
                    (0..polls).map(|poll| Step::respond(snapshot(bot, poll, self.crossers)));
                (id.as_str(), steps.collect())
            })
            .collect();
        timelines_for(steps)
    }

    /// Writes `dir/botwatch.yaml` for this fleet: the simulator at `analytics`, the shipped
    /// rules, alerts to the fake Discord at `discord`, and `discord_yaml` (lines indented by
    /// two spaces) in the `discord:` section.
    pub fn write_config(&self, dir: &Path, analytics: &str, discord: &str, discord_yaml: &str) {
        let polling = Polling {
            interval: self.interval,
            requests_per_second: Some(self.budget()),
        };
        let more = &self.ids()[1..];
        // Lines indented by two spaces continue the `discord:` section the writer ends with.
        write_config_polling(dir, analytics, discord, polling, more, discord_yaml);
    }
}

/// Plans by quota, as the platform names them.
const PLANS: [(i64, &str); 4] = [
    (1_000, "輕用量"),
    (5_000, "中用量"),
    (20_000, "高用量"),
    (100_000, "企業"),
];

/// What bot number `bot` (from 0) answers once its LINE consumption is at `percent` % of its
/// quota, the rest as at its first poll: what a scenario switches a bot to.
pub fn at_quota_percent(bot: usize, percent: i64) -> Snapshot {
    let mut snapshot = snapshot(bot, 0, false);
    let quota = snapshot.line_quota.unwrap_or(0);
    snapshot.line_quota_consumption = Some(quota * percent / 100);
    snapshot
}

/// What the analytics API answers for bot number `bot` (from 0) at its `poll`-th poll.
fn snapshot(bot: usize, poll: usize, crossers: bool) -> Snapshot {
    let crosses_threshold = crossers && bot % 100 == 99;
    let (quota, plan) = if crosses_threshold {
        PLANS[0]
    } else {
        PLANS[bot % PLANS.len()]
    };
    // Spread over 10–70 % of the quota, or at 79.5 % for the bots that will cross 80 %.
    let start = if crosses_threshold {
        quota * 795 / 1000
    } else {
        quota * (10 + (bot as i64 * 37) % 60) / 100
    };
    let used = start + (1 + bot as i64 % 3) * poll as i64;
    Snapshot {
        line_quota: Some(quota),
        line_quota_consumption: Some(used),
        line_reply_amounts: Some(used * 6 / 10),
        line_push_amounts: Some(used * 3 / 10),
        line_broadcast_amounts: Some(used / 10),
        line_program: Some(plan.to_owned()),
        line_is_integration: Some(true),
        fb_is_integration: Some(bot.is_multiple_of(2)),
        instagram_is_integration: Some(bot.is_multiple_of(5)),
        live_chat_is_integration: Some(bot.is_multiple_of(3)),
        whatsapp_is_integration: Some(false),
        line_average_conversation_value: Some(5 + bot as i64 % 7),
        // Changes now and then, as an average over the day does.
        line_average_conversation_time: Some(60 + (bot + poll / 10) as i64 % 90),
        fb_average_conversation_value: Some(6),
        fb_average_conversation_time: Some(95),
        live_chat_average_conversation_value: Some(12),
        live_chat_average_conversation_time: Some(180),
        ..Snapshot::default()
    }
}
