//! What the door shows, and to whom: browser origins (CORS), introspection, GraphiQL,
//! together with how callers authenticate ([`crate::auth`]) in one [`AccessConfig`].
//!
//! The one thing to know: nothing is opened by a default except in demo mode, which holds
//! nothing worth protecting (any origin may call it from a browser).

use clap::Args;

use std::net::SocketAddr;

use super::{
    cors::CorsPolicy,
    guard::{AllowedHosts, LOOPBACK_NAMES},
    trusted::{Mode, TrustedDocuments},
};
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

    /// Host names (`Host` header) answered in open mode (--allow-unauthenticated with a
    /// key), comma-separated, `*.example.com` for one label. Default: the loopback names when
    /// listening on loopback; otherwise open mode refuses to start without it.
    #[arg(long, env = "ALLOWED_HOSTS", value_delimiter = ',')]
    pub allowed_hosts: Vec<String>,

    /// A manifest of trusted documents (relay-compiler's persisted queries or Apollo's
    /// manifest): only they run, by id, hash or identical text.
    #[arg(long, env = "TRUSTED_DOCUMENTS", value_name = "FILE")]
    pub trusted_documents: Option<std::path::PathBuf>,

    /// What happens to a document outside --trusted-documents: `enforce` refuses it
    /// (PERSISTED_QUERY_NOT_ALLOWED), `log` runs it and counts it.
    #[arg(long, env = "TRUSTED_DOCUMENTS_MODE", value_enum, default_value_t = Mode::Enforce)]
    pub trusted_documents_mode: Mode,
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
    /// The host names answered; `None`: any (open mode sets them, see [`super::guard`]).
    pub allowed_hosts: Option<AllowedHosts>,
    /// Whether a GET must show it passed a CORS preflight (open mode).
    pub csrf_prevention: bool,
    /// The only documents that run, if a manifest was given.
    pub trusted: Option<std::sync::Arc<TrustedDocuments>>,
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
            allowed_hosts: None,
            csrf_prevention: false,
            trusted: None,
        }
    }
}

impl ExposureArgs {
    /// These settings, checked, beside how callers authenticate.
    pub fn resolve(
        &self,
        serving: Serving,
        auth: Authentication,
        listen: SocketAddr,
    ) -> Result<AccessConfig, String> {
        let open_with_key = matches!(auth, Authentication::Open)
            && serving == (Serving::Remote { server_key: true });
        let hosts = AllowedHosts::parse(&self.allowed_hosts)?;
        let allowed_hosts = match (open_with_key, hosts.0.is_empty()) {
            (_, false) => Some(hosts),
            (true, true) if listen.ip().is_loopback() => Some(AllowedHosts(
                LOOPBACK_NAMES.iter().map(|h| h.to_string()).collect(),
            )),
            (true, true) => {
                return Err(format!(
                    "open mode (ALLOW_UNAUTHENTICATED) on {listen}, beyond loopback: set \
                     ALLOWED_HOSTS / --allowed-hosts to the host names this service is reached \
                     by, so that a web page cannot reach it under a name of its own (DNS \
                     rebinding)"
                ))
            }
            (false, true) => None,
        };
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
            allowed_hosts,
            csrf_prevention: open_with_key,
            trusted: match &self.trusted_documents {
                Some(path) => Some(std::sync::Arc::new(TrustedDocuments::load(
                    path,
                    self.trusted_documents_mode,
                )?)),
                None => None,
            },
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
        if let Some(trusted) = &self.trusted {
            tracing::info!(documents = trusted.len(), mode = ?trusted.mode(), "trusted documents only");
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
            .resolve(
                serving,
                Authentication::Open,
                "127.0.0.1:8080".parse().unwrap(),
            )
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

    #[test]
    fn open_mode_answers_known_hosts_only_and_refuses_cross_site_gets() {
        let key = Serving::Remote { server_key: true };
        let open = resolve(&[], key);
        assert_eq!(open.allowed_hosts.unwrap().0, LOOPBACK_NAMES);
        assert!(open.csrf_prevention);
        let flags = Flags::try_parse_from(["x"]).unwrap().exposure;
        let anywhere: SocketAddr = "0.0.0.0:8080".parse().unwrap();
        let refused = flags
            .resolve(key, Authentication::Open, anywhere)
            .unwrap_err();
        assert!(refused.contains("ALLOWED_HOSTS"), "{refused}");
        let named = Flags::try_parse_from(["x", "--allowed-hosts", "kyc.example.com"])
            .unwrap()
            .exposure
            .resolve(key, Authentication::Open, anywhere)
            .unwrap();
        assert_eq!(named.allowed_hosts.unwrap().0, ["kyc.example.com"]);
        // Demo mode, or callers who authenticate: neither guard is needed.
        let demo = resolve(&[], Serving::Demo);
        assert!(demo.allowed_hosts.is_none() && !demo.csrf_prevention);
    }
}
