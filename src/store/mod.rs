//! Durable state: alert instances, the last good snapshot and API status per bot, snapshot
//! history, and the outbox of notifications not yet delivered.
//!
//! Everything goes through the narrow [`Store`] trait so that the engine makes no SQLite-only
//! assumption: [`SqliteStore`] is the embedded default, and a PostgreSQL store for replicas can
//! implement the same trait. A poll is committed as one transaction (state, snapshot and the
//! events it produced), so a crash can neither lose an event nor announce one twice.

mod commit_queue;
pub mod history;
mod sqlite;

pub use commit_queue::CommitQueue;
pub use sqlite::SqliteStore;

use crate::alerts::{AlertEvent, AlertInstance, AlertKey, Changes};
use crate::analytics::{Field, FieldValue, Snapshot};
use crate::rules::ApiStatus;
use crate::time::Timestamp;
use history::{MaintenanceStep, Summary};

/// A state store failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened or created.
    #[error("cannot open the state file {path}: {message}; check the path and its permissions")]
    Open {
        /// The file.
        path: String,
        /// Why.
        message: String,
    },
    /// The file is not a botwatch state file, or is damaged.
    #[error(
        "the state file {path} is not usable: {message}; move it aside to start with fresh state"
    )]
    Corrupt {
        /// The file.
        path: String,
        /// Why.
        message: String,
    },
    /// Another process holds the file (another botwatch on the same state file?).
    #[error("the state file {path} is locked by another process; is another botwatch using it? Give each instance its own state file")]
    Locked {
        /// The file.
        path: String,
    },
    /// The disk holding the state file is full.
    #[error("the disk holding the state file is full ({0}); free some space")]
    DiskFull(String),
    /// A query failed.
    #[error("state store error: {0}")]
    Query(String),
}

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> Self {
        // Classified by the driver's code, never by the wording of its message.
        match error.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DiskFull) => StoreError::DiskFull(error.to_string()),
            _ => StoreError::Query(error.to_string()),
        }
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(error: serde_json::Error) -> Self {
        StoreError::Query(format!("stored JSON does not decode: {error}"))
    }
}

/// What the store remembers of one bot.
#[derive(Debug, Clone, Default)]
pub struct BotRecord {
    /// The last good snapshot and when it was taken.
    pub last_snapshot: Option<(Timestamp, Snapshot)>,
    /// The API status after the last poll.
    pub api: Option<ApiStatus>,
    /// The bot's pending and firing alert instances.
    pub instances: Vec<AlertInstance>,
}

/// Everything one poll changes, written atomically.
#[derive(Debug)]
pub struct PollCommit<'a> {
    /// The bot polled.
    pub bot_id: &'a str,
    /// When.
    pub at: Timestamp,
    /// The new snapshot as the API sent it, after a successful poll (kept in the history).
    pub snapshot: Option<&'a Snapshot>,
    /// The last known value of every field (what the next poll sees as `previous`).
    pub last_known: Option<&'a Snapshot>,
    /// The API status after the poll.
    pub api: &'a ApiStatus,
    /// Alert state changes and the events to deliver.
    pub changes: &'a Changes,
}

/// A [`PollCommit`] that owns what it writes, to hand to another thread (see [`CommitQueue`]).
#[derive(Debug)]
pub struct OwnedPollCommit {
    /// The bot polled.
    pub bot_id: String,
    /// When.
    pub at: Timestamp,
    /// The new snapshot as the API sent it, after a successful poll.
    pub snapshot: Option<Snapshot>,
    /// The last known value of every field.
    pub last_known: Option<Snapshot>,
    /// The API status after the poll.
    pub api: ApiStatus,
    /// Alert state changes and the events to deliver.
    pub changes: Changes,
}

impl OwnedPollCommit {
    /// The commit, borrowed.
    pub fn borrowed(&self) -> PollCommit<'_> {
        PollCommit {
            bot_id: &self.bot_id,
            at: self.at,
            snapshot: self.snapshot.as_ref(),
            last_known: self.last_known.as_ref(),
            api: &self.api,
            changes: &self.changes,
        }
    }
}

/// Which card: one alert, one firing of it, one destination.
#[derive(Debug, Clone, Copy)]
pub struct CardKey<'a> {
    /// The alert.
    pub alert: &'a AlertKey,
    /// When this firing began (a new firing gets a new card).
    pub fired_at: Timestamp,
    /// The destination's label.
    pub destination: &'a str,
}

/// A notification waiting in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxItem {
    /// Its id, unique for the life of the store (usable as an idempotency key).
    pub id: i64,
    /// The event to deliver.
    pub event: AlertEvent,
    /// Failed delivery attempts so far.
    pub attempts: u32,
    /// The steps of its delivery the receiver already accepted, not to be sent again.
    pub done: Steps,
}

/// One step of delivering an event that takes several requests, recorded once the receiver
/// accepted it so that a retry sends only the steps not yet done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStep {
    /// The alert's card (its first message) was edited to show the event.
    CardEdited,
}

impl DeliveryStep {
    fn bit(self) -> u32 {
        match self {
            DeliveryStep::CardEdited => 1,
        }
    }
}

