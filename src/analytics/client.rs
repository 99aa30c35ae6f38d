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
        let body = self.read_capped(response).await?;
        if !status.is_success() {
            return Err(PollError::Status {
                status: status.as_u16(),
                excerpt: redact(&excerpt(&body), bot),
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
    decode_at_path(body)
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
    fn an_empty_object_is_a_snapshot_with_nothing_known() {
        assert_eq!(decode(b"{}").unwrap(), Snapshot::default());
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
