//! Soak: 1,000 bots polled every second for ten minutes (accelerated from the usual minute),
//! with alerts firing and resolving, and the process's memory must stay bounded.
//!
//! Ignored by default (it takes minutes). Run it with:
//! `BOTWATCH_SOAK_SECS=600 cargo test --release --test soak -- --ignored --nocapture`

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use botwatch::alerts::AlertEvent;
use botwatch::analytics::simulator::Step;
use botwatch::notify::{DeliveryFuture, Notifier};
use botwatch::scheduler::RunOptions;
use serde_json::json;
use support::{bot, config, fake_analytics, rules, snapshot};

/// Counts deliveries without keeping them (a recorder would itself grow).
#[derive(Default)]
struct Counter(AtomicUsize);

impl Notifier for Counter {
    fn deliver<'a>(&'a self, _: i64, _: &'a AlertEvent) -> DeliveryFuture<'a> {
        self.0.fetch_add(1, Ordering::Relaxed);
        Box::pin(async { Ok(()) })
    }
}

/// Resident memory of this process, in KiB.
fn resident_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "soak: minutes long; see the module docs"]
async fn a_thousand_bots_for_ten_minutes_keep_memory_bounded() {
    let seconds: u64 = std::env::var("BOTWATCH_SOAK_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(600);
    let ids: Vec<String> = (0..1000).map(|i| format!("soak{i}")).collect();
    // Each bot's quota is high for 5 polls, then low: every bot fires and then resolves, and
    // keeps being polled and evaluated for the rest of the run.
    let steps: Vec<Step> = (0..10)
        .map(|i| {
            Step::respond(snapshot(
                json!({"lineQuota": 1000, "lineQuotaConsumption": if i < 5 { 900 } else { 100 }}),
            ))
        })
        .collect();
    let mut timelines = Vec::new();
    for id in &ids {
        timelines.push((id.as_str(), steps.clone()));
    }
    let sim = fake_analytics(timelines).await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(
        &sim,
        ids.iter().map(|id| bot(id)).collect(),
        &dir.path().join("soak.db"),
    );
    config.analytics.requests_per_second = std::num::NonZeroU32::new(5000).unwrap();
    let store = botwatch::scheduler::open_store(&config).await.unwrap();
    let counter = Arc::new(Counter::default());
    let rules = rules("rules:\n  - {name: quota, when: 'lineQuotaConsumption > 800'}\n");
    let (trigger, shutdown) = botwatch::shutdown::channel();
    let options = RunOptions {
        max_start_delay: Some(Duration::from_secs(1)),
        ..RunOptions::default()
    };
    let service =
        botwatch::scheduler::run(&config, rules, store, counter.clone(), options, shutdown);
    // Resident memory after the warm-up and then every minute, so that a trend shows.
    let watch = async {
        let warm_up = seconds.min(30);
        tokio::time::sleep(Duration::from_secs(warm_up)).await;
        let mut samples = vec![resident_kib()];
        let mut elapsed = warm_up;
        while elapsed < seconds {
            let step = (seconds - elapsed).min(60);
            tokio::time::sleep(Duration::from_secs(step)).await;
            elapsed += step;
            samples.push(resident_kib());
        }
        trigger.trigger();
        samples
    };
    let (result, samples) = tokio::join!(service, watch);
    result.unwrap();
    let (start, end) = (samples[0], samples[samples.len() - 1]);
    let delivered = counter.0.load(Ordering::Relaxed);
    println!("soak: {seconds} s, 1000 bots, {delivered} alerts delivered, resident {start} KiB after warm-up, {end} KiB at the end");
    println!("soak: resident KiB after the warm-up, then every minute: {samples:?}");
    assert!(delivered > 1000, "alerts flowed");
    assert!(
        end < start + 64 * 1024,
        "resident memory grew by {} KiB",
        end.saturating_sub(start)
    );
}
