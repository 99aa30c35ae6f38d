//! The `analytics:` section: where the platform's API is and how hard botwatch may poll it.
//!
//! It is read into [`RawAnalytics`], whose bounded values keep their place in the file, and
//! checked into an [`AnalyticsConfig`]: a value out of range is reported at its own
//! `FILE:LINE:COL`, like a rule's mistake.

use std::num::NonZeroU32;
use std::ops::RangeInclusive;
use std::time::Duration;

use serde::Deserialize;
use serde_saphyr::Spanned;
use url::Url;

use crate::rules::{position_of, Position};

/// The `analytics:` section, checked.
#[derive(Debug, Clone)]
pub struct AnalyticsConfig {
    /// Base URL of the platform API.
    pub base_url: Url,
    /// Time allowed for one request.
    pub timeout: Duration,
    /// Time between two polls of one bot.
    pub poll_interval: Duration,
    /// Upstream request budget, shared by all bots.
    pub requests_per_second: NonZeroU32,
    /// Largest response accepted.
    pub max_body_bytes: usize,
}

const TIMEOUT: RangeInclusive<Duration> = Duration::from_millis(1)..=Duration::from_secs(3600);
const POLL_INTERVAL: RangeInclusive<Duration> =
    Duration::from_secs(1)..=Duration::from_secs(86_400);
/// A real answer is about 1 KiB; 64 MiB is far past anything the API sends.
const MAX_BODY_BYTES: RangeInclusive<usize> = 1024..=64 * 1024 * 1024;

/// The section as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAnalytics {
    base_url: Spanned<Url>,
    timeout: Option<Spanned<HumanDuration>>,
    poll_interval: Option<Spanned<HumanDuration>>,
    requests_per_second: Option<NonZeroU32>,
    max_body_bytes: Option<Spanned<usize>>,
}

#[derive(Deserialize)]
struct HumanDuration(#[serde(with = "humantime_serde")] Duration);

/// A value out of range: where, and what is wrong.
pub(super) type OutOfRange = (Position, String);

impl RawAnalytics {
    /// Checks every value against its bounds, filling in the defaults.
    pub(super) fn check(self) -> Result<AnalyticsConfig, OutOfRange> {
        let scheme = self.base_url.value.scheme();
        if !matches!(scheme, "http" | "https") {
            let at = position_of(&self.base_url.referenced);
            return Err((
                at,
                format!("analytics.base_url must be http or https, not `{scheme}`"),
            ));
        }
        let seconds = |s| Duration::from_secs(s);
        let timeout = duration_in("timeout", self.timeout, seconds(10), TIMEOUT)?;
        let poll_interval = duration_in(
            "poll_interval",
            self.poll_interval,
            seconds(60),
            POLL_INTERVAL,
        )?;
        let max_body_bytes = match self.max_body_bytes {
            None => 1024 * 1024,
            Some(size) if MAX_BODY_BYTES.contains(&size.value) => size.value,
            Some(size) => {
                let message = format!(
                    "analytics.max_body_bytes must be between {} and {}, not {}",
                    MAX_BODY_BYTES.start(),
                    MAX_BODY_BYTES.end(),
                    size.value
                );
                return Err((position_of(&size.referenced), message));
            }
        };
        Ok(AnalyticsConfig {
            base_url: self.base_url.value,
            timeout,
            poll_interval,
            requests_per_second: self
                .requests_per_second
                .unwrap_or(NonZeroU32::new(5).unwrap_or(NonZeroU32::MIN)),
            max_body_bytes,
        })
    }
}

/// The duration given for `analytics.NAME`, or `default`; an error where it is out of `range`.
fn duration_in(
    name: &str,
    given: Option<Spanned<HumanDuration>>,
    default: Duration,
    range: RangeInclusive<Duration>,
) -> Result<Duration, OutOfRange> {
    let Some(given) = given else {
        return Ok(default);
    };
    if range.contains(&given.value.0) {
        return Ok(given.value.0);
    }
    let show = |d: &Duration| humantime::format_duration(*d).to_string();
    let message = format!(
        "analytics.{name} must be between {} and {}, not {}",
        show(range.start()),
        show(range.end()),
        show(&given.value.0)
    );
    Err((position_of(&given.referenced), message))
}
