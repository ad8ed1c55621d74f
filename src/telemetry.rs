//! Logs: human-readable text (the default) or one JSON object per line, for a log
//! collector; the level from `RUST_LOG` (default `info`).
//!
//! What is logged, and at which level:
//!
//! - `info`: start-up (mode, addresses), shutdown; every GraphQL request runs in an
//!   `info` span `graphql` with its `request_id`, so any warning or error inside it names
//!   the request.
//! - `debug`: one event per GraphQL request when it ends, its span then holding
//!   `operation`, `outcome`, `duration_ms` and `upstream_calls` too; and one per request
//!   to ComplyCube (`endpoint`, `status`, `duration_ms`) and per retry. Off by default: a
//!   line per request, or even writing those fields into the span, costs more CPU than
//!   the rest of the instrumentation together. `RUST_LOG=info,complycube_graphql=debug`
//!   turns them on.
//!
//! The one thing to know: nothing logged carries the API key, a bearer token, image data,
//! or an upstream URL's query string; ids (request, client, photo) may appear.

use std::io::IsTerminal;

use clap::ValueEnum;
use tracing::Level;
use tracing_subscriber::{
    filter::Targets, layer::SubscriberExt, util::SubscriberInitExt, EnvFilter,
};

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
    let (targets, env_filter) = filter(std::env::var("RUST_LOG").ok().as_deref());
    let ansi = std::io::stderr().is_terminal();
    let text = (format == LogFormat::Text).then(|| {
        tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            // Colours for a terminal only: not into files and collectors, and they cost.
            .with_ansi(ansi)
    });
    let json = (format == LogFormat::Json).then(|| {
        tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .json()
            .with_current_span(true)
            .with_span_list(false)
    });
    tracing_subscriber::registry()
        .with(targets)
        .with(env_filter)
        .with(text)
        .with(json)
        .init();
}

/// The filter `RUST_LOG` asks for (default `info`; one that does not parse is `info`).
///
/// Plain `target=level` lists, the usual case, become a [`Targets`]: a fixed filter.
/// Only directives that [`EnvFilter`] alone understands (span names and fields) get one:
/// it takes a lock on every enter and exit of every span, and each GraphQL request's span
/// is entered and left at every poll.
fn filter(directives: Option<&str>) -> (Option<Targets>, Option<EnvFilter>) {
    let directives = directives.map(str::trim).filter(|d| !d.is_empty());
    let Some(directives) = directives else {
        return (Some(Targets::new().with_default(Level::INFO)), None);
    };
    // `Targets` would read a span directive (`[span{field}]`) as an odd target name.
    let plain = !directives.contains(['[', '{']);
    if let Some(targets) = plain.then(|| directives.parse::<Targets>().ok()).flatten() {
        return (Some(targets), None);
    }
    match EnvFilter::try_new(directives) {
        Ok(filter) => (None, Some(filter)),
        Err(_) => (Some(Targets::new().with_default(Level::INFO)), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_directives_take_the_lock_free_filter() {
        for plain in [
            None,
            Some(""),
            Some("info"),
            Some("info,complycube_graphql=debug"),
        ] {
            let (targets, env) = filter(plain);
            assert!(targets.is_some() && env.is_none(), "{plain:?}");
        }
        let (targets, env) = filter(Some("info,complycube_graphql=debug"));
        let targets = targets.unwrap();
        assert!(targets.would_enable("complycube_graphql::http", &Level::DEBUG));
        assert!(!targets.would_enable("hyper", &Level::DEBUG));
        assert!(env.is_none());
        let (targets, env) = filter(Some("warn,[graphql{request_id}]=debug"));
        assert!(
            targets.is_none() && env.is_some(),
            "span directives need EnvFilter"
        );
    }
}
