//! The buttons on alert cards, end to end over loopback: the real pipeline posts the card with
//! its Acknowledge button to the fake Discord, a press comes back as Discord delivers it (the
//! card's own Message object), and the answer is the card itself, edited — every body
//! validated against Discord's OpenAPI description.

mod support;

use std::sync::Arc;

use botwatch::alerts::AlertId;
use botwatch::discord::config::DiscordConfig;
use botwatch::discord::interactions::{Context, Interactions};
use botwatch::discord::rest::DiscordRest;
use botwatch::scheduler::{BotLoop, Pipeline};
use serde_json::{json, Value};
use support::discord::StoredMessage;
use support::harness::DiscordHarness;
use support::interactions::{button_press, Asker};
use support::{drain, quota};

const RULES: &str = r#"
rules:
  - name: quota
    when: lineQuotaConsumption > 800
    severity: warning
    summary: "quota {{ lineQuotaConsumption }} on {{ bot.name }}"
"#;

/// What answers interactions, over the fake Discord, with `discord`'s guilds and roles.
fn interactions(h: &DiscordHarness, pipeline: &Pipeline, discord: DiscordConfig) -> Interactions {
    let rest = DiscordRest::for_config(&discord).unwrap();
    let context = Context {
        config: discord,
        bots: h.config.bots.clone(),
        upstream: pipeline.upstream(),
        store: pipeline.store(),
        acknowledgements: pipeline.store(),
    };
    Interactions::new(Arc::new(rest), context)
}

/// A quota alert fired and its card posted in channel 111; the next poll resolves it.
struct Fired {
    h: DiscordHarness,
    pipeline: Arc<Pipeline>,
    bot_loop: BotLoop,
    alert: AlertId,
    card: StoredMessage,
}

async fn fired() -> Fired {
    let h = DiscordHarness::new(vec![quota(900), quota(100)]).await;
    let (pipeline, mut bot_loop) = h.start(RULES).await;
    bot_loop.poll_once().await.unwrap();
    drain(&pipeline).await;
    let alert = pipeline.store().load_bot("b1").await.unwrap().instances[0].id();
    let card = h.channel("111")[0].clone();
    Fired {
        h,
        pipeline,
        bot_loop,
        alert,
        card,
    }
}

