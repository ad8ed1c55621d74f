//! The shared half of the budget: `gcra.lua` run in Redis, one round trip per slot, under
//! a short timeout.
//!
//! The one thing to know: a call here ends within the timeout (50 ms by default), on
//! success or failure, whatever Redis does: refuses connections, hangs, or answers late.
//! Connecting is the one step that may take longer (a remote Redis needs a few round
//! trips, and the script must be loaded): it runs in a task of its own, started with the
//! budget, so a call waits for it only as long as its timeout allows and a connection
//! that comes late is there for the next call.
//!
//! A connection that fails is dropped at once and the next call connects afresh; one
//! that only times out is kept (a slow Redis answers the next call) until it has timed
//! out [`TIMEOUTS_BEFORE_RECONNECT`] times in a row (a Redis that is gone without a word).

use std::{
    sync::{
        atomic::{AtomicU32, Ordering},
        Arc, Mutex, PoisonError,
    },
    time::Duration,
};

use futures::{future::BoxFuture, FutureExt as _};
use redis::aio::MultiplexedConnection;
use tokio::sync::Notify;

use super::local::Gcra;
use crate::upstream::{KeyId, RedisUrl};

/// Where the budgets live in Redis: this prefix, then the key's [`KeyId::short_hex`].
pub const KEY_PREFIX: &str = "complycube-graphql:rate-budget:v1:";

/// The longest connecting (TCP, handshake, loading the script) may take, in the
/// background: a request never waits for it longer than its own Redis timeout.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// Timeouts in a row after which the connection is taken for dead and replaced.
pub const TIMEOUTS_BEFORE_RECONNECT: u32 = 3;

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
    link: Arc<Link>,
    script: redis::Script,
    timeout: Duration,
    /// Calls in a row that timed out on the current connection.
    timeouts: AtomicU32,
}

/// The connection, shared with the task that makes it.
struct Link {
    client: redis::Client,
    state: Mutex<LinkState>,
    /// Told when a connection attempt ends, either way.
    settled: Notify,
}

#[derive(Default)]
struct LinkState {
    connection: Option<MultiplexedConnection>,
    connecting: bool,
    /// Why the last attempt failed.
    failure: Option<String>,
}

impl RedisGcra {
    /// Checks the URL, and starts connecting when called within a tokio runtime.
    pub fn new(url: &RedisUrl, timeout: Duration) -> Result<Self, String> {
        // Redis's own error names no part of the URL; ours shows it with the password masked.
        let client = redis::Client::open(url.expose())
            .map_err(|e| format!("the Redis URL `{url}` is not usable: {e}"))?;
        let this = Self {
            link: Arc::new(Link {
                client,
                state: Mutex::new(LinkState::default()),
                settled: Notify::new(),
            }),
            script: redis::Script::new(include_str!("gcra.lua")),
            timeout,
            timeouts: AtomicU32::new(0),
        };
        if tokio::runtime::Handle::try_current().is_ok() {
            this.link.start_connecting(&this.script);
        }
        Ok(this)
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
            let mut connection = self.link.connection(&self.script).await?;
            let (allowed, wait, booked): (i64, i64, i64) = self
                .script
                .key(format!("{KEY_PREFIX}{}", key.short_hex()))
                .arg(format!("{:.3}", micros(gcra.interval)))
                .arg(gcra.burst)
                .arg(micros(max_wait).round() as u64)
                .arg(micros(floor).round() as u64)
                .invoke_async(&mut connection)
                .await
                .map_err(|e| {
                    self.link.forget();
                    e.to_string()
                })?;
            Ok::<_, String>(Reply {
                allowed: allowed == 1,
                wait: from_micros(wait),
                booked: from_micros(booked),
            })
        })
        .await;
        match outcome {
            Ok(reply) => {
                if reply.is_ok() {
                    self.timeouts.store(0, Ordering::Relaxed);
                }
                reply
            }
            Err(_) => {
                if self.timeouts.fetch_add(1, Ordering::Relaxed) + 1 >= TIMEOUTS_BEFORE_RECONNECT {
                    self.timeouts.store(0, Ordering::Relaxed);
                    self.link.forget();
                }
                Err(format!(
                    "no answer within {}",
                    humantime::format_duration(self.timeout)
                ))
            }
        }
    }
}

impl Link {
    /// The connection, once there is one; starts connecting when nobody is, and waits for
    /// that (the caller's timeout bounds the wait).
    async fn connection(
        self: &Arc<Self>,
        script: &redis::Script,
    ) -> Result<MultiplexedConnection, String> {
        let settled = self.settled.notified();
        tokio::pin!(settled);
        // Registered before looking, so an attempt that ends meanwhile is not missed.
        settled.as_mut().enable();
        {
            let state = self.lock();
            if let Some(connection) = &state.connection {
                return Ok(connection.clone());
            }
        }
        self.start_connecting(script);
        settled.await;
        let state = self.lock();
        match (&state.connection, &state.failure) {
            (Some(connection), _) => Ok(connection.clone()),
            (None, Some(failure)) => Err(failure.clone()),
            (None, None) => Err("no connection to Redis".to_owned()),
        }
    }

    /// Connects (and loads the script) in a task of its own, unless that is under way.
    fn start_connecting(self: &Arc<Self>, script: &redis::Script) {
        {
            let mut state = self.lock();
            if state.connecting || state.connection.is_some() {
                return;
            }
            state.connecting = true;
        }
        let link = self.clone();
        let script = script.clone();
        tokio::spawn(async move {
            let config = redis::AsyncConnectionConfig::new()
                .set_connection_timeout(Some(CONNECT_TIMEOUT))
                .set_response_timeout(Some(CONNECT_TIMEOUT));
            let attempt = tokio::time::timeout(CONNECT_TIMEOUT, async {
                let mut connection = link
                    .client
                    .get_multiplexed_async_connection_with_config(&config)
                    .await?;
                script.load_async(&mut connection).await?;
                Ok::<_, redis::RedisError>(connection)
            })
            .await;
            let mut state = link.lock();
            state.connecting = false;
            match attempt {
                Ok(Ok(connection)) => {
                    state.connection = Some(connection);
                    state.failure = None;
                }
                Ok(Err(e)) => state.failure = Some(e.to_string()),
                Err(_) => {
                    state.failure = Some(format!(
                        "no connection within {}",
                        humantime::format_duration(CONNECT_TIMEOUT)
                    ));
                }
            }
            drop(state);
            link.settled.notify_waiters();
        });
    }

    /// Drops the connection: the next call connects afresh.
    fn forget(&self) {
        self.lock().connection = None;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LinkState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn from_micros(us: i64) -> Duration {
    Duration::from_micros(us.max(0) as u64)
}
