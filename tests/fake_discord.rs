//! Tests of the fake Discord REST API itself (tests/support/discord.rs).

mod support;

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::discord::*;

const CHANNEL: &str = "1200000000000000001";

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("reqwest client")
}

async fn send(
    fake: &FakeDiscord,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let url = format!("{}/api/v10{path}", fake.base_url());
    let mut request = client()
        .request(method, url)
        .header("Authorization", "Bot test-token");
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("request to the fake");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.expect("response body");
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("non-JSON answer {text:?}: {e}"))
    };
    (status, headers, body)
}

async fn post(fake: &FakeDiscord, path: &str, body: Value) -> (u16, Value) {
    let (status, _, body) = send(fake, reqwest::Method::POST, path, Some(body)).await;
    (status, body)
}

async fn patch(fake: &FakeDiscord, path: &str, body: Value) -> (u16, Value) {
    let (status, _, body) = send(fake, reqwest::Method::PATCH, path, Some(body)).await;
    (status, body)
}

fn messages_path() -> String {
    format!("/channels/{CHANNEL}/messages")
}

fn embed_with_description(chars: usize) -> Value {
    json!({"title": "t", "description": "d".repeat(chars - 1)})
}

#[tokio::test]
async fn a_valid_message_is_accepted_stored_and_deserializes_as_a_serenity_message() {
    let fake = FakeDiscord::start().await;
    let body = json!({
        "content": "**error rate** above 5% for bot `support`",
        "embeds": [{
            "title": "Alert: error rate",
            "description": "5.3% of replies failed in the last 10 minutes",
            "color": 15158332,
            "timestamp": "2026-01-02T03:04:05Z",
            "url": "https://example.com/dashboards/1",
            "fields": [
                {"name": "bot", "value": "support", "inline": true},
                {"name": "threshold", "value": "5%", "inline": true}
            ],
            "footer": {"text": "botwatch"},
            "author": {"name": "botwatch"}
        }],
        "allowed_mentions": {"parse": []},
        "components": [{
            "type": 1,
            "components": [{"type": 2, "style": 1, "label": "Ack", "custom_id": "ack:1"}]
        }],
        "nonce": "alert-1",
        "message_reference": {"message_id": "1200000000000000099", "fail_if_not_exists": false}
    });
    let (status, reply) = post(&fake, &messages_path(), body.clone()).await;
    assert_eq!(status, 200, "{reply}");
    fake.assert_no_violations();

    let message: serenity::model::channel::Message =
        serde_json::from_value(reply.clone()).expect("serenity accepts the fake's message");
    assert_eq!(message.channel_id.get().to_string(), CHANNEL);
    assert_eq!(message.content, body["content"].as_str().unwrap());
    assert_eq!(message.embeds.len(), 1);
    assert_eq!(message.embeds[0].fields.len(), 2);
    assert_eq!(message.components.len(), 1);
    assert!(message.author.bot);
    assert!(message.edited_timestamp.is_none());
    assert_eq!(
        message.kind,
        serenity::model::channel::MessageType::InlineReply
    );
    assert!(message.message_reference.is_some());
    assert_eq!(
        message.id.get(),
        FIRST_ID,
        "ids start at FIRST_ID and increase"
    );

    let stored = fake.messages(CHANNEL);
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].id, reply["id"].as_str().unwrap());
    assert_eq!(stored[0].body, body);
    assert_eq!(stored[0].edits, 0);

    let requests = fake.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].method, "POST");
    assert_eq!(requests[0].path, format!("/api/v10{}", messages_path()));
    assert_eq!(requests[0].status, 200);
    assert_eq!(requests[0].authorization.as_deref(), Some("Bot test-token"));
    assert_eq!(requests[0].body, body);
}

