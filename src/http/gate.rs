//! The gate in front of `/graphql`: admits a request (and puts its [`Admission`] in the
//! request's extensions for the handler) or answers 401, before the body is read.
//!
//! The one thing to know: a browser's GET for GraphiQL passes without credentials but
//! carries no admission, and the handlers run GraphQL only with one: whatever this layer
//! lets past by mistake still cannot execute.

use std::sync::Arc;

use axum::{
    extract::{Request, State},
    http::{header, HeaderValue, Method},
    middleware::Next,
    response::{IntoResponse, Response},
    Json,
};
use serde_json::json;

use super::media::MediaType;
use crate::{
    auth::{Admission, Gate, Refusal},
    code::Code,
};

/// Admits the request or refuses it with 401.
pub async fn require(State(gate): State<Arc<Gate>>, mut request: Request, next: Next) -> Response {
    if request.method() == Method::GET
        && !super::incoming::names_an_operation(request.uri())
        && super::wants_html(request.headers())
    {
        return next.run(request).await;
    }
    match gate.admit(request.headers()).await {
        Ok(admission) => {
            request.extensions_mut().insert(admission);
            next.run(request).await
        }
        Err(refusal) => {
            crate::metrics::auth_refused(refusal.reason());
            tracing::debug!(reason = refusal.reason(), "refused a request to /graphql");
            unauthenticated(refusal, gate.forwarding())
        }
    }
}

/// HTTP 401 with a `WWW-Authenticate` challenge and a GraphQL-shaped body: the same for
/// POST, GET and batches, since it is said before the body is read.
pub fn unauthenticated(refusal: Refusal, forwarding: bool) -> Response {
    let body = json!({ "errors": [{
        "message": refusal.message(forwarding),
        "extensions": { "code": Code::Unauthenticated.as_str() },
    }] });
    (
        Code::Unauthenticated.http_status(),
        [
            (
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(refusal.challenge()),
            ),
            // `Json` alone says `application/json`, without the charset every answer has.
            (header::CONTENT_TYPE, MediaType::Json.content_type()),
        ],
        Json(body),
    )
        .into_response()
}

/// The admission the gate attached; none means the gate did not admit this request.
pub fn admission(request: &Request) -> Option<Admission> {
    request.extensions().get::<Admission>().cloned()
}
