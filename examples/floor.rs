//! The CPU floor of any facade over the live-photos endpoint, for benchmarks only: an HTTP
//! server that takes W1's request body, reads the client id out of its variables, makes the
//! same upstream call the service makes (keep-alive reqwest client, `Authorization` header) and
//! sends ComplyCube's page back byte for byte. No GraphQL, no reshaping, no cursors, no
//! metrics: whatever a GraphQL service spends per request, this spends less.
//!
//! With `--answer` it answers W1 itself, as the service does, byte for byte, with no
//! GraphQL engine: it checks that the query is W1's text, parses the page into the
//! service's own types (`upstream::LivePhotoPage`), and writes the answer's JSON as it goes
//! (`benches/profile/w1_answer.rs`, which `benches/profile/ideal-core.sh` also uses),
//! cursors from `pagination::cursor` and global ids included. That is the least an
//! execution core written for W1 alone would spend; it has no gate, metrics, request ids,
//! answer budget or validation, and refuses any other query.
//!
//! `benches/profile/w1.sh` runs it with `PEER=floor` (or `PEER=handwritten` for
//! `--answer`), after `cargo build --release --example floor`, to put the service's CPU per
//! request beside what the HTTP exchange alone costs on the same machine.
//!
//! Usage: `floor LISTEN UPSTREAM_URL API_KEY [--answer]`, e.g.
//! `floor 127.0.0.1:18080 http://127.0.0.1:18081/v1 k`.

use std::{convert::Infallible, sync::Arc};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{body::Incoming, server::conn::http1, service::service_fn, Request, Response};
use hyper_util::rt::TokioIo;

#[path = "../benches/profile/w1_answer.rs"]
mod w1_answer;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Floor {
    client: reqwest::Client,
    upstream: String,
    key: String,
    /// Answer W1 (`--answer`) rather than pass the page through.
    answer: bool,
}

/// W1's query text, as `benches/profile/w1.lua` sends it.
const W1: &str = "query W1($id: ID!) { client(id: $id) { livePhotos(first: 20) { totalCount pageInfo { hasPreviousPage hasNextPage startCursor endCursor } edges { cursor node { id clientId downloadLink contentType performLivenessCheck size createdAt updatedAt } } } } }";

#[derive(serde::Deserialize)]
struct Body<'a> {
    #[serde(borrow, default)]
    query: &'a str,
    #[serde(borrow)]
    variables: Variables<'a>,
}

#[derive(serde::Deserialize)]
struct Variables<'a> {
    id: &'a str,
}

async fn serve(floor: Arc<Floor>, request: Request<Incoming>) -> Response<Full<Bytes>> {
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
    if floor.answer && body.query != W1 {
        return reply(400, Bytes::from_static(b"{}"));
    }
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
            Ok(bytes) if !floor.answer => reply(200, bytes),
            Ok(bytes) => match answer_w1(body.variables.id, &bytes) {
                Some(answer) => reply(200, answer.into()),
                None => reply(502, Bytes::from_static(b"{}")),
            },
            Err(_) => reply(502, Bytes::from_static(b"{}")),
        },
        _ => reply(502, Bytes::from_static(b"{}")),
    }
}

/// W1's answer for the client `id` from ComplyCube's first page of 20, as the service writes
/// it.
fn answer_w1(id: &str, page: &[u8]) -> Option<Vec<u8>> {
    let page: complycube_graphql::upstream::LivePhotoPage = sonic_rs::from_slice(page).ok()?;
    let mut out = Vec::with_capacity(8 * 1024);
    out.extend_from_slice(br#"{"data":"#);
    w1_answer::write_w1_data(&mut out, id, 0, page.total_items, &page.items)?;
    out.push(b'}');
    Some(out)
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (listen, upstream, key, answer) = match &args[..] {
        [_, listen, upstream, key] => (listen, upstream, key, false),
        [_, listen, upstream, key, flag] if flag == "--answer" => (listen, upstream, key, true),
        _ => {
            eprintln!("usage: floor LISTEN UPSTREAM_URL API_KEY [--answer]");
            std::process::exit(2);
        }
    };
    let floor = Arc::new(Floor {
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(std::io::Error::other)?,
        upstream: upstream.trim_end_matches('/').to_owned(),
        key: key.clone(),
        answer,
    });
    let listener = tokio::net::TcpListener::bind(listen).await?;
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let floor = floor.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let floor = floor.clone();
                async move { Ok::<_, Infallible>(serve(floor, request).await) }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
