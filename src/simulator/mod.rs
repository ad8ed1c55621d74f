//! The embedded ComplyCube simulator: the parts of ComplyCube's REST API the facade uses,
//! on deterministic demo data, plus a control API for tests and frontend teams.
//!
//! The one thing to know: it is strict where ComplyCube is documented to be (the
//! `Authorization` header, `clientId`, `page >= 1`, `pageSize` in `1..=1000`, error bodies)
//! and lenient where ComplyCube is (a badly formatted date filter gives an empty 200). It
//! counts and logs every request it serves under `/v1`, so tests can assert upstream calls,
//! and can enforce ComplyCube's per-key rate limit (`--rate-limit`, `rate.rs`).
//!
//! ComplyCube's routes (`rest.rs`): `GET /v1/livePhotos?clientId=...` (newest `createdAt`
//! first; ties within one millisecond by id descending), `GET /v1/livePhotos/{id}`,
//! `GET /v1/livePhotos/{id}/download` (a generated image, [`images`]) and
//! `GET /v1/clients/{id}` ([`clients`]).
//!
//! Control API (not part of ComplyCube, `control.rs`): `GET /_simulator/requests` (count,
//! query strings and `x-request-id`s served), `POST /_simulator/reset` (clears counts and
//! faults, not the data), `POST /_simulator/reset-data` (restores the demo data),
//! `POST /_simulator/faults` (JSON [`Fault`]: latency, error statuses, broken bodies, for
//! some or all requests), `POST /_simulator/clients/{clientId}/livePhotos` (adds photos at
//! the head of a list), `DELETE /_simulator/livePhotos/{id}`, `GET /healthz`.

pub mod clients;
mod control;
pub mod data;
mod faults;
pub mod images;
mod rate;
mod rest;
mod store;

pub use control::{CHURN_CLIENT, MAX_ADDED};
pub use faults::{Fault, Mangle};
pub use rate::JITTER_ALLOWANCE;

use std::{
    collections::VecDeque,
    net::SocketAddr,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard,
    },
    time::Duration,
};

use axum::{
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::{delete, get, post},
    serve::ListenerExt,
    Json, Router,
};
use chrono::{DateTime, Utc};
use tokio::net::TcpListener;

use crate::upstream::{ApiKey, ErrorBody, LivePhoto};

/// How many requests the request log keeps.
pub const LOG_LENGTH: usize = 1000;

/// The simulator's settings.
#[derive(Clone, Debug, Default)]
pub struct SimulatorSettings {
    /// The only `Authorization` value accepted; any non-empty value when `None`.
    pub api_key: Option<ApiKey>,
    /// Faults in force from the start (from `simulate`'s flags).
    pub faults: Vec<Fault>,
    /// Every this long, one photo added at the head of [`CHURN_CLIENT`]'s list and its
    /// oldest photo deleted, while the simulator serves. Zero counts as off.
    pub churn_every: Option<Duration>,
    /// Requests per second each `Authorization` value may make, as ComplyCube enforces per
    /// key; beyond it, 429 `rate_limit_exceeded`. The bucket holds one second's worth plus
    /// [`JITTER_ALLOWANCE`]. `None`: no limit.
    pub rate_limit: Option<f64>,
    /// How heavy the downloadable images are.
    pub image_size: images::ImageSize,
}

/// One `/v1` request, as the request log keeps it.
struct LogEntry {
    /// The raw query string of a list request; the path without `/v1` of the others.
    query: String,
    request_id: Option<String>,
    authorization: Option<String>,
    /// When it arrived.
    at: std::time::Instant,
}

struct Shared {
    photos: RwLock<store::PhotoStore>,
    api_key: Option<ApiKey>,
    churn_every: Option<Duration>,
    requests: AtomicU64,
    in_flight: AtomicU64,
    max_in_flight: AtomicU64,
    /// The last [`LOG_LENGTH`] requests (bounded: demo mode runs for days).
    log: Mutex<VecDeque<LogEntry>>,
    faults: Mutex<Vec<Fault>>,
    rate_limit: Option<Mutex<rate::RateLimit>>,
    /// Requests answered 429 by `rate_limit`.
    rate_limited: AtomicU64,
    image_size: images::ImageSize,
    /// `real` images made so far, by photo id (making one takes a while); at most
    /// [`IMAGE_MEMO_BYTES`], forgotten all at once past that.
    images: Mutex<std::collections::HashMap<String, Arc<images::Image>>>,
}

