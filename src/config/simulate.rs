//! `simulate`'s flags: the embedded ComplyCube stand-in on its own, and the faults, rate
//! limit and churn it starts with.

use std::{net::SocketAddr, time::Duration};

use clap::Args;

use super::values::{parse_period, parse_rate, parse_share};
use crate::{
    simulator::{images::ImageSize, Fault, Mangle, SimulatorSettings},
    upstream::ApiKey,
};

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

    /// Delay every answer by this much (e.g. `150ms`).
    #[arg(long, env = "SIMULATOR_LATENCY", value_parser = humantime::parse_duration)]
    pub latency: Option<Duration>,

    /// Delay every answer by a random extra of up to this much.
    #[arg(long, env = "SIMULATOR_LATENCY_JITTER", value_parser = humantime::parse_duration)]
    pub latency_jitter: Option<Duration>,

    /// Answer this share (0 to 1) of requests with `--fail-status`.
    #[arg(long, env = "SIMULATOR_FAIL_SHARE", value_parser = parse_share)]
    pub fail_share: Option<f64>,

    /// The status of `--fail-share` failures.
    #[arg(long, env = "SIMULATOR_FAIL_STATUS", default_value_t = 503)]
    pub fail_status: u16,

    /// A `Retry-After` value sent with those failures (seconds or an HTTP date).
    #[arg(long, env = "SIMULATOR_RETRY_AFTER")]
    pub retry_after: Option<String>,

    /// A client id whose every request answers 500 (repeat, or comma-separate, for more).
    #[arg(long, env = "SIMULATOR_FAILING_CLIENTS", value_delimiter = ',')]
    pub failing_client: Vec<String>,

    /// Break successful answers in this way.
    #[arg(long, env = "SIMULATOR_MANGLE", value_enum)]
    pub mangle: Option<Mangle>,

    /// The share (0 to 1) of successful answers that `--mangle` breaks.
    #[arg(long, env = "SIMULATOR_MANGLE_SHARE", default_value_t = 1.0, value_parser = parse_share)]
    pub mangle_share: f64,

    /// Every this long (e.g. `5s`), add a photo at the head of the 37-photo demo client's
    /// list and delete its oldest one, so the list moves while someone pages.
    #[arg(long, env = "SIMULATOR_CHURN_EVERY", value_parser = parse_period)]
    pub churn_every: Option<Duration>,

    /// Requests per second each `Authorization` value may make (as ComplyCube enforces
    /// per key: about 10 live, 5 sandbox); beyond it, 429 `rate_limit_exceeded`.
    #[arg(long, env = "SIMULATOR_RATE_LIMIT", value_parser = parse_rate)]
    pub rate_limit: Option<f64>,

    /// How heavy the downloadable images are: `small` (96x96, a few KB) or `real` (what
    /// ComplyCube accepts for a selfie: 34 KB to 4 MB, deterministic per photo).
    #[arg(long, env = "SIMULATOR_IMAGE_SIZE", value_enum, default_value_t = ImageSize::Small)]
    pub image_size: ImageSize,
}

impl SimulateArgs {
    /// The simulator's settings, with the faults the flags ask for in force from the start.
    pub fn settings(&self) -> SimulatorSettings {
        let mut faults = Vec::new();
        if self.latency.is_some() || self.latency_jitter.is_some() {
            faults.push(Fault {
                delay_ms: self.latency.map(|d| d.as_millis() as u64),
                jitter_ms: self.latency_jitter.map(|d| d.as_millis() as u64),
                ..Fault::default()
            });
        }
        faults.extend(self.failing_client.iter().map(|client| Fault {
            client_id: Some(client.clone()),
            status: Some(500),
            ..Fault::default()
        }));
        if let Some(share) = self.fail_share {
            faults.push(Fault {
                share: Some(share),
                status: Some(self.fail_status),
                retry_after: self.retry_after.clone(),
                ..Fault::default()
            });
        }
        if let Some(mangle) = self.mangle {
            faults.push(Fault {
                share: Some(self.mangle_share),
                mangle: Some(mangle),
                ..Fault::default()
            });
        }
        SimulatorSettings {
            api_key: self.api_key.clone(),
            faults,
            churn_every: self.churn_every,
            rate_limit: self.rate_limit,
            image_size: self.image_size,
        }
    }
}
