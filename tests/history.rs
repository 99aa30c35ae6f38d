//! Snapshot history in the SQLite store: samples for the last two days, five-minute rollups
//! beyond, pruning past the retention, each read answering from whichever tier holds the
//! time asked for, and a state file of the previous release migrated with nothing lost.

use std::time::Duration;

use botwatch::alerts::Changes;
use botwatch::analytics::{Field, FieldValue, Snapshot};
use botwatch::rules::ApiStatus;
use botwatch::store::history::MaintenanceStep;
use botwatch::store::{BotStates, CardKey, Cards, History, Outbox, PollCommit, SqliteStore};
use botwatch::time::Timestamp;

const MINUTE: i64 = 60_000;
const DAY: i64 = 24 * 60 * MINUTE;
/// An instant well past the epoch, on a five-minute boundary.
const NOW: i64 = 1_796_227_200_000;

/// The simulator's kind of bot: consumption growing every poll, the rest stable.
fn sample(minute: i64) -> Snapshot {
    Snapshot {
        line_quota: Some(1_000_000),
        line_quota_consumption: Some(1_000 + 7 * minute),
        line_reply_amounts: Some(40),
        line_program: Some("pro".into()),
        line_is_integration: Some(true),
        fb_average_conversation_time: Some(340),
        ..Snapshot::default()
    }
}

/// Polls `bot` once a minute from `from` (minutes before NOW) up to NOW.
fn poll_minutes(store: &SqliteStore, bot: &str, minutes_back: i64) {
    let api = ApiStatus::default();
    let changes = Changes::default();
    for minute in (-minutes_back)..=0 {
        let snapshot = sample(minute);
        store
            .commit_poll(&PollCommit {
                bot_id: bot,
                at: Timestamp(NOW + minute * MINUTE),
                snapshot: Some(&snapshot),
                last_known: None,
                api: &api,
                changes: &changes,
            })
            .unwrap();
    }
}

/// Maintenance passes until one finds nothing to do; the steps taken.
async fn compact(store: &SqliteStore) -> Vec<MaintenanceStep> {
    let mut steps = Vec::new();
    for _ in 0..1000 {
        let step = store.compact_history(Timestamp(NOW)).await.unwrap();
        steps.push(step);
        if step.pass_done {
            return steps;
        }
    }
    panic!("maintenance never finished a pass");
}

/// Every value of b1's consumption the store holds, up to NOW.
async fn every_consumption(store: &SqliteStore) -> Vec<(Timestamp, FieldValue)> {
    store
        .values(
            "b1",
            Field::LineQuotaConsumption,
            Timestamp(0),
            Timestamp(NOW),
        )
        .await
        .unwrap()
}

fn consumption_at(minute: i64) -> FieldValue {
    FieldValue::Int(1_000 + 7 * minute)
}

fn store(dir: &tempfile::TempDir, history: Duration) -> SqliteStore {
    SqliteStore::open(&dir.path().join("state.db"), history).unwrap()
}

