//! Alert storms in Discord: many alerts at once arrive as a few digests that name every alert
//! once, and a handful still get cards of their own.

mod support;

use botwatch::analytics::simulator::Step;
use serde_json::json;
use std::time::Duration;
use support::digests::{alerts_counted, named_alerts};
use support::discord::ratelimit::Window;
use support::discord::{RateLimits, StoredMessage};
use support::harness::DiscordHarness;
use support::{drain, snapshot};

/// Rules that fire `rules × 5 platforms` alerts at once, with 40 labels each.
fn storm_rules(rules: usize) -> String {
    let labels: Vec<String> = (0..40)
        .map(|i| format!("label{i}: \"{}\"", "v".repeat(60)))
        .collect();
    let mut yaml = format!("defaults:\n  labels: {{{}}}\nrules:\n", labels.join(", "));
    for i in 0..rules {
        yaml.push_str(&format!("  - {{name: storm{i}, each: platform, when: 'lineQuota > 0', recover_when: 'lineQuota < 0'}}\n"));
    }
    yaml
}

async fn storm(rules_yaml: &str) -> DiscordHarness {
    let quiet = Step::respond(snapshot(
        json!({"lineQuota": 1000, "lineQuotaConsumption": 100}),
    ));
    let h = DiscordHarness::new(vec![quiet]).await;
    let (pipeline, mut bot_loop) = h.start(rules_yaml).await;
    bot_loop.poll_once().await.unwrap();
    drain(&pipeline).await;
    assert_eq!(
        h.store().outbox_len().await.unwrap(),
        0,
        "everything delivered"
    );
    h
}

/// Asserts that the digests in `messages` name each of the `rules × 5` storm alerts exactly
/// once, and that every digest embed's count is the number of alerts it names.
fn assert_every_alert_named_once(messages: &[StoredMessage], rules: usize) {
    let named = named_alerts(messages);
    let mut expected: Vec<(String, String)> = (0..rules)
        .flat_map(|i| PLATFORMS.map(|p| (format!("storm{i}"), p.to_owned())))
        .collect();
    let mut got: Vec<(String, String)> = named
        .iter()
        .map(|n| (n.rule.clone(), n.platform.clone().unwrap_or_default()))
        .collect();
    expected.sort();
    got.sort();
    assert_eq!(got.len(), expected.len(), "alerts named, repeats included");
    assert!(got == expected, "each storm alert named once");
    assert!(named.iter().all(|n| n.bot == "Support"));
    assert_eq!(
        alerts_counted(messages),
        named.len(),
        "titles count the lines"
    );
}

const PLATFORMS: [&str; 5] = ["Facebook", "Instagram", "LINE", "LiveChat", "WhatsApp"];

#[tokio::test]
async fn storms_of_two_hundred_and_a_thousand_alerts_name_every_alert_once_in_a_few_digests() {
    for (rules, most) in [(40, 5), (200, 20)] {
        let h = storm(&storm_rules(rules)).await;
        let messages = h.channel("111");
        assert!(messages.len() <= most, "{} messages", messages.len());
        assert_every_alert_named_once(&messages, rules);
        assert_eq!(h.fake.rate_limited(), 0, "no 429 drawn");
        h.fake.assert_no_violations();
    }
}

#[tokio::test]
async fn a_few_simultaneous_alerts_with_forty_labels_get_their_own_cards_within_limits() {
    // 50 per 5 s is this harness's budget: 10 rules × 5 platforms = 50 cards, one each.
    let h = storm(&storm_rules(10)).await;
    let messages = h.channel("111");
    assert_eq!(messages.len(), 50);
    let cards: std::collections::BTreeSet<(String, String)> = messages
        .iter()
        .map(|m| {
            let embed = &m.body["embeds"][0];
            let platform = embed["fields"]
                .as_array()
                .and_then(|f| f.iter().find(|f| f["name"] == "Platform"))
                .and_then(|f| f["value"].as_str())
                .unwrap_or("");
            let footer = embed["footer"]["text"].as_str().unwrap_or("");
            (footer.to_owned(), platform.to_owned())
        })
        .collect();
    assert_eq!(
        cards.len(),
        50,
        "a card for each of the 50 alerts: {cards:?}"
    );
    let labels = messages[0].body["embeds"][0]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "Labels")
        .cloned()
        .unwrap();
    assert_eq!(
        labels["value"].as_str().unwrap().chars().count(),
        1024,
        "40 labels cut to one field's limit"
    );
    h.fake.assert_no_violations();
}

