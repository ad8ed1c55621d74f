//! The rate budget: ComplyCube allows each API key about so many requests a second (10 on
//! a live key, 5 on a sandbox key), whatever the number of our replicas. The budget spends
//! that allowance deliberately: every upstream attempt (retries included) takes a slot
//! for its key first, waits for it within the request's deadline and the queue timeout,
//! and past that fails at once with `RATE_LIMITED` and a `retryAfter`, instead of being
//! sent to come back as a 429.
//!
//! The one thing to know: there is one budget per upstream key ([`KeyId`]: the server's
//! key, or each caller's own in forwarding mode), and it lives in one of two places:
//!
//! - in this process (`local.rs`), when no Redis is configured: right for one replica;
//! - in Redis (`redis.rs`, `gcra.lua`), shared by every replica using the same key: one
//!   atomic script call per slot, on Redis's clock, keyed by a hash of the key.
//!
//! Both are GCRA with reservations: a call learns its slot up front and sleeps until it,
//! or is refused without taking anything.
//!
//! When Redis fails (no connection, an error, no answer within 50 ms: [`crate::redis`]
//! keeps the outage, logs it once and lets one call a second probe), the replica does not
//! fail open: it switches to a local limiter at a conservative share of the rate
//! (`--upstream-rate-fallback-share`, 0.5: two replicas together stay at the plan's rate).
//! Handovers are careful both ways:
//!
//! - into the fallback, a key's local bucket starts full at the latest slot Redis said
//!   was booked for it, so slots taken through Redis and not yet used are not spent twice;
//! - back to Redis, each call passes the last slot it booked locally (the script's floor),
//!   so Redis gives no slot before the ones this replica still holds.
//!
//! What it cannot know: what another replica booked in its own fallback, until that
//! replica is back on Redis too (at most a probe interval later). For that moment two
//! replicas may together exceed the rate by the fallback share; ComplyCube's 429, retried,
//! covers it.

mod local;
mod redis;

use std::{
    collections::HashMap,
    fmt,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Mutex, PoisonError,
    },
    time::Duration,
};

use tokio::time::Instant;

pub use self::redis::redis_key;
use self::{
    local::{Gcra, LocalLimiter},
    redis::RedisGcra,
};
use super::{Error, KeyId};
use crate::redis::Redis;

/// ComplyCube's documented rate on a live key, in requests per second.
pub const LIVE_KEY_RATE: f64 = 10.0;
/// ComplyCube's documented rate on a sandbox (`test`) key, in requests per second.
pub const SANDBOX_KEY_RATE: f64 = 5.0;
/// The longest a call waits for its slot, unless its request's deadline comes first: long
/// enough to smooth a burst, short enough that a caller hears "later" instead of hanging.
pub const DEFAULT_QUEUE_TIMEOUT: Duration = Duration::from_secs(2);
/// The share of the rate a replica spends alone while Redis is unreachable: with two
/// replicas, together exactly the plan's rate; with more, under it by less than a 429 retry.
pub const DEFAULT_FALLBACK_SHARE: f64 = 0.5;

/// A rate as configured: `off`, or requests per second.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum RateChoice {
    Off,
    PerSecond(f64),
}

impl std::str::FromStr for RateChoice {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text.trim() {
            "off" | "OFF" | "Off" => Ok(Self::Off),
            number => match number.parse::<f64>() {
                Ok(rate) if rate.is_finite() && rate > 0.0 => Ok(Self::PerSecond(rate)),
                _ => Err(format!(
                    "`{text}` is neither `off` nor a rate in requests per second above zero (e.g. `10`)"
                )),
            },
        }
    }
}

/// The rate ComplyCube documents for a key, by its kind: a `live_` key 10 a second, a
/// `test_` (sandbox) key 5; `None` for a key of neither kind, or none.
pub fn documented_rate(key: Option<&crate::secrets::ApiKey>) -> Option<f64> {
    let key = key?.expose();
    if key.starts_with("live_") {
        Some(LIVE_KEY_RATE)
    } else if key.starts_with("test_") {
        Some(SANDBOX_KEY_RATE)
    } else {
        None
    }
}

/// The share of the key's rate one caller may take, by default: two callers at full tilt
/// take it all between them, and no one caller can starve the others.
pub const DEFAULT_CALLER_SHARE: f64 = 0.5;

/// Settings of the rate budget. Off unless [`rate`](Self::rate) is set.
#[derive(Clone, Debug, PartialEq)]
pub struct RateBudgetSettings {
    /// Requests per second per upstream key; `None`: no budget.
    pub rate: Option<f64>,
    /// Requests per second one caller (a token, a JWT subject) may take of the key's rate;
    /// `None`: no share, any caller may take all of it.
    pub caller_rate: Option<f64>,
    /// Requests a key may make at once after a quiet spell; `None`: one second's worth
    /// ([`Self::burst`]).
    pub burst: Option<u32>,
    /// The longest a call waits for its slot (the request's deadline may end it sooner).
    pub queue_timeout: Duration,
    /// The share of the rate one replica uses alone while Redis is unreachable, in (0, 1].
    pub fallback_share: f64,
}

