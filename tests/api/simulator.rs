//! The simulator itself, over real HTTP: photos added and deleted while it runs, image
//! downloads, client details, and the control API's validation.

use std::net::SocketAddr;

use base64::Engine as _;
use complycube_graphql::{
    simulator::{clients, data, images, Fault, Mangle, Simulator},
    upstream::LivePhoto,
};
use serde_json::{json, Value};

use crate::helpers::*;

/// A simulator and a client that talks to it with [`TEST_KEY`].
struct Sim {
    sim: Simulator,
    addr: SocketAddr,
    http: reqwest::Client,
}

impl Sim {
    async fn spawn() -> Self {
        let (sim, addr) = spawn_simulator().await;
        Self {
            sim,
            addr,
            http: reqwest::Client::new(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    async fn answer(request: reqwest::RequestBuilder) -> (u16, Value) {
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// GET under `/v1`, with the key.
    async fn get(&self, path: &str) -> (u16, Value) {
        let request = self.http.get(self.url(&format!("/v1{path}")));
        Self::answer(request.header("authorization", TEST_KEY)).await
    }

    async fn list(&self, client: &str, page_size: u32) -> Value {
        let (status, body) = self
            .get(&format!(
                "/livePhotos?clientId={client}&pageSize={page_size}"
            ))
            .await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// `POST /_simulator/clients/{client}/livePhotos` with a raw body.
    async fn add_raw(&self, client: &str, body: &str) -> (u16, Value) {
        let url = self.url(&format!("/_simulator/clients/{client}/livePhotos"));
        let request = self
            .http
            .post(url)
            .header("content-type", "application/json");
        Self::answer(request.body(body.to_owned())).await
    }

    async fn add(&self, client: &str, body: Value) -> Vec<LivePhoto> {
        let (status, added) = self.add_raw(client, &body.to_string()).await;
        assert_eq!(status, 201, "{added}");
        serde_json::from_value(added).unwrap()
    }

    async fn delete(&self, id: &str) -> (u16, Value) {
        let url = self.url(&format!("/_simulator/livePhotos/{id}"));
        Self::answer(self.http.delete(url)).await
    }

    async fn control(&self, path: &str) -> u16 {
        let response = self.http.post(self.url(path)).send().await.unwrap();
        response.status().as_u16()
    }
}

fn ids(items: &Value) -> Vec<String> {
    items
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_owned())
        .collect()
}

fn ids_of(photos: &[LivePhoto]) -> Vec<String> {
    photos.iter().map(|p| p.id.clone()).collect()
}

#[tokio::test]
async fn added_photos_are_listed_first_in_the_documented_order() {
    let s = Sim::spawn().await;
    let spread = s.add(THREE, json!({ "count": 2 })).await;
    let tied = s
        .add(THREE, json!({ "count": 3, "sameMillisecond": true }))
        .await;
    assert!(tied.iter().all(|p| p.created_at == tied[0].created_at));
    assert!(spread[0].created_at > spread[1].created_at);
    assert!(tied[2].created_at > spread[0].created_at);
    let tied_ids = ids_of(&tied);
    assert!(
        tied_ids.windows(2).all(|w| w[0] > w[1]),
        "ties by id descending: {tied_ids:?}"
    );

    let page = s.list(THREE, 100).await;
    assert_eq!(page["totalItems"], 8);
    let mut expected = tied_ids;
    expected.extend(ids_of(&spread));
    expected.extend(photo_ids(THREE));
    assert_eq!(ids(&page["items"]), expected);
    let first: LivePhoto = serde_json::from_value(page["items"][0].clone()).unwrap();
    assert_eq!(first, tied[0]);
    assert_eq!(first.content_type, "images/jpg");
    assert_eq!(
        first.download_link,
        format!("/livePhotos/{}/download", first.id)
    );
    assert_eq!(first.updated_at, first.created_at);

    // The newest photo is one millisecond past the tied ones, and sorts first again.
    let next = s.add(THREE, json!({})).await;
    assert_eq!(next.len(), 1);
    assert!(next[0].created_at > tied[0].created_at);
    let (status, one) = s.get(&format!("/livePhotos/{}", next[0].id)).await;
    assert_eq!((status, one["clientId"].as_str()), (200, Some(THREE)));
    assert_eq!(
        ids(&s.list(THREE, 1).await["items"]),
        vec![next[0].id.clone()]
    );
}

#[tokio::test]
async fn a_client_first_seen_in_the_control_api_has_photos_but_no_details() {
    let s = Sim::spawn().await;
    let (status, _) = s.get("/livePhotos?clientId=brand-new-client").await;
    assert_eq!(status, 404);
    let added = s.add("brand-new-client", json!({ "count": 2 })).await;
    let page = s.list("brand-new-client", 100).await;
    assert_eq!(page["totalItems"], 2);
    assert_eq!(ids(&page["items"]), ids_of(&added));
    let (status, body) = s.get("/clients/brand-new-client").await;
    assert_eq!(status, 404);
    assert_eq!(body["message"], "Invalid client id 'brand-new-client'");
}

#[tokio::test]
async fn deleted_photos_leave_the_list_and_the_total() {
    let s = Sim::spawn().await;
    let before = photo_ids(SEVEN);
    let gone = &before[3];
    let (status, _) = s.delete(gone).await;
    assert_eq!(status, 204);
    let page = s.list(SEVEN, 100).await;
    assert_eq!(page["totalItems"], 6);
    let left: Vec<String> = before.iter().filter(|id| *id != gone).cloned().collect();
    assert_eq!(ids(&page["items"]), left);
    let not_found = json!({
        "type": "resource_not_found",
        "message": format!("Invalid live photo id '{gone}'"),
    });
    assert_eq!(
        s.get(&format!("/livePhotos/{gone}")).await,
        (404, not_found.clone())
    );
    assert_eq!(s.delete(gone).await, (404, not_found));
    assert!(!s.sim.delete_photo(gone));
}

#[tokio::test]
async fn reset_keeps_the_data_and_reset_data_restores_it() {
    let s = Sim::spawn().await;
    let added = s.add(TWELVE, json!({})).await;
    let (status, _) = s.delete(&photo_ids(TWELVE)[0]).await;
    assert_eq!(status, 204);
    s.list(TWELVE, 100).await;
    assert_eq!(s.control("/_simulator/reset").await, 204);
    assert_eq!(s.sim.request_count(), 0);
    let page = s.list(TWELVE, 100).await;
    assert_eq!(page["items"][0]["id"].as_str(), Some(added[0].id.as_str()));
    assert_eq!(s.control("/_simulator/reset-data").await, 204);
    assert_eq!(s.sim.request_count(), 1, "reset-data keeps the counts");
    assert_eq!(ids(&s.list(TWELVE, 100).await["items"]), photo_ids(TWELVE));
}

#[tokio::test]
async fn downloads_decode_to_the_generated_image() {
    let s = Sim::spawn().await;
    let photos = data::demo_photos();
    let documented = &photos[DOCUMENTED][0];
    let png = photos[SEVEN]
        .iter()
        .find(|p| p.content_type.contains("png"));
    let added = s.add(DOCUMENTED, json!({})).await;
    for photo in [documented, png.unwrap(), &added[0]] {
        let (status, body) = s.get(&format!("/livePhotos/{}/download", photo.id)).await;
        assert_eq!(status, 200, "{body}");
        let expected = images::image_of(photo, images::ImageSize::Small);
        assert_eq!(body["fileName"], expected.file_name.as_str());
        assert_eq!(body["contentType"], expected.content_type);
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(body["data"].as_str().unwrap())
            .unwrap();
        assert_eq!(bytes, expected.bytes);
        let millis = photo.created_at.timestamp_millis();
        if photo.content_type.contains("png") {
            assert_eq!(body["fileName"], format!("selfie_{millis}.png"));
            let decoder = png::Decoder::new(std::io::Cursor::new(&bytes));
            let info = decoder.read_info().unwrap().info().clone();
            assert_eq!((info.width, info.height), (images::SIDE, images::SIDE));
        } else {
            assert_eq!(body["fileName"], format!("selfie_{millis}.jpg"));
            assert_eq!(body["contentType"], "image/jpg");
            assert_eq!(&bytes[..2], &[0xff, 0xd8]);
            assert_eq!(&bytes[bytes.len() - 2..], &[0xff, 0xd9]);
        }
    }
    assert_eq!(
        s.get("/livePhotos/000000000000000000000000/download").await,
        (
            404,
            json!({"type": "resource_not_found", "message": "Invalid live photo id '000000000000000000000000'"})
        )
    );
}

#[tokio::test]
async fn clients_are_persons_or_companies_and_unknown_ids_are_not_found() {
    let s = Sim::spawn().await;
    let (status, john) = s.get(&format!("/clients/{DOCUMENTED}")).await;
    assert_eq!(status, 200);
    assert_eq!(&john, clients::demo_client(DOCUMENTED).unwrap());
    assert_eq!(john["type"], "person");
    assert_eq!(john["entityName"], "John Doe");
    assert_eq!(john["personDetails"]["ssn"], "111-22-3333");
    assert!(john.get("companyDetails").is_none());

    let (status, globex) = s.get(&format!("/clients/{BIG}")).await;
    assert_eq!(status, 200);
    assert_eq!(globex["type"], "company");
    assert_eq!(globex["companyDetails"]["name"], globex["entityName"]);
    assert!(globex.get("personDetails").is_none());

    assert_eq!(
        s.get("/clients/5f1e0a3c9d2b4a0008a1ffff").await,
        (
            404,
            json!({"type": "resource_not_found", "message": "Invalid client id '5f1e0a3c9d2b4a0008a1ffff'"})
        )
    );
    let unauthenticated = s.http.get(s.url(&format!("/v1/clients/{DOCUMENTED}")));
    let (status, body) = Sim::answer(unauthenticated).await;
    assert_eq!((status, body["type"].as_str()), (401, Some("unauthorized")));
}

#[tokio::test]
async fn the_control_api_checks_what_it_is_asked_to_add() {
    let s = Sim::spawn().await;
    for (body, param) in [
        (r#"{"count": 0}"#, "count"),
        (r#"{"count": 5000}"#, "count"),
        (r#"{"count": -1}"#, "body"),
        (r#"{"count": 2, "colour": "red"}"#, "body"),
        ("not json", "body"),
    ] {
        let (status, answer) = s.add_raw(THREE, body).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(answer["type"], "invalid_request", "{body}");
        assert_eq!(answer["param"], param, "{body}");
    }
    assert_eq!(s.sim.photos(THREE).unwrap().len(), 3, "nothing was added");
    let (status, added) = s.add_raw(THREE, "").await;
    assert_eq!(status, 201);
    assert_eq!(added.as_array().map(Vec::len), Some(1));
    let (status, added) = s.add_raw(THREE, r#"{"count": 1000}"#).await;
    assert_eq!((status, added.as_array().map(Vec::len)), (201, Some(1000)));
    assert_eq!(s.list(THREE, 1).await["totalItems"], 1004);
}

#[tokio::test]
async fn every_v1_request_is_logged_with_its_request_id() {
    let s = Sim::spawn().await;
    let photo = data::DOCUMENTED_PHOTO;
    for (path, request_id) in [
        (
            format!("/livePhotos?clientId={DOCUMENTED}&page=1"),
            Some("rid-1"),
        ),
        (format!("/livePhotos/{photo}"), None),
        (format!("/livePhotos/{photo}/download"), Some("rid-3")),
        (format!("/clients/{DOCUMENTED}"), Some("rid-4")),
    ] {
        let mut request = s.http.get(s.url(&format!("/v1{path}")));
        request = request.header("authorization", TEST_KEY);
        if let Some(id) = request_id {
            request = request.header("x-request-id", id);
        }
        assert_eq!(Sim::answer(request).await.0, 200, "{path}");
    }
    s.add(DOCUMENTED, json!({})).await; // the control API is not logged
    let expected_log = vec![
        format!("clientId={DOCUMENTED}&page=1"),
        format!("/livePhotos/{photo}"),
        format!("/livePhotos/{photo}/download"),
        format!("/clients/{DOCUMENTED}"),
    ];
    assert_eq!(s.sim.request_log(), expected_log);
    let key = Some(TEST_KEY.to_owned());
    let rid = |id: &str| Some(id.to_owned());
    assert_eq!(
        s.sim.request_headers(),
        vec![
            (rid("rid-1"), key.clone()),
            (None, key.clone()),
            (rid("rid-3"), key.clone()),
            (rid("rid-4"), key),
        ]
    );
    let response = s
        .http
        .get(s.url("/_simulator/requests"))
        .send()
        .await
        .unwrap();
    let text = response.text().await.unwrap();
    assert!(!text.contains(TEST_KEY), "the key leaked: {text}");
    let stats: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(stats["count"], 4);
    assert_eq!(stats["queries"], json!(expected_log));
    assert_eq!(
        stats["requestIds"],
        json!(["rid-1", null, "rid-3", "rid-4"])
    );
}

#[tokio::test]
async fn faults_for_a_client_apply_to_its_lookup_and_break_single_objects() {
    let s = Sim::spawn().await;
    s.sim.add_fault(Fault {
        client_id: Some(TWELVE.to_owned()),
        status: Some(500),
        times: Some(1),
        ..Fault::default()
    });
    assert_eq!(s.get(&format!("/clients/{SEVEN}")).await.0, 200);
    let (status, body) = s.get(&format!("/clients/{TWELVE}")).await;
    assert_eq!(
        (status, body["type"].as_str()),
        (500, Some("internal_server_error"))
    );
    assert_eq!(s.get(&format!("/clients/{TWELVE}")).await.0, 200);

    s.sim.add_fault(Fault {
        mangle: Some(Mangle::MissingFields),
        times: Some(1),
        ..Fault::default()
    });
    let path = format!("/livePhotos/{}/download", data::DOCUMENTED_PHOTO);
    let (status, broken) = s.get(&path).await;
    assert_eq!(status, 200);
    assert!(broken.get("data").is_none() && broken.get("fileName").is_some());
    assert!(s.get(&path).await.1.get("data").is_some());
}

#[tokio::test]
async fn a_churn_step_moves_the_list_and_keeps_its_length() {
    let s = Sim::spawn().await;
    let before = photo_ids(THIRTY_SEVEN);
    let (added, removed) = s.sim.churn();
    assert_eq!(removed.as_ref(), before.last());
    let page = s.list(THIRTY_SEVEN, 100).await;
    assert_eq!(page["totalItems"], 37);
    let mut expected = vec![added];
    expected.extend_from_slice(&before[..36]);
    assert_eq!(ids(&page["items"]), expected);
}
