//! The JSON Schema of `rules.yaml`, for editors (the YAML language server completes and checks
//! rules with it). `botwatch schema` prints it; `rules.schema.json` is the shipped copy.
//!
//! The loader reads rules key by key to report every mistake at once, so these types exist for
//! the schema alone; a test keeps their keys equal to the loader's.

use std::collections::BTreeMap;

use schemars::JsonSchema;

/// A botwatch rules file.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[allow(dead_code)] // only the schema is derived from these types
pub struct RulesFile {
    /// Settings every rule takes unless it sets them itself.
    defaults: Option<Defaults>,
    /// The rules.
    rules: Vec<RuleSpec>,
}

/// Defaults for every rule: the settings rules and defaults share.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[allow(dead_code)]
struct Defaults {
    #[serde(flatten)]
    shared: Shared,
}

/// The settings a rule may take from `defaults:`.
#[derive(JsonSchema)]
#[allow(dead_code)]
struct Shared {
    /// How long the condition must hold before the alert fires, e.g. `5m`.
    #[serde(rename = "for")]
    pending_for: Option<String>,
    /// How long an alert keeps firing after recovery, e.g. `10m`.
    keep_firing_for: Option<String>,
    /// Reminder interval while firing, e.g. `4h`.
    repeat_every: Option<String>,
    /// How urgent the alert is (default `warning`).
    severity: Option<Severity>,
    /// Static labels shown with the alert (a rule's are added to the defaults').
    labels: Option<BTreeMap<String, String>>,
    /// Only these bot ids.
    bots: Option<Vec<String>>,
}

/// How urgent an alert is.
#[derive(JsonSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
enum Severity {
    /// Worth knowing.
    Info,
    /// Needs attention soon.
    Warning,
    /// Needs attention now.
    Critical,
}

/// What a rule is evaluated over.
#[derive(JsonSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
enum Each {
    /// Once per bot.
    Bot,
    /// Once per bot and platform, with `platform` bound.
    Platform,
}

/// One alert rule.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
#[allow(dead_code)]
struct RuleSpec {
    /// Unique name: letters, digits, `_`, `-`, `.`.
    name: String,
    /// The problem condition (CEL), e.g. `lineQuotaConsumption > 0.8 * lineQuota`.
    when: String,
    /// The recovery condition (CEL); default: `!when`.
    recover_when: Option<String>,
    #[serde(flatten)]
    shared: Shared,
    /// One-line text (Jinja), at most 256 characters rendered.
    summary: Option<String>,
    /// Longer text (Jinja), at most 4096 characters rendered.
    description: Option<String>,
    /// The current value as text (Jinja), shown on the alert card.
    value: Option<String>,
    /// `platform`: one alert per platform.
    each: Option<Each>,
    /// A destination name of the config's `discord.destinations`.
    channel: Option<String>,
}

/// The schema, pretty-printed.
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(RulesFile);
    serde_json::to_string_pretty(&schema).unwrap_or_default() + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(schema: &serde_json::Value, definition: &str) -> Vec<String> {
        let mut keys: Vec<String> = schema["$defs"][definition]["properties"]
            .as_object()
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default();
        keys.sort();
        keys
    }

    #[test]
    fn the_schema_knows_exactly_the_keys_the_loader_knows() {
        let schema: serde_json::Value = serde_json::from_str(&json_schema()).unwrap();
        let mut rule_keys: Vec<String> = crate::rules::draft::RULE_KEYS
            .iter()
            .map(|k| k.to_string())
            .collect();
        rule_keys.sort();
        assert_eq!(keys(&schema, "RuleSpec"), rule_keys);
        let mut default_keys: Vec<String> = crate::rules::draft::DEFAULT_KEYS
            .iter()
            .map(|k| k.to_string())
            .collect();
        default_keys.sort();
        assert_eq!(keys(&schema, "Defaults"), default_keys);
    }

    #[test]
    fn the_shipped_schema_file_is_up_to_date() {
        let shipped =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/rules.schema.json"))
                .unwrap();
        assert!(
            shipped == json_schema(),
            "run `botwatch schema > rules.schema.json`"
        );
    }
}
