//! The HTTP face of the service: `/graphql` (POST, GET, JSON-array batches), GraphiQL at
//! `/` (served from the binary, so it works with no network), `/healthz`, body limits.
//!
//! The one thing to know: each HTTP request gets one fresh set of [`Loaders`], shared by all
//! the operations of a batch, and the operations of a batch run concurrently so that the
//! loaders see their windows and ids together and merge them.
//!
//! Around that: `gate` (authentication, before the body is read; only `/graphql` is gated),
//! `cors` (browser origins), `apq` (persisted queries, resolved before execution).

pub mod apq;
pub mod cors;
mod gate;

use std::{future::Future, sync::Arc, time::Duration};

use async_graphql::{BatchRequest, BatchResponse};
use async_graphql_axum::GraphQLBatchRequest;
use axum::{
    extract::{FromRequest, Request, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{Html, IntoResponse, Response},
    routing::get,
    serve::ListenerExt,
    Extension, Json, Router,
};
use futures::future::{join_all, Either};
use serde_json::json;
use tokio::{net::TcpListener, time::Instant};

use crate::{
    auth::{AccessConfig, Admission, Gate, Refusal},
    loader::Loaders,
    pagination::Limits,
    schema::{Executor, QueryLimits},
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
    /// Who may call, from which origins, and what is exposed (see [`crate::auth`]).
    pub access: AccessConfig,
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
            access: AccessConfig::default(),
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
    executor: Executor,
    upstream: Upstream,
    max_batch_size: usize,
    max_body_bytes: usize,
    request_timeout: Duration,
    max_upstream_calls: usize,
    gate: Arc<Gate>,
    apq: apq::PersistedQueries,
    cors: cors::CorsPolicy,
    playground: bool,
}

impl Service {
    pub fn new(config: &ServiceConfig) -> Result<Self, String> {
        let upstream = Upstream::new(&config.upstream)?;
        let access = &config.access;
        Ok(Self(Arc::new(Inner {
            executor: match access.introspection {
                true => Executor::new(config.limits, config.query_limits),
                false => Executor::without_introspection(config.limits, config.query_limits),
            },
            gate: Arc::new(Gate::new(&access.auth, upstream.http_client())?),
            apq: apq::PersistedQueries::default(),
            cors: access.cors.clone(),
            playground: access.playground,
            upstream,
            max_batch_size: config.max_batch_size,
            max_body_bytes: config.max_body_bytes,
            request_timeout: config.request_timeout,
            max_upstream_calls: config.max_upstream_calls,
        })))
    }

    pub fn router(&self) -> Router {
        let gate = axum::middleware::from_fn_with_state(self.0.gate.clone(), gate::require);
        let mut router = Router::new()
            .route("/graphql", get(graphql_get).post(graphql_post).layer(gate))
            .route("/healthz", get(|| async { "ok" }));
        if self.0.playground {
            router = router
                .route("/", get(graphiql))
                .route("/graphiql/{asset}", get(graphiql_asset));
        }
        let router = router
            .layer(tower_http::limit::RequestBodyLimitLayer::new(
                self.0.max_body_bytes,
            ))
            // The limit layer answers an announced oversized body in plain text; say it
            // the way every other refusal is said.
            .layer(axum::middleware::map_response(|response: Response| async {
                if response.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    bad_request(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "the request body is too large",
                    )
                } else {
                    response
                }
            }))
            .with_state(self.clone());
        // Outermost: preflights are answered first, and refusals carry CORS headers too
        // (so a browser app can read why it was refused).
        match self.0.cors.layer() {
            Some(cors) => router.layer(cors),
            None => router,
        }
    }

    /// Serves on `listener` until `shutdown` completes, then drains in-flight requests.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        // Small JSON answers: send them now, not when Nagle's algorithm allows.
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        axum::serve(listener, self.router())
            .with_graceful_shutdown(shutdown)
            .await
    }

    async fn execute(&self, batch: BatchRequest, admission: Admission) -> Response {
        let deadline = Instant::now() + self.0.request_timeout;
        let operations = match &batch {
            BatchRequest::Single(_) => None,
            BatchRequest::Batch(requests) => Some(requests.len()),
        };
        // Upstream calls already end by the deadline; this net bounds everything else.
        match tokio::time::timeout_at(
            deadline + DEADLINE_GRACE,
            self.run(batch, deadline, admission),
        )
        .await
        {
            Ok(response) => response,
            Err(_) => {
                tracing::warn!("a GraphQL request outlived its deadline");
                let late = json!({ "errors": [{
                    "message": "the request did not finish in time",
                    "extensions": { "code": "UPSTREAM_ERROR" },
                }] });
                match operations {
                    None => Json(late).into_response(),
                    Some(n) => Json(vec![late; n]).into_response(),
                }
            }
        }
    }

    async fn run(&self, batch: BatchRequest, deadline: Instant, admission: Admission) -> Response {
        let mut session = Session::new(deadline, self.0.max_upstream_calls);
        if let Some(key) = admission.key {
            session = match session.with_key(key) {
                Ok(session) => session,
                Err(_) => return gate::unauthenticated(Refusal::Malformed, true),
            };
        }
        let loaders = Arc::new(Loaders::new(self.0.upstream.clone(), session));
        let caller = admission.caller;
        let execute = |request: async_graphql::Request| {
            self.0
                .executor
                .execute(request.data(loaders.clone()).data(caller.clone()))
        };
        // Within a batch, a persisted query that cannot run is that operation's error.
        let run = |mut request: async_graphql::Request| match self.0.apq.resolve(&mut request) {
            Ok(()) => Either::Left(execute(request)),
            Err(e) => Either::Right(std::future::ready(e.response())),
        };
        let response = match batch {
            BatchRequest::Single(mut request) => {
                // Alone, said as HTTP errors like any other unreadable request, except
                // `PersistedQueryNotFound`, which Apollo clients expect with a 200.
                match self.0.apq.resolve(&mut request) {
                    Err(apq::ApqError::Bad(message)) => {
                        return bad_request(StatusCode::BAD_REQUEST, message)
                    }
                    Err(not_found) => {
                        return graphql_response(&BatchResponse::Single(not_found.response()))
                    }
                    Ok(()) if request.query.trim().is_empty() => {
                        return bad_request(StatusCode::BAD_REQUEST, "the request has no `query`");
                    }
                    Ok(()) => BatchResponse::Single(execute(request).await),
                }
            }
            BatchRequest::Batch(requests) => {
                if requests.is_empty() || requests.len() > self.0.max_batch_size {
                    return bad_request(
                        StatusCode::BAD_REQUEST,
                        &format!(
                            "a batch must hold between 1 and {} operations (got {})",
                            self.0.max_batch_size,
                            requests.len()
                        ),
                    );
                }
                BatchResponse::Batch(join_all(requests.into_iter().map(run)).await)
            }
        };
        graphql_response(&response)
    }
}

