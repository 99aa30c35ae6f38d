//! The console notifier: one readable line per alert event on standard output.

use std::io::Write;

use super::{DeliveryError, DeliveryFuture, Notifier};
use crate::alerts::{AlertEvent, Transition};
use crate::store::OutboxItem;

/// Prints alert events to standard output.
#[derive(Debug, Default, Clone, Copy)]
pub struct ConsoleNotifier;

/// The console line for an event: time, what happened, severity, rule, bot, labels, summary.
pub fn format_event(event: &AlertEvent) -> String {
    let what = match event.transition {
        Transition::Fired => "FIRING  ",
        Transition::Reminder => "REMINDER",
        Transition::Resolved => "RESOLVED",
    };
    let labels: Vec<String> = event
        .labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let mut line = format!(
        "{} {what} {:<8} {} | {} ({}) | {} | {}",
        event.at,
        event.severity.as_str(),
        event.key.rule,
        event.bot_name,
        event.key.bot_id,
        labels.join(" "),
        event.summary,
    );
    if let (Transition::Resolved, Some(fired)) = (event.transition, event.fired_at) {
        let lasted = humantime::format_duration(std::time::Duration::from_secs(
            event.at.since(fired).as_secs(),
        ));
        line.push_str(&format!(" (fired for {lasted})"));
    }
    line
}

impl Notifier for ConsoleNotifier {
    fn deliver<'a>(&'a self, item: &'a OutboxItem) -> DeliveryFuture<'a> {
        Box::pin(async move {
            let line = format_event(&item.event);
            let mut out = std::io::stdout().lock();
            writeln!(out, "{line}")
                .and_then(|_| out.flush())
                .map_err(|e| DeliveryError::Retry {
                    reason: format!("cannot write to standard output: {e}"),
                    after: None,
                })
        })
    }
}
