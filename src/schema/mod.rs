//! The GraphQL schema: `client(id) { livePhotos(...) }` as a Relay cursor connection, and
//! the mapping of every failure to a stable `extensions.code`.
//!
//! The one thing to know: resolvers never talk to upstream themselves. `livePhotos` turns
//! its arguments into a window ([`crate::pagination`]) and asks the per-request
//! [`PageLoader`] (put in the request's data by the HTTP layer) for it; the connection is
//! then built from positions, so cursors and `pageInfo` are exact.

use std::sync::{
    atomic::{AtomicU32, Ordering},
    Arc,
};

use async_graphql::{
    Context, EmptyMutation, EmptySubscription, ErrorExtensionValues, InputObject, InputValueError,
    InputValueResult, Object, Request, Response, Scalar, ScalarType, Schema, SchemaBuilder,
    ValidationMode, Value, ID,
};
use chrono::{DateTime as ChronoDateTime, Utc};

mod conventions;
mod eager;

use conventions::Conventions;
use eager::Eager;

use crate::{
    loader::{ListId, Loaders, PageKey, Slice},
    pagination::{cursor, window, Limits, RelayArgs, Scope},
    upstream::{self, ClientId},
};

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

    /// Runs one operation; the request carries its [`PageLoader`] in its data.
    pub async fn execute(&self, mut request: Request) -> Response {
        let (prepared, operation) = match self.conventions.prepare(&mut request) {
            Ok(prepared) => (prepared, request.operation_name.clone()),
            Err(error) => return Response::from_errors(vec![*error]),
        };
        let checked = self.conventions.check_variables(
            &prepared.document,
            operation.as_deref(),
            &request.variables,
        );
        if let Err(error) = checked {
            return Response::from_errors(vec![*error]);
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
        response
    }
}

/// Whether `value` is an input the scalar `name` accepts, and why not; `None` when this
/// schema has no scalar of that name. Variables are checked with it, by the same parsing
/// that arguments go through.
fn check_scalar(name: &str, value: &Value) -> Option<Result<(), String>> {
    fn parse<T: async_graphql::InputType>(value: &Value) -> Result<(), String> {
        T::parse(Some(value.clone()))
            .map(drop)
            .map_err(|e| e.into_server_error(Default::default()).message)
    }
    Some(match name {
        "Int" => parse::<i32>(value),
        "Float" => parse::<f64>(value),
        "String" => parse::<String>(value),
        "Boolean" => parse::<bool>(value),
        "ID" => parse::<ID>(value),
        "DateTime" => parse::<DateTime>(value),
        _ => return None,
    })
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

/// The stable error codes of `extensions.code`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Code {
    BadUserInput,
    Unauthenticated,
    Forbidden,
    NotFound,
    RateLimited,
    UpstreamError,
    GraphqlParseFailed,
    GraphqlValidationFailed,
    InternalServerError,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BadUserInput => "BAD_USER_INPUT",
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::Forbidden => "FORBIDDEN",
            Self::NotFound => "NOT_FOUND",
            Self::RateLimited => "RATE_LIMITED",
            Self::UpstreamError => "UPSTREAM_ERROR",
            Self::GraphqlParseFailed => "GRAPHQL_PARSE_FAILED",
            Self::GraphqlValidationFailed => "GRAPHQL_VALIDATION_FAILED",
            Self::InternalServerError => "INTERNAL_SERVER_ERROR",
        }
    }
}

fn error(code: Code, message: impl Into<String>) -> async_graphql::Error {
    let mut e = async_graphql::Error::new(message);
    e.extensions
        .get_or_insert_with(ErrorExtensionValues::default)
        .set("code", code.as_str());
    e
}

