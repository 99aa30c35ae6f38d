//! Which Discord message (card) shows each firing of an alert at each destination, so that
//! later events of the firing edit and reply to it instead of posting anew.

use async_trait::async_trait;

use super::StoreError;
use crate::alerts::AlertKey;
use crate::time::Timestamp;

/// Which card: one alert, one firing of it, one destination.
#[derive(Debug, Clone, Copy)]
pub struct CardKey<'a> {
    /// The alert.
    pub alert: &'a AlertKey,
    /// When this firing began (a new firing gets a new card).
    pub fired_at: Timestamp,
    /// The destination's label.
    pub destination: &'a str,
}

/// The cards of alerts not yet resolved.
#[async_trait]
pub trait Cards: Send + Sync + 'static {
    /// The message id of the card posted for one firing of an alert at a destination.
    async fn card(&self, card: &CardKey<'_>) -> Result<Option<String>, StoreError>;
    /// Remembers the card posted for one firing of an alert at a destination.
    async fn save_card(&self, card: &CardKey<'_>, message_id: &str) -> Result<(), StoreError>;
    /// Forgets a card once its alert resolved.
    async fn forget_card(&self, card: &CardKey<'_>) -> Result<(), StoreError>;
}
