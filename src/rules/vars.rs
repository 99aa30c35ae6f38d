//! The variables a rule can use, in one place: their names and shapes (for validation and
//! "did you mean"), their binding into CEL (numbers as doubles, so `x > 0.8 * y` just works)
//! and into templates (numbers as they came, so `{{ lineQuota }}` prints `1000`, not `1000.0`).
//!
//! A field the API did not send is simply not bound: CEL then fails to resolve it and the
//! evaluation is *unknown*, never zero.

use serde_json::{json, Map, Value as Json};

use crate::analytics::{Platform, Snapshot};

/// Whether the analytics API answered the last poll of a bot, as rules see it (`api.*`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApiStatus {
    /// The last poll succeeded.
    pub up: bool,
    /// Failed polls in a row (0 when `up`).
    pub consecutive_failures: u32,
    /// The last error, for messages (`None` when `up`).
    pub error: Option<String>,
    /// The kind of the last error (`timeout`, `http_status`…).
    pub error_kind: Option<&'static str>,
}

impl ApiStatus {
    /// The status after a successful poll.
    pub fn up() -> Self {
        ApiStatus {
            up: true,
            ..ApiStatus::default()
        }
    }
}

/// Everything one evaluation of the rules of one bot can see.
#[derive(Debug, Clone, Copy)]
pub struct EvalInput<'a> {
    /// The snapshot just polled; `None` after a failed poll.
    pub snapshot: Option<&'a Snapshot>,
    /// The last good snapshot before it, if any.
    pub previous: Option<&'a Snapshot>,
    /// The bot's id.
    pub bot_id: &'a str,
    /// The bot's display name.
    pub bot_name: &'a str,
    /// The state of the API for this bot.
    pub api: &'a ApiStatus,
}

/// The snapshot's fields by their API names, plus the derived quota figures.
pub(crate) fn snapshot_fields(snapshot: &Snapshot) -> Map<String, Json> {
    let mut fields = match serde_json::to_value(snapshot) {
        Ok(Json::Object(map)) => map,
        _ => Map::new(),
    };
    if let Some(ratio) = snapshot.line_quota_ratio() {
        fields.insert("lineQuotaRatio".into(), json!(ratio));
    }
    if let Some(remaining) = snapshot.line_quota_remaining() {
        fields.insert("lineQuotaRemaining".into(), json!(remaining));
    }
    fields
}

fn platform_fields(snapshot: &Snapshot, platform: Platform) -> Map<String, Json> {
    let view = snapshot.platform(platform);
    let mut fields = Map::new();
    fields.insert("name".into(), json!(platform.id()));
    fields.insert("label".into(), json!(platform.display_name()));
    let optional = [
        ("integrated", view.integrated.map(Json::from)),
        (
            "averageConversationValue",
            view.average_conversation_value.map(Json::from),
        ),
        (
            "averageConversationTime",
            view.average_conversation_time.map(Json::from),
        ),
    ];
    for (name, value) in optional {
        if let Some(value) = value {
            fields.insert(name.into(), value);
        }
    }
    fields
}

/// All variables of an evaluation as JSON, for templates and for building CEL values.
pub(crate) fn variables(input: &EvalInput<'_>, platform: Option<Platform>) -> Map<String, Json> {
    let mut vars = input.snapshot.map(snapshot_fields).unwrap_or_default();
    // `previous` only makes sense next to a current snapshot: after a failed poll, rules that
    // read snapshot data must stay unknown, and so must those that read only `previous`.
    if let (Some(previous), Some(_)) = (input.previous, input.snapshot) {
        vars.insert("previous".into(), Json::Object(snapshot_fields(previous)));
    }
    vars.insert(
        "bot".into(),
        json!({"id": input.bot_id, "name": input.bot_name}),
    );
    vars.insert(
        "api".into(),
        json!({
            "up": input.api.up,
            "consecutive_failures": input.api.consecutive_failures,
            "error": input.api.error.clone().unwrap_or_default(),
            "error_kind": input.api.error_kind.unwrap_or_default(),
        }),
    );
    if let Some(platform) = platform {
        let (current, previous) = platform_variables(input, platform);
        vars.insert("platform".into(), current);
        if let (Some(Json::Object(fields)), Some(previous)) = (vars.get_mut("previous"), previous) {
            fields.insert("platform".into(), previous);
        }
    }
    vars
}

