//! GraphQL over HTTP's media types and status codes, for POST, GET and batches: the
//! `Accept` header picks `application/json` (legacy: always 200) or
//! `application/graphql-response+json` (400 for request errors, 200 for field errors).

use serde_json::{json, Value};

use crate::helpers::*;

const GQL: &str = "application/graphql-response+json";
const JSON: &str = "application/json";

/// An answer: status, media type (without parameters), parsed body.
struct Answer {
    status: u16,
    media: String,
    body: Value,
}

impl Answer {
    fn has_data(&self) -> bool {
        self.body.get("data").is_some()
    }
}

async fn read(response: reqwest::Response) -> Answer {
    let status = response.status().as_u16();
    let media = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"));
    Answer {
        status,
        media,
        body,
    }
}

async fn post(app: &TestApp, accept: Option<&str>, body: Value) -> Answer {
    let mut request = reqwest::Client::new()
        .post(app.url("/graphql"))
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(accept) = accept {
        request = request.header("accept", accept);
    }
    read(request.send().await.unwrap()).await
}

async fn get(app: &TestApp, accept: Option<&str>, query: &str) -> Answer {
    let url = reqwest::Url::parse_with_params(&app.url("/graphql"), [("query", query)]).unwrap();
    let mut request = reqwest::Client::new().get(url);
    if let Some(accept) = accept {
        request = request.header("accept", accept);
    }
    read(request.send().await.unwrap()).await
}

const OK: &str =
    r#"{ client(id: "5f1e0a3c9d2b4a0008a10003") { livePhotos(first: 1) { totalCount } } }"#;
const PARSE_ERROR: &str = "{ client(id: ";
const INVALID: &str = "{ nope }";
const FIELD_ERROR: &str =
    r#"{ client(id: "ffffffffffffffffffffffff") { livePhotos { totalCount } } }"#;
const WITH_VARIABLE: &str = "query($n: Int) { client(id: \"5f1e0a3c9d2b4a0008a10003\") { livePhotos(first: $n) { totalCount } } }";

#[tokio::test]
async fn with_no_accept_or_application_json_every_graphql_answer_is_200_json() {
    let app = TestApp::spawn().await;
    for accept in [None, Some(JSON), Some("*/*"), Some("application/*")] {
        let ok = post(&app, accept, json!({ "query": OK })).await;
        assert_eq!((ok.status, ok.media.as_str()), (200, JSON), "{accept:?}");
        assert_eq!(ok.body["data"]["client"]["livePhotos"]["totalCount"], 3);

        for (query, code) in [
            (PARSE_ERROR, "GRAPHQL_PARSE_FAILED"),
            (INVALID, "GRAPHQL_VALIDATION_FAILED"),
        ] {
            let failed = post(&app, accept, json!({ "query": query })).await;
            assert_eq!((failed.status, failed.media.as_str()), (200, JSON));
            assert_eq!(codes(&failed.body), vec![code]);
            assert!(
                !failed.has_data(),
                "a request error has no data: {}",
                failed.body
            );
        }
        let coerced = post(
            &app,
            accept,
            json!({ "query": WITH_VARIABLE, "variables": { "n": "ten" } }),
        )
        .await;
        assert_eq!((coerced.status, coerced.media.as_str()), (200, JSON));
        assert_eq!(codes(&coerced.body), vec!["BAD_USER_INPUT"]);
        assert!(!coerced.has_data(), "{}", coerced.body);
    }
}

#[tokio::test]
async fn graphql_response_json_makes_request_errors_400_without_data() {
    let app = TestApp::spawn().await;
    let ok = post(&app, Some(GQL), json!({ "query": OK })).await;
    assert_eq!((ok.status, ok.media.as_str()), (200, GQL));
    assert_eq!(ok.body["data"]["client"]["livePhotos"]["totalCount"], 3);

    for (body, code) in [
        (json!({ "query": PARSE_ERROR }), "GRAPHQL_PARSE_FAILED"),
        (json!({ "query": INVALID }), "GRAPHQL_VALIDATION_FAILED"),
        (
            json!({ "query": WITH_VARIABLE, "variables": { "n": "ten" } }),
            "BAD_USER_INPUT",
        ),
        (
            json!({ "query": "query A { __typename }", "operationName": "B" }),
            "GRAPHQL_VALIDATION_FAILED",
        ),
    ] {
        let failed = post(&app, Some(GQL), body.clone()).await;
        assert_eq!(
            (failed.status, failed.media.as_str()),
            (400, GQL),
            "{body}: {}",
            failed.body
        );
        assert_eq!(codes(&failed.body), vec![code], "{body}");
        assert!(!failed.has_data(), "{body}: {}", failed.body);
    }
}

#[tokio::test]
async fn field_errors_during_execution_stay_200_with_data() {
    let app = TestApp::spawn().await;
    for accept in [Some(GQL), None] {
        let partial = post(&app, accept, json!({ "query": FIELD_ERROR })).await;
        assert_eq!(partial.status, 200, "{accept:?}: {}", partial.body);
        assert_eq!(codes(&partial.body), vec!["NOT_FOUND"]);
        assert!(partial.has_data(), "{}", partial.body);
        assert_eq!(
            partial.body["data"],
            json!({ "client": { "livePhotos": null } })
        );
    }
}

