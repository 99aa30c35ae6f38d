//! Discord's rate-limit buckets, as its answers announce them: every answer says how many
//! requests its route has left in the current window (`X-RateLimit-Remaining`) and when the
//! window ends (`X-RateLimit-Reset-After`). A route with none left waits for its window to
//! end instead of drawing a 429.
//!
//! botwatch's own governor budgets cannot do this alone: governor refills a token at a time
//! (five at once, then one a second), while Discord counts in fixed windows (five, then none
//! until the window ends), so the sixth card of a burst would meet a 429. The headers are
//! Discord's own word on its windows, whatever they are for a route.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use reqwest::header::HeaderMap;
use serenity::http::RatelimitingBucket;
use tokio::time::Instant;

/// The longest wait a bucket imposes, whatever the headers say (Discord's windows last
/// seconds; a broken proxy must not stall delivery for hours).
const MAX_WAIT: Duration = Duration::from_secs(60);

/// The windows known to be spent, per route bucket, and when each ends.
#[derive(Debug, Default)]
pub struct Buckets {
    spent_until: Mutex<HashMap<RatelimitingBucket, Instant>>,
}

impl Buckets {
    /// Waits until `bucket`'s window ends, if the last answer said it was spent.
    pub async fn wait(&self, bucket: RatelimitingBucket) {
        let until = self.lock().get(&bucket).copied();
        if let Some(until) = until {
            tokio::time::sleep_until(until).await;
        }
    }

    /// Reads the rate-limit headers of an answer on `bucket`.
    pub fn observe(&self, bucket: RatelimitingBucket, headers: &HeaderMap) {
        if bucket.is_none() {
            return;
        }
        let mut spent = self.lock();
        spent.retain(|_, until| *until > Instant::now());
        match spent_for(headers) {
            Some(wait) => {
                spent.insert(bucket, Instant::now() + wait);
            }
            None => {
                spent.remove(&bucket);
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<RatelimitingBucket, Instant>> {
        self.spent_until.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// How long until the window ends, when the headers say no request is left in it.
fn spent_for(headers: &HeaderMap) -> Option<Duration> {
    let number = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<f64>().ok())
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
    use serenity::http::Route;
    use serenity::model::id::ChannelId;

    fn headers(remaining: &str, reset_after: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-ratelimit-remaining", remaining.parse().unwrap());
        headers.insert("x-ratelimit-reset-after", reset_after.parse().unwrap());
        headers
    }

    fn channel(id: u64) -> RatelimitingBucket {
        Route::ChannelMessages {
            channel_id: ChannelId::new(id),
        }
        .ratelimiting_bucket()
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
}
