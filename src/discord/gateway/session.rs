//! One gateway connection: a serenity `Shard` connected to the URL the lookup gave, run by
//! serenity's own `ShardRunner` (hello, identify, heartbeats, resumes, event dispatch) until
//! the connection is lost, Discord refuses the bot, or botwatch shuts down.
//!
//! Three things in serenity 0.12.5 shape it:
//! - A `ShardRunner` needs a `ShardManager`, and `ShardManager::new` spawns a `ShardQueuer`,
//!   serenity's loop that restarts a shard every 5 s for ever. Restarts belong to the caller's
//!   backoff here, so the manager is made on a runtime that is never driven and is shut down
//!   at once: the queuer is dropped before it runs. A restart the runner asks for then only
//!   ends its run (the manager's 5 s wait for the queuer's acknowledgement is answered in
//!   advance), and the caller decides when to connect again.
//! - When a connection breaks, the runner resumes by itself; if that reconnect fails, it
//!   keeps polling the dead socket without ever yielding until its next heartbeat is due
//!   (about 40 s). A task that never yields holds its worker, and with it the runtime's timers
//!   and sockets: botwatch's polls and deliveries stopped with it. So serenity's side runs on a
//!   [`GatewayThread`] of its own (the handlers hand their work back to botwatch's runtime),
//!   the session watches from botwatch's runtime the stage the runner reports to its manager,
//!   and a shard left `Connecting` (a reconnect that failed) is stopped at once: the caller's
//!   backoff takes over.
//! - A close message makes the runner return when its socket is dead; a shutdown message
//!   closes a live one cleanly but would wait for ever on a dead one. Stopping sends the one
//!   that fits the stage the runner last reported, and waits a bounded time.

use std::sync::Arc;
use std::time::{Duration, Instant};

use secrecy::{ExposeSecret, SecretString};
use serenity::all::{
    ConnectionStage, GatewayError, GatewayIntents, Http, ShardId, ShardInfo, ShardManager,
    ShardManagerOptions, ShardMessenger, ShardRunner, ShardRunnerInfo, ShardRunnerMessage,
    ShardRunnerOptions,
};
use serenity::gateway::Shard;
use serenity::prelude::TypeMap;
use tokio::runtime::{Handle, Runtime};
use tokio::sync::{Mutex, RwLock};
use tokio::task::JoinHandle;

use super::handler::Handler;
use crate::discord::interactions::Interactions;
use crate::shutdown::Shutdown;

/// botwatch runs one shard: interactions need no more.
const SHARD: ShardInfo = ShardInfo {
    id: ShardId(0),
    total: 1,
};
/// The close code of a deliberate disconnect.
const NORMAL_CLOSURE: u16 = 1000;
/// How long stopping (a close frame and its answer) may take.
const CLOSE_GRACE: Duration = Duration::from_secs(3);
/// How often the session looks at the stage the runner reports.
const STAGE_CHECK: Duration = Duration::from_millis(250);

/// The parts every session of one gateway shares.
#[derive(Clone)]
pub(super) struct Parts {
    /// serenity's HTTP client, which its `Context` carries (the handlers use botwatch's own).
    pub(super) http: Arc<Http>,
    /// The bot token, for the identify.
    pub(super) token: SecretString,
    /// What answers commands and components.
    pub(super) interactions: Arc<Interactions>,
    /// How long opening the websocket may take.
    pub(super) connect_timeout: Duration,
    /// botwatch's runtime, where the handlers' work runs.
    pub(super) botwatch: Handle,
}

/// The thread serenity's gateway code runs on: a runtime with one worker of its own.
pub(super) struct GatewayThread {
    runtime: Option<Runtime>,
    handle: Handle,
}

impl GatewayThread {
    /// Starts the thread.
    pub(super) fn start() -> std::io::Result<GatewayThread> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("discord-gateway")
            .enable_all()
            .build()?;
        let handle = runtime.handle().clone();
        Ok(GatewayThread {
            runtime: Some(runtime),
            handle,
        })
    }
}

