//! The five messaging platforms the analytics API reports on.
//!
//! The API spells each platform differently depending on the field (`fb…`, `ig…` for
//! conversation figures but `instagram…` for the integration flag), so the mapping lives in
//! one table here and nowhere else.

use serde::{Deserialize, Serialize};

/// A messaging platform a bot can be integrated with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Platform {
    /// LINE.
    #[serde(rename = "line")]
    Line,
    /// Facebook Messenger.
    #[serde(rename = "fb")]
    Facebook,
    /// Instagram direct messages.
    #[serde(rename = "instagram")]
    Instagram,
    /// The platform's own web live chat.
    #[serde(rename = "liveChat")]
    LiveChat,
    /// WhatsApp.
    #[serde(rename = "whatsapp")]
    WhatsApp,
}

impl Platform {
    /// Every platform, in the order the API documents them.
    pub const ALL: [Platform; 5] = [
        Platform::Line,
        Platform::Facebook,
        Platform::Instagram,
        Platform::LiveChat,
        Platform::WhatsApp,
    ];

    /// The platform's place in [`Platform::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// The identifier used in rule labels and `platform.name` (`line`, `fb`, `instagram`,
    /// `liveChat`, `whatsapp`).
    pub fn id(self) -> &'static str {
        match self {
            Platform::Line => "line",
            Platform::Facebook => "fb",
            Platform::Instagram => "instagram",
            Platform::LiveChat => "liveChat",
            Platform::WhatsApp => "whatsapp",
        }
    }

    /// The name people know the platform by, for messages.
    pub fn display_name(self) -> &'static str {
        match self {
            Platform::Line => "LINE",
            Platform::Facebook => "Facebook",
            Platform::Instagram => "Instagram",
            Platform::LiveChat => "LiveChat",
            Platform::WhatsApp => "WhatsApp",
        }
    }

    /// Looks a platform up by its [`Platform::id`].
    pub fn from_id(id: &str) -> Option<Platform> {
        Platform::ALL.into_iter().find(|p| p.id() == id)
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}
