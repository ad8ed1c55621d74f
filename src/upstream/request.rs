//! The one request path to ComplyCube. Every typed endpoint goes through [`Upstream::call`]:
//!
//! ```text
//! budget (Session) -> retry with backoff and Retry-After -> deadline -> rate slot -> permit
//!                  -> HTTP -> status and body cap -> key scrubbed from any error
//! ```
//!
//! The one thing to know: this is the seam that a rate budget and a cache wrap (issue 7):
//! a cache in front of `call`, a rate slot ([`super::budget`]) inside `attempt` before the
//! permit, so that retries spend the budget too.

use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use chrono::{DateTime, Utc};
use futures::future::join_all;
use reqwest::header::AUTHORIZATION;
use tokio::time::Instant;

use super::{Endpoint, Error, ErrorBody, Session, Upstream};

impl Upstream {
    /// Calls every endpoint of `endpoints` concurrently, after taking as many calls from the
    /// request's budget (all or none: the error when the budget cannot cover them). Each
    /// answer is the body of a 2xx response, or why there is none.
    pub(super) async fn call_all<T>(
        &self,
        endpoints: &[Endpoint<'_>],
        session: &Session,
        read: impl Fn(&Endpoint<'_>, Vec<u8>) -> Result<T, Error>,
    ) -> Result<Vec<Result<T, Error>>, Error> {
        session.reserve(endpoints.len())?;
        let read = &read;
        Ok(join_all(
            endpoints
                .iter()
                .map(|e| self.call(e, session, move |body| read(e, body))),
        )
        .await)
    }

    /// One endpoint, one call from the budget.
    pub(super) async fn call_one<T>(
        &self,
        endpoint: &Endpoint<'_>,
        session: &Session,
        read: impl Fn(Vec<u8>) -> Result<T, Error>,
    ) -> Result<T, Error> {
        session.reserve(1)?;
        self.call(endpoint, session, read).await
    }

    /// One call, retried as [`super::RetryPolicy`] says while `deadline` allows. `read`
    /// turns a successful body into its value: what it refuses is an error like any other,
    /// scrubbed of the key (a body may quote it), and not retried.
    async fn call<T>(
        &self,
        endpoint: &Endpoint<'_>,
        session: &Session,
        read: impl Fn(Vec<u8>) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let read = &read;
        let deadline = session.deadline();
        let backoff = ExponentialBuilder::default()
            .with_min_delay(self.retry.base_delay)
            .with_max_delay(self.retry.max_delay)
            .with_max_times(self.retry.max_retries)
            .with_jitter();
        let cap = self.retry.retry_after_cap;
        (|| self.attempt(endpoint, session, read))
            .retry(backoff)
            .sleep(tokio::time::sleep)
            .when(Error::is_retryable)
            .adjust(|error, backoff| {
                let wait = match (error.retry_after(), backoff?) {
                    (Some(asked), _) if asked > cap => return None,
                    (Some(asked), backoff) => asked.max(backoff),
                    (None, backoff) => backoff,
                };
                (Instant::now() + wait < deadline).then_some(wait)
            })
            .notify(|error, wait| {
                crate::metrics::upstream_retry(endpoint.name());
                tracing::debug!(endpoint = endpoint.name(), %error, ?wait, "retrying ComplyCube");
            })
            .await
    }

    /// One attempt, bounded by the deadline (waiting for a permit included). Errors come
    /// out with the key scrubbed.
    async fn attempt<T>(
        &self,
        endpoint: &Endpoint<'_>,
        session: &Session,
        read: impl Fn(Vec<u8>) -> Result<T, Error>,
    ) -> Result<T, Error> {
        // Timed from the connection slot on: waiting for one is queueing, not ComplyCube.
        let mut sent = None;
        let outcome = tokio::time::timeout_at(session.deadline(), async {
            // Every attempt spends the key's rate budget, retries too: a slot first (no
            // permit is held while waiting for one), within the deadline and the queue
            // timeout.
            if let Some(budget) = &self.budget {
                let wait_until = session
                    .deadline()
                    .min(Instant::now() + budget.queue_timeout());
                // The caller's share first: a caller past it takes nothing from the key's.
                if let (Some(share), Some(caller)) = (&self.caller_budget, session.caller()) {
                    share.acquire(caller, wait_until).await?;
                }
                budget.acquire(self.key_id(session), wait_until).await?;
            }
            let _permit =
                self.permits.acquire().await.map_err(|_| {
                    Error::Unreachable("the upstream client is shutting down".into())
                })?;
            sent = Some(Instant::now());
            self.send(endpoint, session).await
        })
        .await
        .unwrap_or(Err(Error::Timeout));
        let status = outcome.as_ref().map_or(0, |(status, _)| *status);
        let outcome = outcome.and_then(|(_, body)| read(body));
        observe(endpoint, status, &outcome, sent);
        // The key this request used: the caller's own in forwarding mode, else the server's.
        let key = session
            .key
            .as_ref()
            .map(|(key, _)| key)
            .or(self.key.as_ref());
        outcome.map_err(|e| match key {
            Some(key) => e.redact(key),
            None => e,
        })
    }

    /// The status and body of a 2xx answer.
    async fn send(
        &self,
        endpoint: &Endpoint<'_>,
        session: &Session,
    ) -> Result<(u16, Vec<u8>), Error> {
        let mut request = self.http.get(endpoint.url(self));
        let auth = session
            .key
            .as_ref()
            .map(|(_, header)| header)
            .or(self.auth.as_ref());
        if let Some(auth) = auth {
            request = request.header(AUTHORIZATION, auth.clone());
        }
        if let Some(id) = &session.request_id {
            request = request.header("x-request-id", id.clone());
        }
        let response = request.send().await.map_err(Error::from_reqwest)?;
        let status = response.status();
        let retry_after = retry_after(response.headers());
        let body = read_body(response, endpoint.max_body_bytes(self)).await?;
        if !status.is_success() {
            return Err(Error::Status {
                status: status.as_u16(),
                body: error_body(status, &body),
                retry_after,
            });
        }
        Ok((status.as_u16(), body))
    }
}

/// Counts one attempt by endpoint and what it came to, and logs it at debug level (the
/// endpoint's name, never its URL: a list's query string names the client and filters).
fn observe<T>(
    endpoint: &Endpoint<'_>,
    ok_status: u16,
    outcome: &Result<T, Error>,
    sent: Option<Instant>,
) {
    use crate::metrics::UpstreamStatus;
    let status = match outcome {
        Ok(_) => UpstreamStatus::Code(ok_status),
        Err(Error::Status { status, .. }) => UpstreamStatus::Code(*status),
        Err(Error::Timeout) => UpstreamStatus::Timeout,
        Err(Error::Unreachable(_)) => UpstreamStatus::Unreachable,
        Err(Error::Throttled { .. }) => UpstreamStatus::Throttled,
        Err(
            Error::InvalidResponse(_)
            | Error::TooLarge { .. }
            | Error::ImageTooLarge { .. }
            | Error::TooManyCalls { .. },
        ) => UpstreamStatus::Invalid,
    };
    let took = sent.map(|sent| sent.elapsed());
    crate::metrics::upstream_request(endpoint.name(), status, took);
    tracing::debug!(
        endpoint = endpoint.name(),
        %status,
        duration_ms = took.map(|t| t.as_secs_f64() * 1e3),
        "ComplyCube call"
    );
}

async fn read_body(mut response: reqwest::Response, limit: usize) -> Result<Vec<u8>, Error> {
    if response
        .content_length()
        .is_some_and(|len| len > limit as u64)
    {
        return Err(Error::TooLarge { limit });
    }
    // Sized once when the length is announced (a 5 MB image's text would otherwise pass
    // through buffers of 1, 2, 4 and 8 MB).
    let announced = response.content_length().map_or(0, |len| len as usize);
    let mut body = Vec::with_capacity(announced);
    while let Some(chunk) = response.chunk().await.map_err(Error::from_reqwest)? {
        if body.len() + chunk.len() > limit {
            return Err(Error::TooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The documented error body, or a stand-in naming the status when the body is not one.
fn error_body(status: reqwest::StatusCode, body: &[u8]) -> ErrorBody {
    serde_json::from_slice(body).unwrap_or_else(|_| ErrorBody {
        kind: "unknown".into(),
        message: format!(
            "HTTP {} {}",
            status.as_u16(),
            status.canonical_reason().unwrap_or("")
        )
        .trim_end()
        .to_owned(),
        param: None,
    })
}

/// `Retry-After` as seconds or as an HTTP date (a date in the past means now).
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let text = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(seconds) = text.parse::<u64>() {
        return Some(Duration::from_secs(seconds.min(86_400)));
    }
    let at = DateTime::parse_from_rfc2822(text).ok()?;
    Some(
        (at.with_timezone(&Utc) - Utc::now())
            .to_std()
            .unwrap_or_default(),
    )
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("retry-after", HeaderValue::from_static("3"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(3)));
        headers.insert(
            "retry-after",
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&headers), Some(Duration::ZERO));
        let soon = (Utc::now() + chrono::Duration::seconds(30)).to_rfc2822();
        headers.insert("retry-after", HeaderValue::from_str(&soon).unwrap());
        let wait = retry_after(&headers).unwrap();
        assert!(
            wait > Duration::from_secs(25) && wait <= Duration::from_secs(30),
            "{wait:?}"
        );
        headers.insert("retry-after", HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&headers), None);
    }
}
