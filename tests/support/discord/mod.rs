//! A fake Discord REST API for the integration tests.
//!
//! [`FakeDiscord::start`] runs a real axum HTTP server on 127.0.0.1 (on its own thread and tokio
//! runtime, so it keeps answering while a test blocks, e.g. waiting for the real binary). Point
//! serenity at it with `HttpBuilder::new(token).proxy(fake.base_url())`: serenity then sends its
//! requests to `{base_url}/api/v10/...`.
//!
//! The fake
//! - records every request (method, path, query, JSON body, status, `Authorization`),
//! - validates every request body against Discord's official OpenAPI description
//!   (`../shared/discord/openapi.json` when present, or the file named by
//!   `BOTWATCH_DISCORD_OPENAPI`, which must then exist; see [`openapi_source`]) and always
//!   against the limits the schema does not express for bots (2000 characters of content, 6000
//!   characters across the embeds of a message, ...); a body that fails is answered 400 like
//!   Discord would (`{"message": "Invalid Form Body", "code": 50035, "errors": {...}}`) and listed
//!   in [`FakeDiscord::violations`],
//! - keeps the messages it created, with edits applied, per channel (webhook messages under
//!   `webhook:{webhook_id}`), honouring `nonce` + `enforce_nonce` like Discord,
//! - keeps the "original" response of each interaction token and the callbacks it received,
//! - can fail the next requests on demand ([`FakeDiscord::fail_next`]): rate limits, server
//!   errors, any status, slow answers, and connections closed without an answer.
//!
//! This file is the public face (the handle, what it records, the failures it can inject);
//! the parts behind it:
//! - `server`: the thread, runtime and request handler, with failure injection,
//! - `connection`: a listener whose connections a handler can close without answering,
//! - `routes`: which Discord route a request is, and what each route does to the state,
//! - `state`: the requests, messages, interactions and scripted failures kept,
//! - `render`: the Message and command objects Discord would answer with,
//! - `reply`: answers, including Discord's "Invalid Form Body" error shape,
//! - `validate`: which checks each route's body gets; `schema` (the OpenAPI validators) and
//!   `limits` (what the schema does not say) do the checking,
//! - `timestamp`: Discord-style timestamps,
//! - `gateway_lookup`: `GET /gateway/bot`, answered with the URL a test gives
//!   ([`FakeDiscord::serve_gateway_at`]); `gateway`: a fake gateway (websocket) to give.

mod connection;
pub mod gateway;
mod gateway_lookup;
mod limits;
pub mod probe;
pub mod ratelimit;
mod render;
mod reply;
mod routes;
mod schema;
mod server;
mod state;
mod timestamp;
mod validate;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

use self::gateway_lookup::GatewayLookups;
pub use self::ratelimit::RateLimits;
use self::state::Shared;

/// The prefix serenity puts before every route.
pub const API_PREFIX: &str = "/api/v10";
/// Environment variable naming the OpenAPI file to use instead of the default path.
pub const OPENAPI_ENV: &str = "BOTWATCH_DISCORD_OPENAPI";
/// The id of the user the fake answers as (the bot).
pub const BOT_USER_ID: &str = "1000000000000000001";
/// The first id the fake hands out; each new object gets the next number.
pub const FIRST_ID: u64 = 1_100_000_000_000_000_000;

/// One request the fake received.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The HTTP method, e.g. `POST`.
    pub method: String,
    /// The full path, with the `/api/v10` prefix.
    pub path: String,
    /// The query string without the `?`, if there was one.
    pub query: Option<String>,
    /// The JSON body; `Null` if empty; a `String` with the raw text if it was not JSON.
    pub body: Value,
    /// The status answered; 0 for a connection closed without an answer
    /// ([`Failure::DropConnection`]) or a request still being answered.
    pub status: u16,
    /// The `Authorization` header, if sent (serenity sends `Bot {token}`).
    pub authorization: Option<String>,
    /// Whether the fake finished answering it. A client that hung up (or died) while a
    /// [`Failure::LateAnswer`] slept leaves it `false`.
    pub answered: bool,
    /// When it arrived.
    pub at: std::time::Instant,
}

