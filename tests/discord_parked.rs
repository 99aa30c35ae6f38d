//! A request Discord refuses (400) is parked in the outbox with its reason, logged, and never
//! looped on; later notifications of the alert still go out. RELIABILITY.md shows the row.

mod support;

use serde_json::json;
use support::discord::Failure;
use support::harness::DiscordHarness;
use support::logs::CapturedLogs;
use support::{assert_documented, drain, quota};

const RULES: &str = "rules:\n  - {name: quota, when: 'lineQuotaConsumption > 800'}\n";

/// Discord's error message in the parked test's 400, found again in the log.
const PARKED_MARK: &str = "injected for the parked test";

#[tokio::test]
async fn a_request_discord_rejects_is_parked_with_its_reason_and_not_retried() {
    let logs = CapturedLogs::global();
    let h = DiscordHarness::new(vec![quota(900), quota(100)]).await;
    let (pipeline, mut bot_loop) = h.start(RULES).await;
    let invalid = json!({"message": "Invalid Form Body", "code": 50035,
        "errors": {"embeds": {"_errors": [{"code": "BASE_TYPE_BAD", "message": PARKED_MARK}]}}});
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
    let parked = h.store().outbox_len().await.unwrap();
    let logged = logs
        .of_bot("b1")
        .iter()
        // The log capture is process-wide: the mark in Discord's answer tells this test's
        // lines apart from any other test's with bot b1.
        .filter(|l| l.contains("parked") && l.contains("Invalid Form Body") && l.contains("50035"))
        .filter(|l| l.contains(PARKED_MARK))
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
