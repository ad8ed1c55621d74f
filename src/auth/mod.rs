//! Who is calling: the [`Gate`] in front of `/graphql` turns a request's `Authorization`
//! into a [`Caller`] (or a forwarded ComplyCube key), or refuses it.
//!
//! - `settings`: the flags, and whether a configuration is safe to serve (secure by default);
//!   what the door shows besides (CORS, introspection, GraphiQL) is `http::exposure`'s;
//! - `tokens`: static bearer tokens, compared in constant time;
//! - `jwt`: JWTs (HS256 secret, RS256/ES256 from JWKS), their claims and client scoping;
//! - `jwks`: the JWKS document, cached and re-read within limits.
//!
//! The one thing to know: the gate runs before the body is read and before anything can
//! reach ComplyCube; a request it refuses costs no upstream call. What it admits carries a
//! [`Caller`] into every operation's data, and resolvers ask [`Caller::may_read`] before
//! they load a client's data.

mod jwks;
mod jwt;
mod settings;
mod tokens;

use crate::secrets::KeyId;
use std::{collections::BTreeSet, sync::Arc};

use axum::http::{header, HeaderMap};

pub use crate::secrets::Secret;
pub use jwt::JwtVerifier;
pub use settings::{
    parse_switch, AuthArgs, Authentication, Credentials, JwtSettings, Serving, ACCESS_TOKENS_ENV,
    DEFAULT_CLIENTS_CLAIM, DEFAULT_JWT_MAX_LIFETIME, JWKS_MAX_AGE, JWKS_MIN_REFRESH,
    JWKS_STALE_AFTER, JWT_LEEWAY_SECS,
};
pub use tokens::StaticTokens;

use crate::upstream::ApiKey;

/// Who is calling, as far as what they may read goes. In each GraphQL request's data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Caller {
    /// A static token, a JWT without the clients claim, or no authentication configured.
    Full,
    /// A JWT whose clients claim lists these ComplyCube client ids: only these.
    Scoped(Arc<BTreeSet<String>>),
    /// Forwarding mode: the caller's own ComplyCube key decides what they may read.
    Forwarded,
}

impl Caller {
    /// A caller who may read only `clients`.
    pub fn scoped(clients: impl IntoIterator<Item = String>) -> Self {
        Self::Scoped(Arc::new(clients.into_iter().collect()))
    }

    /// Whether this caller may read the ComplyCube client `client` (its details, its
    /// photos). Ask before any upstream call for it.
    pub fn may_read(&self, client: &str) -> bool {
        match self {
            Self::Full | Self::Forwarded => true,
            Self::Scoped(clients) => clients.contains(client),
        }
    }
}

/// What the gate lets through: the caller, and in forwarding mode their ComplyCube key.
#[derive(Clone, Debug)]
pub struct Admission {
    pub caller: Caller,
    /// The key to use upstream for this request instead of the server's (forwarding mode).
    pub key: Option<ApiKey>,
    /// Who is calling, for the per-caller share of the rate budget (`--caller-rate`): a
    /// static token or a JWT's subject; `None` when nothing tells callers apart (open
    /// mode) or each brings their own key (forwarding).
    pub who: Option<KeyId>,
}

impl Admission {
    pub fn full() -> Self {
        Self {
            caller: Caller::Full,
            key: None,
            who: None,
        }
    }
}

/// Why a request was refused (HTTP 401).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// No `Authorization` header.
    Missing,
    /// An `Authorization` that is not `Bearer <token>` (or, forwarding, not a key).
    Malformed,
    /// A token that is neither a static token nor a valid JWT.
    Invalid,
    /// A JWT, correctly signed, past its `exp`.
    Expired,
}

impl Refusal {
    /// A stable label, for logs and metrics.
    pub fn reason(self) -> &'static str {
        match self {
            Self::Missing => "missing",
            Self::Malformed => "malformed",
            Self::Invalid => "invalid",
            Self::Expired => "expired",
        }
    }

    /// What the caller is told: enough to fix their side, nothing about ours.
    pub fn message(self, forwarding: bool) -> &'static str {
        match (self, forwarding) {
            (Self::Missing | Self::Malformed, true) => {
                "send your ComplyCube API key as the Authorization header"
            }
            (Self::Missing, false) => "authentication required: send Authorization: Bearer <token>",
            (Self::Malformed, false) => "the Authorization header is not Bearer <token>",
            (Self::Invalid, _) => "the token is not valid",
            (Self::Expired, _) => "the token has expired",
        }
    }

    /// The `WWW-Authenticate` challenge (RFC 6750).
    pub fn challenge(self) -> &'static str {
        match self {
            Self::Missing | Self::Malformed => "Bearer",
            Self::Invalid | Self::Expired => "Bearer error=\"invalid_token\"",
        }
    }
}

/// Lets requests through to `/graphql`, or not. One per process.
pub struct Gate {
    mode: Mode,
}

// Made once at start-up: the size of its largest case costs nothing.
#[allow(clippy::large_enum_variant)]
enum Mode {
    Open,
    Forward,
    Verify {
        tokens: StaticTokens,
        jwt: Option<JwtVerifier>,
    },
}

