//! Which checks each route's request body gets: a schema of Discord's OpenAPI description
//! (see [`schema`](super::schema)) plus the limits the schema leaves out (see
//! [`limits`](super::limits)).

use serde_json::Value;

use super::limits::{command_problems, empty_message_problem, message_limit_problems};
use super::routes::Route;
use super::schema::schema_problems;

/// The interaction callback body: a route's schema, as the document has no named one for it.
const CALLBACK_SCHEMA: &str = "#/paths/~1interactions~1{interaction_id}~1{interaction_token}~1callback/post/requestBody/content/application~1json/schema";
const PUT_COMMANDS_SCHEMA: &str =
    "#/paths/~1applications~1{application_id}~1commands/put/requestBody/content/application~1json/schema";
const PUT_GUILD_COMMANDS_SCHEMA: &str = "#/paths/~1applications~1{application_id}~1guilds~1{guild_id}~1commands/put/requestBody/content/application~1json/schema";

/// Discord's interaction callback types (PONG, CHANNEL_MESSAGE_WITH_SOURCE, DEFERRED_…,
/// UPDATE_MESSAGE, AUTOCOMPLETE_RESULT, MODAL, PREMIUM_REQUIRED, LAUNCH_ACTIVITY).
const CALLBACK_TYPES: [i64; 9] = [1, 4, 5, 6, 7, 8, 9, 10, 12];

/// One problem in a request body: where (a JSON pointer), a Discord-like code, and what.
#[derive(Debug, Clone)]
pub(super) struct Problem {
    pub(super) pointer: String,
    pub(super) code: &'static str,
    pub(super) message: String,
}

pub(super) fn problem(
    pointer: impl Into<String>,
    code: &'static str,
    message: impl Into<String>,
) -> Problem {
    Problem {
        pointer: pointer.into(),
        code,
        message: message.into(),
    }
}

/// Everything Discord would reject in the body of a request to `route`; empty if none.
pub(super) fn check_body(route: &Route, body: &Value) -> Vec<Problem> {
    let mut problems = Vec::new();
    match route {
        Route::CreateMessage { .. } => {
            problems.extend(schema_problems("MessageCreateRequest", body));
            problems.extend(message_limit_problems(body, ""));
            problems.extend(empty_message_problem(body, ""));
        }
        Route::EditMessage { .. } => {
            problems.extend(schema_problems("MessageEditRequestPartial", body));
            problems.extend(message_limit_problems(body, ""));
        }
        Route::ExecuteWebhook { .. } => {
            problems.extend(schema_problems("IncomingWebhookRequestPartial", body));
            problems.extend(message_limit_problems(body, ""));
            problems.extend(empty_message_problem(body, ""));
        }
        Route::EditWebhookMessage { .. } => {
            problems.extend(schema_problems("IncomingWebhookUpdateRequestPartial", body));
            problems.extend(message_limit_problems(body, ""));
        }
        Route::InteractionCallback { .. } => problems.extend(callback_problems(body)),
        Route::CreateCommand { .. } => {
            problems.extend(schema_problems("ApplicationCommandCreateRequest", body));
            problems.extend(command_problems(body, ""));
        }
        Route::PutCommands { guild, .. } => {
            let key = if guild.is_some() {
                PUT_GUILD_COMMANDS_SCHEMA
            } else {
                PUT_COMMANDS_SCHEMA
            };
            problems.extend(schema_problems(key, body));
            if let Some(items) = body.as_array() {
                for (i, item) in items.iter().enumerate() {
                    problems.extend(command_problems(item, &format!("/{i}")));
                }
            }
        }
        Route::GatewayBot | Route::Unknown => {}
    }
    problems
}

/// An interaction callback's problems; its `data` is a message for a type 4 (new message)
/// or 7 (update message) callback, and only a new one must not be empty.
fn callback_problems(body: &Value) -> Vec<Problem> {
    let mut problems = schema_problems(CALLBACK_SCHEMA, body);
    let data = body.get("data").unwrap_or(&Value::Null);
    match body.get("type").and_then(Value::as_i64) {
        Some(4) => {
            problems.extend(message_limit_problems(data, "/data"));
            problems.extend(empty_message_problem(data, "/data"));
        }
        Some(7) => problems.extend(message_limit_problems(data, "/data")),
        Some(kind) if CALLBACK_TYPES.contains(&kind) => {}
        // The schema says so too, where it is there; a bare clone must still refuse it.
        _ if problems.is_empty() => problems.push(problem(
            "/type",
            "BASE_TYPE_CHOICES",
            format!(
                "not an interaction callback type (one of {CALLBACK_TYPES:?}): {}",
                body.get("type").unwrap_or(&Value::Null)
            ),
        )),
        _ => {}
    }
    problems
}
