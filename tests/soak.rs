//! Soak: 1,000 bots polled every second for ten minutes (accelerated from the usual minute),
//! with alerts firing and resolving every minute, and the process's memory must stay bounded
//! while polls and deliveries keep coming for the whole run.
//!
//! Ignored by default (it takes minutes). Run it with:
//! `BOTWATCH_SOAK_SECS=600 cargo test --release --test soak -- --ignored --nocapture`

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use botwatch::analytics::simulator::Step;
use botwatch::notify::{DeliveryFuture, Notifier};
use botwatch::scheduler::RunOptions;
use botwatch::store::OutboxItem;
use serde_json::json;
use support::{bot, config, fake_analytics, rules, snapshot};

/// Counts deliveries without keeping them (a recorder would itself grow).
#[derive(Default)]
struct Counter(AtomicUsize);

impl Notifier for Counter {
    fn deliver<'a>(&'a self, _: &'a OutboxItem) -> DeliveryFuture<'a> {
        self.0.fetch_add(1, Ordering::Relaxed);
        Box::pin(async { Ok(()) })
    }
}

/// What the run had done at one moment.
#[derive(Debug, Clone, Copy)]
struct Sample {
    /// Resident memory, KiB.
    resident_kib: u64,
    /// Polls the simulator answered, all bots together, since the timelines were last
    /// started (restarting a timeline starts its count again).
    polls: usize,
    /// Alert events delivered.
    delivered: usize,
}

/// The number of events each bot's timeline makes: it fires, then resolves.
const EVENTS_PER_CYCLE: usize = 2;
/// Polls in one timeline (high for the first half).
const CYCLE_POLLS: usize = 10;

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
    let steps: Vec<Step> = (0..CYCLE_POLLS)
        .map(|i| {
            let used = if i < CYCLE_POLLS / 2 { 900 } else { 100 };
            Step::respond(snapshot(
                json!({"lineQuota": 1000, "lineQuotaConsumption": used}),
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
    // After the warm-up and then every minute: resident memory (so that a trend shows), and
    // the polls and deliveries since the last sample, with every bot's timeline started again
    // (so that each minute has its alerts firing and resolving).
    let sample = || Sample {
        resident_kib: support::procfs::resident_kib(std::process::id()),
        polls: ids.iter().map(|id| sim.served(id)).sum(),
        delivered: counter.0.load(Ordering::Relaxed),
    };
    let restart_timelines = || ids.iter().for_each(|id| sim.set_steps(id, steps.clone()));
    let watch = async {
        let warm_up = seconds.min(30);
        tokio::time::sleep(Duration::from_secs(warm_up)).await;
        let mut samples = vec![(0, sample())];
        restart_timelines();
        let mut elapsed = warm_up;
        while elapsed < seconds {
            let step = (seconds - elapsed).min(60);
            tokio::time::sleep(Duration::from_secs(step)).await;
            elapsed += step;
            samples.push((step, sample()));
            restart_timelines();
        }
        trigger.trigger();
        samples
    };
    let (result, samples) = tokio::join!(service, watch);
    result.unwrap();
    let (start, end) = (samples[0].1, samples[samples.len() - 1].1);
    let polls: usize = samples.iter().map(|(_, s)| s.polls).sum();
    println!(
        "soak: {seconds} s, 1000 bots, {polls} polls, {} alerts delivered, resident {} KiB after warm-up, {} KiB at the end",
        end.delivered, start.resident_kib, end.resident_kib
    );
    println!("soak: (seconds, sample) after the warm-up, then every minute: {samples:?}");
    for pair in samples.windows(2) {
        let ((_, before), (step, after)) = (pair[0], pair[1]);
        // The timelines were restarted at the sample before: the count is this interval's.
        let polls = after.polls;
        // 1,000 bots a second; 80 % of it allows for start-up and a busy machine.
        let expected = 1000 * step as usize * 8 / 10;
        assert!(
            polls >= expected,
            "{polls} polls in {step} s: polling stalled"
        );
        if step as usize >= CYCLE_POLLS + 2 {
            let delivered = after.delivered - before.delivered;
            assert!(
                delivered >= 1000 * EVENTS_PER_CYCLE,
                "{delivered} alerts delivered in {step} s: delivery stalled"
            );
        }
    }
    assert!(samples.len() >= 2, "the run lasted past its warm-up");
    assert!(
        end.resident_kib < start.resident_kib + 64 * 1024,
        "resident memory grew by {} KiB",
        end.resident_kib.saturating_sub(start.resident_kib)
    );
}
