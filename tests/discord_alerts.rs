//! Alerts in Discord, end to end over loopback: the fake analytics API, the real pipeline and
//! SQLite, and the fake Discord (which validates every body against Discord's OpenAPI).

mod support;

use std::time::Duration;

use botwatch::analytics::simulator::Step;
use botwatch::notify::delivery::Pass;
use serde_json::{json, Value};
use support::discord::{Failure, Recorded, StoredMessage};
use support::harness::DiscordHarness;
use support::{drain, quota, snapshot};

const RULES: &str = r#"
rules:
  - name: quota
    when: lineQuotaConsumption > 800
    severity: warning
    summary: "quota {{ lineQuotaConsumption }} on {{ bot.name }}"
    value: "{{ lineQuotaConsumption }} / {{ lineQuota }}"
  - name: hostile
    when: lineQuotaConsumption > 950
    severity: critical
    summary: "@everyone @here <@123> <@&456> {{ lineProgram }}"
    description: "plan {{ lineProgram }}"
  - name: hooked
    when: lineQuotaConsumption > 800
    severity: info
    channel: hook
"#;

/// A response whose plan name is 10 kB of mentions: text from the API is hostile too.
fn hostile(used: i64) -> Step {
    let program = "@everyone <@&456> ".repeat(600);
    Step::respond(snapshot(
        json!({"lineQuota": 1000, "lineQuotaConsumption": used, "lineProgram": program}),
    ))
}

fn embed(message: &StoredMessage) -> &Value {
    &message.body["embeds"][0]
}

#[tokio::test]
async fn a_card_is_posted_then_edited_in_place_and_replied_to_when_resolved() {
    let h = DiscordHarness::new(vec![quota(900), quota(100)]).await;
    let (pipeline, mut bot_loop) = h.start(RULES).await;
    bot_loop.poll_once().await.unwrap();
    drain(&pipeline).await;
    let card = &h.channel("111")[0];
    assert_eq!(
        card.body["content"],
        "🟠 **warning** firing: quota 900 on Support"
    );
    assert_eq!(embed(card)["title"], "quota 900 on Support");
    let value = embed(card)["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "Value")
        .cloned();
    assert_eq!(value.unwrap()["value"], "900 / 1000");
    assert_eq!(card.body["allowed_mentions"]["parse"], json!([]));
    assert_eq!(card.body["enforce_nonce"], true);
    bot_loop.poll_once().await.unwrap();
    drain(&pipeline).await;
    let messages = h.channel("111");
    assert_eq!(messages.len(), 2, "the card and one reply");
    let (card, reply) = (&messages[0], &messages[1]);
    assert_eq!(card.edits, 1, "resolved by editing the card");
    assert_eq!(
        embed(card)["color"],
        0x2EAD5B,
        "a resolved card turns green"
    );
    assert_eq!(
        reply.body["message_reference"]["message_id"],
        card.id.as_str()
    );
    assert!(reply.body["content"]
        .as_str()
        .unwrap()
        .starts_with("✅ Resolved after"));
    h.fake.assert_no_violations();
}

#[tokio::test]
async fn a_restarted_botwatch_edits_the_card_it_posted_before() {
    let h = DiscordHarness::new(vec![quota(900)]).await;
    {
        let (pipeline, mut bot_loop) = h.start(RULES).await;
        bot_loop.poll_once().await.unwrap();
        drain(&pipeline).await;
    }
    h.sim.set_steps("b1", vec![quota(100)]);
    let (pipeline, mut bot_loop) = h.start(RULES).await;
    bot_loop.poll_once().await.unwrap();
    drain(&pipeline).await;
    let messages = h.channel("111");
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0].edits, 1, "the old card was found and edited");
    assert_eq!(
        messages[1].body["message_reference"]["message_id"],
        messages[0].id.as_str()
    );
    h.fake.assert_no_violations();
}

#[tokio::test]
async fn a_card_edit_discord_accepted_is_not_sent_again_after_a_restart_that_retries_the_reply() {
    let rule = "rules:\n  - {name: quota, when: 'lineQuotaConsumption > 800'}\n";
    let h = DiscordHarness::new(vec![quota(900), quota(100)]).await;
    {
        let (pipeline, mut bot_loop) = h.start(rule).await;
        bot_loop.poll_once().await.unwrap();
        drain(&pipeline).await;
        // The resolution: Discord accepts the card's edit, then fails the reply.
        let is_reply = |r: &Recorded| r.method == "POST" && r.body["message_reference"].is_object();
        h.fake
            .fail_next_where(1, is_reply, Failure::ServerError(500));
        bot_loop.poll_once().await.unwrap();
        let pass = pipeline.outbox().deliver_due().await.unwrap();
        assert!(
            matches!(pass, Pass::RetryIn(_)),
            "the reply waits for a retry"
        );
    }
    // A new process retries the reply alone.
    let (pipeline, _bot_loop) = h.start(rule).await;
    drain(&pipeline).await;
    let edits = h
        .fake
        .requests()
        .iter()
        .filter(|r| r.method == "PATCH")
        .count();
    assert_eq!(edits, 1, "the accepted edit was not sent again");
    let messages = h.channel("111");
    assert_eq!(messages.len(), 2, "the card and one reply");
    assert_eq!(messages[0].edits, 1);
    h.fake.assert_no_violations();
}

