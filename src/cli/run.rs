//! `botwatch run`: the service, until SIGINT or SIGTERM.

use crate::config::{Config, ConfigError};
use crate::rules::{LoadError, RuleSet};
use std::sync::Arc;

use crate::discord::admin::AdminChannel;
use crate::discord::gateway;
use crate::discord::interactions::{Context, Interactions};
use crate::discord::rest::DiscordRest;
use crate::metrics::Metrics;
use crate::reload::RulesWatcher;
use crate::scheduler::{self, Pipeline, RunOptions};
use crate::server::{self, Health};
use crate::shutdown;
use crate::shutdown::Shutdown;
use crate::store::Store;
use std::path::Path;
use std::process::ExitCode;

pub(super) fn run(config_path: &Path) -> anyhow::Result<ExitCode> {
    let config = match Config::load(config_path) {
        Ok(config) => config,
        Err(ConfigError::Invalid(d)) => {
            return Ok(super::report_invalid(
                &d,
                1,
                &config_path.display().to_string(),
            ))
        }
        Err(error) => return Err(error.into()),
    };
    let rules = match RuleSet::load(&config.rules) {
        Ok(rules) => rules,
        Err(LoadError::Invalid(d)) => {
            return Ok(super::report_invalid(
                &d,
                d.0.len(),
                &config.rules.display().to_string(),
            ))
        }
        Err(error) => return Err(error.into()),
    };
    if let Err(code) = super::check_channels(&config, &rules) {
        return Ok(code);
    }
    super::runtime()?.block_on(async {
        let store = scheduler::open_store(&config).await?;
        let metrics = Arc::new(Metrics::new());
        let rest = super::discord_rest(&config)?;
        let notifier = super::notifier_for(&config, rest.clone(), store.clone(), metrics.clone())?;
        let (trigger, shutdown) = shutdown::channel();
        tokio::spawn(async move {
            wait_for_signal().await;
            tracing::info!("shutting down: finishing polls in flight and draining the outbox");
            trigger.trigger();
        });
        let options = RunOptions {
            max_start_delay: None,
            metrics: Some(metrics.clone()),
        };
        let pipeline = Arc::new(Pipeline::new(
            &config,
            Arc::new(rules),
            store.clone(),
            notifier,
            options,
        )?);
        let gateway = rest
            .clone()
            .and_then(|rest| spawn_gateway(&config, rest, &pipeline, store, shutdown.clone()));
        let watcher = RulesWatcher::new(config.rules.clone(), pipeline.clone());
        let admin = rest.and_then(|rest| admin_channel(&config, rest));
        tokio::spawn(report_history_pauses(
            pipeline.store().history_paused(),
            metrics.clone(),
            admin.clone(),
            shutdown.clone(),
        ));
        let watcher = match admin {
            Some(admin) => watcher.reporting_to(admin),
            None => watcher,
        };
        tokio::spawn(watcher.run(shutdown.clone()));
        let endpoint = config.listen.map(|listen| {
            let health = Arc::new(Health {
                metrics,
                bots: config.bots.iter().map(|b| b.id.clone()).collect(),
                stale_after: config.analytics.poll_interval * 3 + config.analytics.timeout,
            });
            tokio::spawn(server::serve(listen, health, shutdown.clone()))
        });
        let result = scheduler::serve(pipeline, &config.bots, shutdown).await;
        if let Some(endpoint) = endpoint {
            if result.is_err() {
                endpoint.abort();
            }
            if let Ok(Err(error)) = endpoint.await {
                tracing::error!(%error, "the HTTP endpoint failed");
            }
        }
        if let Some(gateway) = gateway {
            if result.is_err() {
                // Polling failed to start: do not keep serving /analysis without it.
                gateway.abort();
            }
            let _ = gateway.await;
        }
        result
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Tells the operators each time history pauses for a full disk or resumes: the metric
/// (which `/readyz` reads) and the admin destination.
async fn report_history_pauses(
    mut paused: tokio::sync::watch::Receiver<bool>,
    metrics: Arc<Metrics>,
    admin: Option<Arc<AdminChannel>>,
    mut shutdown: Shutdown,
) {
    while !shutdown.is_triggered() {
        tokio::select! {
            changed = paused.changed() => if changed.is_err() { return },
            _ = shutdown.wait() => return,
        }
        let now = *paused.borrow_and_update();
        metrics.history_paused.set(i64::from(now));
        if let Some(admin) = &admin {
            admin.history_paused(now).await;
        }
    }
}

/// The Discord destination told about botwatch's own problems, when one is configured.
fn admin_channel(config: &Config, rest: Arc<DiscordRest>) -> Option<Arc<AdminChannel>> {
    let discord = config.discord.as_ref()?;
    let destination = discord.destinations.get(discord.admin.as_deref()?)?.clone();
    Some(Arc::new(crate::discord::admin::AdminChannel::new(
        rest,
        destination,
    )))
}

/// Starts the Discord gateway for `/analysis` when Discord is configured with a bot token
/// and `discord.gateway` is on.
fn spawn_gateway(
    config: &Config,
    rest: Arc<DiscordRest>,
    pipeline: &Pipeline,
    store: Arc<dyn Store>,
    shutdown: Shutdown,
) -> Option<tokio::task::JoinHandle<()>> {
    let discord = config.discord.clone().filter(|d| d.token.is_some())?;
    if !discord.gateway {
        tracing::info!("the Discord gateway is off (discord.gateway: false): /analysis is not served over it; alerts go over REST");
        return None;
    }
    let context = Context {
        config: discord.clone(),
        bots: config.bots.clone(),
        upstream: pipeline.upstream(),
        store: store.clone(),
        acknowledgements: store,
    };
    let interactions = Arc::new(Interactions::new(rest.clone(), context));
    Some(tokio::spawn(async move {
        gateway::run(&discord, rest, interactions, shutdown).await
    }))
}

/// Resolves at the first SIGINT (Ctrl-C) or SIGTERM.
pub(super) async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM; only Ctrl-C stops botwatch");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
