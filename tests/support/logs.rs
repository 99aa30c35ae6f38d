//! What botwatch logs, captured in memory so a test can read it like an operator would.
//!
//! The capture is the process's global subscriber, installed once: tracing caches, per call
//! site, whether anyone listens, and a subscriber scoped to one test thread loses that race
//! against the other tests of the binary. Tests running side by side share the text, so each
//! reads the lines of its own bots.

use std::io::Write;
use std::sync::{Arc, Mutex};

/// The captured log text; keep the guard alive while capturing.
#[derive(Clone, Default)]
pub struct CapturedLogs(Arc<Mutex<Vec<u8>>>);

impl Write for CapturedLogs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl CapturedLogs {
    /// The capture of this test binary's logs at `warn` and above, in the text format
    /// `botwatch run` uses; started by the first call.
    pub fn global() -> &'static CapturedLogs {
        static LOGS: std::sync::OnceLock<CapturedLogs> = std::sync::OnceLock::new();
        LOGS.get_or_init(|| {
            let logs = CapturedLogs::default();
            let writer = logs.clone();
            let subscriber = tracing_subscriber::fmt()
                .with_max_level(tracing::Level::WARN)
                .with_ansi(false)
                .with_writer(move || writer.clone())
                .finish();
            tracing::subscriber::set_global_default(subscriber)
                .expect("no other global subscriber in the test binary");
            logs
        })
    }

    /// The lines logged so far about this bot (`bot=ID`).
    pub fn of_bot(&self, id: &str) -> Vec<String> {
        let text = String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned();
        let field = format!(" bot={id} ");
        text.lines()
            .filter(|l| l.contains(&field))
            .map(str::to_owned)
            .collect()
    }
}
