//! The accept loop: every connection served by hyper with the timeouts a public port needs,
//! and a graceful end.
//!
//! The one thing to know: `axum::serve` sets no timer, so a client that trickles its headers
//! (or holds a keep-alive connection open and says nothing) keeps a connection and a task
//! for as long as it likes. Here each connection gets [`HttpTimeouts::header`] to send a
//! request's headers, which is also how long an idle keep-alive connection is kept, and
//! each request [`HttpTimeouts::body`] to send its body (408 past it, the `router`'s layer).
//! On shutdown the listener closes, idle connections close at once, and the requests in
//! flight finish.

use std::{future::Future, time::Duration};

use hyper::server::conn::http1;
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    server::graceful::GracefulShutdown,
    service::TowerToHyperService,
};
use tokio::net::TcpListener;

/// How long a client may take over its part of the exchange.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HttpTimeouts {
    /// To send a request's headers, from the connection or the previous answer on: also
    /// how long an idle keep-alive connection stays open.
    pub header: Duration,
    /// To send a request's body, once its headers are in.
    pub body: Duration,
}

/// Time to send headers, by default: a real client sends them in one packet; ten seconds
/// covers the slowest mobile link and caps what a trickling client holds.
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// Time to send a body (at most `--max-body-bytes`, 64 KiB), by default.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(10);

impl Default for HttpTimeouts {
    fn default() -> Self {
        Self {
            header: DEFAULT_HEADER_TIMEOUT,
            body: DEFAULT_BODY_TIMEOUT,
        }
    }
}

/// Serves `router` on `listener` until `shutdown` completes, then waits for the requests in
/// flight.
pub async fn serve(
    listener: TcpListener,
    router: axum::Router,
    timeouts: HttpTimeouts,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, or a connection reset before it was taken:
                    // the next accept may do better; do not spin while it cannot.
                    tracing::warn!(error = %e, "could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Small JSON answers: send them now, not when Nagle's algorithm allows.
        let _ = stream.set_nodelay(true);
        let connection = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(timeouts.header)
            .keep_alive(true)
            .serve_connection(
                TokioIo::new(stream),
                TowerToHyperService::new(router.clone()),
            );
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "a connection ended with an error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}
