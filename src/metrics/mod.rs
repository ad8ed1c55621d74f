//! Prometheus metrics: what `GET /metrics` shows, and the calls that move them.
//!
//! Series (every name starts with `complycube_graphql_`):
//!
//! | series | labels | what |
//! |---|---|---|
//! | `graphql_requests_total` | `operation`, `outcome` | GraphQL operations (each operation of a batch counts once), and refusals before any (`operation="(none)"`) |
//! | `graphql_request_duration_seconds` | | one HTTP request to `/graphql`, batch and upstream calls included |
//! | `graphql_requests_in_flight` | | HTTP requests to `/graphql` being answered |
//! | `upstream_requests_total` | `endpoint`, `status` | HTTP requests to ComplyCube, each retry included: `status` is the code, or `timeout`, `unreachable`, `invalid` |
//! | `upstream_retries_total` | `endpoint` | retries of those |
//! | `upstream_request_duration_seconds` | `endpoint` | one request to ComplyCube, from the connection slot to its last byte |
//! | `loader_batch_size` | `loader` | windows (`pages`) or ids (`photos`, `clients`, `downloads`) a loader fetched together |
//! | `auth_refusals_total` | `reason` | requests refused by authentication, by [`AUTH_REFUSAL_REASONS`] |
//! | `upstream_rate_budget_refusals_total` | | upstream calls not sent: the key's rate budget had no slot in time |
//! | `upstream_rate_budget_fallbacks_total` | | times Redis stopped answering and the rate budget fell back to this replica's share |
//! | `upstream_rate_budget_mode` | `mode` | 1 for where slots are taken now: `local`, `redis` or `fallback` |
//! | `image_requests_total` | `status`, `width` | answers of `GET /images/…`: HTTP status, and `original`, the thumbnail width, or `unverified` (a URL refused as altered or expired) |
//! | `trusted_documents_unlisted_total` | `mode` | operations outside `--trusted-documents`: refused (`enforce`) or run and logged (`log`) |
//! | `redis_up` | | 1 while Redis (`--redis-url`) answers, 0 during an outage |
//! | `redis_outages_total` | | times Redis stopped answering (the budget and the cache fell back) |
//!
//! The one thing to know: every label has a bounded set of values, and none ever holds a
//! key, a token or an id. Operation names are the first [`MAX_OPERATION_NAMES`] distinct
//! valid names this process saw; later ones, and any that is not a plain GraphQL name of
//! at most [`MAX_OPERATION_NAME_LENGTH`] characters, count as `(other)`.
//!
//! Why `prometheus-client` rather than the `metrics` facade with its Prometheus exporter:
//! on the hot path both come down to an atomic add behind a read-locked hash lookup of the
//! labels, but the facade adds a `dyn Recorder` call and builds a `Key` (an allocation
//! for owned label values, and a hash) on every macro call, and its exporter brings
//! `metrics-util`, `quanta` and a sketch crate into the build. Here a counter is one
//! `AtomicU64`, a family lookup hashes two short labels, and the text encoder is built in.
//! The registry is one per process (a `static`), as the facade's recorder would be, so
//! code anywhere (the upstream path, the loaders, authentication) can count without
//! plumbing.

use std::{sync::Arc, time::Duration};

mod names;
mod registry;

use crate::code::Code;

pub use names::is_plain_name;
use names::OperationName;
use registry::*;

use prometheus_client::encoding::{text::encode, EncodeLabelValue, LabelValueEncoder};

/// Most distinct operation names given their own label value.
pub const MAX_OPERATION_NAMES: usize = 100;
/// Longest operation name given its own label value.
pub const MAX_OPERATION_NAME_LENGTH: usize = 64;

/// The `reason` label values of `auth_refusals_total`; any other reason counts as `other`.
pub const AUTH_REFUSAL_REASONS: &[&str] = &[
    // No credentials where some are required.
    "missing",
    // An `Authorization` header that is not `Bearer <token>` (or not a usable key).
    "malformed",
    // A token that is not a valid static token or JWT (signature, algorithm, issuer,
    // audience, unknown key).
    "invalid",
    // A JWT past its `exp` (or before its `nbf`).
    "expired",
    // A valid token asking for a client it does not list (FORBIDDEN at that field).
    "client_out_of_scope",
    // Open mode: a `Host` the service is not known by (ALLOWED_HOSTS).
    "host_not_allowed",
];

/// The content type of [`render`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Counts a request refused by authentication. `reason` is one of
/// [`AUTH_REFUSAL_REASONS`]; anything else counts as `other`.
pub fn auth_refused(reason: &'static str) {
    let reason = if AUTH_REFUSAL_REASONS.contains(&reason) {
        reason
    } else {
        "other"
    };
    METRICS
        .auth_refusals
        .get_or_create(&Reason { reason })
        .inc();
}

/// Counts one GraphQL operation. `name` is the operation's name as the document or the
/// request gives it (`None`: anonymous); `outcome` is `ok` or the label of its first error's
/// [`Code`].
pub fn graphql_operation(name: Option<&str>, outcome: &'static str) {
    let metrics = &*METRICS;
    let failed = |operation: &Arc<str>| {
        metrics
            .graphql_requests
            .get_or_create(&GraphqlLabels {
                operation: OperationName(operation.clone()),
                outcome,
            })
            .inc();
    };
    match name {
        None if outcome == "ok" => {
            metrics.anonymous_ok.inc();
        }
        None => failed(&ANONYMOUS),
        Some(name) => metrics
            .operations
            .with(name, &metrics.graphql_requests, |label, ok| {
                if outcome == "ok" {
                    ok.inc();
                } else {
                    failed(label);
                }
            }),
    }
}

