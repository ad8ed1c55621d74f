//! The CPU floor of any facade over the live-photos endpoint, for benchmarks only: an HTTP
//! server that takes W1's request body, reads the client id out of its variables, makes the
//! same upstream call the service makes (keep-alive reqwest client, `Authorization` header) and
//! sends ComplyCube's page back byte for byte. No GraphQL, no reshaping, no cursors, no
//! metrics: whatever a GraphQL service spends per request, this spends less.
//!
//! `benches/profile/w1.sh` runs it with `PEER=floor` (after `cargo build --release
//! --example floor`), to put the service's CPU per request beside what the HTTP exchange
//! alone costs on the same machine.
//!
//! Usage: `floor LISTEN UPSTREAM_URL API_KEY`, e.g.
//! `floor 127.0.0.1:18080 http://127.0.0.1:18081/v1 k`.

use std::{convert::Infallible, sync::Arc};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{body::Incoming, server::conn::http1, service::service_fn, Request, Response};
use hyper_util::rt::TokioIo;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Floor {
    client: reqwest::Client,
    upstream: String,
    key: String,
}

#[derive(serde::Deserialize)]
struct Body<'a> {
    #[serde(borrow)]
    variables: Variables<'a>,
}

#[derive(serde::Deserialize)]
struct Variables<'a> {
    id: &'a str,
}

async fn answer(floor: Arc<Floor>, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let reply = |status: u16, body: Bytes| {
        Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .body(Full::new(body))
            .expect("a static response")
    };
    let Ok(body) = request.into_body().collect().await.map(|b| b.to_bytes()) else {
        return reply(400, Bytes::from_static(b"{}"));
    };
    let Ok(body) = sonic_rs::from_slice::<Body>(&body) else {
        return reply(400, Bytes::from_static(b"{}"));
    };
    let url = format!(
        "{}/livePhotos?clientId={}&page=1&pageSize=20",
        floor.upstream, body.variables.id
    );
    let page = floor
        .client
        .get(url)
        .header("authorization", &floor.key)
        .send()
        .await;
    match page {
        Ok(page) if page.status().is_success() => match page.bytes().await {
            Ok(bytes) => reply(200, bytes),
            Err(_) => reply(502, Bytes::from_static(b"{}")),
        },
        _ => reply(502, Bytes::from_static(b"{}")),
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, listen, upstream, key] = &args[..] else {
        eprintln!("usage: floor LISTEN UPSTREAM_URL API_KEY");
        std::process::exit(2);
    };
    let floor = Arc::new(Floor {
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(std::io::Error::other)?,
        upstream: upstream.trim_end_matches('/').to_owned(),
        key: key.clone(),
    });
    let listener = tokio::net::TcpListener::bind(listen).await?;
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let floor = floor.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let floor = floor.clone();
                async move { Ok::<_, Infallible>(answer(floor, request).await) }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
