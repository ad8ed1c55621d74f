//! The ComplyCube endpoints the simulator serves under `/v1`: list live photos, get one,
//! download its image, get a client.
//!
//! The one thing to know: every handler goes through [`Simulator::admit`] first (counting,
//! request log, faults, authentication) and reads the photo store at that moment, so a list
//! reflects photos added or deleted up to the request.

use std::collections::HashMap;

use axum::{
    extract::{Path, RawQuery, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use base64::Engine as _;
use chrono::DateTime;
use serde::Serialize;

use super::{clients, error, faults, invalid_request, InFlight, InvalidRequest, Simulator};
use crate::upstream::{LivePhoto, LivePhotoPage};

/// Upstream's default and largest `pageSize`.
const DEFAULT_PAGE_SIZE: u64 = 100;
const MAX_PAGE_SIZE: u64 = 1000;

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
                "The query parameter 'clientId' is required",
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

fn photo_not_found(id: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "resource_not_found",
        &format!("Invalid live photo id '{id}'"),
        None,
    )
}

fn client_not_found(id: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "resource_not_found",
        &format!("Invalid client id '{id}'"),
        None,
    )
}

/// `GET /v1/livePhotos?clientId=...`: one page of a client's photos, newest first.
pub(super) async fn list_live_photos(
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
    let page = {
        let store = sim.store();
        let Some(photos) = store.list(query.client) else {
            return client_not_found(query.client);
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
        LivePhotoPage {
            page: query.page,
            page_size: query.page_size as u32,
            total_items: total,
            pages: total.div_ceil(query.page_size),
            items,
        }
    };
    match mangle {
        None => Json(page).into_response(),
        Some(mangle) => faults::mangled(mangle, serde_json::to_value(page).unwrap_or_default()),
    }
}

/// `GET /v1/livePhotos/{id}`: one photo.
pub(super) async fn get_live_photo(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let _in_flight = InFlight::enter(&sim.0);
    let mangle = match sim
        .admit(&headers, &format!("/livePhotos/{id}"), None)
        .await
    {
        Ok(mangle) => mangle,
        Err(response) => return response,
    };
    let Some(photo) = sim.photo(&id) else {
        return photo_not_found(&id);
    };
    answer(photo, mangle)
}

/// ComplyCube's download answer.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Download {
    file_name: String,
    content_type: &'static str,
    /// Standard base64, with padding.
    data: String,
}

/// `GET /v1/livePhotos/{id}/download`: the photo's image, base64 in JSON.
pub(super) async fn download_live_photo(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let _in_flight = InFlight::enter(&sim.0);
    let path = format!("/livePhotos/{id}/download");
    let mangle = match sim.admit(&headers, &path, None).await {
        Ok(mangle) => mangle,
        Err(response) => return response,
    };
    let Some(photo) = sim.photo(&id) else {
        return photo_not_found(&id);
    };
    let image = sim.image_of(&photo);
    let body = Download {
        file_name: image.file_name.clone(),
        content_type: image.content_type,
        data: base64::engine::general_purpose::STANDARD.encode(&image.bytes),
    };
    answer(body, mangle)
}

/// `GET /v1/clients/{id}`: a demo client's details. Faults for this client apply.
pub(super) async fn get_client(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let _in_flight = InFlight::enter(&sim.0);
    let mangle = match sim
        .admit(&headers, &format!("/clients/{id}"), Some(&id))
        .await
    {
        Ok(mangle) => mangle,
        Err(response) => return response,
    };
    match clients::demo_client(&id) {
        Some(client) => answer(client, mangle),
        None => client_not_found(&id),
    }
}

/// A single object as JSON, broken as a fault says.
fn answer(body: impl Serialize, mangle: Option<faults::Mangle>) -> Response {
    match mangle {
        None => Json(body).into_response(),
        Some(mangle) => faults::mangled_one(mangle, serde_json::to_value(body).unwrap_or_default()),
    }
}
