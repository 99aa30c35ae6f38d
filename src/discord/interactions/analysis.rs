//! `/analysis`: the current picture of one bot — who may ask, about which bot, and how the
//! answer is made within Discord's three seconds.
//!
//! A stored snapshot younger than `fresh_for` is answered at once. Otherwise the answer is
//! deferred (Discord shows "thinking…") and its follow-up asks the API under the same upstream
//! rate limit as the polls, then replaces the answer; if the API fails, the answer says so and
//! shows the last known data with its age. Only configured guilds, roles and bots are served,
//! so nobody can make botwatch query an arbitrary bot id with its credentials; a per-user
//! cooldown keeps one person from spending the upstream budget.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use serenity::all::{
    AutocompleteChoice, CommandDataOptionValue, CommandInteraction, CommandOptionType,
    CreateAutocompleteResponse, CreateCommand, CreateCommandOption, CreateInteractionResponse,
    EditInteractionResponse, UserId,
};

use super::access::{Origin, Refusal};
use super::{reply, Answer, Context};
use crate::alerts::AlertId;
use crate::analytics::Bot;
use crate::discord::analysis::{analysis_embed, AnalysisView};
use crate::notify::message::truncate;
use crate::store::BotRecord;
use crate::time::Timestamp;

/// What Analyze on the card of an alert that is gone answers.
const GONE: &str = "This alert has resolved; ask /analysis about its bot.";

/// The command's name.
pub const NAME: &str = "analysis";
/// Choices Discord shows at most.
const MAX_CHOICES: usize = 25;
/// The longest choice value (a bot id) Discord takes.
const MAX_CHOICE_VALUE: usize = 100;

/// The command's definition, as registered with Discord.
pub fn definition() -> CreateCommand {
    CreateCommand::new(NAME)
        .description("Message analytics of a bot: LINE quota, platforms, firing alerts")
        .add_option(
            CreateCommandOption::new(CommandOptionType::String, "bot", "Which bot")
                .required(false)
                .set_autocomplete(true),
        )
        .add_option(
            CreateCommandOption::new(
                CommandOptionType::Boolean,
                "private",
                "Only you see the answer",
            )
            .required(false),
        )
}

/// `/analysis [bot] [private]`, parsed.
pub struct AnalysisRequest {
    origin: Origin,
    bot: Option<String>,
    private: bool,
}

impl AnalysisRequest {
    /// The request `command` makes.
    pub fn parse(command: &CommandInteraction) -> AnalysisRequest {
        let bot = command.data.options.iter().find_map(|o| match &o.value {
            CommandDataOptionValue::String(id) if o.name == "bot" => Some(id.clone()),
            _ => None,
        });
        let private = command
            .data
            .options
            .iter()
            .any(|o| o.name == "private" && o.value == CommandDataOptionValue::Boolean(true));
        AnalysisRequest {
            origin: Origin::of_command(command),
            bot,
            private,
        }
    }
}

/// What has been typed into `/analysis`'s `bot` option so far.
pub struct AnalysisAutocomplete {
    origin: Origin,
    typed: String,
}

impl AnalysisAutocomplete {
    /// The request `command` (an autocomplete interaction) makes.
    pub fn parse(command: &CommandInteraction) -> AnalysisAutocomplete {
        let typed = command.data.options.iter().find_map(|o| match &o.value {
            CommandDataOptionValue::Autocomplete { value, .. } if o.name == "bot" => {
                Some(value.to_lowercase())
            }
            _ => None,
        });
        AnalysisAutocomplete {
            origin: Origin::of_command(command),
            typed: typed.unwrap_or_default(),
        }
    }
}

/// Serves `/analysis`.
pub struct Analysis {
    context: Arc<Context>,
    cooldowns: DefaultKeyedRateLimiter<UserId>,
}

