//! The writer of polls: one thread that takes the polls of every bot and commits them in
//! groups, in one transaction where the store can.
//!
//! Two kinds of poll, because they need different things:
//! - A poll that changed alert state or produced events is **urgent**: its poll loop waits
//!   ([`CommitQueue::commit`]) until it is durable, and only then is the outbox woken, so an
//!   event is never announced without its state. It is committed at once, with whatever waits.
//! - A **quiet** poll (nothing but its history sample and the bot's last figures) is handed
//!   over and not waited for ([`CommitQueue::record`]): it is committed with the next group, at
//!   most [`LINGER`] later. A crash loses at most that much history, and no alert state.
//!
//! A profile of 1,000 polls a second showed a fifth of the time in thread switches: the writer
//! woke for every poll and woke its poll loop back. Quiet polls, nearly all of them, now cost
//! neither: the writer wakes about ten times a second, or sooner for an urgent poll.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::{oneshot, OwnedSemaphorePermit, Semaphore};

use super::{BotStates, OwnedPollCommit, PollCommit, StoreError};
use crate::repeated::RepeatedErrors;

/// Polls waiting at most; a poll past it waits for room (back-pressure on the poll loops).
const QUEUE: usize = 4096;
/// Quiet polls waiting that make the writer commit without waiting for [`LINGER`].
const BATCH: usize = 512;
/// How long a quiet poll may wait for others to be committed with.
pub const LINGER: Duration = Duration::from_millis(100);

/// Hands polls to the writer thread; the thread ends when the last handle is dropped, after
/// committing what waits.
#[derive(Debug, Clone)]
pub struct CommitQueue {
    handle: Arc<Handle>,
}

/// What every clone of a [`CommitQueue`] shares; closes the queue when the last one goes.
#[derive(Debug)]
struct Handle {
    shared: Arc<Shared>,
    room: Arc<Semaphore>,
}

#[derive(Debug, Default)]
struct Shared {
    waiting: Mutex<Waiting>,
    wake: Condvar,
}

#[derive(Debug, Default)]
struct Waiting {
    jobs: Vec<Job>,
    /// A poll loop (or a flush) waits for one of the jobs.
    urgent: bool,
    /// When the oldest job arrived.
    since: Option<Instant>,
    closed: bool,
}

#[derive(Debug)]
struct Job {
    /// `None` for a flush: nothing to write, an answer once everything before it is.
    commit: Option<OwnedPollCommit>,
    done: Option<oneshot::Sender<Result<(), StoreError>>>,
    _room: OwnedSemaphorePermit,
}

fn stopped() -> StoreError {
    StoreError::Query("the state writer stopped".into())
}

impl CommitQueue {
    /// Starts the writer thread for `store`.
    pub fn start(store: Arc<dyn BotStates>) -> std::io::Result<CommitQueue> {
        let shared = Arc::new(Shared::default());
        let writer = shared.clone();
        std::thread::Builder::new()
            .name("botwatch-writer".into())
            .spawn(move || write(store.as_ref(), &writer))?;
        Ok(CommitQueue {
            handle: Arc::new(Handle {
                shared,
                room: Arc::new(Semaphore::new(QUEUE)),
            }),
        })
    }

    /// Commits `commit` now; returns once it is durable (or failed).
    pub async fn commit(&self, commit: OwnedPollCommit) -> Result<(), StoreError> {
        self.wait_for(Some(commit)).await
    }

    /// Hands a quiet poll over, to be committed with the next group; failures are logged.
    pub async fn record(&self, commit: OwnedPollCommit) {
        // Waiting for room is the only wait: the queue is full only if the disk is slower
        // than the polls, and then the poll loops must slow down rather than pile up.
        if let Some(room) = self.room().await {
            self.push(
                Job {
                    commit: Some(commit),
                    done: None,
                    _room: room,
                },
                false,
            );
        }
    }

    /// Returns once every poll handed over before it is committed (or failed).
    pub async fn flush(&self) -> Result<(), StoreError> {
        self.wait_for(None).await
    }

