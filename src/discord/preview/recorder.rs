//! A [`Transport`] that keeps every message the notifier sends, for the preview page.
//!
//! It sits where Discord's REST client sits, so routing, budgets, digests, cards and replies
//! are the notifier's own code. Without a destination in Discord it answers as Discord would
//! (a new id per message, the existing message for a repeated nonce, 404 for an edit of an
//! unknown message); with one, it sends there first and records what Discord accepted.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use serenity::model::id::MessageId;

use super::transcript::{Posted, Transcript};
use crate::discord::rest::RestError;
use crate::discord::transport::{Sending, To, Transport};
use crate::notify::message::ChatMessage;
use crate::time::Timestamp;

/// Records the messages sent through it, and forwards them when given a transport.
pub struct Recorder {
    forward: Option<Box<dyn Transport>>,
    transcript: Mutex<Transcript>,
    next_id: AtomicU64,
}

impl Recorder {
    /// A recorder that sends nothing anywhere.
    pub fn local() -> Self {
        Recorder {
            forward: None,
            transcript: Mutex::new(Transcript::default()),
            next_id: AtomicU64::new(1),
        }
    }

    /// A recorder that sends through `transport` and records what it accepted.
    pub fn forwarding(transport: impl Transport) -> Self {
        Recorder {
            forward: Some(Box::new(transport)),
            ..Recorder::local()
        }
    }

    /// The messages so far, edits applied.
    pub fn transcript(&self) -> Transcript {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Transcript> {
        self.transcript.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The id Discord would give a new message to `destination` with `body`.
    fn local_id(&self, destination: &str, body: &serde_json::Value) -> MessageId {
        let nonce = body.get("nonce").and_then(serde_json::Value::as_str);
        let existing = nonce
            .and_then(|n| self.lock().with_nonce(destination, n).map(|m| m.id.clone()))
            .and_then(|id| id.parse::<u64>().ok())
            .filter(|id| *id > 0);
        let id = existing.unwrap_or_else(|| self.next_id.fetch_add(1, Ordering::Relaxed));
        MessageId::new(id.max(1))
    }
}

fn to_json(message: &ChatMessage) -> Result<serde_json::Value, RestError> {
    serde_json::to_value(message).map_err(|e| RestError::Decode(e.to_string()))
}

impl Transport for Recorder {
    fn post<'a>(&'a self, to: To<'a>, message: &'a ChatMessage) -> Sending<'a, MessageId> {
        Box::pin(async move {
            let body = to_json(message)?;
            let id = match &self.forward {
                Some(transport) => transport.post(to, message).await?,
                None => self.local_id(to.name, &body),
            };
            self.lock().post(Posted {
                id: id.to_string(),
                destination: to.name.to_owned(),
                body,
                posted_at: Timestamp::now(),
                edited_at: None,
            });
            Ok(id)
        })
    }

    fn edit<'a>(&'a self, to: To<'a>, id: MessageId, message: &'a ChatMessage) -> Sending<'a, ()> {
        Box::pin(async move {
            let fields = to_json(message)?;
            if let Some(transport) = &self.forward {
                transport.edit(to, id, message).await?;
            }
            let known = self.lock().edit(&id.to_string(), &fields, Timestamp::now());
            if !known && self.forward.is_none() {
                return Err(RestError::Status {
                    status: 404,
                    body: r#"{"message": "Unknown Message", "code": 10008}"#.into(),
                });
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discord::destination::Destination;
    use serenity::model::id::ChannelId;

    fn to(destination: &Destination) -> To<'_> {
        To {
            name: "alerts",
            destination,
        }
    }

    #[tokio::test]
    async fn a_repeated_nonce_gets_the_existing_message_like_discord() {
        let recorder = Recorder::local();
        let channel = Destination::Channel(ChannelId::new(1));
        let card = ChatMessage::new().content("firing").nonce("n1");
        let first = recorder.post(to(&channel), &card).await.unwrap();
        let again = recorder.post(to(&channel), &card).await.unwrap();
        let other = recorder
            .post(to(&channel), &ChatMessage::new().content("x").nonce("n2"))
            .await
            .unwrap();
        assert_eq!(first, again);
        assert_ne!(first, other);
        assert_eq!(recorder.transcript().messages().len(), 2);
    }

    #[tokio::test]
    async fn an_edit_of_an_unknown_message_is_refused_like_discord() {
        let recorder = Recorder::local();
        let channel = Destination::Channel(ChannelId::new(1));
        let error = recorder
            .edit(to(&channel), MessageId::new(99), &ChatMessage::new())
            .await
            .unwrap_err();
        assert!(error.is_uneditable(), "{error}");
    }
}
