//! The command line: subcommands, and every setting as a flag with an environment variable
//! behind it.
//!
//! The one thing to know: with neither an API key nor an upstream URL, `serve` runs on the
//! embedded simulator (demo mode); that decision is [`ServeArgs::upstream`].

use std::{net::SocketAddr, time::Duration};

use clap::{Args, Parser, Subcommand};
use humantime::Duration as HumanDuration;

mod reference;
mod simulate;
mod values;

pub use reference::settings_markdown;
pub use simulate::SimulateArgs;
use values::{at_least, longer_than_zero, parse_fallback_share};

use crate::{
    auth::{AuthArgs, Serving},
    http::{self, ExposureArgs, ServiceConfig},
    images::{self, ImageSettings, ImageUrlSettings},
    pagination::Limits,
    schema::QueryLimits,
    secrets::Secret,
    telemetry::LogFormat,
    upstream::{
        self,
        budget::{RateChoice, DEFAULT_FALLBACK_SHARE},
        ApiKey, RateBudgetSettings, RedisUrl, RetryPolicy, UpstreamSettings,
        DEFAULT_MAX_DOWNLOAD_BYTES,
    },
};

/// ComplyCube's production API.
pub const COMPLYCUBE_BASE_URL: &str = "https://api.complycube.com/v1";

/// A GraphQL (Relay) facade over ComplyCube's live-photos API.
#[derive(Debug, Parser)]
#[command(
    name = "complycube-graphql",
    version,
    about,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Log lines as `text` (for people) or `json` (one object per line, for collectors).
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
    /// Settings of `serve`, also accepted without the subcommand.
    #[command(flatten)]
    pub serve: ServeArgs,
}

// Made once at start-up: its size does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve GraphQL (the default).
    Serve(ServeArgs),
    /// Serve the embedded ComplyCube simulator alone (REST, under /v1).
    Simulate(SimulateArgs),
    /// Print the GraphQL schema (SDL), or compare two (`schema diff`).
    Schema(SchemaArgs),
}

#[derive(Debug, Args)]
pub struct SchemaArgs {
    #[command(subcommand)]
    pub action: Option<SchemaAction>,
}

#[derive(Debug, Subcommand)]
pub enum SchemaAction {
    /// Print every change from OLD to NEW, each classed breaking, dangerous or safe; exit
    /// with 1 when one is breaking.
    Diff {
        /// The schema clients were built against (e.g. a released SDL file).
        old: std::path::PathBuf,
        /// The schema to check; this binary's own schema when left out.
        new: Option<std::path::PathBuf>,
    },
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to serve GraphQL on.
    #[arg(long = "listen", env = "LISTEN_ADDR", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// ComplyCube API base URL, up to and including `/v1`. Default: the embedded simulator
    /// when no API key is set either (demo mode), else ComplyCube's production API.
    #[arg(long = "upstream-url", env = "COMPLYCUBE_BASE_URL")]
    pub upstream_url: Option<String>,

    /// ComplyCube API key (`live` or `test`), sent as `Authorization`. Never logged.
    #[arg(long = "api-key", env = "COMPLYCUBE_API_KEY", hide_env_values = true)]
    pub api_key: Option<ApiKey>,

