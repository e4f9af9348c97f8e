//! The operator's HTTP endpoint (`--http-address`): liveness and Prometheus metrics.
//!
//! Owns: the axum router with `GET /health` (200 and `{"status":"ok","version":...}`
//! while the server accepts connections) and `GET /metrics` (the Prometheus text format,
//! rendered on request by the exporter from `metrics.rs`). Promises to `serve`: runs on
//! the server's tokio runtime and returns once the shutdown signal is sent and in-flight
//! requests are answered. Needs nothing from the engine or the Bolt layer.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use metrics_exporter_prometheus::PrometheusHandle;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// The content type of the Prometheus text exposition format.
const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Answers HTTP requests on `listener` until `stopped` turns true.
pub async fn serve(
    listener: TcpListener,
    metrics: Option<PrometheusHandle>,
    mut stopped: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let router = Router::new()
        .route("/health", get(health))
        .route("/metrics", get(render_metrics))
        .with_state(metrics);
    let shutdown = async move {
        // An error means the server dropped the sender: it is gone, so stop too.
        let _ = stopped.wait_for(|stopped| *stopped).await;
    };
    axum::serve(listener, router).with_graceful_shutdown(shutdown).await
}

async fn health() -> Response {
    let body = format!(r#"{{"status":"ok","version":"{}"}}"#, env!("CARGO_PKG_VERSION"));
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn render_metrics(State(metrics): State<Option<PrometheusHandle>>) -> Response {
    match metrics {
        Some(handle) => ([(header::CONTENT_TYPE, PROMETHEUS_TEXT)], handle.render()).into_response(),
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            "metrics are not exported: another metrics recorder owns this process\n",
        )
            .into_response(),
    }
}
