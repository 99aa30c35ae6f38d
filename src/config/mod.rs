//! The service configuration file (YAML): where the analytics API is, which bots to poll with
//! which credentials, where the rules and the state live.
//!
//! Secrets are written as `${ENV_VAR}` and read from the environment at load time; they are
//! held in [`secrecy::SecretString`] and never printed. Relative paths are relative to the
//! configuration file, so a config works from any working directory.

mod analytics;

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::analytics::Bot;
use crate::discord::config::{DiscordConfig, RawDiscord};
use crate::rules::{Diagnostic, Position};
pub use analytics::AnalyticsConfig;
use analytics::RawAnalytics;
use secrecy::SecretString;
use serde::Deserialize;
use serde_saphyr::Spanned;

/// The loaded configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// How to reach and poll the analytics API.
    pub analytics: AnalyticsConfig,
    /// The bots to watch.
    pub bots: Vec<Bot>,
    /// The rules file.
    pub rules: PathBuf,
    /// The SQLite state file.
    pub state: PathBuf,
    /// How long snapshot history is kept.
    pub history: Duration,
    /// Where alerts go in Discord (console only when absent).
    pub discord: Option<DiscordConfig>,
    /// The address of `/healthz`, `/readyz` and `/metrics` (off when absent).
    pub listen: Option<std::net::SocketAddr>,
}

fn default_history() -> Duration {
    Duration::from_secs(30 * 24 * 3600)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    analytics: RawAnalytics,
    bots: Spanned<Vec<RawBot>>,
    #[serde(default = "default_rules")]
    rules: PathBuf,
    #[serde(default = "default_state")]
    state: PathBuf,
    #[serde(default = "default_history", with = "humantime_serde")]
    history: Duration,
    discord: Option<Spanned<RawDiscord>>,
    #[serde(default)]
    server: RawServer,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawServer {
    listen: Option<std::net::SocketAddr>,
}

fn default_rules() -> PathBuf {
    "rules.yaml".into()
}
fn default_state() -> PathBuf {
    "botwatch.db".into()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBot {
    id: Spanned<String>,
    name: Option<String>,
    token: Spanned<String>,
    secret: Spanned<String>,
}

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read the config file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file has a mistake.
    #[error("{0}")]
    Invalid(Box<Diagnostic>),
}

impl Config {
    /// Reads the configuration at `path`, expanding `${ENV}` references from the environment.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let file = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|source| ConfigError::Io {
            path: file.clone(),
            source,
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        Config::from_bytes(&file, &bytes, base, &|name| std::env::var(name).ok())
    }

    /// [`Config::parse`] for the bytes of a file, which must be UTF-8.
    pub fn from_bytes(
        file: &str,
        bytes: &[u8],
        base: &Path,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let text = std::str::from_utf8(bytes)
            .map_err(|e| ConfigError::Invalid(Box::new(Diagnostic::not_utf8(file, bytes, e))))?;
        Config::parse(file, text, base, env)
    }

    /// Parses configuration text; `env` resolves `${NAME}`; relative paths are joined to `base`.
    pub fn parse(
        file: &str,
        text: &str,
        base: &Path,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let invalid = |position: Position, message: String, hint: &str| {
            ConfigError::Invalid(Box::new(Diagnostic {
                file: file.to_owned(),
                position,
                rule: None,
                message,
                hint: Some(hint.to_owned()),
            }))
        };
        let raw: RawConfig = serde_saphyr::from_str(text).map_err(|e| {
            let yaml = crate::rules::YamlError::of(&e, text);
            let hint = yaml_hint(&yaml, text);
            invalid(
                yaml.position,
                format!("invalid config: {}", yaml.message),
                hint,
            )
        })?;
        let analytics = raw
            .analytics
            .check()
            .map_err(|(at, m)| invalid(at, m, "see README.md, \"Configuration\""))?;
        let bots_at = crate::rules::position_of(&raw.bots.referenced);
        let mut bots: Vec<Bot> = Vec::new();
        for raw_bot in raw.bots.value {
            let at = crate::rules::position_of(&raw_bot.id.referenced);
            if bots.iter().any(|b| b.id == raw_bot.id.value) {
                return Err(invalid(
                    at,
                    format!("bot `{}` is listed twice", raw_bot.id.value),
                    "each bot id once",
                ));
            }
            let secret = |field: &Spanned<String>| {
                expand(&field.value, env)
                    .map(SecretString::from)
                    .map_err(|name| {
                        invalid(
                            crate::rules::position_of(&field.referenced),
                            format!("environment variable `{name}` is not set"),
                            "export it before starting botwatch, or fix the name",
                        )
                    })
            };
            bots.push(Bot {
                name: raw_bot.name.unwrap_or_else(|| raw_bot.id.value.clone()),
                token: secret(&raw_bot.token)?,
                secret: secret(&raw_bot.secret)?,
                id: raw_bot.id.value,
            });
        }
        if bots.is_empty() {
            return Err(invalid(
                bots_at,
                "no bots configured".into(),
                "add at least one entry under `bots:`",
            ));
        }
        let discord = match raw.discord {
            Some(section) => {
                let at = crate::rules::position_of(&section.referenced);
                let expand_env = |text: &str| {
                    expand(text, env)
                        .map_err(|name| format!("environment variable `{name}` is not set"))
                };
                Some(
                    section
                        .value
                        .resolve(&expand_env)
                        .map_err(|m| invalid(at, m, "see README.md, \"Discord\""))?,
                )
            }
            None => None,
        };
        Ok(Config {
            analytics,
            bots,
            rules: base.join(raw.rules),
            state: base.join(raw.state),
            history: raw.history,
            discord,
            listen: raw.server.listen,
        })
    }
}

