//! Hostile or broken input: limits on the shape of queries, bodies that are not GraphQL,
//! and random arguments thrown at the schema. Never a panic, a 5xx or a hang.

use std::time::Duration;

use proptest::prelude::*;
use serde_json::{json, Value};

use crate::helpers::*;

/// graphql-js's introspection query, as GraphiQL sends it (ofType nested deeply).
const INTROSPECTION: &str = r#"
query IntrospectionQuery {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description specifiedByURL
  fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name
    ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } } }
}"#;

#[tokio::test]
async fn graphiql_introspection_fits_the_limits() {
    let app = TestApp::spawn().await;
    let response = app.query(INTROSPECTION, json!({})).await;
    assert!(response.get("errors").is_none(), "{response}");
    assert_eq!(response["data"]["__schema"]["queryType"]["name"], "Query");
}

#[tokio::test]
async fn too_deep_a_query_is_refused() {
    let app = TestApp::spawn().await;
    let deep = format!(
        "{{ __schema {{ types {{ {} name {} }} }} }}",
        "ofType { ".repeat(20),
        "}".repeat(20)
    );
    let response = app.query(&deep, json!({})).await;
    assert_refused(&response, "deep");
}

#[tokio::test]
async fn too_complex_a_query_is_refused_before_any_upstream_call() {
    let app = TestApp::spawn().await;
    let fields = "totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { id: complyCubeId clientId downloadLink contentType performLivenessCheck size createdAt updatedAt } } nodes { id: complyCubeId clientId downloadLink contentType performLivenessCheck size createdAt updatedAt }";
    let query: String = (0..20)
        .map(|i| {
            format!(r#"c{i}: client(id: "{BIG}") {{ livePhotos(first: 100) {{ {fields} }} }} "#)
        })
        .collect();
    let response = app.query(&format!("{{ {query} }}"), json!({})).await;
    assert_refused(&response, "complex");
    assert_eq!(app.calls(), 0);
}

#[tokio::test]
async fn an_oversized_first_is_reported_as_such_not_as_complexity() {
    let app = TestApp::spawn().await;
    let query: String = (0..4)
        .map(|i| format!(r#"c{i}: client(id: "{BIG}") {{ livePhotos(first: 1000000) {{ totalCount nodes {{ id: complyCubeId size createdAt }} }} }} "#))
        .collect();
    let response = app.query(&format!("{{ {query} }}"), json!({})).await;
    let codes = codes(&response);
    assert_eq!(codes.len(), 4, "{response}");
    assert!(codes.iter().all(|c| c == "BAD_USER_INPUT"));
    assert!(response["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("at most"));
}

#[tokio::test]
async fn fragment_cycles_and_fragment_bombs_are_refused_and_the_service_lives_on() {
    let app = TestApp::spawn().await;
    let cycle = app
        .query("{ ...A } fragment A on Query { ...A }", json!({}))
        .await;
    assert_refused(&cycle, "spreads itself");
    let pair = app
        .query(
            "{ ...A } fragment A on Query { ...B } fragment B on Query { __typename ...A }",
            json!({}),
        )
        .await;
    assert_eq!(codes(&pair), vec!["GRAPHQL_VALIDATION_FAILED"], "{pair}");

    // Ten levels, each spreading the next ten times: 10^10 fields once expanded.
    let mut bomb = String::from("{ ...F0 } ");
    for level in 0..10 {
        let spreads = (0..10)
            .map(|_| format!("...F{} ", level + 1))
            .collect::<String>();
        bomb.push_str(&format!("fragment F{level} on Query {{ {spreads} }} "));
    }
    bomb.push_str("fragment F10 on Query { __typename }");
    let response = app.query(&bomb, json!({})).await;
    assert_refused(&response, "expanded");

    assert_eq!(page(&app, json!({ "id": THREE })).await["totalCount"], 3);
}

#[tokio::test]
async fn too_many_aliases_are_refused() {
    let app = TestApp::spawn().await;
    let query: String = (0..129).map(|i| format!("a{i}: __typename ")).collect();
    let response = app.query(&format!("{{ {query} }}"), json!({})).await;
    assert_refused(&response, "aliased");
}

#[tokio::test]
async fn unknown_operations_and_bad_variables_are_client_errors() {
    let app = TestApp::spawn().await;
    let (status, body) = app
        .post(json!({ "query": "query A { __typename }", "operationName": "B" }))
        .await;
    assert_eq!(status, 200);
    assert_eq!(codes(&body), vec!["GRAPHQL_VALIDATION_FAILED"], "{body}");

    let (status, body) = app
        .post(json!({ "query": "query A { __typename } query B { __typename }" }))
        .await;
    assert_eq!(status, 200);
    assert_eq!(codes(&body), vec!["GRAPHQL_VALIDATION_FAILED"], "{body}");

    let (status, body) = app
        .post(json!({ "query": PAGE_QUERY, "variables": "not an object" }))
        .await;
    assert!(
        (400..500).contains(&status) || codes(&body) == ["BAD_USER_INPUT"],
        "{status} {body}"
    );

    let (status, body) = app
        .post(json!({ "query": PAGE_QUERY, "variables": { "id": { "nested": true } } }))
        .await;
    assert_eq!(status, 200);
    assert!(
        !codes(&body).is_empty() && codes(&body).iter().all(|c| c == "BAD_USER_INPUT"),
        "{body}"
    );
}

#[tokio::test]
async fn odd_http_is_answered_with_4xx() {
    let app = TestApp::spawn().await;
    let http = reqwest::Client::new();
    let get_bad = http
        .get(app.url("/graphql?query=%7B"))
        .send()
        .await
        .unwrap();
    assert_eq!(get_bad.status(), 200, "a parse error is a GraphQL error");
    let get_nothing = http.get(app.url("/graphql")).send().await.unwrap();
    assert!(
        get_nothing.status().is_client_error(),
        "{}",
        get_nothing.status()
    );
    let put = http
        .put(app.url("/graphql"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 405);
    let missing = http.get(app.url("/nope")).send().await.unwrap();
    assert_eq!(missing.status(), 404);
    let big = http
        .post(app.url("/graphql"))
        .header("content-type", "application/json")
        .body(vec![b' '; 1024 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(big.status(), 413);
}

fn arbitrary_cursor() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        ".{0,40}".prop_map(Some),
        "[A-Za-z0-9_-]{20,26}".prop_map(Some),
        Just(Some("AQAAAAA7Ivwc91_s3J5pGW4".to_owned())),
    ]
}

fn arbitrary_date() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        ".{0,30}".prop_map(Value::String),
        (0i64..4_102_444_800_000).prop_map(|ms| json!(chrono::DateTime::from_timestamp_millis(ms)
            .unwrap()
            .to_rfc3339())),
        any::<i64>().prop_map(|n| json!(n)),
    ]
}

fn arbitrary_count() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        (-5i64..1200).prop_map(|n| json!(n)),
        any::<i64>().prop_map(|n| json!(n)),
        Just(json!("ten")),
        Just(json!(1.5)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn random_arguments_never_panic_5xx_or_hang(
        id in prop_oneof![Just(THIRTY_SEVEN.to_owned()), Just(BIG.to_owned()), ".{0,30}"],
        first in arbitrary_count(),
        last in arbitrary_count(),
        after in arbitrary_cursor(),
        before in arbitrary_cursor(),
        created_after in arbitrary_date(),
        updated_before in arbitrary_date(),
    ) {
        let runtime = shared_runtime();
        let app = runtime.block_on(shared_app());
        let vars = json!({
            "id": id, "first": first, "last": last, "after": after, "before": before,
            "filter": { "createdAfter": created_after, "updatedBefore": updated_before },
        });
        let (status, body) = runtime
            .block_on(async { tokio::time::timeout(Duration::from_secs(20), app.post(json!({ "query": PAGE_QUERY, "variables": vars }))).await })
            .expect("an answer, not a hang");
        prop_assert!(status < 500, "{} for {}: {}", status, vars, body);
        prop_assert!(body.get("data").is_some() || body.get("errors").is_some(), "{}", body);
        for code in codes(&body) {
            prop_assert!(code != "INTERNAL_SERVER_ERROR" && code != "<none>", "{} for {}: {}", code, vars, body);
        }
    }
}

/// One runtime and one app for all property cases (a server must outlive each case).
fn shared_runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
    })
}

async fn shared_app() -> &'static TestApp {
    static APP: tokio::sync::OnceCell<TestApp> = tokio::sync::OnceCell::const_new();
    APP.get_or_init(TestApp::spawn).await
}

/// The request was refused before execution, with a message that names the reason.
fn assert_refused(response: &Value, reason: &str) {
    assert_eq!(
        codes(response),
        vec!["GRAPHQL_VALIDATION_FAILED"],
        "{response}"
    );
    let message = response["errors"][0]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(message.contains(reason), "{reason} in {response}");
}
