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
pub mod guard;
mod images;
mod incoming;
pub mod media;
mod ops;
pub mod request_id;
pub mod serve;
pub mod trusted;

use std::{future::Future, sync::Arc, time::Duration};

use async_graphql::BatchRequest;
use axum::{
    extract::{Request, State},
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Json, Router,
};
use futures::future::{join_all, Either};
use serde_json::json;
use tokio::{net::TcpListener, time::Instant};
use tracing::{field::Empty, Instrument};

pub use self::{
    exposure::{AccessConfig, ExposureArgs},
    serve::HttpTimeouts,
};
use self::{
    graphiql::{graphiql, graphiql_asset, wants_html},
    media::{Answers, MediaType},
};
use crate::{
    auth::{Admission, Authentication, Gate, Refusal},
    code::Code,
    executor::{budget::AnswerBudget, Answer, Executor},
    images::{urls::Fallback, ImageSettings, ImageUrls, Images},
    loader::Loaders,
    metrics,
    pagination::Limits,
    schema::{self, Query, QueryLimits},
    upstream::{Session, Upstream, UpstreamSettings},
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

    /// Runs a GraphQL request in its own span, with the in-flight gauge and the latency
    /// histogram around it; answers in `media`.
    async fn execute(
        &self,
        batch: BatchRequest,
        admission: Admission,
        media: MediaType,
        request_id: &str,
    ) -> Response {
        let in_flight = metrics::graphql_request_started();
        let span = tracing::info_span!(
            "graphql",
            request_id = %request_id,
            operation = Empty,
            outcome = Empty,
            duration_ms = Empty,
            upstream_calls = Empty,
        );
        let deadline = Instant::now() + self.0.request_timeout;
        let operations = match &batch {
            BatchRequest::Single(_) => None,
            BatchRequest::Batch(requests) => Some(requests.len()),
        };
        // Upstream calls already end by the deadline; this net bounds everything else.
        let run = self.run(batch, deadline, admission, media, request_id);
        let answer = match tokio::time::timeout_at(deadline + DEADLINE_GRACE, run)
            .instrument(span.clone())
            .await
        {
            Ok(response) => response,
            Err(_) => {
                let _entered = span.enter();
                tracing::warn!("a GraphQL request outlived its deadline");
                let code = Code::RequestTimeout;
                metrics::graphql_refused(code);
                span.record("outcome", code.metric_label());
                // No `data`: a request error, with the gateway's (our) status under
                // application/graphql-response+json.
                let late = || {
                    let message = "the request did not finish in time";
                    Answer::refused(code.server_error(message, None), None)
                };
                let answers = match operations {
                    None => Answers::Single(late()),
                    Some(n) => Answers::Batch((0..n).map(|_| late()).collect()),
                };
                graphql_response(&answers, media)
            }
        };
        if detailed() {
            span.record("duration_ms", in_flight.elapsed().as_secs_f64() * 1e3);
            span.in_scope(|| {
                tracing::debug!(status = answer.status().as_u16(), "GraphQL request done")
            });
        }
        answer
    }

    async fn run(
        &self,
        batch: BatchRequest,
        deadline: Instant,
        admission: Admission,
        media: MediaType,
        request_id: &str,
    ) -> Response {
        let mut session =
            Session::new(deadline, self.0.max_upstream_calls).with_request_id(request_id);
        let namespace = apq::Namespace::of(&admission);
        if let Some(who) = admission.who {
            session = session.with_caller(who);
        }
        if let Some(key) = admission.key {
            session = match session.with_key(key) {
                Ok(session) => session,
                Err(_) => return gate::unauthenticated(Refusal::Malformed, true),
            };
        }
        let loaders = Arc::new(Loaders::new(self.0.upstream.clone(), session));
        let caller = admission.caller;
        let budget = Arc::new(AnswerBudget::new(self.0.max_response_bytes));
        let execute = |request: async_graphql::Request| {
            let request = request
                .data(loaders.clone())
                .data(caller.clone())
                .data(budget.clone());
            self.0.executor.execute(request)
        };
        // Within a batch, an operation that may not run, or a persisted query that cannot,
        // is that operation's error.
        let run = |mut request: async_graphql::Request| {
            if let Err(refused) = self.admit(&mut request) {
                return Either::Right(std::future::ready(refused.answer()));
            }
            match self.0.apq.resolve(&mut request, namespace) {
                Ok(()) => Either::Left(execute(request)),
                Err(e) => Either::Right(std::future::ready(e.answer())),
            }
        };
        let span = tracing::Span::current();
        let detailed = detailed();
        let response = match batch {
            BatchRequest::Single(mut request) => {
                if let Err(refused) = self.admit(&mut request) {
                    let answer = refused.answer();
                    observe(&answer);
                    return graphql_response(&Answers::Single(answer), media);
                }
                // Alone, said as HTTP errors like any other unreadable request, except
                // `PersistedQueryNotFound`, which Apollo clients expect with a 200.
                match self.0.apq.resolve(&mut request, namespace) {
                    Err(apq::ApqError::Bad(message)) => {
                        return refuse(Code::BadRequest, message, media);
                    }
                    Err(not_found) => {
                        let answer = not_found.answer();
                        observe(&answer);
                        return graphql_response(&Answers::Single(answer), media);
                    }
                    Ok(()) if request.query.trim().is_empty() => {
                        return refuse(Code::BadRequest, "the request has no `query`", media);
                    }
                    Ok(()) => {}
                }
                let answer = execute(request).await;
                let outcome = observe(&answer);
                if detailed {
                    span.record("operation", log_name(answer.operation.as_deref()));
                    span.record("outcome", outcome);
                }
                Answers::Single(answer)
            }
            BatchRequest::Batch(requests) => {
                if requests.is_empty() || requests.len() > self.0.max_batch_size {
                    return refuse(
                        Code::BadRequest,
                        &format!(
                            "a batch must hold between 1 and {} operations (got {})",
                            self.0.max_batch_size,
                            requests.len()
                        ),
                        media,
                    );
                }
                let answers = join_all(requests.into_iter().map(run)).await;
                let mut outcome = "ok";
                for answer in &answers {
                    match observe(answer) {
                        "ok" => {}
                        failed => outcome = failed,
                    }
                }
                if detailed {
                    span.record("operation", "(batch)");
                    span.record("outcome", outcome);
                }
                Answers::Batch(answers)
            }
        };
        if detailed {
            span.record("upstream_calls", loaders.session().calls_made());
        }
        // Written into a buffer of about the answer's size: no copies as it grows.
        let size = (budget.built() as usize).min(self.0.max_response_bytes) + 1024;
        respond(
            &response,
            write_json(&media::Body::from(&response), size),
            media,
        )
    }
}

