//! How callers of `/graphql` prove who they are: the flags, and the one decision of whether
//! a configuration is safe to serve ([`AuthArgs::resolve`]).
//!
//! The one thing to know: secure by default. A server that holds a real ComplyCube key
//! refuses to start unless callers must authenticate (static tokens or JWTs), or each caller
//! brings their own key (forwarding), or the operator says `--allow-unauthenticated` out
//! loud. JWTs are checked for an issuer and an audience unless the operator says any will
//! do, and a token that names no clients reads none unless told otherwise. Demo mode (no
//! key, no URL) holds nothing worth protecting and stays open.

use std::{net::IpAddr, time::Duration};

use clap::Args;
use humantime::Duration as HumanDuration;

use crate::secrets::Secret;

/// The environment variable holding the static bearer tokens. Environment only: a flag
/// would put the tokens in `ps` output and shell history.
pub const ACCESS_TOKENS_ENV: &str = "FACADE_ACCESS_TOKENS";

/// The claim listing the clients a token may read, unless `--jwt-clients-claim` says otherwise.
pub const DEFAULT_CLIENTS_CLAIM: &str = "client_ids";

/// Clock skew allowed on `exp`, `nbf` and `iat`, in seconds.
pub const JWT_LEEWAY_SECS: u64 = 30;

/// The longest a JWT may live, by default: its `exp` at most this long after its `iat` (and
/// after now). A day covers any session a browser holds; a token "valid until 9999" is not
/// a session, it is a password.
pub const DEFAULT_JWT_MAX_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// The shortest gap between two JWKS fetches, whatever asks for them: a flood of tokens
/// with made-up `kid`s costs the identity provider one request per this period.
pub const JWKS_MIN_REFRESH: Duration = Duration::from_secs(30);

/// Keys older than this are re-read in the background (as a request notices), so a key the
/// identity provider withdrew stops working within about this long.
pub const JWKS_MAX_AGE: Duration = Duration::from_secs(300);

/// Keys are dropped when no fetch has succeeded for this long: a withdrawn key is not
/// trusted forever because the identity provider cannot be reached.
pub const JWKS_STALE_AFTER: Duration = Duration::from_secs(3600);

/// RFC 7518 (3.2): an HS256 key must be at least as long as the hash, 256 bits.
pub const MIN_JWT_SECRET_BYTES: usize = 32;

/// A static token shorter than this is refused at start-up: it could be guessed.
pub const MIN_ACCESS_TOKEN_CHARS: usize = 16;

/// The settings of authentication, flattened into `serve`'s.
#[derive(Debug, Clone, Default, Args)]
pub struct AuthArgs {
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

    /// The `iss` every JWT must carry. Required with JWTs, unless --jwt-any-issuer.
    #[arg(long, env = "FACADE_JWT_ISSUER")]
    pub jwt_issuer: Option<String>,

    /// An `aud` every JWT must carry. Required with JWTs, unless --jwt-any-audience.
    #[arg(long, env = "FACADE_JWT_AUDIENCE")]
    pub jwt_audience: Option<String>,

    /// Accept JWTs from any issuer the keys sign for (no --jwt-issuer): every token the key
    /// owner ever signed, for anything, is then a credential here.
    #[arg(long, env = "FACADE_JWT_ANY_ISSUER", value_parser = parse_switch)]
    pub jwt_any_issuer: bool,

    /// Accept JWTs meant for any audience (no --jwt-audience): a token another app of the
    /// same identity provider received is then a credential here.
    #[arg(long, env = "FACADE_JWT_ANY_AUDIENCE", value_parser = parse_switch)]
    pub jwt_any_audience: bool,

    /// The JWT claim listing the ComplyCube client ids a token may read.
    #[arg(long, env = "FACADE_JWT_CLIENTS_CLAIM", default_value = DEFAULT_CLIENTS_CLAIM)]
    pub jwt_clients_claim: String,

