//! The ComplyCube REST client: its wire types, its error body, and the one call the
//! facade makes, `GET /livePhotos?clientId&page&pageSize&filters`.
//!
//! The one thing to know: every response is checked before anyone sees it. A page that is
//! longer than asked for, shorter than its own `totalItems` says it must be, or that does
//! not parse, is an [`Error::InvalidResponse`]; the rest of the crate trusts what comes out.

use std::{fmt, sync::Arc, time::Duration};

use chrono::{DateTime, SecondsFormat, Utc};
use reqwest::header::{HeaderValue, AUTHORIZATION};
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;

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

/// Formats milliseconds since the epoch as ComplyCube prints dates: `2020-01-01T14:06:44.756Z`.
pub fn format_millis(ms: Millis) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Millis, true)
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

/// One live photo as ComplyCube sends it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LivePhoto {
    pub id: String,
    pub client_id: String,
    pub download_link: String,
    pub content_type: String,
    /// Absent in older API versions, where it meant `true`.
    #[serde(default = "default_true")]
    pub perform_liveness_check: bool,
    pub size: u32,
    #[serde(with = "millis_rfc3339")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "millis_rfc3339")]
    pub updated_at: DateTime<Utc>,
}

fn default_true() -> bool {
    true
}

/// ComplyCube's date format on the wire: RFC 3339, UTC, milliseconds.
pub mod millis_rfc3339 {
    use chrono::{DateTime, SecondsFormat, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&value.to_rfc3339_opts(SecondsFormat::Millis, true))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        DateTime::parse_from_rfc3339(&text)
            .map(|t| t.with_timezone(&Utc))
            .map_err(serde::de::Error::custom)
    }
}

/// The list envelope: `{"page","pageSize","totalItems","pages","items"}`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LivePhotoPage {
    pub page: u64,
    pub page_size: u32,
    pub total_items: u64,
    pub pages: u64,
    pub items: Vec<LivePhoto>,
}

/// ComplyCube's error body: `{"type","message","param"?}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    #[serde(rename = "type")]
    pub kind: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub param: Option<String>,
}

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
}

impl Error {
    /// The same error with every occurrence of the key replaced: an upstream that echoes
    /// the `Authorization` header (or a body quoting it) must not carry it to a caller.
    fn redact(self, key: &ApiKey) -> Self {
        let scrub = |text: String| {
            if key.0.is_empty() || !text.contains(&key.0) {
                text
            } else {
                text.replace(&key.0, "<redacted>")
            }
        };
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
            Self::Timeout => Self::Timeout,
        }
    }

    fn from_reqwest(err: reqwest::Error) -> Self {
        if err.is_timeout() {
            return Self::Timeout;
        }
        // reqwest's message names the URL (base URL, client id, page), never the headers.
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

/// Settings of the upstream client.
#[derive(Clone, Debug)]
pub struct UpstreamSettings {
    /// Base URL up to and including `/v1`.
    pub base_url: String,
    pub api_key: Option<ApiKey>,
    /// Upper bound on upstream requests in flight, shared by all GraphQL requests.
    pub max_concurrency: usize,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    /// Responses larger than this are refused: a page of 1000 photos is about 300 KB.
    pub max_body_bytes: usize,
}

impl UpstreamSettings {
    pub fn new(base_url: impl Into<String>, api_key: Option<ApiKey>) -> Self {
        Self {
            base_url: base_url.into(),
            api_key,
            max_concurrency: 16,
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(20),
            max_body_bytes: 4 * 1024 * 1024,
        }
    }
}

/// The ComplyCube client. Cheap to clone: one connection pool and one concurrency bound
/// serve the whole process.
#[derive(Clone)]
pub struct Upstream {
    http: reqwest::Client,
    list_url: Arc<str>,
    auth: Option<HeaderValue>,
    /// Kept only to scrub it from anything upstream echoes back (see [`Error::redact`]).
    key: Option<ApiKey>,
    permits: Arc<Semaphore>,
    max_body_bytes: usize,
}

impl fmt::Debug for Upstream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Upstream")
            .field("list_url", &self.list_url)
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
        Ok(Self {
            http,
            list_url: format!("{base}/livePhotos").into(),
            auth,
            key: settings.api_key.clone(),
            permits: Arc::new(Semaphore::new(settings.max_concurrency.max(1))),
            max_body_bytes: settings.max_body_bytes,
        })
    }

    /// One page of a client's live photos, newest first, checked for consistency.
    pub async fn list_live_photos(
        &self,
        client: &ClientId,
        filter: &LivePhotoFilter,
        page: PageRequest,
    ) -> Result<LivePhotoPage, Error> {
        self.fetch_page(client, filter, page)
            .await
            .map_err(|e| match &self.key {
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
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| Error::Unreachable("the upstream client is shutting down".into()))?;
        let mut query: Vec<(&str, String)> = vec![
            ("clientId", client.as_str().to_owned()),
            ("page", page.page.to_string()),
            ("pageSize", page.size.to_string()),
        ];
        query.extend(filter.query_pairs());
        let mut request = self.http.get(&*self.list_url).query(&query);
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
        let page_body: LivePhotoPage = serde_json::from_slice(&body).map_err(|e| {
            Error::InvalidResponse(format!("the live-photo list did not parse: {e}"))
        })?;
        check_page(&page_body, page)?;
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

/// `Retry-After` as seconds or as an HTTP date, capped at a minute.
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    const CAP: Duration = Duration::from_secs(60);
    let text = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    let wait = if let Ok(seconds) = text.trim().parse::<u64>() {
        Duration::from_secs(seconds)
    } else {
        let at = DateTime::parse_from_rfc2822(text.trim()).ok()?;
        (at.with_timezone(&Utc) - Utc::now())
            .to_std()
            .unwrap_or_default()
    };
    Some(wait.min(CAP))
}

/// A page must hold exactly the items its own `totalItems` says are at its positions.
fn check_page(body: &LivePhotoPage, asked: PageRequest) -> Result<(), Error> {
    let start = asked.offset();
    let expected = body
        .total_items
        .saturating_sub(start)
        .min(u64::from(asked.size));
    let got = body.items.len() as u64;
    if got != expected {
        return Err(Error::InvalidResponse(format!(
            "page {} of size {} held {got} items where totalItems {} means {expected}",
            asked.page, asked.size, body.total_items
        )));
    }
    if let Some(item) = body.items.iter().find(|i| i32::try_from(i.size).is_err()) {
        return Err(Error::InvalidResponse(format!(
            "live photo {} has an impossible size {}",
            item.id, item.size
        )));
    }
    Ok(())
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
        check_page(&page, PageRequest { page: 1, size: 100 }).unwrap();
        let err = check_page(&page, PageRequest { page: 2, size: 100 }).unwrap_err();
        assert!(err.to_string().contains("held 1 items"), "{err}");
    }

    #[test]
    fn retry_after_reads_seconds_and_caps() {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("retry-after", HeaderValue::from_static("3"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(3)));
        headers.insert("retry-after", HeaderValue::from_static("86400"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(60)));
        headers.insert("retry-after", HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&headers), None);
    }

    #[test]
    fn client_ids_are_checked() {
        assert!(ClientId::parse("5eb1276d96be4a0008713af5").is_ok());
        assert!(ClientId::parse("").is_err());
        assert!(ClientId::parse(&"a".repeat(129)).is_err());
        assert!(ClientId::parse("a\nb").is_err());
    }
}
