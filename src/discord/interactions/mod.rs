//! Interactions: what people ask of botwatch in Discord — slash commands, their
//! autocompletion, and the buttons on alert cards.
//!
//! Shaped as mini-redis's `src/cmd/`: one module per command, each with the same small shape —
//! `parse` the interaction into a typed request, `handle` it, return an [`Answer`] — and one
//! enum, [`Request`], that routes between them. Handlers **return** their initial response
//! instead of posting it, so that the same handlers serve the gateway (whose answers go back
//! over REST, [`Interactions::respond`]) and an HTTP interactions endpoint (whose answer is
//! the HTTP response). Work that cannot be done within Discord's three seconds is the
//! answer's [`FollowUp`]: it runs after the initial response is sent, and its result replaces
//! that response.
//!
//! Responses and command definitions are serenity's builders, so no flag number or response
//! type is written out here.

pub mod access;
pub mod acknowledge;
pub mod analysis;
pub mod custom_id;
mod reply;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use governor::DefaultDirectRateLimiter;
use serenity::all::{
    ApplicationId, CreateCommand, CreateInteractionResponse, EditInteractionResponse, GuildId,
    Interaction,
};

use self::access::Origin;
use self::acknowledge::AcknowledgePress;
use self::analysis::{AnalysisAutocomplete, AnalysisRequest};
use self::custom_id::{CardAction, UnknownButton};
use super::config::DiscordConfig;
use super::rest::{DiscordRest, RestError};
use crate::alerts::AlertId;
use crate::analytics::{AnalyticsClient, Bot};
use crate::store::{Acknowledgements, BotStates};

/// The analytics API and the rate limit it shares with the polls.
pub type Upstream = (AnalyticsClient, Arc<DefaultDirectRateLimiter>);

/// Work done after the initial response, whose result replaces it (a deferred answer).
pub type FollowUp = Pin<Box<dyn Future<Output = EditInteractionResponse> + Send>>;

/// What a handler answers: the initial response, and what follows it, if anything.
pub struct Answer {
    /// The interaction's response (Discord needs it within three seconds).
    pub response: CreateInteractionResponse,
    /// Work whose result replaces the response once it is done.
    pub follow_up: Option<FollowUp>,
}

impl Answer {
    /// An answer that is complete at once.
    pub fn now(response: CreateInteractionResponse) -> Answer {
        Answer {
            response,
            follow_up: None,
        }
    }
}

/// An interaction botwatch understands, parsed.
pub enum Request {
    /// `/analysis`.
    Analysis(AnalysisRequest),
    /// Typing in `/analysis`'s `bot` option.
    AnalysisAutocomplete(AnalysisAutocomplete),
    /// Acknowledge or Unacknowledge pressed on an alert card.
    Acknowledge(AcknowledgePress),
    /// Analyze pressed on an alert card.
    AnalyzeAlert(Origin, AlertId),
    /// A button botwatch does not know (another version's, or garbage).
    UnknownButton(UnknownButton),
}

impl Request {
    /// The request an interaction makes, or `None` for one botwatch does not serve (another
    /// application's command name, a ping over the gateway).
    pub fn parse(interaction: &Interaction) -> Option<Request> {
        match interaction {
            Interaction::Command(command) if command.data.name == analysis::NAME => {
                Some(Request::Analysis(AnalysisRequest::parse(command)))
            }
            Interaction::Autocomplete(command) if command.data.name == analysis::NAME => Some(
                Request::AnalysisAutocomplete(AnalysisAutocomplete::parse(command)),
            ),
            Interaction::Component(component) => {
                let press = |alert, acknowledge| {
                    Request::Acknowledge(AcknowledgePress::parse(component, alert, acknowledge))
                };
                Some(match CardAction::parse(&component.data.custom_id) {
                    Ok(CardAction::Acknowledge(alert)) => press(alert, true),
                    Ok(CardAction::Unacknowledge(alert)) => press(alert, false),
                    Ok(CardAction::Analyze(alert)) => {
                        Request::AnalyzeAlert(Origin::of_component(component), alert)
                    }
                    Err(unknown) => Request::UnknownButton(unknown),
                })
            }
            _ => None,
        }
    }
}

/// What every handler may use: the configuration, the watched bots, the store, the API.
pub struct Context {
    /// Discord's section of the configuration (guilds, roles, cooldowns).
    pub config: DiscordConfig,
    /// The watched bots: the only ones anybody may ask about.
    pub bots: Vec<Bot>,
    /// The analytics API, under the polls' rate limit.
    pub upstream: Upstream,
    /// Alert state and last snapshots.
    pub store: Arc<dyn BotStates>,
    /// Who acknowledged which alert.
    pub acknowledgements: Arc<dyn Acknowledgements>,
}

/// Answers interactions: routes each to its handler.
pub struct Interactions {
    rest: Arc<DiscordRest>,
    context: Arc<Context>,
    analysis: analysis::Analysis,
}

impl Interactions {
    /// Interactions answered with `context`; answers and registrations go through `rest`.
    pub fn new(rest: Arc<DiscordRest>, context: Context) -> Interactions {
        let context = Arc::new(context);
        Interactions {
            rest,
            analysis: analysis::Analysis::new(Arc::clone(&context)),
            context,
        }
    }

    /// The answer to `interaction`, or `None` when botwatch does not serve it.
    pub async fn answer(&self, interaction: &Interaction) -> Option<Answer> {
        Some(match Request::parse(interaction)? {
            Request::Analysis(request) => self.analysis.handle(request).await,
            Request::AnalysisAutocomplete(request) => {
                Answer::now(self.analysis.autocomplete(request))
            }
            Request::Acknowledge(press) => acknowledge::handle(&self.context, press).await,
            Request::AnalyzeAlert(origin, alert) => self.analysis.handle_alert(origin, alert).await,
            Request::UnknownButton(unknown) => {
                Answer::now(reply::private_text(unknown.to_string()))
            }
        })
    }

    /// Answers `interaction` over REST, as the gateway needs: the response first, then the
    /// follow-up's result in its place.
    pub async fn respond(&self, interaction: &Interaction) -> Result<(), RestError> {
        let Some(answer) = self.answer(interaction).await else {
            return Ok(());
        };
        let (id, token, application) = match interaction {
            Interaction::Command(i) | Interaction::Autocomplete(i) => {
                (i.id, i.token.as_str(), i.application_id)
            }
            Interaction::Component(i) => (i.id, i.token.as_str(), i.application_id),
            _ => return Ok(()),
        };
        self.rest
            .interaction_callback(id, token, &answer.response)
            .await?;
        if let Some(follow_up) = answer.follow_up {
            let edit = follow_up.await;
            self.rest.edit_original(application, token, &edit).await?;
        }
        Ok(())
    }

    /// Registers botwatch's commands in the configured guilds, or globally when there are none.
    pub async fn register(&self, application: ApplicationId) -> Result<(), RestError> {
        let guilds = &self.context.config.guilds;
        for definition in definitions() {
            if guilds.is_empty() {
                self.rest
                    .register_command(application, None, &definition)
                    .await?;
            }
            for guild in guilds {
                self.rest
                    .register_command(application, Some(GuildId::new(*guild)), &definition)
                    .await?;
            }
        }
        Ok(())
    }
}

/// The definitions of botwatch's commands, as registered with Discord.
pub fn definitions() -> Vec<CreateCommand> {
    vec![analysis::definition()]
}
