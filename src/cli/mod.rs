//! The command line: `run`, `check`, `eval` and `demo`, one file each.
//!
//! Every command returns an [`ExitCode`]-worthy result to `main`; user-facing failures (a
//! broken rules file) are printed here and become exit code 1, anything unexpected travels up
//! as an `anyhow::Error` with its context.

mod check;
mod demo;
mod eval;
mod healthcheck;
mod preview;
mod run;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};

/// Watches chatbot message analytics and raises alerts.
#[derive(Debug, Parser)]
#[command(name = "botwatch", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
    /// Log format on standard error: `text` for people, `json` (one object per line) for
    /// log collectors. Filter with RUST_LOG, e.g. `RUST_LOG=botwatch=debug`.
    #[arg(long, global = true, value_enum, env = "BOTWATCH_LOG_FORMAT", default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

/// Log formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, fields included.
    Json,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the service: poll every bot, evaluate the rules, send alerts.
    Run {
        /// The configuration file.
        #[arg(long, short, env = "BOTWATCH_CONFIG", default_value = "botwatch.yaml")]
        config: PathBuf,
    },
    /// Check a rules file (and optionally a config file) without running anything.
    ///
    /// Exits 0 when valid; prints every error as FILE:LINE:COL and exits 1 otherwise.
    Check {
        /// The rules file (default: the config's rules file, else ./rules.yaml).
        #[arg(value_name = "RULES")]
        rules_path: Option<PathBuf>,
        /// The rules file, as an option.
        #[arg(long, conflicts_with = "rules_path")]
        rules: Option<PathBuf>,
        /// A configuration file to check too.
        #[arg(long, short)]
        config: Option<PathBuf>,
    },
    /// Evaluate the rules once against a saved API response and print each condition.
    Eval {
        /// The rules file.
        #[arg(long, default_value = "rules.yaml")]
        rules: PathBuf,
        /// The current snapshot: a JSON response of the analytics API.
        #[arg(long)]
        snapshot: PathBuf,
        /// The previous snapshot, for transition rules.
        #[arg(long)]
        previous: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// The bot id the rules see (`bot.id`, and `bots:` filters).
        #[arg(long, default_value = "eval-bot")]
        bot_id: String,
        /// The bot name the rules see (`bot.name`).
        #[arg(long, default_value = "Eval bot")]
        bot_name: String,
        /// Also write the alert card each active instance would post in Discord, as an HTML
        /// page styled like Discord, to this file.
        #[arg(long, value_name = "FILE.html")]
        preview: Option<PathBuf>,
    },
    /// Print the JSON Schema of rules.yaml (for editors; rules.schema.json is a copy).
    Schema,
    /// Ask a running botwatch whether it is alive (its /healthz); exit 0 when it is.
    Healthcheck {
        /// The URL to ask (default: /healthz at the config's server.listen).
        #[arg(long)]
        url: Option<String>,
        /// The configuration file, to find server.listen.
        #[arg(long, short, env = "BOTWATCH_CONFIG", default_value = "botwatch.yaml")]
        config: PathBuf,
    },
    /// Show the whole pipeline against a built-in simulator on 127.0.0.1; no credentials needed.
    Demo {
        /// Stop after this long (default: when the scripted scenario has played, about 30 s).
        #[arg(long = "for", value_parser = humantime::parse_duration)]
        duration: Option<Duration>,
        /// Rules to use instead of the shipped rules.yaml.
        #[arg(long)]
        rules: Option<PathBuf>,
        /// Also post the alerts to Discord.
        #[command(flatten)]
        discord: DemoDiscord,
        /// Also write the Discord messages (cards, edits, replies, digests) to this file as an
        /// HTML page styled like Discord, when the demo ends.
        #[arg(long, value_name = "FILE.html")]
        preview: Option<PathBuf>,
    },
}

