//! Redis, shared by every replica: one connection per process for the rate budget and the
//! cache, one timeout, one outage state, and the key spaces they write in.
//!
//! The one thing to know: Redis is never in a request's way. Every call ends within the
//! timeout (`--redis-timeout`, 50 ms), on success or failure, whatever Redis does: refuses
//! connections, hangs, or answers late. A failed call starts an outage (logged once,
//! counted in `redis_outages_total`); during one, callers fall back at once (the budget to
//! this replica's share of the rate, the cache to this process) and one call a second
//! ([`PROBE_EVERY`]) finds out whether Redis is back.
//!
//! Connecting is the one step that may take longer (a remote Redis needs a few round trips,
//! and the scripts must be loaded): it runs in a task of its own, started with the module,
//! so a call waits for it only as long as its timeout allows, and a connection that comes
//! late is there for the next call. A connection that fails is dropped at once and the next
//! call connects afresh; one that only times out is kept (a slow Redis answers the next
//! call) until it has timed out [`TIMEOUTS_BEFORE_RECONNECT`] times in a row.

use std::{
    sync::{
        atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering},
        Arc, Mutex, PoisonError,
    },
    time::Duration,
};

use redis::aio::MultiplexedConnection;
use tokio::{sync::Notify, time::Instant};

use crate::secrets::RedisUrl;

/// The longest any one Redis call may take, by default: a loopback or same-zone round trip
/// is well under a millisecond, so this only ever cuts off a Redis that is down or stuck.
pub const DEFAULT_REDIS_TIMEOUT: Duration = Duration::from_millis(50);

/// How often, during an outage, one call is let through to find out whether Redis is back.
pub const PROBE_EVERY: Duration = Duration::from_secs(1);

/// The longest connecting (TCP, handshake, loading the scripts) may take, in the
/// background: a call never waits for it longer than its own timeout.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// Timeouts in a row after which the connection is taken for dead and replaced.
pub const TIMEOUTS_BEFORE_RECONNECT: u32 = 3;

/// Where in Redis a part of the service writes: every key starts with its space's prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Space {
    /// The rate budget: one key per upstream key's [`crate::secrets::KeyId`].
    RateBudget,
    /// The cache: one key per sealed entry.
    Cache,
}

impl Space {
    pub fn prefix(self) -> &'static str {
        match self {
            Self::RateBudget => "complycube-graphql:rate-budget:v1:",
            Self::Cache => "complycube-graphql:cache:v1:",
        }
    }

    /// The Redis key of `name` in this space.
    pub fn key(self, name: &str) -> String {
        format!("{}{name}", self.prefix())
    }
}

/// The process's Redis: cheap to clone.
#[derive(Clone)]
pub struct Redis(Arc<Inner>);

struct Inner {
    link: Arc<Link>,
    timeout: Duration,
    /// Calls in a row that timed out on the current connection.
    timeouts: AtomicU32,
    /// Whether an outage is under way.
    down: AtomicBool,
    /// The origin of `next_probe_ms`.
    start: Instant,
    /// When (ms after `start`) the next probe is due, during an outage.
    next_probe_ms: AtomicU64,
    outages: AtomicU64,
    /// For log lines: the password masked.
    shown: String,
}

/// The connection, shared with the task that makes it.
struct Link {
    client: redis::Client,
    /// Loaded on every new connection, so that running one takes one round trip.
    scripts: Mutex<Vec<redis::Script>>,
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

impl std::fmt::Debug for Redis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redis")
            .field("url", &self.0.shown)
            .field("down", &self.is_down())
            .finish()
    }
}

impl Redis {
    /// Redis at `url`, each call within `timeout`. Checks the URL, and starts connecting
    /// when called within a tokio runtime.
    pub fn new(url: &RedisUrl, timeout: Duration) -> Result<Self, String> {
        // Redis's own error names no part of the URL; ours shows it with the password masked.
        let client = redis::Client::open(url.expose())
            .map_err(|e| format!("the Redis URL `{url}` is not usable: {e}"))?;
        let redis = Self(Arc::new(Inner {
            link: Arc::new(Link {
                client,
                scripts: Mutex::new(Vec::new()),
                state: Mutex::new(LinkState::default()),
                settled: Notify::new(),
            }),
            timeout,
            timeouts: AtomicU32::new(0),
            down: AtomicBool::new(false),
            start: Instant::now(),
            next_probe_ms: AtomicU64::new(0),
            outages: AtomicU64::new(0),
            shown: url.to_string(),
        }));
        crate::metrics::redis_up(true);
        if tokio::runtime::Handle::try_current().is_ok() {
            redis.0.link.start_connecting();
        }
        Ok(redis)
    }

    /// Has `script` loaded on every connection from now on (and on the current one at its
    /// first run).
    pub fn load(&self, script: &redis::Script) {
        let mut scripts = self.0.link.lock_scripts();
        if !scripts.iter().any(|s| s.get_hash() == script.get_hash()) {
            scripts.push(script.clone());
        }
    }

    /// The longest one call may take.
    pub fn timeout(&self) -> Duration {
        self.0.timeout
    }

    /// Whether an outage is under way.
    pub fn is_down(&self) -> bool {
        self.0.down.load(Ordering::SeqCst)
    }

    /// How many outages began.
    pub fn outages(&self) -> u64 {
        self.0.outages.load(Ordering::SeqCst)
    }

