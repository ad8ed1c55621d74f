//! The amplification attacks of the hardening review, replayed against the binary in a
//! process of its own, whose peak resident set (`VmHWM`) is read afterwards: small queries
//! that asked for answers a hundred times their size. The answers are bounded by
//! `--max-response-bytes` (16 MiB) and `--max-download-bytes` (4 MiB), the upstream calls
//! by the loaders, and the process stays under the 128 MiB the review asked for (the
//! Kubernetes manifests request 64 MiB and cap a pod at 256 MiB).
//!
//! The bound is checked on the peak less the resident pages of the binary's own code
//! (`RssFile`): a debug build's code takes about 28 MiB of them where the release build's
//! takes under 10, and the release build is what runs in a pod. To measure the release
//! binary itself: `cargo build --release && COMPLYCUBE_GRAPHQL_BIN=target/release/complycube-graphql
//! cargo test --test api amplification -- --nocapture` (docs/access-and-security.md).

use complycube_graphql::{
    simulator::{data, images, Simulator, SimulatorSettings},
    upstream::ApiKey,
};
use serde_json::{json, Value};

use crate::{binary::start, helpers::*};

/// The bound the review set for the process under these attacks.
const PEAK_RSS_BOUND: u64 = 128 * 1024 * 1024;

/// A photo whose image weighs about 1 MiB, as in the review.
fn megabyte_photo() -> String {
    let mut near: Vec<String> = data::demo_photos()
        .into_values()
        .flatten()
        .filter(|p| (900_000..1_300_000).contains(&images::real_bytes_of(&p.id)))
        .map(|p| p.id)
        .collect();
    near.sort();
    near.into_iter()
        .next()
        .expect("a demo photo of about 1 MiB")
}

async fn post(http: &reqwest::Client, addr: &str, body: &Value) -> (u16, usize, Value) {
    let response = http
        .post(format!("http://{addr}/graphql"))
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let bytes = response.bytes().await.unwrap();
    let json = serde_json::from_slice(&bytes).unwrap();
    (status, bytes.len(), json)
}

fn all_codes(body: &Value) -> Vec<String> {
    match body {
        Value::Array(answers) => answers.iter().flat_map(codes).collect(),
        one => codes(one),
    }
}

#[tokio::test]
async fn amplifying_queries_get_bounded_answers_from_a_process_under_128_mib() {
    let sim = Simulator::new(SimulatorSettings {
        api_key: Some(ApiKey::new(TEST_KEY)),
        image_size: images::ImageSize::Real,
        ..SimulatorSettings::default()
    });
    let sim_addr = sim.clone().spawn(listener().await).await.unwrap();
    let upstream = format!("http://{sim_addr}/v1");
    let running = start(
        &["--upstream-url", &upstream],
        &[
            ("COMPLYCUBE_API_KEY", TEST_KEY),
            ("ALLOW_UNAUTHENTICATED", "true"),
            ("UPSTREAM_RATE", "off"),
        ],
    )
    .await;
    let http = reqwest::Client::new();
    let photo = megabyte_photo();
    println!("peak RSS at rest: {} MiB", running.memory("VmHWM") >> 20);

    // 1. Forty aliases of one photo's image, as text twice over: 112 MB in the review.
    let aliases: String = (0..40)
        .map(|i| {
            format!("p{i}: livePhoto(id: \"{photo}\") {{ download {{ base64Data dataUrl }} }}\n")
        })
        .collect();
    let query = format!("{{ {aliases} }}");
    assert!(query.len() < 4096, "a small query: {} bytes", query.len());
    sim.reset();
    let (status, bytes, body) = post(&http, &running.addr, &json!({ "query": query })).await;
    assert_eq!(status, 200, "{}", &body.to_string()[..300]);
    assert!(
        bytes <= 6 * 1024 * 1024,
        "at most the 4 MiB of images as base64: {bytes} bytes"
    );
    assert!(all_codes(&body).contains(&"RESPONSE_TOO_LARGE".to_owned()));
    assert!(
        sim.request_count() <= 2,
        "{} upstream calls",
        sim.request_count()
    );
    println!(
        "aliases: a {}-byte query, a {bytes}-byte answer, {} upstream calls; peak RSS {} MiB",
        query.len(),
        sim.request_count(),
        running.memory("VmHWM") >> 20
    );

    // 2. A batch of 16 nested pages of pages: 21 MB in the review.
    let nested = format!(
        "{{ client(id: \"{BIG}\") {{ livePhotos(first: 100) {{ nodes {{ client {{ livePhotos(first: 100) {{ \
         nodes {{ id complyCubeId size }} }} }} }} }} }} }}"
    );
    let batch: Vec<Value> = (0..16).map(|_| json!({ "query": nested })).collect();
    sim.reset();
    let (status, bytes, body) = post(&http, &running.addr, &json!(batch)).await;
    assert_eq!(status, 200);
    assert!(bytes <= 17 * 1024 * 1024, "{bytes} bytes");
    let codes = all_codes(&body);
    assert!(
        codes.contains(&"RESPONSE_TOO_LARGE".to_owned()),
        "{codes:?}"
    );
    assert!(
        body.as_array()
            .unwrap()
            .iter()
            .any(|a| a["data"]["client"].is_object()),
        "the operations that fit are answered"
    );
    assert!(
        sim.request_count() <= 8,
        "{} upstream calls",
        sim.request_count()
    );
    let answered = body
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["data"]["client"].is_object())
        .count();
    println!(
        "batch: {answered} of 16 answered, a {bytes}-byte answer, {} upstream calls; peak RSS {} MiB",
        sim.request_count(),
        running.memory("VmHWM") >> 20
    );

    // 3. One operation estimated past the budget costs no upstream call at all.
    let all_of_it = format!(
        "{{ {} }}",
        (0..16)
            .map(|i| format!("a{i}: {}", &nested[2..nested.len() - 2]))
            .collect::<String>()
    );
    sim.reset();
    let (_, _, body) = post(&http, &running.addr, &json!({ "query": all_of_it })).await;
    assert_eq!(all_codes(&body), ["RESPONSE_TOO_LARGE"], "{body}");
    assert_eq!(sim.request_count(), 0);

    let (peak, code) = (running.memory("VmHWM"), running.memory("RssFile"));
    println!(
        "peak RSS under the amplification attacks: {} MiB, of which code {} MiB",
        peak >> 20,
        code >> 20
    );
    assert!(
        peak - code < PEAK_RSS_BOUND,
        "peak RSS {} MiB beyond code",
        (peak - code) >> 20
    );
    running.stop().await;
}
