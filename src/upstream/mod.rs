//! The ComplyCube REST client: its wire types, its error body, and the one call the
//! facade makes, `GET /livePhotos?clientId&page&pageSize&filters`.
//!
//! The one thing to know: every response is checked before anyone sees it. A page that is
//! longer than asked for, shorter than its own `totalItems` says it must be, or that does
//! not parse, is an [`Error::InvalidResponse`]; the rest of the crate trusts what comes out.

mod error;
mod wire;

use std::{fmt, sync::Arc, time::Duration};

use backon::{ExponentialBuilder, Retryable};
use chrono::{DateTime, SecondsFormat, Utc};
use reqwest::header::{HeaderValue, AUTHORIZATION};
use tokio::{sync::Semaphore, time::Instant};

pub use error::Error;
pub use wire::{millis_rfc3339, ErrorBody, LivePhoto, LivePhotoPage};

use crate::pagination::PageRequest;

/// The ComplyCube API key. `Debug` and `Display` never show it; the only way out is the
/// `Authorization` header built in [`Upstream::new`], which is marked sensitive.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into())
    }

    /// The key itself, for the one place that must hand it on (the simulator's check).
    pub fn expose(&self) -> &str {
        &self.0
    }

    fn header_value(&self) -> Option<HeaderValue> {
        let mut value = HeaderValue::from_str(&self.0).ok()?;
        value.set_sensitive(true);
        Some(value)
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl std::str::FromStr for ApiKey {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self::new(s))
    }
}

/// A ComplyCube client id as the caller gave it: non-empty, at most
/// [`ClientId::MAX_LEN`] characters, no control characters. Anything else is refused before
/// it costs an upstream call.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientId(Arc<str>);

impl ClientId {
    /// ComplyCube ids are 24 hex digits; this leaves room without inviting abuse.
    pub const MAX_LEN: usize = 128;

    pub fn parse(id: &str) -> Result<Self, String> {
        if id.is_empty() {
            return Err("client id must not be empty".into());
        }
        if id.chars().count() > Self::MAX_LEN {
            return Err(format!(
                "client id is longer than {} characters",
                Self::MAX_LEN
            ));
        }
        if id.chars().any(char::is_control) {
            return Err("client id must not contain control characters".into());
        }
        Ok(Self(id.into()))
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

/// An instant with ComplyCube's precision (whole milliseconds, UTC).
pub type Millis = i64;

/// An instant as ComplyCube prints dates, and as our `DateTime` scalar does:
/// `2020-01-01T14:06:44.756Z` (RFC 3339, UTC, milliseconds).
/// A page of photos prints forty of these, so years 0 to 9999 are written digit by digit
/// rather than through `chrono`'s formatter, which costs several times more.
pub fn format_instant(t: &DateTime<Utc>) -> String {
    use chrono::{Datelike, Timelike};
    // The accessors of a `DateTime` apply its offset on every call; the naive ones do not.
    let t = t.naive_utc();
    let (year, ms) = (t.year(), t.nanosecond() / 1_000_000);
    // Leap seconds show as 1000 ms and more; `chrono` prints those as second 60.
    let (Ok(year @ 0..=9999), 0..=999) = (u32::try_from(year), ms) else {
        return t.and_utc().to_rfc3339_opts(SecondsFormat::Millis, true);
    };
    let mut text = *b"0000-00-00T00:00:00.000Z";
    let mut put = |at: usize, width: usize, mut n: u32| {
        for digit in text[at..at + width].iter_mut().rev() {
            *digit = b'0' + (n % 10) as u8;
            n /= 10;
        }
    };
    put(0, 4, year);
    put(5, 2, t.month());
    put(8, 2, t.day());
    put(11, 2, t.hour());
    put(14, 2, t.minute());
    put(17, 2, t.second());
    put(20, 3, ms);
    // Digits and ASCII punctuation only, so always UTF-8.
    std::str::from_utf8(&text).unwrap_or_default().to_owned()
}

/// Milliseconds since the epoch, formatted by [`format_instant`].
pub fn format_millis(ms: Millis) -> String {
    format_instant(&DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_default())
}

/// The date filters of a list call, normalised to whole milliseconds. Bounds are strict,
/// as upstream applies them: `createdAfter` keeps items with `createdAt > created_after`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct LivePhotoFilter {
    pub created_after: Option<Millis>,
    pub created_before: Option<Millis>,
    pub updated_after: Option<Millis>,
    pub updated_before: Option<Millis>,
}

impl LivePhotoFilter {
    /// The filter as upstream query parameters, dates formatted the way upstream prints them
    /// (upstream answers a badly formatted date with an empty 200, so we never send one).
    fn query_pairs(&self) -> impl Iterator<Item = (&'static str, String)> {
        [
            ("createdAfter", self.created_after),
            ("createdBefore", self.created_before),
            ("updatedAfter", self.updated_after),
            ("updatedBefore", self.updated_before),
        ]
        .into_iter()
        .filter_map(|(name, value)| value.map(|ms| (name, format_millis(ms))))
    }

