//! Cache benchmark: the upstream calls and the latency that `--cache-ttl` saves on a
//! realistic mix of frontend queries, against ComplyCube with a realistic latency.
//!
//! Run: `cargo bench --bench cache` (a few seconds once built). Settings by
//! environment: `CACHE_BENCH_SESSIONS` (user sessions, default 40), `CACHE_BENCH_USERS`
//! (concurrent users, 4), `CACHE_BENCH_LATENCY_MS` (upstream latency, 40, plus up to
//! `CACHE_BENCH_JITTER_MS`, 20, of jitter), `CACHE_BENCH_SEED` (7), `CACHE_BENCH_OUT`
//! (where `cache.md`, `cache.json` and `cache.svg` go, default `benches/results`);
//! `CACHE_BENCH_VERBOSE=1` also prints every query's latency on both services.
//!
//! In this process: the simulator, slowed by a latency fault, and two services on it, one
//! without cache and one with `--cache-ttl 60s`, both started cold. The same scripted
//! sessions run against one service, then the other; the simulator's counters are reset
//! (and its latency fault added again) in between. Kinds of session:
//! - `scroll`: open a client (details and its first 10 photos' metadata), then up to 4 more
//!   pages forward by `after` cursor;
//! - `back`: from the last page the user scrolled to, up to 3 pages back by `last`/`before`;
//! - `reopen`: a client the user opened before, the same queries again;
//! - `photo`: a photo from a list the user has seen, `livePhoto(id) { download { dataUrl }
//!   client { entityName } }`.
//!
//! Sessions run in waves: in each wave every user runs one session of the wave's kind, all
//! users at once (`scroll`, `back`, `photo`, `reopen`, and again). The simulator's counter
//! is read between waves, which attributes every upstream call to a kind exactly. Which
//! client or photo a user picks is drawn from a seeded generator per user and depends only
//! on what that user saw, so both services get the same queries; their `data` must be
//! identical, query by query, or the benchmark fails.

mod common;

use common::{histogram, machine};
use std::{
    collections::BTreeMap,
    net::SocketAddr,
    path::{Path, PathBuf},
    str::FromStr,
    time::{Duration, Instant},
};

use complycube_graphql::{
    simulator::{data, Fault, Simulator, SimulatorSettings},
    upstream::{ApiKey, UpstreamSettings},
    ServiceConfig,
};
use hdrhistogram::Histogram;
use rand::{rngs::StdRng, Rng, SeedableRng};
use serde_json::{json, Value};
use tokio::net::TcpListener;

const KEY: &str = "cache-bench-key";
/// What `--cache-ttl 60s` sets; a whole run takes far less.
const CACHE_TTL: Duration = Duration::from_secs(60);
/// Photos per page, as a frontend's grid shows them.
const PAGE_SIZE: u64 = 10;
/// Pages forward after the first, in `scroll` and `reopen`.
const FORWARD_PAGES: usize = 4;
/// Pages back, in `back`.
const BACK_PAGES: usize = 3;

macro_rules! thumbs {
    () => {
        r#"
fragment Thumbs on LivePhotoConnection {
  totalCount
  pageInfo { hasPreviousPage hasNextPage startCursor endCursor }
  edges { cursor node { id contentType size createdAt downloadLink } }
}"#
    };
}

const OPEN_QUERY: &str = concat!(
    r#"query Open($id: ID!) {
  client(id: $id) {
    id type entityName email joinedDate
    personDetails { firstName lastName nationality }
    companyDetails { name incorporationCountry }
    livePhotos(first: 10) { ...Thumbs }
  }
}"#,
    thumbs!()
);

const PAGE_QUERY: &str = concat!(
    r#"query Page($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {
  client(id: $id) {
    livePhotos(first: $first, after: $after, last: $last, before: $before) { ...Thumbs }
  }
}"#,
    thumbs!()
);

const PHOTO_QUERY: &str =
    "query Photo($id: ID!) { livePhoto(id: $id) { download { dataUrl } client { entityName } } }";

struct Settings {
    sessions: usize,
    users: usize,
    latency_ms: u64,
    jitter_ms: u64,
    seed: u64,
    out: PathBuf,
}