/// An upstream failure as the caller sees it: a code, and what ComplyCube said.
fn upstream_error(e: &upstream::Error) -> async_graphql::Error {
    let shown = e.to_string();
    let (code, status, kind, message) = match e {
        upstream::Error::Status { status, body, .. } => (
            match status {
                // Every parameter upstream sees is built and checked here, so a 400 means
                // the two disagree: not something the caller can fix.
                401 => Code::Unauthenticated,
                403 => Code::Forbidden,
                404 => Code::NotFound,
                429 => Code::RateLimited,
                _ => Code::UpstreamError,
            },
            Some(*status),
            body.kind.as_str(),
            body.message.as_str(),
        ),
        upstream::Error::Unreachable(m) => (Code::UpstreamError, None, "unreachable", m.as_str()),
        upstream::Error::Timeout => (Code::UpstreamError, None, "timeout", "no answer in time"),
        upstream::Error::InvalidResponse(m) => {
            (Code::UpstreamError, None, "invalid_response", m.as_str())
        }
        upstream::Error::TooLarge { .. } => (
            Code::UpstreamError,
            None,
            "invalid_response",
            shown.as_str(),
        ),
        upstream::Error::ImageTooLarge { .. } => {
            (Code::UpstreamError, None, "image_too_large", shown.as_str())
        }
        upstream::Error::TooManyCalls { .. } => return error(Code::BadUserInput, e.to_string()),
    };
    let mut upstream = async_graphql::indexmap::IndexMap::new();
    if let Some(status) = status {
        upstream.insert(async_graphql::Name::new("status"), Value::from(status));
    }
    upstream.insert(async_graphql::Name::new("type"), Value::from(kind));
    upstream.insert(async_graphql::Name::new("message"), Value::from(message));
    let mut err = error(code, shown.clone());
    if let Some(ext) = err.extensions.as_mut() {
        ext.set("upstream", Value::Object(upstream));
        if let upstream::Error::Status {
            retry_after: Some(wait),
            ..
        } = e
        {
            ext.set("retryAfter", wait.as_secs());
        }
    }
    err
}

pub struct Query;

/// Root of all queries.
#[Object]
impl Query {
    /// A ComplyCube client, by id. Looking a client up costs no upstream call; an unknown
    /// id shows up as a `NOT_FOUND` error on the fields that read its data.
    async fn client(
        &self,
        #[graphql(desc = "The ComplyCube client id, e.g. `5eb1276d96be4a0008713af5`.")] id: ID,
    ) -> async_graphql::Result<Option<Client>> {
        let id = ClientId::parse(&id).map_err(|m| error(Code::BadUserInput, m))?;
        Ok(Some(Client { id }))
    }
}

pub struct Client {
    id: ClientId,
}

/// A ComplyCube client: a person or company being verified.
#[Object]
impl Client {
    /// The ComplyCube client id.
    async fn id(&self) -> ID {
        ID(self.id.as_str().to_owned())
    }

    /// The client's live photos (selfies taken for liveness checks), newest first, as a
    /// Relay cursor connection. Without `first` or `last`, the first 20.
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "connection_cost(first, last, child_complexity)")]
    async fn live_photos(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Return at most this many photos from the start of the list (after `after`). At most the configured maximum (default 100)."
        )]
        first: Option<i32>,
        #[graphql(
            desc = "Return only photos after this cursor (an `endCursor` or edge `cursor` from the same client and filter)."
        )]
        after: Option<String>,
        #[graphql(
            desc = "Return at most this many photos from the end of the list (before `before`). At most the configured maximum (default 100)."
        )]
        last: Option<i32>,
        #[graphql(
            desc = "Return only photos before this cursor (a `startCursor` or edge `cursor` from the same client and filter)."
        )]
        before: Option<String>,
        #[graphql(
            desc = "Only photos created or updated within these bounds. Cursors belong to the filter they were made under."
        )]
        filter: Option<LivePhotoFilter>,
    ) -> async_graphql::Result<Eager<LivePhotoConnection>> {
        let filter = filter.map(LivePhotoFilter::normalize).unwrap_or_default();
        let scope = Scope::of(&[self.id.as_str().as_bytes(), &filter.fingerprint_bytes()]);
        let args = RelayArgs {
            first,
            after: after.as_deref(),
            last,
            before: before.as_deref(),
        };
        let limits = *ctx.data::<Limits>()?;
        let ask = window::ask(&args, scope, limits)
            .map_err(|e| error(Code::BadUserInput, e.to_string()))?;
        let loaders = ctx.data::<Arc<Loaders>>()?;
        let key = PageKey {
            list: ListId {
                client: self.id.clone(),
                filter,
            },
            ask,
        };
        let slice = loaders.page(key).await.map_err(|e| upstream_error(&e))?;
        Ok(Eager(LivePhotoConnection { slice, scope }))
    }
}

/// Bounds on a live photo's dates. Every bound is strict: `createdAfter: T` keeps photos
/// created after `T`, not at `T`.
#[derive(InputObject, Clone, Copy, Debug, Default)]
pub struct LivePhotoFilter {
    /// Only photos created strictly after this instant.
    created_after: Option<DateTime>,
    /// Only photos created strictly before this instant.
    created_before: Option<DateTime>,
    /// Only photos last updated strictly after this instant.
    updated_after: Option<DateTime>,
    /// Only photos last updated strictly before this instant.
    updated_before: Option<DateTime>,
}

