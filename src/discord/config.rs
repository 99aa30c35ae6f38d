//! The `discord:` section of the configuration: token, destinations, routing, mentions, limits.

use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::time::Duration;

use secrecy::SecretString;
use serde::Deserialize;

use super::destination::{parse_channel_id, parse_webhook_url, Destination};
use crate::rules::Severity;

/// The `discord:` section as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDiscord {
    token: Option<String>,
    api_base_url: Option<url::Url>,
    #[serde(default = "gateway_on")]
    gateway: bool,
    #[serde(default)]
    guilds: Vec<String>,
    #[serde(default)]
    destinations: BTreeMap<String, RawDestination>,
    route: Option<RawRoute>,
    admin: Option<String>,
    #[serde(default)]
    mention_roles: BySeverity,
    #[serde(default)]
    limits: Limits,
    #[serde(default)]
    analysis: AnalysisSettings,
    #[serde(default)]
    actions: RawActions,
}

/// `discord.actions` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawActions {
    roles: Option<Vec<String>>,
}

fn gateway_on() -> bool {
    true
}

/// Settings of the `/analysis` command.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AnalysisSettings {
    /// A stored snapshot younger than this is answered at once; older ones are refreshed.
    #[serde(with = "humantime_serde")]
    pub fresh_for: Duration,
    /// Time one user waits between two commands.
    #[serde(with = "humantime_serde")]
    pub cooldown: Duration,
    /// Only members with one of these role ids may use it (anyone when empty).
    pub roles: Vec<String>,
}

