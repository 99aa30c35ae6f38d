//! A fake Discord gateway: a websocket server on 127.0.0.1, on a thread and runtime of its own
//! like the fake REST API, so it keeps answering while a test blocks.
//!
//! Each connection gets a Hello; an Identify is answered with Ready (and counted); heartbeats
//! are acknowledged; a Resume is answered "invalid session", as the fake keeps no sessions; a
//! close frame is answered (and counted). Told to refuse the token, it closes the connection
//! on Identify with Discord's code 4004 ("authentication failed") instead.
//! A test can send a dispatch (an interaction) to the identified connections, and take the
//! gateway down: open connections are reset (a TCP RST, no close frame), as by a proxy that
//! restarts, and new ones are closed before the websocket handshake until it is brought up again.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{broadcast, oneshot, watch};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use super::BOT_USER_ID;

/// The application id the Ready event gives (the one in `support::interactions`).
pub const APPLICATION_ID: &str = "800000000000000001";
/// Discord's close code for a token it does not accept.
const AUTHENTICATION_FAILED: u16 = 4004;
/// How often the fake asks for heartbeats: longer than any test, so none is due.
const HEARTBEAT_MS: u64 = 45_000;

/// What the server thread and the test share.
struct Shared {
    identifies: AtomicUsize,
    closes: AtomicUsize,
    refuse_token: AtomicBool,
    down: watch::Sender<bool>,
    dispatches: broadcast::Sender<(String, Value)>,
}

/// The fake gateway. Stops when dropped.
pub struct FakeGateway {
    addr: SocketAddr,
    shared: Arc<Shared>,
    _stop: oneshot::Sender<()>,
}

impl FakeGateway {
    /// Binds 127.0.0.1 on a free port and serves on a thread of its own.
    pub async fn start() -> FakeGateway {
        let shared = Arc::new(Shared {
            identifies: AtomicUsize::new(0),
            closes: AtomicUsize::new(0),
            refuse_token: AtomicBool::new(false),
            down: watch::channel(false).0,
            dispatches: broadcast::channel(16).0,
        });
        let serving = Arc::clone(&shared);
        let (addr, stop) = super::server::on_own_thread("fake gateway", move |listener, stop| {
            serve(serving, listener, stop)
        })
        .await;
        FakeGateway {
            addr,
            shared,
            _stop: stop,
        }
    }

    /// `ws://127.0.0.1:PORT`: what a gateway lookup should answer.
    pub fn url(&self) -> String {
        format!("ws://{}", self.addr)
    }

    /// How many times a client identified (each got a Ready).
    pub fn identifies(&self) -> usize {
        self.shared.identifies.load(Ordering::SeqCst)
    }

    /// How many times a client closed its connection with a close frame.
    pub fn closes(&self) -> usize {
        self.shared.closes.load(Ordering::SeqCst)
    }

    /// Sends the dispatch `kind` with `data` to every identified connection.
    pub fn dispatch(&self, kind: &str, data: Value) {
        let _ = self.shared.dispatches.send((kind.to_owned(), data));
    }

    /// Closes connections with "authentication failed" on Identify from now on.
    pub fn refuse_the_token(&self) {
        self.shared.refuse_token.store(true, Ordering::SeqCst);
    }

    /// Cuts every connection and refuses new ones (`true`), or accepts them again (`false`).
    pub fn set_down(&self, down: bool) {
        self.shared.down.send_replace(down);
    }
}

/// A `ws://` URL of a loopback port where nothing listens: connections are refused.
pub fn refusing_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local address");
    drop(listener);
    format!("ws://{addr}")
}

/// Accepts connections on `listener` until `stop` fires.
async fn serve(shared: Arc<Shared>, listener: TcpListener, stop: oneshot::Receiver<()>) {
    let url = format!(
        "ws://{}",
        listener.local_addr().expect("fake gateway: local address")
    );
    let accepting = async {
        loop {
            if let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(connection(stream, Arc::clone(&shared), url.clone()));
            }
        }
    };
    tokio::select! {
        _ = accepting => {}
        _ = stop => {}
    }
}

