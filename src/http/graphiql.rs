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

/// What GraphiQL's page may do: run its own scripts (no inline ones, nothing from elsewhere),
/// talk to this origin only, and never be framed (clickjacking) or leak its URL onwards.
const PAGE_POLICY: &str =
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
    img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; \
    base-uri 'none'; form-action 'none'";

pub(super) async fn graphiql() -> Response {
    (
        [
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(PAGE_POLICY),
            ),
            (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
            (
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        Html(include_str!("graphiql/index.html")),
    )
        .into_response()
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

#[cfg(test)]
mod tests {
    #[test]
    fn the_page_has_no_inline_script_for_its_policy_to_refuse() {
        let page = include_str!("graphiql/index.html");
        for script in page.split("<script").skip(1) {
            assert!(
                script.trim_start().starts_with("src="),
                "an inline script: {script}"
            );
        }
    }
}
