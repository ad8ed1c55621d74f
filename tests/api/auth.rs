//! Authentication over real loopback HTTP: static tokens, HS256 and JWKS-signed JWTs
//! (RS256, ES256), the attacks worth a test each, client scoping, forwarding mode. Every
//! refusal is checked to have cost no upstream call.

use std::time::Duration;

use complycube_graphql::{
    auth::{Authentication, Credentials, JwtSettings, Secret},
    simulator::{Simulator, SimulatorSettings},
    upstream::UpstreamSettings,
    ServiceConfig,
};
use futures::future::join_all;
use serde_json::{json, Value};

use crate::{helpers::*, tokens::*};

const TOTAL: &str = "query($id: ID!) { client(id: $id) { livePhotos { totalCount } } }";

fn total_of(id: &str) -> Value {
    json!({ "query": TOTAL, "variables": { "id": id } })
}

/// A service demanding static tokens and HS256 JWTs, and JWKS keys when `jwks` is given;
/// a JWT without `client_ids` reads every client here (`--jwt-unscoped-full-access`), unless
/// `configure` says otherwise.
async fn gated(jwks: Option<&JwksServer>, configure: impl FnOnce(&mut JwtSettings)) -> TestApp {
    let mut jwt = JwtSettings {
        secret: Some(Secret::new(SECRET)),
        jwks_url: jwks.map(JwksServer::url),
        unscoped_full_access: true,
        ..JwtSettings::new()
    };
    configure(&mut jwt);
    TestApp::spawn_with(|config| {
        config.access.auth = Authentication::Verify(Credentials {
            tokens: vec![Secret::new(STATIC_TOKEN)],
            jwt: Some(jwt),
        })
    })
    .await
}

