//! The operator's HTTP endpoint (`--http-address`): liveness and Prometheus metrics, and
//! beside them the query API and console of [`crate::web`].
//!
//! Owns: the axum router with `GET /health` (200 and `{"status":"ok","version":...}`
//! while the server accepts connections and writes; 503 and `"status":"writes_refused"`
//! with the reason once the commit pipeline has stopped) and `GET /metrics` (the
//! Prometheus text format, rendered on request by the exporter from `metrics.rs`); and,
//! while the instance starts, the router [`serve_starting`] answers with (`/health`: 503
//! and `"status":"recovering"` with the recovery's phase and figures).
//! Promises to `serve`: runs on the server's tokio runtime and returns once the shutdown
//! signal is sent and in-flight requests are answered. Needs from the server only a
//! function that says why writes are refused, if they are.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use metrics_exporter_prometheus::PrometheusHandle;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::watch;
use weft_storage::durability::RecoveryProgress;

/// The content type of the Prometheus text exposition format.
const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Why the instance refuses writes (`None` while it takes them).
pub type WritesRefused = Arc<dyn Fn() -> Option<String> + Send + Sync>;

/// Brings figures that are read, not counted (replication's), up to date before rendering.
pub type Refresh = Arc<dyn Fn() + Send + Sync>;

/// Answers HTTP requests on `listener` until `stopped` turns true.
pub async fn serve(
    listener: TcpListener,
    metrics: Option<PrometheusHandle>,
    refused: WritesRefused,
    refresh: Refresh,
    web: Option<crate::web::Web>,
    stopped: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let mut router = Router::new()
        .route("/health", get(health).with_state(refused))
        .route("/metrics", get(render_metrics).with_state((metrics, refresh)));
    if let Some(web) = web {
        router = router.merge(web.router(stopped.clone()));
    }
    axum::serve(listener, router)
        .with_graceful_shutdown(until(stopped))
        .await
}

/// Completes once `stopped` turns true, or its sender is gone (the server is gone too).
pub(crate) async fn until(mut stopped: watch::Receiver<bool>) {
    let _ = stopped.wait_for(|stopped| *stopped).await;
}

/// Answers `/health` with the recovery's progress (and every other path with 503) until
/// `stopped` turns true: the instance is starting and serves nothing else yet.
pub async fn serve_starting(
    listener: TcpListener,
    progress: Arc<RecoveryProgress>,
    stopped: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let router = Router::new()
        .route("/health", get(starting).with_state(progress))
        .fallback(|| async { (StatusCode::SERVICE_UNAVAILABLE, "the instance is starting\n") });
    axum::serve(listener, router)
        .with_graceful_shutdown(until(stopped))
        .await
}

async fn starting(State(progress): State<Arc<RecoveryProgress>>) -> Response {
    let (records, bytes) = progress.wal();
    let (loaded, objects) = progress.snapshot();
    let seconds = progress.elapsed().as_secs_f64();
    let body = serde_json::json!({
        "status": "recovering",
        "phase": progress.phase().name(),
        "snapshot_objects_loaded": loaded,
        "snapshot_objects": objects,
        "wal_records": records,
        "wal_bytes": bytes,
        "seconds": (seconds * 10.0).round() / 10.0,
        "version": env!("CARGO_PKG_VERSION"),
    });
    let json = [(header::CONTENT_TYPE, "application/json")];
    (StatusCode::SERVICE_UNAVAILABLE, json, body.to_string()).into_response()
}

async fn health(State(refused): State<WritesRefused>) -> Response {
    let version = env!("CARGO_PKG_VERSION");
    let json = [(header::CONTENT_TYPE, "application/json")];
    match refused() {
        None => (json, format!(r#"{{"status":"ok","version":"{version}"}}"#)).into_response(),
        Some(reason) => {
            let reason = serde_json::Value::String(reason);
            let body = format!(r#"{{"status":"writes_refused","reason":{reason},"version":"{version}"}}"#);
            (StatusCode::SERVICE_UNAVAILABLE, json, body).into_response()
        }
    }
}

async fn render_metrics(State((metrics, refresh)): State<(Option<PrometheusHandle>, Refresh)>) -> Response {
    match metrics {
        Some(handle) => {
            refresh();
            ([(header::CONTENT_TYPE, PROMETHEUS_TEXT)], handle.render()).into_response()
        }
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            "metrics are not exported: another metrics recorder owns this process\n",
        )
            .into_response(),
    }
}
