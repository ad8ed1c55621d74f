//! The schema's own tests: every error site's code, the cache of validated documents, and
//! what the executor may assume of this schema.

use std::sync::Arc;

use async_graphql::{EmptyMutation, EmptySubscription, Request, Schema, ValidationMode};
use serde_json::json;

use super::*;
use crate::{
    auth::Caller,
    code::Code,
    executor::Outcome,
    loader::Loaders,
    simulator::{data::DOCUMENTED_CLIENT, Simulator, SimulatorSettings},
    upstream::{ApiKey, Session, Upstream, UpstreamSettings},
};

proptest::proptest! {
    #![proptest_config(proptest::test_runner::Config::with_cases(64))]
    /// Whether a query has been validated before (and so runs under fast validation)
    /// never changes the answer, whatever the variables hold.
    #[test]
    fn cache_state_never_changes_the_answer(variables in variables()) {
        const QUERY: &str = "query($id: ID!, $n: Int, $f: LivePhotoFilter, $on: Boolean!) { \
            client(id: $id) { id @include(if: $on) \
            livePhotos(first: $n, filter: $f) @include(if: false) { totalCount } } }";
        let run = |executor: &Executor<Query>, variables: serde_json::Value| {
            let request = Request::new(QUERY)
                .variables(async_graphql::Variables::from_json(variables))
                .data(Caller::Full);
            let answer = futures::executor::block_on(executor.execute(request));
            serde_json::to_value(&answer.response).unwrap()
        };
        let fresh = test_executor();
        let warm = test_executor();
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

/// A simulator on loopback, and loaders on it with a call budget of `max_calls`.
async fn loaders() -> impl Fn(usize) -> Arc<Loaders> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let simulator = Simulator::new(SimulatorSettings::default());
    let addr = simulator.spawn(listener).await.unwrap();
    let settings = UpstreamSettings::new(format!("http://{addr}/v1"), Some(ApiKey::new("k")));
    let upstream = Upstream::new(&settings).unwrap();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    move |max_calls| {
        Arc::new(Loaders::new(
            upstream.clone(),
            Session::new(deadline, max_calls),
        ))
    }
}

fn photos(id: &str, args: &str) -> String {
    format!(r#"{{ client(id: "{id}") {{ livePhotos{args} {{ totalCount }} }} }}"#)
}

/// Every error site of ours, run through async-graphql without the executor: each error
/// already carries the code the caller must see (typed, as its source), so the executor
/// (which labels async-graphql's own errors by whether execution began) never has to guess
/// one of ours. An error site that forgot its code fails here.
#[tokio::test]
async fn our_errors_carry_their_codes_without_the_executor() {
    let loader = loaders().await;
    let schema = build(Limits::DEFAULT, QueryLimits::default());
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
        // A download that does not fit the call budget.
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
        let response = schema.execute(request).await;
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

    // `Shaped`'s own fragment lookup, which only a document validation never saw reaches.
    let query = format!(r#"{{ client(id: "{DOCUMENTED_CLIENT}") {{ livePhotos {{ ...F }} }} }}"#);
    let fast = builder(Limits::DEFAULT, QueryLimits::default())
        .validation_mode(ValidationMode::Fast)
        .finish();
    let response = fast
        .execute(Request::new(&query).data(loader(128)).data(Caller::Full))
        .await;
    assert_codes(&response.errors, Code::GraphqlValidationFailed, &query);
}

/// The refusals before execution: made by the executor, with their codes, and said to be
/// refusals (no `data` entry).
#[tokio::test]
async fn refusals_before_execution_carry_their_codes() {
    let loader = loaders().await;
    let executor = test_executor();
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
        (
            "{ nope }".to_owned(),
            json!({}),
            Code::GraphqlValidationFailed,
        ),
        (
            "query A { __typename } query B { __typename }".to_owned(),
            json!({}),
            Code::GraphqlValidationFailed,
        ),
    ] {
        let request =
            Request::new(query.as_str()).variables(async_graphql::Variables::from_json(variables));
        let answer = executor
            .execute(request.data(loader(128)).data(Caller::Full))
            .await;
        assert_eq!(answer.outcome, Outcome::Refused, "{query}");
        assert_codes(&answer.response.errors, code, &query);
    }
}

fn assert_codes(errors: &[async_graphql::ServerError], code: Code, what: &str) {
    assert!(!errors.is_empty(), "{what}: no error");
    for error in errors {
        assert_eq!(Code::of(error), Some(code), "{what}: {}", error.message);
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

#[test]
fn the_service_schema_is_one_the_executor_handles() {
    test_executor();
}

/// `Immediate::waits` names exactly the fields whose resolution asks a loader: one it
/// missed would be resolved in place, and its loads would no longer batch with its
/// siblings'; one it named needlessly costs the in-place path. Every object type of the
/// schema is reached here, and each of its fields selected alone (an object-typed field
/// with all of its own leaves), and the loads it asked for are counted.
#[tokio::test]
async fn waits_names_exactly_the_fields_that_ask_a_loader() {
    use crate::executor::Immediate;
    use async_graphql::parser::{
        parse_schema,
        types::{TypeKind, TypeSystemDefinition},
    };
    use std::collections::HashMap;

    let person = "5f1e0a3c9d2b4a0008a10007";
    let company = crate::simulator::clients::COMPANIES[0];
    let photos =
        format!(r#"client(id: "{DOCUMENTED_CLIENT}") {{ livePhotos(first: 1) {{ %% }} }}"#);
    // Each object type: the query that reaches it (`%%` marks its selection), and its
    // declared waiting fields.
    type Reach = (String, fn(&str) -> bool);
    let reach: HashMap<&str, Reach> = HashMap::from([
        (
            "Client",
            (
                format!(r#"client(id: "{DOCUMENTED_CLIENT}") {{ %% }}"#),
                Client::waits as fn(&str) -> bool,
            ),
        ),
        (
            "LivePhotoConnection",
            (photos.clone(), LivePhotoConnection::waits),
        ),
        (
            "LivePhotoEdge",
            (photos.replace("%%", "edges { %% }"), LivePhotoEdge::waits),
        ),
        (
            "PageInfo",
            (photos.replace("%%", "pageInfo { %% }"), PageInfo::waits),
        ),
        (
            "LivePhoto",
            (photos.replace("%%", "nodes { %% }"), LivePhoto::waits),
        ),
        (
            "LivePhotoImage",
            (
                photos.replace("%%", "nodes { download { %% } }"),
                LivePhotoImage::waits,
            ),
        ),
        (
            "PersonDetails",
            (
                format!(r#"client(id: "{person}") {{ personDetails {{ %% }} }}"#),
                PersonDetails::waits,
            ),
        ),
        (
            "CompanyDetails",
            (
                format!(r#"client(id: "{company}") {{ companyDetails {{ %% }} }}"#),
                CompanyDetails::waits,
            ),
        ),
    ]);
    let sdl = parse_schema(sdl()).unwrap();
    let objects: HashMap<String, Vec<(String, String)>> = sdl
        .definitions
        .iter()
        .filter_map(|d| match d {
            TypeSystemDefinition::Type(t) => match &t.node.kind {
                TypeKind::Object(o) => Some((
                    t.node.name.node.to_string(),
                    o.fields
                        .iter()
                        .map(|f| {
                            let ty = f.node.ty.node.to_string();
                            (
                                f.node.name.node.to_string(),
                                ty.trim_matches(|c| "[]!".contains(c)).to_owned(),
                            )
                        })
                        .collect(),
                )),
                _ => None,
            },
            _ => None,
        })
        .collect();
    let leaves = |ty: &str| -> String {
        objects[ty]
            .iter()
            .filter(|(_, t)| !objects.contains_key(t))
            .map(|(name, _)| name.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let loader = loaders().await;
    let executor = test_executor();
    let asked = |query: String| {
        let loaders = loader(128);
        let request = Request::new(format!("{{ {query} }}"))
            .data(loaders.clone())
            .data(Caller::Full);
        let executor = &executor;
        async move {
            let answer = executor.execute(request).await;
            assert!(
                answer.response.errors.is_empty(),
                "{query}: {:?}",
                answer.response.errors
            );
            loaders.asked()
        }
    };
    for (ty, fields) in &objects {
        if ty == "Query" {
            continue;
        }
        let (path, waits) = reach
            .get(ty.as_str())
            .unwrap_or_else(|| panic!("{ty} is an object type this test cannot reach: add it"));
        let baseline = asked(path.replace("%%", "__typename")).await;
        for (field, field_type) in fields {
            let selection = match objects.contains_key(field_type) {
                true => format!("{field} {{ {} }}", leaves(field_type)),
                false => field.clone(),
            };
            let loads = asked(path.replace("%%", &selection)).await;
            assert_eq!(
                waits(field),
                loads > baseline,
                "{ty}.{field}: declared {}waiting, asked {loads} loads (without it {baseline})",
                if waits(field) { "" } else { "not " }
            );
        }
    }
}
