//! The last stage: Discord. Alert cards in channels and webhooks, and the `/analysis` command.
//!
//! This is the only module that touches serenity. [`sink::DiscordNotifier`] is a
//! [`crate::notify::Notifier`]: it routes each event to a destination, posts or edits the
//! alert's card and replies to it, within governor rate limits, and hands each message to a
//! [`transport::Transport`]: Discord's REST API, or the recorder of [`preview`], which shows
//! those same messages as an HTML page.

pub mod admin;
pub mod analysis;
mod buckets;
pub mod card_buttons;
pub mod config;
pub mod destination;
pub mod gateway;
pub mod interactions;
mod nonce;
mod pause;
pub mod preview;
pub mod rest;
pub mod sink;
pub mod transport;
