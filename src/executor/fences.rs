//! The executor's fences: canaries that fail when async-graphql changes what the executor
//! replaces, and checks of the shape it gives answers, on a small schema of its own.

use std::time::Duration;

use async_graphql::{
    parser::types::{TypeKind, TypeSystemDefinition},
    Context, EmptyMutation, EmptySubscription, Object, Request, Schema, SchemaBuilder, Union,
};
use serde_json::{json, Value as Json};

use super::{
    budget::Typical,
    builtin_scalar,
    shape::{testing::async_graphql_only, Immediate, Shaped},
    types::{FieldTypes, INTROSPECTION_SDL},
    Executor, Outcome,
};

/// Fields that complete out of order, and fields that fail.
struct Mixed;

async fn later() {
    tokio::time::sleep(Duration::from_millis(1)).await;
}

#[Object]
impl Mixed {
    /// Completes after `quick`.
    async fn slow(&self) -> i32 {
        later().await;
        1
    }
    async fn quick(&self) -> i32 {
        2
    }
    /// Fails, after the others.
    async fn broken(&self) -> async_graphql::Result<Option<i32>> {
        later().await;
        Err(crate::code::Code::UpstreamError.error("broken"))
    }
    /// Fails, and may not be null.
    async fn required(&self) -> async_graphql::Result<i32> {
        Err(crate::code::Code::UpstreamError.error("required"))
    }
    /// A list whose items may not be null, one of which fails.
    async fn items(&self) -> Vec<Shaped<Item>> {
        vec![Shaped(Item(true)), Shaped(Item(false))]
    }
    async fn item(&self) -> Option<Shaped<Item>> {
        Some(Shaped(Item(false)))
    }
}

impl Immediate for Mixed {
    fn waits(field: &str) -> bool {
        matches!(field, "slow" | "broken")
    }
}

/// An object resolved in place whose non-null field fails when it is not `good`.
struct Item(bool);

#[Object]
impl Item {
    async fn good(&self) -> async_graphql::Result<bool> {
        match self.0 {
            true => Ok(true),
            false => Err(crate::code::Code::NotFound.error("bad item")),
        }
    }
    async fn note(&self) -> &str {
        "note"
    }
    /// Far longer than a typical value.
    async fn long(&self) -> String {
        "x".repeat(1000)
    }
}

impl Immediate for Item {}

#[derive(Union)]
enum Either {
    Item(Item),
    Mixed(Mixed),
}

struct Root;

