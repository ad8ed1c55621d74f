//! End-to-end load benchmark: the release binary as a service process, its simulator as
//! another, and this process as the load generator, all on loopback.
//!
//! Run: `cargo bench --bench load` (about 2 minutes). Settings by environment:
//! `LOAD_SECONDS` (per round, default 5), `LOAD_ROUNDS` (3), `LOAD_CONCURRENCY` (16),
//! `LOAD_RATE` (fixed-rate mode, requests/s, 1000), `LOAD_OUT` (where the markdown, JSON
//! and SVG go, default `benches/results`).
//!
//! Workloads (closed loop, fixed concurrency, each round alternating all of them):
//! - `floor`: the generator calling the simulator directly, `GET /v1/livePhotos?...&page=1&pageSize=20`;
//! - `W1`: one client, `first: 20`, every LivePhoto field plus pageInfo and totalCount;
//! - `W2`: ten aliases over ten clients, `first: 10` each;
//! - `W3`: the second page through an `after` cursor;
//! - `W4`: a JSON-array batch of five operations, two of them for the same client and window.
//!
//! Then W1 and the floor at a fixed rate (open loop: requests go out on schedule whatever
//! the answers do, so a stall is not hidden). CPU time and peak RSS come from the OS
//! (`/proc/<pid>/stat`, `/proc/<pid>/status`) for the service and simulator processes.

mod common;

use common::{histogram, machine, Process};
use std::{
    collections::BTreeMap,
    path::PathBuf,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use hdrhistogram::Histogram;
use serde_json::{json, Value};

const KEY: &str = "bench-key";
const BIG: &str = "5f1e0a3c9d2b4a0008a104e2";
const TEN_CLIENTS: [&str; 10] = [
    "5eb1276d96be4a0008713af5",
    "5f1e0a3c9d2b4a0008a10000",
    "5f1e0a3c9d2b4a0008a10003",
    "5f1e0a3c9d2b4a0008a10007",
    "5f1e0a3c9d2b4a0008a1000c",
    "5f1e0a3c9d2b4a0008a10025",
    "5f1e0a3c9d2b4a0008a104e2",
    "5f1e0a3c9d2b4a0008a10014",
    "5f1e0a3c9d2b4a0008a10032",
    "5f1e0a3c9d2b4a0008a10064",
];
const W1_QUERY: &str = r#"query W1($id: ID!, $after: String) {
  client(id: $id) {
    livePhotos(first: 20, after: $after) {
      totalCount
      pageInfo { hasPreviousPage hasNextPage startCursor endCursor }
      edges { cursor node { id clientId downloadLink contentType performLivenessCheck size createdAt updatedAt } }
    }
  }
}"#;

struct Settings {
    seconds: f64,
    rounds: usize,
    concurrency: usize,
    rate: u64,
    out: PathBuf,
}

impl Settings {
    fn from_env() -> Self {
        let var =
            |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.into());
        Self {
            seconds: var("LOAD_SECONDS", "5").parse().expect("LOAD_SECONDS"),
            rounds: var("LOAD_ROUNDS", "3").parse().expect("LOAD_ROUNDS"),
            concurrency: var("LOAD_CONCURRENCY", "16")
                .parse()
                .expect("LOAD_CONCURRENCY"),
            rate: var("LOAD_RATE", "1000").parse().expect("LOAD_RATE"),
            out: PathBuf::from(var(
                "LOAD_OUT",
                concat!(env!("CARGO_MANIFEST_DIR"), "/benches/results"),
            )),
        }
    }

    fn duration(&self) -> Duration {
        Duration::from_secs_f64(self.seconds)
    }
}

/// A child process that announced its address, killed on drop.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Workload {
    Floor,
    W1,
    W2,
    W3,
    W4,
}

impl Workload {
    const ALL: [Self; 5] = [Self::Floor, Self::W1, Self::W2, Self::W3, Self::W4];

