//! The HTTP face of the service: `/graphql` (POST, GET, JSON-array batches), GraphiQL at
//! `/` (served from the binary, so it works with no network), `/healthz`, body limits;
//! media types and statuses in `media`, request ids in `request_id`, `/readyz`,
//! `/metrics` and the shutdown sequence in `ops`.
//!
//! The one thing to know: each HTTP request gets one fresh set of [`Loaders`], shared by all
//! the operations of a batch, and the operations of a batch run concurrently so that the
//! loaders see their windows and ids together and merge them.
//!
//! Around that: `gate` (authentication, before the body is read; only `/graphql` is gated),
//! `cors` (browser origins), `apq` (persisted queries, resolved before execution).

pub mod apq;
pub mod cors;
pub mod exposure;
mod gate;
mod graphiql;
mod graphql;
pub mod guard;
mod images;
mod incoming;
pub mod media;
mod ops;
pub mod request_id;
mod respond;
pub mod serve;
pub mod trusted;

use std::{future::Future, sync::Arc, time::Duration};

use axum::{http::StatusCode, response::Response, routing::get, Router};
use tokio::net::TcpListener;

use self::graphql::{graphql_get, graphql_post};
pub(crate) use self::respond::refuse;
pub use self::{
    exposure::{AccessConfig, ExposureArgs},
    respond::Rejection,
    serve::HttpTimeouts,
};
use self::{
    graphiql::{graphiql, graphiql_asset, wants_html},
    media::MediaType,
};
use crate::{
    auth::{Authentication, Gate},
    code::Code,
    executor::Executor,
    images::{urls::Fallback, ImageSettings, ImageUrls, Images},
    pagination::Limits,
    schema::{self, Query, QueryLimits},
    upstream::{Upstream, UpstreamSettings},
};

/// What the GraphQL service needs to run.
#[derive(Clone, Debug)]
pub struct ServiceConfig {
    pub upstream: UpstreamSettings,
    pub limits: Limits,
    pub query_limits: QueryLimits,
    /// Most operations in one JSON-array batch.
    pub max_batch_size: usize,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// The whole of one HTTP request to `/graphql`, upstream retries included.
    pub request_timeout: Duration,
    /// Most upstream calls one HTTP request may cause (retries not counted).
    pub max_upstream_calls: usize,
    /// Largest answer to one HTTP request, in bytes (see [`crate::executor::budget`]).
    pub max_response_bytes: usize,
    /// Who may call, from which origins, and what is exposed (see [`crate::auth`]).
    pub access: AccessConfig,
    /// Time between the shutdown signal (when `/readyz` turns 503) and the end of
    /// accepting connections, so that load balancers stop sending first.
    pub shutdown_delay: Duration,
    /// Signed image URLs and what `/images/…` serves.
    pub images: ImageSettings,
    /// How long a client may take to send headers (and idle between requests) and a body.
    pub timeouts: HttpTimeouts,
}

/// Operations in one JSON-array batch, by default: a frontend batches the handful of
/// queries of one screen; 16 leaves room for that and bounds the work (each operation runs
/// concurrently) that one HTTP request can ask for.
pub const DEFAULT_MAX_BATCH_SIZE: usize = 16;

/// Largest request body, by default: GraphiQL's introspection query, the longest a client
/// commonly sends, is under 2 KB; 64 KiB fits a full batch of real queries and refuses
/// anything larger before it is parsed.
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;

/// Deadline of one HTTP request to `/graphql`, upstream retries included, by default: long
/// enough for one slow upstream answer (10 s) and a quick retry, and shorter than the 30 s
/// or more that proxies and browsers commonly allow, so the caller gets our partial answer
/// rather than their timeout.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// Upstream calls one HTTP request may cause, by default: a page past offset 1000 takes two
/// calls and a `last` without `before` one more, so a full batch of 16 operations on a few
/// clients each fits; a request that needs more is refused instead of spending the API
/// key's rate limit for everyone.
pub const DEFAULT_MAX_UPSTREAM_CALLS: usize = 128;

/// Largest answer to one HTTP request, by default: a full page of 100 photos with every
/// field is about 60 KB and a request's images at most `--max-download-bytes` (4 MiB) as
/// base64; 16 MiB leaves room for a batch of such pages and keeps a few answers in flight
/// well inside the 256 MiB the Kubernetes manifests give a pod.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;

/// Time between the shutdown signal and draining, by default: none, as a process run by
/// hand wants; behind a load balancer set it to the balancer's probe interval (the
/// Kubernetes manifests use 5 s).
pub const DEFAULT_SHUTDOWN_DELAY: Duration = Duration::ZERO;

impl ServiceConfig {
    pub fn new(upstream: UpstreamSettings) -> Self {
        Self {
            upstream,
            limits: Limits::DEFAULT,
            query_limits: QueryLimits::default(),
            max_batch_size: DEFAULT_MAX_BATCH_SIZE,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            max_upstream_calls: DEFAULT_MAX_UPSTREAM_CALLS,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            access: AccessConfig::default(),
            shutdown_delay: DEFAULT_SHUTDOWN_DELAY,
            images: ImageSettings::default(),
            timeouts: HttpTimeouts::default(),
        }
    }
}

/// Time left after the deadline to answer with what we have, before the safety net cuts
/// the request off.
const DEADLINE_GRACE: Duration = Duration::from_secs(1);

