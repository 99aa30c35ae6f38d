//! Many alert events in a few messages, for storms: when a destination has more events waiting
//! than its rate budget allows, they are merged instead of queued for minutes or dropped.
//!
//! Every event is named on a line of its own ("• `rule` Bot · Platform: summary"), so a person
//! can find any one bot's alert in the channel. Lines are packed into as few messages as
//! Discord's limits allow (an embed per transition, more than one when a description is full,
//! 6000 characters across a message's embeds): with typical summaries about 80 alerts a
//! message, so 1,000 alerts take about 12 messages, some 10 s at a channel's five per 5 s.
//!
//! Packing is greedy and depends only on the events themselves, in order: the messages that
//! start at the same event always hold the same events. A retried digest therefore carries the
//! same events as the attempt before it, and the nonce built from them (see the Discord sink)
//! lets Discord drop the duplicate.

use super::message::{limits, truncate, ChatMessage, Embed};
use super::render::colour_for;
use crate::alerts::{AlertEvent, Transition};
use crate::rules::Severity;

/// Longest rule name, bot name and summary shown on a line, in characters: a storm of long
/// texts still gets dozens of alerts a message.
const PART: usize = 100;
/// Room kept per embed for its title ("1000 × still firing") and per message for the titles.
const TITLE_ROOM: usize = 32;

/// One digest message and how many of the events, from the start of what is left, it names.
#[derive(Debug)]
pub struct Digest {
    /// The events named, taken in order from the events given to [`digests`].
    pub len: usize,
    /// The message, without a nonce (the sender adds one).
    pub message: ChatMessage,
}

/// Digest messages naming every one of `events` once, in order; the first pings `role` (the
/// role configured for the most severe event), if given.
pub fn digests(events: &[&AlertEvent], role: Option<&str>) -> Vec<Digest> {
    let mut sheets: Vec<Sheet> = Vec::new();
    let mut sheet = Sheet::default();
    for event in events {
        let line = line(event);
        if !sheet.add(event, &line) {
            sheets.push(std::mem::take(&mut sheet));
            let added = sheet.add(event, &line);
            debug_assert!(added, "a line always fits an empty message");
        }
    }
    if sheet.len > 0 {
        sheets.push(sheet);
    }
    let parts = sheets.len();
    sheets
        .into_iter()
        .enumerate()
        .map(|(index, sheet)| {
            let ping = role.filter(|_| index == 0);
            let mention = ping.map(|r| format!("<@&{r}> ")).unwrap_or_default();
            let part = if parts > 1 {
                format!(" (part {} of {parts}, {} here)", index + 1, sheet.len)
            } else {
                String::new()
            };
            let content = format!(
                "{mention}📣 {} alert updates at once, merged to stay within Discord's rate limits{part}",
                events.len()
            );
            let len = sheet.len;
            let message = sheet.into_message(ChatMessage::new().content(&content));
            Digest {
                len,
                message: match ping {
                    Some(role) => message.ping_role(role),
                    None => message,
                },
            }
        })
        .collect()
}

fn verb(transition: Transition) -> &'static str {
    match transition {
        Transition::Fired => "firing",
        Transition::Reminder => "still firing",
        Transition::Resolved => "resolved",
    }
}

/// Embeds are shown in this order within a message.
fn rank(transition: Transition) -> u8 {
    match transition {
        Transition::Fired => 0,
        Transition::Reminder => 1,
        Transition::Resolved => 2,
    }
}

/// One alert on one line; line breaks in a summary become spaces so that every line is one
/// alert.
fn line(event: &AlertEvent) -> String {
    let platform = event
        .key
        .platform
        .map(|p| format!(" · {}", p.display_name()))
        .unwrap_or_default();
    let summary: String = event
        .summary
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    format!(
        "• `{}` {}{platform}: {}\n",
        truncate(&event.key.rule, PART),
        truncate(&event.bot_name, PART),
        truncate(&summary, PART)
    )
}

/// The lines of one transition in one embed.
struct Group {
    transition: Transition,
    /// The embed's colour is that of its most severe alert.
    worst: Severity,
    lines: String,
    chars: usize,
    count: usize,
}

/// A message being filled.
#[derive(Default)]
struct Sheet {
    groups: Vec<Group>,
    chars: usize,
    len: usize,
}

impl Sheet {
    /// Adds `line` if it fits within Discord's limits; `false` when the message is full.
    fn add(&mut self, event: &AlertEvent, line: &str) -> bool {
        let length = line.chars().count();
        let open = self
            .groups
            .iter_mut()
            .rev()
            .find(|g| g.transition == event.transition)
            .filter(|g| g.chars + length <= limits::DESCRIPTION);
        if let Some(group) = open {
            if self.chars + length > limits::EMBED_TOTAL {
                return false;
            }
            group.worst = group.worst.max(event.severity);
            group.lines.push_str(line);
            group.chars += length;
            group.count += 1;
        } else {
            if self.groups.len() == limits::EMBEDS
                || self.chars + TITLE_ROOM + length > limits::EMBED_TOTAL
            {
                return false;
            }
            self.groups.push(Group {
                transition: event.transition,
                worst: event.severity,
                lines: line.to_owned(),
                chars: length,
                count: 1,
            });
            self.chars += TITLE_ROOM;
        }
        self.chars += length;
        self.len += 1;
        true
    }

