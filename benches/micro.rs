//! Micro-benchmarks of the pure parts: the planner, cursors, and building a connection
//! (resolvers and JSON) of 20 and 100 edges from a primed loader, with no network.
//!
//! Run: `cargo bench --bench micro`

use std::{sync::Arc, time::Duration};

use complycube_graphql::{
    loader::{ListId, Loaders, PageKey, Slice},
    pagination::{cursor, planner, window, Limits, RelayArgs, Scope, Window},
    schema::{self, QueryLimits},
    simulator::data,
    upstream::{ClientId, LivePhotoFilter, Session, Upstream, UpstreamSettings},
};
use divan::{black_box, Bencher};

/// The allocator the service runs with.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    divan::main();
}

#[divan::bench(args = [(0, 20), (20, 40), (1010, 1030), (500, 1500)])]
fn plan_one_window(window: (u64, u64)) -> Vec<planner::PageRequest> {
    planner::plan(black_box(&[Window::new(window.0, window.1)]), 1000)
}

#[divan::bench]
fn plan_ten_merged_windows() -> Vec<planner::PageRequest> {
    let windows = (0..10u64).map(|i| Window::new(i * 7, i * 7 + 20)).collect();
    planner::plan(&planner::normalize(black_box(windows)), 1000)
}

#[divan::bench]
fn cursor_encode() -> String {
    let scope = Scope::of(&[b"5f1e0a3c9d2b4a0008a104e2", &[0u8; 36]]);
    cursor::encode(
        black_box(1234),
        scope,
        "5eb1b5f231778a0008d1c3f6",
        1_577_887_604_756,
    )
}

#[divan::bench]
fn cursor_decode(bencher: Bencher) {
    let scope = Scope::of(&[b"5f1e0a3c9d2b4a0008a104e2", &[0u8; 36]]);
    let text = cursor::encode(1234, scope, "5eb1b5f231778a0008d1c3f6", 1_577_887_604_756);
    bencher.bench(|| cursor::decode(black_box(&text), scope));
}

const CONNECTION_QUERY: &str = r#"query($first: Int) {
  client(id: "5f1e0a3c9d2b4a0008a104e2") {
    livePhotos(first: $first) {
      totalCount
      pageInfo { hasPreviousPage hasNextPage startCursor endCursor }
      edges { cursor node { id clientId downloadLink contentType performLivenessCheck size createdAt updatedAt } }
    }
  }
}"#;

/// Executes the query against a loader primed with `n` photos as the HTTP layer does (the
/// parsed query cached, the executor's checks and shaping) and serialises the answer.
#[divan::bench(args = [20, 100])]
fn build_connection(bencher: Bencher, n: u64) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let key = complycube_graphql::secrets::ApiKey::new("k");
    let urls = complycube_graphql::images::ImageUrls::new(
        &Default::default(),
        complycube_graphql::images::urls::Fallback::ServerKey(&key),
    )
    .unwrap();
    let executor = schema::executor(
        Limits::DEFAULT,
        QueryLimits::default(),
        true,
        urls,
        complycube_graphql::upstream::DEFAULT_MAX_DOWNLOAD_BYTES,
    )
    .unwrap();
    let upstream = Upstream::new(&UpstreamSettings::new("http://127.0.0.1:9/v1", None)).unwrap();
    let photos: Vec<_> = data::demo_photos()["5f1e0a3c9d2b4a0008a104e2"]
        .iter()
        .take(n as usize)
        .cloned()
        .map(Arc::new)
        .collect();
    let key = PageKey {
        list: ListId {
            client: ClientId::parse("5f1e0a3c9d2b4a0008a104e2").unwrap(),
            filter: LivePhotoFilter::default(),
        },
        ask: window::ask(
            &RelayArgs {
                first: Some(n as i32),
                ..RelayArgs::default()
            },
            Scope::of(&[b"unused"]),
            Limits::DEFAULT,
        )
        .unwrap(),
    };
    let slice = Slice {
        window: Window::new(0, n),
        items: photos,
        total: 1250,
    };
    bencher.bench_local(|| {
        runtime.block_on(async {
            let session = Session::new(tokio::time::Instant::now() + Duration::from_secs(5), 128);
            let loaders = Arc::new(Loaders::new(upstream.clone(), session));
            loaders.prime_page(key.clone(), Ok(slice.clone())).await;
            let request = async_graphql::Request::new(CONNECTION_QUERY).variables(
                async_graphql::Variables::from_json(serde_json::json!({ "first": n })),
            );
            let request = request
                .data(loaders)
                .data(complycube_graphql::auth::Caller::Full);
            let answer = executor.execute(request).await;
            assert!(
                answer.response.errors.is_empty(),
                "{:?}",
                answer.response.errors
            );
            serde_json::to_vec(&answer.response).unwrap()
        })
    });
}
