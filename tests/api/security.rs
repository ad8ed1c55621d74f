//! The attacks of the hardening review (issue 16), replayed against the running service:
//! each test fails if what it guards against comes back. Findings already replayed where
//! their feature lives: JWT lifetimes and unscoped tokens (`auth::a_jwt_that_lives_too_long_is_refused`,
//! `auth::by_default_a_jwt_without_client_ids_reads_no_client_and_costs_no_call`), another
//! tenant's photo read as missing (`auth::a_scoped_token_sees_another_clients_photo_as_missing`),
//! keys echoed by ComplyCube (`binary::the_key_never_reaches_a_response_or_the_log_even_at_trace_level`).

use std::{sync::Arc, time::Duration};

use complycube_graphql::http::{
    guard::AllowedHosts,
    trusted::{Mode, TrustedDocuments},
};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::{
    helpers::*,
    ops::{sample, scrape},
    tokens::graphql_get_url,
};

const LISTED: &str = "query Total($id: ID!) { client(id: $id) { livePhotos { totalCount } } }";

fn sha256(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A service that runs only [`LISTED`], known as `total-v1` (relay-compiler's format).
async fn trusted(mode: Mode) -> TestApp {
    let manifest = json!({ "total-v1": LISTED }).to_string();
    let documents = Arc::new(TrustedDocuments::parse(&manifest, mode).unwrap());
    TestApp::spawn_with(|config| config.access.trusted = Some(documents)).await
}

#[tokio::test]
async fn with_trusted_documents_only_listed_ones_run_by_id_hash_or_text() {
    let app = trusted(Mode::Enforce).await;
    let total = |body: &Value| body["data"]["client"]["livePhotos"]["totalCount"].clone();
    let variables = json!({ "id": THREE });
    let (status, by_id) = app
        .post(json!({ "documentId": "total-v1", "variables": variables }))
        .await;
    assert_eq!((status, total(&by_id)), (200, json!(3)), "{by_id}");
    let by_hash = app
        .post(json!({ "variables": variables, "extensions": { "persistedQuery": { "version": 1, "sha256Hash": sha256(LISTED) } } }))
        .await
        .1;
    assert_eq!(total(&by_hash), json!(3), "{by_hash}");
    assert_eq!(total(&app.query(LISTED, variables.clone()).await), json!(3));
    let get = reqwest::Client::new()
        .get(graphql_get_url(
            &app,
            &[
                ("documentId", "total-v1"),
                ("variables", &variables.to_string()),
            ],
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(total(&get.json().await.unwrap()), json!(3));
    app.reset_calls();
    // Anything else, however close, never runs and costs nothing upstream.
    for refused in [
        json!({ "query": "{ __schema { types { name } } }" }),
        json!({ "query": LISTED.replace("totalCount", "totalCount nodes { complyCubeId }"), "variables": variables }),
        json!({ "documentId": "total-v2", "variables": variables }),
        json!({ "documentId": "total-v1", "query": "{ __typename }" }),
        json!({ "query": "{ __typename }", "extensions": { "persistedQuery": { "version": 1, "sha256Hash": sha256("{ __typename }") } } }),
        json!({ "query": "not even GraphQL {" }),
    ] {
        let (status, body) = app.post(refused.clone()).await;
        assert_eq!(
            codes(&body),
            ["PERSISTED_QUERY_NOT_ALLOWED"],
            "{refused}: {body}"
        );
        assert!(
            body.get("data").is_none() || body["data"].is_null(),
            "{body}"
        );
        assert_eq!(
            status, 200,
            "{refused}: an operation refused, not a bad request"
        );
    }
    // In a batch, each operation is judged alone.
    let (_, batch) = app
        .post(json!([
            { "documentId": "total-v1", "variables": variables },
            { "query": "{ __typename }" }
        ]))
        .await;
    assert_eq!(total(&batch[0]), json!(3), "{batch}");
    assert_eq!(codes(&batch[1]), ["PERSISTED_QUERY_NOT_ALLOWED"]);
    assert_eq!(app.calls(), 1, "only the listed operation of the batch ran");
    let refusals = sample(
        &scrape(&app).await,
        "complycube_graphql_trusted_documents_unlisted_total{mode=\"enforce\"}",
    );
    assert!(refusals >= 7.0, "{refusals}");
}

#[tokio::test]
async fn in_log_mode_unlisted_documents_run_and_are_counted() {
    let app = trusted(Mode::Log).await;
    let text = scrape(&app).await;
    let before = sample(
        &text,
        "complycube_graphql_trusted_documents_unlisted_total{mode=\"log\"}",
    );
    let body = app.query("{ __typename }", json!({})).await;
    assert_eq!(body["data"]["__typename"], "Query", "{body}");
    let after = sample(
        &scrape(&app).await,
        "complycube_graphql_trusted_documents_unlisted_total{mode=\"log\"}",
    );
    assert!(after >= before + 1.0, "{before} -> {after}");
}

/// Open mode as `--allow-unauthenticated` on loopback sets it up.
async fn open_mode() -> TestApp {
    TestApp::spawn_with(|config| {
        config.access.allowed_hosts =
            Some(AllowedHosts::parse(&["localhost".into(), "127.0.0.1".into()]).unwrap());
        config.access.csrf_prevention = true;
    })
    .await
}

#[tokio::test]
async fn open_mode_answers_no_other_host_name_dns_rebinding() {
    let app = open_mode().await;
    let http = reqwest::Client::new();
    let query = json!({ "query": format!("{{ client(id: \"{THREE}\") {{ entityName }} }}") });
    for host in [
        "attacker.example",
        "attacker.example:8080",
        "localhost.attacker.example",
    ] {
        let response = http
            .post(app.url("/graphql"))
            .header("host", host)
            .json(&query)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 421, "{host}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(codes(&body), ["MISDIRECTED_REQUEST"], "{body}");
        let page = http
            .get(app.url("/"))
            .header("host", host)
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 421, "GraphiQL too, for {host}");
    }
    assert_eq!(app.calls(), 0);
    // Probes answer whatever the host; the names the service is known by are served.
    let probe = http
        .get(app.url("/healthz"))
        .header("host", "10.0.0.7")
        .send()
        .await
        .unwrap();
    assert_eq!(probe.status(), 200);
    let served = http
        .post(app.url("/graphql"))
        .json(&query)
        .send()
        .await
        .unwrap();
    assert_eq!(served.status(), 200);
    assert_eq!(app.calls(), 1);
}

#[tokio::test]
async fn open_mode_runs_no_get_a_page_could_send_cross_site() {
    let app = open_mode().await;
    let http = reqwest::Client::new();
    let query = format!("{{ client(id: \"{THREE}\") {{ entityName }} }}");
    // What an <img src> or a link sends.
    let simple = http
        .get(graphql_get_url(&app, &[("query", query.as_str())]))
        .send()
        .await
        .unwrap();
    assert_eq!(simple.status(), 400);
    let body: Value = simple.json().await.unwrap();
    assert_eq!(codes(&body), ["CSRF_REFUSED"], "{body}");
    assert_eq!(app.calls(), 0);
    let scripted = http
        .get(graphql_get_url(&app, &[("query", query.as_str())]))
        .header("x-graphql-csrf", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(scripted.status(), 200);
    let body: Value = scripted.json().await.unwrap();
    assert!(body["data"]["client"]["entityName"].is_string(), "{body}");
}

#[tokio::test]
async fn without_introspection_no_field_name_is_suggested() {
    let app = TestApp::spawn_with(|config| config.access.introspection = false).await;
    let (_, body) = app
        .post(json!({ "query": format!("{{ client(id: \"{THREE}\") {{ entityNam livePhoto {{ id }} }} }}") }))
        .await;
    let text = body.to_string();
    assert!(
        body["errors"].as_array().is_some_and(|e| !e.is_empty()),
        "{body}"
    );
    assert!(
        !text.contains("Did you mean") && !text.contains("entityName"),
        "{text}"
    );
    // With introspection on, the schema is no secret and suggestions help.
    let open = TestApp::spawn().await;
    let (_, body) = open
        .post(json!({ "query": format!("{{ client(id: \"{THREE}\") {{ entityNam }} }}") }))
        .await;
    assert!(body.to_string().contains("entityName"), "{body}");
}

#[tokio::test]
async fn graphiql_is_served_with_a_csp_and_cannot_be_framed() {
    let app = TestApp::spawn().await;
    let page = reqwest::get(app.url("/")).await.unwrap();
    assert_eq!(page.status(), 200);
    let headers = page.headers();
    let csp = headers["content-security-policy"].to_str().unwrap();
    for directive in ["default-src", "script-src", "frame-ancestors 'none'"] {
        assert!(csp.contains(directive), "{directive} in {csp}");
    }
    assert!(!csp.contains("unsafe-eval"), "{csp}");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert_eq!(headers["x-content-type-options"], "nosniff");
}

#[tokio::test]
async fn metrics_need_their_token_when_one_is_set() {
    let token = "a-metrics-token-of-some-length";
    let app = TestApp::spawn_with(|config| {
        config.access.metrics_token = Some(complycube_graphql::secrets::Secret::new(token))
    })
    .await;
    let http = reqwest::Client::new();
    for authorization in [None, Some("Bearer wrong-token-of-some-length"), Some(token)] {
        let mut request = http.get(app.url("/metrics"));
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 401, "{authorization:?}");
        assert!(
            !response.text().await.unwrap().contains("graphql_"),
            "no metrics"
        );
    }
    let response = http
        .get(app.url("/metrics"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.text().await.unwrap().contains("graphql_"));
}

/// A connection that sends its headers a byte at a time is closed after the header
/// timeout, long before it could hold the service (the review held one for 50 s).
#[tokio::test]
async fn trickled_headers_and_bodies_are_cut_off() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = TestApp::spawn_with(|config| {
        config.timeouts.header = Duration::from_millis(300);
        config.timeouts.body = Duration::from_millis(300);
    })
    .await;
    let mut trickle = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let headers =
        b"POST /graphql HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\n";
    let mut closed = false;
    for byte in headers.iter().cycle().take(600) {
        if trickle.write_all(&[*byte]).await.is_err() {
            closed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    if !closed {
        // Whatever was written, the server has hung up (or answers 408) by now.
        let mut rest = Vec::new();
        let read =
            tokio::time::timeout(Duration::from_secs(10), trickle.read_to_end(&mut rest)).await;
        closed = read.is_ok();
    }
    assert!(closed, "a 12 s trickle of headers kept its connection");
    // A body announced and never finished is answered 408.
    let mut slow = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    slow.write_all(b"POST /graphql HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"qu")
        .await
        .unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), slow.read_to_end(&mut answer))
        .await
        .expect("the server answers a stalled body")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert_eq!(app.calls(), 0);
}

/// 128 lookups in one query, as in the review (128 upstream calls in 0.16 s): with a live
/// key's default budget, what reaches ComplyCube is what the budget allows, the rest is
/// `RATE_LIMITED`, and one caller's share leaves the key's other half to the others.
#[tokio::test]
async fn lookups_past_the_rate_are_rate_limited_and_one_caller_takes_at_most_its_share() {
    use complycube_graphql::{
        auth::{Authentication, Credentials, Secret},
        upstream::{ApiKey, RateBudgetSettings},
    };
    const A: &str = "caller-a-token-0123456789";
    const B: &str = "caller-b-token-0123456789";
    let app = TestApp::spawn_with(|config| {
        // A live key's defaults (10 a second, 5 a caller), and no waiting for a slot, so
        // that what passes is the burst alone, plus what the clock refills meanwhile.
        config.upstream.rate_budget = RateBudgetSettings {
            queue_timeout: Duration::ZERO,
            ..RateBudgetSettings::default()
        }
        .resolve(None, None, Some(&ApiKey::new("live_example_key")));
        config.access.auth = Authentication::Verify(Credentials {
            tokens: vec![Secret::new(A), Secret::new(B)],
            jwt: None,
        });
    })
    .await;
    let ids = photo_ids(BIG);
    let query: String = ids[..128]
        .iter()
        .enumerate()
        .map(|(i, id)| format!("p{i}: livePhoto(id: \"{id}\") {{ complyCubeId }}\n"))
        .collect();
    let query = json!({ "query": format!("{{ {query} }}") });
    let started = std::time::Instant::now();
    let run = |token: &'static str| {
        let query = query.clone();
        let app = &app;
        async move {
            let response = reqwest::Client::new()
                .post(app.url("/graphql"))
                .bearer_auth(token)
                .json(&query)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200, "never a 5xx");
            let body: Value = response.json().await.unwrap();
            let answered = body["data"]
                .as_object()
                .unwrap()
                .values()
                .filter(|p| p.is_object())
                .count();
            let mut refused = codes(&body);
            refused.dedup();
            assert_eq!(refused, ["RATE_LIMITED"], "{body}");
            assert!(body["errors"][0]["extensions"]["retryAfter"].is_number());
            answered
        }
    };
    let a = run(A).await;
    let calls_after_a = app.calls();
    let b = run(B).await;
    // What the clock can have refilled since the start, at the caller's 5 a second.
    let refill = (started.elapsed().as_secs_f64() * 5.0).ceil() as usize + 1;
    assert_eq!(
        calls_after_a, a as u64,
        "only the answered lookups were sent"
    );
    assert!((5..=5 + refill).contains(&a), "caller A: {a} of 128");
    assert!(b >= 3, "caller B still has the key's other half: {b}");
    assert!(a + b <= 10 + 2 * refill, "{a} + {b}");
    assert_eq!(app.calls(), (a + b) as u64);
}

/// The binary as an operator starts it with a live key: the budget is on, at ComplyCube's
/// documented rate, with half of it for each caller; `UPSTREAM_RATE=off` turns it off.
#[tokio::test]
async fn a_live_key_gets_the_documented_rate_budget_unless_it_is_turned_off() {
    let upstream = "http://127.0.0.1:9/v1";
    let key = "live_an-example-key-0123";
    let env = [
        ("COMPLYCUBE_API_KEY", key),
        ("ALLOW_UNAUTHENTICATED", "true"),
    ];
    let on = crate::binary::start(&["--upstream-url", upstream], &env).await;
    let log = on.stop().await;
    let line = log
        .lines()
        .find(|l| l.contains("upstream rate budget"))
        .unwrap_or_else(|| panic!("no budget line: {log}"));
    assert!(line.contains("rate=10"), "{line}");
    assert!(log.contains("rate=5"), "the per-caller share: {log}");
    assert!(!log.contains(key), "{log}");
    let env = [
        ("COMPLYCUBE_API_KEY", key),
        ("ALLOW_UNAUTHENTICATED", "true"),
        ("UPSTREAM_RATE", "off"),
    ];
    let off = crate::binary::start(&["--upstream-url", upstream], &env).await;
    let log = off.stop().await;
    assert!(!log.contains("upstream rate budget"), "{log}");
}

/// A loopback server that answers every request with a redirect to `to`, counting them.
async fn redirector(to: String) -> (String, Arc<std::sync::atomic::AtomicU64>) {
    use axum::{http::header, response::IntoResponse, Router};
    let hits = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counted = hits.clone();
    let router = Router::new().fallback(move || {
        let (to, hits) = (to.clone(), counted.clone());
        async move {
            hits.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            (axum::http::StatusCode::FOUND, [(header::LOCATION, to)]).into_response()
        }
    });
    let listener = listener().await;
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    (format!("http://{addr}"), hits)
}

/// ComplyCube answering a redirect to another origin: not followed, so neither the key nor
/// the client id (in the URL, and a `Referer`) ever reaches that origin.
#[tokio::test]
async fn upstream_redirects_are_not_followed() {
    use complycube_graphql::simulator::Fault;
    let (elsewhere, hits) = redirector("http://127.0.0.1:9/".into()).await;
    let app = TestApp::spawn().await;
    app.fault(Fault {
        status: Some(307),
        location: Some(format!("{elsewhere}/v1/livePhotos?clientId={THREE}")),
        times: Some(1),
        ..Fault::default()
    });
    let (status, body) = app
        .post(json!({ "query": format!("{{ client(id: \"{THREE}\") {{ livePhotos {{ totalCount }} }} }}") }))
        .await;
    assert_eq!(status, 200);
    assert_eq!(codes(&body), ["UPSTREAM_ERROR"], "{body}");
    assert_eq!(
        hits.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "the redirect was followed"
    );
}

/// A JWKS URL that redirects is not trusted: its target is never read, and a token signed
/// with a key published there is refused.
#[tokio::test]
async fn a_jwks_behind_a_redirect_is_not_trusted() {
    use complycube_graphql::auth::{Authentication, Credentials, JwtSettings};

    use crate::tokens::{bearer, claims, JwksServer, RSA_A};
    let jwks = JwksServer::spawn(&[&RSA_A]).await;
    let (redirecting, hits) = redirector(jwks.url()).await;
    let app = TestApp::spawn_with(|config| {
        config.access.auth = Authentication::Verify(Credentials {
            tokens: vec![],
            jwt: Some(JwtSettings {
                jwks_url: Some(format!("{redirecting}/.well-known/jwks.json")),
                issuer: Some("https://id.example".into()),
                audience: Some("kyc".into()),
                unscoped_full_access: true,
                ..JwtSettings::new()
            }),
        })
    })
    .await;
    let token = RSA_A.sign(&claims(
        json!({ "iss": "https://id.example", "aud": "kyc" }),
    ));
    let response = reqwest::Client::new()
        .post(app.url("/graphql"))
        .header("authorization", bearer(&token))
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert!(
        hits.load(std::sync::atomic::Ordering::SeqCst) >= 1,
        "the JWKS URL was asked"
    );
    assert_eq!(jwks.fetches(), 0, "the redirect's target was read");
}

/// Keys from a JWKS that can no longer be read are trusted only for a bounded time
/// (`jwks_stale_after`): a key withdrawn while the identity provider is down stops working.
#[tokio::test]
async fn jwks_keys_expire_when_the_document_cannot_be_read() {
    use complycube_graphql::auth::{Authentication, Credentials, JwtSettings};

    use crate::tokens::{bearer, claims, JwksServer, RSA_A};
    let jwks = JwksServer::spawn(&[&RSA_A]).await;
    let stale_after = Duration::from_millis(400);
    let app = TestApp::spawn_with(|config| {
        config.access.auth = Authentication::Verify(Credentials {
            tokens: vec![],
            jwt: Some(JwtSettings {
                jwks_url: Some(jwks.url()),
                issuer: Some("https://id.example".into()),
                audience: Some("kyc".into()),
                unscoped_full_access: true,
                jwks_min_refresh: Duration::ZERO,
                jwks_max_age: Duration::from_millis(100),
                jwks_stale_after: stale_after,
                ..JwtSettings::new()
            }),
        })
    })
    .await;
    let status = |token: String| {
        let app = &app;
        async move {
            reqwest::Client::new()
                .post(app.url("/graphql"))
                .header("authorization", bearer(&token))
                .json(&json!({ "query": "{ __typename }" }))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    let token = || {
        RSA_A.sign(&claims(
            json!({ "iss": "https://id.example", "aud": "kyc" }),
        ))
    };
    assert_eq!(status(token()).await, 200);
    jwks.set_down(true);
    // However long the provider is down, the held keys serve until they are stale...
    // and not after: waiting past `stale_after` is the one thing this test must do.
    tokio::time::sleep(stale_after + Duration::from_millis(100)).await;
    assert_eq!(status(token()).await, 401, "a stale key was trusted");
    jwks.set_down(false);
    assert_eq!(
        status(token()).await,
        200,
        "the keys come back with the document"
    );
}

/// Pieces and encodings of the key echoed by ComplyCube never reach a caller.
#[tokio::test]
async fn echoed_pieces_and_encodings_of_the_key_are_scrubbed() {
    use base64::{engine::general_purpose::*, Engine};
    use complycube_graphql::simulator::Fault;
    let app = TestApp::spawn().await;
    let pieces = [
        TEST_KEY[..TEST_KEY.len() / 2].to_owned(),
        TEST_KEY[8..20].to_owned(),
        STANDARD.encode(TEST_KEY),
        URL_SAFE_NO_PAD.encode(&TEST_KEY[3..]),
        TEST_KEY.replace('-', "%2D"),
    ];
    for piece in &pieces {
        app.fault(Fault {
            status: Some(400),
            body: Some(json!({ "type": "invalid_request", "message": format!("bad key {piece}"), "param": piece }).to_string()),
            times: Some(1),
            ..Fault::default()
        });
        let (_, body) = app
            .post(json!({ "query": format!("{{ client(id: \"{THREE}\") {{ livePhotos {{ totalCount }} }} }}") }))
            .await;
        let text = body.to_string();
        assert!(!codes(&body).is_empty(), "{text}");
        assert!(
            !text.contains(piece.as_str()),
            "{piece} reached the caller: {text}"
        );
    }
}

/// A download claiming SVG in any case, with a hostile file name: the data URL goes by the
/// bytes (never an SVG or HTML type), the file name is safe to save under.
#[tokio::test]
async fn downloads_are_typed_by_their_bytes_and_their_names_made_safe() {
    use base64::{engine::general_purpose::STANDARD, Engine};
    use complycube_graphql::simulator::Fault;
    let app = TestApp::spawn().await;
    let photo = &photo_ids(THREE)[0];
    for (content_type, bytes) in [
        (
            "IMAGE/SVG+XML",
            b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>".to_vec(),
        ),
        (
            "image/Svg+Xml; charset=utf-8",
            b"<html><script>alert(1)</script>".to_vec(),
        ),
    ] {
        app.fault(Fault {
            status: Some(200),
            body: Some(
                json!({
                    "fileName": "../../etc/\"evil\r\n.svg",
                    "contentType": content_type,
                    "data": STANDARD.encode(&bytes),
                })
                .to_string(),
            ),
            path_contains: Some("/download".into()),
            times: Some(1),
            ..Fault::default()
        });
        let body = app
            .query(
                &format!("{{ livePhoto(id: \"{photo}\") {{ download {{ fileName dataUrl }} }} }}"),
                json!({}),
            )
            .await;
        let download = &body["data"]["livePhoto"]["download"];
        let data_url = download["dataUrl"]
            .as_str()
            .unwrap_or_else(|| panic!("{body}"));
        assert!(
            data_url.starts_with("data:application/octet-stream;base64,"),
            "{data_url}"
        );
        let name = download["fileName"].as_str().unwrap();
        assert!(
            name.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
                && !name.contains(".."),
            "{name}"
        );
        assert!(
            name.ends_with(".bin"),
            "named by what the bytes are: {name}"
        );
    }
}

/// One caller's persisted queries are not another's: a scope cannot learn from the store
/// what another ran.
#[tokio::test]
async fn persisted_queries_are_kept_per_caller_scope() {
    use complycube_graphql::auth::{
        Authentication, Credentials, JwtSettings, Secret as AuthSecret,
    };

    use crate::tokens::{bearer, claims, hs256, SECRET};
    let app = TestApp::spawn_with(|config| {
        config.access.auth = Authentication::Verify(Credentials {
            tokens: vec![],
            jwt: Some(JwtSettings {
                secret: Some(AuthSecret::new(SECRET)),
                issuer: Some("https://id.example".into()),
                audience: Some("kyc".into()),
                ..JwtSettings::new()
            }),
        })
    })
    .await;
    let token = |clients: &[&str]| {
        bearer(&hs256(
            SECRET.as_bytes(),
            &claims(json!({ "iss": "https://id.example", "aud": "kyc", "client_ids": clients })),
        ))
    };
    let query = format!("{{ client(id: \"{THREE}\") {{ livePhotos {{ totalCount }} }} }}");
    let persisted = json!({ "persistedQuery": { "version": 1, "sha256Hash": sha256(&query) } });
    let post = |authorization: String, body: Value| {
        let app = &app;
        async move {
            let response = reqwest::Client::new()
                .post(app.url("/graphql"))
                .header("authorization", authorization)
                .json(&body)
                .send()
                .await
                .unwrap();
            response.json::<Value>().await.unwrap()
        }
    };
    let registered = post(
        token(&[THREE]),
        json!({ "query": query, "extensions": persisted }),
    )
    .await;
    assert!(registered.get("errors").is_none(), "{registered}");
    let same_scope = post(token(&[THREE]), json!({ "extensions": persisted })).await;
    assert!(same_scope.get("errors").is_none(), "{same_scope}");
    let other_scope = post(token(&[SEVEN]), json!({ "extensions": persisted })).await;
    assert_eq!(
        codes(&other_scope),
        ["PERSISTED_QUERY_NOT_FOUND"],
        "{other_scope}"
    );
}

/// `https://*.example.com` lets in one label, nothing more, nothing else.
#[tokio::test]
async fn a_wildcard_origin_matches_exactly_one_label() {
    use complycube_graphql::http::cors::CorsPolicy;
    let policy = CorsPolicy::parse(&["https://*.example.com".to_owned()]).unwrap();
    let app = TestApp::spawn_with(|config| config.access.cors = policy).await;
    for (origin, allowed) in [
        ("https://app.example.com", true),
        ("https://a.b.example.com", false),
        ("https://example.com", false),
        ("http://app.example.com", false),
        ("https://app.example.com.evil.test", false),
    ] {
        let response = reqwest::Client::new()
            .request(reqwest::Method::OPTIONS, app.url("/graphql"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
            .await
            .unwrap();
        let echoed = response.headers().get("access-control-allow-origin");
        assert_eq!(echoed.is_some_and(|o| o == origin), allowed, "{origin}");
    }
    for bad in ["https://*", "https://*.com", "https://a*.example.com"] {
        assert!(CorsPolicy::parse(&[bad.to_owned()]).is_err(), "{bad}");
    }
}

/// A shared cache in Redis with nothing to seal its entries with is refused at start.
#[tokio::test]
async fn a_redis_cache_without_a_key_needs_its_own_seal_secret() {
    use complycube_graphql::{
        cache::CacheSettings,
        upstream::{RedisUrl, UpstreamSettings},
        Service, ServiceConfig,
    };
    let mut settings = UpstreamSettings::new("http://127.0.0.1:9/v1", None);
    settings.redis_url = Some(RedisUrl::new("redis://127.0.0.1:9"));
    settings.cache = CacheSettings {
        ttl: Some(Duration::from_secs(60)),
        ..CacheSettings::default()
    };
    let refused = Service::new(&ServiceConfig::new(settings.clone()))
        .err()
        .unwrap();
    assert!(refused.contains("CACHE_SEAL_SECRET"), "{refused}");
    settings.cache_seal_secret = Some(complycube_graphql::secrets::Secret::new("short"));
    assert!(Service::new(&ServiceConfig::new(settings.clone())).is_err());
    settings.cache_seal_secret = Some(complycube_graphql::secrets::Secret::new(
        "a-seal-secret-of-at-least-thirty-two-bytes",
    ));
    assert!(Service::new(&ServiceConfig::new(settings)).is_ok());
}

/// The unsafe starts of the review, refused with what fixes them.
#[tokio::test]
async fn unsafe_combinations_refuse_to_start() {
    use crate::binary::refused_start;
    let upstream = ["--upstream-url", "http://127.0.0.1:9/v1"];
    let key = ("COMPLYCUBE_API_KEY", TEST_KEY);
    // JWTs without an issuer and an audience: any token the provider ever signed.
    let log = refused_start(
        &upstream,
        &[
            key,
            (
                "FACADE_JWT_SECRET",
                "a-jwt-secret-of-more-than-thirty-two-bytes",
            ),
        ],
    )
    .await;
    assert!(
        log.contains("FACADE_JWT_ISSUER") && log.contains("--jwt-any-issuer"),
        "{log}"
    );
    let log = refused_start(
        &upstream,
        &[
            key,
            (
                "FACADE_JWT_SECRET",
                "a-jwt-secret-of-more-than-thirty-two-bytes",
            ),
            ("FACADE_JWT_ISSUER", "https://id.example"),
        ],
    )
    .await;
    assert!(
        log.contains("FACADE_JWT_AUDIENCE") && log.contains("--jwt-any-audience"),
        "{log}"
    );
    // Open mode beyond loopback without the host names it is reached by.
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_complycube-graphql"));
    let output = command
        .args(upstream)
        .env_clear()
        .env("LISTEN_ADDR", "0.0.0.0:0")
        .env("NO_COLOR", "1")
        .env(key.0, key.1)
        .env("ALLOW_UNAUTHENTICATED", "true")
        .output()
        .await
        .unwrap();
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success() && log.contains("ALLOWED_HOSTS"),
        "{log}"
    );
    // A metrics token too short to be one.
    let log = refused_start(
        &upstream,
        &[
            key,
            ("ALLOW_UNAUTHENTICATED", "true"),
            ("METRICS_TOKEN", "short"),
        ],
    )
    .await;
    assert!(log.contains("METRICS_TOKEN"), "{log}");
    // A manifest of trusted documents that cannot be read.
    let log = refused_start(
        &upstream,
        &[
            key,
            ("ALLOW_UNAUTHENTICATED", "true"),
            ("TRUSTED_DOCUMENTS", "/nonexistent.json"),
        ],
    )
    .await;
    assert!(log.contains("trusted documents"), "{log}");
}
