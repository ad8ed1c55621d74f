//! One GraphQL request's dealings with ComplyCube: its deadline, its call budget, its
//! request id and (in forwarding mode) the caller's own key, shared by every loader of the
//! request.

use std::sync::atomic::{AtomicUsize, Ordering};

use reqwest::header::HeaderValue;
use tokio::time::Instant;

use super::{ApiKey, Error, KeyId};
use crate::cache::SealKey;

/// The deadline and the call budget of one GraphQL (HTTP) request. Every upstream call the
/// request causes, from any loader, ends by the deadline (retries and permit waits
/// included) and takes one call from the budget (retries do not).
#[derive(Debug)]
pub struct Session {
    deadline: Instant,
    max_calls: usize,
    calls_left: AtomicUsize,
    /// Sent upstream as `x-request-id`, so one request can be followed across both logs.
    pub(super) request_id: Option<HeaderValue>,
    /// The caller's own key (forwarding mode), used instead of the server's for this
    /// request only. Sensitive: never printed.
    pub(super) key: Option<(ApiKey, HeaderValue)>,
    /// The forwarded key's stand-in, computed once.
    forwarded_key_id: Option<KeyId>,
    /// What seals the forwarded key's cache entries.
    forwarded_seal: Option<SealKey>,
    /// Who is calling, for the per-caller share of the rate budget.
    caller: Option<KeyId>,
}

impl Session {
    pub fn new(deadline: Instant, max_calls: usize) -> Self {
        Self {
            deadline,
            max_calls,
            calls_left: AtomicUsize::new(max_calls),
            request_id: None,
            key: None,
            forwarded_key_id: None,
            forwarded_seal: None,
            caller: None,
        }
    }

    /// Who is calling: their calls also spend their share of the key's rate budget
    /// (`--caller-rate`).
    pub fn with_caller(mut self, caller: KeyId) -> Self {
        self.caller = Some(caller);
        self
    }

    /// Who is calling, when the gate could tell.
    pub(super) fn caller(&self) -> Option<KeyId> {
        self.caller
    }

    /// This request's id, sent upstream as `x-request-id` (ignored if not a header value).
    pub fn with_request_id(mut self, id: &str) -> Self {
        self.request_id = HeaderValue::from_str(id).ok();
        self
    }

    /// The caller's own ComplyCube key, for this request only (forwarding mode). The error
    /// when it cannot be an HTTP header.
    pub fn with_key(mut self, key: ApiKey) -> Result<Self, String> {
        let header = key
            .header_value()
            .ok_or("the API key contains characters not allowed in an HTTP header")?;
        self.forwarded_key_id = Some(KeyId::of(Some(&key)));
        self.forwarded_seal = Some(SealKey::derive(&key));
        self.key = Some((key, header));
        Ok(self)
    }

    /// The caller's own key, in forwarding mode.
    pub fn forwarded_key(&self) -> Option<&ApiKey> {
        self.key.as_ref().map(|(key, _)| key)
    }

    /// The forwarded key's stand-in, in forwarding mode.
    pub(super) fn key_id(&self) -> Option<KeyId> {
        self.forwarded_key_id
    }

    /// What seals the forwarded key's cache entries, in forwarding mode.
    pub(super) fn seal_key(&self) -> Option<&SealKey> {
        self.forwarded_seal.as_ref()
    }

    /// Calls taken from the budget so far (retries not counted): for logs.
    pub fn calls_made(&self) -> usize {
        self.max_calls - self.calls_left.load(Ordering::Relaxed)
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
        assert_eq!(session.calls_made(), 5);
    }
}
