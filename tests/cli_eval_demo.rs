//! `botwatch eval` and `botwatch demo` as a user runs them.

mod support;

use serde_json::{json, Value};
use support::botwatch;

fn write(dir: &std::path::Path, name: &str, value: &Value) -> String {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_vec(value).unwrap()).unwrap();
    path.display().to_string()
}

#[test]
fn eval_prints_every_rule_instance_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let previous = write(
        dir.path(),
        "previous.json",
        &json!({"success": true, "fbIsIntegration": true, "lineIsIntegration": true}),
    );
    let current = write(
        dir.path(),
        "current.json",
        &json!({"success": true, "message": "ok", "lineQuota": 1000, "lineQuotaConsumption": 850, "fbIsIntegration": false, "lineIsIntegration": true}),
    );
    let rules = format!("{}/rules.yaml", env!("CARGO_MANIFEST_DIR"));
    let out = botwatch()
        .args([
            "eval",
            "--rules",
            &rules,
            "--snapshot",
            &current,
            "--previous",
            &previous,
            "--format",
            "json",
            "--bot-name",
            "Support",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let find = |rule: &str, platform: Option<&str>| {
        rows.iter()
            .find(|r| r["rule"] == rule && r["labels"]["platform"].as_str() == platform)
            .unwrap_or_else(|| panic!("no row for {rule} {platform:?} in {rows:#?}"))
            .clone()
    };
    let high = find("line-quota-high", None);
    assert_eq!(high["condition"], "active");
    assert_eq!(high["severity"], "warning");
    assert_eq!(high["summary"], "LINE quota at 85.0 % on Support");
    assert_eq!(high["labels"], json!({"team": "ops"}));
    assert_eq!(find("line-quota-critical", None)["condition"], "inactive");
    assert_eq!(
        find("integration-dropped", Some("fb"))["condition"],
        "active"
    );
    assert_eq!(
        find("integration-dropped", Some("line"))["condition"],
        "inactive"
    );
    let whatsapp = find("integration-dropped", Some("whatsapp"));
    assert_eq!(
        whatsapp["condition"], "unknown",
        "whatsapp was never reported"
    );
    assert_eq!(find("analytics-api-failing", None)["condition"], "inactive");
    assert_eq!(
        rows.len(),
        3 + 5,
        "three bot rules and one rule for five platforms"
    );
}

#[test]
fn eval_without_previous_reports_transitions_as_unknown_in_text() {
    let dir = tempfile::tempdir().unwrap();
    let current = write(
        dir.path(),
        "current.json",
        &json!({"lineQuota": 1000, "lineQuotaConsumption": 990, "fbIsIntegration": false}),
    );
    let rules = format!("{}/rules.yaml", env!("CARGO_MANIFEST_DIR"));
    let out = botwatch()
        .args(["eval", "--rules", &rules, "--snapshot", &current])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let fb = text
        .lines()
        .find(|l| l.starts_with("integration-dropped{platform=fb}"))
        .unwrap();
    assert!(
        fb.contains(" unknown ") && fb.contains("no data for `previous`"),
        "{fb}"
    );
    let critical = text
        .lines()
        .find(|l| l.starts_with("line-quota-critical"))
        .unwrap();
    assert!(
        critical.contains(" active ") && critical.contains("LINE quota at 99.0 %"),
        "{critical}"
    );
}

#[test]
fn eval_refuses_a_response_that_says_success_false() {
    let dir = tempfile::tempdir().unwrap();
    let current = write(
        dir.path(),
        "current.json",
        &json!({"success": false, "message": "bad secret"}),
    );
    let rules = format!("{}/rules.yaml", env!("CARGO_MANIFEST_DIR"));
    let out = botwatch()
        .args(["eval", "--rules", &rules, "--snapshot", &current])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("is not a usable API response") && stderr.contains("bad secret"),
        "{stderr}"
    );
}

#[test]
fn demo_plays_the_scenario_and_shows_alerts_firing_and_resolving() {
    let out = botwatch().args(["demo"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "stdout:\n{stdout}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let count = |what: &str, rule: &str| {
        stdout
            .lines()
            .filter(|l| l.contains(what) && l.contains(&format!(" {rule} |")))
            .count()
    };
    for rule in [
        "line-quota-high",
        "line-quota-critical",
        "integration-dropped",
        "analytics-api-failing",
    ] {
        assert_eq!(count("FIRING", rule), 1, "{rule} fires once:\n{stdout}");
        assert_eq!(
            count("RESOLVED", rule),
            1,
            "{rule} resolves once:\n{stdout}"
        );
    }
    assert!(stdout.contains("platform=fb"), "{stdout}");
    assert!(
        !stdout
            .lines()
            .any(|l| l.contains("Sales bot") && l.contains("FIRING")),
        "the healthy bot stays quiet:\n{stdout}"
    );
    assert!(stdout.contains("demo finished"));
}
