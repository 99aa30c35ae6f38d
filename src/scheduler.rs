//! Wiring the stages together: one poll loop per bot, a shared upstream rate limit, and the
//! outbox delivery loop.
//!
//! Each bot is a tokio task (not a thread: 10,000 bots are 10,000 small tasks), started at a
//! random offset inside the first interval so that polls spread out instead of arriving in a
//! burst. A poll is evaluated as soon as it returns and committed with the events it produced
//! in one transaction; the outbox is woken at once, with no batching timer in the way.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use rand::Rng;

use crate::alerts::{advance, AlertInstance, AlertKey, Changes, Phase, Tick};
use crate::analytics::{AnalyticsClient, Bot, ClientSettings, PollError, Snapshot};
use crate::config::Config;
use crate::metrics::AlertLabels;
use crate::metrics::{BotMetrics, Metrics};
use crate::notify::{Notifier, Outbox};
use crate::repeated::RepeatedErrors;
use crate::rules::{ApiStatus, EvalInput, RuleSet, Severity};
use crate::shutdown::Shutdown;
use crate::store::{blocking, CommitQueue, OwnedPollCommit, SqliteStore, Store, StoreError};
use crate::time::Timestamp;

/// How long shutdown waits for the outbox to drain.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// What every bot loop shares.
pub struct Pipeline {
    client: AnalyticsClient,
    /// The rules in force; replaced as a whole by a reload, read once per poll.
    rules: std::sync::RwLock<Arc<RuleSet>>,
    store: Arc<dyn Store>,
    limiter: Arc<DefaultDirectRateLimiter>,
    outbox: Outbox,
    poll_interval: Duration,
    max_start_delay: Duration,
    metrics: Arc<Metrics>,
    /// Polls that could not be recorded fail alike for every bot: logged at a bounded rate.
    record_errors: RepeatedErrors,
    /// Where polls are committed, many bots' together.
    commits: CommitQueue,
}

/// Why the pipeline could not be built.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// The analytics client could not be built.
    #[error(transparent)]
    Client(#[from] PollError),
    /// The thread that commits polls could not be started.
    #[error("cannot start the thread that writes the state: {0}")]
    Writer(std::io::Error),
}

/// Knobs of a run that the config file does not set.
#[derive(Clone, Default)]
pub struct RunOptions {
    /// Longest random delay before a bot's first poll (defaults to the poll interval).
    pub max_start_delay: Option<Duration>,
    /// Where to count polls, evaluations and deliveries (a fresh set when not given).
    pub metrics: Option<Arc<Metrics>>,
}

impl Pipeline {
    /// Builds the pipeline for `config` with compiled `rules`, state in `store`.
    pub fn new(
        config: &Config,
        rules: Arc<RuleSet>,
        store: Arc<dyn Store>,
        notifier: Arc<dyn Notifier>,
        options: RunOptions,
    ) -> Result<Pipeline, PipelineError> {
        let client = AnalyticsClient::new(ClientSettings {
            base_url: config.analytics.base_url.clone(),
            timeout: config.analytics.timeout,
            max_body_bytes: config.analytics.max_body_bytes,
        })?;
        let quota = Quota::per_second(config.analytics.requests_per_second);
        let metrics = options.metrics.unwrap_or_default();
        let commits = CommitQueue::start(store.clone()).map_err(PipelineError::Writer)?;
        Ok(Pipeline {
            commits,
            client,
            rules: std::sync::RwLock::new(rules),
            outbox: Outbox::new(store.clone(), notifier, metrics.clone()),
            store,
            limiter: Arc::new(RateLimiter::direct(quota)),
            poll_interval: config.analytics.poll_interval,
            max_start_delay: options
                .max_start_delay
                .unwrap_or(config.analytics.poll_interval),
            metrics,
            record_errors: RepeatedErrors::new(Duration::from_secs(60)),
        })
    }

    /// The outbox, to deliver from or wake.
    pub fn outbox(&self) -> &Outbox {
        &self.outbox
    }

    /// The analytics client and the upstream rate limit it must respect, for on-demand
    /// fetches (`/analysis`).
    pub fn upstream(&self) -> (AnalyticsClient, Arc<DefaultDirectRateLimiter>) {
        (self.client.clone(), self.limiter.clone())
    }

    /// The rules in force.
    pub fn rules(&self) -> Arc<RuleSet> {
        self.rules.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Puts new rules in force from the next poll on. Alert state is kept by rule name: the
    /// instances of rules still there go on, those of removed rules end quietly.
    pub fn replace_rules(&self, rules: RuleSet) {
        *self.rules.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(rules);
    }

    /// The metrics this pipeline records.
    pub fn metrics(&self) -> Arc<Metrics> {
        self.metrics.clone()
    }

    /// The state store.
    pub fn store(&self) -> Arc<dyn Store> {
        self.store.clone()
    }
}

/// What a poll writes besides the alert changes.
struct Written {
    /// The snapshot as the API sent it (for history).
    snapshot: Option<Snapshot>,
    /// It, with gaps filled from the last known values (the next poll's `previous`).
    last_known: Option<Snapshot>,
    /// The API status after the poll.
    api: ApiStatus,
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
        let store = pipeline.store.clone();
        let id = bot.id.clone();
        let record = blocking(move || store.load_bot(&id)).await?;
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