/// A GraphQL answer as async-graphql-axum sends it, serialised with `sonic-rs`: it escapes
/// strings with SIMD, and a page of photos is mostly strings.
fn graphql_response(response: &BatchResponse) -> Response {
    // Neither can fail on a `Value`: its maps have string keys and its numbers are finite.
    let body = sonic_rs::to_vec(response)
        .or_else(|_| serde_json::to_vec(response))
        .unwrap_or_else(|e| {
            tracing::error!(error = %e, "a GraphQL response did not serialise");
            br#"{"errors":[{"message":"the answer could not be written","extensions":{"code":"INTERNAL_SERVER_ERROR"}}]}"#.to_vec()
        });
    let mut answer = Response::new(axum::body::Body::from(body));
    let headers = answer.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/graphql-response+json"),
    );
    if response.is_ok() {
        if let Some(value) = response
            .cache_control()
            .value()
            .and_then(|v| HeaderValue::from_str(&v).ok())
        {
            headers.insert(header::CACHE_CONTROL, value);
        }
    }
    headers.extend(response.http_headers());
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
        use async_graphql::ParseRequestError as E;
        match self.0 {
            E::PayloadTooLarge => bad_request(
                StatusCode::PAYLOAD_TOO_LARGE,
                "the request body is too large",
            ),
            E::InvalidRequest(e) => bad_request(
                StatusCode::BAD_REQUEST,
                &format!("the body is not a GraphQL request: {e}"),
            ),
            E::Io(e) if e.to_string().contains("length limit") => bad_request(
                StatusCode::PAYLOAD_TOO_LARGE,
                "the request body is too large",
            ),
            other => bad_request(
                StatusCode::BAD_REQUEST,
                &format!("the request could not be read: {other}"),
            ),
        }
    }
}