    fn name(self) -> &'static str {
        match self {
            Self::Floor => "floor",
            Self::W1 => "W1",
            Self::W2 => "W2",
            Self::W3 => "W3",
            Self::W4 => "W4",
        }
    }

    fn what(self) -> &'static str {
        match self {
            Self::Floor => "REST direct to the simulator: page=1&pageSize=20",
            Self::W1 => "one client, first: 20, all fields, pageInfo, totalCount",
            Self::W2 => "ten aliases over ten clients, first: 10",
            Self::W3 => "second page through an `after` cursor",
            Self::W4 => "batch of five operations, two identical",
        }
    }

    /// The fewest upstream calls one request of this workload can cost.
    fn minimum_upstream_calls(self) -> f64 {
        match self {
            Self::Floor => 1.0,
            Self::W1 | Self::W3 => 1.0,
            Self::W2 => 10.0,
            Self::W4 => 4.0,
        }
    }
}

/// Everything needed to send any workload's request.
struct Target {
    http: reqwest::Client,
    service: String,
    /// `http://host:port` of the simulator.
    simulator_base: String,
    /// The floor's REST request.
    simulator: String,
    w1: Vec<u8>,
    w2: Vec<u8>,
    w3: Vec<u8>,
    w4: Vec<u8>,
}

impl Target {
    async fn new(service: &str, simulator: &str) -> Self {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(256)
            .build()
            .unwrap();
        let graphql =
            |query: &str, variables: Value| json!({ "query": query, "variables": variables });
        let w1 = graphql(W1_QUERY, json!({ "id": BIG }));
        let w2_fields: String = TEN_CLIENTS
            .iter()
            .enumerate()
            .map(|(i, c)| {
                format!(r#"c{i}: client(id: "{c}") {{ livePhotos(first: 10) {{ totalCount edges {{ cursor node {{ id size createdAt }} }} }} }} "#)
            })
            .collect();
        let w2 = graphql(&format!("query W2 {{ {w2_fields} }}"), json!({}));
        let first_page: Value = http
            .post(format!("http://{service}/graphql"))
            .json(&w1)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let cursor = first_page["data"]["client"]["livePhotos"]["pageInfo"]["endCursor"].clone();
        assert!(cursor.is_string(), "W1 works: {first_page}");
        let w3 = graphql(W1_QUERY, json!({ "id": BIG, "after": cursor }));
        let op = |c: &str| graphql(W1_QUERY, json!({ "id": c }));
        let w4 = json!([
            op(BIG),
            op(BIG),
            op(TEN_CLIENTS[5]),
            op(TEN_CLIENTS[8]),
            op(TEN_CLIENTS[9])
        ]);
        let bytes = |v: Value| serde_json::to_vec(&v).unwrap();
        Self {
            http,
            service: format!("http://{service}/graphql"),
            simulator_base: format!("http://{simulator}"),
            simulator: format!(
                "http://{simulator}/v1/livePhotos?clientId={BIG}&page=1&pageSize=20"
            ),
            w1: bytes(w1),
            w2: bytes(w2),
            w3: bytes(w3),
            w4: bytes(w4),
        }
    }

    /// Sends one request; `true` if it fully succeeded.
    async fn send(&self, workload: Workload) -> bool {
        let body = match workload {
            Workload::Floor => {
                let response = self
                    .http
                    .get(&self.simulator)
                    .header("authorization", KEY)
                    .send()
                    .await;
                return match response {
                    Ok(r) if r.status().is_success() => r.bytes().await.is_ok(),
                    _ => false,
                };
            }
            Workload::W1 => &self.w1,
            Workload::W2 => &self.w2,
            Workload::W3 => &self.w3,
            Workload::W4 => &self.w4,
        };
        let response = self
            .http
            .post(&self.service)
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await;
        match response {
            Ok(r) if r.status().is_success() => match r.bytes().await {
                Ok(bytes) => !bytes.windows(9).any(|w| w == b"\"errors\":"),
                Err(_) => false,
            },
            _ => false,
        }
    }
}

/// Latencies (µs) and counts of one run.
struct Run {
    requests: u64,
    failures: u64,
    elapsed: Duration,
    latency: Histogram<u64>,
}

/// `concurrency` workers sending back to back for `duration`.
async fn closed_loop(
    target: &Arc<Target>,
    workload: Workload,
    concurrency: usize,
    duration: Duration,
) -> Run {
    let started = Instant::now();
    let end = started + duration;
    let workers = (0..concurrency).map(|_| {
        let target = target.clone();
        tokio::spawn(async move {
            let mut latency = histogram();
            let (mut requests, mut failures) = (0u64, 0u64);
            while Instant::now() < end {
                let sent = Instant::now();
                let ok = target.send(workload).await;
                latency.saturating_record(sent.elapsed().as_micros() as u64);
                requests += 1;
                failures += u64::from(!ok);
            }
            (latency, requests, failures)
        })
    });
    let mut run = Run {
        requests: 0,
        failures: 0,
        elapsed: Duration::ZERO,
        latency: histogram(),
    };
    for worker in futures::future::join_all(workers).await {
        let (latency, requests, failures) = worker.unwrap();
        run.latency.add(latency).unwrap();
        run.requests += requests;
        run.failures += failures;
    }
    run.elapsed = started.elapsed();
    run
}

/// Requests started at a fixed rate whatever the answers do (open loop: a slow answer
/// never delays the next request, so stalls are not hidden). Latency counts from the
/// moment each request is sent: tokio's timer wakes the sender up to a millisecond after
/// the scheduled instant, and that lag belongs to the generator, not to what it measures.
async fn open_loop(target: &Arc<Target>, workload: Workload, rate: u64, duration: Duration) -> Run {
    let started = Instant::now();
    let total = (rate as f64 * duration.as_secs_f64()) as u64;
    let failures = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::with_capacity(total as usize);
    for i in 0..total {
        let scheduled = started + Duration::from_secs_f64(i as f64 / rate as f64);
        tokio::time::sleep_until(scheduled.into()).await;
        let target = target.clone();
        let failures = failures.clone();
        tasks.push(tokio::spawn(async move {
            let sent = Instant::now();
            let ok = target.send(workload).await;
            failures.fetch_add(u64::from(!ok), Ordering::Relaxed);
            sent.elapsed().as_micros() as u64
        }));
    }
    let mut latency = histogram();
    for task in tasks {
        latency.saturating_record(task.await.unwrap());
    }
    Run {
        requests: total,
        failures: failures.load(Ordering::Relaxed),
        elapsed: started.elapsed(),
        latency,
    }
}

/// One measured round of one workload.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct Round {
    requests_per_second: f64,
    p50_ms: f64,
    p90_ms: f64,
    p99_ms: f64,
    p999_ms: f64,
    max_ms: f64,
    failures: u64,
    service_cpu_s_per_1000: f64,
    simulator_cpu_s_per_1000: f64,
    upstream_calls_per_request: f64,
}