impl LivePhotoFilter {
    /// Upstream compares whole milliseconds. A strict bound with a finer instant keeps the
    /// same photos when rounded away from the kept side: down for `after`, up for `before`.
    fn normalize(self) -> upstream::LivePhotoFilter {
        let floor = |d: Option<DateTime>| d.map(|d| d.0.timestamp_millis());
        let ceil = |d: Option<DateTime>| {
            d.map(|d| {
                let ms = d.0.timestamp_millis();
                if d.0.timestamp_subsec_nanos() % 1_000_000 == 0 {
                    ms
                } else {
                    ms + 1
                }
            })
        };
        upstream::LivePhotoFilter {
            created_after: floor(self.created_after),
            created_before: ceil(self.created_before),
            updated_after: floor(self.updated_after),
            updated_before: ceil(self.updated_before),
        }
    }
}

/// An instant, as an RFC 3339 string in UTC with milliseconds:
/// `2020-01-01T14:06:44.756Z`. Input may carry any offset; it is converted to UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DateTime(pub ChronoDateTime<Utc>);

/// An instant, as an RFC 3339 string in UTC with milliseconds: `2020-01-01T14:06:44.756Z`.
/// Input may carry any offset and is converted to UTC.
#[Scalar(
    name = "DateTime",
    specified_by_url = "https://datatracker.ietf.org/doc/html/rfc3339"
)]
impl ScalarType for DateTime {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => ChronoDateTime::parse_from_rfc3339(s)
                .map(|t| Self(t.with_timezone(&Utc)))
                .map_err(|e| {
                    InputValueError::custom(format!(
                        "`{s}` is not an RFC 3339 date-time such as 2020-01-01T14:06:44.756Z ({e})"
                    ))
                }),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn is_valid(value: &Value) -> bool {
        matches!(value, Value::String(s) if ChronoDateTime::parse_from_rfc3339(s).is_ok())
    }

    fn to_value(&self) -> Value {
        Value::String(upstream::format_instant(&self.0))
    }
}

pub struct LivePhotoConnection {
    slice: Slice,
    scope: Scope,
}

impl LivePhotoConnection {
    /// The cursor of the item at `position`, anchored on that item.
    fn cursor(&self, position: u64, item: &upstream::LivePhoto) -> String {
        cursor::encode(
            u32::try_from(position).unwrap_or(u32::MAX),
            self.scope,
            &item.id,
            item.created_at.timestamp_millis(),
        )
    }
}

/// A page of a client's live photos.
#[Object]
impl LivePhotoConnection {
    /// The photos of this page, each with its cursor.
    async fn edges(&self) -> Vec<Eager<LivePhotoEdge<'_>>> {
        (self.slice.window.start..)
            .zip(&self.slice.items)
            .map(|(position, node)| {
                Eager(LivePhotoEdge {
                    connection: self,
                    position,
                    node,
                })
            })
            .collect()
    }

    /// The photos of this page, without cursors.
    async fn nodes(&self) -> Vec<Eager<LivePhoto>> {
        self.slice
            .items
            .iter()
            .map(|photo| Eager(LivePhoto(photo.clone())))
            .collect()
    }

    /// Where this page lies in the whole list.
    async fn page_info(&self) -> Eager<PageInfo> {
        let window = self.slice.window;
        let (has_previous_page, has_next_page) = window::page_flags(window, self.slice.total);
        let items = &self.slice.items;
        let (start_cursor, end_cursor) = match (items.first(), items.last()) {
            (Some(first), Some(last)) => (
                Some(self.cursor(window.start, first)),
                Some(self.cursor(window.end - 1, last)),
            ),
            _ => (None, None),
        };
        Eager(PageInfo {
            has_previous_page,
            has_next_page,
            start_cursor,
            end_cursor,
        })
    }

    /// How many photos the whole list holds under the filter (ComplyCube's `totalItems`).
    async fn total_count(&self) -> i32 {
        i32::try_from(self.slice.total).unwrap_or(i32::MAX)
    }
}

pub struct LivePhotoEdge<'a> {
    connection: &'a LivePhotoConnection,
    position: u64,
    node: &'a Arc<upstream::LivePhoto>,
}

/// A live photo and its position in the list.
#[Object]
impl LivePhotoEdge<'_> {
    /// An opaque cursor for this photo's position, for `after` or `before`. Valid only with
    /// the same client and filter.
    async fn cursor(&self) -> String {
        self.connection.cursor(self.position, self.node)
    }

    /// The live photo.
    async fn node(&self) -> Eager<LivePhoto> {
        Eager(LivePhoto(self.node.clone()))
    }
}

