//! Interaction payloads as Discord's gateway delivers them, for driving command handlers.

use serde_json::{json, Value};
use serenity::all::Interaction;

/// Who runs the command, where, with which options.
pub struct Asker<'a> {
    /// The guild it is run in (`None`: a direct message).
    pub guild: Option<&'a str>,
    /// The member's role ids.
    pub roles: Vec<&'a str>,
    /// The user id.
    pub user: &'a str,
    /// The command's options, as Discord sends them.
    pub options: Value,
    /// 2 for a command, 4 for an autocomplete request.
    pub kind: u8,
}

impl Default for Asker<'_> {
    fn default() -> Self {
        Asker {
            guild: Some("555"),
            roles: vec![],
            user: "777",
            options: json!([]),
            kind: 2,
        }
    }
}

/// A `/analysis` interaction (a command, or typing in one with `kind: 4`) as the gateway
/// delivers it; its token is `token`.
pub fn analysis(asker: Asker<'_>, token: &str) -> Interaction {
    serde_json::from_value(analysis_json(asker, token)).expect("a valid interaction payload")
}

/// [`analysis`] as the JSON of Discord's `INTERACTION_CREATE` event.
pub fn analysis_json(asker: Asker<'_>, token: &str) -> Value {
    let data = json!({"id": "700000000000000001", "name": "analysis", "type": 1, "options": asker.options});
    interaction_json(&asker, asker.kind, data, token)
}

/// A press of the button `custom_id` on `message` (Discord's Message object), as the gateway
/// delivers it; its token is `token`.
pub fn button_press(asker: Asker<'_>, custom_id: &str, message: Value, token: &str) -> Interaction {
    let data = json!({"custom_id": custom_id, "component_type": 2});
    let mut payload = interaction_json(&asker, 3, data, token);
    payload["message"] = message;
    serde_json::from_value(payload).expect("a valid interaction payload")
}

/// An interaction of `kind` with `data`, made by `asker`.
fn interaction_json(asker: &Asker<'_>, kind: u8, data: Value, token: &str) -> Value {
    let user = json!({"id": asker.user, "username": "ops-person", "discriminator": "0", "global_name": "Ana Ops", "avatar": null});
    let mut payload = json!({
        "id": "900000000000000001",
        "application_id": "800000000000000001",
        "type": kind,
        "data": data,
        "channel_id": "111",
        "token": token,
        "version": 1,
        "locale": "en-US",
        "entitlements": [],
        "attachment_size_limit": 8_388_608,
        "app_permissions": "0",
        "authorizing_integration_owners": {},
    });
    match asker.guild {
        Some(guild) => {
            payload["guild_id"] = json!(guild);
            payload["guild_locale"] = json!("en-US");
            payload["member"] = json!({
                "user": user, "roles": asker.roles, "joined_at": "2025-01-01T00:00:00+00:00",
                "deaf": false, "mute": false, "flags": 0, "permissions": "0", "pending": false
            });
        }
        None => payload["user"] = user,
    }
    payload
}
