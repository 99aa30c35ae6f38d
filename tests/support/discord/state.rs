//! What the fake remembers between requests: the requests themselves, the messages it created,
//! the interactions it saw, the violations it found and the failures still to inject.
//!
//! One mutex guards it all; handlers hold it only while they touch the state, never while
//! validating a body or sleeping.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Mutex, MutexGuard};

use serde_json::Value;

use super::gateway_lookup::GatewayLookups;
use super::timestamp::now_rfc3339;
use super::{Failure, Recorded, StoredMessage, FIRST_ID};

/// A stored message with what the fake needs to render it as Discord would.
#[derive(Debug, Clone)]
pub(super) struct Msg {
    /// What the tests see.
    pub(super) stored: StoredMessage,
    /// A snowflake to put in `channel_id`.
    pub(super) channel_id: String,
    /// The webhook that sent it, which Discord also shows as the author.
    pub(super) webhook_id: Option<String>,
    pub(super) timestamp: String,
    pub(super) edited_timestamp: Option<String>,
}

impl Msg {
    /// Applies the fields of an edit body on top of the stored ones.
    pub(super) fn apply_edit(&mut self, edit: &Value) {
        if let (Some(target), Some(fields)) = (self.stored.body.as_object_mut(), edit.as_object()) {
            for (key, value) in fields {
                target.insert(key.clone(), value.clone());
            }
        } else if edit.is_object() {
            self.stored.body = edit.clone();
        }
        self.stored.edits += 1;
        self.edited_timestamp = Some(now_rfc3339());
    }
}

/// The state behind the lock.
#[derive(Default)]
pub(super) struct Inner {
    pub(super) requests: Vec<Recorded>,
    pub(super) messages: Vec<Msg>,
    pub(super) violations: Vec<String>,
    pub(super) failures: VecDeque<Failure>,
    /// The original response of each interaction token.
    pub(super) originals: HashMap<String, Msg>,
    /// Interaction tokens answered with a deferred callback (type 5) and no original yet.
    pub(super) deferred: HashSet<String>,
    pub(super) callbacks: HashMap<String, Vec<Value>>,
    /// What gateway lookups answer, and when each one came.
    pub(super) gateway: GatewayLookups,
    issued_ids: u64,
}

impl Inner {
    /// A fresh snowflake, counting up from [`FIRST_ID`] so that tests can predict ids.
    pub(super) fn next_id(&mut self) -> String {
        let id = FIRST_ID + self.issued_ids;
        self.issued_ids += 1;
        id.to_string()
    }

    /// A new message with a fresh id, not yet stored anywhere.
    pub(super) fn new_message(
        &mut self,
        channel: String,
        channel_id: String,
        webhook_id: Option<String>,
        body: &Value,
    ) -> Msg {
        Msg {
            stored: StoredMessage {
                id: self.next_id(),
                channel,
                body: body.clone(),
                edits: 0,
            },
            channel_id,
            webhook_id,
            timestamp: now_rfc3339(),
            edited_timestamp: None,
        }
    }
}

/// The state shared by the test's handle and the server thread.
#[derive(Default)]
pub(super) struct Shared {
    state: Mutex<Inner>,
}

impl Shared {
    /// Locks the state; a panic in another holder does not make it unusable, since the tests
    /// want to see what was recorded anyway.
    pub(super) fn lock(&self) -> MutexGuard<'_, Inner> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records a request and takes the next scripted failure, in one go so that concurrent
    /// requests get the failures in arrival order. Returns the request's index.
    ///
    /// A gateway lookup takes no scripted failure: the gateway retries in the background, and
    /// must not take the failures a test scripted for the requests it is about.
    pub(super) fn record(&self, request: Recorded) -> (usize, Option<Failure>) {
        let mut state = self.lock();
        let scripted = !GatewayLookups::is_lookup(&request);
        state.requests.push(request);
        let failure = scripted.then(|| state.failures.pop_front()).flatten();
        (state.requests.len() - 1, failure)
    }

    /// Sets the status answered to the request at `index`.
    pub(super) fn set_status(&self, index: usize, status: u16) {
        if let Some(r) = self.lock().requests.get_mut(index) {
            r.status = status;
        }
    }
}
