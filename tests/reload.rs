//! Hot reload of rules.yaml: a valid file takes effect at the next poll with alert state kept;
//! a broken one changes nothing.

mod support;

use std::sync::Arc;
use std::time::Duration;

use botwatch::analytics::simulator::{Simulator, Step};
use botwatch::reload::RulesWatcher;
use botwatch::scheduler::{BotLoop, Pipeline};
use botwatch::store::{SqliteStore, Store};
use serde_json::json;
use support::hostile::{self, BROKEN_RULES};
use support::{bot, config, drain, fake_analytics, snapshot, start_pipeline, Recorder};

const QUOTA: &str = "  - {name: quota, when: 'lineQuotaConsumption > 800'}\n";
const PLAN: &str = "  - {name: plan, when: 'lineProgram == \"輕用量\"', severity: info}\n";

/// A pipeline with the quota rule in force for bot b1 whose API always answers `figures`, its
/// rules file in `dir`, and what it delivers.
async fn quota_pipeline(
    dir: &std::path::Path,
    figures: serde_json::Value,
) -> (
    Simulator,
    std::path::PathBuf,
    Arc<Pipeline>,
    BotLoop,
    Arc<Recorder>,
) {
    let sim = fake_analytics(vec![("b1", vec![Step::respond(snapshot(figures))])]).await;
    let rules_path = dir.join("rules.yaml");
    std::fs::write(&rules_path, format!("rules:\n{QUOTA}")).unwrap();
    let config = config(&sim, vec![bot("b1")], &dir.join("s.db"));
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&config.state, Duration::from_secs(3600)).unwrap());
    let recorder = Arc::new(Recorder::default());
    let (pipeline, bot_loop) = start_pipeline(
        &config,
        &format!("rules:\n{QUOTA}"),
        store,
        recorder.clone(),
    )
    .await;
    (sim, rules_path, pipeline, bot_loop, recorder)
}

#[tokio::test]
async fn a_valid_reload_keeps_alert_state_and_a_broken_one_keeps_the_old_rules_and_tells_the_admin_once(
) {
    let dir = tempfile::tempdir().unwrap();
    let figures = json!({"lineQuota": 1000, "lineQuotaConsumption": 900, "lineProgram": "輕用量"});
    let (_sim, rules_path, pipeline, mut bot_loop, recorder) =
        quota_pipeline(dir.path(), figures).await;
    let fake = support::discord::FakeDiscord::start().await;
    let rest = botwatch::discord::rest::DiscordRest::new(
        None,
        Some(&fake.base_url()),
        Duration::from_secs(2),
    )
    .unwrap();
    let hook = botwatch::discord::destination::parse_webhook_url(&format!(
        "{}/api/webhooks/9/admin-token",
        fake.base_url()
    ))
    .unwrap();
    let admin = botwatch::discord::admin::AdminChannel::new(
        Arc::new(rest),
        botwatch::discord::destination::Destination::Webhook(hook),
    );
    let mut watcher =
        RulesWatcher::new(rules_path.clone(), pipeline.clone()).reporting_to(Arc::new(admin));
    bot_loop.poll_once().await.unwrap();

    std::fs::write(&rules_path, format!("rules:\n{QUOTA}{PLAN}")).unwrap();
    assert_eq!(watcher.reload().await.unwrap(), 2);
    bot_loop.poll_once().await.unwrap();

    std::fs::write(&rules_path, "rules:\n  - {name: quota, wen: x}\n").unwrap();
    let error = watcher.reload().await.unwrap_err().to_string();
    assert!(
        error.contains("rules.yaml:2:19: rule quota: unknown key `wen`"),
        "{error}"
    );
    assert_eq!(
        pipeline.rules().rules.len(),
        2,
        "the old rules stay in force"
    );
    assert!(pipeline
        .metrics()
        .encode()
        .contains("botwatch_rules_reload_ok 0"));
    // The admin destination is told, with the error at its position, once: the same broken
    // file again is no news.
    let admin_messages = || fake.messages("webhook:9");
    assert_eq!(admin_messages().len(), 1, "{:?}", admin_messages());
    let told = admin_messages()[0].body.to_string();
    assert!(told.contains("was not reloaded"), "{told}");
    assert!(told.contains("rule quota: unknown key `wen`"), "{told}");
    watcher.reload().await.unwrap_err();
    assert_eq!(admin_messages().len(), 1, "told once per distinct error");

    std::fs::write(&rules_path, format!("rules:\n{PLAN}")).unwrap();
    watcher.reload().await.unwrap();
    assert_eq!(admin_messages().len(), 1, "a good reload is not reported");
    fake.assert_no_violations();
    bot_loop.poll_once().await.unwrap();
    drain(&pipeline).await;
    assert_eq!(
        recorder.lines(),
        ["Fired quota", "Fired plan"],
        "quota is not announced again after a reload, and ends quietly once removed"
    );
}

#[tokio::test]
async fn every_hostile_rules_file_is_refused_on_reload_and_the_rules_in_force_stay() {
    let dir = tempfile::tempdir().unwrap();
    let figures = json!({"lineQuota": 1000, "lineQuotaConsumption": 900});
    let (_sim, rules_path, pipeline, mut bot_loop, recorder) =
        quota_pipeline(dir.path(), figures).await;
    let mut watcher = RulesWatcher::new(rules_path.clone(), pipeline.clone());
    let label = format!("{}:", rules_path.display());
    let mut files: Vec<(&str, Vec<u8>, String)> = BROKEN_RULES
        .iter()
        .map(|(case, text, expected)| {
            (
                *case,
                text.as_bytes().to_vec(),
                expected.replacen("rules.yaml:", &label, 1),
            )
        })
        .collect();
    files.push((
        "not UTF-8",
        b"rules:\n  - name: caf\xe9\n".to_vec(),
        format!("{label}2:14:"),
    ));
    files.push((
        "over 16 MiB",
        hostile::rules_over_the_size_cap(),
        format!("{label}1:1: the file is 16777230 bytes"),
    ));
    let mut refused = 0;
    for (case, bytes, expected) in &files {
        std::fs::write(&rules_path, bytes).unwrap();
        let error = watcher.reload().await.unwrap_err().to_string();
        assert!(error.starts_with(expected.as_str()), "{case}: {error}");
        let rules = pipeline.rules();
        let names: Vec<&str> = rules.rules.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["quota"], "{case}: the rules in force stay");
        refused += 1;
    }
    bot_loop.poll_once().await.unwrap();
    drain(&pipeline).await;
    assert_eq!(recorder.lines(), ["Fired quota"], "and keep working");
    support::assert_documented(&format!(
        "{refused} of the {} hostile rules files",
        files.len()
    ));
}
