//! One bot's poll loop: fetch, evaluate, commit, wake the outbox; and the state it carries
//! from one poll to the next (alert instances, the last known snapshot, the API status).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;

use super::Pipeline;
use crate::alerts::{advance, AlertInstance, AlertKey, Changes, Phase, Tick};
use crate::analytics::{Bot, PollError, Snapshot};
use crate::metrics::{AlertLabels, BotMetrics};
use crate::rules::{ApiStatus, EvalInput, Severity};
use crate::shutdown::Shutdown;
use crate::store::{OwnedPollCommit, StoreError};
use crate::time::Timestamp;

/// What a poll that changed no alert state does with its commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Quiet {
    /// Waits until it is written, as an alert-changing poll always does.
    Wait,
    /// Hands it to the writer to be committed with the next group (the poll loop's way).
    HandOver,
}

/// One bot's poll loop and the state it carries between polls.
pub struct BotLoop {
    pipeline: Arc<Pipeline>,
    bot: Bot,
    instances: BTreeMap<AlertKey, AlertInstance>,
    previous: Option<Snapshot>,
    api: ApiStatus,
    /// No poll before this instant: the API answered 429 with a `Retry-After`.
    paused_until: Option<tokio::time::Instant>,
    /// The bot's poll metrics.
    bot_metrics: BotMetrics,
    /// Whether the alert gauges were set since the start (later only when instances change).
    alert_gauges_set: bool,
}

impl BotLoop {
    /// Restores the bot's state from the store.
    pub async fn restore(pipeline: Arc<Pipeline>, bot: Bot) -> Result<BotLoop, StoreError> {
        let record = pipeline.store.load_bot(&bot.id).await?;
        tracing::debug!(bot = %bot.id, instances = record.instances.len(), has_previous = record.last_snapshot.is_some(), "bot state restored");
        Ok(BotLoop {
            instances: record
                .instances
                .into_iter()
                .map(|i| (i.key.clone(), i))
                .collect(),
            previous: record.last_snapshot.map(|(_, s)| s),
            api: record.api.unwrap_or_else(ApiStatus::up),
            paused_until: None,
            bot_metrics: pipeline.metrics.for_bot(&bot.id),
            alert_gauges_set: false,
            pipeline,
            bot,
        })
    }

    /// Polls once, evaluates the rules, and commits state and events; returns once they are
    /// recorded. The upstream rate limit is the caller's business ([`BotLoop::run`] waits for
    /// it).
    pub async fn poll_once(&mut self) -> Result<(), StoreError> {
        self.poll(Quiet::Wait).await
    }

    async fn poll(&mut self, quiet_polls: Quiet) -> Result<(), StoreError> {
        let started = std::time::Instant::now();
        let result = self.pipeline.client.fetch(&self.bot).await;
        let outcome = result.as_ref().map_or_else(|e| e.kind(), |_| "ok");
        self.bot_metrics
            .poll(&self.pipeline.metrics, outcome, started.elapsed());
        let now = Timestamp::now();
        let api = match &result {
            Ok(_) => ApiStatus::up(),
            Err(error) => {
                tracing::warn!(bot = %self.bot.id, kind = error.kind(), %error, "poll failed");
                if let PollError::RateLimited {
                    retry_after: Some(wait),
                } = error
                {
                    // The client caps the wait (`analytics::MAX_RETRY_AFTER`).
                    self.paused_until = Some(tokio::time::Instant::now() + *wait);
                }
                ApiStatus {
                    up: false,
                    consecutive_failures: self.api.consecutive_failures.saturating_add(1),
                    error: Some(error.to_string()),
                    error_kind: Some(error.kind()),
                }
            }
        };
        let snapshot = result.ok();
        let before = self.instances.clone();
        let changes = self.evaluate(snapshot.as_ref(), &api, now);
        let metrics = &self.pipeline.metrics;
        metrics.evaluations.inc_by(changes.evaluated as u64);
        metrics.evaluation_errors.inc_by(changes.failed as u64);
        let quiet = changes.is_empty();
        // The gauges change only with the instances: most polls change none.
        if !self.alert_gauges_set || !quiet {
            self.set_alert_gauges();
            self.alert_gauges_set = true;
        }
        let last_known = snapshot.as_ref().map(|s| match &self.previous {
            Some(older) => s.with_gaps_filled_from(older),
            None => s.clone(),
        });
        let commit = OwnedPollCommit {
            bot_id: self.bot.id.clone(),
            at: now,
            snapshot,
            last_known: last_known.clone(),
            api: api.clone(),
            changes,
        };
        if quiet && quiet_polls == Quiet::HandOver {
            // Nothing to announce and no alert state to keep: committed with the next group,
            // not waited for. Should it fail, the next poll writes the bot's state again.
            self.pipeline.commits.record(commit).await;
        } else {
            let has_events = !commit.changes.events.is_empty();
            if let Err(error) = self.pipeline.commits.commit(commit).await {
                // Nothing was written: forget the step, so the next poll makes it again.
                self.instances = before;
                return Err(error);
            }
            if has_events {
                self.pipeline.outbox.wake();
            }
        }
        if last_known.is_some() {
            self.previous = last_known;
        }
        self.api = api;
        Ok(())
    }

