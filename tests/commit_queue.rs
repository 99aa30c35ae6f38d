//! The writer of polls against a real SQLite file: quiet polls are handed over without waiting
//! for the disk and written with the next group; a poll that is waited for is written at once,
//! together with every quiet poll handed over before it; nothing waiting is lost at a flush.

use std::sync::Arc;
use std::time::Duration;

use botwatch::alerts::Changes;
use botwatch::analytics::Snapshot;
use botwatch::rules::ApiStatus;
use botwatch::store::{BotStates, CommitQueue, OwnedPollCommit, SqliteStore};
use botwatch::time::Timestamp;

/// Longer than any wait below that is expected to end: a test that hangs fails here.
const PATIENCE: Duration = Duration::from_secs(10);

fn poll(bot_id: &str, consumption: i64) -> OwnedPollCommit {
    let snapshot = Snapshot {
        line_quota: Some(1000),
        line_quota_consumption: Some(consumption),
        ..Snapshot::default()
    };
    OwnedPollCommit {
        bot_id: bot_id.into(),
        at: Timestamp::now(),
        snapshot: Some(snapshot.clone()),
        last_known: Some(snapshot),
        api: ApiStatus::up(),
        changes: Changes::default(),
    }
}

async fn consumption(store: &SqliteStore, bot_id: &str) -> Option<i64> {
    let record = store.load_bot(bot_id).await.unwrap();
    record.last_snapshot?.1.line_quota_consumption
}

fn open(dir: &tempfile::TempDir) -> (Arc<SqliteStore>, CommitQueue) {
    let path = dir.path().join("state.db");
    let store = Arc::new(SqliteStore::open(&path, Duration::from_secs(3600)).unwrap());
    let queue = CommitQueue::start(store.clone()).unwrap();
    (store, queue)
}

/// Holds SQLite's write lock on the state file until dropped, as a slow disk would.
fn lock_the_database(dir: &tempfile::TempDir) -> rusqlite::Connection {
    let db = rusqlite::Connection::open(dir.path().join("state.db")).unwrap();
    db.execute_batch("BEGIN IMMEDIATE").unwrap();
    db
}

#[tokio::test]
async fn a_quiet_poll_is_handed_over_without_waiting_for_the_disk_and_written_by_a_flush() {
    let dir = tempfile::tempdir().unwrap();
    let (store, queue) = open(&dir);
    let lock = lock_the_database(&dir);

    tokio::time::timeout(PATIENCE, queue.record(poll("b1", 700)))
        .await
        .expect("handing a quiet poll over does not wait for the locked database");
    let flushed = tokio::time::timeout(Duration::from_millis(500), queue.flush()).await;
    assert!(flushed.is_err(), "a flush waits until the poll is written");

    drop(lock);
    tokio::time::timeout(PATIENCE, queue.flush())
        .await
        .expect("the flush ends once the database is free")
        .unwrap();
    assert_eq!(consumption(&store, "b1").await, Some(700));
}

#[tokio::test]
async fn a_poll_waited_for_is_written_with_every_quiet_poll_handed_over_before_it() {
    let dir = tempfile::tempdir().unwrap();
    let (store, queue) = open(&dir);
    for consumption in [100, 101, 102] {
        queue.record(poll("quiet", consumption)).await;
    }
    queue.record(poll("other", 5)).await;
    tokio::time::timeout(PATIENCE, queue.commit(poll("urgent", 900)))
        .await
        .expect("an urgent poll does not linger")
        .unwrap();
    assert_eq!(consumption(&store, "urgent").await, Some(900));
    assert_eq!(
        consumption(&store, "quiet").await,
        Some(102),
        "in the order handed over"
    );
    assert_eq!(consumption(&store, "other").await, Some(5));
}

#[tokio::test]
async fn quiet_polls_are_written_within_the_linger_without_a_flush() {
    let dir = tempfile::tempdir().unwrap();
    let (store, queue) = open(&dir);
    queue.record(poll("b1", 300)).await;
    let deadline = tokio::time::Instant::now() + PATIENCE;
    // Bounded: PATIENCE ÷ the check interval.
    while consumption(&store, "b1").await.is_none() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "a quiet poll was never written"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(consumption(&store, "b1").await, Some(300));
}
