//! Images a browser can load, over loopback HTTP: minting `imageUrl` (no upstream call),
//! loading it (headers, ETag and 304, thumbnails, content sniffing, a decompression bomb),
//! refusing what is not ours (tampered, expired, no call either way), the caller's own key
//! sealed in forwarding mode, the cache, the rate budget, and `download`'s total budget.

use std::time::{Duration, SystemTime};

use base64::{engine::general_purpose::STANDARD, Engine};
use complycube_graphql::{
    auth::Authentication,
    images::{urls::Fallback, ImageUrlSettings, ImageUrls},
    secrets::Secret,
    simulator::{data, images, images::ImageSize, Fault, Simulator, SimulatorSettings},
    upstream::{ApiKey, UpstreamSettings},
    ServiceConfig,
};
use serde_json::{json, Value};

use crate::helpers::*;

/// A service signing with [`IMAGE_SECRET`] on a simulator serving `size` images.
async fn app_with(size: ImageSize, configure: impl FnOnce(&mut ServiceConfig)) -> TestApp {
    let sim = Simulator::new(SimulatorSettings {
        api_key: Some(ApiKey::new(TEST_KEY)),
        image_size: size,
        ..SimulatorSettings::default()
    });
    let sim_addr = sim.clone().spawn(listener().await).await.unwrap();
    let addr = start_service(&format!("http://{sim_addr}/v1"), TEST_KEY, |config| {
        config.images.urls.secrets = vec![IMAGE_SECRET.into()];
        configure(config);
    })
    .await;
    TestApp::at(addr, sim, sim_addr)
}

/// The image URLs of a client's first `n` photos at `width` (`null`: originals).
async fn urls_of(app: &TestApp, client: &str, n: u32, width: Value) -> Vec<String> {
    let query = "query($id: ID!, $n: Int, $w: Int) { client(id: $id) { livePhotos(first: $n) { nodes { imageUrl(width: $w) } } } }";
    let response = app
        .query(query, json!({ "id": client, "n": n, "w": width }))
        .await;
    assert!(response.get("errors").is_none(), "{response}");
    response["data"]["client"]["livePhotos"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["imageUrl"].as_str().unwrap().to_owned())
        .collect()
}

async fn load(app: &TestApp, url: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = reqwest::Client::new().get(app.url(url));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

fn header<'r>(response: &'r reqwest::Response, name: &str) -> &'r str {
    response
        .headers()
        .get(name)
        .unwrap_or_else(|| panic!("no {name}"))
        .to_str()
        .unwrap()
}

fn jpeg_size(bytes: &[u8]) -> (u32, u32) {
    let mut decoder = jpeg_decoder::Decoder::new(std::io::Cursor::new(bytes));
    decoder.read_info().unwrap();
    let info = decoder.info().unwrap();
    (info.width.into(), info.height.into())
}

#[tokio::test]
async fn minting_a_page_of_image_urls_costs_the_list_call_alone() {
    let app = app_with(ImageSize::Small, |_| {}).await;
    app.reset_calls();
    let urls = urls_of(&app, THIRTY_SEVEN, 20, json!(256)).await;
    assert_eq!(urls.len(), 20);
    assert_eq!(app.calls(), 1, "the list, and no image");
    for url in &urls {
        assert!(url.starts_with("/images/v1."), "{url}");
        assert!(!url.contains(TEST_KEY));
    }
    let distinct: std::collections::HashSet<_> = urls.iter().collect();
    assert_eq!(distinct.len(), 20, "one URL per photo");
}

