//! A plain HTTP client for testing the fake Discord itself: requests as Discord's clients
//! send them, answers as status, headers and JSON.

use std::time::Duration;

use serde_json::{json, Value};

use super::FakeDiscord;

/// The channel the probe posts to.
pub const CHANNEL: &str = "1200000000000000001";

/// A client with a generous timeout.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("reqwest client")
}

/// Sends one request with a bot token; returns status, headers and the JSON answer.
pub async fn send(
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

/// POSTs JSON.
pub async fn post(fake: &FakeDiscord, path: &str, body: Value) -> (u16, Value) {
    let (status, _, body) = send(fake, reqwest::Method::POST, path, Some(body)).await;
    (status, body)
}

/// PATCHes JSON.
pub async fn patch(fake: &FakeDiscord, path: &str, body: Value) -> (u16, Value) {
    let (status, _, body) = send(fake, reqwest::Method::PATCH, path, Some(body)).await;
    (status, body)
}

/// The messages route of [`CHANNEL`].
pub fn messages_path() -> String {
    format!("/channels/{CHANNEL}/messages")
}

/// An embed whose title and description have `chars` characters in all.
pub fn embed_with_description(chars: usize) -> Value {
    json!({"title": "t", "description": "d".repeat(chars - 1)})
}
