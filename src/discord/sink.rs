//! Alert events into Discord: one card per alert and firing, edited in place, with replies.
//!
//! A `Fired` event posts the card and remembers its message id in the store; a reminder or a
//! resolution edits that card (a restarted botwatch still finds it) and replies to it so that
//! people are notified. Every step is safe to retry: channel posts carry a nonce Discord
//! enforces, edits can be repeated, the card's id is saved as soon as it is posted, and a card
//! already saved is not posted again. Before every request the destination's and the global
//! governor budgets are awaited.

use std::sync::Arc;

use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};
use serenity::model::id::MessageId;

use super::card_buttons;
use super::config::DiscordConfig;
use super::destination::Destination;
use super::nonce::{digest_nonce, nonce};
use super::pause::Pauses;
use super::rest::{DiscordRest, RestError};
use super::transport::{To, Transport};
use crate::alerts::{AlertEvent, Transition};
use crate::metrics::Metrics;
use crate::notify::digest::digests;
use crate::notify::message::ChatMessage;
use crate::notify::render::{card_update, new_card, notice};
use crate::notify::{deliver_in_order, BatchFuture, DeliveryError, DeliveryFuture, Notifier};
use crate::store::{CardKey, DeliveryStep, OutboxItem, Store, StoreError};

/// Delivers alert events to Discord.
pub struct DiscordNotifier {
    transport: Box<dyn Transport>,
    config: DiscordConfig,
    store: Arc<dyn Store>,
    per_destination: DefaultKeyedRateLimiter<String>,
    global: DefaultDirectRateLimiter,
    pauses: Pauses,
    metrics: Arc<Metrics>,
}

impl DiscordNotifier {
    /// A notifier for `config`, keeping card ids in `store`.
    pub fn new(
        config: DiscordConfig,
        store: Arc<dyn Store>,
        metrics: Arc<Metrics>,
    ) -> Result<Self, RestError> {
        let rest = DiscordRest::for_config(&config)?;
        Ok(Self::with_transport(config, Box::new(rest), store, metrics))
    }

    /// A notifier for `config` that sends through `transport` (a recorder, for previews).
    pub fn with_transport(
        config: DiscordConfig,
        transport: Box<dyn Transport>,
        store: Arc<dyn Store>,
        metrics: Arc<Metrics>,
    ) -> Self {
        let burst = config.limits.per_destination_per_5s;
        let per_destination = Quota::with_period(std::time::Duration::from_secs(5) / burst.get())
            .map(|q| q.allow_burst(burst))
            .unwrap_or_else(|| Quota::per_second(burst));
        DiscordNotifier {
            transport,
            per_destination: RateLimiter::keyed(per_destination),
            global: RateLimiter::direct(Quota::per_second(config.limits.global_per_second)),
            pauses: Pauses::default(),
            metrics,
            config,
            store,
        }
    }

    fn count_rate_limit<T>(&self, result: &Result<T, RestError>) {
        if matches!(result, Err(RestError::RateLimited { .. })) {
            self.metrics.discord_rate_limited.inc();
        }
    }

    /// Waits for the destination's and the global budget; fails at once while Discord asked
    /// us to hold off (a recent 429).
    async fn budget(&self, destination: &str) -> Result<(), RestError> {
        self.pauses.check(destination)?;
        self.per_destination
            .until_key_ready(&destination.to_owned())
            .await;
        self.global.until_ready().await;
        Ok(())
    }

    async fn post(
        &self,
        name: &str,
        destination: &Destination,
        message: ChatMessage,
    ) -> Result<MessageId, RestError> {
        self.budget(name).await?;
        let to = To { name, destination };
        let result = self.transport.post(to, &destination.adapt(message)).await;
        self.count_rate_limit(&result);
        self.pauses.record(name, result)
    }

    async fn edit(
        &self,
        name: &str,
        destination: &Destination,
        id: MessageId,
        message: ChatMessage,
    ) -> Result<(), RestError> {
        self.budget(name).await?;
        let to = To { name, destination };
        let result = self
            .transport
            .edit(to, id, &destination.adapt(message))
            .await;
        self.count_rate_limit(&result);
        self.pauses.record(name, result)
    }

    async fn deliver_event(&self, item: &OutboxItem) -> Result<(), DeliveryError> {
        let (id, event) = (item.id, &item.event);
        let name = self
            .config
            .route(event.severity, event.channel.as_deref())
            .to_owned();
        let destination = self
            .config
            .destinations
            .get(&name)
            .ok_or_else(|| DeliveryError::Rejected(format!("no destination `{name}`")))?;
        let role = self.config.mention_roles.get(event.severity);
        let cards = AlertCard {
            store: &self.store,
            event,
            destination: &name,
        };
        let existing = cards.load().await?;
        if event.transition == Transition::Fired && existing.is_some() {
            // Posted by an earlier attempt whose outcome was recorded: nothing left to do.
            return Ok(());
        }
        let mut card = None;
        if let Some(card_id) = existing {
            if item.done.contains(DeliveryStep::CardEdited) {
                // An earlier attempt's edit was accepted; only what came after it is left.
                card = Some(card_id);
            } else {
                let update = match event.transition {
                    Transition::Resolved => card_update(event).components(card_buttons::none()),
                    _ => card_update(event),
                };
                match self.edit(&name, destination, card_id, update).await {
                    Ok(()) => {
                        card = Some(card_id);
                        self.record_step(id, DeliveryStep::CardEdited).await;
                    }
                    // The card was deleted, or is not ours to edit: post a new one below.
                    Err(error) if error.is_uneditable() => {}
                    Err(error) => return Err(error.into()),
                }
            }
        }
        match card {
            Some(card_id) => {
                let reply = notice(
                    event,
                    Some(&card_id.to_string()),
                    role,
                    &nonce(id, event, 'n'),
                );
                self.post(&name, destination, reply).await?;
            }
            None => {
                let mut message = new_card(event, role, &nonce(id, event, 'c'));
                if event.transition != Transition::Resolved {
                    // Unacknowledged: reminders of an acknowledged alert are muted before
                    // they reach a sink (`notify::mute`).
                    let buttons = card_buttons::components(event.alert_id(), false);
                    message = message.components(buttons);
                }
                let card_id = self.post(&name, destination, message).await?;
                cards.save(card_id).await?;
            }
        }
        if event.transition == Transition::Resolved {
            cards.forget().await?;
        }
        Ok(())
    }
}