impl Gate {
    /// `http` fetches JWKS documents (the process's one client).
    pub fn new(auth: &Authentication, http: reqwest::Client) -> Result<Self, String> {
        let mode = match auth {
            Authentication::Open => Mode::Open,
            Authentication::Forward => Mode::Forward,
            Authentication::Verify(credentials) => Mode::Verify {
                tokens: StaticTokens::new(&credentials.tokens),
                jwt: match &credentials.jwt {
                    Some(settings) => Some(JwtVerifier::new(settings, http)?),
                    None => None,
                },
            },
        };
        if let Mode::Verify { tokens, jwt: None } = &mode {
            if tokens.is_empty() {
                return Err("authentication is on but no token or JWT key is set".into());
            }
        }
        Ok(Self { mode })
    }

    /// Whether callers bring their own ComplyCube key.
    pub fn forwarding(&self) -> bool {
        matches!(self.mode, Mode::Forward)
    }

    /// Admits a request by its headers, or says why not.
    pub async fn admit(&self, headers: &HeaderMap) -> Result<Admission, Refusal> {
        if let Mode::Open = self.mode {
            return Ok(Admission::full());
        }
        let authorization = match headers.get(header::AUTHORIZATION) {
            None => None,
            Some(value) => Some(value.to_str().map_err(|_| Refusal::Malformed)?.trim()),
        };
        match &self.mode {
            Mode::Open => Ok(Admission::full()),
            Mode::Forward => match authorization {
                None | Some("") => Err(Refusal::Missing),
                Some(key) => Ok(Admission {
                    caller: Caller::Forwarded,
                    key: Some(ApiKey::new(key)),
                    who: None,
                }),
            },
            Mode::Verify { tokens, jwt } => {
                let token = bearer(authorization.ok_or(Refusal::Missing)?)?;
                if tokens.contains(token) {
                    return Ok(Admission {
                        who: Some(KeyId::caller(&[b"token", token.as_bytes()])),
                        ..Admission::full()
                    });
                }
                match jwt {
                    Some(jwt) if JwtVerifier::looks_like_jwt(token) => {
                        let (caller, who) = jwt.verify(token).await?;
                        Ok(Admission {
                            caller,
                            key: None,
                            who: Some(who),
                        })
                    }
                    _ => Err(Refusal::Invalid),
                }
            }
        }
    }
}

/// The token of `Bearer <token>` (the scheme in any case, RFC 7235).
fn bearer(authorization: &str) -> Result<&str, Refusal> {
    let (scheme, token) = authorization.split_once(' ').ok_or(Refusal::Malformed)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() || token.contains(' ') {
        return Err(Refusal::Malformed);
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    const TOKEN: &str = "static-token-0123456789";

    fn headers(authorization: Option<&str>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Some(value) = authorization {
            headers.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    fn admit(gate: &Gate, authorization: Option<&str>) -> Result<Admission, Refusal> {
        futures::executor::block_on(gate.admit(&headers(authorization)))
    }

    fn tokens_gate() -> Gate {
        let auth = Authentication::Verify(Credentials {
            tokens: vec![Secret::new(TOKEN)],
            jwt: None,
        });
        Gate::new(&auth, reqwest::Client::new()).unwrap()
    }

    #[test]
    fn bearer_tokens_are_read_as_rfc_6750_says() {
        let gate = tokens_gate();
        assert!(admit(&gate, Some(&format!("Bearer {TOKEN}"))).is_ok());
        assert!(admit(&gate, Some(&format!("bearer {TOKEN}"))).is_ok());
        assert_eq!(admit(&gate, None).unwrap_err(), Refusal::Missing);
        assert_eq!(admit(&gate, Some(TOKEN)).unwrap_err(), Refusal::Malformed);
        assert_eq!(
            admit(&gate, Some("Basic dXNlcjpwYXNz")).unwrap_err(),
            Refusal::Malformed
        );
        assert_eq!(
            admit(&gate, Some("Bearer ")).unwrap_err(),
            Refusal::Malformed
        );
        assert_eq!(
            admit(&gate, Some("Bearer static-token-012345678")).unwrap_err(),
            Refusal::Invalid
        );
    }

    #[test]
    fn forwarding_admits_any_key_and_hands_it_on() {
        let gate = Gate::new(&Authentication::Forward, reqwest::Client::new()).unwrap();
        let admitted = admit(&gate, Some("live_key_1")).unwrap();
        assert_eq!(admitted.caller, Caller::Forwarded);
        assert_eq!(admitted.key.unwrap().expose(), "live_key_1");
        assert_eq!(admit(&gate, None).unwrap_err(), Refusal::Missing);
        assert_eq!(admit(&gate, Some("  ")).unwrap_err(), Refusal::Missing);
    }

    #[test]
    fn an_open_gate_admits_everyone_with_full_access() {
        let gate = Gate::new(&Authentication::Open, reqwest::Client::new()).unwrap();
        assert_eq!(admit(&gate, None).unwrap().caller, Caller::Full);
        assert_eq!(admit(&gate, Some("junk")).unwrap().caller, Caller::Full);
        let mut odd = HeaderMap::new();
        odd.insert(
            header::AUTHORIZATION,
            HeaderValue::from_bytes(b"caf\xe9").unwrap(),
        );
        assert!(futures::executor::block_on(gate.admit(&odd)).is_ok());
    }

    #[test]
    fn scoped_callers_read_only_their_clients() {
        let caller = Caller::scoped(["a".to_owned()]);
        assert!(caller.may_read("a"));
        assert!(!caller.may_read("b") && !caller.may_read("") && !caller.may_read("A"));
        assert!(Caller::Full.may_read("b") && Caller::Forwarded.may_read("b"));
    }
}