fn env_or<T: FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v} does not parse")),
        Err(_) => default,
    }
}

impl Settings {
    fn from_env() -> Self {
        Self {
            sessions: env_or("CACHE_BENCH_SESSIONS", 40),
            users: env_or::<usize>("CACHE_BENCH_USERS", 4).max(1),
            latency_ms: env_or("CACHE_BENCH_LATENCY_MS", 40),
            jitter_ms: env_or("CACHE_BENCH_JITTER_MS", 20),
            seed: env_or("CACHE_BENCH_SEED", 7),
            out: PathBuf::from(env_or("CACHE_BENCH_OUT", "benches/results".to_owned())),
        }
    }

    fn waves(&self) -> usize {
        self.sessions.div_ceil(self.users)
    }

    /// The latency every upstream answer gets.
    fn latency_fault(&self) -> Fault {
        Fault {
            delay_ms: Some(self.latency_ms),
            jitter_ms: Some(self.jitter_ms),
            ..Fault::default()
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Scroll,
    Back,
    Reopen,
    Photo,
}

impl Kind {
    const ALL: [Kind; 4] = [Kind::Scroll, Kind::Back, Kind::Reopen, Kind::Photo];
    /// The kinds of successive waves, round and round: back after a scroll, and a reopen
    /// some time after the first open.
    const SCHEDULE: [Kind; 4] = [Kind::Scroll, Kind::Back, Kind::Photo, Kind::Reopen];

    fn name(self) -> &'static str {
        match self {
            Kind::Scroll => "scroll",
            Kind::Back => "back",
            Kind::Reopen => "reopen",
            Kind::Photo => "photo",
        }
    }

    fn what(self) -> &'static str {
        match self {
            Kind::Scroll => "open a client (details, 10 photos), 4 pages forward by `after`",
            Kind::Back => "from the last page, 3 pages back by `last`/`before`",
            Kind::Reopen => "a client opened before: the same queries again",
            Kind::Photo => "`livePhoto(id)` with `download` and `client`, from a list seen",
        }
    }
}

/// The demo clients and their photo counts, the documented one first.
fn clients() -> Vec<(&'static str, u32)> {
    let mut all = vec![(data::DOCUMENTED_CLIENT, 1)];
    all.extend_from_slice(data::DEMO_CLIENTS);
    all
}

/// One GraphQL service under test, and how to ask it.
struct Target {
    name: &'static str,
    url: String,
    http: reqwest::Client,
}

/// One query's answer, as both services must give it.
struct Answer {
    label: String,
    data: Value,
    latency: Duration,
}

impl Target {
    fn new(name: &'static str, addr: SocketAddr) -> Self {
        Self {
            name,
            url: format!("http://{addr}/graphql"),
            http: reqwest::Client::new(),
        }
    }

    /// Runs one query, keeps its answer in `out` and returns its `data`; any error fails
    /// the benchmark.
    async fn ask(&self, query: &str, variables: Value, out: &mut Vec<Answer>) -> Value {
        let sent = Instant::now();
        let response = self
            .http
            .post(&self.url)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        let latency = sent.elapsed();
        assert!(
            status.is_success() && body.get("errors").is_none(),
            "{}: {status} {body}",
            self.name
        );
        let operation = query.split(['(', ' ']).nth(1).unwrap_or("?");
        out.push(Answer {
            label: format!("{operation} {variables}"),
            data: body["data"].clone(),
            latency,
        });
        body["data"].clone()
    }
}

/// Where a user stopped scrolling: the start of a page that has pages before it.
struct Position {
    client: &'static str,
    start_cursor: Value,
}

/// One scripted user: what it opened and saw decides what it does next.
struct User {
    rng: StdRng,
    opened: Vec<&'static str>,
    seen_photos: Vec<String>,
    position: Option<Position>,
}

impl User {
    fn new(seed: u64, index: usize) -> Self {
        Self {
            rng: StdRng::seed_from_u64(seed.wrapping_mul(1_000_003).wrapping_add(index as u64)),
            opened: Vec::new(),
            seen_photos: Vec::new(),
            position: None,
        }
    }

