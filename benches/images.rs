//! Images end to end: what a page of 20 real-size photos costs a browser (bytes and time
//! until every image is there) as `download { dataUrl }`, as `imageUrl` originals and as
//! `imageUrl(width: 256)` thumbnails, with and without the cache; what a thumbnail costs in
//! CPU; and the service's peak memory under 16 concurrent requests for 4 MB photos.
//!
//! Run: `cargo bench --bench images` (about 3 minutes; the simulator makes its real-size
//! images first). The release binary runs as the simulator (`--image-size real`) and as the
//! services, this process as the browser: six connections at a time to the service, as a
//! browser opens per host. Writes `benches/results/images.md` and `images.json`
//! (`IMAGES_OUT` for another directory).

mod common;

use std::{
    path::PathBuf,
    time::{Duration, Instant},
};

use common::{machine, Process};
use complycube_graphql::{
    images::thumbnail,
    simulator::{data, images},
};
use futures::StreamExt;
use serde_json::{json, Value};

const KEY: &str = "bench-key";
/// A client with 20 photos: one page.
const CLIENT: &str = "5f1e0a3c9d2b4a0008a10014";
/// Connections a browser opens to one host.
const BROWSER_CONNECTIONS: usize = 6;

#[derive(Clone, Copy)]
enum Variant {
    DataUrl,
    Original,
    Thumbnail,
}

impl Variant {
    fn name(self) -> &'static str {
        match self {
            Self::DataUrl => "`download { dataUrl }`",
            Self::Original => "`imageUrl` (original)",
            Self::Thumbnail => "`imageUrl(width: 256)`",
        }
    }

    fn selection(self) -> &'static str {
        match self {
            Self::DataUrl => "download { dataUrl }",
            Self::Original => "imageUrl",
            Self::Thumbnail => "imageUrl(width: 256)",
        }
    }
}

/// What one page load moved and took.
struct Load {
    bytes: u64,
    millis: f64,
}

/// A page of the client's photos in `variant`: the GraphQL answer, then (for URLs) every
/// image, six at a time.
async fn page_load(http: &reqwest::Client, service: &str, variant: Variant) -> Load {
    let started = Instant::now();
    let query = format!(
        r#"{{ client(id: "{CLIENT}") {{ livePhotos(first: 20) {{ nodes {{ id {} }} }} }} }}"#,
        variant.selection()
    );
    let answer = http
        .post(format!("http://{service}/graphql"))
        .json(&json!({ "query": query }))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let body: Value = serde_json::from_slice(&answer).unwrap();
    assert!(
        body.get("errors").is_none(),
        "{}",
        String::from_utf8_lossy(&answer[..answer.len().min(500)])
    );
    let mut bytes = answer.len() as u64;
    if !matches!(variant, Variant::DataUrl) {
        let urls: Vec<String> = body["data"]["client"]["livePhotos"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| format!("http://{service}{}", n["imageUrl"].as_str().unwrap()))
            .collect();
        let sizes: Vec<u64> = futures::stream::iter(urls)
            .map(|url| async move {
                let image = http.get(url).send().await.unwrap();
                assert_eq!(image.status(), 200);
                image.bytes().await.unwrap().len() as u64
            })
            .buffer_unordered(BROWSER_CONNECTIONS)
            .collect()
            .await;
        bytes += sizes.iter().sum::<u64>();
    }
    Load {
        bytes,
        millis: started.elapsed().as_secs_f64() * 1e3,
    }
}

fn service(simulator: &Process, extra: &[&str]) -> Process {
    let upstream = format!("http://{}/v1", simulator.addr);
    let mut args = vec![
        "--listen",
        "127.0.0.1:0",
        "--upstream-url",
        &upstream,
        "--api-key",
        KEY,
        "--allow-unauthenticated",
        // Room for the dataUrl variant's answer: the point is to measure it.
        "--max-download-bytes",
        "200000000",
        "--max-response-bytes",
        "400000000",
    ];
    args.extend_from_slice(extra);
    Process::start(&args, "GraphQL on http://")
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let at = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[at]
}

