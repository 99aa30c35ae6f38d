//! The fake's HTTP server: its thread and runtime, and the handler every request goes through.
//!
//! The handler records the request, then either answers with the next scripted [`Failure`] or
//! hands the request to [`routes`](super::routes). The server runs on a thread of its own with
//! a current-thread runtime so it keeps answering while a test blocks its own runtime.

use std::future::IntoFuture;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use super::connection::{ConnHandle, KillableListener};
use super::reply::Reply;
use super::routes;
use super::state::{Next, Shared};
use super::{Failure, Recorded};

/// Starts the server thread; returns the address it listens on and the sender that stops it.
pub(super) async fn spawn(shared: Arc<Shared>) -> (SocketAddr, oneshot::Sender<()>) {
    on_own_thread("fake Discord", move |listener, stop| {
        serve(shared, listener, stop)
    })
    .await
}

/// Binds a free port of 127.0.0.1 and runs `serve` on it, on a thread of its own with a
/// current-thread runtime, so that it keeps answering while a test blocks its own runtime.
/// Returns the address, and the sender that stops the server when it fires or is dropped.
pub(super) async fn on_own_thread<F, Fut>(
    name: &'static str,
    serve: F,
) -> (SocketAddr, oneshot::Sender<()>)
where
    F: FnOnce(TcpListener, oneshot::Receiver<()>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()>,
{
    let (addr_tx, addr_rx) = oneshot::channel::<SocketAddr>();
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap_or_else(|e| panic!("{name}: tokio runtime: {e}"));
            runtime.block_on(async move {
                let listener = TcpListener::bind("127.0.0.1:0")
                    .await
                    .unwrap_or_else(|e| panic!("{name}: bind 127.0.0.1:0: {e}"));
                let addr = listener
                    .local_addr()
                    .unwrap_or_else(|e| panic!("{name}: local address: {e}"));
                if addr_tx.send(addr).is_ok() {
                    serve(listener, stop_rx).await;
                }
            });
            // Dropping the runtime here cancels the open connections.
        })
        .unwrap_or_else(|e| panic!("{name}: spawn the server thread: {e}"));
    let addr = addr_rx
        .await
        .unwrap_or_else(|_| panic!("{name}: the server thread failed to start"));
    (addr, stop_tx)
}

/// Serves the fake REST API on `listener` until `stop` fires.
async fn serve(shared: Arc<Shared>, listener: TcpListener, stop: oneshot::Receiver<()>) {
    let app = Router::new()
        .fallback(handle)
        .with_state(shared)
        .into_make_service_with_connect_info::<ConnHandle>();
    let server = axum::serve(KillableListener(listener), app).into_future();
    tokio::select! {
        result = server => {
            if let Err(e) = result {
                eprintln!("fake Discord: server stopped: {e}");
            }
        }
        _ = stop => {}
    }
}

/// Every request: record it, apply a scripted failure if one is queued, else process it.
async fn handle(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(conn): ConnectInfo<ConnHandle>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    let path = uri.path().to_string();
    let query = uri.query().map(str::to_string);
    let (body, not_json) = parse_body(&bytes);
    let request = Recorded {
        method: method.to_string(),
        path,
        query,
        body,
        status: 0,
        authorization: authorization(&headers),
        answered: false,
        at: std::time::Instant::now(),
    };
    let route = routes::route(&method, &request.path, request.query.as_deref());
    let (index, next) = shared.record(request.clone(), &route);
    let response = match next {
        Next::Limited(reply) => reply.into_response(),
        Next::Proceed { failure, headers } => {
            let mut response = respond(
                &shared,
                &conn,
                (index, &request),
                failure,
                &method,
                not_json,
            )
            .await;
            if response.status().is_success() {
                add_headers(&mut response, headers);
            }
            response
        }
    };
    // A connection the handler closed carries no answer: the request keeps the status it
    // was processed with (0 if it was not), unanswered.
    if !conn.killed.load(Ordering::SeqCst) {
        shared.mark_answered(index, response.status().as_u16());
    }
    response
}

