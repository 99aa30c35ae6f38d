//! One rule's `key: value` pairs turned into a compiled [`Rule`], every mistake reported at
//! its own position. Keys are read one by one, so a rule with three mistakes shows three.

use std::collections::BTreeMap;
use std::time::Duration;

use super::diagnostic::{did_you_mean, Position, Report};
use super::eval::{on_sample, Truth};
use super::expr::{ExprError, Expression};
use super::fields::{self, FieldError};
use super::file::Defaults;
use super::rule::{Each, Rule, Severity};
use super::source::{Mapping, Node, TextOrigin};
use super::template::{Template, TemplateError};
use super::vars;

pub(crate) const RULE_KEYS: [&str; 14] = [
    "name",
    "when",
    "recover_when",
    "for",
    "keep_firing_for",
    "repeat_every",
    "severity",
    "labels",
    "summary",
    "description",
    "value",
    "each",
    "bots",
    "channel",
];
pub(crate) const DEFAULT_KEYS: [&str; 6] = [
    "for",
    "keep_firing_for",
    "repeat_every",
    "severity",
    "labels",
    "bots",
];

/// Longest summary, in characters (a Discord embed title holds 256).
const MAX_SUMMARY_CHARS: usize = 256;
/// Longest value, in characters (a Discord embed field holds 1024).
const MAX_VALUE_CHARS: usize = 1024;
/// Longest description, in characters (a Discord embed description holds 4096).
const MAX_DESCRIPTION_CHARS: usize = 4096;

fn unknown_key(report: &mut Report, at: Position, key: &str, known: &[&str]) {
    let hint = did_you_mean(key, known.iter().copied())
        .map(|s| format!("did you mean `{s}`?"))
        .unwrap_or_else(|| format!("known keys: {}", known.join(", ")));
    report.error(at, format!("unknown key `{key}`"), Some(hint));
}

fn keep<T>(report: &mut Report, at: Position, read: Result<T, FieldError>) -> Option<T> {
    read.map_err(|(message, hint)| report.error(at, message, hint))
        .ok()
}

/// Reads the `defaults:` block.
pub(crate) fn read_defaults(mapping: &Mapping, report: &mut Report) -> Defaults {
    report.set_rule(None);
    let mut defaults = Defaults::default();
    for (key, node) in &mapping.entries {
        let at = node.position;
        match key.name.as_str() {
            "for" => defaults.pending_for = keep(report, at, fields::duration(node, "for")),
            "keep_firing_for" => {
                defaults.keep_firing_for =
                    keep(report, at, fields::duration(node, "keep_firing_for"))
            }
            "repeat_every" => {
                defaults.repeat_every = keep(report, at, fields::duration(node, "repeat_every"))
            }
            "severity" => defaults.severity = keep(report, at, fields::severity(node)),
            "labels" => {
                defaults.labels = keep(report, at, fields::labels(node)).unwrap_or_default()
            }
            "bots" => defaults.bots = keep(report, at, fields::bot_ids(node)),
            other => unknown_key(report, key.position, other, &DEFAULT_KEYS),
        }
    }
    defaults
}

/// The keys of one rule, typed but not yet compiled.
#[derive(Default)]
struct Draft<'a> {
    name: Option<(String, Position)>,
    when: Option<&'a Node>,
    recover_when: Option<&'a Node>,
    pending_for: Option<Duration>,
    keep_firing_for: Option<Duration>,
    repeat_every: Option<Duration>,
    severity: Option<Severity>,
    labels: Option<BTreeMap<String, String>>,
    summary: Option<&'a Node>,
    description: Option<&'a Node>,
    value: Option<&'a Node>,
    each: Option<Each>,
    bots: Option<Vec<String>>,
    channel: Option<String>,
}

/// The name of a rule and where it was written, for duplicate-name errors.
pub(crate) type NameAt = (String, Position);

