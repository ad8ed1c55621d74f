//! GCRA (the generic cell rate algorithm) in this process, one state per upstream key: the
//! budget when there is no Redis, and a replica's fallback while Redis is unreachable.
//!
//! The one thing to know: it *reserves*. A call learns its slot at once: if the slot lies
//! beyond what the call may wait it is refused and nothing is taken; otherwise the slot is
//! taken now and the call sleeps until it. Waiters therefore go in arrival order, none is
//! woken to find its slot taken, and a refusal costs nothing.
//!
//! Why not `governor`: its keyed limiter answers "not until t" without taking anything, so
//! a waiter must sleep and ask again, competing with every other waiter that woke at t:
//! no order, no reservation, and no way to tell a caller its slot up front. GCRA with
//! reservations is the few lines below, on tokio's clock (so tests can pause time).
//!
//! GCRA keeps one instant per key, the theoretical arrival time (TAT): when the bucket
//! would be empty again. A call at `now` gets the slot `max(tat, now) + interval - burst *
//! interval`, and a taken slot moves `tat` on by one interval. A TAT in the past means the
//! same as no state at all, so idle keys can be forgotten without changing any answer.

use std::{
    collections::HashMap,
    sync::{Mutex, PoisonError},
    time::Duration,
};

use tokio::time::Instant;

use crate::upstream::KeyId;

/// A rate and a burst, as GCRA uses them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Gcra {
    /// Time between two slots at the steady rate: `1 / rate`.
    pub interval: Duration,
    /// Slots that may be taken at once after a quiet spell (at least 1).
    pub burst: u32,
}

impl Gcra {
    /// `rate` requests per second (finite, above zero), `burst` at once (at least 1).
    pub fn new(rate: f64, burst: u32) -> Self {
        Self {
            interval: Duration::from_secs_f64(1.0 / rate),
            burst: burst.max(1),
        }
    }

    /// How far ahead of a slot the TAT runs when the bucket is full.
    pub fn burst_offset(&self) -> Duration {
        self.interval * self.burst
    }
}

/// How many keys to keep before forgetting idle ones (forwarding mode has one per caller).
const PRUNE_AT: usize = 1024;

/// A GCRA limiter per [`KeyId`], in this process.
#[derive(Debug)]
pub(super) struct LocalLimiter {
    gcra: Gcra,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    /// Each key's TAT.
    tats: HashMap<KeyId, Instant>,
    /// The size at which idle keys are forgotten next (grows with the live keys, so that
    /// forgetting stays amortised constant time).
    prune_at: usize,
}

impl LocalLimiter {
    pub fn new(gcra: Gcra) -> Self {
        Self {
            gcra,
            state: Mutex::new(State {
                tats: HashMap::new(),
                prune_at: PRUNE_AT,
            }),
        }
    }

    pub fn gcra(&self) -> Gcra {
        self.gcra
    }

