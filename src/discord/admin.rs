//! The admin destination: where botwatch tells operators about its own problems (a rules file
//! that failed to reload), as opposed to alerts about the bots.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use super::destination::Destination;
use super::rest::DiscordRest;
use super::transport::{To, Transport as _};
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
        let to = To {
            name: "admin",
            destination: &self.destination,
        };
        let message = self.destination.adapt(message);
        if let Err(error) = self.rest.post(to, &message).await {
            tracing::warn!(%error, "could not tell the admin destination");
        }
    }
}

impl AdminChannel {
    /// Tells that writing history paused because the disk is full, or resumed.
    pub async fn history_paused(&self, paused: bool) {
        let text = if paused {
            "💾 The disk holding botwatch's state file is full: history is paused. Alerts and their delivery go on; history resumes by itself once there is space."
        } else {
            "💾 There is space on the disk again: history resumed."
        };
        self.post(ChatMessage::new().content(text)).await;
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
