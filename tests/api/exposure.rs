//! The production switches: `--no-introspection` and `--no-playground`.

use serde_json::json;

use crate::{helpers::*, tokens::graphql_get_url};

#[tokio::test]
async fn without_introspection_schema_and_type_are_refused_but_typename_answers() {
    let app = TestApp::spawn_with(|config| config.access.introspection = false).await;
    for query in [
        "{ __schema { queryType { name } } }",
        r#"{ __type(name: "Client") { name } }"#,
        "query { client(id: \"5f1e0a3c9d2b4a0008a10003\") { id: complyCubeId } __schema { types { name } } }",
    ] {
        let response = app.query(query, json!({})).await;
        assert!(
            response.get("data").is_none_or(|d| d.is_null()),
            "{response}"
        );
        assert_eq!(
            codes(&response),
            ["GRAPHQL_VALIDATION_FAILED"],
            "{response}"
        );
    }
    let response = app
        .query(
            &format!(r#"{{ __typename client(id: "{THREE}") {{ __typename complyCubeId }} }}"#),
            json!({}),
        )
        .await;
    assert_eq!(
        response,
        json!({ "data": { "__typename": "Query", "client": { "__typename": "Client", "complyCubeId": THREE } } })
    );

    // On by default.
    let open = TestApp::spawn().await;
    let response = open
        .query("{ __schema { queryType { name } } }", json!({}))
        .await;
    assert_eq!(response["data"]["__schema"]["queryType"]["name"], "Query");
}

#[tokio::test]
async fn without_the_playground_no_graphiql_is_served() {
    let app = TestApp::spawn_with(|config| config.access.playground = false).await;
    let http = reqwest::Client::new();
    for path in ["/", "/graphiql/graphiql.min.js"] {
        let status = http.get(app.url(path)).send().await.unwrap().status();
        assert_eq!(status, 404, "{path}");
    }
    let browser = http
        .get(app.url("/graphql"))
        .header("accept", "text/html,application/xhtml+xml")
        .send()
        .await
        .unwrap();
    assert_eq!(browser.status(), 406);
    assert!(!browser.text().await.unwrap().contains("<html"));
    // GraphQL over GET still works.
    let get = http
        .get(graphql_get_url(&app, &[("query", "{ __typename }")]))
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), 200);
    assert_eq!(
        http.get(app.url("/healthz")).send().await.unwrap().status(),
        200
    );
}
