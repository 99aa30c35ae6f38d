//! Evaluating every rule of a bot against one poll.
//!
//! Variables are bound once per poll (and once per platform), never per rule, and expressions
//! were compiled at load time: an evaluation is just running a compiled program. A variable
//! that is not bound (a field the API did not send) makes the result [`Truth::Unknown`].

use cel::{Context, ExecutionError};

use super::expr::{env, Expression};
use super::rule::{Each, Rule};
use std::collections::HashMap;

use serde_json::Value as Json;

use super::vars::{platform_variables, to_cel, variables, EvalInput};
use super::RuleSet;
use crate::analytics::Platform;

/// The result of one condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Truth {
    /// The condition holds.
    True,
    /// The condition does not hold.
    False,
    /// The condition cannot be decided: data is missing, or the expression failed.
    Unknown {
        /// A field or value the condition needs was not there.
        missing_data: bool,
        /// Why, for logs and `botwatch eval`.
        reason: String,
    },
}

impl Truth {
    fn negate(&self) -> Truth {
        match self {
            Truth::True => Truth::False,
            Truth::False => Truth::True,
            unknown => unknown.clone(),
        }
    }

    /// `Some(true)`, `Some(false)` or `None` for unknown.
    pub fn known(&self) -> Option<bool> {
        match self {
            Truth::True => Some(true),
            Truth::False => Some(false),
            Truth::Unknown { .. } => None,
        }
    }
}

/// One rule instance evaluated: the problem condition and the recovery condition.
#[derive(Debug)]
pub struct Evaluation<'r> {
    /// The rule.
    pub rule: &'r Rule,
    /// The platform, for `each: platform` rules.
    pub platform: Option<Platform>,
    /// Whether `when` holds.
    pub fire: Truth,
    /// Whether `recover_when` holds (or `!when` for rules without one).
    pub recover: Truth,
}

/// Evaluates every rule of `rules` that applies to the bot of `input`.
pub fn evaluate<'r>(rules: &'r RuleSet, input: &EvalInput<'_>) -> Vec<Evaluation<'r>> {
    let applicable: Vec<&Rule> = rules
        .rules
        .iter()
        .filter(|r| r.applies_to(input.bot_id))
        .collect();
    let mut out = Vec::with_capacity(applicable.len());
    let bound = Bound::new(input);
    for rule in applicable.iter().filter(|r| r.each == Each::Bot) {
        out.push(evaluate_rule(rule, None, &bound.root));
    }
    if applicable.iter().any(|r| r.each == Each::Platform) {
        for platform in Platform::ALL {
            let scope = bound.platform_scope(input, platform);
            for rule in applicable.iter().filter(|r| r.each == Each::Platform) {
                out.push(evaluate_rule(rule, Some(platform), &scope));
            }
        }
    }
    out
}

/// The variables of one poll, bound once.
struct Bound {
    root: Context<'static, 'static>,
    /// `previous` as CEL values, to extend with `platform` per platform.
    previous: Option<HashMap<String, cel::Value>>,
}

impl Bound {
    fn new(input: &EvalInput<'_>) -> Bound {
        let mut root = Context::with_env(env());
        let mut previous = None;
        for (name, value) in variables(input, None) {
            if let (true, Json::Object(fields)) = (name == "previous", &value) {
                previous = Some(fields.iter().map(|(k, v)| (k.clone(), to_cel(v))).collect());
            }
            root.add_variable_from_value(name, to_cel(&value));
        }
        Bound { root, previous }
    }

    /// The root with `platform` and `previous.platform` bound for one platform.
    fn platform_scope(&self, input: &EvalInput<'_>, platform: Platform) -> Context<'_, 'static> {
        let mut scope = self.root.new_inner_scope();
        let (current, previous_platform) = platform_variables(input, platform);
        scope.add_variable_from_value("platform", to_cel(&current));
        if let (Some(fields), Some(platform_fields)) = (&self.previous, previous_platform) {
            let mut fields = fields.clone();
            fields.insert("platform".to_owned(), to_cel(&platform_fields));
            scope.add_variable_from_value("previous", cel::Value::from(fields));
        }
        scope
    }
}

/// What `expression` gives on a sample where every field is present: a load-time check that
/// catches type errors (`'a' + 1`) and conditions that are not true or false (`lineQuota`).
pub(crate) fn on_sample(expression: &Expression, each_platform: bool) -> Truth {
    let sample = super::vars::sample_snapshot();
    let api = super::ApiStatus::up();
    let input = super::vars::sample_input(&sample, &api);
    let bound = Bound::new(&input);
    if each_platform {
        truth(
            expression,
            &bound.platform_scope(&input, Platform::Facebook),
        )
    } else {
        truth(expression, &bound.root)
    }
}

fn evaluate_rule<'r>(
    rule: &'r Rule,
    platform: Option<Platform>,
    context: &Context<'_, '_>,
) -> Evaluation<'r> {
    let fire = truth(&rule.when, context);
    let recover = match &rule.recover_when {
        Some(expression) => truth(expression, context),
        None => fire.negate(),
    };
    Evaluation {
        rule,
        platform,
        fire,
        recover,
    }
}

fn truth(expression: &Expression, context: &Context<'_, '_>) -> Truth {
    match expression.execute(context) {
        Ok(cel::Value::Bool(true)) => Truth::True,
        Ok(cel::Value::Bool(false)) => Truth::False,
        Ok(other) => Truth::Unknown {
            missing_data: false,
            reason: format!("`{}` gave {other:?}, not true or false", expression.text()),
        },
        Err(error) => {
            let missing_data = matches!(
                error,
                ExecutionError::NoSuchKey(_) | ExecutionError::UndeclaredReference(_)
            );
            let reason = match &error {
                ExecutionError::NoSuchKey(name) | ExecutionError::UndeclaredReference(name) => {
                    format!("no data for `{name}`")
                }
                other => format!("`{}` failed: {other}", expression.text()),
            };
            Truth::Unknown {
                missing_data,
                reason,
            }
        }
    }
}
