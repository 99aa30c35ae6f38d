//! The pipeline over real HTTP and a real SQLite file: the fake analytics API on 127.0.0.1,
//! the client, the rules, the lifecycle, the store and the outbox, with restarts in between.

mod support;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use botwatch::analytics::simulator::{Simulator, Step};
use botwatch::analytics::Bot;
use botwatch::notify::Notifier;
use botwatch::scheduler::{BotLoop, Pipeline, RunOptions};
use botwatch::store::{SqliteStore, Store};
use serde_json::json;
use support::{bot, config, drain, fake_analytics, rules, snapshot, start_pipeline, Recorder};

const RULES: &str = r#"
rules:
  - name: quota
    when: lineQuotaConsumption > 800
  - name: api
    when: api.consecutive_failures >= 3
    recover_when: api.up
  - name: dropped
    each: platform
    when: previous.platform.integrated && !platform.integrated
    recover_when: platform.integrated
"#;

fn good(used: i64, fb: bool) -> Step {
    Step::respond(snapshot(
        json!({"lineQuota": 1000, "lineQuotaConsumption": used, "fbIsIntegration": fb}),
    ))
}

fn open(state: &Path) -> Arc<dyn Store> {
    Arc::new(SqliteStore::open(state, Duration::from_secs(3600)).expect("open state"))
}

/// A fresh process's worth of pipeline: new store connection, new notifier, state restored.
async fn start(
    sim: &Simulator,
    bot: Bot,
    state: &Path,
    notifier: Arc<dyn Notifier>,
) -> (Arc<Pipeline>, BotLoop) {
    let config = config(sim, vec![bot], state);
    start_pipeline(&config, RULES, open(state), notifier).await
}

