//! What botwatch counts, for `/metrics` (Prometheus text format) and `/readyz`.
//!
//! One [`Metrics`] is shared by the stages through an `Arc`; each stage records what only it
//! knows (a poll's outcome, a delivery's, a 429), so no stage has to ask another.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use crate::time::Timestamp;

/// One bot's series of the poll metrics (the same series as in [`Metrics`], shared).
#[derive(Debug, Clone)]
pub struct BotMetrics {
    bot: String,
    ok: Counter,
    seconds: Histogram,
    last_poll: Gauge,
}

impl BotMetrics {
    /// Records a poll of the bot: its outcome, how long it took and when.
    pub fn poll(&self, metrics: &Metrics, outcome: &str, took: Duration) {
        if outcome == "ok" {
            self.ok.inc();
        } else {
            metrics
                .polls
                .get_or_create(&PollLabels {
                    bot: self.bot.clone(),
                    outcome: outcome.to_owned(),
                })
                .inc();
        }
        self.seconds.observe(took.as_secs_f64());
        self.last_poll.set(Timestamp::now().as_unix_seconds());
    }
}

/// A bot.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct BotLabel {
    /// The bot id.
    pub bot: String,
}

/// A poll's bot and outcome (`ok`, or the error kind).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PollLabels {
    /// The bot id.
    pub bot: String,
    /// `ok`, `timeout`, `http_status`…
    pub outcome: String,
}

/// Alert instances by phase and severity.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AlertLabels {
    /// The bot id.
    pub bot: String,
    /// `pending` or `firing`.
    pub phase: String,
    /// `info`, `warning` or `critical`.
    pub severity: String,
}

/// A delivery outcome: `delivered`, `retried` or `parked`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DeliveryLabels {
    /// What happened.
    pub outcome: String,
}

fn poll_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.01, 2.0, 12))
}

/// Every metric botwatch exports.
pub struct Metrics {
    registry: Registry,
    /// Polls by bot and outcome.
    pub polls: Family<PollLabels, Counter>,
    /// Poll duration by bot, in seconds.
    pub poll_seconds: Family<BotLabel, Histogram, fn() -> Histogram>,
    /// When each bot was last polled (Unix seconds), for readiness too.
    pub last_poll: Family<BotLabel, Gauge>,
    /// Rule instances evaluated.
    pub evaluations: Counter,
    /// Evaluations that failed (an expression error, not missing data).
    pub evaluation_errors: Counter,
    /// Pending and firing alert instances.
    pub alerts: Family<AlertLabels, Gauge>,
    /// Notification deliveries by outcome.
    pub deliveries: Family<DeliveryLabels, Counter>,
    /// Notifications merged into digests.
    pub merged: Counter,
    /// 429 answers from Discord.
    pub discord_rate_limited: Counter,
    /// Notifications waiting in the outbox.
    pub outbox_depth: Gauge,
    /// Whether the last reload of the rules succeeded (1) or not (0).
    pub reload_ok: Gauge,
    /// When the rules were last reloaded successfully (Unix seconds).
    pub reload_success_time: Gauge,
    /// Whether writing history is paused because the disk is full (1) or not (0).
    pub history_paused: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// Metrics registered under the `botwatch_` prefix.
    pub fn new() -> Self {
        let mut metrics = Metrics {
            registry: Registry::with_prefix("botwatch"),
            polls: Family::default(),
            poll_seconds: Family::new_with_constructor(poll_histogram),
            last_poll: Family::default(),
            evaluations: Counter::default(),
            evaluation_errors: Counter::default(),
            alerts: Family::default(),
            deliveries: Family::default(),
            merged: Counter::default(),
            discord_rate_limited: Counter::default(),
            outbox_depth: Gauge::default(),
            reload_ok: Gauge::default(),
            reload_success_time: Gauge::default(),
            history_paused: Gauge::default(),
        };
        let r = &mut metrics.registry;
        r.register(
            "history_paused",
            "Whether writing history is paused because the disk is full",
            metrics.history_paused.clone(),
        );
        r.register(
            "polls",
            "Polls of the analytics API by bot and outcome",
            metrics.polls.clone(),
        );
        r.register(
            "poll_duration_seconds",
            "Duration of a poll",
            metrics.poll_seconds.clone(),
        );
        r.register(
            "last_poll_timestamp_seconds",
            "When each bot was last polled",
            metrics.last_poll.clone(),
        );
        r.register(
            "rule_evaluations",
            "Rule instances evaluated",
            metrics.evaluations.clone(),
        );
        r.register(
            "rule_evaluation_errors",
            "Rule evaluations that failed",
            metrics.evaluation_errors.clone(),
        );
        r.register(
            "alert_instances",
            "Pending and firing alert instances",
            metrics.alerts.clone(),
        );
        r.register(
            "notifications",
            "Notification deliveries by outcome",
            metrics.deliveries.clone(),
        );
        r.register(
            "notifications_merged",
            "Notifications merged into digests",
            metrics.merged.clone(),
        );
        r.register(
            "discord_rate_limited",
            "429 answers from Discord",
            metrics.discord_rate_limited.clone(),
        );
        r.register(
            "outbox_depth",
            "Notifications waiting in the outbox",
            metrics.outbox_depth.clone(),
        );
        r.register(
            "rules_reload_ok",
            "Whether the last reload of the rules succeeded",
            metrics.reload_ok.clone(),
        );
        r.register(
            "rules_reload_success_timestamp_seconds",
            "When the rules were last reloaded successfully",
            metrics.reload_success_time.clone(),
        );
        metrics.reload_ok.set(1);
        metrics
    }

    /// One bot's poll metrics, looked up once: a poll then records without building labels.
    pub fn for_bot(&self, bot: &str) -> BotMetrics {
        let label = BotLabel {
            bot: bot.to_owned(),
        };
        BotMetrics {
            ok: self
                .polls
                .get_or_create(&PollLabels {
                    bot: bot.to_owned(),
                    outcome: "ok".to_owned(),
                })
                .clone(),
            seconds: self.poll_seconds.get_or_create(&label).clone(),
            last_poll: self.last_poll.get_or_create(&label).clone(),
            bot: bot.to_owned(),
        }
    }

    /// Records a reload of the rules.
    pub fn reload(&self, ok: bool, at: Timestamp) {
        self.reload_ok.set(i64::from(ok));
        if ok {
            self.reload_success_time.set(at.as_unix_seconds());
        }
    }

    /// Records one delivery outcome.
    pub fn delivery(&self, outcome: &str) {
        self.deliveries
            .get_or_create(&DeliveryLabels {
                outcome: outcome.to_owned(),
            })
            .inc();
    }

    /// When `bot` was last polled, if it was.
    pub fn last_poll_of(&self, bot: &str) -> Option<Timestamp> {
        let seconds = self
            .last_poll
            .get_or_create(&BotLabel {
                bot: bot.to_owned(),
            })
            .get();
        (seconds > 0).then(|| Timestamp(seconds * 1000))
    }

    /// The text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if let Err(error) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            tracing::error!(%error, "cannot encode the metrics");
        }
        out
    }
}
