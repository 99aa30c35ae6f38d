//! The buttons on an alert's card in a channel: **Acknowledge** while nobody has, then
//! **Unacknowledge**, and **Analyze** (the bot's `/analysis`, for the presser alone); none
//! once the alert resolved. Built with serenity's builders; each
//! button's `custom_id` names its action and the alert's firing (see
//! [`super::interactions::custom_id`]).

use serenity::all::{ButtonStyle, CreateActionRow, CreateButton};

use super::interactions::custom_id::CardAction;
use crate::alerts::AlertId;

/// The button row of a firing alert's card.
pub fn rows(alert: AlertId, acknowledged: bool) -> Vec<CreateActionRow> {
    let button = if acknowledged {
        CreateButton::new(CardAction::Unacknowledge(alert).to_string())
            .label("Unacknowledge")
            .style(ButtonStyle::Secondary)
    } else {
        CreateButton::new(CardAction::Acknowledge(alert).to_string())
            .label("Acknowledge")
            .style(ButtonStyle::Primary)
    };
    let analyze = CreateButton::new(CardAction::Analyze(alert).to_string())
        .label("Analyze")
        .style(ButtonStyle::Secondary);
    vec![CreateActionRow::Buttons(vec![button, analyze])]
}

/// [`rows`] as the components of a message the sink sends.
pub fn components(alert: AlertId, acknowledged: bool) -> serde_json::Value {
    serde_json::to_value(rows(alert, acknowledged)).unwrap_or_else(|_| none())
}

/// No buttons: what a resolved alert's card is edited to.
pub fn none() -> serde_json::Value {
    serde_json::Value::Array(Vec::new())
}
