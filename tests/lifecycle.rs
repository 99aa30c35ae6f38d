//! The alert lifecycle as a user sees it: rules from YAML, snapshots in, events out.
//! Time is passed explicitly, so `for: 5m` is tested in microseconds, not minutes.

mod support;

use std::collections::BTreeMap;

use botwatch::alerts::{advance, Phase, Tick};
use botwatch::rules::{ApiStatus, EvalInput};
use botwatch::time::Timestamp;
use serde_json::json;
use support::lifecycle::Bot;
use support::{rules, snapshot};

fn quota(used: i64) -> serde_json::Value {
    json!({"lineQuota": 1000, "lineQuotaConsumption": used})
}

const QUOTA_FOR_5M: &str =
    "rules:\n  - name: quota\n    when: lineQuotaConsumption > 0.8 * lineQuota\n    for: 5m\n";

#[test]
fn pending_becomes_firing_only_after_for_and_resolves_when_the_condition_clears() {
    let mut bot = Bot::new(QUOTA_FOR_5M);
    assert!(bot.poll(0, quota(900)).is_empty());
    assert_eq!(bot.phase("quota"), Some(Phase::Pending));
    assert!(
        bot.poll(240, quota(900)).is_empty(),
        "4 minutes is not yet 5"
    );
    assert_eq!(bot.poll(60, quota(900)), ["Fired quota"]);
    assert!(
        bot.poll(60, quota(900)).is_empty(),
        "no second fire while firing"
    );
    assert_eq!(bot.poll(60, quota(100)), ["Resolved quota"]);
    assert_eq!(bot.phase("quota"), None);
}

#[test]
fn pending_is_cancelled_silently_when_the_condition_clears_before_for() {
    let mut bot = Bot::new(QUOTA_FOR_5M);
    bot.poll(0, quota(900));
    assert!(bot.poll(120, quota(100)).is_empty());
    assert_eq!(bot.phase("quota"), None);
    bot.poll(60, quota(900));
    assert!(
        bot.poll(240, quota(900)).is_empty(),
        "the pending clock restarted"
    );
    assert_eq!(bot.poll(60, quota(900)), ["Fired quota"]);
}

#[test]
fn keep_firing_for_holds_the_alert_and_a_relapse_cancels_the_resolution() {
    let mut bot = Bot::new(
        "rules:\n  - name: quota\n    when: lineQuotaConsumption > 800\n    keep_firing_for: 10m\n",
    );
    assert_eq!(bot.poll(0, quota(900)), ["Fired quota"]);
    assert!(
        bot.poll(60, quota(100)).is_empty(),
        "recovered, but kept firing"
    );
    assert!(
        bot.poll(300, quota(900)).is_empty(),
        "relapse: still the same alert, not a new one"
    );
    assert!(bot.poll(60, quota(100)).is_empty());
    assert!(
        bot.poll(540, quota(100)).is_empty(),
        "9 minutes of recovery"
    );
    assert_eq!(bot.poll(60, quota(100)), ["Resolved quota"]);
}

#[test]
fn repeat_every_sends_reminders_while_firing() {
    let mut bot = Bot::new(
        "rules:\n  - name: quota\n    when: lineQuotaConsumption > 800\n    repeat_every: 1h\n",
    );
    assert_eq!(bot.poll(0, quota(900)), ["Fired quota"]);
    assert!(bot.poll(1800, quota(900)).is_empty());
    assert_eq!(bot.poll(1800, quota(900)), ["Reminder quota"]);
    assert!(bot.poll(60, quota(900)).is_empty());
    assert_eq!(bot.poll(3540, quota(900)), ["Reminder quota"]);
}

#[test]
fn recover_when_gives_hysteresis_so_a_value_at_the_threshold_does_not_flap() {
    let mut bot = Bot::new(
        "rules:\n  - name: quota\n    when: lineQuotaConsumption > 0.8 * lineQuota\n    recover_when: lineQuotaConsumption < 0.75 * lineQuota\n",
    );
    let mut events = Vec::new();
    for used in [799, 801, 799, 801, 799, 801, 760, 799] {
        events.extend(bot.poll(60, quota(used)));
    }
    assert_eq!(
        events,
        ["Fired quota"],
        "79.9 % ↔ 80.1 % fires once and never resolves"
    );
    assert_eq!(bot.poll(60, quota(740)), ["Resolved quota"]);
}

#[test]
fn without_recover_when_the_same_values_do_flap() {
    // The contrast that shows why recover_when exists.
    let mut bot =
        Bot::new("rules:\n  - name: quota\n    when: lineQuotaConsumption > 0.8 * lineQuota\n");
    let events: Vec<String> = [799, 801, 799, 801]
        .into_iter()
        .flat_map(|u| bot.poll(60, quota(u)))
        .collect();
    assert_eq!(events, ["Fired quota", "Resolved quota", "Fired quota"]);
}

const DROPPED: &str = "rules:\n  - name: dropped\n    each: platform\n    when: previous.platform.integrated && !platform.integrated\n    recover_when: platform.integrated\n";

fn integrations(fb: bool, whatsapp: bool) -> serde_json::Value {
    json!({"lineIsIntegration": true, "fbIsIntegration": fb, "instagramIsIntegration": false, "whatsappIsIntegration": whatsapp})
}

#[test]
fn integration_dropped_fires_once_per_platform_and_resolves_when_restored() {
    let mut bot = Bot::new(DROPPED);
    assert!(bot.poll(60, integrations(true, true)).is_empty());
    assert_eq!(
        bot.poll(60, integrations(false, true)),
        ["Fired dropped fb"]
    );
    assert!(
        bot.poll(60, integrations(false, true)).is_empty(),
        "still dropped: no second alert"
    );
    assert_eq!(
        bot.poll(60, integrations(false, false)),
        ["Fired dropped whatsapp"]
    );
    assert_eq!(
        bot.poll(60, integrations(true, false)),
        ["Resolved dropped fb"]
    );
    assert_eq!(
        bot.poll(60, integrations(true, true)),
        ["Resolved dropped whatsapp"]
    );
}

