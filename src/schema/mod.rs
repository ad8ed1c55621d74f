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
    SDLExportOptions, Schema, SchemaBuilder, ValidationMode,
};

mod client;
mod connection;
mod conventions;
mod eager;
mod error;
mod introspection;
mod photo;
mod query;
mod scalars;

pub use client::{Client, ClientType, CompanyDetails, PersonDetails};
pub use connection::{LivePhotoConnection, LivePhotoEdge, PageInfo};
use conventions::Conventions;
pub use eager::extension;
pub use error::Code;
pub use photo::{LivePhoto, LivePhotoImage};
pub use query::{LivePhotoFilter, Query};
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
    // Extensions go through `extension`, so that `Eager` steps aside (see `eager.rs`).
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
/// (depth, complexity, fragment cycles), and `Conventions::check_variables` checks the
/// values of every request before it runs, whatever the cache holds.
pub struct Executor {
    strict: AppSchema,
    fast: AppSchema,
    conventions: Conventions,
    /// `__schema` and `__type` answer (see `introspection.rs`).
    introspection: bool,
}

impl Executor {
    pub fn new(limits: Limits, query: QueryLimits) -> Self {
        Self::build(limits, query, true)
    }

    /// The same, with `__schema` and `__type` refused as unknown fields (`__typename`
    /// still answers): `--no-introspection`.
    pub fn without_introspection(limits: Limits, query: QueryLimits) -> Self {
        Self::build(limits, query, false)
    }

