//! botwatch polls chatbot message analytics, evaluates alert rules and notifies people.
//!
//! The modules follow the data:
//!
//! - [`analytics`] polls the platform and yields typed [`analytics::Snapshot`]s (or classified
//!   poll errors), and simulates the platform for the demo and the tests;
//! - [`rules`] loads `rules.yaml`, validates and compiles every rule, and evaluates a rule on a
//!   snapshot into a condition (active, inactive or unknown);
//! - [`alerts`] runs each alert instance's lifecycle (pending, firing, resolved, reminders) and
//!   emits alert events;
//! - [`store`] keeps alert state, the last snapshot per bot, snapshot history, the outbox and
//!   card ids durable in SQLite;
//! - [`notify`] delivers alert events from the outbox to a notifier, and shapes messages
//!   within Discord's limits;
//! - [`discord`] is the Discord notifier (alert cards) and the `/analysis` command;
//! - [`scheduler`] runs one poll loop per bot and wires the stages together, [`reload`]
//!   reloads the rules, [`server`] and [`metrics`] serve health and metrics;
//! - [`config`] reads the service's configuration; [`cli`] is the command line; [`backoff`] is
//!   the one retry schedule (the outbox, the Discord gateway).

pub mod alerts;
pub mod analytics;
pub mod backoff;
pub mod cli;
pub mod config;
pub mod discord;
pub mod metrics;
pub mod notify;
pub mod reload;
pub mod repeated;
pub mod rules;
pub mod scheduler;
pub mod server;
pub mod shutdown;
pub mod store;
pub mod time;
