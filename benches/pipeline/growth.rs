//! How the per-poll cost grows with rules and with alerts firing, at three sizes each, on 1,000
//! bots polled every second: botwatch's CPU time over a window divided by the polls the
//! simulator served in it, as in the fleet table.

use std::time::{Duration, Instant};

use crate::fleet::Fleet;
use crate::stage::{bot_name, bots_named, is_message, Stage, REST_ONLY};
use crate::support::procfs;

/// The fleet every size runs on.
const BOTS: usize = 1000;
/// Settling after start-up (or after the alerts were announced) before the window.
const SETTLE: Duration = Duration::from_secs(5);
/// The measurement window.
const WINDOW: Duration = Duration::from_secs(20);
/// How long the announcement of the alerts may take before the run gives up.
const ANNOUNCED_WITHIN: Duration = Duration::from_secs(120);

/// One measured size.
pub struct Cost {
    /// Rules loaded.
    pub rules: usize,
    /// Alerts firing through the window.
    pub firing: usize,
    /// CPU per poll, µs.
    pub cpu_per_poll_us: f64,
    /// CPU, % of one core.
    pub cpu_percent: f64,
}

/// The shipped rules `copies` times over (each copy's rules renamed), as one rules file, and
/// how many rules that is.
pub fn multiplied_rules(copies: usize) -> (String, usize) {
    let shipped = std::fs::read_to_string(crate::support::project_root().join("rules.yaml"))
        .expect("read the shipped rules");
    let (head, rules) = shipped
        .split_once("\nrules:\n")
        .expect("the shipped rules file has a `rules:` list");
    let mut out = format!("{head}\nrules:\n");
    for copy in 0..copies {
        out.push_str(&rules.replace("- name: ", &format!("- name: c{copy}-")));
        out.push('\n');
    }
    (out, copies * rules.matches("- name: ").count())
}

/// 1,000 bots with the shipped rules `copies` times over, `firing` of them over 80 % of their
/// quota (announced before the window starts).
pub async fn cost(copies: usize, firing: usize) -> Cost {
    let (rules, rule_count) = multiplied_rules(copies);
    let fleet = Fleet::of(BOTS).without_crossers();
    let stage = Stage::start_with(fleet, REST_ONLY, Some(&rules), |_| {}).await;
    let changed = Instant::now();
    for bot in 0..firing {
        stage.set_quota_percent(bot, 90);
    }
    let names: Vec<String> = (0..firing).map(bot_name).collect();
    stage
        .until(ANNOUNCED_WITHIN, || {
            let requests = stage.discord.requests();
            let named: std::collections::HashSet<String> = requests
                .iter()
                .filter(|r| r.at > changed && r.status == 200 && is_message(r))
                .flat_map(|r| bots_named(&r.body))
                .collect();
            names.iter().all(|n| named.contains(n)).then_some(())
        })
        .await
        .expect("every alert announced before the window");
    tokio::time::sleep(SETTLE).await;
    let pid = stage.service.pid();
    let served = || -> usize { fleet.ids().iter().map(|id| stage.sim.served(id)).sum() };
    let (cpu_before, polls_before, started) = (procfs::cpu_time(pid), served(), Instant::now());
    tokio::time::sleep(WINDOW).await;
    let (cpu, polls, length) = (
        procfs::cpu_time(pid) - cpu_before,
        served() - polls_before,
        started.elapsed(),
    );
    stage
        .stop(&format!("growth, {copies}× rules, {firing} firing"))
        .await;
    Cost {
        rules: rule_count,
        firing,
        cpu_per_poll_us: cpu.as_secs_f64() * 1e6 / polls.max(1) as f64,
        cpu_percent: 100.0 * cpu.as_secs_f64() / length.as_secs_f64(),
    }
}
