//! Signed image URLs: `LivePhoto.imageUrl` mints them, `GET /images/…` honours them.
//!
//! A URL is a capability: it names one photo and one width, says until when it holds, and
//! carries an HMAC-SHA256 over all of it under the service's secret, so that it needs no
//! `Authorization` header (an `<img src>` cannot send one) and cannot be turned into
//! another. In forwarding mode, where the caller's own ComplyCube key must make the
//! upstream call, the key rides inside the URL sealed with AES-256-GCM, bound to the photo,
//! the width and the expiry: never in clear.
//!
//! The one thing to know: replicas agree on URLs because they share the secret
//! (`IMAGE_URL_SECRET`; a second, comma-separated value is accepted for verifying only, for
//! rotation). Without one, it is derived from the server's API key (HKDF), so a plain
//! deployment needs nothing new; forwarding mode has no server key and must be given one.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aes_gcm::{
    aead::{Aead, KeyInit, Payload},
    Aes256Gcm, Key, Nonce,
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::secrets::{ApiKey, Secret};

/// The life of an `imageUrl`, by default: long enough for a page to load its images and a
/// user to open one, short enough that a URL copied out of a page soon stops working.
pub const DEFAULT_IMAGE_URL_TTL: Duration = Duration::from_secs(300);

/// A signing secret must be at least this long (256 bits, the hash's size).
pub const MIN_SECRET_BYTES: usize = 32;

/// The path every image URL starts with.
pub const PATH: &str = "/images/";

/// The widths a thumbnail may have; `None` is the original.
pub const WIDTHS: [u32; 5] = [64, 128, 256, 512, 1024];

/// How image URLs are made.
#[derive(Clone, Debug)]
pub struct ImageUrlSettings {
    /// `IMAGE_URL_SECRET`: the first signs, every one verifies. Empty: derived.
    pub secrets: Vec<Secret>,
    /// How long a URL holds.
    pub ttl: Duration,
    /// The origin URLs are built on (`--public-url`); root-relative when `None`.
    pub public_url: Option<String>,
}

impl Default for ImageUrlSettings {
    fn default() -> Self {
        Self {
            secrets: Vec::new(),
            ttl: DEFAULT_IMAGE_URL_TTL,
            public_url: None,
        }
    }
}

/// Where the signing secret comes from when none is set.
#[derive(Clone, Copy, Debug)]
pub enum Fallback<'a> {
    /// Derived from the server's API key.
    ServerKey(&'a ApiKey),
    /// Forwarding mode: no server key; a secret must be set.
    Forwarding,
    /// No key at all (an upstream without authentication): a secret of this process only.
    Ephemeral,
}

/// Why a URL is not honoured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Not one of ours, or altered: 403.
    Invalid,
    /// Ours and intact, but past its expiry: 410.
    Expired,
}

/// What a valid URL grants: one photo, one width, until a moment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    /// ComplyCube's photo id.
    pub photo: String,
    /// The thumbnail width; `None`: the original.
    pub width: Option<u32>,
    /// Seconds since the epoch.
    pub expires: u64,
    /// The caller's own key (forwarding mode).
    pub key: Option<ApiKey>,
}

impl Grant {
    /// A strong validator of what the URL serves: photos are not edited after upload, and
    /// thumbnails are made the same way every time, so the photo and width name the bytes.
    pub fn etag(&self) -> String {
        let mut hash = Sha256::new();
        hash.update(b"complycube-graphql/image/v1\0");
        hash.update(self.photo.as_bytes());
        hash.update(self.width.unwrap_or(0).to_be_bytes());
        let hash = hash.finalize();
        format!("\"{}\"", URL_SAFE_NO_PAD.encode(&hash[..16]))
    }

    /// Seconds until it expires, at `now`.
    pub fn seconds_left(&self, now: SystemTime) -> u64 {
        self.expires.saturating_sub(unix(now))
    }
}

