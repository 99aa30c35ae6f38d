//! What every alerting scenario starts from: a fleet polled by the real process, the simulator
//! and the fake Discord around it, every bot polled once; and reading the fake's requests as a
//! person reads the channel (which alerts a message names, and when it arrived).

use std::time::{Duration, Instant};

use botwatch::analytics::simulator::{Simulator, Step};
use serde_json::Value;

use crate::fleet::{at_quota_percent, Fleet};
use crate::service::Service;
use crate::support::digests::named_alerts;
use crate::support::discord::{FakeDiscord, Recorded, StoredMessage};

/// The channel every alert of the benchmark's config goes to.
pub const CHANNEL: &str = "111";
/// The `discord:` lines of a config that alerts over REST only, without the gateway.
pub const REST_ONLY: &str = "  gateway: false\n";
/// How often a scenario looks at what the fakes received.
pub const LOOK_EVERY: Duration = Duration::from_millis(5);

/// A fleet running under botwatch, with the fakes it talks to.
pub struct Stage {
    /// The fleet.
    pub fleet: Fleet,
    /// The analytics API.
    pub sim: Simulator,
    /// Discord.
    pub discord: FakeDiscord,
    /// botwatch.
    pub service: Service,
}

impl Stage {
    /// Starts `fleet` (whose answers never change by themselves) with the shipped rules,
    /// alerting in a fake Discord with Discord's own limits over REST only, and returns once
    /// every bot has been polled.
    pub async fn start(fleet: Fleet) -> Stage {
        Stage::start_with(fleet, REST_ONLY, None, |_| {}).await
    }

    /// [`Stage::start`] with `discord_yaml` (lines indented by two spaces) as the rest of the
    /// config's `discord:` section, `rules` instead of the shipped rules (if given), and
    /// `prepare` done to the fake Discord before botwatch starts.
    pub async fn start_with(
        fleet: Fleet,
        discord_yaml: &str,
        rules: Option<&str>,
        prepare: impl FnOnce(&FakeDiscord),
    ) -> Stage {
        // One answer per bot, repeated at every poll until a scenario changes it.
        let sim = Simulator::start(fleet.timelines(1))
            .await
            .expect("start the analytics simulator");
        let discord = FakeDiscord::start().await;
        prepare(&discord);
        let service = Service::start_with(&fleet, &sim, &discord, discord_yaml, rules);
        let stage = Stage {
            fleet,
            sim,
            discord,
            service,
        };
        let ids = stage.fleet.ids();
        let polled = || ids.iter().all(|id| stage.sim.served(id) > 0).then_some(());
        stage
            .until(fleet.interval * 3 + Duration::from_secs(30), polled)
            .await
            .expect("every bot polled within its first intervals");
        stage
    }

    /// Makes bot number `bot` (from 0) answer LINE consumption at `percent` % of its quota from
    /// its next poll on.
    pub fn set_quota_percent(&self, bot: usize, percent: i64) {
        let id = format!("b{}", bot + 1);
        self.sim
            .set_steps(&id, vec![Step::respond(at_quota_percent(bot, percent))]);
    }

    /// The first poll of bot number `bot` the simulator received after `after`.
    pub fn poll_after(&self, bot: usize, after: Instant) -> Option<Instant> {
        let id = format!("b{}", bot + 1);
        self.sim
            .received()
            .into_iter()
            .find(|r| r.bot_id == id && r.at > after)
            .map(|r| r.at)
    }

    /// Checks `done` every [`LOOK_EVERY`] until it gives something or `within` has passed.
    pub async fn until<T>(
        &self,
        within: Duration,
        mut done: impl FnMut() -> Option<T>,
    ) -> Option<T> {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Some(found) = done() {
                return Some(found);
            }
            tokio::time::sleep(LOOK_EVERY).await;
        }
        None
    }

    /// Stops botwatch (exit code 0 or a panic), checks that Discord would have accepted every
    /// request, and says on standard error how many lines botwatch logged at WARN or ERROR
    /// (retries, in the 429 scenario) and the first of them.
    pub async fn stop(self, scenario: &str) {
        let logged = self.service.stop().await;
        self.discord.assert_no_violations();
        self.sim.shutdown();
        eprintln!(
            "pipeline: {scenario}: {} request(s) to the fake Discord, all valid; {} WARN/ERROR line(s) logged{}",
            self.discord.requests().len(),
            logged.len(),
            logged.first().map(|l| format!(", the first: {l}")).unwrap_or_default()
        );
    }
}

/// Whether `request` posted or edited a message in the benchmark's channel.
pub fn is_message(request: &Recorded) -> bool {
    request
        .path
        .starts_with(&format!("/api/v10/channels/{CHANNEL}/messages"))
}

/// The bot names a message body names alerts of: a card's title ("… on NAME") or each line
/// of a digest.
pub fn bots_named(body: &Value) -> Vec<String> {
    let message = StoredMessage {
        id: String::new(),
        channel: CHANNEL.into(),
        body: body.clone(),
        edits: 0,
    };
    let mut named: Vec<String> = named_alerts(&[message])
        .into_iter()
        .map(|n| n.bot)
        .collect();
    if named.is_empty() {
        let title = body["embeds"][0]["title"].as_str().unwrap_or("");
        named.extend(title.rsplit_once(" on ").map(|(_, bot)| bot.to_owned()));
    }
    named
}

/// The name Discord shows for bot number `bot` (from 0): b1 is "Support", the rest go by id.
pub fn bot_name(bot: usize) -> String {
    if bot == 0 {
        "Support".into()
    } else {
        format!("b{}", bot + 1)
    }
}
