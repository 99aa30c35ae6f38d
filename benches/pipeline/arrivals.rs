//! When each bot's polls reached the simulator, as the simulator saw them.
//!
//! The simulator keeps only its latest requests (a bounded log), so the benchmark takes the
//! new ones from it often enough that none is lost, and refuses to report figures if some
//! were: 1,000 bots a second fill the log in ten seconds, and the benchmark takes every second.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use botwatch::analytics::simulator::{Simulator, RECEIVED_KEPT};

/// Every poll the simulator received from one process, by bot.
pub struct Arrivals {
    /// Requests before this instant belong to an earlier process.
    since: Instant,
    /// The newest arrival taken.
    newest: Option<Instant>,
    by_bot: HashMap<String, Vec<Instant>>,
}

impl Arrivals {
    /// Arrivals from `since` on (the moment the process was started).
    pub fn since(since: Instant) -> Arrivals {
        Arrivals {
            since,
            newest: None,
            by_bot: HashMap::new(),
        }
    }

    /// Takes the requests `sim` received since the last call.
    ///
    /// Panics if some were dropped from the simulator's log before they could be taken, or
    /// if a request was refused (the config and the simulator disagree on credentials).
    pub fn take_from(&mut self, sim: &Simulator) {
        let log = sim.received();
        if let (Some(newest), Some(oldest)) = (self.newest, log.first()) {
            assert!(
                log.len() < RECEIVED_KEPT || oldest.at <= newest,
                "the simulator dropped requests before the benchmark took them: take more often"
            );
        }
        let after = self.newest.unwrap_or(self.since);
        for request in log.into_iter().filter(|r| r.at > after) {
            assert!(request.authorized, "{} was refused", request.bot_id);
            self.newest = Some(request.at);
            self.by_bot
                .entry(request.bot_id)
                .or_default()
                .push(request.at);
        }
    }

    /// The first request received.
    pub fn first(&self) -> Option<Instant> {
        self.by_bot
            .values()
            .filter_map(|a| a.first())
            .min()
            .copied()
    }

    /// How many bots were polled at least once.
    pub fn bots_polled(&self) -> usize {
        self.by_bot.len()
    }

    /// How many polls arrived in `window`.
    pub fn polls_in(&self, window: &Window) -> usize {
        self.by_bot
            .values()
            .map(|arrivals| window.of(arrivals).len())
            .sum()
    }

    /// For every two consecutive polls of a bot in `window`: how far the time between them was
    /// from `interval`, late or early alike.
    pub fn interval_errors(&self, window: &Window, interval: Duration) -> Vec<Duration> {
        self.by_bot
            .values()
            .flat_map(|arrivals| window.of(arrivals).windows(2))
            .map(|pair| (pair[1] - pair[0]).abs_diff(interval))
            .collect()
    }
}

/// A measurement window.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    /// Its start.
    pub start: Instant,
    /// Its end.
    pub end: Instant,
}

impl Window {
    /// The part of `arrivals` (in order) inside the window.
    fn of<'a>(&self, arrivals: &'a [Instant]) -> &'a [Instant] {
        let from = arrivals.partition_point(|at| *at < self.start);
        let to = arrivals.partition_point(|at| *at < self.end);
        &arrivals[from..to]
    }

    /// Its length.
    pub fn length(&self) -> Duration {
        self.end - self.start
    }
}
