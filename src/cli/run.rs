//! `botwatch run`: the service, until SIGINT or SIGTERM.

use crate::config::{Config, ConfigError};
use crate::rules::{LoadError, RuleSet};
use crate::scheduler::{self, RunOptions};
use crate::shutdown;
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
        let notifier = super::notifier_for(&config, store.clone())?;
        let (trigger, shutdown) = shutdown::channel();
        tokio::spawn(async move {
            wait_for_signal().await;
            tracing::info!("shutting down: finishing polls in flight and draining the outbox");
            trigger.trigger();
        });
        let options = RunOptions {
            max_start_delay: None,
        };
        scheduler::run(&config, rules, store, notifier, options, shutdown).await
    })?;
    Ok(ExitCode::SUCCESS)
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
