//! Five minutes of a bot's samples folded into one row: for each field, the last value, and
//! for counts also the smallest and largest. History older than the full-resolution window is
//! kept this way, which is what charts over days need and what a month of samples at one a
//! second could not afford.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::frame::FrameError;
use crate::analytics::{Field, FieldValue, Snapshot};
use crate::time::Timestamp;

/// The length of one bucket.
pub const BUCKET_MS: i64 = 5 * 60 * 1000;

/// The start of the bucket `at` falls in.
pub fn bucket_of(at: Timestamp) -> Timestamp {
    Timestamp(at.0.div_euclid(BUCKET_MS) * BUCKET_MS)
}

/// One field over a span of time: its last value, and the range of a count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// When the span starts.
    pub start: Timestamp,
    /// The last value in the span.
    pub last: FieldValue,
    /// The smallest and the largest value, for counts.
    pub range: Option<(i64, i64)>,
}

impl Summary {
    /// A span of one value.
    pub fn of(start: Timestamp, value: FieldValue) -> Summary {
        let range = match value {
            FieldValue::Int(n) => Some((n, n)),
            _ => None,
        };
        Summary {
            start,
            last: value,
            range,
        }
    }

    /// Takes in a later span (or value): its last value wins, the ranges join.
    pub fn merge(&mut self, later: Summary) {
        self.range = match (self.range, later.range) {
            (Some((a, b)), Some((c, d))) => Some((a.min(c), b.max(d))),
            (_, range) => range,
        };
        self.last = later.last;
    }
}

/// Stored form of one field's summary: a count that did not move takes one number.
#[derive(Debug, Serialize, Deserialize)]
enum Folded {
    Flat(i64),
    Range { last: i64, min: i64, max: i64 },
    Bool(bool),
    Text(String),
}

/// The summaries of every field over one bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rollup {
    /// When the bucket starts.
    pub start: Timestamp,
    fields: BTreeMap<Field, Summary>,
}

impl Rollup {
    /// An empty rollup of the bucket starting at `start`.
    pub fn new(start: Timestamp) -> Rollup {
        Rollup {
            start,
            fields: BTreeMap::new(),
        }
    }

    /// Adds a sample of the bucket (samples come in time order).
    pub fn add(&mut self, snapshot: &Snapshot) {
        for field in Field::ALL {
            if let Some(value) = field.get(snapshot) {
                let summary = Summary::of(self.start, value);
                match self.fields.get_mut(field) {
                    Some(existing) => existing.merge(summary),
                    None => {
                        self.fields.insert(*field, summary);
                    }
                }
            }
        }
    }

    /// Takes in a rollup of later samples of the same bucket.
    pub fn merge(&mut self, later: Rollup) {
        for (field, summary) in later.fields {
            match self.fields.get_mut(&field) {
                Some(existing) => existing.merge(summary),
                None => {
                    self.fields.insert(field, summary);
                }
            }
        }
    }

    /// One field's summary, if the field had a value in the bucket.
    pub fn field(&self, field: Field) -> Option<&Summary> {
        self.fields.get(&field)
    }

    /// The stored form.
    pub fn encode(&self) -> Vec<u8> {
        let folded: Vec<(u8, Folded)> = self
            .fields
            .iter()
            .map(|(field, summary)| {
                let folded = match (&summary.last, summary.range) {
                    (FieldValue::Int(last), Some((min, max))) if min == max => {
                        debug_assert_eq!(*last, min);
                        Folded::Flat(*last)
                    }
                    (FieldValue::Int(last), range) => {
                        let (min, max) = range.unwrap_or((*last, *last));
                        Folded::Range {
                            last: *last,
                            min,
                            max,
                        }
                    }
                    (FieldValue::Bool(b), _) => Folded::Bool(*b),
                    (FieldValue::Text(t), _) => Folded::Text(t.clone()),
                };
                (
                    u8::try_from(field.index()).expect("fewer than 256 fields"),
                    folded,
                )
            })
            .collect();
        postcard::to_allocvec(&folded).expect("a Vec always serializes")
    }

    /// From the stored form, for the bucket starting at `start`.
    pub fn decode(start: Timestamp, bytes: &[u8]) -> Result<Rollup, FrameError> {
        let folded: Vec<(u8, Folded)> =
            postcard::from_bytes(bytes).map_err(|e| FrameError::new(e.to_string()))?;
        let fields = folded
            .into_iter()
            .filter_map(|(index, folded)| {
                let field = Field::from_index(usize::from(index))?;
                let (last, range) = match folded {
                    Folded::Flat(n) => (FieldValue::Int(n), Some((n, n))),
                    Folded::Range { last, min, max } => (FieldValue::Int(last), Some((min, max))),
                    Folded::Bool(b) => (FieldValue::Bool(b), None),
                    Folded::Text(t) => (FieldValue::Text(t), None),
                };
                Some((field, Summary { start, last, range }))
            })
            .collect();
        Ok(Rollup { start, fields })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minutes: i64, seconds: i64) -> Timestamp {
        Timestamp((minutes * 60 + seconds) * 1000)
    }

    fn consumption(n: i64) -> Snapshot {
        Snapshot {
            line_quota: Some(1000),
            line_quota_consumption: Some(n),
            line_program: Some("pro".into()),
            ..Snapshot::default()
        }
    }

    #[test]
    fn a_bucket_keeps_the_last_value_and_the_range_of_each_count() {
        let mut rollup = Rollup::new(at(10, 0));
        for n in [500, 20, 900, 640] {
            rollup.add(&consumption(n));
        }
        let summary = rollup.field(Field::LineQuotaConsumption).unwrap();
        assert_eq!(summary.start, at(10, 0));
        assert_eq!(summary.last, FieldValue::Int(640));
        assert_eq!(summary.range, Some((20, 900)));
        let decoded = Rollup::decode(at(10, 0), &rollup.encode()).unwrap();
        assert_eq!(decoded, rollup);
        assert_eq!(
            decoded.field(Field::LineProgram).unwrap().last,
            FieldValue::Text("pro".into())
        );
        assert!(decoded.field(Field::LineReplyAmounts).is_none());
    }

    #[test]
    fn a_bucket_rolled_up_in_two_parts_equals_one_rolled_up_at_once() {
        let values = [300, 10, 700, 450, 451];
        let start = at(20, 0);
        let mut whole = Rollup::new(start);
        let (mut first, mut second) = (Rollup::new(start), Rollup::new(start));
        for (i, n) in values.into_iter().enumerate() {
            whole.add(&consumption(n));
            let part = if i < 2 { &mut first } else { &mut second };
            part.add(&consumption(n));
        }
        first.merge(second);
        assert_eq!(first, whole);
        assert_eq!(bucket_of(at(24, 59)), at(20, 0));
        assert_eq!(bucket_of(at(25, 0)), at(25, 0));
    }
}
