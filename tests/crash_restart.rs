//! Crash and restart: the real binary killed with SIGKILL while notifications are in flight,
//! during a storm and around a transition, then started again on the same state file. Nothing
//! is lost, nothing is posted twice, firing alerts are not announced again, and a transition
//! that happened while botwatch was down is caught.

mod support;

use std::time::Duration;

use botwatch::analytics::simulator::{Simulator, Step};
use serde_json::json;
use support::discord::{Failure, FakeDiscord, RateLimits, Recorded, StoredMessage};
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

/// Whether Discord stored a card posted to the ops channel and has not answered yet.
fn stored_unanswered(fake: &FakeDiscord) -> bool {
    fake.requests()
        .iter()
        .any(|r| is_post_to_ops(r) && r.status == 200 && !r.answered)
}

/// The alert of each card, as (rule, bot id): the rule from the footer (`rule NAME ·
/// botwatch`), the bot from the `Bot` field (`Name (`id`)`); sorted.
fn alerts_of(messages: &[StoredMessage]) -> Vec<(String, String)> {
    let mut alerts: Vec<(String, String)> = messages
        .iter()
        .map(|m| {
            let embed = &m.body["embeds"][0];
            let footer = embed["footer"]["text"].as_str().unwrap_or("");
            let rule = footer
                .strip_prefix("rule ")
                .and_then(|t| t.strip_suffix(" · botwatch"));
            let bot = embed["fields"]
                .as_array()
                .and_then(|fields| fields.iter().find(|f| f["name"] == "Bot"))
                .and_then(|f| f["value"].as_str())
                .and_then(|v| v.split('`').nth(1));
            (
                rule.unwrap_or("?").to_owned(),
                bot.unwrap_or("?").to_owned(),
            )
        })
        .collect();
    alerts.sort();
    alerts
}

/// "N of M cards delivered, L lost, D duplicated", as RELIABILITY.md states it, for the alerts
/// `wanted` and the cards `got` (both as [`alerts_of`] gives them).
fn tally(wanted: &[(String, String)], got: &[(String, String)]) -> String {
    let delivered = wanted.iter().filter(|a| got.contains(a)).count();
    let distinct: std::collections::BTreeSet<_> = got.iter().collect();
    format!(
        "{delivered} of {} cards delivered, {} lost, {} duplicated",
        wanted.len(),
        wanted.len() - delivered,
        got.len() - distinct.len()
    )
}

/// Both quota alerts of each bot in `ids`, as [`alerts_of`] gives them.
fn quota_alerts(ids: &[&str]) -> Vec<(String, String)> {
    let mut alerts: Vec<(String, String)> = ids
        .iter()
        .flat_map(|id| {
            ["line-quota-critical", "line-quota-high"].map(|r| (r.into(), id.to_string()))
        })
        .collect();
    alerts.sort();
    alerts
}

/// The nonces of the posts to the ops channel that `is_card` picks, in the order sent.
fn nonces_of(fake: &FakeDiscord, is_card: fn(&Recorded) -> bool) -> Vec<String> {
    fake.requests()
        .iter()
        .filter(|r| is_post_to_ops(r) && is_card(r))
        .map(|r| r.body["nonce"].as_str().unwrap_or("(none)").to_owned())
        .collect()
}