    /// Polls once, evaluates the rules, and commits state and events. The upstream rate limit
    /// is the caller's business ([`BotLoop::run`] waits for it).
    pub async fn poll_once(&mut self) -> Result<(), StoreError> {
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
        let has_events = !changes.events.is_empty();
        let metrics = &self.pipeline.metrics;
        metrics.evaluations.inc_by(changes.evaluated as u64);
        metrics.evaluation_errors.inc_by(changes.failed as u64);
        // The gauges change only with the instances: most polls change none.
        if !self.alert_gauges_set || !changes.upserts.is_empty() || !changes.removed.is_empty() {
            self.set_alert_gauges();
            self.alert_gauges_set = true;
        }
        let last_known = snapshot.as_ref().map(|s| match &self.previous {
            Some(older) => s.with_gaps_filled_from(older),
            None => s.clone(),
        });
        let written = Written {
            snapshot,
            last_known: last_known.clone(),
            api: api.clone(),
        };
        if let Err(error) = self.commit(written, changes, now).await {
            // Nothing was written: forget the step, so the next poll makes it again.
            self.instances = before;
            return Err(error);
        }
        if has_events {
            self.pipeline.outbox.wake();
        }
        if last_known.is_some() {
            self.previous = last_known;
        }
        self.api = api;
        Ok(())
    }

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
                metrics.alerts.get_or_create(&labels).set(count as i64);
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

    async fn commit(
        &self,
        written: Written,
        changes: Changes,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let commit = OwnedPollCommit {
            bot_id: self.bot.id.clone(),
            at: now,
            snapshot: written.snapshot,
            last_known: written.last_known,
            api: written.api,
            changes,
        };
        self.pipeline.commits.commit(commit).await
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
            if let Err(error) = self.poll_once().await {
                let message = error.to_string();
                if let Some(more) = self.pipeline.record_errors.admit(&message) {
                    tracing::error!(bot = %self.bot.id, error = %message, more_since_last_line = more, "could not record the poll; it will be repeated");
                }
            }
        }
    }
}

/// Opens the state store named by the config (on the blocking pool: it may create the file).
pub async fn open_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    use anyhow::Context as _;
    let (state, history) = (config.state.clone(), config.history);
    let store = tokio::task::spawn_blocking(move || SqliteStore::open(&state, history))
        .await
        .context("opening the state store")??;
    Ok(Arc::new(store))
}

/// Runs the whole pipeline for `config` until `shutdown`: restores state, polls every bot,
/// delivers notifications, then stops polling, drains the outbox and returns.
pub async fn run(
    config: &Config,
    rules: RuleSet,
    store: Arc<dyn Store>,
    notifier: Arc<dyn Notifier>,
    options: RunOptions,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    let pipeline = Arc::new(Pipeline::new(
        config,
        Arc::new(rules),
        store,
        notifier,
        options,
    )?);
    serve(pipeline, &config.bots, shutdown).await
}

/// Polls `bots` through `pipeline` and delivers notifications until `shutdown`, then drains.
pub async fn serve(
    pipeline: Arc<Pipeline>,
    bots: &[Bot],
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    use anyhow::Context as _;
    let mut tasks = tokio::task::JoinSet::new();
    for bot in bots {
        let bot_loop = BotLoop::restore(pipeline.clone(), bot.clone()).await?;
        tasks.spawn(bot_loop.run(shutdown.clone()));
    }
    // The outbox stops after the last poll committed, so its final pass sees every event.
    let (stop_outbox, outbox_shutdown) = crate::shutdown::channel();
    let outbox = tokio::spawn(
        pipeline
            .outbox()
            .clone()
            .run(outbox_shutdown, DRAIN_TIMEOUT),
    );
    let history = tokio::spawn(crate::store::history::maintenance::maintain(
        pipeline.store(),
        shutdown.clone(),
    ));
    tracing::info!(bots = bots.len(), rules = pipeline.rules().rules.len(), interval = ?pipeline.poll_interval, "botwatch running");
    while let Some(joined) = tasks.join_next().await {
        if let Err(error) = joined {
            tracing::error!(%error, "a bot's poll loop ended unexpectedly");
        }
    }
    stop_outbox.trigger();
    outbox.await.context("the delivery loop failed")?;
    history.await.context("history maintenance failed")?;
    tracing::info!("botwatch stopped; state saved");
    Ok(())
}
