//! Tests of the fake Discord itself: it accepts what Discord accepts and refuses, like
//! Discord, what Discord refuses (tests/support/discord/).

mod support;

use serde_json::{json, Value};
use support::discord::probe::*;
use support::discord::*;

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
            "url": "http://127.0.0.1/dashboards/1",
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
        json!({"embeds": [{"title": "x".repeat(257)}]}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(reply["code"], 50035);
    assert_eq!(reply["message"], "Invalid Form Body");
    assert!(
        reply["errors"]["embeds"]["0"]["title"]["_errors"].is_array(),
        "{reply}"
    );
    // The limit check always, and the schema too where the description is there.
    let violations = fake.violations();
    let prefix = format!("POST /api/v10{}: /embeds/0/title", messages_path());
    assert!(
        !violations.is_empty() && violations.iter().all(|v| v.starts_with(&prefix)),
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
async fn a_body_against_discords_schema_is_refused_where_the_description_is_there() {
    if !openapi_available() {
        return; // the fake said so on the test output; CI requires the description
    }
    let fake = FakeDiscord::start().await;
    let (status, reply) = post(
        &fake,
        &messages_path(),
        json!({"embeds": [{"title": "x", "color": "red"}]}),
    )
    .await;
    assert_eq!(status, 400, "{reply}");
    assert!(
        reply["errors"]["embeds"]["0"]["color"]["_errors"].is_array(),
        "{reply}"
    );
    let violations = fake.violations();
    assert!(
        violations[0].contains("/embeds/0/color") && violations[0].contains("schema"),
        "{violations:?}"
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