#[tokio::test]
async fn an_image_url_loads_with_no_credentials_and_says_what_it_is() {
    let app = app_with(ImageSize::Small, |_| {}).await;
    let photo = data::demo_photos()[SEVEN][0].clone();
    let url = &urls_of(&app, SEVEN, 1, Value::Null).await[0];
    app.reset_calls();
    let answer = load(&app, url, &[("x-request-id", "img-probe-1")]).await;
    assert_eq!(answer.status(), 200);
    // ComplyCube says `images/jpg`; the answer says what the bytes are.
    assert_eq!(header(&answer, "content-type"), "image/jpeg");
    assert_eq!(header(&answer, "x-content-type-options"), "nosniff");
    assert_eq!(
        header(&answer, "content-security-policy"),
        "default-src 'none'; sandbox"
    );
    assert_eq!(
        header(&answer, "cross-origin-resource-policy"),
        "cross-origin"
    );
    let cache = header(&answer, "cache-control").to_owned();
    let max_age: u64 = cache
        .strip_prefix("private, max-age=")
        .and_then(|rest| rest.strip_suffix(", immutable"))
        .unwrap_or_else(|| panic!("{cache}"))
        .parse()
        .unwrap();
    assert!(max_age > 0 && max_age <= 300, "{cache}");
    let disposition = header(&answer, "content-disposition").to_owned();
    assert!(
        disposition.starts_with("inline; filename=\"selfie_"),
        "{disposition}"
    );
    let etag = header(&answer, "etag").to_owned();
    assert!(
        etag.starts_with('"') && etag.ends_with('"'),
        "strong: {etag}"
    );
    let length: usize = header(&answer, "content-length").parse().unwrap();
    let bytes = answer.bytes().await.unwrap();
    assert_eq!(bytes.len(), length);
    assert_eq!(
        bytes.as_ref(),
        images::image_of(&photo, ImageSize::Small).bytes
    );
    assert_eq!(app.calls(), 1, "one download");
    let seen = app.sim.request_headers();
    assert_eq!(
        seen.last().unwrap().0.as_deref(),
        Some("img-probe-1"),
        "x-request-id went upstream"
    );
    // A browser holding it gets a 304, at no upstream call.
    let again = load(&app, url, &[("if-none-match", &etag)]).await;
    assert_eq!(again.status(), 304);
    assert_eq!(header(&again, "etag"), etag);
    assert_eq!(app.calls(), 1);
    // HEAD: the same headers, no body.
    let head = reqwest::Client::new()
        .head(app.url(url))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(header(&head, "content-length"), length.to_string());
}

#[tokio::test]
async fn thumbnails_are_jpegs_of_the_width_asked_never_enlarged() {
    let app = app_with(ImageSize::Real, |_| {}).await;
    // The lightest real-size photo of the client, to keep the test quick.
    let photos = data::demo_photos()[SEVEN].clone();
    let (index, photo) = photos
        .iter()
        .enumerate()
        .filter(|(_, p)| !p.content_type.contains("png"))
        .min_by_key(|(_, p)| images::real_bytes_of(&p.id))
        .unwrap();
    let urls = urls_of(&app, SEVEN, 7, json!(256)).await;
    let answer = load(&app, &urls[index], &[]).await;
    assert_eq!(answer.status(), 200);
    assert_eq!(header(&answer, "content-type"), "image/jpeg");
    assert!(header(&answer, "content-disposition").contains("_256w.jpg"));
    let thumbnail = answer.bytes().await.unwrap();
    let original = images::image_of(photo, ImageSize::Real).bytes;
    let (w, h) = {
        let mut decoder = jpeg_decoder::Decoder::new(std::io::Cursor::new(&original));
        decoder.read_info().unwrap();
        let info = decoder.info().unwrap();
        (u32::from(info.width), u32::from(info.height))
    };
    let (tw, th) = jpeg_size(&thumbnail);
    assert_eq!(tw, 256.min(w));
    assert!(
        (i64::from(th) - i64::from(h * tw / w)).abs() <= 1,
        "{tw}x{th} of {w}x{h}"
    );
    assert!(thumbnail.len() < original.len());
    // Asking wider than the photo gives the photo's own width.
    let wide = urls_of(&app, SEVEN, 7, json!(1024)).await;
    let answer = load(&app, &wide[index], &[]).await;
    let (ww, _) = jpeg_size(&answer.bytes().await.unwrap());
    assert_eq!(ww, 1024.min(w));
}

#[tokio::test]
async fn a_width_not_offered_is_bad_user_input() {
    let app = app_with(ImageSize::Small, |_| {}).await;
    for width in [0, 100, -64, 2048] {
        let query = format!(
            r#"{{ livePhoto(id: "{}") {{ imageUrl(width: {width}) }} }}"#,
            data::DOCUMENTED_PHOTO
        );
        let response = app.query(&query, json!({})).await;
        assert_eq!(codes(&response), ["BAD_USER_INPUT"], "{width}: {response}");
    }
}

