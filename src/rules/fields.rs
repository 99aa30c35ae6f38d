//! Reading the typed value of one `key: value` of a rule, with a precise error when the value
//! is of the wrong kind. One function per kind of value; the position is the value's own.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value as Json;

use super::diagnostic::did_you_mean;
use super::rule::Severity;
use super::source::Node;

/// Longest duration accepted anywhere in a rule.
const MAX_DURATION: Duration = Duration::from_secs(366 * 24 * 3600);

/// Why a value could not be read: message and hint.
pub(crate) type FieldError = (String, Option<String>);

fn kind(value: &Json) -> &'static str {
    match value {
        Json::Null => "nothing",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "a list",
        Json::Object(_) => "a mapping",
    }
}

/// A string. Numbers and booleans are taken as written, so `when: true` is the expression `true`.
pub(crate) fn text(node: &Node, key: &str) -> Result<String, FieldError> {
    match &node.value {
        Json::String(s) => Ok(s.clone()),
        Json::Bool(b) => Ok(b.to_string()),
        Json::Number(n) => Ok(n.to_string()),
        other => Err((
            format!("`{key}` must be a string, not {}", kind(other)),
            Some(format!(
                "quote it, or write a longer text as a block: `{key}: >-` and the text indented below"
            )),
        )),
    }
}

/// A duration such as `90s`, `5m` or `1h 30m`.
pub(crate) fn duration(node: &Node, key: &str) -> Result<Duration, FieldError> {
    let hint = || Some("write a number with a unit: `30s`, `5m`, `1h`, `1h 30m`".to_owned());
    let Json::String(written) = &node.value else {
        return Err((
            format!("`{key}` must be a duration, not {}", kind(&node.value)),
            hint(),
        ));
    };
    let parsed = humantime::parse_duration(written.trim()).map_err(|e| {
        (
            format!("`{key}`: `{written}` is not a duration ({e})"),
            hint(),
        )
    })?;
    if parsed > MAX_DURATION {
        return Err((
            format!("`{key}`: `{written}` is longer than a year"),
            Some("at most `366d`".into()),
        ));
    }
    Ok(parsed)
}

/// One of `info`, `warning`, `critical`.
pub(crate) fn severity(node: &Node) -> Result<Severity, FieldError> {
    let written = text(node, "severity")?;
    Severity::from_name(&written).ok_or_else(|| {
        let hint = did_you_mean(&written, Severity::NAMES)
            .map(|s| format!("did you mean `{s}`?"))
            .unwrap_or_else(|| "use info, warning or critical".into());
        (format!("unknown severity `{written}`"), Some(hint))
    })
}

/// A mapping of label names to values (numbers and booleans are taken as text).
pub(crate) fn labels(node: &Node) -> Result<BTreeMap<String, String>, FieldError> {
    let Json::Object(map) = &node.value else {
        return Err((
            format!("`labels` must be a mapping, not {}", kind(&node.value)),
            Some("e.g. `labels: {team: ops}`".into()),
        ));
    };
    let mut labels = BTreeMap::new();
    for (name, value) in map {
        let value = match value {
            Json::String(s) => s.clone(),
            Json::Bool(_) | Json::Number(_) => value.to_string(),
            other => {
                return Err((
                    format!("label `{name}` must be a string, not {}", kind(other)),
                    Some("a label's value is one piece of text; quote it".into()),
                ))
            }
        };
        if !is_identifier(name) {
            return Err((
                format!("label name `{name}` has characters other than letters, digits, `_`, `-` and `.`"),
                Some("rename it, e.g. `team` or `app.tier`".into()),
            ));
        }
        labels.insert(name.clone(), value);
    }
    Ok(labels)
}

/// A list of bot ids (a single id is accepted too).
pub(crate) fn bot_ids(node: &Node) -> Result<Vec<String>, FieldError> {
    let hint = || Some("e.g. `bots: [\"bot-123\", \"bot-456\"]`".to_owned());
    match &node.value {
        Json::String(id) => Ok(vec![id.clone()]),
        Json::Array(items) => items
            .iter()
            .map(|item| match item {
                Json::String(id) => Ok(id.clone()),
                Json::Number(n) => Ok(n.to_string()),
                other => Err((
                    format!("`bots` entries must be bot ids, not {}", kind(other)),
                    hint(),
                )),
            })
            .collect(),
        other => Err((
            format!("`bots` must be a list of bot ids, not {}", kind(other)),
            hint(),
        )),
    }
}

/// Whether `name` is fit to be a rule or label name.
pub(crate) fn is_identifier(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}