    async fn session(&mut self, kind: Kind, target: &Target) -> Vec<Answer> {
        let mut out = Vec::new();
        match kind {
            Kind::Scroll => {
                let client = self.pick_new_client();
                if !self.opened.contains(&client) {
                    self.opened.push(client);
                }
                self.scroll(target, client, &mut out).await;
            }
            Kind::Reopen => {
                let client = self.opened[self.rng.random_range(0..self.opened.len())];
                self.scroll(target, client, &mut out).await;
            }
            Kind::Back => self.back(target, &mut out).await,
            Kind::Photo => self.open_photo(target, &mut out).await,
        }
        out
    }

    /// A client this user has not opened; the first one has more than one page, so the
    /// user has somewhere to go back from.
    fn pick_new_client(&mut self) -> &'static str {
        let candidates: Vec<&'static str> = clients()
            .into_iter()
            .filter(|(id, count)| {
                !self.opened.contains(id)
                    && (!self.opened.is_empty() || u64::from(*count) > PAGE_SIZE)
            })
            .map(|(id, _)| id)
            .collect();
        if candidates.is_empty() {
            return self.opened[self.rng.random_range(0..self.opened.len())];
        }
        candidates[self.rng.random_range(0..candidates.len())]
    }

    /// Opens `client`, then pages forward while there is a next page.
    async fn scroll(&mut self, target: &Target, client: &'static str, out: &mut Vec<Answer>) {
        let open = target.ask(OPEN_QUERY, json!({ "id": client }), out).await;
        let mut page = self.saw(&open);
        for _ in 0..FORWARD_PAGES {
            if page["pageInfo"]["hasNextPage"] != true {
                break;
            }
            let variables =
                json!({ "id": client, "first": PAGE_SIZE, "after": page["pageInfo"]["endCursor"] });
            page = self.saw(&target.ask(PAGE_QUERY, variables, out).await);
        }
        if page["pageInfo"]["hasPreviousPage"] == true {
            self.position = Some(Position {
                client,
                start_cursor: page["pageInfo"]["startCursor"].clone(),
            });
        }
    }

    /// From where the user stopped scrolling, pages back while there is a previous page.
    async fn back(&mut self, target: &Target, out: &mut Vec<Answer>) {
        let Some(Position {
            client,
            start_cursor,
        }) = &self.position
        else {
            return;
        };
        let (client, mut cursor) = (*client, start_cursor.clone());
        for _ in 0..BACK_PAGES {
            let variables = json!({ "id": client, "last": PAGE_SIZE, "before": cursor });
            let page = self.saw(&target.ask(PAGE_QUERY, variables, out).await);
            if page["pageInfo"]["hasPreviousPage"] != true {
                break;
            }
            cursor = page["pageInfo"]["startCursor"].clone();
        }
    }

    async fn open_photo(&mut self, target: &Target, out: &mut Vec<Answer>) {
        if self.seen_photos.is_empty() {
            return;
        }
        let id = &self.seen_photos[self.rng.random_range(0..self.seen_photos.len())];
        target.ask(PHOTO_QUERY, json!({ "id": id }), out).await;
    }

    /// Notes the photos of a page's answer; returns the page.
    fn saw(&mut self, data: &Value) -> Value {
        let page = data["client"]["livePhotos"].clone();
        for edge in page["edges"].as_array().into_iter().flatten() {
            let id = edge["node"]["id"].as_str().unwrap().to_owned();
            if !self.seen_photos.contains(&id) {
                self.seen_photos.push(id);
            }
        }
        page
    }
}

/// What one service did with the whole script.
struct Run {
    sessions: BTreeMap<Kind, u64>,
    calls: BTreeMap<Kind, u64>,
    /// Per-query latency, µs.
    latency: BTreeMap<Kind, Histogram<u64>>,
    answers: Vec<Answer>,
    elapsed: Duration,
}

impl Run {
    fn new() -> Self {
        Self {
            sessions: Kind::ALL.iter().map(|k| (*k, 0)).collect(),
            calls: Kind::ALL.iter().map(|k| (*k, 0)).collect(),
            latency: Kind::ALL.iter().map(|k| (*k, histogram())).collect(),
            answers: Vec::new(),
            elapsed: Duration::ZERO,
        }
    }

