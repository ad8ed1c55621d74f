//! Secrets, and what may stand for them: the ComplyCube API key, bearer tokens and signing
//! secrets, the Redis URL (it may hold a password), a key's identity, and URLs made fit for
//! a log line.
//!
//! The one thing to know: every secret is held in `secrecy`'s `SecretString` (zeroed when
//! dropped, `[REDACTED]` when printed), and leaves it only through `expose`, at the one
//! place that must hand it on (an `Authorization` header, a signature, a connection).
//! Wherever a secret must be *named* (a rate budget, a cache entry, a Redis key, a log
//! line), a [`KeyId`] stands for it: a hash, never the secret.

use std::fmt;

use reqwest::header::HeaderValue;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

/// The ComplyCube API key. Printed as `ApiKey([REDACTED])`; the only way out is the
/// `Authorization` header ([`ApiKey::header_value`], marked sensitive), and the simulator's
/// check.
#[derive(Clone)]
pub struct ApiKey(SecretString);

impl ApiKey {
    pub fn new(key: impl Into<String>) -> Self {
        Self(SecretString::from(key.into()))
    }

    /// The key itself: for the header, the scrubbing of errors, the simulator's check.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// The key as an `Authorization` value, marked sensitive (left out of HTTP logs); `None`
    /// when it holds characters no header may.
    pub fn header_value(&self) -> Option<HeaderValue> {
        let mut value = HeaderValue::from_str(self.expose()).ok()?;
        value.set_sensitive(true);
        Some(value)
    }

    /// What stands for this key where one must be named.
    pub fn id(&self) -> KeyId {
        KeyId::of(Some(self))
    }

    /// `text` with every run of [`SCRUBBED_RUN`] or more characters of the key replaced:
    /// the key, any long enough piece of it, and the same of its base64 (standard and
    /// URL-safe, from each of the three byte offsets) and URL-encoded forms. An upstream
    /// that echoes the key, half of it, or its encoding, carries none of it to a caller.
    pub fn scrub(&self, text: &str) -> String {
        use base64::{engine::general_purpose::*, Engine};
        let key = self.expose().as_bytes();
        if key.is_empty() {
            return text.to_owned();
        }
        // The key itself, whole however short; its encodings by runs of the usual length.
        let mut forms: Vec<(Vec<u8>, usize)> = vec![(key.to_vec(), SCRUBBED_RUN.min(key.len()))];
        for offset in 0..3.min(key.len()) {
            let tail = &key[offset..];
            forms.push((STANDARD.encode(tail).into_bytes(), SCRUBBED_RUN));
            forms.push((URL_SAFE_NO_PAD.encode(tail).into_bytes(), SCRUBBED_RUN));
        }
        if let Ok(encoded) = serde_urlencoded::to_string([("k", self.expose())]) {
            forms.push((encoded.as_bytes()[2..].to_vec(), SCRUBBED_RUN));
        }
        let text = text.as_bytes();
        let mut hidden = vec![false; text.len()];
        for (form, run) in &forms {
            let run = *run;
            for i in 0..text.len() {
                for j in 0..form.len() {
                    let common = text[i..]
                        .iter()
                        .zip(&form[j..])
                        .take_while(|(a, b)| a == b)
                        .count();
                    if common >= run {
                        hidden[i..i + common].iter_mut().for_each(|h| *h = true);
                    }
                }
            }
        }
        if !hidden.contains(&true) {
            return String::from_utf8_lossy(text).into_owned();
        }
        let mut out = Vec::with_capacity(text.len());
        for (i, &byte) in text.iter().enumerate() {
            match (hidden[i], i > 0 && hidden[i - 1]) {
                (false, _) => out.push(byte),
                (true, false) => out.extend_from_slice(b"<redacted>"),
                (true, true) => {}
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    }
}

/// The shortest run of a key's characters that [`ApiKey::scrub`] removes (a whole key
/// shorter than this is removed too): long enough not to remove ordinary words by chance,
/// short enough that no useful piece of a key survives.
pub const SCRUBBED_RUN: usize = 8;

impl PartialEq for ApiKey {
    fn eq(&self, other: &Self) -> bool {
        self.expose() == other.expose()
    }
}

impl Eq for ApiKey {}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey([REDACTED])")
    }
}

impl std::str::FromStr for ApiKey {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self::new(s))
    }
}

/// A secret from the command line or the environment: a bearer token, a signing secret.
#[derive(Clone)]
pub struct Secret(SecretString);

impl Secret {
    pub fn new(secret: impl Into<String>) -> Self {
        Self(SecretString::from(secret.into()))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl From<&str> for Secret {
    fn from(secret: &str) -> Self {
        Self::new(secret)
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.expose() == other.expose()
    }
}

impl Eq for Secret {}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([REDACTED])")
    }
}

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self::new(s))
    }
}

/// A Redis URL (`redis://[user:password@]host:port[/db]`), printed with any password
/// masked ([`redacted_url`]); [`RedisUrl::expose`] is for the one place that connects.
#[derive(Clone)]
pub struct RedisUrl(SecretString);

impl RedisUrl {
    pub fn new(url: impl Into<String>) -> Self {
        Self(SecretString::from(url.into()))
    }

    /// The URL itself, password and all: only to connect.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl PartialEq for RedisUrl {
    fn eq(&self, other: &Self) -> bool {
        self.expose() == other.expose()
    }
}