/// The `custom_id`s of a message's buttons.
fn buttons(message: &Value) -> Vec<String> {
    let rows = message["components"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    rows.iter()
        .flat_map(|row| row["components"].as_array().cloned().unwrap_or_default())
        .map(|button| button["custom_id"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// The value of the card's "Acknowledged" field, if it has one.
fn acknowledged_field(message: &Value) -> Option<String> {
    let fields = message["embeds"][0]["fields"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    fields
        .iter()
        .find(|field| field["name"] == "Acknowledged")
        .map(|field| field["value"].as_str().unwrap().to_owned())
}

/// A press of `custom_id` on `card` by user 777 in guild 555.
fn press(
    h: &DiscordHarness,
    card: &StoredMessage,
    custom_id: &str,
    token: &str,
) -> serenity::all::Interaction {
    let message = h
        .fake
        .message_object(&card.id)
        .expect("the card is in the fake");
    button_press(Asker::default(), custom_id, message, token)
}

#[tokio::test]
async fn acknowledging_a_card_shows_who_on_it_and_unacknowledging_brings_the_button_back() {
    let Fired {
        h,
        pipeline,
        mut bot_loop,
        alert,
        card,
    } = fired().await;
    let ack = format!("bw1:ack:{alert}");
    assert_eq!(
        buttons(&card.body),
        [ack.clone(), format!("bw1:analyze:{alert}")],
        "the card carries its Acknowledge and Analyze buttons"
    );

    let interactions = interactions(&h, &pipeline, h.config.discord.clone().unwrap());
    interactions
        .respond(&press(&h, &card, &ack, "t-ack"))
        .await
        .unwrap();
    let answer = &h.fake.callbacks("t-ack")[0];
    assert_eq!(
        answer["type"], 7,
        "the card itself is the answer (UPDATE_MESSAGE)"
    );
    let shown = acknowledged_field(&answer["data"]).expect("the card says who acknowledged it");
    assert!(shown.starts_with("by <@777> <t:"), "{shown}");
    assert_eq!(
        answer["data"]["embeds"][0]["title"], "quota 900 on Support",
        "the card is kept"
    );
    assert_eq!(
        buttons(&answer["data"]),
        [format!("bw1:unack:{alert}"), format!("bw1:analyze:{alert}")]
    );
    let stored = pipeline
        .store()
        .acknowledgement(alert)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (stored.by.id.as_str(), stored.by.name.as_str()),
        ("777", "Ana Ops")
    );

    let unack = format!("bw1:unack:{alert}");
    interactions
        .respond(&press(&h, &card, &unack, "t-unack"))
        .await
        .unwrap();
    let answer = &h.fake.callbacks("t-unack")[0];
    assert_eq!(answer["type"], 7);
    assert_eq!(acknowledged_field(&answer["data"]), None);
    assert_eq!(buttons(&answer["data"])[0], ack);
    assert_eq!(pipeline.store().acknowledgement(alert).await.unwrap(), None);

    bot_loop.poll_once().await.unwrap();
    drain(&pipeline).await;
    let resolved = &h.channel("111")[0];
    assert_eq!(
        resolved.body["components"],
        json!([]),
        "a resolved card has no buttons"
    );
    h.fake.assert_no_violations();
}

#[tokio::test]
async fn presses_from_elsewhere_without_the_role_on_a_resolved_alert_or_unknown_are_refused_privately(
) {
    let Fired {
        h,
        pipeline,
        mut bot_loop,
        alert,
        card,
    } = fired().await;
    let ack = format!("bw1:ack:{alert}");
    let mut discord = h.config.discord.clone().unwrap();
    discord.guilds = vec![555];
    discord.action_roles = vec!["42".into()];
    let interactions = interactions(&h, &pipeline, discord);
    let message = || h.fake.message_object(&card.id).unwrap();

    let elsewhere = Asker {
        guild: Some("666"),
        roles: vec!["42"],
        ..Asker::default()
    };
    let no_role = Asker {
        roles: vec!["41"],
        ..Asker::default()
    };
    let cases = [
        (
            "t-guild",
            button_press(elsewhere, &ack, message(), "t-guild"),
            "not available here",
        ),
        (
            "t-role",
            button_press(no_role, &ack, message(), "t-role"),
            "roles allowed",
        ),
        (
            "t-old",
            button_press(
                Asker {
                    roles: vec!["42"],
                    ..Asker::default()
                },
                "bw0:ack:x",
                message(),
                "t-old",
            ),
            "another version of botwatch",
        ),
    ];
    for (token, interaction, expected) in cases {
        interactions.respond(&interaction).await.unwrap();
        let answer = &h.fake.callbacks(token)[0];
        assert_eq!(answer["type"], 4, "{token}: a message, not a card edit");
        assert_eq!(
            answer["data"]["flags"], 64,
            "{token}: only the presser sees it"
        );
        let text = answer["data"]["content"].as_str().unwrap();
        assert!(text.contains(expected), "{token}: {text}");
    }
    assert_eq!(
        pipeline.store().acknowledgement(alert).await.unwrap(),
        None,
        "nothing was recorded"
    );

    bot_loop.poll_once().await.unwrap();
    drain(&pipeline).await;
    let late = Asker {
        roles: vec!["42"],
        ..Asker::default()
    };
    interactions
        .respond(&button_press(late, &ack, message(), "t-late"))
        .await
        .unwrap();
    let answer = &h.fake.callbacks("t-late")[0];
    assert!(
        answer["data"]["content"]
            .as_str()
            .unwrap()
            .contains("has resolved"),
        "{answer}"
    );
    h.fake.assert_no_violations();
}

#[tokio::test]
async fn analyze_on_a_card_shows_the_bots_analysis_to_the_presser_alone() {
    let Fired {
        h,
        pipeline,
        alert,
        card,
        ..
    } = fired().await;
    let interactions = interactions(&h, &pipeline, h.config.discord.clone().unwrap());

    let analyze = format!("bw1:analyze:{alert}");
    interactions
        .respond(&press(&h, &card, &analyze, "t-analyze"))
        .await
        .unwrap();
    let answer = &h.fake.callbacks("t-analyze")[0];
    assert_eq!(
        answer["type"], 4,
        "a message of its own: the card is left as it is"
    );
    assert_eq!(answer["data"]["flags"], 64, "only the presser sees it");
    let embed = &answer["data"]["embeds"][0];
    assert_eq!(embed["title"], "📊 Support (b1)");
    assert!(embed.to_string().contains("900 / 1000 used"), "{embed}");
    assert_eq!(
        h.sim.served("b1"),
        1,
        "fresh data is answered from the store"
    );
    h.fake.assert_no_violations();
}