    /// Largest `first` or `last` a query may ask for (at most 1000).
    #[arg(long, env = "MAX_PAGE_SIZE", default_value_t = Limits::DEFAULT.max_page_size,
          value_parser = clap::value_parser!(u32).range(1..=i64::from(Limits::CEILING)))]
    pub max_page_size: u32,

    /// Most upstream requests in flight at once, across all GraphQL requests.
    #[arg(long, env = "UPSTREAM_CONCURRENCY", default_value_t = upstream::DEFAULT_MAX_CONCURRENCY as u32,
          value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub upstream_concurrency: u32,

    /// Most operations in one JSON-array batch request.
    #[arg(long, env = "MAX_BATCH_SIZE", default_value_t = http::DEFAULT_MAX_BATCH_SIZE as u32,
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub max_batch_size: u32,

    /// Largest request body, in bytes.
    #[arg(long, env = "MAX_BODY_BYTES", default_value_t = http::DEFAULT_MAX_BODY_BYTES,
          value_parser = at_least::<1024>)]
    pub max_body_bytes: usize,

    /// Largest answer to one HTTP request (a batch's together), in bytes: estimated before
    /// anything runs and counted as it is built; past it, RESPONSE_TOO_LARGE.
    #[arg(long, env = "MAX_RESPONSE_BYTES", default_value_t = http::DEFAULT_MAX_RESPONSE_BYTES as u64,
          value_parser = clap::value_parser!(u64).range(1024..=(1 << 30)))]
    pub max_response_bytes: u64,

    /// Deepest selection nesting a query may have (GraphiQL's introspection query fits).
    #[arg(long, env = "MAX_QUERY_DEPTH", default_value_t = QueryLimits::default().max_depth,
          value_parser = at_least::<1>)]
    pub max_query_depth: usize,

    /// Largest query complexity: one per field, `livePhotos` children times `first`/`last`.
    #[arg(long, env = "MAX_QUERY_COMPLEXITY", default_value_t = QueryLimits::default().max_complexity,
          value_parser = at_least::<1>)]
    pub max_query_complexity: usize,

    /// Most aliased fields in one query.
    #[arg(long, env = "MAX_ALIASES", default_value_t = QueryLimits::default().max_aliases)]
    pub max_aliases: usize,

    /// Deadline for one HTTP request to /graphql, upstream retries included (e.g. `15s`).
    #[arg(long, env = "REQUEST_TIMEOUT", default_value_t = http::DEFAULT_REQUEST_TIMEOUT.into(),
          value_parser = longer_than_zero)]
    pub request_timeout: HumanDuration,

    /// Time allowed to connect to ComplyCube.
    #[arg(long, env = "UPSTREAM_CONNECT_TIMEOUT", default_value_t = upstream::DEFAULT_CONNECT_TIMEOUT.into(),
          value_parser = longer_than_zero)]
    pub upstream_connect_timeout: HumanDuration,

    /// Time allowed for one upstream request, to the last byte of its body.
    #[arg(long, env = "UPSTREAM_TIMEOUT", default_value_t = upstream::DEFAULT_REQUEST_TIMEOUT.into(),
          value_parser = longer_than_zero)]
    pub upstream_timeout: HumanDuration,

    /// Retries of an upstream request after 429, 502, 503, 504, no connection or no answer.
    #[arg(long, env = "UPSTREAM_RETRIES", default_value_t = RetryPolicy::default().max_retries)]
    pub upstream_retries: usize,

    /// First retry backoff; doubles each time, plus jitter.
    #[arg(long, env = "UPSTREAM_RETRY_BASE_DELAY", default_value_t = RetryPolicy::default().base_delay.into())]
    pub upstream_retry_base_delay: HumanDuration,

    /// Longest retry backoff.
    #[arg(long, env = "UPSTREAM_RETRY_MAX_DELAY", default_value_t = RetryPolicy::default().max_delay.into())]
    pub upstream_retry_max_delay: HumanDuration,

    /// Longest `Retry-After` honoured; a longer one ends the retries at once.
    #[arg(long, env = "UPSTREAM_RETRY_AFTER_CAP", default_value_t = RetryPolicy::default().retry_after_cap.into())]
    pub upstream_retry_after_cap: HumanDuration,

    /// Most upstream calls one HTTP request may cause (retries not counted).
    #[arg(long, env = "MAX_UPSTREAM_CALLS", default_value_t = http::DEFAULT_MAX_UPSTREAM_CALLS,
          value_parser = at_least::<1>)]
    pub max_upstream_calls: usize,

    /// Largest image, in bytes, that `download` fetches (larger: UPSTREAM_ERROR), and the most
    /// image bytes one answer holds as text, each `base64Data` and `dataUrl` counted (past
    /// it: RESPONSE_TOO_LARGE); never a truncated image. The default is ComplyCube's own
    /// upload maximum.
    #[arg(long, env = "MAX_DOWNLOAD_BYTES", default_value_t = DEFAULT_MAX_DOWNLOAD_BYTES)]
    pub max_download_bytes: usize,

    /// Reuse ComplyCube's answers (lists, photos, clients, downloads) for this long (e.g.
    /// `30s`); off unless set, so every read is fresh by default.
    #[arg(long, env = "CACHE_TTL", value_parser = humantime::parse_duration)]
    pub cache_ttl: Option<Duration>,

    /// Ceiling of the in-process cache, in bytes.
    #[arg(long, env = "CACHE_MAX_BYTES", default_value_t = crate::cache::DEFAULT_MAX_BYTES)]
    pub cache_max_bytes: u64,

    /// Largest upstream response body accepted, in bytes.
    #[arg(long, env = "UPSTREAM_MAX_BODY_BYTES", default_value_t = upstream::DEFAULT_MAX_BODY_BYTES,
          value_parser = at_least::<1024>)]
    pub upstream_max_body_bytes: usize,

    /// How callers authenticate (see [`crate::auth`]).
    #[command(flatten)]
    pub auth: AuthArgs,

    /// From which origins, and what is exposed (see [`crate::http::exposure`]).
    #[command(flatten)]
    pub exposure: ExposureArgs,

    /// Requests per second each upstream key may make, across every replica sharing
    /// `--redis-url`, or `off`. Default: what ComplyCube documents for the key, 10 for a
    /// `live_` key and 5 for a `test_` key; off for other keys and in forwarding mode.
    #[arg(long, env = "UPSTREAM_RATE")]
    pub upstream_rate: Option<RateChoice>,

    /// Requests per second one caller (a static token, a JWT subject) may take of the
    /// key's rate, or `off`. Default: half of `--upstream-rate`.
    #[arg(long, env = "CALLER_RATE")]
    pub caller_rate: Option<RateChoice>,

    /// Requests a key may make at once after a quiet spell. Default: one second's worth of
    /// `--upstream-rate`.
    #[arg(long, env = "UPSTREAM_BURST", value_parser = clap::value_parser!(u32).range(1..))]
    pub upstream_burst: Option<u32>,

    /// Longest an upstream call waits for a slot of the rate budget; past it (or past the
    /// request's deadline) the call fails at once with RATE_LIMITED and `retryAfter`.
    #[arg(long, env = "UPSTREAM_QUEUE_TIMEOUT", default_value_t = upstream::budget::DEFAULT_QUEUE_TIMEOUT.into())]
    pub upstream_queue_timeout: HumanDuration,

    /// Share (above 0, at most 1) of `--upstream-rate` that one replica spends alone while
    /// Redis is unreachable.
    #[arg(long, env = "UPSTREAM_RATE_FALLBACK_SHARE", default_value_t = DEFAULT_FALLBACK_SHARE,
          value_parser = parse_fallback_share)]
    pub upstream_rate_fallback_share: f64,

    /// Redis (`redis://[user:password@]host:port[/db]`) holding the rate budget and the
    /// cache, shared by every replica; the password is never logged.
    #[arg(long, env = "REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<RedisUrl>,

    /// Seals cache entries in Redis where there is no API key (at least 32 bytes, the same
    /// on every replica); with a key, they are sealed with a key derived from it.
    #[arg(long, env = "CACHE_SEAL_SECRET", hide_env_values = true)]
    pub cache_seal_secret: Option<Secret>,

    /// Longest any one Redis call may take before the fallback takes over.
    #[arg(long, env = "REDIS_TIMEOUT", default_value_t = crate::redis::DEFAULT_REDIS_TIMEOUT.into(), hide = true,
          value_parser = longer_than_zero)]
    pub redis_timeout: HumanDuration,

    /// How long a client may take to send a request's headers; also how long an idle
    /// keep-alive connection stays open.
    #[arg(long, env = "HTTP_HEADER_TIMEOUT", default_value_t = http::serve::DEFAULT_HEADER_TIMEOUT.into(),
          value_parser = longer_than_zero)]
    pub http_header_timeout: HumanDuration,

    /// How long a client may take to send a request's body (408 past it).
    #[arg(long, env = "HTTP_BODY_TIMEOUT", default_value_t = http::serve::DEFAULT_BODY_TIMEOUT.into(),
          value_parser = longer_than_zero)]
    pub http_body_timeout: HumanDuration,

    /// How long an `imageUrl` holds (e.g. `5m`).
    #[arg(long, env = "IMAGE_URL_TTL", default_value_t = images::DEFAULT_IMAGE_URL_TTL.into(),
          value_parser = longer_than_zero)]
    pub image_url_ttl: HumanDuration,

    /// The secret that signs image URLs (at least 32 bytes, the same on every replica; a
    /// second, comma-separated, still verifies, for rotation). Default: derived from the API
    /// key; required in forwarding mode.
    #[arg(
        long,
        env = "IMAGE_URL_SECRET",
        value_delimiter = ',',
        hide_env_values = true
    )]
    pub image_url_secret: Vec<Secret>,

    /// The origin image URLs are built on (e.g. `https://kyc-graphql.example.com`);
    /// root-relative (`/images/...`) when unset. Never taken from a request's `Host`.
    #[arg(long, env = "PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Images held at once by `/images/...` (upstream fetch to last byte sent); more wait.
    #[arg(long, env = "IMAGE_CONCURRENCY", default_value_t = images::DEFAULT_CONCURRENCY as u32,
          value_parser = clap::value_parser!(u32).range(1..=256))]
    pub image_concurrency: u32,

    /// After the shutdown signal, how long to keep serving with /readyz at 503 before
    /// draining, so load balancers stop sending first (e.g. `5s` behind Kubernetes).
    #[arg(long, env = "SHUTDOWN_DELAY", default_value_t = http::DEFAULT_SHUTDOWN_DELAY.into())]
    pub shutdown_delay: HumanDuration,
}

