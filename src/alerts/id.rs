//! A short, stable name for one alert instance — one firing, from the moment its condition
//! started to hold until it resolves — for buttons and commands to act on it by. Discord gives
//! a button's `custom_id` 100 characters, and a rule name, a bot id and a platform can be
//! longer than that together; 16 hexadecimal digits always fit.
//!
//! The id is derived, not drawn: SipHash-1-3 (fixed keys, a stable algorithm) of the alert's
//! key and the instant its condition started to hold. So the lifecycle stays a pure function,
//! the same alert gets the same id in every replica and after every restart, and instances
//! stored by versions without ids get theirs without a guess. The next firing of the same
//! rule for the same bot starts at another instant and so gets another id.

use std::fmt;
use std::hash::Hasher;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use siphasher::sip::SipHasher13;

use super::instance::AlertKey;
use crate::time::Timestamp;

/// The id of one alert instance (one firing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AlertId(u64);

impl AlertId {
    /// The id of the instance of `key` whose condition started to hold at `active_since`.
    pub fn of(key: &AlertKey, active_since: Timestamp) -> AlertId {
        let mut hasher = SipHasher13::new();
        let platform = key.platform.map(|p| p.id()).unwrap_or("");
        // Each text with its length first, so that no two keys feed the hasher the same bytes;
        // numbers little-endian, so that every machine derives the same id.
        for text in [key.rule.as_str(), key.bot_id.as_str(), platform] {
            hasher.write(&(text.len() as u64).to_le_bytes());
            hasher.write(text.as_bytes());
        }
        hasher.write(&active_since.0.to_le_bytes());
        AlertId(hasher.finish())
    }

    /// The id as SQLite stores it (an INTEGER is a signed 64-bit number).
    pub fn to_i64(self) -> i64 {
        self.0 as i64
    }

    /// The id from [`AlertId::to_i64`].
    pub fn from_i64(stored: i64) -> AlertId {
        AlertId(stored as u64)
    }
}

impl fmt::Display for AlertId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// Why a text is no alert id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an alert id (16 hexadecimal digits)")]
pub struct NotAnAlertId(String);

impl FromStr for AlertId {
    type Err = NotAnAlertId;

    fn from_str(text: &str) -> Result<AlertId, NotAnAlertId> {
        let digits = text.len() == 16 && text.bytes().all(|b| b.is_ascii_hexdigit());
        digits
            .then(|| u64::from_str_radix(text, 16).ok())
            .flatten()
            .map(AlertId)
            .ok_or_else(|| NotAnAlertId(text.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::Platform;

    fn key(rule: &str, bot: &str, platform: Option<Platform>) -> AlertKey {
        AlertKey {
            rule: rule.to_owned(),
            bot_id: bot.to_owned(),
            platform,
        }
    }

    #[test]
    fn the_same_firing_has_the_same_id_in_every_process_and_version() {
        let id = AlertId::of(&key("quota-high", "b1", None), Timestamp(1_700_000_000_000));
        assert_eq!(
            id,
            AlertId::of(&key("quota-high", "b1", None), Timestamp(1_700_000_000_000))
        );
        // Pinned: ids are stored and shown in Discord, so the derivation must never change.
        assert_eq!(id.to_string(), "65a8fde2f27cb567");
    }

    #[test]
    fn another_firing_rule_bot_or_platform_has_another_id() {
        let at = Timestamp(1_700_000_000_000);
        let ids = [
            AlertId::of(&key("quota-high", "b1", None), at),
            AlertId::of(&key("quota-high", "b1", None), Timestamp(at.0 + 1)),
            AlertId::of(&key("quota-high", "b2", None), at),
            AlertId::of(&key("quota-hig", "hb1", None), at),
            AlertId::of(&key("quota-high", "b1", Some(Platform::Facebook)), at),
        ];
        for (i, a) in ids.iter().enumerate() {
            for b in &ids[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }

    #[test]
    fn an_id_reads_back_from_its_text_and_its_stored_integer() {
        let id = AlertId::of(&key("r", "b", None), Timestamp(5));
        assert_eq!(id.to_string().parse::<AlertId>(), Ok(id));
        assert_eq!(AlertId::from_i64(id.to_i64()), id);
        assert_eq!(AlertId(u64::MAX).to_string(), "ffffffffffffffff");
        assert_eq!(
            AlertId::from_i64(AlertId(u64::MAX).to_i64()),
            AlertId(u64::MAX)
        );
        for bad in [
            "",
            "xyz",
            "3a5b0f8e6f3a1c0",
            "3a5b0f8e6f3a1c0d0",
            "+a5b0f8e6f3a1c0d",
        ] {
            assert!(bad.parse::<AlertId>().is_err(), "{bad}");
        }
    }
}
