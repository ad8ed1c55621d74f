//! The `complycube-graphql` binary: parses the command line, sets up logging, and runs one
//! of `serve` (default), `simulate` or `schema`. Everything else lives in the library.

use std::process::ExitCode;

use clap::Parser;
use complycube_graphql::{
    auth::ACCESS_TOKENS_ENV,
    compat,
    config::{Cli, Command, SchemaAction, SchemaArgs, ServeArgs, SimulateArgs, UpstreamChoice},
    schema,
    simulator::{data, Simulator, SimulatorSettings, CHURN_CLIENT},
    telemetry,
    upstream::{redacted_url, ApiKey},
    Service,
};
use tokio::net::TcpListener;

/// mimalloc: a quarter of the CPU time per request went to glibc's malloc and free.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    telemetry::init(cli.log_format);
    let outcome = match cli.command {
        Some(Command::Schema(SchemaArgs { action: None })) => {
            print!("{}", schema::sdl());
            Ok(())
        }
        Some(Command::Schema(SchemaArgs {
            action: Some(SchemaAction::Diff { old, new }),
        })) => return schema_diff(&old, new.as_deref()),
        Some(Command::Simulate(args)) => simulate(args).await,
        Some(Command::Serve(args)) => serve(args).await,
        None => serve(cli.serve).await,
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            tracing::error!("{message}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(args: ServeArgs) -> Result<(), String> {
    let upstream = args.upstream();
    // Secure by default: refuses, before anything starts, to serve a real key to anyone.
    let tokens = std::env::var(ACCESS_TOKENS_ENV).ok();
    let serving = upstream.serving();
    let auth = args.auth.resolve(serving, tokens.as_deref())?;
    let access = args.exposure.resolve(serving, auth, args.listen)?;
    access.log_start(serving);
    let mut config = match upstream {
        UpstreamChoice::Demo => {
            // A fresh random key, so nothing but this process can use the simulator.
            let key = format!("demo-{:032x}", rand::random::<u128>());
            let key = ApiKey::new(key);
            let simulator = Simulator::new(SimulatorSettings {
                api_key: Some(key.clone()),
                ..SimulatorSettings::default()
            });
            let addr = simulator
                .spawn(bind(([127, 0, 0, 1], 0).into()).await?)
                .await
                .map_err(|e| e.to_string())?;
            tracing::info!(
                simulator = %addr,
                "demo mode: no COMPLYCUBE_API_KEY or COMPLYCUBE_BASE_URL set, serving the embedded ComplyCube simulator's demo data (documented example client {})",
                data::DOCUMENTED_CLIENT
            );
            args.service_config(format!("http://{addr}/v1"), Some(key))
        }
        UpstreamChoice::Remote { base_url, api_key } => {
            let shown = redacted_url(&base_url);
            if api_key.is_none() && !args.auth.forward_authorization {
                tracing::warn!(
                    "no COMPLYCUBE_API_KEY set: requests to {shown} carry no Authorization header"
                );
            }
            tracing::info!(upstream = %shown, "using ComplyCube at the given URL");
            args.service_config(base_url, api_key)
        }
    };
    config.access = access;
    let service = Service::new(&config)?;
    let listener = bind(args.listen).await?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    if config.access.playground {
        tracing::info!("GraphQL on http://{addr}/graphql, GraphiQL on http://{addr}/");
    } else {
        tracing::info!("GraphQL on http://{addr}/graphql (GraphiQL off)");
    }
    service
        .serve(listener, shutdown_signal())
        .await
        .map_err(|e| e.to_string())
}

async fn simulate(args: SimulateArgs) -> Result<(), String> {
    let settings = args.settings();
    if !settings.faults.is_empty() {
        tracing::info!(faults = ?settings.faults, "simulating faults");
    }
    if let Some(every) = settings.churn_every {
        tracing::info!(
            client = CHURN_CLIENT,
            every = %humantime::format_duration(every),
            "churning: a photo added at the head and the oldest deleted, every period"
        );
    }
    let simulator = Simulator::new(settings);
    let listener = bind(args.listen).await?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    tracing::info!(
        "ComplyCube simulator on http://{addr}/v1 (e.g. GET /v1/livePhotos?clientId={})",
        data::DOCUMENTED_CLIENT
    );
    simulator
        .serve(listener, shutdown_signal())
        .await
        .map_err(|e| e.to_string())
}

/// `schema diff OLD [NEW]`: every change on stdout, classed; exit 1 on a breaking one, 2
/// when a schema cannot be read.
fn schema_diff(old: &std::path::Path, new: Option<&std::path::Path>) -> ExitCode {
    let read = |path: &std::path::Path| {
        std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
    };
    let schemas = read(old).and_then(|old| {
        let new = new.map_or_else(|| Ok(schema::sdl()), read)?;
        compat::diff(&old, &new)
    });
    let changes = match schemas {
        Ok(changes) => changes,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    for change in &changes {
        println!("{change}");
    }
    let breaking = changes
        .iter()
        .filter(|c| c.class == compat::Class::Breaking)
        .count();
    eprintln!("{} changes, {breaking} breaking", changes.len());
    if breaking > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

async fn bind(addr: std::net::SocketAddr) -> Result<TcpListener, String> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))
}

/// Completes on Ctrl-C or SIGTERM, so in-flight requests finish before exit.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}
