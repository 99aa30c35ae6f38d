//! The Discord routes the fake understands, and what each does to the state.
//!
//! A request's body is checked first (see [`validate`](super::validate)), outside the lock;
//! one Discord would reject is answered 400 and listed as a violation without touching the
//! state. Any other route is answered 404, as Discord does.

use axum::http::Method;
use serde_json::{json, Value};

use super::render::{command_json, render_message, snowflake_or};
use super::reply::Reply;
use super::state::{Inner, Shared};
use super::timestamp::now_rfc3339;
use super::validate::{check_body, Problem};
use super::API_PREFIX;

/// A request the fake understands, with the path parameters it needs.
#[derive(Debug)]
pub(super) enum Route {
    CreateMessage {
        channel: String,
    },
    EditMessage {
        channel: String,
        message: String,
    },
    ExecuteWebhook {
        webhook: String,
        wait: bool,
    },
    EditWebhookMessage {
        webhook: String,
        token: String,
        message: String,
    },
    InteractionCallback {
        token: String,
    },
    CreateCommand {
        application: String,
        guild: Option<String>,
    },
    PutCommands {
        application: String,
        guild: Option<String>,
    },
    /// `GET /gateway/bot`: where the gateway is (see [`gateway_lookup`](super::gateway_lookup)).
    GatewayBot,
    Unknown,
}

/// Which route a request is.
pub(super) fn route(method: &Method, path: &str, query: Option<&str>) -> Route {
    let Some(rest) = path.strip_prefix(API_PREFIX) else {
        return Route::Unknown;
    };
    let segments: Vec<&str> = rest.trim_end_matches('/').split('/').skip(1).collect();
    let s = |i: usize| segments[i].to_string();
    let wait = query.is_some_and(|q| {
        q.split('&')
            .any(|pair| pair.eq_ignore_ascii_case("wait=true") || pair == "wait=1")
    });
    match (method.as_str(), segments.as_slice()) {
        ("POST", ["channels", _, "messages"]) => Route::CreateMessage { channel: s(1) },
        ("PATCH", ["channels", _, "messages", _]) => Route::EditMessage {
            channel: s(1),
            message: s(3),
        },
        ("POST", ["webhooks", _, _]) => Route::ExecuteWebhook {
            webhook: s(1),
            wait,
        },
        ("PATCH", ["webhooks", _, _, "messages", _]) => Route::EditWebhookMessage {
            webhook: s(1),
            token: s(2),
            message: s(4),
        },
        ("POST", ["interactions", _, _, "callback"]) => Route::InteractionCallback { token: s(2) },
        ("POST", ["applications", _, "commands"]) => Route::CreateCommand {
            application: s(1),
            guild: None,
        },
        ("POST", ["applications", _, "guilds", _, "commands"]) => Route::CreateCommand {
            application: s(1),
            guild: Some(s(3)),
        },
        ("PUT", ["applications", _, "commands"]) => Route::PutCommands {
            application: s(1),
            guild: None,
        },
        ("PUT", ["applications", _, "guilds", _, "commands"]) => Route::PutCommands {
            application: s(1),
            guild: Some(s(3)),
        },
        ("GET", ["gateway", "bot"]) => Route::GatewayBot,
        _ => Route::Unknown,
    }
}

/// Answers a request that was not failed on purpose. `not_json` is the parse error of a body
/// that was not JSON; Discord rejects such a body on any route it knows.
pub(super) fn answer(
    shared: &Shared,
    method: &Method,
    path: &str,
    query: Option<&str>,
    body: &Value,
    not_json: Option<String>,
) -> Reply {
    let route = route(method, path, query);
    match not_json {
        Some(error) if !matches!(route, Route::Unknown) => {
            shared
                .lock()
                .violations
                .push(format!("{method} {path}: (body): not JSON: {error}"));
            Reply::json(
                400,
                json!({"message": "The request body contains invalid JSON.", "code": 50109}),
            )
        }
        _ => process(shared, method, path, route, body),
    }
}

/// Processes a JSON request; validation happens before the lock.
fn process(shared: &Shared, method: &Method, path: &str, route: Route, body: &Value) -> Reply {
    if let Route::Unknown = route {
        return Reply::not_found();
    }
    let problems = check_body(&route, body);
    if !problems.is_empty() {
        record_violations(shared, method, path, &problems);
        return Reply::invalid_body(&problems);
    }

    let mut state = shared.lock();
    match route {
        Route::CreateMessage { channel } => create_message(&mut state, channel, body),
        Route::EditMessage { channel, message } => {
            edit_stored(&mut state, &channel, &message, body).unwrap_or_else(Reply::unknown_message)
        }
        Route::ExecuteWebhook { webhook, wait } => execute_webhook(&mut state, webhook, wait, body),
        Route::EditWebhookMessage {
            webhook,
            token,
            message,
        } => edit_webhook_message(&mut state, webhook, token, message, body),
        Route::InteractionCallback { token } => interaction_callback(&mut state, token, body),
        Route::CreateCommand { application, guild } => {
            let id = state.next_id();
            Reply::json(200, command_json(id, &application, guild.as_deref(), body))
        }
        Route::PutCommands { application, guild } => {
            put_commands(&mut state, &application, guild.as_deref(), body)
        }
        Route::GatewayBot => super::gateway_lookup::answer(&mut state),
        Route::Unknown => Reply::not_found(),
    }
}

