//! What guards a service that asks for no credentials but holds a real key (open mode,
//! `--allow-unauthenticated`): the `Host` it answers to, and GETs a browser could send from
//! another site.
//!
//! The one thing to know: in open mode the network is the only protection, and a web page
//! can reach into it. A page whose name is made to resolve to the service's address (DNS
//! rebinding) sends the page's own host name, so only the names the service is known by
//! are answered (`--allowed-hosts`, loopback names by default when listening on loopback);
//! and since a page can make a browser send a GET anywhere without asking (an `<img>`, a
//! link), a GET runs a query only with a header no page can set without a CORS preflight
//! (`x-graphql-csrf`, or Apollo's `apollo-require-preflight` or `x-apollo-operation-name`,
//! as Apollo Server's CSRF prevention asks) or `Content-Type: application/json`. A POST
//! must be `application/json` anyway, which a page cannot send cross-site without one.

use axum::{
    extract::{Request, State},
    http::{header, HeaderMap},
    middleware::Next,
    response::Response,
};

use super::{media::MediaType, refuse};
use crate::code::Code;

/// The names a loopback listener answers to by default.
pub const LOOPBACK_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// Headers that show a request was made by a script that passed a CORS preflight.
const PREFLIGHTED: [&str; 3] = [
    "x-graphql-csrf",
    "apollo-require-preflight",
    "x-apollo-operation-name",
];

/// The host names the service answers to: exact names, or `*.example.com` for one label.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AllowedHosts(pub Vec<String>);

impl AllowedHosts {
    /// Reads `ALLOWED_HOSTS`' values: host names or IP addresses, no port, no scheme.
    pub fn parse(hosts: &[String]) -> Result<Self, String> {
        let hosts: Vec<String> = hosts
            .iter()
            .map(|h| {
                h.trim()
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .to_ascii_lowercase()
            })
            .filter(|h| !h.is_empty())
            .collect();
        for host in &hosts {
            let name = host.strip_prefix("*.").unwrap_or(host);
            let plain = name.parse::<std::net::IpAddr>().is_ok()
                || (!name.is_empty()
                    && name
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.'));
            if !plain {
                return Err(format!(
                    "`{host}` in ALLOWED_HOSTS is not a host name such as kyc.internal.example.com \
                     (no scheme, no port; `*.example.com` for any one label)"
                ));
            }
        }
        Ok(Self(hosts))
    }

    /// Whether a request whose `Host` header is `host` (maybe with a port) is answered.
    pub fn admits(&self, host: &str) -> bool {
        let name = host_name(host);
        self.0
            .iter()
            .any(|allowed| match allowed.strip_prefix("*.") {
                Some(rest) => name
                    .strip_suffix(rest)
                    .and_then(|n| n.strip_suffix('.'))
                    .is_some_and(|label| !label.is_empty() && !label.contains('.')),
                None => *allowed == name,
            })
    }
}

/// The name part of a `Host` value, lower-cased: no port, no IPv6 brackets.
fn host_name(host: &str) -> String {
    let host = host.trim().to_ascii_lowercase();
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or_default().to_owned();
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name.to_owned(),
        _ => host,
    }
}

/// Answers only requests for an allowed host (421 otherwise, before anything else runs);
/// the probes (`/healthz`, `/readyz`) answer whatever the host, as orchestrators call them
/// by address.
pub async fn hosts(State(allowed): State<AllowedHosts>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if path == "/healthz" || path == "/readyz" {
        return next.run(request).await;
    }
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| request.uri().authority().map(|a| a.as_str()))
        .unwrap_or_default();
    if allowed.admits(host) {
        return next.run(request).await;
    }
    crate::metrics::auth_refused("host_not_allowed");
    refuse(
        Code::MisdirectedRequest,
        "this service does not answer for that host name (ALLOWED_HOSTS)",
        MediaType::Json,
    )
}

/// Whether a GET carries what no page could send it cross-site without a preflight.
pub fn preflighted(headers: &HeaderMap) -> bool {
    PREFLIGHTED
        .iter()
        .any(|name| headers.get(*name).is_some_and(|v| !v.is_empty()))
        || super::media::is_json_body(headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed(hosts: &[&str]) -> AllowedHosts {
        AllowedHosts::parse(&hosts.iter().map(|h| h.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn only_the_names_the_service_is_known_by_are_answered() {
        let loopback = allowed(&LOOPBACK_NAMES);
        for ok in ["localhost:8080", "127.0.0.1", "[::1]:8080", "LOCALHOST"] {
            assert!(loopback.admits(ok), "{ok}");
        }
        for not in [
            "evil.example",
            "localhost.evil.example:8080",
            "127.0.0.2",
            "",
            "attacker",
        ] {
            assert!(!loopback.admits(not), "{not}");
        }
        let named = allowed(&["kyc.example.com", "*.internal.example"]);
        assert!(named.admits("kyc.example.com:443") && named.admits("a.internal.example"));
        assert!(!named.admits("a.b.internal.example") && !named.admits("internal.example"));
        for bad in [
            "https://kyc.example.com",
            "kyc.example.com:8080",
            "a b",
            "*",
        ] {
            assert!(AllowedHosts::parse(&[bad.to_owned()]).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_get_counts_as_preflighted_only_with_a_header_a_page_cannot_set_freely() {
        let mut headers = HeaderMap::new();
        assert!(!preflighted(&headers));
        headers.insert("content-type", "text/plain".parse().unwrap());
        assert!(!preflighted(&headers));
        headers.insert("x-graphql-csrf", "1".parse().unwrap());
        assert!(preflighted(&headers));
        let mut json = HeaderMap::new();
        json.insert("content-type", "application/json".parse().unwrap());
        assert!(preflighted(&json));
    }
}