/// Where `serve` gets its data.
#[derive(Debug, Clone, PartialEq)]
pub enum UpstreamChoice {
    /// No key and no URL: an embedded simulator, started in-process.
    Demo,
    /// A real (or standalone simulated) ComplyCube.
    Remote {
        base_url: String,
        api_key: Option<ApiKey>,
    },
}

impl UpstreamChoice {
    /// What is served, as the gate's care depends on it.
    pub fn serving(&self) -> Serving {
        match self {
            Self::Demo => Serving::Demo,
            Self::Remote { api_key, .. } => Serving::Remote {
                server_key: api_key.is_some(),
            },
        }
    }
}

impl ServeArgs {
    /// Empty values count as unset, as `docker compose`'s `${KEY:-}` leaves them.
    /// Forwarding with no URL is ComplyCube's production API.
    pub fn upstream(&self) -> UpstreamChoice {
        let url = self.upstream_url.clone().filter(|u| !u.trim().is_empty());
        let key = self.api_key.clone().filter(|k| !k.expose().is_empty());
        match (url, key) {
            // Forwarding callers' own keys means the real ComplyCube, not the demo.
            (None, None) if !self.auth.forward_authorization => UpstreamChoice::Demo,
            (url, api_key) => UpstreamChoice::Remote {
                base_url: url.unwrap_or_else(|| COMPLYCUBE_BASE_URL.to_owned()),
                api_key,
            },
        }
    }

