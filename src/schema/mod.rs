//! The GraphQL schema: `client(id) { livePhotos(...) }` as a Relay cursor connection, and
//! the mapping of every failure to a stable `extensions.code`.
//!
//! The one thing to know: resolvers never talk to upstream themselves. `livePhotos` turns
//! its arguments into a window ([`crate::pagination`]) and asks the per-request
//! [`Loaders`](crate::loader::Loaders) (put in the request's data by the HTTP layer)
//! for it; the connection is then built from positions, so cursors and `pageInfo` are exact.
//!
//! - this file: building the schema, the [`Executor`] that runs it, the query limits;
//! - `query`, `connection`, `photo`, `scalars`: the GraphQL types, root to leaves;
//! - `error`: the codes of `extensions.code` and the errors our resolvers raise;
//! - `conventions`: what async-graphql leaves to us around each run (document cache,
//!   variable checks, field order, null propagation, codes for its own errors);
//! - `eager`: in-place resolution of objects whose fields never wait.

use std::sync::atomic::{AtomicU32, Ordering};

use async_graphql::{
    parser::types::DocumentOperations, EmptyMutation, EmptySubscription, Name, Request, Response,
    Schema, SchemaBuilder, ValidationMode,
};

mod connection;
mod conventions;
mod eager;
mod error;
mod photo;
mod query;
mod scalars;

pub use connection::{LivePhotoConnection, LivePhotoEdge, PageInfo};
use conventions::Conventions;
pub use error::Code;
pub use photo::LivePhoto;
pub use query::{Client, LivePhotoFilter, Query};
pub use scalars::DateTime;

use crate::pagination::Limits;

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
    /// Most aliased fields in one document.
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

fn builder(
    limits: Limits,
    query: QueryLimits,
) -> SchemaBuilder<Query, EmptyMutation, EmptySubscription> {
    COUNTED_PAGE_SIZE.fetch_max(limits.max_page_size, Ordering::Relaxed);
    // No extensions: `Eager` relies on there being none (see `eager.rs`).
    Schema::build(Query, EmptyMutation, EmptySubscription)
        .data(limits)
        .limit_depth(query.max_depth)
        .limit_complexity(query.max_complexity)
}

/// Runs GraphQL requests: the document parsed once per distinct text, validated in full
/// until a run has accepted it, the conventions applied around every run.
///
/// Full validation is an eighth of a request's CPU and depends on the document alone,
/// except for its check of variable values. So a document that passed it once runs on a
/// second copy of the schema in async-graphql's fast mode, which keeps only the limits
/// (depth, complexity, fragment cycles), and [`Conventions::check_variables`] checks the
/// values of every request before it runs, whatever the cache holds.
pub struct Executor {
    strict: AppSchema,
    fast: AppSchema,
    conventions: Conventions,
}

impl Executor {
    pub fn new(limits: Limits, query: QueryLimits) -> Self {
        let strict = build(limits, query);
        Self {
            conventions: Conventions::new(&strict, query.max_aliases),
            fast: builder(limits, query)
                .validation_mode(ValidationMode::Fast)
                .finish(),
            strict,
        }
    }

    /// Runs one operation; the request carries its [`Loaders`](crate::loader::Loaders) in its data.
    pub async fn execute(&self, request: Request) -> Response {
        self.execute_named(request).await.0
    }

    /// [`Executor::execute`], and the name of the operation it ran (or would have): the
    /// request's `operationName`, else the name of the document's only operation; `None`
    /// for an anonymous one. For metrics and logs; the caller bounds and checks it.
    pub async fn execute_named(&self, mut request: Request) -> (Response, Option<Name>) {
        let asked = request.operation_name.as_deref().map(Name::new);
        let (prepared, operation) = match self.conventions.prepare(&mut request) {
            Ok(prepared) => (prepared, request.operation_name.clone()),
            Err(error) => return (Response::from_errors(vec![*error]), asked),
        };
        let name = asked.or_else(|| match &prepared.document.operations {
            DocumentOperations::Multiple(operations) if operations.len() == 1 => {
                operations.keys().next().cloned()
            }
            _ => None,
        });
        let checked = self.conventions.check_variables(
            &prepared.document,
            operation.as_deref(),
            &request.variables,
        );
        if let Err(error) = checked {
            return (Response::from_errors(vec![*error]), name);
        }
        let validated = prepared.is_validated();
        let schema = if validated { &self.fast } else { &self.strict };
        let mut response = schema.execute(request).await;
        // Validation errors, like every request-level error, come without a path.
        if !validated && response.errors.iter().all(|e| !e.path.is_empty()) {
            prepared.mark_validated();
        }
        self.conventions
            .finish(&mut response, &prepared.document, operation.as_deref());
        (response, name)
    }
}

/// The SDL that `schema.graphql` holds and `complycube-graphql schema` prints.
pub fn sdl() -> String {
    build(Limits::DEFAULT, QueryLimits::default()).sdl()
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

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config::with_cases(64))]
        /// Whether a query has been validated before (and so runs under fast validation)
        /// never changes the answer, whatever the variables hold.
        #[test]
        fn cache_state_never_changes_the_answer(variables in variables()) {
            const QUERY: &str = "query($id: ID!, $n: Int, $f: LivePhotoFilter, $on: Boolean!) { \
                client(id: $id) { id @include(if: $on) \
                livePhotos(first: $n, filter: $f) @include(if: false) { totalCount } } }";
            let run = |executor: &Executor, variables: serde_json::Value| {
                let request = Request::new(QUERY).variables(async_graphql::Variables::from_json(variables));
                let response = futures::executor::block_on(executor.execute(request));
                serde_json::to_value(&response).unwrap()
            };
            let fresh = Executor::new(Limits::DEFAULT, QueryLimits::default());
            let warm = Executor::new(Limits::DEFAULT, QueryLimits::default());
            let good = serde_json::json!({ "id": "5eb1276d96be4a0008713af5", "on": true });
            let answer = run(&warm, good);
            proptest::prop_assert!(answer.get("errors").is_none(), "{}", answer);
            proptest::prop_assert_eq!(run(&fresh, variables.clone()), run(&warm, variables));
        }
    }

    /// Variables of every shape, often close to right.
    fn variables() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
        use proptest::prelude::*;
        use serde_json::{json, Value as Json};
        let leaf = prop_oneof![
            Just(Json::Null),
            any::<bool>().prop_map(Json::from),
            any::<i64>().prop_map(Json::from),
            (-3i64..3).prop_map(|n| Json::from(n + i64::from(i32::MAX))),
            any::<f64>().prop_map(Json::from),
            Just(json!(5.0)),
            Just(json!("5eb1276d96be4a0008713af5")),
            Just(json!("2020-01-01T14:06:44.756Z")),
            Just(json!("2020-02-30T00:00:00Z")),
            ".{0,12}".prop_map(Json::from),
        ];
        let value = leaf.prop_recursive(2, 8, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..3).prop_map(Json::from),
                proptest::collection::btree_map(
                    prop_oneof![
                        Just("createdAfter".to_owned()),
                        Just("updatedBefore".to_owned()),
                        Just("nope".to_owned()),
                    ],
                    inner,
                    0..3,
                )
                .prop_map(|m| Json::Object(m.into_iter().collect())),
            ]
        });
        proptest::collection::btree_map(
            prop_oneof![
                Just("id".to_owned()),
                Just("n".to_owned()),
                Just("f".to_owned()),
                Just("on".to_owned()),
            ],
            value,
            0..5,
        )
        .prop_map(|m| Json::Object(m.into_iter().collect()))
    }
}
