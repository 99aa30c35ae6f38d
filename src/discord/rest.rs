//! Discord's REST API through serenity's routes, with botwatch's own error handling.
//!
//! Requests are built by serenity (`Route`, `Request`: paths, authorization, the proxy base
//! URL) and sent with our reqwest client, so that the raw answer stays visible: serenity's
//! `Http` drops the `retry_after` of a 429 and its headers, which the outbox needs to wait
//! exactly as long as Discord asks. serenity's own rate limiter is therefore not involved:
//! botwatch's governor limits, Discord's rate-limit headers (see `buckets.rs`) and 429
//! handling are the guard.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serenity::http::{LightMethod, Request, Route};
use serenity::model::channel::Message;
use serenity::model::gateway::BotGateway;
use serenity::model::id::{ApplicationId, ChannelId, GuildId, InteractionId, MessageId, WebhookId};

use super::buckets::{Buckets, RouteKey};
use super::config::DiscordConfig;
use super::destination::Webhook;
use crate::notify::message::ChatMessage;
use crate::notify::DeliveryError;

/// How much of an error body is kept for the log.
const ERROR_EXCERPT: usize = 500;

/// A failed Discord request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RestError {
    /// 429: wait `retry_after` before trying again.
    #[error("rate limited by Discord{} for {retry_after:?}", if *.global { " (global)" } else { "" })]
    RateLimited {
        /// How long Discord asked us to wait.
        retry_after: Duration,
        /// Whether the limit is the global one.
        global: bool,
    },
    /// Any other non-2xx answer.
    #[error("Discord answered HTTP {status}: {body}")]
    Status {
        /// The status code.
        status: u16,
        /// Discord's error body (an excerpt).
        body: String,
    },
    /// No answer (connection refused or reset, timeout).
    #[error("could not reach Discord: {0}")]
    Transport(String),
    /// A 2xx answer that is not what the endpoint returns.
    #[error("Discord sent an answer that does not decode: {0}")]
    Decode(String),
}

impl RestError {
    /// Whether the same request may succeed later.
    pub fn is_retryable(&self) -> bool {
        match self {
            RestError::RateLimited { .. } | RestError::Transport(_) => true,
            RestError::Status { status, .. } => *status >= 500,
            RestError::Decode(_) => false,
        }
    }

    /// Whether a message can no longer be edited: gone (404), or not ours any more (403, e.g.
    /// the destination changed from a webhook to a channel).
    pub fn is_uneditable(&self) -> bool {
        matches!(
            self,
            RestError::Status {
                status: 403 | 404,
                ..
            }
        )
    }

    /// Whether the credentials or permissions are wrong (401, 403): an operator can fix that,
    /// so the event waits and is retried slowly rather than parked.
    fn is_fixable_by_operator(&self) -> bool {
        matches!(
            self,
            RestError::Status {
                status: 401 | 403,
                ..
            }
        )
    }
}

/// How long an event waits when botwatch lacks access (fix the token or the permissions).
const ACCESS_RETRY: Duration = Duration::from_secs(300);

impl From<RestError> for DeliveryError {
    fn from(error: RestError) -> Self {
        let after = match &error {
            RestError::RateLimited { retry_after, .. } => Some(*retry_after),
            _ if error.is_fixable_by_operator() => Some(ACCESS_RETRY),
            _ => None,
        };
        if error.is_retryable() || error.is_fixable_by_operator() {
            DeliveryError::Retry {
                reason: error.to_string(),
                after,
            }
        } else {
            DeliveryError::Rejected(error.to_string())
        }
    }
}

/// A Discord REST client.
pub struct DiscordRest {
    http: reqwest::Client,
    authorization: SecretString,
    proxy: Option<String>,
    /// Route windows that Discord's answers said were spent.
    buckets: Buckets,
}

impl std::fmt::Debug for DiscordRest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiscordRest")
            .field("proxy", &self.proxy)
            .finish_non_exhaustive()
    }
}

