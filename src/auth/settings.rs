//! Who may call `/graphql`, and what the service shows them: the flags, and the one decision
//! of whether a configuration is safe to serve ([`AccessArgs::resolve`]).
//!
//! The one thing to know: secure by default. A server that holds a real ComplyCube key
//! refuses to start unless callers must authenticate (static tokens or JWTs), or each caller
//! brings their own key (forwarding), or the operator says `--allow-unauthenticated` out
//! loud. Demo mode (no key, no URL) holds nothing worth protecting and stays open.

use std::{fmt, net::IpAddr, time::Duration};

use clap::Args;

use crate::{config::UpstreamChoice, http::cors::CorsPolicy};

/// The environment variable holding the static bearer tokens. Environment only: a flag
/// would put the tokens in `ps` output and shell history.
pub const ACCESS_TOKENS_ENV: &str = "FACADE_ACCESS_TOKENS";

/// The claim listing the clients a token may read, unless `--jwt-clients-claim` says otherwise.
pub const DEFAULT_CLIENTS_CLAIM: &str = "client_ids";

/// Clock skew allowed on `exp` and `nbf`, in seconds.
pub const JWT_LEEWAY_SECS: u64 = 30;

/// The shortest gap between two JWKS fetches, whatever asks for them: a flood of tokens
/// with made-up `kid`s costs the identity provider one request per this period.
pub const JWKS_MIN_REFRESH: Duration = Duration::from_secs(30);

/// Keys older than this are re-read in the background (as a request notices), so a key the
/// identity provider withdrew stops working within about this long.
pub const JWKS_MAX_AGE: Duration = Duration::from_secs(300);

/// RFC 7518 (3.2): an HS256 key must be at least as long as the hash, 256 bits.
pub const MIN_JWT_SECRET_BYTES: usize = 32;

/// A static token shorter than this is refused at start-up: it could be guessed.
pub const MIN_ACCESS_TOKEN_CHARS: usize = 16;

/// The settings of this module, flattened into `serve`'s.
#[derive(Debug, Clone, Default, Args)]
pub struct AccessArgs {
    /// Serve with a real ComplyCube key and no caller authentication: anyone who reaches
    /// the port reads ComplyCube with the server's key. Without it, a server key needs
    /// FACADE_ACCESS_TOKENS (environment only), --jwt-secret or --jwks-url.
    #[arg(long, env = "ALLOW_UNAUTHENTICATED", value_parser = parse_switch)]
    pub allow_unauthenticated: bool,

    /// HS256 secret that signs callers' JWTs (at least 32 bytes). Prefer the environment
    /// variable: a flag shows in `ps`.
    #[arg(long, env = "FACADE_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<Secret>,

    /// URL of a JWKS document with the keys (RS256, ES256) that sign callers' JWTs. https,
    /// or http to a loopback address only.
    #[arg(long, env = "FACADE_JWKS_URL")]
    pub jwks_url: Option<String>,

    /// The `iss` every JWT must carry.
    #[arg(long, env = "FACADE_JWT_ISSUER")]
    pub jwt_issuer: Option<String>,

    /// An `aud` every JWT must carry.
    #[arg(long, env = "FACADE_JWT_AUDIENCE")]
    pub jwt_audience: Option<String>,

    /// The JWT claim listing the ComplyCube client ids a token may read. A token without
    /// it reads every client.
    #[arg(long, env = "FACADE_JWT_CLIENTS_CLAIM", default_value = DEFAULT_CLIENTS_CLAIM)]
    pub jwt_clients_claim: String,

    /// Each caller sends their own ComplyCube API key as `Authorization` (the raw key, as
    /// ComplyCube takes it); the server holds no key.
    #[arg(long, env = "FORWARD_AUTHORIZATION", value_parser = parse_switch)]
    pub forward_authorization: bool,

    /// Browser origins allowed to call `/graphql` (comma-separated, e.g.
    /// `https://app.example.com`). None by default; any in demo mode.
    #[arg(long, env = "CORS_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub cors_allowed_origins: Vec<String>,

    /// Refuse introspection (`__schema`, `__type`); `__typename` still works.
    #[arg(long, env = "NO_INTROSPECTION", value_parser = parse_switch)]
    pub no_introspection: bool,

