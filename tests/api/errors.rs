//! Every failure as the contract's error table says: a code, a clear message, upstream
//! details, partial data, and never the key.

use complycube_graphql::simulator::Fault;
use serde_json::{json, Value};

use crate::helpers::*;

fn first_error(response: &Value) -> &Value {
    &response["errors"][0]
}

#[tokio::test]
async fn an_unknown_client_is_not_found_with_upstream_details() {
    let app = TestApp::spawn().await;
    let response = app
        .query(PAGE_QUERY, json!({ "id": "000000000000000000000000" }))
        .await;
    // `livePhotos` is nullable: the failure nulls it alone.
    assert_eq!(response["data"]["client"], json!({ "livePhotos": null }));
    let error = first_error(&response);
    assert_eq!(error["extensions"]["code"], "NOT_FOUND");
    assert_eq!(error["path"], json!(["client", "livePhotos"]));
    assert_eq!(
        error["extensions"]["upstream"],
        json!({ "status": 404, "type": "resource_not_found", "message": "Invalid client id '000000000000000000000000'" })
    );
}

#[tokio::test]
async fn a_wrong_key_is_unauthenticated() {
    let (_sim, sim_addr) = spawn_simulator().await;
    let addr = start_service(&format!("http://{sim_addr}/v1"), "sk_test_wrong", |_| {}).await;
    let query = format!(r#"{{ client(id: "{DOCUMENTED}") {{ livePhotos {{ totalCount }} }} }}"#);
    let body = query_at(addr, &query).await;
    assert_eq!(codes(&body), vec!["UNAUTHENTICATED"]);
    assert_eq!(body["errors"][0]["extensions"]["upstream"]["status"], 401);
    assert_eq!(
        body["errors"][0]["extensions"]["upstream"]["type"],
        "unauthorized"
    );
    assert!(!body.to_string().contains("sk_test_wrong"));
}

#[tokio::test]
async fn upstream_statuses_map_to_their_codes_after_retrying_only_what_may_pass() {
    let app =
        TestApp::spawn_with(|c| c.upstream.retry.base_delay = std::time::Duration::from_millis(1))
            .await;
    for (status, code, calls) in [
        (400, "UPSTREAM_ERROR", 1),
        (401, "UNAUTHENTICATED", 1),
        (403, "FORBIDDEN", 1),
        (404, "NOT_FOUND", 1),
        (500, "UPSTREAM_ERROR", 1),
        (429, "RATE_LIMITED", 4),
        (502, "UPSTREAM_ERROR", 4),
        (503, "UPSTREAM_ERROR", 4),
        (504, "UPSTREAM_ERROR", 4),
    ] {
        app.reset_calls();
        app.fault(Fault {
            status: Some(status),
            ..Fault::default()
        });
        let response = app.query(PAGE_QUERY, json!({ "id": THREE })).await;
        assert_eq!(codes(&response), vec![code], "{status}: {response}");
        assert_eq!(
            response["errors"][0]["extensions"]["upstream"]["status"],
            status
        );
        assert_eq!(
            app.calls(),
            calls,
            "{status}: one try, plus three retries where it may pass"
        );
    }
}

#[tokio::test]
async fn unreadable_upstream_bodies_are_upstream_errors() {
    let app = TestApp::spawn().await;
    for body in [
        "not json",
        "{\"page\":1}",
        "{\"page\":1,\"pageSize\":20,\"totalItems\":3,\"pages\":1,\"items\":[]}",
        "{\"page\":1,\"pageSize\":20,\"totalItems\":3,\"pages\":1,\"items\":[{\"id\":\"kyc-secret",
    ] {
        app.fault(Fault {
            status: Some(200),
            body: Some(body.into()),
            times: Some(1),
            ..Fault::default()
        });
        let response = app.query(PAGE_QUERY, json!({ "id": THREE })).await;
        assert_eq!(
            codes(&response),
            vec!["UPSTREAM_ERROR"],
            "{body}: {response}"
        );
        assert_eq!(
            response["errors"][0]["extensions"]["upstream"]["type"],
            "invalid_response"
        );
        // The parser's message, not the photo data around the fault.
        let message = response["errors"][0]["message"].as_str().unwrap();
        assert!(
            !message.contains("kyc-secret") && !message.contains('\n'),
            "{message}"
        );
    }
}

#[tokio::test]
async fn one_failing_client_leaves_its_siblings_intact() {
    let app = TestApp::spawn().await;
    app.fault(Fault {
        client_id: Some(SEVEN.into()),
        status: Some(500),
        ..Fault::default()
    });
    let query = format!(
        r#"{{ ok: client(id: "{THREE}") {{ livePhotos {{ totalCount }} }}
             bad: client(id: "{SEVEN}") {{ livePhotos {{ totalCount }} }}
             missing: client(id: "ffffffffffffffffffffffff") {{ livePhotos {{ totalCount }} }} }}"#
    );
    let response = app.query(&query, json!({})).await;
    assert_eq!(response["data"]["ok"]["livePhotos"]["totalCount"], 3);
    assert_eq!(response["data"]["bad"], json!({ "livePhotos": null }));
    assert_eq!(response["data"]["missing"], json!({ "livePhotos": null }));
    let mut got = codes(&response);
    got.sort();
    assert_eq!(got, vec!["NOT_FOUND", "UPSTREAM_ERROR"]);
}

