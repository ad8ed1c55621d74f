//! Spawns a simulator and a service wired to it, on `127.0.0.1:0`, and talks to them.

use std::net::SocketAddr;

use complycube_graphql::{
    simulator::{data, Fault, Simulator, SimulatorSettings},
    upstream::{ApiKey, UpstreamSettings},
    ServiceConfig,
};
use serde_json::{json, Value};
use tokio::net::TcpListener;

/// The key the test simulator demands. Tests search every response and log for it.
pub const TEST_KEY: &str = "sk_test_S3CR3T-do-not-leak-4f1c";

/// A signing secret for image URLs, where a test's service needs one (forwarding mode).
pub const IMAGE_SECRET: &str = "a-test-image-url-secret-of-32-bytes-or-more";

pub const DOCUMENTED: &str = data::DOCUMENTED_CLIENT;
pub const EMPTY: &str = "5f1e0a3c9d2b4a0008a10000";
pub const THREE: &str = "5f1e0a3c9d2b4a0008a10003";
pub const SEVEN: &str = "5f1e0a3c9d2b4a0008a10007";
pub const TWELVE: &str = "5f1e0a3c9d2b4a0008a1000c";
pub const THIRTY_SEVEN: &str = "5f1e0a3c9d2b4a0008a10025";
pub const BIG: &str = "5f1e0a3c9d2b4a0008a104e2";

pub struct TestApp {
    pub addr: SocketAddr,
    pub sim: Simulator,
    pub sim_addr: SocketAddr,
    http: reqwest::Client,
}

pub async fn listener() -> TcpListener {
    TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback")
}

/// A simulator that demands [`TEST_KEY`].
pub async fn spawn_simulator() -> (Simulator, SocketAddr) {
    let sim = Simulator::new(SimulatorSettings {
        api_key: Some(ApiKey::new(TEST_KEY)),
        ..SimulatorSettings::default()
    });
    let addr = sim.clone().spawn(listener().await).await.unwrap();
    (sim, addr)
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// A service using [`TEST_KEY`], with `configure` applied to its settings.
    pub async fn spawn_with(configure: impl FnOnce(&mut ServiceConfig)) -> Self {
        let (sim, sim_addr) = spawn_simulator().await;
        let addr = start_service(&format!("http://{sim_addr}/v1"), TEST_KEY, configure).await;
        Self {
            addr,
            sim,
            sim_addr,
            http: reqwest::Client::new(),
        }
    }

    /// Another service, with default settings, on the same simulator as `other`.
    pub async fn spawn_on(other: &TestApp) -> Self {
        let addr = start_service(&format!("http://{}/v1", other.sim_addr), TEST_KEY, |_| {}).await;
        Self {
            addr,
            sim: other.sim.clone(),
            sim_addr: other.sim_addr,
            http: reqwest::Client::new(),
        }
    }

    /// A handle on a service already started at `addr`, talking to `sim` at `sim_addr`.
    pub fn at(addr: SocketAddr, sim: Simulator, sim_addr: SocketAddr) -> Self {
        Self {
            addr,
            sim,
            sim_addr,
            http: reqwest::Client::new(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// POSTs any JSON body to `/graphql`; returns status and parsed body.
    pub async fn post(&self, body: Value) -> (u16, Value) {
        let (status, text) = self.post_text(body).await;
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// POSTs any JSON body to `/graphql`; returns status and the body as sent (field order
    /// and all).
    pub async fn post_text(&self, body: Value) -> (u16, String) {
        let response = self
            .http
            .post(self.url("/graphql"))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        assert!(!text.contains(TEST_KEY), "the API key leaked: {text}");
        (status, text)
    }

    /// Runs one query; asserts HTTP 200 and returns the GraphQL response.
    pub async fn query(&self, query: &str, variables: Value) -> Value {
        let (status, body) = self
            .post(json!({ "query": query, "variables": variables }))
            .await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// Upstream requests the simulator has served.
    pub fn calls(&self) -> u64 {
        self.sim.request_count()
    }

    pub fn reset_calls(&self) {
        self.sim.reset();
    }

    pub fn fault(&self, fault: Fault) {
        self.sim.add_fault(fault);
    }
}

/// Starts a service talking to `base_url` with `key`, `configure` applied to its settings.
pub async fn start_service(
    base_url: &str,
    key: &str,
    configure: impl FnOnce(&mut ServiceConfig),
) -> SocketAddr {
    let mut config = ServiceConfig::new(UpstreamSettings::new(base_url, Some(ApiKey::new(key))));
    configure(&mut config);
    complycube_graphql::start(listener().await, &config, std::future::pending())
        .await
        .unwrap()
}

/// Runs one query against the service at `addr`.
pub async fn query_at(addr: SocketAddr, query: &str) -> Value {
    reqwest::Client::new()
        .post(format!("http://{addr}/graphql"))
        .json(&json!({ "query": query }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The ids of a demo client's photos, newest first: what any traversal must return.
pub fn photo_ids(client: &str) -> Vec<String> {
    data::demo_photos()[client]
        .iter()
        .map(|p| p.id.clone())
        .collect()
}

/// The error codes of a GraphQL response, in order.
pub fn codes(response: &Value) -> Vec<String> {
    response["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| {
                    e["extensions"]["code"]
                        .as_str()
                        .unwrap_or("<none>")
                        .to_owned()
                })
                .collect()
        })
        .unwrap_or_default()
}

pub const PAGE_QUERY: &str = r#"
query Page($id: ID!, $first: Int, $after: String, $last: Int, $before: String, $filter: LivePhotoFilter) {
  client(id: $id) {
    livePhotos(first: $first, after: $after, last: $last, before: $before, filter: $filter) {
      totalCount
      pageInfo { hasPreviousPage hasNextPage startCursor endCursor }
      edges { cursor node { id: complyCubeId } }
    }
  }
}"#;

/// One page through [`PAGE_QUERY`]; panics on errors.
pub async fn page(app: &TestApp, variables: Value) -> Value {
    let response = app.query(PAGE_QUERY, variables).await;
    assert!(response.get("errors").is_none(), "{response}");
    response["data"]["client"]["livePhotos"].clone()
}

pub fn edge_ids(connection: &Value) -> Vec<String> {
    connection["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap().to_owned())
        .collect()
}
