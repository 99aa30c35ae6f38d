//! The gateway connection, kept thin: it registers `/analysis` when Discord says the bot is
//! ready and hands interactions to [`AnalysisCommand`], where all the logic (and its tests) is.
//!
//! A gateway failure never stops alerting: it is logged, and cards keep flowing over REST.

use std::sync::Arc;

use secrecy::ExposeSecret;
use serenity::all::{Context, EventHandler, GatewayIntents, Interaction, Ready};
use serenity::client::ClientBuilder;
use serenity::http::HttpBuilder;

use super::commands::AnalysisCommand;
use super::config::DiscordConfig;
use crate::shutdown::Shutdown;

struct Handler {
    command: Arc<AnalysisCommand>,
}

#[serenity::async_trait]
impl EventHandler for Handler {
    async fn ready(&self, _: Context, ready: Ready) {
        match self.command.register(ready.application.id).await {
            Ok(()) => {
                tracing::info!(user = %ready.user.name, "connected to Discord; /analysis registered")
            }
            Err(error) => tracing::error!(%error, "could not register /analysis"),
        }
    }

    async fn interaction_create(&self, _: Context, interaction: Interaction) {
        let result = match &interaction {
            Interaction::Command(command) if command.data.name == "analysis" => {
                self.command.handle(command).await
            }
            Interaction::Autocomplete(command) if command.data.name == "analysis" => {
                self.command.autocomplete(command).await
            }
            _ => Ok(()),
        };
        if let Err(error) = result {
            tracing::warn!(%error, "could not answer an interaction");
        }
    }
}

/// Connects to the gateway and serves `/analysis` until `shutdown`. Without a bot token there
/// is nothing to connect, and it returns at once.
pub async fn run(config: &DiscordConfig, command: Arc<AnalysisCommand>, mut shutdown: Shutdown) {
    let Some(token) = &config.token else { return };
    let mut http = HttpBuilder::new(token.expose_secret());
    if let Some(base) = &config.api_base_url {
        // The proxy only takes effect with serenity's limiter off; botwatch's limits remain.
        http = http
            .proxy(base.trim_end_matches('/'))
            .ratelimiter_disabled(true);
    }
    // Interactions need no privileged intents; guild events are not used either.
    let client = ClientBuilder::new_with_http(http.build(), GatewayIntents::empty())
        .event_handler(Handler { command })
        .await;
    let mut client = match client {
        Ok(client) => client,
        Err(error) => {
            return tracing::error!(%error, "cannot start the Discord gateway; /analysis is unavailable")
        }
    };
    let shards = client.shard_manager.clone();
    tokio::select! {
        result = client.start() => {
            if let Err(error) = result {
                tracing::error!(%error, "the Discord gateway stopped; /analysis is unavailable, alerts continue");
            }
        }
        _ = shutdown.wait() => shards.shutdown_all().await,
    }
}