/// What to do about a YAML error in `text`.
fn yaml_hint(error: &crate::rules::YamlError, text: &str) -> &'static str {
    let line = text
        .lines()
        .nth(error.position.line.saturating_sub(1) as usize);
    let in_braces = matches!(error.kind, crate::rules::YamlErrorKind::UnclosedBracket);
    if in_braces && line.is_some_and(|l| l.contains("${")) {
        return "inside `{ … }`, quote a `${NAME}` reference: token: \"${NAME}\"";
    }
    error
        .common_hint()
        .unwrap_or("see README.md, \"Configuration\"")
}

/// Replaces every `${NAME}` with the variable's value; `Err(NAME)` for an unset one.
fn expand(text: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            return Ok(out);
        };
        let name = &after[..end];
        out.push_str(&env(name).ok_or_else(|| name.to_owned())?);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    const CONFIG: &str = "analytics:\n  base_url: http://127.0.0.1:9/\n  poll_interval: 30s\nbots:\n  - id: bot-1\n    token: ${TOKEN}\n    secret: s-${SUFFIX}\n";

    fn env(name: &str) -> Option<String> {
        match name {
            "TOKEN" => Some("t0k3n".into()),
            "SUFFIX" => Some("42".into()),
            _ => None,
        }
    }

    #[test]
    fn expands_secrets_and_resolves_paths_next_to_the_file() {
        let config = Config::parse("c.yaml", CONFIG, Path::new("/etc/botwatch"), &env).unwrap();
        assert_eq!(config.bots[0].token.expose_secret(), "t0k3n");
        assert_eq!(config.bots[0].secret.expose_secret(), "s-42");
        assert_eq!(config.bots[0].name, "bot-1");
        assert_eq!(config.rules, Path::new("/etc/botwatch/rules.yaml"));
        assert_eq!(config.analytics.poll_interval, Duration::from_secs(30));
        assert!(
            !format!("{config:?}").contains("t0k3n"),
            "secrets must not appear in Debug output"
        );
    }

    #[test]
    fn an_unset_variable_is_reported_at_its_position() {
        let err = Config::parse("c.yaml", CONFIG, Path::new("."), &|_| None).unwrap_err();
        assert_eq!(
            err.to_string().lines().next().unwrap(),
            "c.yaml:6:12: environment variable `TOKEN` is not set"
        );
    }

    #[test]
    fn who_may_act_on_alerts_defaults_to_the_analysis_roles_and_can_be_set_apart() {
        let discord = |extra: &str| {
            let text = format!(
                "{CONFIG}discord:\n  destinations: {{ops: {{webhook: 'http://127.0.0.1:9/api/webhooks/1/tokentoken'}}}}\n  route: {{default: ops}}\n  analysis: {{roles: ['41']}}\n{extra}"
            );
            let config = Config::parse("c.yaml", &text, Path::new("."), &env).unwrap();
            config.discord.unwrap().action_roles
        };
        assert_eq!(discord(""), ["41"]);
        assert_eq!(discord("  actions: {roles: ['42', '43']}\n"), ["42", "43"]);
        assert!(
            discord("  actions: {roles: []}\n").is_empty(),
            "anyone in the guilds"
        );
    }

    #[test]
    fn unknown_keys_are_reported_with_their_position() {
        let text = CONFIG.replace("poll_interval", "pol_interval");
        let err = Config::parse("c.yaml", &text, Path::new("."), &env).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("c.yaml:3:3: invalid config: unknown field `pol_interval`"),
            "{err}"
        );
    }
}