impl fmt::Debug for RedisUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RedisUrl({})", redacted_url(self.expose()))
    }
}

impl fmt::Display for RedisUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redacted_url(self.expose()))
    }
}

impl std::str::FromStr for RedisUrl {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self::new(s))
    }
}

/// A stand-in for an API key where one must be named (rate budgets, cache entries, Redis
/// keys): a SHA-256 of the key, never the key itself. Requests without a key share one.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId([u8; 32]);

impl KeyId {
    pub fn of(key: Option<&ApiKey>) -> Self {
        let mut hash = Sha256::new();
        hash.update(b"complycube-graphql/key-id/v1\0");
        if let Some(key) = key {
            hash.update(key.expose().as_bytes());
        }
        Self(hash.finalize().into())
    }

    /// The stand-in of one caller of this service (a static token, a JWT's issuer and
    /// subject), for the per-caller share of the rate budget: in a hash domain of its own,
    /// so that it can never be any key's.
    pub fn caller(parts: &[&[u8]]) -> Self {
        let mut hash = Sha256::new();
        hash.update(b"complycube-graphql/caller-id/v1\0");
        for part in parts {
            hash.update((part.len() as u64).to_be_bytes());
            hash.update(part);
        }
        Self(hash.finalize().into())
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The first 16 hex digits: enough to tell keys apart in Redis key names and logs.
    pub fn short_hex(&self) -> String {
        self.0[..8].iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({})", self.short_hex())
    }
}

/// A URL fit for a log line: any `user:password@` part replaced, and the query (where
/// some clients, Redis's among them, read `?user=&pass=`) left out.
pub fn redacted_url(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut parsed) => {
            if !parsed.username().is_empty() || parsed.password().is_some() {
                let _ = parsed.set_username("***");
                let _ = parsed.set_password(None);
            }
            if parsed.query().is_some() {
                parsed.set_query(Some("***"));
            }
            parsed.to_string()
        }
        Err(_) => "<not a URL>".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let key = ApiKey::new("live_secret_123");
        let secret = Secret::new("tok-tok-tok-tok");
        let url = RedisUrl::new("redis://user:hunter2-secret@127.0.0.1:6379/0");
        let shown = format!("{key:?} {secret:?} {url:?} {url}");
        for hidden in ["live_secret", "tok-tok", "hunter2"] {
            assert!(!shown.contains(hidden), "{shown}");
        }
        assert!(shown.contains("127.0.0.1:6379"), "{shown}");
        assert_eq!(key.expose(), "live_secret_123");
        assert!(key.header_value().unwrap().is_sensitive());
    }

    #[test]
    fn scrubbing_removes_the_key_its_pieces_and_its_encodings() {
        use base64::{engine::general_purpose::*, Engine};
        let key = ApiKey::new("sk_live_0123456789abcdef/+=");
        let secret = key.expose();
        for leak in [
            secret.to_owned(),
            secret[..13].to_owned(),
            secret[7..20].to_owned(),
            STANDARD.encode(secret),
            URL_SAFE_NO_PAD.encode(&secret[1..]),
            STANDARD.encode(&secret[2..15]),
            "sk_live_0123456789abcdef%2F%2B%3D".to_owned(),
        ] {
            let text = format!("upstream said: bad key {leak} (retry)");
            let scrubbed = key.scrub(&text);
            assert!(scrubbed.contains("<redacted>"), "{leak}: {scrubbed}");
            assert!(
                scrubbed.starts_with("upstream said: bad key ") && scrubbed.ends_with(" (retry)"),
                "{scrubbed}"
            );
            for piece in leak.as_bytes().windows(SCRUBBED_RUN) {
                let piece = String::from_utf8_lossy(piece);
                assert!(
                    !scrubbed.contains(piece.as_ref()),
                    "{piece} of {leak} in {scrubbed}"
                );
            }
        }
        // Short common runs stay: "sk_live" alone is seven characters.
        assert_eq!(key.scrub("an sk_live key"), "an sk_live key");
        assert_eq!(ApiKey::new("k").scrub("a k b"), "a <redacted> b");
        assert_eq!(ApiKey::new("").scrub("text"), "text");
    }

    #[test]
    fn key_ids_tell_keys_apart_and_never_show_them() {
        let a = KeyId::of(Some(&ApiKey::new("live_secret_a")));
        assert_ne!(a, KeyId::of(Some(&ApiKey::new("live_secret_b"))));
        assert_ne!(a, KeyId::of(None));
        assert_eq!(a, ApiKey::new("live_secret_a").id());
        assert!(!format!("{a:?} {}", a.short_hex()).contains("secret"));
    }

    #[test]
    fn urls_lose_their_credentials_for_logs() {
        assert_eq!(
            redacted_url("https://user:sk_live_1@api.example/v1"),
            "https://***@api.example/v1"
        );
        assert_eq!(
            redacted_url("http://127.0.0.1:1/v1"),
            "http://127.0.0.1:1/v1"
        );
        assert_eq!(
            redacted_url("redis+unix:///run/redis.sock?user=u&pass=S3cret"),
            "redis+unix:///run/redis.sock?***"
        );
        assert_eq!(redacted_url("not a url"), "<not a URL>");
    }
}
