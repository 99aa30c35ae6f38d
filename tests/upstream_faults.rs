//! The upstream fault matrix, with figures: for each way the analytics API can fail, three
//! polls in a row fail that way between two good ones. Each failure must be classified in the
//! log and the metrics, become no snapshot, leave the other alerts as they were, fire the `api`
//! rule on the third failure and resolve it on recovery. RELIABILITY.md shows the same table;
//! this test fails when the two disagree, so the document stays true.

mod support;

use std::sync::Arc;
use std::time::Duration;

use botwatch::analytics::simulator::{timelines_for, Simulator, Step};
use botwatch::store::{SqliteStore, Store};
use botwatch::time::Timestamp;
use serde_json::json;
use support::logs::CapturedLogs;
use support::{
    assert_documented, bot, config, drain, fake_analytics, snapshot, start_pipeline, Recorder,
};

const RULES: &str = r#"
rules:
  - name: quota
    when: lineQuotaConsumption > 800
  - name: api
    when: api.consecutive_failures >= 3
    recover_when: api.up
"#;

/// The API's cap in the test config (`support::config`): 64 KiB.
const TEN_MB: usize = 10 * 1024 * 1024;

fn high_quota() -> Step {
    Step::respond(snapshot(
        json!({"lineQuota": 1000, "lineQuotaConsumption": 900}),
    ))
}

fn good_body() -> String {
    json!({"success": true, "lineQuota": 1000, "lineQuotaConsumption": 900}).to_string()
}

fn stream(body: String, pieces: usize, every_ms: u64, cut: bool) -> Step {
    Step::Stream {
        body,
        pieces,
        every: Duration::from_millis(every_ms),
        cut,
    }
}

/// How the API fails.
enum Fault {
    /// It answers with this step.
    Answer(Step),
    /// Nothing listens: the connection is refused.
    Refused,
}

