//! Discord's rate-limit buckets, as its answers announce them: every answer says how many
//! requests its route has left in the current window (`X-RateLimit-Remaining`) and when the
//! window ends (`X-RateLimit-Reset-After`). A route with none left waits for its window to
//! end instead of drawing a 429.
//!
//! botwatch's own governor budgets cannot do this alone: governor refills a token at a time
//! (five at once, then one a second), while Discord counts in fixed windows (five, then none
//! until the window ends), so the sixth card of a burst would meet a 429. The headers are
//! Discord's own word on its windows, whatever they are for a route.
//!
//! Routes can share a window: Discord names each window in `X-RateLimit-Bucket`, and two
//! routes on the same resource (channel, guild or webhook) whose answers name the same bucket
//! count against one window (a webhook's posts and the edits of its messages, say). Until a
//! route's answer has named its bucket, the route is taken to have a window of its own.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use reqwest::header::HeaderMap;
use serenity::http::{RatelimitingBucket, Route};
use tokio::time::Instant;

/// The longest wait a bucket imposes, whatever the headers say (Discord's windows last
/// seconds; a broken proxy must not stall delivery for hours).
const MAX_WAIT: Duration = Duration::from_secs(60);

/// A request's route, as far as rate limits go: serenity's bucket (the route and its resource)
/// and the resource's id, which Discord's named buckets are shared within.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RouteKey {
    bucket: RatelimitingBucket,
    resource: Option<u64>,
}

impl RouteKey {
    /// The key of `route`.
    pub fn of(route: Route<'_>) -> RouteKey {
        RouteKey {
            bucket: route.ratelimiting_bucket(),
            resource: resource(&route.path()),
        }
    }
}

/// The id of the channel, guild or webhook a path is on: Discord's "major parameter".
fn resource(path: &str) -> Option<u64> {
    let mut segments = path.split('/');
    segments.find(|s| matches!(*s, "channels" | "guilds" | "webhooks"))?;
    segments.next()?.parse().ok()
}

/// One rate-limit window.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Window {
    /// A bucket Discord named, on one resource.
    Named {
        bucket: String,
        resource: Option<u64>,
    },
    /// A route whose bucket Discord has not named yet.
    Route(RouteKey),
}

/// The windows known to be spent, and when each ends.
#[derive(Debug, Default)]
pub struct Buckets {
    known: Mutex<Known>,
}

#[derive(Debug, Default)]
struct Known {
    /// The bucket Discord named for each route it answered on.
    names: HashMap<RatelimitingBucket, String>,
    spent_until: HashMap<Window, Instant>,
}

impl Known {
    fn window(&self, route: RouteKey) -> Window {
        match self.names.get(&route.bucket) {
            Some(bucket) => Window::Named {
                bucket: bucket.clone(),
                resource: route.resource,
            },
            None => Window::Route(route),
        }
    }
}

impl Buckets {
    /// Waits until `route`'s window ends, if the last answer on it said it was spent.
    pub async fn wait(&self, route: RouteKey) {
        let until = {
            let known = self.lock();
            known.spent_until.get(&known.window(route)).copied()
        };
        if let Some(until) = until {
            tokio::time::sleep_until(until).await;
        }
    }