#[tokio::test]
async fn q_values_pick_the_media_type() {
    let app = TestApp::spawn().await;
    for (accept, media) in [
        (format!("{GQL}, {JSON};q=0.9"), GQL),
        (format!("{GQL};q=0.5, {JSON}"), JSON),
        (format!("{JSON};q=0.1, {GQL}"), GQL),
        (format!("{JSON}, {GQL}"), JSON),
        (format!("{JSON};q=0, */*"), GQL),
        (format!("text/html, {GQL};q=0.2"), GQL),
    ] {
        let failed = post(&app, Some(&accept), json!({ "query": PARSE_ERROR })).await;
        assert_eq!(failed.media, media, "{accept}");
        assert_eq!(
            failed.status,
            if media == GQL { 400 } else { 200 },
            "{accept}"
        );
    }
}

#[tokio::test]
async fn an_accept_allowing_neither_type_is_406() {
    let app = TestApp::spawn().await;
    for accept in [
        "text/html",
        "application/xml",
        &format!("{JSON};q=0, {GQL};q=0"),
    ] {
        let refused = post(&app, Some(accept), json!({ "query": OK })).await;
        assert_eq!(refused.status, 406, "{accept}");
        assert_eq!(codes(&refused.body), vec!["NOT_ACCEPTABLE"]);
        let refused = get(&app, Some(accept), "{ __typename }").await;
        assert_eq!(refused.status, 406, "GET {accept}");
    }
    assert_eq!(app.calls(), 0);
}

#[tokio::test]
async fn a_post_without_a_json_content_type_is_415() {
    let app = TestApp::spawn().await;
    let http = reqwest::Client::new();
    let body = json!({ "query": OK }).to_string();
    for (content_type, accept, media) in [
        (Some("text/plain"), None, JSON),
        (Some("application/graphql"), Some(GQL), GQL),
        (Some("application/x-www-form-urlencoded"), None, JSON),
        (None, None, JSON),
    ] {
        let mut request = http.post(app.url("/graphql")).body(body.clone());
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        if let Some(accept) = accept {
            request = request.header("accept", accept);
        }
        let refused = read(request.send().await.unwrap()).await;
        assert_eq!(refused.status, 415, "{content_type:?}");
        assert_eq!(refused.media, media, "{content_type:?}");
        assert_eq!(
            codes(&refused.body),
            vec!["UNSUPPORTED_MEDIA_TYPE"],
            "{content_type:?}"
        );
    }
    let charset = http
        .post(app.url("/graphql"))
        .header("content-type", "application/json; charset=utf-8")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(charset.status(), 200);
    assert_eq!(app.calls(), 1);
}

#[tokio::test]
async fn get_follows_the_same_rules() {
    let app = TestApp::spawn().await;
    let ok = get(&app, None, "{ __typename }").await;
    assert_eq!((ok.status, ok.media.as_str()), (200, JSON));
    assert_eq!(ok.body, json!({ "data": { "__typename": "Query" } }));
    let ok = get(&app, Some(GQL), "{ __typename }").await;
    assert_eq!((ok.status, ok.media.as_str()), (200, GQL));

    let failed = get(&app, None, PARSE_ERROR).await;
    assert_eq!((failed.status, failed.media.as_str()), (200, JSON));
    assert!(!failed.has_data());
    let failed = get(&app, Some(GQL), PARSE_ERROR).await;
    assert_eq!((failed.status, failed.media.as_str()), (400, GQL));
    assert!(!failed.has_data());
    let failed = get(&app, Some(GQL), INVALID).await;
    assert_eq!(failed.status, 400);

    let partial = get(&app, Some(GQL), FIELD_ERROR).await;
    assert_eq!(partial.status, 200);
    assert!(partial.has_data());
}

#[tokio::test]
async fn a_batch_is_400_only_when_every_operation_failed_before_execution() {
    let app = TestApp::spawn().await;
    let mixed = json!([{ "query": OK }, { "query": PARSE_ERROR }, { "query": FIELD_ERROR }]);
    let answer = post(&app, Some(GQL), mixed.clone()).await;
    assert_eq!((answer.status, answer.media.as_str()), (200, GQL));
    let items = answer.body.as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(items[0]["data"]["client"]["livePhotos"]["totalCount"], 3);
    assert!(items[1].get("data").is_none(), "{}", items[1]);
    assert_eq!(codes(&items[1]), vec!["GRAPHQL_PARSE_FAILED"]);
    assert_eq!(
        items[2]["data"],
        json!({ "client": { "livePhotos": null } })
    );

    let all_failed = json!([
        { "query": PARSE_ERROR },
        { "query": INVALID },
        { "query": WITH_VARIABLE, "variables": { "n": "ten" } },
    ]);
    let answer = post(&app, Some(GQL), all_failed.clone()).await;
    assert_eq!((answer.status, answer.media.as_str()), (400, GQL));
    let items = answer.body.as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert!(items.iter().all(|item| item.get("data").is_none()));

    for batch in [mixed, all_failed] {
        let legacy = post(&app, None, batch).await;
        assert_eq!((legacy.status, legacy.media.as_str()), (200, JSON));
        assert!(legacy.body.is_array());
    }
}

#[tokio::test]
async fn refusals_of_the_transport_use_the_negotiated_media_type() {
    let app = TestApp::spawn().await;
    let http = reqwest::Client::new();
    let not_json = read(
        http.post(app.url("/graphql"))
            .header("content-type", "application/json")
            .header("accept", GQL)
            .body("not json")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((not_json.status, not_json.media.as_str()), (400, GQL));
    assert_eq!(codes(&not_json.body), vec!["BAD_REQUEST"]);
    let no_query = read(
        http.get(app.url("/graphql"))
            .header("accept", GQL)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((no_query.status, no_query.media.as_str()), (400, GQL));
}
