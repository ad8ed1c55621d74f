use super::*;
use crate::simulator::Mangle;

fn parse(args: &[&str]) -> Cli {
    Cli::try_parse_from(std::iter::once("complycube-graphql").chain(args.iter().copied())).unwrap()
}

#[test]
fn no_key_and_no_url_is_demo_mode() {
    // Flags only (the environment may hold a key): an empty flag counts as unset.
    let demo = parse(&["--upstream-url", "", "--api-key", ""]).serve;
    assert_eq!(demo.upstream(), UpstreamChoice::Demo);
    let url_only = ServeArgs {
        upstream_url: Some("http://127.0.0.1:1/v1".into()),
        ..demo.clone()
    };
    assert!(matches!(
        url_only.upstream(),
        UpstreamChoice::Remote { api_key: None, .. }
    ));
    let key_only = ServeArgs {
        api_key: Some(ApiKey::new("k")),
        ..demo
    };
    assert!(
        matches!(key_only.upstream(), UpstreamChoice::Remote { base_url, .. } if base_url == COMPLYCUBE_BASE_URL)
    );
}

#[test]
fn serve_flags_work_with_and_without_the_subcommand() {
    let cli = parse(&["--listen", "127.0.0.1:9000"]);
    assert_eq!(cli.serve.listen.port(), 9000);
    let cli = parse(&["serve", "--listen", "127.0.0.1:9001"]);
    assert!(matches!(cli.command, Some(Command::Serve(a)) if a.listen.port() == 9001));
    assert!(matches!(
        parse(&["schema"]).command,
        Some(Command::Schema(SchemaArgs { action: None }))
    ));
    assert!(matches!(
        parse(&["schema", "diff", "old.graphql"]).command,
        Some(Command::Schema(SchemaArgs {
            action: Some(SchemaAction::Diff { new: None, .. })
        }))
    ));
}

#[test]
fn the_maximum_page_size_is_bounded() {
    assert!(Cli::try_parse_from(["x", "--max-page-size", "1001"]).is_err());
    assert!(Cli::try_parse_from(["x", "--max-page-size", "0"]).is_err());
    assert_eq!(
        parse(&["--max-page-size", "1000"]).serve.max_page_size,
        1000
    );
}

#[test]
fn settings_that_would_stop_everything_are_refused_at_start() {
    for (flag, value) in [
        ("--request-timeout", "0s"),
        ("--upstream-connect-timeout", "0ms"),
        ("--upstream-timeout", "0s"),
        ("--http-header-timeout", "0s"),
        ("--http-body-timeout", "0s"),
        ("--image-url-ttl", "0s"),
        ("--redis-timeout", "0s"),
        ("--max-body-bytes", "0"),
        ("--max-body-bytes", "1023"),
        ("--upstream-max-body-bytes", "0"),
        ("--max-query-depth", "0"),
        ("--max-query-complexity", "0"),
        ("--max-upstream-calls", "0"),
    ] {
        let refused = Cli::try_parse_from(["x", flag, value])
            .unwrap_err()
            .to_string();
        assert!(refused.contains(flag), "{flag} {value}: {refused}");
    }
    // The smallest that can work are taken, and zero where it means "none" or "at once".
    let cli = parse(&[
        "--request-timeout",
        "1ms",
        "--max-body-bytes",
        "1024",
        "--max-upstream-calls",
        "1",
        "--max-aliases",
        "0",
        "--max-download-bytes",
        "0",
        "--upstream-retries",
        "0",
        "--shutdown-delay",
        "0s",
    ]);
    assert_eq!(*cli.serve.request_timeout, Duration::from_millis(1));
    assert_eq!(cli.serve.max_body_bytes, 1024);
    assert_eq!(cli.serve.max_upstream_calls, 1);
    assert_eq!(cli.serve.max_aliases, 0);
}

#[test]
fn help_never_shows_the_key_from_the_environment() {
    use clap::CommandFactory;
    let command = Cli::command();
    let key = command
        .get_arguments()
        .find(|a| a.get_id() == "api_key")
        .unwrap();
    assert!(key.is_hide_env_values_set());
}

#[test]
fn simulate_flags_become_standing_faults() {
    let cli = parse(&[
        "simulate",
        "--latency",
        "20ms",
        "--fail-share",
        "0.25",
        "--retry-after",
        "2",
        "--failing-client",
        "a,b",
        "--mangle",
        "truncated",
    ]);
    let Some(Command::Simulate(args)) = cli.command else {
        panic!("simulate")
    };
    let faults = args.settings().faults;
    assert_eq!(faults.len(), 5);
    assert_eq!(faults[0].delay_ms, Some(20));
    assert_eq!(faults[1].client_id.as_deref(), Some("a"));
    assert_eq!(faults[3].share, Some(0.25));
    assert_eq!(faults[3].status, Some(503));
    assert_eq!(faults[4].mangle, Some(Mangle::Truncated));
    assert!(Cli::try_parse_from(["x", "simulate", "--fail-share", "2"]).is_err());
}

