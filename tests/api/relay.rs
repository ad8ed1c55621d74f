//! What relay-compiler made of `schema.graphql` (examples/relay: a `@refetchable`
//! pagination fragment on `Client`, a `@refetchable` fragment on `LivePhoto`), run against
//! the service: the refetch queries it generated answer correctly. CI runs relay-compiler
//! itself (`.ci/run`), so these texts are what it makes of the schema as it is.

use base64::{engine::general_purpose::STANDARD, Engine};
use serde_json::{json, Value};

use crate::helpers::*;

/// The operation text relay-compiler wrote for `name`.
fn generated(name: &str) -> String {
    let path = format!(
        "{}/examples/relay/src/__generated__/{name}.graphql.js",
        env!("CARGO_MANIFEST_DIR")
    );
    let js = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let at = js.find("\"text\": ").expect("an operation text") + "\"text\": ".len();
    // The text is a JSON string literal, up to the end of its line.
    let line = js[at..].lines().next().unwrap();
    serde_json::from_str(line).unwrap_or_else(|e| panic!("{name}: {e}: {line}"))
}

fn global(kind: &str, id: &str) -> String {
    STANDARD.encode(format!("{kind}:{id}"))
}

#[tokio::test]
async fn the_pagination_query_relay_generated_pages_through_a_client() {
    let app = TestApp::spawn().await;
    let query = generated("ClientPhotosPaginationQuery");
    assert!(query.contains("node(id: $id)"), "{query}");
    let id = global("Client", THIRTY_SEVEN);
    let mut seen = Vec::new();
    let mut cursor = Value::Null;
    loop {
        let response = app
            .query(&query, json!({ "id": id, "count": 10, "cursor": cursor }))
            .await;
        assert!(response.get("errors").is_none(), "{response}");
        let node = &response["data"]["node"];
        assert_eq!(node["__typename"], "Client");
        assert_eq!(node["id"], id.as_str());
        assert_eq!(node["complyCubeId"], THIRTY_SEVEN);
        let photos = &node["livePhotos"];
        assert_eq!(photos["totalCount"], 37);
        for edge in photos["edges"].as_array().unwrap() {
            assert!(edge["cursor"].is_string());
            assert_eq!(edge["node"]["__typename"], "LivePhoto");
            assert_eq!(edge["node"]["client"]["id"], id.as_str());
            seen.push(edge["node"]["complyCubeId"].as_str().unwrap().to_owned());
        }
        if photos["pageInfo"]["hasNextPage"] != true {
            break;
        }
        cursor = photos["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(seen, photo_ids(THIRTY_SEVEN));
}

#[tokio::test]
async fn the_refetch_query_relay_generated_refetches_one_photo() {
    let app = TestApp::spawn().await;
    let query = generated("LivePhotoCardRefetchQuery");
    let photo = &photo_ids(SEVEN)[4];
    let id = global("LivePhoto", photo);
    let response = app.query(&query, json!({ "id": id })).await;
    assert!(response.get("errors").is_none(), "{response}");
    let node = &response["data"]["node"];
    assert_eq!(node["__typename"], "LivePhoto");
    assert_eq!(node["id"], id.as_str());
    assert_eq!(node["complyCubeId"], photo.as_str());
    assert!(node["size"].is_number() && node["createdAt"].is_string());
    assert_eq!(node["client"]["id"], global("Client", SEVEN));
    assert!(node["client"]["entityName"].is_string());
}
