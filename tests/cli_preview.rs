//! `--preview FILE.html` of `demo` and `eval`, run as a user runs them: the real binary, the
//! page it writes parsed with an HTML parser, and what a reader of that page would see.

mod support;

use std::path::Path;

use serde_json::json;
use support::preview::PreviewPage;
use support::{project_root, run_botwatch, Outcome};

/// Card colours, as the page shows them.
const RED: &str = "#e03e3e";
const ORANGE: &str = "#f0a030";
const GREEN: &str = "#2ead5b";

/// Runs `botwatch demo --rules rules.yaml --for DURATION --preview preview.html` in `dir`
/// with `rules` written there, and reads the page; panics unless the demo exits 0.
fn demo_with_rules(
    dir: &Path,
    rules: &str,
    duration: &str,
    env: &[(&str, &str)],
) -> (Outcome, PreviewPage) {
    std::fs::write(dir.join("rules.yaml"), rules).unwrap();
    let args = [
        "demo",
        "--rules",
        "rules.yaml",
        "--for",
        duration,
        "--preview",
        "preview.html",
    ];
    let out = run_botwatch(dir, &args, env);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let page = PreviewPage::read(&dir.join("preview.html"));
    (out, page)
}

#[test]
fn demo_preview_shows_each_alert_card_in_its_final_state_with_its_replies() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_botwatch(dir.path(), &["demo", "--preview", "cards.html"], &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let path = dir.path().join("cards.html");
    assert!(
        out.stdout
            .contains(&format!("8 Discord message(s) in {}", path.display())),
        "the demo says where the page is:\n{}",
        out.stdout
    );
    let page = PreviewPage::read(&path);
    assert_eq!(
        page.titles(),
        [
            "Facebook integration dropped on Support bot",
            "LINE quota at 81.0 % on Support bot",
            "LINE quota at 96.0 % on Support bot: 40 messages left",
            "Analytics API failing for Support bot (3 polls in a row)",
        ],
        "one card per alert, none for the healthy Sales bot"
    );
    for card in page.cards() {
        let embed = &card.embeds[0];
        assert_eq!(embed.colour, GREEN, "resolved in green: {card:#?}");
        assert!(card.edited, "the resolution edited the card: {card:#?}");
        let status = embed.field("Status");
        assert!(
            status.starts_with("✅ Resolved ") && status.contains(" UTC after "),
            "Discord's <t:…:R> reads as a date: {status}"
        );
        assert_eq!(card.author, "botwatch");
        assert!(card.sent.ends_with(" UTC"), "{}", card.sent);
    }
    let dropped = page.card("Facebook integration dropped on Support bot");
    let embed = &dropped.embeds[0];
    assert_eq!(embed.field("Bot"), "Support bot (demo-support)");
    assert_eq!(embed.field("Platform"), "Facebook");
    assert_eq!(embed.field("Severity"), "critical");
    assert!(
        embed.fields.iter().take(3).all(|(_, _, inline)| *inline),
        "bot, platform and severity side by side"
    );
    assert!(embed
        .footer
        .starts_with("rule integration-dropped · botwatch • "));
    assert!(
        dropped
            .content
            .starts_with("@on-call 🔴 critical firing: Facebook integration dropped"),
        "{}",
        dropped.content
    );
    assert_eq!(
        dropped.mentions,
        ["@on-call"],
        "the critical role is pinged"
    );
    let warning = page.card("LINE quota at 81.0 % on Support bot");
    assert!(warning.mentions.is_empty(), "no role for warnings");

    let replies: Vec<_> = page.messages.iter().filter(|m| m.reply.is_some()).collect();
    assert_eq!(replies.len(), 4, "one resolution notice per alert");
    let notice = replies
        .iter()
        .find(|m| {
            m.content
                .ends_with(": Facebook integration dropped on Support bot")
        })
        .expect("the Facebook resolution notice");
    assert!(notice.content.starts_with("✅ Resolved after "));
    let (target, line) = notice.reply.as_ref().unwrap();
    assert_eq!(target, &dropped.anchor, "the notice replies to its card");
    assert!(
        line.contains("critical firing: Facebook integration dropped"),
        "{line}"
    );
    assert!(notice.embeds.is_empty());
}