/// Asserts the refusal every unauthenticated request gets.
fn assert_refused(answer: &Answer, what: &str) {
    assert_eq!(answer.status, 401, "{what}: {}", answer.body);
    let challenge = answer.headers["www-authenticate"].to_str().unwrap();
    assert!(challenge.starts_with("Bearer"), "{what}: {challenge}");
    let errors = answer.body["errors"].as_array().expect("an errors list");
    assert_eq!(errors.len(), 1, "{what}");
    assert_eq!(errors[0]["extensions"]["code"], "UNAUTHENTICATED", "{what}");
    assert!(errors[0]["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert!(answer.body.get("data").is_none(), "{what}");
}

fn assert_total(answer: &Answer, total: u64) {
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        answer.body["data"]["client"]["livePhotos"]["totalCount"], total,
        "{}",
        answer.body
    );
}

#[tokio::test]
async fn without_valid_credentials_post_get_and_batches_get_401_and_no_upstream_call() {
    let app = gated(None, |_| {}).await;
    let expired = hs256(SECRET.as_bytes(), &claims(json!({ "exp": now() - 3600 })));
    let prefix = &STATIC_TOKEN[..STATIC_TOKEN.len() - 1];
    let longer = format!("{STATIC_TOKEN}0");
    let credentials: Vec<(&str, Option<String>)> = vec![
        ("missing", None),
        ("wrong token", Some(bearer("static-token-000000000000"))),
        ("prefix of a valid token", Some(bearer(prefix))),
        ("valid token plus a character", Some(bearer(&longer))),
        ("valid token without Bearer", Some(STATIC_TOKEN.to_owned())),
        ("another scheme", Some(format!("Basic {STATIC_TOKEN}"))),
        ("empty bearer", Some("Bearer ".to_owned())),
        ("expired JWT", Some(bearer(&expired))),
    ];
    for (what, authorization) in &credentials {
        let authorization = authorization.as_deref();
        assert_refused(&post_as(&app, authorization, total_of(THREE)).await, what);
        let batch = json!([total_of(THREE), total_of(SEVEN)]);
        assert_refused(&post_as(&app, authorization, batch).await, what);
        let get = get_as(
            &app,
            authorization,
            &[(
                "query",
                "{ client(id: \"5f1e0a3c9d2b4a0008a10003\") { livePhotos { totalCount } } }",
            )],
        )
        .await;
        assert_refused(&get, what);
        // Not even a body that is no GraphQL gets further than the gate.
        assert_refused(
            &post_as(&app, authorization, json!({ "nope": 1 })).await,
            what,
        );
    }
    let expired_answer = post_as(&app, Some(&bearer(&expired)), total_of(THREE)).await;
    assert_eq!(
        expired_answer.body["errors"][0]["message"],
        "the token has expired"
    );
    assert_eq!(app.calls(), 0, "a refused request reached ComplyCube");

    assert_total(
        &post_as(&app, Some(&bearer(STATIC_TOKEN)), total_of(THREE)).await,
        3,
    );
    assert_total(
        &post_as(
            &app,
            Some(&format!("bearer  {STATIC_TOKEN} ")),
            total_of(SEVEN),
        )
        .await,
        7,
    );
    assert_eq!(app.calls(), 2);
}

#[tokio::test]
async fn health_and_graphiql_stay_open_without_credentials() {
    let app = gated(None, |_| {}).await;
    let http = reqwest::Client::new();
    for path in ["/healthz", "/", "/graphiql/graphiql.min.js"] {
        let status = http.get(app.url(path)).send().await.unwrap().status();
        assert_eq!(status, 200, "{path}");
    }
    let page = http
        .get(app.url("/graphql"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("graphiql"));
    // A browser's Accept does not smuggle a query past the gate.
    let smuggled = http
        .get(graphql_get_url(&app, &[("query", "{ __typename }")]))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(smuggled.status(), 401);
}

#[tokio::test]
async fn hs256_tokens_are_accepted_and_read_only_the_clients_they_list() {
    let app = gated(None, |_| {}).await;
    let everything = hs256(SECRET.as_bytes(), &claims(json!({})));
    assert_total(
        &post_as(&app, Some(&bearer(&everything)), total_of(SEVEN)).await,
        7,
    );

    let only_three = hs256(SECRET.as_bytes(), &claims(json!({ "client_ids": [THREE] })));
    let auth = bearer(&only_three);
    assert_total(&post_as(&app, Some(&auth), total_of(THREE)).await, 3);
    app.reset_calls();
    let both = json!({ "query": format!(
        r#"{{ a: client(id: "{THREE}") {{ livePhotos {{ totalCount }} }}
             b: client(id: "{SEVEN}") {{ id: complyCubeId livePhotos {{ totalCount }} }} }}"#
    ) });
    let answer = post_as(&app, Some(&auth), both).await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.body["data"]["a"]["livePhotos"]["totalCount"], 3,
        "{}",
        answer.body
    );
    assert_eq!(answer.body["data"]["b"], Value::Null);
    assert_eq!(codes(&answer.body), ["FORBIDDEN"]);
    assert_eq!(answer.body["errors"][0]["path"], json!(["b"]));
    assert_eq!(app.calls(), 1, "only client A was fetched");
    assert!(
        app.sim.request_log().iter().all(|q| !q.contains(SEVEN)),
        "no upstream call for client B: {:?}",
        app.sim.request_log()
    );

    // The claim's name is a setting.
    let renamed = gated(None, |jwt| jwt.clients_claim = "tenants".into()).await;
    let token = hs256(
        SECRET.as_bytes(),
        &claims(json!({ "tenants": [SEVEN], "client_ids": [THREE] })),
    );
    let answer = post_as(&renamed, Some(&bearer(&token)), total_of(THREE)).await;
    assert_eq!(codes(&answer.body), ["FORBIDDEN"]);
    assert_total(
        &post_as(&renamed, Some(&bearer(&token)), total_of(SEVEN)).await,
        7,
    );
}

