//! The delivery loop: from the store's [`Outbox`] to a [`Notifier`], with retries, in order.
//!
//! Each pass claims what is due and completes every claim: an event leaves the outbox only
//! when the notifier accepted it, so a crash or restart resumes where it stopped. A retryable failure stops the pass and waits (the receiver's
//! `retry after`, or exponential backoff), keeping events in the order they happened; a
//! rejected event is parked for inspection and never looped on. What the [`Mute`] stage mutes
//! (reminders of acknowledged alerts) leaves the outbox without reaching the notifier.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use super::mute::Mute;
use super::{DeliveryError, Notifier};
use crate::backoff::exponential;
use crate::metrics::Metrics;
use crate::shutdown::Shutdown;
use crate::store::{Completion, Outbox, OutboxItem, StoreError};
use crate::time::Timestamp;

/// Events handed over per database read.
const BATCH: usize = 500;
/// Longest wait between retries of one event.
const MAX_BACKOFF: Duration = Duration::from_secs(300);
/// When nothing wakes the loop, it still looks at the outbox this often.
const IDLE_CHECK: Duration = Duration::from_secs(30);
/// How long a claim lasts: longer than any pass takes (a pass stops at its first retryable
/// failure), so that only a deliverer that stopped loses its claims to another.
const CLAIM_LEASE: Duration = Duration::from_secs(600);

/// Delivers the outbox through one notifier.
#[derive(Clone)]
pub struct Delivery {
    store: Arc<dyn Outbox>,
    mute: Mute,
    notifier: Arc<dyn Notifier>,
    wake: Arc<Notify>,
    metrics: Arc<Metrics>,
}

/// What one delivery pass ended with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    /// Everything due was delivered (or parked).
    Drained,
    /// A retryable failure: try again after this long.
    RetryIn(Duration),
}

impl Delivery {
    /// Delivers the outbox of `store` through `notifier`, but what `mute` mutes.
    pub fn new(
        store: Arc<dyn Outbox>,
        mute: Mute,
        notifier: Arc<dyn Notifier>,
        metrics: Arc<Metrics>,
    ) -> Delivery {
        Delivery {
            store,
            mute,
            notifier,
            wake: Arc::new(Notify::new()),
            metrics,
        }
    }

    /// Tells the delivery loop that new events were committed.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Delivers every due event once, in order; stops at a retryable failure and says when
    /// to try again.
    pub async fn deliver_due(&self) -> Result<Pass, StoreError> {
        loop {
            let claimed = self
                .store
                .claim(Timestamp::now(), BATCH, CLAIM_LEASE)
                .await?;
            if claimed.is_empty() {
                return self.waiting().await;
            }
            let (due, muted) = self.mute.split(claimed).await;
            let mut results = match due.is_empty() {
                true => Vec::new(),
                false => self.notifier.deliver_batch(&due).await,
            };
            let attempted = results.len();
            let mut retry_in: Option<Duration> = None;
            let mut store_error = None;
            for (item, is_muted) in due
                .iter()
                .map(|i| (i, false))
                .chain(muted.iter().map(|i| (i, true)))
            {
                let completion = if is_muted {
                    self.metrics.delivery("muted");
                    (Completion::Delivered, None)
                } else {
                    // Items after a retryable failure were not attempted: they stay due.
                    match results.iter().position(|(id, _)| *id == item.id) {
                        Some(at) => self.completion(item, results.swap_remove(at).1),
                        None => (Completion::Released, None),
                    }
                };
                if let Some(wait) = completion.1 {
                    retry_in = Some(retry_in.map_or(wait, |w| w.min(wait)));
                }
                // Every claim is completed even after one could not be: a claim left behind
                // holds its event back for the whole lease.
                if let Err(error) = self.store.complete(item.id, completion.0).await {
                    store_error.get_or_insert(error);
                }
            }
            if let Some(error) = store_error {
                return Err(error);
            }
            if attempted == 0 && !due.is_empty() {
                // A notifier that tried nothing: do not spin on it.
                return Ok(Pass::RetryIn(Duration::from_secs(1)));
            }
            if let Some(wait) = retry_in {
                return Ok(Pass::RetryIn(wait));
            }
        }
    }

    /// `Drained` when nothing waits, else how long until the next retry is due.
    async fn waiting(&self) -> Result<Pass, StoreError> {
        let depth = self.store.outbox_len().await?;
        self.metrics
            .outbox_depth
            .set(i64::try_from(depth).unwrap_or(i64::MAX));
        Ok(match self.store.next_attempt_at().await? {
            Some(at) => Pass::RetryIn(at.since(Timestamp::now()).max(Duration::from_millis(10))),
            None => Pass::Drained,
        })
    }

    /// What a delivery outcome makes of the item's claim, and when to try again if it failed.
    fn completion(
        &self,
        item: &OutboxItem,
        result: Result<(), DeliveryError>,
    ) -> (Completion, Option<Duration>) {
        let id = item.id;
        match result {
            Ok(()) => {
                self.metrics.delivery("delivered");
                (Completion::Delivered, None)
            }
            Err(DeliveryError::Retry { reason, after }) => {
                self.metrics.delivery("retried");
                let wait = after.unwrap_or_else(|| exponential(item.attempts, MAX_BACKOFF));
                tracing::warn!(id, rule = %item.event.key.rule, bot = %item.event.key.bot_id, %reason, retry_in = ?wait, "notification not delivered; will retry");
                let retry_at = Timestamp::now().plus(wait);
                (
                    Completion::Failed {
                        error: reason,
                        retry_at,
                    },
                    Some(wait),
                )
            }
            Err(DeliveryError::Rejected(reason)) => {
                self.metrics.delivery("parked");
                tracing::error!(id, rule = %item.event.key.rule, bot = %item.event.key.bot_id, %reason, "notification rejected; parked in the outbox for inspection");
                (Completion::Parked { error: reason }, None)
            }
        }
    }

    /// Delivers until shutdown, then makes a last pass bounded by `drain`.
    pub async fn run(self, mut shutdown: Shutdown, drain: Duration) {
        while !shutdown.is_triggered() {
            let wait = match self.deliver_due().await {
                Ok(Pass::Drained) => IDLE_CHECK,
                Ok(Pass::RetryIn(wait)) => wait,
                Err(error) => {
                    tracing::error!(%error, "cannot read the outbox; retrying");
                    Duration::from_secs(1)
                }
            };
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(wait) => {}
                _ = shutdown.wait() => {}
            }
        }
        match tokio::time::timeout(drain, self.deliver_due()).await {
            Ok(Ok(Pass::Drained)) => {}
            Ok(Ok(Pass::RetryIn(_))) | Err(_) => {
                tracing::warn!("shutting down with notifications still in the outbox; they are delivered at the next start")
            }
            Ok(Err(error)) => tracing::error!(%error, "cannot read the outbox while shutting down"),
        }
    }
}
