//! Request ids: `x-request-id` taken from the request when it is sane, else a fresh UUID
//! v4; returned on every answer, put in the request's span, and sent to ComplyCube (the
//! [`Session`](crate::upstream::Session) carries it), so one request can be followed
//! through our logs and theirs.
//!
//! The one thing to know: [`layer`] must wrap the whole router, outermost, so that every
//! answer carries the id, refusals of other layers (401, 413, 404) included.

use std::task::{Context, Poll};

use axum::{
    http::{HeaderMap, HeaderName, HeaderValue, Request},
    Router,
};
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_layer::Stack;

/// The header, both ways.
pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Longest id taken from a caller; longer ones are replaced.
pub const MAX_LENGTH: usize = 128;

/// Wraps `router` so that every request has a sane id and every answer returns it.
pub fn layer(router: Router) -> Router {
    // One `Router::layer` call for the three: axum boxes each route's service and future
    // once per call. `Stack::new(inner, outer)`: the request meets KeepIfSane first, then
    // SetRequestId, then PropagateRequestId.
    let set_then_propagate = Stack::new(
        PropagateRequestIdLayer::new(X_REQUEST_ID),
        SetRequestIdLayer::new(X_REQUEST_ID, MakeUuidV4),
    );
    router.layer(Stack::new(set_then_propagate, KeepIfSaneLayer))
}

/// Whether a caller's id can be taken as it is: 1 to [`MAX_LENGTH`] visible ASCII
/// characters (no spaces, no control characters: it goes into logs and upstream headers).
pub fn is_sane(id: &[u8]) -> bool {
    !id.is_empty() && id.len() <= MAX_LENGTH && id.iter().all(|b| (0x21..=0x7e).contains(b))
}

/// Drops a caller's id that is not sane (and all but the first of several), so that
/// [`SetRequestIdLayer`] makes a new one.
fn keep_if_sane(headers: &mut HeaderMap) {
    let mut values = headers.get_all(&X_REQUEST_ID).iter();
    let first_sane = values.next().is_some_and(|v| is_sane(v.as_bytes()));
    let several = values.next().is_some();
    if several || !first_sane {
        let first = headers.remove(&X_REQUEST_ID);
        if let Some(first) = first.filter(|v| is_sane(v.as_bytes())) {
            headers.insert(X_REQUEST_ID, first);
        }
    }
}

/// [`keep_if_sane`] as a layer. Done in `call`, before the inner service's future exists,
/// so it adds no future of its own (axum's `map_request` would box one around the whole
/// request).
#[derive(Clone, Copy)]
struct KeepIfSaneLayer;

impl<S> tower_layer::Layer<S> for KeepIfSaneLayer {
    type Service = KeepIfSane<S>;

    fn layer(&self, inner: S) -> Self::Service {
        KeepIfSane(inner)
    }
}

#[derive(Clone)]
struct KeepIfSane<S>(S);

impl<S, B> tower_service::Service<Request<B>> for KeepIfSane<S>
where
    S: tower_service::Service<Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        keep_if_sane(request.headers_mut());
        self.0.call(request)
    }
}

/// A UUID v4 from the thread's CSPRNG (no system call per id, unlike `Uuid::new_v4`),
/// written straight into the header value.
#[derive(Clone, Copy)]
struct MakeUuidV4;

impl MakeRequestId for MakeUuidV4 {
    fn make_request_id<B>(&mut self, _request: &Request<B>) -> Option<RequestId> {
        let uuid = uuid::Builder::from_random_bytes(rand::random()).into_uuid();
        let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
        let text = uuid.hyphenated().encode_lower(&mut text);
        HeaderValue::from_str(text).ok().map(RequestId::new)
    }
}

/// The request's id, as [`layer`] left it in the headers (empty outside of it).
pub fn of(headers: &HeaderMap) -> &str {
    headers
        .get(&X_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_ids_are_uuid_v4() {
        let request = Request::new(());
        let id = MakeUuidV4.make_request_id(&request).unwrap();
        let id = uuid::Uuid::parse_str(id.header_value().to_str().unwrap()).unwrap();
        assert_eq!(id.get_version_num(), 4);
        assert_ne!(
            MakeUuidV4.make_request_id(&request).unwrap().header_value(),
            &id.to_string()
        );
    }

    #[test]
    fn sane_ids_are_short_visible_ascii() {
        assert!(is_sane(b"abc-123_XYZ.7:/+="));
        assert!(is_sane(&[b'a'; MAX_LENGTH]));
        assert!(!is_sane(&[b'a'; MAX_LENGTH + 1]));
        assert!(!is_sane(b""));
        assert!(!is_sane(b"has space"));
        assert!(!is_sane(b"line\nbreak"));
        assert!(!is_sane("caf\u{e9}".as_bytes()));
    }
}
