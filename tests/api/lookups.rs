//! Beyond the list: `livePhoto(id)`, a photo's owner, client details and downloads. Each
//! is checked for its values (against the simulator's documented data) and for its exact
//! upstream cost.

use base64::{engine::general_purpose::STANDARD, Engine};
use complycube_graphql::simulator::{clients, data, images, Fault};
use serde_json::{json, Value};

use crate::helpers::*;

/// Upstream requests of the last query whose log entry starts with `prefix`.
fn logged(app: &TestApp, prefix: &str) -> usize {
    app.sim
        .request_log()
        .iter()
        .filter(|q| q.starts_with(prefix))
        .count()
}

const PHOTO_FIELDS: &str =
    "id: complyCubeId clientId downloadLink contentType performLivenessCheck size createdAt updatedAt";

#[tokio::test]
async fn a_live_photo_is_looked_up_by_id_with_the_documented_fields() {
    let app = TestApp::spawn().await;
    let query = format!(
        r#"{{ livePhoto(id: "{}") {{ {PHOTO_FIELDS} }} }}"#,
        data::DOCUMENTED_PHOTO
    );
    let response = app.query(&query, json!({})).await;
    assert!(response.get("errors").is_none(), "{response}");
    // The documented example of ComplyCube's "Get a live photo".
    assert_eq!(
        response["data"]["livePhoto"],
        json!({
            "id": "5eb1b5f231778a0008d1c3f6",
            "clientId": "5eb1276d96be4a0008713af5",
            "downloadLink": "/livePhotos/5eb1b5f231778a0008d1c3f6/download",
            "contentType": "images/jpg",
            "performLivenessCheck": true,
            "size": 44896,
            "createdAt": "2020-01-01T14:06:44.756Z",
            "updatedAt": "2020-01-01T14:06:44.756Z"
        })
    );
    assert_eq!(
        app.sim.request_log(),
        vec![format!("/livePhotos/{}", data::DOCUMENTED_PHOTO)]
    );
}

#[tokio::test]
async fn an_unknown_photo_is_null_without_an_error() {
    let app = TestApp::spawn().await;
    let response = app
        .query(
            r#"{ livePhoto(id: "ffffffffffffffffffffffff") { id: complyCubeId } }"#,
            json!({}),
        )
        .await;
    assert_eq!(response, json!({ "data": { "livePhoto": null } }));
    assert_eq!(app.calls(), 1);
}

