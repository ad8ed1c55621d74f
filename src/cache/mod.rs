//! Reuse of what ComplyCube answered: lists (items by position, with the list's length),
//! photos, clients and downloads, for `--cache-ttl`, in process and, with `REDIS_URL`,
//! shared by every replica.
//!
//! The one thing to know: every entry is keyed by a hash of the upstream key together with
//! what it is (client and filter, or id), so two keys never share an entry; what goes to
//! Redis is sealed (AES-256-GCM, with a key derived from the upstream key by HKDF, the entry
//! key as associated data), so a Redis dump alone reveals nothing and an entry cannot be
//! moved to another name. Redis is a second level behind the in-process cache: every call
//! to it has a short timeout, and when it fails the cache simply misses (and says so once in
//! the log), so a slow Redis never slows a request by more than that timeout.

mod seal;
mod shared;

use std::{sync::Arc, time::Duration};

use serde::{de::DeserializeOwned, Serialize};
use sha2::{Digest, Sha256};

pub use seal::SealKey;
use shared::Shared;

use crate::{redis::Redis, secrets::KeyId};

/// The in-process cache's default ceiling.
pub const DEFAULT_MAX_BYTES: u64 = 64 * 1024 * 1024;

/// Settings of the cache; `None` TTL means no cache, every read fresh. (Redis, when set,
/// is the one `--redis-url` that the rate budget uses too.)
#[derive(Clone, Debug, Default)]
pub struct CacheSettings {
    /// How long an answer may be reused; off when `None`.
    pub ttl: Option<Duration>,
    /// The in-process cache's ceiling, in bytes of cached JSON.
    pub max_bytes: u64,
}

/// What an entry holds; part of its key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A list's items by position and its length (one client under one filter).
    List,
    Photo,
    Client,
    Download,
    /// An image as `GET /images/…` serves it: an original or a thumbnail, raw bytes.
    Image,
}

impl Kind {
    fn tag(self) -> &'static [u8] {
        match self {
            Self::List => b"list",
            Self::Photo => b"photo",
            Self::Client => b"client",
            Self::Download => b"download",
            Self::Image => b"image",
        }
    }
}

/// An entry's name: a SHA-256 of the key's stand-in, the kind and what it names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EntryKey([u8; 32]);

impl EntryKey {
    pub fn new(key: KeyId, kind: Kind, parts: &[&[u8]]) -> Self {
        let mut hash = Sha256::new();
        hash.update(b"complycube-graphql/cache/v1\0");
        hash.update(key.as_bytes());
        hash.update(kind.tag());
        for part in parts {
            hash.update((part.len() as u64).to_be_bytes());
            hash.update(part);
        }
        Self(hash.finalize().into())
    }

    fn hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// The cache: in process, and in Redis when configured. Cheap to clone.
#[derive(Clone)]
pub struct Cache(Arc<Inner>);

struct Inner {
    ttl: Duration,
    local: moka::future::Cache<EntryKey, Arc<[u8]>>,
    shared: Option<Shared>,
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache")
            .field("ttl", &self.0.ttl)
            .field("shared", &self.0.shared.is_some())
            .finish()
    }
}

impl CacheSettings {
    /// Whether these settings ask for a cache at all.
    pub fn is_on(&self) -> bool {
        self.ttl.is_some_and(|t| !t.is_zero())
    }
}

impl Cache {
    /// The cache the settings ask for, second-level in `redis`; `None` when the TTL is not
    /// set (or zero).
    pub fn new(settings: &CacheSettings, redis: Option<&Redis>) -> Result<Option<Self>, String> {
        let Some(ttl) = settings.ttl.filter(|t| !t.is_zero()) else {
            return Ok(None);
        };
        let local = moka::future::Cache::builder()
            .max_capacity(settings.max_bytes)
            .weigher(|_: &EntryKey, value: &Arc<[u8]>| {
                u32::try_from(value.len() + 64).unwrap_or(u32::MAX)
            })
            .time_to_live(ttl)
            .build();
        let shared = redis.map(|redis| Shared::new(redis.clone(), ttl));
        Ok(Some(Self(Arc::new(Inner { ttl, local, shared }))))
    }

