//! Schema 1.0 over loopback HTTP: Relay's Object Identification (global ids, `node`,
//! `nodes`) through every scope rule with its upstream calls counted, failure-tolerant
//! nullability, and `Date`.

use base64::{engine::general_purpose::STANDARD, Engine};
use complycube_graphql::{
    auth::{Authentication, Credentials, JwtSettings, Secret},
    simulator::{clients::COMPANIES, Fault},
};
use serde_json::{json, Value};

use crate::{helpers::*, tokens::*};

/// graphql-relay's `toGlobalId`.
fn global(kind: &str, id: &str) -> String {
    STANDARD.encode(format!("{kind}:{id}"))
}

const NODE: &str = r#"query($id: ID!) { node(id: $id) {
    __typename id
    ... on Node { again: id }
    ... on Client { complyCubeId livePhotos(first: 2) { totalCount } }
    ...Photo } }
  fragment Photo on LivePhoto { complyCubeId clientId createdAt }"#;

#[tokio::test]
async fn node_answers_for_both_types_with_fragments_on_node_client_and_live_photo() {
    let app = TestApp::spawn().await;
    let client = global("Client", THREE);
    let response = app.query(NODE, json!({ "id": client })).await;
    assert!(response.get("errors").is_none(), "{response}");
    assert_eq!(
        response["data"]["node"],
        json!({ "__typename": "Client", "id": client, "again": client,
                "complyCubeId": THREE, "livePhotos": { "totalCount": 3 } })
    );
    let photo = &photo_ids(SEVEN)[2];
    let id = global("LivePhoto", photo);
    let response = app.query(NODE, json!({ "id": id })).await;
    let node = &response["data"]["node"];
    assert_eq!(node["__typename"], "LivePhoto", "{response}");
    assert_eq!(node["id"], id.as_str());
    assert_eq!(node["complyCubeId"], photo.as_str());
    assert_eq!(node["clientId"], SEVEN);
    // Fields in the order the query selected them, whatever fragment brought them.
    let (_, text) = app
        .post_text(json!({ "query": NODE, "variables": { "id": id } }))
        .await;
    let at = |key: &str| text.find(&format!("\"{key}\":")).unwrap();
    let order = [
        "__typename",
        "id",
        "again",
        "complyCubeId",
        "clientId",
        "createdAt",
    ];
    assert!(order.windows(2).all(|w| at(w[0]) < at(w[1])), "{text}");
}

#[tokio::test]
async fn ids_round_trip_and_both_id_forms_are_taken() {
    let app = TestApp::spawn().await;
    let query = format!(
        r#"{{ client(id: "{THREE}") {{ id complyCubeId livePhotos(first: 1) {{ nodes {{ id complyCubeId }} }} }} }}"#
    );
    let response = app.query(&query, json!({})).await;
    let client = &response["data"]["client"];
    assert_eq!(client["id"], global("Client", THREE));
    let photo = &client["livePhotos"]["nodes"][0];
    assert_eq!(
        photo["id"],
        global("LivePhoto", photo["complyCubeId"].as_str().unwrap())
    );
    // Each lookup takes its own global id as well as a ComplyCube id.
    let by_global = format!(
        r#"{{ client(id: "{}") {{ complyCubeId }} livePhoto(id: "{}") {{ complyCubeId }} }}"#,
        client["id"].as_str().unwrap(),
        photo["id"].as_str().unwrap()
    );
    let response = app.query(&by_global, json!({})).await;
    assert_eq!(response["data"]["client"]["complyCubeId"], THREE);
    assert_eq!(
        response["data"]["livePhoto"]["complyCubeId"],
        photo["complyCubeId"]
    );
    // A global id of the other type is the caller's mistake, and costs nothing.
    app.reset_calls();
    let crossed = format!(
        r#"{{ client(id: "{}") {{ complyCubeId }} }}"#,
        photo["id"].as_str().unwrap()
    );
    let response = app.query(&crossed, json!({})).await;
    assert_eq!(codes(&response), ["BAD_USER_INPUT"], "{response}");
    assert_eq!(response["data"]["client"], Value::Null);
    // `node` takes global ids only: a bare ComplyCube id does not say what it names.
    let response = app.query(NODE, json!({ "id": THREE })).await;
    assert_eq!(codes(&response), ["BAD_USER_INPUT"], "{response}");
    assert_eq!(app.calls(), 0);
}