    /// A JWT without the clients claim reads every client. Off by default: such a token
    /// reads none (FORBIDDEN).
    #[arg(long, env = "FACADE_JWT_UNSCOPED_FULL_ACCESS", value_parser = parse_switch)]
    pub jwt_unscoped_full_access: bool,

    /// The longest a JWT may live: its `exp` at most this long after its `iat` and after
    /// now (e.g. `1h`).
    #[arg(long, env = "FACADE_JWT_MAX_LIFETIME", default_value_t = DEFAULT_JWT_MAX_LIFETIME.into())]
    pub jwt_max_lifetime: HumanDuration,

    /// Each caller sends their own ComplyCube API key as `Authorization` (the raw key, as
    /// ComplyCube takes it); the server holds no key.
    #[arg(long, env = "FORWARD_AUTHORIZATION", value_parser = parse_switch)]
    pub forward_authorization: bool,
}

/// An on/off setting, as people write it in an environment: empty is off.
pub fn parse_switch(text: &str) -> Result<bool, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "" | "0" | "false" | "no" | "off" => Ok(false),
        "1" | "true" | "yes" | "on" => Ok(true),
        _ => Err(format!(
            "`{text}` is not on or off (true/false, 1/0, yes/no, on/off)"
        )),
    }
}

/// What a process serves, as far as how careful its gate must be goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Serving {
    /// The embedded simulator's demo data: nothing worth protecting.
    Demo,
    /// A real (or standalone simulated) ComplyCube, with the server's own key or not.
    Remote { server_key: bool },
}

/// How callers of `/graphql` prove who they are.
// Made once at start-up: the size of its largest case costs nothing.
#[allow(clippy::large_enum_variant)]
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
    /// The `iss` required; `None` only with `--jwt-any-issuer`.
    pub issuer: Option<String>,
    /// The `aud` required; `None` only with `--jwt-any-audience`.
    pub audience: Option<String>,
    /// The claim listing the clients a token may read.
    pub clients_claim: String,
    /// Whether a token without that claim reads every client (else none).
    pub unscoped_full_access: bool,
    /// The longest a token may live (`exp` after `iat` and after now).
    pub max_lifetime: Duration,
    /// Clock skew allowed on `exp`, `nbf` and `iat`, in seconds.
    pub leeway_secs: u64,
    /// See [`JWKS_MIN_REFRESH`].
    pub jwks_min_refresh: Duration,
    /// See [`JWKS_MAX_AGE`].
    pub jwks_max_age: Duration,
    /// See [`JWKS_STALE_AFTER`].
    pub jwks_stale_after: Duration,
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
            unscoped_full_access: false,
            max_lifetime: DEFAULT_JWT_MAX_LIFETIME,
            leeway_secs: JWT_LEEWAY_SECS,
            jwks_min_refresh: JWKS_MIN_REFRESH,
            jwks_max_age: JWKS_MAX_AGE,
            jwks_stale_after: JWKS_STALE_AFTER,
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

impl AuthArgs {
    /// Checks these settings against what is served and turns them into how callers
    /// authenticate. `access_tokens` is the value of [`ACCESS_TOKENS_ENV`]. The error says
    /// what is wrong and which settings would fix it.
    pub fn resolve(
        &self,
        serving: Serving,
        access_tokens: Option<&str>,
    ) -> Result<Authentication, String> {
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
        if jwt_wanted {
            check_jwt_scope(issuer.is_some(), self.jwt_any_issuer, "issuer", "iss")?;
            check_jwt_scope(audience.is_some(), self.jwt_any_audience, "audience", "aud")?;
        }
        let clients_claim = self.jwt_clients_claim.trim();
        if clients_claim.is_empty() {
            return Err("--jwt-clients-claim / FACADE_JWT_CLIENTS_CLAIM must name a claim".into());
        }
        if self.jwt_max_lifetime.is_zero() {
            return Err(
                "--jwt-max-lifetime / FACADE_JWT_MAX_LIFETIME must be longer than 0".into(),
            );
        }
        let server_key = serving == Serving::Remote { server_key: true };
        if self.forward_authorization {
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
            return Ok(Authentication::Forward);
        }
        if jwt_wanted || !tokens.is_empty() {
            return Ok(Authentication::Verify(Credentials {
                tokens,
                jwt: jwt_wanted.then(|| JwtSettings {
                    secret,
                    jwks_url,
                    issuer,
                    audience,
                    clients_claim: clients_claim.to_owned(),
                    unscoped_full_access: self.jwt_unscoped_full_access,
                    max_lifetime: *self.jwt_max_lifetime,
                    ..JwtSettings::new()
                }),
            }));
        }
        if server_key && !self.allow_unauthenticated {
            return Err(format!(
                "refusing to serve a ComplyCube API key to unauthenticated callers: \
                 {HOW_TO_AUTHENTICATE}"
            ));
        }
        Ok(Authentication::Open)
    }
}

