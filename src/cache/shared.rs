//! The cache's second level, in Redis: sealed entries with the cache's TTL.
//!
//! The one thing to know: Redis is never in a request's way. Every call has the Redis
//! timeout (`--redis-timeout`, 50 ms, shared with the rate budget); a failed or slow call is a miss (or a write skipped), logged once per
//! outage; a lost connection is made again at most once a second.

use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Mutex,
    },
    time::Duration,
};

use redis::{aio::ConnectionManager, AsyncCommands};
use tokio::time::Instant;

use super::{EntryKey, SealKey};
use crate::upstream::RedisUrl;

/// The least time between two attempts to connect, or to call a Redis that did not answer.
const RECONNECT_EVERY: Duration = Duration::from_secs(1);
/// Entries larger than this stay in process: one `SET` of several megabytes (a long list,
/// an image) would not fit the Redis timeout, and would read as an outage.
const MAX_SHARED_ENTRY: usize = 256 * 1024;

pub(super) struct Shared {
    client: redis::Client,
    ttl: Duration,
    /// The longest one Redis call may take.
    timeout: Duration,
    /// The connection, once made (it reconnects by itself after that).
    connection: tokio::sync::OnceCell<ConnectionManager>,
    /// When connecting last failed: no new attempt before [`RECONNECT_EVERY`].
    failed_at: Mutex<Option<Instant>>,
    /// Whether the current outage has been logged.
    down: AtomicBool,
    shown_url: String,
}

impl Shared {
    pub(super) fn new(url: &RedisUrl, ttl: Duration, timeout: Duration) -> Result<Self, String> {
        let shown_url = url.to_string();
        let client = redis::Client::open(url.expose())
            .map_err(|e| format!("REDIS_URL `{shown_url}` is not usable: {e}"))?;
        Ok(Self {
            client,
            ttl,
            timeout,
            connection: tokio::sync::OnceCell::new(),
            failed_at: Mutex::new(None),
            down: AtomicBool::new(false),
            shown_url,
        })
    }

    async fn connection(&self) -> Option<ConnectionManager> {
        // During an outage, one call a second finds out whether Redis is back; the others
        // do not wait for it.
        {
            let failed_at = self.failed_at.lock().unwrap_or_else(|p| p.into_inner());
            if failed_at.is_some_and(|at| at.elapsed() < RECONNECT_EVERY) {
                return None;
            }
        }
        if let Some(connection) = self.connection.get() {
            return Some(connection.clone());
        }
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout))
            .set_number_of_retries(1);
        let made = tokio::time::timeout(
            self.timeout * 2,
            self.client.get_connection_manager_with_config(config),
        )
        .await;
        let connection = self.settle(made)?;
        Some(
            self.connection
                .get_or_init(|| async { connection })
                .await
                .clone(),
        )
    }

    /// What a timed Redis call gave, with its outcome noted: an outage begins or ends.
    fn settle<T>(
        &self,
        outcome: Result<redis::RedisResult<T>, tokio::time::error::Elapsed>,
    ) -> Option<T> {
        match outcome {
            Ok(Ok(value)) => {
                self.answered();
                Some(value)
            }
            Ok(Err(e)) => {
                self.failed(&e.to_string());
                None
            }
            Err(_) => {
                self.failed("no answer in time");
                None
            }
        }
    }

    fn failed(&self, why: &str) {
        *self.failed_at.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
        if !self.down.swap(true, Ordering::Relaxed) {
            crate::metrics::cache_redis_down();
            tracing::warn!(redis = %self.shown_url, %why, "the shared cache's Redis is unreachable: reading and writing the in-process cache only until it answers");
        }
    }

    fn answered(&self) {
        *self.failed_at.lock().unwrap_or_else(|p| p.into_inner()) = None;
        if self.down.swap(false, Ordering::Relaxed) {
            tracing::info!(redis = %self.shown_url, "the shared cache's Redis answers again");
        }
    }

    /// Runs one command within the timeout; `None` when Redis did not answer in time.
    async fn run<T>(
        &self,
        command: impl AsyncFnOnce(&mut ConnectionManager) -> redis::RedisResult<T>,
    ) -> Option<T> {
        let mut connection = self.connection().await?;
        self.settle(tokio::time::timeout(self.timeout, command(&mut connection)).await)
    }

    fn name(key: &EntryKey) -> String {
        format!("ccgql:cache:{}", key.hex())
    }

    pub(super) async fn get(&self, key: &EntryKey, seal: &SealKey) -> Option<Vec<u8>> {
        let name = Self::name(key);
        let sealed: Option<Vec<u8>> = self.run(async |c| c.get(&name).await).await?;
        seal.open(name.as_bytes(), &sealed?)
    }

    pub(super) async fn put(&self, key: &EntryKey, seal: &SealKey, plaintext: &[u8]) {
        if plaintext.len() > MAX_SHARED_ENTRY {
            return;
        }
        let name = Self::name(key);
        let Some(sealed) = seal.seal(name.as_bytes(), plaintext) else {
            return;
        };
        let ttl_ms = u64::try_from(self.ttl.as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        self.run(async |c| {
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
        let name = Self::name(key);
        self.run(async |c| c.del::<_, ()>(&name).await).await;
    }
}
