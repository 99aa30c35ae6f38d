//! How many rule-instance evaluations one core does per second, variables bound once per poll
//! as in the service. Run with `cargo bench --bench evaluate`; prints the median of 7 runs.
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
    let polls = 20_000;
    let mut rates = Vec::new();
    for _ in 0..7 {
        let started = Instant::now();
        let mut instances = 0usize;
        for _ in 0..polls {
            instances += std::hint::black_box(evaluate(&rules, &input)).len();
        }
        rates.push(instances as f64 / started.elapsed().as_secs_f64());
    }
    rates.sort_by(f64::total_cmp);
    let per_poll = evaluate(&rules, &input).len();
    println!(
        "rule-instance evaluations per second (median of 7, {} rules = {per_poll} instances per poll, bindings included): {:.0}",
        rules.rules.len(),
        rates[3]
    );
}