impl Default for RateBudgetSettings {
    fn default() -> Self {
        Self {
            rate: None,
            caller_rate: None,
            burst: None,
            queue_timeout: DEFAULT_QUEUE_TIMEOUT,
            fallback_share: DEFAULT_FALLBACK_SHARE,
        }
    }
}

impl RateBudgetSettings {
    /// The rate budget `rate` and `caller_rate` ask for with `key` (the server's): unset,
    /// the rate ComplyCube documents for the key ([`documented_rate`]) and half of it for
    /// each caller; `off` turns either off.
    pub fn resolve(
        mut self,
        rate: Option<RateChoice>,
        caller_rate: Option<RateChoice>,
        key: Option<&crate::secrets::ApiKey>,
    ) -> Self {
        self.rate = match rate {
            Some(RateChoice::Off) => None,
            Some(RateChoice::PerSecond(rate)) => Some(rate),
            None => documented_rate(key),
        };
        self.caller_rate = match caller_rate {
            Some(RateChoice::Off) => None,
            Some(RateChoice::PerSecond(rate)) => Some(rate),
            None => self.rate.map(|rate| rate * DEFAULT_CALLER_SHARE),
        };
        self
    }

    /// The settings of the per-caller budget, when there is a share and a rate to share.
    pub fn per_caller(&self) -> Option<Self> {
        let (Some(_), Some(rate)) = (self.rate, self.caller_rate) else {
            return None;
        };
        Some(Self {
            rate: Some(rate),
            caller_rate: None,
            burst: None,
            ..self.clone()
        })
    }

    /// The burst in force: the one set, else one second's worth of the rate (at least 1).
    pub fn burst(&self) -> u32 {
        self.burst
            .unwrap_or_else(|| self.rate.map_or(1, |rate| rate.floor() as u32))
            .max(1)
    }
}

/// Where a budget's slots are taken right now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BudgetMode {
    /// In this process: no Redis configured.
    Local,
    /// In Redis, shared by every replica.
    Redis,
    /// In this process at the fallback share: Redis is configured but did not answer.
    Fallback,
}

impl BudgetMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Local => "local",
            Self::Redis => "redis",
            Self::Fallback => "fallback",
        }
    }
}

/// The rate budgets of every upstream key this process uses. One per process, shared by
/// every request.
pub struct RateBudget {
    queue_timeout: Duration,
    place: Place,
    /// Calls refused because no slot came in time.
    // Also counted in `upstream_rate_budget_refusals_total`.
    refusals: AtomicU64,
}

enum Place {
    Local(LocalLimiter),
    Shared(Box<Shared>),
}

impl fmt::Debug for RateBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateBudget")
            .field("mode", &self.mode())
            .finish_non_exhaustive()
    }
}

impl RateBudget {
    /// The budget `settings` ask for, in `redis` when given; `None` when no rate is set. The
    /// error when a setting is out of range.
    pub fn new(
        settings: &RateBudgetSettings,
        redis: Option<&Redis>,
    ) -> Result<Option<Self>, String> {
        let Some(rate) = settings.rate else {
            return Ok(None);
        };
        if !(rate.is_finite() && rate > 0.0) {
            return Err(format!(
                "the upstream rate must be above zero requests per second (got {rate})"
            ));
        }
        let share = settings.fallback_share;
        if !(share > 0.0 && share <= 1.0) {
            return Err(format!(
                "the rate's fallback share must be above 0 and at most 1 (got {share})"
            ));
        }
        let gcra = Gcra::new(rate, settings.burst());
        crate::metrics::rate_budget_mode(if redis.is_some() { "redis" } else { "local" });
        let place = match redis {
            None => Place::Local(LocalLimiter::new(gcra)),
            Some(redis) => Place::Shared(Box::new(Shared {
                redis: RedisGcra::new(redis.clone()),
                gcra,
                fallback: LocalLimiter::new(Gcra::new(
                    rate * share,
                    (f64::from(gcra.burst) * share).floor() as u32,
                )),
                booked: Mutex::new(HashMap::new()),
                fallen_back: AtomicBool::new(false),
                outages: AtomicU64::new(0),
            })),
        };
        tracing::info!(
            rate,
            burst = gcra.burst,
            queue_timeout = %humantime::format_duration(settings.queue_timeout),
            shared_through = %redis.map_or("nothing (this replica alone)".to_owned(), |r| format!("{r:?}")),
            fallback_share = share,
            "upstream rate budget per key",
        );
        Ok(Some(Self {
            queue_timeout: settings.queue_timeout,
            place,
            refusals: AtomicU64::new(0),
        }))
    }

    /// The longest a call waits for its slot.
    pub fn queue_timeout(&self) -> Duration {
        self.queue_timeout
    }