fn record_violations(shared: &Shared, method: &Method, path: &str, problems: &[Problem]) {
    let mut state = shared.lock();
    for p in problems {
        let at = if p.pointer.is_empty() {
            "(body)"
        } else {
            &p.pointer
        };
        state
            .violations
            .push(format!("{method} {path}: {at}: {}", p.message));
    }
}

/// `POST /channels/{id}/messages`. With `enforce_nonce`, a nonce already used in the channel
/// returns the existing message instead of creating another, like Discord.
fn create_message(state: &mut Inner, channel: String, body: &Value) -> Reply {
    let enforce = body.get("enforce_nonce").and_then(Value::as_bool) == Some(true);
    let nonce = body.get("nonce").filter(|n| !n.is_null());
    if let (true, Some(nonce)) = (enforce, nonce) {
        let existing = state
            .messages
            .iter()
            .find(|m| m.stored.channel == channel && m.stored.body.get("nonce") == Some(nonce));
        if let Some(existing) = existing {
            return Reply::json(200, render_message(existing));
        }
    }
    let channel_id = snowflake_or(&channel, "1");
    let msg = state.new_message(channel, channel_id, None, body);
    let reply = render_message(&msg);
    state.messages.push(msg);
    Reply::json(200, reply)
}

/// Edits the stored message `message` of `channel`; `None` if there is no such message.
fn edit_stored(state: &mut Inner, channel: &str, message: &str, body: &Value) -> Option<Reply> {
    let msg = state
        .messages
        .iter_mut()
        .find(|m| m.stored.channel == channel && m.stored.id == message)?;
    msg.apply_edit(body);
    Some(Reply::json(200, render_message(msg)))
}

/// `POST /webhooks/{id}/{token}`: the message only comes back with `?wait=true`.
fn execute_webhook(state: &mut Inner, webhook: String, wait: bool, body: &Value) -> Reply {
    let channel_id = snowflake_or(&webhook, "1");
    let msg = state.new_message(
        format!("webhook:{webhook}"),
        channel_id.clone(),
        Some(channel_id),
        body,
    );
    let reply = render_message(&msg);
    state.messages.push(msg);
    if wait {
        Reply::json(200, reply)
    } else {
        Reply::no_content()
    }
}

/// `PATCH /webhooks/{id}/{token}/messages/{message}`: a webhook message, an interaction
/// follow-up, or the interaction's original response (by `@original` or by its id).
fn edit_webhook_message(
    state: &mut Inner,
    webhook: String,
    token: String,
    message: String,
    body: &Value,
) -> Reply {
    if message == "@original" {
        return edit_original(state, webhook, token, body);
    }
    if let Some(reply) = edit_stored(state, &format!("webhook:{webhook}"), &message, body) {
        return reply;
    }
    match state.originals.get_mut(&token) {
        Some(original) if original.stored.id == message => {
            original.apply_edit(body);
            Reply::json(200, render_message(original))
        }
        _ => Reply::unknown_message(),
    }
}

/// Edits the original response; after a deferred callback, the first edit creates it.
fn edit_original(state: &mut Inner, webhook: String, token: String, body: &Value) -> Reply {
    if let Some(original) = state.originals.get_mut(&token) {
        original.apply_edit(body);
        return Reply::json(200, render_message(original));
    }
    if !state.deferred.contains(&token) {
        return Reply::unknown_message();
    }
    let channel_id = snowflake_or(&webhook, "1");
    let mut msg = state.new_message(
        format!("interaction:{token}"),
        channel_id.clone(),
        Some(channel_id),
        body,
    );
    // The deferred "thinking" message was edited into this one.
    msg.stored.edits = 1;
    msg.edited_timestamp = Some(now_rfc3339());
    let reply = render_message(&msg);
    state.originals.insert(token, msg);
    Reply::json(200, reply)
}

/// `POST /interactions/{id}/{token}/callback`: type 4 makes its data the original response,
/// type 5 (deferred) lets the first `@original` edit create it.
fn interaction_callback(state: &mut Inner, token: String, body: &Value) -> Reply {
    state
        .callbacks
        .entry(token.clone())
        .or_default()
        .push(body.clone());
    match body.get("type").and_then(Value::as_i64) {
        Some(4) => {
            let data = match body.get("data") {
                Some(d) if d.is_object() => d.clone(),
                _ => json!({}),
            };
            let msg = state.new_message(format!("interaction:{token}"), "1".into(), None, &data);
            state.originals.insert(token, msg);
        }
        Some(5) => {
            state.deferred.insert(token);
        }
        _ => {}
    }
    Reply::no_content()
}

/// `PUT .../commands`: a bulk overwrite, answered with every command, each with a new id.
fn put_commands(state: &mut Inner, application: &str, guild: Option<&str>, body: &Value) -> Reply {
    let items = body.as_array().cloned().unwrap_or_default();
    let commands: Vec<Value> = items
        .iter()
        .map(|item| {
            let id = state.next_id();
            command_json(id, application, guild, item)
        })
        .collect();
    Reply::json(200, Value::Array(commands))
}
