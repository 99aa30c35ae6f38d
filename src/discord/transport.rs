//! The last step of delivering an alert: posting a message to a destination, or editing one.
//!
//! The notifier ([`super::sink`]) decides what to send (routing, budgets, digests, cards and
//! replies) and hands each message to a [`Transport`]. [`DiscordRest`] is the transport that
//! talks to Discord; the preview's recorder ([`super::preview::Recorder`]) is another one, so
//! that `--preview` shows exactly the messages the notifier sends, made by the same code.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serenity::model::id::MessageId;

use super::destination::Destination;
use super::rest::{DiscordRest, RestError};
use crate::notify::message::ChatMessage;

/// A boxed future, so that transports can be trait objects.
pub type Sending<'a, T> = Pin<Box<dyn Future<Output = Result<T, RestError>> + Send + 'a>>;

/// Where a message goes: the destination's name in the config, and the destination itself.
#[derive(Debug, Clone, Copy)]
pub struct To<'a> {
    /// The name (`ops`), for recordings and logs.
    pub name: &'a str,
    /// The channel or webhook.
    pub destination: &'a Destination,
}

/// Sends messages the notifier made, as they are.
pub trait Transport: Send + Sync + 'static {
    /// Posts `message`; returns its id (for a repeated nonce, the id of the existing message).
    fn post<'a>(&'a self, to: To<'a>, message: &'a ChatMessage) -> Sending<'a, MessageId>;

    /// Replaces the parts of message `id` that `message` sets.
    fn edit<'a>(&'a self, to: To<'a>, id: MessageId, message: &'a ChatMessage) -> Sending<'a, ()>;
}

impl Transport for DiscordRest {
    fn post<'a>(&'a self, to: To<'a>, message: &'a ChatMessage) -> Sending<'a, MessageId> {
        Box::pin(async move {
            match to.destination {
                Destination::Channel(channel) => self.create_message(*channel, message).await,
                Destination::Webhook(hook) => self.execute_webhook(hook, message).await,
            }
        })
    }

    fn edit<'a>(&'a self, to: To<'a>, id: MessageId, message: &'a ChatMessage) -> Sending<'a, ()> {
        Box::pin(async move {
            match to.destination {
                Destination::Channel(channel) => self.edit_message(*channel, id, message).await,
                Destination::Webhook(hook) => self.edit_webhook_message(hook, id, message).await,
            }
        })
    }
}

/// A shared transport is a transport (the preview keeps a handle on its recorder).
impl<T: Transport> Transport for Arc<T> {
    fn post<'a>(&'a self, to: To<'a>, message: &'a ChatMessage) -> Sending<'a, MessageId> {
        self.as_ref().post(to, message)
    }

    fn edit<'a>(&'a self, to: To<'a>, id: MessageId, message: &'a ChatMessage) -> Sending<'a, ()> {
        self.as_ref().edit(to, id, message)
    }
}
