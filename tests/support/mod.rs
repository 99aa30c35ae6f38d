//! Shared fakes and helpers for the integration tests (and the pipeline benchmark, which
//! includes this module rather than copy it): rules from YAML text, snapshots from JSON, a fake
//! analytics API on 127.0.0.1 (the crate's own simulator, with scripted timelines and fault
//! injection), a recording notifier that can fail on demand, the real binary, what `/proc`
//! says of a process, and the `--preview` page parsed as a user reads it.

#![allow(dead_code)] // each test file uses a different part of this module

pub mod digests;
pub mod discord;
pub mod harness;
pub mod hostile;
pub mod interactions;
pub mod lifecycle;
pub mod logs;
pub mod preview;
pub mod process;
pub mod procfs;
pub mod small_disk;
pub mod trace;

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use botwatch::alerts::AlertEvent;
use botwatch::analytics::simulator::{simulated_bot, timelines_for, Simulator, Step};
use botwatch::analytics::{Bot, Snapshot};
use botwatch::config::{AnalyticsConfig, Config};
use botwatch::notify::{DeliveryError, DeliveryFuture, Notifier};
use botwatch::rules::RuleSet;
use botwatch::store::OutboxItem;

/// Compiles rules from YAML text, panicking with the diagnostics if they are invalid.
pub fn rules(yaml: &str) -> RuleSet {
    RuleSet::parse("test-rules.yaml", yaml).unwrap_or_else(|d| panic!("invalid test rules:\n{d}"))
}

/// A snapshot from the API's JSON.
pub fn snapshot(json: serde_json::Value) -> Snapshot {
    serde_json::from_value(json).expect("test snapshot")
}

/// A poll answer with a LINE quota of 1,000 of which `used` are used.
pub fn quota(used: i64) -> Step {
    Step::respond(snapshot(
        serde_json::json!({"lineQuota": 1000, "lineQuotaConsumption": used}),
    ))
}

/// A bot with the credentials the fake expects for its id.
pub fn bot(id: &str) -> Bot {
    simulated_bot(id, &format!("Bot {id}"))
}

/// Starts the fake analytics API with one scripted timeline per bot id.
pub async fn fake_analytics(timelines: Vec<(&str, Vec<Step>)>) -> Simulator {
    Simulator::start(timelines_for(timelines))
        .await
        .expect("start the fake analytics API")
}

/// Delivers until the outbox is empty, honouring retry waits (bounded: 100 passes).
pub async fn drain(pipeline: &botwatch::scheduler::Pipeline) {
    use botwatch::notify::delivery::Pass;
    for _ in 0..100 {
        match pipeline
            .outbox()
            .deliver_due()
            .await
            .expect("read the outbox")
        {
            Pass::Drained => return,
            Pass::RetryIn(wait) => tokio::time::sleep(wait).await,
        }
    }
    panic!("the outbox did not drain");
}

/// A pipeline for `config` with rules from YAML text, polling at once (no start delay), and the
/// loop of its first bot, state restored: one botwatch process, as far as tests need one.
pub async fn start_pipeline(
    config: &Config,
    rules_yaml: &str,
    store: std::sync::Arc<dyn botwatch::store::Store>,
    notifier: std::sync::Arc<dyn Notifier>,
) -> (
    std::sync::Arc<botwatch::scheduler::Pipeline>,
    botwatch::scheduler::BotLoop,
) {
    use botwatch::scheduler::{BotLoop, Pipeline, RunOptions};
    let options = RunOptions {
        max_start_delay: Some(Duration::ZERO),
        ..RunOptions::default()
    };
    let rules = std::sync::Arc::new(rules(rules_yaml));
    let pipeline = std::sync::Arc::new(
        Pipeline::new(config, rules, store, notifier, options).expect("pipeline"),
    );
    let bot_loop = BotLoop::restore(pipeline.clone(), config.bots[0].clone())
        .await
        .expect("restore");
    (pipeline, bot_loop)
}

/// A configuration polling `simulator` for `bots`, state in `state`.
pub fn config(simulator: &Simulator, bots: Vec<Bot>, state: &Path) -> Config {
    Config {
        analytics: AnalyticsConfig {
            base_url: simulator.base_url().parse().expect("base url"),
            timeout: Duration::from_millis(500),
            poll_interval: Duration::from_secs(1),
            requests_per_second: std::num::NonZeroU32::new(1000).expect("non-zero"),
            max_body_bytes: 64 * 1024,
        },
        bots,
        rules: "rules.yaml".into(),
        state: state.to_owned(),
        history: Duration::from_secs(3600),
        discord: None,
        listen: None,
    }
}

/// A notifier that records what it delivers, and fails the next N deliveries on demand.
#[derive(Default)]
pub struct Recorder {
    delivered: Mutex<Vec<(i64, AlertEvent)>>,
    attempts: AtomicUsize,
    failures_left: AtomicUsize,
}

impl Recorder {
    /// A recorder that fails its first `n` deliveries with a retryable error.
    pub fn failing_first(n: usize) -> Arc<Recorder> {
        let recorder = Recorder::default();
        recorder.failures_left.store(n, Ordering::SeqCst);
        Arc::new(recorder)
    }

    /// Everything delivered, in order.
    pub fn delivered(&self) -> Vec<(i64, AlertEvent)> {
        self.delivered.lock().unwrap().clone()
    }

    /// Delivered events as `transition rule [platform]` strings, for readable assertions.
    pub fn lines(&self) -> Vec<String> {
        self.delivered()
            .iter()
            .map(|(_, e)| {
                let mut line = format!("{:?} {}", e.transition, e.key.rule);
                if let Some(platform) = e.key.platform {
                    line.push_str(&format!(" {platform}"));
                }
                line
            })
            .collect()
    }

    /// Delivery attempts, failed ones included.
    pub fn attempts(&self) -> usize {
        self.attempts.load(Ordering::SeqCst)
    }
}

impl Notifier for Recorder {
    fn deliver<'a>(&'a self, item: &'a OutboxItem) -> DeliveryFuture<'a> {
        Box::pin(async move {
            self.attempts.fetch_add(1, Ordering::SeqCst);
            let failing = self
                .failures_left
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok();
            if failing {
                return Err(DeliveryError::Retry {
                    reason: "injected failure".into(),
                    after: Some(Duration::from_millis(10)),
                });
            }
            self.delivered
                .lock()
                .unwrap()
                .push((item.id, item.event.clone()));
            Ok(())
        })
    }
}

/// What a run of the binary showed the user.
pub struct Outcome {
    /// The exit code.
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

/// Runs the real `botwatch` binary in `dir` with `args` and extra environment variables.
pub fn run_botwatch(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Outcome {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_botwatch"))
        .args(args)
        .current_dir(dir)
        .env("RUST_LOG", "warn")
        .envs(env.iter().copied())
        .output()
        .expect("run botwatch");
    Outcome {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Panics unless RELIABILITY.md contains `text` verbatim: the figures a test measured are
/// the figures the document shows.
pub fn assert_documented(text: &str) {
    let document = std::fs::read_to_string(project_root().join("RELIABILITY.md"))
        .expect("read RELIABILITY.md");
    assert!(
        document.contains(text),
        "RELIABILITY.md must show this, as measured:\n{text}"
    );
}

/// The project's root folder (where the shipped rules.yaml is).
pub fn project_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}