/// Where a page lies in the whole list. Both flags are exact in either direction.
#[derive(async_graphql::SimpleObject)]
pub struct PageInfo {
    /// Whether the list holds photos before this page.
    has_previous_page: bool,
    /// Whether the list holds photos after this page.
    has_next_page: bool,
    /// The cursor of the first photo of this page; null when the page is empty.
    start_cursor: Option<String>,
    /// The cursor of the last photo of this page; null when the page is empty.
    end_cursor: Option<String>,
}

pub struct LivePhoto(Arc<upstream::LivePhoto>);

/// A live photo: a selfie taken for a liveness check of a client.
#[Object]
impl LivePhoto {
    /// The live photo id.
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }

    /// The id of the client the photo belongs to.
    async fn client_id(&self) -> ID {
        ID(self.0.client_id.clone())
    }

    /// The API path that downloads the image, e.g. `/livePhotos/<id>/download`. It needs
    /// the API key, so fetch it from a backend, not a browser.
    async fn download_link(&self) -> &str {
        &self.0.download_link
    }

    /// The image's MIME type as ComplyCube reports it (its examples say `images/jpg`).
    async fn content_type(&self) -> &str {
        &self.0.content_type
    }

    /// Whether a liveness check was requested for this photo.
    async fn perform_liveness_check(&self) -> bool {
        self.0.perform_liveness_check
    }

    /// The image size in bytes.
    async fn size(&self) -> i32 {
        i32::try_from(self.0.size).unwrap_or(i32::MAX)
    }

    /// When the photo was uploaded.
    async fn created_at(&self) -> DateTime {
        DateTime(self.0.created_at)
    }

    /// When the photo was last changed.
    async fn updated_at(&self) -> DateTime {
        DateTime(self.0.updated_at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dt(s: &str) -> Option<DateTime> {
        Some(DateTime(
            ChronoDateTime::parse_from_rfc3339(s)
                .unwrap()
                .with_timezone(&Utc),
        ))
    }

    /// `check_variables` knows every input type: the scalars through `check_scalar`, input
    /// objects from the SDL. A type it did not know would pass unchecked.
    #[test]
    fn every_input_type_is_known_to_the_variable_check() {
        use async_graphql::parser::types::{TypeKind, TypeSystemDefinition};
        let sdl = async_graphql::parser::parse_schema(sdl()).unwrap();
        let mut scalars = vec!["Int", "Float", "String", "Boolean", "ID"]
            .into_iter()
            .map(String::from)
            .collect::<Vec<_>>();
        for definition in sdl.definitions {
            if let TypeSystemDefinition::Type(ty) = definition {
                match ty.node.kind {
                    TypeKind::Scalar => scalars.push(ty.node.name.node.to_string()),
                    TypeKind::Enum(_) => panic!("enums need a case in check_variables"),
                    _ => {}
                }
            }
        }
        for scalar in scalars {
            assert!(check_scalar(&scalar, &Value::Null).is_some(), "{scalar}");
        }
    }

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

    #[test]
    fn datetimes_print_as_complycube_does() {
        let t = dt("2020-01-01T15:06:44.756+01:00").unwrap();
        assert_eq!(
            t.to_value(),
            Value::String("2020-01-01T14:06:44.756Z".into())
        );
        let t = dt("2020-01-01T14:06:44Z").unwrap();
        assert_eq!(
            t.to_value(),
            Value::String("2020-01-01T14:06:44.000Z".into())
        );
    }

    #[test]
    fn sub_millisecond_bounds_round_away_from_the_kept_side() {
        let f = LivePhotoFilter {
            created_after: dt("2020-01-01T14:06:44.7561Z"),
            created_before: dt("2020-01-01T14:06:44.7561Z"),
            updated_after: dt("2020-01-01T14:06:44.756Z"),
            updated_before: dt("2020-01-01T14:06:44.756Z"),
        }
        .normalize();
        assert_eq!(f.created_after, Some(1_577_887_604_756));
        assert_eq!(f.created_before, Some(1_577_887_604_757));
        assert_eq!(f.updated_after, Some(1_577_887_604_756));
        assert_eq!(f.updated_before, Some(1_577_887_604_756));
    }

    #[test]
    fn bad_dates_are_refused_with_the_expected_format() {
        let err = DateTime::parse(Value::String("yesterday".into())).unwrap_err();
        assert!(err
            .into_server_error(Default::default())
            .message
            .contains("RFC 3339"));
        assert!(!DateTime::is_valid(&Value::String("2020-13-01".into())));
    }
}
