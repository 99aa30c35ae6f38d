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

fn status_hint(status: u16) -> &'static str {
    match status {
        401 | 403 => " (check the bot's token and secret)",
        404 => " (check analytics.base_url and the bot id)",
        429 => " (rate limited; lower analytics.requests_per_second)",
        500..=599 => " (the platform is having trouble)",
        _ => "",
    }
}

/// Every value [`PollError::kind`] can return.
const KINDS: [&str; 7] = [
    "timeout",
    "connect",
    "http_status",
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

    /// A short stable name for the kind of failure, for logs, metrics and `api.error_kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            PollError::Timeout(_) => "timeout",
            PollError::Connect(_) => "connect",
            PollError::Status { .. } => "http_status",
            PollError::Decode { .. } => "decode",
            PollError::Rejected(_) => "rejected",
            PollError::BodyTooLarge { .. } => "body_too_large",
            PollError::Transport(_) => "transport",
        }
    }
}