#[Object]
impl Root {
    /// Shaped by the executor.
    async fn shaped(&self) -> Option<Shaped<Mixed>> {
        Some(Shaped(Mixed))
    }
    /// Left to async-graphql alone.
    async fn plain(&self) -> Option<Mixed> {
        Some(Mixed)
    }
    /// Fails at the root, may be null.
    async fn nullable(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<i32>> {
        let _ = ctx;
        Err(crate::code::Code::Forbidden.error("no"))
    }
    /// A non-null root field whose object cannot stand.
    async fn strict(&self) -> Shaped<Item> {
        Shaped(Item(false))
    }
}

type TestSchema = Schema<Root, EmptyMutation, EmptySubscription>;

fn builder() -> SchemaBuilder<Root, EmptyMutation, EmptySubscription> {
    Schema::build(Root, EmptyMutation, EmptySubscription)
}

fn executor() -> Executor<Root> {
    Executor::new(builder, builtin_scalar, 16, true, Box::new(Typical)).unwrap()
}

/// The answer's data as async-graphql's ordered map serialises it (keys in order), and
/// its errors' paths and codes.
fn written(response: &async_graphql::Response) -> (String, Vec<(Json, Json)>) {
    let data = serde_json::to_string(&response.data).unwrap();
    let errors = response
        .errors
        .iter()
        .map(|e| {
            let e = serde_json::to_value(e).unwrap();
            (e["path"].clone(), e["extensions"]["code"].clone())
        })
        .collect();
    (data, errors)
}

/// The canaries: async-graphql 7.2.1 writes fields in completion order and leaves a
/// failed field out. When one fails, async-graphql changed what the executor replaces:
/// read `executor/mod.rs`, simplify `shape.rs` if it can go, and pin the new version.
#[tokio::test]
async fn canary_async_graphql_writes_completion_order_and_drops_failed_fields() {
    let schema: TestSchema = builder().finish();
    let response = schema
        .execute(Request::new("{ plain { slow quick broken } }"))
        .await;
    let (data, _) = written(&response);
    assert_eq!(
        data, r#"{"plain":{"quick":2,"slow":1}}"#,
        "async-graphql now orders fields or keeps failed ones: see executor/fences.rs"
    );
    let response = schema
        .execute(Request::new("{ plain { required quick } nullable }"))
        .await;
    let (data, _) = written(&response);
    assert_eq!(
        data, r#"{"plain":{"quick":2}}"#,
        "async-graphql now nulls failed fields itself: see executor/fences.rs"
    );
}

#[tokio::test]
async fn objects_resolved_concurrently_keep_selection_order_and_null_failed_fields() {
    let answer = executor()
        .execute(Request::new("{ shaped { slow quick broken } }"))
        .await;
    assert_eq!(answer.outcome, Outcome::Ran);
    let (data, errors) = written(&answer.response);
    assert_eq!(data, r#"{"shaped":{"slow":1,"quick":2,"broken":null}}"#);
    assert_eq!(
        errors,
        [(json!(["shaped", "broken"]), json!("UPSTREAM_ERROR"))]
    );
}

#[tokio::test]
async fn a_failed_non_null_field_nulls_its_nearest_nullable_ancestor() {
    let executor = executor();
    for (query, expected, paths) in [
        // Concurrent: `required` fails, `shaped` (nullable) takes the null.
        (
            "{ shaped { quick required } }",
            r#"{"shaped":null}"#,
            vec![json!(["shaped", "required"])],
        ),
        // In place, inside a list of non-null items: the list cannot stand, nor can
        // `items` (non-null), so `shaped` is null; every item's error is reported.
        (
            "{ shaped { quick items { note good } } }",
            r#"{"shaped":null}"#,
            vec![json!(["shaped", "items", 1, "good"])],
        ),
        // In place, a nullable object: only it is null.
        (
            "{ shaped { item { good note } quick } }",
            r#"{"shaped":{"item":null,"quick":2}}"#,
            vec![json!(["shaped", "item", "good"])],
        ),
        // At the root: a nullable field is null, the others answer, in order.
        (
            "{ nullable a: shaped { quick } }",
            r#"{"nullable":null,"a":{"quick":2}}"#,
            vec![json!(["nullable"])],
        ),
        // A non-null root field that cannot stand nulls `data`.
        (
            "{ shaped { quick } strict { good } }",
            "null",
            vec![json!(["strict", "good"])],
        ),
    ] {
        let answer = executor.execute(Request::new(query)).await;
        let (data, errors) = written(&answer.response);
        assert_eq!(data, expected, "{query}");
        let got: Vec<_> = errors.into_iter().map(|(path, _)| path).collect();
        assert_eq!(got, paths, "{query}");
    }
}

#[tokio::test]
async fn fragments_and_aliases_keep_the_order_of_first_selection() {
    let query = "{ shaped { b: quick ... on Mixed { slow } ...F quick b: quick } } \
                 fragment F on Mixed { a: slow }";
    let answer = executor().execute(Request::new(query)).await;
    let (data, errors) = written(&answer.response);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(data, r#"{"shaped":{"b":2,"slow":1,"a":1,"quick":2}}"#);
}

/// With the executor's shortcuts off, async-graphql's own resolution gives the same values
/// and errors: the shortcuts change only order and nulls.
#[tokio::test]
async fn without_the_shortcuts_async_graphql_gives_the_same_values_and_errors() {
    let plain = Executor::new(
        || async_graphql_only(builder()),
        builtin_scalar,
        16,
        true,
        Box::new(Typical),
    )
    .unwrap();
    let shaped = executor();
    let query = "{ shaped { item { note } quick slow } }";
    let a = plain.execute(Request::new(query)).await.response;
    let b = shaped.execute(Request::new(query)).await.response;
    assert_eq!(
        serde_json::to_value(&a).unwrap(),
        serde_json::to_value(&b).unwrap()
    );
}

#[test]
fn a_schema_with_what_the_executor_does_not_handle_refuses_to_start() {
    struct WithUnion;
    #[Object]
    impl WithUnion {
        async fn either(&self) -> Option<Either> {
            None
        }
    }
    let refused = Executor::new(
        || Schema::build(WithUnion, EmptyMutation, EmptySubscription),
        builtin_scalar,
        16,
        true,
        Box::new(Typical),
    )
    .err()
    .expect("a union is fenced");
    assert!(refused.contains("union"), "{refused}");
}

/// `INTROSPECTION_SDL` says what async-graphql serves: every field it lists has the type
/// and arguments (with defaults) that introspection reports.
#[tokio::test]
async fn the_introspection_sdl_is_what_async_graphql_serves() {
    const QUERY: &str = "{ __schema { types { name fields(includeDeprecated: true) { name \
        type { ...T } args { name defaultValue type { ...T } } } } } } \
        fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }";
    fn sdl_type(ty: &Json) -> String {
        match ty["kind"].as_str() {
            Some("NON_NULL") => format!("{}!", sdl_type(&ty["ofType"])),
            Some("LIST") => format!("[{}]", sdl_type(&ty["ofType"])),
            _ => ty["name"].as_str().unwrap().to_owned(),
        }
    }
    let schema: TestSchema = builder().finish();
    let response = schema.execute(QUERY).await.into_result().unwrap();
    let served = response.data.into_json().unwrap();
    let written = FieldTypes::from_sdl(INTROSPECTION_SDL).unwrap();
    let types = served["__schema"]["types"].as_array().unwrap();
    let sdl = async_graphql::parser::parse_schema(INTROSPECTION_SDL).unwrap();
    let mut checked = 0;
    for definition in &sdl.definitions {
        let TypeSystemDefinition::Type(ty) = definition else {
            continue;
        };
        let TypeKind::Object(object) = &ty.node.kind else {
            continue;
        };
        let type_name = ty.node.name.node.as_str();
        let served_type = types
            .iter()
            .find(|t| t["name"] == type_name)
            .unwrap_or_else(|| panic!("async-graphql serves no {type_name}"));
        for field in &object.fields {
            let name = field.node.name.node.as_str();
            let served_field = served_type["fields"]
                .as_array()
                .unwrap()
                .iter()
                .find(|f| f["name"] == name)
                .unwrap_or_else(|| panic!("{type_name}.{name} is not served"));
            assert_eq!(
                Some(sdl_type(&served_field["type"]).as_str()),
                written.of(type_name, name),
                "{type_name}.{name}"
            );
            let args = written.arguments(type_name, name).unwrap();
            let served_args = served_field["args"].as_array().unwrap();
            assert_eq!(args.len(), served_args.len(), "{type_name}.{name}");
            for (arg, served) in args.iter().zip(served_args) {
                assert_eq!(served["name"], arg.name.as_str());
                assert_eq!(sdl_type(&served["type"]), arg.ty.to_string());
                assert_eq!(served["defaultValue"].is_string(), arg.has_default);
            }
            checked += 1;
        }
    }
    assert!(checked >= 13, "{checked}");
}

#[tokio::test]
async fn an_answer_past_its_budget_is_refused_before_it_runs_or_stopped_while_built() {
    use std::sync::Arc;

    use super::budget::AnswerBudget;

    let executor = executor();
    let run = |query: &str, budget: &Arc<AnswerBudget>| {
        executor.execute(Request::new(query).data(budget.clone()))
    };
    let code = |answer: &super::Answer| answer.code().map(|c| c.as_str());
    // Estimated at about 150 bytes: too much for 64, before anything resolves.
    let small = Arc::new(AnswerBudget::new(64));
    let refused = run("{ shaped { quick slow items { note } } }", &small).await;
    assert_eq!(refused.outcome, Outcome::Refused);
    assert_eq!(code(&refused), Some("RESPONSE_TOO_LARGE"));
    // Estimated small, built large: stopped, and no half answer.
    let budget = Arc::new(AnswerBudget::new(500));
    let stopped = run("{ shaped { item { long } } }", &budget).await;
    assert_eq!(code(&stopped), Some("RESPONSE_TOO_LARGE"));
    assert_eq!(stopped.response.data, async_graphql::Value::Null);
    assert_eq!(stopped.response.errors.len(), 1);
    // The same within the budget, and a second operation of the same request sharing it.
    let roomy = Arc::new(AnswerBudget::new(1500));
    let fits = run("{ shaped { item { long } } }", &roomy).await;
    assert!(
        fits.response.errors.is_empty(),
        "{:?}",
        fits.response.errors
    );
    let second = run("{ shaped { item { long } } }", &roomy).await;
    assert_eq!(
        code(&second),
        Some("RESPONSE_TOO_LARGE"),
        "the request's budget is spent"
    );
}
