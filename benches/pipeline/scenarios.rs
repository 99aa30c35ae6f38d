//! The scenarios after the fleet sizes (`--scenarios`), each on a fleet and process of its own,
//! and the Markdown table of their figures.

use std::fmt::Write as _;
use std::time::Duration;

use clap::ValueEnum;

use crate::measure::percentile;

/// A scenario of the benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Scenario {
    /// 20 changes, each from the API to its card in Discord (100 bots, 1 s polls).
    Latency,
    /// 1,000 bots crossing a threshold at once.
    Storm,
    /// Alerts fired and resolved one at a time, with and without Discord answering 429 to
    /// half of all requests.
    Steps,
    /// `/analysis` asked 100 times through the gateway.
    Analysis,
    /// CPU per poll at 1,000 bots with 1, 10 and 100 times the shipped rules, and with 0, 100
    /// and 1,000 alerts firing.
    Growth,
}

/// Changes measured for the latency.
const CHANGES: usize = 20;
/// `/analysis` questions asked.
const QUESTIONS: usize = 100;

/// Runs `scenarios` in turn; their figures as one Markdown table.
pub async fn run(scenarios: &[Scenario]) -> String {
    let mut table = String::from("| scenario | figures |\n|---|---|\n");
    for scenario in scenarios {
        eprintln!("pipeline: scenario {scenario:?}…");
        let row = match scenario {
            Scenario::Latency => latency().await,
            Scenario::Storm => storm().await,
            Scenario::Steps => steps().await,
            Scenario::Analysis => analysis().await,
            Scenario::Growth => growth().await,
        };
        let _ = writeln!(table, "{row}");
    }
    table
}

async fn latency() -> String {
    let mut latency = crate::alerting::change_latency(CHANGES).await;
    latency.from_poll.sort();
    latency.from_change.sort();
    format!(
        "| change → Discord card, {CHANGES} changes, 100 bots every 1 s | from the poll that saw it: median {}, p90 {}; from the change in the API (waiting for the next poll included): median {}, p90 {} |",
        ms(percentile(&latency.from_poll, 0.5)),
        ms(percentile(&latency.from_poll, 0.9)),
        ms(percentile(&latency.from_change, 0.5)),
        ms(percentile(&latency.from_change, 0.9)),
    )
}

async fn storm() -> String {
    let storm = crate::alerting::storm().await;
    format!(
        "| storm: {} bots over 80 % of their quota at once (1 s polls) | every alert named in Discord after {}; {} messages; {} × 429 |",
        storm.alerts,
        ms(storm.all_named),
        storm.messages,
        storm.rate_limited,
    )
}

async fn steps() -> String {
    use crate::alerting::{step_wise, STEP_WISE_ALERTS};
    let clean = step_wise(false).await;
    let limited = step_wise(true).await;
    let added = |clean: &[Duration], limited: &[Duration]| {
        let (clean, limited) = (median(clean), median(limited));
        format!(
            "{} (without 429s {}: {} added)",
            ms(limited),
            ms(clean),
            ms(limited.saturating_sub(clean))
        )
    };
    format!(
        "| Discord answering 429 (`retry_after` 0.5 s) to every other request; {STEP_WISE_ALERTS} alerts fired (1 step: the card) and resolved (2 steps: edit, reply) one at a time | {:.2} requests per delivered step (without 429s: {:.2}); steps sent again after they were accepted: {} (without: {}); from the poll to the last step, median: firing {}, resolution {} |",
        limited.requests as f64 / limited.accepted.max(1) as f64,
        clean.requests as f64 / clean.accepted.max(1) as f64,
        limited.repeated,
        clean.repeated,
        added(&clean.fired, &limited.fired),
        added(&clean.resolved, &limited.resolved),
    )
}

/// The median of `values`.
fn median(values: &[Duration]) -> Duration {
    let mut sorted = values.to_vec();
    sorted.sort();
    percentile(&sorted, 0.5)
}

async fn analysis() -> String {
    let mut answers = crate::analysis::first_responses(QUESTIONS).await;
    answers.sort();
    format!(
        "| `/analysis` first response, fresh data, {QUESTIONS} questions through the gateway (100 bots every 1 s) | p50 {}, p99 {} |",
        ms(percentile(&answers, 0.5)),
        ms(percentile(&answers, 0.99)),
    )
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

async fn growth() -> String {
    let mut sizes = Vec::new();
    for (copies, firing) in [(1, 0), (10, 0), (100, 0), (1, 100), (1, 1000)] {
        let cost = crate::growth::cost(copies, firing).await;
        sizes.push(format!(
            "{} rules, {} firing: {:.0} µs ({:.1} %)",
            cost.rules, cost.firing, cost.cpu_per_poll_us, cost.cpu_percent
        ));
    }
    format!(
        "| growth: CPU per poll (% of a core), 1,000 bots every 1 s, 20 s windows | {} |",
        sizes.join("; ")
    )
}
