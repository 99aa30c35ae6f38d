//! The HTTP client for `POST /openapi/message/analysis`.
//!
//! It returns either a [`Snapshot`] or a classified [`PollError`]; it never invents data. The
//! body is read in chunks up to a cap so a runaway response cannot exhaust memory.

use std::time::Duration;

use super::decode::{body_text, decode_whole, shorten};
use super::{Bot, PollError, Snapshot};
use futures_util::StreamExt;
use reqwest::Url;
use secrecy::ExposeSecret;

/// The longest wait a 429's `Retry-After` is taken for: a broken or hostile answer must not
/// silence a bot for days.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// Settings of the analytics client.
#[derive(Debug, Clone)]
pub struct ClientSettings {
    /// Base URL of the platform, e.g. `https://api.example.com`.
    pub base_url: Url,
    /// Time allowed for one whole request, body included.
    pub timeout: Duration,
    /// Largest response body accepted, in bytes.
    pub max_body_bytes: usize,
}

/// A client for the message-analysis endpoint, shared by all bots.
#[derive(Debug, Clone)]
pub struct AnalyticsClient {
    http: reqwest::Client,
    endpoint: Url,
    settings: ClientSettings,
}

impl AnalyticsClient {
    /// Builds a client for the API at `settings.base_url`.
    pub fn new(settings: ClientSettings) -> Result<Self, PollError> {
        let endpoint = settings
            .base_url
            .join("openapi/message/analysis")
            .map_err(|e| PollError::Transport(format!("bad analytics.base_url: {e}")))?;
        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            .user_agent(concat!("botwatch/", env!("CARGO_PKG_VERSION")))
            // A redirect would re-send the body, and with it the bot's secret, elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| PollError::Transport(e.to_string()))?;
        Ok(AnalyticsClient {
            http,
            endpoint,
            settings,
        })
    }

    /// Polls the analytics of one bot.
    pub async fn fetch(&self, bot: &Bot) -> Result<Snapshot, PollError> {
        // Whatever the API sends back may echo the request: no credential leaves in an error.
        // Credentials are taken out of whole texts, and only then are the texts shortened.
        self.fetch_unredacted(bot)
            .await
            .map_err(|e| e.map_text(|text| shorten(&redact(text, bot))))
    }

    async fn fetch_unredacted(&self, bot: &Bot) -> Result<Snapshot, PollError> {
        let response = self
            .http
            .post(self.endpoint.clone())
            .query(&[("botId", bot.id.as_str())])
            .bearer_auth(bot.token.expose_secret())
            .json(&serde_json::json!({ "secret": bot.secret.expose_secret() }))
            .send()
            .await
            .map_err(|e| self.classify(e))?;
        let status = response.status();
        if status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            return Err(PollError::RateLimited {
                retry_after: retry_after(response.headers()),
            });
        }
        let body = self.read_capped(response).await?;
        if !status.is_success() {
            return Err(PollError::Status {
                status: status.as_u16(),
                excerpt: body_text(&body),
            });
        }
        decode_whole(&body)
    }

    async fn read_capped(&self, response: reqwest::Response) -> Result<Vec<u8>, PollError> {
        let limit = self.settings.max_body_bytes;
        if response.content_length().is_some_and(|n| n > limit as u64) {
            return Err(PollError::BodyTooLarge { limit });
        }
        let mut body = Vec::new();
        let mut stream = response.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| self.classify(e))?;
            if body.len() + chunk.len() > limit {
                return Err(PollError::BodyTooLarge { limit });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    fn classify(&self, error: reqwest::Error) -> PollError {
        // The URL carries only the bot id, but drop it anyway: errors stay short and the
        // base URL may one day carry credentials of a proxy.
        let error = error.without_url();
        if error.is_timeout() {
            PollError::Timeout(self.settings.timeout)
        } else if error.is_connect() {
            PollError::Connect(root_cause(&error))
        } else {
            PollError::Transport(root_cause(&error))
        }
    }
}

/// The wait a 429 asks for: `Retry-After` in seconds or as an HTTP date (RFC 9110 §10.2.3),
/// at most [`MAX_RETRY_AFTER`].
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    let wait = match value.parse::<u64>() {
        Ok(seconds) => Duration::from_secs(seconds),
        Err(_) => httpdate::parse_http_date(value)
            .ok()?
            .duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

/// `text` without the bot's credentials, in case the API echoes the request in its errors:
/// as written, and as JSON (with or without `\/`) and Rust would escape them; the longest
/// first, so that a token inside the secret cannot leave the rest of the secret behind.
fn redact(text: &str, bot: &Bot) -> String {
    let mut forms: Vec<String> = [bot.token.expose_secret(), bot.secret.expose_secret()]
        .into_iter()
        .filter(|s| s.len() >= 4)
        .flat_map(|s| {
            let json = unquote(&serde_json::to_string(s).unwrap_or_default());
            // Some servers (PHP's json_encode) escape `/` too.
            let json_slashes = json.replace('/', "\\/");
            let debug = unquote(&format!("{s:?}"));
            [s.to_owned(), json, json_slashes, debug]
        })
        .collect();
    forms.sort_by_key(|form| std::cmp::Reverse(form.len()));
    forms.dedup();
    forms.iter().fold(text.to_owned(), |text, form| {
        text.replace(form, "[REDACTED]")
    })
}

fn unquote(quoted: &str) -> String {
    quoted
        .strip_prefix('"')
        .and_then(|q| q.strip_suffix('"'))
        .unwrap_or(quoted)
        .to_owned()
}

fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = error;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_read_in_seconds_or_as_a_date() {
        let header = |value: &str| {
            let mut headers = reqwest::header::HeaderMap::new();
            headers.insert(reqwest::header::RETRY_AFTER, value.parse().unwrap());
            retry_after(&headers)
        };
        assert_eq!(header("120"), Some(Duration::from_secs(120)));
        assert_eq!(
            header("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        let later = std::time::SystemTime::now() + Duration::from_secs(600);
        let wait = header(&httpdate::fmt_http_date(later)).unwrap();
        assert!(wait > Duration::from_secs(590) && wait <= Duration::from_secs(600));
        assert_eq!(header("soon"), None);
        assert_eq!(header("86400"), Some(MAX_RETRY_AFTER), "at most an hour");
    }

    #[test]
    fn credentials_echoed_by_the_api_are_redacted() {
        let bot = Bot {
            id: "b".into(),
            name: "B".into(),
            token: "tok-123456".to_owned().into(),
            secret: "sec-654321".to_owned().into(),
        };
        assert_eq!(
            redact("bad secret sec-654321 for tok-123456", &bot),
            "bad secret [REDACTED] for [REDACTED]"
        );
        let escaping = Bot {
            token: "tok/en\"1".to_owned().into(),
            secret: "tok/en\"1-and-more".to_owned().into(),
            ..bot
        };
        for echoed in [
            r#"tok\/en\"1-and-more"#,
            r#"tok/en\"1"#,
            "tok/en\"1-and-more",
        ] {
            assert_eq!(redact(echoed, &escaping), "[REDACTED]", "{echoed}");
        }
    }
}