#[tokio::test]
async fn a_failing_lookup_is_an_error_with_the_usual_code() {
    let app = TestApp::spawn().await;
    app.fault(Fault {
        status: Some(500),
        ..Fault::default()
    });
    let response = app
        .query(
            &format!(
                r#"{{ livePhoto(id: "{}") {{ id: complyCubeId }} }}"#,
                data::DOCUMENTED_PHOTO
            ),
            json!({}),
        )
        .await;
    assert_eq!(response["data"]["livePhoto"], Value::Null, "{response}");
    assert_eq!(codes(&response), vec!["UPSTREAM_ERROR"]);
    assert_eq!(
        response["errors"][0]["extensions"]["upstream"]["status"],
        500
    );
    let bad = app
        .query(r#"{ livePhoto(id: "") { id: complyCubeId } }"#, json!({}))
        .await;
    assert_eq!(codes(&bad), vec!["BAD_USER_INPUT"]);
}

#[tokio::test]
async fn lookups_are_deduplicated_across_aliases_and_batched_operations() {
    let app = TestApp::spawn().await;
    let ids = photo_ids(SEVEN);
    let one = format!(
        r#"{{ a: livePhoto(id: "{0}") {{ id: complyCubeId }} b: livePhoto(id: "{0}") {{ size }} c: livePhoto(id: "{1}") {{ id: complyCubeId }} }}"#,
        ids[0], ids[1]
    );
    let two = format!(r#"{{ livePhoto(id: "{}") {{ createdAt }} }}"#, ids[1]);
    let (status, body) = app.post(json!([{ "query": one }, { "query": two }])).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body[0]["data"]["a"]["id"], ids[0].as_str());
    assert_eq!(body[0]["data"]["c"]["id"], ids[1].as_str());
    assert!(
        body[1]["data"]["livePhoto"]["createdAt"].is_string(),
        "{body}"
    );
    assert_eq!(app.calls(), 2, "{:?}", app.sim.request_log());
}

#[tokio::test]
async fn a_photo_already_listed_in_the_request_costs_no_lookup() {
    let app = TestApp::spawn().await;
    let ids = photo_ids(TWELVE);
    let query = format!(
        r#"{{ client(id: "{TWELVE}") {{ livePhotos(first: 5) {{ nodes {{ id: complyCubeId }} }} }}
             livePhoto(id: "{}") {{ id: complyCubeId size }} }}"#,
        ids[3]
    );
    let response = app.query(&query, json!({})).await;
    assert!(response.get("errors").is_none(), "{response}");
    assert_eq!(response["data"]["livePhoto"]["id"], ids[3].as_str());
    assert_eq!(
        app.sim.request_log(),
        vec![format!("clientId={TWELVE}&page=1&pageSize=5")]
    );
    // The same across the operations of a batch.
    app.reset_calls();
    let list =
        format!(r#"{{ client(id: "{TWELVE}") {{ livePhotos(first: 5) {{ totalCount }} }} }}"#);
    let lookup = format!(
        r#"{{ livePhoto(id: "{}") {{ id: complyCubeId }} }}"#,
        ids[4]
    );
    let (_, body) = app
        .post(json!([{ "query": lookup }, { "query": list }]))
        .await;
    assert_eq!(
        body[0]["data"]["livePhoto"]["id"],
        ids[4].as_str(),
        "{body}"
    );
    assert_eq!(app.calls(), 1, "{:?}", app.sim.request_log());
    // One not in the list is looked up.
    app.reset_calls();
    let query = format!(
        r#"{{ client(id: "{TWELVE}") {{ livePhotos(first: 5) {{ totalCount }} }} livePhoto(id: "{}") {{ id: complyCubeId }} }}"#,
        ids[9]
    );
    app.query(&query, json!({})).await;
    assert_eq!(logged(&app, "/livePhotos/"), 1);
    assert_eq!(app.calls(), 2);
}

const DETAILS: &str =
    "id: complyCubeId type entityName email mobile telephone externalId joinedDate createdAt updatedAt
    personDetails { firstName middleName lastName dob gender nationality birthCountry }
    companyDetails { name website registrationNumber incorporationCountry incorporationType }";

