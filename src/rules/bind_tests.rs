//! Tests of the binding: CEL sees exactly what the template variables hold.

use cel::{Context, Program, Value};
use serde_json::Value as Json;

use super::*;
use crate::rules::vars::{sample_input, sample_snapshot, variables};

/// Every leaf of the template variables, as a CEL path (`previous.platform.integrated`)
/// and the value CEL should see there (numbers as doubles).
fn leaves(prefix: &str, value: &Json, out: &mut Vec<(String, Value)>) {
    match value {
        Json::Object(fields) => {
            for (name, value) in fields {
                let path = match prefix {
                    "" => name.clone(),
                    _ => format!("{prefix}.{name}"),
                };
                leaves(&path, value, out);
            }
        }
        Json::Bool(b) => out.push((prefix.into(), Value::Bool(*b))),
        Json::Number(n) => out.push((prefix.into(), Value::Float(n.as_f64().unwrap()))),
        Json::String(s) => out.push((prefix.into(), Value::String(s.clone().into()))),
        other => panic!("{prefix} is {other}, which rules cannot bind"),
    }
}

fn bound(input: &EvalInput<'_>, platform: Option<Platform>, path: &str) -> Option<Value> {
    let poll = Poll::new(input);
    let scope = poll.scope(platform);
    let mut context = Context::with_env(crate::rules::expr::env());
    context.set_variable_resolver(&scope);
    Program::compile(path).unwrap().execute(&context).ok()
}

fn assert_same_variables(input: &EvalInput<'_>, platform: Option<Platform>) {
    let mut expected = Vec::new();
    leaves("", &Json::Object(variables(input, platform)), &mut expected);
    assert!(expected.len() > 15, "{expected:?}");
    for (path, value) in &expected {
        assert_eq!(
            bound(input, platform, path).as_ref(),
            Some(value),
            "{path} ({platform:?})"
        );
        let absent = format!("has({path}) ? 1 : 0");
        if path.contains('.') {
            assert_eq!(
                bound(input, platform, &absent),
                Some(Value::Int(1)),
                "{path}"
            );
        }
    }
}

#[test]
fn binds_what_the_template_variables_hold() {
    let sample = sample_snapshot();
    let api = ApiStatus {
        up: false,
        consecutive_failures: 4,
        error: Some("timed out".into()),
        error_kind: Some("timeout"),
    };
    let input = sample_input(&sample, &api);
    assert_same_variables(&input, None);
    for platform in Platform::ALL {
        assert_same_variables(&input, Some(platform));
    }
}

#[test]
fn a_figure_the_api_did_not_send_is_not_bound_anywhere() {
    let sparse = Snapshot {
        line_quota: Some(1000),
        fb_is_integration: Some(true),
        ..Snapshot::default()
    };
    let api = ApiStatus::up();
    let input = sample_input(&sparse, &api);
    assert_same_variables(&input, Some(Platform::Facebook));
    for missing in [
        "lineQuotaConsumption",
        "lineQuotaRatio",
        "previous.lineProgram",
        "platform.averageConversationTime",
        "previous.platform.averageConversationValue",
    ] {
        assert_eq!(
            bound(&input, Some(Platform::Facebook), missing),
            None,
            "{missing}"
        );
    }
    // After a failed poll, `previous` is not bound either.
    let failed = EvalInput {
        snapshot: None,
        ..input
    };
    assert_eq!(bound(&failed, None, "previous.lineQuota"), None);
    assert_eq!(bound(&failed, None, "api.up"), Some(Value::Bool(true)));
    assert_eq!(
        bound(&failed, Some(Platform::Line), "platform.label"),
        Some(Value::String("LINE".to_owned().into()))
    );
}
