//! Alerts in Discord, end to end over loopback: the fake analytics API, the real pipeline and
//! SQLite, and the fake Discord (which validates every body against Discord's OpenAPI).

mod support;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use botwatch::analytics::simulator::{Simulator, Step};
use botwatch::config::Config;
use botwatch::discord::sink::DiscordNotifier;
use botwatch::notify::outbox::Pass;
use botwatch::scheduler::{BotLoop, Pipeline, RunOptions};
use botwatch::store::{SqliteStore, Store};
use serde_json::{json, Value};
use support::discord::{Failure, FakeDiscord, StoredMessage};
use support::{fake_analytics, rules, snapshot};

const RULES: &str = r#"
rules:
  - name: quota
    when: lineQuotaConsumption > 800
    severity: warning
    summary: "quota {{ lineQuotaConsumption }} on {{ bot.name }}"
    value: "{{ lineQuotaConsumption }} / {{ lineQuota }}"
  - name: hostile
    when: lineQuotaConsumption > 950
    severity: critical
    summary: "@everyone @here <@123> <@&456> {{ lineProgram }}"
    description: "plan {{ lineProgram }}"
  - name: hooked
    when: lineQuotaConsumption > 800
    severity: info
    channel: hook
"#;

fn quota(used: i64) -> Step {
    Step::respond(snapshot(
        json!({"lineQuota": 1000, "lineQuotaConsumption": used}),
    ))
}

/// A response whose plan name is 10 kB of mentions: text from the API is hostile too.
fn hostile(used: i64) -> Step {
    let program = "@everyone <@&456> ".repeat(600);
    Step::respond(snapshot(
        json!({"lineQuota": 1000, "lineQuotaConsumption": used, "lineProgram": program}),
    ))
}

/// One bot, the fake analytics API, the fake Discord and a state file; `start` is one process.
struct Harness {
    sim: Simulator,
    fake: FakeDiscord,
    _dir: tempfile::TempDir,
    state: PathBuf,
    config: Config,
}

impl Harness {
    async fn new(steps: Vec<Step>) -> Harness {
        let sim = fake_analytics(vec![("b1", steps)]).await;
        let fake = FakeDiscord::start().await;
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
  limits: {{timeout: 500ms, per_destination_per_5s: 50, global_per_second: 100}}
"#,
            sim = sim.base_url(),
            fake = fake.base_url()
        );
        let mut config = Config::parse("test.yaml", &text, Path::new("."), &|_| None).unwrap();
        config.state = state.clone();
        Harness {
            sim,
            fake,
            _dir: dir,
            state,
            config,
        }
    }

    fn store(&self) -> Arc<dyn Store> {
        Arc::new(SqliteStore::open(&self.state, Duration::from_secs(3600)).unwrap())
    }

    /// A fresh process: new store connection, new Discord notifier, state restored.
    async fn start(&self) -> (Arc<Pipeline>, BotLoop) {
        let store = self.store();
        let notifier =
            DiscordNotifier::new(self.config.discord.clone().unwrap(), store.clone()).unwrap();
        let options = RunOptions {
            max_start_delay: Some(Duration::ZERO),
        };
        let pipeline = Arc::new(
            Pipeline::new(
                &self.config,
                Arc::new(rules(RULES)),
                store,
                Arc::new(notifier),
                options,
            )
            .unwrap(),
        );
        let bot_loop = BotLoop::restore(pipeline.clone(), self.config.bots[0].clone())
            .await
            .unwrap();
        (pipeline, bot_loop)
    }

    fn channel(&self, id: &str) -> Vec<StoredMessage> {
        self.fake.messages(id)
    }
}

/// Delivers until the outbox is empty (bounded), honouring retry waits.
async fn drain(pipeline: &Pipeline) {
    for _ in 0..50 {
        match pipeline.outbox().deliver_due().await.unwrap() {
            Pass::Drained => return,
            Pass::RetryIn(wait) => tokio::time::sleep(wait).await,
        }
    }
    panic!("the outbox did not drain");
}

fn embed(message: &StoredMessage) -> &Value {
    &message.body["embeds"][0]
}