#[test]
fn a_platform_that_was_never_integrated_never_raises_an_alert() {
    let mut bot = Bot::new(DROPPED);
    let events: Vec<String> = (0..5)
        .flat_map(|_| bot.poll(60, integrations(true, true)))
        .collect();
    assert!(
        events.is_empty(),
        "instagram is false throughout: {events:?}"
    );
    assert!(bot.has_no_instances());
}

#[test]
fn a_missing_field_is_unknown_and_neither_fires_nor_resolves() {
    let mut bot = Bot::new("rules:\n  - name: quota\n    when: lineQuotaConsumption > 800\n");
    assert!(
        bot.poll(60, json!({"lineQuota": 1000})).is_empty(),
        "no consumption: unknown, not zero"
    );
    assert_eq!(bot.poll(60, quota(900)), ["Fired quota"]);
    assert!(
        bot.poll(60, json!({"lineQuota": 1000})).is_empty(),
        "missing again: kept firing, not resolved"
    );
    assert_eq!(bot.phase("quota"), Some(Phase::Firing));
    assert_eq!(bot.poll(60, quota(100)), ["Resolved quota"]);
}

#[test]
fn unknown_data_neither_completes_a_pending_period_nor_sends_reminders() {
    let mut bot = Bot::new("rules:\n  - name: quota\n    when: lineQuotaConsumption > 800\n    for: 5m\n    repeat_every: 10m\n");
    bot.poll(0, quota(900));
    assert!(
        bot.poll(600, json!({"lineQuota": 1000})).is_empty(),
        "`for` elapsed, but the data is missing"
    );
    assert_eq!(bot.phase("quota"), Some(Phase::Pending));
    assert_eq!(bot.poll(60, quota(900)), ["Fired quota"]);
    assert!(
        bot.poll(3600, json!({})).is_empty(),
        "no reminder rendered from missing data"
    );
    assert_eq!(bot.poll(60, quota(900)), ["Reminder quota"]);
}

#[test]
fn a_failed_poll_keeps_snapshot_rules_and_moves_only_api_rules() {
    let mut bot = Bot::new(
        "rules:\n  - name: quota\n    when: lineQuotaConsumption > 800\n  - name: api\n    when: api.consecutive_failures >= 3\n    recover_when: api.up\n  - name: dropped\n    each: platform\n    when: previous.platform.integrated && !platform.integrated\n",
    );
    bot.poll(
        60,
        json!({"lineQuota": 1000, "lineQuotaConsumption": 900, "fbIsIntegration": true}),
    );
    assert!(bot.fail(60).is_empty());
    assert!(bot.fail(60).is_empty());
    assert_eq!(bot.fail(60), ["Fired api"]);
    assert_eq!(
        bot.phase("quota"),
        Some(Phase::Firing),
        "the quota alert survives the outage"
    );
    // The API comes back and fb dropped during the outage: the transition is still seen,
    // because `previous` is the last good snapshot, not the failed polls.
    let events = bot.poll(
        60,
        json!({"lineQuota": 1000, "lineQuotaConsumption": 900, "fbIsIntegration": false}),
    );
    assert_eq!(events, ["Resolved api", "Fired dropped fb"]);
}

#[test]
fn rules_as_people_write_them_mix_integers_and_decimals() {
    let mut bot = Bot::new(
        "rules:\n  - {name: mixed, when: 'lineQuotaConsumption > 0.8 * lineQuota'}\n  - {name: positive, when: 'lineQuota > 0'}\n  - {name: exact, when: 'lineQuota == 1000'}\n  - {name: modulo, when: 'int(lineQuota) % 7 == 6'}\n  - {name: ratio, when: 'lineQuotaRatio >= 0.9 && lineQuotaRemaining < 100'}\n",
    );
    let events = bot.poll(60, quota(950));
    assert_eq!(
        events,
        [
            "Fired mixed",
            "Fired positive",
            "Fired exact",
            "Fired modulo",
            "Fired ratio"
        ]
    );
}

#[test]
fn events_carry_rendered_texts_and_a_resolution_repeats_what_was_announced() {
    let yaml = "rules:\n  - name: quota\n    when: lineQuotaConsumption > 800\n    severity: critical\n    labels: {team: ops}\n    summary: \"{{ lineQuotaConsumption }}/{{ lineQuota }} on {{ bot.name }}\"\n";
    let rules = rules(yaml);
    let mut instances = BTreeMap::new();
    let api = ApiStatus::up();
    let high = snapshot(quota(900));
    let input = EvalInput {
        snapshot: Some(&high),
        previous: None,
        bot_id: "b1",
        bot_name: "Support",
        api: &api,
    };
    let fired = advance(
        &rules,
        &mut instances,
        &input,
        Tick::exact(Timestamp(1_000)),
    )
    .events
    .remove(0);
    assert_eq!(fired.summary, "900/1000 on Support");
    assert_eq!(fired.labels.get("team").map(String::as_str), Some("ops"));
    assert_eq!(fired.severity.as_str(), "critical");
    let low = snapshot(quota(100));
    let input = EvalInput {
        snapshot: Some(&low),
        ..input
    };
    let resolved = advance(
        &rules,
        &mut instances,
        &input,
        Tick::exact(Timestamp(61_000)),
    )
    .events
    .remove(0);
    assert_eq!(resolved.summary, "900/1000 on Support");
    assert_eq!(resolved.fired_at, Some(Timestamp(1_000)));
}
