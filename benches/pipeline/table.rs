//! The table the benchmark prints: one row per fleet size, in Markdown, so that it can be
//! pasted into BENCHMARKS.md as it is.

use std::fmt::Write as _;
use std::time::Duration;

/// The figures of one fleet size.
pub struct Row {
    /// Bots polled.
    pub bots: usize,
    /// `analytics.poll_interval`.
    pub interval: Duration,
    /// The measurement window.
    pub window: Duration,
    /// Polls the simulator served in the window.
    pub polls: usize,
    /// botwatch's CPU time (user + system) per poll, µs.
    pub cpu_per_poll_us: f64,
    /// botwatch's CPU time as a share of one core, %.
    pub cpu_percent: f64,
    /// Resident memory at the end of the window, MiB.
    pub resident_mib: f64,
    /// p50 and p99 of the interval errors, if any bot was polled twice in the window.
    pub drift: Option<(Duration, Duration)>,
    /// Polls the simulator served per second.
    pub requests_per_second: f64,
    /// `analytics.requests_per_second`.
    pub budget: u32,
    /// Growth of the state file and its WAL per poll, bytes.
    pub history_bytes_per_poll: f64,
    /// Median time from spawning the process to its first poll.
    pub first_poll: Duration,
    /// Starts the median is over.
    pub starts: usize,
    /// The machine's 1-minute load average at the end of the window.
    pub load: f64,
}

const HEADER: &str = "| bots, poll interval | window (polls) | CPU per poll | CPU, % of a core | resident memory | drift p50 / p99 | upstream req/s (budget) | history bytes per poll | start → first poll | load (1 min) |\n|---|---|---|---|---|---|---|---|---|---|\n";

/// The rows as one Markdown table.
pub fn render(rows: &[Row]) -> String {
    let mut table = String::from(HEADER);
    for row in rows {
        let drift = match row.drift {
            Some((p50, p99)) => format!("{} / {}", millis(p50), millis(p99)),
            None => "— (window under two intervals)".to_owned(),
        };
        let _ = writeln!(
            table,
            "| {}, {} | {} s ({}) | {:.0} µs | {:.1} % | {:.1} MiB | {drift} | {:.1} ({}) | {:.0} B | {} (median of {}) | {:.2} |",
            thousands(row.bots),
            humantime::format_duration(row.interval),
            row.window.as_secs_f64().round(),
            thousands(row.polls),
            row.cpu_per_poll_us,
            row.cpu_percent,
            row.resident_mib,
            row.requests_per_second,
            thousands(row.budget as usize),
            row.history_bytes_per_poll,
            millis(row.first_poll),
            row.starts,
            row.load,
        );
    }
    table
}

fn millis(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// `10000` as `10,000`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
