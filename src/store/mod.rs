//! Durable state, split by concern: each bot's state and the poll commit ([`BotStates`]), the
//! outbox of notifications not yet delivered ([`Outbox`]), the cards alerts are shown on
//! ([`Cards`]), who acknowledged which alert and the audit trail ([`Acknowledgements`]), and
//! snapshot history ([`History`]).
//!
//! Consumers take the one concern they use; [`Store`] is all of them, what a backend
//! implements. The interface is async and makes no SQLite-only assumption: [`SqliteStore`] is
//! the embedded default (it runs its calls on the blocking pool), and a PostgreSQL store for
//! replicas implements the same traits. A poll is committed as one transaction (state,
//! history sample and the events it produced), so a crash can neither lose an event nor
//! announce one twice; the [`CommitQueue`] groups the commits of many bots.

mod acknowledgements;
mod bot_state;
mod cards;
mod commit_queue;
mod error;
pub mod history;
mod outbox;
mod sqlite;

pub use acknowledgements::{
    Acknowledged, Acknowledgement, Acknowledgements, Actor, AuditAction, AuditEntry,
};
pub use bot_state::{BotRecord, BotStates, OwnedPollCommit, PollCommit};
pub use cards::{CardKey, Cards};
pub use commit_queue::CommitQueue;
pub use error::StoreError;
pub use history::History;
pub use outbox::{Completion, DeliveryStep, Outbox, OutboxItem, Steps};
pub use sqlite::SqliteStore;

/// Every concern of durable state: what a backend implements.
pub trait Store: BotStates + Outbox + Cards + Acknowledgements + History {}

impl<T: BotStates + Outbox + Cards + Acknowledgements + History> Store for T {}