    async fn wait_for(&self, commit: Option<OwnedPollCommit>) -> Result<(), StoreError> {
        let room = self.room().await.ok_or_else(stopped)?;
        let (done, answer) = oneshot::channel();
        self.push(
            Job {
                commit,
                done: Some(done),
                _room: room,
            },
            true,
        );
        answer.await.map_err(|_| stopped())?
    }

    async fn room(&self) -> Option<OwnedSemaphorePermit> {
        self.handle.room.clone().acquire_owned().await.ok()
    }

    fn push(&self, job: Job, urgent: bool) {
        let shared = &self.handle.shared;
        let wake = {
            let mut waiting = lock(&shared.waiting);
            let was_idle = waiting.jobs.is_empty();
            waiting.since.get_or_insert_with(Instant::now);
            waiting.jobs.push(job);
            waiting.urgent |= urgent;
            // The writer sleeps without a deadline only while nothing waits: the first job
            // must wake it (to start the clock), later quiet ones need not.
            urgent || was_idle || waiting.jobs.len() >= BATCH
        };
        if wake {
            shared.wake.notify_one();
        }
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        lock(&self.shared.waiting).closed = true;
        self.shared.wake.notify_one();
        self.room.close();
    }
}

fn lock(waiting: &Mutex<Waiting>) -> MutexGuard<'_, Waiting> {
    waiting.lock().unwrap_or_else(|p| p.into_inner())
}

/// Commits groups of polls until the queue is closed and empty.
fn write(store: &dyn BotStates, shared: &Shared) {
    let failures = RepeatedErrors::new(Duration::from_secs(60));
    while let Some(group) = next_group(shared) {
        let commits: Vec<PollCommit<'_>> = group
            .iter()
            .filter_map(|job| job.commit.as_ref().map(OwnedPollCommit::borrowed))
            .collect();
        let mut results = store.commit_polls(&commits).into_iter();
        drop(commits);
        for job in group {
            let result = match &job.commit {
                Some(commit) => {
                    let result = results.next().unwrap_or_else(|| Err(stopped()));
                    if let Err(error) = &result {
                        log_failure(&failures, &commit.bot_id, error);
                    }
                    result
                }
                None => Ok(()),
            };
            if let Some(done) = job.done {
                // A poll loop that stopped waiting (shutdown) no longer needs the answer.
                let _ = done.send(result);
            }
        }
    }
}

/// Waits until a group is due: an urgent job, a full batch, the oldest quiet job waiting for
/// [`LINGER`], or the queue closed. `None` once it is closed and empty.
fn next_group(shared: &Shared) -> Option<Vec<Job>> {
    let mut waiting = lock(&shared.waiting);
    loop {
        let due = match waiting.since {
            _ if waiting.urgent || waiting.closed || waiting.jobs.len() >= BATCH => true,
            Some(since) => since.elapsed() >= LINGER,
            None => false,
        };
        if due {
            if waiting.jobs.is_empty() {
                return None; // closed, and nothing left
            }
            waiting.urgent = false;
            waiting.since = None;
            return Some(std::mem::take(&mut waiting.jobs));
        }
        waiting = match waiting.since {
            Some(since) => {
                let left = LINGER.saturating_sub(since.elapsed());
                shared
                    .wake
                    .wait_timeout(waiting, left)
                    .unwrap_or_else(|p| p.into_inner())
                    .0
            }
            None => shared.wake.wait(waiting).unwrap_or_else(|p| p.into_inner()),
        };
    }
}

/// Every bot fails alike while a disk is full: logged at a bounded rate.
fn log_failure(failures: &RepeatedErrors, bot_id: &str, error: &StoreError) {
    let message = error.to_string();
    if let Some(more) = failures.admit(&message) {
        tracing::error!(bot = bot_id, error = %message, more_since_last_line = more, "could not record the poll; the bot's next poll records its state again");
    }
}