impl Default for AnalysisSettings {
    fn default() -> Self {
        AnalysisSettings {
            fresh_for: Duration::from_secs(60),
            cooldown: Duration::from_secs(10),
            roles: Vec::new(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDestination {
    channel: Option<String>,
    webhook: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoute {
    default: String,
    #[serde(flatten)]
    by_severity: BySeverity,
}

/// One optional value per severity.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BySeverity {
    info: Option<String>,
    warning: Option<String>,
    critical: Option<String>,
}

impl BySeverity {
    /// `value` for `severity`, nothing for the others.
    pub fn only(severity: Severity, value: &str) -> Self {
        let mut by = BySeverity::default();
        let slot = match severity {
            Severity::Info => &mut by.info,
            Severity::Warning => &mut by.warning,
            Severity::Critical => &mut by.critical,
        };
        *slot = Some(value.to_owned());
        by
    }

    /// The value for `severity`.
    pub fn get(&self, severity: Severity) -> Option<&str> {
        match severity {
            Severity::Info => self.info.as_deref(),
            Severity::Warning => self.warning.as_deref(),
            Severity::Critical => self.critical.as_deref(),
        }
    }

    fn values(&self) -> impl Iterator<Item = &String> {
        [&self.info, &self.warning, &self.critical]
            .into_iter()
            .flatten()
    }
}

/// Delivery limits (governor), per destination and over all of Discord.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Messages per destination per 5 seconds (Discord's own channel bucket is 5 / 5 s).
    pub per_destination_per_5s: NonZeroU32,
    /// Requests per second over all destinations.
    pub global_per_second: NonZeroU32,
    /// Time allowed for one request to Discord.
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            per_destination_per_5s: NonZeroU32::new(5).unwrap_or(NonZeroU32::MIN),
            global_per_second: NonZeroU32::new(40).unwrap_or(NonZeroU32::MIN),
            timeout: Duration::from_secs(10),
        }
    }
}

/// The Discord settings, checked and with secrets resolved.
#[derive(Debug, Clone)]
pub struct DiscordConfig {
    /// The bot token (needed for channel destinations and `/analysis`).
    pub token: Option<SecretString>,
    /// Another base URL for Discord's API (a proxy, or a loopback fake in tests).
    pub api_base_url: Option<String>,
    /// Whether to hold a gateway connection (which serves `/analysis`). Off, Discord is only
    /// called over REST: for a deployment that answers interactions over HTTP instead.
    pub gateway: bool,
    /// Guilds where `/analysis` is registered (globally when empty).
    pub guilds: Vec<u64>,
    /// Destinations by name.
    pub destinations: BTreeMap<String, Destination>,
    /// The destination for alerts without a more specific route.
    pub default_route: String,
    /// Destinations by severity.
    pub routes: BySeverity,
    /// The destination told about operational problems (a rules file that fails to reload).
    pub admin: Option<String>,
    /// Role to ping by severity.
    pub mention_roles: BySeverity,
    /// Delivery limits.
    pub limits: Limits,
    /// The `/analysis` command.
    pub analysis: AnalysisSettings,
    /// Who may act on alerts (the buttons on cards): members with one of these role ids;
    /// anyone in the configured guilds when empty. `discord.actions.roles`, or the `/analysis`
    /// roles when it is not set.
    pub action_roles: Vec<String>,
}

impl RawDiscord {
    /// Checks the section and resolves `${ENV}` references with `expand`.
    pub fn resolve(
        self,
        expand: &dyn Fn(&str) -> Result<String, String>,
    ) -> Result<DiscordConfig, String> {
        let token = self
            .token
            .as_deref()
            .map(expand)
            .transpose()?
            .filter(|t| !t.is_empty());
        let mut destinations = BTreeMap::new();
        for (name, raw) in self.destinations {
            let destination = match (raw.channel, raw.webhook) {
                (Some(channel), None) => Destination::Channel(
                    parse_channel_id(&expand(&channel)?)
                        .map_err(|e| format!("destination `{name}`: {e}"))?,
                ),
                (None, Some(url)) => Destination::Webhook(
                    parse_webhook_url(&expand(&url)?)
                        .map_err(|e| format!("destination `{name}`: {e}"))?,
                ),
                _ => {
                    return Err(format!(
                        "destination `{name}` needs exactly one of `channel:` or `webhook:`"
                    ))
                }
            };
            if matches!(destination, Destination::Channel(_)) && token.is_none() {
                return Err(format!("destination `{name}` is a channel, which needs `discord.token` (or use a webhook)"));
            }
            destinations.insert(name, destination);
        }
        let route = self
            .route
            .ok_or("`discord.route.default` is required: the destination for alerts")?;
        let admin = self.admin.iter();
        for name in std::iter::once(&route.default)
            .chain(route.by_severity.values())
            .chain(admin)
        {
            if !destinations.contains_key(name) {
                return Err(format!(
                    "route to `{name}`, which is not in `discord.destinations`"
                ));
            }
        }
        let parse_id = |text: &str, what: &str| {
            text.trim()
                .parse::<u64>()
                .ok()
                .filter(|id| *id > 0)
                .ok_or_else(|| format!("`{text}` is not a {what} id"))
        };
        for role in self.mention_roles.values() {
            parse_id(role, "role")?;
        }
        let action_roles = match self.actions.roles {
            Some(roles) => {
                for role in &roles {
                    parse_id(role, "role").map_err(|e| format!("discord.actions.roles: {e}"))?;
                }
                roles
            }
            None => self.analysis.roles.clone(),
        };
        Ok(DiscordConfig {
            token: token.map(SecretString::from),
            api_base_url: self.api_base_url.map(|u| u.to_string()),
            gateway: self.gateway,
            guilds: self
                .guilds
                .iter()
                .map(|g| parse_id(g, "guild"))
                .collect::<Result<_, _>>()?,
            destinations,
            default_route: route.default,
            routes: route.by_severity,
            admin: self.admin,
            mention_roles: self.mention_roles,
            limits: self.limits,
            analysis: self.analysis,
            action_roles,
        })
    }
}

impl DiscordConfig {
    /// Settings that send every alert to one destination (for `botwatch demo`).
    pub fn single(
        token: Option<SecretString>,
        destination: Destination,
        api_base_url: Option<String>,
    ) -> Self {
        DiscordConfig {
            token,
            api_base_url,
            gateway: true,
            guilds: Vec::new(),
            destinations: BTreeMap::from([("demo".to_owned(), destination)]),
            default_route: "demo".to_owned(),
            admin: None,
            routes: BySeverity::default(),
            mention_roles: BySeverity::default(),
            limits: Limits::default(),
            analysis: AnalysisSettings::default(),
            action_roles: Vec::new(),
        }
    }

    /// Rules whose `channel:` names no configured destination, as error messages.
    pub fn unknown_channels(&self, rules: &crate::rules::RuleSet) -> Vec<String> {
        let known: Vec<&str> = self.destinations.keys().map(String::as_str).collect();
        rules
            .rules
            .iter()
            .filter_map(|rule| {
                let channel = rule.channel.as_deref()?;
                (!self.destinations.contains_key(channel)).then(|| {
                    format!(
                        "rule {}: `channel: {channel}` is not in discord.destinations (known: {})",
                        rule.name,
                        known.join(", ")
                    )
                })
            })
            .collect()
    }

    /// The destination name for an alert of `severity` whose rule asks for `channel`.
    pub fn route<'a>(&'a self, severity: Severity, channel: Option<&'a str>) -> &'a str {
        channel
            .filter(|c| self.destinations.contains_key(*c))
            .or_else(|| self.routes.get(severity))
            .unwrap_or(self.default_route.as_str())
    }
}
