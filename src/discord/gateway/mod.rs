//! The gateway: the websocket over which Discord delivers `/analysis` interactions. It stays
//! where the configuration points, retries with a backoff, and never stops alerting: whatever
//! happens to it is logged, and cards keep flowing over REST.
//!
//! serenity's `Client` is not used for it, for two reasons found in serenity 0.12.5's source:
//! - building a `Client` asks `GET /gateway` for the websocket URL and, when that fails, falls
//!   back to a hard-coded `wss://gateway.discord.gg`, whatever `api_base_url` says;
//! - its `ShardQueuer` retries a shard that cannot connect every 5 s for ever, with two log
//!   lines each time, and restarts a dropped shard the same way.
//!
//! So [`run`] drives one shard with serenity's own parts, in a loop of its own:
//! 1. the lookup is `GET /gateway/bot` through [`DiscordRest`], at the configured base URL and
//!    within the configured timeout; the URL it answers is the only gateway ever connected to
//!    (whatever host that names is the choice of the API at the base URL, e.g. a proxy's) —
//!    there is no fallback;
//! 2. a `session::Session` connects a serenity `Shard` to that URL and runs it with serenity's
//!    `ShardRunner`, on a thread of its own (see there for how serenity's 5 s loop is kept out,
//!    and why the thread);
//! 3. when the lookup, the connection or a running session fails, [`run`] waits out a
//!    [`Backoff`] (1 s doubling to 5 min, jittered) and logs one line per attempt. A session
//!    that stayed up for a minute (`STABLE`) resets the backoff; one that keeps dropping sooner
//!    backs off like any other failure.
//!
//! A token Discord refuses (401 on the lookup, or the gateway's "authentication failed") stops
//! the gateway with an error: no retry can help until the token is fixed and botwatch restarted.

mod handler;
mod session;

use std::sync::Arc;
use std::time::Duration;

use secrecy::ExposeSecret;
use serenity::http::{Http, HttpBuilder};

use self::session::{Ended, GatewayThread, Parts, Session};
use super::config::DiscordConfig;
use super::interactions::Interactions;
use super::rest::{DiscordRest, RestError};
use crate::backoff::Backoff;
use crate::shutdown::Shutdown;

/// The longest wait between two attempts.
const MAX_WAIT: Duration = Duration::from_secs(300);
/// A session up this long was a success: the next failure waits the shortest time again.
const STABLE: Duration = Duration::from_secs(60);

/// Why an attempt to reach the gateway failed.
#[derive(Debug, thiserror::Error)]
enum Failure {
    /// The lookup failed.
    #[error("the gateway lookup failed: {0}")]
    Lookup(RestError),
    /// The lookup answered something that is no websocket URL.
    #[error("the gateway lookup answered `{0}`, which is not a ws:// or wss:// URL")]
    NotAWebsocket(String),
    /// The websocket could not be opened.
    #[error("cannot connect to the gateway at {url}: {reason}")]
    Connect {
        /// Where.
        url: String,
        /// Why.
        reason: String,
    },
    /// A session ended.
    #[error("the gateway connection was lost after {}", readable(*.0))]
    Lost(Duration),
}

