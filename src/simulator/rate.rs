//! ComplyCube's rate limit, as the simulator enforces it: so many requests a second per
//! `Authorization` value, beyond which it answers 429 `rate_limit_exceeded`.
//!
//! The one thing to know: it is a token bucket, on purpose not the facade's GCRA code, so
//! that tests of the facade's budget are judged by an independent limiter. The bucket
//! holds one second's worth of requests plus one: ComplyCube publishes no burst, and any
//! real limiter has to forgive a request that arrives a little early because the network
//! delayed the one before it less than the one before that (see [`JITTER_ALLOWANCE`]).

use std::{collections::HashMap, time::Instant};

/// Requests beyond one second's worth that the bucket holds: network jitter. Without it a
/// client that spends exactly the rate is refused whenever its first request happened to
/// travel slower than a later one.
pub const JITTER_ALLOWANCE: f64 = 1.0;

/// Token buckets per `Authorization` value.
#[derive(Debug)]
pub(super) struct RateLimit {
    rate: f64,
    capacity: f64,
    /// Per key: tokens left, and when they were counted. Keys are hashed, not kept.
    buckets: HashMap<u64, (f64, Instant)>,
}

impl RateLimit {
    /// `rate` requests per second (above zero).
    pub fn new(rate: f64) -> Self {
        Self {
            rate,
            capacity: rate.floor().max(1.0) + JITTER_ALLOWANCE,
            buckets: HashMap::new(),
        }
    }

    /// Whether a request with `authorization` may pass at `now` (it takes a token if so).
    pub fn admit(&mut self, authorization: &[u8], now: Instant) -> bool {
        use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
        let key = BuildHasherDefault::<DefaultHasher>::default().hash_one(authorization);
        let (tokens, counted) = self.buckets.entry(key).or_insert((self.capacity, now));
        let refill = now.saturating_duration_since(*counted).as_secs_f64() * self.rate;
        *tokens = (*tokens + refill).min(self.capacity);
        *counted = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }

    pub fn clear(&mut self) {
        self.buckets.clear();
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn one_seconds_worth_plus_one_then_the_rate_per_key() {
        let mut limit = RateLimit::new(5.0);
        let start = Instant::now();
        let passed = (0..10).filter(|_| limit.admit(b"a", start)).count();
        assert_eq!(passed, 6);
        assert!(limit.admit(b"b", start), "another key has its own bucket");
        assert!(!limit.admit(b"a", start + Duration::from_millis(150)));
        assert!(limit.admit(b"a", start + Duration::from_millis(250)));
        assert!(!limit.admit(b"a", start + Duration::from_millis(300)));
    }
}