    /// Takes `key`'s next slot if it comes by `wait_until`, and returns it; else takes
    /// nothing and returns how long until a slot would come.
    ///
    /// `not_before`: slots someone else booked for this key run until then (the fallback
    /// start, see `super`): the bucket counts as full at that instant, so the first slot
    /// given is one interval after it.
    pub fn reserve(
        &self,
        key: KeyId,
        now: Instant,
        wait_until: Instant,
        not_before: Option<Instant>,
    ) -> Result<Instant, Duration> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let tat = state.tats.get(&key).copied().unwrap_or(now);
        let mut base = tat.max(now);
        if let Some(floor) = not_before {
            base = base.max(floor + self.gcra.burst_offset());
        }
        let new_tat = base + self.gcra.interval;
        let slot = new_tat
            .checked_sub(self.gcra.burst_offset())
            .map_or(now, |slot| slot.max(now));
        if slot > wait_until {
            return Err(slot - now);
        }
        state.tats.insert(key, new_tat);
        if state.tats.len() >= state.prune_at {
            state.tats.retain(|_, tat| *tat > now);
            state.prune_at = (state.tats.len() * 2).max(PRUNE_AT);
        }
        Ok(slot)
    }

    /// The last slot taken for `key`, if it is still to come.
    pub fn horizon(&self, key: KeyId, now: Instant) -> Option<Instant> {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let tat = *state.tats.get(&key)?;
        tat.checked_sub(self.gcra.burst_offset())
            .filter(|last| *last > now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::upstream::ApiKey;

    fn key(name: &str) -> KeyId {
        KeyId::of(Some(&ApiKey::new(name)))
    }

    const MS: Duration = Duration::from_millis(1);

    #[tokio::test(start_paused = true)]
    async fn a_burst_goes_at_once_then_one_slot_per_interval() {
        let limiter = LocalLimiter::new(Gcra::new(10.0, 3));
        let now = Instant::now();
        let far = now + Duration::from_secs(60);
        let slots: Vec<_> = (0..6)
            .map(|_| limiter.reserve(key("a"), now, far, None).unwrap() - now)
            .collect();
        assert_eq!(slots, [0, 0, 0, 100, 200, 300].map(|ms| ms * MS));
    }

    #[tokio::test(start_paused = true)]
    async fn a_slot_beyond_the_wait_is_refused_and_nothing_is_taken() {
        let limiter = LocalLimiter::new(Gcra::new(10.0, 1));
        let now = Instant::now();
        assert_eq!(limiter.reserve(key("a"), now, now, None), Ok(now));
        // The next slot is 100 ms away: refused within 50 ms, as often as asked.
        for _ in 0..3 {
            assert_eq!(
                limiter.reserve(key("a"), now, now + 50 * MS, None),
                Err(100 * MS)
            );
        }
        // Nothing was taken by the refusals.
        assert_eq!(
            limiter.reserve(key("a"), now, now + 100 * MS, None),
            Ok(now + 100 * MS)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn keys_have_their_own_budgets() {
        let limiter = LocalLimiter::new(Gcra::new(1.0, 1));
        let now = Instant::now();
        assert!(limiter.reserve(key("a"), now, now, None).is_ok());
        assert!(limiter.reserve(key("a"), now, now, None).is_err());
        assert!(limiter.reserve(key("b"), now, now, None).is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn a_quiet_spell_refills_the_burst_and_no_more() {
        let limiter = LocalLimiter::new(Gcra::new(10.0, 2));
        let start = Instant::now();
        let far = start + Duration::from_secs(60);
        for _ in 0..5 {
            limiter.reserve(key("a"), start, far, None).unwrap();
        }
        let later = start + Duration::from_secs(10);
        let slots: Vec<_> = (0..3)
            .map(|_| limiter.reserve(key("a"), later, far, None).unwrap() - later)
            .collect();
        assert_eq!(slots, [0, 0, 100].map(|ms| ms * MS));
    }

    #[tokio::test(start_paused = true)]
    async fn not_before_starts_with_a_full_bucket_after_the_floor() {
        let limiter = LocalLimiter::new(Gcra::new(5.0, 5));
        let now = Instant::now();
        let far = now + Duration::from_secs(60);
        let floor = now + 700 * MS;
        let first = limiter.reserve(key("a"), now, far, Some(floor)).unwrap();
        assert_eq!(first, floor + 200 * MS);
        let second = limiter.reserve(key("a"), now, far, Some(floor)).unwrap();
        assert_eq!(second, floor + 400 * MS);
        assert_eq!(limiter.horizon(key("a"), now), Some(second));
        assert_eq!(limiter.horizon(key("b"), now), None);
        assert_eq!(limiter.horizon(key("a"), second), None);
    }

    #[tokio::test(start_paused = true)]
    async fn idle_keys_are_forgotten_without_changing_an_answer() {
        let limiter = LocalLimiter::new(Gcra::new(1.0, 1));
        let now = Instant::now();
        for i in 0..PRUNE_AT - 1 {
            let key = key(&format!("k{i}"));
            limiter.reserve(key, now, now, None).unwrap();
        }
        let later = now + Duration::from_secs(5);
        limiter.reserve(key("fresh"), later, later, None).unwrap();
        assert_eq!(
            limiter.state.lock().unwrap().tats.len(),
            1,
            "only the live key kept"
        );
        // A key that was forgotten behaves as one whose TAT had passed.
        assert_eq!(limiter.reserve(key("k0"), later, later, None), Ok(later));
    }
}
