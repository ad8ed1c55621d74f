//! One GraphQL request's dealings with ComplyCube: its deadline and its call budget, shared
//! by every loader of the request.

use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::time::Instant;

use super::Error;

/// The deadline and the call budget of one GraphQL (HTTP) request. Every upstream call the
/// request causes, from any loader, ends by the deadline (retries and permit waits
/// included) and takes one call from the budget (retries do not).
#[derive(Debug)]
pub struct Session {
    deadline: Instant,
    max_calls: usize,
    calls_left: AtomicUsize,
}

impl Session {
    pub fn new(deadline: Instant, max_calls: usize) -> Self {
        Self {
            deadline,
            max_calls,
            calls_left: AtomicUsize::new(max_calls),
        }
    }

    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Takes `n` calls from the budget, or none if fewer are left: a plan that cannot be
    /// carried out whole is refused before its first call.
    pub fn reserve(&self, n: usize) -> Result<(), Error> {
        self.calls_left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                left.checked_sub(n)
            })
            .map(drop)
            .map_err(|_| Error::TooManyCalls {
                limit: self.max_calls,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_is_all_or_nothing() {
        let session = Session::new(Instant::now(), 5);
        session.reserve(3).unwrap();
        assert!(matches!(
            session.reserve(3),
            Err(Error::TooManyCalls { limit: 5 })
        ));
        session.reserve(2).unwrap();
        assert!(session.reserve(1).is_err());
    }
}
