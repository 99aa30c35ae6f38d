//! Alert events as chat messages: the alert card (one per alert, edited in place as the alert
//! goes on) and the short notices that reply to it.
//!
//! Everything goes through [`ChatMessage`] and [`Embed`], so whatever an alert's text holds,
//! the result is within Discord's limits and pings only the role configured for it.

use std::time::Duration;

use super::message::{ChatMessage, Embed};
use crate::alerts::{AlertEvent, Transition};
use crate::rules::Severity;

/// Card colour of a resolved alert.
const GREEN: u32 = 0x2E_AD_5B;

fn colour(severity: Severity) -> u32 {
    match severity {
        Severity::Critical => 0xE0_3E_3E,
        Severity::Warning => 0xF0_A0_30,
        Severity::Info => 0x3B_82_F6,
    }
}

fn icon(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "🔴",
        Severity::Warning => "🟠",
        Severity::Info => "🔵",
    }
}

/// The card colour of an event: green once resolved, else by severity.
pub fn colour_of(event: &AlertEvent) -> u32 {
    colour_for(event.transition, event.severity)
}

/// The colour of a transition at a severity: green once resolved, else by severity.
pub fn colour_for(transition: Transition, severity: Severity) -> u32 {
    if transition == Transition::Resolved {
        GREEN
    } else {
        colour(severity)
    }
}

/// A Discord timestamp that every reader sees in their own time zone ("5 minutes ago").
fn relative(unix_seconds: i64) -> String {
    format!("<t:{unix_seconds}:R>")
}

fn lasted(event: &AlertEvent) -> String {
    let since = event.fired_at.unwrap_or(event.active_since);
    humantime::format_duration(Duration::from_secs(event.at.since(since).as_secs())).to_string()
}

/// The alert card: what the alert is, where, since when, and how it ended.
pub fn card(event: &AlertEvent) -> Embed {
    let resolved = event.transition == Transition::Resolved;
    let fired_at = event.fired_at.unwrap_or(event.active_since);
    let status = if resolved {
        format!(
            "✅ Resolved {} after {}",
            relative(event.at.as_unix_seconds()),
            lasted(event)
        )
    } else {
        format!(
            "{} Firing since {}",
            icon(event.severity),
            relative(fired_at.as_unix_seconds())
        )
    };
    let other_labels: Vec<String> = event
        .labels
        .iter()
        .filter(|(name, _)| name.as_str() != "platform")
        .map(|(name, value)| format!("{name}={value}"))
        .collect();
    let platform = event.key.platform.map(|p| p.display_name()).unwrap_or("");
    Embed::default()
        .title(&event.summary)
        .description(event.description.as_deref().unwrap_or(""))
        .color(colour_of(event))
        .field(
            "Bot",
            &format!("{} (`{}`)", event.bot_name, event.key.bot_id),
            true,
        )
        .field("Platform", platform, true)
        .field("Severity", event.severity.as_str(), true)
        .field("Value", event.value.as_deref().unwrap_or(""), true)
        .field("Status", &status, false)
        .field("Labels", &other_labels.join(", "), false)
        .footer(&format!("rule {} · botwatch", event.key.rule))
        .timestamp(event.at.to_string())
}

fn mention(role: Option<&str>) -> String {
    role.map(|r| format!("<@&{r}> ")).unwrap_or_default()
}

/// The first message of an alert: its card, with the configured role pinged.
pub fn new_card(event: &AlertEvent, role: Option<&str>, nonce: &str) -> ChatMessage {
    let verb = match event.transition {
        Transition::Fired => "firing",
        Transition::Reminder => "still firing",
        Transition::Resolved => "resolved",
    };
    let text = format!(
        "{}{} **{}** {verb}: {}",
        mention(role),
        icon(event.severity),
        event.severity,
        event.summary
    );
    let message = ChatMessage::new()
        .content(&text)
        .embed(card(event))
        .nonce(nonce);
    match (role, event.transition) {
        (Some(role), Transition::Fired | Transition::Reminder) => message.ping_role(role),
        _ => message,
    }
}

