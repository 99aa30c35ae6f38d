//! What each fuzz target does with one input, shared by the fuzz targets (`fuzz_targets/`) and
//! by `tests/fuzz_regressions.rs`, which replays the seeds, the test suite's hostile files and
//! every input ever found to fail, on the stable toolchain. Each function must return, without
//! a panic, for any input; the assertions are what must hold of what it returns.

use std::path::Path;

use botwatch::analytics::{decode, Snapshot, MAX_PLAN_NAME_BYTES};
use botwatch::config::Config;
use botwatch::rules::{evaluate, sample_snapshot, ApiStatus, EvalInput, RuleSet};

/// Any bytes as a rules file: compiled or refused with diagnostics; a rule set that compiles
/// evaluates, and renders its templates, on a poll where nothing is known and on one where
/// everything is, with the longest plan name the client accepts.
pub fn rules_file(bytes: &[u8]) {
    let Ok(rules) = RuleSet::from_bytes("fuzz.yaml", bytes) else {
        return;
    };
    let api = ApiStatus::up();
    for snapshot in [Snapshot::default(), everything_known()] {
        let input = EvalInput {
            snapshot: Some(&snapshot),
            previous: Some(&snapshot),
            bot_id: "b1",
            bot_name: "Bot",
            api: &api,
        };
        for evaluation in evaluate(&rules, &input) {
            let rule = evaluation.rule;
            let _ = rule.summary.render(&input, evaluation.platform);
            for template in [&rule.description, &rule.value].into_iter().flatten() {
                let _ = template.render(&input, evaluation.platform);
            }
        }
    }
}

/// Any bytes as a config file: loaded or refused with a positioned error.
pub fn config_file(bytes: &[u8]) {
    let env = |_: &str| Some("x".to_owned());
    let _ = Config::from_bytes("fuzz.yaml", bytes, Path::new("."), &env);
}

/// Any bytes as a 2xx body of the analytics API: a snapshot or a classified error. A snapshot
/// never comes from `success: false`, never carries a plan name over the cap, and is empty
/// only when the answer said `success: true`.
pub fn api_response(bytes: &[u8]) {
    let Ok(snapshot) = decode(bytes) else {
        return;
    };
    let plan = snapshot.line_program.as_ref().map_or(0, String::len);
    assert!(plan <= MAX_PLAN_NAME_BYTES, "a plan name of {plan} bytes");
    let _ = snapshot.line_quota_ratio();
    let _ = snapshot.line_quota_remaining();
    // Read again by a second parser, to judge the envelope. It is stricter than the decoder on
    // fields nobody reads (a number like 2e1000000 is JSON, but out of its range): where it
    // cannot read the document, it has nothing to say.
    let Ok(document) = serde_json::from_slice::<serde_json::Value>(bytes) else {
        return;
    };
    let success = document.get("success").and_then(serde_json::Value::as_bool);
    assert_ne!(success, Some(false), "success: false became a snapshot");
    if snapshot == Snapshot::default() {
        assert_eq!(
            success,
            Some(true),
            "an answer without figures became a snapshot"
        );
    }
}

/// A snapshot with every field, and the longest plan name the client accepts.
fn everything_known() -> Snapshot {
    Snapshot {
        line_program: Some("輕".repeat(MAX_PLAN_NAME_BYTES / "輕".len())),
        ..sample_snapshot()
    }
}
