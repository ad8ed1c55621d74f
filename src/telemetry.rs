//! Logs: human-readable text (the default) or one JSON object per line, for a log
//! collector; the level from `RUST_LOG` (default `info`).
//!
//! What is logged, and at which level:
//!
//! - `info`: start-up (mode, addresses), shutdown; every GraphQL request runs in an
//!   `info` span `graphql` with `request_id` and `operation`, so any warning or error
//!   inside it names the request.
//! - `debug`: one event per GraphQL request when it ends (`outcome`, `duration_ms`,
//!   `upstream_calls`), and one per request to ComplyCube (`endpoint`, `status`,
//!   `duration_ms`) and per retry. Off by default: a line per request costs more CPU than
//!   the rest of the instrumentation together. `RUST_LOG=info,complycube_graphql=debug`
//!   turns them on.
//!
//! The one thing to know: nothing logged carries the API key, a bearer token, image data,
//! or an upstream URL's query string; ids (request, client, photo) may appear.

use clap::ValueEnum;
use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// For people: `2024-01-01T00:00:00Z  INFO graphql{request_id=..}: message`.
    #[default]
    Text,
    /// For collectors: one JSON object per line, with `timestamp`, `level`, `target`,
    /// `fields` (the message and its fields) and `span` (the current span's fields).
    Json,
}

/// Installs the process's log subscriber, writing to stderr.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .init(),
    }
}
