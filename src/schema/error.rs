//! The only ways a resolver fails: with a [`Code`] from the moment the error is made.
//!
//! The one thing to know: resolvers fail with a [`FieldError`], which cannot be made
//! without a code and which nothing converts into implicitly, so a `?` on any other error
//! does not compile. An upstream failure also carries what ComplyCube said
//! (`extensions.upstream`).

use std::any::Any;

use async_graphql::{Context, Value};

use crate::{code::Code, upstream};

/// A resolver's failure, code included. Made by [`error`], [`upstream_error`] and [`data`]
/// only: there is no `From` for it, so a resolver cannot pass on an error without saying
/// what its caller sees.
#[derive(Clone, Debug)]
pub(super) struct FieldError(async_graphql::Error);

/// What our resolvers return (async-graphql's derive accepts a `FieldResult` as it does
/// its own `Result`).
pub(super) type FieldResult<T> = Result<T, FieldError>;

impl From<FieldError> for async_graphql::Error {
    fn from(e: FieldError) -> Self {
        e.0
    }
}

/// A resolver's failure that the caller sees as `code` and `message`.
pub(super) fn error(code: Code, message: impl Into<String>) -> FieldError {
    FieldError(code.error(message))
}

/// The request's `T`, which the HTTP layer or the schema builder put in: missing, it is
/// our bug, not the caller's.
pub(super) fn data<'c, T: Any + Send + Sync>(ctx: &Context<'c>) -> FieldResult<&'c T> {
    ctx.data::<T>()
        .map_err(|e| error(Code::InternalServerError, e.message))
}

/// An upstream failure as the caller sees it: a code, and what ComplyCube said.
pub(super) fn upstream_error(e: &upstream::Error) -> FieldError {
    let shown = e.to_string();
    let (code, status, kind, message) = match e {
        upstream::Error::Status { status, body, .. } => (
            match status {
                // Every parameter upstream sees is built and checked here, so a 400 means
                // the two disagree: not something the caller can fix.
                401 => Code::Unauthenticated,
                403 => Code::Forbidden,
                404 => Code::NotFound,
                429 => Code::RateLimited,
                _ => Code::UpstreamError,
            },
            Some(*status),
            body.kind.as_str(),
            body.message.as_str(),
        ),
        upstream::Error::Unreachable(m) => (Code::UpstreamError, None, "unreachable", m.as_str()),
        upstream::Error::Timeout => (Code::UpstreamError, None, "timeout", "no answer in time"),
        upstream::Error::InvalidResponse(m) => {
            (Code::UpstreamError, None, "invalid_response", m.as_str())
        }
        upstream::Error::TooLarge { .. } => (
            Code::UpstreamError,
            None,
            "invalid_response",
            shown.as_str(),
        ),
        upstream::Error::ImageTooLarge { .. } => {
            (Code::UpstreamError, None, "image_too_large", shown.as_str())
        }
        // Not upstream's doing: the caller asked for too much in one request.
        upstream::Error::TooManyCalls { .. } => return error(Code::BadUserInput, shown),
        // Our own budget refused before anything was sent: what a 429 would have said.
        upstream::Error::Throttled { .. } => {
            (Code::RateLimited, None, "rate_budget", shown.as_str())
        }
    };
    let mut upstream = async_graphql::indexmap::IndexMap::new();
    if let Some(status) = status {
        upstream.insert(async_graphql::Name::new("status"), Value::from(status));
    }
    upstream.insert(async_graphql::Name::new("type"), Value::from(kind));
    upstream.insert(async_graphql::Name::new("message"), Value::from(message));
    let mut err = error(code, shown.clone());
    if let Some(ext) = err.0.extensions.as_mut() {
        ext.set("upstream", Value::Object(upstream));
        match e {
            upstream::Error::Status {
                retry_after: Some(wait),
                ..
            } => ext.set("retryAfter", upstream::whole_seconds_up(*wait)),
            upstream::Error::Throttled { retry_after } => {
                ext.set("retryAfter", upstream::whole_seconds_up(*retry_after));
            }
            _ => {}
        }
    }
    err
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_refusal_of_the_rate_budget_is_rate_limited_with_a_whole_retry_after() {
        for (wait, seconds) in [(1, 1), (1000, 1), (1001, 2), (2500, 3)] {
            let e = upstream::Error::Throttled {
                retry_after: Duration::from_millis(wait),
            };
            let json = serde_json::to_value(
                upstream_error(&e)
                    .0
                    .into_server_error(async_graphql::Pos::default()),
            )
            .unwrap();
            let ext = &json["extensions"];
            assert_eq!(ext["code"], "RATE_LIMITED", "{json}");
            assert_eq!(ext["retryAfter"], seconds, "{json}");
            assert_eq!(ext["upstream"]["type"], "rate_budget", "{json}");
            assert!(ext["upstream"].get("status").is_none(), "{json}");
            assert!(
                json["message"]
                    .as_str()
                    .unwrap()
                    .contains("rate budget has no slot"),
                "{json}"
            );
        }
    }
}
