//! Relay semantics end to end: traversals in both directions, every argument combination
//! against the spec's algorithm, filters.

use serde_json::{json, Value};

use crate::helpers::*;

/// Walks a client's list forward with `first: size`, checking every page's flags.
async fn walk_forward(app: &TestApp, client: &str, size: usize) -> Vec<String> {
    let n = photo_ids(client).len();
    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let conn = page(app, json!({ "id": client, "first": size, "after": after })).await;
        let ids = edge_ids(&conn);
        let start = seen.len();
        seen.extend(ids.iter().cloned());
        let info = &conn["pageInfo"];
        assert_eq!(conn["totalCount"], n);
        assert_eq!(
            info["hasPreviousPage"],
            start > 0,
            "{client} {size} at {start}"
        );
        assert_eq!(
            info["hasNextPage"],
            seen.len() < n,
            "{client} {size} at {start}"
        );
        if ids.is_empty() {
            assert_eq!(info["startCursor"], Value::Null);
            break;
        }
        assert_eq!(info["startCursor"], conn["edges"][0]["cursor"]);
        assert_eq!(info["endCursor"], conn["edges"][ids.len() - 1]["cursor"]);
        if info["hasNextPage"] == false {
            break;
        }
        after = info["endCursor"].clone();
    }
    seen
}

/// Walks a client's list backward with `last: size`.
async fn walk_backward(app: &TestApp, client: &str, size: usize) -> Vec<String> {
    let n = photo_ids(client).len();
    let mut pages: Vec<Vec<String>> = Vec::new();
    let mut before = Value::Null;
    let mut taken = 0;
    loop {
        let conn = page(app, json!({ "id": client, "last": size, "before": before })).await;
        let ids = edge_ids(&conn);
        taken += ids.len();
        let info = &conn["pageInfo"];
        assert_eq!(
            info["hasPreviousPage"],
            taken < n,
            "{client} {size} taken {taken}"
        );
        assert_eq!(
            info["hasNextPage"],
            taken - ids.len() > 0,
            "{client} {size} taken {taken}"
        );
        pages.push(ids);
        if info["hasPreviousPage"] == false {
            break;
        }
        before = info["startCursor"].clone();
    }
    pages.into_iter().rev().flatten().collect()
}

#[tokio::test]
async fn forward_traversal_returns_every_photo_once_in_order() {
    let app = TestApp::spawn().await;
    for client in [EMPTY, DOCUMENTED, THIRTY_SEVEN] {
        for size in [1, 7, 20, 100] {
            assert_eq!(
                walk_forward(&app, client, size).await,
                photo_ids(client),
                "{client} first {size}"
            );
        }
    }
    for size in [7, 100] {
        assert_eq!(
            walk_forward(&app, BIG, size).await,
            photo_ids(BIG),
            "big first {size}"
        );
    }
}

#[tokio::test]
async fn backward_traversal_returns_every_photo_once_in_order() {
    let app = TestApp::spawn().await;
    for client in [EMPTY, DOCUMENTED, THIRTY_SEVEN] {
        for size in [1, 7, 20, 100] {
            assert_eq!(
                walk_backward(&app, client, size).await,
                photo_ids(client),
                "{client} last {size}"
            );
        }
    }
    for size in [9, 100] {
        assert_eq!(
            walk_backward(&app, BIG, size).await,
            photo_ids(BIG),
            "big last {size}"
        );
    }
}

/// The spec's algorithm over the real list (cursors name existing positions).
fn reference(
    n: usize,
    first: Option<usize>,
    after: Option<usize>,
    last: Option<usize>,
    before: Option<usize>,
) -> (Vec<usize>, bool, bool) {
    let mut edges: Vec<usize> = (0..n).collect();
    if let Some(a) = after {
        edges.retain(|&i| i > a);
    }
    if let Some(b) = before {
        edges.retain(|&i| i < b);
    }
    let first = if first.is_none() && last.is_none() {
        Some(20)
    } else {
        first
    };
    if let Some(f) = first {
        edges.truncate(f);
    }
    if let Some(l) = last {
        let skip = edges.len().saturating_sub(l);
        edges.drain(..skip);
    }
    let has_prev = edges.first().is_some_and(|&s| s > 0);
    let has_next = edges.last().is_some_and(|&e| e + 1 < n);
    (edges, has_prev, has_next)
}

