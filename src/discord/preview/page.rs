//! The preview page: a transcript of Discord messages as one self-contained HTML file styled
//! like Discord's dark theme (inline CSS; no font, script or image is fetched).
//!
//! The template (`page.html`) reads each message's body as it was sent, through minijinja with
//! HTML auto-escaping: every text is escaped unless it went through the `markup` filter, which
//! escapes too and renders only Discord's markup (see `markup`). What Rust adds is what the
//! body cannot say by itself: when the message was posted and edited, and which card a reply
//! refers to.

use std::collections::BTreeMap;
use std::time::{Duration, UNIX_EPOCH};

use minijinja::{Environment, Value};
use serde::Serialize;

use super::markup;
use super::transcript::{Posted, Transcript};
use crate::time::Timestamp;

/// The template, named `.html` so that minijinja escapes HTML by default.
const TEMPLATE: (&str, &str) = ("preview.html", include_str!("page.html"));

/// The side bar colour of an embed without a colour (Discord's).
const NO_COLOUR: &str = "#1e1f22";

/// What the page says besides the messages.
#[derive(Debug, Clone, Default)]
pub struct Page {
    /// The page title (the browser tab).
    pub title: String,
    /// The author shown on every message (the bot's or the webhook's name).
    pub author: String,
    /// Role names by id, for mentions (unknown roles show their id).
    pub roles: BTreeMap<String, String>,
}

/// The page could not be rendered (a fault of the template, never of the messages).
#[derive(Debug, thiserror::Error)]
#[error("cannot render the preview page: {0}")]
pub struct PageError(#[from] minijinja::Error);

#[derive(Serialize)]
struct View<'a> {
    title: &'a str,
    author: &'a str,
    channels: Vec<Channel<'a>>,
}

#[derive(Serialize)]
struct Channel<'a> {
    name: &'a str,
    messages: Vec<Message<'a>>,
}

#[derive(Serialize)]
struct Message<'a> {
    anchor: String,
    posted_at: String,
    edited_at: Option<String>,
    body: &'a serde_json::Value,
    reply: Option<Reply>,
}

/// The line above a reply: the card it refers to, or that the card is gone.
#[derive(Serialize)]
struct Reply {
    anchor: Option<String>,
    snippet: String,
}

fn anchor(id: &str) -> String {
    format!("message-{id}")
}

fn readable(at: Timestamp) -> String {
    let millis = u64::try_from(at.0).unwrap_or(0);
    markup::readable(UNIX_EPOCH + Duration::from_millis(millis))
}

fn reply(message: &Posted, transcript: &Transcript) -> Option<Reply> {
    let id = message.replies_to()?;
    Some(match transcript.get(id) {
        Some(card) => Reply {
            anchor: Some(anchor(id)),
            snippet: card
                .content()
                .and_then(|c| c.lines().next())
                .unwrap_or("Click to see attachment")
                .to_owned(),
        },
        None => Reply {
            anchor: None,
            snippet: "Original message was deleted".to_owned(),
        },
    })
}

/// The messages by destination, in the order each destination was first posted to.
fn channels(transcript: &Transcript) -> Vec<Channel<'_>> {
    let mut channels: Vec<Channel<'_>> = Vec::new();
    for posted in transcript.messages() {
        let message = Message {
            anchor: anchor(&posted.id),
            posted_at: readable(posted.posted_at),
            edited_at: posted.edited_at.map(readable),
            body: &posted.body,
            reply: reply(posted, transcript),
        };
        match channels.iter_mut().find(|c| c.name == posted.destination) {
            Some(channel) => channel.messages.push(message),
            None => channels.push(Channel {
                name: &posted.destination,
                messages: vec![message],
            }),
        }
    }
    channels
}

fn environment(roles: BTreeMap<String, String>) -> Result<Environment<'static>, PageError> {
    let mut env = Environment::new();
    env.add_template(TEMPLATE.0, TEMPLATE.1)?;
    env.add_filter("markup", move |text: &str| {
        Value::from_safe_string(markup::to_html(text, &roles))
    });
    env.add_filter("colour", |rgb: Option<u32>| {
        rgb.map_or_else(|| NO_COLOUR.to_owned(), |rgb| format!("#{rgb:06x}"))
    });
    env.add_filter("readable_time", |text: &str| markup::readable_rfc3339(text));
    Ok(env)
}

