//! complycube-graphql: a Relay-compliant GraphQL facade over ComplyCube's "List live
//! photos" REST endpoint, with an embedded ComplyCube simulator for demos and tests.
//!
//! A tour, in the order a request travels:
//!
//! - [`http`]: the axum router; `/graphql`, GraphiQL, health, limits. Gives every HTTP
//!   request its own dataloader.
//! - [`schema`]: GraphQL types and resolvers; maps failures to `extensions.code`.
//! - [`pagination`]: cursors, Relay arguments to windows, and the planner that turns
//!   windows into the fewest upstream `page`/`pageSize` requests. Pure code.
//! - [`loader`]: the per-request batching dataloader that merges windows and fans out.
//! - [`upstream`]: the ComplyCube REST client, its wire types and errors; the API key.
//! - [`simulator`]: the embedded ComplyCube stand-in and its demo data.
//! - [`config`]: the command line and environment.
//! - [`metrics`], [`telemetry`]: what `/metrics` shows, and the logs.
//!
//! `main.rs` only parses flags and wires these together; tests start the same pieces on
//! `127.0.0.1:0` (see [`start`]).

pub mod config;
pub mod http;
pub mod loader;
pub mod metrics;
pub mod pagination;
pub mod schema;
pub mod simulator;
pub mod telemetry;
pub mod upstream;

use std::{future::Future, net::SocketAddr};

use tokio::net::TcpListener;

pub use http::{Service, ServiceConfig};

/// Starts the GraphQL service on `listener` in a new task and returns its address.
pub async fn start(
    listener: TcpListener,
    config: &ServiceConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<SocketAddr, String> {
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let service = Service::new(config)?;
    tokio::spawn(async move {
        if let Err(e) = service.serve(listener, shutdown).await {
            tracing::error!(error = %e, "the GraphQL server stopped");
        }
    });
    Ok(addr)
}
