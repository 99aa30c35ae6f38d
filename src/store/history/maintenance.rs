//! Keeping history within its bounds while botwatch runs: once a minute, a pass over every
//! bot rolls samples older than the full-resolution window into five-minute rollups and
//! drops what is older than `history`. Each step is a few milliseconds of it (many bots with
//! nothing due, or part of one with much), so polls are never held up behind a long one; the
//! store decides where a step runs (SQLite: on the blocking pool).

use std::sync::Arc;
use std::time::Duration;

use super::MaintenanceStep;
use crate::shutdown::Shutdown;
use crate::store::History;
use crate::time::Timestamp;

/// How often a pass starts.
pub const EVERY: Duration = Duration::from_secs(60);
/// Steps in one pass at most: a pass over a million bots ends even if bots keep coming.
const STEPS_PER_PASS: usize = 1_000_000;

/// Runs passes until `shutdown`.
pub async fn maintain(store: Arc<dyn History>, mut shutdown: Shutdown) {
    while !shutdown.is_triggered() {
        let done = pass(&store, &shutdown).await;
        if done.samples + done.rollups > 0 {
            tracing::debug!(
                samples = done.samples,
                rollups = done.rollups,
                "history compacted"
            );
        }
        tokio::select! {
            _ = tokio::time::sleep(EVERY) => {}
            _ = shutdown.wait() => {}
        }
    }
}

/// One pass over every bot; what it rolled up or dropped.
pub async fn pass(store: &Arc<dyn History>, shutdown: &Shutdown) -> MaintenanceStep {
    let mut total = MaintenanceStep::default();
    for _ in 0..STEPS_PER_PASS {
        if shutdown.is_triggered() {
            break;
        }
        match store.compact_history(Timestamp::now()).await {
            Ok(step) if step.pass_done => {
                total.pass_done = true;
                break;
            }
            Ok(step) => {
                total.samples += step.samples;
                total.rollups += step.rollups;
            }
            Err(error) => {
                tracing::warn!(%error, "could not compact history; trying again in a minute");
                break;
            }
        }
    }
    total
}