impl Drop for GatewayThread {
    fn drop(&mut self) {
        // Dropped on botwatch's runtime, where waiting for the thread is not allowed.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// A connected shard, ready to run.
pub(super) struct Session {
    runner: ShardRunner,
    manager: IdleManager,
}

/// How a session ended.
#[derive(Debug)]
pub(super) enum Ended {
    /// botwatch is shutting down; the connection was closed.
    Shutdown,
    /// The connection was lost (or could not be resumed).
    Lost {
        /// How long it was up.
        lasted: Duration,
    },
    /// Discord refused the bot (its token, or the intents): connecting again cannot help.
    Refused(GatewayError),
}

impl Session {
    /// Opens a websocket to `url` from `thread`; the error says why it could not.
    pub(super) async fn connect(
        url: &str,
        parts: &Parts,
        thread: &GatewayThread,
    ) -> Result<Session, String> {
        let opening = thread.handle.spawn(open(url.to_owned(), parts.clone()));
        opening
            .await
            .unwrap_or_else(|error| Err(format!("the gateway thread failed: {error}")))
    }

    /// Runs the connection on `thread` until it ends; a shutdown closes it first.
    pub(super) async fn run(self, thread: &GatewayThread, shutdown: &mut Shutdown) -> Ended {
        let Session { runner, manager } = self;
        let started = Instant::now();
        let messenger = ShardMessenger::new(&runner);
        // Listed with its manager, the runner reports its stage there.
        let info = ShardRunnerInfo {
            latency: None,
            runner_tx: messenger.clone(),
            stage: ConnectionStage::Handshake,
        };
        manager.manager.runners.lock().await.insert(SHARD.id, info);
        let mut task = thread.handle.spawn(async move {
            let mut runner = runner;
            runner.run().await
        });
        let mut check = tokio::time::interval(STAGE_CHECK);
        loop {
            tokio::select! {
                ended = &mut task => return match ended {
                    Ok(Err(serenity::Error::Gateway(refusal))) => Ended::Refused(refusal),
                    _ => Ended::Lost { lasted: started.elapsed() },
                },
                _ = check.tick() => {
                    let stage = manager.stage().await;
                    if stage == Some(ConnectionStage::Connecting) {
                        stop(&messenger, &mut task, stage).await;
                        return Ended::Lost { lasted: started.elapsed() };
                    }
                }
                _ = shutdown.wait() => {
                    stop(&messenger, &mut task, manager.stage().await).await;
                    return Ended::Shutdown;
                }
            }
        }
    }
}

/// Opens a websocket to `url` and sets up serenity's runner for it.
async fn open(url: String, parts: Parts) -> Result<Session, String> {
    let ws_url = Arc::new(Mutex::new(url));
    // Interactions need no privileged intents; guild events are not used either.
    let intents = GatewayIntents::empty();
    let token = parts.token.expose_secret();
    let shard = Shard::new(Arc::clone(&ws_url), token, SHARD, intents, None);
    let shard = match tokio::time::timeout(parts.connect_timeout, shard).await {
        Ok(Ok(shard)) => shard,
        Ok(Err(error)) => return Err(error.to_string()),
        Err(_) => return Err(format!("no answer within {:?}", parts.connect_timeout)),
    };
    let data = Arc::new(RwLock::new(TypeMap::new()));
    let manager = idle_manager(ShardManagerOptions {
        data: Arc::clone(&data),
        event_handlers: Vec::new(),
        raw_event_handlers: Vec::new(),
        shard_index: SHARD.id.0,
        shard_init: 1,
        shard_total: SHARD.total,
        ws_url,
        http: Arc::clone(&parts.http),
        intents,
        presence: None,
    })
    .map_err(|error| format!("cannot set up the shard: {error}"))?;
    let handler = Handler {
        interactions: Arc::clone(&parts.interactions),
        runtime: parts.botwatch.clone(),
    };
    let runner = ShardRunner::new(ShardRunnerOptions {
        data,
        event_handlers: vec![Arc::new(handler)],
        raw_event_handlers: Vec::new(),
        manager: Arc::clone(&manager.manager),
        shard,
        http: Arc::clone(&parts.http),
    });
    Ok(Session { runner, manager })
}

/// Ends the runner, whose last reported stage is `stage` (see the module doc), waiting at
/// most [`CLOSE_GRACE`] for it.
async fn stop(
    messenger: &ShardMessenger,
    task: &mut JoinHandle<serenity::Result<()>>,
    stage: Option<ConnectionStage>,
) {
    if task.is_finished() {
        return;
    }
    messenger.send_to_shard(match stage {
        // A live socket: a close frame, then the runner waits for the answering one.
        Some(stage) if stage != ConnectionStage::Connecting => {
            ShardRunnerMessage::Shutdown(SHARD.id, NORMAL_CLOSURE)
        }
        // A dead one (or a runner on its way out): sending fails, and the runner returns.
        _ => ShardRunnerMessage::Close(NORMAL_CLOSURE, None),
    });
    if tokio::time::timeout(CLOSE_GRACE, &mut *task).await.is_err() {
        task.abort();
    }
}

/// A `ShardManager` whose `ShardQueuer` never runs (see the module doc).
struct IdleManager {
    manager: Arc<ShardManager>,
    /// The manager's channel for a runner's fatal error (which `ShardRunner::run` returns
    /// too), kept open so that sending on it does not fail with a warning.
    _returns: Box<dyn std::any::Any + Send + Sync>,
}

impl IdleManager {
    /// The stage the runner last reported; `None` once it asked for a restart.
    async fn stage(&self) -> Option<ConnectionStage> {
        let runners = self.manager.runners.lock().await;
        runners.get(&SHARD.id).map(|info| info.stage)
    }
}

fn idle_manager(options: ShardManagerOptions) -> std::io::Result<IdleManager> {
    let parked = tokio::runtime::Builder::new_current_thread().build()?;
    let (manager, returns) = {
        let _inside = parked.enter();
        ShardManager::new(options)
    };
    // Does not block: the queuer's task is dropped unpolled, and nothing else is on it.
    parked.shutdown_background();
    // A restart waits up to 5 s for the queuer to acknowledge the shard's shutdown; the
    // queuer is gone, so the acknowledgement is sent now and the restart returns at once.
    manager.shutdown_finished(SHARD.id);
    Ok(IdleManager {
        manager,
        _returns: Box::new(returns),
    })
}