impl DiscordRest {
    /// A client authenticated with the bot `token` (none for webhook-only setups), talking to
    /// `api_base_url` instead of discord.com when given (a proxy, or a fake in tests).
    pub fn new(
        token: Option<&SecretString>,
        api_base_url: Option<&str>,
        timeout: Duration,
    ) -> Result<Self, RestError> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| RestError::Transport(e.to_string()))?;
        let authorization = token
            .map(|t| format!("Bot {}", t.expose_secret().trim_start_matches("Bot ")))
            .unwrap_or_default();
        Ok(DiscordRest {
            http,
            authorization: SecretString::from(authorization),
            proxy: api_base_url.map(|u| u.trim_end_matches('/').to_owned()),
            buckets: Buckets::default(),
        })
    }

    /// The client of `config`: its token, base URL and request timeout.
    pub fn for_config(config: &DiscordConfig) -> Result<Self, RestError> {
        Self::new(
            config.token.as_ref(),
            config.api_base_url.as_deref(),
            config.limits.timeout,
        )
    }

    /// Sends one request, once its route's window has room; `Ok(None)` for an empty (204)
    /// answer.
    pub(crate) async fn call<T: DeserializeOwned>(
        &self,
        route: Route<'_>,
        method: LightMethod,
        body: Option<&impl Serialize>,
        params: Option<Vec<(&'static str, String)>>,
    ) -> Result<Option<T>, RestError> {
        let body = body
            .map(serde_json::to_vec)
            .transpose()
            .map_err(|e| RestError::Decode(e.to_string()))?;
        let key = RouteKey::of(route);
        self.buckets.wait(key).await;
        let request = Request::new(route, method)
            .body(body)
            .params(params)
            .build(
                &self.http,
                self.authorization.expose_secret(),
                self.proxy.as_deref(),
            )
            .map_err(|e| RestError::Transport(e.to_string()))?;
        let response = request
            .send()
            .await
            .map_err(|e| RestError::Transport(e.without_url().to_string()))?;
        let status = response.status().as_u16();
        self.buckets.observe(key, response.headers());
        if status == 429 {
            return Err(rate_limited(response).await);
        }
        let bytes = response
            .bytes()
            .await
            .map_err(|e| RestError::Transport(e.without_url().to_string()))?;
        if !(200..300).contains(&status) {
            let text = String::from_utf8_lossy(&bytes);
            let body = crate::notify::message::truncate(&text, ERROR_EXCERPT);
            return Err(RestError::Status { status, body });
        }
        if bytes.is_empty() || status == 204 {
            return Ok(None);
        }
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| RestError::Decode(e.to_string()))
    }

    async fn message_call(
        &self,
        route: Route<'_>,
        method: LightMethod,
        message: &ChatMessage,
        params: Option<Vec<(&'static str, String)>>,
    ) -> Result<MessageId, RestError> {
        let answer: Option<Message> = self.call(route, method, Some(message), params).await?;
        answer
            .map(|m| m.id)
            .ok_or_else(|| RestError::Decode("no message in the answer".into()))
    }

    /// Posts a message in a channel; returns its id (the existing one for a repeated nonce).
    pub async fn create_message(
        &self,
        channel: ChannelId,
        message: &ChatMessage,
    ) -> Result<MessageId, RestError> {
        self.message_call(
            Route::ChannelMessages {
                channel_id: channel,
            },
            LightMethod::Post,
            message,
            None,
        )
        .await
    }

    /// Edits a message the bot posted.
    pub async fn edit_message(
        &self,
        channel: ChannelId,
        id: MessageId,
        message: &ChatMessage,
    ) -> Result<(), RestError> {
        let route = Route::ChannelMessage {
            channel_id: channel,
            message_id: id,
        };
        self.message_call(route, LightMethod::Patch, message, None)
            .await
            .map(drop)
    }

    /// Executes a webhook and waits for the created message's id.
    pub async fn execute_webhook(
        &self,
        webhook: &Webhook,
        message: &ChatMessage,
    ) -> Result<MessageId, RestError> {
        let route = Route::WebhookWithToken {
            webhook_id: WebhookId::new(webhook.id),
            token: webhook.token.expose_secret(),
        };
        let params = Some(vec![("wait", "true".to_owned())]);
        self.message_call(route, LightMethod::Post, message, params)
            .await
    }

    /// Edits a message a webhook posted.
    pub async fn edit_webhook_message(
        &self,
        webhook: &Webhook,
        id: MessageId,
        message: &ChatMessage,
    ) -> Result<(), RestError> {
        let route = Route::WebhookMessage {
            webhook_id: WebhookId::new(webhook.id),
            token: webhook.token.expose_secret(),
            message_id: id,
        };
        self.message_call(route, LightMethod::Patch, message, None)
            .await
            .map(drop)
    }
}

