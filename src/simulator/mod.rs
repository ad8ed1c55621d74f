//! The embedded ComplyCube simulator: `GET /v1/livePhotos` as ComplyCube documents it, on
//! deterministic demo data, plus a control API for tests and frontend teams.
//!
//! The one thing to know: it is strict where ComplyCube is documented to be (the
//! `Authorization` header, `clientId`, `page >= 1`, `pageSize` in `1..=1000`, error bodies)
//! and lenient where ComplyCube is (a badly formatted date filter gives an empty 200). It
//! counts every request it serves under `/v1`, so tests can assert upstream call counts.
//!
//! Control API (not part of ComplyCube): `GET /_simulator/requests` (count and query
//! strings served), `POST /_simulator/reset` (clears counts and faults),
//! `POST /_simulator/faults` (JSON [`Fault`]: latency, error statuses, broken bodies, for
//! some or all requests), `GET /healthz`.

pub mod data;
mod faults;

pub use faults::{Fault, Mangle};

use std::{
    collections::{HashMap, VecDeque},
    net::SocketAddr,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use axum::{
    extract::{Path, RawQuery, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    serve::ListenerExt,
    Json, Router,
};
use chrono::DateTime;
use serde::Serialize;
use tokio::net::TcpListener;

use crate::upstream::{ApiKey, ErrorBody, LivePhoto, LivePhotoPage};

/// How many query strings the request log keeps.
pub const LOG_LENGTH: usize = 1000;

/// Upstream's default and largest `pageSize`.
const DEFAULT_PAGE_SIZE: u64 = 100;
const MAX_PAGE_SIZE: u64 = 1000;

/// The simulator's settings.
#[derive(Clone, Debug, Default)]
pub struct SimulatorSettings {
    /// The only `Authorization` value accepted; any non-empty value when `None`.
    pub api_key: Option<ApiKey>,
    /// Faults in force from the start (from `simulate`'s flags).
    pub faults: Vec<Fault>,
}

struct Shared {
    photos: HashMap<String, Vec<LivePhoto>>,
    api_key: Option<ApiKey>,
    requests: AtomicU64,
    in_flight: AtomicU64,
    max_in_flight: AtomicU64,
    /// The last [`LOG_LENGTH`] query strings (bounded: demo mode runs for days).
    log: Mutex<VecDeque<String>>,
    faults: Mutex<Vec<Fault>>,
}

/// A simulator's state; clone it to keep a handle on what it served.
#[derive(Clone)]
pub struct Simulator(Arc<Shared>);

impl Simulator {
    pub fn new(settings: SimulatorSettings) -> Self {
        Self(Arc::new(Shared {
            photos: data::demo_photos(),
            api_key: settings.api_key,
            requests: AtomicU64::new(0),
            in_flight: AtomicU64::new(0),
            max_in_flight: AtomicU64::new(0),
            log: Mutex::new(VecDeque::new()),
            faults: Mutex::new(settings.faults),
        }))
    }

    /// Requests served under `/v1` since start or the last reset.
    pub fn request_count(&self) -> u64 {
        self.0.requests.load(Ordering::SeqCst)
    }

    /// The most `/v1` requests it was answering at once since start or the last reset.
    pub fn max_in_flight(&self) -> u64 {
        self.0.max_in_flight.load(Ordering::SeqCst)
    }

    /// The query strings of the last [`LOG_LENGTH`] of those requests, in arrival order.
    pub fn request_log(&self) -> Vec<String> {
        lock(&self.0.log).iter().cloned().collect()
    }

    pub fn reset(&self) {
        self.0.requests.store(0, Ordering::SeqCst);
        self.0.max_in_flight.store(0, Ordering::SeqCst);
        lock(&self.0.log).clear();
        lock(&self.0.faults).clear();
    }

    pub fn add_fault(&self, fault: Fault) {
        lock(&self.0.faults).push(fault);
    }

    pub fn router(&self) -> Router {
        Router::new()
            .route("/v1/livePhotos", get(list_live_photos))
            .route("/v1/livePhotos/{id}", get(get_live_photo))
            .route("/_simulator/requests", get(request_stats))
            .route("/_simulator/reset", post(reset))
            .route("/_simulator/faults", post(add_fault))
            .route("/healthz", get(|| async { "ok" }))
            .with_state(self.clone())
    }

    /// Serves on `listener` until `shutdown` completes.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
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

    /// What every `/v1` request goes through first: counting, faults, authentication.
    /// `Ok` carries the mangling to apply to a successful answer, if any.
    async fn admit(
        &self,
        headers: &HeaderMap,
        query: &str,
        client: Option<&str>,
    ) -> Result<Option<Mangle>, Response> {
        self.0.requests.fetch_add(1, Ordering::SeqCst);
        {
            let mut log = lock(&self.0.log);
            if log.len() == LOG_LENGTH {
                log.pop_front();
            }
            log.push_back(query.to_owned());
        }
        let verdict = faults::judge(&mut lock(&self.0.faults), client);
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
        Ok(verdict.answer.and_then(|fault| fault.mangle))
    }
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

/// A documented 400 for a bad query parameter.
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

fn invalid_request(message: String, param: &'static str) -> InvalidRequest {
    InvalidRequest { message, param }
}

/// The parsed query of a list request.
struct ListQuery<'a> {
    client: &'a str,
    page: u64,
    page_size: u64,
    /// `None` when a date filter was badly formatted: upstream then answers an empty 200.
    filter: Option<[Option<i64>; 4]>,
}

const FILTERS: [&str; 4] = [
    "createdAfter",
    "createdBefore",
    "updatedAfter",
    "updatedBefore",
];

fn parse_list_query(params: &HashMap<String, String>) -> Result<ListQuery<'_>, InvalidRequest> {
    let client = match params.get("clientId").map(String::as_str) {
        Some(c) if !c.is_empty() => c,
        _ => {
            return Err(invalid_request(
                "The query parameter 'clientId' is required".into(),
                "clientId",
            ))
        }
    };
    let number = |name: &'static str, default: u64, max: u64| match params.get(name) {
        None => Ok(default),
        Some(v) => match v.parse::<u64>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(invalid_request(
                format!("The query parameter '{name}' must be an integer between 1 and {max}"),
                name,
            )),
        },
    };
    let page = number("page", 1, u64::MAX)?;
    let page_size = number("pageSize", DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)?;
    let mut filter = Some([None; 4]);
    for (i, name) in FILTERS.iter().enumerate() {
        if let Some(value) = params.get(*name) {
            match DateTime::parse_from_rfc3339(value) {
                Ok(t) => {
                    if let Some(f) = filter.as_mut() {
                        f[i] = Some(t.timestamp_millis());
                    }
                }
                Err(_) => filter = None,
            }
        }
    }
    Ok(ListQuery {
        client,
        page,
        page_size,
        filter,
    })
}