    /// The service's configuration, talking to ComplyCube at `base_url` with `api_key`.
    pub fn service_config(&self, base_url: String, api_key: Option<ApiKey>) -> ServiceConfig {
        let rate_budget = RateBudgetSettings {
            burst: self.upstream_burst,
            queue_timeout: self.upstream_queue_timeout.into(),
            fallback_share: self.upstream_rate_fallback_share,
            ..RateBudgetSettings::default()
        }
        .resolve(self.upstream_rate, self.caller_rate, api_key.as_ref());
        ServiceConfig {
            upstream: UpstreamSettings {
                base_url,
                api_key,
                max_concurrency: self.upstream_concurrency as usize,
                connect_timeout: *self.upstream_connect_timeout,
                request_timeout: *self.upstream_timeout,
                max_body_bytes: self.upstream_max_body_bytes,
                max_download_bytes: self.max_download_bytes,
                cache: crate::cache::CacheSettings {
                    ttl: self.cache_ttl,
                    max_bytes: self.cache_max_bytes,
                },
                retry: RetryPolicy {
                    max_retries: self.upstream_retries,
                    base_delay: *self.upstream_retry_base_delay,
                    max_delay: *self.upstream_retry_max_delay,
                    retry_after_cap: *self.upstream_retry_after_cap,
                },
                rate_budget,
                // Empty counts as unset, as `docker compose`'s `${REDIS_URL:-}` leaves it.
                redis_url: self
                    .redis_url
                    .clone()
                    .filter(|url| !url.expose().trim().is_empty()),
                redis_timeout: self.redis_timeout.into(),
                cache_seal_secret: self
                    .cache_seal_secret
                    .clone()
                    .filter(|s| !s.expose().is_empty()),
            },
            limits: Limits {
                max_page_size: self.max_page_size,
                ..Limits::DEFAULT
            },
            query_limits: QueryLimits {
                max_depth: self.max_query_depth,
                max_complexity: self.max_query_complexity,
                max_aliases: self.max_aliases,
            },
            max_batch_size: self.max_batch_size as usize,
            max_body_bytes: self.max_body_bytes,
            request_timeout: *self.request_timeout,
            max_upstream_calls: self.max_upstream_calls,
            max_response_bytes: self.max_response_bytes as usize,
            // Open until `serve` puts in what the flags' `resolve` decided.
            access: Default::default(),
            shutdown_delay: self.shutdown_delay.into(),
            timeouts: http::HttpTimeouts {
                header: *self.http_header_timeout,
                body: *self.http_body_timeout,
            },
            images: ImageSettings {
                urls: ImageUrlSettings {
                    secrets: self
                        .image_url_secret
                        .iter()
                        .filter(|s| !s.expose().trim().is_empty())
                        .cloned()
                        .collect(),
                    ttl: *self.image_url_ttl,
                    public_url: self.public_url.clone().filter(|u| !u.trim().is_empty()),
                },
                concurrency: self.image_concurrency as usize,
                ..ImageSettings::default()
            },
        }
    }
}

#[cfg(test)]
mod tests;
