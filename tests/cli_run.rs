//! `botwatch run` as an operator runs it: a config file, the real binary, SIGTERM.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use botwatch::analytics::simulator::Step;
use botwatch::store::{SqliteStore, Store};
use serde_json::json;
use support::{fake_analytics, project_root, run_botwatch, snapshot};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_alerts_on_stdout_and_in_discord_and_stops_cleanly_on_sigterm() {
    let fake = support::discord::FakeDiscord::start().await;
    let high = Step::respond(snapshot(
        json!({"lineQuota": 1000, "lineQuotaConsumption": 990}),
    ));
    let sim = fake_analytics(vec![("b1", vec![high])]).await;
    let dir = tempfile::tempdir().unwrap();
    let rules = project_root().join("rules.yaml");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = format!(
        "analytics:\n  base_url: {}\n  poll_interval: 1s\nbots:\n  - id: b1\n    name: Support\n    token: ${{BW_TOKEN}}\n    secret: ${{BW_SECRET}}\nrules: {}\nstate: state/botwatch.db\ndiscord:\n  token: ${{BW_DISCORD}}\n  api_base_url: {}\n  destinations: {{ops: {{channel: \"111\"}}}}\n  route: {{default: ops}}\nserver:\n  listen: 127.0.0.1:{}\n",
        sim.base_url(),
        rules.display(),
        fake.base_url(),
        port
    );
    std::fs::write(dir.path().join("botwatch.yaml"), config).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_botwatch"))
        .args(["--log-format", "json", "run", "--config", "botwatch.yaml"])
        .current_dir(dir.path())
        .env("BW_TOKEN", "b1-token")
        .env("BW_SECRET", "b1-secret")
        .env("BW_DISCORD", "discord-bot-token")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (lines, received) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    // The first poll happens within one interval; allow generous time on a loaded machine.
    let mut fired = Vec::new();
    while fired.len() < 2 {
        let line = received
            .recv_timeout(Duration::from_secs(30))
            .expect("alerts on stdout");
        fired.push(line);
    }
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
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
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
    // The gateway asks the proxy (the fake) for its address, gets a 404 and stays off:
    // nothing but loopback is ever contacted, and alerting goes on without /analysis.
    assert!(
        fake.requests().iter().any(|r| r.path == "/api/v10/gateway"),
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
        store.load_bot("b1").unwrap().instances.len(),
        2,
        "both alerts saved as firing"
    );
    assert_eq!(
        store.outbox_len().unwrap(),
        0,
        "everything announced was delivered"
    );
}
