//! Test credentials: keys generated at test time (aws-lc-rs, already in the build through
//! rustls), JWTs signed by hand (so that forged ones can be made too), a JWKS server on
//! `127.0.0.1:0`, and a client that sends `Authorization`.

use std::{
    net::SocketAddr,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, LazyLock, Mutex,
    },
};

use aws_lc_rs::{
    hmac,
    rand::SystemRandom,
    rsa::{KeySize, PublicKeyComponents},
    signature::{
        EcdsaKeyPair, KeyPair, RsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING, RSA_PKCS1_SHA256,
    },
};
use axum::{extract::State, response::IntoResponse, routing::get, Json, Router};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use serde_json::{json, Value};

use crate::helpers::{listener, TestApp};

/// The HS256 secret the test services hold.
pub const SECRET: &str = "test-hs256-secret-with-more-than-32-bytes";
/// A static token the test services hold.
pub const STATIC_TOKEN: &str = "static-token-9f8e7d6c5b4a";

pub fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Claims valid for ten minutes, plus `extra`.
pub fn claims(extra: Value) -> Value {
    let mut claims = json!({ "sub": "someone", "iat": now(), "exp": now() + 600 });
    claims
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    claims
}

/// `header.claims`, base64url each: what a JWT's signature covers.
pub fn signing_input(header: &Value, claims: &Value) -> String {
    format!("{}.{}", b64(header.to_string()), b64(claims.to_string()))
}

/// An HS256 JWT signed with `secret`.
pub fn hs256(secret: &[u8], claims: &Value) -> String {
    let input = signing_input(&json!({ "alg": "HS256", "typ": "JWT" }), claims);
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, secret), input.as_bytes());
    format!("{input}.{}", b64(tag))
}

/// A signing key and its public half as a JWK.
pub enum Signer {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
}

pub struct TestKey {
    pub kid: String,
    pub signer: Signer,
}

impl TestKey {
    pub fn rsa(kid: &str) -> Self {
        Self {
            kid: kid.into(),
            signer: Signer::Rsa(RsaKeyPair::generate(KeySize::Rsa2048).unwrap()),
        }
    }

    pub fn ec(kid: &str) -> Self {
        Self {
            kid: kid.into(),
            signer: Signer::Ec(EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap()),
        }
    }

    pub fn alg(&self) -> &'static str {
        match self.signer {
            Signer::Rsa(_) => "RS256",
            Signer::Ec(_) => "ES256",
        }
    }

    /// The public key as a JWKS lists it.
    pub fn jwk(&self) -> Value {
        match &self.signer {
            Signer::Rsa(pair) => {
                let public = PublicKeyComponents::<Vec<u8>>::from(pair.public_key());
                json!({ "kty": "RSA", "kid": self.kid, "use": "sig", "alg": "RS256",
                        "n": b64(&public.n), "e": b64(&public.e) })
            }
            Signer::Ec(pair) => {
                // Uncompressed point: 0x04, x, y.
                let point = pair.public_key().as_ref();
                json!({ "kty": "EC", "kid": self.kid, "crv": "P-256",
                        "x": b64(&point[1..33]), "y": b64(&point[33..65]) })
            }
        }
    }

    /// The public key's bytes (RSA: DER `RSAPublicKey`), for key-confusion attacks.
    pub fn public_bytes(&self) -> Vec<u8> {
        match &self.signer {
            Signer::Rsa(pair) => pair.public_key().as_ref().to_vec(),
            Signer::Ec(pair) => pair.public_key().as_ref().to_vec(),
        }
    }

    /// A JWT signed by this key, its header naming `kid`.
    pub fn sign(&self, claims: &Value) -> String {
        self.sign_with_header(
            &json!({ "alg": self.alg(), "typ": "JWT", "kid": self.kid }),
            claims,
        )
    }

    pub fn sign_with_header(&self, header: &Value, claims: &Value) -> String {
        let input = signing_input(header, claims);
        let rng = SystemRandom::new();
        let signature = match &self.signer {
            Signer::Rsa(pair) => {
                let mut signature = vec![0; pair.public_modulus_len()];
                pair.sign(&RSA_PKCS1_SHA256, &rng, input.as_bytes(), &mut signature)
                    .unwrap();
                signature
            }
            Signer::Ec(pair) => pair.sign(&rng, input.as_bytes()).unwrap().as_ref().to_vec(),
        };
        format!("{input}.{}", b64(signature))
    }
}