/// Where `botwatch demo` also posts, if anywhere: a channel (with a bot token) or a webhook.
#[derive(Debug, Clone, clap::Args)]
pub struct DemoDiscord {
    /// Channel id to post to, with the bot token from `BOTWATCH_DISCORD_TOKEN` (never a flag:
    /// command lines are visible to every user of the machine).
    #[arg(long, env = "BOTWATCH_DISCORD_CHANNEL")]
    pub discord_channel: Option<String>,
    /// Webhook URL to post to instead of a channel.
    #[arg(
        long,
        env = "BOTWATCH_DISCORD_WEBHOOK",
        hide_env_values = true,
        conflicts_with = "discord_channel"
    )]
    pub discord_webhook: Option<String>,
    /// Discord API base URL (a proxy); serenity's rate limiter is then bypassed, botwatch's own
    /// limits and 429 handling remain.
    #[arg(long, env = "BOTWATCH_DISCORD_API_BASE_URL")]
    pub discord_api_base_url: Option<String>,
}

/// Output formats of `eval`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned columns for people.
    Text,
    /// One JSON array for programs.
    Json,
}

/// Runs a parsed command line.
pub fn execute(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Run { config } => run::run(&config),
        Command::Check {
            rules_path,
            rules,
            config,
        } => check::check(rules_path.or(rules), config),
        Command::Eval {
            rules,
            snapshot,
            previous,
            format,
            bot_id,
            bot_name,
            preview,
        } => eval::eval(
            &rules,
            &snapshot,
            previous.as_deref(),
            format,
            &bot_id,
            &bot_name,
            preview.as_deref(),
        ),
        Command::Demo {
            duration,
            rules,
            discord,
            preview,
        } => demo::demo(duration, rules, discord, preview),
        Command::Healthcheck { url, config } => healthcheck::healthcheck(url, &config),
        Command::Schema => {
            print!("{}", crate::rules::schema::json_schema());
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The notifier for a config: Discord (with console lines) when configured, else the console.
fn notifier_for(
    config: &crate::config::Config,
    rest: Option<std::sync::Arc<crate::discord::rest::DiscordRest>>,
    store: std::sync::Arc<dyn crate::store::Store>,
    metrics: std::sync::Arc<crate::metrics::Metrics>,
) -> anyhow::Result<std::sync::Arc<dyn crate::notify::Notifier>> {
    use crate::discord::sink::DiscordNotifier;
    use crate::notify::{ConsoleNotifier, WithConsole};
    Ok(match (&config.discord, rest) {
        (Some(discord), Some(rest)) => std::sync::Arc::new(WithConsole::new(
            DiscordNotifier::with_transport(discord.clone(), Box::new(rest), store, metrics),
        )),
        _ => std::sync::Arc::new(ConsoleNotifier),
    })
}

/// The one Discord REST client of a process, when Discord is configured: every part that
/// talks to Discord shares it, and with it what Discord's answers said of its rate limits.
fn discord_rest(
    config: &crate::config::Config,
) -> anyhow::Result<Option<std::sync::Arc<crate::discord::rest::DiscordRest>>> {
    config
        .discord
        .as_ref()
        .map(|discord| crate::discord::rest::DiscordRest::for_config(discord).map(Into::into))
        .transpose()
        .map_err(Into::into)
}

/// Errors of rules that route to destinations the config does not have.
fn check_channels(
    config: &crate::config::Config,
    rules: &crate::rules::RuleSet,
) -> Result<(), ExitCode> {
    let unknown = config
        .discord
        .as_ref()
        .map(|d| d.unknown_channels(rules))
        .unwrap_or_default();
    if unknown.is_empty() {
        return Ok(());
    }
    for message in &unknown {
        eprintln!("{}: {message}", config.rules.display());
    }
    Err(ExitCode::from(1))
}

/// A multi-threaded runtime for the commands that run the pipeline.
fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    use anyhow::Context as _;
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// Prints rule or config errors the way `check` does, and returns exit code 1.
fn report_invalid(errors: &dyn std::fmt::Display, count: usize, file: &str) -> ExitCode {
    eprintln!("{errors}");
    let plural = if count == 1 { "" } else { "s" };
    eprintln!("{count} error{plural} in {file}");
    ExitCode::from(1)
}
