//! The rate budget over real HTTP: services and a simulator that enforces ComplyCube's
//! per-key rate (`rate_limit`), driven at three times the plan's rate, alone, two replicas
//! on one Redis, with Redis stopped mid-run, and with forwarded keys.
//!
//! What is asserted is upper bounds, never exact timings: the simulator answers no 429,
//! and in every stretch of its arrivals for one key, the requests number at most
//! `burst + rate * stretch` (what GCRA allows) plus [`JITTER_ALLOWANCE`] (one request:
//! the facade spaces its sends, and loopback delays them unevenly by a little). The
//! timing tests run one at a time ([`SERIAL`]) on two worker threads.

use std::{
    net::SocketAddr,
    sync::Arc,
    time::{Duration, Instant},
};

use complycube_graphql::{
    redis::{Redis, DEFAULT_REDIS_TIMEOUT},
    simulator::{Simulator, SimulatorSettings, JITTER_ALLOWANCE},
    upstream::{
        budget::redis_key, ApiKey, BudgetMode, KeyId, PhotoId, RateBudget, RateBudgetSettings,
        RedisUrl, Session, Upstream, UpstreamSettings,
    },
    ServiceConfig,
};
use futures::future::join_all;
use serde_json::{json, Value};

use crate::{
    helpers::{listener, start_service, TEST_KEY},
    redis::RedisServer,
};

/// A live key's plan: 10 requests a second; the default burst is one second's worth.
const PLAN: f64 = 10.0;
const BURST: u32 = 10;
/// Short, so a run's queue drains quickly; the default is 2 s.
const QUEUE_TIMEOUT: Duration = Duration::from_millis(500);
/// One upstream call per query: `GET /v1/livePhotos/:id`.
const ONE_CALL: &str = r#"{ livePhoto(id: "5eb1b5f231778a0008d1c3f6") { id: complyCubeId } }"#;

/// One timing test at a time: they measure rates, and share two cores.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn rate_limited_simulator(api_key: Option<&str>) -> (Simulator, SocketAddr) {
    let sim = Simulator::new(SimulatorSettings {
        api_key: api_key.map(ApiKey::new),
        rate_limit: Some(PLAN),
        ..SimulatorSettings::default()
    });
    let addr = sim.clone().spawn(listener().await).await.unwrap();
    (sim, addr)
}

fn budget(redis: Option<&RedisServer>) -> impl FnOnce(&mut ServiceConfig) {
    let url = redis.map(|r| RedisUrl::new(r.url()));
    move |config| {
        config.upstream.rate_budget = RateBudgetSettings {
            rate: Some(PLAN),
            queue_timeout: QUEUE_TIMEOUT,
            ..RateBudgetSettings::default()
        };
        config.upstream.redis_url = url;
    }
}

/// What one driven call came to.
#[derive(Clone, Debug)]
enum Outcome {
    Ok,
    /// Refused by the budget, with `retryAfter` in seconds.
    RateLimited(u64),
    Other(String),
}

#[derive(Clone, Debug)]
struct Sample {
    /// When the call started, after the run's start.
    started: Duration,
    took: Duration,
    outcome: Outcome,
}

/// Starts `call(i)` `per_second` times a second for `run`, each in its own task, and
/// returns every sample once all have ended.
async fn drive<F, Fut>(per_second: f64, run: Duration, mut call: F) -> Vec<Sample>
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = Outcome> + Send + 'static,
{
    let start = Instant::now();
    let mut ticks = tokio::time::interval(Duration::from_secs_f64(1.0 / per_second));
    let mut tasks = Vec::new();
    for i in 0.. {
        ticks.tick().await;
        if start.elapsed() >= run {
            break;
        }
        let started = start.elapsed();
        let call = call(i);
        tasks.push(tokio::spawn(async move {
            let at = Instant::now();
            let outcome = call.await;
            Sample {
                started,
                took: at.elapsed(),
                outcome,
            }
        }));
    }
    join_all(tasks)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect()
}

