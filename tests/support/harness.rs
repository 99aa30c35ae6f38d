//! One bot, the fake analytics API, the fake Discord and a state file, wired like `run` wires
//! them: each [`DiscordHarness::start`] is one botwatch process.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use botwatch::analytics::simulator::{Simulator, Step};
use botwatch::config::Config;
use botwatch::discord::sink::DiscordNotifier;
use botwatch::scheduler::{BotLoop, Pipeline};
use botwatch::store::{SqliteStore, Store};

use super::discord::{FakeDiscord, RateLimits, StoredMessage};
use super::fake_analytics;

/// The harness; see the module docs.
pub struct DiscordHarness {
    /// The fake analytics API.
    pub sim: Simulator,
    /// The fake Discord.
    pub fake: FakeDiscord,
    _dir: tempfile::TempDir,
    /// The state file.
    pub state: PathBuf,
    /// The configuration, as parsed from YAML with a `discord:` section.
    pub config: Config,
}

impl DiscordHarness {
    /// Bot b1 following `steps`; destinations ops (channel 111), pager (channel 222, critical,
    /// pinging role 999) and hook (webhook 333), each with a budget of 50 messages per 5 s,
    /// and a fake Discord whose buckets are as large (so that a test can see 50 cards).
    pub async fn new(steps: Vec<Step>) -> DiscordHarness {
        DiscordHarness::with_budget(steps, 50).await
    }

    /// [`DiscordHarness::new`] with a budget of `per_5s` messages per destination; with 5,
    /// Discord's own, the fake enforces Discord's own limits.
    pub async fn with_budget(steps: Vec<Step>, per_5s: u32) -> DiscordHarness {
        let limits = match per_5s {
            5 => RateLimits::discord(),
            n => RateLimits::per_route(n),
        };
        DiscordHarness::with_limits(steps, per_5s, limits).await
    }

    /// [`DiscordHarness::with_budget`] against a fake Discord enforcing `limits`.
    pub async fn with_limits(steps: Vec<Step>, per_5s: u32, limits: RateLimits) -> DiscordHarness {
        let sim = fake_analytics(vec![("b1", steps)]).await;
        let fake = FakeDiscord::start_with(limits).await;
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state.db");
        let text = format!(
            r#"
analytics: {{base_url: "{sim}", timeout: 2s}}
bots: [{{id: b1, name: Support, token: b1-token, secret: b1-secret}}]
discord:
  token: test-bot-token
  api_base_url: "{fake}"
  destinations:
    ops: {{channel: "111"}}
    pager: {{channel: "222"}}
    hook: {{webhook: "{fake}/api/webhooks/333/hooktoken-abc"}}
  route: {{default: ops, critical: pager}}
  mention_roles: {{critical: "999"}}
  limits: {{timeout: 500ms, per_destination_per_5s: {per_5s}, global_per_second: 40}}
"#,
            sim = sim.base_url(),
            fake = fake.base_url()
        );
        let mut config = Config::parse("test.yaml", &text, Path::new("."), &|_| None).unwrap();
        config.state = state.clone();
        DiscordHarness {
            sim,
            fake,
            _dir: dir,
            state,
            config,
        }
    }

    /// A new connection to the state file.
    pub fn store(&self) -> Arc<dyn Store> {
        Arc::new(SqliteStore::open(&self.state, Duration::from_secs(3600)).unwrap())
    }

    /// A fresh process: new store connection, new Discord notifier, state restored.
    pub async fn start(&self, rules_yaml: &str) -> (Arc<Pipeline>, BotLoop) {
        let store = self.store();
        let notifier = DiscordNotifier::new(
            self.config.discord.clone().unwrap(),
            store.clone(),
            Default::default(),
        )
        .unwrap();
        super::start_pipeline(&self.config, rules_yaml, store, Arc::new(notifier)).await
    }

    /// The messages of a channel (or `webhook:ID`) in the fake Discord.
    pub fn channel(&self, id: &str) -> Vec<StoredMessage> {
        self.fake.messages(id)
    }
}
