//! The alerting scenarios, each on a fleet of its own under the real process: how long a change
//! takes to reach Discord, how a storm of 1,000 alerts is told, and what Discord answering 429
//! to half of all requests costs.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::fleet::Fleet;
use crate::stage::{bot_name, bots_named, is_message, Stage};
use crate::support::discord::{Failure, Recorded};

/// How long any one awaited message may take before the scenario gives up.
const PATIENCE: Duration = Duration::from_secs(60);
/// Quota percentages: one that fires the warning rule (and not the critical one), one that
/// resolves it.
const HOT: i64 = 90;
const COOL: i64 = 50;

/// Change → Discord: per change, from the poll that saw it to the card's arrival, and from the
/// change itself (which waits for the bot's next poll) to the card.
pub struct Latency {
    /// From the poll that brought the change to the card.
    pub from_poll: Vec<Duration>,
    /// From the change in the API to the card.
    pub from_change: Vec<Duration>,
}

/// `changes` bots of a 100-bot fleet polled every second cross the warning threshold one after
/// another, 1.5 s apart (inside Discord's five messages per five seconds per channel). Up to 99
/// changes.
pub async fn change_latency(changes: usize) -> Latency {
    let stage = Stage::start(Fleet::of(100).without_crossers()).await;
    let mut latency = Latency {
        from_poll: Vec::new(),
        from_change: Vec::new(),
    };
    for change in 0..changes {
        let bot = 1 + change;
        let changed = Instant::now();
        stage.set_quota_percent(bot, HOT);
        let name = bot_name(bot);
        let card = stage
            .until(PATIENCE, || first_naming(&stage, &name, changed))
            .await
            .expect("the card reaches Discord");
        let poll = stage
            .poll_after(bot, changed)
            .expect("the simulator saw the poll");
        latency.from_poll.push(card - poll);
        latency.from_change.push(card - changed);
        // The bot stays firing: a resolution's reply would take a message of the channel's
        // budget, and the next card would wait for it.
        tokio::time::sleep_until((changed + Duration::from_millis(1500)).into()).await;
    }
    stage.stop("change → Discord").await;
    latency
}

/// When a message naming `name` first reached Discord after `after`.
fn first_naming(stage: &Stage, name: &str, after: Instant) -> Option<Instant> {
    stage
        .discord
        .requests()
        .iter()
        .filter(|r| r.at > after && r.method == "POST" && is_message(r))
        .find(|r| bots_named(&r.body).iter().any(|n| n == name))
        .map(|r| r.at)
}

/// The storm: every bot of a 1,000-bot fleet crosses the threshold at once.
pub struct Storm {
    /// Alerts in the storm.
    pub alerts: usize,
    /// Until the last of them was named in Discord, from the change.
    pub all_named: Duration,
    /// Messages posted.
    pub messages: usize,
    /// 429 answers, Discord's own limits drawn by botwatch.
    pub rate_limited: usize,
}

/// Every bot of a 1,000-bot fleet polled every second goes over 80 % of its quota at once.
pub async fn storm() -> Storm {
    let stage = Stage::start(Fleet::of(1000).without_crossers()).await;
    let changed = Instant::now();
    for bot in 0..stage.fleet.bots {
        stage.set_quota_percent(bot, HOT);
    }
    let expected: Vec<String> = (0..stage.fleet.bots).map(bot_name).collect();
    let named = stage
        .until(PATIENCE * 5, || {
            let firsts = first_namings(&stage.discord.requests(), changed);
            expected
                .iter()
                .all(|n| firsts.contains_key(n))
                .then(|| firsts.values().max().copied())
                .flatten()
        })
        .await
        .expect("every alert of the storm is named in Discord");
    let requests = stage.discord.requests();
    let storm = Storm {
        alerts: expected.len(),
        all_named: named - changed,
        messages: requests
            .iter()
            .filter(|r| r.method == "POST" && is_message(r) && r.status == 200)
            .count(),
        rate_limited: requests.iter().filter(|r| r.status == 429).count(),
    };
    stage.stop("storm").await;
    storm
}

