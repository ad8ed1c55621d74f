//! W1 answered by an ideal execution core inside the real service, for
//! `benches/profile/ideal-core.sh` alone: `ideal-core.patch` makes this a module of a copy of
//! the crate, never of the product.
//!
//! Everything around the executor runs as it does in the product: the HTTP stack, the gate,
//! request ids, metrics, the document cache and its checks, the answer budget's estimate,
//! the loaders and the upstream call with its rate budget. Then, for W1's text only, the
//! page is loaded through the request's own loaders and W1's `data` written by hand as it
//! is resolved (`w1_answer.rs`): no `Value` tree, no serialising one. It also skips
//! async-graphql's validation pass, the caller's scope check on the client and the answer
//! budget's count of written bytes, so it is a lower bound on what any execution core
//! inside this service could cost.

use std::sync::Arc;

use async_graphql::{Request, Value};

use complycube_graphql::{
    loader::{ListId, Loaders, PageKey},
    pagination::{window, Limits, RelayArgs, Scope},
    upstream::{ClientId, LivePhotoFilter},
};

#[path = "w1_answer.rs"]
mod w1_answer;

/// W1's `data` as pre-written JSON in a `Value::Binary`, which the patched HTTP layer
/// writes as is; `None` for any other request, which runs as usual.
pub async fn w1(request: &Request) -> Option<Value> {
    if !request.query.starts_with("query W1(") {
        return None;
    }
    let loaders = request
        .data
        .get(&std::any::TypeId::of::<Arc<Loaders>>())?
        .downcast_ref::<Arc<Loaders>>()?
        .clone();
    let Some(Value::String(id)) = request.variables.get("id") else {
        return None;
    };
    let client = ClientId::parse(id).ok()?;
    let filter = LivePhotoFilter::default();
    let scope = Scope::of(&[client.as_str().as_bytes(), &filter.fingerprint_bytes()]);
    let first = RelayArgs {
        first: Some(20),
        ..RelayArgs::default()
    };
    let ask = window::ask(&first, scope, Limits::DEFAULT).ok()?;
    let list = ListId {
        client: client.clone(),
        filter,
    };
    let slice = loaders.page(PageKey { list, ask }).await.ok()?;
    let mut out = Vec::with_capacity(8 * 1024);
    w1_answer::write_w1_data(
        &mut out,
        client.as_str(),
        slice.window.start,
        slice.total,
        &slice.items,
    )?;
    Some(Value::Binary(out.into()))
}
