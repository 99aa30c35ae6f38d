//! Why a poll of the analytics API failed, classified so that logs, `api` rule variables and
//! (later) metrics can tell a timeout from a revoked token from a broken response.

use std::time::Duration;

/// A failed poll. A failure is never turned into a snapshot: the rule engine sees it as such.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PollError {
    /// No complete answer within the configured timeout.
    #[error("the analytics API did not answer within {}; raise analytics.timeout if it is just slow", humantime::format_duration(*.0))]
    Timeout(Duration),
    /// The API could not be reached at all.
    #[error(
        "could not connect to the analytics API: {0}; check analytics.base_url and the network"
    )]
    Connect(String),
    /// A non-2xx HTTP status.
    #[error("the analytics API answered HTTP {status}{}: {excerpt}", status_hint(*.status))]
    Status {
        /// The HTTP status code.
        status: u16,
        /// The start of the response body, for the log.
        excerpt: String,
    },
    /// The body is not the documented JSON (wrong type at `path`, or not JSON at all).
    #[error("the analytics API sent a body that does not decode at {path}: {message}")]
    Decode {
        /// Where in the JSON document decoding failed (`.` for the document itself).
        path: String,
        /// What was wrong there.
        message: String,
    },
    /// HTTP 429: the API asks botwatch to slow down, for `retry_after` when it says so.
    #[error("the analytics API is rate limiting botwatch (HTTP 429{}); lower analytics.requests_per_second or raise analytics.poll_interval", retry_hint(*.retry_after))]
    RateLimited {
        /// How long the API asked to wait (its `Retry-After`, at most an hour), if it said.
        retry_after: Option<Duration>,
    },
    /// A 2xx answer with none of the figures that does not even say `success: true`: no answer
    /// at all, so not a snapshot.
    #[error("the analytics API answered without any figures or `success: true` ({excerpt}); check that analytics.base_url points at the platform itself, not a proxy or a login page")]
    Empty {
        /// The start of the body, for the log.
        excerpt: String,
    },
    /// `success: false` in an otherwise valid response.
    #[error("the analytics API refused the request (success: false): {0}")]
    Rejected(String),
    /// The body grew past the configured cap before it ended.
    #[error("the analytics API sent more than {limit} bytes; the response was discarded")]
    BodyTooLarge {
        /// The cap, in bytes.
        limit: usize,
    },
    /// Any other transport failure (a reset mid-body, a TLS failure…).
    #[error("the request to the analytics API failed: {0}")]
    Transport(String),
}

fn retry_hint(retry_after: Option<Duration>) -> String {
    retry_after
        .map(|d| format!(", retry after {}", humantime::format_duration(d)))
        .unwrap_or_default()
}

fn status_hint(status: u16) -> &'static str {
    match status {
        401 | 403 => " (check the bot's token and secret)",
        404 => " (check analytics.base_url and the bot id)",
        500..=599 => " (the platform is having trouble)",
        _ => "",
    }
}

/// Every value [`PollError::kind`] can return.
const KINDS: [&str; 9] = [
    "timeout",
    "connect",
    "http_status",
    "rate_limited",
    "empty",
    "decode",
    "rejected",
    "body_too_large",
    "transport",
];

impl PollError {
    /// The `&'static` kind name equal to `name`, for kinds read back from storage.
    pub fn kind_from_name(name: &str) -> Option<&'static str> {
        KINDS.into_iter().find(|k| *k == name)
    }

    /// The error with `f` applied to every text that came from the API (excerpts, messages),
    /// e.g. to take out credentials it echoed.
    pub fn map_text(self, f: impl Fn(&str) -> String) -> PollError {
        match self {
            PollError::Status { status, excerpt } => PollError::Status {
                status,
                excerpt: f(&excerpt),
            },
            PollError::Empty { excerpt } => PollError::Empty {
                excerpt: f(&excerpt),
            },
            PollError::Decode { path, message } => PollError::Decode {
                path: f(&path),
                message: f(&message),
            },
            PollError::Rejected(message) => PollError::Rejected(f(&message)),
            PollError::Transport(message) => PollError::Transport(f(&message)),
            PollError::Connect(message) => PollError::Connect(f(&message)),
            PollError::Timeout(_)
            | PollError::RateLimited { .. }
            | PollError::BodyTooLarge { .. } => self,
        }
    }

    /// A short stable name for the kind of failure, for logs, metrics and `api.error_kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            PollError::Timeout(_) => "timeout",
            PollError::Connect(_) => "connect",
            PollError::Status { .. } => "http_status",
            PollError::RateLimited { .. } => "rate_limited",
            PollError::Empty { .. } => "empty",
            PollError::Decode { .. } => "decode",
            PollError::Rejected(_) => "rejected",
            PollError::BodyTooLarge { .. } => "body_too_large",
            PollError::Transport(_) => "transport",
        }
    }
}