/// A GraphQL answer to [`ONE_CALL`], classified.
fn graphql_outcome(response: &Value) -> Outcome {
    match response["errors"][0]["extensions"]["code"].as_str() {
        None if response["data"]["livePhoto"]["id"].is_string() => Outcome::Ok,
        Some("RATE_LIMITED") => {
            let ext = &response["errors"][0]["extensions"];
            assert_eq!(ext["upstream"]["type"], "rate_budget", "{response}");
            Outcome::RateLimited(ext["retryAfter"].as_u64().unwrap_or(0))
        }
        _ => Outcome::Other(response.to_string()),
    }
}

async fn post_one_call(http: reqwest::Client, addr: SocketAddr) -> Outcome {
    let response = http
        .post(format!("http://{addr}/graphql"))
        .json(&json!({ "query": ONE_CALL }))
        .send()
        .await;
    match response {
        Ok(response) => match response.json::<Value>().await {
            Ok(body) => graphql_outcome(&body),
            Err(e) => Outcome::Other(e.to_string()),
        },
        Err(e) => Outcome::Other(e.to_string()),
    }
}

/// The most by which any stretch of `arrivals` (sorted) holds more requests than
/// `rate * stretch`: GCRA with burst `b` keeps this at most `b`.
fn max_excess(arrivals: &[Instant], rate: f64) -> f64 {
    let mut worst = 0.0_f64;
    for (i, first) in arrivals.iter().enumerate() {
        for (j, last) in arrivals.iter().enumerate().skip(i) {
            let count = (j - i + 1) as f64;
            worst = worst.max(count - rate * (*last - *first).as_secs_f64());
        }
    }
    worst
}

/// The simulator's arrivals with `authorization`, in order.
fn arrivals_of(sim: &Simulator, authorization: &str) -> Vec<Instant> {
    let mut arrivals: Vec<Instant> = sim
        .request_headers()
        .into_iter()
        .zip(sim.request_times())
        .filter(|((_, auth), _)| auth.as_deref() == Some(authorization))
        .map(|(_, at)| at)
        .collect();
    arrivals.sort();
    arrivals
}

/// The arrivals' average rate, first to last.
fn observed_rate(arrivals: &[Instant]) -> f64 {
    match (arrivals.first(), arrivals.last()) {
        (Some(first), Some(last)) if last > first => {
            (arrivals.len() - 1) as f64 / (*last - *first).as_secs_f64()
        }
        _ => 0.0,
    }
}

/// The arrivals' rate once the burst is spent: the requests after the first `BURST`, over
/// the whole stretch.
fn past_the_burst(arrivals: &[Instant]) -> f64 {
    match (arrivals.first(), arrivals.last()) {
        (Some(first), Some(last)) if last > first => {
            arrivals.len().saturating_sub(BURST as usize) as f64 / (*last - *first).as_secs_f64()
        }
        _ => 0.0,
    }
}