    fn record(&mut self, kind: Kind, wave: usize, user: usize, answers: Vec<Answer>) {
        *self.sessions.get_mut(&kind).unwrap() += 1;
        let latency = self.latency.get_mut(&kind).unwrap();
        for mut answer in answers {
            latency.saturating_record(answer.latency.as_micros() as u64);
            answer.label = format!(
                "wave {wave}, user {user}, {}: {}",
                kind.name(),
                answer.label
            );
            self.answers.push(answer);
        }
    }

    fn queries(&self, kind: Kind) -> u64 {
        self.latency[&kind].len()
    }
}

/// Runs the whole script against `target`, from fresh simulator counts.
async fn run_script(settings: &Settings, simulator: &Simulator, target: &Target) -> Run {
    simulator.reset();
    simulator.add_fault(settings.latency_fault());
    let mut users: Vec<User> = (0..settings.users)
        .map(|u| User::new(settings.seed, u))
        .collect();
    let mut run = Run::new();
    let started = Instant::now();
    for wave in 0..settings.waves() {
        let kind = Kind::SCHEDULE[wave % Kind::SCHEDULE.len()];
        let in_wave = (settings.sessions - wave * settings.users).min(settings.users);
        let before = simulator.request_count();
        let sessions = users
            .iter_mut()
            .take(in_wave)
            .map(|user| user.session(kind, target));
        let results = futures::future::join_all(sessions).await;
        *run.calls.get_mut(&kind).unwrap() += simulator.request_count() - before;
        for (user, answers) in results.into_iter().enumerate() {
            run.record(kind, wave, user, answers);
        }
    }
    run.elapsed = started.elapsed();
    eprintln!(
        "  {}: {} queries, {} upstream calls, {:.1} s",
        target.name,
        run.answers.len(),
        run.calls.values().sum::<u64>(),
        run.elapsed.as_secs_f64()
    );
    run
}

/// Fails loudly unless both services gave the same `data` to every query.
fn assert_same_answers(without: &Run, with: &Run) {
    assert_eq!(
        without.answers.len(),
        with.answers.len(),
        "the two runs asked different numbers of queries"
    );
    for (a, b) in without.answers.iter().zip(&with.answers) {
        assert_eq!(a.label, b.label, "the two runs' scripts diverged");
        assert!(
            a.data == b.data,
            "the cache changed an answer: {}\nwithout cache: {}\nwith cache:    {}",
            a.label,
            a.data,
            b.data
        );
    }
}

/// Every query's latency without and with cache, in script order.
fn print_queries(without: &Run, with: &Run) {
    eprintln!("  ms without, ms with, query");
    for (a, b) in without.answers.iter().zip(&with.answers) {
        let label: String = a.label.chars().take(120).collect();
        eprintln!(
            "{:7.1} {:7.1}  {label}",
            a.latency.as_secs_f64() * 1e3,
            b.latency.as_secs_f64() * 1e3
        );
    }
}

async fn start_simulator() -> (Simulator, SocketAddr) {
    let simulator = Simulator::new(SimulatorSettings {
        api_key: Some(ApiKey::new(KEY)),
        ..SimulatorSettings::default()
    });
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = simulator.clone().spawn(listener).await.unwrap();
    (simulator, addr)
}

async fn start_service(simulator: SocketAddr, cache_ttl: Option<Duration>) -> SocketAddr {
    let upstream = UpstreamSettings::new(format!("http://{simulator}/v1"), Some(ApiKey::new(KEY)));
    let mut config = ServiceConfig::new(upstream);
    config.upstream.cache.ttl = cache_ttl;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    complycube_graphql::start(listener, &config, std::future::pending())
        .await
        .unwrap()
}

fn main() {
    let settings = Settings::from_env();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run(settings));
}

