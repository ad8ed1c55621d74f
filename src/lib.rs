//! complycube-graphql: a Relay-compliant GraphQL facade over ComplyCube's live photos and
//! clients (list, lookups, downloads, client details), with an embedded ComplyCube
//! simulator for demos and tests.
//!
//! A tour, in the order a request travels:
//!
//! - [`http`]: the axum router; `/graphql`, GraphiQL, health, limits, CORS, persisted
//!   queries. Gives every HTTP request its own set of loaders.
//! - [`auth`]: who is calling (static tokens, JWTs, forwarded keys) and which clients
//!   they may read; secure by default.
//! - [`executor`]: what we add around async-graphql's execution: the document cache, the
//!   checks before anything runs, resolution in place, the spec's field order and nulls.
//! - [`schema`]: GraphQL types and resolvers; each failure with its [`code::Code`].
//! - [`pagination`]: cursors, Relay arguments to windows, and the planner that turns
//!   windows into the fewest upstream `page`/`pageSize` requests. Pure code.
//! - [`loader`]: the request's loaders: pages (merge windows, plan, check cursors' photos,
//!   find them again) and lookups (photos, clients, downloads), one deadline and one call
//!   budget between them.
//! - [`upstream`]: the ComplyCube REST client: one request path (budget, rate budget,
//!   retries, permit, deadline, key scrubbing) under typed endpoints; wire types, errors,
//!   the API key.
//! - [`cache`]: reuse of upstream answers, in process and sealed in Redis (off by default).
//! - [`simulator`]: the embedded ComplyCube stand-in and its demo data.
//! - [`config`]: the command line and environment.
//! - [`code`]: the one error vocabulary (GraphQL and HTTP), with statuses and labels.
//! - [`metrics`], [`telemetry`]: what `/metrics` shows, and the logs.
//!
//! `main.rs` only parses flags and wires these together; tests start the same pieces on
//! `127.0.0.1:0` (see [`start`]).

pub mod auth;
pub mod cache;
pub mod code;
pub mod compat;
pub mod config;
pub mod executor;
pub mod http;
pub mod images;
pub mod loader;
pub mod metrics;
pub mod pagination;
pub mod redis;
pub mod schema;
pub mod secrets;
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
