//! Snapshot history, kept as values rather than documents, in two tiers:
//!
//! - **Samples**, one per poll, for the last [`FULL_RESOLUTION`]: a key frame now and then
//!   and, between them, deltas holding only the fields that changed ([`frame`]). A bot whose
//!   consumption grows every poll and whose other fields are stable costs a few bytes a poll.
//! - **Rollups** beyond it, up to the configured `history`: one row per bot and five minutes
//!   with each field's last value and the range of each count ([`rollup`]).
//!
//! Compaction (samples into rollups) and pruning run apart from the polls, a bot at a time in
//! short transactions ([`History::compact_history`]), never as one
//! long transaction over the whole file. This module is the backend-neutral part: what is
//! stored and how it is encoded; each store keeps the rows its own way.

mod chain;
pub mod frame;
pub mod maintenance;
pub mod rollup;

use std::time::Duration;

use super::StoreError;
use crate::analytics::{Field, FieldValue, Snapshot};
use crate::time::Timestamp;

pub use chain::{Chains, Frame};

pub use rollup::{bucket_of, Rollup, Summary, BUCKET_MS};

/// How long samples are kept at full resolution before they are rolled up.
pub const FULL_RESOLUTION: Duration = Duration::from_secs(48 * 3600);

/// What one step of history maintenance did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MaintenanceStep {
    /// Samples rolled up or dropped.
    pub samples: usize,
    /// Rollups dropped past the retention.
    pub rollups: usize,
    /// Whether a pass over every bot ended with this step.
    pub pass_done: bool,
}

/// Snapshot history : what was written at each poll, at full resolution for
/// the recent past and as five-minute rollups beyond it.
#[async_trait::async_trait]
pub trait History: Send + Sync + 'static {
    /// A bot's samples (one per poll) taken at or after `since`, oldest first: the full
    /// resolution part of its history only.
    async fn history(
        &self,
        bot_id: &str,
        since: Timestamp,
    ) -> Result<Vec<(Timestamp, Snapshot)>, StoreError>;
    /// A field's value at `at`: that of the last sample taken at or before it, or beyond
    /// the samples, the last value of the five minutes `at` falls in. With when it was taken
    /// (the start of the five minutes, for a rollup).
    async fn value_at(
        &self,
        bot_id: &str,
        field: Field,
        at: Timestamp,
    ) -> Result<Option<(Timestamp, FieldValue)>, StoreError>;
    /// Every value of a field from `from` to `to`: each sample's, and one per five minutes
    /// (the last) where only rollups are left.
    async fn values(
        &self,
        bot_id: &str,
        field: Field,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<(Timestamp, FieldValue)>, StoreError>;
    /// A field from `from` to `to` in spans of `step` (aligned to multiples of it; at least
    /// five minutes): last value and range per span, for charts.
    async fn summaries(
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
    async fn compact_history(&self, now: Timestamp) -> Result<MaintenanceStep, StoreError>;
    /// Whether writing history is paused because the disk is full, and every change of it.
    fn history_paused(&self) -> tokio::sync::watch::Receiver<bool>;
}