impl Service {
    /// Whether an operation may run here: with trusted documents, only those; the text of
    /// one named by id is filled in.
    fn admit(&self, request: &mut async_graphql::Request) -> Result<(), trusted::NotAllowed> {
        match &self.0.trusted {
            Some(trusted) => trusted.admit(request),
            None => Ok(()),
        }
    }
}

/// Whether the `debug` line that ends each GraphQL request is on. The request span's
/// closing fields (`operation`, `outcome`, `duration_ms`, `upstream_calls`) are written
/// only then: nothing else shows them, and writing a field into a span costs more than
/// all the metrics of a request.
fn detailed() -> bool {
    tracing::enabled!(tracing::Level::DEBUG)
}

/// Counts one operation; its outcome's label (`ok`, or its first error's code).
fn observe(answer: &Answer) -> &'static str {
    let outcome = match answer.response.errors.is_empty() {
        true => "ok",
        // Every error leaves the executor with its code; none would be our bug.
        false => answer
            .code()
            .unwrap_or(Code::InternalServerError)
            .metric_label(),
    };
    metrics::graphql_operation(answer.operation.as_deref(), outcome);
    outcome
}

/// An operation name as logs show it: a plain GraphQL name as it is, others replaced.
fn log_name(name: Option<&str>) -> &str {
    match name {
        None => "(anonymous)",
        Some(name) if metrics::is_plain_name(name) => name,
        Some(_) => "(other)",
    }
}

/// A GraphQL answer in `media` (see [`media`] for statuses and the `data` entry).
fn graphql_response(answers: &Answers, media: MediaType) -> Response {
    respond(
        answers,
        write_json(&media::Body::from(answers), 1024),
        media,
    )
}

/// `value` as JSON, into a buffer of `size` bytes to begin with, serialised with
/// `sonic-rs`: it escapes strings with SIMD, and a page of photos is mostly strings.
fn write_json(value: &impl serde::Serialize, size: usize) -> Vec<u8> {
    let mut buffer = Vec::with_capacity(size);
    // Neither can fail on a `Value`: its maps have string keys and its numbers are finite.
    match sonic_rs::to_writer(&mut buffer, value) {
        Ok(()) => buffer,
        Err(_) => serde_json::to_vec(value).unwrap_or_else(|e| {
            tracing::error!(error = %e, "a GraphQL response did not serialise");
            br#"{"errors":[{"message":"the answer could not be written","extensions":{"code":"INTERNAL_SERVER_ERROR"}}]}"#.to_vec()
        }),
    }
}

/// The HTTP response carrying `body`, the written `answers`: their status and headers.
fn respond(answers: &Answers, body: Vec<u8>, media: MediaType) -> Response {
    let mut answer = Response::new(axum::body::Body::from(body));
    *answer.status_mut() = media.status(answers);
    let headers = answer.headers_mut();
    headers.insert(header::CONTENT_TYPE, media.content_type());
    // The schema gives no cache hints today; a single clean answer passes on any it gets.
    if let Answers::Single(Answer { response, .. }) = answers {
        let hint = response.cache_control.value();
        if let Some(value) = hint.filter(|_| response.is_ok()) {
            if let Ok(value) = HeaderValue::from_str(&value) {
                headers.insert(header::CACHE_CONTROL, value);
            }
        }
    }
    for answer in answers.iter() {
        headers.extend(answer.response.http_headers.clone());
    }
    answer
}

