//! A full disk never stops alerting. History is what fills disks, so when a poll cannot be
//! committed for lack of space, it is committed again without its sample and history pauses
//! (said once, and watched by the operators' channel, `/readyz` and a metric). Alert state
//! and the outbox then live on pages SQLite reuses, and on a small reserve file released the
//! first time even they do not fit. While paused, one sample is tried every [`PROBE_EVERY`];
//! the first that fits resumes history by itself.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::sync::watch;

use crate::time::Timestamp;

/// How often a paused history tries one sample.
pub(super) const PROBE_EVERY: Duration = Duration::from_secs(10);
/// Space kept aside for alert state and the outbox when the disk fills.
const RESERVE_BYTES: usize = 1 << 20;

/// Whether history is paused, and the reserve file.
#[derive(Debug)]
pub(super) struct DiskGuard {
    paused: watch::Sender<bool>,
    next_probe: Option<Timestamp>,
    reserve: PathBuf,
}

impl DiskGuard {
    /// A guard keeping its reserve beside the state file at `state`.
    pub(super) fn new(state: &Path) -> DiskGuard {
        let mut reserve = state.as_os_str().to_owned();
        reserve.push(".reserve");
        let guard = DiskGuard {
            paused: watch::Sender::new(false),
            next_probe: None,
            reserve: PathBuf::from(reserve),
        };
        guard.keep_reserve();
        guard
    }

    /// Whether a poll at `at` writes its sample: always, unless paused and not yet due to try.
    pub(super) fn history_due(&self, at: Timestamp) -> bool {
        self.next_probe.is_none_or(|probe| at >= probe)
    }

    /// A sample did not fit: pause history (said once) until the next probe.
    pub(super) fn sample_refused(&mut self, at: Timestamp, error: &str) {
        if !*self.paused.borrow() {
            tracing::error!(%error, "the disk holding the state file is full: history is paused; alerts and their delivery go on, and history resumes by itself once there is space");
            self.paused.send_replace(true);
        }
        self.next_probe = Some(at.plus(PROBE_EVERY));
    }

    /// A sample was written: history resumes if it was paused.
    pub(super) fn sample_written(&mut self) {
        if self.next_probe.take().is_some() {
            tracing::info!("there is space on the disk again: history resumed");
            self.paused.send_replace(false);
            self.keep_reserve();
        }
    }

    /// Even a poll without its sample did not fit: give up the reserve; `true` if there was
    /// one to give.
    pub(super) fn release_reserve(&mut self) -> bool {
        let released = std::fs::remove_file(&self.reserve).is_ok();
        if released {
            tracing::error!(
                "the disk is full even without history: released the 1 MiB reserve for alert state"
            );
        }
        released
    }

    /// History's pause, watched.
    pub(super) fn watch(&self) -> watch::Receiver<bool> {
        self.paused.subscribe()
    }

    /// Creates the reserve if it is missing (best effort: without it, alerting still goes on
    /// on reused pages).
    fn keep_reserve(&self) {
        if std::fs::metadata(&self.reserve).is_ok_and(|m| m.len() >= RESERVE_BYTES as u64) {
            return;
        }
        if let Err(error) = std::fs::write(&self.reserve, vec![0u8; RESERVE_BYTES]) {
            let _ = std::fs::remove_file(&self.reserve);
            tracing::warn!(%error, "could not set aside space for alert state beside the state file");
        }
    }
}
