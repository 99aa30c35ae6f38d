//! The Discord gateway of `botwatch run`, through the real binary: it connects only where the
//! API at the configured base URL says, serves `/analysis` there, backs off when it cannot
//! connect (one log line per attempt), and `discord.gateway: false` turns it off.

mod support;

use std::time::{Duration, Instant};

use botwatch::analytics::simulator::{Simulator, Step};
use serde_json::json;
use support::discord::gateway::{refusing_url, FakeGateway, APPLICATION_ID};
use support::discord::FakeDiscord;
use support::interactions::{analysis_json, Asker};
use support::process::{wait_until, write_config, Ended, Running, SECRETS};
use support::{fake_analytics, snapshot};

const ARGS: [&str; 3] = ["run", "--config", "botwatch.yaml"];
/// What botwatch logs for each failed attempt.
const UNAVAILABLE: &str = "the Discord gateway is unavailable";

/// Discord, the analytics API (bot b1 at 99 % of its quota: two alerts fire) and a config
/// for both, with `extra` YAML at the end of the `discord:` section.
async fn quota_99_for_b1(extra: &str) -> (FakeDiscord, Simulator, tempfile::TempDir) {
    let fake = FakeDiscord::start().await;
    let high = Step::respond(snapshot(
        json!({"lineQuota": 1000, "lineQuotaConsumption": 990}),
    ));
    let sim = fake_analytics(vec![("b1", vec![high])]).await;
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), &sim.base_url(), &fake.base_url(), extra);
    (fake, sim, dir)
}

/// Stops `running` with SIGTERM, checks it exited cleanly, and returns how it ended.
fn stop(running: Running) -> Ended {
    running.signal("TERM");
    let ended = running.wait();
    assert_eq!(ended.code, Some(0), "{}", ended.stderr);
    ended
}

/// Stops `running` and panics with `what` did not happen, and the log.
fn give_up(running: Running, what: &str) -> ! {
    running.signal("TERM");
    panic!("{what}; the log:\n{}", running.wait().stderr)
}

/// Panics if the log shows a host the configuration did not give, or serenity's own
/// retry loop.
fn assert_no_foreign_host_nor_serenity_retries(stderr: &str) {
    for sign in [
        "gateway.discord.gg",
        "failed to lookup address",
        "Err starting shard",
        "Re-queueing",
    ] {
        assert!(!stderr.contains(sign), "`{sign}` in the log:\n{stderr}");
    }
}

/// The gaps between consecutive instants.
fn gaps(instants: &[Instant]) -> Vec<Duration> {
    instants.windows(2).map(|w| w[1] - w[0]).collect()
}

