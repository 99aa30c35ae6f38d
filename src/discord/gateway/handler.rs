//! What a gateway session does with Discord's events, kept thin: it registers botwatch's
//! commands when Discord says the bot is ready and hands interactions to [`Interactions`],
//! where all the logic (and its tests) is.
//!
//! serenity calls it on the gateway's own thread (see [`super::session`]); the work itself
//! (REST calls, the store, the analytics API) is done on botwatch's runtime, where the
//! clients it uses live.

use std::sync::Arc;

use serenity::all::{Context, EventHandler, Interaction, Ready};
use tokio::runtime::Handle;

use crate::discord::interactions::Interactions;

/// The event handler of a session.
pub(super) struct Handler {
    /// What answers interactions.
    pub(super) interactions: Arc<Interactions>,
    /// botwatch's runtime.
    pub(super) runtime: Handle,
}

#[serenity::async_trait]
impl EventHandler for Handler {
    async fn ready(&self, _: Context, ready: Ready) {
        let interactions = Arc::clone(&self.interactions);
        let registration = self.runtime.spawn(async move {
            match interactions.register(ready.application.id).await {
                Ok(()) => {
                    tracing::info!(user = %ready.user.name, "connected to Discord; commands registered")
                }
                Err(error) => tracing::error!(%error, "could not register botwatch's commands"),
            }
        });
        let _ = registration.await;
    }

    async fn interaction_create(&self, _: Context, interaction: Interaction) {
        let interactions = Arc::clone(&self.interactions);
        let answer = self.runtime.spawn(async move {
            if let Err(error) = interactions.respond(&interaction).await {
                tracing::warn!(%error, "could not answer an interaction");
            }
        });
        let _ = answer.await;
    }
}