#[tokio::test]
async fn every_argument_combination_matches_the_relay_algorithm() {
    let app = TestApp::spawn().await;
    let client = THIRTY_SEVEN;
    let ids = photo_ids(client);
    let n = ids.len();
    let all = page(&app, json!({ "id": client, "first": 100 })).await;
    let cursors: Vec<Value> = all["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["cursor"].clone())
        .collect();
    assert_eq!(cursors.len(), n);

    let counts = [None, Some(0), Some(1), Some(5), Some(36), Some(40)];
    let positions = [None, Some(0), Some(3), Some(17), Some(35), Some(36)];
    let mut checked = 0;
    for first in counts {
        for last in counts {
            for after in positions {
                for before in positions {
                    let vars = json!({
                        "id": client, "first": first, "last": last,
                        "after": after.map(|i| cursors[i].clone()),
                        "before": before.map(|i| cursors[i].clone()),
                    });
                    let conn = page(&app, vars.clone()).await;
                    let (want, prev, next) = reference(n, first, after, last, before);
                    let want_ids: Vec<String> = want.iter().map(|&i| ids[i].clone()).collect();
                    assert_eq!(edge_ids(&conn), want_ids, "{vars}");
                    let want_cursors: Vec<Value> =
                        want.iter().map(|&i| cursors[i].clone()).collect();
                    let got_cursors: Vec<Value> = conn["edges"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|e| e["cursor"].clone())
                        .collect();
                    assert_eq!(got_cursors, want_cursors, "{vars}");
                    if !want.is_empty() {
                        assert_eq!(conn["pageInfo"]["hasPreviousPage"], prev, "{vars}");
                        assert_eq!(conn["pageInfo"]["hasNextPage"], next, "{vars}");
                    }
                    checked += 1;
                }
            }
        }
    }
    assert_eq!(checked, 6 * 6 * 6 * 6);
}

#[tokio::test]
async fn no_first_or_last_means_the_first_twenty_even_with_a_cursor() {
    let app = TestApp::spawn().await;
    let ids = photo_ids(THIRTY_SEVEN);
    let conn = page(&app, json!({ "id": THIRTY_SEVEN })).await;
    assert_eq!(edge_ids(&conn), ids[..20]);
    let after = conn["edges"][4]["cursor"].clone();
    let conn = page(&app, json!({ "id": THIRTY_SEVEN, "after": after })).await;
    assert_eq!(edge_ids(&conn), ids[5..25]);
}

#[tokio::test]
async fn filters_select_by_strict_date_bounds_and_count_what_they_keep() {
    let app = TestApp::spawn().await;
    let photos = &complycube_graphql::simulator::data::demo_photos()[THIRTY_SEVEN];
    let pivot = photos[10].created_at;
    let pivot_text = pivot.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let conn = page(
        &app,
        json!({ "id": THIRTY_SEVEN, "first": 100, "filter": { "createdAfter": pivot_text } }),
    )
    .await;
    let want: Vec<String> = photos
        .iter()
        .filter(|p| p.created_at > pivot)
        .map(|p| p.id.clone())
        .collect();
    assert_eq!(
        want.len(),
        10,
        "strictly after: the pivot itself is excluded"
    );
    assert_eq!(edge_ids(&conn), want);
    assert_eq!(conn["totalCount"], 10);

    let updated_pivot = photos[20].updated_at;
    let conn = page(
        &app,
        json!({ "id": THIRTY_SEVEN, "first": 100, "filter": {
        "createdBefore": pivot_text,
        "updatedBefore": updated_pivot.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    } }),
    )
    .await;
    let want: Vec<String> = photos
        .iter()
        .filter(|p| p.created_at < pivot && p.updated_at < updated_pivot)
        .map(|p| p.id.clone())
        .collect();
    assert!(!want.is_empty());
    assert_eq!(edge_ids(&conn), want);
    assert_eq!(conn["totalCount"], want.len());
}

#[tokio::test]
async fn filtered_lists_page_with_their_own_cursors() {
    let app = TestApp::spawn().await;
    let photos = &complycube_graphql::simulator::data::demo_photos()[BIG];
    let pivot = photos[600]
        .created_at
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let filter = json!({ "createdBefore": pivot });
    let first = page(&app, json!({ "id": BIG, "first": 50, "filter": filter })).await;
    let second = page(&app, json!({ "id": BIG, "first": 50, "filter": filter, "after": first["pageInfo"]["endCursor"] })).await;
    let want: Vec<String> = photos[601..701].iter().map(|p| p.id.clone()).collect();
    let got: Vec<String> = edge_ids(&first)
        .into_iter()
        .chain(edge_ids(&second))
        .collect();
    assert_eq!(got, want);
    assert_eq!(second["totalCount"], photos.len() - 601);
}

#[tokio::test]
async fn dates_come_back_in_utc_with_milliseconds() {
    let app = TestApp::spawn().await;
    let response = app
        .query(
            r#"{ client(id: "5eb1276d96be4a0008713af5") { livePhotos(filter: { createdAfter: "2020-01-01T15:06:44.755+01:00" }) { nodes { createdAt updatedAt } } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        response["data"]["client"]["livePhotos"]["nodes"][0],
        json!({ "createdAt": "2020-01-01T14:06:44.756Z", "updatedAt": "2020-01-01T14:06:44.756Z" })
    );
}
