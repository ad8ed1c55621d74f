//! The cache's second level, in Redis ([`crate::redis`]): sealed entries with the cache's
//! TTL.
//!
//! The one thing to know: Redis is never in a request's way. A call that fails or takes
//! longer than the Redis timeout is a miss (or a write skipped); during an outage the cache
//! reads and writes this process only, and one call a second finds out whether Redis is
//! back.

use std::time::Duration;

use redis::AsyncCommands;

use super::{EntryKey, SealKey};
use crate::redis::{Redis, Space};

/// Entries larger than this stay in process: one `SET` of several megabytes (a long list,
/// an image) would not fit the Redis timeout, and would read as an outage.
const MAX_SHARED_ENTRY: usize = 256 * 1024;

pub(super) struct Shared {
    redis: Redis,
    ttl: Duration,
}

impl Shared {
    pub(super) fn new(redis: Redis, ttl: Duration) -> Self {
        Self { redis, ttl }
    }

    fn name(key: &EntryKey) -> String {
        Space::Cache.key(&key.hex())
    }

    pub(super) async fn get(&self, key: &EntryKey, seal: &SealKey) -> Option<Vec<u8>> {
        if !self.redis.turn() {
            return None;
        }
        let name = Self::name(key);
        let sealed: Option<Vec<u8>> = self.redis.run(async |c| c.get(&name).await).await.ok()?;
        seal.open(name.as_bytes(), &sealed?)
    }

    pub(super) async fn put(&self, key: &EntryKey, seal: &SealKey, plaintext: &[u8]) {
        if plaintext.len() > MAX_SHARED_ENTRY || !self.redis.turn() {
            return;
        }
        let name = Self::name(key);
        let ttl_ms = u64::try_from(self.ttl.as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        let expires_ms = super::seal::now_ms().saturating_add(ttl_ms);
        let Some(sealed) = seal.seal(name.as_bytes(), expires_ms, plaintext) else {
            return;
        };
        let _ = self
            .redis
            .run(async |c| {
                redis::cmd("SET")
                    .arg(&name)
                    .arg(sealed)
                    .arg("PX")
                    .arg(ttl_ms)
                    .query_async::<()>(c)
                    .await
            })
            .await;
    }

    pub(super) async fn evict(&self, key: &EntryKey) {
        if !self.redis.turn() {
            return;
        }
        let name = Self::name(key);
        let _ = self.redis.run(async |c| c.del::<_, ()>(&name).await).await;
    }
}
