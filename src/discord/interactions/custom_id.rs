//! The `custom_id` of the buttons botwatch puts on alert cards: which action, on which alert,
//! in a compact, versioned form — `bw1:ack:65a8fde2f27cb567`.
//!
//! Discord hands the `custom_id` back when a button is pressed, and allows 1–100 characters.
//! The alert is named by its [`AlertId`] (16 digits), never by its rule, bot and platform,
//! which together can be longer than that. The version (`bw1`) lets a later botwatch change
//! the scheme and still tell the buttons on cards an earlier one posted from garbage.

use std::fmt;

use crate::alerts::AlertId;

/// The scheme's prefix and version.
const VERSION: &str = "bw1";

/// What a button on an alert card does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardAction {
    /// Acknowledge the alert's firing.
    Acknowledge(AlertId),
    /// Withdraw the acknowledgement.
    Unacknowledge(AlertId),
    /// Show the alert's bot's `/analysis`, to the presser alone.
    Analyze(AlertId),
}

impl CardAction {
    fn verb(self) -> &'static str {
        match self {
            CardAction::Acknowledge(_) => "ack",
            CardAction::Unacknowledge(_) => "unack",
            CardAction::Analyze(_) => "analyze",
        }
    }

    /// The alert acted on.
    pub fn alert(self) -> AlertId {
        match self {
            CardAction::Acknowledge(alert)
            | CardAction::Unacknowledge(alert)
            | CardAction::Analyze(alert) => alert,
        }
    }

    /// The action a `custom_id` stands for.
    pub fn parse(custom_id: &str) -> Result<CardAction, UnknownButton> {
        let mut parts = custom_id.split(':');
        let (Some(VERSION), Some(verb), Some(alert), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(UnknownButton);
        };
        let alert: AlertId = alert.parse().map_err(|_| UnknownButton)?;
        match verb {
            "ack" => Ok(CardAction::Acknowledge(alert)),
            "unack" => Ok(CardAction::Unacknowledge(alert)),
            "analyze" => Ok(CardAction::Analyze(alert)),
            _ => Err(UnknownButton),
        }
    }
}

/// The `custom_id` of the action's button.
impl fmt::Display for CardAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{VERSION}:{}:{}", self.verb(), self.alert())
    }
}

/// A button this botwatch does not know: another scheme, another version, or not botwatch's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("This button belongs to another version of botwatch and does nothing here.")]
pub struct UnknownButton;

#[cfg(test)]
mod tests {
    use super::*;

    fn alert() -> AlertId {
        "65a8fde2f27cb567".parse().unwrap()
    }

    #[test]
    fn every_action_reads_back_from_its_custom_id_within_discords_100_characters() {
        for action in [
            CardAction::Acknowledge(alert()),
            CardAction::Unacknowledge(alert()),
            CardAction::Analyze(alert()),
        ] {
            let custom_id = action.to_string();
            assert!(custom_id.len() <= 100, "{custom_id}");
            assert_eq!(CardAction::parse(&custom_id), Ok(action));
        }
        assert_eq!(
            CardAction::Acknowledge(alert()).to_string(),
            "bw1:ack:65a8fde2f27cb567"
        );
    }

    #[test]
    fn other_versions_verbs_and_garbage_are_unknown_buttons() {
        for custom_id in [
            "",
            "bw2:ack:65a8fde2f27cb567",
            "bw1:snooze:65a8fde2f27cb567",
            "bw1:ack:quota-high",
            "bw1:ack:65a8fde2f27cb567:extra",
            "bw1:ack",
        ] {
            assert_eq!(
                CardAction::parse(custom_id),
                Err(UnknownButton),
                "{custom_id}"
            );
        }
    }
}
