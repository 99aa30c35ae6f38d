//! Turning the body of a 2xx answer into a [`Snapshot`], or saying why it is not one.
//!
//! The body must be one UTF-8 JSON document. The envelope is read first, so `success: false`
//! wins over any figures; then the figures, with the JSON path of the first field of the wrong
//! type. Texts that come from the API (excerpts, messages) are kept whole here, so that the
//! client can take credentials out of them before they are shortened: cutting first could
//! leave half a secret behind.

use serde::Deserialize;

use super::{PollError, Snapshot};

/// The longest `lineProgram` accepted. It is a plan name, and rules may copy it into text:
/// an expression can repeat a variable at most about a thousand times (it is at most 2 KiB),
/// so this bounds any value a rule builds at a few MiB.
pub const MAX_PLAN_NAME_BYTES: usize = 16 * 1024;

/// How many characters of a text from the API an error keeps.
const EXCERPT_CHARS: usize = 200;

/// The fields of the response envelope; the figures themselves decode into [`Snapshot`].
#[derive(Deserialize)]
struct Envelope {
    success: Option<bool>,
    message: Option<String>,
}

/// Decodes a 2xx body into a snapshot, or the classified reason it is not one; texts from the
/// API in the error are shortened.
pub fn decode(body: &[u8]) -> Result<Snapshot, PollError> {
    decode_whole(body).map_err(|e| e.map_text(shorten))
}

/// [`decode`], with texts from the API kept whole.
pub(super) fn decode_whole(body: &[u8]) -> Result<Snapshot, PollError> {
    // JSON is UTF-8. serde_json checks only the strings it keeps, so a body with bad bytes in a
    // field it skips would otherwise pass (found by fuzzing).
    if let Err(error) = std::str::from_utf8(body) {
        return Err(PollError::Decode {
            path: ".".into(),
            message: format!("not UTF-8 at byte {}", error.valid_up_to()),
        });
    }
    let envelope: Envelope = decode_at_path(body)?;
    if envelope.success == Some(false) {
        let message = envelope
            .message
            .unwrap_or_else(|| "no message given".to_owned());
        return Err(PollError::Rejected(message));
    }
    let snapshot: Snapshot = decode_at_path(body)?;
    if let Some(plan) = snapshot.line_program.as_ref() {
        if plan.len() > MAX_PLAN_NAME_BYTES {
            return Err(PollError::Decode {
                path: "lineProgram".into(),
                message: format!(
                    "a plan name of {} bytes; at most {MAX_PLAN_NAME_BYTES} are accepted",
                    plan.len()
                ),
            });
        }
    }
    // Every field is optional, so an answer that says `success: true` and nothing else is a
    // snapshot in which nothing is known; one that does not even say that is no answer.
    if snapshot == Snapshot::default() && envelope.success != Some(true) {
        return Err(PollError::Empty {
            excerpt: body_text(body),
        });
    }
    Ok(snapshot)
}

fn decode_at_path<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, PollError> {
    let mut json = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut json).map_err(|e| PollError::Decode {
        path: e.path().to_string(),
        message: e.into_inner().to_string(),
    })?;
    // Anything after the document but whitespace makes it not JSON (found by fuzzing).
    json.end().map_err(|e| PollError::Decode {
        path: ".".into(),
        message: e.to_string(),
    })?;
    Ok(value)
}

/// A body as text for an error: lossy UTF-8, or `(empty body)`.
pub(super) fn body_text(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    if text.trim().is_empty() {
        "(empty body)".to_owned()
    } else {
        text.into_owned()
    }
}

/// The first [`EXCERPT_CHARS`] characters of `text`, with `…` when there were more.
pub(super) fn shorten(text: &str) -> String {
    let mut out: String = text.chars().take(EXCERPT_CHARS).collect();
    if text.chars().nth(EXCERPT_CHARS).is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_of_the_wrong_type_is_reported_with_its_path() {
        let err = decode(br#"{"success":true,"lineQuota":"lots"}"#).unwrap_err();
        match err {
            PollError::Decode { path, .. } => assert_eq!(path, "lineQuota"),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn success_false_is_a_rejection_not_a_snapshot() {
        let err = decode(br#"{"success":false,"message":"bad secret","lineQuota":0}"#).unwrap_err();
        assert_eq!(err, PollError::Rejected("bad secret".into()));
    }

    #[test]
    fn an_answer_that_says_nothing_is_an_error_and_success_alone_knows_nothing() {
        for body in [&b"{}"[..], br#"{"message":"hello"}"#] {
            assert_eq!(decode(body).unwrap_err().kind(), "empty");
        }
        let nothing_known = decode(br#"{"success":true,"message":"ok"}"#).unwrap();
        assert_eq!(nothing_known, Snapshot::default());
        assert!(
            decode(br#"{"fbIsIntegration":false}"#).is_ok(),
            "one figure is data"
        );
    }

    #[test]
    fn a_plan_name_longer_than_the_cap_is_a_decode_error() {
        let plan = |n: usize| format!(r#"{{"lineProgram": "{}"}}"#, "x".repeat(n));
        assert!(decode(plan(MAX_PLAN_NAME_BYTES).as_bytes()).is_ok());
        let err = decode(plan(MAX_PLAN_NAME_BYTES + 1).as_bytes()).unwrap_err();
        assert!(
            matches!(err, PollError::Decode { ref path, .. } if path == "lineProgram"),
            "{err}"
        );
    }

    #[test]
    fn texts_from_the_api_are_shortened_in_errors() {
        let long = format!(r#"{{"success":false,"message":"{}"}}"#, "m".repeat(500));
        let PollError::Rejected(message) = decode(long.as_bytes()).unwrap_err() else {
            panic!("a rejection");
        };
        assert_eq!(message.chars().count(), EXCERPT_CHARS + 1);
        assert!(message.ends_with('…'));
    }

    #[test]
    fn not_json_is_a_decode_error() {
        assert_eq!(decode(b"<html>").unwrap_err().kind(), "decode");
    }

    #[test]
    fn characters_after_the_document_are_a_decode_error() {
        let err = decode(br#"{"success": true, "lineQuota": 1}{"lineQuota": 2}"#).unwrap_err();
        assert_eq!(err.kind(), "decode");
        assert!(err.to_string().contains("trailing characters"), "{err}");
        assert!(
            decode(b"{\"lineQuota\": 1}\n").is_ok(),
            "whitespace is fine"
        );
    }

    #[test]
    fn bytes_that_are_not_utf8_are_a_decode_error_even_in_a_field_nobody_reads() {
        let err = decode(b"{\"success\":true,\"other\":\"lot\xf3\",\"lineQuota\":1}").unwrap_err();
        assert_eq!(
            err.to_string(),
            "the analytics API sent a body that does not decode at .: not UTF-8 at byte 28"
        );
    }
}
