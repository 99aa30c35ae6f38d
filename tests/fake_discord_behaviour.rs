//! Tests of the fake Discord itself: nonces, edits, webhooks and injected failures
//! (tests/support/discord/).

mod support;

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::discord::probe::*;
use support::discord::*;

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
async fn a_failure_aimed_at_edits_leaves_other_requests_alone() {
    let fake = FakeDiscord::start().await;
    fake.fail_next_where(1, |r| r.method == "PATCH", Failure::ServerError(503));
    let (status, created) = post(&fake, &messages_path(), json!({"content": "a"})).await;
    assert_eq!(status, 200, "the post is not aimed at");
    let edit = format!("{}/{}", messages_path(), created["id"].as_str().unwrap());
    assert_eq!(patch(&fake, &edit, json!({"content": "b"})).await.0, 503);
    assert_eq!(patch(&fake, &edit, json!({"content": "c"})).await.0, 200);
}

#[tokio::test]
async fn a_late_answer_the_client_gave_up_on_stays_unanswered_but_stored() {
    let fake = FakeDiscord::start().await;
    fake.fail_next(1, Failure::LateAnswer(Duration::from_secs(5)));
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let url = format!("{}/api/v10{}", fake.base_url(), messages_path());
    let sent = impatient
        .post(url)
        .header("Authorization", "Bot test-token")
        .json(&json!({"content": "late"}))
        .send()
        .await;
    assert!(sent.is_err(), "the client timed out");
    let request = &fake.requests()[0];
    assert_eq!((request.status, request.answered), (200, false));
    assert_eq!(fake.messages(CHANNEL).len(), 1);
    post(&fake, &messages_path(), json!({"content": "on time"})).await;
    assert!(fake.requests()[1].answered);
}

#[tokio::test]
async fn a_channel_takes_five_messages_per_window_and_says_so_in_its_headers() {
    let fake = FakeDiscord::start().await;
    let mut remaining = Vec::new();
    for i in 0..5 {
        let (status, headers, _) = send(
            &fake,
            reqwest::Method::POST,
            &messages_path(),
            Some(json!({"content": format!("m{i}")})),
        )
        .await;
        assert_eq!(status, 200);
        remaining.push(
            headers["x-ratelimit-remaining"]
                .to_str()
                .unwrap()
                .to_owned(),
        );
        assert_eq!(headers["x-ratelimit-limit"], "5");
    }
    assert_eq!(remaining, ["4", "3", "2", "1", "0"]);
    let (status, headers, body) = send(
        &fake,
        reqwest::Method::POST,
        &messages_path(),
        Some(json!({"content": "sixth"})),
    )
    .await;
    assert_eq!(status, 429);
    let retry_after = body["retry_after"].as_f64().unwrap();
    assert!(retry_after > 0.0 && retry_after <= 5.0, "{body}");
    assert_eq!(body["global"], false);
    assert_eq!(headers["x-ratelimit-scope"], "user");
    assert_eq!(fake.messages(CHANNEL).len(), 5, "the sixth was not posted");
    // Edits have a bucket of their own.
    let first = fake.messages(CHANNEL)[0].id.clone();
    let edit = format!("{}/{first}", messages_path());
    assert_eq!(patch(&fake, &edit, json!({"content": "e"})).await.0, 200);
    assert_eq!((fake.rate_limited(), fake.invalid_requests()), (1, 1));
}

#[tokio::test]
async fn past_the_global_limit_in_one_second_any_route_is_limited() {
    // Discord's is 50 a second; five here, so that eight requests surely fit in one second.
    let limits = RateLimits {
        global_per_second: 5,
        ..RateLimits::discord()
    };
    // The first body checked compiles the schema's validator, which takes a while in a debug
    // build: done here on another fake, so that the eight requests fit in one second.
    let warm_up = FakeDiscord::start().await;
    post(&warm_up, &messages_path(), json!({"content": "warm up"})).await;
    let fake = FakeDiscord::start_with(limits).await;
    let mut answers = Vec::new();
    for i in 0..8 {
        // A channel each, so that no channel's own window is the limit.
        let path = format!("/channels/{}/messages", 1_200_000_000_000_000_100u64 + i);
        let (status, headers, body) = send(
            &fake,
            reqwest::Method::POST,
            &path,
            Some(json!({"content": "x"})),
        )
        .await;
        answers.push((
            status,
            headers.get("x-ratelimit-global").is_some(),
            body["global"].clone(),
        ));
    }
    let statuses: Vec<u16> = answers.iter().map(|a| a.0).collect();
    assert_eq!(statuses, [200, 200, 200, 200, 200, 429, 429, 429]);
    assert!(
        answers[5..].iter().all(|a| a.1 && a.2 == true),
        "{answers:?}"
    );
    assert_eq!(fake.rate_limited(), 3);
}
