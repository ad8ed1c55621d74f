//! One GraphQL request, from the HTTP request to the answer: the handlers of `/graphql`
//! (POST, GET, batches), trusted documents and persisted queries resolved first, each
//! operation run with the request's loaders and answer budget, its span, metrics and
//! deadline.

use std::sync::Arc;

use async_graphql::BatchRequest;
use axum::{
    extract::{Request, State},
    response::{IntoResponse, Response},
};
use futures::future::{join_all, Either};
use tokio::time::Instant;
use tracing::{field::Empty, Instrument};

use super::{
    apq, gate,
    graphiql::{graphiql, wants_html},
    guard, incoming,
    media::{self, Answers, MediaType},
    request_id,
    respond::{graphql_response, refuse, respond, write_json},
    trusted, Service, DEADLINE_GRACE,
};
use crate::{
    auth::{Admission, Refusal},
    code::Code,
    executor::{budget::AnswerBudget, Answer},
    loader::Loaders,
    metrics,
    upstream::Session,
};

impl Service {
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
        // Whose persisted queries: a hash of the caller's scope, made only when asked for.
        let namespace = apq::Namespace::lazy(&admission, &batch);
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
                Ok(()) => match without_query(&request) {
                    Some(message) => Either::Right(std::future::ready(Answer::refused(
                        Code::BadRequest.server_error(message, None),
                        None,
                    ))),
                    None => Either::Left(execute(request)),
                },
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
                    Ok(()) => {}
                }
                if let Some(message) = without_query(&request) {
                    return refuse(Code::BadRequest, message, media);
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

/// What an operation without a query is told, alone or in a batch. Trusted documents fill
/// in the text of one named by `documentId` before this; without them, the id is not read.
fn without_query(request: &async_graphql::Request) -> Option<&'static str> {
    if !request.query.trim().is_empty() {
        return None;
    }
    Some(
        match request.extensions.contains_key(incoming::DOCUMENT_ID) {
            true => {
                "the request has no `query`, and its `documentId` is not read: this server has no \
             trusted documents (--trusted-documents)"
            }
            false => "the request has no `query`",
        },
    )
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

/// The answer to a request whose `Accept` allows no media type we write.
fn not_acceptable() -> Response {
    refuse(
        Code::NotAcceptable,
        "the Accept header allows neither application/graphql-response+json nor application/json",
        MediaType::Json,
    )
}

pub(super) async fn graphql_post(State(service): State<Service>, request: Request) -> Response {
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
pub(super) async fn graphql_get(State(service): State<Service>, request: Request) -> Response {
    let names_one = incoming::names_an_operation(request.uri());
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