#[tokio::test]
async fn every_polled_snapshot_reads_back_exactly_from_its_samples() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir, Duration::from_secs(30 * 86_400));
    // 600 samples: key frames and deltas over more than two key intervals.
    poll_minutes(&store, "b1", 599);
    let history = store.history("b1", Timestamp(0)).await.unwrap();
    assert_eq!(history.len(), 600);
    for (at, snapshot) in &history {
        assert_eq!(*snapshot, sample((at.0 - NOW) / MINUTE));
    }
    let since = store
        .history("b1", Timestamp(NOW - 10 * MINUTE))
        .await
        .unwrap();
    assert_eq!(since.len(), 11, "a read from the middle of a chain");
    assert_eq!(since[0].1, sample(-10));
    assert!(store
        .history("other", Timestamp(0))
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn a_restarted_store_continues_the_history_its_predecessor_wrote() {
    let dir = tempfile::tempdir().unwrap();
    poll_minutes(&store(&dir, Duration::from_secs(86_400)), "b1", 30);
    let reopened = store(&dir, Duration::from_secs(86_400));
    let api = ApiStatus::default();
    let next = sample(1);
    reopened
        .commit_poll(&PollCommit {
            bot_id: "b1",
            at: Timestamp(NOW + MINUTE),
            snapshot: Some(&next),
            last_known: None,
            api: &api,
            changes: &Changes::default(),
        })
        .unwrap();
    let history = reopened.history("b1", Timestamp(0)).await.unwrap();
    assert_eq!(history.len(), 32);
    assert_eq!(history.last().unwrap().1, next);
}

#[tokio::test]
async fn samples_older_than_two_days_become_five_minute_rollups_that_reads_still_answer() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir, Duration::from_secs(30 * 86_400));
    let three_days = 3 * DAY / MINUTE;
    poll_minutes(&store, "b1", three_days);
    let steps = compact(&store).await;
    let rolled: usize = steps.iter().map(|s| s.samples).sum();
    assert_eq!(
        rolled as i64,
        DAY / MINUTE,
        "the oldest day of samples, rolled up"
    );
    // Samples remain for the last two days only, and still decode.
    let history = store.history("b1", Timestamp(0)).await.unwrap();
    assert_eq!(history.first().unwrap().0, Timestamp(NOW - 2 * DAY));
    assert_eq!(history.first().unwrap().1, sample(-2 * DAY / MINUTE));
    // A minute in the rolled-up day answers with its bucket's last value.
    let old = NOW - 2 * DAY - 3 * 60 * MINUTE + 2 * MINUTE;
    let bucket = NOW - 2 * DAY - 3 * 60 * MINUTE;
    let last_of_bucket = (bucket - NOW) / MINUTE + 4;
    assert_eq!(
        store
            .value_at("b1", Field::LineQuotaConsumption, Timestamp(old))
            .await
            .unwrap(),
        Some((Timestamp(bucket), consumption_at(last_of_bucket)))
    );
    // A recent instant between two samples answers with the sample before it.
    assert_eq!(
        store
            .value_at("b1", Field::LineQuotaConsumption, Timestamp(NOW - 30_000))
            .await
            .unwrap(),
        Some((Timestamp(NOW - MINUTE), consumption_at(-1)))
    );
    // Every value over the three days: one per five minutes, then one per minute.
    let values = every_consumption(&store).await;
    assert_eq!(
        values.len() as i64,
        DAY / (5 * MINUTE) + 2 * DAY / MINUTE + 1
    );
    assert!(values.windows(2).all(|w| w[0].0 < w[1].0), "in time order");
}

#[tokio::test]
async fn hourly_summaries_over_three_days_give_each_hours_range_and_last_value() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir, Duration::from_secs(30 * 86_400));
    poll_minutes(&store, "b1", 3 * DAY / MINUTE);
    compact(&store).await;
    let hour = Duration::from_secs(3600);
    let summaries = store
        .summaries(
            "b1",
            Field::LineQuotaConsumption,
            Timestamp(0),
            Timestamp(NOW),
            hour,
        )
        .await
        .unwrap();
    // 72 whole hours and the single sample at NOW.
    assert_eq!(summaries.len(), 73);
    for summary in &summaries[..72] {
        let first = (summary.start.0 - NOW) / MINUTE;
        let last = first + 59;
        assert_eq!(summary.range, Some((1_000 + 7 * first, 1_000 + 7 * last)));
        assert_eq!(summary.last, consumption_at(last));
    }
    let text = store
        .summaries("b1", Field::LineProgram, Timestamp(0), Timestamp(NOW), hour)
        .await
        .unwrap();
    assert_eq!(text[0].last, FieldValue::Text("pro".into()));
    assert_eq!(text[0].range, None);
}

#[tokio::test]
async fn history_past_the_retention_is_dropped_in_short_steps() {
    let dir = tempfile::tempdir().unwrap();
    // Five days kept of six days of samples at one a minute: 5,760 older than two days.
    let store = store(&dir, Duration::from_secs(5 * 86_400));
    poll_minutes(&store, "b1", 6 * DAY / MINUTE);
    let steps = compact(&store).await;
    assert!(
        steps.len() >= 2,
        "more than one step for one bot: {steps:?}"
    );
    assert!(steps.iter().all(|s| s.samples <= 5_000), "{steps:?}");
    let values = every_consumption(&store).await;
    assert_eq!(
        values[0].0,
        Timestamp(NOW - 5 * DAY),
        "nothing older than five days"
    );
    assert_eq!(
        store
            .value_at(
                "b1",
                Field::LineQuotaConsumption,
                Timestamp(NOW - 5 * DAY - MINUTE)
            )
            .await
            .unwrap(),
        None
    );
    // A later pass finds nothing more to do.
    let again = compact(&store).await;
    assert_eq!(
        again.iter().map(|s| s.samples + s.rollups).sum::<usize>(),
        0
    );
}

