//! Logging an error that repeats at a bounded rate: while a disk is full, every poll of every
//! bot fails the same way, and one line per poll would bury everything else in the log. The
//! first occurrence is logged, then at most one line per [`RepeatedErrors::new`]'s interval
//! with how many occurrences it stands for.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Distinct messages tracked at most; past it the oldest knowledge is dropped (and the next
/// occurrence of each is logged again, which is still bounded).
const MESSAGES: usize = 256;

/// Which occurrences of repeated errors to log.
#[derive(Debug)]
pub struct RepeatedErrors {
    every: Duration,
    seen: Mutex<HashMap<String, Seen>>,
}

#[derive(Debug, Clone, Copy)]
struct Seen {
    logged_at: Instant,
    suppressed: u64,
}

impl RepeatedErrors {
    /// Logs each distinct message at most once per `every`.
    pub fn new(every: Duration) -> RepeatedErrors {
        RepeatedErrors {
            every,
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// `Some(n)` when this occurrence of `message` is to be logged, `n` being how many were
    /// left unlogged since the last line; `None` to stay quiet.
    pub fn admit(&self, message: &str) -> Option<u64> {
        self.admit_at(message, Instant::now())
    }

    fn admit_at(&self, message: &str, now: Instant) -> Option<u64> {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(entry) = seen.get_mut(message) {
            if now.duration_since(entry.logged_at) < self.every {
                entry.suppressed += 1;
                return None;
            }
            let suppressed = entry.suppressed;
            *entry = Seen {
                logged_at: now,
                suppressed: 0,
            };
            return Some(suppressed);
        }
        if seen.len() >= MESSAGES {
            seen.clear();
        }
        seen.insert(
            message.to_owned(),
            Seen {
                logged_at: now,
                suppressed: 0,
            },
        );
        Some(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_message_is_logged_once_per_interval_with_the_count_it_stands_for() {
        let errors = RepeatedErrors::new(Duration::from_secs(60));
        let start = Instant::now();
        let at = |seconds: u64| start + Duration::from_secs(seconds);
        assert_eq!(errors.admit_at("disk full", at(0)), Some(0));
        for second in 1..=50 {
            assert_eq!(errors.admit_at("disk full", at(second)), None);
        }
        assert_eq!(
            errors.admit_at("another", at(50)),
            Some(0),
            "each message on its own"
        );
        assert_eq!(errors.admit_at("disk full", at(60)), Some(50));
        assert_eq!(errors.admit_at("disk full", at(61)), None);
    }
}