#[tokio::test]
async fn rs256_and_es256_tokens_from_a_jwks_are_accepted_with_issuer_and_audience() {
    let jwks = JwksServer::spawn(&[&RSA_A, &EC_A]).await;
    let app = gated(Some(&jwks), |jwt| {
        jwt.issuer = Some("https://idp.test/".into());
        jwt.audience = Some("complycube-graphql".into());
    })
    .await;
    let good = claims(json!({ "iss": "https://idp.test/", "aud": "complycube-graphql" }));
    for key in [&*RSA_A, &*EC_A] {
        let answer = post_as(&app, Some(&bearer(&key.sign(&good))), total_of(TWELVE)).await;
        assert_total(&answer, 12);
    }
    // A token without `kid` is tried against the keys of its algorithm.
    let no_kid = RSA_A.sign_with_header(&json!({ "alg": "RS256", "typ": "JWT" }), &good);
    assert_total(
        &post_as(&app, Some(&bearer(&no_kid)), total_of(THREE)).await,
        3,
    );
    let calls = app.calls();

    for (what, claims) in [
        (
            "wrong issuer",
            claims(json!({ "iss": "https://evil.test/", "aud": "complycube-graphql" })),
        ),
        (
            "wrong audience",
            claims(json!({ "iss": "https://idp.test/", "aud": "someone-else" })),
        ),
        ("no issuer", claims(json!({ "aud": "complycube-graphql" }))),
        ("no audience", claims(json!({ "iss": "https://idp.test/" }))),
        (
            "not yet valid",
            claims(
                json!({ "iss": "https://idp.test/", "aud": "complycube-graphql", "nbf": now() + 3600 }),
            ),
        ),
        (
            "expired",
            claims(
                json!({ "iss": "https://idp.test/", "aud": "complycube-graphql", "exp": now() - 3600 }),
            ),
        ),
    ] {
        for key in [&*RSA_A, &*EC_A] {
            let answer = post_as(&app, Some(&bearer(&key.sign(&claims))), total_of(THREE)).await;
            assert_refused(&answer, &format!("{what} ({})", key.alg()));
        }
    }
    assert_eq!(app.calls(), calls, "refused tokens reached ComplyCube");
    assert_eq!(jwks.fetches(), 1, "the JWKS is cached");
}

