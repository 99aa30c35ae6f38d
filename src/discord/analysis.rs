//! The `/analysis` reply: the current picture of one bot as an embed.
//!
//! LINE quota as a bar with used / limit / remaining, the plan, reply / push / broadcast
//! amounts, a table of platforms (integrated, average conversation value and time), the bot's
//! firing alerts and the age of the data. Missing figures show as `n/a`, never as zero.

use crate::alerts::{AlertInstance, Phase};
use crate::analytics::{Platform, Snapshot};
use crate::notify::message::Embed;
use crate::time::Timestamp;

const BAR_CELLS: usize = 10;
const BLUE: u32 = 0x3B_82_F6;
const AMBER: u32 = 0xF0_A0_30;

/// What the reply shows.
pub struct AnalysisView<'a> {
    /// The bot's display name.
    pub bot_name: &'a str,
    /// The bot's id.
    pub bot_id: &'a str,
    /// The snapshot and when it was taken.
    pub snapshot: Option<(Timestamp, &'a Snapshot)>,
    /// The bot's alert instances (firing ones are listed).
    pub alerts: &'a [AlertInstance],
    /// Why fresh data could not be had, if it could not.
    pub error: Option<&'a str>,
}

fn or_na(value: Option<i64>) -> String {
    value.map_or_else(|| "n/a".to_owned(), |v| v.to_string())
}

/// `▓▓▓▓▓▓▓▓░░ 85.0 %`.
fn bar(ratio: f64) -> String {
    let filled = ((ratio.clamp(0.0, 1.0) * BAR_CELLS as f64).round() as usize).min(BAR_CELLS);
    format!(
        "{}{} {:.1} %",
        "▓".repeat(filled),
        "░".repeat(BAR_CELLS - filled),
        ratio * 100.0
    )
}

/// `2:05` for 125 seconds.
fn minutes_seconds(seconds: Option<i64>) -> String {
    seconds.map_or_else(|| "n/a".to_owned(), |s| format!("{}:{:02}", s / 60, s % 60))
}

fn quota(snapshot: &Snapshot) -> String {
    let Some(ratio) = snapshot.line_quota_ratio() else {
        return format!(
            "{} used of {}",
            or_na(snapshot.line_quota_consumption),
            or_na(snapshot.line_quota)
        );
    };
    format!(
        "{}\n{} / {} used · {} left",
        bar(ratio),
        or_na(snapshot.line_quota_consumption),
        or_na(snapshot.line_quota),
        or_na(snapshot.line_quota_remaining())
    )
}

fn platforms(snapshot: &Snapshot) -> String {
    let mut table = String::from("```\nPlatform   On  Value   Time\n");
    for platform in Platform::ALL {
        let view = snapshot.platform(platform);
        let on = match view.integrated {
            Some(true) => "✅",
            Some(false) => "❌",
            None => "? ",
        };
        table.push_str(&format!(
            "{:<10} {on} {:>6} {:>6}\n",
            platform.display_name(),
            or_na(view.average_conversation_value),
            minutes_seconds(view.average_conversation_time)
        ));
    }
    table.push_str("```");
    table
}

fn firing(alerts: &[AlertInstance]) -> String {
    let lines: Vec<String> = alerts
        .iter()
        .filter(|a| a.phase == Phase::Firing)
        .map(|a| match a.key.platform {
            Some(p) => format!("🔴 `{}` ({})", a.key.rule, p.display_name()),
            None => format!("🔴 `{}`", a.key.rule),
        })
        .collect();
    if lines.is_empty() {
        "none".to_owned()
    } else {
        lines.join("\n")
    }
}

/// The embed for a view.
pub fn analysis_embed(view: &AnalysisView<'_>) -> Embed {
    let mut embed = Embed::default()
        .title(&format!("📊 {} ({})", view.bot_name, view.bot_id))
        .color(if view.error.is_some() { AMBER } else { BLUE });
    let mut description = String::new();
    if let Some(error) = view.error {
        description.push_str(&format!("⚠️ Could not fetch fresh data: {error}\n"));
    }
    match view.snapshot {
        Some((at, snapshot)) => {
            if view.error.is_some() {
                description.push_str("Showing the last known data.\n");
            }
            description.push_str(&format!("**LINE quota**\n{}", quota(snapshot)));
            embed = embed
                .field(
                    "Plan",
                    snapshot.line_program.as_deref().unwrap_or("n/a"),
                    true,
                )
                .field("Replies", &or_na(snapshot.line_reply_amounts), true)
                .field("Pushes", &or_na(snapshot.line_push_amounts), true)
                .field("Broadcasts", &or_na(snapshot.line_broadcast_amounts), true)
                .field("Platforms", &platforms(snapshot), false)
                .field("Firing alerts", &firing(view.alerts), false)
                .field(
                    "Data as of",
                    &format!("<t:{}:R>", at.as_unix_seconds()),
                    false,
                );
        }
        None => description.push_str("No data has been received for this bot yet."),
    }
    embed.description(&description).footer("botwatch /analysis")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_quota_bar_and_times_read_at_a_glance() {
        assert_eq!(bar(0.85), "▓▓▓▓▓▓▓▓▓░ 85.0 %");
        assert_eq!(bar(1.7), "▓▓▓▓▓▓▓▓▓▓ 170.0 %");
        assert_eq!(minutes_seconds(Some(125)), "2:05");
        assert_eq!(minutes_seconds(None), "n/a");
    }

    #[test]
    fn missing_figures_show_as_na_not_zero() {
        let snapshot = Snapshot {
            fb_is_integration: Some(true),
            ..Snapshot::default()
        };
        let table = platforms(&snapshot);
        assert!(table.contains("Facebook   ✅    n/a    n/a"), "{table}");
        assert_eq!(quota(&snapshot), "n/a used of n/a");
    }
}
