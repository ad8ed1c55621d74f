//! The release artefact as users run it: the `complycube-graphql` binary, its subcommands,
//! demo mode, and its logs (which must never hold the key).

use std::{process::Stdio, sync::Arc, time::Duration};

use complycube_graphql::simulator::{Fault, Mangle};
use serde_json::{json, Value};
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
    sync::Mutex,
};

use crate::helpers::*;

const BIN: &str = env!("CARGO_BIN_EXE_complycube-graphql");

/// The binary these tests run: this build's, or `COMPLYCUBE_GRAPHQL_BIN` (to measure the
/// release build with the same tests, e.g. the amplification test's memory).
fn bin() -> String {
    std::env::var("COMPLYCUBE_GRAPHQL_BIN").unwrap_or_else(|_| BIN.to_owned())
}

/// A running binary and everything it has written to stderr so far.
pub(crate) struct Running {
    child: Child,
    log: Arc<Mutex<String>>,
    /// Reads stderr to its end; done once the child has exited.
    reader: tokio::task::JoinHandle<()>,
    pub(crate) addr: String,
}

/// Starts the binary with a clean environment plus `env`, and waits for it to say where
/// it listens (by reading its log, not by sleeping).
pub(crate) async fn start(args: &[&str], env: &[(&str, &str)]) -> Running {
    let mut command = Command::new(bin());
    command
        .args(args)
        .env_clear()
        .env("LISTEN_ADDR", "127.0.0.1:0")
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for (k, v) in env {
        command.env(k, v);
    }
    let mut child = command.spawn().expect("the binary starts");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let log = Arc::new(Mutex::new(String::new()));
    let (tx, rx) = tokio::sync::oneshot::channel();
    let sink = log.clone();
    let reader = tokio::spawn(async move {
        let mut tx = Some(tx);
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(rest) = line.split("GraphQL on http://").nth(1) {
                if let (Some(addr), Some(tx)) = (rest.split('/').next(), tx.take()) {
                    let _ = tx.send(addr.to_owned());
                }
            }
            let mut log = sink.lock().await;
            log.push_str(&line);
            log.push('\n');
        }
    });
    let addr = tokio::time::timeout(Duration::from_secs(30), rx)
        .await
        .expect("the binary announces its address")
        .expect("the binary announces its address");
    Running {
        child,
        log,
        reader,
        addr,
    }
}

impl Running {
    /// A memory figure of the process from `/proc/<pid>/status`, in bytes: `VmHWM` (the
    /// largest resident set so far), `RssFile` (the resident pages of files: its code).
    pub(crate) fn memory(&self, field: &str) -> u64 {
        let pid = self.child.id().expect("still running");
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        let kib: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("{field} in /proc/<pid>/status"));
        kib * 1024
    }

    pub(crate) async fn query(&self, query: &str) -> Value {
        query_at(self.addr.parse().expect("an address"), query).await
    }

    pub(crate) async fn stop(mut self) -> String {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
        // The pipe closes with the child: wait until every line has been read.
        let _ = tokio::time::timeout(Duration::from_secs(10), self.reader).await;
        self.log.lock().await.clone()
    }
}

#[test]
fn the_schema_subcommand_prints_schema_graphql() {
    let output = std::process::Command::new(bin())
        .arg("schema")
        .output()
        .unwrap();
    assert!(output.status.success());
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql")).unwrap();
    assert_eq!(String::from_utf8(output.stdout).unwrap(), committed);
}