/// The page showing `transcript`.
pub fn render(transcript: &Transcript, page: &Page) -> Result<String, PageError> {
    let env = environment(page.roles.clone())?;
    let view = View {
        title: &page.title,
        author: &page.author,
        channels: channels(transcript),
    };
    Ok(env
        .get_template(TEMPLATE.0)?
        .render(Value::from(minijinja::value::Serde(view)))?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::message::{ChatMessage, Embed};
    use scraper::{Html, Selector};

    fn posted(id: &str, message: ChatMessage) -> Posted {
        Posted {
            id: id.into(),
            destination: "ops".into(),
            body: serde_json::to_value(message).unwrap(),
            posted_at: Timestamp(1_700_000_000_000),
            edited_at: None,
        }
    }

    fn page_of(messages: Vec<Posted>) -> Html {
        let mut transcript = Transcript::default();
        for message in messages {
            transcript.post(message);
        }
        let page = Page {
            title: "test".into(),
            author: "botwatch".into(),
            roles: BTreeMap::from([("7".to_owned(), "on-call".to_owned())]),
        };
        Html::parse_document(&render(&transcript, &page).unwrap())
    }

    fn texts(page: &Html, css: &str) -> Vec<String> {
        let selector = Selector::parse(css).unwrap();
        page.select(&selector)
            .map(|e| e.text().collect::<String>().trim().to_owned())
            .collect()
    }

    fn attrs(page: &Html, css: &str, name: &str) -> Vec<String> {
        let selector = Selector::parse(css).unwrap();
        page.select(&selector)
            .filter_map(|e| e.attr(name).map(str::to_owned))
            .collect()
    }

    #[test]
    fn a_card_shows_its_colour_title_fields_and_footer_like_discord() {
        let card = Embed::default()
            .title("Quota at 96 %")
            .description("960 of 1000")
            .color(0xE0_3E_3E)
            .field("Bot", "Support (`b1`)", true)
            .field("Status", "🔴 Firing since <t:1700000000:R>", false)
            .footer("rule quota · botwatch")
            .timestamp("2023-11-14T22:13:20Z".into());
        let page = page_of(vec![posted(
            "1",
            ChatMessage::new()
                .content("<@&7> 🔴 **critical** firing")
                .embed(card),
        )]);
        assert_eq!(
            attrs(&page, ".embed", "style"),
            ["border-left-color: #e03e3e"]
        );
        assert_eq!(texts(&page, ".embed-title"), ["Quota at 96 %"]);
        assert_eq!(texts(&page, ".field.inline .field-name"), ["Bot"]);
        assert_eq!(texts(&page, ".field:not(.inline) .field-name"), ["Status"]);
        assert_eq!(texts(&page, ".field-value code"), ["b1"]);
        assert_eq!(
            texts(&page, ".field-value .mention-time"),
            ["2023-11-14 22:13:20 UTC"]
        );
        assert_eq!(
            texts(&page, ".embed-footer"),
            ["rule quota · botwatch • 2023-11-14 22:13:20 UTC"]
        );
        assert_eq!(texts(&page, ".content .mention"), ["@on-call"]);
        assert_eq!(texts(&page, ".content strong"), ["critical"]);
        assert_eq!(texts(&page, ".author"), ["botwatch"]);
        assert_eq!(texts(&page, ".sent"), ["2023-11-14 22:13:20 UTC"]);
    }

    #[test]
    fn a_reply_points_at_its_card_and_an_edited_card_says_so() {
        let mut card = posted("1", ChatMessage::new().content("🔴 **critical** firing: q"));
        card.edited_at = Some(Timestamp(1_700_000_060_000));
        let reply = posted("2", ChatMessage::new().content("✅ Resolved").reply_to("1"));
        let orphan = posted("3", ChatMessage::new().content("🔁 again").reply_to("9"));
        let page = page_of(vec![card, reply, orphan]);
        assert_eq!(texts(&page, ".content .edited"), ["(edited)"]);
        assert_eq!(attrs(&page, "a.reply", "href"), ["#message-1"]);
        assert_eq!(
            texts(&page, "a.reply .reply-text"),
            ["🔴 critical firing: q", "Original message was deleted"]
        );
        assert_eq!(attrs(&page, "li.message", "id")[0], "message-1");
    }

    #[test]
    fn alert_text_is_shown_never_run() {
        let hostile = "<script>alert(1)</script><img src=x onerror=alert(2)>";
        let card = Embed::default()
            .title(hostile)
            .description(hostile)
            .field(hostile, hostile, true)
            .footer(hostile);
        let page = page_of(vec![posted(
            "1",
            ChatMessage::new().content(hostile).embed(card),
        )]);
        let html = page.html();
        assert!(!html.contains("<script>alert"), "{html}");
        let script = Selector::parse("script, img").unwrap();
        assert_eq!(page.select(&script).count(), 0);
        assert_eq!(texts(&page, ".embed-title"), [hostile]);
        assert_eq!(texts(&page, ".field-name"), [hostile]);
        assert_eq!(texts(&page, ".embed-footer"), [hostile]);
    }

    #[test]
    fn the_page_fetches_nothing_and_says_when_nothing_was_sent() {
        let page = page_of(Vec::new());
        let fetching = Selector::parse("[src], link, script").unwrap();
        assert_eq!(page.select(&fetching).count(), 0);
        let css = texts(&page, "style").concat();
        assert!(!css.contains("url(") && !css.contains("@import"));
        assert_eq!(
            texts(&page, ".empty"),
            ["Nothing was sent: no alert fired."]
        );
    }
}
