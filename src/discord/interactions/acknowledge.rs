//! The **Acknowledge** and **Unacknowledge** buttons of an alert card.
//!
//! Pressing one records (or withdraws) who acknowledged the alert's firing, in the store, with
//! an audit entry and a log line naming them; the answer is the card itself, edited to show
//! the new state ("Acknowledged by @name, 2 minutes ago") and the other button — Discord's
//! UPDATE_MESSAGE, the interaction's own response, so nothing else is sent. An acknowledged
//! alert gets no reminders (`notify::mute`); its resolution still comes.
//!
//! Who may press them: `discord.actions.roles` (by default the `/analysis` roles), in the
//! configured guilds.

use serenity::all::{
    ComponentInteraction, CreateEmbed, CreateInteractionResponse, CreateInteractionResponseMessage,
    EmbedField, Message,
};

use super::access::Origin;
use super::{reply, Answer, Context};
use crate::alerts::{AlertId, AlertInstance};
use crate::discord::card_buttons;
use crate::notify::message::limits;
use crate::store::{Acknowledged, Acknowledgement, Actor, StoreError};
use crate::time::Timestamp;

/// The name of the card's field that says who acknowledged the alert.
const ACKNOWLEDGED: &str = "Acknowledged";

/// A press of Acknowledge or Unacknowledge, parsed.
pub struct AcknowledgePress {
    origin: Origin,
    alert: AlertId,
    acknowledge: bool,
    card: Box<Message>,
    actor: Actor,
}

impl AcknowledgePress {
    /// The press `component` is: acknowledging `alert`, or (`acknowledge: false`) withdrawing.
    pub fn parse(
        component: &ComponentInteraction,
        alert: AlertId,
        acknowledge: bool,
    ) -> AcknowledgePress {
        AcknowledgePress {
            origin: Origin::of_component(component),
            alert,
            acknowledge,
            card: component.message.clone(),
            actor: Actor {
                id: component.user.id.to_string(),
                name: component.user.display_name().to_owned(),
            },
        }
    }
}

/// Answers a press of Acknowledge or Unacknowledge.
pub async fn handle(context: &Context, press: AcknowledgePress) -> Answer {
    let config = &context.config;
    if let Err(refusal) = press
        .origin
        .check(config, &config.action_roles, "the alert buttons")
    {
        return Answer::now(reply::private_text(refusal.to_string()));
    }
    let alert = press.alert;
    let found = match context.store.find_alert(alert).await {
        Ok(Some(found)) => found,
        Ok(None) => return Answer::now(reply::private_text(RESOLVED)),
        Err(error) => return Answer::now(not_recorded(error)),
    };
    let now = Timestamp::now();
    let outcome = match press.acknowledge {
        true => acknowledge(context, &found, &press.actor, now).await,
        false => unacknowledge(context, &found, &press.actor, now).await,
    };
    match outcome {
        Ok(Outcome::Show(shown)) => Answer::now(CreateInteractionResponse::UpdateMessage(card(
            &press.card,
            alert,
            shown.as_ref(),
        ))),
        Ok(Outcome::Resolved) => Answer::now(reply::private_text(RESOLVED)),
        Err(error) => Answer::now(not_recorded(error)),
    }
}

/// What the card is to show after a press.
enum Outcome {
    /// This acknowledgement, or none.
    Show(Option<Acknowledgement>),
    /// Nothing: the alert resolved before the press was recorded.
    Resolved,
}

/// What a press on a card of an alert that resolved meanwhile is told.
const RESOLVED: &str = "This alert has resolved; there is nothing left to acknowledge.";

async fn acknowledge(
    context: &Context,
    alert: &AlertInstance,
    by: &Actor,
    now: Timestamp,
) -> Result<Outcome, StoreError> {
    Ok(
        match context.acknowledgements.acknowledge(alert, by, now).await? {
            Acknowledged::Now => {
                tracing::info!(alert = %alert.key, by = %by.name, user = %by.id, "alert acknowledged");
                Outcome::Show(Some(Acknowledgement {
                    by: by.clone(),
                    at: now,
                }))
            }
            // The first acknowledgement stands; the card shows it.
            Acknowledged::Already(first) => Outcome::Show(Some(first)),
            Acknowledged::NoSuchAlert => Outcome::Resolved,
        },
    )
}

/// The card shows no acknowledgement after this, whether one was withdrawn or there was none.
async fn unacknowledge(
    context: &Context,
    alert: &AlertInstance,
    by: &Actor,
    now: Timestamp,
) -> Result<Outcome, StoreError> {
    if context
        .acknowledgements
        .unacknowledge(alert, by, now)
        .await?
    {
        tracing::info!(alert = %alert.key, by = %by.name, user = %by.id, "acknowledgement withdrawn");
    }
    Ok(Outcome::Show(None))
}

fn not_recorded(error: StoreError) -> CreateInteractionResponse {
    tracing::warn!(%error, "could not record an action on an alert");
    reply::private_text("botwatch could not record that just now; please press the button again.")
}

/// `card` as it shows `acknowledgement` (or none), with the button that fits.
fn card(
    card: &Message,
    alert: AlertId,
    acknowledgement: Option<&Acknowledgement>,
) -> CreateInteractionResponseMessage {
    let embeds = card
        .embeds
        .iter()
        .cloned()
        .enumerate()
        .map(|(index, mut embed)| {
            embed.fields.retain(|field| field.name != ACKNOWLEDGED);
            let room = embed.fields.len() < limits::FIELDS;
            if let Some(acknowledged) = acknowledgement.filter(|_| index == 0 && room) {
                let text = format!(
                    "by <@{}> <t:{}:R>",
                    acknowledged.by.id,
                    acknowledged.at.as_unix_seconds()
                );
                embed
                    .fields
                    .push(EmbedField::new(ACKNOWLEDGED, text, false));
            }
            CreateEmbed::from(embed)
        })
        .collect();
    CreateInteractionResponseMessage::new()
        .embeds(embeds)
        .components(card_buttons::rows(alert, acknowledgement.is_some()))
}
