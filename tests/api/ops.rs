//! Operating the service: request ids (taken or made, returned, sent upstream), the
//! Prometheus metrics at `/metrics`, and readiness through a graceful shutdown.

use std::time::Duration;

use complycube_graphql::simulator::Fault;
use serde_json::{json, Value};

use crate::helpers::*;

async fn post_with_id(app: &TestApp, id: Option<&str>, body: Value) -> reqwest::Response {
    let mut request = reqwest::Client::new().post(app.url("/graphql")).json(&body);
    if let Some(id) = id {
        request = request.header("x-request-id", id);
    }
    request.send().await.unwrap()
}

fn returned_id(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("x-request-id")
        .expect("every answer carries x-request-id")
        .to_str()
        .unwrap()
        .to_owned()
}

fn is_uuid_v4(id: &str) -> bool {
    let parts: Vec<&str> = id.split('-').collect();
    parts.iter().map(|p| p.len()).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
        && parts
            .iter()
            .all(|p| p.chars().all(|c| c.is_ascii_hexdigit()))
        && parts[2].starts_with('4')
}

/// The request ids ComplyCube saw, one per /v1 request.
fn upstream_ids(app: &TestApp) -> Vec<Option<String>> {
    app.sim
        .request_headers()
        .into_iter()
        .map(|(id, _)| id)
        .collect()
}

const TWO_CLIENTS: &str = r#"{
  a: client(id: "5f1e0a3c9d2b4a0008a10003") { livePhotos(first: 2) { totalCount } }
  b: client(id: "5f1e0a3c9d2b4a0008a10007") { livePhotos(first: 2) { totalCount } }
}"#;

#[tokio::test]
async fn a_callers_request_id_comes_back_and_reaches_complycube() {
    let app = TestApp::spawn().await;
    let id = "checkout-7f3a:retry/2";
    let response = post_with_id(&app, Some(id), json!({ "query": TWO_CLIENTS })).await;
    assert_eq!(returned_id(&response), id);
    let body: Value = response.json().await.unwrap();
    assert!(body.get("errors").is_none(), "{body}");
    let seen = upstream_ids(&app);
    assert_eq!(seen.len(), 2, "two lists: {:?}", app.sim.request_log());
    assert!(seen.iter().all(|s| s.as_deref() == Some(id)), "{seen:?}");
}

#[tokio::test]
async fn without_a_sane_id_one_is_made_and_sent_upstream() {
    let app = TestApp::spawn().await;
    let long = "x".repeat(129);
    for given in [None, Some(long.as_str()), Some("has space"), Some("")] {
        app.reset_calls();
        let response = post_with_id(&app, given, json!({ "query": TWO_CLIENTS })).await;
        let id = returned_id(&response);
        assert!(is_uuid_v4(&id), "{given:?} gave {id}");
        let seen = upstream_ids(&app);
        assert!(!seen.is_empty());
        assert!(
            seen.iter().all(|s| s.as_deref() == Some(id.as_str())),
            "{seen:?}"
        );
    }
    let longest = "y".repeat(128);
    let response = post_with_id(&app, Some(&longest), json!({ "query": "{ __typename }" })).await;
    assert_eq!(returned_id(&response), longest);
}

#[tokio::test]
async fn every_answer_carries_a_request_id_refusals_included() {
    let app = TestApp::spawn().await;
    let http = reqwest::Client::new();
    let answers = [
        http.get(app.url("/healthz")).send().await.unwrap(),
        http.get(app.url("/readyz")).send().await.unwrap(),
        http.get(app.url("/metrics")).send().await.unwrap(),
        http.get(app.url("/nope")).send().await.unwrap(),
        http.get(app.url("/graphql")).send().await.unwrap(),
        http.post(app.url("/graphql"))
            .body("{}")
            .send()
            .await
            .unwrap(),
        http.post(app.url("/graphql"))
            .header("content-type", "application/json")
            .header("accept", "text/html")
            .body("{}")
            .send()
            .await
            .unwrap(),
        http.post(app.url("/graphql"))
            .header("content-type", "application/json")
            .body(vec![b' '; 1024 * 1024])
            .send()
            .await
            .unwrap(),
    ];
    let statuses: Vec<u16> = answers.iter().map(|a| a.status().as_u16()).collect();
    assert_eq!(statuses, [200, 200, 200, 404, 400, 415, 406, 413]);
    for answer in &answers {
        assert!(is_uuid_v4(&returned_id(answer)), "{}", answer.status());
    }
    let given = http
        .post(app.url("/graphql"))
        .header("x-request-id", "refused-1")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(
        (given.status().as_u16(), returned_id(&given).as_str()),
        (415, "refused-1")
    );
}

