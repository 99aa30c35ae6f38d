//! The operator's HTTP endpoint: `/healthz` (the process answers), `/readyz` (every bot was
//! polled recently and history is being written) and `/metrics` (Prometheus text format). Off unless `server.listen` is set.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

use crate::metrics::Metrics;
use crate::shutdown::Shutdown;
use crate::time::Timestamp;

/// What the endpoint needs to answer.
pub struct Health {
    /// The metrics to export and to judge readiness by.
    pub metrics: Arc<Metrics>,
    /// The watched bot ids.
    pub bots: Vec<String>,
    /// A bot not polled for this long makes botwatch not ready (three poll intervals).
    pub stale_after: Duration,
}

impl Health {
    /// The bots not polled within `stale_after` (empty: ready).
    pub fn stale_bots(&self) -> Vec<&str> {
        let now = Timestamp::now();
        self.bots
            .iter()
            .filter(|bot| {
                self.metrics
                    .last_poll_of(bot)
                    .is_none_or(|at| now.since(at) > self.stale_after)
            })
            .map(String::as_str)
            .collect()
    }
}

/// The router, for serving and for tests.
pub fn router(health: Arc<Health>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(health)
}

async fn readyz(State(health): State<Arc<Health>>) -> impl IntoResponse {
    let stale = health.stale_bots();
    if !stale.is_empty() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: no recent poll of {}\n", stale.join(", ")),
        );
    }
    if health.metrics.history_paused.get() != 0 {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready: the disk holding the state file is full; history is paused, alerts still flow\n"
                .to_owned(),
        );
    }
    (StatusCode::OK, "ready\n".to_owned())
}

async fn metrics(State(health): State<Arc<Health>>) -> impl IntoResponse {
    let content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    (
        [(header::CONTENT_TYPE, content_type)],
        health.metrics.encode(),
    )
}

/// Serves the endpoint on `listen` until `shutdown`.
pub async fn serve(
    listen: SocketAddr,
    health: Arc<Health>,
    mut shutdown: Shutdown,
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    tracing::info!(address = %listener.local_addr()?, "serving /healthz, /readyz and /metrics");
    axum::serve(listener, router(health))
        .with_graceful_shutdown(async move { shutdown.wait().await })
        .await
}
