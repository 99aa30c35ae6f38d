//! Tests of the fake Discord itself: interactions, command registration, unknown routes, and
//! serenity's own requests against it (tests/support/discord/).

mod support;

use serde_json::{json, Value};
use support::discord::probe::*;
use support::discord::*;

#[tokio::test]
async fn a_deferred_interaction_then_patch_original_stores_the_original() {
    let fake = FakeDiscord::start().await;
    let token = "interaction-token-1";
    let (status, _) = post(
        &fake,
        &format!("/interactions/1400000000000000001/{token}/callback"),
        json!({"type": 5}),
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(fake.callbacks(token), vec![json!({"type": 5})]);
    assert_eq!(fake.original_response(token), None);

    let original = format!("/webhooks/1500000000000000001/{token}/messages/@original");
    let (status, reply) = patch(
        &fake,
        &original,
        json!({"content": "3 rules loaded", "embeds": [{"title": "status"}]}),
    )
    .await;
    assert_eq!(status, 200, "{reply}");
    serde_json::from_value::<serenity::model::channel::Message>(reply)
        .expect("serenity accepts the original response");
    assert_eq!(
        fake.original_response(token).unwrap()["content"],
        "3 rules loaded"
    );

    let (status, _) = patch(&fake, &original, json!({"content": "4 rules loaded"})).await;
    assert_eq!(status, 200);
    let now = fake.original_response(token).unwrap();
    assert_eq!(now["content"], "4 rules loaded");
    assert_eq!(now["embeds"][0]["title"], "status");

    // A follow-up goes to the application's webhook.
    let (status, _, _) = send(
        &fake,
        reqwest::Method::POST,
        &format!("/webhooks/1500000000000000001/{token}?wait=true"),
        Some(json!({"content": "follow-up", "flags": 64})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(fake.messages("webhook:1500000000000000001").len(), 1);
    fake.assert_no_violations();
}

#[tokio::test]
async fn a_channel_message_callback_stores_its_data_as_the_original() {
    let fake = FakeDiscord::start().await;
    let token = "interaction-token-2";
    let callback = format!("/interactions/1400000000000000002/{token}/callback");
    let body = json!({"type": 4, "data": {"content": "pong", "flags": 64}});
    let (status, _) = post(&fake, &callback, body.clone()).await;
    assert_eq!(status, 204);
    assert_eq!(
        fake.original_response(token),
        Some(json!({"content": "pong", "flags": 64}))
    );
    assert_eq!(fake.callbacks(token), vec![body]);
    fake.assert_no_violations();

    // Patching @original of an unknown token is a 404.
    let (status, _) = patch(
        &fake,
        "/webhooks/1500000000000000001/nobody/messages/@original",
        json!({"content": "x"}),
    )
    .await;
    assert_eq!(status, 404);

    // A callback type that does not exist, or content over the limit, is rejected.
    let (status, _) = post(&fake, &callback, json!({"type": 42})).await;
    assert_eq!(status, 400);
    let (status, _) = post(
        &fake,
        &callback,
        json!({"type": 4, "data": {"content": "x".repeat(2001)}}),
    )
    .await;
    assert_eq!(status, 400);
    assert!(fake.violations().len() >= 2, "{:?}", fake.violations());
    assert_eq!(fake.callbacks(token).len(), 1);
}

#[tokio::test]
async fn command_registration_returns_an_object_with_an_id() {
    let fake = FakeDiscord::start().await;
    let command = json!({
        "name": "botwatch",
        "description": "Alerting bot",
        "type": 1,
        "options": [{"type": 1, "name": "status", "description": "Show the rules and their state"}]
    });
    let (status, guild) = post(
        &fake,
        "/applications/1500000000000000001/guilds/1600000000000000001/commands",
        command.clone(),
    )
    .await;
    assert_eq!(status, 200, "{guild}");
    assert!(guild["id"].as_str().unwrap().parse::<u64>().is_ok());
    assert_eq!(guild["guild_id"], "1600000000000000001");
    assert_eq!(guild["name"], "botwatch");
    serde_json::from_value::<serenity::model::application::Command>(guild)
        .expect("serenity accepts the command");

    let (status, global) = post(
        &fake,
        "/applications/1500000000000000001/commands",
        command.clone(),
    )
    .await;
    assert_eq!(status, 200);
    assert!(global.get("guild_id").is_none());

    let (status, _, list) = send(
        &fake,
        reqwest::Method::PUT,
        "/applications/1500000000000000001/commands",
        Some(json!([command])),
    )
    .await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list.as_array().unwrap().len(), 1);
    fake.assert_no_violations();

    let (status, _) = post(
        &fake,
        "/applications/1500000000000000001/commands",
        json!({"name": "Has Spaces And Capitals", "description": "x"}),
    )
    .await;
    assert_eq!(status, 400);
    let violations = fake.violations().join("\n");
    assert!(violations.contains("/name"), "{violations}");
}

#[tokio::test]
async fn an_unknown_route_is_404_and_recorded() {
    let fake = FakeDiscord::start().await;
    let (status, _, body) = send(&fake, reqwest::Method::GET, "/users/@me", None).await;
    assert_eq!(status, 404);
    assert_eq!(body, json!({"message": "404: Not Found", "code": 0}));
    let requests = fake.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].path, "/api/v10/users/@me");
    assert_eq!(requests[0].body, Value::Null);
    assert_eq!(requests[0].status, 404);
}

