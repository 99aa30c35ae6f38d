//! How many rule-instance evaluations one core does per second, variables bound once per poll
//! as in the service, and how long the costliest rule a rules file may hold takes to evaluate.
//! Run with `cargo bench --bench evaluate`; prints the median of 7 runs.
//!
//! The target (DESIGN.md) is 1,000,000 rule-instance evaluations per second per core.

use std::time::Instant;

use botwatch::analytics::Snapshot;
use botwatch::rules::{evaluate, ApiStatus, EvalInput, RuleSet};

/// 20 rules per bot, as in the design's sizing (100 bots × 20 rules): quota rules with
/// hysteresis, API rules and per-platform transitions (×5 instances each).
fn rules() -> RuleSet {
    let mut yaml = String::from("rules:\n");
    for i in 0..8 {
        yaml.push_str(&format!(
            "  - {{name: quota{i}, when: 'lineQuotaConsumption > 0.8 * lineQuota', recover_when: 'lineQuotaConsumption < 0.75 * lineQuota'}}\n"
        ));
        yaml.push_str(&format!(
            "  - {{name: api{i}, when: 'api.consecutive_failures >= 3', recover_when: 'api.up'}}\n"
        ));
    }
    for i in 0..4 {
        yaml.push_str(&format!(
            "  - {{name: dropped{i}, each: platform, when: 'previous.platform.integrated && !platform.integrated', recover_when: 'platform.integrated'}}\n"
        ));
    }
    RuleSet::parse("bench.yaml", &yaml).expect("bench rules")
}

/// The costliest condition `check` accepts, as far as we know: the longest plan name the
/// client accepts, concatenated with itself as many times as 2 KiB of expression allows.
/// (Comprehensions, which multiply work, are refused; see `src/rules/cost.rs`.)
fn costliest_rule() -> (RuleSet, usize) {
    fn tree(copies: usize) -> String {
        match copies {
            1 => "lineProgram".into(),
            n => format!("({}+{})", tree(n / 2), tree(n - n / 2)),
        }
    }
    let copies = (1..)
        .take_while(|n| tree(*n).len() + "size() > 0".len() <= 2048)
        .last()
        .unwrap_or(1);
    let yaml = format!(
        "rules:\n  - name: costly\n    when: 'size({}) > 0'\n",
        tree(copies)
    );
    let rules = RuleSet::parse("costly.yaml", &yaml).expect("the costliest rule is accepted");
    (rules, copies)
}

/// The median of 7 runs of `f`, in seconds per call.
fn median_seconds(calls: usize, f: impl Fn()) -> f64 {
    let mut runs: Vec<f64> = (0..7)
        .map(|_| {
            let started = Instant::now();
            for _ in 0..calls {
                f();
            }
            started.elapsed().as_secs_f64() / calls as f64
        })
        .collect();
    runs.sort_by(f64::total_cmp);
    runs[3]
}

fn main() {
    let rules = rules();
    let snapshot: Snapshot = serde_json::from_str(
        r#"{"lineQuota":1000,"lineQuotaConsumption":850,"lineIsIntegration":true,"fbIsIntegration":true,"instagramIsIntegration":false}"#,
    )
    .expect("bench snapshot");
    let api = ApiStatus::up();
    let input = EvalInput {
        snapshot: Some(&snapshot),
        previous: Some(&snapshot),
        bot_id: "b",
        bot_name: "B",
        api: &api,
    };
    let per_poll = evaluate(&rules, &input).len();
    let seconds = median_seconds(20_000, || {
        std::hint::black_box(evaluate(&rules, &input));
    });
    println!(
        "rule-instance evaluations per second (median of 7, {} rules = {per_poll} instances per poll, bindings included): {:.0}",
        rules.rules.len(),
        per_poll as f64 / seconds
    );
    let (costly, copies) = costliest_rule();
    let long_plan = Snapshot {
        line_program: Some("x".repeat(botwatch::analytics::MAX_PLAN_NAME_BYTES)),
        ..snapshot.clone()
    };
    let input = EvalInput {
        snapshot: Some(&long_plan),
        ..input
    };
    let seconds = median_seconds(20, || {
        std::hint::black_box(evaluate(&costly, &input));
    });
    println!(
        "the costliest accepted rule (a 16 KiB plan name concatenated {copies} times), one evaluation (median of 7): {:.2} ms",
        seconds * 1000.0
    );
}
