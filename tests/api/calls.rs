//! Upstream frugality: the number (and shape) of requests each query costs.

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn one_page_costs_one_exact_request() {
    let app = TestApp::spawn().await;
    page(&app, json!({ "id": THIRTY_SEVEN, "first": 20 })).await;
    assert_eq!(app.calls(), 1);
    assert_eq!(
        app.sim.request_log(),
        vec![format!("clientId={THIRTY_SEVEN}&page=1&pageSize=20")]
    );
}

/// The page after a cursor is fetched together with the cursor's own position, to check
/// that its photo is still there: still one request.
#[tokio::test]
async fn the_second_page_is_one_request_that_also_checks_the_cursor() {
    let app = TestApp::spawn().await;
    let first = page(&app, json!({ "id": THIRTY_SEVEN, "first": 10 })).await;
    app.reset_calls();
    page(
        &app,
        json!({ "id": THIRTY_SEVEN, "first": 10, "after": first["pageInfo"]["endCursor"] }),
    )
    .await;
    assert_eq!(
        app.sim.request_log(),
        vec![format!("clientId={THIRTY_SEVEN}&page=1&pageSize=20")]
    );
}

#[tokio::test]
async fn identical_windows_of_one_client_are_fetched_once() {
    let app = TestApp::spawn().await;
    let query = format!(
        r#"{{ a: client(id: "{THIRTY_SEVEN}") {{ livePhotos(first: 10) {{ nodes {{ id: complyCubeId }} }} }}
             b: client(id: "{THIRTY_SEVEN}") {{ livePhotos(first: 10) {{ nodes {{ id: complyCubeId }} totalCount }} }}
             ...F ...F }}
           fragment F on Query {{ c: client(id: "{THIRTY_SEVEN}") {{ livePhotos(first: 10) {{ edges {{ cursor }} }} }} }}"#
    );
    let response = app.query(&query, json!({})).await;
    assert!(response.get("errors").is_none(), "{response}");
    assert_eq!(
        response["data"]["a"]["livePhotos"]["nodes"],
        response["data"]["b"]["livePhotos"]["nodes"]
    );
    assert_eq!(app.calls(), 1);
}