#[test]
fn churn_takes_a_period_longer_than_zero() {
    let cli = parse(&["simulate", "--churn-every", "1m 5s"]);
    let Some(Command::Simulate(args)) = cli.command else {
        panic!("simulate")
    };
    assert_eq!(args.settings().churn_every, Some(Duration::from_secs(65)));
    assert!(Cli::try_parse_from(["x", "simulate", "--churn-every", "0s"]).is_err());
    assert!(Cli::try_parse_from(["x", "simulate", "--churn-every", "often"]).is_err());
}

#[test]
fn flag_defaults_are_the_library_defaults() {
    // Each default is written once, in the library; the flags name it. This checks none
    // was missed.
    let from_flags = parse(&["--api-key", "k"])
        .serve
        .service_config("http://x/v1".into(), Some(ApiKey::new("k")));
    let library = ServiceConfig::new(UpstreamSettings::new("http://x/v1", Some(ApiKey::new("k"))));
    assert_eq!(format!("{from_flags:?}"), format!("{library:?}"));
}

#[test]
fn rate_budget_flags_become_its_settings() {
    let cli = parse(&[
        "--upstream-rate",
        "5",
        "--upstream-burst",
        "3",
        "--upstream-queue-timeout",
        "750ms",
        "--upstream-rate-fallback-share",
        "0.25",
        "--redis-url",
        "redis://:hunter2@127.0.0.1:6379/0",
    ]);
    let config = cli.serve.service_config("http://x/v1".into(), None);
    let budget = &config.upstream.rate_budget;
    assert_eq!(budget.rate, Some(5.0));
    assert_eq!(budget.burst(), 3);
    assert_eq!(budget.queue_timeout, Duration::from_millis(750));
    assert_eq!(budget.fallback_share, 0.25);
    assert_eq!(
        config.upstream.redis_url.as_ref().map(|u| u.expose()),
        Some("redis://:hunter2@127.0.0.1:6379/0")
    );
    assert!(!format!("{config:?} {cli:?}").contains("hunter2"));
    // Unset, the burst is one second's worth.
    let config = parse(&["--upstream-rate", "10"])
        .serve
        .service_config("http://x/v1".into(), None);
    assert_eq!(config.upstream.rate_budget.burst(), 10);
}

#[test]
fn rate_budget_flags_out_of_range_are_refused() {
    for bad in [
        ["--upstream-rate", "0"],
        ["--upstream-rate", "-1"],
        ["--upstream-rate", "fast"],
        ["--upstream-rate", "inf"],
        ["--upstream-burst", "0"],
        ["--upstream-rate-fallback-share", "0"],
        ["--upstream-rate-fallback-share", "1.5"],
        ["--upstream-queue-timeout", "soon"],
    ] {
        assert!(
            Cli::try_parse_from(["x", bad[0], bad[1]]).is_err(),
            "{bad:?}"
        );
    }
    assert!(Cli::try_parse_from(["x", "simulate", "--rate-limit", "0"]).is_err());
}

#[test]
fn an_empty_redis_url_counts_as_unset_and_its_value_never_shows_in_help() {
    let config = parse(&["--redis-url", ""])
        .serve
        .service_config("http://x/v1".into(), None);
    assert!(config.upstream.redis_url.is_none());
    use clap::CommandFactory;
    let command = Cli::command();
    let url = command
        .get_arguments()
        .find(|a| a.get_id() == "redis_url")
        .unwrap();
    assert!(url.is_hide_env_values_set());
}

#[test]
fn the_simulator_takes_a_rate_limit() {
    let cli = parse(&["simulate", "--rate-limit", "5"]);
    let Some(Command::Simulate(args)) = cli.command else {
        panic!("simulate")
    };
    assert_eq!(args.settings().rate_limit, Some(5.0));
}

#[test]
fn durations_read_as_people_write_them() {
    let cli = parse(&[
        "--request-timeout",
        "1m 30s",
        "--upstream-retry-base-delay",
        "250ms",
    ]);
    let config = cli.serve.service_config("http://x/v1".into(), None);
    assert_eq!(config.request_timeout, Duration::from_secs(90));
    assert_eq!(config.upstream.retry.base_delay, Duration::from_millis(250));
}