#[tokio::test]
async fn credentials_the_api_echoes_in_any_error_are_redacted() {
    // The secret straddles the 200th character, where error texts are cut.
    let straddling = format!("{}b1-secret rejected", "x".repeat(195));
    let steps = vec![
        Step::StatusBody(401, straddling),
        Step::Reject("secret b1-secret has expired".into()),
        Step::RawBody(r#"{"success": true, "lineQuota": "b1-token"}"#.into()),
        Step::RawBody(r#"{"message": "hello b1-token"}"#.into()),
    ];
    let sim = fake_analytics(vec![("b1", steps)]).await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("s.db");
    let (_pipeline, mut bot_loop) =
        start(&sim, bot("b1"), &state, Arc::new(Recorder::default())).await;
    let store = open(&state);
    for expected in ["http_status", "rejected", "decode", "empty"] {
        bot_loop.poll_once().await.unwrap();
        let api = store.load_bot("b1").await.unwrap().api.unwrap();
        let error = api.error.unwrap();
        assert_eq!(api.error_kind, Some(expected), "{error}");
        assert!(error.contains("[RE"), "{error}");
        assert!(
            !error.contains("b1-s") && !error.contains("b1-t"),
            "{error}"
        );
    }
}

#[tokio::test]
async fn wrong_credentials_are_an_http_401_with_a_hint() {
    let sim = fake_analytics(vec![("b1", vec![good(100, true)])]).await;
    let dir = tempfile::tempdir().unwrap();
    let mut wrong = bot("b1");
    wrong.secret = "not-the-secret".to_owned().into();
    let (_pipeline, mut bot_loop) = start(
        &sim,
        wrong,
        &dir.path().join("s.db"),
        Arc::new(Recorder::default()),
    )
    .await;
    bot_loop.poll_once().await.unwrap();
    let api = open(&dir.path().join("s.db"))
        .load_bot("b1")
        .await
        .unwrap()
        .api
        .unwrap();
    assert!(!api.up);
    let error = api.error.unwrap();
    assert!(
        error.contains("HTTP 401 (check the bot's token and secret)"),
        "{error}"
    );
    assert!(
        !error.contains("not-the-secret"),
        "the secret never appears in errors"
    );
}

#[tokio::test]
async fn a_restart_does_not_announce_firing_alerts_again_and_catches_a_transition_across_it() {
    let sim = fake_analytics(vec![("b1", vec![good(900, true)])]).await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.db");
    let before = Arc::new(Recorder::default());
    {
        let (pipeline, mut bot_loop) = start(&sim, bot("b1"), &state, before.clone()).await;
        bot_loop.poll_once().await.unwrap();
        drain(&pipeline).await;
    }
    assert_eq!(before.lines(), ["Fired quota"]);
    // While botwatch is down, Facebook is disconnected.
    sim.set_steps("b1", vec![good(900, false)]);
    let after = Arc::new(Recorder::default());
    let (pipeline, mut bot_loop) = start(&sim, bot("b1"), &state, after.clone()).await;
    bot_loop.poll_once().await.unwrap();
    bot_loop.poll_once().await.unwrap();
    drain(&pipeline).await;
    assert_eq!(
        after.lines(),
        ["Fired dropped fb"],
        "quota is not announced again; the drop is caught once"
    );
}

#[tokio::test]
async fn an_event_committed_before_a_crash_is_delivered_once_after_the_restart() {
    let sim = fake_analytics(vec![("b1", vec![good(900, true)])]).await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.db");
    let never_delivered = Arc::new(Recorder::default());
    {
        let (_pipeline, mut bot_loop) =
            start(&sim, bot("b1"), &state, never_delivered.clone()).await;
        bot_loop.poll_once().await.unwrap();
        // The process dies here, before the outbox ran.
    }
    assert!(never_delivered.lines().is_empty());
    let after = Arc::new(Recorder::default());
    let (pipeline, _bot_loop) = start(&sim, bot("b1"), &state, after.clone()).await;
    drain(&pipeline).await;
    drain(&pipeline).await;
    assert_eq!(after.lines(), ["Fired quota"]);
    assert_eq!(open(&state).outbox_len().await.unwrap(), 0);
}

#[tokio::test]
async fn failed_deliveries_are_retried_in_order_with_nothing_lost_or_doubled() {
    let steps = vec![
        good(900, true),
        good(900, false),
        good(100, false),
        good(100, true),
    ];
    let sim = fake_analytics(vec![("b1", steps)]).await;
    let dir = tempfile::tempdir().unwrap();
    let flaky = Recorder::failing_first(3);
    let (pipeline, mut bot_loop) =
        start(&sim, bot("b1"), &dir.path().join("s.db"), flaky.clone()).await;
    for _ in 0..4 {
        bot_loop.poll_once().await.unwrap();
    }
    drain(&pipeline).await;
    assert_eq!(
        flaky.lines(),
        [
            "Fired quota",
            "Fired dropped fb",
            "Resolved quota",
            "Resolved dropped fb"
        ]
    );
    assert_eq!(flaky.attempts(), 4 + 3);
    let ids: Vec<i64> = flaky.delivered().iter().map(|(id, _)| *id).collect();
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "delivered in the order they happened: {ids:?}"
    );
}

#[tokio::test]
async fn the_service_polls_until_shutdown_and_leaves_its_state_on_disk() {
    let sim = fake_analytics(vec![
        ("b1", vec![good(900, true)]),
        ("b2", vec![good(100, true)]),
    ])
    .await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.db");
    let config = config(&sim, vec![bot("b1"), bot("b2")], &state);
    let recorder = Arc::new(Recorder::default());
    let (trigger, shutdown) = botwatch::shutdown::channel();
    let options = RunOptions {
        max_start_delay: Some(Duration::ZERO),
        ..RunOptions::default()
    };
    let store = botwatch::scheduler::open_store(&config).await.unwrap();
    let service = botwatch::scheduler::run(
        &config,
        rules(RULES),
        store,
        recorder.clone(),
        options,
        shutdown,
    );
    let stopper = async {
        // Bounded: 100 × 50 ms.
        for _ in 0..100 {
            if sim.served("b1") >= 2 && sim.served("b2") >= 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        trigger.trigger();
    };
    let (result, ()) = tokio::join!(service, stopper);
    result.unwrap();
    assert!(sim.served("b1") >= 2, "polled every interval");
    assert_eq!(
        recorder.lines(),
        ["Fired quota"],
        "delivered before the service returned"
    );
    let store = open(&state);
    assert!(store.load_bot("b2").await.unwrap().last_snapshot.is_some());
    assert_eq!(store.load_bot("b1").await.unwrap().instances.len(), 1);
}

#[tokio::test]
async fn a_field_missing_from_one_response_does_not_hide_a_transition() {
    let fb = |v: Option<bool>| {
        let mut json = json!({"lineQuota": 1000, "lineQuotaConsumption": 100});
        if let Some(v) = v {
            json["fbIsIntegration"] = json!(v);
        }
        Step::respond(snapshot(json))
    };
    let sim = fake_analytics(vec![(
        "b1",
        vec![fb(Some(true)), fb(None), fb(Some(false))],
    )])
    .await;
    let dir = tempfile::tempdir().unwrap();
    let recorder = Arc::new(Recorder::default());
    let (pipeline, mut bot_loop) =
        start(&sim, bot("b1"), &dir.path().join("s.db"), recorder.clone()).await;
    for _ in 0..3 {
        bot_loop.poll_once().await.unwrap();
    }
    drain(&pipeline).await;
    assert_eq!(
        recorder.lines(),
        ["Fired dropped fb"],
        "`previous` kept the last known value"
    );
}

/// Quiet polls are committed in groups a tenth of a second apart: `serve` must not return
/// (and a stopping process must not report its state saved) before the last group is written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_returns_once_every_poll_it_made_is_in_the_history() {
    use botwatch::time::Timestamp;

    let ids: Vec<String> = (1..=50).map(|i| format!("b{i}")).collect();
    // Low quota use and no flags: no alert, so every poll is a quiet one.
    let quiet = || {
        Step::respond(snapshot(
            json!({"lineQuota": 1000, "lineQuotaConsumption": 100}),
        ))
    };
    let sim = fake_analytics(ids.iter().map(|id| (id.as_str(), vec![quiet()])).collect()).await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("s.db");
    let bots: Vec<Bot> = ids.iter().map(|id| bot(id)).collect();
    let config = config(&sim, bots.clone(), &state);
    // Polls spread over the second, as in service: some are always waiting for their group.
    let options = RunOptions {
        max_start_delay: Some(config.analytics.poll_interval),
        ..RunOptions::default()
    };
    let pipeline = Arc::new(
        Pipeline::new(
            &config,
            Arc::new(rules(RULES)),
            open(&state),
            Arc::new(Recorder::default()),
            options,
        )
        .unwrap(),
    );
    let (stop, shutdown) = botwatch::shutdown::channel();
    let serving = tokio::spawn({
        let pipeline = pipeline.clone();
        async move { botwatch::scheduler::serve(pipeline, &bots, shutdown).await }
    });
    let polled = support::process::wait_until(Duration::from_secs(30), || {
        sim.received().len() >= 2 * ids.len()
    })
    .await;
    assert!(polled, "the bots were polled");
    stop.trigger();
    serving.await.unwrap().unwrap();

    // The pipeline is still alive: nothing has closed the writer that could write late.
    let received = sim.received();
    let store = open(&state);
    for id in &ids {
        let answered = received.iter().filter(|r| &r.bot_id == id).count();
        let samples = store.history(id, Timestamp(0)).await.unwrap().len();
        assert_eq!(
            samples, answered,
            "{id}: samples in the history, polls answered"
        );
    }
}

#[tokio::test]
async fn alert_gauges_are_series_only_while_an_alert_is_pending_or_firing() {
    let sim = fake_analytics(vec![(
        "b1",
        vec![good(100, true), good(900, true), good(100, true)],
    )])
    .await;
    let dir = tempfile::tempdir().unwrap();
    let (pipeline, mut bot_loop) = start(
        &sim,
        bot("b1"),
        &dir.path().join("s.db"),
        Arc::new(Recorder::default()),
    )
    .await;
    let alert_series = |pipeline: &Pipeline| -> Vec<String> {
        pipeline
            .metrics()
            .encode()
            .lines()
            .filter(|l| l.starts_with("botwatch_alert_instances{"))
            .map(str::to_owned)
            .collect()
    };
    bot_loop.poll_once().await.unwrap();
    assert_eq!(
        alert_series(&pipeline),
        Vec::<String>::new(),
        "a quiet bot has none"
    );
    bot_loop.poll_once().await.unwrap();
    assert_eq!(
        alert_series(&pipeline),
        ["botwatch_alert_instances{bot=\"b1\",phase=\"firing\",severity=\"warning\"} 1"]
    );
    bot_loop.poll_once().await.unwrap();
    assert_eq!(
        alert_series(&pipeline),
        Vec::<String>::new(),
        "resolved: gone again"
    );
}