#[tokio::test]
async fn serenity_pointed_at_the_fake_sends_valid_requests() {
    use serenity::builder::{CreateEmbed, CreateEmbedFooter, CreateMessage, EditMessage};
    use serenity::model::id::ChannelId;

    let fake = FakeDiscord::start().await;
    let http = serenity::http::HttpBuilder::new("Bot test-token")
        .proxy(fake.base_url())
        .ratelimiter_disabled(true)
        .build();
    let channel = ChannelId::new(CHANNEL.parse().unwrap());
    let embed = CreateEmbed::new()
        .title("Alert")
        .description("error rate above 5%")
        .colour(0xE74C3C)
        .field("bot", "support", true)
        .footer(CreateEmbedFooter::new("botwatch"))
        .timestamp(serenity::model::Timestamp::now());
    let sent = channel
        .send_message(&http, CreateMessage::new().content("firing").embed(embed))
        .await
        .expect("serenity sends through the fake");
    let edited = channel
        .edit_message(&http, sent.id, EditMessage::new().content("resolved"))
        .await
        .expect("serenity edits through the fake");
    assert_eq!(edited.content, "resolved");
    fake.assert_no_violations();
    let stored = fake.messages(CHANNEL);
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].edits, 1);
    assert_eq!(
        fake.requests()[0].authorization.as_deref(),
        Some("Bot test-token")
    );
}

#[tokio::test]
async fn serenity_interaction_webhook_and_command_requests_pass_the_fake() {
    use serenity::builder::{
        CreateCommand, CreateCommandOption, CreateEmbed, CreateInteractionResponse,
        CreateInteractionResponseMessage, EditInteractionResponse, ExecuteWebhook,
    };
    use serenity::model::application::CommandOptionType;
    use serenity::model::id::{ApplicationId, GuildId, InteractionId, WebhookId};

    let fake = FakeDiscord::start().await;
    let http = serenity::http::HttpBuilder::new("Bot test-token")
        .proxy(fake.base_url())
        .ratelimiter_disabled(true)
        .application_id(ApplicationId::new(1500000000000000001))
        .build();

    let commands = GuildId::new(1600000000000000001)
        .set_commands(
            &http,
            vec![CreateCommand::new("botwatch")
                .description("Alerting bot")
                .add_option(CreateCommandOption::new(
                    CommandOptionType::SubCommand,
                    "status",
                    "Show the rules and their state",
                ))],
        )
        .await
        .expect("serenity registers commands through the fake");
    assert_eq!(commands.len(), 1);
    assert_eq!(commands[0].name, "botwatch");

    let token = "serenity-interaction-token";
    let defer = CreateInteractionResponse::Defer(CreateInteractionResponseMessage::new());
    http.create_interaction_response(
        InteractionId::new(1700000000000000001),
        token,
        &defer,
        vec![],
    )
    .await
    .expect("serenity defers through the fake");
    let edit = EditInteractionResponse::new()
        .content("3 rules")
        .embed(CreateEmbed::new().title("status").description("all quiet"));
    let original = http
        .edit_original_interaction_response(token, &edit, vec![])
        .await
        .expect("serenity edits the original response through the fake");
    assert_eq!(original.content, "3 rules");
    assert_eq!(fake.original_response(token).unwrap()["content"], "3 rules");
    assert_eq!(fake.callbacks(token).len(), 1);

    let reply = CreateInteractionResponse::Message(
        CreateInteractionResponseMessage::new()
            .content("pong")
            .ephemeral(true),
    );
    http.create_interaction_response(
        InteractionId::new(1700000000000000002),
        "t2",
        &reply,
        vec![],
    )
    .await
    .expect("serenity replies through the fake");
    assert_eq!(fake.original_response("t2").unwrap()["content"], "pong");

    let sent = http
        .execute_webhook(
            WebhookId::new(1300000000000000001),
            None,
            "webhook-token",
            true,
            vec![],
            &ExecuteWebhook::new()
                .content("via webhook")
                .username("botwatch"),
        )
        .await
        .expect("serenity executes a webhook through the fake");
    assert_eq!(
        sent.expect("wait=true returns the message").content,
        "via webhook"
    );
    fake.assert_no_violations();
}
