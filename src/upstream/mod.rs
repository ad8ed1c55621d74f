//! The ComplyCube REST client: its wire types, its error body, the one request path every
//! call takes, and the typed endpoints on top of it (list, photo, download, client).
//!
//! The one thing to know: there is exactly one way to reach ComplyCube,
//! `Upstream::call` (in `request.rs`). It spends the request's call budget, takes a slot
//! of the key's rate budget ([`budget`]) for every attempt, waits for a concurrency permit,
//! keeps to the request's deadline, retries what may succeed later
//! (honouring `Retry-After`), caps the body, and scrubs the key out of every error. The
//! typed endpoints (`endpoints.rs`) only build an [`Endpoint`] and check what comes back:
//! a page longer than asked for, shorter than its own `totalItems` says, or a body that
//! does not parse is an [`Error::InvalidResponse`]; the rest of the crate trusts what
//! comes out.

pub mod budget;
mod endpoints;
mod error;
mod filter;
mod instant;
mod request;
mod session;
mod wire;

use std::{fmt, sync::Arc, time::Duration};

use reqwest::header::HeaderValue;
use tokio::sync::Semaphore;

pub use budget::{BudgetMode, RateBudget, RateBudgetSettings};

pub use crate::secrets::{redacted_url, ApiKey, KeyId, RedisUrl};
use crate::{
    cache::{self, Cache, CacheSettings, SealKey},
    redis::Redis,
};

pub use endpoints::Endpoint;
pub use error::{whole_seconds_up, Error};
pub use filter::LivePhotoFilter;
pub use instant::{format_instant, format_millis, parse_instant, Millis};
pub use session::Session;
pub use wire::{
    millis_rfc3339, ClientDetails, CompanyDetails, ErrorBody, LivePhoto, LivePhotoDownload,
    LivePhotoPage, PersonDetails,
};

/// ComplyCube ids are 24 hex digits; this leaves room without inviting abuse.
pub const MAX_ID_LEN: usize = 128;

/// Checks an id as the caller gave it: non-empty, at most [`MAX_ID_LEN`] characters, no
/// control characters, not `.` or `..`. Anything else is refused before it costs an upstream call.
fn check_id(what: &str, id: &str) -> Result<Arc<str>, String> {
    if id.is_empty() {
        return Err(format!("{what} id must not be empty"));
    }
    if id.chars().count() > MAX_ID_LEN {
        return Err(format!("{what} id is longer than {MAX_ID_LEN} characters"));
    }
    if id.chars().any(char::is_control) {
        return Err(format!("{what} id must not contain control characters"));
    }
    // URL path segments that mean "here" and "up": never an id, and a URL builder drops them.
    if id == "." || id == ".." {
        return Err(format!("{what} id must not be `{id}`"));
    }
    Ok(id.into())
}

/// A ComplyCube client id, checked as every id is (see [`MAX_ID_LEN`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientId(Arc<str>);

impl ClientId {
    pub const MAX_LEN: usize = MAX_ID_LEN;

