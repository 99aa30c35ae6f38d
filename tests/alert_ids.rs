//! Alert ids against a real SQLite file: what a button or a command names an alert by finds
//! that alert while it is pending or firing, and nothing once it resolved.

use std::time::Duration;

use botwatch::alerts::{AlertInstance, AlertKey, Changes, Phase};
use botwatch::rules::ApiStatus;
use botwatch::store::{BotStates, OwnedPollCommit, SqliteStore};
use botwatch::time::Timestamp;

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
    let store = SqliteStore::open(&dir.path().join("s.db"), Duration::from_secs(3600)).unwrap();
    let quota = firing("quota-high", 1_000);
    let other = firing("api-down", 2_000);
    let upserts = vec![quota.clone(), other.clone()];
    store
        .commit_poll(
            &poll(Changes {
                upserts,
                ..Changes::default()
            })
            .borrowed(),
        )
        .unwrap();

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

    let removed = vec![quota.key.clone()];
    store
        .commit_poll(
            &poll(Changes {
                removed,
                ..Changes::default()
            })
            .borrowed(),
        )
        .unwrap();
    assert_eq!(store.find_alert(quota.id()).await.unwrap(), None);
}