    fn build(limits: Limits, query: QueryLimits, introspection: bool) -> Self {
        let builder = || match introspection {
            true => builder(limits, query),
            false => builder(limits, query).disable_introspection(),
        };
        let strict = builder().finish();
        Self {
            conventions: Conventions::new(&strict, query.max_aliases),
            fast: builder().validation_mode(ValidationMode::Fast).finish(),
            strict,
            introspection,
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
        if !self.introspection {
            if let Some(pos) = introspection::selected(&prepared.document) {
                let message = "introspection (`__schema`, `__type`) is disabled on this server";
                let refused =
                    error::server_error(Code::GraphqlValidationFailed, message, Some(pos));
                return (Response::from_errors(vec![refused]), name);
            }
        }
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

#[cfg(test)]
mod tests {
    use serde_json::json;

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
                let request = Request::new(QUERY)
                    .variables(async_graphql::Variables::from_json(variables))
                    .data(crate::auth::Caller::Full);
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

    /// Every error site of ours, run through async-graphql without the conventions: each
    /// error already carries the code the caller must see, so `complete_codes` (which
    /// labels async-graphql's own errors by where they were raised) never has to guess one
    /// of ours. An error site that forgot its code fails here.
    #[tokio::test]
    async fn our_errors_carry_their_codes_before_the_conventions_run() {
        use crate::{
            auth::Caller,
            loader::Loaders,
            simulator::{data::DOCUMENTED_CLIENT, Simulator, SimulatorSettings},
            upstream::{ApiKey, Session, Upstream, UpstreamSettings},
        };
        use std::sync::Arc;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let simulator = Simulator::new(SimulatorSettings::default());
        let addr = simulator.spawn(listener).await.unwrap();
        let settings = UpstreamSettings::new(format!("http://{addr}/v1"), Some(ApiKey::new("k")));
        let upstream = Upstream::new(&settings).unwrap();
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        let loader = |max_calls| {
            Arc::new(Loaders::new(
                upstream.clone(),
                Session::new(deadline, max_calls),
            ))
        };
        let executor = Executor::new(Limits::DEFAULT, QueryLimits::default());
        let photos = |id: &str, args: &str| {
            format!(r#"{{ client(id: "{id}") {{ livePhotos{args} {{ totalCount }} }} }}"#)
        };
        let unknown = "ffffffffffffffffffffffff";
        let cases = [
            // Query.client: an id that is no id.
            (
                r#"{ client(id: "") { id } }"#.to_owned(),
                Some(128),
                Code::BadUserInput,
            ),
            // Query.livePhoto: the same.
            (
                r#"{ livePhoto(id: "") { id } }"#.to_owned(),
                Some(128),
                Code::BadUserInput,
            ),
            // Client details of a client ComplyCube does not know, through a photo's owner
            // (a lookup of its own, which must fit the call budget).
            (
                format!(
                    r#"{{ client(id: "{DOCUMENTED_CLIENT}") {{ livePhotos {{ nodes {{ download {{ fileName }} }} }} }} }}"#
                ),
                Some(1),
                Code::BadUserInput,
            ),
            // Client.livePhotos: arguments no window fits, then a cursor that is none.
            (
                photos(DOCUMENTED_CLIENT, "(first: -1)"),
                Some(128),
                Code::BadUserInput,
            ),
            (
                photos(DOCUMENTED_CLIENT, r#"(after: "x")"#),
                Some(128),
                Code::BadUserInput,
            ),
            // The loader: upstream's answer, and the request's call budget.
            (photos(unknown, ""), Some(128), Code::NotFound),
            (photos(DOCUMENTED_CLIENT, ""), Some(0), Code::BadUserInput),
            // The request data the HTTP layer must provide.
            (
                photos(DOCUMENTED_CLIENT, ""),
                None,
                Code::InternalServerError,
            ),
        ];
        for (query, max_calls, code) in cases {
            let mut request = Request::new(query.as_str());
            if let Some(max_calls) = max_calls {
                request = request.data(loader(max_calls)).data(Caller::Full);
            }
            let response = executor.strict.execute(request).await;
            assert_codes(&response.errors, code, &query);
        }

        // The schema data the builder must provide.
        let bare = Schema::build(Query, EmptyMutation, EmptySubscription).finish();
        let query = photos(DOCUMENTED_CLIENT, "");
        let response = bare
            .execute(Request::new(&query).data(loader(128)).data(Caller::Full))
            .await;
        assert_codes(
            &response.errors,
            Code::InternalServerError,
            "without Limits",
        );

        // `Eager`'s own fragment lookup, which only a document validation never saw reaches.
        let query =
            format!(r#"{{ client(id: "{DOCUMENTED_CLIENT}") {{ livePhotos {{ ...F }} }} }}"#);
        let response = executor
            .fast
            .execute(Request::new(&query).data(loader(128)).data(Caller::Full))
            .await;
        assert_codes(&response.errors, Code::GraphqlValidationFailed, &query);

        // The refusals before execution, which never reach the conventions' codes at all.
        let refused = |query: &str, variables: serde_json::Value| {
            let mut request =
                Request::new(query).variables(async_graphql::Variables::from_json(variables));
            let prepared = executor.conventions.prepare(&mut request)?;
            executor
                .conventions
                .check_variables(&prepared.document, None, &request.variables)
                .map(|()| prepared)
        };
        let aliases: String = (0..=QueryLimits::default().max_aliases)
            .map(|i| format!("a{i}: __typename "))
            .collect();
        for (query, variables, code) in [
            (
                "{ client(id: ".to_owned(),
                json!({}),
                Code::GraphqlParseFailed,
            ),
            (
                "{ ...A } fragment A on Query { ...A }".to_owned(),
                json!({}),
                Code::GraphqlValidationFailed,
            ),
            (
                format!("{{ {aliases} }}"),
                json!({}),
                Code::GraphqlValidationFailed,
            ),
            (
                photos(DOCUMENTED_CLIENT, "(first: 1.5)"),
                json!({}),
                Code::BadUserInput,
            ),
            (
                "query($n: Int) { __typename }".to_owned(),
                json!({ "n": "x" }),
                Code::BadUserInput,
            ),
        ] {
            let error = refused(&query, variables)
                .err()
                .unwrap_or_else(|| panic!("{query}"));
            assert_codes(&[*error], code, &query);
        }
    }

    fn assert_codes(errors: &[async_graphql::ServerError], code: Code, what: &str) {
        assert!(!errors.is_empty(), "{what}: no error");
        for error in errors {
            let got = error
                .extensions
                .as_ref()
                .and_then(|e| e.get("code"))
                .cloned();
            assert_eq!(
                got,
                Some(async_graphql::Value::from(code.as_str())),
                "{what}: {}",
                error.message
            );
        }
    }
}
