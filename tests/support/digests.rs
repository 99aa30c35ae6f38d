//! Reading digests as Discord shows them: an embed per transition titled "N × firing", each
//! alert named on a line of its own ("• `rule` Bot · Platform: summary").

use super::discord::StoredMessage;

/// The count in a digest embed's title ("12 × firing"), if it is one.
pub fn digest_count(title: &str) -> Option<usize> {
    title.split_once(" × ").and_then(|(n, _)| n.parse().ok())
}

/// How many alerts the digest embeds of `messages` stand for, all together.
pub fn alerts_counted(messages: &[StoredMessage]) -> usize {
    digest_embeds(messages)
        .filter_map(|e| e["title"].as_str().and_then(digest_count))
        .sum()
}

/// One alert as a digest line names it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Named {
    /// The rule.
    pub rule: String,
    /// The bot's name.
    pub bot: String,
    /// The platform, for per-platform alerts.
    pub platform: Option<String>,
}

/// Every alert the digest lines of `messages` name, in the order Discord received them, with
/// repeats (a doubled digest names its alerts twice).
pub fn named_alerts(messages: &[StoredMessage]) -> Vec<Named> {
    digest_embeds(messages)
        .flat_map(|e| {
            let description = e["description"].as_str().unwrap_or("").to_owned();
            description.lines().filter_map(named).collect::<Vec<_>>()
        })
        .collect()
}

/// "• `rule` Bot · Platform: summary", or without " · Platform".
fn named(line: &str) -> Option<Named> {
    let (rule, rest) = line.strip_prefix("• `")?.split_once("` ")?;
    let (who, _summary) = rest.split_once(": ")?;
    let (bot, platform) = match who.split_once(" · ") {
        Some((bot, platform)) => (bot, Some(platform.to_owned())),
        None => (who, None),
    };
    Some(Named {
        rule: rule.to_owned(),
        bot: bot.to_owned(),
        platform,
    })
}

fn digest_embeds(messages: &[StoredMessage]) -> impl Iterator<Item = serde_json::Value> + '_ {
    messages
        .iter()
        .flat_map(|m| m.body["embeds"].as_array().cloned().unwrap_or_default())
        .filter(|e| e["title"].as_str().and_then(digest_count).is_some())
}