#[tokio::test]
async fn altered_or_expired_urls_are_refused_without_an_upstream_call() {
    let app = app_with(ImageSize::Small, |_| {}).await;
    let url = urls_of(&app, SEVEN, 2, json!(128)).await[0].clone();
    app.reset_calls();
    let (head, tag) = url.rsplit_once('.').unwrap();
    let mut forged = tag.as_bytes().to_vec();
    forged[0] = if forged[0] == b'A' { b'B' } else { b'A' };
    let forged = format!("{head}.{}", String::from_utf8(forged).unwrap());
    // Another photo, another width, written into the claims under the old signature.
    let (prefix, claims) = head.rsplit_once('.').unwrap();
    let mut decoded: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(claims)
            .unwrap(),
    )
    .unwrap();
    decoded["w"] = json!(1024);
    let widened = format!(
        "{prefix}.{}.{tag}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(decoded.to_string())
    );
    for bad in [
        forged.as_str(),
        widened.as_str(),
        "/images/v1.e30.AAAA",
        "/images/x",
    ] {
        let answer = load(&app, bad, &[]).await;
        assert_eq!(answer.status(), 403, "{bad}");
        assert_eq!(header(&answer, "x-content-type-options"), "nosniff");
    }
    // Expired: signed right (the same secret), but past its time.
    let signer = ImageUrls::new(
        &ImageUrlSettings {
            secrets: vec![Secret::new(IMAGE_SECRET)],
            ..ImageUrlSettings::default()
        },
        Fallback::Forwarding,
    )
    .unwrap();
    let photo = &photo_ids(SEVEN)[0];
    let an_hour_ago = SystemTime::now() - Duration::from_secs(3600);
    let expired = signer.mint(photo, None, None, an_hour_ago);
    assert_eq!(load(&app, &expired, &[]).await.status(), 410);
    let fresh = signer.mint(photo, None, None, SystemTime::now());
    assert_eq!(app.calls(), 0, "no refusal reached ComplyCube");
    assert_eq!(load(&app, &fresh, &[]).await.status(), 200);
}

#[tokio::test]
async fn what_is_not_a_jpeg_or_png_is_never_served_as_an_image() {
    let app = app_with(ImageSize::Small, |_| {}).await;
    let url = urls_of(&app, SEVEN, 1, Value::Null).await[0].clone();
    let thumbnail = urls_of(&app, SEVEN, 1, json!(64)).await[0].clone();
    let svg = r#"<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>"#;
    let body = json!({ "fileName": "x\".svg", "contentType": "IMAGE/SVG+XML", "data": STANDARD.encode(svg) });
    app.fault(Fault {
        body: Some(body.to_string()),
        ..Fault::default()
    });
    let answer = load(&app, &url, &[]).await;
    assert_eq!(answer.status(), 200);
    assert_eq!(header(&answer, "content-type"), "application/octet-stream");
    assert!(header(&answer, "content-disposition").starts_with("attachment; filename=\"x_.bin\""));
    assert_eq!(load(&app, &thumbnail, &[]).await.status(), 422);
}

#[tokio::test]
async fn a_decompression_bomb_is_a_422_not_an_out_of_memory() {
    let app = app_with(ImageSize::Small, |_| {}).await;
    // A PNG declaring 60,000 x 60,000 pixels in a few dozen bytes.
    let mut bomb = {
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, 1, 1);
        encoder.set_color(png::ColorType::Rgb);
        encoder
            .write_header()
            .unwrap()
            .write_image_data(&[0, 0, 0])
            .unwrap();
        out
    };
    bomb[16..24]
        .copy_from_slice(&[&60_000u32.to_be_bytes()[..], &60_000u32.to_be_bytes()].concat());
    let crc = crc32fast::hash(&bomb[12..29]);
    bomb[29..33].copy_from_slice(&crc.to_be_bytes());
    let body = json!({ "fileName": "bomb.png", "contentType": "image/png", "data": STANDARD.encode(&bomb) });
    let url = urls_of(&app, SEVEN, 1, json!(256)).await[0].clone();
    app.fault(Fault {
        body: Some(body.to_string()),
        times: Some(1),
        ..Fault::default()
    });
    let answer = load(&app, &url, &[]).await;
    assert_eq!(answer.status(), 422);
    let said = answer.text().await.unwrap();
    assert!(said.contains("60000x60000"), "{said}");
    // The service is fine afterwards.
    assert_eq!(
        app.query("{ __typename }", json!({})).await["data"]["__typename"],
        "Query"
    );
}

