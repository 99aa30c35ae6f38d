//! Crash and restart: the real binary killed with SIGKILL while notifications are in flight,
//! during a storm and around a transition, then started again on the same state file. Nothing
//! is lost, nothing is posted twice, firing alerts are not announced again, and a transition
//! that happened while botwatch was down is caught.

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use botwatch::analytics::simulator::{Simulator, Step};
use serde_json::json;
use support::discord::{Failure, FakeDiscord, Recorded, StoredMessage};
use support::process::{wait_until, write_config, write_config_with_bots, Running, SECRETS};
use support::{fake_analytics, snapshot};

const ARGS: [&str; 3] = ["run", "--config", "botwatch.yaml"];
/// The colour of a resolved card.
const RESOLVED: u64 = 0x2EAD5B;

/// LINE quota at 99 % (the shipped rules fire `line-quota-high` and `line-quota-critical`),
/// Facebook integrated or not.
fn quota_99(fb: bool) -> Step {
    Step::respond(snapshot(json!({
        "lineQuota": 1000, "lineQuotaConsumption": 990, "fbIsIntegration": fb
    })))
}

/// Discord, the analytics API (bot b1 at 99 % with Facebook integrated) and a config for both.
async fn quota_99_for_b1() -> (FakeDiscord, Simulator, tempfile::TempDir) {
    let fake = FakeDiscord::start().await;
    let sim = fake_analytics(vec![("b1", vec![quota_99(true)])]).await;
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), &sim.base_url(), &fake.base_url(), "");
    (fake, sim, dir)
}

fn is_post_to_ops(r: &Recorded) -> bool {
    r.method == "POST" && r.path.ends_with("/channels/111/messages")
}

fn titles(messages: &[StoredMessage]) -> Vec<String> {
    messages
        .iter()
        .map(|m| {
            m.body["embeds"][0]["title"]
                .as_str()
                .unwrap_or("")
                .to_owned()
        })
        .collect()
}

/// Kills `running` with SIGKILL and checks it did not exit by itself.
fn kill(running: Running) {
    running.signal("KILL");
    assert_eq!(running.wait().code, None, "killed, not exited");
}

