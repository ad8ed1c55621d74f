//! The shared half of the budget: `gcra.lua` run in Redis, one round trip per
//! slot, under a short timeout.
//!
//! The one thing to know: every call here ends within the timeout (50 ms by default), on
//! success or failure, whatever Redis does: refuses connections, hangs, or answers late.
//! A failed call drops the connection, so the next call (the next probe, at most once a
//! second: see `super`) connects afresh instead of waiting on a dead one.

use std::{
    sync::{Mutex, PoisonError},
    time::Duration,
};

use futures::{future::BoxFuture, FutureExt as _};
use redis::aio::MultiplexedConnection;

use super::local::Gcra;
use crate::upstream::{KeyId, RedisUrl};

/// Where the budgets live in Redis: this prefix, then the key's [`KeyId::short_hex`].
pub const KEY_PREFIX: &str = "complycube-graphql:rate-budget:v1:";

/// One answer of the script.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Reply {
    /// Whether a slot was taken.
    pub allowed: bool,
    /// Until the slot taken; when refused, until a slot would come.
    pub wait: Duration,
    /// Until the latest slot any replica holds for this key.
    pub booked: Duration,
}

pub(super) struct RedisGcra {
    client: redis::Client,
    /// The connection in use; `None` after a failure, until the next call reconnects.
    connection: Mutex<Option<MultiplexedConnection>>,
    /// Held while connecting, so that a burst of calls opens one connection, not many.
    connecting: tokio::sync::Mutex<()>,
    script: redis::Script,
    timeout: Duration,
}

impl RedisGcra {
    pub fn new(url: &RedisUrl, timeout: Duration) -> Result<Self, String> {
        // Redis's own error names no part of the URL; ours shows it with the password masked.
        let client = redis::Client::open(url.expose())
            .map_err(|e| format!("the Redis URL `{url}` is not usable: {e}"))?;
        Ok(Self {
            client,
            connection: Mutex::new(None),
            connecting: tokio::sync::Mutex::new(()),
            script: redis::Script::new(include_str!("gcra.lua")),
            timeout,
        })
    }

    /// Runs the script for `key`: a slot within `max_wait`, the bucket counted as full
    /// until `floor` from now. The error says why Redis gave no answer in time.
    ///
    /// Boxed: the Redis client's futures are deep, and every GraphQL resolver awaits this
    /// one; a box keeps the compiler's `Send` proofs short.
    pub fn reserve(
        &self,
        key: KeyId,
        gcra: Gcra,
        max_wait: Duration,
        floor: Duration,
    ) -> BoxFuture<'_, Result<Reply, String>> {
        self.reserve_now(key, gcra, max_wait, floor).boxed()
    }

    async fn reserve_now(
        &self,
        key: KeyId,
        gcra: Gcra,
        max_wait: Duration,
        floor: Duration,
    ) -> Result<Reply, String> {
        let outcome = tokio::time::timeout(self.timeout, async {
            let mut connection = self.connection().await?;
            let (allowed, wait, booked): (i64, i64, i64) = self
                .script
                .key(format!("{KEY_PREFIX}{}", key.short_hex()))
                .arg(format!("{:.3}", micros(gcra.interval)))
                .arg(gcra.burst)
                .arg(micros(max_wait).round() as u64)
                .arg(micros(floor).round() as u64)
                .invoke_async(&mut connection)
                .await?;
            Ok::<_, redis::RedisError>(Reply {
                allowed: allowed == 1,
                wait: from_micros(wait),
                booked: from_micros(booked),
            })
        })
        .await;
        match outcome {
            Ok(Ok(reply)) => Ok(reply),
            Ok(Err(e)) => {
                self.forget();
                Err(e.to_string())
            }
            Err(_) => {
                self.forget();
                Err(format!(
                    "no answer within {}",
                    humantime::format_duration(self.timeout)
                ))
            }
        }
    }

    async fn connection(&self) -> redis::RedisResult<MultiplexedConnection> {
        if let Some(connection) = self.current() {
            return Ok(connection);
        }
        let _connecting = self.connecting.lock().await;
        if let Some(connection) = self.current() {
            return Ok(connection);
        }
        let config = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout));
        let connection = self
            .client
            .get_multiplexed_async_connection_with_config(&config)
            .await?;
        *self
            .connection
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(connection.clone());
        Ok(connection)
    }

    fn current(&self) -> Option<MultiplexedConnection> {
        self.connection
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn forget(&self) {
        *self
            .connection
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = None;
    }
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn from_micros(us: i64) -> Duration {
    Duration::from_micros(us.max(0) as u64)
}