/// The cases: what the API does, and the kind of error it must be classified as.
fn matrix() -> Vec<(&'static str, Fault, &'static str)> {
    let huge = format!("{{\"lineProgram\": \"{}\"}}", "x".repeat(TEN_MB));
    let answer = |step| Fault::Answer(step);
    vec![
        (
            "no answer within the timeout",
            answer(Step::Delay(Duration::from_secs(2), Box::new(high_quota()))),
            "timeout",
        ),
        ("connection refused", Fault::Refused, "connect"),
        (
            "slow body (trickles past the timeout)",
            answer(stream(good_body(), 10, 100, false)),
            "timeout",
        ),
        (
            "connection cut mid-body",
            answer(stream(good_body(), 4, 5, true)),
            "transport",
        ),
        ("HTTP 500", answer(Step::Status(500)), "http_status"),
        ("HTTP 503", answer(Step::Status(503)), "http_status"),
        ("HTTP 401", answer(Step::Status(401)), "http_status"),
        ("HTTP 403", answer(Step::Status(403)), "http_status"),
        (
            "HTTP 429 with Retry-After",
            answer(Step::RateLimited(Some("1".into()))),
            "rate_limited",
        ),
        (
            "not JSON (an HTML page)",
            answer(Step::RawBody("<html>Bad gateway</html>".into())),
            "decode",
        ),
        (
            "JSON of the wrong types",
            answer(Step::RawBody(
                r#"{"success": true, "lineQuota": "lots"}"#.into(),
            )),
            "decode",
        ),
        (
            "`success: false`",
            answer(Step::Reject("secret expired".into())),
            "rejected",
        ),
        (
            "an empty object",
            answer(Step::RawBody("{}".into())),
            "empty",
        ),
        (
            "10 MB body, length announced",
            answer(Step::RawBody(huge.clone())),
            "body_too_large",
        ),
        (
            "10 MB body, streamed without a length",
            answer(stream(huge, 1000, 0, false)),
            "body_too_large",
        ),
        (
            "truncated JSON",
            answer(Step::RawBody(r#"{"lineQuota": 10"#.into())),
            "decode",
        ),
    ]
}

/// What one case showed.
struct Seen {
    /// The error kinds of the three failed polls, as stored for `api.error_kind`.
    kinds: Vec<String>,
    /// `poll failed` log lines naming the expected kind.
    logged: usize,
    /// `botwatch_polls_total` for the expected kind.
    counted: usize,
    /// After how many failures the `api` alert fired.
    api_fired_after: Option<usize>,
    /// Whether the `api` alert resolved on the first good poll after the failures.
    api_resolved: bool,
    /// Whether the quota alert stayed firing with no event through the failures.
    quota_kept: bool,
    /// Snapshots stored beyond the two good polls, plus one if the last good snapshot (the
    /// next poll's `previous`) was replaced during the failures.
    snapshots_from_failures: usize,
}

async fn run(id: &str, fault: Fault, kind: &str) -> Seen {
    let fault_steps = match &fault {
        Fault::Answer(step) => vec![step.clone(); 3],
        Fault::Refused => vec![],
    };
    let steps = [vec![high_quota()], fault_steps, vec![high_quota()]].concat();
    let mut sim = fake_analytics(vec![(id, steps.clone())]).await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.db");
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&state, Duration::from_secs(3600)).unwrap());
    let recorder = Arc::new(Recorder::default());
    let config = config(&sim, vec![bot(id)], &state);
    let (pipeline, mut bot_loop) =
        start_pipeline(&config, RULES, store.clone(), recorder.clone()).await;

    bot_loop.poll_once().await.unwrap();
    drain(&pipeline).await;
    let first = store.load_bot(id).await.unwrap().last_snapshot;
    let addr = sim.addr();
    if matches!(fault, Fault::Refused) {
        sim.stop().await;
    }
    let mut replaced = false;
    let mut seen = Seen {
        kinds: Vec::new(),
        logged: 0,
        counted: 0,
        api_fired_after: None,
        api_resolved: false,
        quota_kept: true,
        snapshots_from_failures: 0,
    };
    for failure in 1..=3 {
        bot_loop.poll_once().await.unwrap();
        drain(&pipeline).await;
        let record = store.load_bot(id).await.unwrap();
        replaced |= record.last_snapshot != first;
        let api = record.api.unwrap();
        seen.kinds.push(api.error_kind.unwrap_or("none").to_owned());
        if seen.api_fired_after.is_none() && recorder.lines().contains(&"Fired api".to_owned()) {
            seen.api_fired_after = Some(failure);
        }
    }
    if matches!(fault, Fault::Refused) {
        sim = Simulator::start_at(addr, timelines_for(vec![(id, steps)]))
            .await
            .unwrap();
    }
    bot_loop.poll_once().await.unwrap();
    drain(&pipeline).await;
    let lines = recorder.lines();
    seen.api_resolved = lines.last().map(String::as_str) == Some("Resolved api");
    seen.quota_kept &= lines.iter().filter(|l| l.ends_with(" quota")).count() == 1
        && lines.first().map(String::as_str) == Some("Fired quota")
        && store
            .load_bot(id)
            .await
            .unwrap()
            .instances
            .iter()
            .any(|i| i.key.rule == "quota");
    seen.snapshots_from_failures =
        store.history(id, Timestamp(0)).await.unwrap().len() - 2 + usize::from(replaced);
    (seen.logged, seen.counted) = logged_and_counted(id, kind, &pipeline);
    assert!(
        sim.received().iter().all(|r| r.authorized),
        "token and secret were sent as the API expects"
    );
    sim.shutdown();
    seen
}

/// How many `poll failed` log lines of bot `id` name `kind`, and what
/// `botwatch_polls_total{outcome=kind}` says for it.
fn logged_and_counted(
    id: &str,
    kind: &str,
    pipeline: &botwatch::scheduler::Pipeline,
) -> (usize, usize) {
    let logged = CapturedLogs::global()
        .of_bot(id)
        .iter()
        .filter(|l| l.contains("poll failed") && l.contains(&format!("kind=\"{kind}\"")))
        .count();
    let counter = format!("botwatch_polls_total{{bot=\"{id}\",outcome=\"{kind}\"}} ");
    let counted = pipeline
        .metrics()
        .encode()
        .lines()
        .find_map(|l| l.strip_prefix(&counter))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    (logged, counted)
}

fn yes(ok: bool) -> &'static str {
    if ok {
        "yes"
    } else {
        "NO"
    }
}

