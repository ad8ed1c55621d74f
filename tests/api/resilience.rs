//! Upstream faults: retries, Retry-After, deadlines, timeouts, garbage bodies, bounded
//! concurrency and a per-request call budget. Every fault is provoked in the simulator.

use std::time::{Duration, Instant};

use complycube_graphql::simulator::{Fault, Mangle};
use serde_json::{json, Value};

use crate::helpers::*;

/// A service that retries quickly, so the tests stay fast.
async fn quick_retries() -> TestApp {
    TestApp::spawn_with(|c| c.upstream.retry.base_delay = Duration::from_millis(1)).await
}

fn upstream_type(response: &Value) -> &Value {
    &response["errors"][0]["extensions"]["upstream"]["type"]
}

#[tokio::test]
async fn transient_failures_are_retried_until_they_pass() {
    let app = quick_retries().await;
    app.fault(Fault {
        status: Some(503),
        times: Some(2),
        ..Fault::default()
    });
    let conn = page(&app, json!({ "id": THREE })).await;
    assert_eq!(conn["totalCount"], 3);
    assert_eq!(app.calls(), 3);
}

#[tokio::test]
async fn retry_after_is_waited_for() {
    let app = quick_retries().await;
    app.fault(Fault {
        status: Some(429),
        retry_after: Some("1".into()),
        times: Some(1),
        ..Fault::default()
    });
    let started = Instant::now();
    let conn = page(&app, json!({ "id": THREE })).await;
    assert_eq!(conn["totalCount"], 3);
    assert_eq!(app.calls(), 2);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "the retry waited as asked"
    );
}

#[tokio::test]
async fn a_retry_after_beyond_the_cap_ends_retries_with_rate_limited() {
    let app = quick_retries().await;
    app.fault(Fault {
        status: Some(429),
        retry_after: Some("120".into()),
        ..Fault::default()
    });
    let response = app.query(PAGE_QUERY, json!({ "id": THREE })).await;
    assert_eq!(codes(&response), vec!["RATE_LIMITED"]);
    assert_eq!(response["errors"][0]["extensions"]["retryAfter"], 120);
    assert_eq!(
        response["errors"][0]["extensions"]["upstream"]["type"],
        "rate_limit_exceeded"
    );
    assert_eq!(app.calls(), 1);
}

#[tokio::test]
async fn the_request_deadline_ends_a_hanging_upstream() {
    let app = TestApp::spawn_with(|c| c.request_timeout = Duration::from_millis(300)).await;
    app.fault(Fault {
        delay_ms: Some(30_000),
        ..Fault::default()
    });
    let response = app.query(PAGE_QUERY, json!({ "id": THREE })).await;
    assert_eq!(codes(&response), vec!["UPSTREAM_ERROR"]);
    assert_eq!(upstream_type(&response), "timeout");
}

#[tokio::test]
async fn a_slow_upstream_request_times_out_and_is_retried() {
    let app = TestApp::spawn_with(|c| {
        c.upstream.request_timeout = Duration::from_millis(200);
        c.upstream.retry.base_delay = Duration::from_millis(1);
    })
    .await;
    app.fault(Fault {
        delay_ms: Some(30_000),
        times: Some(1),
        ..Fault::default()
    });
    let conn = page(&app, json!({ "id": THREE })).await;
    assert_eq!(conn["totalCount"], 3);
    assert_eq!(app.calls(), 2);
}