    /// Serve no GraphiQL (`/` answers 404, a browser at `/graphql` 406).
    #[arg(long, env = "NO_PLAYGROUND", value_parser = parse_switch)]
    pub no_playground: bool,
}

/// An on/off setting, as people write it in an environment: empty is off.
fn parse_switch(text: &str) -> Result<bool, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "" | "0" | "false" | "no" | "off" => Ok(false),
        "1" | "true" | "yes" | "on" => Ok(true),
        _ => Err(format!(
            "`{text}` is not on or off (true/false, 1/0, yes/no, on/off)"
        )),
    }
}

/// A secret from the command line or the environment. `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self::new(s))
    }
}

/// What the service shows and to whom: checked and ready to serve.
#[derive(Clone, Debug)]
pub struct AccessConfig {
    pub auth: Authentication,
    pub cors: CorsPolicy,
    /// `__schema` and `__type` answer.
    pub introspection: bool,
    /// GraphiQL is served at `/` and to browsers at `/graphql`.
    pub playground: bool,
}

impl Default for AccessConfig {
    /// Open, as a library default (tests, benchmarks); `serve` decides through
    /// [`AccessArgs::resolve`], which refuses to open a real key to everyone.
    fn default() -> Self {
        Self {
            auth: Authentication::Open,
            cors: CorsPolicy::Off,
            introspection: true,
            playground: true,
        }
    }
}

/// How callers of `/graphql` prove who they are.
#[derive(Clone, Debug, Default)]
pub enum Authentication {
    /// Anyone may call, with full access (demo mode, or `--allow-unauthenticated`).
    #[default]
    Open,
    /// Each caller's `Authorization` is their own ComplyCube key, sent on unchanged.
    Forward,
    /// `Authorization: Bearer <token>`, a static token or a JWT.
    Verify(Credentials),
}

/// What a bearer token is checked against. At least one of the two is set.
#[derive(Clone, Debug, Default)]
pub struct Credentials {
    /// Static tokens, each with full access.
    pub tokens: Vec<Secret>,
    pub jwt: Option<JwtSettings>,
}

/// How JWTs are verified.
#[derive(Clone, Debug)]
pub struct JwtSettings {
    /// The HS256 key.
    pub secret: Option<Secret>,
    /// Where the RS256 and ES256 keys are.
    pub jwks_url: Option<String>,
    pub issuer: Option<String>,
    pub audience: Option<String>,
    /// The claim listing the clients a token may read.
    pub clients_claim: String,
    /// Clock skew allowed on `exp` and `nbf`, in seconds.
    pub leeway_secs: u64,
    /// See [`JWKS_MIN_REFRESH`].
    pub jwks_min_refresh: Duration,
    /// See [`JWKS_MAX_AGE`].
    pub jwks_max_age: Duration,
}

impl JwtSettings {
    /// Nothing set but the defaults: add a secret or a JWKS URL.
    pub fn new() -> Self {
        Self {
            secret: None,
            jwks_url: None,
            issuer: None,
            audience: None,
            clients_claim: DEFAULT_CLIENTS_CLAIM.to_owned(),
            leeway_secs: JWT_LEEWAY_SECS,
            jwks_min_refresh: JWKS_MIN_REFRESH,
            jwks_max_age: JWKS_MAX_AGE,
        }
    }
}

impl Default for JwtSettings {
    fn default() -> Self {
        Self::new()
    }
}

/// What fixes a refused start, named in the refusal.
const HOW_TO_AUTHENTICATE: &str = "set FACADE_ACCESS_TOKENS (comma-separated bearer tokens), \
    --jwt-secret / FACADE_JWT_SECRET (HS256) or --jwks-url / FACADE_JWKS_URL (RS256, ES256); \
    or use --forward-authorization / FORWARD_AUTHORIZATION without a server key, so that each \
    caller sends their own ComplyCube key; or, to serve the key to anyone who can reach this \
    port, --allow-unauthenticated / ALLOW_UNAUTHENTICATED=true";