#[tokio::test]
async fn with_no_settings_it_serves_demo_data_and_graphiql() {
    let running = start(&[], &[]).await;
    let response = running
        .query(r#"{ client(id: "5eb1276d96be4a0008713af5") { livePhotos { totalCount nodes { id: complyCubeId } } } }"#)
        .await;
    assert_eq!(
        response["data"]["client"]["livePhotos"]["nodes"][0]["id"],
        "5eb1b5f231778a0008d1c3f6"
    );

    let http = reqwest::Client::new();
    let page = http
        .get(format!("http://{}/", running.addr))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("/graphiql/graphiql.min.js") && page.contains("/graphiql/app.js"));
    let app = http
        .get(format!("http://{}/graphiql/app.js", running.addr))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        app.contains("5eb1276d96be4a0008713af5"),
        "the default document"
    );
    let browser = http
        .get(format!("http://{}/graphql", running.addr))
        .header("accept", "text/html,application/xhtml+xml")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(browser, page, "a browser at /graphql gets GraphiQL too");
    for asset in [
        "graphiql.min.js",
        "graphiql.min.css",
        "react.production.min.js",
        "react-dom.production.min.js",
    ] {
        let response = http
            .get(format!("http://{}/graphiql/{asset}", running.addr))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{asset}");
        assert!(response.bytes().await.unwrap().len() > 5000, "{asset}");
    }
    let get = http
        .get(format!(
            "http://{}/graphql?query=%7B__typename%7D",
            running.addr
        ))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(get, json!({ "data": { "__typename": "Query" } }));
    assert_eq!(
        http.get(format!("http://{}/healthz", running.addr))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    let log = running.stop().await;
    assert!(log.contains("demo mode"), "{log}");
}

