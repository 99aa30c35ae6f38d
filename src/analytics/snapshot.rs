//! A typed snapshot of one bot's message analytics, as the API reported it.
//!
//! Every field is optional because the API documents every field as optional: a missing
//! value stays `None` all the way to the rule engine, which treats it as "unknown" rather than
//! zero. The serde form is the API's own JSON (camelCase names), so a saved API response can be
//! fed to `botwatch eval` as it is, and the state store keeps snapshots in the same form.

use serde::{Deserialize, Serialize};

use super::Platform;

/// One poll's worth of analytics for one bot.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Snapshot {
    /// LINE quota limit for the period.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line_quota: Option<i64>,
    /// LINE messages consumed from the quota.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line_quota_consumption: Option<i64>,
    /// LINE reply messages sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line_reply_amounts: Option<i64>,
    /// LINE push messages sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line_push_amounts: Option<i64>,
    /// LINE broadcast messages sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line_broadcast_amounts: Option<i64>,
    /// The LINE plan ("program"), kept verbatim: the API does not list its values.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line_program: Option<String>,
    /// Average conversation value on LINE.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line_average_conversation_value: Option<i64>,
    /// Average conversation time on LINE, in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line_average_conversation_time: Option<i64>,
    /// Average conversation value on Facebook.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fb_average_conversation_value: Option<i64>,
    /// Average conversation time on Facebook, in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fb_average_conversation_time: Option<i64>,
    /// Average conversation value on Instagram.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ig_average_conversation_value: Option<i64>,
    /// Average conversation time on Instagram, in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ig_average_conversation_time: Option<i64>,
    /// Average conversation value on LiveChat.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub live_chat_average_conversation_value: Option<i64>,
    /// Average conversation time on LiveChat, in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub live_chat_average_conversation_time: Option<i64>,
    /// Average conversation value on WhatsApp.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub whatsapp_average_conversation_value: Option<i64>,
    /// Average conversation time on WhatsApp, in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub whatsapp_average_conversation_time: Option<i64>,
    /// Whether LINE is integrated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line_is_integration: Option<bool>,
    /// Whether Facebook is integrated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fb_is_integration: Option<bool>,
    /// Whether Instagram is integrated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instagram_is_integration: Option<bool>,
    /// Whether LiveChat is integrated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub live_chat_is_integration: Option<bool>,
    /// Whether WhatsApp is integrated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub whatsapp_is_integration: Option<bool>,
}

/// One platform's figures, taken out of a [`Snapshot`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlatformView {
    /// Which platform this is.
    pub platform: Platform,
    /// Whether the bot is integrated with the platform.
    pub integrated: Option<bool>,
    /// Average conversation value.
    pub average_conversation_value: Option<i64>,
    /// Average conversation time, in seconds.
    pub average_conversation_time: Option<i64>,
}

impl Snapshot {
    /// The figures of one platform.
    pub fn platform(&self, platform: Platform) -> PlatformView {
        let (integrated, value, time) = match platform {
            Platform::Line => (
                self.line_is_integration,
                self.line_average_conversation_value,
                self.line_average_conversation_time,
            ),
            Platform::Facebook => (
                self.fb_is_integration,
                self.fb_average_conversation_value,
                self.fb_average_conversation_time,
            ),
            Platform::Instagram => (
                self.instagram_is_integration,
                self.ig_average_conversation_value,
                self.ig_average_conversation_time,
            ),
            Platform::LiveChat => (
                self.live_chat_is_integration,
                self.live_chat_average_conversation_value,
                self.live_chat_average_conversation_time,
            ),
            Platform::WhatsApp => (
                self.whatsapp_is_integration,
                self.whatsapp_average_conversation_value,
                self.whatsapp_average_conversation_time,
            ),
        };
        PlatformView {
            platform,
            integrated,
            average_conversation_value: value,
            average_conversation_time: time,
        }
    }

    /// This snapshot, with the fields it lacks taken from `older`: the last known value of
    /// every field, so that a field missing from one response does not hide a transition.
    pub fn with_gaps_filled_from(&self, older: &Snapshot) -> Snapshot {
        let (Ok(serde_json::Value::Object(mut newer)), Ok(serde_json::Value::Object(older))) =
            (serde_json::to_value(self), serde_json::to_value(older))
        else {
            return self.clone();
        };
        for (field, value) in older {
            newer.entry(field).or_insert(value);
        }
        serde_json::from_value(serde_json::Value::Object(newer)).unwrap_or_else(|_| self.clone())
    }

    /// Share of the LINE quota consumed (0.25 for 250 of 1000). `None` when either figure is
    /// missing or the quota is zero, since no ratio is then meaningful.
    pub fn line_quota_ratio(&self) -> Option<f64> {
        match (self.line_quota_consumption, self.line_quota) {
            (Some(used), Some(quota)) if quota > 0 => Some(used as f64 / quota as f64),
            _ => None,
        }
    }

    /// LINE messages left in the quota (never below zero).
    pub fn line_quota_remaining(&self) -> Option<i64> {
        match (self.line_quota_consumption, self.line_quota) {
            (Some(used), Some(quota)) => Some(quota.saturating_sub(used).max(0)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_the_documented_example_and_keeps_unknown_plans() {
        let json = r#"{"success":true,"message":"ok","lineQuota":1000,"lineQuotaConsumption":250,
            "lineProgram":"輕用量","fbIsIntegration":true,"igAverageConversationTime":75,
            "instagramIsIntegration":false,"somethingNew":1}"#;
        let snapshot: Snapshot = serde_json::from_str(json).unwrap();
        assert_eq!(snapshot.line_program.as_deref(), Some("輕用量"));
        assert_eq!(snapshot.line_quota_ratio(), Some(0.25));
        assert_eq!(snapshot.line_quota_remaining(), Some(750));
        let instagram = snapshot.platform(Platform::Instagram);
        assert_eq!(instagram.integrated, Some(false));
        assert_eq!(instagram.average_conversation_time, Some(75));
        assert_eq!(snapshot.platform(Platform::WhatsApp).integrated, None);
    }

    #[test]
    fn gaps_are_filled_from_an_older_snapshot_but_new_values_win() {
        let older = Snapshot {
            fb_is_integration: Some(true),
            line_quota: Some(1000),
            ..Snapshot::default()
        };
        let newer = Snapshot {
            line_quota: Some(2000),
            ..Snapshot::default()
        };
        let merged = newer.with_gaps_filled_from(&older);
        assert_eq!(merged.fb_is_integration, Some(true));
        assert_eq!(merged.line_quota, Some(2000));
    }

    #[test]
    fn ratio_is_unknown_without_a_positive_quota() {
        let snapshot = Snapshot {
            line_quota: Some(0),
            line_quota_consumption: Some(3),
            ..Snapshot::default()
        };
        assert_eq!(snapshot.line_quota_ratio(), None);
        assert_eq!(Snapshot::default().line_quota_remaining(), None);
    }
}
