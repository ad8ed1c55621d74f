//! CORS over real HTTP: preflights answered without credentials for allowed origins,
//! nothing for others, nothing at all unless configured.

use complycube_graphql::{
    auth::{Authentication, Credentials, Secret},
    http::cors::CorsPolicy,
};
use serde_json::json;

use crate::{helpers::*, tokens::*};

const APP: &str = "https://app.example.com";
const EVIL: &str = "https://evil.example.com";

async fn app_with(cors: CorsPolicy) -> TestApp {
    TestApp::spawn_with(|config| {
        config.access.cors = cors;
        config.access.auth = Authentication::Verify(Credentials {
            tokens: vec![Secret::new(STATIC_TOKEN)],
            jwt: None,
        });
    })
    .await
}

async fn preflight(app: &TestApp, origin: &str) -> reqwest::Response {
    reqwest::Client::new()
        .request(reqwest::Method::OPTIONS, app.url("/graphql"))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type",
        )
        .send()
        .await
        .unwrap()
}

fn allowed_origin(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get("access-control-allow-origin")
        .map(|v| v.to_str().unwrap().to_owned())
}

#[tokio::test]
async fn an_allowed_origin_gets_its_preflight_answered_without_credentials() {
    let app = app_with(CorsPolicy::Origins(vec![APP.into()])).await;
    let answer = preflight(&app, APP).await;
    assert!(answer.status().is_success(), "{}", answer.status());
    assert_eq!(allowed_origin(&answer).as_deref(), Some(APP));
    let headers = answer.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(
        headers.contains("authorization") && headers.contains("content-type"),
        "{headers}"
    );
    assert!(answer
        .headers()
        .get("access-control-allow-credentials")
        .is_none());

    // The request itself, and its refusal, carry the header too (so the app can read them).
    let call = |auth: Option<&'static str>| {
        let mut request = reqwest::Client::new()
            .post(app.url("/graphql"))
            .header("origin", APP)
            .json(&json!({ "query": "{ __typename }" }));
        if let Some(token) = auth {
            request = request.bearer_auth(token);
        }
        request.send()
    };
    let ok = call(Some(STATIC_TOKEN)).await.unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(allowed_origin(&ok).as_deref(), Some(APP));
    let refused = call(None).await.unwrap();
    assert_eq!(refused.status(), 401);
    assert_eq!(allowed_origin(&refused).as_deref(), Some(APP));
    assert_eq!(app.calls(), 0);
}

#[tokio::test]
async fn other_origins_get_no_cors_headers() {
    let app = app_with(CorsPolicy::Origins(vec![APP.into()])).await;
    let answer = preflight(&app, EVIL).await;
    assert_eq!(allowed_origin(&answer), None);
    let call = reqwest::Client::new()
        .post(app.url("/graphql"))
        .header("origin", EVIL)
        .bearer_auth(STATIC_TOKEN)
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(allowed_origin(&call), None);
}

#[tokio::test]
async fn nothing_is_allowed_by_default_and_anything_in_demo_style_any() {
    let off = app_with(CorsPolicy::Off).await;
    let answer = preflight(&off, APP).await;
    assert_eq!(allowed_origin(&answer), None);
    assert!(!answer.status().is_success(), "{}", answer.status());

    let any = app_with(CorsPolicy::Any).await;
    assert_eq!(
        allowed_origin(&preflight(&any, EVIL).await).as_deref(),
        Some("*")
    );
}

#[tokio::test]
async fn a_page_may_send_and_read_the_request_id_and_read_retry_after() {
    let app = app_with(CorsPolicy::Origins(vec![APP.into()])).await;
    let answer = reqwest::Client::new()
        .request(reqwest::Method::OPTIONS, app.url("/graphql"))
        .header("origin", APP)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type, x-request-id",
        )
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_success(), "{}", answer.status());
    let allowed = answer.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(allowed.contains("x-request-id"), "{allowed}");
    // The answer itself exposes them to scripts, refusals included.
    for authorization in [Some(bearer(STATIC_TOKEN)), None] {
        let mut request = reqwest::Client::new()
            .post(app.url("/graphql"))
            .header("origin", APP)
            .header("x-request-id", "page-report-1")
            .json(&json!({ "query": "{ __typename }" }));
        if let Some(authorization) = &authorization {
            request = request.header("authorization", authorization);
        }
        let answer = request.send().await.unwrap();
        let exposed = answer.headers()["access-control-expose-headers"]
            .to_str()
            .unwrap()
            .to_ascii_lowercase();
        assert!(
            exposed.contains("x-request-id") && exposed.contains("retry-after"),
            "{exposed}"
        );
        assert_eq!(answer.headers()["x-request-id"], "page-report-1");
    }
}

#[tokio::test]
async fn every_json_answer_says_its_charset_the_401_included() {
    let app = app_with(CorsPolicy::Off).await;
    let http = reqwest::Client::new();
    let refused = http
        .post(app.url("/graphql"))
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    let admitted = http
        .post(app.url("/graphql"))
        .header("authorization", bearer(STATIC_TOKEN))
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .unwrap();
    let not_graphql = http
        .post(app.url("/graphql"))
        .header("authorization", bearer(STATIC_TOKEN))
        .header("content-type", "application/json")
        .body("[not json")
        .send()
        .await
        .unwrap();
    for answer in [refused, admitted, not_graphql] {
        assert_eq!(
            answer.headers()["content-type"],
            "application/json; charset=utf-8",
            "{}",
            answer.status()
        );
    }
}