/// The card of one event's alert firing at one destination, in the store.
struct AlertCard<'a> {
    store: &'a Arc<dyn Store>,
    event: &'a AlertEvent,
    destination: &'a str,
}

impl AlertCard<'_> {
    fn key(&self) -> CardKey<'_> {
        CardKey {
            alert: &self.event.key,
            fired_at: self.event.fired_at.unwrap_or(self.event.active_since),
            destination: self.destination,
        }
    }

    async fn load(&self) -> Result<Option<MessageId>, DeliveryError> {
        let id = self.store.card(&self.key()).await.map_err(retry)?;
        Ok(id
            .and_then(|id| id.parse::<u64>().ok())
            .filter(|id| *id > 0)
            .map(MessageId::new))
    }

    async fn save(&self, id: MessageId) -> Result<(), DeliveryError> {
        let id = id.to_string();
        self.store.save_card(&self.key(), &id).await.map_err(retry)
    }

    async fn forget(&self) -> Result<(), DeliveryError> {
        self.store.forget_card(&self.key()).await.map_err(retry)
    }
}

/// A store that failed may work at the next attempt.
fn retry(error: StoreError) -> DeliveryError {
    DeliveryError::Retry {
        reason: error.to_string(),
        after: None,
    }
}

impl DiscordNotifier {
    /// Delivers one destination's due items: one by one while they fit its rate budget, as
    /// digests when there are more than one burst's worth.
    async fn deliver_to(
        &self,
        name: &str,
        items: &[&OutboxItem],
    ) -> Vec<(i64, Result<(), DeliveryError>)> {
        let burst = self.config.limits.per_destination_per_5s.get() as usize;
        if items.len() <= burst {
            return deliver_in_order(self, items).await;
        }
        let mut results = Vec::with_capacity(items.len());
        let Some(destination) = self.config.destinations.get(name) else {
            return items
                .iter()
                .map(|i| {
                    (
                        i.id,
                        Err(DeliveryError::Rejected(format!("no destination `{name}`"))),
                    )
                })
                .collect();
        };
        let events: Vec<&AlertEvent> = items.iter().map(|i| &i.event).collect();
        let worst = events.iter().map(|e| e.severity).max();
        let role = worst.and_then(|s| self.config.mention_roles.get(s));
        let mut rest = items;
        for digest in digests(&events, role) {
            let (chunk, after) = rest.split_at(digest.len);
            rest = after;
            let message = digest.message.nonce(&digest_nonce(chunk));
            let outcome = self
                .post(name, destination, message)
                .await
                .map(drop)
                .map_err(DeliveryError::from);
            if outcome.is_ok() {
                self.metrics.merged.inc_by(chunk.len() as u64);
                self.forget_resolved_cards(name, chunk).await;
            }
            let stop = outcome.is_err();
            results.extend(chunk.iter().map(|i| (i.id, outcome.clone())));
            if stop {
                break;
            }
        }
        results
    }
}

impl DiscordNotifier {
    /// Records an accepted step. Failing to record it costs at most the step sent again on a
    /// retry, so delivery goes on.
    async fn record_step(&self, id: i64, step: DeliveryStep) {
        if let Err(error) = self.store.record_step(id, step).await {
            tracing::warn!(id, %error, "could not record a delivery step; a retry may repeat it");
        }
    }

    /// Resolved in a digest: their cards are not edited (that would cost the budget the digest
    /// saves), and not looked for again.
    async fn forget_resolved_cards(&self, destination: &str, items: &[&OutboxItem]) {
        for item in items
            .iter()
            .filter(|i| i.event.transition == Transition::Resolved)
        {
            let cards = AlertCard {
                store: &self.store,
                event: &item.event,
                destination,
            };
            if let Err(error) = cards.forget().await {
                tracing::warn!(%error, "could not forget a resolved card");
            }
        }
    }
}

impl Notifier for DiscordNotifier {
    fn deliver<'a>(&'a self, item: &'a OutboxItem) -> DeliveryFuture<'a> {
        Box::pin(self.deliver_event(item))
    }

    fn deliver_batch<'a>(&'a self, items: &'a [OutboxItem]) -> BatchFuture<'a> {
        Box::pin(async move {
            let mut by_destination: Vec<(String, Vec<&OutboxItem>)> = Vec::new();
            for item in items {
                let name = self
                    .config
                    .route(item.event.severity, item.event.channel.as_deref());
                match by_destination.iter_mut().find(|(n, _)| n == name) {
                    Some((_, group)) => group.push(item),
                    None => by_destination.push((name.to_owned(), vec![item])),
                }
            }
            let mut results = Vec::with_capacity(items.len());
            for (name, group) in by_destination {
                results.extend(self.deliver_to(&name, &group).await);
            }
            results
        })
    }
}
