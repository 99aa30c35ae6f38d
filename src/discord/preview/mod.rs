//! `--preview FILE.html`: the Discord messages botwatch sends, as a page styled like
//! Discord's dark theme, for people without a Discord server at hand.
//!
//! The messages come from the real delivery path: the [`crate::discord::sink::DiscordNotifier`]
//! (routing, budgets, digests, cards, edits and replies) sends through a [`Recorder`], a
//! [`crate::discord::transport::Transport`] that keeps each message as sent and, when a Discord
//! destination is configured, sends it there too. [`render`] turns the resulting
//! [`Transcript`] into HTML. Nothing here re-renders alert events: a change to the cards shows
//! in the preview because the preview *is* the cards.

mod markup;
mod page;
mod recorder;
mod transcript;

use std::collections::BTreeMap;

use serenity::model::id::ChannelId;

pub use page::{render, Page, PageError};
pub use recorder::Recorder;
pub use transcript::{Posted, Transcript};

use super::config::{BySeverity, DiscordConfig};
use super::destination::Destination;
use crate::rules::Severity;

/// The destination of a preview that sends nothing to Discord.
pub const LOCAL_DESTINATION: &str = "alerts";

/// The role a local preview pings for critical alerts, so the page shows what a configured
/// `mention_roles.critical` looks like: its id and its name.
pub const LOCAL_ROLE: (&str, &str) = ("100000000000000077", "on-call");

/// Settings for a preview that sends nothing to Discord: every alert to one channel, and the
/// [`LOCAL_ROLE`] pinged for critical alerts.
pub fn local_config() -> DiscordConfig {
    let mut config = DiscordConfig::single(None, Destination::Channel(ChannelId::new(1)), None);
    config.destinations = BTreeMap::from([(
        LOCAL_DESTINATION.to_owned(),
        Destination::Channel(ChannelId::new(1)),
    )]);
    config.default_route = LOCAL_DESTINATION.to_owned();
    config.mention_roles = BySeverity::only(Severity::Critical, LOCAL_ROLE.0);
    config
}

/// The role names a page shows: [`LOCAL_ROLE`]'s. botwatch does not know the names of a
/// server's roles, so the page shows other roles by id.
pub fn role_names() -> BTreeMap<String, String> {
    BTreeMap::from([(LOCAL_ROLE.0.to_owned(), LOCAL_ROLE.1.to_owned())])
}