#[tokio::test]
async fn a_sixth_card_after_a_burst_of_five_waits_for_discords_window_and_draws_no_429() {
    // Discord's own limits in the fake and in botwatch: five messages per 5 s per channel.
    let low = json!({"lineQuota": 1000, "lineQuotaConsumption": 100});
    let high = json!({"lineQuota": 1000, "lineQuotaConsumption": 900});
    let h = DiscordHarness::with_budget(
        vec![Step::respond(snapshot(low)), Step::respond(snapshot(high))],
        5,
    )
    .await;
    let mut rules = String::from("rules:\n");
    for i in 0..5 {
        rules.push_str(&format!("  - {{name: burst{i}, when: 'lineQuota > 0'}}\n"));
    }
    rules.push_str("  - {name: sixth, when: 'lineQuotaConsumption > 800'}\n");
    let (pipeline, mut bot_loop) = h.start(&rules).await;
    bot_loop.poll_once().await.unwrap();
    drain(&pipeline).await;
    // A second later governor has a token again; Discord's window has none until it ends.
    bot_loop.poll_once().await.unwrap();
    drain(&pipeline).await;
    assert_eq!(h.channel("111").len(), 6, "six cards");
    assert_eq!(h.fake.rate_limited(), 0, "no 429 drawn");
    h.fake.assert_no_violations();
}

#[tokio::test]
async fn a_webhook_edit_waits_for_the_window_its_posts_spent_when_discord_names_one_bucket() {
    // Discord names one bucket for a webhook's posts and the edits of its messages. Windows
    // of 4 s, long enough that every request below falls in the first one.
    let limits = RateLimits {
        webhook: Window::new(5, Duration::from_secs(4)),
        ..RateLimits::discord()
    };
    let consumption = |used: u64| {
        Step::respond(snapshot(
            json!({"lineQuota": 1000, "lineQuotaConsumption": used}),
        ))
    };
    let steps = vec![
        consumption(100),
        consumption(600),
        consumption(700),
        consumption(800),
    ];
    let h = DiscordHarness::with_limits(steps, 5, limits).await;
    let rule = |name: &str, when: &str, recover: &str| {
        format!("  - {{name: {name}, when: '{when}', recover_when: '{recover}', channel: hook}}\n")
    };
    let rules = [
        "rules:\n".to_owned(),
        rule(
            "warm",
            "lineQuotaConsumption < 500",
            "lineQuotaConsumption >= 500",
        ),
        rule(
            "a",
            "lineQuotaConsumption >= 700",
            "lineQuotaConsumption >= 800",
        ),
        rule(
            "b",
            "lineQuotaConsumption >= 700",
            "lineQuotaConsumption < 0",
        ),
    ]
    .concat();
    let (pipeline, mut bot_loop) = h.start(&rules).await;
    // Poll by poll: warm's card; warm's edit and reply (the edit's answer names the bucket);
    // the cards of a and b, which spend the window; a's edit, which must wait for it.
    for _ in 0..4 {
        bot_loop.poll_once().await.unwrap();
        drain(&pipeline).await;
    }
    assert_eq!(h.fake.rate_limited(), 0, "no 429 drawn");
    let requests = h.fake.requests();
    let webhook = requests
        .iter()
        .filter(|r| r.path.contains("/webhooks/333/"));
    assert_eq!(webhook.count(), 7, "three cards, two edits, two replies");
    h.fake.assert_no_violations();
}

#[tokio::test]
async fn a_thousand_alerts_against_discords_own_limits_are_all_named_with_no_429() {
    let quiet = Step::respond(snapshot(
        json!({"lineQuota": 1000, "lineQuotaConsumption": 100}),
    ));
    let h = DiscordHarness::with_budget(vec![quiet], 5).await;
    let (pipeline, mut bot_loop) = h.start(&storm_rules(200)).await;
    bot_loop.poll_once().await.unwrap();
    drain(&pipeline).await;
    let messages = h.channel("111");
    // Five messages per 5 s: 20 messages are all sent within 15 s of the storm.
    assert!(messages.len() <= 20, "{} messages", messages.len());
    assert_every_alert_named_once(&messages, 200);
    assert_eq!(h.fake.rate_limited(), 0, "no 429 drawn");
    h.fake.assert_no_violations();
}
