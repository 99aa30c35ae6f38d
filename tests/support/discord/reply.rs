//! The answers the fake sends: a status, an optional JSON body and extra headers, including
//! Discord's error bodies (404s and the nested "Invalid Form Body" error object).

use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};

use super::validate::Problem;

/// An answer, kept as data until the end so the handler can record its status.
pub(super) struct Reply {
    pub(super) status: u16,
    body: Option<Value>,
    pub(super) headers: Vec<(&'static str, String)>,
}

impl Reply {
    pub(super) fn json(status: u16, body: Value) -> Reply {
        Reply {
            status,
            body: Some(body),
            headers: Vec::new(),
        }
    }

    pub(super) fn no_content() -> Reply {
        Reply {
            status: 204,
            body: None,
            headers: Vec::new(),
        }
    }

    pub(super) fn not_found() -> Reply {
        Reply::json(404, json!({"message": "404: Not Found", "code": 0}))
    }

    pub(super) fn unknown_message() -> Reply {
        Reply::json(404, json!({"message": "Unknown Message", "code": 10008}))
    }

    /// 400 for a body Discord would reject: "Cannot send an empty message" (50006) when that is
    /// the only problem, else "Invalid Form Body" (50035) with every problem.
    pub(super) fn invalid_body(problems: &[Problem]) -> Reply {
        if problems.iter().all(|p| p.code == "EMPTY_MESSAGE") {
            return Reply::json(
                400,
                json!({"message": "Cannot send an empty message", "code": 50006}),
            );
        }
        Reply::json(
            400,
            json!({
                "message": "Invalid Form Body",
                "code": 50035,
                "errors": discord_errors(problems),
            }),
        )
    }

    pub(super) fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = match self.body {
            Some(body) => (status, Json(body)).into_response(),
            None => status.into_response(),
        };
        for (name, value) in self.headers {
            if let Ok(value) = HeaderValue::from_str(&value) {
                response
                    .headers_mut()
                    .insert(HeaderName::from_static(name), value);
            }
        }
        response
    }
}

/// Discord's nested error object: `{"embeds": {"0": {"color": {"_errors": [...]}}}}`.
fn discord_errors(problems: &[Problem]) -> Value {
    let mut root = Map::new();
    for p in problems {
        let mut node = &mut root;
        for segment in p.pointer.split('/').skip(1) {
            let key = segment.replace("~1", "/").replace("~0", "~");
            let entry = node.entry(key).or_insert_with(|| json!({}));
            if !entry.is_object() {
                *entry = json!({});
            }
            node = entry.as_object_mut().expect("just made an object");
        }
        let errors = node.entry("_errors").or_insert_with(|| json!([]));
        if let Some(list) = errors.as_array_mut() {
            list.push(json!({"code": p.code, "message": p.message}));
        }
    }
    Value::Object(root)
}
