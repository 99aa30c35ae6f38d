//! What people act on alerts with, against a real SQLite file: the id a button or a command
//! names an alert by finds that alert while it is pending or firing, and nothing once it
//! resolved; acknowledgements record who and when, the first one stands, they go with their
//! firing and survive a restart, every action is in the audit trail, and the reminders of an
//! acknowledged alert are muted while its resolution is still delivered.

mod support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use botwatch::alerts::{AlertEvent, AlertInstance, AlertKey, Changes, Phase, Transition};
use botwatch::metrics::Metrics;
use botwatch::notify::delivery::{Delivery, Pass};
use botwatch::notify::mute::Mute;
use botwatch::rules::ApiStatus;
use botwatch::rules::Severity;
use botwatch::store::{
    Acknowledged, Acknowledgement, Acknowledgements, Actor, AuditAction, BotStates, Outbox,
    OwnedPollCommit, SqliteStore,
};
use botwatch::time::Timestamp;
use support::Recorder;

fn firing(rule: &str, active_since: i64) -> AlertInstance {
    AlertInstance {
        key: AlertKey {
            rule: rule.into(),
            bot_id: "b1".into(),
            platform: None,
        },
        phase: Phase::Firing,
        active_since: Timestamp(active_since),
        fired_at: Some(Timestamp(active_since)),
        last_notified_at: Some(Timestamp(active_since)),
        clearing_since: None,
        announced: None,
    }
}

/// An event of `alert`'s firing.
fn event(alert: &AlertInstance, transition: Transition) -> AlertEvent {
    AlertEvent {
        transition,
        key: alert.key.clone(),
        bot_name: "Support".into(),
        severity: Severity::Warning,
        labels: BTreeMap::new(),
        summary: format!("{} {transition:?}", alert.key.rule),
        description: None,
        value: None,
        active_since: alert.active_since,
        fired_at: alert.fired_at,
        at: Timestamp(50_000),
        channel: None,
    }
}

fn person(id: &str, name: &str) -> Actor {
    Actor {
        id: id.into(),
        name: name.into(),
    }
}

fn open(dir: &tempfile::TempDir) -> SqliteStore {
    SqliteStore::open(&dir.path().join("s.db"), Duration::from_secs(3600)).unwrap()
}

/// A state file with `alerts` firing for bot b1.
fn store_with(dir: &tempfile::TempDir, alerts: &[&AlertInstance]) -> SqliteStore {
    let store = open(dir);
    let upserts = alerts.iter().map(|a| (*a).clone()).collect();
    store
        .commit_poll(
            &poll(Changes {
                upserts,
                ..Changes::default()
            })
            .borrowed(),
        )
        .unwrap();
    store
}

fn resolve(store: &SqliteStore, alert: &AlertInstance) {
    let removed = vec![alert.key.clone()];
    store
        .commit_poll(
            &poll(Changes {
                removed,
                ..Changes::default()
            })
            .borrowed(),
        )
        .unwrap();
}

fn poll(changes: Changes) -> OwnedPollCommit {
    OwnedPollCommit {
        bot_id: "b1".into(),
        at: Timestamp::now(),
        snapshot: None,
        last_known: None,
        api: ApiStatus::up(),
        changes,
    }
}

#[tokio::test]
async fn an_alert_is_found_by_its_id_while_it_fires_and_not_after_it_resolved() {
    let dir = tempfile::tempdir().unwrap();
    let quota = firing("quota-high", 1_000);
    let other = firing("api-down", 2_000);
    let store = store_with(&dir, &[&quota, &other]);

    assert_eq!(
        store.find_alert(quota.id()).await.unwrap(),
        Some(quota.clone())
    );
    assert_eq!(store.find_alert(other.id()).await.unwrap(), Some(other));
    let next_firing = firing("quota-high", 9_000).id();
    assert_eq!(
        store.find_alert(next_firing).await.unwrap(),
        None,
        "another firing, another id"
    );

    resolve(&store, &quota);
    assert_eq!(store.find_alert(quota.id()).await.unwrap(), None);
}

#[tokio::test]
async fn the_first_acknowledgement_stands_with_who_and_when_and_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let quota = firing("quota-high", 1_000);
    let store = store_with(&dir, &[&quota]);
    let (ana, ben) = (person("101", "ana"), person("102", "ben"));

    let first = store.acknowledge(&quota, &ana, Timestamp(5_000)).await;
    assert_eq!(first.unwrap(), Acknowledged::Now);
    let by_ana = Acknowledgement {
        by: ana,
        at: Timestamp(5_000),
    };
    let second = store.acknowledge(&quota, &ben, Timestamp(6_000)).await;
    assert_eq!(second.unwrap(), Acknowledged::Already(by_ana.clone()));

    drop(store);
    let reopened = open(&dir);
    let kept = reopened.acknowledgement(quota.id()).await.unwrap();
    assert_eq!(kept, Some(by_ana));
    let trail = reopened.audit_trail(10).await.unwrap();
    assert_eq!(
        trail.len(),
        1,
        "the refused second acknowledgement is no action: {trail:?}"
    );
}