/// A request that is not GraphQL over HTTP: answered with a GraphQL-shaped error body.
pub struct Rejection(async_graphql::ParseRequestError);

impl From<async_graphql::ParseRequestError> for Rejection {
    fn from(e: async_graphql::ParseRequestError) -> Self {
        Self(e)
    }
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        self.respond(MediaType::Json)
    }
}

impl Rejection {
    /// The refusal, in `media`.
    fn respond(self, media: MediaType) -> Response {
        use async_graphql::ParseRequestError as E;
        let too_large = |media| {
            refuse(
                Code::PayloadTooLarge,
                "the request body is too large",
                media,
            )
        };
        match self.0 {
            E::PayloadTooLarge => too_large(media),
            E::InvalidRequest(e) => refuse(
                Code::BadRequest,
                &format!("the body is not a GraphQL request: {e}"),
                media,
            ),
            E::Io(e) if e.to_string().contains("length limit") => too_large(media),
            E::Io(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                // The client's slowness, not ours: 408 rather than the deadline's 504.
                let mut late = refuse(
                    Code::RequestTimeout,
                    "the request body was not sent in time (--http-body-timeout)",
                    media,
                );
                *late.status_mut() = StatusCode::REQUEST_TIMEOUT;
                late
            }
            other => refuse(
                Code::BadRequest,
                &format!("the request could not be read: {other}"),
                media,
            ),
        }
    }
}

/// A request to `/graphql` refused before it is GraphQL, with its code's HTTP status and a
/// GraphQL-shaped body in `media`, and counted.
pub(crate) fn refuse(code: Code, message: &str, media: MediaType) -> Response {
    metrics::graphql_refused(code);
    let body =
        json!({ "errors": [{ "message": message, "extensions": { "code": code.as_str() } }] });
    (
        code.http_status(),
        [(header::CONTENT_TYPE, media.content_type())],
        Json(body),
    )
        .into_response()
}

/// The answer to a request whose `Accept` allows no media type we write.
fn not_acceptable() -> Response {
    refuse(
        Code::NotAcceptable,
        "the Accept header allows neither application/graphql-response+json nor application/json",
        MediaType::Json,
    )
}

async fn graphql_post(State(service): State<Service>, request: Request) -> Response {
    // The gate always admits before this runs; without its word, nothing executes.
    let Some(admission) = gate::admission(&request) else {
        return gate::unauthenticated(Refusal::Missing, service.0.gate.forwarding());
    };
    let Some(media) = media::negotiate(request.headers()) else {
        return not_acceptable();
    };
    if !media::is_json_body(request.headers()) {
        return refuse(
            Code::UnsupportedMediaType,
            "a POST to /graphql must have Content-Type: application/json",
            media,
        );
    }
    read_and_execute(&service, request, admission, media).await
}

/// `GET /graphql`: a query in the URL, or, for a browser asking for a page, GraphiQL.
async fn graphql_get(State(service): State<Service>, request: Request) -> Response {
    let names_one = names_an_operation(request.uri());
    if !names_one && wants_html(request.headers()) {
        if !service.0.playground {
            return refuse(
                Code::NotAcceptable,
                "GraphiQL is switched off here (--no-playground): send a GraphQL request",
                MediaType::Json,
            );
        }
        return graphiql().await.into_response();
    }
    let Some(media) = media::negotiate(request.headers()) else {
        return not_acceptable();
    };
    if !names_one {
        return refuse(
            Code::BadRequest,
            "GET /graphql needs a `query` parameter (or a browser's Accept: text/html for GraphiQL)",
            media,
        );
    }
    let Some(admission) = gate::admission(&request) else {
        return gate::unauthenticated(Refusal::Missing, service.0.gate.forwarding());
    };
    if service.0.csrf_prevention && !guard::preflighted(request.headers()) {
        return refuse(
            Code::CsrfRefused,
            "a GET without credentials runs only with a header a page cannot send cross-site \
             without asking: send x-graphql-csrf: 1 (or use POST with Content-Type: application/json)",
            media,
        );
    }
    read_and_execute(&service, request, admission, media).await
}

/// Reads the GraphQL request out of an admitted HTTP request (body or URL) and runs it.
async fn read_and_execute(
    service: &Service,
    request: Request,
    admission: Admission,
    media: MediaType,
) -> Response {
    let request_id = request_id::of(request.headers()).to_owned();
    match incoming::read(request).await {
        Ok(batch) => service.execute(batch, admission, media, &request_id).await,
        Err(rejection) => rejection.respond(media),
    }
}

/// Whether a GET names an operation: its query text, or a persisted query's hash.
fn names_an_operation(uri: &axum::http::Uri) -> bool {
    uri.query().is_some_and(|q| {
        q.split('&').any(|p| {
            ["query=", "extensions=", "documentId="]
                .iter()
                .any(|k| p.starts_with(k))
        })
    })
}
