//! Scripted misbehaviour: latency, error statuses, and broken bodies, for the next N
//! requests, a share of them, or one client, so tests and frontend teams can see what
//! happens when ComplyCube misbehaves.

use std::time::Duration;

use axum::{
    body::Body,
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use futures::StreamExt as _;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// One fault. Every field is optional; a fault with only `delayMs` slows requests down
/// without changing their answers.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Fault {
    /// Only requests for this client id; all requests when absent.
    #[serde(default)]
    pub client_id: Option<String>,
    /// Only requests whose path (with its query string) contains this, e.g. `/download`;
    /// all requests when absent.
    #[serde(default)]
    pub path_contains: Option<String>,
    /// How many matching requests get this fault; all of them when absent.
    #[serde(default)]
    pub times: Option<u32>,
    /// The chance (0 to 1) that a matching request gets it; always when absent.
    #[serde(default)]
    pub share: Option<f64>,
    /// Answer with this status (and ComplyCube's error body for it, unless `body`).
    #[serde(default)]
    pub status: Option<u16>,
    /// Answer with this raw body instead of the real one.
    #[serde(default)]
    pub body: Option<String>,
    /// Add a `Retry-After` header with this value.
    #[serde(default)]
    pub retry_after: Option<String>,
    /// Add a `Location` header with this value (with a 3xx `status`: a redirect).
    #[serde(default)]
    pub location: Option<String>,
    /// Wait this long before answering...
    #[serde(default)]
    pub delay_ms: Option<u64>,
    /// ...plus a random extra of up to this long.
    #[serde(default)]
    pub jitter_ms: Option<u64>,
    /// Break the real answer in this way.
    #[serde(default)]
    pub mangle: Option<Mangle>,
}

/// Ways to break a successful answer. The list-only kinds (`extraItems`,
/// `inconsistentTotal`, `emptyPage`) leave single-object answers (a photo, a download, a
/// client) as they are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, clap::ValueEnum)]
#[serde(rename_all = "camelCase")]
#[value(rename_all = "camelCase")]
pub enum Mangle {
    /// Not JSON at all.
    MalformedJson,
    /// The real body cut off halfway.
    Truncated,
    /// `size` as a string, `totalItems` as a string (single objects: `size`, `data` and
    /// `createdAt` of the wrong type).
    WrongTypes,
    /// Items without `id` and `createdAt` (single objects: also without `data`).
    MissingFields,
    /// One item more than `pageSize`.
    ExtraItems,
    /// A `totalItems` that the items contradict.
    InconsistentTotal,
    /// No items although `totalItems` says the page is not past the end.
    EmptyPage,
    /// A valid body padded past 8 MiB.
    Oversized,
    /// The real body, 64 bytes every 20 ms.
    Trickle,
}

impl Fault {
    fn matches(&self, client: Option<&str>, path: &str) -> bool {
        let client_ok = self.client_id.is_none() || self.client_id.as_deref() == client;
        let path_ok = self
            .path_contains
            .as_deref()
            .is_none_or(|part| path.contains(part));
        client_ok && path_ok && self.share.is_none_or(|p| rand::random::<f64>() < p)
    }

    /// Whether this fault decides the answer (rather than only delaying it).
    fn answers(&self) -> bool {
        self.status.is_some() || self.body.is_some() || self.mangle.is_some()
    }

    fn delay(&self) -> Duration {
        let jitter = self
            .jitter_ms
            .filter(|&j| j > 0)
            .map_or(0, |j| rand::random_range(0..=j));
        Duration::from_millis(self.delay_ms.unwrap_or(0).saturating_add(jitter))
    }
}

/// What the faults in force do to one request.
#[derive(Default)]
pub struct Verdict {
    pub delay: Duration,
    /// The fault that decides the answer, if any.
    pub answer: Option<Fault>,
}

/// Applies `faults` to a request for `client` at `path`: every matching fault adds its
/// delay, the first matching one that answers decides the answer, and each one applied is
/// used up.
pub fn judge(faults: &mut Vec<Fault>, client: Option<&str>, path: &str) -> Verdict {
    let mut verdict = Verdict::default();
    let mut used_up = Vec::new();
    for (index, fault) in faults.iter_mut().enumerate() {
        if (fault.answers() && verdict.answer.is_some()) || !fault.matches(client, path) {
            continue;
        }
        verdict.delay += fault.delay();
        if fault.answers() {
            verdict.answer = Some(fault.clone());
        }
        match &mut fault.times {
            Some(n) if *n <= 1 => used_up.push(index),
            Some(n) => *n -= 1,
            None => {}
        }
    }
    for index in used_up.into_iter().rev() {
        faults.remove(index);
    }
    verdict
}

