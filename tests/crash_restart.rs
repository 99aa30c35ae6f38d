//! Crash and restart: the real binary killed with SIGKILL while notifications are in flight,
//! then started again on the same state file. Nothing is lost, nothing is posted twice, and
//! firing alerts are not announced again.

mod support;

use std::time::Duration;

use botwatch::analytics::simulator::Step;
use serde_json::json;
use support::discord::{Failure, FakeDiscord};
use support::process::{write_config, Running, SECRETS};
use support::{fake_analytics, snapshot};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sigkill_during_delivery_loses_nothing_and_doubles_nothing() {
    let fake = FakeDiscord::start().await;
    let high = Step::respond(snapshot(
        json!({"lineQuota": 1000, "lineQuotaConsumption": 990}),
    ));
    let sim = fake_analytics(vec![("b1", vec![high])]).await;
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), &sim.base_url(), &fake.base_url(), "");
    let args = ["run", "--config", "botwatch.yaml"];

    // Discord is slow: the process dies while the first cards are still on their way.
    fake.fail_next(4, Failure::Delay(Duration::from_secs(3)));
    let first = Running::start(dir.path(), &args, &SECRETS);
    first.lines_until(2, |l| l.contains("FIRING"), Duration::from_secs(30));
    let posting = || {
        fake.requests()
            .iter()
            .any(|r| r.method == "POST" && r.path.ends_with("/channels/111/messages"))
    };
    for _ in 0..100 {
        if posting() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(posting(), "a card was on its way when the process died");
    assert!(
        fake.messages("111").len() < 2,
        "not everything had been delivered"
    );
    first.signal("KILL");
    assert_eq!(first.wait().code, None, "killed, not exited");

    let second = Running::start(dir.path(), &args, &SECRETS);
    // Bounded wait for the second process to deliver what the first could not.
    for _ in 0..100 {
        if fake.messages("111").len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    second.signal("TERM");
    let ended = second.wait();
    assert_eq!(ended.code, Some(0), "{}", ended.stderr);
    let cards = fake.messages("111");
    let titles: Vec<&str> = cards
        .iter()
        .map(|c| c.body["embeds"][0]["title"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        cards.len(),
        2,
        "one card per alert, none lost, none doubled: {titles:?}"
    );
    assert!(
        titles.iter().any(|t| t.starts_with("LINE quota at 99.0 %")),
        "{titles:?}"
    );
    fake.assert_no_violations();
}
