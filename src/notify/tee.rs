//! Console lines alongside another notifier (Discord), without printing an event twice when
//! the other notifier's delivery is retried.

use std::collections::HashSet;
use std::sync::Mutex;

use super::{format_event, BatchFuture, DeliveryFuture, Notifier};
use crate::store::OutboxItem;

/// Prints every event once, then hands it to the inner notifier.
pub struct WithConsole<N> {
    inner: N,
    /// Events printed whose inner delivery has not succeeded yet (bounded by the outbox).
    printed: Mutex<HashSet<i64>>,
}

impl<N: Notifier> WithConsole<N> {
    /// Wraps `inner`.
    pub fn new(inner: N) -> Self {
        WithConsole {
            inner,
            printed: Mutex::new(HashSet::new()),
        }
    }

    fn remember(&self, id: i64, printed: bool) -> bool {
        let mut set = self.printed.lock().unwrap_or_else(|p| p.into_inner());
        if printed {
            set.insert(id)
        } else {
            set.remove(&id)
        }
    }
}

impl<N: Notifier> Notifier for WithConsole<N> {
    fn deliver<'a>(&'a self, item: &'a OutboxItem) -> DeliveryFuture<'a> {
        Box::pin(async move {
            if self.remember(item.id, true) {
                println!("{}", format_event(&item.event));
            }
            let result = self.inner.deliver(item).await;
            if result.is_ok() {
                self.remember(item.id, false);
            }
            result
        })
    }

    fn deliver_batch<'a>(&'a self, items: &'a [OutboxItem]) -> BatchFuture<'a> {
        Box::pin(async move {
            for item in items {
                if self.remember(item.id, true) {
                    println!("{}", format_event(&item.event));
                }
            }
            let results = self.inner.deliver_batch(items).await;
            for (id, result) in &results {
                if result.is_ok() {
                    self.remember(*id, false);
                }
            }
            results
        })
    }
}
