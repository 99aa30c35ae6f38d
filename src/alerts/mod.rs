//! The third stage: alert instances and their lifecycle.
//!
//! [`lifecycle::step`] is the state machine of one instance (pending, firing, resolved,
//! reminders, `for`, `keep_firing_for`); [`advance`] applies a whole poll of one bot and
//! returns the state changes and the [`AlertEvent`]s to announce. Nothing here does I/O.

mod engine;
mod id;
mod instance;
pub mod lifecycle;

pub use engine::{advance, firing_event, AlertEvent, Changes};
pub use id::{AlertId, NotAnAlertId};
pub use instance::{AlertInstance, AlertKey, AnnouncedText, Phase};
pub use lifecycle::{Tick, Timing, Transition};
