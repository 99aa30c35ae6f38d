//! The `/analysis` slash command: who may ask, about which bot, and how the answer is made
//! within Discord's three seconds.
//!
//! A stored snapshot younger than `fresh_for` is answered at once. Otherwise the interaction
//! is deferred first (Discord shows "thinking…"), the API is asked under the same upstream rate
//! limit as the polls, and the original answer is then replaced; if the API fails, the answer
//! says so and shows the last known data with its age. Only configured guilds, roles and bots
//! are served, so nobody can make botwatch query an arbitrary bot id with its credentials.

use std::sync::Arc;
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde_json::{json, Value};
use serenity::model::application::{CommandDataOptionValue, CommandInteraction};
use serenity::model::id::{ApplicationId, GuildId};

use super::analysis::{analysis_embed, AnalysisView};
use super::config::DiscordConfig;
use super::rest::{DiscordRest, RestError};
use crate::analytics::{AnalyticsClient, Bot};
use crate::store::{BotRecord, BotStates};
use crate::time::Timestamp;

/// Discord's flag for an answer only the asking user sees.
const EPHEMERAL: u64 = 64;
/// Choices Discord shows at most.
const MAX_CHOICES: usize = 25;

/// Serves `/analysis`.
pub struct AnalysisCommand {
    rest: Arc<DiscordRest>,
    config: DiscordConfig,
    bots: Vec<Bot>,
    client: AnalyticsClient,
    upstream: Arc<DefaultDirectRateLimiter>,
    store: Arc<dyn BotStates>,
    cooldowns: DefaultKeyedRateLimiter<u64>,
}

/// The command's definition, as registered with Discord.
pub fn definition() -> Value {
    json!({
        "name": "analysis",
        "description": "Message analytics of a bot: LINE quota, platforms, firing alerts",
        "type": 1,
        "options": [
            {"type": 3, "name": "bot", "description": "Which bot", "required": false, "autocomplete": true},
            {"type": 5, "name": "private", "description": "Only you see the answer", "required": false}
        ]
    })
}

fn reply(embeds: Value, content: Option<&str>, private: bool) -> Value {
    json!({
        "content": content,
        "embeds": embeds,
        "flags": if private { EPHEMERAL } else { 0 },
        "allowed_mentions": {"parse": []}
    })
}

impl AnalysisCommand {
    /// The command for these bots, answering through `rest`.
    pub fn new(
        rest: Arc<DiscordRest>,
        config: DiscordConfig,
        bots: Vec<Bot>,
        upstream: (AnalyticsClient, Arc<DefaultDirectRateLimiter>),
        store: Arc<dyn BotStates>,
    ) -> Self {
        let period = config.analysis.cooldown.max(Duration::from_millis(1));
        let cooldown = Quota::with_period(period)
            .unwrap_or_else(|| Quota::per_second(std::num::NonZeroU32::MIN));
        AnalysisCommand {
            rest,
            config,
            bots,
            client: upstream.0,
            upstream: upstream.1,
            store,
            cooldowns: RateLimiter::keyed(cooldown),
        }
    }

    /// Registers `/analysis` in the configured guilds, or globally when there are none.
    pub async fn register(&self, application: ApplicationId) -> Result<(), RestError> {
        if self.config.guilds.is_empty() {
            return self
                .rest
                .register_command(application, None, &definition())
                .await;
        }
        for guild in &self.config.guilds {
            self.rest
                .register_command(application, Some(GuildId::new(*guild)), &definition())
                .await?;
        }
        Ok(())
    }

    async fn answer_now(
        &self,
        interaction: &CommandInteraction,
        data: Value,
    ) -> Result<(), RestError> {
        let body = json!({"type": 4, "data": data});
        self.rest
            .interaction_callback(interaction.id, &interaction.token, &body)
            .await
    }

    async fn refuse(&self, interaction: &CommandInteraction, why: &str) -> Result<(), RestError> {
        self.answer_now(interaction, reply(json!([]), Some(why), true))
            .await
    }

