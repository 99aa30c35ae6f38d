//! The outbox: events committed with their poll and not yet delivered.
//!
//! A deliverer **claims** what is due (the rows are its own for a lease, so that replicas
//! sharing a store never send one event twice), records each step of a delivery the receiver
//! accepted, and **completes** every claimed row: delivered (gone), to retry at a time, or
//! parked for inspection. Events of one alert are claimed in order, one at a time: a
//! resolution never overtakes the firing it resolves.

use std::time::Duration;

use async_trait::async_trait;

use super::StoreError;
use crate::alerts::AlertEvent;
use crate::time::Timestamp;

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

/// How a claimed notification's delivery ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Completion {
    /// The receiver accepted it: it leaves the outbox.
    Delivered,
    /// A retryable failure: due again at `retry_at`.
    Failed {
        /// Why, as the receiver or the transport said.
        error: String,
        /// When to try again.
        retry_at: Timestamp,
    },
    /// Retrying cannot help: kept for inspection, never due again, and holding back no later
    /// notification of its alert.
    Parked {
        /// Why.
        error: String,
    },
    /// Not attempted (the pass stopped before it): due again at once, no attempt counted.
    Released,
}

/// Notifications waiting for delivery.
#[async_trait]
pub trait Outbox: Send + Sync + 'static {
    /// Claims up to `limit` notifications due at `now`, oldest first, for `lease`: nobody else
    /// claims them until they are completed or the lease runs out.
    async fn claim(
        &self,
        now: Timestamp,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<OutboxItem>, StoreError>;
    /// Records that the receiver accepted one step of a claimed notification's delivery.
    async fn record_step(&self, id: i64, step: DeliveryStep) -> Result<(), StoreError>;
    /// Ends a claim.
    async fn complete(&self, id: i64, completion: Completion) -> Result<(), StoreError>;
    /// When the next claim can find something, if anything waits: the earliest time one of
    /// the notifications that are first of their alert (not parked) is due or its claim ends.
    async fn next_attempt_at(&self) -> Result<Option<Timestamp>, StoreError>;
    /// Notifications in the outbox, parked ones included.
    async fn outbox_len(&self) -> Result<usize, StoreError>;
}