/// Connects to the gateway and serves `/analysis` until `shutdown`, reconnecting with a
/// backoff. Without a bot token there is nothing to connect, and it returns at once.
pub async fn run(
    config: &DiscordConfig,
    rest: Arc<DiscordRest>,
    interactions: Arc<Interactions>,
    mut shutdown: Shutdown,
) {
    let Some(token) = &config.token else { return };
    let parts = Parts {
        http: serenity_http(token.expose_secret(), config.api_base_url.as_deref()),
        token: token.clone(),
        interactions,
        connect_timeout: config.limits.timeout,
        botwatch: tokio::runtime::Handle::current(),
    };
    let thread = match GatewayThread::start() {
        Ok(thread) => thread,
        Err(error) => {
            return tracing::error!(%error, "cannot start the Discord gateway's thread; /analysis is off, alerts continue")
        }
    };
    let mut backoff = Backoff::new(MAX_WAIT);
    loop {
        let attempt = tokio::select! {
            attempt = connect(&rest, &parts, &thread) => attempt,
            _ = shutdown.wait() => return,
        };
        let failure = match attempt {
            Ok(session) => match session.run(&thread, &mut shutdown).await {
                Ended::Shutdown => return,
                Ended::Refused(error) => {
                    return tracing::error!(%error, "Discord refused the bot on the gateway; /analysis is off until botwatch restarts, alerts continue")
                }
                Ended::Lost { lasted } => {
                    if lasted >= STABLE {
                        backoff.reset();
                    }
                    Failure::Lost(lasted)
                }
            },
            Err(Failure::Lookup(error)) if is_refused(&error) => {
                return tracing::error!(%error, "Discord refused the bot token; the gateway and /analysis are off until botwatch restarts, alerts continue")
            }
            Err(failure) => failure,
        };
        if !wait_to_retry(&mut backoff, &failure, &mut shutdown).await {
            return;
        }
    }
}

/// Logs the failure (one line per attempt) and waits out the backoff; `false` on shutdown.
async fn wait_to_retry(backoff: &mut Backoff, failure: &Failure, shutdown: &mut Shutdown) -> bool {
    let wait = backoff.failed();
    tracing::warn!(
        error = %failure,
        attempt = backoff.failures(),
        retry_in = %readable(wait),
        "the Discord gateway is unavailable; /analysis waits, alerts continue"
    );
    tokio::select! {
        _ = tokio::time::sleep(wait) => true,
        _ = shutdown.wait() => false,
    }
}

/// One attempt: where is the gateway, and a connection to it.
async fn connect(
    rest: &DiscordRest,
    parts: &Parts,
    thread: &GatewayThread,
) -> Result<Session, Failure> {
    let url = rest.gateway_url().await.map_err(Failure::Lookup)?;
    if !is_websocket(&url) {
        return Err(Failure::NotAWebsocket(url));
    }
    // Debug only: a failure names the URL in its own line, a success says it is connected.
    tracing::debug!(%url, "connecting to the Discord gateway");
    Session::connect(&url, parts, thread)
        .await
        .map_err(|reason| Failure::Connect { url, reason })
}

/// `duration` to the millisecond, as people write it (`1s 250ms`).
fn readable(duration: Duration) -> humantime::FormattedDuration {
    let millis = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
    humantime::format_duration(Duration::from_millis(millis))
}

/// Whether `url` is a websocket URL with a host.
fn is_websocket(url: &str) -> bool {
    url::Url::parse(url)
        .is_ok_and(|url| matches!(url.scheme(), "ws" | "wss") && url.host_str().is_some())
}

/// Whether Discord refused the credentials themselves (not a permission, not an outage).
fn is_refused(error: &RestError) -> bool {
    matches!(error, RestError::Status { status: 401, .. })
}

/// serenity's HTTP client, pointed where botwatch's REST client points.
fn serenity_http(token: &str, api_base_url: Option<&str>) -> Arc<Http> {
    let mut http = HttpBuilder::new(token);
    if let Some(base) = api_base_url {
        // The proxy only takes effect with serenity's limiter off; botwatch's limits remain.
        http = http
            .proxy(base.trim_end_matches('/'))
            .ratelimiter_disabled(true);
    }
    Arc::new(http.build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_websocket_urls_with_a_host_are_connected_to() {
        for url in [
            "wss://gateway.discord.gg",
            "ws://127.0.0.1:4000",
            "ws://[::1]:4000/",
        ] {
            assert!(is_websocket(url), "{url}");
        }
        for url in [
            "https://gateway.discord.gg",
            "gateway.discord.gg",
            "ws://",
            "",
        ] {
            assert!(!is_websocket(url), "{url}");
        }
    }
}