fn matches(photo: &LivePhoto, filter: &[Option<i64>; 4]) -> bool {
    let created = photo.created_at.timestamp_millis();
    let updated = photo.updated_at.timestamp_millis();
    filter[0].is_none_or(|t| created > t)
        && filter[1].is_none_or(|t| created < t)
        && filter[2].is_none_or(|t| updated > t)
        && filter[3].is_none_or(|t| updated < t)
}

async fn list_live_photos(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let _in_flight = InFlight::enter(&sim.0);
    let raw = raw.unwrap_or_default();
    let params: HashMap<String, String> = serde_urlencoded::from_str(&raw).unwrap_or_default();
    let client = params.get("clientId").map(String::as_str);
    let mangle = match sim.admit(&headers, &raw, client).await {
        Ok(mangle) => mangle,
        Err(response) => return response,
    };
    let query = match parse_list_query(&params) {
        Ok(q) => q,
        Err(invalid) => return invalid.into_response(),
    };
    let Some(photos) = sim.0.photos.get(query.client) else {
        return error(
            StatusCode::NOT_FOUND,
            "resource_not_found",
            &format!("Invalid client id '{}'", query.client),
            None,
        );
    };
    let selected: Vec<&LivePhoto> = match &query.filter {
        Some(f) if f.iter().any(Option::is_some) => {
            photos.iter().filter(|p| matches(p, f)).collect()
        }
        Some(_) => photos.iter().collect(),
        None => Vec::new(),
    };
    let total = selected.len() as u64;
    let start = (query.page - 1).saturating_mul(query.page_size);
    let items = selected
        .into_iter()
        .skip(usize::try_from(start).unwrap_or(usize::MAX))
        .take(query.page_size as usize)
        .cloned()
        .collect();
    let page = LivePhotoPage {
        page: query.page,
        page_size: query.page_size as u32,
        total_items: total,
        pages: total.div_ceil(query.page_size),
        items,
    };
    match mangle {
        None => Json(page).into_response(),
        Some(mangle) => faults::mangled(mangle, serde_json::to_value(page).unwrap_or_default()),
    }
}

async fn get_live_photo(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Err(response) = sim.admit(&headers, &format!("id={id}"), None).await {
        return response;
    }
    match sim.0.photos.values().flatten().find(|p| p.id == id) {
        Some(photo) => Json(photo.clone()).into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            "resource_not_found",
            &format!("Invalid live photo id '{id}'"),
            None,
        ),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RequestStats {
    count: u64,
    max_in_flight: u64,
    queries: Vec<String>,
}

async fn request_stats(State(sim): State<Simulator>) -> Json<RequestStats> {
    Json(RequestStats {
        count: sim.request_count(),
        max_in_flight: sim.max_in_flight(),
        queries: sim.request_log(),
    })
}

async fn reset(State(sim): State<Simulator>) -> StatusCode {
    sim.reset();
    StatusCode::NO_CONTENT
}

async fn add_fault(State(sim): State<Simulator>, Json(fault): Json<Fault>) -> StatusCode {
    sim.add_fault(fault);
    StatusCode::NO_CONTENT
}
