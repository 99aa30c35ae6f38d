//! The fourth stage: delivering alert events to people.
//!
//! Events are first written to the outbox (in the same transaction as the alert state that
//! produced them); [`Outbox`] then hands each one to a [`Notifier`] and removes it only once
//! the notifier accepted it. A notifier only formats and sends: retries, backoff and
//! durability live here, once, for every notifier. The console notifier ships today; Discord
//! plugs in as another [`Notifier`] without any change to the engine.

mod console;
pub mod outbox;

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

pub use console::{format_event, ConsoleNotifier};
pub use outbox::Outbox;

use crate::alerts::AlertEvent;

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

/// Something that tells people about alert events.
pub trait Notifier: Send + Sync + 'static {
    /// Delivers one event. `id` is unique per event and stable across retries and restarts,
    /// for receivers that can deduplicate (e.g. a Discord message nonce).
    fn deliver<'a>(&'a self, id: i64, event: &'a AlertEvent) -> DeliveryFuture<'a>;
}
