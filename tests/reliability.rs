//! The Discord fault matrix, with figures: for each kind of failure Discord can answer with,
//! the notifications expected, delivered and duplicated. RELIABILITY.md shows the same table;
//! this test fails when the two disagree, so the document stays true.

mod support;

use std::time::Duration;

use botwatch::analytics::simulator::Step;
use serde_json::json;
use support::discord::Failure;
use support::harness::DiscordHarness;
use support::logs::CapturedLogs;
use support::{assert_documented, drain, snapshot};

const RULES: &str = "rules:\n  - {name: quota, when: 'lineQuotaConsumption > 800'}\n";
/// The same rule, sent to the webhook destination (`hook`) of the harness.
const TO_WEBHOOK: &str =
    "rules:\n  - {name: quota, when: 'lineQuotaConsumption > 800', channel: hook}\n";

fn quota(used: i64) -> Step {
    Step::respond(snapshot(
        json!({"lineQuota": 1000, "lineQuotaConsumption": used}),
    ))
}

fn rate_limited(global: bool, in_body: bool, in_header: bool) -> Failure {
    Failure::RateLimited {
        retry_after: 0.05,
        global,
        in_body,
        in_header,
    }
}

/// The failures, each injected on the next two requests to Discord.
fn matrix() -> Vec<(&'static str, Failure)> {
    vec![
        (
            "429, retry_after in the body",
            rate_limited(false, true, false),
        ),
        (
            "429, retry_after in the headers",
            rate_limited(false, false, true),
        ),
        ("429, global", rate_limited(true, true, true)),
        ("500", Failure::ServerError(500)),
        ("502", Failure::ServerError(502)),
        ("503", Failure::ServerError(503)),
        (
            "connection dropped before Discord processed it",
            Failure::DropConnection,
        ),
        (
            "slow answer (within the timeout)",
            Failure::Delay(Duration::from_millis(200)),
        ),
        (
            "no answer within the timeout (not processed)",
            Failure::Delay(Duration::from_millis(900)),
        ),
        (
            "answer lost after the timeout (Discord stored the message)",
            Failure::LateAnswer(Duration::from_millis(900)),
        ),
        (
            "connection reset after Discord stored the message",
            Failure::ResetAfterProcessing,
        ),
    ]
}

/// One alert fires and resolves: two notifications, which Discord shows as one card (edited)
/// and one reply, in `channel` (`111`, or `webhook:333` with [`TO_WEBHOOK`]).
async fn run(failure: Failure, rules: &str, channel: &str) -> (usize, usize, usize) {
    let h = DiscordHarness::new(vec![quota(900), quota(100)]).await;
    let (pipeline, mut bot_loop) = h.start(rules).await;
    h.fake.fail_next(2, failure);
    for _ in 0..2 {
        bot_loop.poll_once().await.unwrap();
        drain(&pipeline).await;
    }
    h.fake.assert_no_violations();
    let messages = h.channel(channel);
    let expected = 2;
    let cards = messages
        .iter()
        .filter(|m| m.body["embeds"].as_array().is_some_and(|e| !e.is_empty()))
        .count();
    let replies = messages.len() - cards;
    // A duplicated card is a duplicate; the alert reached Discord if one card shows it resolved.
    let resolved_card = messages
        .iter()
        .any(|m| m.body["embeds"][0]["color"] == 0x2EAD5B);
    let delivered = usize::from(cards >= 1 && resolved_card) + usize::from(replies >= 1);
    let duplicated = cards.saturating_sub(1) + replies.saturating_sub(1);
    assert_eq!(h.store().outbox_len().unwrap(), 0, "nothing left behind");
    (expected, delivered, duplicated)
}

/// The matrix for one destination, as a table; `(expected, delivered, duplicated)` in all,
/// and the rows whose duplicates are not 0.
async fn measure(
    heading: &str,
    rules: &str,
    channel: &str,
) -> (String, (usize, usize, usize), Vec<&'static str>) {
    let mut table =
        format!("| {heading} | expected | delivered | duplicated |\n|---|---|---|---|\n");
    let mut totals = (0, 0, 0);
    let mut doubled = Vec::new();
    for (name, failure) in matrix() {
        let (expected, delivered, duplicated) = run(failure, rules, channel).await;
        table.push_str(&format!(
            "| {name} | {expected} | {delivered} | {duplicated} |\n"
        ));
        totals = (
            totals.0 + expected,
            totals.1 + delivered,
            totals.2 + duplicated,
        );
        if duplicated > 0 {
            doubled.push(name);
        }
    }
    table.push_str(&format!(
        "| **all** | **{}** | **{}** | **{}** |\n",
        totals.0, totals.1, totals.2
    ));
    (table, totals, doubled)
}

#[tokio::test]
async fn every_discord_failure_loses_nothing_and_duplicates_nothing() {
    let (table, totals, _) = measure("Discord answers (twice)", RULES, "111").await;
    assert_eq!(totals.1, totals.0, "lost notifications:\n{table}");
    assert_eq!(totals.2, 0, "duplicated notifications:\n{table}");
    assert_documented(&table);
}

#[tokio::test]
async fn to_a_webhook_only_a_lost_answer_can_post_twice() {
    let heading = "Discord answers (twice), to a webhook";
    let (table, totals, doubled) = measure(heading, TO_WEBHOOK, "webhook:333").await;
    assert_eq!(totals.1, totals.0, "lost notifications:\n{table}");
    // A webhook takes no nonce: only where Discord processed a request whose answer never
    // came back can a retry post a second message.
    let unanswered = [
        "answer lost after the timeout (Discord stored the message)",
        "connection reset after Discord stored the message",
    ];
    assert!(
        doubled.iter().all(|row| unanswered.contains(row)),
        "{table}"
    );
    assert_documented(&table);
}

#[tokio::test]
async fn a_request_discord_rejects_is_parked_with_its_reason_and_not_retried() {
    let logs = CapturedLogs::global();
    let h = DiscordHarness::new(vec![quota(900), quota(100)]).await;
    let (pipeline, mut bot_loop) = h.start(RULES).await;
    let invalid = json!({"message": "Invalid Form Body", "code": 50035,
        "errors": {"embeds": {"_errors": [{"code": "BASE_TYPE_BAD", "message": "injected"}]}}});
    h.fake.fail_next(1, Failure::Status(400, invalid));
    for _ in 0..2 {
        bot_loop.poll_once().await.unwrap();
        drain(&pipeline).await;
    }
    let to_ops: Vec<u16> = h
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.path.contains("/channels/111/messages"))
        .map(|r| r.status)
        .collect();
    assert_eq!(
        to_ops,
        [400, 200],
        "refused once, never looped on; the resolution posted"
    );
    let rejected = to_ops.iter().filter(|s| **s == 400).count();
    let delivered = h.channel("111").len();
    let parked = h.store().outbox_len().unwrap();
    let logged = logs
        .of_bot("b1")
        .iter()
        .filter(|l| l.contains("parked") && l.contains("Invalid Form Body") && l.contains("50035"))
        .count();
    let row = format!(
        "| Discord answers | notifications | delivered | parked in the outbox | requests refused | reason logged |\n|---|---|---|---|---|---|\n| 400 Invalid Form Body, once | 2 | {delivered} | {parked} | {rejected} | {} |\n",
        if logged == 1 { "yes" } else { "no" }
    );
    assert_eq!(
        (delivered, parked, rejected, logged),
        (1, 1, 1, 1),
        "{to_ops:?}\n{row}"
    );
    h.fake.assert_no_violations();
    assert_documented(&row);
}
