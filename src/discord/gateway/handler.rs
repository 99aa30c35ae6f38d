//! What a gateway session does with Discord's events, kept thin: it registers `/analysis` when
//! Discord says the bot is ready and hands interactions to [`AnalysisCommand`], where all the
//! logic (and its tests) is.
//!
//! serenity calls it on the gateway's own thread (see [`super::session`]); the work itself
//! (REST calls, the store, the analytics API) is done on botwatch's runtime, where the
//! clients it uses live.

use std::sync::Arc;

use serenity::all::{Context, EventHandler, Interaction, Ready};
use tokio::runtime::Handle;

use crate::discord::commands::AnalysisCommand;

/// The event handler of a session.
pub(super) struct Handler {
    /// What answers `/analysis`.
    pub(super) command: Arc<AnalysisCommand>,
    /// botwatch's runtime.
    pub(super) runtime: Handle,
}

#[serenity::async_trait]
impl EventHandler for Handler {
    async fn ready(&self, _: Context, ready: Ready) {
        let command = Arc::clone(&self.command);
        let registration = self.runtime.spawn(async move {
            match command.register(ready.application.id).await {
                Ok(()) => {
                    tracing::info!(user = %ready.user.name, "connected to Discord; /analysis registered")
                }
                Err(error) => tracing::error!(%error, "could not register /analysis"),
            }
        });
        let _ = registration.await;
    }

    async fn interaction_create(&self, _: Context, interaction: Interaction) {
        let command = Arc::clone(&self.command);
        let answer = self.runtime.spawn(async move {
            let result = match &interaction {
                Interaction::Command(asked) if asked.data.name == "analysis" => {
                    command.handle(asked).await
                }
                Interaction::Autocomplete(asked) if asked.data.name == "analysis" => {
                    command.autocomplete(asked).await
                }
                _ => Ok(()),
            };
            if let Err(error) = result {
                tracing::warn!(%error, "could not answer an interaction");
            }
        });
        let _ = answer.await;
    }
}
