//! `botwatch run` as an operator runs it: a config file, the real binary, SIGTERM.

mod support;

use std::time::Duration;

use botwatch::analytics::simulator::Step;
use botwatch::store::{BotStates, Outbox, SqliteStore};
use serde_json::json;
use support::process::{write_config, Running, SECRETS};
use support::{fake_analytics, run_botwatch, snapshot};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_alerts_on_stdout_and_in_discord_and_stops_cleanly_on_sigterm() {
    let fake = support::discord::FakeDiscord::start().await;
    let high = Step::respond(snapshot(
        json!({"lineQuota": 1000, "lineQuotaConsumption": 990}),
    ));
    let sim = fake_analytics(vec![("b1", vec![high])]).await;
    let dir = tempfile::tempdir().unwrap();
    let port = support::process::free_port();
    let server = format!("server:\n  listen: 127.0.0.1:{port}\n");
    write_config(dir.path(), &sim.base_url(), &fake.base_url(), &server);
    let running = Running::start(
        dir.path(),
        &["--log-format", "json", "run", "--config", "botwatch.yaml"],
        &SECRETS,
    );
    // The first poll happens within one interval; allow generous time on a loaded machine.
    let fired = running.lines_until(2, |l| l.contains("FIRING"), Duration::from_secs(30));
    assert!(
        fired
            .iter()
            .any(|l| l.contains("FIRING") && l.contains("line-quota-high")),
        "{fired:?}"
    );
    assert!(
        fired
            .iter()
            .any(|l| l.contains("FIRING") && l.contains("line-quota-critical")),
        "{fired:?}"
    );
    let health = run_botwatch(
        dir.path(),
        &["healthcheck", "--config", "botwatch.yaml"],
        &[],
    );
    assert_eq!(health.code, 0, "{}", health.stderr);
    let get = |path: &str| {
        let url = format!("http://127.0.0.1:{port}{path}");
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Runtime::new().unwrap();
            runtime.block_on(async { reqwest::get(url).await.unwrap().text().await.unwrap() })
        })
        .join()
        .unwrap()
    };
    assert_eq!(get("/readyz"), "ready\n");
    // Console lines come before the Discord delivery finishes: wait for it (bounded).
    let mut metrics = get("/metrics");
    for _ in 0..50 {
        if metrics.contains("botwatch_notifications_total{outcome=\"delivered\"} 2") {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
        metrics = get("/metrics");
    }
    for expected in [
        "botwatch_polls_total{bot=\"b1\",outcome=\"ok\"}",
        "botwatch_alert_instances{bot=\"b1\",phase=\"firing\",severity=\"critical\"} 1",
        "botwatch_notifications_total{outcome=\"delivered\"} 2",
        "botwatch_poll_duration_seconds_bucket",
    ] {
        assert!(metrics.contains(expected), "{expected} in\n{metrics}");
    }
    running.signal("TERM");
    let out = running.wait();
    let stderr = out.stderr;
    assert_eq!(out.code, Some(0), "{stderr}");
    assert!(stderr.contains("botwatch stopped; state saved"), "{stderr}");
    let logs: Vec<serde_json::Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON log lines"))
        .collect();
    assert!(
        logs.iter()
            .any(|l| l["message"] == "botwatch running" && l["bots"] == 1),
        "{stderr}"
    );
    let cards = fake.messages("111");
    assert_eq!(
        cards.len(),
        2,
        "both alerts reached Discord as cards before the exit"
    );
    fake.assert_no_violations();
    // The gateway asks the proxy (the fake) for its address, gets a 404 and waits to retry,
    // and alerting goes on without /analysis (that nothing but loopback is contacted meanwhile
    // is `discord_gateway.rs`'s, which watches every connection).
    assert!(
        fake.requests()
            .iter()
            .any(|r| r.path == "/api/v10/gateway/bot"),
        "{:#?}",
        fake.requests()
    );
    assert!(
        !stderr.contains("b1-secret")
            && !stderr.contains("b1-token")
            && !stderr.contains("discord-bot-token"),
        "no secret in the logs"
    );
    let state = dir.path().join("state/botwatch.db");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&state).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the state file is owner-only");
    }
    let store = SqliteStore::open(&state, Duration::from_secs(3600)).unwrap();
    assert_eq!(
        store.load_bot("b1").await.unwrap().instances.len(),
        2,
        "both alerts saved as firing"
    );
    assert_eq!(
        store.outbox_len().await.unwrap(),
        0,
        "everything announced was delivered"
    );
}