/// The most bytes of `real` images the simulator keeps made.
const IMAGE_MEMO_BYTES: usize = 64 * 1024 * 1024;

/// A simulator's state; clone it to keep a handle on what it served.
#[derive(Clone)]
pub struct Simulator(Arc<Shared>);

impl Simulator {
    pub fn new(settings: SimulatorSettings) -> Self {
        if let Some(rate) = settings.rate_limit {
            tracing::info!(
                rate,
                "enforcing a rate limit per Authorization value: 429 rate_limit_exceeded beyond it"
            );
        }
        Self(Arc::new(Shared {
            photos: RwLock::new(store::PhotoStore::demo()),
            api_key: settings.api_key,
            churn_every: settings.churn_every.filter(|d| !d.is_zero()),
            requests: AtomicU64::new(0),
            in_flight: AtomicU64::new(0),
            max_in_flight: AtomicU64::new(0),
            log: Mutex::new(VecDeque::new()),
            faults: Mutex::new(settings.faults),
            rate_limit: settings
                .rate_limit
                .filter(|rate| rate.is_finite() && *rate > 0.0)
                .map(|rate| Mutex::new(rate::RateLimit::new(rate))),
            rate_limited: AtomicU64::new(0),
            image_size: settings.image_size,
            images: Mutex::new(Default::default()),
        }))
    }

    /// The image a download of `photo` answers with, at this simulator's image size.
    pub fn image_of(&self, photo: &LivePhoto) -> Arc<images::Image> {
        let size = self.0.image_size;
        if size == images::ImageSize::Small {
            return Arc::new(images::image_of(photo, size));
        }
        let lock = || self.0.images.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(made) = lock().get(&photo.id) {
            return made.clone();
        }
        let made = Arc::new(images::image_of(photo, size));
        let mut memo = lock();
        if memo.values().map(|i| i.bytes.len()).sum::<usize>() > IMAGE_MEMO_BYTES {
            memo.clear();
        }
        memo.insert(photo.id.clone(), made.clone());
        made
    }

    /// Requests served under `/v1` since start or the last reset.
    pub fn request_count(&self) -> u64 {
        self.0.requests.load(Ordering::SeqCst)
    }

    /// The most `/v1` requests it was answering at once since start or the last reset.
    pub fn max_in_flight(&self) -> u64 {
        self.0.max_in_flight.load(Ordering::SeqCst)
    }

    /// The last [`LOG_LENGTH`] of those requests, in arrival order: a list request's raw
    /// query string, the others' path without `/v1` (`/livePhotos/<id>`,
    /// `/livePhotos/<id>/download`, `/clients/<id>`).
    pub fn request_log(&self) -> Vec<String> {
        lock(&self.0.log).iter().map(|e| e.query.clone()).collect()
    }

    /// The `x-request-id` and `Authorization` headers of the requests in
    /// [`request_log`](Self::request_log), aligned with it. Only for tests in this process:
    /// the control API shows request ids, never `Authorization` values.
    pub fn request_headers(&self) -> Vec<(Option<String>, Option<String>)> {
        lock(&self.0.log)
            .iter()
            .map(|e| (e.request_id.clone(), e.authorization.clone()))
            .collect()
    }

    /// When each request of [`request_log`](Self::request_log) arrived, aligned with it.
    pub fn request_times(&self) -> Vec<std::time::Instant> {
        lock(&self.0.log).iter().map(|e| e.at).collect()
    }

    /// Requests answered 429 `rate_limit_exceeded` by the rate limit
    /// ([`SimulatorSettings::rate_limit`]) since start or the last reset.
    pub fn rate_limited_count(&self) -> u64 {
        self.0.rate_limited.load(Ordering::SeqCst)
    }