/// Stops `running` with SIGTERM and checks it exited cleanly.
fn stop(running: Running) {
    running.signal("TERM");
    let ended = running.wait();
    assert_eq!(ended.code, Some(0), "{}", ended.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sigkill_during_delivery_loses_nothing_and_doubles_nothing() {
    let (fake, _sim, dir) = quota_99_for_b1().await;

    // Discord stores each card at once but answers late: the process dies waiting for an answer,
    // so the next one must not post again what Discord already has.
    fake.fail_next(4, Failure::LateAnswer(Duration::from_secs(3)));
    let first = Running::start(dir.path(), &ARGS, &SECRETS);
    first.lines_until(2, |l| l.contains("FIRING"), Duration::from_secs(30));
    let posting = || fake.requests().iter().any(is_post_to_ops);
    assert!(
        wait_until(Duration::from_secs(5), posting).await,
        "a card was on its way when the process died"
    );
    assert!(
        fake.messages("111").len() < 2,
        "not everything was delivered"
    );
    kill(first);

    let second = Running::start(dir.path(), &ARGS, &SECRETS);
    wait_until(Duration::from_secs(10), || fake.messages("111").len() >= 2).await;
    stop(second);
    let titles = titles(&fake.messages("111"));
    assert_eq!(titles.len(), 2, "one card per alert: {titles:?}");
    assert!(
        titles.iter().any(|t| t.starts_with("LINE quota at 99.0 %")),
        "{titles:?}"
    );
    fake.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sigkill_during_an_alert_storm_loses_nothing_and_doubles_nothing() {
    let fake = FakeDiscord::start().await;
    let more: Vec<String> = (2..=20).map(|i| format!("b{i}")).collect();
    let ids: Vec<&str> = std::iter::once("b1")
        .chain(more.iter().map(String::as_str))
        .collect();
    let sim = fake_analytics(ids.iter().map(|id| (*id, vec![quota_99(true)])).collect()).await;
    let dir = tempfile::tempdir().unwrap();
    // A budget above the storm's size, so that every alert gets a card of its own to count.
    let limits = "  limits: {per_destination_per_5s: 100, global_per_second: 100}\n";
    write_config_with_bots(dir.path(), &sim.base_url(), &fake.base_url(), &more, limits);
    let expected = 2 * ids.len();

    fake.fail_next(6, Failure::LateAnswer(Duration::from_secs(2)));
    let first = Running::start(dir.path(), &ARGS, &SECRETS);
    first.lines_until(expected, |l| l.contains("FIRING"), Duration::from_secs(30));
    assert!(
        wait_until(Duration::from_secs(10), || !fake.messages("111").is_empty()).await,
        "the storm was being delivered"
    );
    let before = fake.messages("111").len();
    assert!(
        before < expected,
        "killed mid-storm ({before} of {expected})"
    );
    kill(first);

    let second = Running::start(dir.path(), &ARGS, &SECRETS);
    let all = wait_until(Duration::from_secs(60), || {
        fake.messages("111").len() >= expected
    })
    .await;
    // Two more polls of every bot: a firing alert announced again would show up by then.
    // (20 bots share the default budget of 5 requests a second: about 8 s, more when the
    // machine is busy.)
    let served: Vec<usize> = ids.iter().map(|id| sim.served(id)).collect();
    let polled_twice = || {
        ids.iter()
            .zip(&served)
            .all(|(id, n)| sim.served(id) >= n + 2)
    };
    assert!(wait_until(Duration::from_secs(60), polled_twice).await);
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop(second);
    let titles = titles(&fake.messages("111"));
    let distinct: BTreeSet<&String> = titles.iter().collect();
    assert!(all, "only {} of {expected} cards", titles.len());
    assert_eq!(titles.len(), expected, "no card twice: {titles:#?}");
    assert_eq!(distinct.len(), expected, "one card per alert: {titles:#?}");
    fake.assert_no_violations();
    support::assert_documented(&format!(
        "{expected} of {expected} cards delivered, 0 lost, 0 duplicated"
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transition_across_crashes_is_caught_and_announced_once() {
    let (fake, sim, dir) = quota_99_for_b1().await;
    let cards = || fake.messages("111");

    // 1. Two quota alerts fire and are delivered; Facebook is integrated. Then a crash.
    let first = Running::start(dir.path(), &ARGS, &SECRETS);
    assert!(wait_until(Duration::from_secs(20), || cards().len() == 2).await);
    kill(first);

    // 2. While botwatch is down, the Facebook integration drops. The next process catches
    //    it, and dies after Discord stored the card but before it answered.
    sim.set_steps("b1", vec![quota_99(false)]);
    fake.fail_next(3, Failure::LateAnswer(Duration::from_secs(3)));
    let second = Running::start(dir.path(), &ARGS, &SECRETS);
    let in_flight = || {
        fake.requests().iter().any(|r| {
            is_post_to_ops(r)
                && r.body["embeds"][0]["title"]
                    .as_str()
                    .is_some_and(|t| t.contains("Facebook integration dropped"))
        })
    };
    assert!(
        wait_until(Duration::from_secs(20), in_flight).await,
        "the integration card was on its way"
    );
    kill(second);

    // 3. The third process delivers it, once; then the integration comes back.
    let third = Running::start(dir.path(), &ARGS, &SECRETS);
    assert!(wait_until(Duration::from_secs(20), || cards().len() >= 3).await);
    sim.set_steps("b1", vec![quota_99(true)]);
    let resolved = || {
        cards()
            .iter()
            .any(|m| m.body["embeds"][0]["color"] == RESOLVED)
    };
    assert!(wait_until(Duration::from_secs(20), resolved).await);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stop(third);

    let messages = cards();
    let titles = titles(&messages);
    let quota = titles
        .iter()
        .filter(|t| t.starts_with("LINE quota"))
        .count();
    let dropped: Vec<&StoredMessage> = messages
        .iter()
        .filter(|m| {
            m.body["embeds"][0]["title"]
                .as_str()
                .is_some_and(|t| t.contains("Facebook integration dropped"))
        })
        .collect();
    let replies = messages
        .iter()
        .filter(|m| m.body["message_reference"].is_object())
        .count();
    assert_eq!(
        quota, 2,
        "the quota alerts were not announced again: {titles:#?}"
    );
    assert_eq!(dropped.len(), 1, "the drop was announced once: {titles:#?}");
    assert_eq!(
        dropped[0].body["embeds"][0]["color"], RESOLVED,
        "and resolved"
    );
    assert_eq!(replies, 1, "one reply, for the resolution: {titles:#?}");
    assert_eq!(messages.len(), 4, "{titles:#?}");
    fake.assert_no_violations();
}
