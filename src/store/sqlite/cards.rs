//! [`Cards`] for the SQLite store.

use async_trait::async_trait;
use rusqlite::{params, OptionalExtension};

use super::rows::platform_column;
use super::SqliteStore;
use crate::alerts::AlertKey;
use crate::store::{CardKey, Cards, StoreError};
use crate::time::Timestamp;

/// A [`CardKey`] that owns its parts, to take to the blocking pool.
struct OwnedCardKey {
    alert: AlertKey,
    fired_at: Timestamp,
    destination: String,
}

impl From<&CardKey<'_>> for OwnedCardKey {
    fn from(card: &CardKey<'_>) -> Self {
        OwnedCardKey {
            alert: card.alert.clone(),
            fired_at: card.fired_at,
            destination: card.destination.to_owned(),
        }
    }
}

#[async_trait]
impl Cards for SqliteStore {
    async fn card(&self, card: &CardKey<'_>) -> Result<Option<String>, StoreError> {
        let card = OwnedCardKey::from(card);
        self.run(move |database| {
            let found = database
                .lock()
                .query_row(
                    "SELECT message_id FROM cards WHERE rule = ?1 AND bot_id = ?2 AND platform = ?3 AND fired_at = ?4 AND destination = ?5",
                    params![card.alert.rule, card.alert.bot_id, platform_column(&card.alert), card.fired_at.0, card.destination],
                    |r| r.get(0),
                )
                .optional()?;
            Ok(found)
        })
        .await
    }

    async fn save_card(&self, card: &CardKey<'_>, message_id: &str) -> Result<(), StoreError> {
        let (card, message_id) = (OwnedCardKey::from(card), message_id.to_owned());
        self.run(move |database| {
            database.lock().execute(
                "INSERT OR REPLACE INTO cards (rule, bot_id, platform, fired_at, destination, message_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![card.alert.rule, card.alert.bot_id, platform_column(&card.alert), card.fired_at.0, card.destination, message_id],
            )?;
            Ok(())
        })
        .await
    }

    async fn forget_card(&self, card: &CardKey<'_>) -> Result<(), StoreError> {
        let card = OwnedCardKey::from(card);
        self.run(move |database| {
            database.lock().execute(
                "DELETE FROM cards WHERE rule = ?1 AND bot_id = ?2 AND platform = ?3 AND fired_at = ?4 AND destination = ?5",
                params![card.alert.rule, card.alert.bot_id, platform_column(&card.alert), card.fired_at.0, card.destination],
            )?;
            Ok(())
        })
        .await
    }
}
