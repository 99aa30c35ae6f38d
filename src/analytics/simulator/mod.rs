//! A loopback simulator of the analytics API, for `botwatch demo` and the test suite.
//!
//! Each simulated bot follows a [`Timeline`]: its n-th request gets the n-th [`Step`] (the last
//! step repeats), so a scenario plays the same way whatever the poll timing. Steps are either
//! a snapshot or a fault (an HTTP status, a slow answer, a body that is not JSON…), which is what
//! both the demo and the fault tests need. Credentials are checked like the real API would.

mod scenario;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use futures_util::StreamExt;
use serde::Deserialize;

use secrecy::SecretString;

use super::{Bot, Snapshot};
pub use scenario::{demo_bots, demo_timelines, DEMO_STEPS};

/// What the simulator answers to one request.
#[derive(Debug, Clone)]
pub enum Step {
    /// `200` with `success: true` and these figures.
    Respond(Box<Snapshot>),
    /// `200` with `success: false` and this message.
    Reject(String),
    /// This HTTP status with a short text body.
    Status(u16),
    /// This HTTP status with this text body.
    StatusBody(u16, String),
    /// `200` with this exact body (for bodies that are not the schema).
    RawBody(String),
    /// `429` with this `Retry-After` header value, if any.
    RateLimited(Option<String>),
    /// `200` with `body` sent in `pieces` parts `every` apart and no Content-Length (a slow or
    /// endless body); with `cut`, the connection is cut instead of sending the last part.
    Stream {
        /// The whole body.
        body: String,
        /// How many parts it is sent in.
        pieces: usize,
        /// The pause before each part.
        every: Duration,
        /// Whether the connection is cut before the last part.
        cut: bool,
    },
    /// Wait, then answer as the inner step.
    Delay(Duration, Box<Step>),
}

impl Step {
    /// A successful answer with these figures.
    pub fn respond(snapshot: Snapshot) -> Step {
        Step::Respond(Box::new(snapshot))
    }
}

/// The scripted answers for one bot.
#[derive(Debug, Clone)]
pub struct Timeline {
    /// The bearer token the bot must send.
    pub token: String,
    /// The secret the bot must send in the body.
    pub secret: String,
    /// The answers, in request order; the last one repeats.
    pub steps: Vec<Step>,
}

/// A bot whose credentials follow the simulator's convention (`{id}-token`, `{id}-secret`).
pub fn simulated_bot(id: &str, name: &str) -> Bot {
    Bot {
        id: id.to_owned(),
        name: name.to_owned(),
        token: SecretString::from(format!("{id}-token")),
        secret: SecretString::from(format!("{id}-secret")),
    }
}

/// Timelines by bot id, with the credentials of [`simulated_bot`].
pub fn timelines_for(steps_by_bot: Vec<(&str, Vec<Step>)>) -> HashMap<String, Timeline> {
    steps_by_bot
        .into_iter()
        .map(|(id, steps)| {
            let timeline = Timeline {
                token: format!("{id}-token"),
                secret: format!("{id}-secret"),
                steps,
            };
            (id.to_owned(), timeline)
        })
        .collect()
}

/// How many received requests the simulator remembers.
pub const RECEIVED_KEPT: usize = 10_000;

/// A request the simulator received, for tests to inspect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedRequest {
    /// The `botId` query parameter.
    pub bot_id: String,
    /// Whether token and secret matched the bot's timeline.
    pub authorized: bool,
    /// When it arrived.
    pub at: std::time::Instant,
}

#[derive(Default)]
struct SimState {
    timelines: HashMap<String, Timeline>,
    served: HashMap<String, usize>,
    /// The latest requests (a bounded log: the simulator may serve a demo or a soak for hours).
    received: std::collections::VecDeque<ReceivedRequest>,
    /// Bytes of streamed bodies that the server took to send (see [`Simulator::streamed_bytes`]).
    streamed: Arc<AtomicUsize>,
}

/// A running simulator. Dropping it does not stop the server; call [`Simulator::shutdown`].
pub struct Simulator {
    addr: SocketAddr,
    state: Arc<Mutex<SimState>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: tokio::task::JoinHandle<()>,
}

impl Simulator {
    /// Starts a simulator on `127.0.0.1` on a free port, serving these timelines by bot id.
    pub async fn start(timelines: HashMap<String, Timeline>) -> std::io::Result<Simulator> {
        Simulator::start_at(SocketAddr::from(([127, 0, 0, 1], 0)), timelines).await
    }