/// Keys made once per test binary (RSA key generation is the slow part).
pub static RSA_A: LazyLock<TestKey> = LazyLock::new(|| TestKey::rsa("rsa-a"));
pub static RSA_B: LazyLock<TestKey> = LazyLock::new(|| TestKey::rsa("rsa-b"));
pub static EC_A: LazyLock<TestKey> = LazyLock::new(|| TestKey::ec("ec-a"));
/// Never published in any JWKS.
pub static ROGUE: LazyLock<TestKey> = LazyLock::new(|| TestKey::rsa("rsa-a"));

/// A JWKS document server on loopback whose document tests can change, counting fetches.
#[derive(Clone)]
pub struct JwksServer {
    pub addr: SocketAddr,
    document: Arc<Mutex<Value>>,
    fetches: Arc<AtomicU64>,
    /// While set, the document is answered 503 (the identity provider is down).
    down: Arc<std::sync::atomic::AtomicBool>,
}

impl JwksServer {
    pub async fn spawn(keys: &[&TestKey]) -> Self {
        let server = Self {
            addr: "127.0.0.1:0".parse().unwrap(),
            document: Arc::new(Mutex::new(Value::Null)),
            fetches: Arc::new(AtomicU64::new(0)),
            down: Arc::default(),
        };
        server.publish(keys);
        let listener = listener().await;
        let addr = listener.local_addr().unwrap();
        let router = Router::new()
            .route(
                "/.well-known/jwks.json",
                get(|State(server): State<JwksServer>| async move {
                    server.fetches.fetch_add(1, Ordering::SeqCst);
                    if server.down.load(Ordering::SeqCst) {
                        return axum::http::StatusCode::SERVICE_UNAVAILABLE.into_response();
                    }
                    Json(server.document.lock().unwrap().clone()).into_response()
                }),
            )
            .with_state(server.clone());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self { addr, ..server }
    }

    /// Serves these keys from now on (plus one key for encryption, which must be ignored).
    pub fn publish(&self, keys: &[&TestKey]) {
        let mut jwks: Vec<Value> = keys.iter().map(|k| k.jwk()).collect();
        let mut encryption = RSA_B.jwk();
        encryption["kid"] = json!("enc-only");
        encryption["use"] = json!("enc");
        encryption.as_object_mut().unwrap().remove("alg");
        jwks.push(encryption);
        *self.document.lock().unwrap() = json!({ "keys": jwks });
    }

    pub fn url(&self) -> String {
        format!("http://{}/.well-known/jwks.json", self.addr)
    }

    /// Answers 503 from now on (`true`), or the document again.
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    pub fn fetches(&self) -> u64 {
        self.fetches.load(Ordering::SeqCst)
    }
}

/// What came back from the service: status, headers, parsed body.
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

/// POSTs `body` to `/graphql` with `authorization` (the whole header value) if given.
pub async fn post_as(app: &TestApp, authorization: Option<&str>, body: Value) -> Answer {
    let mut request = reqwest::Client::new().post(app.url("/graphql")).json(&body);
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    answer(request.send().await.unwrap()).await
}

/// GETs `/graphql?<query>` with `authorization` if given.
pub async fn get_as(app: &TestApp, authorization: Option<&str>, query: &[(&str, &str)]) -> Answer {
    let mut request = reqwest::Client::new().get(graphql_get_url(app, query));
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    answer(request.send().await.unwrap()).await
}

pub async fn answer(response: reqwest::Response) -> Answer {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    Answer {
        status,
        headers,
        body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
    }
}

pub fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// `/graphql?<query>`, the parameters URL-encoded.
pub fn graphql_get_url(app: &TestApp, query: &[(&str, &str)]) -> String {
    let query = serde_urlencoded::to_string(query).unwrap();
    app.url(&format!("/graphql?{query}"))
}