    pub fn ttl(&self) -> Duration {
        self.0.ttl
    }

    /// The entry named `key`, if one is cached and still reads as a `T`.
    pub async fn get<T: DeserializeOwned>(&self, key: EntryKey, seal: &SealKey) -> Option<T> {
        let bytes = match self.0.local.get(&key).await {
            Some(bytes) => bytes,
            None => {
                let shared = self.0.shared.as_ref()?;
                let bytes: Arc<[u8]> = shared.get(&key, seal).await?.into();
                self.0.local.insert(key, bytes.clone()).await;
                bytes
            }
        };
        serde_json::from_slice(&bytes).ok()
    }

    /// The raw bytes cached under `key`, if any (images: no JSON around them).
    pub async fn get_bytes(&self, key: EntryKey, seal: &SealKey) -> Option<Arc<[u8]>> {
        match self.0.local.get(&key).await {
            Some(bytes) => Some(bytes),
            None => {
                let shared = self.0.shared.as_ref()?;
                let bytes: Arc<[u8]> = shared.get(&key, seal).await?.into();
                self.0.local.insert(key, bytes.clone()).await;
                Some(bytes)
            }
        }
    }

    /// Caches raw `bytes` under `key`, here and in Redis (where large entries are not sent).
    pub async fn put_bytes(&self, key: EntryKey, seal: &SealKey, bytes: Arc<[u8]>) {
        if let Some(shared) = &self.0.shared {
            shared.put(&key, seal, &bytes).await;
        }
        self.0.local.insert(key, bytes).await;
    }

    /// Caches `value` under `key`, here and in Redis.
    pub async fn put<T: Serialize>(&self, key: EntryKey, seal: &SealKey, value: &T) {
        let Ok(bytes) = serde_json::to_vec(value) else {
            return;
        };
        if let Some(shared) = &self.0.shared {
            shared.put(&key, seal, &bytes).await;
        }
        self.0.local.insert(key, bytes.into()).await;
    }

    /// Forgets `key`, here and in Redis (ComplyCube said it no longer exists).
    pub async fn evict(&self, key: EntryKey) {
        self.0.local.invalidate(&key).await;
        if let Some(shared) = &self.0.shared {
            shared.evict(&key).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::ApiKey;

    fn cache() -> Cache {
        Cache::new(
            &CacheSettings {
                ttl: Some(Duration::from_secs(60)),
                max_bytes: DEFAULT_MAX_BYTES,
            },
            None,
        )
        .unwrap()
        .unwrap()
    }

    #[tokio::test]
    async fn two_keys_never_share_an_entry() {
        let cache = cache();
        let (a, b) = (ApiKey::new("key-a"), ApiKey::new("key-b"));
        let seal = SealKey::derive(&a);
        let key_a = EntryKey::new(KeyId::of(Some(&a)), Kind::Photo, &[b"p1"]);
        let key_b = EntryKey::new(KeyId::of(Some(&b)), Kind::Photo, &[b"p1"]);
        cache.put(key_a, &seal, &"for a").await;
        assert_eq!(
            cache.get::<String>(key_a, &seal).await.as_deref(),
            Some("for a")
        );
        assert_eq!(cache.get::<String>(key_b, &seal).await, None);
        cache.evict(key_a).await;
        assert_eq!(cache.get::<String>(key_a, &seal).await, None);
    }

    #[test]
    fn kinds_and_parts_name_different_entries() {
        let k = KeyId::of(None);
        assert_ne!(
            EntryKey::new(k, Kind::Photo, &[b"x"]),
            EntryKey::new(k, Kind::Download, &[b"x"])
        );
        assert_ne!(
            EntryKey::new(k, Kind::List, &[b"ab", b"c"]),
            EntryKey::new(k, Kind::List, &[b"a", b"bc"])
        );
    }

    #[test]
    fn no_ttl_no_cache() {
        let none = Cache::new(&CacheSettings::default(), None);
        assert!(none.unwrap().is_none());
    }
}
