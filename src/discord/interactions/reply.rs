//! The pieces every answer is made of, in serenity's builders: botwatch's limit-checked
//! embeds converted, and messages that ping nobody.

use serenity::all::{
    CreateAllowedMentions, CreateEmbed, CreateEmbedFooter, CreateInteractionResponse,
    CreateInteractionResponseMessage, Timestamp,
};

use crate::notify::message::Embed;

/// `embed` (built within Discord's limits by [`Embed`]) as serenity's builder.
pub fn embed(embed: &Embed) -> CreateEmbed {
    let parts = embed.parts();
    let mut built = CreateEmbed::new();
    if let Some(title) = parts.title {
        built = built.title(title);
    }
    if let Some(description) = parts.description {
        built = built.description(description);
    }
    if let Some(color) = parts.color {
        built = built.colour(color);
    }
    for field in parts.fields {
        built = built.field(&field.name, &field.value, field.inline);
    }
    if let Some(footer) = parts.footer {
        built = built.footer(CreateEmbedFooter::new(&footer.text));
    }
    if let Some(at) = parts.timestamp.and_then(|t| Timestamp::parse(t).ok()) {
        built = built.timestamp(at);
    }
    built
}

/// A message that pings nobody, whatever its text says; only the asker sees it if `private`.
pub fn message(private: bool) -> CreateInteractionResponseMessage {
    CreateInteractionResponseMessage::new()
        .allowed_mentions(CreateAllowedMentions::new())
        .ephemeral(private)
}

/// A text only the asker sees: a refusal, or why nothing could be done.
pub fn private_text(text: impl Into<String>) -> CreateInteractionResponse {
    CreateInteractionResponse::Message(message(true).content(text))
}