/// One secret's keys: the MAC's, and the seal's.
#[derive(Clone)]
struct Keys {
    mac: Vec<u8>,
    seal: Aes256Gcm,
}

impl Keys {
    fn of(secret: &[u8]) -> Self {
        let hkdf = Hkdf::<Sha256>::new(Some(b"complycube-graphql/image-url/v1"), secret);
        let (mut mac, mut seal) = ([0u8; 32], [0u8; 32]);
        // 32 bytes is far below HKDF-SHA256's limit: these cannot fail.
        let _ = hkdf.expand(b"hmac-sha256", &mut mac);
        let _ = hkdf.expand(b"aes-256-gcm", &mut seal);
        Self {
            mac: mac.to_vec(),
            seal: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&seal)),
        }
    }

    fn mac(&self, signed: &[u8]) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.mac)
            .expect("HMAC takes a key of any length");
        mac.update(signed);
        mac
    }
}

/// The signer and verifier of image URLs. One per process.
#[derive(Clone)]
pub struct ImageUrls {
    /// The first signs; all verify.
    keys: Vec<Keys>,
    ttl: Duration,
    /// `https://host` or empty.
    base: String,
}

impl std::fmt::Debug for ImageUrls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImageUrls")
            .field("keys", &self.keys.len())
            .field("ttl", &self.ttl)
            .field("base", &self.base)
            .finish()
    }
}

/// What a URL's token says, before it is signed.
#[derive(Serialize, Deserialize)]
struct Claims {
    /// The photo.
    p: String,
    /// The width; absent for the original.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    w: Option<u32>,
    /// The expiry, seconds since the epoch.
    e: u64,
    /// The caller's key, sealed (forwarding mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    k: Option<String>,
}

impl ImageUrls {
    /// The URLs `settings` describe; `fallback` says where the secret comes from when none
    /// is set. The error says what to set.
    pub fn new(settings: &ImageUrlSettings, fallback: Fallback<'_>) -> Result<Self, String> {
        let mut keys = Vec::new();
        for secret in &settings.secrets {
            if secret.expose().len() < MIN_SECRET_BYTES {
                return Err(format!(
                    "IMAGE_URL_SECRET (--image-url-secret) values must be at least \
                     {MIN_SECRET_BYTES} bytes (e.g. `openssl rand -base64 48`)"
                ));
            }
            keys.push(Keys::of(secret.expose().as_bytes()));
        }
        if keys.is_empty() {
            keys.push(match fallback {
                Fallback::ServerKey(key) => Keys::of(key.expose().as_bytes()),
                Fallback::Forwarding => {
                    return Err(
                        "forwarding mode signs image URLs (`LivePhoto.imageUrl`) with a secret \
                         of its own, and seals each caller's key into them: set \
                         IMAGE_URL_SECRET / --image-url-secret (at least 32 bytes, the same on \
                         every replica, e.g. `openssl rand -base64 48`)"
                            .to_owned(),
                    )
                }
                Fallback::Ephemeral => {
                    tracing::warn!(
                        "no IMAGE_URL_SECRET and no API key: image URLs are signed with a \
                         secret of this process, so they fail on other replicas and after a \
                         restart"
                    );
                    Keys::of(&rand::random::<[u8; 32]>())
                }
            });
        }
        let base = match &settings.public_url {
            None => String::new(),
            Some(url) => public_origin(url)?,
        };
        if settings.ttl.is_zero() {
            return Err("--image-url-ttl / IMAGE_URL_TTL must be longer than 0".into());
        }
        Ok(Self {
            keys,
            ttl: settings.ttl,
            base,
        })
    }