    /// Clears counts, the request log, faults and the rate limit's buckets; the data stays
    /// as it is.
    pub fn reset(&self) {
        self.0.requests.store(0, Ordering::SeqCst);
        self.0.rate_limited.store(0, Ordering::SeqCst);
        if let Some(limit) = &self.0.rate_limit {
            lock(limit).clear();
        }
        self.0.max_in_flight.store(0, Ordering::SeqCst);
        lock(&self.0.log).clear();
        lock(&self.0.faults).clear();
    }

    /// Restores the deterministic demo data (added photos gone, deleted ones back).
    pub fn reset_data(&self) {
        self.store_mut().restore_demo();
    }

    pub fn add_fault(&self, fault: Fault) {
        lock(&self.0.faults).push(fault);
    }

    /// Adds `count` photos at the head of `client`'s list, which becomes known if it was
    /// not: `createdAt` is `max(now, newest createdAt + 1 ms)`, one millisecond apart or
    /// all in one millisecond; `updatedAt` equals it; `contentType` is `images/jpg`; ids are
    /// unique. Returns them in list order, newest first.
    pub fn add_photos(&self, client: &str, count: u32, same_millisecond: bool) -> Vec<LivePhoto> {
        self.store_mut()
            .add(client, count, same_millisecond, now_millis())
    }

    /// Deletes one photo; `false` when no photo has that id.
    pub fn delete_photo(&self, id: &str) -> bool {
        self.store_mut().delete(id).is_some()
    }

    /// One photo by id, as `GET /v1/livePhotos/{id}` finds it.
    pub fn photo(&self, id: &str) -> Option<LivePhoto> {
        self.store().get(id).cloned()
    }

    /// A client's whole list, newest first, as the list endpoint pages through it.
    pub fn photos(&self, client: &str) -> Option<Vec<LivePhoto>> {
        self.store().list(client).map(<[LivePhoto]>::to_vec)
    }

    /// One step of `--churn-every`, in one go: a photo added at the head of
    /// [`CHURN_CLIENT`]'s list and its oldest photo deleted. Returns the added and removed
    /// ids.
    pub fn churn(&self) -> (String, Option<String>) {
        self.store_mut().churn(CHURN_CLIENT, now_millis())
    }

