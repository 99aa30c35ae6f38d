//! Alert storms in Discord: many alerts at once arrive as a few digests that account for
//! every alert (the ones they name plus "+N more"), and a handful still get cards of their
//! own. That a digest names every alert is the lean-pipeline issue's to build.

mod support;

use botwatch::analytics::simulator::Step;
use serde_json::json;
use support::digests::{alerts_counted, digest_count};
use support::discord::StoredMessage;
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
    assert_eq!(h.store().outbox_len().unwrap(), 0, "everything delivered");
    h
}

/// The alerts the digests name, as (rule, platform) from their lines
/// ("• `rule` Bot · Platform: summary"), sorted.
fn named(messages: &[StoredMessage]) -> Vec<(String, String)> {
    let mut named: Vec<(String, String)> = messages
        .iter()
        .flat_map(|m| m.body["embeds"].as_array().cloned().unwrap_or_default())
        .flat_map(|e| {
            let description = e["description"].as_str().unwrap_or("").to_owned();
            description
                .lines()
                .filter_map(|line| {
                    let rest = line.strip_prefix("• `")?;
                    let (rule, rest) = rest.split_once('`')?;
                    let platform = rest.split(" · ").nth(1)?.split(':').next()?;
                    Some((rule.to_owned(), platform.to_owned()))
                })
                .collect::<Vec<_>>()
        })
        .collect();
    named.sort();
    named
}

/// For each digest embed: its title's count, and the alerts its lines name plus its "+N more".
fn accounted(messages: &[StoredMessage]) -> Vec<(usize, usize)> {
    messages
        .iter()
        .flat_map(|m| m.body["embeds"].as_array().cloned().unwrap_or_default())
        .map(|e| {
            let title = e["title"].as_str().unwrap_or("");
            let count = digest_count(title);
            let description = e["description"].as_str().unwrap_or("");
            let lines = description.lines().filter(|l| l.starts_with("• `")).count();
            let more = description
                .lines()
                .filter_map(|l| {
                    l.strip_prefix('+')?
                        .strip_suffix(" more")?
                        .parse::<usize>()
                        .ok()
                })
                .sum::<usize>();
            (count.unwrap_or(0), lines + more)
        })
        .collect()
}

#[tokio::test]
async fn storms_of_two_hundred_and_a_thousand_alerts_reach_discord_in_a_few_digests_that_account_for_each(
) {
    for (rules, alerts) in [(40, 200), (200, 1000)] {
        let h = storm(&storm_rules(rules)).await;
        let messages = h.channel("111");
        assert!(
            messages.len() <= 5,
            "{} messages: one burst of the channel's budget",
            messages.len()
        );
        assert_eq!(alerts_counted(&messages), alerts, "every alert is counted");
        for (count, listed) in accounted(&messages) {
            assert_eq!(
                listed, count,
                "an embed names or counts as more each of its alerts"
            );
        }
        // The alerts named are alerts of the storm, each named once.
        let named = named(&messages);
        let distinct: std::collections::BTreeSet<_> = named.iter().collect();
        assert!(!named.is_empty());
        assert_eq!(distinct.len(), named.len(), "no alert named twice");
        let platforms = ["Facebook", "Instagram", "LINE", "LiveChat", "WhatsApp"];
        assert!(
            named.iter().all(|(rule, platform)| {
                rule.strip_prefix("storm")
                    .and_then(|i| i.parse::<usize>().ok())
                    .is_some_and(|i| i < rules)
                    && platforms.contains(&platform.as_str())
            }),
            "{named:?}"
        );
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
async fn a_thousand_alerts_against_discords_own_limits_are_counted_in_digests_with_no_429() {
    let quiet = Step::respond(snapshot(
        json!({"lineQuota": 1000, "lineQuotaConsumption": 100}),
    ));
    let h = DiscordHarness::with_budget(vec![quiet], 5).await;
    let (pipeline, mut bot_loop) = h.start(&storm_rules(200)).await;
    bot_loop.poll_once().await.unwrap();
    drain(&pipeline).await;
    let messages = h.channel("111");
    assert!(messages.len() <= 5, "{} messages", messages.len());
    assert_eq!(alerts_counted(&messages), 1000, "every alert is counted");
    assert_eq!(h.fake.rate_limited(), 0, "no 429 drawn");
    h.fake.assert_no_violations();
}