/// The delivery steps done for one outbox item.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Steps(u32);

impl Steps {
    /// Whether `step` is done.
    pub fn contains(self, step: DeliveryStep) -> bool {
        self.0 & step.bit() != 0
    }

    /// These steps and `step`.
    pub fn with(self, step: DeliveryStep) -> Steps {
        Steps(self.0 | step.bit())
    }

    /// As stored.
    pub(crate) fn bits(self) -> u32 {
        self.0
    }

    /// From what was stored.
    pub(crate) fn from_bits(bits: u32) -> Steps {
        Steps(bits)
    }
}

/// Durable state behind one narrow interface.
pub trait Store: History + Send + Sync + 'static {
    /// What is remembered of a bot (nothing, for a new bot).
    fn load_bot(&self, bot_id: &str) -> Result<BotRecord, StoreError>;
    /// Writes a poll's state changes, snapshot and events in one transaction.
    fn commit_poll(&self, commit: &PollCommit<'_>) -> Result<(), StoreError>;
    /// Writes several polls, each as if by [`Store::commit_poll`] (all or nothing per poll),
    /// in as few transactions as the store can; one result per poll, in order.
    fn commit_polls(&self, commits: &[PollCommit<'_>]) -> Vec<Result<(), StoreError>> {
        commits.iter().map(|c| self.commit_poll(c)).collect()
    }
    /// Notifications due for delivery at `now`, oldest first.
    fn due_notifications(
        &self,
        now: Timestamp,
        limit: usize,
    ) -> Result<Vec<OutboxItem>, StoreError>;
    /// Records that the receiver accepted one step of a notification's delivery.
    fn record_step(&self, id: i64, step: DeliveryStep) -> Result<(), StoreError>;
    /// Removes a delivered notification.
    fn mark_delivered(&self, id: i64) -> Result<(), StoreError>;
    /// Records a failed attempt; the notification is retried from `retry_at`.
    fn mark_failed(&self, id: i64, error: &str, retry_at: Timestamp) -> Result<(), StoreError>;
    /// Parks a notification that retrying cannot help, for inspection: it is never due again
    /// and does not hold back later notifications of its alert.
    fn mark_parked(&self, id: i64, error: &str) -> Result<(), StoreError>;
    /// When the earliest waiting (not parked) notification is due, if any is waiting.
    fn next_attempt_at(&self) -> Result<Option<Timestamp>, StoreError>;
    /// Notifications still in the outbox.
    fn outbox_len(&self) -> Result<usize, StoreError>;
    /// The message id of the card posted for one firing of an alert at a destination.
    fn card(&self, card: &CardKey<'_>) -> Result<Option<String>, StoreError>;
    /// Remembers the card posted for one firing of an alert at a destination.
    fn save_card(&self, card: &CardKey<'_>, message_id: &str) -> Result<(), StoreError>;
    /// Forgets a card once its alert resolved.
    fn forget_card(&self, card: &CardKey<'_>) -> Result<(), StoreError>;
}

/// Snapshot history (see [`history`]): what was written at each poll, at full resolution for
/// the recent past and as five-minute rollups beyond it.
pub trait History: Send + Sync + 'static {
    /// A bot's samples (one per poll) taken at or after `since`, oldest first: the full
    /// resolution part of its history only.
    fn history(
        &self,
        bot_id: &str,
        since: Timestamp,
    ) -> Result<Vec<(Timestamp, Snapshot)>, StoreError>;
    /// A field's value at `at`: that of the last sample taken at or before it, or beyond
    /// the samples, the last value of the five minutes `at` falls in. With when it was taken
    /// (the start of the five minutes, for a rollup).
    fn value_at(
        &self,
        bot_id: &str,
        field: Field,
        at: Timestamp,
    ) -> Result<Option<(Timestamp, FieldValue)>, StoreError>;
    /// Every value of a field from `from` to `to`: each sample's, and one per five minutes
    /// (the last) where only rollups are left.
    fn values(
        &self,
        bot_id: &str,
        field: Field,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<(Timestamp, FieldValue)>, StoreError>;
    /// A field from `from` to `to` in spans of `step` (aligned to multiples of it; at least
    /// five minutes): last value and range per span, for charts.
    fn summaries(
        &self,
        bot_id: &str,
        field: Field,
        from: Timestamp,
        to: Timestamp,
        step: std::time::Duration,
    ) -> Result<Vec<Summary>, StoreError>;
    /// One bounded step of compaction and pruning as of `now`: the next bots in turn, each in
    /// a short transaction of its own, for a few milliseconds at most (a bot with much to do
    /// is done over several steps). Call it until a step says the pass is done.
    fn compact_history(&self, now: Timestamp) -> Result<MaintenanceStep, StoreError>;
    /// Whether writing history is paused because the disk is full, and every change of it.
    fn history_paused(&self) -> tokio::sync::watch::Receiver<bool>;
}

/// Runs a store call on the blocking pool.
pub async fn blocking<T: Send + 'static>(
    call: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(call)
        .await
        .map_err(|e| StoreError::Query(format!("store task failed: {e}")))?
}
