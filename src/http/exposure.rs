//! What the door shows, and to whom: browser origins (CORS), introspection, GraphiQL,
//! together with how callers authenticate ([`crate::auth`]) in one [`AccessConfig`].
//!
//! The one thing to know: nothing is opened by a default except in demo mode, which holds
//! nothing worth protecting (any origin may call it from a browser).

use clap::Args;

use super::cors::CorsPolicy;
use crate::{
    auth::{parse_switch, Authentication, Serving},
    secrets::Secret,
};

/// The settings of what the door shows, flattened into `serve`'s.
#[derive(Debug, Clone, Default, Args)]
pub struct ExposureArgs {
    /// Browser origins allowed to call `/graphql` (comma-separated, e.g.
    /// `https://app.example.com`). None by default; any in demo mode.
    #[arg(long, env = "CORS_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub cors_allowed_origins: Vec<String>,

    /// Refuse introspection (`__schema`, `__type`); `__typename` still works.
    #[arg(long, env = "NO_INTROSPECTION", value_parser = parse_switch)]
    pub no_introspection: bool,

    /// Serve no GraphiQL (`/` answers 404, a browser at `/graphql` 406).
    #[arg(long, env = "NO_PLAYGROUND", value_parser = parse_switch)]
    pub no_playground: bool,

    /// A bearer token `/metrics` requires (at least 16 characters); open when unset, for a
    /// port only the scraper reaches.
    #[arg(long, env = "METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<Secret>,
}

/// What the service shows and to whom: checked and ready to serve.
#[derive(Clone, Debug)]
pub struct AccessConfig {
    pub auth: Authentication,
    pub cors: CorsPolicy,
    /// `__schema` and `__type` answer.
    pub introspection: bool,
    /// GraphiQL is served at `/` and to browsers at `/graphql`.
    pub playground: bool,
    /// The bearer token `/metrics` requires, if any.
    pub metrics_token: Option<Secret>,
}

impl Default for AccessConfig {
    /// Open, as a library default (tests, benchmarks); `serve` decides through the flags'
    /// `resolve`, which refuses to open a real key to everyone.
    fn default() -> Self {
        Self {
            auth: Authentication::Open,
            cors: CorsPolicy::Off,
            introspection: true,
            playground: true,
            metrics_token: None,
        }
    }
}

impl ExposureArgs {
    /// These settings, checked, beside how callers authenticate.
    pub fn resolve(&self, serving: Serving, auth: Authentication) -> Result<AccessConfig, String> {
        let cors = match (CorsPolicy::parse(&self.cors_allowed_origins)?, serving) {
            (CorsPolicy::Off, Serving::Demo) => CorsPolicy::Any,
            (policy, _) => policy,
        };
        let metrics_token = self
            .metrics_token
            .clone()
            .filter(|t| !t.expose().is_empty());
        if metrics_token
            .as_ref()
            .is_some_and(|t| t.expose().chars().count() < 16)
        {
            return Err("METRICS_TOKEN / --metrics-token must be at least 16 characters".into());
        }
        Ok(AccessConfig {
            auth,
            cors,
            introspection: !self.no_introspection,
            playground: !self.no_playground,
            metrics_token,
        })
    }
}

impl AccessConfig {
    /// Says at start-up who may call and what is exposed.
    pub fn log_start(&self, serving: Serving) {
        self.auth.log_start(serving);
        match &self.cors {
            CorsPolicy::Off => {}
            CorsPolicy::Any => tracing::info!("CORS: any origin may call from a browser"),
            CorsPolicy::Origins(origins) => {
                tracing::info!(origins = %origins.join(", "), "CORS: these origins may call from a browser")
            }
        }
        if !self.introspection {
            tracing::info!("introspection is off (__schema, __type)");
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Flags {
        #[command(flatten)]
        exposure: ExposureArgs,
    }

    fn resolve(flags: &[&str], serving: Serving) -> AccessConfig {
        Flags::try_parse_from(std::iter::once("x").chain(flags.iter().copied()))
            .unwrap()
            .exposure
            .resolve(serving, Authentication::Open)
            .unwrap()
    }

    #[test]
    fn only_demo_mode_opens_cors_by_default() {
        assert_eq!(resolve(&[], Serving::Demo).cors, CorsPolicy::Any);
        let remote = Serving::Remote { server_key: true };
        assert_eq!(resolve(&[], remote).cors, CorsPolicy::Off);
        let app = resolve(
            &["--cors-allowed-origins", "https://app.example.com"],
            remote,
        );
        assert_eq!(
            app.cors,
            CorsPolicy::Origins(vec!["https://app.example.com".into()])
        );
    }

    #[test]
    fn introspection_and_playground_are_on_by_default() {
        let config = resolve(&[], Serving::Demo);
        assert!(config.introspection && config.playground);
        let config = resolve(&["--no-introspection", "--no-playground"], Serving::Demo);
        assert!(!config.introspection && !config.playground);
    }
}