    /// How long a URL minted now holds.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// A URL for `photo` at `width` (`None`: the original), holding for the TTL from `now`;
    /// with `key` (forwarding mode) sealed inside.
    pub fn mint(
        &self,
        photo: &str,
        width: Option<u32>,
        key: Option<&ApiKey>,
        now: SystemTime,
    ) -> String {
        let expires = unix(now) + self.ttl.as_secs().max(1);
        let signer = &self.keys[0];
        let sealed = key.and_then(|key| {
            let nonce: [u8; 12] = rand::random();
            let aad = bound(photo, width, expires);
            let payload = Payload {
                msg: key.expose().as_bytes(),
                aad: &aad,
            };
            let sealed = signer
                .seal
                .encrypt(Nonce::from_slice(&nonce), payload)
                .ok()?;
            Some(URL_SAFE_NO_PAD.encode([&nonce[..], &sealed].concat()))
        });
        let claims = Claims {
            p: photo.to_owned(),
            w: width,
            e: expires,
            k: sealed,
        };
        let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap_or_default());
        let signed = format!("v1.{body}");
        let tag = URL_SAFE_NO_PAD.encode(signer.mac(signed.as_bytes()).finalize().into_bytes());
        format!("{}{PATH}{signed}.{tag}", self.base)
    }

    /// What the token of a URL (the path after [`PATH`]) grants at `now`, or why nothing.
    pub fn verify(&self, token: &str, now: SystemTime) -> Result<Grant, Refusal> {
        let (signed, tag) = token.rsplit_once('.').ok_or(Refusal::Invalid)?;
        let body = signed.strip_prefix("v1.").ok_or(Refusal::Invalid)?;
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| Refusal::Invalid)?;
        // Each secret in turn (rotation); the comparison is constant-time.
        let keys = self
            .keys
            .iter()
            .find(|keys| keys.mac(signed.as_bytes()).verify_slice(&tag).is_ok())
            .ok_or(Refusal::Invalid)?;
        let claims: Claims = URL_SAFE_NO_PAD
            .decode(body)
            .ok()
            .and_then(|json| serde_json::from_slice(&json).ok())
            .ok_or(Refusal::Invalid)?;
        if claims.w.is_some_and(|w| !WIDTHS.contains(&w)) {
            return Err(Refusal::Invalid);
        }
        if unix(now) >= claims.e {
            return Err(Refusal::Expired);
        }
        let key = match &claims.k {
            None => None,
            Some(sealed) => {
                let sealed = URL_SAFE_NO_PAD
                    .decode(sealed)
                    .map_err(|_| Refusal::Invalid)?;
                if sealed.len() < 12 {
                    return Err(Refusal::Invalid);
                }
                let (nonce, body) = sealed.split_at(12);
                let aad = bound(&claims.p, claims.w, claims.e);
                let payload = Payload {
                    msg: body,
                    aad: &aad,
                };
                let key = keys
                    .seal
                    .decrypt(Nonce::from_slice(nonce), payload)
                    .map_err(|_| Refusal::Invalid)?;
                Some(ApiKey::new(
                    String::from_utf8(key).map_err(|_| Refusal::Invalid)?,
                ))
            }
        };
        Ok(Grant {
            photo: claims.p,
            width: claims.w,
            expires: claims.e,
            key,
        })
    }
}

/// What a sealed key is bound to: its URL's photo, width and expiry.
fn bound(photo: &str, width: Option<u32>, expires: u64) -> Vec<u8> {
    format!("{photo}\0{}\0{expires}", width.unwrap_or(0)).into_bytes()
}

/// `--public-url` as an origin to put paths after: http(s), no query or fragment.
fn public_origin(url: &str) -> Result<String, String> {
    let parsed = reqwest::Url::parse(url.trim())
        .map_err(|e| format!("--public-url / PUBLIC_URL `{url}` is not a URL: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https")
        || parsed.query().is_some()
        || parsed.fragment().is_some()
        || parsed.cannot_be_a_base()
    {
        return Err(format!(
            "--public-url / PUBLIC_URL `{url}` must be an http(s) URL such as \
             https://kyc-graphql.example.com (a path prefix is kept; no query)"
        ));
    }
    Ok(parsed.as_str().trim_end_matches('/').to_owned())
}

fn unix(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests;