/// When each bot was first named after `after`.
fn first_namings(requests: &[Recorded], after: Instant) -> HashMap<String, Instant> {
    let mut firsts = HashMap::new();
    for request in requests
        .iter()
        .filter(|r| r.at > after && r.method == "POST" && r.status == 200 && is_message(r))
    {
        for name in bots_named(&request.body) {
            firsts.entry(name).or_insert(request.at);
        }
    }
    firsts
}

/// Alerts fired and resolved one at a time: a card posted, then edited and replied to.
pub struct StepWise {
    /// Requests to Discord's message routes.
    pub requests: usize,
    /// Of them accepted: the steps delivered.
    pub accepted: usize,
    /// Accepted steps sent again after they were accepted (must be 0).
    pub repeated: usize,
    /// Per firing, from the poll that saw it to its card accepted.
    pub fired: Vec<Duration>,
    /// Per resolution, from the poll that saw it to its reply accepted (after the card's edit).
    pub resolved: Vec<Duration>,
}

/// Alerts fired and resolved in turn.
pub const STEP_WISE_ALERTS: usize = 6;
/// Between two events: with every request sent twice, a resolution's four requests stay
/// within Discord's five per five seconds (and botwatch's own budget), so only the 429s add.
const EVENT_EVERY: Duration = Duration::from_secs(5);

/// [`STEP_WISE_ALERTS`] bots, one at a time, fire and resolve; with `half_429`, Discord answers
/// every other request to a message route with a 429 (`retry_after` 0.5 s).
pub async fn step_wise(half_429: bool) -> StepWise {
    let stage = Stage::start(Fleet::of(20).without_crossers()).await;
    if half_429 {
        let every_other = Alternate::default();
        stage.discord.fail_next_where(
            100_000,
            move |r| is_message(r) && every_other.pick(r.at),
            Failure::RateLimited {
                retry_after: 0.5,
                global: false,
                in_body: true,
                in_header: true,
            },
        );
    }
    let started = Instant::now();
    let (mut fired, mut resolved) = (Vec::new(), Vec::new());
    for bot in 1..=STEP_WISE_ALERTS {
        for (percent, steps) in [(HOT, 1), (COOL, 2)] {
            let changed = Instant::now();
            stage.set_quota_percent(bot, percent);
            let done = stage
                .until(PATIENCE, || {
                    let accepted: Vec<Instant> = accepted_steps(&stage.discord.requests(), changed);
                    (accepted.len() >= steps).then(|| accepted[steps - 1])
                })
                .await
                .expect("the event is delivered");
            let poll = stage
                .poll_after(bot, changed)
                .expect("the simulator saw the poll");
            if steps == 1 {
                &mut fired
            } else {
                &mut resolved
            }
            .push(done - poll);
            tokio::time::sleep_until((changed + EVENT_EVERY).into()).await;
        }
    }
    let requests: Vec<Recorded> = stage
        .discord
        .requests()
        .into_iter()
        .filter(|r| r.at > started && is_message(r))
        .collect();
    let accepted: Vec<&Recorded> = requests.iter().filter(|r| r.status == 200).collect();
    let mut seen: HashMap<(String, String, String), usize> = HashMap::new();
    for r in &accepted {
        *seen
            .entry((r.method.clone(), r.path.clone(), r.body.to_string()))
            .or_default() += 1;
    }
    let result = StepWise {
        requests: requests.len(),
        accepted: accepted.len(),
        repeated: seen.values().map(|n| n - 1).sum(),
        fired,
        resolved,
    };
    stage
        .stop(if half_429 {
            "429 to half"
        } else {
            "step-wise, no 429"
        })
        .await;
    result
}

/// Message requests accepted after `after`, in arrival order.
fn accepted_steps(requests: &[Recorded], after: Instant) -> Vec<Instant> {
    requests
        .iter()
        .filter(|r| r.at > after && r.status == 200 && is_message(r))
        .map(|r| r.at)
        .collect()
}

/// Picks every other request, each request once however often it is asked about (the fake asks
/// once per queued failure).
#[derive(Default, Clone)]
struct Alternate(Arc<Mutex<(Option<Instant>, bool)>>);

impl Alternate {
    fn pick(&self, request_at: Instant) -> bool {
        let mut last = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if last.0 != Some(request_at) {
            *last = (Some(request_at), !last.1);
        }
        last.1
    }
}
