//! JWT verification: HS256 with the configured secret, RS256 and ES256 with the keys of a
//! JWKS document; then `exp`, `nbf`, `iss`, `aud`, and the claim that scopes a caller to
//! some clients.
//!
//! The one thing to know: a token is tried only against keys whose own algorithm is the
//! one its header names, and verified with exactly that algorithm. `alg: none` cannot be
//! expressed (`jsonwebtoken` has no such algorithm); an HS256 token never meets an RSA or
//! EC key (so the RSA-public-key-as-HMAC-secret trick finds nothing to verify with).

use crate::secrets::KeyId;
use std::{collections::BTreeSet, sync::Arc};

use jsonwebtoken::{errors::ErrorKind, Algorithm, DecodingKey, Validation};
use serde_json::Value;

use super::{
    jwks::{Jwks, VerifyingKey},
    settings::JwtSettings,
    Caller, Refusal,
};

/// Checks JWTs. One per process.
pub struct JwtVerifier {
    /// The HS256 key, if a secret is configured.
    secret: Option<VerifyingKey>,
    jwks: Option<Arc<Jwks>>,
    issuer: Option<String>,
    audience: Option<String>,
    clients_claim: String,
    /// Whether a token without the clients claim reads every client (else none).
    unscoped_full_access: bool,
    /// The longest a token may live, in seconds.
    max_lifetime: u64,
    leeway: u64,
}

impl JwtVerifier {
    pub fn new(settings: &JwtSettings, http: reqwest::Client) -> Result<Self, String> {
        let secret = match &settings.secret {
            Some(secret) => Some(VerifyingKey {
                kid: None,
                alg: Algorithm::HS256,
                key: DecodingKey::from_secret(secret.expose().as_bytes())
                    .map_err(|e| format!("the JWT secret: {e}"))?,
            }),
            None => None,
        };
        let jwks = match &settings.jwks_url {
            Some(url) => Some(Arc::new(Jwks::new(
                url,
                http,
                settings.jwks_min_refresh,
                settings.jwks_max_age,
                settings.jwks_stale_after,
            )?)),
            None => None,
        };
        Ok(Self {
            secret,
            jwks,
            issuer: settings.issuer.clone(),
            audience: settings.audience.clone(),
            clients_claim: settings.clients_claim.clone(),
            unscoped_full_access: settings.unscoped_full_access,
            max_lifetime: settings.max_lifetime.as_secs(),
            leeway: settings.leeway_secs,
        })
    }

    /// Whether `token` is shaped like a JWT at all (three dot-separated parts).
    pub fn looks_like_jwt(token: &str) -> bool {
        token.split('.').count() == 3
    }

    /// The caller a valid token stands for.
    /// The caller a valid token stands for, and who they are for the rate budget's
    /// per-caller share: the token's issuer and subject (the token itself without `sub`).
    pub async fn verify(&self, token: &str) -> Result<(Caller, KeyId), Refusal> {
        // An unknown `alg` (`none` among them) fails here: there is no key for it.
        let header = jsonwebtoken::decode_header(token).map_err(|_| Refusal::Invalid)?;
        let mut keys: Vec<VerifyingKey> = Vec::new();
        match header.alg {
            Algorithm::HS256 => keys.extend(self.secret.clone()),
            Algorithm::RS256 | Algorithm::ES256 => {
                if let Some(jwks) = &self.jwks {
                    keys = jwks.keys_for(header.alg, header.kid.as_deref()).await;
                }
            }
            _ => {}
        }
        let mut refusal = Refusal::Invalid;
        for key in &keys {
            match jsonwebtoken::decode::<Value>(token, &key.key, &self.validation(key.alg)) {
                Ok(data) => {
                    self.check_lifetime(&data.claims)?;
                    let claim = |name: &str| data.claims.get(name).and_then(Value::as_str);
                    let who = match claim("sub") {
                        Some(sub) => KeyId::caller(&[
                            b"jwt",
                            claim("iss").unwrap_or_default().as_bytes(),
                            sub.as_bytes(),
                        ]),
                        None => KeyId::caller(&[b"jwt-token", token.as_bytes()]),
                    };
                    return Ok((self.caller(&data.claims)?, who));
                }
                // Only a token whose signature held can be "expired": say so, it helps.
                Err(e) if *e.kind() == ErrorKind::ExpiredSignature => refusal = Refusal::Expired,
                Err(_) => {}
            }
        }
        Err(refusal)
    }

    /// What a token verified with a key of `alg` must also satisfy.
    fn validation(&self, alg: Algorithm) -> Validation {
        let mut validation = Validation::new(alg);
        validation.leeway = self.leeway;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        let mut required = vec!["exp"];
        if let Some(issuer) = &self.issuer {
            validation.set_issuer(&[issuer]);
            required.push("iss");
        }
        match &self.audience {
            Some(audience) => {
                validation.set_audience(&[audience]);
                required.push("aud");
            }
            // No audience configured: a token's `aud` is none of our business.
            None => validation.validate_aud = false,
        }
        validation.set_required_spec_claims(&required);
        validation
    }