    fn into_message(mut self, message: ChatMessage) -> ChatMessage {
        self.groups.sort_by_key(|g| rank(g.transition));
        self.groups.into_iter().fold(message, |message, group| {
            let title = format!("{} × {}", group.count, verb(group.transition));
            message.embed(
                Embed::default()
                    .title(&title)
                    .color(colour_for(group.transition, group.worst))
                    .description(group.lines.trim_end()),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::AlertKey;
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

    fn storm(size: usize) -> Vec<AlertEvent> {
        (0..size)
            .map(|i| {
                let transition = if i % 4 == 0 {
                    Transition::Resolved
                } else {
                    Transition::Fired
                };
                event(&format!("rule{}", i % 20), i, transition)
            })
            .collect()
    }

    fn json(message: &ChatMessage) -> serde_json::Value {
        serde_json::to_value(message).unwrap()
    }

    #[test]
    fn a_storm_of_a_thousand_alerts_names_every_alert_once_within_discords_limits() {
        let events = storm(1000);
        let refs: Vec<&AlertEvent> = events.iter().collect();
        let digests = digests(&refs, None);
        assert!(digests.len() <= 20, "{} messages", digests.len());
        assert_eq!(digests.iter().map(|d| d.len).sum::<usize>(), 1000);
        let mut named = Vec::new();
        let mut start = 0;
        for digest in &digests {
            let embeds = digest.message.embeds();
            assert!(embeds.len() <= limits::EMBEDS);
            let total: usize = embeds.iter().map(Embed::text_len).sum();
            assert!(total <= limits::EMBED_TOTAL, "{total}");
            let body = json(&digest.message);
            let mut counted = 0;
            for embed in body["embeds"].as_array().unwrap() {
                let description = embed["description"].as_str().unwrap();
                assert!(description.chars().count() <= limits::DESCRIPTION);
                assert!(!description.ends_with('…'), "nothing cut");
                let lines: Vec<&str> = description.lines().collect();
                let title = embed["title"].as_str().unwrap();
                assert_eq!(title.split(" × ").next(), Some(&*lines.len().to_string()));
                counted += lines.len();
                named.extend(lines.iter().map(|l| l.to_string()));
            }
            assert_eq!(counted, digest.len, "the message names what it stands for");
            // The message holds exactly the next `len` events.
            for event in &refs[start..start + digest.len] {
                assert_eq!(
                    named
                        .iter()
                        .filter(|l| **l == line(event).trim_end())
                        .count(),
                    1
                );
            }
            start += digest.len;
        }
        let distinct: std::collections::HashSet<&String> = named.iter().collect();
        assert_eq!(
            (named.len(), distinct.len()),
            (1000, 1000),
            "each named once"
        );
    }

    #[test]
    fn the_messages_starting_at_one_event_hold_the_same_events_whatever_follows() {
        let events = storm(700);
        let refs: Vec<&AlertEvent> = events.iter().collect();
        let lens = |events: &[&AlertEvent]| -> Vec<usize> {
            digests(events, None).iter().map(|d| d.len).collect()
        };
        let whole = lens(&refs);
        assert!(whole.len() > 3);
        // A retry resumes at the first message not delivered, perhaps with newer events after.
        let first = whole[0];
        assert_eq!(lens(&refs[first..]), whole[1..]);
        let shorter = lens(&refs[..600]);
        assert_eq!(shorter[..shorter.len() - 1], whole[..shorter.len() - 1]);
    }

    #[test]
    fn only_the_first_message_pings_and_it_says_how_many_there_are() {
        let events = storm(300);
        let refs: Vec<&AlertEvent> = events.iter().collect();
        let digests = digests(&refs, Some("9"));
        let bodies: Vec<serde_json::Value> = digests.iter().map(|d| json(&d.message)).collect();
        let parts = bodies.len();
        assert!(parts > 1);
        let first = bodies[0]["content"].as_str().unwrap();
        assert!(
            first.starts_with("<@&9> 📣 300 alert updates at once"),
            "{first}"
        );
        assert!(first.contains(&format!("(part 1 of {parts}, ")), "{first}");
        assert_eq!(
            bodies[0]["allowed_mentions"]["roles"],
            serde_json::json!(["9"])
        );
        for body in &bodies[1..] {
            assert!(!body["content"].as_str().unwrap().contains("<@&"));
            assert_eq!(body["allowed_mentions"]["roles"], serde_json::json!([]));
        }
    }

    #[test]
    fn a_summary_on_several_lines_is_named_on_one() {
        let mut spoof = event("quota", 1, Transition::Fired);
        spoof.summary = "high\n• `fake` Other bot: made up".into();
        let digests = digests(&[&spoof, &event("quota", 2, Transition::Fired)], None);
        let description = json(&digests[0].message)["embeds"][0]["description"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(description.lines().count(), 2, "{description}");
    }

    #[test]
    fn an_embed_takes_the_colour_of_its_most_severe_alert() {
        let mut critical = event("quota", 2, Transition::Fired);
        critical.severity = Severity::Critical;
        let events = [event("quota", 1, Transition::Fired), critical];
        let refs: Vec<&AlertEvent> = events.iter().collect();
        let body = json(&digests(&refs, None)[0].message);
        assert_eq!(
            body["embeds"][0]["color"],
            colour_for(Transition::Fired, Severity::Critical)
        );
    }
}