#[tokio::test]
async fn an_unreachable_upstream_is_an_upstream_error() {
    let port = listener().await.local_addr().unwrap().port(); // bound, then closed
    let addr = start_service(&format!("http://127.0.0.1:{port}/v1"), TEST_KEY, |c| {
        c.upstream.retry.base_delay = Duration::from_millis(1);
    })
    .await;
    let query = format!(r#"{{ client(id: "{THREE}") {{ livePhotos {{ totalCount }} }} }}"#);
    let body = query_at(addr, &query).await;
    assert_eq!(codes(&body), vec!["UPSTREAM_ERROR"]);
    assert_eq!(upstream_type(&body), "unreachable");
    assert!(!body.to_string().contains(TEST_KEY));
}

#[tokio::test]
async fn garbage_from_upstream_is_an_upstream_error_never_a_crash() {
    let app = quick_retries().await;
    for mangle in [
        Mangle::MalformedJson,
        Mangle::Truncated,
        Mangle::WrongTypes,
        Mangle::MissingFields,
        Mangle::ExtraItems,
        Mangle::InconsistentTotal,
        Mangle::EmptyPage,
        Mangle::Oversized,
    ] {
        app.fault(Fault {
            mangle: Some(mangle),
            times: Some(1),
            ..Fault::default()
        });
        let response = app
            .query(
                PAGE_QUERY,
                json!({ "id": THIRTY_SEVEN, "first": 20, "after": null }),
            )
            .await;
        assert_eq!(
            codes(&response),
            vec!["UPSTREAM_ERROR"],
            "{mangle:?}: {response}"
        );
        assert_eq!(upstream_type(&response), "invalid_response", "{mangle:?}");
        let message = response["errors"][0]["extensions"]["upstream"]["message"]
            .as_str()
            .unwrap();
        assert!(!message.is_empty(), "{mangle:?} explains itself");
    }
    // And it still serves.
    assert_eq!(
        page(&app, json!({ "id": THIRTY_SEVEN })).await["totalCount"],
        37
    );
}

#[tokio::test]
async fn a_body_that_trickles_in_is_usable_if_it_arrives_in_time() {
    let app = quick_retries().await;
    app.fault(Fault {
        mangle: Some(Mangle::Trickle),
        times: Some(1),
        ..Fault::default()
    });
    let conn = page(&app, json!({ "id": THREE })).await;
    assert_eq!(edge_ids(&conn), photo_ids(THREE));

    let app = TestApp::spawn_with(|c| {
        c.upstream.request_timeout = Duration::from_millis(100);
        c.upstream.retry.max_retries = 0;
    })
    .await;
    app.fault(Fault {
        mangle: Some(Mangle::Trickle),
        ..Fault::default()
    });
    let response = app.query(PAGE_QUERY, json!({ "id": THREE })).await;
    assert_eq!(codes(&response), vec!["UPSTREAM_ERROR"], "{response}");
    assert_eq!(upstream_type(&response), "timeout");
}

/// A query over `n` different lists (one client, `n` filters), so each costs a call.
fn many_lists(n: usize) -> String {
    let fields: String = (0..n)
        .map(|i| {
            format!(
                r#"l{i}: client(id: "{THIRTY_SEVEN}") {{ livePhotos(first: 2, filter: {{ createdAfter: "2000-01-01T00:{:02}:{:02}.000Z" }}) {{ totalCount }} }} "#,
                i / 60,
                i % 60
            )
        })
        .collect();
    format!("{{ {fields} }}")
}

#[tokio::test]
async fn upstream_concurrency_is_bounded_across_requests() {
    let app = TestApp::spawn_with(|c| c.upstream.max_concurrency = 2).await;
    app.fault(Fault {
        delay_ms: Some(20),
        ..Fault::default()
    });
    let query = many_lists(10);
    let queries = (0..3).map(|_| app.query(&query, json!({})));
    for response in futures::future::join_all(queries).await {
        assert!(response.get("errors").is_none(), "{response}");
        assert_eq!(response["data"]["l9"]["livePhotos"]["totalCount"], 37);
    }
    assert_eq!(app.calls(), 30);
    assert!(
        app.sim.max_in_flight() <= 2,
        "{} in flight",
        app.sim.max_in_flight()
    );
}

#[tokio::test]
async fn a_hundred_aliases_queue_and_all_answer() {
    let app = TestApp::spawn().await;
    let response = app.query(&many_lists(100), json!({})).await;
    assert!(response.get("errors").is_none(), "{response}");
    assert_eq!(response["data"].as_object().unwrap().len(), 100);
    assert_eq!(app.calls(), 100);
    assert!(app.sim.max_in_flight() <= 16);
}

#[tokio::test]
async fn one_request_has_a_budget_of_upstream_calls() {
    let app = TestApp::spawn_with(|c| c.max_upstream_calls = 5).await;
    let response = app.query(&many_lists(8), json!({})).await;
    let codes = codes(&response);
    assert_eq!(codes.len(), 3, "{response}");
    assert!(codes.iter().all(|c| c == "BAD_USER_INPUT"));
    assert!(response["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("more than 5 calls"));
    assert_eq!(app.calls(), 5);
}