    /// Bytes that identify this filter, for binding cursors to it.
    pub fn fingerprint_bytes(&self) -> [u8; 36] {
        let mut out = [0u8; 36];
        for (i, bound) in [
            self.created_after,
            self.created_before,
            self.updated_after,
            self.updated_before,
        ]
        .into_iter()
        .enumerate()
        {
            let chunk = &mut out[i * 9..(i + 1) * 9];
            if let Some(ms) = bound {
                chunk[0] = 1;
                chunk[1..].copy_from_slice(&ms.to_be_bytes());
            }
        }
        out
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
    pub max_body_bytes: usize,
    pub retry: RetryPolicy,
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
            retry: RetryPolicy::default(),
        }
    }
}

/// The ComplyCube client. Cheap to clone: one connection pool and one concurrency bound
/// serve the whole process.
#[derive(Clone)]
pub struct Upstream {
    http: reqwest::Client,
    /// `{base}/livePhotos`, parsed once.
    list_url: reqwest::Url,
    auth: Option<HeaderValue>,
    /// Kept only to scrub it from anything upstream echoes back (see [`Error::redact`]).
    key: Option<ApiKey>,
    permits: Arc<Semaphore>,
    max_body_bytes: usize,
    retry: RetryPolicy,
}

impl fmt::Debug for Upstream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Upstream")
            .field("list_url", &redacted_url(self.list_url.as_str()))
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
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.request_timeout)
            .user_agent(concat!("complycube-graphql/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        let base = settings.base_url.trim_end_matches('/');
        let url = reqwest::Url::parse(base).map_err(|e| {
            format!(
                "the upstream URL `{}` is not a URL: {e}",
                redacted_url(base)
            )
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!(
                "the upstream URL `{}` is not http or https",
                redacted_url(base)
            ));
        }
        let list_url = reqwest::Url::parse(&format!("{base}/livePhotos")).map_err(|e| {
            format!(
                "the upstream URL `{}` is not a URL: {e}",
                redacted_url(base)
            )
        })?;
        Ok(Self {
            http,
            list_url,
            auth,
            key: settings.api_key.clone(),
            permits: Arc::new(Semaphore::new(settings.max_concurrency.max(1))),
            max_body_bytes: settings.max_body_bytes,
            retry: settings.retry.clone(),
        })
    }

    /// One page of a client's live photos, newest first, checked for consistency; retried
    /// as [`RetryPolicy`] says while `deadline` allows.
    pub async fn list_live_photos(
        &self,
        client: &ClientId,
        filter: &LivePhotoFilter,
        page: PageRequest,
        deadline: Instant,
    ) -> Result<LivePhotoPage, Error> {
        let backoff = ExponentialBuilder::default()
            .with_min_delay(self.retry.base_delay)
            .with_max_delay(self.retry.max_delay)
            .with_max_times(self.retry.max_retries)
            .with_jitter();
        let cap = self.retry.retry_after_cap;
        (|| self.attempt(client, filter, page, deadline))
            .retry(backoff)
            .sleep(tokio::time::sleep)
            .when(Error::is_retryable)
            .adjust(|error, backoff| {
                let wait = match (error.retry_after(), backoff?) {
                    (Some(asked), _) if asked > cap => return None,
                    (Some(asked), backoff) => asked.max(backoff),
                    (None, backoff) => backoff,
                };
                (Instant::now() + wait < deadline).then_some(wait)
            })
            .notify(|error, wait| {
                tracing::debug!(%client, page = page.page, size = page.size, %error, ?wait, "retrying ComplyCube");
            })
            .await
    }

    /// One attempt, bounded by the deadline (waiting for a permit included). Errors come
    /// out with the key scrubbed.
    async fn attempt(
        &self,
        client: &ClientId,
        filter: &LivePhotoFilter,
        page: PageRequest,
        deadline: Instant,
    ) -> Result<LivePhotoPage, Error> {
        let outcome = tokio::time::timeout_at(deadline, async {
            let _permit =
                self.permits.acquire().await.map_err(|_| {
                    Error::Unreachable("the upstream client is shutting down".into())
                })?;
            self.fetch_page(client, filter, page).await
        })
        .await
        .unwrap_or(Err(Error::Timeout));
        outcome.map_err(|e| match &self.key {
            Some(key) => e.redact(key),
            None => e,
        })
    }

    async fn fetch_page(
        &self,
        client: &ClientId,
        filter: &LivePhotoFilter,
        page: PageRequest,
    ) -> Result<LivePhotoPage, Error> {
        let mut url = self.list_url.clone();
        url.query_pairs_mut()
            .append_pair("clientId", client.as_str())
            .append_pair("page", &page.page.to_string())
            .append_pair("pageSize", &page.size.to_string())
            .extend_pairs(filter.query_pairs());
        let mut request = self.http.get(url);
        if let Some(auth) = &self.auth {
            request = request.header(AUTHORIZATION, auth.clone());
        }
        let response = request.send().await.map_err(Error::from_reqwest)?;
        let status = response.status();
        let retry_after = retry_after(response.headers());
        let body = self.read_body(response).await?;
        if !status.is_success() {
            return Err(Error::Status {
                status: status.as_u16(),
                body: error_body(status, &body),
                retry_after,
            });
        }
        // sonic-rs parses with SIMD; a page is mostly strings. Its message quotes the body
        // around the fault on the lines after the first: photo data stays out of errors.
        let page_body: LivePhotoPage = sonic_rs::from_slice(&body).map_err(|e| {
            let e = e.to_string();
            let e = e.lines().next().unwrap_or_default();
            Error::InvalidResponse(format!("the live-photo list did not parse: {e}"))
        })?;
        wire::check_page(&page_body, page)?;
        Ok(page_body)
    }

    async fn read_body(&self, mut response: reqwest::Response) -> Result<Vec<u8>, Error> {
        if response
            .content_length()
            .is_some_and(|len| len > self.max_body_bytes as u64)
        {
            return Err(too_large(self.max_body_bytes));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(Error::from_reqwest)? {
            if body.len() + chunk.len() > self.max_body_bytes {
                return Err(too_large(self.max_body_bytes));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

fn too_large(limit: usize) -> Error {
    Error::InvalidResponse(format!("the response body exceeds {limit} bytes"))
}

/// A URL fit for a log line: any `user:password@` part replaced.
pub fn redacted_url(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut parsed) if !parsed.username().is_empty() || parsed.password().is_some() => {
            let _ = parsed.set_username("***");
            let _ = parsed.set_password(None);
            parsed.to_string()
        }
        Ok(_) => url.to_owned(),
        Err(_) => "<not a URL>".to_owned(),
    }
}

/// The documented error body, or a stand-in naming the status when the body is not one.
fn error_body(status: reqwest::StatusCode, body: &[u8]) -> ErrorBody {
    serde_json::from_slice(body).unwrap_or_else(|_| ErrorBody {
        kind: "unknown".into(),
        message: format!(
            "HTTP {} {}",
            status.as_u16(),
            status.canonical_reason().unwrap_or("")
        )
        .trim_end()
        .to_owned(),
        param: None,
    })
}

/// `Retry-After` as seconds or as an HTTP date (a date in the past means now).
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let text = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(seconds) = text.parse::<u64>() {
        return Some(Duration::from_secs(seconds.min(86_400)));
    }
    let at = DateTime::parse_from_rfc2822(text).ok()?;
    Some(
        (at.with_timezone(&Utc) - Utc::now())
            .to_std()
            .unwrap_or_default(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_key_never_prints() {
        let key = ApiKey::new("live_secret_123");
        assert!(!format!("{key:?} {key}").contains("secret"));
        let settings = UpstreamSettings::new("http://x/v1", Some(key));
        assert!(!format!("{settings:?}").contains("secret"));
        let upstream = Upstream::new(&settings).unwrap();
        assert!(!format!("{upstream:?}").contains("secret"));
    }

    proptest::proptest! {
        #[test]
        fn instants_print_as_chrono_prints_them(
            secs in -70_000_000_000i64..=260_000_000_000i64,
            nanos in 0u32..2_000_000_000,
        ) {
            // Nanoseconds past 999,999,999 are how chrono represents a leap second.
            if let Some(t) = DateTime::<Utc>::from_timestamp(secs, nanos) {
                proptest::prop_assert_eq!(
                    format_instant(&t),
                    t.to_rfc3339_opts(SecondsFormat::Millis, true)
                );
            }
        }
    }

    #[test]
    fn filter_dates_are_sent_as_complycube_prints_them() {
        let filter = LivePhotoFilter {
            created_after: Some(1_577_887_604_756),
            ..Default::default()
        };
        let pairs: Vec<_> = filter.query_pairs().collect();
        assert_eq!(
            pairs,
            vec![("createdAfter", "2020-01-01T14:06:44.756Z".to_string())]
        );
    }

    #[test]
    fn documented_example_parses_and_old_versions_default_liveness() {
        let body = r#"{"page":1,"pageSize":100,"totalItems":1,"pages":1,"items":[{
            "id":"5eb1b5f231778a0008d1c3f6","clientId":"5eb1276d96be4a0008713af5",
            "downloadLink":"/livePhotos/5eb1b5f231778a0008d1c3f6/download",
            "contentType":"images/jpg","size":44896,
            "createdAt":"2020-01-01T14:06:44.756Z","updatedAt":"2020-01-01T14:06:44.756Z"}]}"#;
        let page: LivePhotoPage = serde_json::from_str(body).unwrap();
        assert!(page.items[0].perform_liveness_check);
        assert_eq!(
            page.items[0].created_at.timestamp_millis(),
            1_577_887_604_756
        );
        wire::check_page(&page, PageRequest { page: 1, size: 100 }).unwrap();
        let err = wire::check_page(&page, PageRequest { page: 2, size: 100 }).unwrap_err();
        assert!(err.to_string().contains("held 1 items"), "{err}");
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("retry-after", HeaderValue::from_static("3"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(3)));
        headers.insert(
            "retry-after",
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&headers), Some(Duration::ZERO));
        let soon = (Utc::now() + chrono::Duration::seconds(30)).to_rfc2822();
        headers.insert("retry-after", HeaderValue::from_str(&soon).unwrap());
        let wait = retry_after(&headers).unwrap();
        assert!(
            wait > Duration::from_secs(25) && wait <= Duration::from_secs(30),
            "{wait:?}"
        );
        headers.insert("retry-after", HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&headers), None);
    }

    #[test]
    fn bad_upstream_urls_are_refused_at_start_and_credentials_never_logged() {
        let bad = Upstream::new(&UpstreamSettings::new("not a url", None)).unwrap_err();
        assert!(bad.contains("is not a URL"), "{bad}");
        let ftp = Upstream::new(&UpstreamSettings::new("ftp://x/v1", None)).unwrap_err();
        assert!(ftp.contains("not http"), "{ftp}");
        assert_eq!(
            redacted_url("https://user:sk_live_1@api.example/v1"),
            "https://***@api.example/v1"
        );
        assert_eq!(
            redacted_url("http://127.0.0.1:1/v1"),
            "http://127.0.0.1:1/v1"
        );
    }

    #[test]
    fn client_ids_are_checked() {
        assert!(ClientId::parse("5eb1276d96be4a0008713af5").is_ok());
        assert!(ClientId::parse("").is_err());
        assert!(ClientId::parse(&"a".repeat(129)).is_err());
        assert!(ClientId::parse("a\nb").is_err());
    }
}
