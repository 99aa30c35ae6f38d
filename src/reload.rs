//! Hot reload of `rules.yaml`: on SIGHUP, and when the file's modification time changes
//! (checked every few seconds).
//!
//! A valid file is put in force from the next poll on, with the same validation as
//! `botwatch check`; alert state is kept by rule name (no "resolved" spam, no re-announce), and
//! instances of removed rules end quietly. A broken file changes nothing: the old rules keep
//! running and every error is logged with its `file:line:col`.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::rules::{LoadError, RuleSet};
use crate::scheduler::Pipeline;
use crate::shutdown::Shutdown;
use crate::time::Timestamp;

/// How often the file's modification time is looked at.
const CHECK_EVERY: Duration = Duration::from_secs(3);

/// Where reload errors go besides the log (a Discord admin channel): told once per distinct
/// set of errors, not at every check of an unchanged broken file.
pub trait ReloadReport: Send + Sync {
    /// Tells people that the rules file could not be loaded, with its errors.
    fn report<'a>(&'a self, errors: &'a str) -> Pin<Box<dyn Future<Output = ()> + Send + 'a>>;
}

/// Watches one rules file and reloads it into a pipeline.
pub struct RulesWatcher {
    path: PathBuf,
    pipeline: Arc<Pipeline>,
    seen: Option<SystemTime>,
    report: Option<Arc<dyn ReloadReport>>,
    last_reported: Option<String>,
}

impl RulesWatcher {
    /// A watcher for `path`, whose current version is already in force.
    pub fn new(path: PathBuf, pipeline: Arc<Pipeline>) -> Self {
        let seen = modified(&path);
        RulesWatcher {
            path,
            pipeline,
            seen,
            report: None,
            last_reported: None,
        }
    }

    /// Also reports reload errors to `report`.
    pub fn reporting_to(mut self, report: Arc<dyn ReloadReport>) -> Self {
        self.report = Some(report);
        self
    }

    /// Loads the file and, if it is valid, puts it in force; returns the number of rules.
    pub async fn reload(&mut self) -> Result<usize, LoadError> {
        self.seen = modified(&self.path);
        let metrics = self.pipeline.metrics();
        // Reading and compiling (which evaluates every rule on sample data) is blocking work.
        let path = self.path.clone();
        let loaded = tokio::task::spawn_blocking(move || RuleSet::load(&path))
            .await
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic.into_panic()));
        match loaded {
            Ok(rules) => {
                let count = rules.rules.len();
                self.pipeline.replace_rules(rules);
                metrics.reload(true, Timestamp::now());
                self.last_reported = None;
                tracing::info!(file = %self.path.display(), rules = count, "rules reloaded");
                Ok(count)
            }
            Err(error) => {
                metrics.reload(false, Timestamp::now());
                let lines = error.to_string();
                for line in lines.lines().filter(|l| !l.starts_with("  hint:")) {
                    tracing::error!(error = %line, "rules not reloaded; the previous rules stay in force");
                }
                if let Some(report) = &self.report {
                    if self.last_reported.as_deref() != Some(lines.as_str()) {
                        report.report(&lines).await;
                        self.last_reported = Some(lines);
                    }
                }
                Err(error)
            }
        }
    }

    /// Reloads when the file changed, until shutdown. `hangup` resolves on each SIGHUP.
    pub async fn run(mut self, mut shutdown: Shutdown) {
        let mut hangups = hangups();
        let mut ticks = tokio::time::interval(CHECK_EVERY);
        loop {
            let forced = tokio::select! {
                _ = ticks.tick() => false,
                _ = next_hangup(&mut hangups) => true,
                _ = shutdown.wait() => return,
            };
            if forced || modified(&self.path) != self.seen {
                let _ = self.reload().await;
            }
        }
    }
}

fn modified(path: &std::path::Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

#[cfg(unix)]
type Hangups = Option<tokio::signal::unix::Signal>;
#[cfg(not(unix))]
type Hangups = ();

#[cfg(unix)]
fn hangups() -> Hangups {
    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        .map_err(|error| tracing::warn!(%error, "cannot listen for SIGHUP; rules reload on file changes only"))
        .ok()
}

#[cfg(not(unix))]
fn hangups() -> Hangups {}

#[cfg(unix)]
async fn next_hangup(hangups: &mut Hangups) {
    match hangups {
        Some(signal) => {
            signal.recv().await;
        }
        None => std::future::pending().await,
    }
}

#[cfg(not(unix))]
async fn next_hangup(_: &mut Hangups) {
    std::future::pending().await
}
