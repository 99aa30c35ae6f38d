//! `/analysis` handlers driven with interaction JSON, answering through the fake Discord, with
//! data from the fake analytics API and the real state store.

mod support;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use botwatch::analytics::simulator::{Simulator, Step};
use botwatch::config::Config;
use botwatch::discord::interactions::{Context, Interactions};
use botwatch::discord::rest::DiscordRest;
use botwatch::scheduler::Pipeline;
use serde_json::{json, Value};
use support::discord::FakeDiscord;
use support::interactions::{analysis, Asker};
use support::{fake_analytics, snapshot, start_pipeline, Recorder};

const RULES: &str = "rules:\n  - {name: quota-high, when: 'lineQuotaConsumption > 800'}\n";

fn quota(used: i64) -> Step {
    Step::respond(snapshot(
        json!({"lineQuota": 1000, "lineQuotaConsumption": used, "lineProgram": "輕用量",
        "lineReplyAmounts": 45, "fbIsIntegration": true, "fbAverageConversationTime": 95, "instagramIsIntegration": false}),
    ))
}

struct Harness {
    sim: Simulator,
    fake: FakeDiscord,
    pipeline: Arc<Pipeline>,
    interactions: Interactions,
    _dir: tempfile::TempDir,
}

/// Two bots (b1 polled once, so its data is in the store), Discord limited to guild 555 and,
/// with `roles`, to those roles.
async fn harness(steps: Vec<Step>, fresh_for: &str, roles: &str) -> Harness {
    let sim = fake_analytics(vec![("b1", steps), ("b2", vec![quota(10)])]).await;
    let fake = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        r#"
analytics: {{base_url: "{sim}", timeout: 500ms}}
bots:
  - {{id: b1, name: Support, token: b1-token, secret: b1-secret}}
  - {{id: b2, name: Sales, token: b2-token, secret: b2-secret}}
state: {state}
discord:
  token: test-bot-token
  api_base_url: "{fake}"
  guilds: ["555"]
  destinations: {{ops: {{channel: "111"}}}}
  route: {{default: ops}}
  analysis: {{fresh_for: {fresh_for}, cooldown: 1h, roles: [{roles}]}}
"#,
        sim = sim.base_url(),
        fake = fake.base_url(),
        state = dir.path().join("s.db").display()
    );
    let config = Config::parse("test.yaml", &text, Path::new("."), &|_| None).unwrap();
    let store = botwatch::scheduler::open_store(&config).await.unwrap();
    let (pipeline, mut bot_loop) =
        start_pipeline(&config, RULES, store.clone(), Arc::new(Recorder::default())).await;
    bot_loop.poll_once().await.unwrap();
    let discord = config.discord.clone().unwrap();
    let rest = Arc::new(
        DiscordRest::new(
            discord.token.as_ref(),
            discord.api_base_url.as_deref(),
            Duration::from_secs(2),
        )
        .unwrap(),
    );
    let context = Context {
        config: discord,
        bots: config.bots.clone(),
        upstream: pipeline.upstream(),
        store: store.clone(),
        acknowledgements: store,
    };
    let interactions = Interactions::new(rest, context);
    Harness {
        sim,
        fake,
        pipeline,
        interactions,
        _dir: dir,
    }
}

fn asking_for(bot: &str) -> Asker<'static> {
    Asker {
        options: json!([{"name": "bot", "type": 3, "value": bot}]),
        ..Asker::default()
    }
}

fn text_of(answer: &Value) -> String {
    answer.to_string()
}

#[tokio::test]
async fn fresh_data_is_answered_at_once_with_quota_platforms_and_firing_alerts() {
    let h = harness(vec![quota(850)], "1h", "").await;
    h.interactions
        .respond(&analysis(asking_for("b1"), "t-fresh"))
        .await
        .unwrap();
    let callbacks = h.fake.callbacks("t-fresh");
    assert_eq!(callbacks.len(), 1);
    assert_eq!(callbacks[0]["type"], 4, "answered at once, no deferral");
    let embed = &callbacks[0]["data"]["embeds"][0];
    assert_eq!(embed["title"], "📊 Support (b1)");
    assert!(embed["description"]
        .as_str()
        .unwrap()
        .contains("▓▓▓▓▓▓▓▓▓░ 85.0 %\n850 / 1000 used · 150 left"));
    let text = text_of(embed);
    assert!(
        text.contains("輕用量")
            && text.contains("Facebook   ✅    n/a   1:35")
            && text.contains("🔴 `quota-high`"),
        "{text}"
    );
    assert_eq!(h.sim.served("b1"), 1, "no extra request upstream");
    h.fake.assert_no_violations();
}

