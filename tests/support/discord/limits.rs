//! Discord's rules that its OpenAPI description does not express for bots: lengths counted in
//! characters (content, embeds and their 6000-character total), empty messages, and the
//! pattern of chat-input command and option names.

use serde_json::Value;

use super::validate::{problem, Problem};

const MAX_CONTENT: usize = 2000;
const MAX_EMBEDS: usize = 10;
const MAX_EMBED_TOTAL: usize = 6000;
const MAX_TITLE: usize = 256;
const MAX_DESCRIPTION: usize = 4096;
const MAX_FIELDS: usize = 25;
const MAX_FIELD_NAME: usize = 256;
const MAX_FIELD_VALUE: usize = 1024;
const MAX_FOOTER: usize = 2048;
const MAX_AUTHOR: usize = 256;

/// The length in characters (not bytes, as Discord counts) of the string at `pointer`; 0 if
/// there is none.
fn chars_at(value: &Value, pointer: &str) -> usize {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .map_or(0, |s| s.chars().count())
}

/// Discord's limits on a message body (create, edit, webhook, interaction response data).
/// `base` is the pointer of the message body within the request body ("" or "/data").
pub(super) fn message_limit_problems(message: &Value, base: &str) -> Vec<Problem> {
    let mut out = Vec::new();
    let content = chars_at(message, "/content");
    if content > MAX_CONTENT {
        out.push(problem(
            format!("{base}/content"),
            "BASE_TYPE_MAX_LENGTH",
            format!("content has {content} characters; a bot may send at most {MAX_CONTENT}"),
        ));
    }
    let Some(embeds) = message.get("embeds").and_then(Value::as_array) else {
        return out;
    };
    if embeds.len() > MAX_EMBEDS {
        out.push(problem(
            format!("{base}/embeds"),
            "BASE_TYPE_MAX_LENGTH",
            format!("{} embeds; at most {MAX_EMBEDS}", embeds.len()),
        ));
    }
    let mut total = 0;
    for (i, embed) in embeds.iter().enumerate() {
        total += embed_problems(embed, &format!("{base}/embeds/{i}"), &mut out);
    }
    if total > MAX_EMBED_TOTAL {
        out.push(problem(
            format!("{base}/embeds"),
            "MAX_EMBED_SIZE_EXCEEDED",
            format!(
                "the embeds total {total} characters (title, description, fields, footer text, \
                 author name); at most {MAX_EMBED_TOTAL}"
            ),
        ));
    }
    out
}

/// Checks one embed's own limits, `at` being its pointer, into `out`. Returns the characters
/// it counts toward the message's embed total.
fn embed_problems(embed: &Value, at: &str, out: &mut Vec<Problem>) -> usize {
    let mut total = 0;
    for (pointer, max, what) in [
        ("/title", MAX_TITLE, "title"),
        ("/description", MAX_DESCRIPTION, "description"),
        ("/footer/text", MAX_FOOTER, "footer text"),
        ("/author/name", MAX_AUTHOR, "author name"),
    ] {
        let n = chars_at(embed, pointer);
        total += n;
        let what = format!("embed {what}");
        out.extend(too_long(format!("{at}{pointer}"), &what, n, max));
    }
    let Some(fields) = embed.get("fields").and_then(Value::as_array) else {
        return total;
    };
    if fields.len() > MAX_FIELDS {
        out.push(problem(
            format!("{at}/fields"),
            "BASE_TYPE_MAX_LENGTH",
            format!("{} embed fields; at most {MAX_FIELDS}", fields.len()),
        ));
    }
    for (j, field) in fields.iter().enumerate() {
        for (key, max) in [("name", MAX_FIELD_NAME), ("value", MAX_FIELD_VALUE)] {
            let n = chars_at(field, &format!("/{key}"));
            total += n;
            let what = format!("embed field {key}");
            out.extend(too_long(format!("{at}/fields/{j}/{key}"), &what, n, max));
        }
    }
    total
}

fn too_long(pointer: String, what: &str, n: usize, max: usize) -> Option<Problem> {
    (n > max).then(|| {
        problem(
            pointer,
            "BASE_TYPE_MAX_LENGTH",
            format!("{what} has {n} characters; at most {max}"),
        )
    })
}

/// Discord refuses a new message with nothing in it (code 50006).
pub(super) fn empty_message_problem(message: &Value, base: &str) -> Option<Problem> {
    let non_empty = |key: &str| match message.get(key) {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(_) => true,
    };
    let has_something = [
        "content",
        "embeds",
        "components",
        "sticker_ids",
        "attachments",
        "poll",
    ]
    .iter()
    .any(|k| non_empty(k));
    (!has_something).then(|| {
        problem(
            base.to_string(),
            "EMPTY_MESSAGE",
            "Cannot send an empty message",
        )
    })
}

/// Discord's rule for chat-input command and option names (the schema only bounds the length):
/// 1 to 32 characters, letters, digits, `-` and `_`, no capitals.
fn command_name_problem(name: Option<&str>, pointer: String) -> Option<Problem> {
    let name = name.unwrap_or("");
    let count = name.chars().count();
    let ok = (1..=32).contains(&count)
        && name
            .chars()
            .all(|c| (c.is_alphanumeric() || c == '-' || c == '_') && !c.is_uppercase());
    (!ok).then(|| {
        problem(
            pointer,
            "APPLICATION_COMMAND_INVALID_NAME",
            format!("command or option name {name:?} does not match ^[-_\\p{{L}}\\p{{N}}]{{1,32}}$ in lower case"),
        )
    })
}

/// Checks a command body (or one item of a bulk overwrite) `base` being its pointer.
pub(super) fn command_problems(command: &Value, base: &str) -> Vec<Problem> {
    let mut out = Vec::new();
    let chat_input = matches!(command.get("type").and_then(Value::as_i64), None | Some(1));
    if !chat_input {
        return out;
    }
    out.extend(command_name_problem(
        command.get("name").and_then(Value::as_str),
        format!("{base}/name"),
    ));
    if command
        .get("description")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        out.push(problem(
            format!("{base}/description"),
            "BASE_TYPE_REQUIRED",
            "a chat-input command needs a description of 1 to 100 characters",
        ));
    }
    option_problems(command, base, 1, &mut out);
    out
}

/// Checks the option names under `value`, recursively. Options nest at most three levels
/// (group > subcommand > option), so deeper ones are left to the schema.
fn option_problems(value: &Value, base: &str, depth: usize, out: &mut Vec<Problem>) {
    let Some(list) = value.get("options").and_then(Value::as_array) else {
        return;
    };
    if depth > 3 {
        return;
    }
    for (i, option) in list.iter().enumerate() {
        let at = format!("{base}/options/{i}");
        out.extend(command_name_problem(
            option.get("name").and_then(Value::as_str),
            format!("{at}/name"),
        ));
        option_problems(option, &at, depth + 1, out);
    }
}
