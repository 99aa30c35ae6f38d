//! Chat messages as Discord accepts them, with Discord's limits enforced by construction.
//!
//! These are botwatch's own types in Discord's JSON shape (no serenity type here): every text
//! goes through a truncating setter, so no message built here can exceed a limit, whatever
//! the alert text. `allowed_mentions` is always explicit: nothing pings unless a role was
//! configured for it, and only that role.

use serde::Serialize;

/// Discord's limits for a bot's message, in characters.
pub mod limits {
    /// `content`.
    pub const CONTENT: usize = 2000;
    /// Embed title.
    pub const TITLE: usize = 256;
    /// Embed description.
    pub const DESCRIPTION: usize = 4096;
    /// Fields per embed.
    pub const FIELDS: usize = 25;
    /// Field name.
    pub const FIELD_NAME: usize = 256;
    /// Field value.
    pub const FIELD_VALUE: usize = 1024;
    /// Footer text.
    pub const FOOTER: usize = 2048;
    /// Author name.
    pub const AUTHOR: usize = 256;
    /// All text of all embeds of one message together.
    pub const EMBED_TOTAL: usize = 6000;
    /// Embeds per message.
    pub const EMBEDS: usize = 10;
    /// A message nonce.
    pub const NONCE: usize = 25;
}

/// `text` cut to at most `max` characters, ending with `…` when cut.
pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Who may be pinged by a message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AllowedMentions {
    /// Kinds of mentions parsed from the text: always empty, so `@everyone`, `@here`, user and
    /// role mentions written in alert text ping nobody.
    pub parse: Vec<String>,
    /// The only roles that may be pinged.
    pub roles: Vec<String>,
    /// Whether replying pings the author of the referenced message (our own card: no).
    pub replied_user: bool,
}

/// A reference to an earlier message, making this one a reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MessageReference {
    /// The referenced message.
    pub message_id: String,
    /// Still send when the referenced message is gone.
    pub fail_if_not_exists: bool,
}

/// An embed footer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Footer {
    /// Its text.
    pub text: String,
}

/// One embed field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Field {
    /// Field name.
    pub name: String,
    /// Field value.
    pub value: String,
    /// Shown side by side with its neighbours.
    pub inline: bool,
}

/// A rich embed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Embed {
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    color: Option<u32>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    fields: Vec<Field>,
    #[serde(skip_serializing_if = "Option::is_none")]
    footer: Option<Footer>,
    #[serde(skip_serializing_if = "Option::is_none")]
    timestamp: Option<String>,
}

impl Embed {
    /// Sets the title (cut to 256 characters; empty text is left out).
    pub fn title(mut self, text: &str) -> Self {
        self.title = non_empty(text, limits::TITLE);
        self
    }

    /// Sets the description (cut to 4096 characters).
    pub fn description(mut self, text: &str) -> Self {
        self.description = non_empty(text, limits::DESCRIPTION);
        self
    }

    /// Sets the colour.
    pub fn color(mut self, rgb: u32) -> Self {
        self.color = Some(rgb & 0xFF_FF_FF);
        self
    }

    /// Adds a field (names and values cut; fields past 25 are dropped, empty ones skipped).
    pub fn field(mut self, name: &str, value: &str, inline: bool) -> Self {
        if self.fields.len() < limits::FIELDS && !name.trim().is_empty() && !value.trim().is_empty()
        {
            self.fields.push(Field {
                name: truncate(name, limits::FIELD_NAME),
                value: truncate(value, limits::FIELD_VALUE),
                inline,
            });
        }
        self
    }

    /// Sets the footer (cut to 2048 characters).
    pub fn footer(mut self, text: &str) -> Self {
        self.footer = non_empty(text, limits::FOOTER).map(|text| Footer { text });
        self
    }

    /// Sets the timestamp shown by Discord (RFC 3339).
    pub fn timestamp(mut self, rfc3339: String) -> Self {
        self.timestamp = Some(rfc3339);
        self
    }

    /// What the embed holds, read-only: for a sink that builds its own types from it.
    pub fn parts(&self) -> EmbedParts<'_> {
        EmbedParts {
            title: self.title.as_deref(),
            description: self.description.as_deref(),
            color: self.color,
            fields: &self.fields,
            footer: self.footer.as_ref(),
            timestamp: self.timestamp.as_deref(),
        }
    }

    /// The characters Discord counts towards the 6000 of a message.
    pub fn text_len(&self) -> usize {
        let count = |s: &Option<String>| s.as_deref().map_or(0, |s| s.chars().count());
        count(&self.title)
            + count(&self.description)
            + self.footer.as_ref().map_or(0, |f| f.text.chars().count())
            + self
                .fields
                .iter()
                .map(|f| f.name.chars().count() + f.value.chars().count())
                .sum::<usize>()
    }

    /// Shrinks the embed until its text is at most `budget` characters: fields go first, then
    /// the description is cut, then the title.
    fn shrink_to(&mut self, budget: usize) {
        // Bounded: each pass removes a field or shortens a text.
        while self.text_len() > budget && !self.fields.is_empty() {
            self.fields.pop();
        }
        let over = self.text_len().saturating_sub(budget);
        if over > 0 {
            if let Some(d) = &self.description {
                let keep = d.chars().count().saturating_sub(over);
                self.description = non_empty(d, keep);
            }
        }
        let over = self.text_len().saturating_sub(budget);
        if over > 0 {
            if let Some(t) = &self.title {
                let keep = t.chars().count().saturating_sub(over);
                self.title = non_empty(t, keep);
            }
        }
        if self.text_len() > budget {
            self.footer = None;
        }
    }
}