/// Puts rate-limit headers on an answer.
fn add_headers(response: &mut Response, headers: Vec<(&'static str, String)>) {
    for (name, value) in headers {
        if let Ok(value) = axum::http::HeaderValue::from_str(&value) {
            response.headers_mut().insert(name, value);
        }
    }
}

/// The answer to a recorded request (with its index): a scripted failure's, or the route's.
/// A client that hangs up while this runs drops it, and the request stays unanswered.
async fn respond(
    shared: &Arc<Shared>,
    conn: &ConnHandle,
    (index, request): (usize, &Recorded),
    failure: Option<Failure>,
    method: &Method,
    not_json: Option<String>,
) -> Response {
    let (path, query, body) = (&request.path, request.query.as_deref(), &request.body);
    match failure {
        None => {}
        Some(Failure::Delay(delay)) => tokio::time::sleep(delay).await,
        Some(Failure::LateAnswer(delay)) => {
            let reply = routes::answer(shared, method, path, query, body, not_json);
            shared.set_status(index, reply.status);
            tokio::time::sleep(delay).await;
            return reply.into_response();
        }
        Some(Failure::ResetAfterProcessing) => {
            let reply = routes::answer(shared, method, path, query, body, not_json);
            shared.set_status(index, reply.status);
            conn.killed.store(true, Ordering::SeqCst);
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
        Some(Failure::DropConnection) => {
            conn.killed.store(true, Ordering::SeqCst);
            // Nothing reaches the client: the connection fails on the next read or write.
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
        Some(failure) => {
            let reply = failure_reply(&failure);
            shared.set_status(index, reply.status);
            return reply.into_response();
        }
    }

    let reply = routes::answer(shared, method, path, query, body, not_json);
    shared.set_status(index, reply.status);
    reply.into_response()
}

/// The body as JSON: `Null` if blank; else the raw text as a `String` plus the parse error
/// when it is not JSON (kept so that the recording shows what was sent).
fn parse_body(bytes: &Bytes) -> (Value, Option<String>) {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return (Value::Null, None);
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(v) => (v, None),
        Err(e) => (
            Value::String(String::from_utf8_lossy(bytes).into_owned()),
            Some(e.to_string()),
        ),
    }
}

fn authorization(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// The answer to an injected failure; delays, late answers and dropped connections never get
/// here.
fn failure_reply(failure: &Failure) -> Reply {
    match failure {
        Failure::RateLimited {
            retry_after,
            global,
            in_body,
            in_header,
        } => rate_limited_reply(*retry_after, *global, *in_body, *in_header),
        Failure::ServerError(status) => Reply::json(
            *status,
            json!({"message": format!("{status}: Server Error (injected by the fake)"), "code": 0}),
        ),
        Failure::Status(status, body) => Reply::json(*status, body.clone()),
        Failure::Delay(_)
        | Failure::LateAnswer(_)
        | Failure::DropConnection
        | Failure::ResetAfterProcessing => Reply::json(500, Value::Null),
    }
}

/// A 429 as Discord sends it: `retry_after` in the body and/or the rate-limit headers, so that
/// tests can check a client copes with either one alone.
fn rate_limited_reply(retry_after: f64, global: bool, in_body: bool, in_header: bool) -> Reply {
    let body = if in_body {
        json!({
            "message": "You are being rate limited.",
            "retry_after": retry_after,
            "global": global,
            "code": 0,
        })
    } else {
        json!({"message": "You are being rate limited.", "code": 0})
    };
    let mut reply = Reply::json(429, body);
    if in_header {
        let scope = if global { "global" } else { "user" };
        reply.headers = vec![
            (
                "retry-after",
                format!("{}", retry_after.max(0.0).ceil() as u64),
            ),
            ("x-ratelimit-reset-after", format!("{retry_after}")),
            ("x-ratelimit-limit", "5".into()),
            ("x-ratelimit-remaining", "0".into()),
            ("x-ratelimit-scope", scope.into()),
        ];
        if global {
            reply.headers.push(("x-ratelimit-global", "true".into()));
        }
    }
    reply
}