#[tokio::test]
async fn the_key_never_reaches_a_response_or_the_log_even_at_trace_level() {
    let (sim, sim_addr) = spawn_simulator().await;
    let upstream = format!("http://{sim_addr}/v1");
    let running = start(
        &[
            "--upstream-url",
            &upstream,
            "--upstream-timeout",
            "300ms",
            "--upstream-retry-base-delay",
            "1ms",
            "--request-timeout",
            "2s",
        ],
        &[
            ("COMPLYCUBE_API_KEY", TEST_KEY),
            ("RUST_LOG", "trace"),
            ("ALLOW_UNAUTHENTICATED", "true"),
        ],
    )
    .await;
    let query =
        |client: &str| format!(r#"{{ client(id: "{client}") {{ livePhotos {{ totalCount }} }} }}"#);
    let ok = running.query(&query(THREE)).await;
    assert_eq!(ok["data"]["client"]["livePhotos"]["totalCount"], 3, "{ok}");
    let echo = format!(
        r#"{{"type": "{TEST_KEY}", "message": "your key {TEST_KEY} is bad", "param": "{TEST_KEY}"}}"#
    );
    let faults = [
        Fault {
            status: Some(401),
            ..Fault::default()
        },
        Fault {
            status: Some(500),
            body: Some(echo.clone()),
            ..Fault::default()
        },
        Fault {
            status: Some(503),
            body: Some(echo),
            ..Fault::default()
        },
        Fault {
            status: Some(429),
            retry_after: Some("0".into()),
            ..Fault::default()
        },
        Fault {
            status: Some(200),
            body: Some(format!("{{\"page\": \"{TEST_KEY}\"}}")),
            ..Fault::default()
        },
        Fault {
            mangle: Some(Mangle::Truncated),
            ..Fault::default()
        },
        Fault {
            mangle: Some(Mangle::Oversized),
            ..Fault::default()
        },
        Fault {
            delay_ms: Some(5_000),
            ..Fault::default()
        },
    ];
    let mut responses = vec![ok];
    for fault in faults {
        sim.reset();
        sim.add_fault(fault);
        responses.push(running.query(&query(THREE)).await);
    }
    sim.reset();
    responses.push(running.query(&query("ffffffffffffffffffffffff")).await);
    let all = serde_json::to_string(&responses).unwrap();
    for code in [
        "UNAUTHENTICATED",
        "UPSTREAM_ERROR",
        "RATE_LIMITED",
        "NOT_FOUND",
    ] {
        assert!(all.contains(code), "{code} in {all}");
    }
    assert!(
        all.contains("<redacted>"),
        "echoed keys are scrubbed: {all}"
    );
    assert!(!all.contains(TEST_KEY), "a response holds the key: {all}");
    let log = running.stop().await;
    assert!(
        log.contains("TRACE") && log.contains("retrying ComplyCube"),
        "trace logging was on"
    );
    assert!(!log.contains(TEST_KEY), "the log holds the key");
    assert!(
        log.contains("WARN") && log.contains("ALLOW_UNAUTHENTICATED"),
        "an unauthenticated start with a real key warns: {log}"
    );
}

/// Runs the binary to its exit (it is expected to refuse to start); returns its stderr.
pub(crate) async fn refused_start(args: &[&str], env: &[(&str, &str)]) -> String {
    let mut command = Command::new(bin());
    command
        .args(args)
        .env_clear()
        .env("LISTEN_ADDR", "127.0.0.1:0")
        .env("NO_COLOR", "1")
        .kill_on_drop(true);
    for (k, v) in env {
        command.env(k, v);
    }
    let output = tokio::time::timeout(Duration::from_secs(30), command.output())
        .await
        .expect("the binary exits")
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(!output.status.success(), "it started: {stderr}");
    assert!(!stderr.contains("GraphQL on"), "{stderr}");
    assert!(
        !stderr.contains(TEST_KEY),
        "the log holds the key: {stderr}"
    );
    stderr
}

#[tokio::test]
async fn a_real_key_without_caller_authentication_refuses_to_start_and_says_how_to_fix_it() {
    // Never contacted: the refusal comes first.
    let upstream = "http://127.0.0.1:9/v1";
    let log = refused_start(
        &["--upstream-url", upstream],
        &[("COMPLYCUBE_API_KEY", TEST_KEY)],
    )
    .await;
    for setting in [
        "FACADE_ACCESS_TOKENS",
        "FACADE_JWT_SECRET",
        "FACADE_JWKS_URL",
        "--forward-authorization",
        "ALLOW_UNAUTHENTICATED",
    ] {
        assert!(log.contains(setting), "{setting} in {log}");
    }
    // The key with no URL means production ComplyCube: refused the same way.
    refused_start(&[], &[("COMPLYCUBE_API_KEY", TEST_KEY)]).await;
    // Forwarding callers' keys while holding one is refused too.
    let log = refused_start(
        &["--forward-authorization"],
        &[("COMPLYCUBE_API_KEY", TEST_KEY)],
    )
    .await;
    assert!(log.contains("COMPLYCUBE_API_KEY"), "{log}");
    // `false` is not a yes.
    refused_start(
        &[],
        &[
            ("COMPLYCUBE_API_KEY", TEST_KEY),
            ("ALLOW_UNAUTHENTICATED", "false"),
        ],
    )
    .await;
}

#[tokio::test]
async fn with_access_tokens_it_serves_the_key_to_token_holders_only() {
    let (sim, sim_addr) = spawn_simulator().await;
    let upstream = format!("http://{sim_addr}/v1");
    let token = "binary-test-token-0123456789";
    let running = start(
        &["--upstream-url", &upstream],
        &[
            ("COMPLYCUBE_API_KEY", TEST_KEY),
            (
                "FACADE_ACCESS_TOKENS",
                &format!("another-token-0123456789, {token}"),
            ),
        ],
    )
    .await;
    let query = json!({ "query": format!(r#"{{ client(id: "{THREE}") {{ livePhotos {{ totalCount }} }} }}"#) });
    let http = reqwest::Client::new();
    let url = format!("http://{}/graphql", running.addr);
    let refused = http.post(&url).json(&query).send().await.unwrap();
    assert_eq!(refused.status(), 401);
    assert_eq!(sim.request_count(), 0);
    let answer: Value = http
        .post(&url)
        .bearer_auth(token)
        .json(&query)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        answer["data"]["client"]["livePhotos"]["totalCount"], 3,
        "{answer}"
    );
    let log = running.stop().await;
    assert!(log.contains("requires Authorization: Bearer"), "{log}");
    assert!(!log.contains(token), "the log holds a token");
}

#[tokio::test]
async fn an_unreachable_redis_is_logged_without_its_password_and_the_budget_falls_back() {
    let (_sim, sim_addr) = spawn_simulator().await;
    let upstream = format!("http://{sim_addr}/v1");
    // A port where nothing listens.
    let port = listener().await.local_addr().unwrap().port();
    let redis = format!("redis://:hunter2-redis-secret@127.0.0.1:{port}/0");
    let running = start(
        &["--upstream-url", &upstream, "--upstream-rate", "5"],
        &[
            ("COMPLYCUBE_API_KEY", TEST_KEY),
            ("REDIS_URL", &redis),
            ("RUST_LOG", "trace"),
            ("ALLOW_UNAUTHENTICATED", "true"),
        ],
    )
    .await;
    let ok = running
        .query(&format!(
            r#"{{ client(id: "{THREE}") {{ livePhotos {{ totalCount }} }} }}"#
        ))
        .await;
    assert_eq!(ok["data"]["client"]["livePhotos"]["totalCount"], 3, "{ok}");
    let log = running.stop().await;
    assert!(log.contains("upstream rate budget per key"), "{log}");
    assert!(log.contains("falls back"), "{log}");
    assert!(log.contains("redis://***@127.0.0.1"), "{log}");
    assert!(!log.contains("hunter2"), "the log holds the Redis password");
    assert!(!log.contains(TEST_KEY), "the log holds the key");
}

#[tokio::test]
async fn json_logs_are_one_object_per_line_with_the_request_span() {
    let (_sim, sim_addr) = spawn_simulator().await;
    let upstream = format!("http://{sim_addr}/v1");
    let running = start(
        &["--upstream-url", &upstream, "--log-format", "json"],
        &[
            ("COMPLYCUBE_API_KEY", TEST_KEY),
            ("RUST_LOG", "info,complycube_graphql=debug"),
            ("ALLOW_UNAUTHENTICATED", "true"),
        ],
    )
    .await;
    let response = reqwest::Client::new()
        .post(format!("http://{}/graphql", running.addr))
        .header("x-request-id", "json-log-probe-1")
        .json(&json!({
            "query": format!(r#"query JsonLogProbe {{ client(id: "{THREE}") {{ livePhotos(first: 2) {{ totalCount }} }} }}"#)
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "json-log-probe-1");
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["data"]["client"]["livePhotos"]["totalCount"], 3,
        "{body}"
    );
    let log = running.stop().await;
    assert!(!log.contains(TEST_KEY), "the log holds the key");
    let lines: Vec<Value> = log
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    assert!(lines
        .iter()
        .all(|l| l["timestamp"].is_string() && l["level"].is_string()));
    let done = lines
        .iter()
        .find(|l| l["fields"]["message"] == "GraphQL request done")
        .unwrap_or_else(|| panic!("a line per request at debug level: {log}"));
    let span = &done["span"];
    assert_eq!(span["name"], "graphql");
    assert_eq!(span["request_id"], "json-log-probe-1");
    assert_eq!(span["operation"], "JsonLogProbe");
    assert_eq!(span["outcome"], "ok");
    assert_eq!(span["upstream_calls"], 1);
    assert!(span["duration_ms"].as_f64().is_some(), "{done}");
    let call = lines
        .iter()
        .find(|l| l["fields"]["message"] == "ComplyCube call")
        .unwrap_or_else(|| panic!("a line per upstream call: {log}"));
    assert_eq!(call["fields"]["endpoint"], "list_live_photos");
    assert_eq!(call["fields"]["status"], "200");
    assert_eq!(call["span"]["request_id"], "json-log-probe-1");
    assert!(
        !log.contains("clientId="),
        "no upstream query strings in the log"
    );
}
