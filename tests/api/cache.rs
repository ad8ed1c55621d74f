//! Reuse of upstream answers (`--cache-ttl`): off by default, and when on, a window or a
//! lookup already answered costs no call, whatever request shape first fetched it; with
//! Redis (a real `redis-server`), across replicas, sealed, and per key.

use std::time::Duration;

use complycube_graphql::{
    auth::Authentication,
    simulator::{data, Simulator, SimulatorSettings},
    upstream::{RedisUrl, UpstreamSettings},
    ServiceConfig,
};
use serde_json::json;

use crate::{helpers::*, redis::RedisServer, tokens::post_as};

async fn cached_app() -> TestApp {
    TestApp::spawn_with(|c| c.upstream.cache.ttl = Some(Duration::from_secs(600))).await
}

#[tokio::test]
async fn without_a_ttl_every_read_is_fresh() {
    let app = TestApp::spawn().await;
    for _ in 0..2 {
        page(&app, json!({ "id": THIRTY_SEVEN, "first": 10 })).await;
    }
    let lookup = format!(
        r#"{{ livePhoto(id: "{}") {{ id: complyCubeId }} }}"#,
        data::DOCUMENTED_PHOTO
    );
    app.query(&lookup, json!({})).await;
    app.query(&lookup, json!({})).await;
    assert_eq!(app.calls(), 4);
}

#[tokio::test]
async fn a_window_covered_by_cached_items_costs_no_call() {
    let app = cached_app().await;
    let ids = photo_ids(THIRTY_SEVEN);
    let first = page(&app, json!({ "id": THIRTY_SEVEN, "first": 20 })).await;
    assert_eq!(app.calls(), 1);
    // Another request, another shape, inside what the first fetched: no call.
    let again = page(&app, json!({ "id": THIRTY_SEVEN, "first": 5 })).await;
    assert_eq!(edge_ids(&again), ids[..5]);
    let cursor = first["edges"][4]["cursor"].clone();
    let after = page(
        &app,
        json!({ "id": THIRTY_SEVEN, "first": 10, "after": cursor }),
    )
    .await;
    assert_eq!(edge_ids(&after), ids[5..15]);
    assert_eq!(after["totalCount"], 37);
    let back = page(
        &app,
        json!({ "id": THIRTY_SEVEN, "last": 3, "before": first["edges"][10]["cursor"] }),
    )
    .await;
    assert_eq!(edge_ids(&back), ids[7..10]);
    assert_eq!(app.calls(), 1, "{:?}", app.sim.request_log());
    // A window the cache cannot answer alone is fetched whole, never cached positions next
    // to fresh ones (the list may have changed between them).
    let more = page(&app, json!({ "id": THIRTY_SEVEN, "first": 30 })).await;
    assert_eq!(edge_ids(&more), ids[..30]);
    assert_eq!(app.calls(), 2, "{:?}", app.sim.request_log());
    assert_eq!(
        app.sim.request_log()[1],
        format!("clientId={THIRTY_SEVEN}&page=1&pageSize=30")
    );
    // Another filter is another list.
    page(&app, json!({ "id": THIRTY_SEVEN, "first": 5, "filter": { "createdAfter": "2021-01-01T00:00:00Z" } })).await;
    assert_eq!(app.calls(), 3);
}

#[tokio::test]
async fn a_cached_list_is_never_mixed_with_fresh_positions() {
    let app = cached_app().await;
    let first = page(&app, json!({ "id": THIRTY_SEVEN, "first": 10 })).await;
    // One photo added at the head and one deleted: the length is the same, every position
    // past the head moved by one.
    app.sim.add_photos(THIRTY_SEVEN, 1, false);
    let ids = photo_ids(THIRTY_SEVEN);
    assert!(app.sim.delete_photo(&ids[36]));
    let cursor = first["edges"][9]["cursor"].clone();
    let next = page(
        &app,
        json!({ "id": THIRTY_SEVEN, "first": 10, "after": cursor }),
    )
    .await;
    // The page after the cursor's photo, as the list is now: no repeat of the cursor's
    // photo, no skip.
    assert_eq!(edge_ids(&next), ids[10..20]);
    assert_eq!(next["totalCount"], 37);
}

#[tokio::test]
async fn lookups_are_reused_across_requests() {
    let app = cached_app().await;
    let ids = photo_ids(SEVEN);
    let query = format!(
        r#"{{ livePhoto(id: "{}") {{ id: complyCubeId download {{ fileName }} client {{ email }} }} }}"#,
        ids[2]
    );
    let first = app.query(&query, json!({})).await;
    assert!(first.get("errors").is_none(), "{first}");
    assert_eq!(app.calls(), 3, "{:?}", app.sim.request_log());
    let second = app.query(&query, json!({})).await;
    assert_eq!(first, second);
    assert_eq!(app.calls(), 3, "{:?}", app.sim.request_log());
}

