//! The fourth stage: delivering alert events to people.
//!
//! Events are first written to the outbox (in the same transaction as the alert state that
//! produced them); [`Delivery`] then hands each one to a [`Notifier`] and removes it only once
//! the notifier accepted it. A notifier only formats and sends: retries, backoff and
//! durability live here, once, for every notifier. The console notifier ships today; Discord
//! plugs in as another [`Notifier`] without any change to the engine.

mod console;
pub mod delivery;
pub mod digest;
pub mod message;
pub mod mute;
pub mod render;
mod tee;

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

pub use console::{format_event, ConsoleNotifier};
pub use delivery::Delivery;
pub use tee::WithConsole;

use crate::store::OutboxItem;

/// Why a delivery failed, which decides what the outbox does next.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// Worth retrying (rate limit, server error, network); `after` is the server's wish.
    #[error("{reason} (will retry)")]
    Retry {
        /// Why.
        reason: String,
        /// How long the receiver asked us to wait, if it did.
        after: Option<Duration>,
    },
    /// Retrying cannot help (a request the receiver refuses); kept in the outbox for inspection.
    #[error("{0} (not retried; kept in the outbox)")]
    Rejected(String),
}

/// A boxed future, so that notifiers can be used as trait objects.
pub type DeliveryFuture<'a> = Pin<Box<dyn Future<Output = Result<(), DeliveryError>> + Send + 'a>>;

/// The outcome of a batch: per outbox id, for the items that were attempted.
pub type BatchFuture<'a> =
    Pin<Box<dyn Future<Output = Vec<(i64, Result<(), DeliveryError>)>> + Send + 'a>>;

/// Something that tells people about alert events.
pub trait Notifier: Send + Sync + 'static {
    /// Delivers one outbox item's event. Its id is unique per event and stable across retries
    /// and restarts, for receivers that can deduplicate (e.g. a Discord message nonce); its
    /// `done` steps were accepted by an earlier attempt and are not sent again.
    fn deliver<'a>(&'a self, item: &'a OutboxItem) -> DeliveryFuture<'a>;

    /// Delivers the due events, oldest first. Items left out of the result were not tried and
    /// stay due. The default delivers one by one and stops at the first retryable failure;
    /// a notifier with rate limits can merge instead (see [`digest`]).
    fn deliver_batch<'a>(&'a self, items: &'a [OutboxItem]) -> BatchFuture<'a> {
        Box::pin(async move {
            let items: Vec<&OutboxItem> = items.iter().collect();
            deliver_in_order(self, &items).await
        })
    }
}

/// Delivers `items` one by one, in order, stopping at the first retryable failure (later
/// events must not overtake an earlier one that is still waiting).
pub async fn deliver_in_order<N: Notifier + ?Sized>(
    notifier: &N,
    items: &[&OutboxItem],
) -> Vec<(i64, Result<(), DeliveryError>)> {
    let mut results = Vec::with_capacity(items.len());
    for item in items {
        let result = notifier.deliver(item).await;
        let stop = matches!(result, Err(DeliveryError::Retry { .. }));
        results.push((item.id, result));
        if stop {
            break;
        }
    }
    results
}
