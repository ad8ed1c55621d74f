//! `GET` and `HEAD /images/{token}`: what an `imageUrl` loads, with no credentials (the
//! signature is the capability).
//!
//! The one thing to know: a URL that is not ours, or was altered, is a plain 403, and one
//! past its expiry a 410, before any upstream call; a browser that holds the image already
//! gets a 304 on its `If-None-Match`, also without one. Every answer says what it is
//! (`nosniff`), may run nothing (`default-src 'none'; sandbox`), and may be embedded by
//! another origin (`Cross-Origin-Resource-Policy: cross-origin`), the page that shows it.

use std::{convert::Infallible, time::SystemTime};

use axum::{
    body::{Body, Bytes},
    extract::{Path, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use tokio::{sync::OwnedSemaphorePermit, time::Instant};

use super::Service;
use crate::{
    images::{Format, Grant, ImageError, Refusal, IMAGE_TIMEOUT},
    upstream::{self, Session},
};

/// Upstream calls one image request may make (retries not counted).
const CALLS: usize = 1;

/// The answer to a request for an image URL.
pub(super) async fn image(
    State(service): State<Service>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Response {
    let now = SystemTime::now();
    let images = &service.0.images;
    let grant = match images.urls().verify(&token, now) {
        Ok(grant) => grant,
        Err(Refusal::Invalid) => {
            return refused(StatusCode::FORBIDDEN, "this image URL is not valid", None)
        }
        Err(Refusal::Expired) => {
            return refused(StatusCode::GONE, "this image URL has expired", None)
        }
    };
    let width = grant.width;
    let etag = grant.etag();
    let cache_control = format!("private, max-age={}, immutable", grant.seconds_left(now));
    if matches_etag(&headers, &etag) {
        crate::metrics::image_request(StatusCode::NOT_MODIFIED.as_u16(), Some(width));
        let mut answer = StatusCode::NOT_MODIFIED.into_response();
        set(
            &mut answer,
            &[
                (header::ETAG, &etag),
                (header::CACHE_CONTROL, &cache_control),
            ],
        );
        secure(&mut answer);
        return answer;
    }
    let mut session = Session::new(Instant::now() + IMAGE_TIMEOUT, CALLS)
        .with_request_id(super::request_id::of(&headers));
    if let Some(key) = grant.key.clone() {
        session = match session.with_key(key) {
            Ok(session) => session,
            Err(_) => {
                return refused(
                    StatusCode::FORBIDDEN,
                    "this image URL is not valid",
                    Some(width),
                )
            }
        };
    }
    match images.fetch(&grant, &session).await {
        Ok(served) => {
            crate::metrics::image_request(StatusCode::OK.as_u16(), Some(width));
            let length = served.bytes.len().to_string();
            let (content_type, disposition) = match served.format {
                Some(format) => (
                    format.media_type(),
                    format!(
                        "inline; filename=\"{}\"",
                        file_name(&served.file_name, &grant, Some(format))
                    ),
                ),
                // Not an image by its bytes: never shown, only saved.
                None => (
                    "application/octet-stream",
                    format!(
                        "attachment; filename=\"{}\"",
                        file_name(&served.file_name, &grant, None)
                    ),
                ),
            };
            let mut answer = Response::new(body(served.bytes, served.turn));
            set(
                &mut answer,
                &[
                    (header::CONTENT_TYPE, content_type),
                    (header::CONTENT_LENGTH, &length),
                    (header::ETAG, &etag),
                    (header::CACHE_CONTROL, &cache_control),
                    (header::CONTENT_DISPOSITION, &disposition),
                ],
            );
            secure(&mut answer);
            answer
        }
        Err(e) => failed(&e, Some(width)),
    }
}

/// The body of an image, a slice at a time, holding its turn until the last is taken, so
/// that only so many images are held in memory at once (see [`crate::images`]).
fn body(bytes: Bytes, turn: Option<OwnedSemaphorePermit>) -> Body {
    const CHUNK: usize = 64 * 1024;
    let chunks = futures::stream::unfold((bytes, turn), |(mut rest, turn)| async move {
        if rest.is_empty() {
            return None;
        }
        let chunk = rest.split_to(CHUNK.min(rest.len()));
        Some((Ok::<_, Infallible>(chunk), (rest, turn)))
    });
    Body::from_stream(chunks)
}

/// Whether the browser's `If-None-Match` names `etag` (or `*`).
fn matches_etag(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == etag || tag == "*")
}

/// A file name fit for `Content-Disposition`, ending in what is served.
fn file_name(given: &str, grant: &Grant, format: Option<Format>) -> String {
    let suffix = grant.width.map_or_else(String::new, |w| format!("_{w}w"));
    crate::images::safe_file_name(given, &suffix, format.map_or("bin", Format::extension))
}

/// A failure said plainly, with the status that fits it.
fn failed(error: &ImageError, width: Option<Option<u32>>) -> Response {
    let (status, message) = match error {
        ImageError::Unprocessable(e) => (StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
        ImageError::Closing => (StatusCode::SERVICE_UNAVAILABLE, error.to_string()),
        ImageError::Upstream(e) => match e {
            upstream::Error::Status { status: 404, .. } => (
                StatusCode::NOT_FOUND,
                "ComplyCube has no such photo".to_owned(),
            ),
            upstream::Error::Status { status: 429, .. } | upstream::Error::Throttled { .. } => {
                (StatusCode::TOO_MANY_REQUESTS, e.to_string())
            }
            upstream::Error::Timeout => (StatusCode::GATEWAY_TIMEOUT, e.to_string()),
            _ => (StatusCode::BAD_GATEWAY, e.to_string()),
        },
    };
    let mut answer = refused(status, &message, width);
    if let ImageError::Upstream(e) = error {
        if let Some(wait) = e.retry_after() {
            let seconds = upstream::whole_seconds_up(wait).to_string();
            set(&mut answer, &[(header::RETRY_AFTER, &seconds)]);
        }
    }
    answer
}

/// A refusal in plain text, counted (`width` `None`: before the URL could be trusted).
fn refused(status: StatusCode, message: &str, width: Option<Option<u32>>) -> Response {
    crate::metrics::image_request(status.as_u16(), width);
    let mut answer = (status, format!("{message}\n")).into_response();
    set(&mut answer, &[(header::CACHE_CONTROL, "no-store")]);
    secure(&mut answer);
    answer
}

fn set(answer: &mut Response, pairs: &[(header::HeaderName, &str)]) {
    for (name, value) in pairs {
        if let Ok(value) = HeaderValue::from_str(value) {
            answer.headers_mut().insert(name.clone(), value);
        }
    }
}

/// What every answer of this route says about itself.
fn secure(answer: &mut Response) {
    let headers = answer.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    headers.insert(
        header::HeaderName::from_static("cross-origin-resource-policy"),
        HeaderValue::from_static("cross-origin"),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(width: Option<u32>) -> Grant {
        Grant {
            photo: "p".into(),
            width,
            expires: 0,
            key: None,
        }
    }

    #[test]
    fn file_names_are_sanitised_and_say_what_is_served() {
        let jpeg = Some(Format::Jpeg);
        assert_eq!(
            file_name("selfie_1588704754226.jpg", &grant(None), jpeg),
            "selfie_1588704754226.jpg"
        );
        assert_eq!(
            file_name("selfie_1.png", &grant(Some(256)), jpeg),
            "selfie_1_256w.jpg"
        );
        assert_eq!(
            file_name("a\"; filename=evil.html\r\nX: y.jpg", &grant(None), jpeg),
            "a___filename_evil_html__X__y.jpg"
        );
        assert_eq!(
            file_name("../../etc/passwd", &grant(None), None),
            "live_photo.bin"
        );
        assert_eq!(
            file_name("a/b.c/selfie.jpg", &grant(None), None),
            "a_b_c_selfie.bin"
        );
        assert_eq!(file_name("", &grant(None), jpeg), "live_photo.jpg");
        assert!(file_name(&"x".repeat(500), &grant(None), jpeg).len() <= 100);
    }

    #[test]
    fn if_none_match_is_read_as_http_says() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_static("\"a\", W/\"b\""),
        );
        assert!(matches_etag(&headers, "\"a\"") && matches_etag(&headers, "\"b\""));
        assert!(!matches_etag(&headers, "\"c\""));
        assert!(!matches_etag(&HeaderMap::new(), "\"a\""));
    }
}
