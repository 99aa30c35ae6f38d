//! The messages of a preview as a channel shows them: each post with its later edits applied.
//!
//! Bodies are kept as the JSON that was sent (Discord's message shape), not re-interpreted, so
//! the page shows exactly what Discord received. Edits follow Discord's PATCH semantics: the
//! fields an edit sends replace the message's, the others stay.

use serde_json::Value;

use crate::time::Timestamp;

/// One message, as it stands after its edits.
#[derive(Debug, Clone, PartialEq)]
pub struct Posted {
    /// Its id: Discord's, or the recorder's own when nothing went to Discord.
    pub id: String,
    /// The name of the destination it went to.
    pub destination: String,
    /// The body as sent, with every edit's fields applied on top.
    pub body: Value,
    /// When it was posted.
    pub posted_at: Timestamp,
    /// When it was last edited, if it was.
    pub edited_at: Option<Timestamp>,
}

impl Posted {
    /// The `message_reference.message_id` of a reply.
    pub fn replies_to(&self) -> Option<&str> {
        self.body
            .pointer("/message_reference/message_id")
            .and_then(Value::as_str)
    }

    /// The message's text, if it has some.
    pub fn content(&self) -> Option<&str> {
        self.body.get("content").and_then(Value::as_str)
    }
}

/// The messages posted, in the order they were posted.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Transcript {
    messages: Vec<Posted>,
}

impl Transcript {
    /// Adds a message; `false` (and no change) when its id is already there, as when Discord
    /// answers a repeated nonce with the message it already has.
    pub fn post(&mut self, message: Posted) -> bool {
        if self.get(&message.id).is_some() {
            return false;
        }
        self.messages.push(message);
        true
    }

    /// Applies an edit's fields to message `id`; `false` when there is no such message.
    pub fn edit(&mut self, id: &str, fields: &Value, at: Timestamp) -> bool {
        let Some(message) = self.messages.iter_mut().find(|m| m.id == id) else {
            return false;
        };
        if let (Some(body), Some(fields)) = (message.body.as_object_mut(), fields.as_object()) {
            for (name, value) in fields {
                body.insert(name.clone(), value.clone());
            }
        }
        message.edited_at = Some(at);
        true
    }

    /// The message posted to `destination` with `nonce`, if any.
    pub fn with_nonce(&self, destination: &str, nonce: &str) -> Option<&Posted> {
        self.messages.iter().find(|m| {
            m.destination == destination
                && m.body.get("nonce").and_then(Value::as_str) == Some(nonce)
        })
    }

    /// Message `id`, if it was posted.
    pub fn get(&self, id: &str) -> Option<&Posted> {
        self.messages.iter().find(|m| m.id == id)
    }

    /// Every message, oldest first.
    pub fn messages(&self) -> &[Posted] {
        &self.messages
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn posted(id: &str, body: Value) -> Posted {
        Posted {
            id: id.into(),
            destination: "ops".into(),
            body,
            posted_at: Timestamp(1_000),
            edited_at: None,
        }
    }

    #[test]
    fn an_edit_replaces_the_fields_it_sends_and_keeps_the_others() {
        let mut transcript = Transcript::default();
        transcript.post(posted(
            "1",
            json!({"content": "firing", "embeds": [{"title": "red"}]}),
        ));
        assert!(transcript.edit(
            "1",
            &json!({"embeds": [{"title": "green"}]}),
            Timestamp(2_000)
        ));
        let card = transcript.get("1").unwrap();
        assert_eq!(
            card.body,
            json!({"content": "firing", "embeds": [{"title": "green"}]})
        );
        assert_eq!(card.edited_at, Some(Timestamp(2_000)));
        assert!(
            !transcript.edit("2", &json!({}), Timestamp(2_000)),
            "no such message"
        );
    }

    #[test]
    fn a_message_already_recorded_is_not_recorded_twice() {
        let mut transcript = Transcript::default();
        assert!(transcript.post(posted("1", json!({"nonce": "n1"}))));
        assert!(!transcript.post(posted("1", json!({"nonce": "n1"}))));
        assert_eq!(transcript.messages().len(), 1);
        assert_eq!(transcript.with_nonce("ops", "n1").unwrap().id, "1");
        assert!(transcript.with_nonce("pager", "n1").is_none());
    }
}