#[tokio::test]
async fn bad_arguments_are_bad_user_input_naming_the_problem() {
    let app = TestApp::spawn().await;
    let cases = [
        (
            json!({ "id": THREE, "first": -1 }),
            "`first` must not be negative",
        ),
        (
            json!({ "id": THREE, "last": -3 }),
            "`last` must not be negative",
        ),
        (json!({ "id": THREE, "first": 101 }), "at most 100"),
        (json!({ "id": THREE, "last": 5000 }), "at most 100"),
        (
            json!({ "id": THREE, "after": "garbage!" }),
            "`after` cursor is not a cursor",
        ),
        (
            json!({ "id": THREE, "before": "AAAA" }),
            "`before` cursor is not a cursor",
        ),
        (json!({ "id": "" }), "client id must not be empty"),
    ];
    for (vars, message) in cases {
        let response = app.query(PAGE_QUERY, vars.clone()).await;
        assert_eq!(
            codes(&response),
            vec!["BAD_USER_INPUT"],
            "{vars}: {response}"
        );
        let text = response["errors"][0]["message"].as_str().unwrap();
        assert!(text.contains(message), "{vars}: {text}");
    }
    assert_eq!(app.calls(), 0, "bad input never costs an upstream call");
}

#[tokio::test]
async fn the_maximum_is_configurable() {
    let app = TestApp::spawn_with(|c| c.limits.max_page_size = 500).await;
    assert_eq!(
        edge_ids(&page(&app, json!({ "id": BIG, "first": 500 })).await).len(),
        500
    );
    let response = app
        .query(PAGE_QUERY, json!({ "id": BIG, "first": 501 }))
        .await;
    assert!(response["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("at most 500"));
}

#[tokio::test]
async fn tampered_and_foreign_cursors_are_refused() {
    let app = TestApp::spawn().await;
    let conn = page(&app, json!({ "id": THIRTY_SEVEN, "first": 3 })).await;
    let cursor = conn["pageInfo"]["endCursor"].as_str().unwrap().to_owned();

    let mut tampered = cursor.clone().into_bytes();
    tampered[6] = if tampered[6] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let response = app
        .query(PAGE_QUERY, json!({ "id": THIRTY_SEVEN, "after": tampered }))
        .await;
    assert_eq!(codes(&response), vec!["BAD_USER_INPUT"]);
    assert!(
        response["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("altered"),
        "{response}"
    );

    let response = app
        .query(PAGE_QUERY, json!({ "id": TWELVE, "after": cursor }))
        .await;
    assert_eq!(codes(&response), vec!["BAD_USER_INPUT"]);
    assert!(response["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("different client or filter"));

    let filter = json!({ "createdAfter": "2020-01-01T00:00:00.000Z" });
    let response = app
        .query(
            PAGE_QUERY,
            json!({ "id": THIRTY_SEVEN, "after": cursor, "filter": filter }),
        )
        .await;
    assert_eq!(codes(&response), vec!["BAD_USER_INPUT"]);

    // The same filter written another way is the same filter.
    let filtered = page(
        &app,
        json!({ "id": THIRTY_SEVEN, "first": 2, "filter": filter }),
    )
    .await;
    let same = json!({ "createdAfter": "2020-01-01T01:00:00+01:00" });
    page(&app, json!({ "id": THIRTY_SEVEN, "first": 2, "filter": same, "after": filtered["pageInfo"]["endCursor"] })).await;
}

#[tokio::test]
async fn bad_dates_and_bad_types_are_bad_user_input() {
    let app = TestApp::spawn().await;
    let literal = format!(
        r#"{{ client(id: "{THREE}") {{ livePhotos(filter: {{ createdAfter: "last tuesday" }}) {{ totalCount }} }} }}"#
    );
    let response = app.query(&literal, json!({})).await;
    assert_all_bad_user_input(&response);

    let response = app
        .query(
            PAGE_QUERY,
            json!({ "id": THREE, "filter": { "createdAfter": "2020-02-30T00:00:00Z" } }),
        )
        .await;
    assert_all_bad_user_input(&response);

    let response = app
        .query(PAGE_QUERY, json!({ "id": THREE, "first": "ten" }))
        .await;
    assert_all_bad_user_input(&response);

    let response = app.query(&format!(r#"{{ client(id: "{THREE}") {{ livePhotos(first: 99999999999) {{ totalCount }} }} }}"#), json!({})).await;
    assert_all_bad_user_input(&response);
    assert_eq!(app.calls(), 0);
}

#[tokio::test]
async fn broken_graphql_gets_a_code_too() {
    let app = TestApp::spawn().await;
    let response = app.query("{ client(id: ", json!({})).await;
    assert_eq!(codes(&response), vec!["GRAPHQL_PARSE_FAILED"]);
    let response = app.query("{ nope }", json!({})).await;
    assert_eq!(codes(&response), vec!["GRAPHQL_VALIDATION_FAILED"]);
    // Variables that the document declares wrongly are the document's fault.
    for query in [
        "query($unused: Int) { __typename }",
        "{ client(id: $undeclared) { id: complyCubeId } }",
    ] {
        let response = app.query(query, json!({})).await;
        assert_eq!(
            codes(&response),
            vec!["GRAPHQL_VALIDATION_FAILED"],
            "{query}: {response}"
        );
    }
}

#[tokio::test]
async fn an_operation_the_schema_has_no_root_for_is_told_once() {
    // async-graphql's full validation reports it once per walk of the document (two).
    let app = TestApp::spawn().await;
    for (query, message) in [
        ("mutation { x }", "Schema is not configured for mutations."),
        (
            "subscription { x }",
            "Schema is not configured for subscriptions.",
        ),
    ] {
        // Twice: the first request validates in full, the second finds the document cached.
        for _ in 0..2 {
            let response = app.query(query, json!({})).await;
            assert_eq!(
                codes(&response),
                vec!["GRAPHQL_VALIDATION_FAILED"],
                "{query}: {response}"
            );
            assert_eq!(response["errors"][0]["message"], message, "{response}");
        }
    }
    // Errors that differ are all kept (five before: each missing root twice).
    let response = app
        .query(
            "mutation A { x } query B { nope } subscription C { y }",
            json!({}),
        )
        .await;
    let mut messages: Vec<&str> = response["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    messages.sort_unstable();
    assert_eq!(
        messages,
        [
            "Schema is not configured for mutations.",
            "Schema is not configured for subscriptions.",
            "Unknown field \"nope\" on type \"Query\". Did you mean \"node\"?",
        ],
        "{response}"
    );
}

#[tokio::test]
async fn bodies_that_are_not_graphql_are_4xx_not_5xx() {
    let app = TestApp::spawn().await;
    let http = reqwest::Client::new();
    for (content_type, body) in [
        ("application/json", "not json".to_owned()),
        ("application/json", String::new()),
        ("application/json", "[]".to_owned()),
        ("application/json", "{\"query\": 5}".to_owned()),
        ("text/plain", "{}".to_owned()),
        (
            "application/json",
            format!("{{\"query\": \"{}\"}}", "x".repeat(200_000)),
        ),
    ] {
        let response = http
            .post(app.url("/graphql"))
            .header("content-type", content_type)
            .body(body.clone())
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        // A body not declared as JSON is refused for its media type (415) before it is read.
        let expected: &[u16] = match content_type {
            "application/json" => &[400, 413],
            _ => &[415],
        };
        assert!(
            expected.contains(&status),
            "{status} for {body:.40}: {text}"
        );
        let json: Value =
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("JSON for {body:.40}: {text}"));
        let code = match status {
            413 => "PAYLOAD_TOO_LARGE",
            415 => "UNSUPPORTED_MEDIA_TYPE",
            _ => "BAD_REQUEST",
        };
        assert_eq!(codes(&json), vec![code], "{body:.40}");
        if body == "{\"query\": 5}" {
            // Said as what is wrong, and where, not as "did not match any variant".
            let message = json["errors"][0]["message"].as_str().unwrap();
            assert!(
                message.contains("expected a string at line 1 column 11"),
                "{message}"
            );
        }
    }
    let too_many: Vec<Value> = (0..17)
        .map(|_| json!({ "query": "{ __typename }" }))
        .collect();
    let (status, body) = app.post(Value::Array(too_many)).await;
    assert_eq!(status, 400, "{body}");
    // Still serving afterwards.
    assert_eq!(
        http.get(app.url("/healthz")).send().await.unwrap().status(),
        200
    );
}

#[tokio::test]
async fn an_operation_without_a_query_is_told_so_alone_or_in_a_batch() {
    let app = TestApp::spawn().await;
    let no_query = "the request has no `query`";
    let unread = "its `documentId` is not read: this server has no trusted documents";
    for (operation, said) in [
        (json!({}), no_query),
        (json!({ "query": "  " }), no_query),
        (json!({ "documentId": "sha256:ab" }), unread),
    ] {
        let (status, body) = app.post(operation.clone()).await;
        assert_eq!(status, 400, "{operation}: {body}");
        assert_eq!(codes(&body), vec!["BAD_REQUEST"], "{operation}: {body}");
        let message = body["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains(said), "{operation}: {message}");
        // In a batch, that operation's error, the same words; its neighbour still runs.
        let (status, body) = app
            .post(json!([{ "query": "{ __typename }" }, operation]))
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body[0]["data"]["__typename"], "Query", "{body}");
        assert_eq!(codes(&body[1]), vec!["BAD_REQUEST"], "{body}");
        let message = body[1]["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains(said), "{message}");
    }
    // Over GET, the same.
    let response = reqwest::get(app.url("/graphql?documentId=sha256:ab"))
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains(unread), "{message}");
}

/// Every error of the response (and there is one at least) is `BAD_USER_INPUT`.
fn assert_all_bad_user_input(response: &Value) {
    let codes = codes(response);
    assert!(
        !codes.is_empty() && codes.iter().all(|c| c == "BAD_USER_INPUT"),
        "{response}"
    );
}

/// Variables are checked before anything runs, as the spec's CoerceVariableValues says: a
/// missing, null or ill-typed value fails the whole request (`data` is null), and the answer is
/// the same whether or not the service has seen and validated the query before.
#[tokio::test]
async fn bad_variables_fail_the_whole_request_every_time() {
    let app = TestApp::spawn().await;
    let cases = [
        json!({}),
        json!({ "id": null }),
        json!({ "id": THREE, "first": "ten" }),
        json!({ "id": THREE, "first": 2_147_483_648_i64 }),
        json!({ "id": THREE, "filter": { "createdAfter": "last tuesday" } }),
        json!({ "id": THREE, "filter": { "createdSince": "2020-01-01T00:00:00Z" } }),
        json!({ "id": THREE, "filter": "2020-01-01T00:00:00Z" }),
    ];
    let mut first_answers = Vec::new();
    for variables in &cases {
        first_answers.push(app.query(PAGE_QUERY, variables.clone()).await);
        // A good request in between: the query is now known and validated.
        let good = app.query(PAGE_QUERY, json!({ "id": THREE })).await;
        assert!(good.get("errors").is_none(), "{good}");
    }
    for (variables, first) in cases.iter().zip(&first_answers) {
        let again = app.query(PAGE_QUERY, variables.clone()).await;
        assert_eq!(&again, first, "{variables}");
        assert_eq!(again["data"], Value::Null, "{variables}: {again}");
        assert_all_bad_user_input(&again);
        let message = again["errors"][0]["message"].as_str().unwrap();
        assert!(message.starts_with("Variable \"$"), "{message}");
    }
    let good_requests = cases.len() as u64;
    assert_eq!(
        app.calls(),
        good_requests,
        "only the good requests reach upstream"
    );
}

/// Of several operations, only the one that runs has its variables checked.
#[tokio::test]
async fn only_the_chosen_operations_variables_are_checked() {
    let app = TestApp::spawn().await;
    let document =
        "query A($id: ID!) { client(id: $id) { id: complyCubeId } } query B { __typename }";
    let (status, body) = app
        .post(json!({ "query": document, "operationName": "B" }))
        .await;
    assert_eq!(
        (status, &body),
        (200, &json!({ "data": { "__typename": "Query" } }))
    );
    let (_, body) = app
        .post(json!({ "query": document, "operationName": "A" }))
        .await;
    assert_eq!(codes(&body), vec!["BAD_USER_INPUT"], "{body}");
    assert!(body["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("\"$id\""));
}