/// A JWT check of `iss` or `aud` is either configured or waived out loud.
fn check_jwt_scope(set: bool, waived: bool, what: &str, claim: &str) -> Result<(), String> {
    match (set, waived) {
        (false, false) => Err(format!(
            "JWTs need an {what}: set --jwt-{what} / FACADE_JWT_{upper} (the `{claim}` every \
             token must carry), or accept tokens of any {what} with --jwt-any-{what} / \
             FACADE_JWT_ANY_{upper}=true",
            upper = what.to_ascii_uppercase()
        )),
        (true, true) => Err(format!(
            "--jwt-{what} and --jwt-any-{what} contradict each other: keep one"
        )),
        _ => Ok(()),
    }
}

impl Authentication {
    /// Says at start-up who may call; warns when a real key is open or a JWT check waived.
    pub fn log_start(&self, serving: Serving) {
        match self {
            Self::Open if serving == (Serving::Remote { server_key: true }) => tracing::warn!(
                "ALLOW_UNAUTHENTICATED: /graphql asks for no credentials, so anyone who can \
                 reach this port reads ComplyCube with the server's API key"
            ),
            Self::Open if serving == Serving::Demo => tracing::info!(
                "demo mode: /graphql asks for no credentials and any browser origin may call \
                 it (CORS); set FACADE_ACCESS_TOKENS or a JWT key to require them"
            ),
            Self::Open => {
                tracing::info!("/graphql asks for no credentials (no server API key to protect)")
            }
            Self::Forward => tracing::info!(
                "forwarding mode: each caller's Authorization header is their own ComplyCube \
                 API key, sent on for their request only"
            ),
            Self::Verify(credentials) => {
                let jwt = credentials.jwt.as_ref();
                tracing::info!(
                    static_tokens = credentials.tokens.len(),
                    hs256 = jwt.is_some_and(|j| j.secret.is_some()),
                    jwks = jwt
                        .and_then(|j| j.jwks_url.as_deref())
                        .map_or_else(|| "none".to_owned(), crate::secrets::redacted_url),
                    issuer = jwt.and_then(|j| j.issuer.as_deref()).unwrap_or("any"),
                    audience = jwt.and_then(|j| j.audience.as_deref()).unwrap_or("any"),
                    "/graphql requires Authorization: Bearer <token>"
                );
                if let Some(jwt) = jwt {
                    if jwt.issuer.is_none() {
                        tracing::warn!("FACADE_JWT_ANY_ISSUER: JWTs of any issuer are accepted");
                    }
                    if jwt.audience.is_none() {
                        tracing::warn!(
                            "FACADE_JWT_ANY_AUDIENCE: JWTs meant for any audience are accepted"
                        );
                    }
                    if jwt.unscoped_full_access {
                        tracing::warn!(
                            "FACADE_JWT_UNSCOPED_FULL_ACCESS: a JWT without `{}` reads every client",
                            jwt.clients_claim
                        );
                    }
                }
            }
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
mod tests;