#[tokio::test]
async fn every_upstream_failure_is_classified_and_fires_the_api_rule_without_touching_the_rest() {
    let mut table = String::from(
        "| the API, three polls in a row | classified as | logged, counted | `api` alert: fired after, resolved | quota alert kept | snapshots made |\n|---|---|---|---|---|---|\n",
    );
    let cases = matrix();
    let total = cases.len();
    let mut passed = 0;
    CapturedLogs::global();
    for (case, (name, fault, kind)) in cases.into_iter().enumerate() {
        let seen = run(&format!("case-{case}"), fault, kind).await;
        let classified = seen.kinds.iter().all(|k| k == kind);
        let row_ok = classified
            && seen.logged == 3
            && seen.counted == 3
            && seen.api_fired_after == Some(3)
            && seen.api_resolved
            && seen.quota_kept
            && seen.snapshots_from_failures == 0;
        passed += usize::from(row_ok);
        let fired = seen
            .api_fired_after
            .map_or("never".to_owned(), |n| format!("{n} failures"));
        table.push_str(&format!(
            "| {name} | {} | {}, {} | {fired}, {} | {} | {} |\n",
            seen.kinds
                .join(", ")
                .replace(&format!("{kind}, {kind}, {kind}"), kind),
            seen.logged,
            seen.counted,
            yes(seen.api_resolved),
            yes(seen.quota_kept),
            seen.snapshots_from_failures,
        ));
    }
    table.push_str(&format!(
        "| **all {total} cases** | **{passed} of {total} as expected** | | | | |\n"
    ));
    assert_eq!(passed, total, "cases not as expected:\n{table}");
    assert_documented(&table);
}

#[tokio::test]
async fn a_429_pauses_the_bot_for_its_retry_after_then_polling_resumes() {
    let steps = vec![Step::RateLimited(Some("2".into())), high_quota()];
    let sim = fake_analytics(vec![("b1", steps)]).await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.db");
    let mut config = config(&sim, vec![bot("b1")], &state);
    config.analytics.poll_interval = Duration::from_millis(100);
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&state, Duration::from_secs(3600)).unwrap());
    let (_pipeline, bot_loop) =
        start_pipeline(&config, RULES, store, Arc::new(Recorder::default())).await;
    let (stop, shutdown) = botwatch::shutdown::channel();
    let running = tokio::spawn(bot_loop.run(shutdown));
    // Bounded: the 429 is the first poll, the pause 2 s; without it, a poll every 100 ms.
    for _ in 0..100 {
        if sim.served("b1") >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.trigger();
    running.await.unwrap();
    let received = sim.received();
    assert!(received.len() >= 2, "polling resumed after the pause");
    let gap = received[1].at - received[0].at;
    assert!(
        gap >= Duration::from_secs(2),
        "the poll after a 429 with Retry-After: 2 came {gap:?} later"
    );
    sim.shutdown();
}

/// What the socket buffers between the fake and the client may hold beyond what the client
/// read: more than the fake's pace lets it get ahead by, far less than the body.
const SOCKET_SLACK: usize = 256 * 1024;

#[tokio::test]
async fn a_body_over_the_cap_is_read_no_further_than_the_cap() {
    let huge = format!("{{\"lineProgram\": \"{}\"}}", "x".repeat(TEN_MB));
    let mut sim = fake_analytics(vec![("b1", vec![stream(huge, 1000, 0, false)])]).await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.db");
    let config = config(&sim, vec![bot("b1")], &state);
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&state, Duration::from_secs(3600)).unwrap());
    let (_pipeline, mut bot_loop) =
        start_pipeline(&config, RULES, store.clone(), Arc::new(Recorder::default())).await;
    bot_loop.poll_once().await.unwrap();
    // Once the server has stopped, nothing more can be sent.
    sim.stop().await;
    let sent = sim.streamed_bytes();
    let cap = config.analytics.max_body_bytes;
    assert!(
        sent <= cap + SOCKET_SLACK,
        "{sent} bytes of a {TEN_MB}-byte body were sent for a cap of {cap}"
    );
    let api = store.load_bot("b1").await.unwrap().api.unwrap();
    assert_eq!(api.error_kind, Some("body_too_large"));
}
