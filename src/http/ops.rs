//! What operators and orchestrators ask the process: `GET /readyz` (readiness),
//! `GET /metrics` (Prometheus), and the shutdown sequence that readiness follows.
//!
//! The one thing to know: when the shutdown signal fires, readiness turns 503 first, the
//! process keeps serving for `shutdown_delay` (so that load balancers, which poll
//! readiness, stop sending new requests), and only then stops accepting connections and
//! drains the requests in flight. `/healthz` (liveness) stays 200 throughout.

use std::{
    future::Future,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::Duration,
};

use axum::{
    extract::State,
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};

use super::Service;

/// Whether the process takes new requests: false until it serves, and again from the
/// moment the shutdown signal fires.
#[derive(Clone, Default)]
pub struct Readiness(Arc<AtomicBool>);

impl Readiness {
    pub fn is_ready(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    fn set(&self, ready: bool) {
        self.0.store(ready, Ordering::Relaxed);
    }

    /// Marks the process ready, and returns the future that ends serving: `shutdown`, then
    /// not ready, then `delay` of serving on while load balancers notice.
    pub(super) fn serve_until(
        &self,
        shutdown: impl Future<Output = ()> + Send + 'static,
        delay: Duration,
    ) -> impl Future<Output = ()> + Send + 'static {
        self.set(true);
        let readiness = self.clone();
        async move {
            shutdown.await;
            readiness.set(false);
            tracing::info!(
                delay = %humantime::format_duration(delay),
                "not ready: serving on for the shutdown delay, then draining"
            );
            tokio::time::sleep(delay).await;
            tracing::info!("draining the requests in flight");
        }
    }
}

/// `GET /readyz`: 200 while serving, 503 before and while shutting down.
pub(super) async fn readyz(State(service): State<Service>) -> Response {
    if service.0.readiness.is_ready() {
        "ready".into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "shutting down").into_response()
    }
}

/// `GET /metrics`: the Prometheus metrics of this process (replica); with `--metrics-token`,
/// only for `Authorization: Bearer <that token>` (compared in constant time).
pub(super) async fn metrics(State(service): State<Service>, headers: HeaderMap) -> Response {
    if let Some(token) = &service.0.metrics_token {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        let matches: bool =
            subtle::ConstantTimeEq::ct_eq(given.as_bytes(), token.expose().as_bytes()).into();
        if !matches {
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))],
                "metrics require Authorization: Bearer <METRICS_TOKEN>\n",
            )
                .into_response();
        }
    }
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(crate::metrics::CONTENT_TYPE),
        )],
        crate::metrics::render(),
    )
        .into_response()
}