    /// Whether a call should go to Redis now: always while it answers; during an outage,
    /// one call per [`PROBE_EVERY`] (the probe), the others fall back at once.
    pub fn turn(&self) -> bool {
        if !self.is_down() {
            return true;
        }
        let now_ms = self.ms(Instant::now());
        let due = self.0.next_probe_ms.load(Ordering::SeqCst);
        now_ms >= due
            && self
                .0
                .next_probe_ms
                .compare_exchange(
                    due,
                    now_ms + PROBE_EVERY.as_millis() as u64,
                    Ordering::SeqCst,
                    Ordering::SeqCst,
                )
                .is_ok()
    }

    /// Runs `command` on the shared connection within the timeout, and notes what came of
    /// it (an outage begins or ends). The error says why there is no answer.
    pub async fn run<T>(
        &self,
        command: impl AsyncFnOnce(&mut MultiplexedConnection) -> redis::RedisResult<T>,
    ) -> Result<T, String> {
        let inner = &self.0;
        let outcome = tokio::time::timeout(inner.timeout, async {
            let mut connection = inner.link.connection().await?;
            command(&mut connection).await.map_err(|e| {
                inner.link.forget();
                e.to_string()
            })
        })
        .await;
        match outcome {
            Ok(Ok(value)) => {
                inner.timeouts.store(0, Ordering::Relaxed);
                self.answered();
                Ok(value)
            }
            Ok(Err(why)) => {
                self.failed(&why);
                Err(why)
            }
            Err(_) => {
                if inner.timeouts.fetch_add(1, Ordering::Relaxed) + 1 >= TIMEOUTS_BEFORE_RECONNECT {
                    inner.timeouts.store(0, Ordering::Relaxed);
                    inner.link.forget();
                }
                let why = format!(
                    "no answer within {}",
                    humantime::format_duration(inner.timeout)
                );
                self.failed(&why);
                Err(why)
            }
        }
    }

    fn failed(&self, why: &str) {
        let now_ms = self.ms(Instant::now());
        self.0
            .next_probe_ms
            .store(now_ms + PROBE_EVERY.as_millis() as u64, Ordering::SeqCst);
        if !self.0.down.swap(true, Ordering::SeqCst) {
            self.0.outages.fetch_add(1, Ordering::Relaxed);
            crate::metrics::redis_up(false);
            tracing::warn!(
                redis = %self.0.shown,
                %why,
                "Redis does not answer: the rate budget falls back to this replica's share of \
                 the rate and the cache to this process, until it does",
            );
        }
    }

    fn answered(&self) {
        if self.0.down.swap(false, Ordering::SeqCst) {
            crate::metrics::redis_up(true);
            tracing::info!(redis = %self.0.shown, "Redis answers again");
        }
    }

    fn ms(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.0.start).as_millis() as u64
    }
}

impl Link {
    /// The connection, once there is one; starts connecting when nobody is, and waits for
    /// that (the caller's timeout bounds the wait).
    async fn connection(self: &Arc<Self>) -> Result<MultiplexedConnection, String> {
        let settled = self.settled.notified();
        tokio::pin!(settled);
        // Registered before looking, so an attempt that ends meanwhile is not missed.
        settled.as_mut().enable();
        if let Some(connection) = &self.lock().connection {
            return Ok(connection.clone());
        }
        self.start_connecting();
        settled.await;
        let state = self.lock();
        match (&state.connection, &state.failure) {
            (Some(connection), _) => Ok(connection.clone()),
            (None, Some(failure)) => Err(failure.clone()),
            (None, None) => Err("no connection to Redis".to_owned()),
        }
    }

    /// Connects (and loads the scripts) in a task of its own, unless that is under way.
    fn start_connecting(self: &Arc<Self>) {
        {
            let mut state = self.lock();
            if state.connecting || state.connection.is_some() {
                return;
            }
            state.connecting = true;
        }
        let link = self.clone();
        tokio::spawn(async move {
            let config = redis::AsyncConnectionConfig::new()
                .set_connection_timeout(Some(CONNECT_TIMEOUT))
                .set_response_timeout(Some(CONNECT_TIMEOUT));
            let scripts = link.lock_scripts().clone();
            let attempt = tokio::time::timeout(CONNECT_TIMEOUT, async {
                let mut connection = link
                    .client
                    .get_multiplexed_async_connection_with_config(&config)
                    .await?;
                for script in &scripts {
                    script.load_async(&mut connection).await?;
                }
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

    fn lock_scripts(&self) -> std::sync::MutexGuard<'_, Vec<redis::Script>> {
        self.scripts.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spaces_never_share_a_key() {
        assert_ne!(Space::RateBudget.key("a"), Space::Cache.key("a"));
        assert!(Space::Cache.key("x").starts_with("complycube-graphql:"));
    }

    /// A Redis that is not there: every call ends within the timeout, the outage begins
    /// once, and only one call a second is let through as a probe.
    #[tokio::test(start_paused = true)]
    async fn an_absent_redis_fails_fast_and_is_probed_once_a_second() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener); // nobody listens there now
        let redis = Redis::new(
            &RedisUrl::new(format!("redis://127.0.0.1:{port}")),
            DEFAULT_REDIS_TIMEOUT,
        )
        .unwrap();
        let before = redis.outages();
        assert!(redis.turn());
        let answer = redis
            .run(async |c| redis::cmd("PING").query_async::<String>(c).await)
            .await;
        assert!(answer.is_err());
        assert!(redis.is_down());
        assert_eq!(redis.outages(), before + 1);
        assert!(!redis.turn(), "no probe before a second has passed");
        tokio::time::advance(PROBE_EVERY).await;
        assert!(redis.turn(), "one probe once a second has passed");
        assert!(!redis.turn(), "and only one");
        let _ = redis
            .run(async |c| redis::cmd("PING").query_async::<String>(c).await)
            .await;
        assert_eq!(
            redis.outages(),
            before + 1,
            "one outage, however many calls"
        );
    }
}