impl AccessArgs {
    /// Checks these settings against where the data comes from and turns them into what the
    /// service runs with. `access_tokens` is the value of [`ACCESS_TOKENS_ENV`]. The error
    /// says what is wrong and which settings would fix it.
    pub fn resolve(
        &self,
        upstream: &UpstreamChoice,
        access_tokens: Option<&str>,
    ) -> Result<AccessConfig, String> {
        let set = |v: &Option<String>| v.clone().filter(|v| !v.trim().is_empty());
        let tokens = parse_tokens(access_tokens.unwrap_or_default())?;
        let secret = self.jwt_secret.clone().filter(|s| !s.expose().is_empty());
        let jwks_url = set(&self.jwks_url);
        let issuer = set(&self.jwt_issuer);
        let audience = set(&self.jwt_audience);
        if let Some(secret) = &secret {
            if secret.expose().len() < MIN_JWT_SECRET_BYTES {
                return Err(format!(
                    "the JWT secret (--jwt-secret / FACADE_JWT_SECRET) must be at least \
                     {MIN_JWT_SECRET_BYTES} bytes (e.g. `openssl rand -base64 48`)"
                ));
            }
        }
        if let Some(url) = &jwks_url {
            check_jwks_url(url)?;
        }
        let jwt_wanted = secret.is_some() || jwks_url.is_some();
        if !jwt_wanted && (issuer.is_some() || audience.is_some()) {
            return Err(
                "--jwt-issuer and --jwt-audience check JWTs: also set --jwt-secret / \
                 FACADE_JWT_SECRET or --jwks-url / FACADE_JWKS_URL"
                    .to_owned(),
            );
        }
        let clients_claim = self.jwt_clients_claim.trim();
        if clients_claim.is_empty() {
            return Err("--jwt-clients-claim / FACADE_JWT_CLIENTS_CLAIM must name a claim".into());
        }
        let server_key = matches!(
            upstream,
            UpstreamChoice::Remote {
                api_key: Some(_),
                ..
            }
        );
        let auth = if self.forward_authorization {
            if server_key {
                return Err(
                    "--forward-authorization sends each caller's own ComplyCube key: \
                     unset COMPLYCUBE_API_KEY / --api-key"
                        .to_owned(),
                );
            }
            if jwt_wanted || !tokens.is_empty() {
                return Err(
                    "--forward-authorization takes each caller's ComplyCube key from \
                     `Authorization`, where bearer tokens would go: unset FACADE_ACCESS_TOKENS, \
                     FACADE_JWT_SECRET and FACADE_JWKS_URL, or forwarding"
                        .to_owned(),
                );
            }
            Authentication::Forward
        } else if jwt_wanted || !tokens.is_empty() {
            Authentication::Verify(Credentials {
                tokens,
                jwt: jwt_wanted.then(|| JwtSettings {
                    secret,
                    jwks_url,
                    issuer,
                    audience,
                    clients_claim: clients_claim.to_owned(),
                    ..JwtSettings::new()
                }),
            })
        } else if server_key && !self.allow_unauthenticated {
            return Err(format!(
                "refusing to serve a ComplyCube API key to unauthenticated callers: \
                 {HOW_TO_AUTHENTICATE}"
            ));
        } else {
            Authentication::Open
        };
        let cors = match (CorsPolicy::parse(&self.cors_allowed_origins)?, upstream) {
            (CorsPolicy::Off, UpstreamChoice::Demo) => CorsPolicy::Any,
            (policy, _) => policy,
        };
        Ok(AccessConfig {
            auth,
            cors,
            introspection: !self.no_introspection,
            playground: !self.no_playground,
        })
    }
}

