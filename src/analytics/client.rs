//! The HTTP client for `POST /openapi/message/analysis`.
//!
//! It returns either a [`Snapshot`] or a classified [`PollError`]; it never invents data. The
//! body is read in chunks up to a cap so a runaway response cannot exhaust memory.

use std::time::Duration;

use futures_util::StreamExt;
use reqwest::Url;
use secrecy::ExposeSecret;
use serde::Deserialize;

use super::{Bot, PollError, Snapshot};

/// How many bytes of an error body go into a [`PollError::Status`].
const EXCERPT_CHARS: usize = 200;

/// The longest `lineProgram` accepted. It is a plan name, and rules may copy it into text:
/// an expression can repeat a variable at most about a thousand times (it is at most 2 KiB),
/// so this bounds any value a rule builds at a few MiB.
pub const MAX_PLAN_NAME_BYTES: usize = 16 * 1024;

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

/// The fields of the response envelope; the figures themselves decode into [`Snapshot`].
#[derive(Deserialize)]
struct Envelope {
    success: Option<bool>,
    message: Option<String>,
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
        self.fetch_unredacted(bot)
            .await
            .map_err(|e| e.map_text(|text| redact(text, bot)))
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
                excerpt: excerpt(&body),
            });
        }
        decode(&body)
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

/// Decodes a 2xx body: the envelope first (`success: false` wins over any figures), then the
/// figures, reporting the JSON path of the first field of the wrong type.
pub fn decode(body: &[u8]) -> Result<Snapshot, PollError> {
    let envelope: Envelope = decode_at_path(body)?;
    if envelope.success == Some(false) {
        let message = envelope
            .message
            .unwrap_or_else(|| "no message given".to_owned());
        return Err(PollError::Rejected(message));
    }
    let snapshot: Snapshot = decode_at_path(body)?;
    if let Some(plan) = snapshot
        .line_program
        .as_ref()
        .filter(|p| p.len() > MAX_PLAN_NAME_BYTES)
    {
        return Err(PollError::Decode {
            path: "lineProgram".into(),
            message: format!(
                "a plan name of {} bytes; at most {MAX_PLAN_NAME_BYTES} are accepted",
                plan.len()
            ),
        });
    }
    if snapshot == Snapshot::default() {
        return Err(PollError::Empty {
            excerpt: excerpt(body),
        });
    }
    Ok(snapshot)
}

/// The wait a 429 asks for: `Retry-After` in seconds or as an HTTP date (RFC 9110 §10.2.3).
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(
        at.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

fn decode_at_path<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, PollError> {
    let mut json = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut json).map_err(|e| PollError::Decode {
        path: e.path().to_string(),
        message: e.into_inner().to_string(),
    })
}

/// `text` without the bot's credentials, in case the API echoes the request in its errors.
fn redact(text: &str, bot: &Bot) -> String {
    [bot.token.expose_secret(), bot.secret.expose_secret()]
        .into_iter()
        .filter(|s| s.len() >= 4)
        .fold(text.to_owned(), |text, secret| {
            text.replace(secret, "[REDACTED]")
        })
}

fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut out: String = text.chars().take(EXCERPT_CHARS).collect();
    if text.chars().count() > EXCERPT_CHARS {
        out.push('…');
    }
    if out.trim().is_empty() {
        out = "(empty body)".to_owned();
    }
    out
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
    fn a_field_of_the_wrong_type_is_reported_with_its_path() {
        let err = decode(br#"{"success":true,"lineQuota":"lots"}"#).unwrap_err();
        match err {
            PollError::Decode { path, .. } => assert_eq!(path, "lineQuota"),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn success_false_is_a_rejection_not_a_snapshot() {
        let err = decode(br#"{"success":false,"message":"bad secret","lineQuota":0}"#).unwrap_err();
        assert_eq!(err, PollError::Rejected("bad secret".into()));
    }

    #[test]
    fn an_answer_without_any_figure_is_an_error_not_a_snapshot() {
        for body in [&b"{}"[..], br#"{"success":true,"message":"ok"}"#] {
            assert_eq!(decode(body).unwrap_err().kind(), "empty");
        }
        assert!(
            decode(br#"{"fbIsIntegration":false}"#).is_ok(),
            "one figure is data"
        );
    }

    #[test]
    fn a_plan_name_longer_than_the_cap_is_a_decode_error() {
        let plan = |n: usize| format!(r#"{{"lineProgram": "{}"}}"#, "x".repeat(n));
        assert!(decode(plan(MAX_PLAN_NAME_BYTES).as_bytes()).is_ok());
        let err = decode(plan(MAX_PLAN_NAME_BYTES + 1).as_bytes()).unwrap_err();
        assert!(
            matches!(err, PollError::Decode { ref path, .. } if path == "lineProgram"),
            "{err}"
        );
    }

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
    }

    #[test]
    fn not_json_is_a_decode_error() {
        assert_eq!(decode(b"<html>").unwrap_err().kind(), "decode");
    }
}
