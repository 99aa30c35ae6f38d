//! One fleet size measured: botwatch started, warmed up (every bot polled once, then a few
//! seconds more, so that start-up is not in the figures), watched over a fixed window (the
//! window is the measurement), optionally profiled, stopped; then started again a few times
//! for the start-up figure alone. Each figure of the row is computed by a function of its own.

use std::path::Path;
use std::time::{Duration, Instant};

use botwatch::analytics::simulator::Simulator;

use crate::arrivals::{Arrivals, Window};
use crate::fleet::Fleet;
use crate::profile::Profile;
use crate::service::Service;
use crate::support::discord::FakeDiscord;
use crate::support::procfs;
use crate::table::Row;

/// Extra warm-up once every bot has been polled.
const WARM_UP: Duration = Duration::from_secs(5);
/// How often the simulator's bounded log is read during a window (it holds ten seconds of
/// 1,000 polls a second).
const TAKE_EVERY: Duration = Duration::from_secs(1);

/// What to measure for one fleet.
pub struct Plan {
    /// The fleet.
    pub fleet: Fleet,
    /// The measurement window.
    pub window: Duration,
    /// Process starts for "start → first poll", the measured run included.
    pub starts: usize,
    /// Seconds of `perf record` after the window, if this run is profiled.
    pub profile: Option<Duration>,
}

/// The process and its state file at one moment.
struct Reading {
    at: Instant,
    cpu: Duration,
    state_bytes: u64,
}

/// What the window showed, before it is divided into a row.
struct Watched {
    window: Window,
    cpu: Duration,
    state_growth: u64,
    resident_kib: u64,
    load: f64,
}

/// Measures `plan`: the table row, and the profile's top entries if one was recorded.
pub async fn measure(plan: &Plan) -> (Row, Option<Profile>) {
    let fleet = &plan.fleet;
    let sim = Simulator::start(fleet.timelines(polls_needed(plan)))
        .await
        .expect("start the analytics simulator");
    let discord = FakeDiscord::start().await;
    let service = Service::start(fleet, &sim, &discord);
    let mut arrivals = Arrivals::since(service.spawned);
    warm_up(fleet, &sim, &mut arrivals).await;
    let watched = watch(&service, &sim, &mut arrivals, plan.window).await;
    let profile = match plan.profile {
        Some(seconds) => Some(crate::profile::record(service.pid(), seconds, service.dir()).await),
        None => None,
    };
    let mut first_polls = vec![first_poll(&service, &arrivals)];
    report_logged(fleet, service.stop().await);
    for _ in 1..plan.starts {
        first_polls.push(start_to_first_poll(fleet, &sim, &discord).await);
    }
    discord.assert_no_violations();
    eprintln!(
        "pipeline: with {} bots, the fake Discord received {} request(s), all valid",
        fleet.bots,
        discord.requests().len()
    );
    sim.shutdown();
    let row = Row {
        bots: fleet.bots,
        interval: fleet.interval,
        window: watched.window.length(),
        polls: arrivals.polls_in(&watched.window),
        cpu_per_poll_us: cpu_per_poll_us(&watched, &arrivals),
        cpu_percent: cpu_percent(&watched),
        resident_mib: watched.resident_kib as f64 / 1024.0,
        drift: drift(fleet, &watched, &arrivals),
        requests_per_second: requests_per_second(&watched, &arrivals),
        budget: fleet.budget(),
        history_bytes_per_poll: history_bytes_per_poll(&watched, &arrivals),
        first_poll: median(&mut first_polls),
        starts: first_polls.len(),
        load: watched.load,
    };
    (row, profile)
}

/// Steps each bot's timeline needs: every poll of the run has data of its own.
fn polls_needed(plan: &Plan) -> usize {
    let run = plan.fleet.interval * 2 + WARM_UP + plan.window + plan.profile.unwrap_or_default();
    (run.as_secs_f64() / plan.fleet.interval.as_secs_f64()).ceil() as usize + plan.starts + 10
}