#[tokio::test]
async fn forged_tokens_are_refused() {
    let jwks = JwksServer::spawn(&[&RSA_A, &EC_A]).await;
    let app = gated(Some(&jwks), |_| {}).await;
    let good = claims(json!({}));
    assert_total(
        &post_as(&app, Some(&bearer(&RSA_A.sign(&good))), total_of(THREE)).await,
        3,
    );
    app.reset_calls();

    let valid = RSA_A.sign(&good);
    let (input, signature) = valid.rsplit_once('.').unwrap();
    let mut flipped = signature.as_bytes().to_vec();
    flipped[10] = if flipped[10] == b'A' { b'B' } else { b'A' };
    let tampered_signature = format!("{input}.{}", String::from_utf8(flipped).unwrap());
    // Wider claims under the signature of narrower ones.
    let narrow = RSA_A.sign(&claims(json!({ "client_ids": [THREE] })));
    let narrow_signature = narrow.rsplit_once('.').unwrap().1;
    let widened = format!(
        "{}.{narrow_signature}",
        signing_input(
            &json!({ "alg": "RS256", "typ": "JWT", "kid": "rsa-a" }),
            &good
        )
    );
    let unsigned = |alg: &str| {
        format!(
            "{}.",
            signing_input(&json!({ "alg": alg, "typ": "JWT", "kid": "rsa-a" }), &good)
        )
    };
    // HS256 with the RSA public key (as DER, and as its JWK's modulus) for a secret: the
    // classic confusion where a verifier takes the algorithm from the token.
    let confused_der = hs256(&RSA_A.public_bytes(), &good);
    let confused_jwk = hs256(RSA_A.jwk().to_string().as_bytes(), &good);
    let confused_kid = {
        let input = signing_input(
            &json!({ "alg": "HS256", "typ": "JWT", "kid": "rsa-a" }),
            &good,
        );
        let tag = aws_lc_rs::hmac::sign(
            &aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &RSA_A.public_bytes()),
            input.as_bytes(),
        );
        format!("{input}.{}", b64(tag))
    };
    // An ES256 key's signature presented as RS256, and the other way round.
    let wrong_alg_ec = EC_A.sign_with_header(&json!({ "alg": "RS256", "kid": "ec-a" }), &good);
    let wrong_alg_rsa = RSA_A.sign_with_header(&json!({ "alg": "ES256", "kid": "rsa-a" }), &good);
    let forgeries = [
        ("tampered signature", tampered_signature),
        ("claims widened under a kept signature", widened),
        ("alg none", unsigned("none")),
        ("alg None", unsigned("None")),
        ("alg RS256 without signature", unsigned("RS256")),
        ("HS256 signed with the RSA public key", confused_der),
        ("HS256 signed with the JWK", confused_jwk),
        ("HS256 with the RSA key's kid", confused_kid),
        (
            "a key outside the JWKS with a published kid",
            ROGUE.sign(&good),
        ),
        ("an unknown kid", RSA_B.sign(&good)),
        ("ES256 signature called RS256", wrong_alg_ec),
        ("RS256 signature called ES256", wrong_alg_rsa),
        (
            "HS256 with another secret",
            hs256(b"not-the-secret-but-just-as-long-as-it", &good),
        ),
        ("not a JWT", "a.b.c".to_owned()),
    ];
    for (what, token) in &forgeries {
        assert_refused(
            &post_as(&app, Some(&bearer(token)), total_of(THREE)).await,
            what,
        );
    }
    assert_eq!(app.calls(), 0, "a forged token reached ComplyCube");

    // With no HS256 secret at all, the confusion has no key to even try.
    let jwks_only = TestApp::spawn_with(|config| {
        config.access.auth = Authentication::Verify(Credentials {
            tokens: vec![],
            jwt: Some(JwtSettings {
                jwks_url: Some(jwks.url()),
                unscoped_full_access: true,
                ..JwtSettings::new()
            }),
        })
    })
    .await;
    let confused = hs256(&RSA_A.public_bytes(), &good);
    assert_refused(
        &post_as(&jwks_only, Some(&bearer(&confused)), total_of(THREE)).await,
        "confusion",
    );
    assert_total(
        &post_as(
            &jwks_only,
            Some(&bearer(&EC_A.sign(&good))),
            total_of(THREE),
        )
        .await,
        3,
    );
}

#[tokio::test]
async fn an_unknown_kid_rereads_the_jwks_at_most_once_per_period() {
    let jwks = JwksServer::spawn(&[&RSA_A]).await;
    let app = gated(Some(&jwks), |_| {}).await;
    let good = claims(json!({}));
    assert_total(
        &post_as(&app, Some(&bearer(&RSA_A.sign(&good))), total_of(THREE)).await,
        3,
    );
    assert_eq!(jwks.fetches(), 1);
    // The provider rotates in a new key: within the period, tokens naming it (or any made-up
    // kid) are refused without another fetch.
    jwks.publish(&[&RSA_A, &RSA_B]);
    for kid in ["rsa-b", "made-up-1", "made-up-2"] {
        let token = RSA_B.sign_with_header(&json!({ "alg": "RS256", "kid": kid }), &good);
        assert_refused(
            &post_as(&app, Some(&bearer(&token)), total_of(THREE)).await,
            kid,
        );
    }
    assert_eq!(jwks.fetches(), 1, "unknown kids are rate-limited");

    // With the period elapsed (here: none), an unknown kid re-reads the document once.
    let eager = gated(Some(&jwks), |jwt| jwt.jwks_min_refresh = Duration::ZERO).await;
    jwks.publish(&[&RSA_A]);
    assert_total(
        &post_as(&eager, Some(&bearer(&RSA_A.sign(&good))), total_of(THREE)).await,
        3,
    );
    let before = jwks.fetches();
    jwks.publish(&[&RSA_A, &RSA_B]);
    assert_total(
        &post_as(&eager, Some(&bearer(&RSA_B.sign(&good))), total_of(SEVEN)).await,
        7,
    );
    assert_eq!(jwks.fetches(), before + 1, "the new kid was fetched once");
    assert_total(
        &post_as(&eager, Some(&bearer(&RSA_B.sign(&good))), total_of(SEVEN)).await,
        7,
    );
    assert_eq!(jwks.fetches(), before + 1, "a known kid needs no fetch");
    // A withdrawn key stops working once the document is re-read.
    jwks.publish(&[&RSA_B]);
    let unknown = RSA_B.sign_with_header(&json!({ "alg": "RS256", "kid": "made-up" }), &good);
    assert_refused(
        &post_as(&eager, Some(&bearer(&unknown)), total_of(THREE)).await,
        "made-up",
    );
    assert_refused(
        &post_as(&eager, Some(&bearer(&RSA_A.sign(&good))), total_of(THREE)).await,
        "withdrawn",
    );
}

