//! The GraphQL schema: `client(id) { livePhotos(...) }` as a Relay cursor connection, the
//! lookups beside it, and the mapping of every failure to a stable `extensions.code`.
//!
//! The one thing to know: resolvers never talk to upstream themselves. `livePhotos` turns
//! its arguments into a window ([`crate::pagination`]) and asks the per-request
//! [`Loaders`](crate::loader::Loaders) (put in the request's data by the HTTP layer)
//! for it; the connection is then built from positions, so cursors and `pageInfo` are exact.
//! Objects are returned as [`Shaped`](crate::executor::Shaped), which the executor
//! resolves in place or restores to the spec's shape; each says which of its fields wait.
//!
//! - this file: building the schema and its executor, the query limits;
//! - `query`, `node`, `client`, `details`, `connection`, `photo`, `scalars`: the GraphQL
//!   types, root to leaves (`node`: global ids, `Node`, `node` and `nodes`);
//! - `error`: the errors our resolvers raise, each with its code.

use std::sync::atomic::{AtomicU32, Ordering};

use async_graphql::{EmptyMutation, EmptySubscription, SDLExportOptions, Schema, SchemaBuilder};

mod client;
mod connection;
mod cost;
mod details;
mod error;
mod filter;
mod global_id;
mod node;
mod photo;
mod query;
mod scalars;

pub use client::Client;
pub use connection::{LivePhotoConnection, LivePhotoEdge, PageInfo};
pub use details::{ClientType, CompanyDetails, PersonDetails};
pub use filter::LivePhotoFilter;
pub use global_id::{global_id, Kind as NodeKind};
pub use node::{AnyNode, Node, MAX_NODES};
pub use photo::{LivePhoto, LivePhotoImage};
pub use query::Query;
pub use scalars::{check_scalar, Date, DateTime};

use crate::{executor::Executor, images::ImageUrls, pagination::Limits};

/// The executable schema.
pub type AppSchema = Schema<Query, EmptyMutation, EmptySubscription>;

/// Bounds on the shape of a query, checked before anything runs. The defaults leave a real
/// frontend (and GraphiQL's introspection) far inside them.
#[derive(Clone, Copy, Debug)]
pub struct QueryLimits {
    /// Deepest nesting of selections.
    pub max_depth: usize,
    /// Largest complexity: one per field, connections multiplied by `first`/`last`.
    pub max_complexity: usize,
    /// Most aliased fields in one document, fragments expanded.
    pub max_aliases: usize,
}

impl Default for QueryLimits {
    fn default() -> Self {
        Self {
            max_depth: 16,
            max_complexity: 50_000,
            max_aliases: 128,
        }
    }
}

/// The largest `first`/`last` any schema of this process accepts, for complexity counting
/// (async-graphql's complexity functions cannot see schema data). One schema per process
/// in production, so this is exactly its maximum.
static COUNTED_PAGE_SIZE: AtomicU32 = AtomicU32::new(Limits::DEFAULT.max_page_size);

/// Builds the schema. `limits` bounds `first`/`last`; the loader comes with each request.
pub fn build(limits: Limits, query: QueryLimits) -> AppSchema {
    builder(limits, query).finish()
}

/// The schema's builder: its data and limits, no extension (see
/// [`crate::executor::extension`]).
pub fn builder(
    limits: Limits,
    query: QueryLimits,
) -> SchemaBuilder<Query, EmptyMutation, EmptySubscription> {
    COUNTED_PAGE_SIZE.fetch_max(limits.max_page_size, Ordering::Relaxed);
    Schema::build(Query, EmptyMutation, EmptySubscription)
        .data(limits)
        .limit_depth(query.max_depth)
        .limit_complexity(query.max_complexity)
}

/// The executor of this schema, minting image URLs with `images`; `introspection: false`
/// refuses `__schema` and `__type` (`--no-introspection`).
pub fn executor(
    limits: Limits,
    query: QueryLimits,
    introspection: bool,
    images: ImageUrls,
    max_download_bytes: usize,
) -> Result<Executor<Query>, String> {
    Executor::new(
        || builder(limits, query).data(images.clone()),
        check_scalar,
        query.max_aliases,
        introspection,
        Box::new(cost::Cost::new(limits, max_download_bytes)),
    )
}

/// The SDL that `schema.graphql` holds and `complycube-graphql schema` prints: what
/// introspection reports, `@specifiedBy` included (async-graphql leaves it out unless asked).
pub fn sdl() -> String {
    build(Limits::DEFAULT, QueryLimits::default())
        .sdl_with_options(SDLExportOptions::new().include_specified_by())
}

/// The complexity of a `livePhotos` field: its children counted once per photo it may
/// return. The multiplier never exceeds the maximum page size, so a `first` beyond it
/// still reaches the resolver and its clearer `BAD_USER_INPUT` error naming the limit.
fn connection_cost(first: Option<i32>, last: Option<i32>, children: usize) -> usize {
    let max = COUNTED_PAGE_SIZE
        .load(Ordering::Relaxed)
        .min(Limits::CEILING) as i32;
    let clamp = |n: i32| n.clamp(0, max) as usize;
    let photos = match (first, last) {
        (Some(f), Some(l)) => clamp(f).min(clamp(l)),
        (Some(n), None) | (None, Some(n)) => clamp(n),
        (None, None) => Limits::DEFAULT.default_page_size as usize,
    };
    1 + photos.max(1) * children
}

/// The service's executor with the default limits, for tests: introspection on, image URLs
/// signed with a secret of the test's own.
#[cfg(test)]
fn test_executor() -> Executor<Query> {
    use crate::images::{urls::Fallback, ImageUrlSettings};
    let key = crate::secrets::ApiKey::new("a test key");
    let urls = ImageUrls::new(&ImageUrlSettings::default(), Fallback::ServerKey(&key)).unwrap();
    executor(Limits::DEFAULT, QueryLimits::default(), true, urls, 1 << 22).unwrap()
}

#[cfg(test)]
mod differential;
#[cfg(test)]
mod tests;