#[test]
fn demo_preview_merges_a_storm_into_digests_and_escapes_alert_text() {
    let dir = tempfile::tempdir().unwrap();
    let rules = r#"
rules:
  - name: storm
    each: platform
    when: "true"
    severity: warning
    summary: "<script>alert(1)</script> on {{ bot.name }} ({{ platform.label }})"
  - name: storm-critical
    each: platform
    when: "true"
    severity: critical
    summary: "critical on {{ bot.name }} ({{ platform.label }})"
"#;
    let (out, page) = demo_with_rules(dir.path(), rules, "3s", &[]);
    assert!(!page.messages.is_empty(), "{}", out.stdout);
    // Each bot's ten alerts fire in one poll; whether both polls share a delivery pass is
    // timing, so the digests are counted together.
    let mut merged = 0;
    for digest in &page.messages {
        assert!(
            digest.content.contains(" alert updates at once, merged"),
            "every message is a digest: {digest:#?}"
        );
        assert_eq!(
            digest.mentions,
            ["@on-call"],
            "the most severe alert's role"
        );
        let embed = &digest.embeds[0];
        let count = embed
            .title
            .strip_suffix(" × firing")
            .expect("a firing group");
        merged += count.parse::<usize>().unwrap();
        assert!(
            embed.description.contains("<script>alert(1)</script> on "),
            "alert text shows as written: {}",
            embed.description
        );
    }
    assert_eq!(merged, 20, "two bots × two rules × five platforms");
    assert_eq!(page.scripts, 0, "alert text never becomes markup");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_preview_with_a_webhook_shows_what_the_webhook_received() {
    let fake = support::discord::FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    // The Support bot's LINE conversation time is 121 s at the second poll only: an alert that
    // fires and resolves within the first seconds of the demo.
    let rules = r#"
rules:
  - name: blip
    when: lineAverageConversationTime == 121
    severity: critical
    summary: "Blip on {{ bot.name }}"
"#;
    let webhook = format!("{}/api/webhooks/4242/demo-hook-token", fake.base_url());
    let env = [
        ("BOTWATCH_DISCORD_WEBHOOK", webhook.as_str()),
        ("BOTWATCH_DISCORD_API_BASE_URL", &fake.base_url()),
    ];
    let (out, page) = demo_with_rules(dir.path(), rules, "5s", &env);
    let received = fake.messages("webhook:4242");
    let shown: Vec<_> = page
        .messages
        .iter()
        .map(|m| (m.anchor.clone(), m.title().map(str::to_owned), m.edited))
        .collect();
    let sent: Vec<_> = received
        .iter()
        .map(|m| {
            let title = m.body["embeds"][0]["title"].as_str().map(str::to_owned);
            (format!("message-{}", m.id), title, m.edits > 0)
        })
        .collect();
    assert_eq!(
        shown, sent,
        "the page shows Discord's messages, with Discord's ids and edits"
    );
    assert_eq!(page.titles(), ["Blip on Support bot"], "{}", out.stdout);
    assert_eq!(page.card("Blip on Support bot").embeds[0].colour, GREEN);
    let notice = page.messages.last().unwrap();
    assert!(
        notice.content.starts_with("✅ Resolved after ") && notice.reply.is_none(),
        "webhooks take no replies, and the page shows none: {notice:#?}"
    );
    assert!(page.messages.iter().all(|m| m.channel == "demo"));
    let html = std::fs::read_to_string(dir.path().join("preview.html")).unwrap();
    assert!(
        !html.contains("demo-hook-token"),
        "the webhook token never shows"
    );
    fake.assert_no_violations();
}

#[test]
fn eval_preview_shows_the_card_each_active_instance_would_post() {
    let dir = tempfile::tempdir().unwrap();
    let previous = json!({"success": true, "fbIsIntegration": true});
    let current = json!({"success": true, "lineQuota": 1000, "lineQuotaConsumption": 850,
        "lineProgram": "輕用量", "fbIsIntegration": false});
    for (name, value) in [("previous.json", previous), ("current.json", current)] {
        std::fs::write(dir.path().join(name), value.to_string()).unwrap();
    }
    let rules = project_root().join("rules.yaml");
    let args = [
        "eval",
        "--rules",
        rules.to_str().unwrap(),
        "--snapshot",
        "current.json",
        "--previous",
        "previous.json",
        "--bot-name",
        "Support",
        "--format",
        "json",
        "--preview",
        "eval.html",
    ];
    let out = run_botwatch(dir.path(), &args, &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let rows: serde_json::Value = serde_json::from_str(&out.stdout).expect("stdout stays JSON");
    assert_eq!(rows.as_array().unwrap().len(), 8);
    assert!(
        out.stderr.contains("2 Discord message(s) in "),
        "{}",
        out.stderr
    );

    let page = PreviewPage::read(&dir.path().join("eval.html"));
    assert_eq!(
        page.titles(),
        [
            "LINE quota at 85.0 % on Support",
            "Facebook integration dropped on Support"
        ],
        "active instances only, in evaluation order"
    );
    let quota = page.card("LINE quota at 85.0 % on Support");
    assert_eq!(quota.embeds[0].colour, ORANGE);
    assert_eq!(quota.embeds[0].field("Value"), "850 / 1000");
    assert_eq!(
        quota.embeds[0].description,
        "850 of 1000 LINE messages used (150 left, plan 輕用量)."
    );
    let dropped = page.card("Facebook integration dropped on Support");
    assert_eq!(dropped.embeds[0].colour, RED);
    assert_eq!(dropped.mentions, ["@on-call"]);
    for card in page.cards() {
        assert!(!card.edited && card.reply.is_none(), "{card:#?}");
        assert!(card.embeds[0].field("Status").contains(" Firing since "));
    }
    assert!(
        page.fetches.is_empty(),
        "self-contained: {:?}",
        page.fetches
    );
}

#[test]
fn a_preview_path_that_cannot_be_written_fails_before_the_demo_starts() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_botwatch(
        dir.path(),
        &["demo", "--preview", "no/such/folder/cards.html"],
        &[],
    );
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .contains("cannot write the preview to no/such/folder/cards.html"),
        "{}",
        out.stderr
    );
    assert!(
        !out.stdout.contains("simulated analytics API"),
        "nothing ran:\n{}",
        out.stdout
    );
}