    /// Starts a simulator listening on `addr` (e.g. where a stopped one listened).
    pub async fn start_at(
        addr: SocketAddr,
        timelines: HashMap<String, Timeline>,
    ) -> std::io::Result<Simulator> {
        let state = Arc::new(Mutex::new(SimState {
            timelines,
            ..SimState::default()
        }));
        let app = Router::new()
            .route("/openapi/message/analysis", post(answer))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let server = tokio::spawn(async move {
            let server = axum::serve(listener, app).with_graceful_shutdown(async {
                let _ = stopped.await;
            });
            if let Err(error) = server.await {
                tracing::error!(%error, "analytics simulator stopped");
            }
        });
        Ok(Simulator {
            addr,
            state,
            stop: Some(stop),
            server,
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL to configure as `analytics.base_url`.
    pub fn base_url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// The requests received (the latest [`RECEIVED_KEPT`]), in order.
    pub fn received(&self) -> Vec<ReceivedRequest> {
        self.lock().received.iter().cloned().collect()
    }

    /// Bytes of [`Step::Stream`] bodies handed to the connection so far. The server takes the
    /// next part only once the connection accepts more, so a client that stops reading stops
    /// this count: it is what the client read, plus what the socket buffers hold.
    pub fn streamed_bytes(&self) -> usize {
        self.lock().streamed.load(Ordering::Relaxed)
    }

    /// How many requests for this bot have been answered from its timeline.
    pub fn served(&self, bot_id: &str) -> usize {
        self.lock().served.get(bot_id).copied().unwrap_or(0)
    }

    /// Replaces the remaining steps of a bot's timeline (its request count starts again at 0).
    pub fn set_steps(&self, bot_id: &str, steps: Vec<Step>) {
        let mut state = self.lock();
        if let Some(timeline) = state.timelines.get_mut(bot_id) {
            timeline.steps = steps;
        }
        state.served.insert(bot_id.to_owned(), 0);
    }

    /// Stops the server.
    pub fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// Stops the server and waits until it no longer listens (connections are then refused).
    pub async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
            let _ = (&mut self.server).await;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SimState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[derive(Deserialize)]
struct BotQuery {
    #[serde(rename = "botId")]
    bot_id: String,
}

#[derive(Deserialize)]
struct SecretBody {
    secret: Option<String>,
}

async fn answer(
    State(state): State<Arc<Mutex<SimState>>>,
    Query(query): Query<BotQuery>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let (step, streamed) = {
        let mut state = state.lock().unwrap_or_else(|p| p.into_inner());
        let step = next_step(&mut state, &query.bot_id, &headers, &body);
        if state.received.len() >= RECEIVED_KEPT {
            state.received.pop_front();
        }
        state.received.push_back(ReceivedRequest {
            bot_id: query.bot_id.clone(),
            authorized: step.is_some(),
            at: std::time::Instant::now(),
        });
        (step, state.streamed.clone())
    };
    match step {
        Some(step) => play(step, streamed).await,
        None => (StatusCode::UNAUTHORIZED, "invalid token or secret").into_response(),
    }
}

/// The step due for this request, or `None` when the credentials do not match.
fn next_step(state: &mut SimState, bot_id: &str, headers: &HeaderMap, body: &[u8]) -> Option<Step> {
    let timeline = state.timelines.get(bot_id)?;
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let secret = serde_json::from_slice::<SecretBody>(body).ok()?.secret;
    if bearer != Some(timeline.token.as_str()) || secret.as_deref() != Some(&timeline.secret) {
        return None;
    }
    let served = state.served.entry(bot_id.to_owned()).or_insert(0);
    let index = (*served).min(timeline.steps.len().saturating_sub(1));
    *served += 1;
    timeline.steps.get(index).cloned()
}

async fn play(mut step: Step, streamed: Arc<AtomicUsize>) -> Response {
    // Bounded: each Delay unwraps one level of a finite, owned structure, and a Status
    // becomes a StatusBody once.
    loop {
        return match step {
            Step::Delay(wait, inner) => {
                tokio::time::sleep(wait).await;
                step = *inner;
                continue;
            }
            Step::Respond(snapshot) => {
                let mut json = serde_json::to_value(&*snapshot).unwrap_or_default();
                if let Some(object) = json.as_object_mut() {
                    object.insert("success".into(), true.into());
                    object.insert(
                        "message".into(),
                        "Get Messages Analysis Successfully".into(),
                    );
                }
                axum::Json(json).into_response()
            }
            Step::Reject(message) => {
                axum::Json(serde_json::json!({"success": false, "message": message}))
                    .into_response()
            }
            Step::Status(code) => {
                step = Step::StatusBody(code, format!("simulated HTTP {code}"));
                continue;
            }
            Step::StatusBody(code, body) => {
                let status =
                    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                (status, body).into_response()
            }
            Step::RawBody(body) => ([("content-type", "application/json")], body).into_response(),
            Step::RateLimited(retry_after) => {
                let mut response =
                    (StatusCode::TOO_MANY_REQUESTS, "simulated rate limit").into_response();
                if let Some(value) = retry_after.and_then(|v| v.parse().ok()) {
                    response.headers_mut().insert("retry-after", value);
                }
                response
            }
            Step::Stream {
                body,
                pieces,
                every,
                cut,
            } => stream_body(body, pieces, every, cut, streamed),
        };
    }
}

/// A `200` whose body is sent piece by piece (chunked, so with no Content-Length).
fn stream_body(
    body: String,
    pieces: usize,
    every: Duration,
    cut: bool,
    sent: Arc<AtomicUsize>,
) -> Response {
    let pieces = pieces.max(1);
    let size = body.len().div_ceil(pieces).max(1);
    let mut parts: Vec<Result<axum::body::Bytes, std::io::Error>> = body
        .into_bytes()
        .chunks(size)
        .map(|c| Ok(axum::body::Bytes::copy_from_slice(c)))
        .collect();
    if cut {
        if let Some(last) = parts.last_mut() {
            // An error from the body stream makes the server abort the connection.
            *last = Err(std::io::Error::other("simulated cut"));
        }
    }
    let stream = futures_util::stream::iter(parts).then(move |part| {
        let sent = sent.clone();
        async move {
            tokio::time::sleep(every).await;
            if let Ok(bytes) = &part {
                sent.fetch_add(bytes.len(), Ordering::Relaxed);
            }
            part
        }
    });
    (
        [("content-type", "application/json")],
        axum::body::Body::from_stream(stream),
    )
        .into_response()
}
