//! What can go wrong talking to ComplyCube, and the scrubbing of the key out of it.

use std::time::Duration;

use super::{ApiKey, ErrorBody};

/// What can go wrong talking to ComplyCube. Messages name the failure, never the key.
#[derive(Clone, Debug, thiserror::Error)]
pub enum Error {
    /// ComplyCube answered with an error status.
    #[error("ComplyCube answered {status}: {}", body.message)]
    Status {
        status: u16,
        body: ErrorBody,
        /// From a `Retry-After` header, when upstream sent one.
        retry_after: Option<Duration>,
    },
    /// No answer: connection refused, reset, DNS.
    #[error("ComplyCube could not be reached: {0}")]
    Unreachable(String),
    /// No answer in time.
    #[error("ComplyCube did not answer in time")]
    Timeout,
    /// An answer we cannot use: not JSON, wrong shape, or inconsistent.
    #[error("ComplyCube sent an unusable response: {0}")]
    InvalidResponse(String),
    /// A body larger than we accept for its endpoint.
    #[error("ComplyCube sent an unusable response: the response body exceeds {limit} bytes")]
    TooLarge { limit: usize },
    /// An image larger than `--max-download-bytes`: refused whole, never truncated.
    #[error(
        "the image is larger than the {limit} bytes this service returns (--max-download-bytes)"
    )]
    ImageTooLarge { limit: usize },
    /// The GraphQL request would need more upstream calls than one request may make; no
    /// call was made for the part that did not fit.
    #[error(
        "this request needs more than {limit} calls to ComplyCube; ask for fewer or nearer pages"
    )]
    TooManyCalls { limit: usize },
    /// The rate budget of the key has no slot within what this call may wait (the queue
    /// timeout, or the request's deadline); nothing was sent.
    #[error(
        "the upstream rate budget has no slot within the time this call may wait; retry in {}s",
        whole_seconds_up(*retry_after)
    )]
    Throttled {
        /// Until a slot would come.
        retry_after: Duration,
    },
}

/// A wait in whole seconds, rounded up, at least 1: what `retryAfter` says.
pub fn whole_seconds_up(wait: Duration) -> u64 {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    seconds.max(1)
}

impl Error {
    /// Whether the same request may succeed later: rate limits, gateway trouble, no
    /// connection, no answer in time. Never 400/401/403/404, never an unusable body.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Status { status, .. } => matches!(status, 429 | 502 | 503 | 504),
            Self::Unreachable(_) | Self::Timeout => true,
            Self::InvalidResponse(_)
            | Self::TooLarge { .. }
            | Self::ImageTooLarge { .. }
            | Self::TooManyCalls { .. }
            // Another attempt would wait for the same budget.
            | Self::Throttled { .. } => false,
        }
    }

    /// Whether ComplyCube said the resource does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::Status { status: 404, .. })
    }

    /// How long upstream asked us to wait, if it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Status { retry_after, .. } => *retry_after,
            Self::Throttled { retry_after } => Some(*retry_after),
            _ => None,
        }
    }

    /// The same error with every occurrence of the key replaced: an upstream that echoes
    /// the `Authorization` header (or a body quoting it) must not carry it to a caller.
    pub(super) fn redact(self, key: &ApiKey) -> Self {
        let scrub = |text: String| key.scrub(&text);
        match self {
            Self::Status {
                status,
                body,
                retry_after,
            } => Self::Status {
                status,
                body: ErrorBody {
                    kind: scrub(body.kind),
                    message: scrub(body.message),
                    param: body.param.map(scrub),
                },
                retry_after,
            },
            Self::Unreachable(m) => Self::Unreachable(scrub(m)),
            Self::InvalidResponse(m) => Self::InvalidResponse(scrub(m)),
            other @ (Self::Timeout
            | Self::TooLarge { .. }
            | Self::ImageTooLarge { .. }
            | Self::TooManyCalls { .. }
            | Self::Throttled { .. }) => other,
        }
    }

    pub(super) fn from_reqwest(err: reqwest::Error) -> Self {
        if err.is_timeout() {
            return Self::Timeout;
        }
        // Without the URL: a base URL may carry `user:password@`.
        let err = err.without_url();
        let mut message = err.to_string();
        let mut source = std::error::Error::source(&err);
        while let Some(cause) = source {
            message.push_str(": ");
            message.push_str(&cause.to_string());
            source = cause.source();
        }
        if err.is_decode() || err.is_body() {
            Self::InvalidResponse(message)
        } else {
            Self::Unreachable(message)
        }
    }
}