#[tokio::test]
async fn a_404_evicts_what_the_cache_held_for_that_id() {
    let app = cached_app().await;
    let ids = photo_ids(SEVEN);
    let listed = format!(
        r#"{{ client(id: "{SEVEN}") {{ livePhotos(first: 1) {{ nodes {{ id: complyCubeId download {{ fileName }} }} }} }} }}"#
    );
    let before = app.query(&listed, json!({})).await;
    assert!(before.get("errors").is_none(), "{before}");
    assert_eq!(app.calls(), 2);
    // Within the TTL the cached list and image are reused as they are.
    assert!(app.sim.delete_photo(&ids[0]));
    assert_eq!(app.query(&listed, json!({})).await, before);
    assert_eq!(app.calls(), 2);
    // A lookup learns the photo is gone, which evicts its cached image too...
    let lookup = format!(
        r#"{{ livePhoto(id: "{}") {{ id: complyCubeId }} }}"#,
        ids[0]
    );
    let gone = app.query(&lookup, json!({})).await;
    assert_eq!(gone, json!({ "data": { "livePhoto": null } }));
    assert_eq!(app.calls(), 3);
    // ...so the (still cached) list's photo now asks for its image, and hears 404.
    let after = app.query(&listed, json!({})).await;
    assert_eq!(codes(&after), vec!["NOT_FOUND"], "{after}");
    assert_eq!(app.calls(), 4, "{:?}", app.sim.request_log());
    // A 404 itself is not cached.
    app.query(&lookup, json!({})).await;
    assert_eq!(app.calls(), 5);
}

#[tokio::test]
async fn a_cursor_whose_photo_is_not_where_the_cached_list_says_fetches_afresh() {
    let app = cached_app().await;
    let first = page(&app, json!({ "id": THIRTY_SEVEN, "first": 10 })).await;
    // The list moves, and the cached copy of positions 0..10 is now wrong; a cursor minted
    // elsewhere (a fresh read) names a photo at a position the cache disagrees with.
    app.sim.add_photos(THIRTY_SEVEN, 3, false);
    app.reset_calls();
    let fresh = TestApp::spawn_on(&app).await;
    let now = page(&fresh, json!({ "id": THIRTY_SEVEN, "first": 10 })).await;
    let cursor = now["edges"][9]["cursor"].clone();
    app.reset_calls();
    let next = page(
        &app,
        json!({ "id": THIRTY_SEVEN, "first": 5, "after": cursor }),
    )
    .await;
    let ids: Vec<String> = app
        .sim
        .photos(THIRTY_SEVEN)
        .unwrap()
        .iter()
        .map(|p| p.id.clone())
        .collect();
    assert_eq!(edge_ids(&next), ids[10..15]);
    assert_eq!(next["totalCount"], 40);
    assert!(app.calls() >= 1, "the stale cache was not trusted");
    assert_ne!(edge_ids(&first), edge_ids(&now));
}

/// A service on `sim_addr` with the cache on and shared through `redis`.
async fn shared_replica(
    sim_addr: std::net::SocketAddr,
    sim: &Simulator,
    redis: &RedisServer,
) -> TestApp {
    let url = RedisUrl::new(redis.url());
    let addr = start_service(&format!("http://{sim_addr}/v1"), TEST_KEY, move |c| {
        c.upstream.cache.ttl = Some(Duration::from_secs(600));
        c.upstream.redis_url = Some(url);
    })
    .await;
    TestApp::at(addr, sim.clone(), sim_addr)
}

/// Every value Redis holds, and every key name.
async fn redis_dump(redis: &RedisServer) -> Vec<(String, Vec<u8>)> {
    let client = redis::Client::open(redis.url()).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    let names: Vec<String> = redis::cmd("KEYS")
        .arg("*")
        .query_async(&mut connection)
        .await
        .unwrap();
    let mut dump = Vec::new();
    for name in names {
        let kind: String = redis::cmd("TYPE")
            .arg(&name)
            .query_async(&mut connection)
            .await
            .unwrap();
        let value: Vec<u8> = if kind == "string" {
            redis::cmd("GET")
                .arg(&name)
                .query_async(&mut connection)
                .await
                .unwrap()
        } else {
            let fields: Vec<Vec<u8>> = redis::cmd("HGETALL")
                .arg(&name)
                .query_async(&mut connection)
                .await
                .unwrap_or_default();
            fields.concat()
        };
        dump.push((name, value));
    }
    dump
}

const EVERYTHING: &str = r#"query($id: ID!, $photo: ID!) {
  client(id: $id) { email entityName personDetails { firstName lastName }
    livePhotos(first: 5) { nodes { id: complyCubeId createdAt download { fileName base64Data } } } }
  livePhoto(id: $photo) { id: complyCubeId size }
}"#;