#[tokio::test]
async fn a_payload_discord_would_reject_is_answered_400_and_listed() {
    let fake = FakeDiscord::start().await;
    let (status, reply) = post(
        &fake,
        &messages_path(),
        json!({"embeds": [{"title": "x", "color": "red"}]}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(reply["code"], 50035);
    assert_eq!(reply["message"], "Invalid Form Body");
    assert!(
        reply["errors"]["embeds"]["0"]["color"]["_errors"].is_array(),
        "{reply}"
    );
    let violations = fake.violations();
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert!(
        violations[0].starts_with(&format!(
            "POST /api/v10{}: /embeds/0/color",
            messages_path()
        )),
        "{violations:?}"
    );
    assert!(fake.messages(CHANNEL).is_empty());
    assert_eq!(fake.requests()[0].status, 400);
    let panic = std::panic::catch_unwind(|| fake.assert_no_violations());
    assert!(
        panic.is_err(),
        "assert_no_violations panics when there are some"
    );
}

#[tokio::test]
async fn eleven_embeds_are_rejected() {
    let fake = FakeDiscord::start().await;
    let embeds: Vec<Value> = (0..11).map(|i| json!({"title": format!("e{i}")})).collect();
    let (status, reply) = post(&fake, &messages_path(), json!({ "embeds": embeds })).await;
    assert_eq!(status, 400, "{reply}");
    assert!(reply["errors"]["embeds"]["_errors"].is_array(), "{reply}");
    assert!(!fake.violations().is_empty());
    assert!(fake.messages(CHANNEL).is_empty());
}

#[tokio::test]
async fn content_is_limited_to_2000_characters_not_bytes() {
    let fake = FakeDiscord::start().await;
    // 2000 two-byte characters: 4000 bytes, still fine.
    let (status, reply) = post(
        &fake,
        &messages_path(),
        json!({"content": "é".repeat(2000)}),
    )
    .await;
    assert_eq!(status, 200, "{reply}");
    fake.assert_no_violations();

    let (status, reply) = post(
        &fake,
        &messages_path(),
        json!({"content": "a".repeat(2001)}),
    )
    .await;
    assert_eq!(status, 400);
    assert!(reply["errors"]["content"]["_errors"].is_array(), "{reply}");
    let violations = fake.violations();
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert!(violations[0].contains("2001"), "{violations:?}");
    assert_eq!(fake.messages(CHANNEL).len(), 1);
}

#[tokio::test]
async fn embeds_totalling_more_than_6000_characters_are_rejected() {
    let fake = FakeDiscord::start().await;
    // Two embeds of 3000 characters each (title "t" + description): exactly 6000 is fine.
    let at_limit = json!({"embeds": [embed_with_description(3000), embed_with_description(3000)]});
    let (status, reply) = post(&fake, &messages_path(), at_limit).await;
    assert_eq!(status, 200, "{reply}");
    fake.assert_no_violations();

    let over = json!({"embeds": [embed_with_description(3000), embed_with_description(3001)]});
    let (status, reply) = post(&fake, &messages_path(), over).await;
    assert_eq!(status, 400, "{reply}");
    let violations = fake.violations();
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert!(violations[0].contains("6001"), "{violations:?}");
}

#[tokio::test]
async fn per_embed_limits_are_checked() {
    let fake = FakeDiscord::start().await;
    let fields: Vec<Value> = (0..26)
        .map(|i| json!({"name": format!("f{i}"), "value": "v"}))
        .collect();
    let body = json!({"embeds": [{
        "title": "t".repeat(257),
        "fields": fields,
        "footer": {"text": "f".repeat(2049)},
        "author": {"name": "a".repeat(257)}
    }, {
        "fields": [{"name": "n".repeat(257), "value": "v".repeat(1025)}]
    }]});
    let (status, _) = post(&fake, &messages_path(), body).await;
    assert_eq!(status, 400);
    let violations = fake.violations().join("\n");
    for pointer in [
        "/embeds/0/title",
        "/embeds/0/fields",
        "/embeds/0/footer/text",
        "/embeds/0/author/name",
        "/embeds/1/fields/0/name",
        "/embeds/1/fields/0/value",
    ] {
        assert!(violations.contains(pointer), "{pointer} in:\n{violations}");
    }
}

#[tokio::test]
async fn an_empty_message_is_rejected_like_discord() {
    let fake = FakeDiscord::start().await;
    let (status, reply) = post(&fake, &messages_path(), json!({"content": ""})).await;
    assert_eq!(status, 400);
    assert_eq!(reply["code"], 50006);
    assert_eq!(fake.violations().len(), 1);
}

#[tokio::test]
async fn a_body_that_is_not_json_is_rejected() {
    let fake = FakeDiscord::start().await;
    let response = client()
        .post(format!("{}/api/v10{}", fake.base_url(), messages_path()))
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    assert_eq!(fake.violations().len(), 1);
    assert_eq!(fake.requests()[0].body, json!("{not json"));
}

#[tokio::test]
async fn nonce_with_enforce_nonce_returns_the_existing_message_and_stores_one() {
    let fake = FakeDiscord::start().await;
    let body = json!({"content": "once", "nonce": "n-42", "enforce_nonce": true});
    let (s1, first) = post(&fake, &messages_path(), body.clone()).await;
    let (s2, second) = post(&fake, &messages_path(), body).await;
    assert_eq!((s1, s2), (200, 200));
    assert_eq!(first["id"], second["id"]);
    assert_eq!(first["nonce"], "n-42");
    assert_eq!(fake.messages(CHANNEL).len(), 1);

    // Without enforce_nonce, or in another channel, a new message is created.
    let (_, third) = post(
        &fake,
        &messages_path(),
        json!({"content": "again", "nonce": "n-42"}),
    )
    .await;
    assert_ne!(third["id"], first["id"]);
    let (_, other) = post(
        &fake,
        "/channels/1200000000000000002/messages",
        json!({"content": "x", "nonce": "n-42", "enforce_nonce": true}),
    )
    .await;
    assert_ne!(other["id"], first["id"]);
    assert_eq!(fake.messages(CHANNEL).len(), 2);
    assert_eq!(fake.messages("1200000000000000002").len(), 1);
    fake.assert_no_violations();
}

#[tokio::test]
async fn patch_edits_apply_to_the_stored_message() {
    let fake = FakeDiscord::start().await;
    let (_, created) = post(
        &fake,
        &messages_path(),
        json!({"content": "firing", "embeds": [{"title": "Alert", "color": 15158332}]}),
    )
    .await;
    let id = created["id"].as_str().unwrap().to_string();
    let (status, edited) = patch(
        &fake,
        &format!("{}/{id}", messages_path()),
        json!({"content": "resolved", "embeds": [{"title": "Resolved", "color": 3066993}]}),
    )
    .await;
    assert_eq!(status, 200, "{edited}");
    assert_eq!(edited["id"], created["id"]);
    assert_eq!(edited["content"], "resolved");
    assert!(edited["edited_timestamp"].is_string());
    let message: serenity::model::channel::Message =
        serde_json::from_value(edited).expect("serenity accepts the edited message");
    assert!(message.edited_timestamp.is_some());

    let stored = fake.messages(CHANNEL);
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].edits, 1);
    assert_eq!(stored[0].body["content"], "resolved");
    assert_eq!(stored[0].body["embeds"][0]["title"], "Resolved");

    let (status, reply) = patch(
        &fake,
        &format!("{}/1999999999999999999", messages_path()),
        json!({"content": "x"}),
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(reply["code"], 10008);

    let (status, _) = patch(
        &fake,
        &format!("{}/{id}", messages_path()),
        json!({"content": "c".repeat(2001)}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(fake.messages(CHANNEL)[0].body["content"], "resolved");
    assert_eq!(fake.violations().len(), 1);
}

#[tokio::test]
async fn webhook_execute_with_wait_returns_a_message_and_without_wait_204() {
    let fake = FakeDiscord::start().await;
    let webhook = "/webhooks/1300000000000000001/secret-token";
    let (status, _, reply) = send(
        &fake,
        reqwest::Method::POST,
        &format!("{webhook}?wait=true"),
        Some(json!({"content": "hello", "username": "botwatch", "embeds": [{"title": "t"}]})),
    )
    .await;
    assert_eq!(status, 200, "{reply}");
    let message: serenity::model::channel::Message =
        serde_json::from_value(reply.clone()).expect("serenity accepts the webhook message");
    assert_eq!(message.content, "hello");
    assert!(message.webhook_id.is_some());

    let (status, _, reply) = send(
        &fake,
        reqwest::Method::POST,
        webhook,
        Some(json!({"content": "no wait"})),
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(reply, Value::Null);

    let stored = fake.messages("webhook:1300000000000000001");
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[1].body["content"], "no wait");
    assert_eq!(fake.requests()[0].query.as_deref(), Some("wait=true"));

    let id = message.id.get();
    let (status, edited) = patch(
        &fake,
        &format!("{webhook}/messages/{id}"),
        json!({"content": "edited"}),
    )
    .await;
    assert_eq!(status, 200, "{edited}");
    assert_eq!(
        fake.messages("webhook:1300000000000000001")[0].body["content"],
        "edited"
    );
    fake.assert_no_violations();
}

#[tokio::test]
async fn a_scripted_rate_limit_is_answered_429_with_body_and_headers_then_the_next_request_succeeds(
) {
    let fake = FakeDiscord::start().await;
    fake.fail_next(
        1,
        Failure::RateLimited {
            retry_after: 1.5,
            global: false,
            in_body: true,
            in_header: true,
        },
    );
    let (status, headers, body) = send(
        &fake,
        reqwest::Method::POST,
        &messages_path(),
        Some(json!({"content": "hi"})),
    )
    .await;
    assert_eq!(status, 429);
    assert_eq!(body["message"], "You are being rate limited.");
    assert_eq!(body["retry_after"], 1.5);
    assert_eq!(body["global"], false);
    assert_eq!(body["code"], 0);
    let header = |name: &str| headers.get(name).map(|v| v.to_str().unwrap().to_string());
    assert_eq!(header("retry-after").as_deref(), Some("2"));
    assert_eq!(header("x-ratelimit-reset-after").as_deref(), Some("1.5"));
    assert_eq!(header("x-ratelimit-limit").as_deref(), Some("5"));
    assert_eq!(header("x-ratelimit-remaining").as_deref(), Some("0"));
    assert_eq!(header("x-ratelimit-scope").as_deref(), Some("user"));
    assert_eq!(header("x-ratelimit-global"), None);
    assert!(fake.messages(CHANNEL).is_empty());

    let (status, _) = post(&fake, &messages_path(), json!({"content": "hi"})).await;
    assert_eq!(status, 200);
    assert_eq!(fake.messages(CHANNEL).len(), 1);
    let statuses: Vec<u16> = fake.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [429, 200]);
}

#[tokio::test]
async fn a_global_rate_limit_can_be_header_only_or_body_only() {
    let fake = FakeDiscord::start().await;
    fake.fail_next(
        1,
        Failure::RateLimited {
            retry_after: 0.25,
            global: true,
            in_body: false,
            in_header: true,
        },
    );
    fake.fail_next(
        1,
        Failure::RateLimited {
            retry_after: 3.0,
            global: true,
            in_body: true,
            in_header: false,
        },
    );
    let (status, headers, body) = send(
        &fake,
        reqwest::Method::POST,
        &messages_path(),
        Some(json!({"content": "a"})),
    )
    .await;
    assert_eq!(status, 429);
    assert_eq!(
        body,
        json!({"message": "You are being rate limited.", "code": 0})
    );
    assert_eq!(headers["retry-after"], "1");
    assert_eq!(headers["x-ratelimit-scope"], "global");
    assert_eq!(headers["x-ratelimit-global"], "true");

    let (status, headers, body) = send(
        &fake,
        reqwest::Method::POST,
        &messages_path(),
        Some(json!({"content": "a"})),
    )
    .await;
    assert_eq!(status, 429);
    assert_eq!(body["retry_after"], 3.0);
    assert_eq!(body["global"], true);
    assert!(headers.get("retry-after").is_none());
}

#[tokio::test]
async fn server_errors_and_arbitrary_statuses_can_be_injected() {
    let fake = FakeDiscord::start().await;
    fake.fail_next(2, Failure::ServerError(502));
    fake.fail_next(
        1,
        Failure::Status(
            403,
            json!({"message": "Missing Permissions", "code": 50013}),
        ),
    );
    let body = json!({"content": "x"});
    let (a, _) = post(&fake, &messages_path(), body.clone()).await;
    let (b, _) = post(&fake, &messages_path(), body.clone()).await;
    let (c, reply) = post(&fake, &messages_path(), body.clone()).await;
    let (d, _) = post(&fake, &messages_path(), body).await;
    assert_eq!((a, b, c, d), (502, 502, 403, 200));
    assert_eq!(reply["code"], 50013);
    assert_eq!(fake.messages(CHANNEL).len(), 1);
    assert_eq!(fake.requests().len(), 4);
}

#[tokio::test]
async fn a_delay_slows_the_answer_and_then_processes_it() {
    let fake = FakeDiscord::start().await;
    fake.fail_next(1, Failure::Delay(Duration::from_millis(300)));
    let started = Instant::now();
    let (status, _) = post(&fake, &messages_path(), json!({"content": "slow"})).await;
    assert_eq!(status, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(fake.messages(CHANNEL).len(), 1);
}

#[tokio::test]
async fn a_dropped_connection_gets_no_answer() {
    let fake = FakeDiscord::start().await;
    fake.fail_next(1, Failure::DropConnection);
    let result = client()
        .post(format!("{}/api/v10{}", fake.base_url(), messages_path()))
        .json(&json!({"content": "lost"}))
        .send()
        .await;
    let error = result.expect_err("the connection is closed without an answer");
    assert!(!error.is_timeout(), "{error:?}");
    assert!(fake.messages(CHANNEL).is_empty());
    assert_eq!(fake.requests()[0].status, 0);

    let (status, _) = post(&fake, &messages_path(), json!({"content": "next"})).await;
    assert_eq!(status, 200);
}

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
