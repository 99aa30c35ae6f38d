//! One poll's sample, stored compactly: a key frame holds every field the API sent; a delta
//! holds only the fields that changed since the bot's previous sample, counts as differences.
//!
//! The simulator's bots (consumption growing every poll, the rest stable) take 4 to 8 bytes a
//! delta. Reading a sample replays the deltas since the key frame before it, so the writer
//! starts a key frame every [`KEY_EVERY`] samples and after every restart.

use serde::{Deserialize, Serialize};

use crate::analytics::{Field, FieldValue, Snapshot};

/// A key frame at least this often, which bounds the replay of one read.
pub const KEY_EVERY: u32 = 240;

/// One field's new value, as stored (postcard: a tag byte and a variable-length integer).
#[derive(Debug, Serialize, Deserialize)]
enum Change {
    /// No longer sent by the API.
    Unset,
    /// A count.
    Int(i64),
    /// A count, as the difference from its previous value (deltas only).
    Add(i64),
    Bool(bool),
    Text(String),
}

/// Why a stored frame could not be read.
#[derive(Debug, thiserror::Error)]
#[error("a history frame does not decode: {0}")]
pub struct FrameError(String);

impl FrameError {
    pub(crate) fn new(message: String) -> FrameError {
        FrameError(message)
    }
}

/// Every field of `snapshot`.
pub fn key_frame(snapshot: &Snapshot) -> Vec<u8> {
    let changes: Vec<(u8, Change)> = Field::ALL
        .iter()
        .filter_map(|field| Some((stored(*field), change(field.get(snapshot)?, None))))
        .collect();
    encode(&changes)
}

/// The fields of `next` that differ from `previous`.
pub fn delta(previous: &Snapshot, next: &Snapshot) -> Vec<u8> {
    let changes: Vec<(u8, Change)> = Field::ALL
        .iter()
        .filter_map(|field| {
            let (old, new) = (field.get(previous), field.get(next));
            if old == new {
                return None;
            }
            let change = match new {
                None => Change::Unset,
                Some(value) => change(value, old.as_ref()),
            };
            Some((stored(*field), change))
        })
        .collect();
    encode(&changes)
}

/// Applies a stored frame to `state`: a key frame replaces it, a delta updates it.
pub fn apply(state: &mut Snapshot, frame: &[u8], key: bool) -> Result<(), FrameError> {
    let changes: Vec<(u8, Change)> =
        postcard::from_bytes(frame).map_err(|e| FrameError(e.to_string()))?;
    if key {
        *state = Snapshot::default();
    }
    for (index, change) in changes {
        // A field this version does not know (written by a newer one) is skipped.
        let Some(field) = Field::from_index(usize::from(index)) else {
            continue;
        };
        let value = match change {
            Change::Unset => None,
            Change::Int(n) => Some(FieldValue::Int(n)),
            Change::Add(difference) => match field.get(state) {
                Some(FieldValue::Int(old)) => Some(FieldValue::Int(old.wrapping_add(difference))),
                _ => {
                    return Err(FrameError(format!(
                        "{} has no value to add to",
                        field.name()
                    )))
                }
            },
            Change::Bool(b) => Some(FieldValue::Bool(b)),
            Change::Text(t) => Some(FieldValue::Text(t)),
        };
        field.set(state, value);
    }
    Ok(())
}

fn stored(field: Field) -> u8 {
    u8::try_from(field.index()).expect("fewer than 256 fields")
}

/// `value` as stored; an integer as its difference from `previous` when that is one too.
fn change(value: FieldValue, previous: Option<&FieldValue>) -> Change {
    match (value, previous) {
        (FieldValue::Int(new), Some(FieldValue::Int(old))) => Change::Add(new.wrapping_sub(*old)),
        (FieldValue::Int(n), _) => Change::Int(n),
        (FieldValue::Bool(b), _) => Change::Bool(b),
        (FieldValue::Text(t), _) => Change::Text(t),
    }
}

fn encode(changes: &[(u8, Change)]) -> Vec<u8> {
    postcard::to_allocvec(changes).expect("a Vec always serializes")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(consumption: i64, program: Option<&str>) -> Snapshot {
        Snapshot {
            line_quota: Some(1_000_000),
            line_quota_consumption: Some(consumption),
            line_program: program.map(str::to_owned),
            line_is_integration: Some(true),
            fb_average_conversation_time: Some(340),
            ..Snapshot::default()
        }
    }

    #[test]
    fn deltas_replayed_on_their_key_frame_give_back_every_snapshot() {
        let snapshots = [
            sample(10, Some("free")),
            sample(250_000, Some("free")),
            sample(249_990, None),
            sample(i64::MIN, Some("pro")),
            Snapshot::default(),
            sample(i64::MAX, Some("pro")),
        ];
        let mut state = Snapshot::default();
        apply(&mut state, &key_frame(&snapshots[0]), true).unwrap();
        assert_eq!(state, snapshots[0]);
        for pair in snapshots.windows(2) {
            apply(&mut state, &delta(&pair[0], &pair[1]), false).unwrap();
            assert_eq!(state, pair[1]);
        }
    }

    #[test]
    fn a_delta_of_a_growing_count_takes_a_few_bytes() {
        let frame = delta(&sample(123_456, Some("pro")), &sample(123_520, Some("pro")));
        assert!(frame.len() <= 5, "{} bytes", frame.len());
        assert_eq!(
            delta(&sample(5, None), &sample(5, None)).len(),
            1,
            "nothing changed"
        );
        assert!(key_frame(&sample(123_456, Some("pro"))).len() < 40);
    }

    #[test]
    fn a_damaged_frame_is_an_error_not_a_snapshot_of_zeros() {
        let mut state = sample(1, None);
        assert!(apply(&mut state, &[0xff, 0xff, 0xff], false).is_err());
        let mut empty = Snapshot::default();
        let growth = delta(&sample(1, None), &sample(2, None));
        assert!(
            apply(&mut empty, &growth, false).is_err(),
            "a delta needs its base"
        );
    }
}
