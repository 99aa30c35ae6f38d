//! Each bot's state (last snapshot, API status, pending and firing alerts) and the one write
//! that spans every concern: a poll's commit.
//!
//! A poll's state, its history sample and the events it produced are written in one
//! transaction, so a crash can neither lose an event nor announce one twice. Commits come in
//! groups from the [`CommitQueue`](super::CommitQueue)'s writer thread, which is why that
//! method blocks while the rest of the store is async.

use async_trait::async_trait;

use super::StoreError;
use crate::alerts::{AlertId, AlertInstance, Changes};
use crate::analytics::Snapshot;
use crate::rules::ApiStatus;
use crate::time::Timestamp;

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

/// A [`PollCommit`] that owns what it writes, to hand to another thread (see
/// [`CommitQueue`](super::CommitQueue)).
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

/// Bot state: read when a bot's poll loop starts, written with every poll.
#[async_trait]
pub trait BotStates: Send + Sync + 'static {
    /// What is remembered of a bot (nothing, for a new bot).
    async fn load_bot(&self, bot_id: &str) -> Result<BotRecord, StoreError>;
    /// The alert instance (pending or firing) with this id, if there is one: what a button
    /// or a command names an alert by.
    async fn find_alert(&self, id: AlertId) -> Result<Option<AlertInstance>, StoreError>;
    /// Writes several polls, each all or nothing (state, history sample, events), in as few
    /// transactions as the store can; one result per poll, in order. Blocks the calling
    /// thread: it is called by the commit queue's writer thread, never on the runtime.
    fn commit_polls(&self, commits: &[PollCommit<'_>]) -> Vec<Result<(), StoreError>>;
    /// One poll, as by [`BotStates::commit_polls`]; blocks likewise.
    fn commit_poll(&self, commit: &PollCommit<'_>) -> Result<(), StoreError> {
        self.commit_polls(std::slice::from_ref(commit))
            .pop()
            .unwrap_or_else(|| Err(StoreError::Query("the store wrote nothing".into())))
    }
}