/// The running service's shared parts: cheap to clone, one per process.
#[derive(Clone)]
pub struct Service(Arc<Inner>);

struct Inner {
    executor: Executor<Query>,
    upstream: Upstream,
    max_batch_size: usize,
    max_body_bytes: usize,
    request_timeout: Duration,
    max_upstream_calls: usize,
    max_response_bytes: usize,
    gate: Arc<Gate>,
    apq: apq::PersistedQueries,
    cors: cors::CorsPolicy,
    playground: bool,
    shutdown_delay: Duration,
    readiness: ops::Readiness,
    images: Images,
    metrics_token: Option<crate::secrets::Secret>,
    timeouts: HttpTimeouts,
    /// Open mode's guard: the hosts answered (`None`: any) and whether a GET must show it
    /// passed a preflight.
    allowed_hosts: Option<guard::AllowedHosts>,
    csrf_prevention: bool,
    trusted: Option<Arc<trusted::TrustedDocuments>>,
}

impl Service {
    pub fn new(config: &ServiceConfig) -> Result<Self, String> {
        let access = &config.access;
        let settings = &config.upstream;
        let shared_cache = settings.cache.is_on() && settings.redis_url.is_some();
        let forwarding = matches!(access.auth, Authentication::Forward);
        if shared_cache
            && settings.api_key.is_none()
            && !forwarding
            && settings.cache_seal_secret.is_none()
        {
            return Err(
                "the cache in Redis seals its entries with a key derived from the API key, \
                 and there is none: set CACHE_SEAL_SECRET / --cache-seal-secret (at least 32 \
                 bytes, the same on every replica, e.g. `openssl rand -base64 48`)"
                    .to_owned(),
            );
        }
        if settings
            .cache_seal_secret
            .as_ref()
            .is_some_and(|s| s.expose().len() < 32)
        {
            return Err("CACHE_SEAL_SECRET / --cache-seal-secret must be at least 32 bytes".into());
        }
        let upstream = Upstream::new(settings)?;
        let fallback = match (&config.upstream.api_key, &access.auth) {
            (Some(key), _) => Fallback::ServerKey(key),
            (None, Authentication::Forward) => Fallback::Forwarding,
            (None, _) => Fallback::Ephemeral,
        };
        let urls = ImageUrls::new(&config.images.urls, fallback)?;
        let images = Images::new(&config.images, urls.clone(), upstream.clone());
        Ok(Self(Arc::new(Inner {
            executor: schema::executor(
                config.limits,
                config.query_limits,
                access.introspection,
                urls,
                settings.max_download_bytes,
            )?,
            gate: Arc::new(Gate::new(&access.auth, upstream.http_client())?),
            apq: apq::PersistedQueries::default(),
            cors: access.cors.clone(),
            playground: access.playground,
            upstream,
            max_batch_size: config.max_batch_size,
            max_body_bytes: config.max_body_bytes,
            request_timeout: config.request_timeout,
            max_upstream_calls: config.max_upstream_calls,
            max_response_bytes: config.max_response_bytes,
            shutdown_delay: config.shutdown_delay,
            readiness: ops::Readiness::default(),
            images,
            metrics_token: access.metrics_token.clone(),
            timeouts: config.timeouts,
            allowed_hosts: access.allowed_hosts.clone(),
            csrf_prevention: access.csrf_prevention,
            trusted: access.trusted.clone(),
        })))
    }

    pub fn router(&self) -> Router {
        let gate = axum::middleware::from_fn_with_state(self.0.gate.clone(), gate::require);
        let mut router = Router::new()
            .route("/graphql", get(graphql_get).post(graphql_post).layer(gate))
            .route("/images/{token}", get(images::image))
            .route("/healthz", get(|| async { "ok" }))
            .route("/readyz", get(ops::readyz))
            .route("/metrics", get(ops::metrics));
        if self.0.playground {
            router = router
                .route("/", get(graphiql))
                .route("/graphiql/{asset}", get(graphiql_asset));
        }
        let router = router
            .layer(tower_http::limit::RequestBodyLimitLayer::new(
                self.0.max_body_bytes,
            ))
            // A body sent slower than this is cut off (408): it holds a connection.
            .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(
                self.0.timeouts.body,
            ))
            // The limit layer answers an announced oversized body in plain text; say it
            // the way every other refusal is said.
            .layer(axum::middleware::map_response(|response: Response| async {
                if response.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    refuse(
                        Code::PayloadTooLarge,
                        "the request body is too large",
                        MediaType::Json,
                    )
                } else {
                    response
                }
            }))
            .with_state(self.clone());
        // A host name the service is not known by is refused before anything else (DNS
        // rebinding, open mode).
        let router = match &self.0.allowed_hosts {
            Some(allowed) => router.layer(axum::middleware::from_fn_with_state(
                allowed.clone(),
                guard::hosts,
            )),
            None => router,
        };
        // Preflights are answered first, and refusals carry CORS headers too (so a browser
        // app can read why it was refused).
        let router = match self.0.cors.layer() {
            Some(cors) => router.layer(cors),
            None => router,
        };
        // Outermost, so that every answer carries `x-request-id`: keep it last.
        request_id::layer(router)
    }

    /// Serves on `listener` until `shutdown` completes, then drains in-flight requests.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let shutdown = self
            .0
            .readiness
            .serve_until(shutdown, self.0.shutdown_delay);
        serve::serve(listener, self.router(), self.0.timeouts, shutdown).await
    }
}
