//! Alert storms in Discord: many alerts at once arrive as a few digests, none lost, and
//! a handful still get cards of their own.

mod support;

use botwatch::analytics::simulator::Step;
use serde_json::json;
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

/// How many alerts the digests in a channel account for, from their embed titles ("N × rule …").
fn counted(messages: &[StoredMessage]) -> usize {
    messages
        .iter()
        .flat_map(|m| m.body["embeds"].as_array().cloned().unwrap_or_default())
        .map(|e| {
            e["title"]
                .as_str()
                .unwrap()
                .split(" × ")
                .next()
                .unwrap()
                .parse::<usize>()
                .unwrap()
        })
        .sum()
}

#[tokio::test]
async fn storms_of_two_hundred_and_a_thousand_alerts_reach_discord_in_a_few_digests_with_none_lost()
{
    for (rules, alerts) in [(40, 200), (200, 1000)] {
        let h = storm(&storm_rules(rules)).await;
        let messages = h.channel("111");
        assert!(
            messages.len() <= 5,
            "{} messages: one burst of the channel's budget",
            messages.len()
        );
        assert_eq!(counted(&messages), alerts, "every alert is accounted for");
        assert!(h.fake.requests().iter().all(|r| r.status != 429));
        h.fake.assert_no_violations();
    }
}

#[tokio::test]
async fn a_few_simultaneous_alerts_with_forty_labels_get_their_own_cards_within_limits() {
    // 50 per 5 s is this harness's budget: 10 rules × 5 platforms = 50 cards, one each.
    let h = storm(&storm_rules(10)).await;
    let messages = h.channel("111");
    assert_eq!(messages.len(), 50);
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
