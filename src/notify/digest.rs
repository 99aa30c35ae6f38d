//! Many alert events in one message, for storms: when a destination has more events waiting
//! than its rate budget allows, they are merged instead of queued for minutes or dropped.
//!
//! One message per batch, one embed per transition (firing, still firing, resolved): a count
//! per rule in the fields, then the alerts line by line until the embed's share of the 6000
//! characters is used, then how many more there are. Every event is counted in exactly one
//! digest.

use std::collections::BTreeMap;

use super::message::{limits, ChatMessage, Embed};
use crate::alerts::{AlertEvent, Transition};

/// Rules counted by name in one embed; the rest are summed up as "other rules".
const RULES_LISTED: usize = 8;

fn verb(transition: Transition) -> &'static str {
    match transition {
        Transition::Fired => "firing",
        Transition::Reminder => "still firing",
        Transition::Resolved => "resolved",
    }
}

fn line(event: &AlertEvent) -> String {
    let platform = event
        .key
        .platform
        .map(|p| format!(" · {}", p.display_name()))
        .unwrap_or_default();
    format!(
        "• `{}` {}{platform}: {}",
        event.key.rule, event.bot_name, event.summary
    )
}

/// One digest message for `events`, oldest first, pinging `role` (the role configured for the
/// most severe event) if given.
pub fn digest(events: &[&AlertEvent], nonce: &str, role: Option<&str>) -> ChatMessage {
    let mut by_transition: BTreeMap<u8, Vec<&AlertEvent>> = BTreeMap::new();
    for event in events {
        let order = match event.transition {
            Transition::Fired => 0,
            Transition::Reminder => 1,
            Transition::Resolved => 2,
        };
        by_transition.entry(order).or_default().push(event);
    }
    let share = limits::EMBED_TOTAL / by_transition.len().max(1);
    let mention = role.map(|r| format!("<@&{r}> ")).unwrap_or_default();
    let content = format!(
        "{mention}📣 {} alert updates at once, merged to stay within Discord's rate limits",
        events.len()
    );
    let message = by_transition
        .values()
        .fold(ChatMessage::new().content(&content), |message, group| {
            message.embed(group_embed(group, share))
        })
        .nonce(nonce);
    match role {
        Some(role) => message.ping_role(role),
        None => message,
    }
}

fn group_embed(group: &[&AlertEvent], share: usize) -> Embed {
    let first = group[0];
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for event in group {
        *counts.entry(event.key.rule.as_str()).or_default() += 1;
    }
    let mut ranked: Vec<(&str, usize)> = counts.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let title = format!("{} × {}", group.len(), verb(first.transition));
    let mut embed = Embed::default()
        .title(&title)
        .color(super::render::colour_of(first));
    for (rule, count) in ranked.iter().take(RULES_LISTED) {
        embed = embed.field(rule, &count.to_string(), true);
    }
    let others: usize = ranked.iter().skip(RULES_LISTED).map(|(_, c)| c).sum();
    if others > 0 {
        embed = embed.field("other rules", &others.to_string(), true);
    }
    let budget = share
        .saturating_sub(embed.text_len() + 40)
        .min(limits::DESCRIPTION);
    embed.description(&listing(group, budget))
}

/// The alerts line by line within `budget` characters, then "+N more".
fn listing(group: &[&AlertEvent], budget: usize) -> String {
    let mut listed = String::new();
    let mut used = 0;
    let mut shown = 0;
    for event in group {
        let line = line(event);
        let length = line.chars().count() + 1;
        if used + length + 20 > budget {
            break;
        }
        listed.push_str(&line);
        listed.push('\n');
        used += length;
        shown += 1;
    }
    if shown < group.len() {
        listed.push_str(&format!("+{} more", group.len() - shown));
    }
    listed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::AlertKey;
    use crate::rules::Severity;
    use crate::time::Timestamp;

    fn event(rule: &str, bot: usize, transition: Transition) -> AlertEvent {
        AlertEvent {
            transition,
            key: AlertKey {
                rule: rule.into(),
                bot_id: format!("b{bot}"),
                platform: None,
            },
            bot_name: format!("Bot number {bot}"),
            severity: Severity::Warning,
            labels: Default::default(),
            summary: format!(
                "LINE quota at 97.5 % on Bot number {bot} ({})",
                "x".repeat(40)
            ),
            description: None,
            active_since: Timestamp(0),
            fired_at: Some(Timestamp(0)),
            at: Timestamp(1),
            channel: None,
            value: None,
        }
    }

    #[test]
    fn a_storm_of_a_thousand_alerts_fits_in_one_message_and_counts_every_alert() {
        let events: Vec<AlertEvent> = (0..1000)
            .map(|i| {
                event(
                    &format!("rule{}", i % 20),
                    i,
                    if i % 4 == 0 {
                        Transition::Resolved
                    } else {
                        Transition::Fired
                    },
                )
            })
            .collect();
        let refs: Vec<&AlertEvent> = events.iter().collect();
        let json = serde_json::to_value(digest(&refs, "d", None)).unwrap();
        let embeds = json["embeds"].as_array().unwrap();
        let titles: Vec<&str> = embeds
            .iter()
            .map(|e| e["title"].as_str().unwrap())
            .collect();
        assert_eq!(titles, ["750 × firing", "250 × resolved"]);
        let firing = &embeds[0];
        assert_eq!(
            firing["fields"].as_array().unwrap().len(),
            9,
            "eight rules by name, then the others"
        );
        assert_eq!(
            firing["fields"][8],
            serde_json::json!({"name": "other rules", "value": "350", "inline": true})
        );
        assert!(firing["description"].as_str().unwrap().contains(" more"));
        let message = digest(&refs, "d", None);
        let total: usize = message.embeds().iter().map(Embed::text_len).sum();
        assert!(total <= limits::EMBED_TOTAL, "{total}");
        let pinged = serde_json::to_value(digest(&refs, "d", Some("9"))).unwrap();
        assert!(pinged["content"]
            .as_str()
            .unwrap()
            .starts_with("<@&9> 📣 1000 alert updates"));
        assert_eq!(
            pinged["allowed_mentions"]["roles"],
            serde_json::json!(["9"])
        );
    }
}
