//! GraphiQL, served from the binary (GraphiQL 4.1.2, React 18.3.1, MIT), so the
//! playground works with no network: its page, its assets, and who gets the page.

use axum::{
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{Html, IntoResponse, Response},
};

/// Whether a request asks for a page (a browser), not for GraphQL.
pub(super) fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"))
}

pub(super) async fn graphiql() -> Html<&'static str> {
    Html(include_str!("graphiql/index.html"))
}

/// GraphiQL's scripts and styles, compiled into the binary (GraphiQL 4.1.2, React 18.3.1).
pub(super) async fn graphiql_asset(
    axum::extract::Path(asset): axum::extract::Path<String>,
) -> Response {
    let (body, content_type): (&'static [u8], &'static str) = match asset.as_str() {
        "app.js" => (include_bytes!("graphiql/app.js"), "text/javascript"),
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
