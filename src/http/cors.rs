//! Which browser origins may call the service (`CORS_ALLOWED_ORIGINS`).
//!
//! The one thing to know: nothing is allowed unless configured, except in demo mode
//! (any origin: the demo holds no secret). An origin may name one label as a wildcard,
//! `https://*.example.com`, meaning `https://app.example.com` but neither
//! `https://example.com` nor `https://a.b.example.com`. Preflights are answered by the layer itself,
//! before authentication, and never need credentials; credentials (cookies) are never
//! allowed, since callers authenticate with a header.

use std::time::Duration;

use axum::http::{header, HeaderValue, Method};
use tower_http::cors::{AllowOrigin, CorsLayer};

/// The request id header, which a page may send and read (see `request_id`).
const REQUEST_ID: header::HeaderName = header::HeaderName::from_static("x-request-id");

/// How long a browser may reuse a preflight answer.
const PREFLIGHT_MAX_AGE: Duration = Duration::from_secs(600);

/// The origins allowed to call from a browser.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum CorsPolicy {
    /// No CORS headers at all: browsers allow same-origin calls only.
    #[default]
    Off,
    /// Any origin (demo mode, or `*`).
    Any,
    /// These origins (`scheme://host[:port]`), exactly or with one wildcard label.
    Origins(Vec<String>),
}

impl CorsPolicy {
    /// Reads `CORS_ALLOWED_ORIGINS`' values; `*` alone means any origin.
    pub fn parse(origins: &[String]) -> Result<Self, String> {
        let origins: Vec<&str> = origins
            .iter()
            .map(|o| o.trim())
            .filter(|o| !o.is_empty())
            .collect();
        if origins.is_empty() {
            return Ok(Self::Off);
        }
        if origins == ["*"] {
            return Ok(Self::Any);
        }
        origins
            .into_iter()
            .map(|origin| {
                let trimmed = origin.trim_end_matches('/');
                if let Some((scheme, rest)) = trimmed.split_once("://*.") {
                    // Below a domain of at least two labels: `*.com` would be any site.
                    let host = rest.split(':').next().unwrap_or_default();
                    if host.split('.').filter(|l| !l.is_empty()).count() < 2 {
                        return Err(not_an_origin(origin));
                    }
                    // Checked as the origin it stands for, with `x` for the label.
                    let example = format!("{scheme}://x.{rest}");
                    return Self::parse(&[example])
                        .map(|_| format!("{scheme}://*.{}", rest.to_ascii_lowercase()))
                        .map_err(|_| not_an_origin(origin));
                }
                if trimmed.contains('*') {
                    return Err(not_an_origin(origin));
                }
                match reqwest::Url::parse(trimmed) {
                    Ok(url)
                        if matches!(url.scheme(), "http" | "https")
                            && url.origin().ascii_serialization()
                                == trimmed.to_ascii_lowercase() =>
                    {
                        Ok(url.origin().ascii_serialization())
                    }
                    _ => Err(not_an_origin(origin)),
                }
            })
            .collect::<Result<_, _>>()
            .map(Self::Origins)
    }

    /// The layer answering preflights and marking responses, if any origin is allowed.
    pub fn layer(&self) -> Option<CorsLayer> {
        let allow = match self {
            Self::Off => return None,
            Self::Any => AllowOrigin::any(),
            Self::Origins(origins) if origins.iter().all(|o| !o.contains('*')) => {
                AllowOrigin::list(origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()))
            }
            Self::Origins(origins) => {
                let origins = origins.clone();
                AllowOrigin::predicate(move |origin, _| {
                    origin
                        .to_str()
                        .is_ok_and(|o| origins.iter().any(|allowed| matches(allowed, o)))
                })
            }
        };
        Some(
            CorsLayer::new()
                .allow_origin(allow)
                .allow_methods([Method::GET, Method::POST])
                .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, REQUEST_ID])
                // So that a page can put the request id in its error reports, and wait
                // as long as a rate limit asks.
                .expose_headers([REQUEST_ID, header::RETRY_AFTER])
                .max_age(PREFLIGHT_MAX_AGE),
        )
    }
}

fn not_an_origin(origin: &str) -> String {
    format!(
        "`{origin}` in CORS_ALLOWED_ORIGINS is not an origin such as https://app.example.com \
         (scheme, host and port only; one leading `*.` label below a domain of two labels \
         or more, as in https://*.example.com, for any one label; `*` alone for any origin)"
    )
}

/// Whether the browser's `origin` is the allowed one, or has one label where it has `*`.
fn matches(allowed: &str, origin: &str) -> bool {
    let origin = origin.to_ascii_lowercase();
    match allowed.split_once("://*.") {
        None => allowed == origin,
        Some((scheme, rest)) => origin
            .strip_prefix(scheme)
            .and_then(|o| o.strip_prefix("://"))
            .and_then(|o| o.strip_suffix(rest))
            .and_then(|o| o.strip_suffix('.'))
            .is_some_and(|label| {
                !label.is_empty()
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(origins: &[&str]) -> Result<CorsPolicy, String> {
        CorsPolicy::parse(&origins.iter().map(|o| o.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn origins_are_checked_and_written_as_browsers_send_them() {
        assert_eq!(parse(&[]), Ok(CorsPolicy::Off));
        assert_eq!(parse(&[" ", ""]), Ok(CorsPolicy::Off));
        assert_eq!(parse(&["*"]), Ok(CorsPolicy::Any));
        assert_eq!(
            parse(&["https://app.example.com/", " http://localhost:3000"]),
            Ok(CorsPolicy::Origins(vec![
                "https://app.example.com".into(),
                "http://localhost:3000".into()
            ]))
        );
        assert_eq!(
            parse(&["https://*.Example.com"]),
            Ok(CorsPolicy::Origins(vec!["https://*.example.com".into()]))
        );
        for bad in [
            "app.example.com",
            "https://app.example.com/path",
            "ftp://x",
            "*.example.com",
            "https://*.example.com/x",
            "https://a.*.example.com",
        ] {
            assert!(parse(&[bad]).is_err(), "{bad}");
        }
        assert!(parse(&["*", "https://a.example"]).is_err());
    }

    #[test]
    fn a_wildcard_stands_for_exactly_one_label() {
        let allowed = "https://*.example.com";
        assert!(matches(allowed, "https://app.example.com"));
        assert!(matches(allowed, "https://APP.example.com"));
        for not in [
            "https://example.com",
            "https://a.b.example.com",
            "http://app.example.com",
            "https://app.example.com.evil.org",
            "https://evilexample.com",
            "https://.example.com",
            "https://app.example.com:444",
        ] {
            assert!(!matches(allowed, not), "{not}");
        }
        let with_port = "http://*.localhost:3000";
        assert!(matches(with_port, "http://a.localhost:3000"));
        assert!(!matches(with_port, "http://a.localhost:3001"));
    }
}
