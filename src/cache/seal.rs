//! Sealing entries for Redis: AES-256-GCM under a key derived from the upstream API key (or
//! `CACHE_SEAL_SECRET`, where there is no server key).
//!
//! The one thing to know: without the key an entry cannot be read or forged, and the entry's
//! own name and its expiry are authenticated with it, so an entry copied under another name
//! (another photo, another key's namespace), or written back after it expired, fails to open
//! instead of serving the wrong or stale data.

use aes_gcm::{
    aead::{Aead, KeyInit, Payload},
    Aes256Gcm, Key, Nonce,
};
use hkdf::Hkdf;
use sha2::Sha256;

use std::time::{SystemTime, UNIX_EPOCH};

use crate::secrets::{ApiKey, Secret};

const NONCE_LEN: usize = 12;

/// The key that seals one upstream key's entries. Never printed.
#[derive(Clone)]
pub struct SealKey(Aes256Gcm);

impl std::fmt::Debug for SealKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealKey(<redacted>)")
    }
}

impl SealKey {
    /// HKDF-SHA256 of the API key, with this purpose as salt and info.
    pub fn derive(key: &ApiKey) -> Self {
        Self::of(key.expose().as_bytes())
    }

    /// From `CACHE_SEAL_SECRET`, the same way.
    pub fn from_secret(secret: &Secret) -> Self {
        Self::of(secret.expose().as_bytes())
    }

    /// A key of this process alone: for entries that never leave it.
    pub fn ephemeral() -> Self {
        Self::of(&rand::random::<[u8; 32]>())
    }

    fn of(ikm: &[u8]) -> Self {
        let hkdf = Hkdf::<Sha256>::new(Some(b"complycube-graphql/cache-seal/v1"), ikm);
        let mut okm = [0u8; 32];
        // 32 bytes is far below HKDF-SHA256's limit of 8160: this cannot fail.
        let _ = hkdf.expand(b"aes-256-gcm", &mut okm);
        Self(Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&okm)))
    }

    /// `expiry || nonce || ciphertext+tag`, bound to `name` and the expiry (milliseconds
    /// since the epoch).
    pub(super) fn seal(&self, name: &[u8], expires_ms: u64, plaintext: &[u8]) -> Option<Vec<u8>> {
        let nonce: [u8; NONCE_LEN] = rand::random();
        let aad = [name, &expires_ms.to_be_bytes()].concat();
        let sealed = self
            .0
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: &aad,
                },
            )
            .ok()?;
        let mut out = Vec::with_capacity(8 + NONCE_LEN + sealed.len());
        out.extend_from_slice(&expires_ms.to_be_bytes());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Some(out)
    }

    /// The plaintext, if `sealed` was sealed by this key under `name`, is not altered, and
    /// has not expired.
    pub(super) fn open(&self, name: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
        if sealed.len() < 8 + NONCE_LEN {
            return None;
        }
        let (expiry, rest) = sealed.split_at(8);
        let expires_ms = u64::from_be_bytes(expiry.try_into().ok()?);
        if now_ms() >= expires_ms {
            return None;
        }
        let aad = [name, expiry].concat();
        let (nonce, body) = rest.split_at(NONCE_LEN);
        self.0
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: &aad,
                },
            )
            .ok()
    }
}

/// Milliseconds since the epoch, now.
pub(super) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_same_key_and_name_open_an_entry() {
        let a = SealKey::derive(&ApiKey::new("key-a"));
        let b = SealKey::derive(&ApiKey::new("key-b"));
        let later = now_ms() + 60_000;
        let sealed = a.seal(b"name", later, b"5eb1b5f231778a0008d1c3f6").unwrap();
        assert!(!sealed.windows(6).any(|w| w == b"5eb1b5"));
        assert_eq!(
            a.open(b"name", &sealed).unwrap(),
            b"5eb1b5f231778a0008d1c3f6"
        );
        assert_eq!(b.open(b"name", &sealed), None);
        assert_eq!(a.open(b"other", &sealed), None);
        let mut tampered = sealed.clone();
        tampered[30] ^= 1;
        assert_eq!(a.open(b"name", &tampered), None);
        // An expiry moved on, or an entry past its own: refused.
        let mut extended = sealed.clone();
        extended[..8].copy_from_slice(&(later + 3_600_000).to_be_bytes());
        assert_eq!(a.open(b"name", &extended), None);
        let stale = a.seal(b"name", now_ms() - 1, b"x").unwrap();
        assert_eq!(a.open(b"name", &stale), None);
        assert_eq!(a.open(b"name", &sealed[..5]), None);
        assert!(!format!("{a:?}").contains("key-a"));
    }
}
