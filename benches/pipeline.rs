//! The pipeline benchmark: the real `botwatch run` polling the crate's analytics simulator and
//! alerting in the tests' fake Discord, both on 127.0.0.1 in this process, measured from
//! outside (`/proc`, the simulator's arrival times, the state file's size) for several fleet
//! sizes. Prints one Markdown table; see BENCHMARKS.md for what each figure means.
//!
//! `cargo bench --bench pipeline` runs 100 and 1,000 bots polled every second and 10,000 bots
//! polled every minute (about seven minutes), then the alerting scenarios (change → Discord
//! latency, a 1,000-alert storm, Discord answering 429 to half the requests, `/analysis`; about
//! four minutes); `-- --sizes 100 --seconds 20 --scenarios latency` runs a subset, `-- --profile
//! 20` adds a `perf` profile of the 1,000-bot run. The fakes and the process
//! helpers are the tests' own (`tests/support/`), not copies.

// A crate root's modules would be looked for beside it, in `benches/`: the paths say where.
#[path = "../tests/support/mod.rs"]
mod support;

#[path = "pipeline/alerting.rs"]
mod alerting;
#[path = "pipeline/analysis.rs"]
mod analysis;
#[path = "pipeline/args.rs"]
mod args;
#[path = "pipeline/arrivals.rs"]
mod arrivals;
#[path = "pipeline/fleet.rs"]
mod fleet;
#[path = "pipeline/growth.rs"]
mod growth;
#[path = "pipeline/measure.rs"]
mod measure;
#[path = "pipeline/profile.rs"]
mod profile;
#[path = "pipeline/scenarios.rs"]
mod scenarios;
#[path = "pipeline/service.rs"]
mod service;
#[path = "pipeline/stage.rs"]
mod stage;
#[path = "pipeline/table.rs"]
mod table;

use std::time::Duration;

use clap::Parser;

use crate::args::Args;
use crate::fleet::Fleet;
use crate::measure::{measure, Plan};

/// The fleet size a `--profile` is recorded on.
const PROFILED_BOTS: usize = 1000;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args = Args::parse();
    if !args.bench {
        println!("pipeline: a benchmark of minutes, not a test; run it with `cargo bench --bench pipeline`");
        return;
    }
    assert!(
        args.profile.is_none() || args.sizes.contains(&PROFILED_BOTS),
        "--profile records the {PROFILED_BOTS}-bot run: include it in --sizes"
    );
    let mut rows = Vec::new();
    let mut profile = None;
    for &bots in &args.sizes {
        let fleet = Fleet::of(bots);
        let plan = Plan {
            fleet,
            window: args.window(fleet.interval),
            starts: args.starts as usize,
            profile: args
                .profile
                .filter(|_| bots == PROFILED_BOTS)
                .map(Duration::from_secs),
        };
        eprintln!(
            "pipeline: {bots} bots every {}, {} s window…",
            humantime::format_duration(fleet.interval),
            plan.window.as_secs()
        );
        let (row, top) = measure(&plan).await;
        rows.push(row);
        profile = profile.or(top);
    }
    if !rows.is_empty() {
        println!("{}", table::render(&rows));
    }
    if let Some(top) = profile {
        println!(
            "\nProfile (`perf record -g`, `perf report --no-children`), {PROFILED_BOTS} bots every second:\n\n{}",
            top.render()
        );
    }
    if !args.scenarios.is_empty() {
        println!("\n{}", scenarios::run(&args.scenarios).await);
    }
}
