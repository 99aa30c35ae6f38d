//! What the history writer remembers of each bot: its last sample, so that the next is
//! stored as a delta, and how many deltas followed the last key frame.

use std::collections::HashMap;

use super::frame::{delta, key_frame, KEY_EVERY};
use crate::analytics::Snapshot;

#[derive(Debug)]
struct Chain {
    last: Snapshot,
    since_key: u32,
}

/// The last sample written per bot. Empty after a start: each bot's first sample is then a
/// key frame, so nothing depends on what a previous process wrote.
#[derive(Debug, Default)]
pub struct Chains {
    bots: HashMap<String, Chain>,
}

/// A sample ready to be stored.
#[derive(Debug)]
pub struct Frame {
    /// Whether it is a key frame.
    pub key: bool,
    /// The stored bytes.
    pub bytes: Vec<u8>,
}

impl Chains {
    /// How `snapshot` is stored as `bot_id`'s next sample. Nothing changes until
    /// [`Chains::written`] says the sample was committed.
    pub fn frame(&self, bot_id: &str, snapshot: &Snapshot) -> Frame {
        match self.bots.get(bot_id) {
            Some(chain) if chain.since_key < KEY_EVERY => Frame {
                key: false,
                bytes: delta(&chain.last, snapshot),
            },
            _ => Frame {
                key: true,
                bytes: key_frame(snapshot),
            },
        }
    }

    /// Records that `snapshot` was committed as `bot_id`'s latest sample.
    pub fn written(&mut self, bot_id: &str, snapshot: &Snapshot, key: bool) {
        let since_key = match self.bots.get(bot_id) {
            Some(chain) if !key => chain.since_key + 1,
            _ => 0,
        };
        self.bots.insert(
            bot_id.to_owned(),
            Chain {
                last: snapshot.clone(),
                since_key,
            },
        );
    }

    /// Forgets `bot_id`'s chain (a sample was not written): its next sample is a key frame.
    pub fn forget(&mut self, bot_id: &str) {
        self.bots.remove(bot_id);
    }
}