/// The checks every driven run must pass, and a line for the log with what was measured.
fn assert_within_plan(what: &str, sim: &Simulator, authorization: &str, samples: &[Sample]) {
    let arrivals = arrivals_of(sim, authorization);
    let excess = max_excess(&arrivals, PLAN);
    let ok = samples
        .iter()
        .filter(|s| matches!(s.outcome, Outcome::Ok))
        .count();
    let refused = samples
        .iter()
        .filter(|s| matches!(s.outcome, Outcome::RateLimited(_)))
        .count();
    let slowest = samples.iter().map(|s| s.took).max().unwrap_or_default();
    eprintln!(
        "{what}: {} calls, {ok} ok, {refused} RATE_LIMITED; simulator saw {} requests at {:.2}/s ({:.2}/s past the burst; plan {PLAN}/s), most above the plan in any stretch {excess:.2} (burst {BURST}), {} answered 429; slowest call {slowest:?}",
        samples.len(),
        arrivals.len(),
        observed_rate(&arrivals),
        past_the_burst(&arrivals),
        sim.rate_limited_count(),
    );
    let other: Vec<_> = samples
        .iter()
        .filter_map(|s| match &s.outcome {
            Outcome::Other(e) => Some(e),
            _ => None,
        })
        .collect();
    assert!(other.is_empty(), "{what}: unexpected answers: {other:?}");
    assert_eq!(
        sim.rate_limited_count(),
        0,
        "{what}: the simulator answered 429"
    );
    assert!(
        excess <= f64::from(BURST) + JITTER_ALLOWANCE,
        "{what}: {excess:.2} requests above the plan in one stretch"
    );
    assert!(ok > 0 && refused > 0, "{what}: {ok} ok, {refused} refused");
    for sample in samples {
        if let Outcome::RateLimited(seconds) = sample.outcome {
            assert!(seconds >= 1, "{what}: retryAfter {seconds}");
        }
    }
    // How long the slowest call took is reported above, not asserted: a busy machine may
    // stretch any wall-clock figure, and that refusals do not wait is shown without a
    // clock (`a_call_with_no_slot_in_time_fails_at_once_and_sends_nothing`).
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_replica_stays_within_the_plan_at_three_times_its_rate() {
    let _serial = SERIAL.lock().await;
    let (sim, sim_addr) = rate_limited_simulator(Some(TEST_KEY)).await;
    let addr = start_service(&format!("http://{sim_addr}/v1"), TEST_KEY, budget(None)).await;
    let http = reqwest::Client::new();
    let samples = drive(3.0 * PLAN, Duration::from_secs(2), |_| {
        post_one_call(http.clone(), addr)
    })
    .await;
    assert_within_plan("one replica, local budget", &sim, TEST_KEY, &samples);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_with_no_slot_in_time_fails_at_once_and_sends_nothing() {
    let _serial = SERIAL.lock().await;
    let (sim, sim_addr) = rate_limited_simulator(Some(TEST_KEY)).await;
    let addr = start_service(&format!("http://{sim_addr}/v1"), TEST_KEY, |config| {
        config.upstream.rate_budget = RateBudgetSettings {
            rate: Some(0.5),
            queue_timeout: Duration::from_millis(300),
            ..RateBudgetSettings::default()
        };
    })
    .await;
    let http = reqwest::Client::new();
    assert!(matches!(
        post_one_call(http.clone(), addr).await,
        Outcome::Ok
    ));
    let refusals = async || {
        let text = reqwest::get(format!("http://{addr}/metrics"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        crate::ops::sample(
            &text,
            "complycube_graphql_upstream_rate_budget_refusals_total",
        )
    };
    let counted = refusals().await;
    // The next slot is 2 s away, beyond the 300 ms this call may wait: refused, not
    // served, which it would have been had it waited for the slot (no clock is read).
    let refused = post_one_call(http, addr).await;
    assert!(matches!(refused, Outcome::RateLimited(2)), "{refused:?}");
    assert_eq!(sim.request_count(), 1, "the refused call sent nothing");
    assert!(refusals().await > counted, "the refusal is counted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_spend_the_budget_too() {
    let _serial = SERIAL.lock().await;
    let (sim, sim_addr) = rate_limited_simulator(Some(TEST_KEY)).await;
    sim.add_fault(complycube_graphql::simulator::Fault {
        status: Some(503),
        times: Some(2),
        ..Default::default()
    });
    let addr = start_service(&format!("http://{sim_addr}/v1"), TEST_KEY, |config| {
        config.upstream.rate_budget = RateBudgetSettings {
            rate: Some(4.0),
            burst: Some(1),
            ..RateBudgetSettings::default()
        };
        config.upstream.retry.base_delay = Duration::from_millis(10);
    })
    .await;
    let outcome = post_one_call(reqwest::Client::new(), addr).await;
    assert!(matches!(outcome, Outcome::Ok), "{outcome:?}");
    let arrivals = arrivals_of(&sim, TEST_KEY);
    assert_eq!(arrivals.len(), 3, "two 503s, then the answer");
    // The backoff alone would resend within tens of milliseconds; the budget spaces the
    // attempts 250 ms apart (less what loopback's uneven delays take off).
    for pair in arrivals.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(gap >= Duration::from_millis(200), "attempts {gap:?} apart");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_on_one_redis_share_one_budget() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let _serial = SERIAL.lock().await;
    let (sim, sim_addr) = rate_limited_simulator(Some(TEST_KEY)).await;
    let base = format!("http://{sim_addr}/v1");
    let replicas = [
        start_service(&base, TEST_KEY, budget(Some(&redis))).await,
        start_service(&base, TEST_KEY, budget(Some(&redis))).await,
    ];
    let http = reqwest::Client::new();
    let samples = drive(3.0 * PLAN, Duration::from_secs(3), |i| {
        post_one_call(http.clone(), replicas[i % 2])
    })
    .await;
    assert_within_plan("two replicas, one Redis", &sim, TEST_KEY, &samples);
    // Each replica alone would have spent a whole plan: together they would be at twice it.
    let arrivals = arrivals_of(&sim, TEST_KEY);
    let span = (*arrivals.last().unwrap() - arrivals[0]).as_secs_f64();
    assert!(
        (arrivals.len() as f64) <= PLAN * span + f64::from(BURST) + JITTER_ALLOWANCE,
        "{} requests in {span:.2} s",
        arrivals.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_stopped_mid_run_the_replicas_fall_back_without_stalling() {
    let Some(mut redis) = RedisServer::start() else {
        return;
    };
    let _serial = SERIAL.lock().await;
    let (sim, sim_addr) = rate_limited_simulator(Some(TEST_KEY)).await;
    let base = format!("http://{sim_addr}/v1");
    let replicas = [
        start_service(&base, TEST_KEY, budget(Some(&redis))).await,
        start_service(&base, TEST_KEY, budget(Some(&redis))).await,
    ];
    let http = reqwest::Client::new();
    let stop_at = Duration::from_millis(1500);
    let stopper = tokio::task::spawn_blocking(move || {
        std::thread::sleep(stop_at);
        redis.stop();
        redis
    });
    let samples = drive(3.0 * PLAN, Duration::from_millis(3500), |i| {
        post_one_call(http.clone(), replicas[i % 2])
    })
    .await;
    let _redis = stopper.await.unwrap();
    assert_within_plan(
        "two replicas, Redis stopped at 1.5 s",
        &sim,
        TEST_KEY,
        &samples,
    );
    let after = samples
        .iter()
        .filter(|s| s.started > stop_at + QUEUE_TIMEOUT && matches!(s.outcome, Outcome::Ok))
        .count();
    assert!(after > 0, "no call succeeded on the fallback");
}

/// One replica's upstream client with the plan's budget on `redis`, with no key of its
/// own (forwarding mode: each session brings one).
fn forwarding_upstream(sim_addr: SocketAddr, redis: &RedisServer) -> Upstream {
    let mut settings = UpstreamSettings::new(format!("http://{sim_addr}/v1"), None);
    settings.rate_budget = RateBudgetSettings {
        rate: Some(PLAN),
        queue_timeout: QUEUE_TIMEOUT,
        ..RateBudgetSettings::default()
    };
    settings.redis_url = Some(RedisUrl::new(redis.url()));
    Upstream::new(&settings).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_keys_have_budgets_of_their_own() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let _serial = SERIAL.lock().await;
    // Any key is accepted; the limit is per Authorization value.
    let (sim, sim_addr) = rate_limited_simulator(None).await;
    let replicas = Arc::new([
        forwarding_upstream(sim_addr, &redis),
        forwarding_upstream(sim_addr, &redis),
    ]);
    let keys = ["sk_live_alpha-caller", "sk_live_beta-caller"];
    let photo = PhotoId::parse("5eb1b5f231778a0008d1c3f6").unwrap();
    // Three times the plan for each key, each key through both replicas.
    let samples = drive(6.0 * PLAN, Duration::from_secs(2), |i| {
        let replicas = replicas.clone();
        let photo = photo.clone();
        let key = ApiKey::new(keys[i % 2]);
        async move {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
            let session = Session::new(deadline, 10).with_key(key).unwrap();
            match replicas[(i / 2) % 2].live_photo(&photo, &session).await {
                Ok(Some(_)) => Outcome::Ok,
                Err(complycube_graphql::upstream::Error::Throttled { retry_after }) => {
                    Outcome::RateLimited(complycube_graphql::upstream::whole_seconds_up(
                        retry_after,
                    ))
                }
                other => Outcome::Other(format!("{other:?}")),
            }
        }
    })
    .await;
    let mut total = 0;
    for (k, key) in keys.iter().enumerate() {
        let own: Vec<Sample> = samples
            .iter()
            .enumerate()
            .filter(|(i, _)| i % 2 == k)
            .map(|(_, s)| s.clone())
            .collect();
        assert_within_plan(&format!("forwarded key {k}"), &sim, key, &own);
        total += arrivals_of(&sim, key).len();
    }
    // Together the keys made more requests than one budget allows: they did not share one.
    let times = sim.request_times();
    let span = (*times.iter().max().unwrap() - *times.iter().min().unwrap()).as_secs_f64();
    assert!(
        total as f64 > PLAN * span + f64::from(BURST) + JITTER_ALLOWANCE,
        "{total} requests in {span:.2} s: one budget for both keys?"
    );
}

fn redis_budget(redis: &RedisServer, rate: f64) -> RateBudget {
    RateBudget::new(
        &RateBudgetSettings {
            rate: Some(rate),
            ..RateBudgetSettings::default()
        },
        Some(&Redis::new(&RedisUrl::new(redis.url()), DEFAULT_REDIS_TIMEOUT).unwrap()),
    )
    .unwrap()
    .unwrap()
}

/// Acquires a slot (the queue timeout as the wait). The bound is a guard against a hang,
/// never a measurement: what a test asserts is where the slot came from (the budget's mode
/// and outage count), which no load on the machine can change.
async fn timed_acquire(budget: &RateBudget, key: KeyId) {
    let wait_until = tokio::time::Instant::now() + budget.queue_timeout();
    tokio::time::timeout(HANG_GUARD, budget.acquire(key, wait_until))
        .await
        .expect("a slot, or a refusal, not a hang")
        .unwrap();
}

/// Far beyond any wait the budget allows (its queue timeout, one Redis timeout).
const HANG_GUARD: Duration = Duration::from_secs(10);

#[tokio::test]
async fn the_budget_falls_back_when_redis_dies_and_goes_back_when_it_answers() {
    let Some(mut redis) = RedisServer::start() else {
        return;
    };
    let budget = redis_budget(&redis, 1000.0);
    let key = KeyId::of(Some(&ApiKey::new("sk_live_fallback")));
    timed_acquire(&budget, key).await;
    assert_eq!(budget.mode(), BudgetMode::Redis);

    redis.stop();
    timed_acquire(&budget, key).await;
    assert_eq!(budget.mode(), BudgetMode::Fallback);
    for _ in 0..20 {
        timed_acquire(&budget, key).await;
        assert_eq!(budget.mode(), BudgetMode::Fallback);
    }
    assert_eq!(budget.outages(), 1, "one outage, counted once");

    redis.restart();
    let start = Instant::now();
    while budget.mode() != BudgetMode::Redis {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "still in fallback {:?} after Redis came back",
            start.elapsed()
        );
        timed_acquire(&budget, key).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(budget.outages(), 1);
}

#[tokio::test]
async fn a_stuck_redis_costs_a_call_at_most_the_redis_timeout() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let budget = redis_budget(&redis, 1000.0);
    let key = KeyId::of(Some(&ApiKey::new("sk_live_stuck")));
    timed_acquire(&budget, key).await;
    redis.pause();
    timed_acquire(&budget, key).await;
    redis.resume();
    // The call asked Redis, heard nothing within the Redis timeout (the outage is
    // counted) and took a local slot instead of waiting on.
    assert_eq!(budget.mode(), BudgetMode::Fallback);
    assert_eq!(
        budget.outages(),
        1,
        "Redis was asked, and the silence counted"
    );
    // Thawed, it answers the next probe (within a second).
    let start = Instant::now();
    while budget.mode() != BudgetMode::Redis {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "still in fallback"
        );
        timed_acquire(&budget, key).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_redis_that_accepts_and_never_answers_costs_a_call_at_most_the_redis_timeout() {
    // A listener that takes connections and says nothing: no redis-server needed.
    let silent = listener().await;
    let url = format!("redis://{}/", silent.local_addr().unwrap());
    let accepting = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = silent.accept().await {
            held.push(stream);
        }
    });
    let budget = RateBudget::new(
        &RateBudgetSettings {
            rate: Some(1000.0),
            ..RateBudgetSettings::default()
        },
        Some(&Redis::new(&RedisUrl::new(url), DEFAULT_REDIS_TIMEOUT).unwrap()),
    )
    .unwrap()
    .unwrap();
    let key = KeyId::of(Some(&ApiKey::new("sk_live_silent")));
    for _ in 0..3 {
        timed_acquire(&budget, key).await;
        assert_eq!(budget.mode(), BudgetMode::Fallback);
    }
    assert_eq!(budget.outages(), 1);
    accepting.abort();
}

#[tokio::test]
async fn redis_holds_a_hash_of_the_key_never_the_key() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let budget = redis_budget(&redis, 10.0);
    let secret = "sk_live_never-in-redis-7f3a";
    let key = KeyId::of(Some(&ApiKey::new(secret)));
    timed_acquire(&budget, key).await;
    assert_eq!(budget.mode(), BudgetMode::Redis);
    let client = ::redis::Client::open(redis.url()).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    let names: Vec<String> = ::redis::cmd("KEYS")
        .arg("*")
        .query_async(&mut connection)
        .await
        .unwrap();
    assert_eq!(
        names,
        [redis_key(key)],
        "one budget, named by the key's hash"
    );
    let value: String = ::redis::cmd("GET")
        .arg(&names[0])
        .query_async(&mut connection)
        .await
        .unwrap();
    assert!(!value.contains(secret) && !names[0].contains(secret));
    let ttl: i64 = ::redis::cmd("PTTL")
        .arg(&names[0])
        .query_async(&mut connection)
        .await
        .unwrap();
    assert!(
        (1..=1000).contains(&ttl),
        "expires when the bucket is full again: {ttl} ms"
    );
}

#[tokio::test]
async fn the_simulator_limits_each_authorization_value() {
    let (sim, addr) = rate_limited_simulator(None).await;
    let http = reqwest::Client::new();
    let get = |key: &'static str| {
        http.get(format!("http://{addr}/v1/clients/5eb1276d96be4a0008713af5"))
            .header("authorization", key)
            .send()
    };
    // One second's worth and the jitter allowance pass at once; then refusals, until
    // time earns another request.
    let mut passed = 0;
    let refused = loop {
        let response = get("key-a").await.unwrap();
        match response.status().as_u16() {
            200 => passed += 1,
            429 => break response,
            other => panic!("status {other}"),
        }
        assert!(passed <= 20, "no limit");
    };
    assert!(passed >= 11, "{passed} passed");
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["type"], "rate_limit_exceeded");
    assert_eq!(get("key-b").await.unwrap().status(), 200, "keys are apart");
    assert!(sim.rate_limited_count() >= 1);
    sim.reset();
    assert_eq!(sim.rate_limited_count(), 0);
    assert_eq!(get("key-a").await.unwrap().status(), 200, "reset refills");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn back_on_redis_a_replica_gives_no_slot_before_those_it_booked_alone() {
    let Some(mut redis) = RedisServer::start() else {
        return;
    };
    let _serial = SERIAL.lock().await;
    // 10/s, burst 1; alone, half of it: a slot every 200 ms.
    let budget = Arc::new(
        RateBudget::new(
            &RateBudgetSettings {
                rate: Some(PLAN),
                burst: Some(1),
                queue_timeout: Duration::from_secs(3),
                ..RateBudgetSettings::default()
            },
            Some(&Redis::new(&RedisUrl::new(redis.url()), DEFAULT_REDIS_TIMEOUT).unwrap()),
        )
        .unwrap()
        .unwrap(),
    );
    let key = KeyId::of(Some(&ApiKey::new("sk_live_handover")));
    timed_acquire(&budget, key).await;
    redis.stop();
    // Fourteen calls book the fallback's slots up to 2.6 s ahead.
    let start = Instant::now();
    let alone: Vec<_> = (0..14)
        .map(|_| {
            let budget = budget.clone();
            tokio::spawn(async move {
                let wait_until = tokio::time::Instant::now() + budget.queue_timeout();
                budget.acquire(key, wait_until).await.unwrap();
                Instant::now()
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(budget.mode(), BudgetMode::Fallback);
    redis.restart();
    // Redis answers again; the first call to reach it is the probe, within a second. The
    // calls until then may not wait, so they book nothing alone.
    while budget.mode() != BudgetMode::Redis {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "Redis never came back"
        );
        let _ = budget
            .acquire(key, tokio::time::Instant::now() + Duration::from_millis(20))
            .await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        start.elapsed() < Duration::from_millis(2400),
        "back too late to tell"
    );
    timed_acquire(&budget, key).await;
    let back = Instant::now();
    let last_alone = join_all(alone)
        .await
        .into_iter()
        .map(Result::unwrap)
        .max()
        .unwrap();
    // Redis, whose bucket had long refilled, would have given a slot at once: the floor
    // put it after the last slot booked alone.
    assert!(
        back > last_alone,
        "a Redis slot {:?} after the start, before the last one booked alone ({:?})",
        back - start,
        last_alone - start
    );
}

/// A TCP proxy to `target` that holds every chunk `delay` in each direction: a Redis far
/// away.
async fn slow_proxy(target: u16, delay: Duration) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let proxy = listener().await;
    let addr = proxy.local_addr().unwrap();
    let task = tokio::spawn(async move {
        while let Ok((client, _)) = proxy.accept().await {
            let Ok(server) = tokio::net::TcpStream::connect(("127.0.0.1", target)).await else {
                continue;
            };
            // Only the delay: no Nagle's algorithm waiting on delayed acknowledgements.
            let _ = (client.set_nodelay(true), server.set_nodelay(true));
            let (client_read, client_write) = client.into_split();
            let (server_read, server_write) = server.into_split();
            for (mut from, mut to) in [(client_read, server_write), (server_read, client_write)] {
                tokio::spawn(async move {
                    let mut buffer = vec![0; 64 * 1024];
                    while let Ok(n @ 1..) = from.read(&mut buffer).await {
                        tokio::time::sleep(delay).await;
                        if to.write_all(&buffer[..n]).await.is_err() {
                            break;
                        }
                    }
                });
            }
        }
    });
    (addr, task)
}

#[tokio::test]
async fn a_far_redis_is_used_once_connected_although_connecting_takes_longer_than_a_call_may() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    // 40 ms a round trip: a call (one round trip) fits in 150 ms; connecting, finding the
    // script missing, loading it and calling again (four) would not, were it all done in
    // one call's time.
    let (proxy, task) = slow_proxy(redis.port(), Duration::from_millis(20)).await;
    let budget = RateBudget::new(
        &RateBudgetSettings {
            rate: Some(1000.0),
            ..RateBudgetSettings::default()
        },
        Some(
            &Redis::new(
                &RedisUrl::new(format!("redis://{proxy}/")),
                Duration::from_millis(150),
            )
            .unwrap(),
        ),
    )
    .unwrap()
    .unwrap();
    let key = KeyId::of(Some(&ApiKey::new("sk_live_far")));
    let start = Instant::now();
    loop {
        timed_acquire(&budget, key).await;
        if budget.mode() == BudgetMode::Redis {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(5), "never on Redis");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    task.abort();
}