#[tokio::test]
async fn client_details_match_what_complycube_sends() {
    let app = TestApp::spawn().await;
    for id in clients::demo_client_ids() {
        let response = app
            .query(
                &format!(r#"{{ client(id: "{id}") {{ {DETAILS} }} }}"#),
                json!({}),
            )
            .await;
        assert!(response.get("errors").is_none(), "{response}");
        let got = &response["data"]["client"];
        let sent = clients::demo_client(id).unwrap();
        assert_eq!(got["id"], sent["id"]);
        assert_eq!(
            got["type"].as_str().map(str::to_lowercase),
            sent["type"].as_str().map(str::to_owned),
            "{id}"
        );
        for field in [
            "entityName",
            "email",
            "mobile",
            "telephone",
            "externalId",
            "joinedDate",
            "createdAt",
            "updatedAt",
        ] {
            assert_eq!(
                got[field],
                sent.get(field).cloned().unwrap_or(Value::Null),
                "{id} {field}"
            );
        }
        for (group, fields) in [
            (
                "personDetails",
                &[
                    "firstName",
                    "middleName",
                    "lastName",
                    "dob",
                    "gender",
                    "nationality",
                    "birthCountry",
                ][..],
            ),
            (
                "companyDetails",
                &[
                    "name",
                    "website",
                    "registrationNumber",
                    "incorporationCountry",
                    "incorporationType",
                ][..],
            ),
        ] {
            match sent.get(group) {
                None => assert_eq!(got[group], Value::Null, "{id} {group}"),
                Some(details) => {
                    for field in fields {
                        let want = details.get(*field).cloned().unwrap_or(Value::Null);
                        assert_eq!(got[group][field], want, "{id} {group}.{field}");
                    }
                }
            }
        }
    }
}

#[tokio::test]
async fn identity_numbers_never_reach_a_response() {
    let app = TestApp::spawn().await;
    let introspection = app
        .query(
            r#"{ __type(name: "PersonDetails") { fields { name } } }"#,
            json!({}),
        )
        .await
        .to_string()
        .to_lowercase();
    for name in [
        "ssn",
        "insurance",
        "identitynumber",
        "taxid",
        "identification",
    ] {
        assert!(!introspection.contains(name), "{name}: {introspection}");
    }
    let mut secrets = Vec::new();
    for id in clients::demo_client_ids() {
        if let Some(person) = clients::demo_client(id).unwrap().get("personDetails") {
            for field in [
                "ssn",
                "socialInsuranceNumber",
                "nationalIdentityNumber",
                "taxIdentificationNumber",
            ] {
                if let Some(v) = person.get(field).and_then(Value::as_str) {
                    secrets.push(v.to_owned());
                }
            }
        }
    }
    assert!(
        secrets.len() >= 4,
        "the demo data carries identity numbers to look for"
    );
    for id in clients::demo_client_ids() {
        let (_, text) = app
            .post_text(json!({ "query": format!(r#"{{ client(id: "{id}") {{ {DETAILS} }} }}"#) }))
            .await;
        for secret in &secrets {
            assert!(!text.contains(secret.as_str()), "{secret} in {text}");
        }
    }
}

#[tokio::test]
async fn client_details_cost_one_call_per_client_and_none_when_not_selected() {
    let app = TestApp::spawn().await;
    let cheap = format!(
        r#"{{ client(id: "{SEVEN}") {{ id: complyCubeId livePhotos(first: 3) {{ totalCount }} }} }}"#
    );
    app.query(&cheap, json!({})).await;
    assert_eq!(logged(&app, "/clients/"), 0);
    assert_eq!(app.calls(), 1);

    app.reset_calls();
    let query = format!(
        r#"{{ a: client(id: "{SEVEN}") {{ email }} b: client(id: "{SEVEN}") {{ entityName ...F }}
             c: client(id: "{DOCUMENTED}") {{ type }} }}
           fragment F on Client {{ personDetails {{ firstName }} companyDetails {{ name }} }}"#
    );
    let batch = json!([{ "query": query }, { "query": format!(r#"{{ client(id: "{SEVEN}") {{ joinedDate }} }}"#) }]);
    let (status, body) = app.post(batch).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body[0]["data"]["c"]["type"], "PERSON", "{body}");
    assert_eq!(logged(&app, "/clients/"), 2, "{:?}", app.sim.request_log());
    assert_eq!(app.calls(), 2);
}

#[tokio::test]
async fn an_unknown_client_is_null_when_its_details_are_asked_for() {
    let app = TestApp::spawn().await;
    let (status, body) = app
        .post(json!({ "query": r#"{ client(id: "ffffffffffffffffffffffff") { id: complyCubeId email } }"# }))
        .await;
    assert_eq!(status, 200);
    assert_eq!(body, json!({ "data": { "client": null } }));
    // Without details the list reports it, as before.
    let body = app
        .query(
            r#"{ client(id: "ffffffffffffffffffffffff") { livePhotos { totalCount } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(codes(&body), vec!["NOT_FOUND"]);
}

#[tokio::test]
async fn a_photos_owner_is_its_client_and_is_fetched_once() {
    let app = TestApp::spawn().await;
    let query = format!(
        r#"{{ client(id: "{TWELVE}") {{ livePhotos(first: 12) {{ nodes {{ id: complyCubeId client {{ id: complyCubeId email livePhotos(first: 1) {{ totalCount }} }} }} }} }} }}"#
    );
    let response = app.query(&query, json!({})).await;
    assert!(response.get("errors").is_none(), "{response}");
    let nodes = response["data"]["client"]["livePhotos"]["nodes"]
        .as_array()
        .unwrap();
    assert_eq!(nodes.len(), 12);
    let email = clients::demo_client(TWELVE).unwrap()["email"].clone();
    for node in nodes {
        assert_eq!(node["client"]["id"], TWELVE);
        assert_eq!(node["client"]["email"], email);
        assert_eq!(node["client"]["livePhotos"]["totalCount"], 12);
    }
    // The list, one client lookup; the owners' one-photo lists are inside the first page.
    assert_eq!(logged(&app, "/clients/"), 1, "{:?}", app.sim.request_log());
    assert_eq!(app.calls(), 2, "{:?}", app.sim.request_log());
}

#[tokio::test]
async fn a_download_decodes_to_the_image_the_simulator_served() {
    let app = TestApp::spawn().await;
    let photos = data::demo_photos()[SEVEN].clone();
    let query = format!(
        r#"{{ client(id: "{SEVEN}") {{ livePhotos(first: 7) {{ nodes {{ id: complyCubeId download {{ fileName contentType base64Data dataUrl }} }} }} }} }}"#
    );
    let response = app.query(&query, json!({})).await;
    assert!(response.get("errors").is_none(), "{response}");
    let nodes = response["data"]["client"]["livePhotos"]["nodes"]
        .as_array()
        .unwrap();
    for (node, photo) in nodes.iter().zip(&photos) {
        let served = images::image_of(photo, images::ImageSize::Small);
        let download = &node["download"];
        assert_eq!(download["fileName"], served.file_name.as_str());
        assert_eq!(download["contentType"], served.content_type);
        let data = download["base64Data"].as_str().unwrap();
        assert_eq!(STANDARD.decode(data).unwrap(), served.bytes);
        // ComplyCube's `image/jpg` stays in `contentType`; the data URL says what the bytes are.
        let sniffed = if served.content_type.contains("png") {
            "image/png"
        } else {
            "image/jpeg"
        };
        assert_eq!(
            download["dataUrl"].as_str().unwrap(),
            format!("data:{sniffed};base64,{data}")
        );
    }
    // One list call and one download per photo.
    assert_eq!(
        logged(&app, "/livePhotos/"),
        7,
        "{:?}",
        app.sim.request_log()
    );
    assert_eq!(app.calls(), 8);
    // Not selected: no download.
    app.reset_calls();
    app.query(
        &format!(r#"{{ client(id: "{SEVEN}") {{ livePhotos(first: 7) {{ nodes {{ id: complyCubeId }} }} }} }}"#),
        json!({}),
    )
    .await;
    assert_eq!(app.calls(), 1);
}

#[tokio::test]
async fn a_download_over_the_ceiling_is_an_error_not_a_truncated_image() {
    let app = TestApp::spawn_with(|c| c.upstream.max_download_bytes = 100).await;
    let query = format!(
        r#"{{ livePhoto(id: "{}") {{ id: complyCubeId download {{ base64Data }} }} }}"#,
        data::DOCUMENTED_PHOTO
    );
    let response = app.query(&query, json!({})).await;
    assert_eq!(
        response["data"]["livePhoto"]["id"],
        data::DOCUMENTED_PHOTO,
        "{response}"
    );
    assert_eq!(response["data"]["livePhoto"]["download"], Value::Null);
    assert_eq!(codes(&response), vec!["UPSTREAM_ERROR"]);
    let message = response["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("larger than the 100 bytes"), "{message}");
}

#[tokio::test]
async fn a_list_holding_another_clients_photo_is_refused() {
    let app = TestApp::spawn().await;
    let mut photo = serde_json::to_value(&data::demo_photos()[THREE][0]).unwrap();
    photo["clientId"] = json!(SEVEN);
    let body = json!({ "page": 1, "pageSize": 1, "totalItems": 3, "pages": 3, "items": [photo] });
    app.fault(Fault {
        body: Some(body.to_string()),
        status: Some(200),
        ..Fault::default()
    });
    let response = app
        .query(
            &format!(
                r#"{{ client(id: "{THREE}") {{ livePhotos(first: 1) {{ nodes {{ id: complyCubeId }} }} }} }}"#
            ),
            json!({}),
        )
        .await;
    assert_eq!(codes(&response), vec!["UPSTREAM_ERROR"], "{response}");
    let message = response["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("another client's photo"), "{message}");
}
