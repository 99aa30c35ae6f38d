//! The JSON objects the fake answers with: Discord's Message and ApplicationCommand objects,
//! complete enough for serenity to deserialize them.

use serde_json::{json, Value};

use super::state::Msg;
use super::BOT_USER_ID;

/// `value` if it is a positive integer that fits a snowflake, else `fallback`.
///
/// Tests may use names such as `alerts` for channels; the answer still needs a snowflake.
pub(super) fn snowflake_or(value: &str, fallback: &str) -> String {
    match value.parse::<u64>() {
        Ok(n) if n > 0 => n.to_string(),
        _ => fallback.to_string(),
    }
}

/// `value` without its `null` object fields, at any depth (Discord omits them).
fn strip_nulls(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), strip_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(strip_nulls).collect()),
        other => other.clone(),
    }
}

/// The Message object Discord would answer with.
pub(super) fn render_message(msg: &Msg) -> Value {
    let body = &msg.stored.body;
    let components = body
        .get("components")
        .filter(|c| c.is_array())
        .map(strip_nulls)
        .unwrap_or_else(|| json!([]));
    let author_id = msg.webhook_id.as_deref().unwrap_or(BOT_USER_ID);
    let mut message = json!({
        "id": msg.stored.id,
        "channel_id": msg.channel_id,
        "author": {
            "id": author_id,
            "username": "botwatch-fake",
            "discriminator": "0000",
            "avatar": null,
            "bot": true,
            "global_name": null,
        },
        "content": body.get("content").and_then(Value::as_str).unwrap_or(""),
        "timestamp": msg.timestamp,
        "edited_timestamp": msg.edited_timestamp,
        "tts": body.get("tts").and_then(Value::as_bool).unwrap_or(false),
        "mention_everyone": false,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": render_embeds(body),
        "pinned": false,
        "type": 0,
        "flags": body.get("flags").and_then(Value::as_u64).unwrap_or(0),
        "components": components,
    });
    if let Some(reference) = body.get("message_reference").filter(|r| r.is_object()) {
        // A reply (type 19) echoes the reference, with the channel filled in.
        message["type"] = json!(19);
        message["message_reference"] = render_reference(reference, &msg.channel_id);
    }
    if let Some(nonce) = body.get("nonce").filter(|n| !n.is_null()) {
        message["nonce"] = nonce.clone();
    }
    if let Some(webhook) = &msg.webhook_id {
        message["webhook_id"] = json!(webhook);
    }
    message
}

/// The embeds of a message body as Discord returns them: no nulls, `type` defaulting to rich.
fn render_embeds(body: &Value) -> Vec<Value> {
    body.get("embeds")
        .and_then(Value::as_array)
        .map(|embeds| {
            embeds
                .iter()
                .map(|e| {
                    let mut e = strip_nulls(e);
                    if let Some(map) = e.as_object_mut() {
                        map.entry("type").or_insert_with(|| json!("rich"));
                    }
                    e
                })
                .collect()
        })
        .unwrap_or_default()
}

fn render_reference(reference: &Value, channel_id: &str) -> Value {
    json!({
        "type": 0,
        "message_id": reference.get("message_id").cloned().unwrap_or(Value::Null),
        "channel_id": reference
            .get("channel_id")
            .filter(|c| !c.is_null())
            .cloned()
            .unwrap_or_else(|| json!(channel_id)),
        "guild_id": reference.get("guild_id").cloned().unwrap_or(Value::Null),
    })
}

/// The ApplicationCommand object Discord would answer a registration with.
pub(super) fn command_json(
    id: String,
    application: &str,
    guild: Option<&str>,
    body: &Value,
) -> Value {
    let mut command = json!({
        "id": id,
        "application_id": snowflake_or(application, "1"),
        "version": id,
        "type": body.get("type").and_then(Value::as_u64).unwrap_or(1),
        "name": body.get("name").cloned().unwrap_or(json!("")),
        "description": body.get("description").and_then(Value::as_str).unwrap_or(""),
        "options": body.get("options").filter(|o| o.is_array()).cloned().unwrap_or(json!([])),
        "default_member_permissions": null,
        "dm_permission": body.get("dm_permission").and_then(Value::as_bool).unwrap_or(true),
        "nsfw": false,
    });
    if let Some(guild) = guild {
        command["guild_id"] = json!(guild);
    }
    command
}
