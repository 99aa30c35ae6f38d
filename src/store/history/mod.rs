//! Snapshot history, kept as values rather than documents, in two tiers:
//!
//! - **Samples**, one per poll, for the last [`FULL_RESOLUTION`]: a key frame now and then
//!   and, between them, deltas holding only the fields that changed ([`frame`]). A bot whose
//!   consumption grows every poll and whose other fields are stable costs a few bytes a poll.
//! - **Rollups** beyond it, up to the configured `history`: one row per bot and five minutes
//!   with each field's last value and the range of each count ([`rollup`]).
//!
//! Compaction (samples into rollups) and pruning run apart from the polls, a bot at a time in
//! short transactions ([`Maintenance`](crate::store::Store::compact_history)), never as one
//! long transaction over the whole file. This module is the backend-neutral part: what is
//! stored and how it is encoded; each store keeps the rows its own way.

mod chain;
pub mod frame;
pub mod maintenance;
pub mod rollup;

use std::time::Duration;

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