/// `platform` and `previous.platform` for one platform: bound per platform on top of the
/// variables of the poll, which are computed once.
pub(crate) fn platform_variables(
    input: &EvalInput<'_>,
    platform: Platform,
) -> (Json, Option<Json>) {
    let current = match input.snapshot {
        Some(snapshot) => Json::Object(platform_fields(snapshot, platform)),
        // After a failed poll the platform is still known by name, just not its figures.
        None => json!({"name": platform.id(), "label": platform.display_name()}),
    };
    let previous = match (input.previous, input.snapshot) {
        (Some(previous), Some(_)) => Some(Json::Object(platform_fields(previous, platform))),
        _ => None,
    };
    (current, previous)
}

/// The shape of a variable, for checking references before anything runs.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Shape {
    /// A number, a string or a boolean (the name of its type, for messages).
    Scalar(&'static str),
    /// Something with named fields.
    Object(Vec<(String, Shape)>),
}

impl Shape {
    /// The shape of the field `name`, if there is one.
    pub(crate) fn field(&self, name: &str) -> Option<&Shape> {
        match self {
            Shape::Object(fields) => fields.iter().find(|(n, _)| n == name).map(|(_, s)| s),
            Shape::Scalar(_) => None,
        }
    }

    /// The names of the fields, for "did you mean".
    pub(crate) fn field_names(&self) -> impl Iterator<Item = &str> {
        let fields = match self {
            Shape::Object(fields) => fields.as_slice(),
            Shape::Scalar(_) => &[],
        };
        fields.iter().map(|(n, _)| n.as_str())
    }
}

fn shape_of(value: &Json) -> Shape {
    match value {
        Json::Bool(_) => Shape::Scalar("a boolean"),
        Json::Number(_) => Shape::Scalar("a number"),
        Json::String(_) => Shape::Scalar("a string"),
        Json::Object(map) => {
            Shape::Object(map.iter().map(|(k, v)| (k.clone(), shape_of(v))).collect())
        }
        Json::Null | Json::Array(_) => Shape::Scalar("a value"),
    }
}

/// The variables a rule may use: derived from a fully populated sample, so the schema can
/// never drift from what is actually bound.
pub(crate) fn schema(each_platform: bool) -> Shape {
    let sample = sample_snapshot();
    let api = ApiStatus {
        up: false,
        consecutive_failures: 3,
        error: Some("sample".into()),
        error_kind: Some("timeout"),
    };
    let input = sample_input(&sample, &api);
    shape_of(&Json::Object(variables(
        &input,
        each_platform.then_some(Platform::Line),
    )))
}

/// An evaluation input where every variable is present, for checking templates at load time.
pub(crate) fn sample_input<'a>(sample: &'a Snapshot, api: &'a ApiStatus) -> EvalInput<'a> {
    EvalInput {
        snapshot: Some(sample),
        previous: Some(sample),
        bot_id: "sample-bot",
        bot_name: "Sample bot",
        api,
    }
}

/// A snapshot with every field present (what `check` evaluates every rule on at load time).
pub fn sample_snapshot() -> Snapshot {
    Snapshot {
        line_quota: Some(1000),
        line_quota_consumption: Some(850),
        line_reply_amounts: Some(45),
        line_push_amounts: Some(12),
        line_broadcast_amounts: Some(3),
        line_program: Some("輕用量".into()),
        line_average_conversation_value: Some(8),
        line_average_conversation_time: Some(120),
        fb_average_conversation_value: Some(6),
        fb_average_conversation_time: Some(95),
        ig_average_conversation_value: Some(4),
        ig_average_conversation_time: Some(75),
        live_chat_average_conversation_value: Some(12),
        live_chat_average_conversation_time: Some(180),
        whatsapp_average_conversation_value: Some(7),
        whatsapp_average_conversation_time: Some(110),
        line_is_integration: Some(true),
        fb_is_integration: Some(true),
        instagram_is_integration: Some(false),
        live_chat_is_integration: Some(true),
        whatsapp_is_integration: Some(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_fills_every_snapshot_field() {
        // 21 fields in the API reference, plus two derived quota figures.
        assert_eq!(snapshot_fields(&sample_snapshot()).len(), 23);
    }

    #[test]
    fn the_schema_offers_platform_only_to_each_platform_rules() {
        assert!(schema(false).field("platform").is_none());
        let schema = schema(true);
        let previous = schema.field("previous").unwrap();
        assert!(previous
            .field("platform")
            .unwrap()
            .field("integrated")
            .is_some());
        assert_eq!(schema.field("lineQuota"), Some(&Shape::Scalar("a number")));
    }
}