#[tokio::test]
async fn a_state_file_of_the_previous_release_is_migrated_with_its_history_alerts_outbox_and_cards()
{
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    // Made by botwatch at 5b6900b (schema 3, JSON snapshots): five polls of bot b1, alert
    // `stays` firing, `quota`'s resolution waiting in the outbox after one failed attempt.
    std::fs::copy("tests/fixtures/state-v3.db", &path).unwrap();
    let store = SqliteStore::open(&path, Duration::from_secs(30 * 86_400)).unwrap();
    let history = store.history("b1", Timestamp(0)).await.unwrap();
    let consumption: Vec<Option<i64>> = history
        .iter()
        .map(|(_, s)| s.line_quota_consumption)
        .collect();
    assert_eq!(
        consumption,
        [Some(100), Some(850), Some(900), Some(950), Some(100)]
    );
    assert_eq!(history[2].1.line_program.as_deref(), Some("pro"));
    assert_eq!(history[0].1.fb_average_conversation_time, Some(340));
    assert_eq!(history[0].1.fb_is_integration, Some(false));
    let record = store.load_bot("b1").await.unwrap();
    let (_, last_known) = record
        .last_snapshot
        .expect("the last known figures, as JSON");
    assert_eq!(
        (
            last_known.line_quota_consumption,
            last_known.fb_average_conversation_time
        ),
        (Some(100), Some(340))
    );
    let firing: Vec<&str> = record
        .instances
        .iter()
        .map(|i| i.key.rule.as_str())
        .collect();
    assert_eq!(firing, ["stays"]);
    let stays = &record.instances[0];
    assert_eq!(
        store.find_alert(stays.id()).await.unwrap().as_ref(),
        Some(stays),
        "an alert stored before alerts had ids is found by the id its buttons will carry"
    );
    let due = store
        .claim(Timestamp(i64::MAX / 2), 10, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(
        (due[0].event.key.rule.as_str(), due[0].attempts),
        ("quota", 1)
    );
    assert_eq!(due[0].done, Default::default(), "no step recorded yet");
    let card = CardKey {
        alert: &due[0].event.key,
        fired_at: due[0].event.fired_at.unwrap(),
        destination: "ops",
    };
    assert!(
        store.card(&card).await.unwrap().is_some(),
        "the resolution still finds its card"
    );
    drop(store);
    let connection = rusqlite::Connection::open(&path).unwrap();
    let old_table: i64 = connection
        .query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE name = 'snapshots'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(old_table, 0, "the JSON snapshots are gone once moved");
}

#[tokio::test]
async fn polls_committed_together_are_each_written_even_two_of_one_bot() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir, Duration::from_secs(86_400));
    let api = ApiStatus::default();
    let changes = Changes::default();
    let snapshots: Vec<(String, i64, Snapshot)> = (0..50)
        .map(|i| (format!("b{}", i % 10), i / 10, sample(i)))
        .collect();
    let commits: Vec<PollCommit<'_>> = snapshots
        .iter()
        .map(|(bot, minute, snapshot)| PollCommit {
            bot_id: bot,
            at: Timestamp(NOW + minute * MINUTE),
            snapshot: Some(snapshot),
            last_known: None,
            api: &api,
            changes: &changes,
        })
        .collect();
    // Each bot's first sample alone, so the batch's samples are deltas on a chain.
    let first = sample(-1);
    for commit in &commits[..10] {
        let alone = PollCommit {
            at: Timestamp(NOW - MINUTE),
            snapshot: Some(&first),
            ..*commit
        };
        store.commit_poll(&alone).unwrap();
    }
    let results = store.commit_polls(&commits);
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    for bot in 0..10 {
        let history = store
            .history(&format!("b{bot}"), Timestamp(0))
            .await
            .unwrap();
        let expected: Vec<Snapshot> = std::iter::once(sample(-1))
            .chain((0..5).map(|minute| sample(minute * 10 + bot)))
            .collect();
        let got: Vec<Snapshot> = history.into_iter().map(|(_, s)| s).collect();
        assert_eq!(
            got, expected,
            "b{bot}: five samples, each delta on the one before"
        );
    }
}
