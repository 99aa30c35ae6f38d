//! How long to wait before retrying something that keeps failing: 1 s, 2 s, 4 s … up to a
//! cap, for every retry loop in botwatch (the outbox, the Discord gateway).
//!
//! [`exponential`] is the bare schedule, for callers that count attempts themselves (the
//! outbox keeps the count in the database). [`Backoff`] counts consecutive failures and adds
//! jitter, for a loop that retries one thing: many instances that failed together then do
//! not retry in step. The jitter only shortens a wait, by at most a quarter, so no wait
//! exceeds the cap and, below the cap, each wait is longer than the one before: one log line
//! per attempt is one line per backoff step.

use std::time::Duration;

use rand::Rng;

/// The shortest a jittered wait gets, as a fraction of the schedule's wait.
const JITTER_FLOOR: f64 = 0.75;

/// The wait before retry number `attempt` (0 for the first retry): 1 s doubled `attempt`
/// times, at most `max`.
pub fn exponential(attempt: u32, max: Duration) -> Duration {
    // 2^16 s is past any sensible cap; the shift stays far from overflowing.
    Duration::from_secs(1u64 << attempt.min(16)).min(max)
}

/// `wait` shortened by the fraction `unit` (in 0..=1) of the jitter range.
fn jitter(wait: Duration, unit: f64) -> Duration {
    wait.mul_f64(1.0 - (1.0 - JITTER_FLOOR) * unit.clamp(0.0, 1.0))
}

/// Consecutive failures of one thing, and the jittered wait each one earns.
#[derive(Debug, Clone)]
pub struct Backoff {
    max: Duration,
    failures: u32,
}

impl Backoff {
    /// A schedule capped at `max`, with no failure yet.
    pub fn new(max: Duration) -> Self {
        Backoff { max, failures: 0 }
    }

    /// Counts a failure; returns how long to wait before the next try.
    pub fn failed(&mut self) -> Duration {
        let wait = exponential(self.failures, self.max);
        self.failures = self.failures.saturating_add(1);
        jitter(wait, rand::rng().random_range(0.0..=1.0))
    }

    /// Failures since the last success.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// A success: the next failure waits the shortest time again.
    pub fn reset(&mut self) {
        self.failures = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIVE_MINUTES: Duration = Duration::from_secs(300);

    #[test]
    fn waits_double_from_one_second_up_to_the_cap() {
        let waits: Vec<u64> = (0..12)
            .map(|attempt| exponential(attempt, FIVE_MINUTES).as_secs())
            .collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300]);
        assert_eq!(exponential(u32::MAX, FIVE_MINUTES), FIVE_MINUTES);
    }

    #[test]
    fn jitter_shortens_a_wait_by_at_most_a_quarter_and_never_lengthens_it() {
        let wait = Duration::from_secs(8);
        assert_eq!(jitter(wait, 0.0), wait);
        assert_eq!(jitter(wait, 1.0), Duration::from_secs(6));
        for unit in [-1.0, 0.3, 0.99, 2.0] {
            let jittered = jitter(wait, unit);
            assert!(
                jittered <= wait && jittered >= Duration::from_secs(6),
                "{unit}"
            );
        }
    }

    #[test]
    fn below_the_cap_each_wait_outlasts_the_last_whatever_the_jitter() {
        for attempt in 0..8 {
            let longest = jitter(exponential(attempt, FIVE_MINUTES), 0.0);
            let next_shortest = jitter(exponential(attempt + 1, FIVE_MINUTES), 1.0);
            assert!(next_shortest > longest, "attempt {attempt}");
        }
    }

    #[test]
    fn failures_count_up_the_schedule_and_a_reset_starts_it_again() {
        let mut backoff = Backoff::new(FIVE_MINUTES);
        let waits: Vec<Duration> = (0..10).map(|_| backoff.failed()).collect();
        assert_eq!(backoff.failures(), 10);
        for (attempt, wait) in (0u32..).zip(&waits) {
            let nominal = exponential(attempt, FIVE_MINUTES);
            assert!(*wait <= nominal && *wait >= nominal.mul_f64(JITTER_FLOOR));
        }
        assert!(waits[9] > Duration::from_secs(200), "{waits:?}");
        backoff.reset();
        assert!(backoff.failed() <= Duration::from_secs(1));
    }
}