/// Waits until every bot has been polled once, then [`WARM_UP`] more.
async fn warm_up(fleet: &Fleet, sim: &Simulator, arrivals: &mut Arrivals) {
    let deadline = Instant::now() + fleet.interval * 2 + Duration::from_secs(60);
    while arrivals.bots_polled() < fleet.bots {
        assert!(
            Instant::now() < deadline,
            "only {} of {} bots polled by the deadline",
            arrivals.bots_polled(),
            fleet.bots
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
        arrivals.take_from(sim);
    }
    let until = Instant::now() + WARM_UP;
    take_until(until, sim, arrivals).await;
}

/// Takes arrivals every [`TAKE_EVERY`] until `until`.
async fn take_until(until: Instant, sim: &Simulator, arrivals: &mut Arrivals) {
    // Bounded: each turn sleeps until `until` or TAKE_EVERY, whichever comes first.
    while Instant::now() < until {
        let next = (Instant::now() + TAKE_EVERY).min(until);
        tokio::time::sleep_until(next.into()).await;
        arrivals.take_from(sim);
    }
}

/// Reads the process and its state at the start and the end of a `length` window.
async fn watch(
    service: &Service,
    sim: &Simulator,
    arrivals: &mut Arrivals,
    length: Duration,
) -> Watched {
    let pid = service.pid();
    let state = service.state_file();
    let start = reading(pid, &state);
    take_until(start.at + length, sim, arrivals).await;
    let end = reading(pid, &state);
    arrivals.take_from(sim);
    Watched {
        window: Window {
            start: start.at,
            end: end.at,
        },
        cpu: end.cpu - start.cpu,
        state_growth: end.state_bytes.saturating_sub(start.state_bytes),
        resident_kib: procfs::resident_kib(pid),
        load: load_average(),
    }
}

fn reading(pid: u32, state: &Path) -> Reading {
    Reading {
        at: Instant::now(),
        cpu: procfs::cpu_time(pid),
        state_bytes: database_bytes(state),
    }
}

/// The size of the database as its readers see it (pages × page size, the WAL's committed
/// pages included): what the state takes once checkpointed, whenever SQLite happens to
/// checkpoint. File sizes would count the WAL's preallocation and grow in jumps.
fn database_bytes(state: &Path) -> u64 {
    let read = || -> rusqlite::Result<u64> {
        let db = rusqlite::Connection::open_with_flags(
            state,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )?;
        let pages: i64 = db.query_row("PRAGMA page_count", [], |row| row.get(0))?;
        let page_size: i64 = db.query_row("PRAGMA page_size", [], |row| row.get(0))?;
        Ok((pages * page_size).max(0) as u64)
    };
    read().unwrap_or_else(|error| panic!("reading the size of {}: {error}", state.display()))
}

/// botwatch's CPU time over the window per poll the simulator served in it, in µs.
fn cpu_per_poll_us(watched: &Watched, arrivals: &Arrivals) -> f64 {
    let polls = arrivals.polls_in(&watched.window).max(1);
    watched.cpu.as_secs_f64() * 1e6 / polls as f64
}

/// botwatch's CPU time over the window, as a share of one core.
fn cpu_percent(watched: &Watched) -> f64 {
    100.0 * watched.cpu.as_secs_f64() / watched.window.length().as_secs_f64()
}

/// p50 and p99 of every interval error of every bot in the window (`None` if no bot was
/// polled twice in it).
fn drift(fleet: &Fleet, watched: &Watched, arrivals: &Arrivals) -> Option<(Duration, Duration)> {
    let mut errors = arrivals.interval_errors(&watched.window, fleet.interval);
    if errors.is_empty() {
        return None;
    }
    errors.sort();
    Some((percentile(&errors, 0.50), percentile(&errors, 0.99)))
}

/// Polls the simulator served per second of the window.
fn requests_per_second(watched: &Watched, arrivals: &Arrivals) -> f64 {
    arrivals.polls_in(&watched.window) as f64 / watched.window.length().as_secs_f64()
}

/// Growth of the state file and its WAL over the window, per poll.
fn history_bytes_per_poll(watched: &Watched, arrivals: &Arrivals) -> f64 {
    watched.state_growth as f64 / arrivals.polls_in(&watched.window).max(1) as f64
}

/// From spawning the process to the first request the simulator received.
fn first_poll(service: &Service, arrivals: &Arrivals) -> Duration {
    let first = arrivals.first().expect("the warm-up saw every bot polled");
    first - service.spawned
}

/// A fresh start (new folder, empty state) until its first poll, then a stop.
async fn start_to_first_poll(fleet: &Fleet, sim: &Simulator, discord: &FakeDiscord) -> Duration {
    let service = Service::start(fleet, sim, discord);
    let mut arrivals = Arrivals::since(service.spawned);
    let within = fleet.interval + Duration::from_secs(60);
    while arrivals.first().is_none() {
        assert!(
            service.spawned.elapsed() < within,
            "no poll within {within:?} of the start"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
        arrivals.take_from(sim);
    }
    let first = first_poll(&service, &arrivals);
    report_logged(fleet, service.stop().await);
    first
}

/// Says on standard error what botwatch logged at WARN or ERROR, if anything.
fn report_logged(fleet: &Fleet, logged: Vec<String>) {
    if let Some(first) = logged.first() {
        eprintln!(
            "pipeline: with {} bots, botwatch logged {} warning(s) or error(s), the first: {first}",
            fleet.bots,
            logged.len()
        );
    }
}

/// The 1-minute load average of the machine.
fn load_average() -> f64 {
    let text = std::fs::read_to_string("/proc/loadavg").expect("read /proc/loadavg");
    text.split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .expect("a load average in /proc/loadavg")
}

/// The `p` quantile of sorted `values` (nearest rank).
pub fn percentile(values: &[Duration], p: f64) -> Duration {
    let rank = (p * values.len() as f64).ceil() as usize;
    values[rank.clamp(1, values.len()) - 1]
}

fn median(values: &mut [Duration]) -> Duration {
    values.sort();
    values[values.len() / 2]
}
