//! The first stage of the pipeline: polling the platform's message analytics.
//!
//! [`AnalyticsClient`] turns an HTTP exchange into a typed [`Snapshot`] or a classified
//! [`PollError`]; [`simulator`] serves the same endpoint on loopback for `botwatch demo`.
//! Nothing here knows about rules or alerts.

mod bot;
mod client;
mod decode;
mod error;
mod field;
mod platform;
pub mod simulator;
mod snapshot;

pub use bot::Bot;
pub use client::{AnalyticsClient, ClientSettings, MAX_RETRY_AFTER};
pub use decode::{decode, MAX_PLAN_NAME_BYTES};
pub use error::PollError;
pub use field::{Field, FieldRef, FieldValue};
pub use platform::Platform;
pub use snapshot::{PlatformView, Snapshot};