#[tokio::test]
async fn a_card_is_posted_then_edited_in_place_and_replied_to_when_resolved() {
    let h = Harness::new(vec![quota(900), quota(100)]).await;
    let (pipeline, mut bot_loop) = h.start().await;
    bot_loop.poll_once().await.unwrap();
    drain(&pipeline).await;
    let card = &h.channel("111")[0];
    assert_eq!(
        card.body["content"],
        "🟠 **warning** firing: quota 900 on Support"
    );
    assert_eq!(embed(card)["title"], "quota 900 on Support");
    let value = embed(card)["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "Value")
        .cloned();
    assert_eq!(value.unwrap()["value"], "900 / 1000");
    assert_eq!(card.body["allowed_mentions"]["parse"], json!([]));
    assert_eq!(card.body["enforce_nonce"], true);
    bot_loop.poll_once().await.unwrap();
    drain(&pipeline).await;
    let messages = h.channel("111");
    assert_eq!(messages.len(), 2, "the card and one reply");
    let (card, reply) = (&messages[0], &messages[1]);
    assert_eq!(card.edits, 1, "resolved by editing the card");
    assert_eq!(
        embed(card)["color"],
        0x2EAD5B,
        "a resolved card turns green"
    );
    assert_eq!(
        reply.body["message_reference"]["message_id"],
        card.id.as_str()
    );
    assert!(reply.body["content"]
        .as_str()
        .unwrap()
        .starts_with("✅ Resolved after"));
    h.fake.assert_no_violations();
}

#[tokio::test]
async fn a_restarted_botwatch_edits_the_card_it_posted_before() {
    let h = Harness::new(vec![quota(900)]).await;
    {
        let (pipeline, mut bot_loop) = h.start().await;
        bot_loop.poll_once().await.unwrap();
        drain(&pipeline).await;
    }
    h.sim.set_steps("b1", vec![quota(100)]);
    let (pipeline, mut bot_loop) = h.start().await;
    bot_loop.poll_once().await.unwrap();
    drain(&pipeline).await;
    let messages = h.channel("111");
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0].edits, 1, "the old card was found and edited");
    assert_eq!(
        messages[1].body["message_reference"]["message_id"],
        messages[0].id.as_str()
    );
    h.fake.assert_no_violations();
}

#[tokio::test]
async fn hostile_alert_text_pings_only_the_configured_role_and_stays_within_limits() {
    let h = Harness::new(vec![hostile(990)]).await;
    let (pipeline, mut bot_loop) = h.start().await;
    bot_loop.poll_once().await.unwrap();
    drain(&pipeline).await;
    let card = &h.channel("222")[0];
    let content = card.body["content"].as_str().unwrap();
    assert!(
        content.starts_with("<@&999> 🔴 **critical** firing: @everyone"),
        "{content}"
    );
    assert_eq!(
        card.body["allowed_mentions"],
        json!({"parse": [], "roles": ["999"], "replied_user": false})
    );
    let description = embed(card)["description"].as_str().unwrap();
    assert_eq!(description.chars().count(), 4096, "cut to Discord's limit");
    assert!(description.ends_with('…'));
    h.fake.assert_no_violations();
}

#[tokio::test]
async fn a_rule_can_send_its_alerts_to_a_webhook_which_edits_its_card_too() {
    let h = Harness::new(vec![quota(900), quota(100)]).await;
    let (pipeline, mut bot_loop) = h.start().await;
    for _ in 0..2 {
        bot_loop.poll_once().await.unwrap();
        drain(&pipeline).await;
    }
    let hooked = h.channel("webhook:333");
    assert_eq!(hooked.len(), 2, "card and resolution notice");
    assert_eq!(hooked[0].edits, 1);
    assert_eq!(
        embed(&hooked[0])["footer"]["text"],
        "rule hooked · botwatch"
    );
    h.fake.assert_no_violations();
}

#[tokio::test]
async fn rate_limits_server_errors_and_resets_lose_nothing_and_double_nothing() {
    let h = Harness::new(vec![quota(900), quota(100)]).await;
    let (pipeline, mut bot_loop) = h.start().await;
    h.fake.fail_next(
        1,
        Failure::RateLimited {
            retry_after: 0.2,
            global: false,
            in_body: true,
            in_header: false,
        },
    );
    h.fake.fail_next(
        1,
        Failure::RateLimited {
            retry_after: 0.1,
            global: true,
            in_body: false,
            in_header: true,
        },
    );
    h.fake.fail_next(1, Failure::ServerError(502));
    h.fake.fail_next(1, Failure::DropConnection);
    for _ in 0..2 {
        bot_loop.poll_once().await.unwrap();
        drain(&pipeline).await;
    }
    let ops = h.channel("111");
    assert_eq!(ops.len(), 2, "one card, one reply: {ops:#?}");
    assert_eq!(ops[0].edits, 1);
    assert_eq!(h.channel("webhook:333").len(), 2);
    let failed: Vec<u16> = h
        .fake
        .requests()
        .iter()
        .map(|r| r.status)
        .filter(|s| *s >= 400 || *s == 0)
        .collect();
    assert_eq!(failed, [429, 429, 502, 0]);
    h.fake.assert_no_violations();
}

