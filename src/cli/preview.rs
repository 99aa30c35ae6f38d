//! `--preview FILE.html` of `demo` and `eval`: wiring only. The file is created before anything
//! runs (a path that cannot be written fails at once, not after the demo), the Discord
//! notifier sends through a recorder, and the page is written at the end.

use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;

use crate::alerts::AlertEvent;
use crate::discord::config::DiscordConfig;
use crate::discord::preview::{self, Page, Recorder};
use crate::discord::rest::DiscordRest;
use crate::discord::sink::DiscordNotifier;
use crate::metrics::Metrics;
use crate::notify::Notifier;
use crate::store::{OutboxItem, SqliteStore, Steps, Store};

/// The author shown on every message of the page.
const AUTHOR: &str = "botwatch";

/// A preview being recorded.
pub(super) struct Preview {
    path: PathBuf,
    file: std::fs::File,
    recorder: Arc<Recorder>,
    config: DiscordConfig,
}

impl Preview {
    /// Creates `path` now, and a recorder that also sends to `discord` when given, else sends
    /// nothing and routes every alert to [`preview::local_config`]'s destination.
    pub fn create(path: &Path, discord: Option<&DiscordConfig>) -> anyhow::Result<Preview> {
        let file = std::fs::File::create(path)
            .with_context(|| format!("cannot write the preview to {}", path.display()))?;
        let (recorder, config) = match discord {
            Some(config) => (
                Recorder::forwarding(DiscordRest::for_config(config)?),
                config.clone(),
            ),
            None => (Recorder::local(), preview::local_config()),
        };
        Ok(Preview {
            path: std::path::absolute(path).unwrap_or_else(|_| path.to_owned()),
            file,
            recorder: Arc::new(recorder),
            config,
        })
    }

    /// Where the page goes (an absolute path, to open in a browser).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The Discord notifier whose messages this preview records, keeping card ids in `store`.
    pub fn notifier(&self, store: Arc<dyn Store>, metrics: Arc<Metrics>) -> DiscordNotifier {
        self.notifier_with(self.config.clone(), store, metrics)
    }

    fn notifier_with(
        &self,
        config: DiscordConfig,
        store: Arc<dyn Store>,
        metrics: Arc<Metrics>,
    ) -> DiscordNotifier {
        DiscordNotifier::with_transport(config, Box::new(self.recorder.clone()), store, metrics)
    }

    /// Posts the card of each event as its own message, as a firing does (`eval`).
    pub async fn post_cards(&self, events: &[AlertEvent]) -> anyhow::Result<()> {
        let state = tempfile::tempdir().context("creating a temporary state directory")?;
        let path = state.path().join("preview.db");
        // No history: the preview keeps only card ids.
        let history = std::time::Duration::ZERO;
        let store = tokio::task::spawn_blocking(move || SqliteStore::open(&path, history))
            .await
            .context("opening the preview's state")??;
        // Cards go one by one and nowhere but the page: no rate budget to wait for.
        let mut config = self.config.clone();
        config.limits.per_destination_per_5s = NonZeroU32::MAX;
        config.limits.global_per_second = NonZeroU32::MAX;
        let notifier = self.notifier_with(config, Arc::new(store), Arc::new(Metrics::new()));
        for (id, event) in (1..).zip(events) {
            let item = OutboxItem {
                id,
                event: event.clone(),
                attempts: 0,
                done: Steps::default(),
            };
            notifier
                .deliver(&item)
                .await
                .with_context(|| format!("previewing the card of {}", event.key))?;
        }
        Ok(())
    }

    /// Writes the page titled `title`; returns the line that tells the user where it is.
    pub fn write(self, title: &str) -> anyhow::Result<String> {
        use std::io::Write as _;
        let transcript = self.recorder.transcript();
        let page = Page {
            title: title.to_owned(),
            author: AUTHOR.to_owned(),
            roles: preview::role_names(),
        };
        let html = preview::render(&transcript, &page)?;
        let mut file = self.file;
        file.write_all(html.as_bytes())
            .and_then(|()| file.flush())
            .with_context(|| format!("cannot write the preview to {}", self.path.display()))?;
        Ok(format!(
            "preview: {} Discord message(s) in {} (open it in a browser)",
            transcript.messages().len(),
            self.path.display()
        ))
    }
}
