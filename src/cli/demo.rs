//! `botwatch demo`: the real pipeline (client, rules, lifecycle, SQLite, outbox, console)
//! against the built-in simulator on 127.0.0.1, with the shipped rules, no credentials; with
//! `--preview`, the Discord messages as a page, with or without a Discord destination.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context as _;

use crate::analytics::simulator::{demo_bots, demo_timelines, Simulator, DEMO_STEPS};
use std::sync::Arc;

use super::preview::Preview;
use crate::cli::DemoDiscord;
use crate::config::{AnalyticsConfig, Config};
use crate::discord::config::DiscordConfig;
use crate::discord::destination::{parse_channel_id, parse_webhook_url, Destination};
use crate::metrics::Metrics;
use crate::notify::{Notifier, WithConsole};
use crate::rules::{LoadError, RuleSet};
use crate::scheduler::{self, RunOptions};
use crate::shutdown;
use secrecy::SecretString;

/// The shipped rules, built in so that the demo works from any directory.
const SHIPPED_RULES: &str = include_str!("../../rules.yaml");
/// The demo never runs longer than this, whatever happens.
const MAX_DEMO: Duration = Duration::from_secs(120);

pub(super) fn demo(
    duration: Option<Duration>,
    rules_path: Option<PathBuf>,
    discord: DemoDiscord,
    preview_path: Option<PathBuf>,
) -> anyhow::Result<ExitCode> {
    let rules = match &rules_path {
        Some(path) => RuleSet::load(path),
        None => RuleSet::parse("rules.yaml (built in)", SHIPPED_RULES).map_err(LoadError::Invalid),
    };
    let rules = match rules {
        Ok(rules) => rules,
        Err(LoadError::Invalid(d)) => {
            return Ok(super::report_invalid(&d, d.0.len(), "the demo rules"))
        }
        Err(error) => return Err(error.into()),
    };
    let deadline = duration.unwrap_or(MAX_DEMO).min(MAX_DEMO);
    let discord = discord_config(discord)?;
    let preview = preview_path
        .as_deref()
        .map(|path| Preview::create(path, discord.as_ref()))
        .transpose()?;
    let until_scenario_ends = duration.is_none();
    super::runtime()?.block_on(play(rules, discord, preview, deadline, until_scenario_ends))?;
    Ok(ExitCode::SUCCESS)
}

/// Discord settings from the demo's flags: none, one channel, or one webhook.
fn discord_config(flags: DemoDiscord) -> anyhow::Result<Option<DiscordConfig>> {
    let token = std::env::var("BOTWATCH_DISCORD_TOKEN")
        .ok()
        .filter(|t| !t.is_empty())
        .map(SecretString::from);
    if flags.discord_channel.is_some() && token.is_none() {
        anyhow::bail!("posting to a channel needs the bot token in BOTWATCH_DISCORD_TOKEN");
    }
    let destination = match (flags.discord_channel, flags.discord_webhook) {
        (Some(channel), _) => {
            Destination::Channel(parse_channel_id(&channel).map_err(anyhow::Error::msg)?)
        }
        (None, Some(url)) => {
            Destination::Webhook(parse_webhook_url(&url).map_err(anyhow::Error::msg)?)
        }
        (None, None) => return Ok(None),
    };
    Ok(Some(DiscordConfig::single(
        token,
        destination,
        flags.discord_api_base_url,
    )))
}

async fn play(
    rules: RuleSet,
    discord: Option<DiscordConfig>,
    preview: Option<Preview>,
    deadline: Duration,
    until_scenario_ends: bool,
) -> anyhow::Result<()> {
    let simulator = Simulator::start(demo_timelines())
        .await
        .context("starting the simulator")?;
    let state = tempfile::tempdir().context("creating a temporary state directory")?;
    let config = demo_config(&simulator, state.path(), discord)?;
    let store = scheduler::open_store(&config).await?;
    let metrics = Arc::new(Metrics::new());
    let notifier: Arc<dyn Notifier> = match &preview {
        Some(preview) => Arc::new(WithConsole::new(
            preview.notifier(store.clone(), metrics.clone()),
        )),
        None => {
            let rest = super::discord_rest(&config)?;
            super::notifier_for(&config, rest, store.clone(), metrics.clone())?
        }
    };
    print_banner(&simulator, &config, rules.rules.len(), preview.as_ref());
    let (trigger, shutdown) = shutdown::channel();
    let watcher = async {
        watch(&simulator, deadline, until_scenario_ends).await;
        trigger.trigger();
    };
    let options = RunOptions {
        max_start_delay: Some(Duration::from_millis(200)),
        metrics: Some(metrics),
    };
    let (result, ()) = tokio::join!(
        scheduler::run(&config, rules, store, notifier, options, shutdown),
        watcher
    );
    simulator.shutdown();
    // Written whatever ended the demo (its end, --for, Ctrl-C or an error).
    if let Some(preview) = preview {
        println!();
        println!("{}", preview.write("botwatch demo")?);
    }
    result?;
    println!();
    println!("demo finished. Run `botwatch check rules.yaml` to validate rules, `botwatch eval` to try them on a saved response.");
    Ok(())
}

/// The demo's configuration: the simulator's bots polled every second, state in `state`.
fn demo_config(
    simulator: &Simulator,
    state: &std::path::Path,
    discord: Option<DiscordConfig>,
) -> anyhow::Result<Config> {
    Ok(Config {
        analytics: AnalyticsConfig {
            base_url: simulator.base_url().parse()?,
            timeout: Duration::from_secs(2),
            poll_interval: Duration::from_secs(1),
            requests_per_second: std::num::NonZeroU32::new(20).unwrap_or(std::num::NonZeroU32::MIN),
            max_body_bytes: 1024 * 1024,
        },
        bots: demo_bots(),
        rules: PathBuf::from("rules.yaml"),
        state: state.join("demo.db"),
        history: Duration::from_secs(3600),
        discord,
        listen: None,
    })
}

/// What the demo does and where to look, before it starts.
fn print_banner(simulator: &Simulator, config: &Config, rules: usize, preview: Option<&Preview>) {
    println!(
        "botwatch demo: a simulated analytics API on {}",
        simulator.base_url()
    );
    println!(
        "  bots: Support bot, Sales bot; one poll a second; {rules} rules; state in {}",
        config.state.display()
    );
    println!(
        "  watch: LINE quota past 80 % (it wobbles at 80 % without flapping) and 95 %, then reset;"
    );
    println!("         Facebook integration dropped and restored; an API outage and recovery.");
    if config.discord.is_some() {
        println!("  alerts also go to Discord");
    }
    if let Some(preview) = preview {
        println!(
            "  the Discord messages go to {} when the demo ends",
            preview.path().display()
        );
    }
    println!();
}

/// Returns when the demo should end: at `deadline`, on Ctrl-C or SIGTERM, or (with
/// `until_scenario_ends`) once every bot has played its scenario.
async fn watch(simulator: &Simulator, deadline: Duration, until_scenario_ends: bool) {
    let started = Instant::now();
    let scenario_done = || {
        demo_bots()
            .iter()
            .all(|b| simulator.served(&b.id) > DEMO_STEPS)
    };
    // Bounded: at most `deadline` / 200 ms iterations.
    while started.elapsed() < deadline && !(until_scenario_ends && scenario_done()) {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(200)) => {}
            _ = super::run::wait_for_signal() => break,
        }
    }
}