    /// A token lives at most `max_lifetime`: its `exp` no further than that past its `iat`
    /// and past now, and its `iat` not in the future (beyond the leeway).
    fn check_lifetime(&self, claims: &Value) -> Result<(), Refusal> {
        let now = jsonwebtoken::get_current_timestamp();
        let exp = claims
            .get("exp")
            .and_then(Value::as_u64)
            .ok_or(Refusal::Invalid)?;
        let issued = match claims.get("iat") {
            None => None,
            Some(iat) => Some(iat.as_u64().ok_or(Refusal::Invalid)?),
        };
        if issued.is_some_and(|iat| iat > now + self.leeway) {
            return Err(Refusal::Invalid);
        }
        let from = issued.unwrap_or(now).min(now);
        if exp.saturating_sub(from) > self.max_lifetime + self.leeway {
            return Err(Refusal::Invalid);
        }
        Ok(())
    }

    /// The clients the scoping claim lists (an array of ids, or one id); a token without
    /// it reads none, or (`--jwt-unscoped-full-access`) every client.
    fn caller(&self, claims: &Value) -> Result<Caller, Refusal> {
        match claims.get(&self.clients_claim) {
            None if self.unscoped_full_access => Ok(Caller::Full),
            None => Ok(Caller::scoped([])),
            Some(Value::String(id)) => Ok(Caller::scoped([id.clone()])),
            Some(Value::Array(ids)) => ids
                .iter()
                .map(|id| id.as_str().map(str::to_owned))
                .collect::<Option<BTreeSet<String>>>()
                .map(Caller::scoped)
                .ok_or(Refusal::Invalid),
            // A claim we cannot read must not widen access.
            Some(_) => Err(Refusal::Invalid),
        }
    }
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::{encode, EncodingKey, Header};
    use serde_json::json;

    use super::*;
    use crate::secrets::Secret;

    const SECRET: &str = "an-hs256-secret-of-at-least-32-bytes!";

    fn verifier(configure: impl FnOnce(&mut JwtSettings)) -> JwtVerifier {
        let mut settings = JwtSettings {
            secret: Some(Secret::new(SECRET)),
            ..JwtSettings::new()
        };
        configure(&mut settings);
        JwtVerifier::new(&settings, reqwest::Client::new()).unwrap()
    }

    fn now() -> u64 {
        jsonwebtoken::get_current_timestamp()
    }

    fn sign(claims: Value) -> String {
        let key = EncodingKey::from_secret(SECRET.as_bytes()).unwrap();
        encode(&Header::new(Algorithm::HS256), &claims, &key).unwrap()
    }

    fn check(verifier: &JwtVerifier, token: &str) -> Result<Caller, Refusal> {
        futures::executor::block_on(verifier.verify(token)).map(|(caller, _)| caller)
    }

    #[test]
    fn a_signed_token_is_a_caller_with_the_clients_it_lists() {
        let v = verifier(|_| {});
        // No clients claim: nothing, unless the operator said such tokens read everything.
        let unscoped = check(&v, &sign(json!({ "exp": now() + 60 }))).unwrap();
        assert!(!unscoped.may_read("anyone"));
        let open = verifier(|s| s.unscoped_full_access = true);
        let full = check(&open, &sign(json!({ "exp": now() + 60 }))).unwrap();
        assert!(full.may_read("anyone"));
        let scoped = check(
            &v,
            &sign(json!({ "exp": now() + 60, "client_ids": ["a", "b"] })),
        );
        let scoped = scoped.unwrap();
        assert!(scoped.may_read("a") && scoped.may_read("b") && !scoped.may_read("c"));
        let one = check(&v, &sign(json!({ "exp": now() + 60, "client_ids": "a" }))).unwrap();
        assert!(one.may_read("a") && !one.may_read("b"));
        let none = check(&v, &sign(json!({ "exp": now() + 60, "client_ids": [] }))).unwrap();
        assert!(!none.may_read("a"));
        for bad in [json!(5), json!([1]), json!({ "a": true }), json!(null)] {
            let token = sign(json!({ "exp": now() + 60, "client_ids": bad }));
            assert!(matches!(check(&v, &token), Err(Refusal::Invalid)), "{bad}");
        }
        let renamed = verifier(|s| s.clients_claim = "tenants".into());
        let scoped = check(
            &renamed,
            &sign(json!({ "exp": now() + 60, "tenants": ["t"] })),
        );
        assert!(!scoped.unwrap().may_read("a"));
    }

    #[test]
    fn time_claims_are_checked_with_thirty_seconds_of_leeway() {
        let v = verifier(|_| {});
        assert!(check(&v, &sign(json!({ "exp": now() - 10 }))).is_ok());
        assert!(matches!(
            check(&v, &sign(json!({ "exp": now() - 120 }))),
            Err(Refusal::Expired)
        ));
        assert!(matches!(
            check(&v, &sign(json!({ "exp": now() + 600, "nbf": now() + 300 }))),
            Err(Refusal::Invalid)
        ));
        assert!(check(&v, &sign(json!({ "exp": now() + 600, "nbf": now() + 10 }))).is_ok());
        // A token that never expires is not accepted.
        assert!(check(&v, &sign(json!({ "sub": "forever" }))).is_err());
    }

