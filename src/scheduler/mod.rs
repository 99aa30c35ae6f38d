//! Wiring the stages together: one poll loop per bot ([`BotLoop`]), a shared upstream rate
//! limit, the writer of polls, the outbox delivery loop and history maintenance.
//!
//! Each bot is a tokio task (not a thread: 10,000 bots are 10,000 small tasks), started at a
//! random offset inside the first interval so that polls spread out instead of arriving in a
//! burst. A poll is evaluated as soon as it returns and committed with the events it produced
//! in one transaction; the outbox is woken at once, with no batching timer in the way.

use std::sync::Arc;
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

use crate::analytics::{AnalyticsClient, Bot, ClientSettings, PollError};
use crate::config::Config;
use crate::metrics::Metrics;
use crate::notify::mute::Mute;
use crate::notify::{Delivery, Notifier};
use crate::rules::RuleSet;
use crate::shutdown::Shutdown;
use crate::store::{CommitQueue, SqliteStore, Store};

/// How long shutdown waits for the outbox to drain.
mod bot_loop;

pub use bot_loop::BotLoop;

const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// What every bot loop shares.
pub struct Pipeline {
    client: AnalyticsClient,
    /// The rules in force; replaced as a whole by a reload, read once per poll.
    rules: std::sync::RwLock<Arc<RuleSet>>,
    store: Arc<dyn Store>,
    limiter: Arc<DefaultDirectRateLimiter>,
    outbox: Delivery,
    poll_interval: Duration,
    max_start_delay: Duration,
    metrics: Arc<Metrics>,
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
            outbox: Delivery::new(
                store.clone(),
                Mute::new(store.clone()),
                notifier,
                metrics.clone(),
            ),
            store,
            limiter: Arc::new(RateLimiter::direct(quota)),
            poll_interval: config.analytics.poll_interval,
            max_start_delay: options
                .max_start_delay
                .unwrap_or(config.analytics.poll_interval),
            metrics,
        })
    }

    /// The outbox, to deliver from or wake.
    pub fn outbox(&self) -> &Delivery {
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
    // Quiet polls are committed in groups: the last group is written before the outbox's
    // final pass and before the process reports its state saved.
    if let Err(error) = pipeline.commits.flush().await {
        tracing::error!(%error, "could not record the last polls");
    }
    stop_outbox.trigger();
    outbox.await.context("the delivery loop failed")?;
    history.await.context("history maintenance failed")?;
    tracing::info!("botwatch stopped; state saved");
    Ok(())
}