#[tokio::test]
async fn nodes_over_thirty_photos_costs_one_call_per_distinct_id_and_none_for_listed_ones() {
    let app = TestApp::spawn().await;
    let photos = photo_ids(THIRTY_SEVEN);
    // 30 ids, 25 distinct (five asked twice), in a chosen order.
    let mut ids: Vec<String> = photos[5..30]
        .iter()
        .map(|p| global("LivePhoto", p))
        .collect();
    ids.extend(photos[5..10].iter().map(|p| global("LivePhoto", p)));
    ids.reverse();
    let query = "query($ids: [ID!]!) { nodes(ids: $ids) { id ... on LivePhoto { complyCubeId } } }";
    app.reset_calls();
    let response = app.query(query, json!({ "ids": ids })).await;
    assert!(response.get("errors").is_none(), "{response}");
    let got: Vec<&str> = response["data"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap())
        .collect();
    assert_eq!(got, ids.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(app.calls(), 25, "one call per distinct id");

    // Photos a list of the same request brought cost no lookup at all.
    let listed: Vec<String> = photos[..5].iter().map(|p| global("LivePhoto", p)).collect();
    let query = format!(
        r#"query($ids: [ID!]!) {{ client(id: "{THIRTY_SEVEN}") {{ livePhotos(first: 5) {{ totalCount }} }}
           nodes(ids: $ids) {{ id }} }}"#
    );
    app.reset_calls();
    let response = app.query(&query, json!({ "ids": listed })).await;
    assert!(response.get("errors").is_none(), "{response}");
    assert_eq!(app.calls(), 1, "the list alone");
}