    /// Sets the bot's alert gauges; a count of zero is no series at all, so that 10,000 quiet
    /// bots do not export (and keep in memory) 60,000 series that all say 0.
    fn set_alert_gauges(&self) {
        let metrics = &self.pipeline.metrics;
        let rules = self.pipeline.rules();
        for severity in [Severity::Info, Severity::Warning, Severity::Critical] {
            for phase in [Phase::Pending, Phase::Firing] {
                let count = self
                    .instances
                    .values()
                    .filter(|i| i.phase == phase)
                    .filter(|i| {
                        rules
                            .get(&i.key.rule)
                            .is_some_and(|r| r.severity == severity)
                    })
                    .count();
                let labels = AlertLabels {
                    bot: self.bot.id.clone(),
                    phase: phase.as_str().into(),
                    severity: severity.as_str().into(),
                };
                if count == 0 {
                    metrics.alerts.remove(&labels);
                } else {
                    metrics.alerts.get_or_create(&labels).set(count as i64);
                }
            }
        }
    }

    fn evaluate(
        &mut self,
        snapshot: Option<&Snapshot>,
        api: &ApiStatus,
        now: Timestamp,
    ) -> Changes {
        let input = EvalInput {
            snapshot,
            previous: self.previous.as_ref(),
            bot_id: &self.bot.id,
            bot_name: &self.bot.name,
            api,
        };
        let tick = Tick {
            now,
            poll_interval: self.pipeline.poll_interval,
        };
        advance(&self.pipeline.rules(), &mut self.instances, &input, tick)
    }

    /// Polls every interval until shutdown; the poll in flight finishes and is committed.
    pub async fn run(mut self, mut shutdown: Shutdown) {
        let max_delay = self.pipeline.max_start_delay.as_millis() as u64;
        let delay = Duration::from_millis(rand::rng().random_range(0..=max_delay));
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = shutdown.wait() => return,
        }
        let mut ticks = tokio::time::interval(self.pipeline.poll_interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticks.tick() => {}
                _ = shutdown.wait() => return,
            }
            if let Some(until) = self.paused_until.take() {
                // The API said when to come back: not before, and then at once.
                tokio::select! {
                    _ = tokio::time::sleep_until(until) => {}
                    _ = shutdown.wait() => return,
                }
                ticks.reset();
            }
            // Waiting for upstream budget is cancelled by shutdown; a poll once started is not.
            tokio::select! {
                _ = self.pipeline.limiter.until_ready() => {}
                _ = shutdown.wait() => return,
            }
            // Boxed: a poll's future is about 4 KiB (the HTTP request's state above all) and
            // would otherwise be part of every bot's task while it waits for its next tick,
            // 40 MiB at 10,000 bots. Only the polls in flight need it.
            // A poll that could not be recorded was logged by the writer; the next one
            // makes its changes again.
            let _ = Box::pin(self.poll(Quiet::HandOver)).await;
        }
    }
}