impl AccessConfig {
    /// Says at start-up who may call and what is exposed; warns when a real key is open.
    pub fn log_start(&self, upstream: &UpstreamChoice) {
        let server_key = matches!(
            upstream,
            UpstreamChoice::Remote {
                api_key: Some(_),
                ..
            }
        );
        match &self.auth {
            Authentication::Open if server_key => tracing::warn!(
                "ALLOW_UNAUTHENTICATED: /graphql asks for no credentials, so anyone who can \
                 reach this port reads ComplyCube with the server's API key"
            ),
            Authentication::Open if *upstream == UpstreamChoice::Demo => tracing::info!(
                "demo mode: /graphql asks for no credentials and any browser origin may call \
                 it (CORS); set FACADE_ACCESS_TOKENS or a JWT key to require them"
            ),
            Authentication::Open => {
                tracing::info!("/graphql asks for no credentials (no server API key to protect)")
            }
            Authentication::Forward => tracing::info!(
                "forwarding mode: each caller's Authorization header is their own ComplyCube \
                 API key, sent on for their request only"
            ),
            Authentication::Verify(credentials) => {
                let jwt = credentials.jwt.as_ref();
                tracing::info!(
                    static_tokens = credentials.tokens.len(),
                    hs256 = jwt.is_some_and(|j| j.secret.is_some()),
                    jwks = jwt
                        .and_then(|j| j.jwks_url.as_deref())
                        .map_or_else(|| "none".to_owned(), crate::upstream::redacted_url),
                    issuer = jwt.and_then(|j| j.issuer.as_deref()).unwrap_or("any"),
                    audience = jwt.and_then(|j| j.audience.as_deref()).unwrap_or("any"),
                    "/graphql requires Authorization: Bearer <token>"
                );
            }
        }
        match &self.cors {
            CorsPolicy::Off => {}
            CorsPolicy::Any => tracing::info!("CORS: any origin may call from a browser"),
            CorsPolicy::Origins(origins) => {
                tracing::info!(origins = %origins.join(", "), "CORS: these origins may call from a browser")
            }
        }
        if !self.introspection {
            tracing::info!("introspection is off (__schema, __type)");
        }
    }
}

fn parse_tokens(text: &str) -> Result<Vec<Secret>, String> {
    let tokens: Vec<Secret> = text
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(Secret::new)
        .collect();
    for (i, token) in tokens.iter().enumerate() {
        if token.expose().chars().count() < MIN_ACCESS_TOKEN_CHARS {
            return Err(format!(
                "token {} of {ACCESS_TOKENS_ENV} is shorter than {MIN_ACCESS_TOKEN_CHARS} \
                 characters (e.g. `openssl rand -hex 32`)",
                i + 1
            ));
        }
        if token
            .expose()
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(format!(
                "token {} of {ACCESS_TOKENS_ENV} holds a space or a control character",
                i + 1
            ));
        }
    }
    Ok(tokens)
}