    /// Reads the rate-limit headers of an answer on `route`.
    pub fn observe(&self, route: RouteKey, headers: &HeaderMap) {
        if route.bucket.is_none() {
            return;
        }
        let mut known = self.lock();
        if let Some(name) = header(headers, "x-ratelimit-bucket") {
            known.names.insert(route.bucket, name.to_owned());
        }
        let window = known.window(route);
        known.spent_until.retain(|_, until| *until > Instant::now());
        match spent_for(headers) {
            Some(wait) => {
                known.spent_until.insert(window, Instant::now() + wait);
            }
            None => {
                known.spent_until.remove(&window);
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Known> {
        self.known.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// How long until the window ends, when the headers say no request is left in it.
fn spent_for(headers: &HeaderMap) -> Option<Duration> {
    let number = |name: &str| {
        header(headers, name)
            .and_then(|v| v.parse::<f64>().ok())
            .filter(|n| n.is_finite() && *n >= 0.0)
    };
    let remaining = number("x-ratelimit-remaining")?;
    let reset_after = number("x-ratelimit-reset-after")?;
    // Capped before it becomes a Duration: a huge value from a proxy must not panic.
    (remaining < 1.0).then(|| Duration::from_secs_f64(reset_after.min(MAX_WAIT.as_secs_f64())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serenity::model::id::{ChannelId, MessageId, WebhookId};

    fn headers(remaining: &str, reset_after: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-ratelimit-remaining", remaining.parse().unwrap());
        headers.insert("x-ratelimit-reset-after", reset_after.parse().unwrap());
        headers
    }

    fn channel(id: u64) -> RouteKey {
        RouteKey::of(Route::ChannelMessages {
            channel_id: ChannelId::new(id),
        })
    }

    fn webhook_post(id: u64) -> RouteKey {
        RouteKey::of(Route::WebhookWithToken {
            webhook_id: WebhookId::new(id),
            token: "secret-token",
        })
    }

    fn webhook_edit(id: u64) -> RouteKey {
        RouteKey::of(Route::WebhookMessage {
            webhook_id: WebhookId::new(id),
            token: "secret-token",
            message_id: MessageId::new(99),
        })
    }

    fn named(mut headers: HeaderMap, bucket: &str) -> HeaderMap {
        headers.insert("x-ratelimit-bucket", bucket.parse().unwrap());
        headers
    }

    #[test]
    fn a_spent_window_is_read_from_the_headers_and_capped() {
        assert_eq!(spent_for(&headers("1", "2.5")), None);
        assert_eq!(
            spent_for(&headers("0", "2.5")),
            Some(Duration::from_millis(2500))
        );
        assert_eq!(spent_for(&headers("0", "86400")), Some(MAX_WAIT));
        assert_eq!(spent_for(&headers("0", "1e300")), Some(MAX_WAIT));
        assert_eq!(spent_for(&headers("0", "soon")), None);
        assert_eq!(spent_for(&HeaderMap::new()), None);
    }

    #[tokio::test(start_paused = true)]
    async fn a_spent_bucket_waits_for_its_window_and_others_do_not() {
        let buckets = Buckets::default();
        buckets.observe(channel(1), &headers("0", "3"));
        let started = Instant::now();
        buckets.wait(channel(2)).await;
        assert_eq!(started.elapsed(), Duration::ZERO, "another channel");
        buckets.wait(channel(1)).await;
        assert_eq!(started.elapsed(), Duration::from_secs(3));
        buckets.observe(channel(1), &headers("4", "5"));
        let again = Instant::now();
        buckets.wait(channel(1)).await;
        assert_eq!(again.elapsed(), Duration::ZERO, "a fresh window");
    }

    #[tokio::test(start_paused = true)]
    async fn routes_whose_answers_name_the_same_bucket_share_its_window_per_resource() {
        let buckets = Buckets::default();
        // Until Discord names the edit route's bucket, it is a window of its own.
        buckets.observe(webhook_post(1), &named(headers("0", "2"), "hook"));
        let started = Instant::now();
        buckets.wait(webhook_edit(1)).await;
        assert_eq!(started.elapsed(), Duration::ZERO);
        // Named alike: the post spending the window holds back the edit, on that webhook only.
        buckets.observe(webhook_edit(1), &named(headers("3", "2"), "hook"));
        buckets.observe(webhook_post(1), &named(headers("0", "2"), "hook"));
        buckets.observe(webhook_post(2), &named(headers("4", "2"), "hook"));
        let started = Instant::now();
        buckets.wait(webhook_edit(2)).await;
        assert_eq!(started.elapsed(), Duration::ZERO, "another webhook");
        buckets.wait(webhook_edit(1)).await;
        assert_eq!(
            started.elapsed(),
            Duration::from_secs(2),
            "the shared window"
        );
    }

    #[test]
    fn the_resource_of_a_route_is_its_channel_guild_or_webhook() {
        assert_eq!(
            resource("https://discord.com/api/v10/channels/111/messages"),
            Some(111)
        );
        assert_eq!(resource("webhooks/7/token/messages/9"), Some(7));
        assert_eq!(resource("/gateway/bot"), None);
        assert_eq!(webhook_edit(5).resource, Some(5));
    }
}
