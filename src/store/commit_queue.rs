//! The writer of polls: one thread that takes the polls of every bot as they come and commits
//! those waiting together, in one transaction where the store can.
//!
//! A poll used to hop to the blocking pool for its own transaction: at 1,000 polls a second
//! that was a thread switch and a WAL commit per poll, the largest cost a profile showed. Each
//! poll still waits until its own commit is done, so its state and events are durable before
//! the outbox is woken to deliver them.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use super::{OwnedPollCommit, PollCommit, Store, StoreError};

/// Polls waiting at most; a poll past it waits for room (back-pressure on the poll loops).
const QUEUE: usize = 4096;
/// Polls committed together at most.
const BATCH: usize = 512;

/// Hands polls to the writer thread.
#[derive(Debug, Clone)]
pub struct CommitQueue {
    jobs: mpsc::Sender<Job>,
}

#[derive(Debug)]
struct Job {
    commit: OwnedPollCommit,
    done: oneshot::Sender<Result<(), StoreError>>,
}

impl CommitQueue {
    /// Starts the writer thread for `store`; it ends when the last queue handle is dropped.
    pub fn start(store: Arc<dyn Store>) -> std::io::Result<CommitQueue> {
        let (jobs, receiver) = mpsc::channel(QUEUE);
        std::thread::Builder::new()
            .name("botwatch-writer".into())
            .spawn(move || write(store.as_ref(), receiver))?;
        Ok(CommitQueue { jobs })
    }

    /// Commits `commit`; returns once it is durable (or failed).
    pub async fn commit(&self, commit: OwnedPollCommit) -> Result<(), StoreError> {
        let (done, result) = oneshot::channel();
        let stopped = || StoreError::Query("the state writer stopped".into());
        self.jobs
            .send(Job { commit, done })
            .await
            .map_err(|_| stopped())?;
        result.await.map_err(|_| stopped())?
    }
}

/// Commits what waits, batch by batch, until every queue handle is gone.
fn write(store: &dyn Store, mut jobs: mpsc::Receiver<Job>) {
    while let Some(first) = jobs.blocking_recv() {
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let commits: Vec<PollCommit<'_>> = batch.iter().map(|j| j.commit.borrowed()).collect();
        let results = store.commit_polls(&commits);
        drop(commits);
        for (job, result) in batch.into_iter().zip(results) {
            // A poll loop that stopped waiting (shutdown) no longer needs the answer.
            let _ = job.done.send(result);
        }
    }
}