impl DiscordRest {
    /// Answers an interaction (within Discord's 3 seconds).
    pub async fn interaction_callback(
        &self,
        id: InteractionId,
        token: &str,
        body: &impl Serialize,
    ) -> Result<(), RestError> {
        let route = Route::InteractionResponse {
            interaction_id: id,
            token,
        };
        self.call::<serde_json::Value>(route, LightMethod::Post, Some(body), None)
            .await
            .map(drop)
    }

    /// Replaces the original answer of an interaction (after a deferral).
    pub async fn edit_original(
        &self,
        application: ApplicationId,
        token: &str,
        body: &impl Serialize,
    ) -> Result<(), RestError> {
        let route = Route::WebhookOriginalInteractionResponse {
            application_id: application,
            token,
        };
        self.call::<serde_json::Value>(route, LightMethod::Patch, Some(body), None)
            .await
            .map(drop)
    }

    /// Asks where the gateway is (`GET /gateway/bot`, at the configured base URL): the
    /// websocket URL to connect to. Authenticated, so a refused token shows here first.
    pub async fn gateway_url(&self) -> Result<String, RestError> {
        let answer: Option<BotGateway> = self
            .call(Route::GatewayBot, LightMethod::Get, None::<&()>, None)
            .await?;
        answer
            .map(|gateway| gateway.url)
            .ok_or_else(|| RestError::Decode("no gateway in the answer".into()))
    }

    /// Creates (or updates) a slash command in a guild, or globally without one.
    pub async fn register_command(
        &self,
        application: ApplicationId,
        guild: Option<GuildId>,
        body: &impl Serialize,
    ) -> Result<(), RestError> {
        let route = match guild {
            Some(guild_id) => Route::GuildCommands {
                application_id: application,
                guild_id,
            },
            None => Route::Commands {
                application_id: application,
            },
        };
        self.call::<serde_json::Value>(route, LightMethod::Post, Some(body), None)
            .await
            .map(drop)
    }
}

/// Reads how long to wait from a 429: the body's `retry_after`, else the `Retry-After` or
/// `X-RateLimit-Reset-After` header, else one second.
async fn rate_limited(response: reqwest::Response) -> RestError {
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let header_wait = header("retry-after")
        .or_else(|| header("x-ratelimit-reset-after"))
        .and_then(|v| v.parse::<f64>().ok());
    let header_global = header("x-ratelimit-global").is_some_and(|v| v == "true");
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    let body_wait = body.get("retry_after").and_then(serde_json::Value::as_f64);
    let seconds = body_wait
        .or(header_wait)
        .filter(|s| s.is_finite() && *s >= 0.0)
        .unwrap_or(1.0);
    RestError::RateLimited {
        // Never more than a minute: a broken header must not park deliveries for hours.
        retry_after: Duration::from_secs_f64(seconds.min(60.0)),
        global: body
            .get("global")
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(header_global),
    }
}
