//! The keys of a JWKS document: fetched on first use, re-read when a token names a `kid`
//! we do not hold and when the keys grow old, never more often than a set minimum.
//!
//! The one thing to know: each key's algorithm comes from the key (its `alg`, else its
//! type: RSA is RS256, EC P-256 is ES256), never from a token; keys that are not for
//! verifying signatures, or of any other kind, are left out. A token can only ever be
//! checked with an algorithm one of our keys was published for.

use std::{
    sync::{Arc, RwLock},
    time::Duration,
};

use jsonwebtoken::{
    jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, KeyOperations, PublicKeyUse},
    Algorithm, DecodingKey,
};
use tokio::{sync::Mutex, time::Instant};

/// One fetch of the JWKS document, from sending to the last byte.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// A JWKS document larger than this is refused: real ones hold a handful of keys.
const MAX_JWKS_BYTES: usize = 512 * 1024;

/// A key that verifies signatures with one algorithm.
#[derive(Clone)]
pub struct VerifyingKey {
    pub kid: Option<String>,
    pub alg: Algorithm,
    pub key: DecodingKey,
}

/// The keys and when they were read.
struct Held {
    keys: Arc<[VerifyingKey]>,
    fetched: Option<Instant>,
}

/// A cached JWKS document. Cheap to share behind an `Arc`.
pub struct Jwks {
    url: reqwest::Url,
    http: reqwest::Client,
    held: RwLock<Held>,
    /// When the last fetch began, whatever came of it; held while a fetch runs, so
    /// that concurrent askers wait for it instead of fetching too.
    last_attempt: Mutex<Option<Instant>>,
    min_refresh: Duration,
    max_age: Duration,
    /// Keys held this long past their last successful fetch are no longer trusted.
    stale_after: Duration,
}

impl Jwks {
    pub fn new(
        url: &str,
        http: reqwest::Client,
        min_refresh: Duration,
        max_age: Duration,
        stale_after: Duration,
    ) -> Result<Self, String> {
        let url = reqwest::Url::parse(url).map_err(|e| format!("the JWKS URL: {e}"))?;
        Ok(Self {
            url,
            http,
            held: RwLock::new(Held {
                keys: Arc::from(Vec::new()),
                fetched: None,
            }),
            last_attempt: Mutex::new(None),
            min_refresh,
            max_age,
            stale_after,
        })
    }

    /// The keys that may verify a token signed with `alg` and naming `kid`. Fetches the
    /// document when none is held yet or when no held key has that `kid` (at most once per
    /// minimum period); re-reads it in the background when it is old.
    pub async fn keys_for(
        self: &Arc<Self>,
        alg: Algorithm,
        kid: Option<&str>,
    ) -> Vec<VerifyingKey> {
        let (keys, fetched) = self.snapshot();
        let known = fetched.is_some()
            && kid.is_none_or(|kid| keys.iter().any(|k| k.kid.as_deref() == Some(kid)));
        let keys = if known {
            if fetched.is_some_and(|at| at.elapsed() >= self.max_age) {
                let jwks = self.clone();
                tokio::spawn(async move { jwks.refresh().await });
            }
            keys
        } else {
            self.refresh().await;
            self.snapshot().0
        };
        keys.iter()
            .filter(|k| k.alg == alg)
            .filter(|k| match (kid, &k.kid) {
                (Some(wanted), Some(held)) => wanted == held,
                // A token or a key without a `kid`: any key of the algorithm may be the one.
                _ => true,
            })
            .cloned()
            .collect()
    }

    /// The keys held and when they were fetched; none once they are stale (no fetch has
    /// succeeded for `stale_after`), so that a withdrawn key is not trusted forever while
    /// the identity provider cannot be reached.
    fn snapshot(&self) -> (Arc<[VerifyingKey]>, Option<Instant>) {
        let held = self.held.read().unwrap_or_else(|e| e.into_inner());
        match held.fetched {
            Some(at) if at.elapsed() >= self.stale_after => (Arc::from(Vec::new()), None),
            fetched => (held.keys.clone(), fetched),
        }
    }

    /// Fetches the document unless a fetch began less than the minimum period ago. A
    /// failed fetch keeps the keys held.
    async fn refresh(&self) {
        let mut last = self.last_attempt.lock().await;
        if last.is_some_and(|at| at.elapsed() < self.min_refresh) {
            return;
        }
        *last = Some(Instant::now());
        match self.fetch().await {
            Ok(keys) => {
                tracing::info!(keys = keys.len(), "read the JWKS document");
                let mut held = self.held.write().unwrap_or_else(|e| e.into_inner());
                *held = Held {
                    keys: Arc::from(keys),
                    fetched: Some(Instant::now()),
                };
            }
            Err(e) => {
                tracing::warn!(url = %crate::secrets::redacted_url(self.url.as_str()), error = %e, "cannot read the JWKS document; keeping the keys held until they are stale")
            }
        }
    }