/// Waits for four gateway lookups, then checks the waits between them grew from about a
/// second, and that the log has one line per failed attempt. Returns the log.
async fn assert_lookups_back_off(fake: &FakeDiscord, running: Running) -> String {
    // 1 s + 2 s + 4 s of backoff (at most): four lookups within 30 s even on a loaded machine.
    let four = wait_until(Duration::from_secs(30), || {
        fake.gateway_lookups().len() >= 4
    })
    .await;
    let lookups = fake.gateway_lookups();
    let stderr = stop(running).stderr;
    assert!(four, "four gateway lookups: {lookups:?}\n{stderr}");
    let gaps = gaps(&lookups[..4]);
    assert!(gaps[0] >= Duration::from_millis(700), "{gaps:?}");
    assert!(gaps[1] > gaps[0] && gaps[2] > gaps[1], "growing: {gaps:?}");
    // About 1 s, 2 s, 4 s, each up to a quarter shorter: the third at least thrice the first
    // (a fixed wait, jittered the same way, stays under 4/3); twice leaves room for a loaded
    // machine stretching the first gap.
    assert!(gaps[2] >= gaps[0].mul_f64(2.0), "doubling: {gaps:?}");
    let lines = stderr.lines().filter(|l| l.contains(UNAVAILABLE)).count();
    let attempts = fake.gateway_lookups().len();
    assert!(
        lines + 1 >= attempts && lines <= attempts,
        "{lines} lines for {attempts} attempts:\n{stderr}"
    );
    let about_the_gateway = stderr
        .lines()
        .filter(|l| l.to_lowercase().contains("gateway") || l.contains("shard"))
        .count();
    assert_eq!(about_the_gateway, lines, "one line per attempt:\n{stderr}");
    assert_no_foreign_host_nor_serenity_retries(&stderr);
    stderr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_gateway_off_discord_is_never_asked_for_it_while_cards_still_flow() {
    let (fake, _sim, dir) = quota_99_for_b1("  gateway: false\n").await;
    let gateway = FakeGateway::start().await;
    fake.serve_gateway_at(&gateway.url());
    let running = Running::start(dir.path(), &ARGS, &SECRETS);
    // The gateway starts before the first poll: had it been on, it would have asked by the
    // time the cards of that poll are in.
    let cards = wait_until(Duration::from_secs(30), || fake.messages("111").len() == 2).await;
    let stderr = stop(running).stderr;
    assert!(cards, "both cards delivered: {:#?}", fake.requests());
    assert_eq!(fake.gateway_lookups(), Vec::<Instant>::new(), "no lookup");
    assert_eq!(gateway.identifies(), 0, "no connection");
    assert!(
        stderr.contains("the Discord gateway is off (discord.gateway: false)"),
        "{stderr}"
    );
    fake.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_that_refuses_connections_is_retried_with_growing_waits_on_loopback_only() {
    let (fake, _sim, dir) = quota_99_for_b1("").await;
    let refusing = refusing_url();
    fake.serve_gateway_at(&refusing);
    let running = Running::start(dir.path(), &ARGS, &SECRETS);
    let stderr = assert_lookups_back_off(&fake, running).await;
    let attempt = stderr
        .lines()
        .find(|l| l.contains(UNAVAILABLE))
        .unwrap_or_default();
    assert!(
        attempt.contains(&format!("cannot connect to the gateway at {refusing}")),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_gateway_lookup_is_retried_with_growing_waits_and_no_fallback_host() {
    // No gateway set: the fake answers the lookup 404.
    let (fake, _sim, dir) = quota_99_for_b1("").await;
    let running = Running::start(dir.path(), &ARGS, &SECRETS);
    let stderr = assert_lookups_back_off(&fake, running).await;
    assert!(
        stderr.contains("the gateway lookup failed: Discord answered HTTP 404"),
        "{stderr}"
    );
    assert_eq!(fake.messages("111").len(), 2, "cards flow meanwhile");
}

/// Waits for five polls (a second apart, they outlast the first two retries a backoff would
/// make), stops botwatch and checks the gateway was tried once, refused with one error line
/// and never retried, while cards flowed. Returns the log.
async fn assert_refused_once(fake: &FakeDiscord, sim: &Simulator, running: Running) -> String {
    let polled = wait_until(Duration::from_secs(30), || sim.served("b1") >= 5).await;
    let stderr = stop(running).stderr;
    assert!(polled, "{stderr}");
    assert_eq!(fake.gateway_lookups().len(), 1, "one lookup: {stderr}");
    let refused = stderr
        .lines()
        .filter(|l| l.contains("ERROR") && l.contains("Discord refused the bot"))
        .count();
    assert_eq!(refused, 1, "{stderr}");
    assert!(!stderr.contains(UNAVAILABLE), "{stderr}");
    assert_eq!(fake.messages("111").len(), 2, "cards flow meanwhile");
    stderr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_refused_at_the_lookup_turns_the_gateway_off_without_retrying() {
    let (fake, sim, dir) = quota_99_for_b1("").await;
    fake.refuse_gateway_lookups();
    let running = Running::start(dir.path(), &ARGS, &SECRETS);
    let stderr = assert_refused_once(&fake, &sim, running).await;
    assert!(stderr.contains("Discord answered HTTP 401"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_refused_by_the_gateway_turns_it_off_without_retrying() {
    let (fake, sim, dir) = quota_99_for_b1("").await;
    let gateway = FakeGateway::start().await;
    gateway.refuse_the_token();
    fake.serve_gateway_at(&gateway.url());
    let running = Running::start(dir.path(), &ARGS, &SECRETS);
    assert_refused_once(&fake, &sim, running).await;
    assert_eq!(gateway.identifies(), 1, "one identify");
}

/// Registrations of `/analysis` the fake received.
fn registrations(fake: &FakeDiscord) -> usize {
    let path = format!("/api/v10/applications/{APPLICATION_ID}/commands");
    fake.requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path == path && r.status == 200)
        .count()
}

/// botwatch running with its gateway connected to a fake one, `/analysis` registered.
struct Connected {
    fake: FakeDiscord,
    gateway: FakeGateway,
    running: Running,
    _sim: Simulator,
    _dir: tempfile::TempDir,
}

async fn connected() -> Connected {
    let (fake, sim, dir) = quota_99_for_b1("").await;
    let gateway = FakeGateway::start().await;
    fake.serve_gateway_at(&gateway.url());
    let running = Running::start(dir.path(), &ARGS, &SECRETS);
    if !wait_until(Duration::from_secs(30), || registrations(&fake) == 1).await {
        give_up(running, "/analysis was not registered on Ready");
    }
    Connected {
        fake,
        gateway,
        running,
        _sim: sim,
        _dir: dir,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_serves_analysis_where_the_lookup_points_and_comes_back_after_an_outage() {
    let Connected {
        fake,
        gateway,
        running,
        _sim,
        _dir,
    } = connected().await;
    assert_eq!(gateway.identifies(), 1);

    gateway.dispatch(
        "INTERACTION_CREATE",
        analysis_json(Asker::default(), "via-gateway"),
    );
    let answered = || !fake.callbacks("via-gateway").is_empty();
    if !wait_until(Duration::from_secs(10), answered).await {
        give_up(running, "/analysis was not answered");
    }

    let before = fake.gateway_lookups().len();
    gateway.set_down(true);
    // The connection is reset and cannot be resumed: serenity's runner would spin on the dead
    // socket until its next heartbeat (45 s here); botwatch stops it and backs off instead.
    let retried = || fake.gateway_lookups().len() >= before + 2;
    if !wait_until(Duration::from_secs(20), retried).await {
        give_up(running, "no lookups during the outage");
    }
    gateway.set_down(false);
    let back = wait_until(Duration::from_secs(30), || registrations(&fake) == 2).await;
    let stderr = stop(running).stderr;
    assert!(back, "reconnected and registered again:\n{stderr}");
    assert_eq!(gateway.identifies(), 2, "one identify per connection");
    assert!(
        stderr.contains("the gateway connection was lost"),
        "{stderr}"
    );
    assert_no_foreign_host_nor_serenity_retries(&stderr);
    fake.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_closes_the_gateway_connection_with_a_close_frame() {
    let Connected {
        fake: _fake,
        gateway,
        running,
        _sim,
        _dir,
    } = connected().await;
    let stderr = stop(running).stderr;
    assert_eq!(gateway.closes(), 1, "{stderr}");
    assert_eq!(gateway.identifies(), 1, "no reconnection on the way out");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_but_loopback_is_contacted_when_the_gateway_lookup_fails() {
    // serenity's own client falls back to Discord's public gateway when the lookup fails: a
    // name lookup and a connection that strace sees, whatever botwatch logs.
    let Some(strace) = support::trace::strace() else {
        return;
    };
    let (fake, sim, dir) = quota_99_for_b1("").await;
    let log = dir.path().join("connections.strace");
    let running = Running::start_traced(strace, &log, dir.path(), &ARGS, &SECRETS);
    let retried = wait_until(Duration::from_secs(30), || {
        fake.gateway_lookups().len() >= 3 && fake.messages("111").len() >= 2
    })
    .await;
    let stderr = stop(running).stderr;
    assert!(retried, "three lookups and the cards: {stderr}");
    let trace = std::fs::read_to_string(&log).expect("strace's log");
    let addresses = support::trace::addresses(&trace);
    let fake_port = fake.base_url().rsplit(':').next().unwrap().to_owned();
    let sim_port = sim
        .base_url()
        .trim_end_matches('/')
        .rsplit(':')
        .next()
        .unwrap()
        .to_owned();
    for port in [&fake_port, &sim_port] {
        assert!(
            trace.contains(&format!("htons({port})")),
            "strace saw the connections to the fakes (port {port}):\n{trace}"
        );
    }
    let outside: Vec<&String> = addresses
        .iter()
        .filter(|a| !support::trace::is_loopback(a))
        .collect();
    assert!(outside.is_empty(), "contacted {outside:?}:\n{trace}");
    // Every address configured is an IP on loopback: no name needs looking up.
    let lookups = support::trace::name_lookups(&trace);
    assert!(lookups.is_empty(), "looked up names: {lookups:#?}");
}