impl Analysis {
    /// The handler, with a cooldown per user of the configured length.
    pub fn new(context: Arc<Context>) -> Analysis {
        let period = context
            .config
            .analysis
            .cooldown
            .max(Duration::from_millis(1));
        let cooldown =
            Quota::with_period(period).unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN));
        Analysis {
            context,
            cooldowns: RateLimiter::keyed(cooldown),
        }
    }

    fn check(&self, origin: &Origin) -> Result<(), Refusal> {
        let config = &self.context.config;
        origin.check(config, &config.analysis.roles, "/analysis")
    }

    /// Answers one `/analysis`.
    pub async fn handle(&self, request: AnalysisRequest) -> Answer {
        if let Err(refusal) = self.check(&request.origin) {
            return Answer::now(reply::private_text(refusal.to_string()));
        }
        if let Err(wait) = self.cool_down(request.origin.user) {
            let text = format!(
                "Please wait {} s before asking again.",
                wait.as_secs().max(1)
            );
            return Answer::now(reply::private_text(text));
        }
        let bot = match self.chosen_bot(request.bot.as_deref()) {
            Ok(bot) => bot.clone(),
            Err(why) => return Answer::now(reply::private_text(why)),
        };
        let record = load(&self.context, &bot.id).await;
        let fresh_for = self.context.config.analysis.fresh_for;
        let fresh = record
            .last_snapshot
            .as_ref()
            .filter(|(at, _)| Timestamp::now().since(*at) < fresh_for);
        if let Some((at, snapshot)) = fresh {
            let view = AnalysisView {
                bot_name: &bot.name,
                bot_id: &bot.id,
                snapshot: Some((*at, snapshot)),
                alerts: &record.instances,
                error: None,
            };
            let message =
                reply::message(request.private).embed(reply::embed(&analysis_embed(&view)));
            return Answer::now(CreateInteractionResponse::Message(message));
        }
        let context = Arc::clone(&self.context);
        Answer {
            response: CreateInteractionResponse::Defer(reply::message(request.private)),
            follow_up: Some(Box::pin(refresh(context, bot, record))),
        }
    }

    /// Answers Analyze on an alert's card: the `/analysis` of the alert's bot, to the presser
    /// alone.
    pub async fn handle_alert(&self, origin: Origin, alert: AlertId) -> Answer {
        // Refused before the store is read, as `/analysis` refuses before the API is asked.
        if let Err(refusal) = self.check(&origin) {
            return Answer::now(reply::private_text(refusal.to_string()));
        }
        let bot = match self.context.store.find_alert(alert).await {
            Ok(Some(instance)) => instance.key.bot_id,
            Ok(None) => return Answer::now(reply::private_text(GONE)),
            Err(error) => {
                tracing::warn!(%error, "cannot read the alert for Analyze");
                return Answer::now(reply::private_text(GONE));
            }
        };
        let request = AnalysisRequest {
            origin,
            bot: Some(bot),
            private: true,
        };
        self.handle(request).await
    }

    /// Offers the configured bots whose name or id contains what was typed.
    pub fn autocomplete(&self, request: AnalysisAutocomplete) -> CreateInteractionResponse {
        // Nothing to list for someone who may not use the command.
        let choices = match self.check(&request.origin) {
            Ok(()) => self
                .context
                .bots
                .iter()
                .filter(|b| b.id.chars().count() <= MAX_CHOICE_VALUE)
                .filter(|b| {
                    b.name.to_lowercase().contains(&request.typed)
                        || b.id.to_lowercase().contains(&request.typed)
                })
                .take(MAX_CHOICES)
                .map(|b| {
                    AutocompleteChoice::new(
                        truncate(&format!("{} ({})", b.name, b.id), 100),
                        b.id.clone(),
                    )
                })
                .collect(),
            Err(_) => Vec::new(),
        };
        CreateInteractionResponse::Autocomplete(
            CreateAutocompleteResponse::new().set_choices(choices),
        )
    }

    /// `Err(how long to wait)` while `user` is cooling down.
    fn cool_down(&self, user: UserId) -> Result<(), Duration> {
        // Forget users whose cooldown is over, so the table stays as small as the active users.
        self.cooldowns.retain_recent();
        self.cooldowns.check_key(&user).map_err(|not_until| {
            not_until.wait_time_from(governor::clock::Clock::now(self.cooldowns.clock()))
        })
    }

    /// The bot asked about: the option's value if it names a configured bot, the only bot if
    /// there is one and none was named.
    fn chosen_bot(&self, asked: Option<&str>) -> Result<&Bot, &'static str> {
        let bots = &self.context.bots;
        match asked {
            Some(id) => bots
                .iter()
                .find(|b| b.id == id)
                .ok_or("That bot is not watched by botwatch; pick one from the list."),
            None if bots.len() == 1 => Ok(&bots[0]),
            None => Err("Which bot? Pick one in the `bot` option."),
        }
    }
}

/// The deferred answer: fresh data from the API, or the last known data and why there is
/// nothing newer.
async fn refresh(context: Arc<Context>, bot: Bot, record: BotRecord) -> EditInteractionResponse {
    let (client, limiter) = &context.upstream;
    limiter.until_ready().await;
    let fetched = client.fetch(&bot).await;
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
    EditInteractionResponse::new()
        .embed(reply::embed(&analysis_embed(&view)))
        .allowed_mentions(serenity::all::CreateAllowedMentions::new())
}

async fn load(context: &Context, bot_id: &str) -> BotRecord {
    context
        .store
        .load_bot(bot_id)
        .await
        .unwrap_or_else(|error| {
            tracing::warn!(%error, "cannot read the state for /analysis");
            BotRecord::default()
        })
}