    async fn fetch(&self) -> Result<Vec<VerifyingKey>, String> {
        let mut response = self
            .http
            .get(self.url.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .timeout(FETCH_TIMEOUT)
            .send()
            .await
            .map_err(|e| e.without_url().to_string())?;
        if !response.status().is_success() {
            return Err(format!("HTTP {}", response.status().as_u16()));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| e.without_url().to_string())?
        {
            if body.len() + chunk.len() > MAX_JWKS_BYTES {
                return Err(format!("larger than {MAX_JWKS_BYTES} bytes"));
            }
            body.extend_from_slice(&chunk);
        }
        parse(&body)
    }
}

/// The usable keys of a JWKS document. Each key is read on its own: one key of a kind we
/// do not know (or a broken one) leaves the others usable.
pub fn parse(body: &[u8]) -> Result<Vec<VerifyingKey>, String> {
    #[derive(serde::Deserialize)]
    struct Document {
        keys: Vec<serde_json::Value>,
    }
    let document: Document =
        serde_json::from_slice(body).map_err(|e| format!("not a JWKS document: {e}"))?;
    let keys = document
        .keys
        .into_iter()
        .filter_map(|value| {
            let jwk: Jwk = serde_json::from_value(value)
                .map_err(|e| tracing::debug!(error = %e, "skipping a JWKS key we cannot read"))
                .ok()?;
            verifying_key(&jwk)
        })
        .collect();
    Ok(keys)
}

/// The key, if it is for verifying signatures with RS256 or ES256.
fn verifying_key(jwk: &Jwk) -> Option<VerifyingKey> {
    let for_signatures = match (&jwk.common.public_key_use, &jwk.common.key_operations) {
        (None, None) => true,
        (Some(usage), None) => *usage == PublicKeyUse::Signature,
        (None, Some(ops)) => ops.contains(&KeyOperations::Verify),
        (Some(usage), Some(ops)) => {
            *usage == PublicKeyUse::Signature && ops.contains(&KeyOperations::Verify)
        }
    };
    if !for_signatures {
        return None;
    }
    let alg = match (&jwk.algorithm, jwk.common.key_algorithm) {
        (AlgorithmParameters::RSA(_), None | Some(KeyAlgorithm::RS256)) => Algorithm::RS256,
        (AlgorithmParameters::EllipticCurve(ec), None | Some(KeyAlgorithm::ES256))
            if ec.curve == EllipticCurve::P256 =>
        {
            Algorithm::ES256
        }
        _ => return None,
    };
    let key = DecodingKey::from_jwk(jwk).ok()?;
    Some(VerifyingKey {
        kid: jwk.common.key_id.clone(),
        alg,
        key,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    // A real RSA modulus is not needed to test the selection: any base64url will parse.
    fn rsa(extra: serde_json::Value) -> serde_json::Value {
        let mut key = json!({ "kty": "RSA", "n": "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw", "e": "AQAB" });
        key.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        key
    }

    fn ec(curve: &str) -> serde_json::Value {
        json!({ "kty": "EC", "crv": curve, "kid": "ec",
                "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
                "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0" })
    }

    fn kept(keys: serde_json::Value) -> Vec<(Option<String>, Algorithm)> {
        parse(json!({ "keys": keys }).to_string().as_bytes())
            .unwrap()
            .into_iter()
            .map(|k| (k.kid, k.alg))
            .collect()
    }

    #[test]
    fn the_algorithm_comes_from_the_key() {
        let kept = kept(json!([
            rsa(json!({ "kid": "a" })),
            rsa(json!({ "kid": "b", "alg": "RS256", "use": "sig" })),
            rsa(json!({ "kid": "c", "key_ops": ["verify"] })),
            ec("P-256"),
        ]));
        assert_eq!(
            kept,
            vec![
                (Some("a".into()), Algorithm::RS256),
                (Some("b".into()), Algorithm::RS256),
                (Some("c".into()), Algorithm::RS256),
                (Some("ec".into()), Algorithm::ES256),
            ]
        );
    }

    #[test]
    fn keys_not_for_signatures_or_of_other_kinds_are_left_out() {
        let kept = kept(json!([
            rsa(json!({ "kid": "enc", "use": "enc" })),
            rsa(json!({ "kid": "ops", "key_ops": ["encrypt"] })),
            rsa(json!({ "kid": "mixed", "use": "sig", "key_ops": ["encrypt"] })),
            rsa(json!({ "kid": "hs", "alg": "HS256" })),
            rsa(json!({ "kid": "ps", "alg": "PS256" })),
            ec("P-384"),
            { "kty": "oct", "k": "c2VjcmV0", "kid": "oct" },
            { "kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo" },
            { "kty": "weird" },
            rsa(json!({ "kid": "ok" })),
        ]));
        assert_eq!(kept, vec![(Some("ok".into()), Algorithm::RS256)]);
        assert!(parse(b"{}").is_err());
        assert!(parse(b"not json").is_err());
    }
}