/// A message the fake created, as it is now.
#[derive(Debug, Clone)]
pub struct StoredMessage {
    /// The snowflake the fake gave it.
    pub id: String,
    /// The channel id, or `webhook:{webhook_id}` for webhook executions and interaction
    /// follow-ups, or `interaction:{token}` for the original response of an interaction.
    pub channel: String,
    /// The request fields merged: the creation body with every edit's fields applied on top.
    pub body: Value,
    /// How many edits were applied.
    pub edits: usize,
}

/// A failure [`FakeDiscord::fail_next`] injects before a request is processed.
#[derive(Debug, Clone)]
pub enum Failure {
    /// 429 with Discord's rate-limit body and/or headers.
    RateLimited {
        /// Seconds to wait, as Discord gives them (fractional in the body and
        /// `X-RateLimit-Reset-After`, rounded up in `Retry-After`).
        retry_after: f64,
        /// Whether the limit is global rather than per route.
        global: bool,
        /// Whether the JSON body carries `retry_after` and `global`.
        in_body: bool,
        /// Whether the `Retry-After` and `X-RateLimit-*` headers are sent.
        in_header: bool,
    },
    /// That 5xx status with a short JSON body.
    ServerError(u16),
    /// That status with that JSON body, e.g. 403 `{"message":"Missing Permissions","code":50013}`.
    Status(u16, Value),
    /// Sleep, then process the request normally. A client that gives up meanwhile closes the
    /// connection, and the request is never processed.
    Delay(Duration),
    /// Process the request at once, then sleep before answering: a client that gives up
    /// meanwhile never learns that the message was created.
    LateAnswer(Duration),
    /// Close the connection without answering (the client sees a connection error); the request
    /// is recorded with status 0.
    DropConnection,
    /// Process the request (a message is created or edited), then close the connection
    /// instead of answering: the client cannot know whether it took effect.
    ResetAfterProcessing,
}

/// The fake Discord server. Stops when dropped.
pub struct FakeDiscord {
    shared: Arc<Shared>,
    addr: SocketAddr,
    stop: Mutex<Option<tokio::sync::oneshot::Sender<()>>>,
}

impl FakeDiscord {
    /// Binds 127.0.0.1 on a free port and serves on a thread of its own.
    ///
    /// Panics if an OpenAPI description that is required cannot be read (see
    /// [`openapi_source`]).
    pub async fn start() -> FakeDiscord {
        FakeDiscord::start_with(RateLimits::discord()).await
    }

    /// [`FakeDiscord::start`], enforcing `limits` instead of Discord's own.
    pub async fn start_with(limits: RateLimits) -> FakeDiscord {
        // Load the document now, so that a required file that is missing panics in the test
        // (clearly) and an optional one is announced before the first request.
        schema::spec();
        let shared = Arc::new(Shared::default());
        shared.lock().limits = limits;
        let (addr, stop) = server::spawn(Arc::clone(&shared)).await;
        FakeDiscord {
            shared,
            addr,
            stop: Mutex::new(Some(stop)),
        }
    }

    /// How many requests the fake answered 429 because they broke its rate limits (scripted
    /// 429s not counted).
    pub fn rate_limited(&self) -> usize {
        self.shared.lock().buckets.limited
    }

    /// How many answers Discord would count against the invalid-request limit (401, 403 and
    /// 429, scripted ones included); Discord bans an IP past 10,000 in ten minutes.
    pub fn invalid_requests(&self) -> usize {
        self.shared.lock().invalid
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash: serenity's proxy setting.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request, in arrival order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.lock().requests.clone()
    }

    /// The current messages of a channel id (or `webhook:{id}`), in creation order, edits applied.
    pub fn messages(&self, channel: &str) -> Vec<StoredMessage> {
        self.shared
            .lock()
            .messages
            .iter()
            .filter(|m| m.stored.channel == channel)
            .map(|m| m.stored.clone())
            .collect()
    }