    /// Why this user may not use the command here, if they may not.
    fn access_denied(&self, interaction: &CommandInteraction) -> Option<&'static str> {
        let guild = interaction.guild_id.map(|g| g.get());
        if !self.config.guilds.is_empty() && !guild.is_some_and(|g| self.config.guilds.contains(&g))
        {
            return Some("This command is not available here.");
        }
        let allowed = &self.config.analysis.roles;
        let has_role = interaction.member.as_ref().is_some_and(|m| {
            m.roles
                .iter()
                .any(|r| allowed.iter().any(|a| a.trim() == r.get().to_string()))
        });
        if !allowed.is_empty() && !has_role {
            return Some("You need one of the roles allowed to use /analysis.");
        }
        None
    }

    fn option<'a>(
        interaction: &'a CommandInteraction,
        name: &str,
    ) -> Option<&'a CommandDataOptionValue> {
        interaction
            .data
            .options
            .iter()
            .find(|o| o.name == name)
            .map(|o| &o.value)
    }

    /// The bot asked about: the option's value if it names a configured bot, the only bot if
    /// there is one and none was named.
    fn chosen_bot(&self, interaction: &CommandInteraction) -> Result<&Bot, String> {
        match Self::option(interaction, "bot") {
            Some(CommandDataOptionValue::String(id)) => {
                self.bots.iter().find(|b| &b.id == id).ok_or_else(|| {
                    "That bot is not watched by botwatch; pick one from the list.".to_owned()
                })
            }
            _ if self.bots.len() == 1 => Ok(&self.bots[0]),
            _ => Err("Which bot? Pick one in the `bot` option.".to_owned()),
        }
    }

    /// Answers one `/analysis` command.
    pub async fn handle(&self, interaction: &CommandInteraction) -> Result<(), RestError> {
        if let Some(why) = self.access_denied(interaction) {
            return self.refuse(interaction, why).await;
        }
        // Forget users whose cooldown is over, so the table stays as small as the active users.
        self.cooldowns.retain_recent();
        if let Err(not_until) = self.cooldowns.check_key(&interaction.user.id.get()) {
            let wait =
                not_until.wait_time_from(governor::clock::Clock::now(self.cooldowns.clock()));
            let why = format!(
                "Please wait {} s before asking again.",
                wait.as_secs().max(1)
            );
            return self.refuse(interaction, &why).await;
        }
        let bot = match self.chosen_bot(interaction) {
            Ok(bot) => bot,
            Err(why) => return self.refuse(interaction, &why).await,
        };
        let private = matches!(
            Self::option(interaction, "private"),
            Some(CommandDataOptionValue::Boolean(true))
        );
        let record = self.load(&bot.id).await;
        let fresh = record
            .last_snapshot
            .as_ref()
            .filter(|(at, _)| Timestamp::now().since(*at) < self.config.analysis.fresh_for);
        if let Some((at, snapshot)) = fresh {
            let view = AnalysisView {
                bot_name: &bot.name,
                bot_id: &bot.id,
                snapshot: Some((*at, snapshot)),
                alerts: &record.instances,
                error: None,
            };
            return self
                .answer_now(
                    interaction,
                    reply(json!([analysis_embed(&view)]), None, private),
                )
                .await;
        }
        let deferred = json!({"type": 5, "data": {"flags": if private { EPHEMERAL } else { 0 }}});
        self.rest
            .interaction_callback(interaction.id, &interaction.token, &deferred)
            .await?;
        self.upstream.until_ready().await;
        let fetched = self.client.fetch(bot).await;
        let error = fetched.as_ref().err().map(|e| e.to_string());
        let snapshot = match &fetched {
            Ok(snapshot) => Some((Timestamp::now(), snapshot)),
            Err(_) => record.last_snapshot.as_ref().map(|(at, s)| (*at, s)),
        };
        let view = AnalysisView {
            bot_name: &bot.name,
            bot_id: &bot.id,
            snapshot,
            alerts: &record.instances,
            error: error.as_deref(),
        };
        let body = reply(json!([analysis_embed(&view)]), None, private);
        self.rest
            .edit_original(interaction.application_id, &interaction.token, &body)
            .await
    }

    /// Offers the configured bots whose name or id contains what the user typed.
    pub async fn autocomplete(&self, interaction: &CommandInteraction) -> Result<(), RestError> {
        if self.access_denied(interaction).is_some() {
            // Nothing to list for someone who may not use the command.
            let body = json!({"type": 8, "data": {"choices": []}});
            return self
                .rest
                .interaction_callback(interaction.id, &interaction.token, &body)
                .await;
        }
        let typed = match Self::option(interaction, "bot") {
            Some(CommandDataOptionValue::Autocomplete { value, .. }) => value.to_lowercase(),
            _ => String::new(),
        };
        let choices: Vec<Value> = self
            .bots
            .iter()
            // Discord takes choice values of at most 100 characters.
            .filter(|b| b.id.chars().count() <= 100)
            .filter(|b| b.name.to_lowercase().contains(&typed) || b.id.to_lowercase().contains(&typed))
            .take(MAX_CHOICES)
            .map(|b| json!({"name": crate::notify::message::truncate(&format!("{} ({})", b.name, b.id), 100), "value": b.id}))
            .collect();
        let body = json!({"type": 8, "data": {"choices": choices}});
        self.rest
            .interaction_callback(interaction.id, &interaction.token, &body)
            .await
    }

    async fn load(&self, bot_id: &str) -> BotRecord {
        self.store.load_bot(bot_id).await.unwrap_or_else(|error| {
            tracing::warn!(%error, "cannot read the state for /analysis");
            BotRecord::default()
        })
    }
}
