//! Discord message nonces: a retried post carries the same nonce as the attempt before it,
//! so Discord (with `enforce_nonce`) returns the message already made instead of a second
//! one. At most 25 characters, stable across retries and restarts, unique per part.

use crate::alerts::AlertEvent;
use crate::store::OutboxItem;

/// A nonce unique per outbox item and part, stable across retries and restarts, at most 25
/// characters: the event time and the outbox id in base 36, and the part (`c`ard, `n`otice).
pub(super) fn nonce(id: i64, event: &AlertEvent, part: char) -> String {
    format!(
        "{}.{}{part}",
        base36(event.at.0.unsigned_abs()),
        base36(id.unsigned_abs())
    )
}

/// The nonce of a digest message: its first event's time and outbox id and how many events it
/// names, in base 62 (at most 23 characters). A retry that starts at the same event packs the
/// same events (see [`crate::notify::digest::digests`]), so it sends the same nonce.
pub(super) fn digest_nonce(items: &[&OutboxItem]) -> String {
    let first = items.first().map_or((0, 0), |i| (i.event.at.0, i.id));
    format!(
        "{}-{}-{}",
        base62(first.0.unsigned_abs()),
        base62(first.1.unsigned_abs()),
        base62(items.len() as u64)
    )
}

fn base36(n: u64) -> String {
    in_digits(n, b"0123456789abcdefghijklmnopqrstuvwxyz")
}

fn base62(n: u64) -> String {
    in_digits(
        n,
        b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
    )
}

fn in_digits(mut n: u64, digits: &[u8]) -> String {
    let base = digits.len() as u64;
    let mut out = Vec::new();
    loop {
        out.push(digits[(n % base) as usize]);
        n /= base;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::Transition;
    use crate::time::Timestamp;

    fn event_at(at: Timestamp) -> AlertEvent {
        AlertEvent {
            transition: Transition::Fired,
            key: crate::alerts::AlertKey {
                rule: "quota".into(),
                bot_id: "b1".into(),
                platform: None,
            },
            bot_name: "Support".into(),
            severity: crate::rules::Severity::Warning,
            labels: Default::default(),
            summary: "quota high".into(),
            description: None,
            value: None,
            active_since: at,
            fired_at: Some(at),
            at,
            channel: None,
        }
    }

    #[test]
    fn nonces_fit_discord_are_stable_and_differ_by_item_event_and_part() {
        // Any event before the year 5000 and any outbox id fit in Discord's 25 characters.
        let year_5000 = event_at(Timestamp(95_617_584_000_000));
        let longest = nonce(i64::MAX, &year_5000, 'c');
        assert!(!longest.is_empty() && longest.len() <= 25, "{longest}");
        // A retry of the same step sends the same nonce, so Discord can drop the duplicate.
        let event = event_at(Timestamp(1_700_000_000_000));
        assert_eq!(nonce(7, &event, 'c'), nonce(7, &event, 'c'));
        // Another part of the same item, another item, or the same id reused by a later
        // event must not be taken for a duplicate.
        let nonces = [
            nonce(7, &event, 'c'),
            nonce(7, &event, 'n'),
            nonce(8, &event, 'c'),
            nonce(7, &event_at(Timestamp(1_700_000_000_001)), 'c'),
        ];
        let distinct: std::collections::HashSet<_> = nonces.iter().collect();
        assert_eq!(distinct.len(), nonces.len(), "{nonces:?}");
    }

    #[test]
    fn digest_nonces_fit_discord_and_differ_by_first_event_and_size() {
        let item = |id: i64, at: i64| OutboxItem {
            id,
            event: event_at(Timestamp(at)),
            attempts: 0,
            done: Default::default(),
        };
        let year_5000 = item(i64::MAX, 95_617_584_000_000);
        let longest = digest_nonce(&vec![&year_5000; 10_000]);
        assert!(longest.len() <= 25, "{longest}");
        let (a, b) = (item(7, 1_700_000_000_000), item(8, 1_700_000_000_000));
        let nonces = [
            digest_nonce(&[&a, &b]),
            digest_nonce(&[&a]),
            digest_nonce(&[&b]),
            digest_nonce(&[&item(7, 1_700_000_000_001)]),
        ];
        let distinct: std::collections::HashSet<_> = nonces.iter().collect();
        assert_eq!(distinct.len(), nonces.len(), "{nonces:?}");
        assert_eq!(digest_nonce(&[&a, &b]), nonces[0], "stable across retries");
    }
}
