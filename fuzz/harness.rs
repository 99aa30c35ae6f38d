//! What each fuzz target does with one input, shared by the fuzz targets (`fuzz_targets/`) and
//! by `tests/fuzz_regressions.rs`, which replays the seeds and every input ever found to fail
//! on the stable toolchain. Each function must return, without a panic, for any input.

use std::path::Path;

use botwatch::analytics::decode;
use botwatch::config::Config;
use botwatch::rules::{evaluate, ApiStatus, EvalInput, RuleSet};

/// Any bytes as a rules file: compiled or refused with diagnostics; a rule set that compiles
/// evaluates, and renders its templates, on a poll where nothing is known.
pub fn rules_file(bytes: &[u8]) {
    let Ok(rules) = RuleSet::from_bytes("fuzz.yaml", bytes) else {
        return;
    };
    let empty = botwatch::analytics::Snapshot::default();
    let api = ApiStatus::up();
    let input = EvalInput {
        snapshot: Some(&empty),
        previous: None,
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

/// Any bytes as a config file (as text when they are UTF-8): loaded or refused with a
/// positioned error.
pub fn config_file(bytes: &[u8]) {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    let _ = Config::parse("fuzz.yaml", text, Path::new("."), &|_| Some("x".into()));
}

/// Any bytes as a 2xx body of the analytics API: a snapshot or a classified error; a
/// snapshot's derived figures never panic either.
pub fn api_response(bytes: &[u8]) {
    if let Ok(snapshot) = decode(bytes) {
        let _ = snapshot.line_quota_ratio();
        let _ = snapshot.line_quota_remaining();
    }
}