    /// Where slots are taken right now.
    // Also shown as the gauge `upstream_rate_budget_mode`.
    pub fn mode(&self) -> BudgetMode {
        match &self.place {
            Place::Local(_) => BudgetMode::Local,
            Place::Shared(shared) if shared.fallen_back.load(Ordering::SeqCst) => {
                BudgetMode::Fallback
            }
            Place::Shared(_) => BudgetMode::Redis,
        }
    }

    /// How many times Redis stopped answering and the fallback took over.
    // Also counted in `upstream_rate_budget_fallbacks_total`.
    pub fn outages(&self) -> u64 {
        match &self.place {
            Place::Local(_) => 0,
            Place::Shared(shared) => shared.outages.load(Ordering::SeqCst),
        }
    }

    /// How many calls were refused for want of a slot in time.
    pub fn refusals(&self) -> u64 {
        self.refusals.load(Ordering::SeqCst)
    }

    /// Takes a slot for `key` and waits for it, if it comes by `wait_until`; else fails at
    /// once with [`Error::Throttled`], having taken nothing. Never waits past `wait_until`
    /// by more than one Redis call (at most the Redis timeout).
    pub async fn acquire(&self, key: KeyId, wait_until: Instant) -> Result<(), Error> {
        // A slot free now never counts as waiting, however short the queue timeout.
        let now = Instant::now();
        let wait_until = wait_until.max(now);
        let slot = match &self.place {
            Place::Local(local) => local.reserve(key, now, wait_until, None),
            Place::Shared(shared) => shared.reserve(key, wait_until).await,
        };
        match slot {
            Ok(slot) => {
                if slot > Instant::now() {
                    tokio::time::sleep_until(slot).await;
                }
                Ok(())
            }
            Err(retry_after) => {
                self.refusals.fetch_add(1, Ordering::Relaxed);
                crate::metrics::rate_budget_refused();
                Err(Error::Throttled { retry_after })
            }
        }
    }
}

/// The budget in Redis, and the fallback beside it.
struct Shared {
    redis: RedisGcra,
    gcra: Gcra,
    /// This replica's share of the rate (and of the burst, at least 1), for outages.
    fallback: LocalLimiter,
    /// Per key, until when slots booked through Redis run, as Redis last said: where the
    /// key's fallback bucket starts.
    booked: Mutex<HashMap<KeyId, Instant>>,
    /// Whether the fallback is in force.
    fallen_back: AtomicBool,
    /// Times the fallback took over.
    outages: AtomicU64,
}

impl Shared {
    async fn reserve(&self, key: KeyId, wait_until: Instant) -> Result<Instant, Duration> {
        let now = Instant::now();
        if self.redis.redis().turn() {
            let floor = self
                .fallback
                .horizon(key, now)
                .map_or(Duration::ZERO, |last| last - now);
            let max_wait = wait_until.saturating_duration_since(now);
            match self.redis.reserve(key, self.gcra, max_wait, floor).await {
                Ok(reply) => {
                    // Redis read its clock between sending and now: counting from now is
                    // never early.
                    let heard = Instant::now();
                    self.back_on_redis();
                    self.note_booked(key, heard + reply.booked);
                    return if reply.allowed {
                        Ok(heard + reply.wait)
                    } else {
                        Err(reply.wait)
                    };
                }
                Err(_) => self.fall_back(),
            }
        }
        let now = Instant::now();
        let booked = self.booked_until(key, now);
        self.fallback.reserve(key, now, wait_until, booked)
    }

    /// Redis did not answer (the Redis module logs the outage): this replica's share now.
    fn fall_back(&self) {
        if !self.fallen_back.swap(true, Ordering::SeqCst) {
            self.outages.fetch_add(1, Ordering::Relaxed);
            crate::metrics::rate_budget_fell_back();
            crate::metrics::rate_budget_mode("fallback");
            tracing::info!(
                fallback_rate = self.fallback.gcra().interval.as_secs_f64().recip(),
                "the upstream rate budget runs on this replica's share of the rate",
            );
        }
    }

    fn back_on_redis(&self) {
        if self.fallen_back.swap(false, Ordering::SeqCst) {
            crate::metrics::rate_budget_mode("redis");
            tracing::info!("the upstream rate budget is shared through Redis again");
        }
    }

    fn note_booked(&self, key: KeyId, until: Instant) {
        let mut booked = self.booked.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        if until > now {
            let entry = booked.entry(key).or_insert(until);
            *entry = (*entry).max(until);
        }
        if booked.len() > 1024 {
            booked.retain(|_, until| *until > now);
        }
    }

    fn booked_until(&self, key: KeyId, now: Instant) -> Option<Instant> {
        let booked = self.booked.lock().unwrap_or_else(PoisonError::into_inner);
        booked.get(&key).copied().filter(|until| *until > now)
    }
}

#[cfg(test)]
mod tests;