#[tokio::test]
async fn nodes_answers_each_item_on_its_own() {
    let app = TestApp::spawn().await;
    let photo = &photo_ids(THREE)[0];
    let ids = json!([
        global("Client", THREE),
        "not-a-global-id",
        global("LivePhoto", "ffffffffffffffffffffffff"),
        global("LivePhoto", photo),
    ]);
    let query = "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }";
    let response = app.query(query, json!({ "ids": ids })).await;
    let nodes = response["data"]["nodes"].as_array().unwrap();
    assert_eq!(nodes[0]["__typename"], "Client");
    assert_eq!(nodes[1], Value::Null, "a bad id: null with its error");
    assert_eq!(nodes[2], Value::Null, "a missing photo: null");
    assert_eq!(nodes[3]["id"], global("LivePhoto", photo));
    let errors = response["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{response}");
    assert_eq!(errors[0]["path"], json!(["nodes", 1]));
    assert_eq!(errors[0]["extensions"]["code"], "BAD_USER_INPUT");

    // At most 100 ids.
    let many: Vec<String> = (0..101).map(|_| global("Client", THREE)).collect();
    let response = app.query(query, json!({ "ids": many })).await;
    assert_eq!(codes(&response), ["BAD_USER_INPUT"], "{response}");
    assert!(response["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("100"));
}

#[tokio::test]
async fn a_scoped_token_reads_through_node_exactly_what_it_reads_elsewhere() {
    let app = TestApp::spawn_with(|config| {
        config.access.auth = Authentication::Verify(Credentials {
            tokens: vec![],
            jwt: Some(JwtSettings {
                secret: Some(Secret::new(SECRET)),
                ..JwtSettings::new()
            }),
        })
    })
    .await;
    let token = hs256(SECRET.as_bytes(), &claims(json!({ "client_ids": [THREE] })));
    let auth = bearer(&token);
    let ask = |ids: Value| {
        json!({ "query": "query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Client { entityName } } }",
                "variables": { "ids": ids } })
    };
    // B's client: FORBIDDEN at that item, and no upstream call for it.
    app.reset_calls();
    let answer = post_as(&app, Some(&auth), ask(json!([global("Client", SEVEN)]))).await;
    assert_eq!(
        answer.body["data"]["nodes"],
        json!([null]),
        "{}",
        answer.body
    );
    assert_eq!(codes(&answer.body), ["FORBIDDEN"]);
    assert_eq!(answer.body["errors"][0]["path"], json!(["nodes", 0]));
    assert_eq!(app.calls(), 0);
    let single = json!({ "query": NODE, "variables": { "id": global("Client", SEVEN) } });
    let answer = post_as(&app, Some(&auth), single).await;
    assert_eq!(codes(&answer.body), ["FORBIDDEN"]);
    assert_eq!(app.calls(), 0);
    // B's photo: withheld as `livePhoto(id:)` withholds it, null without a word, like a
    // photo that does not exist; A's answer beside it.
    let theirs = global("LivePhoto", &photo_ids(SEVEN)[0]);
    let mine = global("LivePhoto", &photo_ids(THREE)[0]);
    let missing = global("LivePhoto", "ffffffffffffffffffffffff");
    let answer = post_as(
        &app,
        Some(&auth),
        ask(json!([theirs, mine, missing, global("Client", THREE)])),
    )
    .await;
    let nodes = answer.body["data"]["nodes"].as_array().unwrap();
    assert_eq!(nodes[0], Value::Null, "{}", answer.body);
    assert_eq!(nodes[1]["id"], mine.as_str());
    assert_eq!(nodes[2], Value::Null);
    assert!(nodes[3]["entityName"].is_string(), "{}", answer.body);
    assert!(answer.body.get("errors").is_none(), "{}", answer.body);
}

#[tokio::test]
async fn an_error_in_live_photos_leaves_the_clients_details() {
    let app = TestApp::spawn().await;
    let query = format!(
        r#"{{ client(id: "{THREE}") {{ entityName livePhotos(first: 1000) {{ totalCount }} }} }}"#
    );
    let response = app.query(&query, json!({})).await;
    assert_eq!(codes(&response), ["BAD_USER_INPUT"], "{response}");
    assert_eq!(
        response["errors"][0]["path"],
        json!(["client", "livePhotos"])
    );
    let client = &response["data"]["client"];
    assert!(client["entityName"].is_string(), "{response}");
    assert_eq!(client["livePhotos"], Value::Null);
}

#[tokio::test]
async fn an_error_in_a_photos_client_leaves_the_photo() {
    let app = TestApp::spawn().await;
    app.fault(Fault {
        client_id: Some(THREE.to_owned()),
        status: Some(500),
        ..Fault::default()
    });
    let photo = &photo_ids(THREE)[0];
    let query = format!(
        r#"{{ livePhoto(id: "{photo}") {{ complyCubeId size client {{ entityName }} }} }}"#
    );
    let response = app.query(&query, json!({})).await;
    assert_eq!(codes(&response), ["UPSTREAM_ERROR"], "{response}");
    assert_eq!(
        response["errors"][0]["path"],
        json!(["livePhoto", "client", "entityName"])
    );
    let got = &response["data"]["livePhoto"];
    assert_eq!(got["complyCubeId"], photo.as_str(), "{response}");
    assert!(got["size"].is_number());
    // `entityName` is nullable: only it is null.
    assert_eq!(got["client"], json!({ "entityName": null }));
}

#[tokio::test]
async fn days_are_dates_and_one_complycube_garbles_is_a_field_error() {
    let app = TestApp::spawn().await;
    let person = SEVEN;
    let query = format!(
        r#"{{ client(id: "{person}") {{ joinedDate entityName personDetails {{ dob firstName }} }} }}"#
    );
    let response = app.query(&query, json!({})).await;
    assert!(response.get("errors").is_none(), "{response}");
    let client = &response["data"]["client"];
    let day = |v: &Value| {
        let s = v.as_str().unwrap_or_default().to_owned();
        s.len() == 10 && chrono::NaiveDate::parse_from_str(&s, "%Y-%m-%d").is_ok()
    };
    assert!(day(&client["joinedDate"]), "{response}");
    assert!(day(&client["personDetails"]["dob"]), "{response}");
    // ComplyCube sends a day that is none: that field fails, with a code; the rest answers.
    let garbled = json!({ "id": person, "type": "person", "entityName": "Jo Doe",
        "joinedDate": "2020-02-30", "personDetails": { "firstName": "Jo", "dob": "1990-4-1" } });
    app.fault(Fault {
        client_id: Some(person.to_owned()),
        body: Some(garbled.to_string()),
        ..Fault::default()
    });
    let response = app.query(&query, json!({})).await;
    let client = &response["data"]["client"];
    assert_eq!(client["joinedDate"], Value::Null, "{response}");
    assert_eq!(client["entityName"], "Jo Doe");
    assert_eq!(
        client["personDetails"],
        json!({ "dob": null, "firstName": "Jo" })
    );
    let mut got = codes(&response);
    got.dedup();
    assert_eq!(got, ["UPSTREAM_ERROR"], "{response}");
    // A company's client has no person details.
    let company = format!(
        r#"{{ client(id: "{}") {{ personDetails {{ dob }} }} }}"#,
        COMPANIES[0]
    );
    let response = app.query(&company, json!({})).await;
    assert_eq!(response["data"]["client"]["personDetails"], Value::Null);
}
