//! The mute stage: notifications nobody should get, taken out before any sink sees them.
//!
//! A reminder of an alert somebody acknowledged is not sent: the acknowledgement says that
//! somebody has it, and a reminder would only ping the channel again. Its resolution still
//! is. Muting suppresses notifications, never state: the alert keeps firing and resolving
//! inside, and a muted event leaves the outbox as if delivered.

use std::sync::Arc;

use crate::alerts::{AlertEvent, Transition};
use crate::store::{Acknowledgements, OutboxItem};

/// Decides which events are not to be sent.
#[derive(Clone)]
pub struct Mute {
    acknowledgements: Arc<dyn Acknowledgements>,
}

impl Mute {
    /// Mutes by the acknowledgements in `acknowledgements`.
    pub fn new(acknowledgements: Arc<dyn Acknowledgements>) -> Mute {
        Mute { acknowledgements }
    }

    /// Whether `event` is to be left unsent. A store that cannot answer mutes nothing: a
    /// reminder too many is better than one lost.
    pub async fn mutes(&self, event: &AlertEvent) -> bool {
        if event.transition != Transition::Reminder {
            return false;
        }
        match self
            .acknowledgements
            .acknowledgement(event.alert_id())
            .await
        {
            Ok(found) => found.is_some(),
            Err(error) => {
                tracing::warn!(%error, alert = %event.key, "cannot read acknowledgements; the reminder is sent");
                false
            }
        }
    }

    /// `items` split into those to deliver and those muted, each in order.
    pub async fn split(&self, items: Vec<OutboxItem>) -> (Vec<OutboxItem>, Vec<OutboxItem>) {
        let mut deliver = Vec::with_capacity(items.len());
        let mut muted = Vec::new();
        for item in items {
            if self.mutes(&item.event).await {
                muted.push(item);
            } else {
                deliver.push(item);
            }
        }
        (deliver, muted)
    }
}
