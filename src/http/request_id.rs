//! Request ids: `x-request-id` taken from the request when it is sane, else a fresh UUID
//! v4; returned on every answer, put in the request's span, and sent to ComplyCube (the
//! [`Session`](crate::upstream::Session) carries it), so one request can be followed
//! through our logs and theirs.
//!
//! The one thing to know: [`layer`] must wrap the whole router, outermost, so that every
//! answer carries the id, refusals of other layers (401, 413, 404) included.

use axum::{
    extract::Request,
    http::{HeaderMap, HeaderName},
    Router,
};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};

/// The header, both ways.
pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Longest id taken from a caller; longer ones are replaced.
pub const MAX_LENGTH: usize = 128;

/// Wraps `router` so that every request has a sane id and every answer returns it.
pub fn layer(router: Router) -> Router {
    // Layers run outside in: the last added sees the request first.
    router
        .layer(PropagateRequestIdLayer::new(X_REQUEST_ID))
        .layer(SetRequestIdLayer::new(X_REQUEST_ID, MakeRequestUuid))
        .layer(axum::middleware::map_request(keep_if_sane))
}

/// Whether a caller's id can be taken as it is: 1 to [`MAX_LENGTH`] visible ASCII
/// characters (no spaces, no control characters: it goes into logs and upstream headers).
pub fn is_sane(id: &[u8]) -> bool {
    !id.is_empty() && id.len() <= MAX_LENGTH && id.iter().all(|b| (0x21..=0x7e).contains(b))
}

/// Drops a caller's id that is not sane (and all but the first of several), so that
/// [`SetRequestIdLayer`] makes a new one.
async fn keep_if_sane(mut request: Request) -> Request {
    let headers = request.headers_mut();
    let mut values = headers.get_all(&X_REQUEST_ID).iter();
    let first_sane = values.next().is_some_and(|v| is_sane(v.as_bytes()));
    let several = values.next().is_some();
    if several || !first_sane {
        let first = headers.remove(&X_REQUEST_ID);
        if let Some(first) = first.filter(|v| is_sane(v.as_bytes())) {
            headers.insert(X_REQUEST_ID, first);
        }
    }
    request
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