#[tokio::test]
async fn a_page_fetched_by_one_replica_serves_the_other_through_redis() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let (sim, sim_addr) = spawn_simulator().await;
    let a = shared_replica(sim_addr, &sim, &redis).await;
    let b = shared_replica(sim_addr, &sim, &redis).await;
    let ids = photo_ids(DOCUMENTED);
    let variables = json!({ "id": DOCUMENTED, "photo": ids[0] });
    let first = a.query(EVERYTHING, variables.clone()).await;
    assert!(first.get("errors").is_none(), "{first}");
    let calls = sim.request_count();
    assert_eq!(
        calls,
        4,
        "list, client, download, and no lookup for a listed photo: {:?}",
        sim.request_log()
    );
    // Replica B has never seen any of it: Redis has.
    let second = b.query(EVERYTHING, variables).await;
    assert_eq!(first, second);
    assert_eq!(sim.request_count(), calls, "{:?}", sim.request_log());
    // And a window inside the cached one, in another shape.
    let one = b
        .query(PAGE_QUERY, json!({ "id": DOCUMENTED, "last": 1 }))
        .await;
    assert_eq!(edge_ids(&one["data"]["client"]["livePhotos"]), ids[..1]);
    assert_eq!(sim.request_count(), calls);
}

#[tokio::test]
async fn a_redis_dump_reveals_no_photo_client_or_key() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let (sim, sim_addr) = spawn_simulator().await;
    let app = shared_replica(sim_addr, &sim, &redis).await;
    let ids = photo_ids(DOCUMENTED);
    let answer = app
        .query(EVERYTHING, json!({ "id": DOCUMENTED, "photo": ids[0] }))
        .await;
    assert!(answer.get("errors").is_none(), "{answer}");
    let dump = redis_dump(&redis).await;
    assert!(
        dump.len() >= 3,
        "the cache wrote to Redis: {} entries",
        dump.len()
    );
    let image = answer["data"]["client"]["livePhotos"]["nodes"][0]["download"]["base64Data"]
        .as_str()
        .unwrap()[..24]
        .to_owned();
    let secrets = [
        DOCUMENTED.to_owned(),
        ids[0].clone(),
        "john.doe@example.com".to_owned(),
        "John Doe".to_owned(),
        "2020-01-01T14:06:44.756Z".to_owned(),
        "images/jpg".to_owned(),
        image,
        TEST_KEY.to_owned(),
    ];
    for (name, value) in &dump {
        for secret in &secrets {
            assert!(
                !name.contains(secret.as_str()),
                "{secret} in the key name {name}"
            );
            assert!(
                !value.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{secret} in clear in {name}"
            );
        }
    }
}

#[tokio::test]
async fn two_keys_never_share_an_entry_even_through_redis() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    // A simulator that takes any key; callers forward their own.
    let sim = Simulator::new(SimulatorSettings::default());
    let sim_addr = sim.clone().spawn(listener().await).await.unwrap();
    let mut config =
        ServiceConfig::new(UpstreamSettings::new(format!("http://{sim_addr}/v1"), None));
    config.access.auth = Authentication::Forward;
    config.images.urls.secrets = vec![IMAGE_SECRET.into()];
    config.upstream.cache.ttl = Some(Duration::from_secs(600));
    config.upstream.redis_url = Some(RedisUrl::new(redis.url()));
    let addr = complycube_graphql::start(listener().await, &config, std::future::pending())
        .await
        .unwrap();
    let app = TestApp::at(addr, sim.clone(), sim_addr);
    let body = json!({ "query": PAGE_QUERY, "variables": { "id": SEVEN, "first": 3 } });
    let key_of = |n: usize| sim.request_headers()[n].1.clone();
    let one = post_as(&app, Some("key-one-0123456789"), body.clone()).await;
    assert_eq!(one.status, 200, "{}", one.body);
    assert_eq!(sim.request_count(), 1);
    let two = post_as(&app, Some("key-two-0123456789"), body.clone()).await;
    assert_eq!(two.body, one.body);
    assert_eq!(
        sim.request_count(),
        2,
        "the second key paid for its own answer"
    );
    assert_eq!(key_of(0).as_deref(), Some("key-one-0123456789"));
    assert_eq!(key_of(1).as_deref(), Some("key-two-0123456789"));
    post_as(&app, Some("key-one-0123456789"), body.clone()).await;
    post_as(&app, Some("key-two-0123456789"), body).await;
    assert_eq!(sim.request_count(), 2, "each key reuses its own entries");
}

#[tokio::test]
async fn with_redis_gone_the_cache_works_in_process_and_nothing_stalls() {
    let Some(mut redis) = RedisServer::start() else {
        return;
    };
    let (sim, sim_addr) = spawn_simulator().await;
    let app = shared_replica(sim_addr, &sim, &redis).await;
    redis.stop();
    for _ in 0..3 {
        let page = page(&app, json!({ "id": THIRTY_SEVEN, "first": 10 })).await;
        assert_eq!(edge_ids(&page), photo_ids(THIRTY_SEVEN)[..10]);
    }
    assert_eq!(sim.request_count(), 1, "{:?}", sim.request_log());
}