fn bad_request(status: StatusCode, message: &str) -> Response {
    let body =
        json!({ "errors": [{ "message": message, "extensions": { "code": "BAD_REQUEST" } }] });
    (status, Json(body)).into_response()
}

async fn graphql_post(
    State(service): State<Service>,
    admission: Option<Extension<Admission>>,
    request: GraphQLBatchRequest<Rejection>,
) -> Response {
    // The gate always admits before this runs; without its word, nothing executes.
    let Some(Extension(admission)) = admission else {
        return gate::unauthenticated(Refusal::Missing, service.0.gate.forwarding());
    };
    service.execute(request.into_inner(), admission).await
}

/// `GET /graphql`: a query in the URL, or, for a browser asking for a page, GraphiQL.
async fn graphql_get(State(service): State<Service>, request: Request) -> Response {
    if !names_an_operation(request.uri()) {
        if wants_html(request.headers()) {
            if !service.0.playground {
                return bad_request(
                    StatusCode::NOT_ACCEPTABLE,
                    "GraphiQL is switched off here (--no-playground): send a GraphQL request",
                );
            }
            return graphiql().await.into_response();
        }
        return bad_request(
            StatusCode::BAD_REQUEST,
            "GET /graphql needs a `query` parameter (or a browser's Accept: text/html for GraphiQL)",
        );
    }
    let Some(admission) = gate::admission(&request) else {
        return gate::unauthenticated(Refusal::Missing, service.0.gate.forwarding());
    };
    match GraphQLBatchRequest::<Rejection>::from_request(request, &()).await {
        Ok(batch) => service.execute(batch.into_inner(), admission).await,
        Err(rejection) => rejection.into_response(),
    }
}

/// Whether a GET names an operation: its query text, or a persisted query's hash.
fn names_an_operation(uri: &axum::http::Uri) -> bool {
    uri.query().is_some_and(|q| {
        q.split('&')
            .any(|p| p.starts_with("query=") || p.starts_with("extensions="))
    })
}

fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"))
}

async fn graphiql() -> Html<&'static str> {
    Html(include_str!("graphiql/index.html"))
}

/// GraphiQL's scripts and styles, compiled into the binary (GraphiQL 4.1.2, React 18.3.1).
async fn graphiql_asset(axum::extract::Path(asset): axum::extract::Path<String>) -> Response {
    let (body, content_type): (&'static [u8], &'static str) = match asset.as_str() {
        "graphiql.min.js" => (
            include_bytes!("graphiql/graphiql.min.js"),
            "text/javascript",
        ),
        "graphiql.min.css" => (include_bytes!("graphiql/graphiql.min.css"), "text/css"),
        "react.production.min.js" => (
            include_bytes!("graphiql/react.production.min.js"),
            "text/javascript",
        ),
        "react-dom.production.min.js" => (
            include_bytes!("graphiql/react-dom.production.min.js"),
            "text/javascript",
        ),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=86400"),
            ),
        ],
        body,
    )
        .into_response()
}