#[tokio::test]
async fn hostile_alert_text_pings_only_the_configured_role_and_stays_within_limits() {
    let h = DiscordHarness::new(vec![hostile(990)]).await;
    let (pipeline, mut bot_loop) = h.start(RULES).await;
    bot_loop.poll_once().await.unwrap();
    drain(&pipeline).await;
    let card = &h.channel("222")[0];
    let content = card.body["content"].as_str().unwrap();
    assert!(
        content.starts_with("<@&999> 🔴 **critical** firing: @everyone"),
        "{content}"
    );
    assert_eq!(
        card.body["allowed_mentions"],
        json!({"parse": [], "roles": ["999"], "replied_user": false})
    );
    let description = embed(card)["description"].as_str().unwrap();
    assert_eq!(description.chars().count(), 4096, "cut to Discord's limit");
    assert!(description.ends_with('…'));
    h.fake.assert_no_violations();
}

#[tokio::test]
async fn a_rule_can_send_its_alerts_to_a_webhook_which_edits_its_card_too() {
    let h = DiscordHarness::new(vec![quota(900), quota(100)]).await;
    let (pipeline, mut bot_loop) = h.start(RULES).await;
    for _ in 0..2 {
        bot_loop.poll_once().await.unwrap();
        drain(&pipeline).await;
    }
    let hooked = h.channel("webhook:333");
    assert_eq!(hooked.len(), 2, "card and resolution notice");
    assert_eq!(hooked[0].edits, 1);
    assert_eq!(
        embed(&hooked[0])["footer"]["text"],
        "rule hooked · botwatch"
    );
    h.fake.assert_no_violations();
}

#[tokio::test]
async fn rate_limits_server_errors_and_resets_lose_nothing_and_double_nothing() {
    let h = DiscordHarness::new(vec![quota(900), quota(100)]).await;
    let (pipeline, mut bot_loop) = h.start(RULES).await;
    h.fake.fail_next(
        1,
        Failure::RateLimited {
            retry_after: 0.2,
            global: false,
            in_body: true,
            in_header: false,
        },
    );
    h.fake.fail_next(
        1,
        Failure::RateLimited {
            retry_after: 0.1,
            global: true,
            in_body: false,
            in_header: true,
        },
    );
    h.fake.fail_next(1, Failure::ServerError(502));
    h.fake.fail_next(1, Failure::DropConnection);
    for _ in 0..2 {
        bot_loop.poll_once().await.unwrap();
        drain(&pipeline).await;
    }
    let ops = h.channel("111");
    assert_eq!(ops.len(), 2, "one card, one reply: {ops:#?}");
    assert_eq!(ops[0].edits, 1);
    assert_eq!(h.channel("webhook:333").len(), 2);
    let failed: Vec<u16> = h
        .fake
        .requests()
        .iter()
        .map(|r| r.status)
        .filter(|s| *s >= 400 || *s == 0)
        .collect();
    assert_eq!(failed, [429, 429, 502, 0]);
    h.fake.assert_no_violations();
}

#[tokio::test]
async fn a_post_whose_answer_was_lost_is_retried_with_its_nonce_and_not_duplicated() {
    let h = DiscordHarness::new(vec![quota(900)]).await;
    let (pipeline, mut bot_loop) = h.start(RULES).await;
    // Discord stores the message, but the answer comes after botwatch gave up waiting.
    h.fake
        .fail_next(1, Failure::LateAnswer(Duration::from_millis(900)));
    bot_loop.poll_once().await.unwrap();
    drain(&pipeline).await;
    let posts: Vec<Value> = h
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/channels/111/messages"))
        .map(|r| r.body["nonce"].clone())
        .collect();
    assert_eq!(posts.len(), 2, "the post was retried");
    assert_eq!(posts[0], posts[1], "with the same nonce");
    assert_eq!(h.channel("111").len(), 1, "and Discord kept one message");
    h.fake.assert_no_violations();
}

#[tokio::test]
async fn a_missing_permission_is_retried_later_rather_than_parked() {
    let h = DiscordHarness::new(vec![quota(900)]).await;
    let (pipeline, mut bot_loop) = h.start(RULES).await;
    let forbidden = json!({"message": "Missing Permissions", "code": 50013});
    h.fake.fail_next(1, Failure::Status(403, forbidden));
    bot_loop.poll_once().await.unwrap();
    let pass = pipeline.outbox().deliver_due().await.unwrap();
    let botwatch::notify::delivery::Pass::RetryIn(wait) = pass else {
        panic!("expected a retry, got {pass:?}");
    };
    // Waits for an operator to fix it: measured from the outbox's own answer, a moment
    // after the 403, so a little under the period.
    let minutes = (wait.as_secs_f64() / 60.0).round();
    assert!(
        wait <= Duration::from_secs(300) && minutes == 5.0,
        "retried after {wait:?}"
    );
    assert_eq!(h.store().outbox_len().await.unwrap(), 1);
    support::assert_documented(&format!("a 403 is retried after {minutes} minutes"));
}