    #[test]
    fn a_token_lives_at_most_the_maximum_lifetime() {
        let v = verifier(|s| s.max_lifetime = std::time::Duration::from_secs(3600));
        let day = 24 * 3600;
        assert!(check(&v, &sign(json!({ "exp": now() + 3000, "iat": now() }))).is_ok());
        assert!(check(&v, &sign(json!({ "exp": now() + 3000 }))).is_ok());
        // Year 9999, with or without `iat`.
        assert!(check(&v, &sign(json!({ "exp": 253_402_300_799u64 }))).is_err());
        assert!(check(&v, &sign(json!({ "exp": now() + day, "iat": now() }))).is_err());
        // Issued long ago with a long life: still too long, though little of it is left.
        assert!(check(&v, &sign(json!({ "exp": now() + 600, "iat": now() - day }))).is_err());
        // Issued in the future beyond the leeway.
        assert!(check(
            &v,
            &sign(json!({ "exp": now() + 1200, "iat": now() + 600 }))
        )
        .is_err());
        assert!(check(&v, &sign(json!({ "exp": now() + 1200, "iat": now() + 10 }))).is_ok());
        assert!(check(&v, &sign(json!({ "exp": now() + 60, "iat": "yesterday" }))).is_err());
    }

    #[test]
    fn issuer_and_audience_are_required_when_configured() {
        let v = verifier(|s| {
            s.issuer = Some("https://idp.example/".into());
            s.audience = Some("complycube-graphql".into());
        });
        let exp = now() + 60;
        let good =
            json!({ "exp": exp, "iss": "https://idp.example/", "aud": "complycube-graphql" });
        assert!(check(&v, &sign(good)).is_ok());
        let listed = json!({ "exp": exp, "iss": "https://idp.example/", "aud": ["other", "complycube-graphql"] });
        assert!(check(&v, &sign(listed)).is_ok());
        for bad in [
            json!({ "exp": exp, "iss": "https://evil.example/", "aud": "complycube-graphql" }),
            json!({ "exp": exp, "iss": "https://idp.example/", "aud": "other" }),
            json!({ "exp": exp, "aud": "complycube-graphql" }),
            json!({ "exp": exp, "iss": "https://idp.example/" }),
        ] {
            assert!(check(&v, &sign(bad.clone())).is_err(), "{bad}");
        }
        // Without a configured audience, a token's own `aud` is fine.
        let open = verifier(|_| {});
        assert!(check(&open, &sign(json!({ "exp": exp, "aud": "whatever" }))).is_ok());
    }

    #[test]
    fn tampered_unsigned_and_foreign_tokens_are_refused() {
        let v = verifier(|_| {});
        let token = sign(json!({ "exp": now() + 60 }));
        let (head, sig) = token.rsplit_once('.').unwrap();
        let mut flipped = sig.as_bytes().to_vec();
        flipped[3] = if flipped[3] == b'A' { b'B' } else { b'A' };
        let tampered = format!("{head}.{}", String::from_utf8(flipped).unwrap());
        assert!(check(&v, &tampered).is_err());
        // Claims changed under a kept signature.
        let (_, claims, sig) = {
            let mut parts = token.split('.');
            (
                parts.next().unwrap(),
                parts.next().unwrap(),
                parts.next().unwrap(),
            )
        };
        let b64 = |v: Value| {
            use base64::Engine;
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
        };
        let widened = format!(
            "{}.{}.{sig}",
            b64(json!({ "alg": "HS256", "typ": "JWT" })),
            b64(json!({ "exp": now() + 60, "client_ids": ["x"] }))
        );
        assert_ne!(widened.split('.').nth(1), Some(claims));
        assert!(check(&v, &widened).is_err());
        let none = format!(
            "{}.{}.",
            b64(json!({ "alg": "none", "typ": "JWT" })),
            b64(json!({ "exp": now() + 60 }))
        );
        assert!(check(&v, &none).is_err());
        let other = EncodingKey::from_secret(b"another-secret-of-at-least-32-bytes!!").unwrap();
        let foreign = encode(
            &Header::new(Algorithm::HS256),
            &json!({ "exp": now() + 60 }),
            &other,
        );
        assert!(check(&v, &foreign.unwrap()).is_err());
        let hs512 = encode(
            &Header::new(Algorithm::HS512),
            &json!({ "exp": now() + 60 }),
            &EncodingKey::from_secret(SECRET.as_bytes()).unwrap(),
        );
        assert!(
            check(&v, &hs512.unwrap()).is_err(),
            "the secret is for HS256 only"
        );
        assert!(check(&v, "not.a.jwt").is_err());
    }
}