#[tokio::test]
async fn stale_data_is_deferred_then_refreshed_into_the_original_answer() {
    let h = harness(vec![quota(850), quota(900)], "0s", "").await;
    h.interactions
        .respond(&analysis(asking_for("b1"), "t-stale"))
        .await
        .unwrap();
    assert_eq!(h.fake.callbacks("t-stale")[0]["type"], 5, "deferred first");
    let original = h
        .fake
        .original_response("t-stale")
        .expect("the original answer was edited");
    assert!(text_of(&original).contains("900 / 1000 used"), "{original}");
    assert_eq!(h.sim.served("b1"), 2);
    h.fake.assert_no_violations();
}

#[tokio::test]
async fn an_api_failure_shows_the_error_and_the_last_known_data() {
    let h = harness(vec![quota(850), Step::Status(503)], "0s", "").await;
    h.interactions
        .respond(&analysis(asking_for("b1"), "t-fail"))
        .await
        .unwrap();
    let original = text_of(&h.fake.original_response("t-fail").unwrap());
    assert!(
        original.contains("Could not fetch fresh data: the analytics API answered HTTP 503"),
        "{original}"
    );
    assert!(
        original.contains("Showing the last known data") && original.contains("850 / 1000 used"),
        "{original}"
    );
    h.fake.assert_no_violations();
}

#[tokio::test]
async fn other_guilds_other_roles_and_unwatched_bots_are_refused_without_asking_the_api() {
    let h = harness(vec![quota(850)], "0s", "\"42\"").await;
    let cases = [
        (
            "t-guild",
            Asker {
                guild: Some("666"),
                roles: vec!["42"],
                ..asking_for("b1")
            },
            "not available here",
        ),
        (
            "t-dm",
            Asker {
                guild: None,
                ..asking_for("b1")
            },
            "not available here",
        ),
        (
            "t-role",
            Asker {
                roles: vec!["41"],
                user: "1",
                ..asking_for("b1")
            },
            "roles allowed",
        ),
        (
            "t-bot",
            Asker {
                roles: vec!["42"],
                user: "2",
                ..asking_for("someone-elses-bot")
            },
            "not watched by botwatch",
        ),
    ];
    for (token, asker, expected) in cases {
        h.interactions
            .respond(&analysis(asker, token))
            .await
            .unwrap();
        let answer = &h.fake.callbacks(token)[0];
        assert_eq!(
            answer["data"]["flags"], 64,
            "{token}: only the asker sees the refusal"
        );
        assert!(
            answer["data"]["content"]
                .as_str()
                .unwrap()
                .contains(expected),
            "{token}: {answer}"
        );
    }
    assert_eq!(
        h.sim.served("b1"),
        1,
        "only the initial poll reached the API"
    );
    assert!(h
        .sim
        .received()
        .iter()
        .all(|r| r.bot_id != "someone-elses-bot"));
    h.fake.assert_no_violations();
}

#[tokio::test]
async fn a_second_request_within_the_cooldown_is_answered_politely_and_privately() {
    let h = harness(vec![quota(850)], "1h", "").await;
    h.interactions
        .respond(&analysis(asking_for("b1"), "t-1"))
        .await
        .unwrap();
    h.interactions
        .respond(&analysis(asking_for("b1"), "t-2"))
        .await
        .unwrap();
    let second = &h.fake.callbacks("t-2")[0];
    assert_eq!(second["data"]["flags"], 64);
    assert!(
        second["data"]["content"]
            .as_str()
            .unwrap()
            .starts_with("Please wait "),
        "{second}"
    );
}

#[tokio::test]
async fn private_answers_are_ephemeral_and_autocomplete_offers_only_watched_bots() {
    let h = harness(vec![quota(850)], "1h", "").await;
    let private = Asker {
        options: json!([{"name": "bot", "type": 3, "value": "b1"}, {"name": "private", "type": 5, "value": true}]),
        ..Asker::default()
    };
    h.interactions
        .respond(&analysis(private, "t-private"))
        .await
        .unwrap();
    assert_eq!(h.fake.callbacks("t-private")[0]["data"]["flags"], 64);
    let typing = Asker {
        kind: 4,
        options: json!([{"name": "bot", "type": 3, "value": "sal", "focused": true}]),
        ..Asker::default()
    };
    h.interactions
        .respond(&analysis(typing, "t-auto"))
        .await
        .unwrap();
    let choices = &h.fake.callbacks("t-auto")[0]["data"]["choices"];
    assert_eq!(choices, &json!([{"name": "Sales (b2)", "value": "b2"}]));
    h.fake.assert_no_violations();
    drop(h.pipeline);
}

#[tokio::test]
async fn the_command_is_registered_in_each_configured_guild() {
    let h = harness(vec![quota(850)], "1h", "").await;
    h.interactions
        .register(serenity::model::id::ApplicationId::new(800000000000000001))
        .await
        .unwrap();
    let registered: Vec<String> = h
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.path.contains("/commands"))
        .map(|r| r.path)
        .collect();
    assert_eq!(
        registered,
        ["/api/v10/applications/800000000000000001/guilds/555/commands"]
    );
    h.fake.assert_no_violations();
}
