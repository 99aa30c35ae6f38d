//! The gateway lookup, `GET /gateway/bot`: a bot asks it where the gateway is before it
//! connects. The fake answers with the URL a test gave ([`FakeDiscord::serve_gateway_at`]: a
//! [`FakeGateway`](super::gateway::FakeGateway), or a port that refuses connections), 401 if
//! told to refuse the token, or 404 while none of that is set; it notes when each lookup came
//! so that a test can see retries back off.

use std::time::Instant;

use axum::http::Method;
use serde_json::json;

use super::reply::Reply;
use super::routes::{route, Route};
use super::state::Inner;
use super::{FakeDiscord, Recorded};

/// What lookups answer, and when each one came.
#[derive(Default)]
pub(super) struct GatewayLookups {
    answer: Answer,
    at: Vec<Instant>,
}

/// What a lookup answers.
#[derive(Default)]
enum Answer {
    /// 404: no gateway here.
    #[default]
    Missing,
    /// The gateway is at this URL.
    At(String),
    /// 401, as Discord answers a token it does not know.
    Unauthorized,
}

impl GatewayLookups {
    /// Whether `request` is a gateway lookup.
    pub(super) fn is_lookup(request: &Recorded) -> bool {
        let method = Method::from_bytes(request.method.as_bytes()).unwrap_or(Method::GET);
        matches!(route(&method, &request.path, None), Route::GatewayBot)
    }
}

/// The answer to a lookup: Discord's "Get Gateway Bot" object, or 404 without a gateway.
pub(super) fn answer(state: &mut Inner) -> Reply {
    state.gateway.at.push(Instant::now());
    match &state.gateway.answer {
        Answer::At(url) => Reply::json(
            200,
            json!({
                "url": url,
                "shards": 1,
                "session_start_limit": {
                    "total": 1000, "remaining": 999, "reset_after": 14_400_000, "max_concurrency": 1
                },
            }),
        ),
        Answer::Unauthorized => {
            Reply::json(401, json!({"message": "401: Unauthorized", "code": 0}))
        }
        Answer::Missing => Reply::not_found(),
    }
}

impl FakeDiscord {
    /// Answers gateway lookups with `url` from now on.
    pub fn serve_gateway_at(&self, url: &str) {
        self.shared.lock().gateway.answer = Answer::At(url.to_owned());
    }

    /// Answers gateway lookups 401 from now on: the bot token is refused.
    pub fn refuse_gateway_lookups(&self) {
        self.shared.lock().gateway.answer = Answer::Unauthorized;
    }

    /// When each gateway lookup came, in order.
    pub fn gateway_lookups(&self) -> Vec<Instant> {
        self.shared.lock().gateway.at.clone()
    }
}