/// The edit that brings an existing card up to date (still firing, or resolved in green).
pub fn card_update(event: &AlertEvent) -> ChatMessage {
    ChatMessage::new().embed(card(event))
}

/// The short notice replying to the card, so that people are told a reminder or resolution
/// happened (an edit alone notifies nobody). Reminders ping the role; resolutions do not.
pub fn notice(
    event: &AlertEvent,
    card_id: Option<&str>,
    role: Option<&str>,
    nonce: &str,
) -> ChatMessage {
    let (text, ping) = match event.transition {
        Transition::Resolved => (
            format!("✅ Resolved after {}: {}", lasted(event), event.summary),
            false,
        ),
        _ => (
            format!("{}🔁 Still firing: {}", mention(role), event.summary),
            true,
        ),
    };
    let mut message = ChatMessage::new().content(&text).nonce(nonce);
    if let Some(card_id) = card_id {
        message = message.reply_to(card_id);
    }
    match role {
        Some(role) if ping => message.ping_role(role),
        _ => message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::AlertKey;
    use crate::analytics::Platform;
    use crate::time::Timestamp;

    fn event(transition: Transition, summary: &str) -> AlertEvent {
        AlertEvent {
            transition,
            key: AlertKey {
                rule: "dropped".into(),
                bot_id: "b1".into(),
                platform: Some(Platform::Facebook),
            },
            bot_name: "Support".into(),
            severity: Severity::Critical,
            labels: [
                ("team".to_owned(), "ops".to_owned()),
                ("platform".to_owned(), "fb".to_owned()),
            ]
            .into(),
            summary: summary.into(),
            description: None,
            active_since: Timestamp(1_700_000_000_000),
            fired_at: Some(Timestamp(1_700_000_000_000)),
            at: Timestamp(1_700_000_720_000),
            channel: None,
            value: None,
        }
    }

    #[test]
    fn a_card_shows_bot_platform_status_and_rule() {
        let json = serde_json::to_value(new_card(
            &event(Transition::Fired, "fb dropped"),
            Some("99"),
            "bw1",
        ))
        .unwrap();
        assert_eq!(json["content"], "<@&99> 🔴 **critical** firing: fb dropped");
        assert_eq!(json["allowed_mentions"]["roles"], serde_json::json!(["99"]));
        assert_eq!(json["nonce"], "bw1");
        let card = &json["embeds"][0];
        assert_eq!(card["title"], "fb dropped");
        assert_eq!(card["fields"][0]["value"], "Support (`b1`)");
        assert_eq!(card["fields"][1]["value"], "Facebook");
        assert_eq!(
            card["fields"][3]["value"],
            "🔴 Firing since <t:1700000000:R>"
        );
        assert_eq!(card["fields"][4]["value"], "team=ops");
        assert_eq!(card["footer"]["text"], "rule dropped · botwatch");
    }

    #[test]
    fn a_resolved_card_turns_green_and_says_how_long_it_fired() {
        let json = serde_json::to_value(card_update(&event(Transition::Resolved, "x"))).unwrap();
        assert_eq!(json["embeds"][0]["color"], GREEN);
        assert_eq!(
            json["embeds"][0]["fields"][3]["value"],
            "✅ Resolved <t:1700000720:R> after 12m"
        );
        let reply = serde_json::to_value(notice(
            &event(Transition::Resolved, "x"),
            Some("5"),
            Some("99"),
            "bw2",
        ))
        .unwrap();
        assert_eq!(reply["content"], "✅ Resolved after 12m: x");
        assert_eq!(reply["message_reference"]["message_id"], "5");
        assert_eq!(
            reply["allowed_mentions"]["roles"],
            serde_json::json!([]),
            "resolutions ping nobody"
        );
    }
}
