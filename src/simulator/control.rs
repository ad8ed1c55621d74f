//! The control API under `/_simulator` (not part of ComplyCube), and the churn task behind
//! `--churn-every`.
//!
//! The one thing to know: control requests are never counted, logged or faulted; only
//! `/v1` requests are. `reset` clears counts and faults and keeps the data; `reset-data`
//! restores the demo data and keeps counts and faults.

use std::{sync::Weak, time::Duration};

use axum::{
    body::Bytes,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};
use serde::{Deserialize, Serialize};

use super::{error, invalid_request, Fault, Shared, Simulator};

/// The most photos one `POST /_simulator/clients/{clientId}/livePhotos` adds.
pub const MAX_ADDED: u32 = 1000;

/// The demo client whose list `--churn-every` keeps moving (37 photos).
pub const CHURN_CLIENT: &str = "5f1e0a3c9d2b4a0008a10025";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RequestStats {
    count: u64,
    max_in_flight: u64,
    /// Requests answered 429 by `--rate-limit`.
    rate_limited: u64,
    queries: Vec<String>,
    /// Each request's `x-request-id` (null when it had none), aligned with `queries`.
    request_ids: Vec<Option<String>>,
}

pub(super) async fn request_stats(State(sim): State<Simulator>) -> Response {
    let (queries, request_ids) = {
        let log = super::lock(&sim.0.log);
        log.iter()
            .map(|entry| (entry.query.clone(), entry.request_id.clone()))
            .unzip()
    };
    Json(RequestStats {
        count: sim.request_count(),
        max_in_flight: sim.max_in_flight(),
        rate_limited: sim.rate_limited_count(),
        queries,
        request_ids,
    })
    .into_response()
}

pub(super) async fn reset(State(sim): State<Simulator>) -> StatusCode {
    sim.reset();
    StatusCode::NO_CONTENT
}

pub(super) async fn reset_data(State(sim): State<Simulator>) -> StatusCode {
    sim.reset_data();
    StatusCode::NO_CONTENT
}

pub(super) async fn add_fault(
    State(sim): State<Simulator>,
    Json(fault): Json<Fault>,
) -> StatusCode {
    sim.add_fault(fault);
    StatusCode::NO_CONTENT
}

/// The body of `POST /_simulator/clients/{clientId}/livePhotos`; an empty body is `{}`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
struct AddPhotos {
    count: Option<u32>,
    same_millisecond: bool,
}

pub(super) async fn add_photos(
    State(sim): State<Simulator>,
    Path(client): Path<String>,
    body: Bytes,
) -> Response {
    let asked: AddPhotos = if body.iter().all(u8::is_ascii_whitespace) {
        AddPhotos::default()
    } else {
        match serde_json::from_slice(&body) {
            Ok(asked) => asked,
            Err(e) => {
                return invalid_request(format!("The body is invalid: {e}"), "body").into_response()
            }
        }
    };
    let count = asked.count.unwrap_or(1);
    if !(1..=MAX_ADDED).contains(&count) {
        return invalid_request(
            format!("'count' must be an integer between 1 and {MAX_ADDED}"),
            "count",
        )
        .into_response();
    }
    let added = sim.add_photos(&client, count, asked.same_millisecond);
    (StatusCode::CREATED, Json(added)).into_response()
}

pub(super) async fn delete_photo(State(sim): State<Simulator>, Path(id): Path<String>) -> Response {
    if sim.delete_photo(&id) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        error(
            StatusCode::NOT_FOUND,
            "resource_not_found",
            &format!("Invalid live photo id '{id}'"),
            None,
        )
    }
}

/// Ends the churn task when dropped (when `serve` returns).
pub(super) struct ChurnTask(tokio::task::JoinHandle<()>);

impl Drop for ChurnTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Every `every`, one [`Simulator::churn`] step, for as long as the simulator lives.
pub(super) fn start_churn(shared: Weak<Shared>, every: Duration) -> ChurnTask {
    ChurnTask(tokio::spawn(async move {
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let Some(shared) = shared.upgrade() else {
                return;
            };
            let (added, removed) = Simulator(shared).churn();
            tracing::debug!(client = CHURN_CLIENT, added, ?removed, "churn");
        }
    }))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::simulator::SimulatorSettings;

    // Paused time: the runtime's clock jumps to each timer, no real waiting.
    #[tokio::test(start_paused = true)]
    async fn churn_runs_every_period_until_it_is_dropped() {
        let sim = Simulator::new(SimulatorSettings::default());
        let before = sim.photos(CHURN_CLIENT).unwrap();
        let every = Duration::from_secs(5);
        let task = start_churn(Arc::downgrade(&sim.0), every);
        tokio::time::sleep(every * 2 + every / 2).await;
        let after = sim.photos(CHURN_CLIENT).unwrap();
        assert_eq!(after.len(), before.len());
        assert_eq!(&after[2..], &before[..before.len() - 2], "two steps");
        drop(task);
        tokio::time::sleep(every * 3).await;
        assert_eq!(sim.photos(CHURN_CLIENT).unwrap(), after, "stopped");
    }
}
