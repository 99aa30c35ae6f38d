//! The snapshot's fields as data: one table naming each field, its kind and its place in
//! [`Snapshot`], so that code which handles every field (history, for one) walks the table
//! instead of writing the 21 fields out again.
//!
//! The position of a field in [`Field::ALL`] is its stored number in the history: new fields
//! are added at the end, and none is ever removed or reordered.

use super::Snapshot;

/// The value of one field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldValue {
    /// A count, an amount or a duration in seconds.
    Int(i64),
    /// Whether something holds (a platform's integration).
    Bool(bool),
    /// Text (the LINE plan).
    Text(String),
}

/// The value of one field, borrowed from the snapshot (what the rule engine binds per poll).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldRef<'a> {
    /// A count, an amount or a duration in seconds.
    Int(i64),
    /// Whether something holds.
    Bool(bool),
    /// Text, borrowed.
    Text(&'a str),
}

macro_rules! fields {
    ($( $variant:ident => $member:ident, $kind:ident, $name:literal; )*) => {
        /// One field of a [`Snapshot`].
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Field {
            $(
                #[doc = concat!("`", $name, "`")]
                $variant,
            )*
        }

        impl Field {
            /// Every field, in stored order.
            pub const ALL: &'static [Field] = &[$(Field::$variant),*];

            /// The name the API and the rules use (`lineQuotaConsumption`).
            pub fn name(self) -> &'static str {
                match self {
                    $(Field::$variant => $name,)*
                }
            }

            /// The field's value in `snapshot`, if the API sent it.
            pub fn get(self, snapshot: &Snapshot) -> Option<FieldValue> {
                match self {
                    $(Field::$variant => fields!(@get $kind, snapshot.$member),)*
                }
            }

            /// The field's value in `snapshot`, borrowed, if the API sent it.
            pub fn get_ref(self, snapshot: &Snapshot) -> Option<FieldRef<'_>> {
                match self {
                    $(Field::$variant => fields!(@ref $kind, snapshot.$member),)*
                }
            }

            /// Sets the field in `snapshot`; a value of another kind leaves it unset.
            pub fn set(self, snapshot: &mut Snapshot, value: Option<FieldValue>) {
                match self {
                    $(Field::$variant => snapshot.$member = fields!(@set $kind, value),)*
                }
            }
        }
    };
    (@get Int, $e:expr) => { $e.map(FieldValue::Int) };
    (@get Bool, $e:expr) => { $e.map(FieldValue::Bool) };
    (@get Text, $e:expr) => { $e.clone().map(FieldValue::Text) };
    (@ref Int, $e:expr) => { $e.map(FieldRef::Int) };
    (@ref Bool, $e:expr) => { $e.map(FieldRef::Bool) };
    (@ref Text, $e:expr) => { $e.as_deref().map(FieldRef::Text) };
    (@set Int, $v:expr) => { match $v { Some(FieldValue::Int(n)) => Some(n), _ => None } };
    (@set Bool, $v:expr) => { match $v { Some(FieldValue::Bool(b)) => Some(b), _ => None } };
    (@set Text, $v:expr) => { match $v { Some(FieldValue::Text(t)) => Some(t), _ => None } };
}

fields! {
    LineQuota => line_quota, Int, "lineQuota";
    LineQuotaConsumption => line_quota_consumption, Int, "lineQuotaConsumption";
    LineReplyAmounts => line_reply_amounts, Int, "lineReplyAmounts";
    LinePushAmounts => line_push_amounts, Int, "linePushAmounts";
    LineBroadcastAmounts => line_broadcast_amounts, Int, "lineBroadcastAmounts";
    LineProgram => line_program, Text, "lineProgram";
    LineAverageConversationValue => line_average_conversation_value, Int, "lineAverageConversationValue";
    LineAverageConversationTime => line_average_conversation_time, Int, "lineAverageConversationTime";
    FbAverageConversationValue => fb_average_conversation_value, Int, "fbAverageConversationValue";
    FbAverageConversationTime => fb_average_conversation_time, Int, "fbAverageConversationTime";
    IgAverageConversationValue => ig_average_conversation_value, Int, "igAverageConversationValue";
    IgAverageConversationTime => ig_average_conversation_time, Int, "igAverageConversationTime";
    LiveChatAverageConversationValue => live_chat_average_conversation_value, Int, "liveChatAverageConversationValue";
    LiveChatAverageConversationTime => live_chat_average_conversation_time, Int, "liveChatAverageConversationTime";
    WhatsappAverageConversationValue => whatsapp_average_conversation_value, Int, "whatsappAverageConversationValue";
    WhatsappAverageConversationTime => whatsapp_average_conversation_time, Int, "whatsappAverageConversationTime";
    LineIsIntegration => line_is_integration, Bool, "lineIsIntegration";
    FbIsIntegration => fb_is_integration, Bool, "fbIsIntegration";
    InstagramIsIntegration => instagram_is_integration, Bool, "instagramIsIntegration";
    LiveChatIsIntegration => live_chat_is_integration, Bool, "liveChatIsIntegration";
    WhatsappIsIntegration => whatsapp_is_integration, Bool, "whatsappIsIntegration";
}

impl Field {
    /// The field of this stored number.
    pub fn from_index(index: usize) -> Option<Field> {
        Field::ALL.get(index).copied()
    }

    /// This field's stored number.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The field of this API name.
    pub fn named(name: &str) -> Option<Field> {
        Field::ALL.iter().copied().find(|f| f.name() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_covers_every_field_of_the_snapshot_under_its_api_name() {
        // Every member written out (no `..Default::default()`): a new member of `Snapshot`
        // does not compile here until it is set, and then fails below until it has an entry.
        let snapshot = Snapshot {
            line_quota: Some(1),
            line_quota_consumption: Some(2),
            line_reply_amounts: Some(3),
            line_push_amounts: Some(4),
            line_broadcast_amounts: Some(5),
            line_program: Some("pro".into()),
            line_average_conversation_value: Some(6),
            line_average_conversation_time: Some(7),
            fb_average_conversation_value: Some(8),
            fb_average_conversation_time: Some(9),
            ig_average_conversation_value: Some(10),
            ig_average_conversation_time: Some(11),
            live_chat_average_conversation_value: Some(12),
            live_chat_average_conversation_time: Some(13),
            whatsapp_average_conversation_value: Some(14),
            whatsapp_average_conversation_time: Some(15),
            line_is_integration: Some(true),
            fb_is_integration: Some(false),
            instagram_is_integration: Some(true),
            live_chat_is_integration: Some(false),
            whatsapp_is_integration: Some(true),
        };
        let json = serde_json::to_value(&snapshot).unwrap();
        let object = json.as_object().unwrap();
        assert_eq!(Field::ALL.len(), object.len());
        let mut rebuilt = Snapshot::default();
        for (index, field) in Field::ALL.iter().enumerate() {
            assert_eq!(field.index(), index);
            let value = field
                .get(&snapshot)
                .unwrap_or_else(|| panic!("{} is unset", field.name()));
            let expected = match &object[field.name()] {
                serde_json::Value::Bool(b) => FieldValue::Bool(*b),
                serde_json::Value::String(s) => FieldValue::Text(s.clone()),
                n => FieldValue::Int(n.as_i64().unwrap()),
            };
            assert_eq!(value, expected, "{}", field.name());
            field.set(&mut rebuilt, Some(value));
        }
        assert_eq!(rebuilt, snapshot);
    }
}