#[tokio::test]
async fn a_post_whose_answer_was_lost_is_retried_with_its_nonce_and_not_duplicated() {
    let h = Harness::new(vec![quota(900)]).await;
    let (pipeline, mut bot_loop) = h.start().await;
    // Discord stores the message, but the answer comes after botwatch gave up waiting.
    h.fake
        .fail_next(1, Failure::Delay(Duration::from_millis(900)));
    bot_loop.poll_once().await.unwrap();
    drain(&pipeline).await;
    let posts: Vec<Value> = h
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/channels/111/messages"))
        .map(|r| r.body["nonce"].clone())
        .collect();
    assert_eq!(posts.len(), 2, "the post was retried");
    assert_eq!(posts[0], posts[1], "with the same nonce");
    assert_eq!(h.channel("111").len(), 1, "and Discord kept one message");
    h.fake.assert_no_violations();
}

#[tokio::test]
async fn a_request_discord_refuses_is_kept_in_the_outbox_and_not_retried() {
    let h = Harness::new(vec![quota(900)]).await;
    let (pipeline, mut bot_loop) = h.start().await;
    h.fake.fail_next(
        1,
        Failure::Status(
            403,
            json!({"message": "Missing Permissions", "code": 50013}),
        ),
    );
    bot_loop.poll_once().await.unwrap();
    drain(&pipeline).await;
    drain(&pipeline).await;
    assert_eq!(
        h.store().outbox_len().unwrap(),
        1,
        "parked for inspection, not lost"
    );
    let to_ops = h
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/channels/111/messages"))
        .count();
    assert_eq!(to_ops, 1, "never looped on");
}

/// Rules that fire `rules × 5 platforms` alerts at once, with 40 labels each.
fn storm_rules(rules: usize) -> String {
    let labels: Vec<String> = (0..40)
        .map(|i| format!("label{i}: \"{}\"", "v".repeat(60)))
        .collect();
    let mut yaml = format!("defaults:\n  labels: {{{}}}\nrules:\n", labels.join(", "));
    for i in 0..rules {
        yaml.push_str(&format!("  - {{name: storm{i}, each: platform, when: 'lineQuota > 0', recover_when: 'lineQuota < 0'}}\n"));
    }
    yaml
}

async fn storm(rules_yaml: &str) -> Harness {
    let h = Harness::new(vec![quota(100)]).await;
    let store = h.store();
    let notifier = DiscordNotifier::new(h.config.discord.clone().unwrap(), store.clone()).unwrap();
    let options = RunOptions {
        max_start_delay: Some(Duration::ZERO),
    };
    let pipeline = Arc::new(
        Pipeline::new(
            &h.config,
            Arc::new(rules(rules_yaml)),
            store,
            Arc::new(notifier),
            options,
        )
        .unwrap(),
    );
    let mut bot_loop = BotLoop::restore(pipeline.clone(), h.config.bots[0].clone())
        .await
        .unwrap();
    bot_loop.poll_once().await.unwrap();
    drain(&pipeline).await;
    assert_eq!(h.store().outbox_len().unwrap(), 0, "everything delivered");
    h
}

/// How many alerts the digests in a channel account for, from their embed titles ("N × rule …").
fn counted(messages: &[StoredMessage]) -> usize {
    messages
        .iter()
        .flat_map(|m| m.body["embeds"].as_array().cloned().unwrap_or_default())
        .map(|e| {
            e["title"]
                .as_str()
                .unwrap()
                .split(" × ")
                .next()
                .unwrap()
                .parse::<usize>()
                .unwrap()
        })
        .sum()
}

#[tokio::test]
async fn storms_of_two_hundred_and_a_thousand_alerts_reach_discord_in_a_few_digests_with_none_lost()
{
    for (rules, alerts) in [(40, 200), (200, 1000)] {
        let h = storm(&storm_rules(rules)).await;
        let messages = h.channel("111");
        assert!(
            messages.len() <= 5,
            "{} messages: one burst of the channel's budget",
            messages.len()
        );
        assert_eq!(counted(&messages), alerts, "every alert is accounted for");
        assert!(h.fake.requests().iter().all(|r| r.status != 429));
        h.fake.assert_no_violations();
    }
}

#[tokio::test]
async fn a_few_simultaneous_alerts_with_forty_labels_get_their_own_cards_within_limits() {
    // 50 per 5 s is this harness's budget: 10 rules × 5 platforms = 50 cards, one each.
    let h = storm(&storm_rules(10)).await;
    let messages = h.channel("111");
    assert_eq!(messages.len(), 50);
    let labels = messages[0].body["embeds"][0]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "Labels")
        .cloned()
        .unwrap();
    assert_eq!(
        labels["value"].as_str().unwrap().chars().count(),
        1024,
        "40 labels cut to one field's limit"
    );
    h.fake.assert_no_violations();
}