    fn store(&self) -> RwLockReadGuard<'_, store::PhotoStore> {
        self.0.photos.read().unwrap_or_else(|p| p.into_inner())
    }

    fn store_mut(&self) -> RwLockWriteGuard<'_, store::PhotoStore> {
        self.0.photos.write().unwrap_or_else(|p| p.into_inner())
    }

    pub fn router(&self) -> Router {
        Router::new()
            .route("/v1/livePhotos", get(rest::list_live_photos))
            .route("/v1/livePhotos/{id}", get(rest::get_live_photo))
            .route(
                "/v1/livePhotos/{id}/download",
                get(rest::download_live_photo),
            )
            .route("/v1/clients/{id}", get(rest::get_client))
            .route("/_simulator/requests", get(control::request_stats))
            .route("/_simulator/reset", post(control::reset))
            .route("/_simulator/reset-data", post(control::reset_data))
            .route("/_simulator/faults", post(control::add_fault))
            .route(
                "/_simulator/clients/{client_id}/livePhotos",
                post(control::add_photos),
            )
            .route("/_simulator/livePhotos/{id}", delete(control::delete_photo))
            .route("/healthz", get(|| async { "ok" }))
            .with_state(self.clone())
    }

    /// Serves on `listener` until `shutdown` completes; churns meanwhile if the settings
    /// ask for it.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let _churn = self
            .0
            .churn_every
            .map(|every| control::start_churn(Arc::downgrade(&self.0), every));
        // Small JSON answers: send them now, not when Nagle's algorithm allows.
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        axum::serve(listener, self.router())
            .with_graceful_shutdown(shutdown)
            .await
    }

    /// Serves on a new task; returns the address. Used by demo mode and tests.
    pub async fn spawn(self, listener: TcpListener) -> std::io::Result<SocketAddr> {
        let addr = listener.local_addr()?;
        tokio::spawn(self.serve(listener, std::future::pending()));
        Ok(addr)
    }

    fn authorized(&self, headers: &HeaderMap) -> bool {
        match headers
            .get(header::AUTHORIZATION)
            .map(HeaderValue::as_bytes)
        {
            None | Some(b"") => false,
            Some(given) => self
                .0
                .api_key
                .as_ref()
                .is_none_or(|key| key.expose().as_bytes() == given),
        }
    }

    /// What every `/v1` request goes through first: counting, the request log (`query`),
    /// faults (those for `client`, and those for every client), authentication. `Ok`
    /// carries the mangling to apply to a successful answer, if any.
    async fn admit(
        &self,
        headers: &HeaderMap,
        query: &str,
        client: Option<&str>,
    ) -> Result<Option<Mangle>, Response> {
        let at = std::time::Instant::now();
        self.0.requests.fetch_add(1, Ordering::SeqCst);
        let header_text = |name| {
            headers
                .get(name)
                .map(|v: &HeaderValue| String::from_utf8_lossy(v.as_bytes()).into_owned())
        };
        let entry = LogEntry {
            query: query.to_owned(),
            request_id: header_text("x-request-id"),
            authorization: header_text(header::AUTHORIZATION.as_str()),
            at,
        };
        {
            let mut log = lock(&self.0.log);
            if log.len() == LOG_LENGTH {
                log.pop_front();
            }
            log.push_back(entry);
        }
        // A list's log entry is its query string; the others' their path.
        let path = match query.starts_with('/') {
            true => std::borrow::Cow::Borrowed(query),
            false => std::borrow::Cow::Owned(format!("/livePhotos?{query}")),
        };
        let verdict = faults::judge(&mut lock(&self.0.faults), client, &path);
        if !verdict.delay.is_zero() {
            // At most a day: a fault's delay is input, and must not overflow the timer.
            tokio::time::sleep(verdict.delay.min(Duration::from_secs(86_400))).await;
        }
        if let Some(response) = verdict.answer.as_ref().and_then(faults::early_answer) {
            return Err(response);
        }
        if !self.authorized(headers) {
            return Err(error(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "The 'Authorization' header is invalid",
                None,
            ));
        }
        if let Some(limit) = &self.0.rate_limit {
            let key = headers
                .get(header::AUTHORIZATION)
                .map_or(&b""[..], HeaderValue::as_bytes);
            if !lock(limit).admit(key, at) {
                self.0.rate_limited.fetch_add(1, Ordering::SeqCst);
                return Err(error(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate_limit_exceeded",
                    "You have exceeded the rate limit prescribed to your plan",
                    None,
                ));
            }
        }
        Ok(verdict.answer.and_then(|fault| fault.mangle))
    }
}

/// Now, in whole milliseconds (ComplyCube's precision).
fn now_millis() -> DateTime<Utc> {
    DateTime::from_timestamp_millis(Utc::now().timestamp_millis()).unwrap_or_default()
}

/// Counts a request as in flight while it lives.
struct InFlight<'a>(&'a Shared);

impl<'a> InFlight<'a> {
    fn enter(shared: &'a Shared) -> Self {
        let now = shared.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        shared.max_in_flight.fetch_max(now, Ordering::SeqCst);
        Self(shared)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn error(status: StatusCode, kind: &str, message: &str, param: Option<&str>) -> Response {
    let body = ErrorBody {
        kind: kind.to_owned(),
        message: message.to_owned(),
        param: param.map(str::to_owned),
    };
    (status, Json(body)).into_response()
}

/// A documented 400 `invalid_request` about one parameter.
struct InvalidRequest {
    message: String,
    param: &'static str,
}

impl IntoResponse for InvalidRequest {
    fn into_response(self) -> Response {
        error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            &self.message,
            Some(self.param),
        )
    }
}

fn invalid_request(message: impl Into<String>, param: &'static str) -> InvalidRequest {
    InvalidRequest {
        message: message.into(),
        param,
    }
}