/// The answer a fault with a status or a raw body gives, before any real work.
pub fn early_answer(fault: &Fault) -> Option<Response> {
    if fault.status.is_none() && fault.body.is_none() {
        return None;
    }
    let status = fault
        .status
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::OK);
    let mut response = match &fault.body {
        Some(body) => (status, body.clone()).into_response(),
        None => error_for(status),
    };
    if let Some(value) = fault
        .retry_after
        .as_deref()
        .and_then(|v| HeaderValue::from_str(v).ok())
    {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    if let Some(value) = fault
        .location
        .as_deref()
        .and_then(|v| HeaderValue::from_str(v).ok())
    {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Some(response)
}

/// ComplyCube's error body for a status.
fn error_for(status: StatusCode) -> Response {
    let (kind, message) = match status.as_u16() {
        400 => ("invalid_request", "Simulated invalid request"),
        401 => ("unauthorized", "The 'Authorization' header is invalid"),
        403 => ("unauthorized", "Your plan does not include this feature"),
        404 => ("resource_not_found", "Simulated missing resource"),
        429 => (
            "rate_limit_exceeded",
            "You have exceeded the rate limit prescribed to your plan",
        ),
        _ => ("internal_server_error", "Simulated server error"),
    };
    super::error(status, kind, message, None)
}

/// The real list answer `page` (as JSON), broken as `mangle` says.
pub fn mangled(mangle: Mangle, mut page: Value) -> Response {
    let items_len = page["items"].as_array().map_or(0, Vec::len);
    match mangle {
        Mangle::MalformedJson => return raw(r#"{"page": 1, "items": [{"id": "#.to_owned()),
        Mangle::Truncated => {
            let text = page.to_string();
            let half: String = text.chars().take(text.chars().count() / 2).collect();
            return raw(half);
        }
        Mangle::WrongTypes => {
            page["totalItems"] = json!(page["totalItems"].to_string());
            for item in page["items"].as_array_mut().into_iter().flatten() {
                item["size"] = json!("big");
            }
        }
        Mangle::MissingFields => {
            for item in page["items"].as_array_mut().into_iter().flatten() {
                if let Some(object) = item.as_object_mut() {
                    object.remove("id");
                    object.remove("createdAt");
                }
            }
        }
        Mangle::ExtraItems => {
            let size = page["pageSize"].as_u64().unwrap_or(1) as usize;
            let filler = page["items"]
                .get(0)
                .cloned()
                .unwrap_or_else(|| json!({"id": "x"}));
            if let Some(items) = page["items"].as_array_mut() {
                items.resize(size + 1, filler);
            }
        }
        Mangle::InconsistentTotal => {
            page["totalItems"] = json!(if items_len > 0 { 0 } else { 5 });
        }
        Mangle::EmptyPage => {
            page["items"] = json!([]);
            let size = page["pageSize"].as_u64().unwrap_or(1);
            let offset = page["page"]
                .as_u64()
                .unwrap_or(1)
                .saturating_sub(1)
                .saturating_mul(size);
            page["totalItems"] = json!(offset.saturating_add(size));
        }
        Mangle::Oversized => {
            page["padding"] = json!("x".repeat(8 * 1024 * 1024 + 1));
        }
        Mangle::Trickle => {
            let text = page.to_string().into_bytes();
            let chunks: Vec<Vec<u8>> = text.chunks(64).map(<[u8]>::to_vec).collect();
            let stream = futures::stream::iter(chunks).then(|chunk| async move {
                tokio::time::sleep(Duration::from_millis(20)).await;
                Ok::<_, std::convert::Infallible>(chunk)
            });
            return (
                [(header::CONTENT_TYPE, "application/json")],
                Body::from_stream(stream),
            )
                .into_response();
        }
    }
    Json(page).into_response()
}

/// The real single-object answer `object` (a photo, a download, a client), broken as
/// `mangle` says.
pub fn mangled_one(mangle: Mangle, mut object: Value) -> Response {
    match mangle {
        Mangle::WrongTypes => {
            for (field, wrong) in [
                ("size", json!("big")),
                ("data", json!(42)),
                ("createdAt", json!(0)),
            ] {
                if let Some(value) = object.get_mut(field) {
                    *value = wrong;
                }
            }
        }
        Mangle::MissingFields => {
            if let Some(fields) = object.as_object_mut() {
                for field in ["id", "createdAt", "data"] {
                    fields.remove(field);
                }
            }
        }
        Mangle::ExtraItems | Mangle::InconsistentTotal | Mangle::EmptyPage => {}
        Mangle::MalformedJson | Mangle::Truncated | Mangle::Oversized | Mangle::Trickle => {
            return mangled(mangle, object)
        }
    }
    Json(object).into_response()
}

fn raw(text: String) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], text).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_are_used_up_and_only_the_first_answering_one_answers() {
        let mut faults = vec![
            Fault {
                delay_ms: Some(5),
                ..Fault::default()
            },
            Fault {
                status: Some(503),
                times: Some(2),
                ..Fault::default()
            },
            Fault {
                status: Some(500),
                client_id: Some("c".into()),
                ..Fault::default()
            },
        ];
        let v = judge(&mut faults, Some("c"), "/");
        assert_eq!(v.delay, Duration::from_millis(5));
        assert_eq!(v.answer.unwrap().status, Some(503));
        judge(&mut faults, Some("c"), "/");
        assert_eq!(faults.len(), 2, "the 503 fault is used up");
        assert_eq!(
            judge(&mut faults, Some("c"), "/").answer.unwrap().status,
            Some(500)
        );
        assert!(judge(&mut faults, Some("d"), "/").answer.is_none());
    }

    #[test]
    fn a_share_of_zero_never_applies() {
        let mut faults = vec![Fault {
            status: Some(503),
            share: Some(0.0),
            ..Fault::default()
        }];
        assert!((0..100).all(|_| judge(&mut faults, None, "/").answer.is_none()));
    }
}