#[tokio::test]
async fn in_forwarding_mode_the_callers_key_rides_sealed_in_the_url() {
    let sim = Simulator::new(SimulatorSettings::default());
    let sim_addr = sim.clone().spawn(listener().await).await.unwrap();
    let mut config =
        ServiceConfig::new(UpstreamSettings::new(format!("http://{sim_addr}/v1"), None));
    config.access.auth = Authentication::Forward;
    config.images.urls.secrets = vec![IMAGE_SECRET.into()];
    let addr = complycube_graphql::start(listener().await, &config, std::future::pending())
        .await
        .unwrap();
    let app = TestApp::at(addr, sim.clone(), sim_addr);
    let callers_key = "live_callers_own_key_9f8e7d6c5b4a3210";
    let query = format!(
        r#"{{ client(id: "{SEVEN}") {{ livePhotos(first: 1) {{ nodes {{ imageUrl }} }} }} }}"#
    );
    let answer = reqwest::Client::new()
        .post(app.url("/graphql"))
        .header("authorization", callers_key)
        .json(&json!({ "query": query }))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let url = answer["data"]["client"]["livePhotos"]["nodes"][0]["imageUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    let decoded: String = url
        .split(['.', '/'])
        .filter_map(|part| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(part)
                .ok()
        })
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .collect();
    assert!(
        !url.contains(callers_key) && !decoded.contains(callers_key),
        "{url}"
    );
    sim.reset();
    // Loaded with no Authorization at all: the download goes with the caller's key.
    assert_eq!(load(&app, &url, &[]).await.status(), 200);
    let authorizations: Vec<Option<String>> = sim
        .request_headers()
        .into_iter()
        .map(|(_, auth)| auth)
        .collect();
    assert_eq!(authorizations, [Some(callers_key.to_owned())]);
}

#[tokio::test]
async fn with_a_cache_an_image_loaded_twice_costs_one_download() {
    let app = app_with(ImageSize::Small, |config| {
        config.upstream.cache.ttl = Some(Duration::from_secs(60));
    })
    .await;
    let urls = urls_of(&app, SEVEN, 2, json!(64)).await;
    app.reset_calls();
    let first = load(&app, &urls[0], &[]).await.bytes().await.unwrap();
    let second = load(&app, &urls[0], &[]).await.bytes().await.unwrap();
    assert_eq!(first, second);
    assert_eq!(app.calls(), 1);
}

#[tokio::test]
async fn an_image_refused_by_the_rate_budget_is_a_429_with_retry_after() {
    let app = app_with(ImageSize::Small, |config| {
        // One call a second, waited for at most a tenth of that.
        config.upstream.rate_budget.rate = Some(1.0);
        config.upstream.rate_budget.burst = Some(1);
        config.upstream.rate_budget.queue_timeout = Duration::from_millis(100);
    })
    .await;
    // The list takes the one slot; the image finds none.
    let url = urls_of(&app, SEVEN, 1, Value::Null).await[0].clone();
    let answer = load(&app, &url, &[]).await;
    assert_eq!(answer.status(), 429);
    let wait: u64 = header(&answer, "retry-after").parse().unwrap();
    assert!(wait >= 1);
    let metrics = reqwest::get(app.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics
            .contains(r#"complycube_graphql_image_requests_total{status="429",width="original"}"#),
        "{metrics}"
    );
}

#[tokio::test]
async fn downloads_are_bounded_per_request_in_total_not_per_alias() {
    let image = images::image_of(&data::demo_photos()[SEVEN][0], ImageSize::Small);
    let budget = image.bytes.len() * 3;
    let app = app_with(ImageSize::Small, |config| {
        config.upstream.max_download_bytes = budget;
    })
    .await;
    let photo = &photo_ids(SEVEN)[0];
    let aliases: String = (0..5)
        .map(|i| format!(r#"a{i}: livePhoto(id: "{photo}") {{ download {{ base64Data }} }} "#))
        .collect();
    app.reset_calls();
    let response = app.query(&format!("{{ {aliases} }}"), json!({})).await;
    let served = (0..5)
        .filter(|i| response["data"][format!("a{i}")]["download"].is_object())
        .count();
    assert_eq!(served, 3, "{response}");
    assert_eq!(
        codes(&response),
        ["RESPONSE_TOO_LARGE", "RESPONSE_TOO_LARGE"]
    );
    assert_eq!(
        app.calls(),
        2,
        "one photo lookup and one download, whatever the aliases"
    );
}
