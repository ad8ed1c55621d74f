//! Automatic persisted queries as Apollo clients use them, over POST and GET.

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::{helpers::*, tokens::*};

const QUERY: &str = r#"query Total($id: ID!) { client(id: $id) { livePhotos { totalCount } } }"#;

fn sha256(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn persisted(hash: &str) -> Value {
    json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } })
}

#[tokio::test]
async fn a_query_registered_with_its_hash_then_runs_from_the_hash_alone() {
    let app = TestApp::spawn().await;
    let hash = sha256(QUERY);
    let variables = json!({ "id": THREE });

    // An Apollo client first tries the hash alone.
    let unknown = post_as(
        &app,
        None,
        json!({ "variables": variables, "extensions": persisted(&hash) }),
    )
    .await;
    assert_eq!(unknown.status, 200, "Apollo expects 200: {}", unknown.body);
    assert_eq!(
        unknown.body["errors"],
        json!([{ "message": "PersistedQueryNotFound",
                 "extensions": { "code": "PERSISTED_QUERY_NOT_FOUND" } }])
    );
    // Like every request-level error here: no data.
    assert_eq!(unknown.body["data"], Value::Null);
    assert_eq!(app.calls(), 0);

    // Then sends both, which runs and registers the query.
    let register = post_as(
        &app,
        None,
        json!({ "query": QUERY, "variables": variables, "extensions": persisted(&hash) }),
    )
    .await;
    assert_eq!(
        register.body["data"]["client"]["livePhotos"]["totalCount"], 3,
        "{}",
        register.body
    );

    // From now on the hash is enough, over POST and GET.
    let post = post_as(
        &app,
        None,
        json!({ "variables": { "id": SEVEN }, "extensions": persisted(&hash) }),
    )
    .await;
    assert_eq!(
        post.body["data"]["client"]["livePhotos"]["totalCount"], 7,
        "{}",
        post.body
    );
    let extensions = persisted(&hash).to_string();
    let variables = json!({ "id": TWELVE }).to_string();
    let get = get_as(
        &app,
        None,
        &[
            ("operationName", "Total"),
            ("variables", &variables),
            ("extensions", &extensions),
        ],
    )
    .await;
    assert_eq!(get.status, 200, "{}", get.body);
    assert_eq!(
        get.body["data"]["client"]["livePhotos"]["totalCount"], 12,
        "{}",
        get.body
    );
}

#[tokio::test]
async fn unknown_hashes_over_get_and_in_batches_are_not_found() {
    let app = TestApp::spawn().await;
    let extensions = persisted(&sha256("{ never sent }")).to_string();
    let get = get_as(&app, None, &[("extensions", &extensions)]).await;
    assert_eq!(get.status, 200);
    assert_eq!(codes(&get.body), ["PERSISTED_QUERY_NOT_FOUND"]);
    assert_eq!(get.body["errors"][0]["message"], "PersistedQueryNotFound");

    let batch = json!([
        { "extensions": persisted(&sha256("{ never sent }")) },
        { "query": "{ __typename }" },
    ]);
    let (status, body) = app.post(batch).await;
    assert_eq!(status, 200);
    assert_eq!(codes(&body[0]), ["PERSISTED_QUERY_NOT_FOUND"]);
    assert_eq!(body[1]["data"]["__typename"], "Query");
}

#[tokio::test]
async fn a_query_whose_hash_does_not_match_is_a_bad_request_and_is_not_stored() {
    let app = TestApp::spawn().await;
    let wrong = sha256("{ something else }");
    let (status, body) = app
        .post(json!({ "query": QUERY, "variables": { "id": THREE }, "extensions": persisted(&wrong) }))
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(codes(&body), ["BAD_REQUEST"]);
    assert_eq!(app.calls(), 0);
    // The text was not stored under the wrong hash.
    let (_, body) = app.post(json!({ "extensions": persisted(&wrong) })).await;
    assert_eq!(codes(&body), ["PERSISTED_QUERY_NOT_FOUND"]);

    // Inside a batch, the same error belongs to its operation.
    let batch = json!([
        { "query": QUERY, "variables": { "id": THREE }, "extensions": persisted(&wrong) },
        { "query": QUERY, "variables": { "id": THREE }, "extensions": persisted(&sha256(QUERY)) },
    ]);
    let (status, body) = app.post(batch).await;
    assert_eq!(status, 200);
    assert_eq!(codes(&body[0]), ["BAD_REQUEST"]);
    assert_eq!(body[1]["data"]["client"]["livePhotos"]["totalCount"], 3);

    for bad in [
        json!({ "persistedQuery": { "version": 2, "sha256Hash": sha256(QUERY) } }),
        json!({ "persistedQuery": { "version": 1, "sha256Hash": "not-hex" } }),
        json!({ "persistedQuery": "yes" }),
    ] {
        let (status, body) = app.post(json!({ "extensions": bad })).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(codes(&body), ["BAD_REQUEST"]);
    }
}
