//! The shared half of the budget: `gcra.lua` run in Redis (the process's one connection,
//! [`crate::redis`]), one round trip per slot.
//!
//! The one thing to know: the script runs on Redis's own clock (`TIME`), so replicas never
//! compare their clocks, and answers both whether a slot was taken and until when the key's
//! slots are booked, which the fallback starts from if Redis stops answering.

use std::{sync::LazyLock, time::Duration};

use super::local::Gcra;
use crate::{
    redis::{Redis, Space},
    secrets::KeyId,
};

/// The script, loaded on every connection.
static SCRIPT: LazyLock<redis::Script> =
    LazyLock::new(|| redis::Script::new(include_str!("gcra.lua")));

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

/// The budget's Redis key of `key`: [`Space::RateBudget`], then the key's short hash.
pub fn redis_key(key: KeyId) -> String {
    Space::RateBudget.key(&key.short_hex())
}

/// GCRA in Redis.
pub(super) struct RedisGcra {
    redis: Redis,
}

impl RedisGcra {
    pub fn new(redis: Redis) -> Self {
        redis.load(&SCRIPT);
        Self { redis }
    }

    pub fn redis(&self) -> &Redis {
        &self.redis
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
    ) -> futures::future::BoxFuture<'_, Result<Reply, String>> {
        Box::pin(async move {
            let invocation = {
                let mut invocation = SCRIPT.key(redis_key(key));
                invocation
                    .arg(format!("{:.3}", micros(gcra.interval)))
                    .arg(gcra.burst)
                    .arg(micros(max_wait).round() as u64)
                    .arg(micros(floor).round() as u64);
                invocation
            };
            let (allowed, wait, booked): (i64, i64, i64) = self
                .redis
                .run(async |connection| invocation.invoke_async(connection).await)
                .await?;
            Ok(Reply {
                allowed: allowed == 1,
                wait: from_micros(wait),
                booked: from_micros(booked),
            })
        })
    }
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn from_micros(us: i64) -> Duration {
    Duration::from_micros(us.max(0) as u64)
}