/// The metrics page, as text.
pub async fn scrape(app: &TestApp) -> String {
    let response = reqwest::get(app.url("/metrics")).await.unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        content_type.starts_with("application/openmetrics-text"),
        "{content_type}"
    );
    let text = response.text().await.unwrap();
    assert!(!text.contains(TEST_KEY), "the key is in the metrics");
    text
}

/// The value of the sample `series` (name and labels exactly as written), 0 if absent.
pub fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .map(|value| value.split(' ').next().unwrap().parse().unwrap())
        .unwrap_or(0.0)
}

#[tokio::test]
async fn counters_move_with_queries_and_upstream_calls() {
    let app = TestApp::spawn().await;
    let before = scrape(&app).await;
    let query = r#"query OpsMetricsProbe { client(id: "5f1e0a3c9d2b4a0008a10003") {
        livePhotos(first: 2) { nodes { id: complyCubeId } } } }"#;
    for _ in 0..2 {
        let response = app.query(query, json!({})).await;
        assert!(response.get("errors").is_none(), "{response}");
    }
    let missing = r#"query OpsMetricsMissing { client(id: "ffffffffffffffffffffffff") { livePhotos { totalCount } } }"#;
    let response = app.query(missing, json!({})).await;
    assert_eq!(codes(&response), vec!["NOT_FOUND"]);
    let (_, parse_error) = app.post(json!({ "query": "{" })).await;
    assert_eq!(codes(&parse_error), vec!["GRAPHQL_PARSE_FAILED"]);
    let after = scrape(&app).await;

    let moved = |series: &str| sample(&after, series) - sample(&before, series);
    let ops = "complycube_graphql_graphql_requests_total";
    assert_eq!(
        moved(&format!(
            r#"{ops}{{operation="OpsMetricsProbe",outcome="ok"}}"#
        )),
        2.0,
        "{after}"
    );
    assert_eq!(
        moved(&format!(
            r#"{ops}{{operation="OpsMetricsMissing",outcome="not_found"}}"#
        )),
        1.0
    );
    assert!(
        moved(&format!(
            r#"{ops}{{operation="(anonymous)",outcome="graphql_parse_failed"}}"#
        )) >= 1.0
    );
    let upstream = "complycube_graphql_upstream_requests_total";
    assert!(
        moved(&format!(
            r#"{upstream}{{endpoint="list_live_photos",status="200"}}"#
        )) >= 2.0
    );
    assert!(
        moved(&format!(
            r#"{upstream}{{endpoint="list_live_photos",status="404"}}"#
        )) >= 1.0
    );
    assert!(
        moved(
            r#"complycube_graphql_upstream_request_duration_seconds_count{endpoint="list_live_photos"}"#
        ) >= 3.0
    );
    assert!(moved(r#"complycube_graphql_loader_batch_size_count{loader="pages"}"#) >= 3.0);
    assert!(moved("complycube_graphql_graphql_request_duration_seconds_count") >= 4.0);
    // Every upstream series names its endpoint; no id or URL is a label.
    for line in after
        .lines()
        .filter(|l| l.starts_with("complycube_graphql_upstream"))
        .filter(|l| !l.starts_with("complycube_graphql_upstream_rate_budget"))
    {
        assert!(line.contains("endpoint=\""), "{line}");
        assert!(!line.contains("5f1e0a3c9d2b4a0008a10003"), "{line}");
    }
    for line in after.lines().filter(|l| !l.starts_with('#')) {
        assert!(
            !line.contains("clientId") && !line.contains("ffffffffffff"),
            "{line}"
        );
    }
    assert!(after.contains("# TYPE complycube_graphql_graphql_requests_in_flight gauge"));
    assert!(after.contains(r#"complycube_graphql_auth_refusals_total{reason="missing"}"#));
}

#[tokio::test]
async fn retries_and_failures_are_counted_by_kind() {
    let app = TestApp::spawn_with(|config| {
        config.upstream.retry.base_delay = Duration::from_millis(1);
        config.upstream.retry.max_delay = Duration::from_millis(2);
    })
    .await;
    let before = scrape(&app).await;
    app.fault(Fault {
        status: Some(503),
        times: Some(1),
        ..Fault::default()
    });
    let response = app
        .query(
            r#"{ client(id: "5f1e0a3c9d2b4a0008a10003") { livePhotos(first: 1) { totalCount } } }"#,
            json!({}),
        )
        .await;
    assert!(
        response.get("errors").is_none(),
        "retried to success: {response}"
    );
    let after = scrape(&app).await;
    let moved = |series: &str| sample(&after, series) - sample(&before, series);
    assert!(
        moved(r#"complycube_graphql_upstream_retries_total{endpoint="list_live_photos"}"#) >= 1.0
    );
    assert!(
        moved(
            r#"complycube_graphql_upstream_requests_total{endpoint="list_live_photos",status="503"}"#
        ) >= 1.0
    );
}

#[tokio::test]
async fn odd_operation_names_never_become_labels() {
    let app = TestApp::spawn().await;
    let odd = "Drop-Table<script>";
    let (_, response) = app
        .post(json!({ "query": "query A { __typename }", "operationName": odd }))
        .await;
    assert!(!codes(&response).is_empty());
    let long = format!("Q{}", "x".repeat(80));
    let response = app
        .query(&format!("query {long} {{ __typename }}"), json!({}))
        .await;
    assert!(response.get("errors").is_none());
    let text = scrape(&app).await;
    assert!(!text.contains(odd) && !text.contains(&long));
    assert!(text.contains(r#"operation="(other)""#));
}

#[tokio::test]
async fn readiness_turns_503_at_shutdown_while_requests_in_flight_finish() {
    let (sim, sim_addr) = spawn_simulator().await;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let mut config = complycube_graphql::ServiceConfig::new(
        complycube_graphql::upstream::UpstreamSettings::new(
            format!("http://{sim_addr}/v1"),
            Some(complycube_graphql::upstream::ApiKey::new(TEST_KEY)),
        ),
    );
    config.shutdown_delay = Duration::from_millis(600);
    let addr = complycube_graphql::start(listener().await, &config, async {
        let _ = stopped.await;
    })
    .await
    .unwrap();
    let url = |path: &str| format!("http://{addr}{path}");
    // A fresh connection each time: what a load balancer's probe does.
    let probe = |path: &'static str| {
        let url = url(path);
        async move {
            reqwest::Client::builder()
                .pool_max_idle_per_host(0)
                .build()
                .unwrap()
                .get(url)
                .send()
                .await
                .map(|r| r.status().as_u16())
        }
    };
    assert_eq!(probe("/readyz").await.unwrap(), 200);

    // A slow request, in flight across the whole shutdown.
    sim.add_fault(Fault {
        delay_ms: Some(1_200),
        ..Fault::default()
    });
    let slow = tokio::spawn(query_at(
        addr,
        r#"{ client(id: "5f1e0a3c9d2b4a0008a10003") { livePhotos(first: 1) { totalCount } } }"#,
    ));
    // In flight for sure once the simulator has its upstream call (no guess at a sleep).
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while sim.request_count() == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the slow request never reached upstream"
        );
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    stop.send(()).unwrap();

    let mut not_ready = false;
    for _ in 0..50 {
        if probe("/readyz").await.unwrap() == 503 {
            not_ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        not_ready,
        "/readyz turns 503 once the shutdown signal fires"
    );
    assert_eq!(probe("/healthz").await.unwrap(), 200, "liveness stays 200");

    let answer = tokio::time::timeout(Duration::from_secs(10), slow)
        .await
        .expect("the slow request finishes")
        .unwrap();
    assert_eq!(
        answer["data"]["client"]["livePhotos"]["totalCount"], 3,
        "{answer}"
    );
    // Drained: the listener is closed.
    let mut closed = false;
    for _ in 0..100 {
        if probe("/healthz").await.is_err() {
            closed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(closed, "the service stops once drained");
}