/// A post of the "Facebook integration dropped" card.
fn is_dropped_card(r: &Recorded) -> bool {
    is_post_to_ops(r)
        && r.body["embeds"][0]["title"]
            .as_str()
            .is_some_and(|t| t.contains("Facebook integration dropped"))
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
    fake.fail_next_where(
        2,
        is_post_to_ops,
        Failure::LateAnswer(Duration::from_secs(3)),
    );
    let first = Running::start(dir.path(), &ARGS, &SECRETS);
    first.lines_until(2, |l| l.contains("FIRING"), Duration::from_secs(30));
    assert!(
        wait_until(Duration::from_secs(5), || stored_unanswered(&fake)).await,
        "a card was stored by Discord and not yet answered when the process died"
    );
    kill(first);
    let before_restart = fake.requests().len();

    let second = Running::start(dir.path(), &ARGS, &SECRETS);
    wait_until(Duration::from_secs(10), || fake.messages("111").len() >= 2).await;
    stop(second);
    let (wanted, got) = (quota_alerts(&["b1"]), alerts_of(&fake.messages("111")));
    support::assert_documented(&tally(&wanted, &got));
    assert_eq!(got, wanted, "each alert's card exactly once");
    // Each card that Discord stored but never answered was posted again, with the nonce it
    // first had, so Discord gave back the stored message instead of a second one.
    let requests = fake.requests();
    let (before, after) = requests.split_at(before_restart);
    let nonce = |r: &Recorded| r.body["nonce"].as_str().unwrap_or("(none)").to_owned();
    let unanswered: Vec<String> = before
        .iter()
        .filter(|r| is_post_to_ops(r) && !r.answered)
        .map(nonce)
        .collect();
    let reposted: Vec<String> = after
        .iter()
        .filter(|r| is_post_to_ops(r))
        .map(nonce)
        .collect();
    assert!(!unanswered.is_empty());
    assert!(
        unanswered.iter().all(|n| reposted.contains(n)),
        "unanswered {unanswered:?}, posted after the restart {reposted:?}"
    );
    fake.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sigkill_during_an_alert_storm_loses_nothing_and_doubles_nothing() {
    // A budget above the storm's size, in botwatch and in the fake Discord, so that every
    // alert gets a card of its own to count.
    let fake = FakeDiscord::start_with(RateLimits::per_route(100)).await;
    let more: Vec<String> = (2..=20).map(|i| format!("b{i}")).collect();
    let ids: Vec<&str> = std::iter::once("b1")
        .chain(more.iter().map(String::as_str))
        .collect();
    let sim = fake_analytics(ids.iter().map(|id| (*id, vec![quota_99(true)])).collect()).await;
    let dir = tempfile::tempdir().unwrap();
    let limits = "  limits: {per_destination_per_5s: 100, global_per_second: 40}\n";
    write_config_with_bots(dir.path(), &sim.base_url(), &fake.base_url(), &more, limits);
    let expected = 2 * ids.len();

    fake.fail_next_where(
        6,
        is_post_to_ops,
        Failure::LateAnswer(Duration::from_secs(2)),
    );
    let first = Running::start(dir.path(), &ARGS, &SECRETS);
    assert!(
        wait_until(Duration::from_secs(30), || stored_unanswered(&fake)).await,
        "the storm was being delivered, a card stored by Discord and not yet answered"
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
    stop(second); // delivers what is on its way

    let messages = fake.messages("111");
    let wanted = quota_alerts(&ids);
    let got = alerts_of(&messages);
    support::assert_documented(&tally(&wanted, &got));
    assert!(all, "only {} of {expected} cards", messages.len());
    assert_eq!(got, wanted, "every alert of the storm, each exactly once");
    fake.assert_no_violations();
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
    fake.fail_next_where(
        1,
        is_dropped_card,
        Failure::LateAnswer(Duration::from_secs(3)),
    );
    let second = Running::start(dir.path(), &ARGS, &SECRETS);
    let stored_unanswered = || {
        fake.requests()
            .iter()
            .any(|r| is_dropped_card(r) && r.status == 200 && !r.answered)
    };
    assert!(
        wait_until(Duration::from_secs(20), stored_unanswered).await,
        "the integration card was stored by Discord and not yet answered"
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
    // Two more polls: an alert announced again would be on its way by then, and the stop
    // delivers what is on its way.
    let served = sim.served("b1");
    assert!(wait_until(Duration::from_secs(20), || sim.served("b1") >= served + 2).await);
    stop(third);

    let messages = cards();
    let (replies, cards): (Vec<StoredMessage>, Vec<StoredMessage>) = messages
        .into_iter()
        .partition(|m| m.body["message_reference"].is_object());
    let mut announced = quota_alerts(&["b1"]);
    announced.push(("integration-dropped".into(), "b1".into()));
    announced.sort();
    assert_eq!(
        alerts_of(&cards),
        announced,
        "the quota alerts not announced again, the drop announced once"
    );
    let dropped = cards
        .iter()
        .find(|m| m.body["embeds"][0]["footer"]["text"] == "rule integration-dropped · botwatch");
    assert_eq!(
        dropped.map(|m| &m.body["embeds"][0]["color"]),
        Some(&json!(RESOLVED)),
        "and resolved"
    );
    assert_eq!(
        replies.len(),
        1,
        "one reply, for the resolution: {replies:#?}"
    );
    let nonces = nonces_of(&fake, is_dropped_card);
    assert!(
        nonces.len() >= 2 && nonces.iter().all(|n| *n == nonces[0]),
        "the unanswered card was posted again with its first nonce: {nonces:?}"
    );
    fake.assert_no_violations();
}
