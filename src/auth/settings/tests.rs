use clap::Parser;

use super::*;

#[derive(Parser)]
struct Flags {
    #[command(flatten)]
    auth: AuthArgs,
}

fn args(flags: &[&str]) -> AuthArgs {
    Flags::try_parse_from(std::iter::once("x").chain(flags.iter().copied()))
        .unwrap()
        .auth
}

const KEY: Serving = Serving::Remote { server_key: true };
const KEYLESS: Serving = Serving::Remote { server_key: false };
const TOKEN: &str = "a-token-of-enough-length";
/// The JWT checks every JWT configuration needs, or waives out loud.
const SCOPED: [&str; 4] = [
    "--jwt-issuer",
    "https://idp.example/",
    "--jwt-audience",
    "kyc",
];

fn with_scope(flags: &[&'static str]) -> Vec<&'static str> {
    flags.iter().copied().chain(SCOPED).collect()
}

#[test]
fn a_real_key_without_authentication_refuses_to_start_and_says_what_fixes_it() {
    let error = args(&[]).resolve(KEY, None).unwrap_err();
    for setting in [
        "FACADE_ACCESS_TOKENS",
        "--jwt-secret",
        "FACADE_JWT_SECRET",
        "--jwks-url",
        "FACADE_JWKS_URL",
        "--forward-authorization",
        "--allow-unauthenticated",
        "ALLOW_UNAUTHENTICATED",
    ] {
        assert!(error.contains(setting), "{setting} in {error}");
    }
    // Empty values count as unset, as `${X:-}` in docker compose leaves them.
    assert!(args(&[]).resolve(KEY, Some(" , ")).is_err());
}

#[test]
fn any_way_of_authenticating_lets_a_real_key_serve() {
    let auth = args(&[]).resolve(KEY, Some(TOKEN)).unwrap();
    assert!(
        matches!(auth, Authentication::Verify(Credentials { ref tokens, jwt: None }) if tokens.len() == 1)
    );
    let secret = "s".repeat(32);
    let auth = args(&with_scope(&[
        "--jwt-secret",
        Box::leak(secret.into_boxed_str()),
    ]))
    .resolve(KEY, None)
    .unwrap();
    assert!(matches!(
        auth,
        Authentication::Verify(Credentials { jwt: Some(_), .. })
    ));
    let auth = args(&with_scope(&[
        "--jwks-url",
        "https://idp.example/jwks.json",
    ]))
    .resolve(KEY, None)
    .unwrap();
    assert!(matches!(auth, Authentication::Verify(_)));
    let auth = args(&["--allow-unauthenticated"])
        .resolve(KEY, None)
        .unwrap();
    assert!(matches!(auth, Authentication::Open));
    let auth = args(&["--forward-authorization"])
        .resolve(KEYLESS, None)
        .unwrap();
    assert!(matches!(auth, Authentication::Forward));
}

#[test]
fn jwts_need_an_issuer_and_an_audience_unless_waived_out_loud() {
    let jwks = ["--jwks-url", "https://idp.example/jwks.json"];
    let error = args(&jwks).resolve(KEY, None).unwrap_err();
    assert!(
        error.contains("--jwt-issuer") && error.contains("--jwt-any-issuer"),
        "{error}"
    );
    let error = args(&[jwks[0], jwks[1], "--jwt-issuer", "i"])
        .resolve(KEY, None)
        .unwrap_err();
    assert!(
        error.contains("--jwt-audience") && error.contains("FACADE_JWT_ANY_AUDIENCE"),
        "{error}"
    );
    let waived = args(&[jwks[0], jwks[1], "--jwt-any-issuer", "--jwt-any-audience"])
        .resolve(KEY, None)
        .unwrap();
    let Authentication::Verify(Credentials { jwt: Some(jwt), .. }) = waived else {
        panic!("{waived:?}")
    };
    assert!(jwt.issuer.is_none() && jwt.audience.is_none());
    assert!(
        !jwt.unscoped_full_access,
        "a token without client_ids reads nothing"
    );
    assert_eq!(jwt.max_lifetime, DEFAULT_JWT_MAX_LIFETIME);
    let both = args(&with_scope(&[jwks[0], jwks[1], "--jwt-any-issuer"]));
    assert!(both.resolve(KEY, None).unwrap_err().contains("contradict"));
    let open = args(&with_scope(&[
        jwks[0],
        jwks[1],
        "--jwt-unscoped-full-access",
        "--jwt-max-lifetime",
        "1h",
    ]))
    .resolve(KEY, None)
    .unwrap();
    let Authentication::Verify(Credentials { jwt: Some(jwt), .. }) = open else {
        panic!()
    };
    assert!(jwt.unscoped_full_access);
    assert_eq!(jwt.max_lifetime, Duration::from_secs(3600));
    assert!(
        args(&with_scope(&[jwks[0], jwks[1], "--jwt-max-lifetime", "0s"]))
            .resolve(KEY, None)
            .is_err()
    );
}

#[test]
fn demo_mode_and_a_keyless_upstream_stay_open() {
    assert!(matches!(
        args(&[]).resolve(Serving::Demo, None).unwrap(),
        Authentication::Open
    ));
    assert!(matches!(
        args(&[]).resolve(KEYLESS, None).unwrap(),
        Authentication::Open
    ));
    // Tokens asked for in demo mode are required there too.
    assert!(matches!(
        args(&[]).resolve(Serving::Demo, Some(TOKEN)).unwrap(),
        Authentication::Verify(_)
    ));
}

#[test]
fn forwarding_takes_no_server_key_and_no_bearer_tokens() {
    let forward = args(&["--forward-authorization"]);
    let error = forward.resolve(KEY, None).unwrap_err();
    assert!(error.contains("COMPLYCUBE_API_KEY"), "{error}");
    let error = forward.resolve(KEYLESS, Some(TOKEN)).unwrap_err();
    assert!(error.contains("FACADE_ACCESS_TOKENS"), "{error}");
}

#[test]
fn weak_or_unsafe_credentials_are_refused() {
    let error = args(&[]).resolve(KEY, Some("short")).unwrap_err();
    assert!(error.contains("shorter than 16"), "{error}");
    let error = args(&with_scope(&["--jwt-secret", "too-short"]))
        .resolve(KEY, None)
        .unwrap_err();
    assert!(error.contains("at least 32 bytes"), "{error}");
    let error = args(&with_scope(&["--jwks-url", "http://idp.example/jwks.json"]))
        .resolve(KEY, None)
        .unwrap_err();
    assert!(error.contains("https"), "{error}");
    assert!(
        args(&with_scope(&["--jwks-url", "http://127.0.0.1:9/jwks.json"]))
            .resolve(KEY, None)
            .is_ok()
    );
    let error = args(&["--jwt-issuer", "https://idp.example/"])
        .resolve(KEY, Some(TOKEN))
        .unwrap_err();
    assert!(error.contains("--jwt-secret"), "{error}");
}

#[test]
fn switches_read_as_people_write_them() {
    for on in ["1", "true", "TRUE", "yes", "on"] {
        assert_eq!(parse_switch(on), Ok(true), "{on}");
    }
    for off in ["", "0", "false", "no", "off"] {
        assert_eq!(parse_switch(off), Ok(false), "{off}");
    }
    assert!(parse_switch("maybe").is_err());
}

#[test]
fn secrets_never_print() {
    let secret = "p".repeat(40);
    let auth = args(&with_scope(&[
        "--jwt-secret",
        Box::leak(secret.into_boxed_str()),
    ]))
    .resolve(KEY, Some("tok-tok-tok-tok-tok-tok"))
    .unwrap();
    let shown = format!("{auth:?}");
    assert!(
        !shown.contains("pppp") && !shown.contains("tok-tok"),
        "{shown}"
    );
}
