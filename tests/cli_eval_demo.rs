//! `botwatch eval` and `botwatch demo` as a user runs them.

mod support;

use serde_json::{json, Value};
use support::{project_root, run_botwatch, Outcome};

/// Writes the given API responses into a temporary folder and runs `botwatch eval` there with
/// the shipped rules.
fn eval(files: &[(&str, Value)], args: &[&str]) -> Outcome {
    let dir = tempfile::tempdir().unwrap();
    for (name, value) in files {
        std::fs::write(dir.path().join(name), serde_json::to_vec(value).unwrap()).unwrap();
    }
    let rules = project_root().join("rules.yaml");
    let mut all = vec!["eval", "--rules", rules.to_str().unwrap()];
    all.extend_from_slice(args);
    run_botwatch(dir.path(), &all, &[])
}

#[test]
fn eval_prints_every_rule_instance_as_json() {
    let previous = json!({"success": true, "fbIsIntegration": true, "lineIsIntegration": true});
    let current = json!({"success": true, "message": "ok", "lineQuota": 1000, "lineQuotaConsumption": 850,
        "fbIsIntegration": false, "lineIsIntegration": true});
    let args = [
        "--snapshot",
        "current.json",
        "--previous",
        "previous.json",
        "--format",
        "json",
        "--bot-name",
        "Support",
    ];
    let out = eval(
        &[("current.json", current), ("previous.json", previous)],
        &args,
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let rows: Vec<Value> = serde_json::from_str(&out.stdout).unwrap();
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
    assert_eq!(
        find("integration-dropped", Some("whatsapp"))["condition"],
        "unknown",
        "never reported"
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
    let current = json!({"lineQuota": 1000, "lineQuotaConsumption": 990, "fbIsIntegration": false});
    let out = eval(
        &[("current.json", current)],
        &["--snapshot", "current.json"],
    );
    let line = |start: &str| {
        out.stdout
            .lines()
            .find(|l| l.starts_with(start))
            .unwrap()
            .to_owned()
    };
    let fb = line("integration-dropped{platform=fb}");
    assert!(
        fb.contains(" unknown ") && fb.contains("no data for `previous`"),
        "{fb}"
    );
    let critical = line("line-quota-critical");
    assert!(
        critical.contains(" active ") && critical.contains("LINE quota at 99.0 %"),
        "{critical}"
    );
}

#[test]
fn eval_refuses_a_response_that_says_success_false() {
    let current = json!({"success": false, "message": "bad secret"});
    let out = eval(
        &[("current.json", current)],
        &["--snapshot", "current.json"],
    );
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("is not a usable API response") && out.stderr.contains("bad secret"),
        "{}",
        out.stderr
    );
}

#[test]
fn demo_plays_the_scenario_and_shows_alerts_firing_and_resolving() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_botwatch(dir.path(), &["demo"], &[]);
    let stdout = &out.stdout;
    assert_eq!(out.code, 0, "stdout:\n{stdout}\nstderr:\n{}", out.stderr);
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
    let sales_fired = stdout
        .lines()
        .any(|l| l.contains("Sales bot") && l.contains("FIRING"));
    assert!(!sales_fired, "the healthy bot stays quiet:\n{stdout}");
    assert!(stdout.contains("demo finished"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_also_posts_cards_to_a_discord_webhook_when_given_one() {
    let fake = support::discord::FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let webhook = format!("{}/api/webhooks/4242/demo-hook-token", fake.base_url());
    let env = [
        ("BOTWATCH_DISCORD_WEBHOOK", webhook.as_str()),
        ("BOTWATCH_DISCORD_API_BASE_URL", &fake.base_url()),
    ];
    let out = run_botwatch(dir.path(), &["demo", "--for", "6s"], &env);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("alerts also go to Discord"),
        "{}",
        out.stdout
    );
    let cards = fake.messages("webhook:4242");
    assert!(
        !cards.is_empty(),
        "the Facebook drop reached Discord:\n{}",
        out.stdout
    );
    let title = cards[0].body["embeds"][0]["title"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(title, "Facebook integration dropped on Support bot");
    assert!(
        !out.stderr.contains("demo-hook-token"),
        "the webhook token never shows in logs"
    );
    fake.assert_no_violations();
}
