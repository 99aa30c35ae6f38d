//! A bot whose analytics botwatch polls, with the credentials for it.

use secrecy::SecretString;

/// One watched bot: its platform id, a display name for people, and its API credentials.
///
/// The credentials are [`SecretString`]s, so `{:?}` prints `[REDACTED]` rather than them.
#[derive(Debug, Clone)]
pub struct Bot {
    /// The platform's bot id, sent as `?botId=`.
    pub id: String,
    /// The name shown in alerts.
    pub name: String,
    /// The bearer token for the analytics API.
    pub token: SecretString,
    /// The secret sent in the request body.
    pub secret: SecretString,
}