/// Keys fetched over plain http could be swapped on the way, and whoever swaps them signs
/// any token: https, or http to this machine only.
fn check_jwks_url(url: &str) -> Result<(), String> {
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| format!("the JWKS URL (--jwks-url / FACADE_JWKS_URL) is not a URL: {e}"))?;
    let loopback = parsed.host_str().is_some_and(|host| {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        host.eq_ignore_ascii_case("localhost")
            || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
    });
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err(
            "the JWKS URL (--jwks-url / FACADE_JWKS_URL) must be https (http only to a \
             loopback address): keys fetched in the clear could be replaced"
                .to_owned(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{config::Cli, upstream::ApiKey};
    use clap::Parser;

    fn args(flags: &[&str]) -> AccessArgs {
        Cli::try_parse_from(std::iter::once("x").chain(flags.iter().copied()))
            .unwrap()
            .serve
            .access
    }

    fn remote(key: Option<&str>) -> UpstreamChoice {
        UpstreamChoice::Remote {
            base_url: "https://api.complycube.com/v1".into(),
            api_key: key.map(ApiKey::new),
        }
    }

    const TOKEN: &str = "a-token-of-enough-length";

    #[test]
    fn a_real_key_without_authentication_refuses_to_start_and_says_what_fixes_it() {
        let error = args(&[]).resolve(&remote(Some("k")), None).unwrap_err();
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
        assert!(args(&[]).resolve(&remote(Some("k")), Some(" , ")).is_err());
    }

    #[test]
    fn any_way_of_authenticating_lets_a_real_key_serve() {
        let key = remote(Some("k"));
        let config = args(&[]).resolve(&key, Some(TOKEN)).unwrap();
        assert!(
            matches!(config.auth, Authentication::Verify(Credentials { ref tokens, jwt: None }) if tokens.len() == 1)
        );
        let secret = "s".repeat(32);
        let config = args(&["--jwt-secret", &secret])
            .resolve(&key, None)
            .unwrap();
        assert!(matches!(
            config.auth,
            Authentication::Verify(Credentials { jwt: Some(_), .. })
        ));
        let config = args(&["--jwks-url", "https://idp.example/jwks.json"])
            .resolve(&key, None)
            .unwrap();
        assert!(matches!(config.auth, Authentication::Verify(_)));
        let config = args(&["--allow-unauthenticated"])
            .resolve(&key, None)
            .unwrap();
        assert!(matches!(config.auth, Authentication::Open));
        let config = args(&["--forward-authorization"])
            .resolve(&remote(None), None)
            .unwrap();
        assert!(matches!(config.auth, Authentication::Forward));
    }

    #[test]
    fn demo_mode_and_a_keyless_upstream_stay_open() {
        let demo = args(&[]).resolve(&UpstreamChoice::Demo, None).unwrap();
        assert!(matches!(demo.auth, Authentication::Open));
        assert!(
            matches!(demo.cors, CorsPolicy::Any),
            "demo mode allows any origin"
        );
        let keyless = args(&[]).resolve(&remote(None), None).unwrap();
        assert!(matches!(keyless.auth, Authentication::Open));
        assert!(
            matches!(keyless.cors, CorsPolicy::Off),
            "nothing allowed by default"
        );
        // Tokens asked for in demo mode are required there too.
        let demo = args(&[])
            .resolve(&UpstreamChoice::Demo, Some(TOKEN))
            .unwrap();
        assert!(matches!(demo.auth, Authentication::Verify(_)));
    }

    #[test]
    fn forwarding_takes_no_server_key_and_no_bearer_tokens() {
        let forward = args(&["--forward-authorization"]);
        let error = forward.resolve(&remote(Some("k")), None).unwrap_err();
        assert!(error.contains("COMPLYCUBE_API_KEY"), "{error}");
        let error = forward.resolve(&remote(None), Some(TOKEN)).unwrap_err();
        assert!(error.contains("FACADE_ACCESS_TOKENS"), "{error}");
    }

    #[test]
    fn weak_or_unsafe_credentials_are_refused() {
        let key = remote(Some("k"));
        let error = args(&[]).resolve(&key, Some("short")).unwrap_err();
        assert!(error.contains("shorter than 16"), "{error}");
        let error = args(&["--jwt-secret", "too-short"])
            .resolve(&key, None)
            .unwrap_err();
        assert!(error.contains("at least 32 bytes"), "{error}");
        let error = args(&["--jwks-url", "http://idp.example/jwks.json"])
            .resolve(&key, None)
            .unwrap_err();
        assert!(error.contains("https"), "{error}");
        assert!(args(&["--jwks-url", "http://127.0.0.1:9/jwks.json"])
            .resolve(&key, None)
            .is_ok());
        let error = args(&["--jwt-issuer", "https://idp.example/"])
            .resolve(&key, Some(TOKEN))
            .unwrap_err();
        assert!(error.contains("--jwt-secret"), "{error}");
    }

    #[test]
    fn switches_read_as_people_write_them() {
        let parse = |v: &str| parse_switch(v);
        for on in ["1", "true", "TRUE", "yes", "on"] {
            assert_eq!(parse(on), Ok(true), "{on}");
        }
        for off in ["", "0", "false", "no", "off"] {
            assert_eq!(parse(off), Ok(false), "{off}");
        }
        assert!(parse("maybe").is_err());
        assert!(args(&["--no-introspection", "--no-playground"]).no_introspection);
        assert!(args(&["--no-playground"]).no_playground);
        assert!(!args(&[]).no_playground);
    }

    #[test]
    fn introspection_and_playground_are_on_by_default() {
        let config = args(&[]).resolve(&UpstreamChoice::Demo, None).unwrap();
        assert!(config.introspection && config.playground);
        let config = args(&["--no-introspection", "--no-playground"])
            .resolve(&UpstreamChoice::Demo, None)
            .unwrap();
        assert!(!config.introspection && !config.playground);
    }

    #[test]
    fn secrets_never_print() {
        let config = args(&["--jwt-secret", &"p".repeat(40)])
            .resolve(&remote(Some("k")), Some("tok-tok-tok-tok-tok-tok"))
            .unwrap();
        let shown = format!("{config:?}");
        assert!(
            !shown.contains("pppp") && !shown.contains("tok-tok"),
            "{shown}"
        );
    }
}
