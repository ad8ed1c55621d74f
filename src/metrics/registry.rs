//! The registry behind `/metrics`: every series, registered once at start, and the label
//! sets they take; the functions of the parent module are the only way they move.

use std::sync::{Arc, LazyLock, RwLock};

use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{exponential_buckets, Histogram},
    },
    registry::{Registry, Unit},
};

use super::{
    names::{OperationName, OperationNames},
    UpstreamStatus, AUTH_REFUSAL_REASONS,
};

pub(super) const MODES: [&str; 3] = ["local", "redis", "fallback"];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct ImageLabels {
    pub(super) status: u16,
    pub(super) width: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct Mode {
    pub(super) mode: &'static str,
}

pub(super) static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);
pub(super) static ANONYMOUS: LazyLock<Arc<str>> = LazyLock::new(|| Arc::from("(anonymous)"));
pub(super) static NONE: LazyLock<Arc<str>> = LazyLock::new(|| Arc::from("(none)"));
pub(super) static OTHER: LazyLock<Arc<str>> = LazyLock::new(|| Arc::from("(other)"));

/// The upstream endpoints ([`crate::upstream::Endpoint::name`]) and the loaders, whose
/// common series are looked up once, at start: on the hot path a request then costs an
/// atomic add and a histogram update, no hashing. Other names still count, by lookup.
pub(super) const ENDPOINTS: [&str; 4] = [
    "list_live_photos",
    "get_live_photo",
    "download_live_photo",
    "get_client",
];
pub(super) const LOADERS: [&str; 4] = ["pages", "photos", "clients", "downloads"];

/// An endpoint's series for its common case.
pub(super) struct EndpointSeries {
    /// `upstream_requests_total{endpoint, status="200"}`.
    pub(super) ok: Counter,
    /// `upstream_request_duration_seconds{endpoint}`.
    pub(super) duration: Histogram,
}

pub(super) struct Metrics {
    pub(super) registry: Registry,
    pub(super) budget_refusals: Counter,
    pub(super) budget_fallbacks: Counter,
    pub(super) budget_mode: Family<Mode, Gauge>,
    pub(super) redis_up: Gauge,
    pub(super) redis_outages: Counter,
    pub(super) image_requests: Family<ImageLabels, Counter>,
    pub(super) trusted_refusals: Family<Mode, Counter>,
    pub(super) graphql_requests: Family<GraphqlLabels, Counter>,
    pub(super) graphql_duration: Histogram,
    pub(super) in_flight: Gauge,
    pub(super) upstream_requests: Family<UpstreamLabels, Counter>,
    pub(super) upstream_retries: Family<Endpoint, Counter>,
    pub(super) upstream_duration: Family<Endpoint, Histogram, fn() -> Histogram>,
    pub(super) loader_batch_size: Family<Loader, Histogram, fn() -> Histogram>,
    pub(super) auth_refusals: Family<Reason, Counter>,
    pub(super) operations: OperationNames,
    /// `graphql_requests_total{operation="(anonymous)", outcome="ok"}`.
    pub(super) anonymous_ok: Counter,
    pub(super) endpoints: [EndpointSeries; 4],
    /// `loader_batch_size{loader}` of [`LOADERS`].
    pub(super) loaders: [Histogram; 4],
}

/// Latency buckets, in seconds: 1 ms to the default request deadline.
pub(super) const LATENCY_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0,
];

pub(super) fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

/// 1, 2, 4, ... 1024: a loader batches at most 1024 keys.
pub(super) fn batch_histogram() -> Histogram {
    Histogram::new(exponential_buckets(1.0, 2.0, 11))
}