/// Counts a request to `/graphql` refused before any operation ran, by its code.
pub fn graphql_refused(code: Code) {
    METRICS
        .graphql_requests
        .get_or_create(&GraphqlLabels {
            operation: OperationName(NONE.clone()),
            outcome: code.metric_label(),
        })
        .inc();
}

/// Counts an HTTP request to `/graphql` as in flight until dropped, then records how long
/// it took.
pub fn graphql_request_started() -> InFlight {
    METRICS.in_flight.inc();
    InFlight {
        started: tokio::time::Instant::now(),
    }
}

/// See [`graphql_request_started`].
pub struct InFlight {
    started: tokio::time::Instant,
}

impl InFlight {
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        METRICS.in_flight.dec();
        METRICS
            .graphql_duration
            .observe(self.started.elapsed().as_secs_f64());
    }
}

/// What one request to ComplyCube came to, for the `status` label.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UpstreamStatus {
    /// The HTTP status it answered (a 2xx whose body was unusable is `Invalid`).
    Code(u16),
    /// No answer by the deadline or the request's timeout.
    Timeout,
    /// No connection, or it broke.
    Unreachable,
    /// An answer that could not be used: unreadable, too large, or wrong.
    Invalid,
    /// Not sent: the key's rate budget had no slot in time.
    Throttled,
}

impl std::fmt::Display for UpstreamStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Code(code) => write!(f, "{code}"),
            Self::Timeout => f.write_str("timeout"),
            Self::Unreachable => f.write_str("unreachable"),
            Self::Invalid => f.write_str("invalid"),
            Self::Throttled => f.write_str("throttled"),
        }
    }
}

impl EncodeLabelValue for UpstreamStatus {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        use std::fmt::Write;
        write!(encoder, "{self}")
    }
}

/// Counts one request to ComplyCube (each retry is one), and how long it took when it was
/// sent at all.
pub fn upstream_request(endpoint: &'static str, status: UpstreamStatus, took: Option<Duration>) {
    let metrics = &*METRICS;
    let known = ENDPOINTS.iter().position(|e| *e == endpoint);
    match known {
        Some(i) if status == UpstreamStatus::Code(200) => {
            metrics.endpoints[i].ok.inc();
        }
        _ => {
            metrics
                .upstream_requests
                .get_or_create(&UpstreamLabels { endpoint, status })
                .inc();
        }
    }
    let Some(took) = took else { return };
    match known {
        Some(i) => metrics.endpoints[i].duration.observe(took.as_secs_f64()),
        None => metrics
            .upstream_duration
            .get_or_create(&Endpoint { endpoint })
            .observe(took.as_secs_f64()),
    }
}

/// Counts a retry of a request to ComplyCube.
pub fn upstream_retry(endpoint: &'static str) {
    METRICS
        .upstream_retries
        .get_or_create(&Endpoint { endpoint })
        .inc();
}

/// Records how many keys a loader's batch held (`loader`: `pages`, `photos`, `clients`,
/// `downloads`).
pub fn loader_batch(loader: &'static str, keys: usize) {
    let metrics = &*METRICS;
    match LOADERS.iter().position(|l| *l == loader) {
        Some(i) => metrics.loaders[i].observe(keys as f64),
        None => metrics
            .loader_batch_size
            .get_or_create(&Loader { loader })
            .observe(keys as f64),
    }
}

/// An upstream call the rate budget refused (nothing was sent).
pub fn rate_budget_refused() {
    METRICS.budget_refusals.inc();
}

/// Redis stopped answering the rate budget, which fell back to this replica's share.
pub fn rate_budget_fell_back() {
    METRICS.budget_fallbacks.inc();
}

/// Where the rate budget takes slots now: `local`, `redis` or `fallback`.
pub fn rate_budget_mode(mode: &'static str) {
    for known in MODES {
        METRICS
            .budget_mode
            .get_or_create(&Mode { mode: known })
            .set(i64::from(known == mode));
    }
}

/// Counts one answer of `GET /images/…`: its status, and the width asked for (`None`:
/// the URL was refused before anything in it could be trusted, width `unverified`).
pub fn image_request(status: u16, width: Option<Option<u32>>) {
    let width = match width.map(|w| w.map_or(0, |w| w)) {
        None => "unverified",
        Some(0) => "original",
        Some(64) => "64",
        Some(128) => "128",
        Some(256) => "256",
        Some(512) => "512",
        Some(1024) => "1024",
        Some(_) => "other",
    };
    METRICS
        .image_requests
        .get_or_create(&ImageLabels { status, width })
        .inc();
}

/// An operation outside the trusted documents: refused (`enforced`), or run in log mode.
pub fn trusted_document_refused(enforced: bool) {
    METRICS
        .trusted_refusals
        .get_or_create(&Mode {
            mode: if enforced { "enforce" } else { "log" },
        })
        .inc();
}

/// Redis answers again (`true`), or an outage began (`false`, counted).
pub fn redis_up(up: bool) {
    METRICS.redis_up.set(i64::from(up));
    if !up {
        METRICS.redis_outages.inc();
    }
}

/// The metrics in the OpenMetrics text format, which Prometheus scrapes.
pub fn render() -> String {
    let mut text = String::with_capacity(8 * 1024);
    if let Err(e) = encode(&mut text, &METRICS.registry) {
        tracing::error!(error = %e, "the metrics did not encode");
    }
    text
}

#[cfg(test)]
mod tests;
