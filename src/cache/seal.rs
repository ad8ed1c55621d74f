//! Sealing entries for Redis: AES-256-GCM under a key derived from the upstream API key.
//!
//! The one thing to know: without the API key an entry cannot be read or forged, and the
//! entry's own name is authenticated with it, so an entry copied under another name (another
//! photo, another key's namespace) fails to open instead of serving the wrong data.

use aes_gcm::{
    aead::{Aead, KeyInit, Payload},
    Aes256Gcm, Key, Nonce,
};
use hkdf::Hkdf;
use sha2::Sha256;

use crate::secrets::ApiKey;

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
    pub fn derive(key: Option<&ApiKey>) -> Self {
        let ikm = key.map_or(&[][..], |k| k.expose().as_bytes());
        let hkdf = Hkdf::<Sha256>::new(Some(b"complycube-graphql/cache-seal/v1"), ikm);
        let mut okm = [0u8; 32];
        // 32 bytes is far below HKDF-SHA256's limit of 8160: this cannot fail.
        let _ = hkdf.expand(b"aes-256-gcm", &mut okm);
        Self(Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&okm)))
    }

    /// `nonce || ciphertext+tag`, bound to `name`.
    pub(super) fn seal(&self, name: &[u8], plaintext: &[u8]) -> Option<Vec<u8>> {
        let nonce: [u8; NONCE_LEN] = rand::random();
        let sealed = self
            .0
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: name,
                },
            )
            .ok()?;
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Some(out)
    }

    /// The plaintext, if `sealed` was sealed by this key under `name` and not altered.
    pub(super) fn open(&self, name: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
        if sealed.len() < NONCE_LEN {
            return None;
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        self.0
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: name,
                },
            )
            .ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_same_key_and_name_open_an_entry() {
        let a = SealKey::derive(Some(&ApiKey::new("key-a")));
        let b = SealKey::derive(Some(&ApiKey::new("key-b")));
        let sealed = a.seal(b"name", b"5eb1b5f231778a0008d1c3f6").unwrap();
        assert!(!sealed.windows(6).any(|w| w == b"5eb1b5"));
        assert_eq!(
            a.open(b"name", &sealed).unwrap(),
            b"5eb1b5f231778a0008d1c3f6"
        );
        assert_eq!(b.open(b"name", &sealed), None);
        assert_eq!(a.open(b"other", &sealed), None);
        let mut tampered = sealed.clone();
        tampered[20] ^= 1;
        assert_eq!(a.open(b"name", &tampered), None);
        assert_eq!(a.open(b"name", &sealed[..5]), None);
        assert!(!format!("{a:?}").contains("key-a"));
    }
}
