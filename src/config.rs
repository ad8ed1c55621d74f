//! The command line: subcommands, and every setting as a flag with an environment variable
//! behind it.
//!
//! The one thing to know: with neither an API key nor an upstream URL, `serve` runs on the
//! embedded simulator (demo mode); that decision is [`ServeArgs::upstream`].

use std::net::SocketAddr;

use clap::{Args, Parser, Subcommand};

use crate::{pagination::Limits, upstream::ApiKey};

/// ComplyCube's production API.
pub const COMPLYCUBE_BASE_URL: &str = "https://api.complycube.com/v1";

/// A GraphQL (Relay) facade over ComplyCube's live-photos API.
#[derive(Debug, Parser)]
#[command(
    name = "complycube-graphql",
    version,
    about,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Settings of `serve`, also accepted without the subcommand.
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve GraphQL (the default).
    Serve(ServeArgs),
    /// Serve the embedded ComplyCube simulator alone (REST, under /v1).
    Simulate(SimulateArgs),
    /// Print the GraphQL schema (SDL).
    Schema,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to serve GraphQL on.
    #[arg(long = "listen", env = "LISTEN_ADDR", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// ComplyCube API base URL, up to and including `/v1`. Default: the embedded simulator
    /// when no API key is set either (demo mode), else ComplyCube's production API.
    #[arg(long = "upstream-url", env = "COMPLYCUBE_BASE_URL")]
    pub upstream_url: Option<String>,

    /// ComplyCube API key (`live` or `test`), sent as `Authorization`. Never logged.
    #[arg(long = "api-key", env = "COMPLYCUBE_API_KEY", hide_env_values = true)]
    pub api_key: Option<ApiKey>,

    /// Largest `first` or `last` a query may ask for (at most 1000).
    #[arg(long, env = "MAX_PAGE_SIZE", default_value_t = Limits::DEFAULT.max_page_size,
          value_parser = clap::value_parser!(u32).range(1..=i64::from(Limits::CEILING)))]
    pub max_page_size: u32,

    /// Most upstream requests in flight at once, across all GraphQL requests.
    #[arg(long, env = "UPSTREAM_CONCURRENCY", default_value_t = 16,
          value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub upstream_concurrency: u32,

    /// Most operations in one JSON-array batch request.
    #[arg(long, env = "MAX_BATCH_SIZE", default_value_t = 16,
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub max_batch_size: u32,
}

/// Where `serve` gets its data.
#[derive(Debug, Clone, PartialEq)]
pub enum UpstreamChoice {
    /// No key and no URL: an embedded simulator, started in-process.
    Demo,
    /// A real (or standalone simulated) ComplyCube.
    Remote {
        base_url: String,
        api_key: Option<ApiKey>,
    },
}

impl ServeArgs {
    pub fn upstream(&self) -> UpstreamChoice {
        match (&self.upstream_url, &self.api_key) {
            (None, None) => UpstreamChoice::Demo,
            (url, key) => UpstreamChoice::Remote {
                base_url: url
                    .clone()
                    .unwrap_or_else(|| COMPLYCUBE_BASE_URL.to_owned()),
                api_key: key.clone(),
            },
        }
    }

    pub fn limits(&self) -> Limits {
        Limits {
            max_page_size: self.max_page_size,
            ..Limits::DEFAULT
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct SimulateArgs {
    /// Address to serve the simulator on.
    #[arg(
        long = "listen",
        env = "SIMULATOR_LISTEN_ADDR",
        default_value = "127.0.0.1:8081"
    )]
    pub listen: SocketAddr,

    /// The only API key the simulator accepts; any non-empty `Authorization` when unset.
    #[arg(long = "api-key", env = "COMPLYCUBE_API_KEY", hide_env_values = true)]
    pub api_key: Option<ApiKey>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Cli {
        Cli::try_parse_from(std::iter::once("complycube-graphql").chain(args.iter().copied()))
            .unwrap()
    }

    #[test]
    fn no_key_and_no_url_is_demo_mode() {
        // Runs with whatever the environment says; only flags are given here, so clear
        // the two that decide.
        let cli = Cli::try_parse_from(["x", "--upstream-url", "http://127.0.0.1:1/v1"]).unwrap();
        assert!(matches!(
            cli.serve.upstream(),
            UpstreamChoice::Remote { api_key: None, .. }
        ));
        let args = ServeArgs {
            upstream_url: None,
            api_key: None,
            ..cli.serve
        };
        assert_eq!(args.upstream(), UpstreamChoice::Demo);
        let args = ServeArgs {
            api_key: Some(ApiKey::new("k")),
            ..args
        };
        assert!(
            matches!(args.upstream(), UpstreamChoice::Remote { base_url, .. } if base_url == COMPLYCUBE_BASE_URL)
        );
    }

    #[test]
    fn serve_flags_work_with_and_without_the_subcommand() {
        let cli = parse(&["--listen", "127.0.0.1:9000"]);
        assert_eq!(cli.serve.listen.port(), 9000);
        let cli = parse(&["serve", "--listen", "127.0.0.1:9001"]);
        assert!(matches!(cli.command, Some(Command::Serve(a)) if a.listen.port() == 9001));
        assert!(matches!(parse(&["schema"]).command, Some(Command::Schema)));
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
    fn help_never_shows_the_key() {
        let help = Cli::try_parse_from(["x", "--api-key", "sk_live_hidden", "--help"])
            .unwrap_err()
            .to_string();
        assert!(!help.contains("sk_live_hidden"));
    }
}