#[tokio::test]
async fn an_acknowledgement_goes_with_its_firing_and_a_resolved_alert_cannot_be_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let quota = firing("quota-high", 1_000);
    let store = store_with(&dir, &[&quota]);
    let ana = person("101", "ana");
    store
        .acknowledge(&quota, &ana, Timestamp(5_000))
        .await
        .unwrap();

    resolve(&store, &quota);
    assert_eq!(store.acknowledgement(quota.id()).await.unwrap(), None);
    let late = store.acknowledge(&quota, &ana, Timestamp(7_000)).await;
    assert_eq!(late.unwrap(), Acknowledged::NoSuchAlert);

    let next_firing = firing("quota-high", 9_000);
    let store = store_with(&dir, &[&next_firing]);
    let fresh = store.acknowledgement(next_firing.id()).await.unwrap();
    assert_eq!(fresh, None, "the next firing starts unacknowledged");
}

#[tokio::test]
async fn withdrawing_an_acknowledgement_is_audited_with_every_action_newest_first() {
    let dir = tempfile::tempdir().unwrap();
    let quota = firing("quota-high", 1_000);
    let store = store_with(&dir, &[&quota]);
    let (ana, ben) = (person("101", "ana"), person("102", "ben"));
    store
        .acknowledge(&quota, &ana, Timestamp(5_000))
        .await
        .unwrap();

    assert!(store
        .unacknowledge(&quota, &ben, Timestamp(6_000))
        .await
        .unwrap());
    assert_eq!(store.acknowledgement(quota.id()).await.unwrap(), None);
    let again = store.unacknowledge(&quota, &ben, Timestamp(7_000)).await;
    assert!(!again.unwrap(), "nothing left to withdraw");

    let trail: Vec<(i64, String, AuditAction, String)> = store
        .audit_trail(10)
        .await
        .unwrap()
        .into_iter()
        .inspect(|entry| assert_eq!(entry.alert, quota.id()))
        .map(|entry| (entry.at.0, entry.actor.name, entry.action, entry.subject))
        .collect();
    assert_eq!(
        trail,
        [
            (
                6_000,
                "ben".into(),
                AuditAction::Unacknowledged,
                "quota-high bot=b1".into()
            ),
            (
                5_000,
                "ana".into(),
                AuditAction::Acknowledged,
                "quota-high bot=b1".into()
            ),
        ]
    );
    assert_eq!(
        store.audit_trail(1).await.unwrap().len(),
        1,
        "at most the limit"
    );
}

#[tokio::test]
async fn reminders_of_an_acknowledged_alert_are_muted_but_its_resolution_is_delivered() {
    let dir = tempfile::tempdir().unwrap();
    let quota = firing("quota-high", 1_000);
    let other = firing("api-down", 2_000);
    let store = Arc::new(store_with(&dir, &[&quota, &other]));
    let ana = person("101", "ana");
    store
        .acknowledge(&quota, &ana, Timestamp(5_000))
        .await
        .unwrap();
    let events = vec![
        event(&quota, Transition::Reminder),
        event(&other, Transition::Reminder),
        event(&quota, Transition::Resolved),
    ];
    store
        .commit_poll(
            &poll(Changes {
                events,
                ..Changes::default()
            })
            .borrowed(),
        )
        .unwrap();

    let recorder = Arc::new(Recorder::default());
    let mute = Mute::new(store.clone());
    let metrics = Arc::new(Metrics::new());
    let delivery = Delivery::new(store.clone(), mute, recorder.clone(), metrics.clone());
    assert_eq!(delivery.deliver_due().await.unwrap(), Pass::Drained);

    let delivered: Vec<String> = recorder
        .delivered()
        .into_iter()
        .map(|(_, e)| e.summary)
        .collect();
    assert_eq!(delivered, ["api-down Reminder", "quota-high Resolved"]);
    assert_eq!(
        store.outbox_len().await.unwrap(),
        0,
        "the muted reminder left the outbox too"
    );
    let counted = metrics.encode();
    assert!(
        counted.contains("botwatch_notifications_total{outcome=\"muted\"} 1"),
        "{counted}"
    );
}
