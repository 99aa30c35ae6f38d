//! Discord's markup as botwatch writes it, in HTML: `**bold**`, `` `code` ``, `<t:…>`
//! timestamps and `<@&…>` role mentions. Everything else is text, HTML-escaped.
//!
//! Not a Markdown renderer: botwatch's messages use these four forms and no others, and alert
//! text (which users and the analytics API control) is escaped whatever it holds, so a
//! `<script>` in a summary is shown, never run.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::LazyLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use minijinja::HtmlEscape;
use regex::Regex;

/// The forms rendered: bold, inline code, a timestamp with an optional style, a role mention.
const FORMS: &str = r"\*\*(?P<bold>[^*]+)\*\*|`(?P<code>[^`]+)`|<t:(?P<time>-?\d{1,12})(?::[tTdDfFR])?>|<@&(?P<role>\d{1,20})>";

static TOKENS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(FORMS).expect("the markup pattern is a valid regex"));

/// The first second humantime cannot print (the year 10000).
const LAST_PRINTABLE: u64 = 253_402_300_800;

/// `text` as HTML: the four forms rendered, the rest escaped. Role mentions show the role's
/// name from `roles` when known.
pub fn to_html(text: &str, roles: &BTreeMap<String, String>) -> String {
    let mut html = String::with_capacity(text.len() + 32);
    let mut done = 0;
    for found in TOKENS.captures_iter(text) {
        let Some(whole) = found.get(0) else { continue };
        let _ = write!(html, "{}", HtmlEscape(&text[done..whole.start()]));
        done = whole.end();
        if let Some(bold) = found.name("bold") {
            let _ = write!(html, "<strong>{}</strong>", to_html(bold.as_str(), roles));
        } else if let Some(code) = found.name("code") {
            let _ = write!(html, "<code>{}</code>", HtmlEscape(code.as_str()));
        } else if let Some(time) = found.name("time").and_then(|t| unix_time(t.as_str())) {
            let _ = write!(
                html,
                r#"<time class="mention-time" datetime="{}">{}</time>"#,
                humantime::format_rfc3339_seconds(time),
                readable(time)
            );
        } else if let Some(role) = found.name("role") {
            let name = roles
                .get(role.as_str())
                .map_or_else(|| format!("role {}", role.as_str()), String::clone);
            let _ = write!(
                html,
                r#"<span class="mention">@{}</span>"#,
                HtmlEscape(&name)
            );
        } else {
            // A timestamp no date can show: as Discord does, leave the text as written.
            let _ = write!(html, "{}", HtmlEscape(whole.as_str()));
        }
    }
    let _ = write!(html, "{}", HtmlEscape(&text[done..]));
    html
}

fn unix_time(seconds: &str) -> Option<SystemTime> {
    let seconds: u64 = seconds.parse().ok()?;
    (seconds < LAST_PRINTABLE).then(|| UNIX_EPOCH + Duration::from_secs(seconds))
}

/// A date people read at a glance: `2026-11-24 05:20:40 UTC`.
pub fn readable(time: SystemTime) -> String {
    let rfc3339 = humantime::format_rfc3339_seconds(time).to_string();
    let (date, clock) = rfc3339.split_once('T').unwrap_or((&rfc3339, ""));
    format!("{date} {} UTC", clock.trim_end_matches('Z'))
}

/// An RFC 3339 timestamp (an embed's) as [`readable`] shows it; other text as it is.
pub fn readable_rfc3339(text: &str) -> String {
    humantime::parse_rfc3339_weak(text)
        .ok()
        .filter(|t| {
            t.duration_since(UNIX_EPOCH)
                .is_ok_and(|d| d.as_secs() < LAST_PRINTABLE)
        })
        .map_or_else(|| text.to_owned(), readable)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn html(text: &str) -> String {
        let roles = BTreeMap::from([("77".to_owned(), "on-call".to_owned())]);
        to_html(text, &roles)
    }

    #[test]
    fn what_botwatch_writes_is_rendered() {
        assert_eq!(
            html("<@&77> 🔴 **critical** firing: quota"),
            r#"<span class="mention">@on-call</span> 🔴 <strong>critical</strong> firing: quota"#
        );
        assert_eq!(html("Support (`b1`)"), "Support (<code>b1</code>)");
        assert_eq!(
            html("Firing since <t:1700000000:R>"),
            r#"Firing since <time class="mention-time" datetime="2023-11-14T22:13:20Z">2023-11-14 22:13:20 UTC</time>"#
        );
        assert_eq!(html("<@&5>"), r#"<span class="mention">@role 5</span>"#);
    }

    #[test]
    fn everything_else_is_escaped() {
        assert_eq!(
            html("<script>alert(1)</script> & <b>"),
            "&lt;script&gt;alert(1)&lt;&#x2f;script&gt; &amp; &lt;b&gt;"
        );
        assert_eq!(
            html("**<img src=x>**"),
            "<strong>&lt;img src=x&gt;</strong>"
        );
        assert_eq!(html("`<i>`"), "<code>&lt;i&gt;</code>");
        assert_eq!(html("<t:999999999999>"), "&lt;t:999999999999&gt;");
    }

    #[test]
    fn embed_timestamps_read_as_dates() {
        assert_eq!(
            readable_rfc3339("2026-11-24T05:20:40Z"),
            "2026-11-24 05:20:40 UTC"
        );
        assert_eq!(readable_rfc3339("not a time"), "not a time");
    }
}