/// Reads and compiles one rule: the rule, or `None` when it has mistakes (all reported), and
/// its name when it has a valid one (even if the rest has mistakes).
pub(crate) fn read_rule(
    mapping: &Mapping,
    at: Position,
    defaults: &Defaults,
    file_text: &str,
    report: &mut Report,
) -> (Option<Rule>, Option<NameAt>) {
    let draft = read_keys(mapping, report);
    let Some(name_at) = draft.name.clone() else {
        // A name that is there but invalid was reported already.
        if !mapping.entries.iter().any(|(key, _)| key.name == "name") {
            report.set_rule(None);
            report.error(
                at,
                "a rule without `name`",
                Some("give every rule a unique `name:`".into()),
            );
        }
        return (None, None);
    };
    (
        compile(draft, at, defaults, file_text, report),
        Some(name_at),
    )
}

fn compile(
    draft: Draft<'_>,
    at: Position,
    defaults: &Defaults,
    file_text: &str,
    report: &mut Report,
) -> Option<Rule> {
    let before = report.error_count();
    let (name, _) = draft.name.clone()?;
    let Some(when_node) = draft.when else {
        report.error(
            at,
            "a rule without `when`",
            Some(
                "add the problem condition, e.g. `when: lineQuotaConsumption > 0.8 * lineQuota`"
                    .into(),
            ),
        );
        return None;
    };
    let each = draft.each.unwrap_or(Each::Bot);
    let schema = vars::schema(each == Each::Platform);
    let compile_expr = |node: &Node, report: &mut Report| {
        let text = fields::text(node, "when").ok()?;
        let expression = Expression::compile(&text, &schema)
            .map_err(|errors| expr_errors(report, node, file_text, errors))
            .ok()?;
        match on_sample(&expression, each == Each::Platform) {
            Truth::True
            | Truth::False
            | Truth::Unknown {
                missing_data: true, ..
            } => Some(expression),
            Truth::Unknown { reason, .. } => {
                let hint = "numbers are decimals; compare them (`lineQuota > 0`), and use int(x) where an integer is needed";
                report.error(
                    TextOrigin::of(node, file_text).at(1, 0),
                    format!("on a sample where every field is present, {reason}"),
                    Some(hint.into()),
                );
                None
            }
        }
    };
    let when = compile_expr(when_node, report);
    let recover_when = draft.recover_when.map(|node| compile_expr(node, report));
    let compile_template = |node: &Node, max: usize, report: &mut Report| {
        let text = fields::text(node, "summary").ok()?;
        Template::compile(&text, &schema, each == Each::Platform, max)
            .map_err(|e| template_error(report, node, file_text, &text, e))
            .ok()
    };
    let summary = match draft.summary {
        Some(node) => compile_template(node, MAX_SUMMARY_CHARS, report),
        None => Template::compile(&default_summary(&name, each), &schema, false, usize::MAX).ok(),
    };
    let description = draft
        .description
        .map(|node| compile_template(node, MAX_DESCRIPTION_CHARS, report));
    let value = draft
        .value
        .map(|node| compile_template(node, MAX_VALUE_CHARS, report));
    let mut labels = defaults.labels.clone();
    labels.extend(draft.labels.unwrap_or_default());
    if each == Each::Platform && labels.contains_key("platform") {
        report.error(
            at,
            "label `platform` is set by `each: platform`",
            Some("rename the label".into()),
        );
    }
    if report.error_count() > before {
        return None;
    }
    Some(Rule {
        name,
        when: when?,
        recover_when: recover_when.flatten(),
        pending_for: draft
            .pending_for
            .or(defaults.pending_for)
            .unwrap_or_default(),
        keep_firing_for: draft
            .keep_firing_for
            .or(defaults.keep_firing_for)
            .unwrap_or_default(),
        repeat_every: draft
            .repeat_every
            .or(defaults.repeat_every)
            .filter(|d| !d.is_zero()),
        severity: draft
            .severity
            .or(defaults.severity)
            .unwrap_or(Severity::Warning),
        labels,
        summary: summary?,
        description: description.flatten(),
        value: value.flatten(),
        each,
        bots: draft.bots.or_else(|| defaults.bots.clone()),
        channel: draft.channel,
    })
}