#[tokio::test]
async fn forwarding_sends_each_callers_key_only_for_their_own_requests() {
    // This simulator takes any non-empty key and logs which one each request carried.
    let sim = Simulator::new(SimulatorSettings::default());
    let sim_addr = sim.clone().spawn(listener().await).await.unwrap();
    let mut config =
        ServiceConfig::new(UpstreamSettings::new(format!("http://{sim_addr}/v1"), None));
    config.access.auth = Authentication::Forward;
    config.images.urls.secrets = vec![IMAGE_SECRET.into()];
    let addr = complycube_graphql::start(listener().await, &config, std::future::pending())
        .await
        .unwrap();
    let app = TestApp::at(addr, sim.clone(), sim_addr);

    let refused = post_as(&app, None, total_of(THREE)).await;
    assert_refused(&refused, "no key");
    assert_eq!(sim.request_count(), 0);

    // Two callers, interleaved: A reads THREE (and TWELVE in a batch), B reads SEVEN.
    const KEY_A: &str = "test_key_of_caller_a";
    const KEY_B: &str = "test_key_of_caller_b";
    let calls = (0..8).map(|i| {
        let app = &app;
        async move {
            if i % 2 == 0 {
                let batch = json!([total_of(THREE), total_of(TWELVE)]);
                let answer = post_as(app, Some(KEY_A), batch).await;
                assert_eq!(
                    answer.body[0]["data"]["client"]["livePhotos"]["totalCount"],
                    3
                );
                assert_eq!(
                    answer.body[1]["data"]["client"]["livePhotos"]["totalCount"],
                    12
                );
            } else {
                assert_total(&post_as(app, Some(KEY_B), total_of(SEVEN)).await, 7);
            }
        }
    });
    join_all(calls).await;
    let log = sim.request_log();
    let headers = sim.request_headers();
    assert_eq!(log.len(), 12);
    for (query, (_, authorization)) in log.iter().zip(&headers) {
        let expected = if query.contains(SEVEN) { KEY_B } else { KEY_A };
        assert_eq!(authorization.as_deref(), Some(expected), "{query}");
    }
}

#[tokio::test]
async fn a_scoped_token_gets_forbidden_in_every_operation_of_a_batch() {
    let app = gated(None, |_| {}).await;
    let token = hs256(
        SECRET.as_bytes(),
        &claims(json!({ "client_ids": [SEVEN, TWELVE] })),
    );
    let batch = json!([total_of(THREE), total_of(SEVEN), total_of(BIG)]);
    let answer = post_as(&app, Some(&bearer(&token)), batch).await;
    assert_eq!(answer.status, 200);
    assert_eq!(codes(&answer.body[0]), ["FORBIDDEN"]);
    assert_eq!(
        answer.body[1]["data"]["client"]["livePhotos"]["totalCount"],
        7
    );
    assert_eq!(codes(&answer.body[2]), ["FORBIDDEN"]);
    assert_eq!(app.calls(), 1);
}

