//! Where alerts go: a channel (posted by the bot) or a webhook URL.

use secrecy::SecretString;
use serenity::model::id::ChannelId;

use crate::notify::message::ChatMessage;

/// A Discord webhook, parsed from its URL (its token is a secret).
#[derive(Debug, Clone)]
pub struct Webhook {
    /// The webhook id.
    pub id: u64,
    /// The webhook token.
    pub token: SecretString,
}

/// A place alert cards are posted to.
#[derive(Debug, Clone)]
pub enum Destination {
    /// A channel, posted to with the bot token (nonces make retries safe).
    Channel(ChannelId),
    /// A webhook (no bot needed).
    Webhook(Webhook),
}

impl Destination {
    /// `message` as this destination takes it: webhooks accept neither nonces nor replies,
    /// and a webhook the application does not own cannot carry buttons.
    pub fn adapt(&self, message: ChatMessage) -> ChatMessage {
        match self {
            Destination::Channel(_) => message,
            Destination::Webhook(_) => message.for_edit().without_components(),
        }
    }
}

/// Parses `…/api/webhooks/{id}/{token}` (any host, so proxies and loopback fakes work; serenity's
/// own parser accepts only Discord's domains).
pub fn parse_webhook_url(url: &str) -> Result<Webhook, String> {
    let parsed = url::Url::parse(url).map_err(|_| {
        "a webhook must be a URL like https://discord.com/api/webhooks/ID/TOKEN".to_owned()
    })?;
    let segments: Vec<&str> = parsed
        .path_segments()
        .map(|s| s.filter(|p| !p.is_empty()).collect())
        .unwrap_or_default();
    let at = segments
        .iter()
        .position(|s| *s == "webhooks")
        .ok_or("the URL has no /webhooks/ID/TOKEN path")?;
    let (Some(id), Some(token)) = (segments.get(at + 1), segments.get(at + 2)) else {
        return Err("the URL must end with /webhooks/ID/TOKEN".into());
    };
    let id: u64 = id
        .parse()
        .map_err(|_| "the webhook id must be a number".to_owned())?;
    if id == 0
        || token.len() < 8
        || !token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err("the webhook id or token is malformed".into());
    }
    Ok(Webhook {
        id,
        token: SecretString::from(token.to_string()),
    })
}

/// Parses a channel id (a Discord snowflake).
pub fn parse_channel_id(text: &str) -> Result<ChannelId, String> {
    match text.trim().parse::<u64>() {
        Ok(id) if id > 0 => Ok(ChannelId::new(id)),
        _ => Err(format!(
            "`{text}` is not a channel id (right-click the channel, Copy Channel ID)"
        )),
    }
}

impl Webhook {
    /// A stable label for logs and state that does not reveal the token.
    pub fn label(&self) -> String {
        format!("webhook:{}", self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn parses_discord_and_loopback_webhook_urls() {
        let hook =
            parse_webhook_url("https://discord.com/api/webhooks/123456789012345678/abcDEF-ghi_jkl")
                .unwrap();
        assert_eq!(hook.id, 123456789012345678);
        let local = parse_webhook_url("http://127.0.0.1:8080/api/webhooks/42/tokentoken").unwrap();
        assert_eq!(local.token.expose_secret(), "tokentoken");
        assert!(
            !format!("{local:?}").contains("tokentoken"),
            "the token never shows in Debug"
        );
    }

    #[test]
    fn refuses_malformed_urls_with_a_reason() {
        assert!(parse_webhook_url("not a url")
            .unwrap_err()
            .contains("like https://discord.com"));
        assert!(
            parse_webhook_url("https://discord.com/api/webhooks/x/tokentoken")
                .unwrap_err()
                .contains("number")
        );
        assert!(parse_webhook_url("https://discord.com/api/channels/1").is_err());
        assert!(parse_channel_id("general").is_err());
    }
}