impl Metrics {
    pub(super) fn new() -> Self {
        let mut registry = Registry::with_prefix("complycube_graphql");
        let graphql_requests = Family::<GraphqlLabels, Counter>::default();
        registry.register(
            "graphql_requests",
            "GraphQL operations by operation name and outcome",
            graphql_requests.clone(),
        );
        let graphql_duration = latency_histogram();
        registry.register_with_unit(
            "graphql_request_duration",
            "Time to answer one HTTP request to /graphql",
            Unit::Seconds,
            graphql_duration.clone(),
        );
        let in_flight = Gauge::default();
        registry.register(
            "graphql_requests_in_flight",
            "HTTP requests to /graphql being answered",
            in_flight.clone(),
        );
        let upstream_requests = Family::<UpstreamLabels, Counter>::default();
        registry.register(
            "upstream_requests",
            "Requests to ComplyCube by endpoint and status (retries included)",
            upstream_requests.clone(),
        );
        let upstream_retries = Family::<Endpoint, Counter>::default();
        registry.register(
            "upstream_retries",
            "Retries of requests to ComplyCube",
            upstream_retries.clone(),
        );
        let upstream_duration: Family<Endpoint, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(latency_histogram);
        registry.register_with_unit(
            "upstream_request_duration",
            "Time of one request to ComplyCube, to the last byte of its body",
            Unit::Seconds,
            upstream_duration.clone(),
        );
        let loader_batch_size: Family<Loader, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(batch_histogram);
        registry.register(
            "loader_batch_size",
            "Keys a loader fetched together: windows for pages, ids for lookups",
            loader_batch_size.clone(),
        );
        let auth_refusals = Family::<Reason, Counter>::default();
        registry.register(
            "auth_refusals",
            "Requests refused by authentication, by reason",
            auth_refusals.clone(),
        );
        // Every reason shows from the start, at zero, so alerts need no `absent()`.
        for &reason in AUTH_REFUSAL_REASONS.iter().chain(&["other"]) {
            drop(auth_refusals.get_or_create(&Reason { reason }));
        }
        let ok = |operation: &Arc<str>| {
            graphql_requests
                .get_or_create(&GraphqlLabels {
                    operation: OperationName(operation.clone()),
                    outcome: "ok",
                })
                .clone()
        };
        let anonymous_ok = ok(&ANONYMOUS);
        let operations = OperationNames {
            known: RwLock::default(),
            other_ok: ok(&OTHER),
        };
        let endpoints = ENDPOINTS.map(|endpoint| EndpointSeries {
            ok: upstream_requests
                .get_or_create(&UpstreamLabels {
                    endpoint,
                    status: UpstreamStatus::Code(200),
                })
                .clone(),
            duration: upstream_duration
                .get_or_create(&Endpoint { endpoint })
                .clone(),
        });
        let loaders =
            LOADERS.map(|loader| loader_batch_size.get_or_create(&Loader { loader }).clone());
        let budget_refusals = Counter::default();
        registry.register(
            "upstream_rate_budget_refusals",
            "Upstream calls not sent because the key's rate budget had no slot in time",
            budget_refusals.clone(),
        );
        let budget_fallbacks = Counter::default();
        registry.register(
            "upstream_rate_budget_fallbacks",
            "Times Redis stopped answering and the rate budget fell back to this replica's share",
            budget_fallbacks.clone(),
        );
        let budget_mode = Family::<Mode, Gauge>::default();
        registry.register(
            "upstream_rate_budget_mode",
            "1 for where the rate budget takes slots now (local, redis or fallback)",
            budget_mode.clone(),
        );
        let image_requests = Family::<ImageLabels, Counter>::default();
        registry.register(
            "image_requests",
            "Answers of GET /images/... by status and width asked for",
            image_requests.clone(),
        );
        let trusted_refusals = Family::<Mode, Counter>::default();
        registry.register(
            "trusted_documents_unlisted",
            "Operations outside the trusted documents, by mode (enforce: refused; log: run)",
            trusted_refusals.clone(),
        );
        let redis_up = Gauge::default();
        registry.register(
            "redis_up",
            "1 while Redis answers, 0 during an outage",
            redis_up.clone(),
        );
        let redis_outages = Counter::default();
        registry.register(
            "redis_outages",
            "Times Redis stopped answering (the rate budget and the cache fell back)",
            redis_outages.clone(),
        );
        Self {
            registry,
            budget_refusals,
            budget_fallbacks,
            budget_mode,
            redis_up,
            redis_outages,
            image_requests,
            trusted_refusals,
            graphql_requests,
            graphql_duration,
            in_flight,
            upstream_requests,
            upstream_retries,
            upstream_duration,
            loader_batch_size,
            auth_refusals,
            operations,
            anonymous_ok,
            endpoints,
            loaders,
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct GraphqlLabels {
    pub(super) operation: OperationName,
    pub(super) outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct UpstreamLabels {
    pub(super) endpoint: &'static str,
    pub(super) status: UpstreamStatus,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct Endpoint {
    pub(super) endpoint: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct Loader {
    pub(super) loader: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct Reason {
    pub(super) reason: &'static str,
}