/// The 16 photos of the demo data whose real-size images weigh most (about 4 MB each).
fn heaviest(n: usize) -> Vec<complycube_graphql::upstream::LivePhoto> {
    let mut all: Vec<_> = data::demo_photos().into_values().flatten().collect();
    all.sort_by_key(|p| std::cmp::Reverse(images::real_bytes_of(&p.id)));
    all.truncate(n);
    all
}

/// Peak RSS of a fresh service while 16 requests for the heaviest photos' URLs (`width`)
/// run at once, every answer read whole.
async fn peak_rss(simulator: &Process, width: Option<u32>) -> (f64, u64) {
    let service = service(simulator, &[]);
    let http = reqwest::Client::new();
    let photos = heaviest(16);
    let selection = width.map_or("imageUrl".to_owned(), |w| format!("imageUrl(width: {w})"));
    let aliases: String = photos
        .iter()
        .enumerate()
        .map(|(i, p)| format!(r#"p{i}: livePhoto(id: "{}") {{ {selection} }} "#, p.id))
        .collect();
    let body: Value = http
        .post(format!("http://{}/graphql", service.addr))
        .json(&json!({ "query": format!("{{ {aliases} }}") }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let urls: Vec<String> = (0..photos.len())
        .map(|i| {
            format!(
                "http://{}{}",
                service.addr,
                body["data"][format!("p{i}")]["imageUrl"].as_str().unwrap()
            )
        })
        .collect();
    let bytes: Vec<u64> = futures::future::join_all(urls.iter().map(|url| {
        let http = http.clone();
        async move {
            http.get(url)
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap()
                .len() as u64
        }
    }))
    .await;
    (service.peak_rss_mib(), bytes.iter().sum())
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run());
}

async fn run() {
    let out =
        PathBuf::from(std::env::var("IMAGES_OUT").unwrap_or_else(|_| "benches/results".into()));
    let simulator = Process::start(
        &[
            "simulate",
            "--listen",
            "127.0.0.1:0",
            "--api-key",
            KEY,
            "--image-size",
            "real",
        ],
        "simulator on http://",
    );
    let http = reqwest::Client::new();
    // The simulator makes each real-size image once: make them before anything is timed.
    let page = data::demo_photos()[CLIENT].clone();
    for photo in page.iter().chain(heaviest(16).iter()) {
        http.get(format!(
            "http://{}/v1/livePhotos/{}/download",
            simulator.addr, photo.id
        ))
        .header("authorization", KEY)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    }
    let originals: Vec<Vec<u8>> = page
        .iter()
        .map(|p| images::image_of(p, images::ImageSize::Real).bytes)
        .collect();
    let page_bytes: usize = originals.iter().map(Vec::len).sum();

    // Page loads: without cache (fresh each time), and with it, cold then warm.
    let mut loads = Vec::new();
    for variant in [Variant::DataUrl, Variant::Original, Variant::Thumbnail] {
        let plain = service(&simulator, &[]);
        let fresh = page_load(&http, &plain.addr, variant).await;
        let cached = service(
            &simulator,
            &["--cache-ttl", "10m", "--cache-max-bytes", "300000000"],
        );
        let cold = page_load(&http, &cached.addr, variant).await;
        let warm = page_load(&http, &cached.addr, variant).await;
        loads.push((variant, fresh, cold, warm));
    }

    // Thumbnail CPU, in this process: each of the page's images at 256 pixels, three times.
    let mut samples = Vec::new();
    for _ in 0..3 {
        for original in &originals {
            let started = Instant::now();
            thumbnail::thumbnail(original, 256, thumbnail::Limits::default()).unwrap();
            samples.push(started.elapsed().as_secs_f64() * 1e3);
        }
    }
    samples.sort_by(f64::total_cmp);
    let (p50, p99) = (percentile(&samples, 0.5), percentile(&samples, 0.99));
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let busy = Duration::from_secs(5);
    let made: usize = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..cores)
            .map(|_| {
                scope.spawn(|| {
                    let started = Instant::now();
                    let mut made = 0;
                    while started.elapsed() < busy {
                        let original = &originals[made % originals.len()];
                        thumbnail::thumbnail(original, 256, thumbnail::Limits::default()).unwrap();
                        made += 1;
                    }
                    made
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).sum()
    });
    let per_second = made as f64 / busy.as_secs_f64();

    // Peak memory under 16 concurrent requests for 4 MB photos.
    let (rss_originals, moved_originals) = peak_rss(&simulator, None).await;
    let (rss_thumbnails, _) = peak_rss(&simulator, Some(1024)).await;
    let heaviest_mb = heaviest(16)
        .iter()
        .map(|p| images::real_bytes_of(&p.id))
        .min()
        .unwrap() as f64
        / 1e6;

    let thumbnail_grid = loads
        .iter()
        .find(|(v, ..)| matches!(v, Variant::Thumbnail))
        .map(|(_, fresh, ..)| fresh.bytes)
        .unwrap();
    let mut md = String::new();
    md.push_str(&format!(
        "Machine: {}. `cargo bench --bench images`.\n\n",
        machine()
    ));
    md.push_str(&format!(
        "A page of the {} photos of client `{CLIENT}` at real size: {:.1} MB of JPEG and PNG ({:.0} KB to {:.0} KB each). \
         Time until every image is in, six connections at a time.\n\n",
        page.len(),
        page_bytes as f64 / 1e6,
        originals.iter().map(Vec::len).min().unwrap() as f64 / 1e3,
        originals.iter().map(Vec::len).max().unwrap() as f64 / 1e3,
    ));
    md.push_str("| what the page selects | bytes to the browser | ms, no cache | ms, cache cold | ms, cache warm |\n|---|---:|---:|---:|---:|\n");
    for (variant, fresh, cold, warm) in &loads {
        md.push_str(&format!(
            "| {} | {:.2} MB | {:.0} | {:.0} | {:.0} |\n",
            variant.name(),
            fresh.bytes as f64 / 1e6,
            fresh.millis,
            cold.millis,
            warm.millis
        ));
    }
    md.push_str(&format!(
        "\nThumbnail of 256 pixels, in process: p50 {p50:.1} ms, p99 {p99:.1} ms of CPU per image; {per_second:.0} images/s on {cores} cores.\n\n\
         Peak RSS of the service while 16 requests for photos of {heaviest_mb:.1} MB or more run at once: {rss_originals:.0} MiB for the originals \
         ({:.0} MB sent), {rss_thumbnails:.0} MiB for 1024-pixel thumbnails.\n\n",
        moved_originals as f64 / 1e6
    ));
    md.push_str("| target | measured | met |\n|---|---:|---|\n");
    md.push_str(&format!(
        "| a thumbnail grid of 20 moves under 1 MB | {:.2} MB | {} |\n",
        thumbnail_grid as f64 / 1e6,
        if thumbnail_grid < 1_000_000 {
            "yes"
        } else {
            "no"
        }
    ));
    let worst = rss_originals.max(rss_thumbnails);
    md.push_str(&format!(
        "| peak RSS under 16 concurrent 4 MB image requests under 128 MiB | {worst:.0} MiB | {} |\n",
        if worst < 128.0 { "yes" } else { "no" }
    ));
    let json = json!({
        "machine": machine(),
        "page_bytes": page_bytes,
        "loads": loads.iter().map(|(v, f, c, w)| json!({
            "variant": v.name(), "bytes": f.bytes, "ms": f.millis, "cold_ms": c.millis, "warm_ms": w.millis,
        })).collect::<Vec<_>>(),
        "thumbnail_ms": { "p50": p50, "p99": p99 },
        "thumbnails_per_second": per_second,
        "peak_rss_mib": { "originals": rss_originals, "thumbnails_1024": rss_thumbnails },
    });
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("images.md"), &md).unwrap();
    std::fs::write(
        out.join("images.json"),
        serde_json::to_string_pretty(&json).unwrap(),
    )
    .unwrap();
    println!("{md}");
}