#[tokio::test]
async fn a_scoped_token_sees_another_clients_photo_as_missing() {
    let app = gated(None, |_| {}).await;
    let token = hs256(SECRET.as_bytes(), &claims(json!({ "client_ids": [THREE] })));
    let auth = bearer(&token);
    let (mine, theirs) = (&photo_ids(THREE)[0], &photo_ids(SEVEN)[0]);
    let lookup = |id: &str| json!({ "query": format!(r#"{{ livePhoto(id: "{id}") {{ id: complyCubeId client {{ id: complyCubeId }} download {{ fileName }} }} }}"#) });
    let answer = post_as(&app, Some(&auth), lookup(mine)).await;
    assert_eq!(
        answer.body["data"]["livePhoto"]["client"]["id"], THREE,
        "{}",
        answer.body
    );
    app.reset_calls();
    let answer = post_as(&app, Some(&auth), lookup(theirs)).await;
    assert_eq!(
        answer.body["data"]["livePhoto"],
        Value::Null,
        "{}",
        answer.body
    );
    // One answer for "not yours" and "not found": nothing tells a tenant that the id is
    // another's photo.
    assert!(answer.body.get("errors").is_none(), "{}", answer.body);
    let missing = post_as(&app, Some(&auth), lookup("ffffffffffffffffffffffff")).await;
    assert_eq!(missing.body, answer.body);
    app.reset_calls();
    post_as(&app, Some(&auth), lookup(theirs)).await;
    // The lookup that told whose photo it is, and nothing after it (no image).
    assert_eq!(app.sim.request_log(), vec![format!("/livePhotos/{theirs}")]);
}

#[tokio::test]
async fn refusals_are_counted_by_reason() {
    use crate::ops::{sample, scrape};
    let app = gated(None, |_| {}).await;
    let series =
        |reason: &str| format!(r#"complycube_graphql_auth_refusals_total{{reason="{reason}"}}"#);
    let before = scrape(&app).await;
    post_as(&app, None, total_of(THREE)).await;
    post_as(&app, Some("Bearer not-a-token-at-all"), total_of(THREE)).await;
    let scoped = hs256(SECRET.as_bytes(), &claims(json!({ "client_ids": [THREE] })));
    post_as(&app, Some(&bearer(&scoped)), total_of(SEVEN)).await;
    let after = scrape(&app).await;
    for reason in ["missing", "invalid", "client_out_of_scope"] {
        let moved = sample(&after, &series(reason)) - sample(&before, &series(reason));
        assert!(moved >= 1.0, "{reason}: {moved}");
    }
}

#[tokio::test]
async fn by_default_a_jwt_without_client_ids_reads_no_client_and_costs_no_call() {
    let app = gated(None, |jwt| jwt.unscoped_full_access = false).await;
    let unscoped = bearer(&hs256(SECRET.as_bytes(), &claims(json!({}))));
    let answer = post_as(&app, Some(&unscoped), total_of(THREE)).await;
    assert_eq!(answer.status, 200, "admitted: the token is valid");
    assert_eq!(codes(&answer.body), ["FORBIDDEN"], "{}", answer.body);
    assert_eq!(app.calls(), 0);
    // A static token is not a JWT: it keeps its full access.
    assert_total(
        &post_as(&app, Some(&bearer(STATIC_TOKEN)), total_of(THREE)).await,
        3,
    );
}

#[tokio::test]
async fn a_jwt_that_lives_too_long_is_refused() {
    let app = gated(None, |_| {}).await;
    let forever = hs256(
        SECRET.as_bytes(),
        &claims(json!({ "exp": 253_402_300_799u64 })),
    );
    assert_refused(
        &post_as(&app, Some(&bearer(&forever)), total_of(THREE)).await,
        "year 9999",
    );
    let later = hs256(
        SECRET.as_bytes(),
        &claims(json!({ "iat": now() + 3600, "exp": now() + 7200 })),
    );
    assert_refused(
        &post_as(&app, Some(&bearer(&later)), total_of(THREE)).await,
        "issued later",
    );
    assert_eq!(app.calls(), 0);
}
