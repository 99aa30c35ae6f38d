//! What the fake remembers between requests: the requests themselves, the messages it created,
//! the interactions it saw, the violations it found, the failures still to inject and the
//! rate-limit windows in progress.
//!
//! One mutex guards it all; handlers hold it only while they touch the state, never while
//! validating a body or sleeping.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use serde_json::Value;

use super::gateway_lookup::GatewayLookups;
use super::ratelimit::{Admission, Buckets, RateLimits};
use super::reply::Reply;
use super::routes::Route;
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

/// What to do with a recorded request.
pub(super) enum Next {
    /// Answer this 429: a bucket or the global limit is spent.
    Limited(Reply),
    /// Process it (or the scripted failure), with these rate-limit headers on a success.
    Proceed {
        failure: Option<Failure>,
        headers: Vec<(&'static str, String)>,
    },
}

/// Which requests a scripted failure is for.
pub(super) type Aim = std::sync::Arc<dyn Fn(&Recorded) -> bool + Send + Sync>;

/// The state behind the lock.
#[derive(Default)]
pub(super) struct Inner {
    pub(super) requests: Vec<Recorded>,
    pub(super) messages: Vec<Msg>,
    pub(super) violations: Vec<String>,
    pub(super) failures: VecDeque<(Aim, Failure)>,
    /// The original response of each interaction token.
    pub(super) originals: HashMap<String, Msg>,
    /// Interaction tokens answered with a deferred callback (type 5) and no original yet.
    pub(super) deferred: HashSet<String>,
    pub(super) callbacks: HashMap<String, Vec<Value>>,
    /// The rate limits enforced, and the windows in progress.
    pub(super) limits: RateLimits,
    pub(super) buckets: Buckets,
    /// Answers Discord counts as invalid requests: 401, 403 and 429.
    pub(super) invalid: usize,
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

    /// Records a request, counts it against the rate limits, and takes the first scripted
    /// failure aimed at it, in one go so that concurrent requests meet the limits and the
    /// failures in arrival order. Returns the request's index and what to do with it.
    pub(super) fn record(&self, request: Recorded, route: &Route) -> (usize, Next) {
        let mut state = self.lock();
        let limits = state.limits.clone();
        let admission = state.buckets.admit(&limits, route, Instant::now());
        state.requests.push(request);
        let index = state.requests.len() - 1;
        let next = match admission {
            Admission::Limited(reply) => Next::Limited(reply),
            Admission::Admitted(headers) => {
                let request = &state.requests[index];
                let aimed = state.failures.iter().position(|(aim, _)| aim(request));
                let failure = aimed
                    .and_then(|i| state.failures.remove(i))
                    .map(|(_, failure)| failure);
                Next::Proceed { failure, headers }
            }
        };
        (index, next)
    }

    /// Notes that the request at `index` has been answered with `status`.
    pub(super) fn mark_answered(&self, index: usize, status: u16) {
        let mut state = self.lock();
        if let Some(r) = state.requests.get_mut(index) {
            r.answered = true;
            r.status = status;
        }
        if matches!(status, 401 | 403 | 429) {
            state.invalid += 1;
        }
    }

    /// Sets the status answered to the request at `index`.
    pub(super) fn set_status(&self, index: usize, status: u16) {
        if let Some(r) = self.lock().requests.get_mut(index) {
            r.status = status;
        }
    }
}
