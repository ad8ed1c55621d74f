//! Tests of the metrics: bounded labels, series present from the start, no secrets.
use std::sync::RwLock;

use prometheus_client::metrics::{counter::Counter, family::Family};

use super::{names::OperationNames, *};

#[test]
fn operation_names_are_bounded() {
    let family = Family::<GraphqlLabels, Counter>::default();
    let names = OperationNames {
        known: RwLock::default(),
        other_ok: Counter::default(),
    };
    let label = |name: &str| names.with(name, &family, |label, _| label.to_string());
    assert_eq!(label("W1"), "W1");
    for odd in ["", "9lives", "has space", "dash-ed", "é", &"x".repeat(65)] {
        assert_eq!(label(odd), "(other)", "{odd:?}");
    }
    for i in 0..MAX_OPERATION_NAMES * 2 {
        let expected = if i < MAX_OPERATION_NAMES - 1 {
            format!("Op{i}")
        } else {
            "(other)".to_owned()
        };
        assert_eq!(
            label(&format!("Op{i}")),
            expected,
            "W1 took one of the places"
        );
    }
    assert_eq!(label("W1"), "W1", "known names stay known");
    names.with("W1", &family, |_, ok| ok.inc());
    names.with("W1", &family, |_, ok| ok.inc());
    let ok = family.get_or_create(&GraphqlLabels {
        operation: OperationName(Arc::from("W1")),
        outcome: "ok",
    });
    assert_eq!(ok.get(), 2, "the cached counter is the family's");
}

#[test]
fn cached_series_are_the_registered_ones() {
    upstream_request(
        "download_live_photo",
        UpstreamStatus::Code(200),
        Some(Duration::from_millis(2)),
    );
    loader_batch("downloads", 3);
    graphql_operation(None, "ok");
    let text = render();
    for series in [
        r#"complycube_graphql_upstream_requests_total{endpoint="download_live_photo",status="200"} "#,
        r#"complycube_graphql_upstream_request_duration_seconds_count{endpoint="download_live_photo"} "#,
        r#"complycube_graphql_loader_batch_size_count{loader="downloads"} "#,
        r#"complycube_graphql_graphql_requests_total{operation="(anonymous)",outcome="ok"} "#,
    ] {
        let value: f64 = text
            .lines()
            .find_map(|l| l.strip_prefix(series))
            .unwrap_or_else(|| panic!("{series} in {text}"))
            .parse()
            .unwrap();
        assert!(value >= 1.0, "{series}");
    }
}

#[test]
fn unknown_auth_reasons_count_as_other() {
    auth_refused("no such reason");
    auth_refused("expired");
    let text = render();
    assert!(text.contains(r#"complycube_graphql_auth_refusals_total{reason="other"} "#));
    assert!(!text.contains("no such reason"));
}

#[test]
fn statuses_and_latencies_render() {
    upstream_request(
        "get_client",
        UpstreamStatus::Code(404),
        Some(Duration::from_millis(3)),
    );
    upstream_request("get_client", UpstreamStatus::Timeout, None);
    let text = render();
    assert!(text.contains(
        r#"complycube_graphql_upstream_requests_total{endpoint="get_client",status="404"} "#
    ));
    assert!(text.contains(
        r#"complycube_graphql_upstream_requests_total{endpoint="get_client",status="timeout"} "#
    ));
    assert!(text.contains(
        r#"complycube_graphql_upstream_request_duration_seconds_bucket{le="0.005",endpoint="get_client"} "#
    ));
    assert!(text.ends_with("# EOF\n"));
}
