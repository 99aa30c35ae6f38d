//! Discord's 429s, remembered: after Discord asked us to wait, nothing more is sent to that
//! destination (or anywhere, for a global limit) until the wait is over. Without this, the
//! next events of a batch would be sent into the same limit and draw more 429s.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::rest::RestError;

/// The key of the global pause.
const GLOBAL: &str = "";

/// Pauses per destination, and one over all of them.
#[derive(Debug, Default)]
pub struct Pauses {
    until: Mutex<HashMap<String, Instant>>,
}

impl Pauses {
    /// `Err(RateLimited)` with the time left when `destination` (or everything) is paused.
    pub fn check(&self, destination: &str) -> Result<(), RestError> {
        let now = Instant::now();
        let mut until = self.until.lock().unwrap_or_else(|p| p.into_inner());
        until.retain(|_, end| *end > now);
        for (key, global) in [(GLOBAL, true), (destination, false)] {
            if let Some(end) = until.get(key) {
                return Err(RestError::RateLimited {
                    retry_after: *end - now,
                    global,
                });
            }
        }
        Ok(())
    }

    /// Remembers the wait of a 429 (other results are passed through untouched).
    pub fn record<T>(
        &self,
        destination: &str,
        result: Result<T, RestError>,
    ) -> Result<T, RestError> {
        if let Err(RestError::RateLimited {
            retry_after,
            global,
        }) = &result
        {
            let key = if *global { GLOBAL } else { destination };
            let end = Instant::now() + (*retry_after).max(Duration::from_millis(1));
            let mut until = self.until.lock().unwrap_or_else(|p| p.into_inner());
            let slot = until.entry(key.to_owned()).or_insert(end);
            *slot = (*slot).max(end);
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limited(seconds: u64, global: bool) -> Result<(), RestError> {
        Err(RestError::RateLimited {
            retry_after: Duration::from_secs(seconds),
            global,
        })
    }

    #[test]
    fn a_destination_limit_pauses_only_that_destination() {
        let pauses = Pauses::default();
        let _ = pauses.record("ops", limited(30, false));
        assert!(matches!(
            pauses.check("ops"),
            Err(RestError::RateLimited { global: false, .. })
        ));
        assert!(pauses.check("pager").is_ok());
    }

    #[test]
    fn a_global_limit_pauses_everything() {
        let pauses = Pauses::default();
        let _ = pauses.record("ops", limited(30, true));
        assert!(matches!(
            pauses.check("pager"),
            Err(RestError::RateLimited { global: true, .. })
        ));
    }
}
