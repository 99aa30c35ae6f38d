//! The page `--preview` writes, as a user reads it: parsed with a real HTML parser (scraper)
//! into messages, their reply line, their cards and the cards' fields, with the text a browser
//! shows. Tests assert on these, never on the HTML source.

use std::path::Path;

use scraper::{ElementRef, Html, Selector};

/// The page.
#[derive(Debug)]
pub struct PreviewPage {
    /// The messages, top to bottom.
    pub messages: Vec<Message>,
    /// `<script>` elements (alert text must never become one).
    pub scripts: usize,
    /// Everything the page would fetch: `src`, `<link href>`, and `url(`/`@import` in its CSS.
    pub fetches: Vec<String>,
}

/// One message.
#[derive(Debug, Clone)]
pub struct Message {
    /// The element's id (`message-{id}`), what a reply links to.
    pub anchor: String,
    /// The channel (destination) it is in.
    pub channel: String,
    /// The author shown.
    pub author: String,
    /// The time shown beside the author.
    pub sent: String,
    /// The text, as shown (without the "(edited)" mark).
    pub content: String,
    /// Role mentions shown as pills, e.g. `@on-call`.
    pub mentions: Vec<String>,
    /// Whether it is marked "(edited)".
    pub edited: bool,
    /// For a reply: the anchor of the message it refers to, and the line shown above it.
    pub reply: Option<(String, String)>,
    /// Its embeds.
    pub embeds: Vec<Embed>,
}

/// One embed (an alert card or a digest).
#[derive(Debug, Clone)]
pub struct Embed {
    /// The colour of its left bar, `#rrggbb`.
    pub colour: String,
    /// The title.
    pub title: String,
    /// The description.
    pub description: String,
    /// The fields: name, value, and whether it sits side by side with its neighbours.
    pub fields: Vec<(String, String, bool)>,
    /// The footer line (footer text and timestamp).
    pub footer: String,
}

impl Embed {
    /// The value of field `name`; panics listing the fields if there is none.
    pub fn field(&self, name: &str) -> &str {
        self.fields
            .iter()
            .find(|(n, _, _)| n == name)
            .map(|(_, value, _)| value.as_str())
            .unwrap_or_else(|| panic!("no field {name} in {:#?}", self.fields))
    }
}

impl Message {
    /// The first embed's title, if it has one.
    pub fn title(&self) -> Option<&str> {
        self.embeds.first().map(|e| e.title.as_str())
    }
}

fn select(css: &str) -> Selector {
    Selector::parse(css).expect("a valid selector")
}

fn text_of(element: Option<ElementRef<'_>>) -> String {
    element
        .map(|e| e.text().collect::<String>().trim().to_owned())
        .unwrap_or_default()
}

fn first<'a>(element: ElementRef<'a>, css: &str) -> Option<ElementRef<'a>> {
    element.select(&select(css)).next()
}

fn embed(card: ElementRef<'_>) -> Embed {
    let colour = card
        .attr("style")
        .and_then(|s| s.split("border-left-color:").nth(1))
        .map(|c| c.trim().trim_end_matches(';').to_owned())
        .unwrap_or_default();
    let fields = card
        .select(&select(".field"))
        .map(|field| {
            let inline = field.value().classes().any(|c| c == "inline");
            (
                text_of(first(field, ".field-name")),
                text_of(first(field, ".field-value")),
                inline,
            )
        })
        .collect();
    Embed {
        colour,
        title: text_of(first(card, ".embed-title")),
        description: text_of(first(card, ".embed-description")),
        fields,
        footer: text_of(first(card, ".embed-footer")),
    }
}

fn message(channel: &str, item: ElementRef<'_>) -> Message {
    let content = first(item, ".content");
    let edited = content.and_then(|c| first(c, ".edited")).is_some();
    let mut text = text_of(content);
    if edited {
        text = text.trim_end_matches("(edited)").trim_end().to_owned();
    }
    let reply = first(item, "a.reply").map(|reply| {
        let target = reply.attr("href").unwrap_or("").trim_start_matches('#');
        (target.to_owned(), text_of(first(reply, ".reply-text")))
    });
    let mentions = content
        .map(|c| {
            c.select(&select(".mention"))
                .map(|m| text_of(Some(m)))
                .collect()
        })
        .unwrap_or_default();
    Message {
        anchor: item.attr("id").unwrap_or("").to_owned(),
        channel: channel.to_owned(),
        author: text_of(first(item, ".header .author")),
        sent: text_of(first(item, ".header .sent")),
        content: text,
        mentions,
        edited,
        reply,
        embeds: item.select(&select(".embed")).map(embed).collect(),
    }
}

impl PreviewPage {
    /// Reads and parses the page at `path`; panics if it is missing.
    pub fn read(path: &Path) -> PreviewPage {
        let html = std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("no preview at {}: {e}", path.display()));
        PreviewPage::parse(&html)
    }

    /// Parses `html`.
    pub fn parse(html: &str) -> PreviewPage {
        let document = Html::parse_document(html);
        let mut messages = Vec::new();
        for channel in document.select(&select("section.channel")) {
            let name = channel.attr("data-destination").unwrap_or("");
            messages.extend(
                channel
                    .select(&select("li.message"))
                    .map(|m| message(name, m)),
            );
        }
        let mut fetches: Vec<String> = document
            .select(&select("[src], link[href]"))
            .filter_map(|e| e.attr("src").or(e.attr("href")).map(str::to_owned))
            .collect();
        for style in document.select(&select("style")) {
            let css: String = style.text().collect();
            fetches.extend(
                ["url(", "@import"]
                    .iter()
                    .filter(|what| css.contains(**what))
                    .map(|what| format!("CSS {what}")),
            );
        }
        PreviewPage {
            messages,
            scripts: document.select(&select("script")).count(),
            fetches,
        }
    }

    /// The messages that carry embeds (cards and digests).
    pub fn cards(&self) -> Vec<&Message> {
        self.messages
            .iter()
            .filter(|m| !m.embeds.is_empty())
            .collect()
    }

    /// The message whose card has `title`; panics listing the titles if there is none.
    pub fn card(&self, title: &str) -> &Message {
        self.messages
            .iter()
            .find(|m| m.title() == Some(title))
            .unwrap_or_else(|| panic!("no card titled {title:?}; cards: {:?}", self.titles()))
    }

    /// The titles of the cards, top to bottom.
    pub fn titles(&self) -> Vec<String> {
        self.cards()
            .iter()
            .filter_map(|m| m.title().map(str::to_owned))
            .collect()
    }
}