/// Requests the simulator served under `/v1` since the last reset.
async fn upstream_count(target: &Target) -> u64 {
    let stats: Value = target
        .http
        .get(format!("{}/_simulator/requests", target.simulator_base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    stats["count"].as_u64().unwrap()
}

async fn reset(target: &Target) {
    let url = format!("{}/_simulator/reset", target.simulator_base);
    target.http.post(url).send().await.unwrap();
}

async fn measure(
    target: &Arc<Target>,
    service: &Process,
    simulator: &Process,
    workload: Workload,
    run: impl std::future::Future<Output = Run>,
) -> Round {
    reset(target).await;
    let (service_cpu, simulator_cpu) = (service.cpu_seconds(), simulator.cpu_seconds());
    let run = run.await;
    let service_cpu = service.cpu_seconds() - service_cpu;
    let simulator_cpu = simulator.cpu_seconds() - simulator_cpu;
    let upstream = upstream_count(target).await;
    let per_1000 = |cpu: f64| cpu / run.requests.max(1) as f64 * 1000.0;
    let ms = |q: f64| run.latency.value_at_quantile(q) as f64 / 1000.0;
    Round {
        requests_per_second: run.requests as f64 / run.elapsed.as_secs_f64(),
        p50_ms: ms(0.5),
        p90_ms: ms(0.9),
        p99_ms: ms(0.99),
        p999_ms: ms(0.999),
        max_ms: run.latency.max() as f64 / 1000.0,
        failures: run.failures,
        service_cpu_s_per_1000: if workload == Workload::Floor {
            0.0
        } else {
            per_1000(service_cpu)
        },
        simulator_cpu_s_per_1000: per_1000(simulator_cpu),
        upstream_calls_per_request: upstream as f64 / run.requests.max(1) as f64,
    }
}

/// The median of each field across rounds.
fn median(rounds: &[Round]) -> Round {
    let pick = |f: fn(&Round) -> f64| {
        let mut v: Vec<f64> = rounds.iter().map(f).collect();
        v.sort_by(|a, b| a.total_cmp(b));
        v[v.len() / 2]
    };
    Round {
        requests_per_second: pick(|r| r.requests_per_second),
        p50_ms: pick(|r| r.p50_ms),
        p90_ms: pick(|r| r.p90_ms),
        p99_ms: pick(|r| r.p99_ms),
        p999_ms: pick(|r| r.p999_ms),
        max_ms: pick(|r| r.max_ms),
        failures: rounds.iter().map(|r| r.failures).sum(),
        service_cpu_s_per_1000: pick(|r| r.service_cpu_s_per_1000),
        simulator_cpu_s_per_1000: pick(|r| r.simulator_cpu_s_per_1000),
        upstream_calls_per_request: pick(|r| r.upstream_calls_per_request),
    }
}

fn main() {
    let settings = Settings::from_env();
    if std::env::var_os("LOAD_CHART_ONLY").is_some() {
        return redraw_chart(&settings);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run(settings));
}

async fn run(settings: Settings) {
    let simulator = Process::start(
        &["simulate", "--listen", "127.0.0.1:0", "--api-key", KEY],
        "simulator on http://",
    );
    let upstream = format!("http://{}/v1", simulator.addr);
    let service = Process::start(
        &[
            "--listen",
            "127.0.0.1:0",
            "--upstream-url",
            &upstream,
            "--api-key",
            KEY,
            // Loopback only, and the simulator's key: nothing to protect.
            "--allow-unauthenticated",
            "--max-upstream-calls",
            "128",
        ],
        "GraphQL on http://",
    );
    let target = Arc::new(Target::new(&service.addr, &simulator.addr).await);
    let duration = settings.duration();
    eprintln!(
        "load: {} rounds of {:?} per workload at concurrency {}, then {} req/s fixed rate",
        settings.rounds, duration, settings.concurrency, settings.rate
    );

    // Warm-up: connections, allocator, caches.
    for workload in Workload::ALL {
        closed_loop(
            &target,
            workload,
            settings.concurrency,
            Duration::from_secs(1),
        )
        .await;
    }

    let mut rounds: BTreeMap<Workload, Vec<Round>> = BTreeMap::new();
    for round in 0..settings.rounds {
        // Alternate the order between rounds, so drift does not favour one workload.
        let mut order = Workload::ALL.to_vec();
        order.rotate_left(round % Workload::ALL.len());
        for workload in order {
            let run = closed_loop(&target, workload, settings.concurrency, duration);
            let result = measure(&target, &service, &simulator, workload, run).await;
            eprintln!(
                "  round {} {:5}: {:8.0} req/s, p99 {:.2} ms",
                round + 1,
                workload.name(),
                result.requests_per_second,
                result.p99_ms
            );
            rounds.entry(workload).or_default().push(result);
        }
    }
    let mut fixed: BTreeMap<Workload, Vec<Round>> = BTreeMap::new();
    for round in 0..settings.rounds {
        for workload in if round % 2 == 0 {
            [Workload::W1, Workload::Floor]
        } else {
            [Workload::Floor, Workload::W1]
        } {
            let run = open_loop(&target, workload, settings.rate, duration);
            let result = measure(&target, &service, &simulator, workload, run).await;
            eprintln!(
                "  fixed {} {:5}: p50 {:.2} ms, p99 {:.2} ms",
                round + 1,
                workload.name(),
                result.p50_ms,
                result.p99_ms
            );
            fixed.entry(workload).or_default().push(result);
        }
    }
    let peak_rss = service.peak_rss_mib();
    let medians: BTreeMap<Workload, Round> = rounds.iter().map(|(w, r)| (*w, median(r))).collect();
    let fixed_medians: BTreeMap<Workload, Round> =
        fixed.iter().map(|(w, r)| (*w, median(r))).collect();
    report(&settings, &medians, &fixed_medians, peak_rss);
}

fn report(
    settings: &Settings,
    medians: &BTreeMap<Workload, Round>,
    fixed: &BTreeMap<Workload, Round>,
    peak_rss: f64,
) {
    let floor = &medians[&Workload::Floor];
    let w1 = &medians[&Workload::W1];
    let mut md = String::new();
    md.push_str(&format!(
        "Machine: {}. {} rounds of {} s per workload, concurrency {}, medians across rounds.\n\n",
        machine(),
        settings.rounds,
        settings.seconds,
        settings.concurrency
    ));
    md.push_str("| workload | what | req/s | p50 ms | p99 ms | max ms | service CPU s / 1000 req | upstream calls / req (minimum) | req/s vs floor | p99 vs floor |\n");
    md.push_str("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (workload, r) in medians {
        let cpu = if *workload == Workload::Floor {
            format!("simulator: {:.3}", r.simulator_cpu_s_per_1000)
        } else {
            format!("{:.3}", r.service_cpu_s_per_1000)
        };
        md.push_str(&format!(
            "| {} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {} | {:.2} ({}) | {:.2} | {:.2} |\n",
            workload.name(),
            workload.what(),
            r.requests_per_second,
            r.p50_ms,
            r.p99_ms,
            r.max_ms,
            cpu,
            r.upstream_calls_per_request,
            workload.minimum_upstream_calls(),
            r.requests_per_second / floor.requests_per_second,
            r.p99_ms / floor.p99_ms,
        ));
    }
    let (fw1, ffloor) = (&fixed[&Workload::W1], &fixed[&Workload::Floor]);
    md.push_str(&format!(
        "\nFixed rate, {} req/s open loop: floor p50 {:.2} ms, p99 {:.2} ms; W1 p50 {:.2} ms, p99 {:.2} ms; added p99 {:.2} ms.\n",
        settings.rate, ffloor.p50_ms, ffloor.p99_ms, fw1.p50_ms, fw1.p99_ms, fw1.p99_ms - ffloor.p99_ms
    ));
    md.push_str(&format!("Peak RSS of the service: {peak_rss:.1} MiB.\n\n"));

    let mut checks: Vec<(String, bool)> = vec![
        (
            format!(
                "W1 throughput {:.0} >= floor/8 = {:.0} req/s",
                w1.requests_per_second,
                floor.requests_per_second / 8.0
            ),
            w1.requests_per_second >= floor.requests_per_second / 8.0,
        ),
        (
            format!(
                "W1 service CPU {:.3} ms/req <= 10 x simulator CPU per REST request ({:.3} ms)",
                w1.service_cpu_s_per_1000,
                10.0 * floor.simulator_cpu_s_per_1000
            ),
            w1.service_cpu_s_per_1000 <= 10.0 * floor.simulator_cpu_s_per_1000,
        ),
        (
            format!(
                "W1 at {} req/s adds {:.2} ms to the floor's p99 (<= 1 ms)",
                settings.rate,
                fw1.p99_ms - ffloor.p99_ms
            ),
            fw1.p99_ms - ffloor.p99_ms <= 1.0,
        ),
        (
            format!(
                "W2 CPU {:.3} ms/req <= 5 x W1's ({:.3} ms)",
                medians[&Workload::W2].service_cpu_s_per_1000,
                5.0 * w1.service_cpu_s_per_1000
            ),
            medians[&Workload::W2].service_cpu_s_per_1000 <= 5.0 * w1.service_cpu_s_per_1000,
        ),
        (
            format!("peak RSS {peak_rss:.1} MiB < 40 MiB"),
            peak_rss < 40.0,
        ),
    ];
    for (workload, r) in medians {
        checks.push((
            format!(
                "{} upstream calls per request {:.2} = minimum {}",
                workload.name(),
                r.upstream_calls_per_request,
                workload.minimum_upstream_calls()
            ),
            (r.upstream_calls_per_request - workload.minimum_upstream_calls()).abs() < 0.01,
        ));
    }
    let failures: u64 = medians
        .values()
        .chain(fixed.values())
        .map(|r| r.failures)
        .sum();
    checks.push((format!("{failures} failed requests"), failures == 0));
    md.push_str("| target | met |\n|---|---|\n");
    for (what, ok) in &checks {
        md.push_str(&format!(
            "| {what} | {} |\n",
            if *ok { "yes" } else { "**no**" }
        ));
    }

    std::fs::create_dir_all(&settings.out).unwrap();
    std::fs::write(settings.out.join("load.md"), &md).unwrap();
    let json = json!({
        "machine": machine(),
        "settings": { "seconds": settings.seconds, "rounds": settings.rounds, "concurrency": settings.concurrency, "rate": settings.rate },
        "closed_loop": medians.iter().map(|(w, r)| (w.name(), r.clone())).collect::<BTreeMap<_, _>>(),
        "fixed_rate": fixed.iter().map(|(w, r)| (w.name(), r.clone())).collect::<BTreeMap<_, _>>(),
        "peak_rss_mib": peak_rss,
        "targets": checks.iter().map(|(what, ok)| json!({ "target": what, "met": ok })).collect::<Vec<_>>(),
    });
    std::fs::write(
        settings.out.join("load.json"),
        serde_json::to_string_pretty(&json).unwrap(),
    )
    .unwrap();
    chart(
        &settings.out.join("latency.svg"),
        medians,
        fixed,
        settings.rate,
    );
    println!("{md}");
    eprintln!(
        "wrote {}/load.md, load.json, latency.svg",
        settings.out.display()
    );
}

/// `LOAD_CHART_ONLY=1`: draws `latency.svg` again from `load.json`, without measuring.
fn redraw_chart(settings: &Settings) {
    let json: Value =
        serde_json::from_slice(&std::fs::read(settings.out.join("load.json")).unwrap()).unwrap();
    let series = |key: &str| -> BTreeMap<Workload, Round> {
        Workload::ALL
            .iter()
            .filter_map(|w| {
                let round = json[key].get(w.name())?.clone();
                Some((*w, serde_json::from_value(round).unwrap()))
            })
            .collect()
    };
    let rate = json["settings"]["rate"].as_u64().unwrap_or(settings.rate);
    chart(
        &settings.out.join("latency.svg"),
        &series("closed_loop"),
        &series("fixed_rate"),
        rate,
    );
}

/// Latency percentiles per workload against the floor, closed loop and at the fixed rate,
/// as an SVG line chart.
fn chart(
    path: &std::path::Path,
    medians: &BTreeMap<Workload, Round>,
    fixed: &BTreeMap<Workload, Round>,
    rate: u64,
) {
    use plotters::prelude::*;
    let percentiles = ["p50", "p90", "p99", "p99.9"];
    let values = |r: &Round| [r.p50_ms, r.p90_ms, r.p99_ms, r.p999_ms];
    let top = medians
        .values()
        .chain(fixed.values())
        .flat_map(values)
        .fold(0.0f64, f64::max)
        * 20.0; // a decade above the highest line, for the legend
    let root = SVGBackend::new(path, (800, 480)).into_drawing_area();
    root.fill(&WHITE).unwrap();
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Latency percentiles, ms, log scale: concurrency 16 (thick) and a fixed rate (thin)",
            ("sans-serif", 18),
        )
        .margin(16)
        .x_label_area_size(36)
        .y_label_area_size(56)
        .build_cartesian_2d(0usize..3usize, (0.05f64..top).log_scale())
        .unwrap();
    chart
        .configure_mesh()
        .x_labels(4)
        .x_label_formatter(&|i| percentiles.get(*i).copied().unwrap_or("").to_owned())
        .y_desc("ms")
        .y_label_formatter(&|v| format!("{v}"))
        .draw()
        .unwrap();
    let colors = [BLACK, BLUE, RED, GREEN, MAGENTA];
    for (i, (workload, r)) in medians.iter().enumerate() {
        let color = colors[i % colors.len()];
        let points: Vec<(usize, f64)> = values(r).into_iter().enumerate().collect();
        let style = if *workload == Workload::Floor {
            color.stroke_width(3)
        } else {
            color.stroke_width(2)
        };
        chart
            .draw_series(LineSeries::new(points.clone(), style))
            .unwrap()
            .label(format!("{} ({})", workload.name(), workload.what()))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
        chart
            .draw_series(
                points
                    .into_iter()
                    .map(|p| Circle::new(p, 3, color.filled())),
            )
            .unwrap();
    }
    for (workload, r) in fixed {
        let color = if *workload == Workload::Floor {
            BLACK
        } else {
            BLUE
        };
        let faded = color.mix(0.5);
        let points: Vec<(usize, f64)> = values(r).into_iter().enumerate().collect();
        chart
            .draw_series(LineSeries::new(points.clone(), faded.stroke_width(1)))
            .unwrap()
            .label(format!("{} at a fixed {rate} req/s", workload.name()))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], faded.stroke_width(1))
            });
        chart
            .draw_series(
                points
                    .into_iter()
                    .map(|p| TriangleMarker::new(p, 4, faded.filled())),
            )
            .unwrap();
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .unwrap();
    root.present().unwrap();
}