/// The contents of an [`Embed`], each within Discord's limits.
#[derive(Debug, Clone, Copy)]
pub struct EmbedParts<'a> {
    /// The title.
    pub title: Option<&'a str>,
    /// The description.
    pub description: Option<&'a str>,
    /// The colour (RGB).
    pub color: Option<u32>,
    /// The fields, in order.
    pub fields: &'a [Field],
    /// The footer.
    pub footer: Option<&'a Footer>,
    /// The timestamp (RFC 3339).
    pub timestamp: Option<&'a str>,
}

fn non_empty(text: &str, max: usize) -> Option<String> {
    (!text.trim().is_empty() && max > 0).then(|| truncate(text, max))
}

/// A message to create or an edit to make.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ChatMessage {
    #[serde(skip_serializing_if = "Option::is_none")]
    content: Option<String>,
    embeds: Vec<Embed>,
    allowed_mentions: AllowedMentions,
    #[serde(skip_serializing_if = "Option::is_none")]
    message_reference: Option<MessageReference>,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    enforce_nonce: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    components: Option<serde_json::Value>,
}

impl ChatMessage {
    /// An empty message that pings nobody.
    pub fn new() -> Self {
        ChatMessage::default()
    }

    /// Sets the text (cut to 2000 characters).
    pub fn content(mut self, text: &str) -> Self {
        self.content = non_empty(text, limits::CONTENT);
        self
    }

    /// Allows exactly this role to be pinged (its mention must be in the content).
    pub fn ping_role(mut self, role_id: &str) -> Self {
        self.allowed_mentions.roles = vec![role_id.to_owned()];
        self
    }

    /// Adds an embed; past 10 embeds, or past 6000 characters in all, embeds are shrunk or
    /// left out so the message stays within Discord's limits.
    pub fn embed(mut self, mut embed: Embed) -> Self {
        if self.embeds.len() >= limits::EMBEDS {
            return self;
        }
        let used: usize = self.embeds.iter().map(Embed::text_len).sum();
        let budget = limits::EMBED_TOTAL.saturating_sub(used);
        embed.shrink_to(budget);
        if embed.text_len() > 0 || embed.color.is_some() {
            self.embeds.push(embed);
        }
        self
    }

    /// Makes this message a reply to `message_id`.
    pub fn reply_to(mut self, message_id: &str) -> Self {
        self.message_reference = Some(MessageReference {
            message_id: message_id.to_owned(),
            fail_if_not_exists: false,
        });
        self
    }

    /// Sets a nonce that Discord enforces: a retry with the same nonce cannot post twice.
    pub fn nonce(mut self, nonce: &str) -> Self {
        self.nonce = Some(truncate(nonce, limits::NONCE));
        self.enforce_nonce = Some(true);
        self
    }

    /// Sets the message's buttons, as the sink built them (in the sink's own shape: this
    /// module knows no sink's components). An empty list removes the buttons an edited
    /// message has; a message without any leaves them as they are.
    pub fn components(mut self, components: serde_json::Value) -> Self {
        self.components = Some(components);
        self
    }

    /// The same message without buttons (for destinations that cannot carry them).
    pub fn without_components(mut self) -> Self {
        self.components = None;
        self
    }

    /// The same message without its nonce and reply reference (for webhooks and edits, where
    /// Discord accepts neither).
    pub fn for_edit(mut self) -> Self {
        self.nonce = None;
        self.enforce_nonce = None;
        self.message_reference = None;
        self
    }

    /// The text, if any.
    pub fn text(&self) -> Option<&str> {
        self.content.as_deref()
    }

    /// The embeds.
    pub fn embeds(&self) -> &[Embed] {
        &self.embeds
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_text_is_cut_to_its_limit_with_an_ellipsis() {
        let long = "x".repeat(10_000);
        let embed = Embed::default()
            .title(&long)
            .description(&long)
            .footer(&long)
            .field(&long, &long, false);
        let message = ChatMessage::new().content(&long).embed(embed);
        assert_eq!(message.text().unwrap().chars().count(), 2000);
        assert!(message.text().unwrap().ends_with('…'));
        let total: usize = message.embeds().iter().map(Embed::text_len).sum();
        assert!(total <= limits::EMBED_TOTAL, "{total}");
    }

    #[test]
    fn many_embeds_stay_within_ten_and_six_thousand_characters() {
        let mut message = ChatMessage::new();
        for _ in 0..40 {
            message = message.embed(
                Embed::default()
                    .title(&"t".repeat(300))
                    .description(&"d".repeat(3000)),
            );
        }
        assert!(message.embeds().len() <= limits::EMBEDS);
        let total: usize = message.embeds().iter().map(Embed::text_len).sum();
        assert!(total <= limits::EMBED_TOTAL, "{total}");
    }

    #[test]
    fn mentions_ping_nobody_unless_a_role_is_allowed() {
        let json = serde_json::to_value(ChatMessage::new().content("@everyone <@&1>")).unwrap();
        assert_eq!(
            json["allowed_mentions"],
            serde_json::json!({"parse": [], "roles": [], "replied_user": false})
        );
        let json = serde_json::to_value(ChatMessage::new().ping_role("42")).unwrap();
        assert_eq!(json["allowed_mentions"]["roles"], serde_json::json!(["42"]));
    }

    #[test]
    fn truncation_counts_characters_not_bytes() {
        assert_eq!(truncate("配額配額配額", 4), "配額配…");
        assert_eq!(truncate("short", 10), "short");
    }
}
