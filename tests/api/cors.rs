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
