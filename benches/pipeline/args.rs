//! The benchmark's command line: which fleet sizes to run, for how long, and whether to profile.
//!
//! `cargo bench` passes `--bench` to a benchmark; `cargo test --all-targets` runs the same
//! binary without it, and a run of minutes must not pass for a test, so without `--bench` the
//! benchmark only says how to run it.

use std::time::Duration;

use clap::Parser;

use crate::scenarios::Scenario;

/// The pipeline benchmark: the real `botwatch run` against the analytics simulator and a fake
/// Discord, on 127.0.0.1.
#[derive(Debug, Parser)]
#[command(name = "pipeline")]
pub struct Args {
    /// Fleet sizes (bots) to run, in order. Up to 1,000 bots are polled every second, larger
    /// fleets every minute. `--sizes` with no value runs none.
    #[arg(long, value_delimiter = ',', num_args = 0.., default_values_t = [100, 1000, 10_000])]
    pub sizes: Vec<usize>,

    /// Length of every measurement window in seconds (default: 60 for 1 s polls, 180 for
    /// 60 s polls, so that each bot shows two intervals).
    #[arg(long)]
    pub seconds: Option<u64>,

    /// Starts of the process per size for "start → first poll" (the measured run included).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=20))]
    pub starts: u64,

    /// Record a CPU profile (`perf record -g`) of this many seconds of the 1,000-bot run, after
    /// its window, and print the top self-time symbols after the table.
    #[arg(long, value_name = "SECONDS")]
    pub profile: Option<u64>,

    /// Scenarios to run after the fleet sizes, each on a fleet of its own (default: all);
    /// `--scenarios` with no value runs none.
    #[arg(long, value_delimiter = ',', num_args = 0.., default_values = ["latency", "storm", "steps", "analysis", "growth"])]
    pub scenarios: Vec<Scenario>,

    /// Set by `cargo bench`; without it (as under `cargo test --all-targets`) nothing is run.
    #[arg(long, hide = true)]
    pub bench: bool,
}

impl Args {
    /// The measurement window for bots polled every `interval`.
    pub fn window(&self, interval: Duration) -> Duration {
        match self.seconds {
            Some(seconds) => Duration::from_secs(seconds),
            None => (interval * 3).max(Duration::from_secs(60)),
        }
    }
}
