//! Discord's rate limits, as the fake enforces them by itself: a test that sends too fast gets
//! 429s as it would from Discord, so "no 429" in a test means something.
//!
//! Discord limits per route and per top-level resource (the channel, the webhook): a fixed
//! window of `limit` requests, announced on every answer in `X-RateLimit-Limit`, `-Remaining`,
//! `-Reset`, `-Reset-After` and `-Bucket`; past it, a 429 with `retry_after` in the body and
//! the headers, until the window ends. A global limit counts every request of the bot per
//! second (interaction callbacks are exempt). Discord also counts invalid requests (401, 403
//! and 429 answers) and bans an IP past 10,000 in ten minutes; the fake counts them for the
//! tests to assert on.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::json;

use super::reply::Reply;
use super::routes::Route;

/// One kind of bucket: how many requests a window allows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    /// Requests allowed in one window.
    pub limit: u32,
    /// How long a window lasts, from its first request.
    pub length: Duration,
}

impl Window {
    /// `limit` requests per `length`.
    pub const fn new(limit: u32, length: Duration) -> Window {
        Window { limit, length }
    }
}

/// The limits the fake enforces; [`RateLimits::discord`] by default.
#[derive(Debug, Clone, PartialEq)]
pub struct RateLimits {
    /// Messages posted in one channel.
    pub channel_messages: Window,
    /// Messages edited in one channel.
    pub channel_edits: Window,
    /// Executions of one webhook (and edits of its messages).
    pub webhook: Window,
    /// Every request of the bot (interaction callbacks excepted), per second.
    pub global_per_second: u32,
}

impl RateLimits {
    /// The limits Discord announces for a bot: 5 messages per 5 s per channel, 5 edits per 5 s
    /// per channel, 5 executions per 2 s per webhook, 50 requests per second in all.
    pub const fn discord() -> RateLimits {
        RateLimits {
            channel_messages: Window::new(5, Duration::from_secs(5)),
            channel_edits: Window::new(5, Duration::from_secs(5)),
            webhook: Window::new(5, Duration::from_secs(2)),
            global_per_second: 50,
        }
    }

    /// Every per-route window widened to `limit` per 5 s: for tests that configure botwatch
    /// with a larger budget than Discord's, to see many cards of their own.
    pub const fn per_route(limit: u32) -> RateLimits {
        let window = Window::new(limit, Duration::from_secs(5));
        RateLimits {
            channel_messages: window,
            channel_edits: window,
            webhook: window,
            global_per_second: 50,
        }
    }

    /// The bucket of a route: its name (Discord's `X-RateLimit-Bucket` is an opaque hash; the
    /// fake's is readable) and window. `None` for routes without one here.
    fn bucket(&self, route: &Route) -> Option<(String, Window)> {
        match route {
            Route::CreateMessage { channel } => {
                Some((format!("messages:{channel}"), self.channel_messages))
            }
            Route::EditMessage { channel, .. } => {
                Some((format!("edits:{channel}"), self.channel_edits))
            }
            Route::ExecuteWebhook { webhook, .. } | Route::EditWebhookMessage { webhook, .. } => {
                Some((format!("webhook:{webhook}"), self.webhook))
            }
            _ => None,
        }
    }
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits::discord()
    }
}

/// A window in progress.
#[derive(Debug, Clone, Copy)]
struct Count {
    used: u32,
    ends: Instant,
}

impl Count {
    /// The count at `now`: this window's, or a fresh one if it ended.
    fn at(self, now: Instant, window: Window) -> Count {
        if now >= self.ends {
            Count {
                used: 0,
                ends: now + window.length,
            }
        } else {
            self
        }
    }
}

/// The windows in progress, and what they refused.
#[derive(Debug, Default)]
pub(super) struct Buckets {
    counts: HashMap<String, Count>,
    global: Option<Count>,
    /// 429s the fake answered by itself.
    pub(super) limited: usize,
}

/// Whether a request may be processed.
pub(super) enum Admission {
    /// Yes; these headers go on its answer.
    Admitted(Vec<(&'static str, String)>),
    /// No: this 429 is the answer.
    Limited(Reply),
}

impl Buckets {
    /// Counts a request to `route` at `now` against its bucket and the global limit.
    pub(super) fn admit(&mut self, limits: &RateLimits, route: &Route, now: Instant) -> Admission {
        let exempt = matches!(route, Route::InteractionCallback { .. });
        if !exempt {
            let global = Window::new(limits.global_per_second, Duration::from_secs(1));
            let count = self
                .global
                .unwrap_or(Count { used: 0, ends: now })
                .at(now, global);
            if count.used >= global.limit {
                self.limited += 1;
                return Admission::Limited(limited(None, count.ends - now, global));
            }
            self.global = Some(Count {
                used: count.used + 1,
                ..count
            });
        }
        let Some((name, window)) = limits.bucket(route) else {
            return Admission::Admitted(Vec::new());
        };
        let count = self
            .counts
            .get(&name)
            .copied()
            .unwrap_or(Count { used: 0, ends: now })
            .at(now, window);
        let reset_after = count.ends - now;
        if count.used >= window.limit {
            self.limited += 1;
            return Admission::Limited(limited(Some(&name), reset_after, window));
        }
        self.counts.insert(
            name.clone(),
            Count {
                used: count.used + 1,
                ..count
            },
        );
        let remaining = window.limit - count.used - 1;
        Admission::Admitted(headers(&name, window, remaining, reset_after))
    }
}

/// Discord's rate-limit headers for a bucket.
fn headers(
    bucket: &str,
    window: Window,
    remaining: u32,
    reset_after: Duration,
) -> Vec<(&'static str, String)> {
    let reset = SystemTime::now() + reset_after;
    let reset = reset.duration_since(UNIX_EPOCH).unwrap_or_default();
    vec![
        ("x-ratelimit-limit", window.limit.to_string()),
        ("x-ratelimit-remaining", remaining.to_string()),
        ("x-ratelimit-reset", format!("{:.3}", reset.as_secs_f64())),
        (
            "x-ratelimit-reset-after",
            format!("{:.3}", reset_after.as_secs_f64()),
        ),
        ("x-ratelimit-bucket", bucket.to_owned()),
    ]
}

/// A 429 as Discord sends it for a route's bucket, or for the global limit (`bucket: None`).
fn limited(bucket: Option<&str>, retry_after: Duration, window: Window) -> Reply {
    let global = bucket.is_none();
    let seconds = retry_after.as_secs_f64().max(0.001);
    let mut reply = Reply::json(
        429,
        json!({
            "message": "You are being rate limited.",
            "retry_after": (seconds * 1000.0).ceil() / 1000.0,
            "global": global,
            "code": 0,
        }),
    );
    reply.headers = headers(bucket.unwrap_or("global"), window, 0, retry_after);
    reply
        .headers
        .push(("retry-after", format!("{}", seconds.ceil() as u64)));
    reply.headers.push((
        "x-ratelimit-scope",
        if global { "global" } else { "user" }.into(),
    ));
    if global {
        reply.headers.push(("x-ratelimit-global", "true".into()));
    }
    reply
}