    pub fn parse(id: &str) -> Result<Self, String> {
        check_id("client", id).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A ComplyCube live photo id, checked as every id is (see [`MAX_ID_LEN`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PhotoId(Arc<str>);

impl PhotoId {
    pub fn parse(id: &str) -> Result<Self, String> {
        check_id("live photo", id).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PhotoId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How upstream failures are retried. Only answers that may change on their own are
/// retried (429, 502, 503, 504, no connection, no answer in time), never 400/401/403/404.
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: usize,
    /// The first backoff; each next one doubles, with up to as much again of jitter.
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// The longest `Retry-After` honoured; longer ones end the retries at once.
    pub retry_after_cap: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 3,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(2),
            retry_after_cap: Duration::from_secs(5),
        }
    }
}

/// The largest image `download` returns by default: ComplyCube's own upload maximum.
pub const DEFAULT_MAX_DOWNLOAD_BYTES: usize = 4 * 1024 * 1024;

/// Settings of the upstream client.
#[derive(Clone, Debug)]
pub struct UpstreamSettings {
    /// Base URL up to and including `/v1`.
    pub base_url: String,
    pub api_key: Option<ApiKey>,
    /// Upper bound on upstream requests in flight, shared by all GraphQL requests.
    pub max_concurrency: usize,
    pub connect_timeout: Duration,
    /// One upstream request, from sending it to the last byte of its body.
    pub request_timeout: Duration,
    /// Responses larger than this are refused: a page of 1000 photos is about 300 KB.
    /// Downloads have their own ceiling, [`Self::max_download_bytes`].
    pub max_body_bytes: usize,
    /// The largest image (decoded) a download may return; larger is an error, never a
    /// truncated image.
    pub max_download_bytes: usize,
    pub retry: RetryPolicy,
    /// Reuse of answers (off unless a TTL is set), in process and in Redis.
    pub cache: CacheSettings,
    /// Requests per second per upstream key, spent deliberately (off by default).
    pub rate_budget: RateBudgetSettings,
    /// Redis, shared by every replica: the rate budget and the cache live there when set.
    pub redis_url: Option<RedisUrl>,
    /// The longest any one Redis call may take before the budget and the cache fall back.
    pub redis_timeout: Duration,
    /// What seals cache entries in Redis where there is no server key (`CACHE_SEAL_SECRET`);
    /// with a key, it is derived from the key unless this is set.
    pub cache_seal_secret: Option<crate::secrets::Secret>,
}

/// Upstream requests in flight at once, by default: enough for the different clients of
/// a batch to load side by side, few enough that one busy facade stays a polite caller of
/// an API whose rate limits apply per key.
pub const DEFAULT_MAX_CONCURRENCY: usize = 16;

/// Time to connect to ComplyCube, by default: a healthy connection takes milliseconds, so
/// after 2 s a retry on a fresh connection is the better bet.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// Time for one upstream request, to the last byte of its body, by default: a page of 1000
/// photos comes in well under a second; 10 s lets a slow answer finish inside the 15 s a
/// whole GraphQL request gets by default.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Largest upstream body accepted, by default: a page of 1000 photos (the most one request
/// can ask for) is about 300 KB; 4 MiB leaves ten times that for wordier answers and still
/// bounds what a misbehaving upstream can make us buffer.
pub const DEFAULT_MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

impl UpstreamSettings {
    pub fn new(base_url: impl Into<String>, api_key: Option<ApiKey>) -> Self {
        Self {
            base_url: base_url.into(),
            api_key,
            max_concurrency: DEFAULT_MAX_CONCURRENCY,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_download_bytes: DEFAULT_MAX_DOWNLOAD_BYTES,
            retry: RetryPolicy::default(),
            cache: CacheSettings {
                max_bytes: cache::DEFAULT_MAX_BYTES,
                ..CacheSettings::default()
            },
            rate_budget: RateBudgetSettings::default(),
            redis_url: None,
            redis_timeout: crate::redis::DEFAULT_REDIS_TIMEOUT,
            cache_seal_secret: None,
        }
    }
}

/// The ComplyCube client. Cheap to clone: one connection pool and one concurrency bound
/// serve the whole process.
#[derive(Clone)]
pub struct Upstream {
    http: reqwest::Client,
    /// The base URL (`.../v1`), parsed once; endpoints append their path segments.
    base: reqwest::Url,
    /// `{base}/livePhotos`, parsed once: the list is the hot path.
    list_url: reqwest::Url,
    auth: Option<HeaderValue>,
    /// Kept only to scrub it from anything upstream echoes back (see [`Error::redact`]).
    key: Option<ApiKey>,
    /// The server key's stand-in, for budgets and caches.
    key_id: KeyId,
    /// What seals the server key's cache entries in Redis.
    seal: SealKey,
    cache: Option<Cache>,
    permits: Arc<Semaphore>,
    max_body_bytes: usize,
    max_download_bytes: usize,
    retry: RetryPolicy,
    /// Slots per upstream key, taken by every attempt; `None` when no rate is set.
    budget: Option<Arc<RateBudget>>,
    /// Each caller's share of it (`--caller-rate`), when there is one.
    caller_budget: Option<Arc<RateBudget>>,
}

impl fmt::Debug for Upstream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Upstream")
            .field("base", &redacted_url(self.base.as_str()))
            .field("auth", &self.auth.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl Upstream {
    pub fn new(settings: &UpstreamSettings) -> Result<Self, String> {
        let auth = match &settings.api_key {
            Some(key) => Some(
                key.header_value()
                    .ok_or("the API key contains characters not allowed in an HTTP header")?,
            ),
            None => None,
        };
        let http = reqwest::Client::builder()
            // Neither ComplyCube nor a JWKS document has a reason to redirect; following one
            // would trust another host with the key or the keys (and leak the request's
            // query in a `Referer`).
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.request_timeout)
            .user_agent(concat!("complycube-graphql/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        let base = settings.base_url.trim_end_matches('/');
        let not_a_url = |e: &dyn fmt::Display| {
            format!(
                "the upstream URL `{}` is not a URL: {e}",
                redacted_url(base)
            )
        };
        let url = reqwest::Url::parse(base).map_err(|e| not_a_url(&e))?;
        if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() {
            return Err(format!(
                "the upstream URL `{}` is not http or https",
                redacted_url(base)
            ));
        }
        let list_url =
            reqwest::Url::parse(&format!("{base}/livePhotos")).map_err(|e| not_a_url(&e))?;
        // One Redis for the budget and the cache, made only when one of them is on.
        let wants_redis = settings.rate_budget.rate.is_some() || settings.cache.is_on();
        let redis = match &settings.redis_url {
            Some(url) if wants_redis => Some(Redis::new(url, settings.redis_timeout)?),
            _ => None,
        };
        Ok(Self {
            http,
            base: url,
            list_url,
            auth,
            key: settings.api_key.clone(),
            key_id: KeyId::of(settings.api_key.as_ref()),
            seal: match (&settings.cache_seal_secret, &settings.api_key) {
                (Some(secret), _) => SealKey::from_secret(secret),
                (None, Some(key)) => SealKey::derive(key),
                // Only ever used in process: `Service::new` refuses Redis without a key.
                (None, None) => SealKey::ephemeral(),
            },
            cache: Cache::new(&settings.cache, redis.as_ref())?,
            permits: Arc::new(Semaphore::new(settings.max_concurrency.max(1))),
            max_body_bytes: settings.max_body_bytes,
            max_download_bytes: settings.max_download_bytes,
            retry: settings.retry.clone(),
            budget: RateBudget::new(&settings.rate_budget, redis.as_ref())?.map(Arc::new),
            caller_budget: settings
                .rate_budget
                .per_caller()
                .map(|share| RateBudget::new(&share, redis.as_ref()))
                .transpose()?
                .flatten()
                .map(Arc::new),
        })
    }

    /// The rate budget, when a rate is set: its mode and counters, for health and metrics.
    pub fn rate_budget(&self) -> Option<&RateBudget> {
        self.budget.as_deref()
    }

    /// The stand-in of the key a request of `session` uses: the caller's own in forwarding
    /// mode, else the server's.
    pub fn key_id(&self, session: &Session) -> KeyId {
        session.key_id().unwrap_or(self.key_id)
    }

    /// The cache of answers, when one is configured.
    pub fn cache(&self) -> Option<&Cache> {
        self.cache.as_ref()
    }

    /// What seals the cache entries of the key a request of `session` uses.
    pub fn seal_key<'a>(&'a self, session: &'a Session) -> &'a SealKey {
        session.seal_key().unwrap_or(&self.seal)
    }

    /// The process's one HTTP client (rustls, pooled), for other fetches such as JWKS.
    pub fn http_client(&self) -> reqwest::Client {
        self.http.clone()
    }

    /// The largest image a download may return.
    pub fn max_download_bytes(&self) -> usize {
        self.max_download_bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_key_never_prints() {
        let key = ApiKey::new("live_secret_123");
        let settings = UpstreamSettings::new("http://x/v1", Some(key));
        assert!(!format!("{settings:?}").contains("live_secret"));
        let upstream = Upstream::new(&settings).unwrap();
        assert!(!format!("{upstream:?}").contains("live_secret"));
    }

    #[test]
    fn bad_upstream_urls_are_refused_at_start_and_credentials_never_logged() {
        let bad = Upstream::new(&UpstreamSettings::new("not a url", None)).unwrap_err();
        assert!(bad.contains("is not a URL"), "{bad}");
        let ftp = Upstream::new(&UpstreamSettings::new("ftp://x/v1", None)).unwrap_err();
        assert!(ftp.contains("not http"), "{ftp}");
    }

    #[test]
    fn redis_urls_never_print_their_password() {
        let url = RedisUrl::new("redis://user:hunter2-secret@127.0.0.1:6379/0");
        let shown = format!("{url:?} {url}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("127.0.0.1:6379"), "{shown}");
        let settings = UpstreamSettings {
            redis_url: Some(url.clone()),
            ..UpstreamSettings::new("http://x/v1", None)
        };
        assert!(!format!("{settings:?}").contains("hunter2"));
        // The URL is not used until a rate is set; then a bad one is refused at start,
        // without the password.
        let bad = UpstreamSettings {
            redis_url: Some(RedisUrl::new("rediss-ish://user:hunter2-secret@[bad")),
            rate_budget: RateBudgetSettings {
                rate: Some(10.0),
                ..RateBudgetSettings::default()
            },
            ..settings
        };
        let error = Upstream::new(&bad).unwrap_err();
        assert!(error.contains("Redis URL"), "{error}");
        assert!(!error.contains("hunter2"), "{error}");
    }

    #[test]
    fn ids_are_checked() {
        assert!(ClientId::parse("5eb1276d96be4a0008713af5").is_ok());
        assert!(ClientId::parse("").is_err());
        assert!(ClientId::parse(&"a".repeat(129)).is_err());
        assert!(ClientId::parse("a\nb").is_err());
        assert!(PhotoId::parse("5eb1b5f231778a0008d1c3f6").is_ok());
        assert!(PhotoId::parse("..").is_err());
        assert_eq!(
            PhotoId::parse("").unwrap_err(),
            "live photo id must not be empty"
        );
    }
}
