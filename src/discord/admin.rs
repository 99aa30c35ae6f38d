//! The admin destination: where botwatch tells operators about its own problems (a rules file
//! that failed to reload), as opposed to alerts about the bots.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use super::destination::Destination;
use super::rest::DiscordRest;
use crate::notify::message::{ChatMessage, Embed};
use crate::reload::ReloadReport;

/// Posts operational problems to one destination.
pub struct AdminChannel {
    rest: Arc<DiscordRest>,
    destination: Destination,
}

impl AdminChannel {
    /// Posts to `destination` through `rest`.
    pub fn new(rest: Arc<DiscordRest>, destination: Destination) -> Self {
        AdminChannel { rest, destination }
    }

    async fn post(&self, message: ChatMessage) {
        let result = match &self.destination {
            Destination::Channel(channel) => {
                self.rest.create_message(*channel, &message).await.map(drop)
            }
            Destination::Webhook(hook) => self
                .rest
                .execute_webhook(hook, &message.for_edit())
                .await
                .map(drop),
        };
        if let Err(error) = result {
            tracing::warn!(%error, "could not tell the admin destination");
        }
    }
}

impl ReloadReport for AdminChannel {
    fn report<'a>(&'a self, errors: &'a str) -> Pin<Box<dyn Future<Output = ()> + Send + 'a>> {
        let message = ChatMessage::new()
            .content("⚠️ The rules file was not reloaded; the previous rules stay in force.")
            .embed(
                Embed::default()
                    .title("Errors")
                    .description(&format!("```\n{errors}\n```"))
                    .color(0xE0_3E_3E),
            );
        Box::pin(self.post(message))
    }
}