async fn run(settings: Settings) {
    let (simulator, simulator_addr) = start_simulator().await;
    let without = Target::new("without cache", start_service(simulator_addr, None).await);
    let with = Target::new(
        "with cache",
        start_service(simulator_addr, Some(CACHE_TTL)).await,
    );
    eprintln!(
        "cache: {} sessions by {} users in {} waves, upstream latency {} ms + up to {} ms",
        settings.sessions,
        settings.users,
        settings.waves(),
        settings.latency_ms,
        settings.jitter_ms
    );
    let run_without = run_script(&settings, &simulator, &without).await;
    let run_with = run_script(&settings, &simulator, &with).await;
    assert_same_answers(&run_without, &run_with);
    if std::env::var_os("CACHE_BENCH_VERBOSE").is_some() {
        print_queries(&run_without, &run_with);
    }
    report(&settings, &run_without, &run_with);
}

/// One line of the results: a kind, or every kind together.
#[derive(serde::Serialize)]
struct Row {
    kind: &'static str,
    sessions: u64,
    queries: u64,
    calls_without: u64,
    calls_with: u64,
    saved_percent: f64,
    p50_ms: [f64; 2],
    p95_ms: [f64; 2],
    p99_ms: [f64; 2],
}

fn ms(histogram: &Histogram<u64>, quantile: f64) -> f64 {
    histogram.value_at_quantile(quantile) as f64 / 1000.0
}

fn row(kind: &'static str, kinds: &[Kind], without: &Run, with: &Run) -> Row {
    let sum = |run: &Run, f: &dyn Fn(&Run, Kind) -> u64| kinds.iter().map(|k| f(run, *k)).sum();
    let merged = |run: &Run| {
        let mut all = histogram();
        for k in kinds {
            all.add(&run.latency[k]).unwrap();
        }
        all
    };
    let (calls_without, calls_with): (u64, u64) = (
        sum(without, &|r, k| r.calls[&k]),
        sum(with, &|r, k| r.calls[&k]),
    );
    let (lat_without, lat_with) = (merged(without), merged(with));
    let pair = |q: f64| [ms(&lat_without, q), ms(&lat_with, q)];
    Row {
        kind,
        sessions: sum(without, &|r, k| r.sessions[&k]),
        queries: sum(without, &|r, k| r.queries(k)),
        calls_without,
        calls_with,
        saved_percent: if calls_without == 0 {
            0.0
        } else {
            100.0 * (calls_without as f64 - calls_with as f64) / calls_without as f64
        },
        p50_ms: pair(0.5),
        p95_ms: pair(0.95),
        p99_ms: pair(0.99),
    }
}

fn rows(without: &Run, with: &Run) -> Vec<Row> {
    let mut rows: Vec<Row> = Kind::ALL
        .iter()
        .map(|k| row(k.name(), &[*k], without, with))
        .collect();
    rows.push(row("all", &Kind::ALL, without, with));
    rows
}

fn markdown(settings: &Settings, rows: &[Row], without: &Run, with: &Run) -> String {
    let mut md = format!(
        "Machine: {}. Upstream latency {} ms + up to {} ms of jitter (simulator fault); {} sessions \
         by {} concurrent users in {} waves, seed {}; cache TTL {} s; each service started cold. \
         Every one of the {} queries got the same `data` from both services. \
         Wall time: {:.1} s without cache, {:.1} s with.\n\n",
        machine(),
        settings.latency_ms,
        settings.jitter_ms,
        settings.sessions,
        settings.users,
        settings.waves(),
        settings.seed,
        CACHE_TTL.as_secs(),
        without.answers.len(),
        without.elapsed.as_secs_f64(),
        with.elapsed.as_secs_f64(),
    );
    md.push_str("| kind | sessions | queries | upstream calls without cache | with cache | saved | p50 ms without | p50 ms with | p95 ms without | p95 ms with | p99 ms without | p99 ms with |\n");
    md.push_str("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for r in rows {
        md.push_str(&format!(
            "| {} | {} | {} | {} | {} | {:.0}% | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} |\n",
            r.kind,
            r.sessions,
            r.queries,
            r.calls_without,
            r.calls_with,
            r.saved_percent,
            r.p50_ms[0],
            r.p50_ms[1],
            r.p95_ms[0],
            r.p95_ms[1],
            r.p99_ms[0],
            r.p99_ms[1],
        ));
    }
    md.push('\n');
    for kind in Kind::ALL {
        md.push_str(&format!("- `{}`: {}\n", kind.name(), kind.what()));
    }
    md
}

