//! Reuse of upstream answers (`--cache-ttl`): off by default, and when on, a window or a
//! lookup already answered costs no call, whatever request shape first fetched it.

use std::time::Duration;

use complycube_graphql::simulator::data;
use serde_json::json;

use crate::helpers::*;

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
        r#"{{ livePhoto(id: "{}") {{ id }} }}"#,
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
    // Only what is missing is fetched, and the rest comes from the cache.
    let more = page(&app, json!({ "id": THIRTY_SEVEN, "first": 30 })).await;
    assert_eq!(edge_ids(&more), ids[..30]);
    assert_eq!(app.calls(), 2, "{:?}", app.sim.request_log());
    assert_eq!(
        app.sim.request_log()[1],
        format!("clientId={THIRTY_SEVEN}&page=3&pageSize=10")
    );
    // Another filter is another list.
    page(&app, json!({ "id": THIRTY_SEVEN, "first": 5, "filter": { "createdAfter": "2021-01-01T00:00:00Z" } })).await;
    assert_eq!(app.calls(), 3);
}

#[tokio::test]
async fn lookups_are_reused_across_requests() {
    let app = cached_app().await;
    let ids = photo_ids(SEVEN);
    let query = format!(
        r#"{{ livePhoto(id: "{}") {{ id download {{ fileName }} client {{ email }} }} }}"#,
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
        r#"{{ client(id: "{SEVEN}") {{ livePhotos(first: 1) {{ nodes {{ id download {{ fileName }} }} }} }} }}"#
    );
    let before = app.query(&listed, json!({})).await;
    assert!(before.get("errors").is_none(), "{before}");
    assert_eq!(app.calls(), 2);
    // Within the TTL the cached list and image are reused as they are.
    assert!(app.sim.delete_photo(&ids[0]));
    assert_eq!(app.query(&listed, json!({})).await, before);
    assert_eq!(app.calls(), 2);
    // A lookup learns the photo is gone, which evicts its cached image too...
    let lookup = format!(r#"{{ livePhoto(id: "{}") {{ id }} }}"#, ids[0]);
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