fn read_keys<'a>(mapping: &'a Mapping, report: &mut Report) -> Draft<'a> {
    let mut draft = Draft::default();
    // The name first, so that every other error is attributed to the rule.
    let name = mapping.entries.iter().find(|(k, _)| k.name == "name");
    report.set_rule(None);
    if let Some((_, node)) = name {
        if let Some(name) = keep(report, node.position, fields::text(node, "name")) {
            report.set_rule(Some(&name));
            if fields::is_identifier(&name) {
                draft.name = Some((name, node.position));
            } else {
                report.error(
                    node.position,
                    "a rule name may only have letters, digits, `_`, `-` and `.`",
                    Some("e.g. `line-quota-high`".into()),
                );
            }
        }
    }
    for (key, node) in &mapping.entries {
        let at = node.position;
        match key.name.as_str() {
            "name" => {}
            "when" => draft.when = Some(node),
            "recover_when" => draft.recover_when = Some(node),
            "summary" => draft.summary = Some(node),
            "description" => draft.description = Some(node),
            "value" => draft.value = Some(node),
            "for" => draft.pending_for = keep(report, at, fields::duration(node, "for")),
            "keep_firing_for" => {
                draft.keep_firing_for = keep(report, at, fields::duration(node, "keep_firing_for"))
            }
            "repeat_every" => {
                draft.repeat_every = keep(report, at, fields::duration(node, "repeat_every"))
            }
            "severity" => draft.severity = keep(report, at, fields::severity(node)),
            "labels" => draft.labels = keep(report, at, fields::labels(node)),
            "bots" => draft.bots = keep(report, at, fields::bot_ids(node)),
            "each" => draft.each = keep(report, at, each(node)),
            "channel" => draft.channel = keep(report, at, destination_name(node)),
            other => unknown_key(report, key.position, other, &RULE_KEYS),
        }
    }
    let texts = [
        ("when", draft.when),
        ("recover_when", draft.recover_when),
        ("summary", draft.summary),
        ("description", draft.description),
        ("value", draft.value),
    ];
    for (key, node) in texts {
        let Some(node) = node else { continue };
        if let Err((message, hint)) = fields::text(node, key) {
            report.error(node.position, message, hint);
        }
    }
    draft
}

fn destination_name(node: &Node) -> Result<String, FieldError> {
    let name = fields::text(node, "channel")?;
    if fields::is_identifier(&name) {
        Ok(name)
    } else {
        Err((
            format!("`{name}` is not a destination name"),
            Some(
                "name a destination of the config's `discord.destinations`, e.g. `channel: ops`"
                    .into(),
            ),
        ))
    }
}

fn each(node: &Node) -> Result<Each, FieldError> {
    match fields::text(node, "each")?.as_str() {
        "platform" => Ok(Each::Platform),
        "bot" => Ok(Each::Bot),
        other => Err((
            format!("unknown `each: {other}`"),
            Some("use `each: platform` for one alert per platform".into()),
        )),
    }
}

fn default_summary(name: &str, each: Each) -> String {
    match each {
        Each::Platform => format!("{name} on {{{{ bot.name }}}} ({{{{ platform.label }}}})"),
        Each::Bot => format!("{name} on {{{{ bot.name }}}}"),
    }
}

fn expr_errors(report: &mut Report, node: &Node, file_text: &str, errors: Vec<ExprError>) {
    let origin = TextOrigin::of(node, file_text);
    for e in errors {
        report.error(origin.at(e.line, e.column), e.message, e.hint);
    }
}

fn template_error(report: &mut Report, node: &Node, file_text: &str, text: &str, e: TemplateError) {
    let origin = TextOrigin::of(node, file_text);
    report.error(origin.at_offset(text, e.offset), e.message, e.hint);
}
