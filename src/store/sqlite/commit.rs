//! Committing polls: one alone, or many together in one transaction with a savepoint each.
//!
//! Together is what the writer thread does (see [`crate::store::CommitQueue`]): the polls of
//! many bots share one WAL commit. A poll that fails rolls back to its savepoint and fails
//! alone; a full disk, or a failed commit of the whole, sends every poll of the batch through
//! `Database::commit_alone`, which knows how to make room (history goes first).
//!
//! Transactions take the write lock at their start (`BEGIN IMMEDIATE`): another process
//! holding it (an operator's `sqlite3` session) is then waited for, up to the busy timeout,
//! where a transaction that read first would fail at once on upgrading its lock.

use rusqlite::{Connection, TransactionBehavior};

use super::history::{HistoryWriter, Pending};
use super::rows::{write_bot_state, write_changes};
use super::Database;
use crate::analytics::Snapshot;
use crate::store::{PollCommit, StoreError};

impl Database {
    /// One poll in its own transaction; on a full disk, again without its history sample.
    pub(super) fn commit_alone(&self, commit: &PollCommit<'_>) -> Result<(), StoreError> {
        let mut connection = self.lock();
        let mut writer = self.writer();
        let mut disk = self.disk();
        let sample = commit
            .snapshot
            .filter(|_| !self.retention.is_zero() && disk.history_due(commit.at));
        let mut once = |sample| commit_once(&mut connection, &mut writer, commit, sample);
        match once(sample) {
            Ok(()) => {
                if sample.is_some() {
                    disk.sample_written();
                }
                Ok(())
            }
            // History goes first: the poll's state and events are committed without it.
            Err(StoreError::DiskFull(error)) if sample.is_some() => {
                disk.sample_refused(commit.at, &error);
                match once(None) {
                    Err(StoreError::DiskFull(_)) if disk.release_reserve() => once(None),
                    other => other,
                }
            }
            Err(StoreError::DiskFull(_)) if disk.release_reserve() => once(None),
            Err(error) => Err(error),
        }
    }

    /// Many polls in one transaction, a savepoint each; one result per poll.
    pub(super) fn commit_together(
        &self,
        commits: &[PollCommit<'_>],
    ) -> Vec<Result<(), StoreError>> {
        if commits.len() == 1 {
            return vec![self.commit_alone(&commits[0])];
        }
        match self.try_together(commits) {
            Ok(results) => results,
            // Nothing was written: each poll on its own, with the full-disk handling.
            Err(_) => commits.iter().map(|c| self.commit_alone(c)).collect(),
        }
    }

    fn try_together(
        &self,
        commits: &[PollCommit<'_>],
    ) -> Result<Vec<Result<(), StoreError>>, StoreError> {
        let mut connection = self.lock();
        let mut writer = self.writer();
        let mut disk = self.disk();
        let mut tx = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut results = Vec::with_capacity(commits.len());
        let mut samples_written = false;
        for commit in commits {
            let sample = commit
                .snapshot
                .filter(|_| !self.retention.is_zero() && disk.history_due(commit.at));
            let mut savepoint = tx.savepoint()?;
            match write_poll(&savepoint, &writer, commit, sample) {
                Ok(pending) => {
                    savepoint.commit()?;
                    // Taken as written at once: a later poll of the same bot in this batch
                    // builds on it. Undone below if the whole batch fails.
                    if let Some(pending) = pending {
                        writer.committed(pending);
                        samples_written = true;
                    }
                    results.push(Ok(()));
                }
                Err(error @ StoreError::DiskFull(_)) => {
                    savepoint.rollback()?;
                    forget_batch(&mut writer, commits);
                    return Err(error);
                }
                Err(error) => {
                    savepoint.rollback()?;
                    results.push(Err(error));
                }
            }
        }
        if let Err(error) = tx.commit() {
            forget_batch(&mut writer, commits);
            return Err(error.into());
        }
        if samples_written {
            disk.sample_written();
        }
        Ok(results)
    }
}

/// The batch was not written: every bot in it starts its next sample afresh.
fn forget_batch(writer: &mut HistoryWriter, commits: &[PollCommit<'_>]) {
    for commit in commits {
        writer.rolled_back(commit.bot_id);
    }
}

/// What one poll writes, in `savepoint`.
fn write_poll<'a>(
    savepoint: &Connection,
    writer: &HistoryWriter,
    commit: &PollCommit<'a>,
    sample: Option<&'a Snapshot>,
) -> Result<Option<Pending<'a>>, StoreError> {
    write_bot_state(savepoint, commit)?;
    write_changes(savepoint, commit)?;
    match sample {
        Some(snapshot) => writer.write(savepoint, commit.bot_id, commit.at, snapshot),
        None => Ok(None),
    }
}

/// One attempt at a poll's transaction, with `sample` in the history or not.
fn commit_once(
    connection: &mut Connection,
    writer: &mut HistoryWriter,
    commit: &PollCommit<'_>,
    sample: Option<&Snapshot>,
) -> Result<(), StoreError> {
    let tx = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let pending = write_poll(&tx, writer, commit, sample)?;
    match tx.commit() {
        Ok(()) => {
            if let Some(pending) = pending {
                writer.committed(pending);
            }
            Ok(())
        }
        Err(error) => {
            writer.rolled_back(commit.bot_id);
            Err(error.into())
        }
    }
}