    /// A message as Discord's Message object (what an interaction on it carries), by its id.
    pub fn message_object(&self, id: &str) -> Option<Value> {
        let state = self.shared.lock();
        let found = state.messages.iter().find(|m| m.stored.id == id);
        found.map(render::render_message)
    }

    /// Schema errors and limit violations, each as `METHOD PATH: message`.
    pub fn violations(&self) -> Vec<String> {
        self.shared.lock().violations.clone()
    }

    /// Panics listing the violations, if any.
    pub fn assert_no_violations(&self) {
        let violations = self.violations();
        if !violations.is_empty() {
            panic!(
                "the fake Discord received {} request(s) Discord would reject:\n  {}",
                violations.len(),
                violations.join("\n  ")
            );
        }
    }

    /// Makes the next `n` requests fail with `failure` before they are processed: any route
    /// but the gateway lookup, which the gateway retries in the background and which must not
    /// take the failures a test scripted for the requests it is about.
    pub fn fail_next(&self, n: usize, failure: Failure) {
        self.fail_next_where(n, |r| !GatewayLookups::is_lookup(r), failure);
    }

    /// Makes the next `n` requests for which `aim` holds fail with `failure`; other requests
    /// pass untouched (the gateway lookup, say, when a test means a card's post). Failures
    /// queued earlier are taken first.
    pub fn fail_next_where(
        &self,
        n: usize,
        aim: impl Fn(&Recorded) -> bool + Send + Sync + 'static,
        failure: Failure,
    ) {
        let aim: state::Aim = Arc::new(aim);
        let mut state = self.shared.lock();
        for _ in 0..n {
            state.failures.push_back((aim.clone(), failure.clone()));
        }
    }
    /// The current "original" response data of an interaction (from a type 4 callback, or from
    /// the first `PATCH .../messages/@original` after a deferred callback), edits applied.
    pub fn original_response(&self, interaction_token: &str) -> Option<Value> {
        self.shared
            .lock()
            .originals
            .get(interaction_token)
            .map(|m| m.stored.body.clone())
    }

    /// The callback bodies accepted for that interaction token, in order.
    pub fn callbacks(&self, interaction_token: &str) -> Vec<Value> {
        self.shared
            .lock()
            .callbacks
            .get(interaction_token)
            .cloned()
            .unwrap_or_default()
    }
}

impl Drop for FakeDiscord {
    fn drop(&mut self) {
        let stop = self.stop.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(stop) = stop {
            let _ = stop.send(());
        }
    }
}

/// Where Discord's OpenAPI description is read from, and whether it must be there.
pub enum OpenApiSource {
    /// Named by `$BOTWATCH_DISCORD_OPENAPI`: required, a missing file fails the tests.
    Named(std::path::PathBuf),
    /// `../shared/discord/openapi.json` beside the crate: used when present.
    Beside(std::path::PathBuf),
}

impl OpenApiSource {
    /// The file's path.
    pub fn path(&self) -> &std::path::Path {
        match self {
            OpenApiSource::Named(path) | OpenApiSource::Beside(path) => path,
        }
    }

    /// Whether a missing file is an error rather than a reason to check limits only.
    pub fn is_required(&self) -> bool {
        matches!(self, OpenApiSource::Named(_))
    }
}

/// Where the OpenAPI description is read from: `$BOTWATCH_DISCORD_OPENAPI` (required), else
/// `../shared/discord/openapi.json` beside the crate (when present).
pub fn openapi_source() -> OpenApiSource {
    match std::env::var_os(OPENAPI_ENV) {
        Some(p) if !p.is_empty() => OpenApiSource::Named(p.into()),
        _ => OpenApiSource::Beside(
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../shared/discord/openapi.json"
            )
            .into(),
        ),
    }
}

/// Whether bodies are validated against Discord's OpenAPI description in this run (see
/// [`openapi_source`]); tests of the schema check itself have nothing to test without it.
pub fn openapi_available() -> bool {
    schema::spec().is_some()
}