fn report(settings: &Settings, without: &Run, with: &Run) {
    let rows = rows(without, with);
    let md = markdown(settings, &rows, without, with);
    std::fs::create_dir_all(&settings.out).unwrap();
    std::fs::write(settings.out.join("cache.md"), &md).unwrap();
    let json = json!({
        "machine": machine(),
        "settings": {
            "sessions": settings.sessions,
            "users": settings.users,
            "latency_ms": settings.latency_ms,
            "jitter_ms": settings.jitter_ms,
            "seed": settings.seed,
            "cache_ttl_s": CACHE_TTL.as_secs(),
        },
        "queries": without.answers.len(),
        "wall_s": { "without": without.elapsed.as_secs_f64(), "with": with.elapsed.as_secs_f64() },
        "rows": rows,
    });
    std::fs::write(
        settings.out.join("cache.json"),
        serde_json::to_string_pretty(&json).unwrap(),
    )
    .unwrap();
    chart(&settings.out.join("cache.svg"), &rows[..Kind::ALL.len()]);
    println!("{md}");
    eprintln!(
        "wrote {}/cache.md, cache.json, cache.svg",
        settings.out.display()
    );
}

/// Two panels of grouped bars per session kind, without and with cache: upstream calls,
/// and p50 latency per query.
fn chart(path: &Path, rows: &[Row]) {
    use plotters::prelude::*;
    let root = SVGBackend::new(path, (900, 420)).into_drawing_area();
    root.fill(&WHITE).unwrap();
    let root = root
        .titled(
            "Cache: without (grey) and with --cache-ttl 60s (blue), per session kind",
            ("sans-serif", 18),
        )
        .unwrap();
    let (left, right) = root.split_horizontally(450);
    let calls: Vec<[f64; 2]> = rows
        .iter()
        .map(|r| [r.calls_without as f64, r.calls_with as f64])
        .collect();
    let p50: Vec<[f64; 2]> = rows.iter().map(|r| r.p50_ms).collect();
    let kinds: Vec<&str> = rows.iter().map(|r| r.kind).collect();
    bars(&left, "upstream calls", &kinds, &calls, 0);
    bars(&right, "p50 latency per query, ms", &kinds, &p50, 1);
    root.present().unwrap();
}

/// Grouped bars: for each kind, `values[i][0]` (without cache) beside `values[i][1]`, each
/// labelled with its value to `decimals` places.
fn bars(
    area: &plotters::drawing::DrawingArea<plotters::backend::SVGBackend, plotters::coord::Shift>,
    title: &str,
    kinds: &[&str],
    values: &[[f64; 2]],
    decimals: usize,
) {
    use plotters::prelude::*;
    use plotters::style::text_anchor::{HPos, Pos, VPos};
    let top = values.iter().flatten().fold(1.0f64, |m, v| m.max(*v)) * 1.15;
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 16))
        .margin(12)
        .x_label_area_size(28)
        .y_label_area_size(48)
        .build_cartesian_2d(-0.5f64..(kinds.len() as f64 - 0.5), 0f64..top)
        .unwrap();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .light_line_style(WHITE)
        .y_label_formatter(&|y| format!("{y:.0}"))
        .x_labels(kinds.len())
        .x_label_formatter(&|x| {
            kinds
                .get(x.round() as usize)
                .copied()
                .unwrap_or("")
                .to_owned()
        })
        .draw()
        .unwrap();
    let colors = [RGBColor(150, 150, 150), RGBColor(40, 100, 200)];
    let style = TextStyle::from(("sans-serif", 12)).pos(Pos::new(HPos::Center, VPos::Bottom));
    for (i, pair) in values.iter().enumerate() {
        for (side, value) in pair.iter().enumerate() {
            let x0 = i as f64 - 0.4 + 0.4 * side as f64;
            chart
                .draw_series([Rectangle::new(
                    [(x0, 0.0), (x0 + 0.38, *value)],
                    colors[side].filled(),
                )])
                .unwrap();
            chart
                .draw_series([Text::new(
                    format!("{value:.decimals$}"),
                    (x0 + 0.19, *value),
                    style.clone(),
                )])
                .unwrap();
        }
    }
}