#[tokio::test]
async fn overlapping_windows_of_one_client_are_merged_into_one_request() {
    let app = TestApp::spawn().await;
    let ids = photo_ids(THIRTY_SEVEN);
    let cursor = page(&app, json!({ "id": THIRTY_SEVEN, "first": 5 })).await["pageInfo"]
        ["endCursor"]
        .clone();
    app.reset_calls();
    let query = format!(
        r#"query($c: String) {{ a: client(id: "{THIRTY_SEVEN}") {{ livePhotos(first: 10) {{ nodes {{ id: complyCubeId }} }} }}
             b: client(id: "{THIRTY_SEVEN}") {{ livePhotos(first: 10, after: $c) {{ nodes {{ id: complyCubeId }} }} }}
             c: client(id: "{THIRTY_SEVEN}") {{ livePhotos(first: 3, after: $c) {{ nodes {{ id: complyCubeId }} }} }} }}"#
    );
    let response = app.query(&query, json!({ "c": cursor })).await;
    let nodes = |alias: &str| -> Vec<String> {
        response["data"][alias]["livePhotos"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(nodes("a"), ids[0..10]);
    assert_eq!(nodes("b"), ids[5..15]);
    assert_eq!(nodes("c"), ids[5..8]);
    assert_eq!(
        app.sim.request_log(),
        vec![format!("clientId={THIRTY_SEVEN}&page=1&pageSize=15")]
    );
}

#[tokio::test]
async fn five_clients_cost_five_requests() {
    let app = TestApp::spawn().await;
    let clients = [DOCUMENTED, THREE, SEVEN, TWELVE, THIRTY_SEVEN];
    let query: String = clients
        .iter()
        .enumerate()
        .map(|(i, c)| format!(r#"c{i}: client(id: "{c}") {{ livePhotos(first: 5) {{ totalCount nodes {{ id: complyCubeId }} }} }} "#))
        .collect();
    let response = app.query(&format!("{{ {query} }}"), json!({})).await;
    assert!(response.get("errors").is_none(), "{response}");
    for (i, c) in clients.iter().enumerate() {
        assert_eq!(
            response["data"][format!("c{i}")]["livePhotos"]["totalCount"],
            photo_ids(c).len()
        );
    }
    assert_eq!(app.calls(), 5);
}

#[tokio::test]
async fn a_window_past_offset_1000_is_one_request_covering_it() {
    let app = TestApp::spawn().await;
    let ids = photo_ids(BIG);
    // Reach the cursor of position 1009 from the end (the list has 1250 photos).
    let tail = page(&app, json!({ "id": BIG, "last": 100 })).await; // 1150..1250
    let before = tail["pageInfo"]["startCursor"].clone();
    let p = page(&app, json!({ "id": BIG, "last": 100, "before": before })).await; // 1050..1150
    let before = p["pageInfo"]["startCursor"].clone();
    let p = page(&app, json!({ "id": BIG, "last": 41, "before": before })).await; // 1009..1050
    let after = p["pageInfo"]["startCursor"].clone(); // position 1009
    app.reset_calls();
    let conn = page(&app, json!({ "id": BIG, "first": 20, "after": after })).await;
    assert_eq!(edge_ids(&conn), ids[1010..1030]);
    let log = app.sim.request_log();
    assert_eq!(log.len(), 1, "{log:?}");
    let params: std::collections::HashMap<String, u64> = log[0]
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .filter_map(|(k, v)| v.parse().ok().map(|v| (k.to_owned(), v)))
        .collect();
    let (page_no, size) = (params["page"], params["pageSize"]);
    let start = (page_no - 1) * size;
    assert!(
        start <= 1010 && 1030 <= start + size,
        "{log:?} covers 1010..1030"
    );
    assert!(size <= 1000);
}

#[tokio::test]
async fn last_without_before_adds_one_tiny_request() {
    let app = TestApp::spawn().await;
    let conn = page(&app, json!({ "id": THIRTY_SEVEN, "last": 5 })).await;
    assert_eq!(edge_ids(&conn), photo_ids(THIRTY_SEVEN)[32..]);
    assert_eq!(
        app.sim.request_log(),
        vec![
            format!("clientId={THIRTY_SEVEN}&page=1&pageSize=1"),
            format!("clientId={THIRTY_SEVEN}&page=5&pageSize=8"),
        ]
    );
    // Where the probe already holds the answer, nothing more is asked.
    app.reset_calls();
    page(&app, json!({ "id": DOCUMENTED, "last": 5 })).await;
    assert_eq!(app.calls(), 1);
}

#[tokio::test]
async fn the_total_learned_by_one_window_serves_last_in_the_same_request() {
    let app = TestApp::spawn().await;
    let query = format!(
        r#"{{ a: client(id: "{THIRTY_SEVEN}") {{ livePhotos(first: 5) {{ totalCount }} }}
             b: client(id: "{THIRTY_SEVEN}") {{ livePhotos(last: 5) {{ nodes {{ id: complyCubeId }} }} }} }}"#
    );
    let response = app.query(&query, json!({})).await;
    assert!(response.get("errors").is_none(), "{response}");
    // One request for the first five (bringing the total), one for the last five.
    assert_eq!(app.calls(), 2);
}

#[tokio::test]
async fn a_batch_shares_one_loader() {
    let app = TestApp::spawn().await;
    let op = |c: &str| json!({ "query": format!(r#"{{ client(id: "{c}") {{ livePhotos(first: 10) {{ nodes {{ id: complyCubeId }} }} }} }}"#) });
    let (status, body) = app
        .post(json!([
            op(THIRTY_SEVEN),
            op(THIRTY_SEVEN),
            op(TWELVE),
            op(SEVEN),
            op(THREE)
        ]))
        .await;
    assert_eq!(status, 200);
    let results = body.as_array().expect("a batch answers with an array");
    assert_eq!(results.len(), 5);
    assert_eq!(results[0], results[1]);
    assert_eq!(app.calls(), 4);
}

#[tokio::test]
async fn first_zero_still_knows_the_total_for_one_tiny_request() {
    let app = TestApp::spawn().await;
    let conn = page(&app, json!({ "id": THIRTY_SEVEN, "first": 0 })).await;
    assert_eq!(conn["totalCount"], 37);
    assert_eq!(conn["pageInfo"]["hasNextPage"], true);
    assert_eq!(conn["edges"], json!([]));
    assert_eq!(
        app.sim.request_log(),
        vec![format!("clientId={THIRTY_SEVEN}&page=1&pageSize=1")]
    );
}

#[tokio::test]
async fn no_livephotos_field_no_upstream_call() {
    let app = TestApp::spawn().await;
    let response = app
        .query(
            &format!(r#"{{ client(id: "{THIRTY_SEVEN}") {{ id: complyCubeId }} }}"#),
            json!({}),
        )
        .await;
    assert_eq!(response["data"]["client"]["id"], THIRTY_SEVEN);
    assert_eq!(app.calls(), 0);
}

/// The Relay window for in-range cursors over `n` items (as the spec computes it).
fn relay_window(
    n: u64,
    first: Option<u64>,
    after: Option<u64>,
    last: Option<u64>,
    before: Option<u64>,
) -> (u64, u64) {
    let mut start = after.map_or(0, |a| a + 1);
    let mut end = before.unwrap_or(n).min(n);
    let first = if first.is_none() && last.is_none() {
        Some(20)
    } else {
        first
    };
    if let Some(f) = first {
        end = end.min(start + f);
    }
    if let Some(l) = last {
        start = start.max(end.saturating_sub(l));
    }
    (start.min(end), end)
}

/// The fewest upstream requests covering positions `[start, end)`, found by brute force and
/// independent of the service's planner: ComplyCube serves `(page P, pageSize S)` as
/// positions `[(P-1)·S, P·S)` with `S ≤ 1000`; from each covered prefix, try every block
/// that holds its next position (breadth first: the first to reach the end is the fewest).
/// An empty window still costs one request (the list's total).
fn fewest_blocks(start: u64, end: u64) -> u64 {
    if start >= end {
        return 1;
    }
    let mut reached = std::collections::BTreeMap::from([(start, 0u64)]);
    let mut frontier = vec![start];
    while !frontier.is_empty() {
        let mut next = Vec::new();
        for at in frontier {
            let steps = reached[&at];
            for size in 1..=1000u64 {
                let to = (at / size + 1) * size;
                if to >= end {
                    return steps + 1;
                }
                if let std::collections::btree_map::Entry::Vacant(slot) = reached.entry(to) {
                    slot.insert(steps + 1);
                    next.push(to);
                }
            }
        }
        frontier = next;
    }
    unreachable!("a block of 1000 always moves on")
}

#[test]
fn the_brute_force_counts_blocks_as_upstream_serves_them() {
    assert_eq!(fewest_blocks(0, 20), 1);
    assert_eq!(fewest_blocks(1010, 1030), 1, "page 102 of 10");
    assert_eq!(
        fewest_blocks(500, 1500),
        2,
        "no single block of at most 1000 holds it"
    );
    assert_eq!(fewest_blocks(5, 5), 1);
}

#[tokio::test]
async fn every_argument_combination_costs_the_minimum_number_of_calls() {
    let app = TestApp::spawn().await;
    let n = 37u64;
    let all = page(&app, json!({ "id": THIRTY_SEVEN, "first": 37 })).await;
    let cursors: Vec<serde_json::Value> = all["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["cursor"].clone())
        .collect();
    let counts = [
        None,
        Some(0u64),
        Some(1),
        Some(5),
        Some(20),
        Some(36),
        Some(40),
    ];
    let positions = [None, Some(0u64), Some(9), Some(30), Some(36)];
    let mut over = Vec::new();
    for first in counts {
        for last in counts {
            for after in positions {
                for before in positions {
                    app.reset_calls();
                    let vars = json!({
                        "id": THIRTY_SEVEN, "first": first, "last": last,
                        "after": after.map(|i| cursors[i as usize].clone()),
                        "before": before.map(|i| cursors[i as usize].clone()),
                    });
                    page(&app, vars.clone()).await;
                    let (start, end) = relay_window(n, first, after, last, before);
                    let minimum = fewest_blocks(start, end);
                    // `last` with nothing to count back from but the end of the list needs
                    // the list's length first: one extra, tiny request at most.
                    let allowed =
                        minimum + u64::from(last.is_some() && before.is_none() && first.is_none());
                    let calls = app.calls();
                    assert!(calls >= 1);
                    if calls > allowed {
                        over.push(format!(
                            "{vars} -> {calls} calls, minimum {minimum}: {:?}",
                            app.sim.request_log()
                        ));
                    }
                }
            }
        }
    }
    assert!(
        over.is_empty(),
        "{} combinations cost more than the minimum:\n{}",
        over.len(),
        over.join("\n")
    );
}