/// One client, from the handshake until it leaves or the gateway goes down.
async fn connection(stream: TcpStream, shared: Arc<Shared>, url: String) {
    let mut down = shared.down.subscribe();
    if *down.borrow() {
        return; // dropping the stream closes it before the handshake
    }
    let Ok(mut ws) = tokio_tungstenite::accept_async(stream).await else {
        return;
    };
    let mut dispatches = shared.dispatches.subscribe();
    let mut seq = 0u64;
    let mut identified = false;
    let hello = json!({"op": 10, "d": {"heartbeat_interval": HEARTBEAT_MS}});
    if send(&mut ws, &hello).await.is_err() {
        return;
    }
    loop {
        let reply = tokio::select! {
            message = ws.next() => match message {
                Some(Ok(Message::Close(_))) => {
                    shared.closes.fetch_add(1, Ordering::SeqCst);
                    let _ = ws.close(None).await; // the answering close frame
                    return;
                }
                None | Some(Err(_)) => return,
                Some(Ok(message)) => match opcode(&message) {
                    Some(2) if shared.refuse_token.load(Ordering::SeqCst) => {
                        shared.identifies.fetch_add(1, Ordering::SeqCst);
                        let _ = ws.close(Some(refusal())).await;
                        return;
                    }
                    Some(2) => {
                        identified = true;
                        shared.identifies.fetch_add(1, Ordering::SeqCst);
                        seq += 1;
                        dispatch_payload(seq, "READY", ready_event(&url))
                    }
                    Some(1) => json!({"op": 11}),
                    Some(6) => json!({"op": 9, "d": false}),
                    _ => continue,
                },
            },
            event = dispatches.recv(), if identified => match event {
                Ok((kind, data)) => {
                    seq += 1;
                    dispatch_payload(seq, &kind, data)
                }
                Err(_) => continue,
            },
            _ = async { drop(down.wait_for(|down| *down).await) } => {
                reset(ws);
                return;
            }
        };
        if send(&mut ws, &reply).await.is_err() {
            return;
        }
    }
}

/// Closes the connection with a TCP reset, which the client reads as an I/O error.
#[allow(deprecated)] // tokio warns that a linger blocks on drop; a linger of zero never does
fn reset(ws: WebSocketStream<TcpStream>) {
    let _ = ws.get_ref().set_linger(Some(std::time::Duration::ZERO));
}

/// The opcode of a client's JSON message.
fn opcode(message: &Message) -> Option<u64> {
    let Message::Text(text) = message else {
        return None;
    };
    serde_json::from_str::<Value>(text).ok()?["op"].as_u64()
}

async fn send(ws: &mut WebSocketStream<TcpStream>, payload: &Value) -> Result<(), ()> {
    ws.send(Message::Text(payload.to_string()))
        .await
        .map_err(drop)
}

/// The close frame of a refused token.
fn refusal() -> CloseFrame<'static> {
    CloseFrame {
        code: CloseCode::from(AUTHENTICATION_FAILED),
        reason: "Authentication failed.".into(),
    }
}

fn dispatch_payload(seq: u64, kind: &str, data: Value) -> Value {
    json!({"op": 0, "s": seq, "t": kind, "d": data})
}

/// Discord's Ready event for the fake bot.
fn ready_event(url: &str) -> Value {
    json!({
        "v": 10,
        "user": {
            "id": BOT_USER_ID, "username": "botwatch-fake", "discriminator": "0000",
            "global_name": null, "avatar": null, "bot": true,
        },
        "guilds": [],
        "session_id": "fake-session",
        "resume_gateway_url": url,
        "shard": [0, 1],
        "application": {"id": APPLICATION_ID, "flags": 0},
    })
}
