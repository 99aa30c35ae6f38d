//! The outbox of the SQLite store as a deliverer sees it: what is claimed is nobody else's until
//! it is completed or its lease runs out; every way of completing a claim does what it says;
//! claims of a process that stopped are void when the file is opened again; and a parked
//! notification written by an earlier release (due "at the end of time") is parked after the
//! migration.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use botwatch::alerts::{AlertEvent, AlertKey, Changes, Transition};
use botwatch::rules::{ApiStatus, Severity};
use botwatch::store::{BotStates, Completion, Outbox, PollCommit, SqliteStore};
use botwatch::time::Timestamp;

const NOW: Timestamp = Timestamp(1_796_227_200_000);
const LEASE: Duration = Duration::from_secs(600);

fn event(rule: &str, transition: Transition) -> AlertEvent {
    AlertEvent {
        transition,
        key: AlertKey {
            rule: rule.into(),
            bot_id: "b1".into(),
            platform: None,
        },
        bot_name: "Support".into(),
        severity: Severity::Warning,
        labels: BTreeMap::new(),
        summary: format!("{rule} {transition:?}"),
        description: None,
        value: None,
        active_since: NOW,
        fired_at: Some(NOW),
        at: NOW,
        channel: None,
    }
}

/// A store at `path` whose outbox holds `events`, committed with one poll, in order.
fn store_with(path: &Path, events: Vec<AlertEvent>) -> SqliteStore {
    let store = SqliteStore::open(path, Duration::from_secs(3600)).unwrap();
    let changes = Changes {
        events,
        ..Changes::default()
    };
    store
        .commit_poll(&PollCommit {
            bot_id: "b1",
            at: NOW,
            snapshot: None,
            last_known: None,
            api: &ApiStatus::up(),
            changes: &changes,
        })
        .unwrap();
    store
}

fn summaries(items: &[botwatch::store::OutboxItem]) -> Vec<&str> {
    items.iter().map(|i| i.event.summary.as_str()).collect()
}

#[tokio::test]
async fn a_claimed_notification_is_claimed_again_only_once_its_lease_runs_out() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with(
        &dir.path().join("s.db"),
        vec![event("quota", Transition::Fired)],
    );
    let first = store.claim(NOW, 10, LEASE).await.unwrap();
    assert_eq!(summaries(&first), ["quota Fired"]);
    assert!(
        store.claim(NOW, 10, LEASE).await.unwrap().is_empty(),
        "claimed: not handed out twice"
    );
    let before_the_end = NOW.plus(LEASE - Duration::from_millis(1));
    assert!(store
        .claim(before_the_end, 10, LEASE)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        store.next_attempt_at().await.unwrap(),
        Some(NOW.plus(LEASE)),
        "due again when the claim runs out"
    );
    let again = store.claim(NOW.plus(LEASE), 10, LEASE).await.unwrap();
    assert_eq!(
        summaries(&again),
        ["quota Fired"],
        "a stopped deliverer's claim expires"
    );
}

#[tokio::test]
async fn each_completion_does_what_it_says_and_events_of_one_alert_stay_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with(
        &dir.path().join("s.db"),
        vec![
            event("quota", Transition::Fired),
            event("quota", Transition::Resolved),
            event("flag", Transition::Fired),
            event("other", Transition::Fired),
        ],
    );
    let claimed = store.claim(NOW, 10, LEASE).await.unwrap();
    assert_eq!(
        summaries(&claimed),
        ["quota Fired", "flag Fired", "other Fired"],
        "a resolution waits for the firing it resolves"
    );
    let (quota, flag, other) = (claimed[0].id, claimed[1].id, claimed[2].id);
    let retry_at = NOW.plus(Duration::from_secs(30));
    store
        .complete(
            quota,
            Completion::Failed {
                error: "503".into(),
                retry_at,
            },
        )
        .await
        .unwrap();
    store.complete(flag, Completion::Delivered).await.unwrap();
    store.complete(other, Completion::Released).await.unwrap();

    let now = store.claim(NOW, 10, LEASE).await.unwrap();
    assert_eq!(
        summaries(&now),
        ["other Fired"],
        "released: due at once; failed: not before its retry; delivered: gone"
    );
    assert_eq!(now[0].attempts, 0, "a release is no attempt");
    store
        .complete(now[0].id, Completion::Delivered)
        .await
        .unwrap();
    assert_eq!(store.next_attempt_at().await.unwrap(), Some(retry_at));

    let later = store.claim(retry_at, 10, LEASE).await.unwrap();
    assert_eq!(summaries(&later), ["quota Fired"]);
    assert_eq!(later[0].attempts, 1);
    store
        .complete(
            later[0].id,
            Completion::Parked {
                error: "400".into(),
            },
        )
        .await
        .unwrap();
    let last = store.claim(retry_at, 10, LEASE).await.unwrap();
    assert_eq!(
        summaries(&last),
        ["quota Resolved"],
        "a parked firing holds its resolution back no longer"
    );
    store
        .complete(last[0].id, Completion::Delivered)
        .await
        .unwrap();
    assert_eq!(
        store.next_attempt_at().await.unwrap(),
        None,
        "parked: never due"
    );
    assert_eq!(store.outbox_len().await.unwrap(), 1, "parked: kept");
}

#[tokio::test]
async fn claims_of_a_process_that_stopped_are_released_when_the_file_is_opened() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let store = store_with(&path, vec![event("quota", Transition::Fired)]);
    assert_eq!(store.claim(NOW, 10, LEASE).await.unwrap().len(), 1);
    drop(store);

    let reopened = SqliteStore::open(&path, Duration::from_secs(3600)).unwrap();
    let claimed = reopened.claim(NOW, 10, LEASE).await.unwrap();
    assert_eq!(summaries(&claimed), ["quota Fired"]);
}

#[tokio::test]
async fn a_notification_parked_by_an_earlier_release_is_parked_after_the_migration() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    drop(store_with(
        &path,
        vec![
            event("quota", Transition::Fired),
            event("quota", Transition::Resolved),
        ],
    ));
    // The file as version 5 left it: no claim or parked columns, parked = due at i64::MAX,
    // no alert ids, no acknowledgements.
    let old = rusqlite::Connection::open(&path).unwrap();
    old.execute_batch(
        "DROP TABLE acknowledgements;
         DROP TABLE audit;
         DROP INDEX alert_instances_by_id;
         ALTER TABLE alert_instances DROP COLUMN alert_id;
         ALTER TABLE outbox DROP COLUMN claimed_until;
         ALTER TABLE outbox DROP COLUMN parked;
         UPDATE outbox SET next_attempt_at = 9223372036854775807, attempts = 1
           WHERE id = (SELECT MIN(id) FROM outbox);
         PRAGMA user_version = 5;",
    )
    .unwrap();
    drop(old);

    let store = SqliteStore::open(&path, Duration::from_secs(3600)).unwrap();
    let claimed = store.claim(NOW, 10, LEASE).await.unwrap();
    assert_eq!(
        summaries(&claimed),
        ["quota Resolved"],
        "the parked firing is not due and holds nothing back"
    );
    store
        .complete(claimed[0].id, Completion::Delivered)
        .await
        .unwrap();
    assert_eq!(store.next_attempt_at().await.unwrap(), None);
    assert_eq!(store.outbox_len().await.unwrap(), 1);
}
