//! Evaluating every rule of a bot against one poll.
//!
//! A poll's figures are converted once (see [`super::bind`]), never per rule or per platform,
//! and expressions were compiled at load time: an evaluation is just running a compiled
//! program. A variable
//! that is not bound (a field the API did not send) makes the result [`Truth::Unknown`].

use cel::{Context, ExecutionError};

use super::bind::Poll;
use super::expr::{env, Expression};
use super::rule::{Each, Rule};
use super::vars::EvalInput;
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
    let applies = |rule: &&'r Rule| rule.applies_to(input.bot_id);
    let per_bot = rules.rules.iter().filter(|r| r.each == Each::Bot);
    let per_platform = || rules.rules.iter().filter(|r| r.each == Each::Platform);
    let mut out = Vec::with_capacity(rules.rules.len());
    let poll = Poll::new(input);
    let scope = poll.scope(None);
    let mut context = Context::with_env(env());
    context.set_variable_resolver(&scope);
    for rule in per_bot.filter(applies) {
        out.push(evaluate_rule(rule, None, &context));
    }
    if per_platform().any(|r| applies(&r)) {
        for platform in Platform::ALL {
            let scope = poll.scope(Some(platform));
            let mut context = Context::with_env(env());
            context.set_variable_resolver(&scope);
            for rule in per_platform().filter(applies) {
                out.push(evaluate_rule(rule, Some(platform), &context));
            }
        }
    }
    out
}

/// What `expression` gives on a sample where every field is present: a load-time check that
/// catches type errors (`'a' + 1`) and conditions that are not true or false (`lineQuota`).
pub(crate) fn on_sample(expression: &Expression, each_platform: bool) -> Truth {
    let sample = super::vars::sample_snapshot();
    let api = super::ApiStatus::up();
    let input = super::vars::sample_input(&sample, &api);
    let poll = Poll::new(&input);
    let scope = poll.scope(each_platform.then_some(Platform::Facebook));
    let mut context = Context::with_env(env());
    context.set_variable_resolver(&scope);
    truth(expression, &context)
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
