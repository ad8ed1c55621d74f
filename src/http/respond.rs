//! Writing answers: GraphQL answers in the negotiated media type with their status and
//! headers, and the refusals of requests that never became GraphQL.

use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde_json::json;

use super::media::{self, Answers, MediaType};
use crate::{code::Code, executor::Answer, metrics};

/// A GraphQL answer in `media` (see [`media`] for statuses and the `data` entry).
pub(super) fn graphql_response(answers: &Answers, media: MediaType) -> Response {
    respond(
        answers,
        write_json(&media::Body::from(answers), 1024),
        media,
    )
}

/// `value` as JSON, into a buffer of `size` bytes to begin with, serialised with
/// `sonic-rs`: it escapes strings with SIMD, and a page of photos is mostly strings.
pub(super) fn write_json(value: &impl serde::Serialize, size: usize) -> Vec<u8> {
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
pub(super) fn respond(answers: &Answers, body: Vec<u8>, media: MediaType) -> Response {
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
    pub(super) fn respond(self, media: MediaType) -> Response {
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
