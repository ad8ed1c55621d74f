//! A small schema with what ours lacks (an interface, a union, waiting fields, an
//! extension), where every `Shaped` object has a twin resolved by async-graphql alone.

use std::sync::{
    atomic::{AtomicUsize, Ordering},
    Arc, Mutex,
};

use async_graphql::{
    extensions::{Extension, ExtensionContext, NextResolve, ResolveInfo},
    Context, EmptyMutation, EmptySubscription, Interface, Object, Request, Schema, Union,
};

use super::*;

struct Thing;

#[Object]
impl Thing {
    async fn f(&self, _ctx: &Context<'_>) -> async_graphql::Result<i32> {
        Ok(1)
    }
    async fn g(&self) -> &str {
        "g"
    }
    async fn h(&self) -> i32 {
        3
    }
}

impl Immediate for Thing {}

struct Other;

#[Object]
impl Other {
    async fn o(&self) -> i32 {
        0
    }
}

#[derive(Interface)]
#[graphql(field(name = "f", ty = "i32"))]
enum Node {
    Thing(Thing),
}

#[derive(Union)]
enum Either {
    Thing(Thing),
    Other(Other),
}

/// Counts the fields of one object that are waiting at once.
#[derive(Default)]
struct Waits {
    in_flight: AtomicUsize,
    most: AtomicUsize,
    /// Calls of `Loads.later`.
    calls: AtomicUsize,
}

impl Waits {
    async fn wait(&self) -> i32 {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(now, Ordering::SeqCst);
        tokio::task::yield_now().await;
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        1
    }
}

/// Two fields that wait, and say so.
struct Loads(Arc<Waits>);

#[Object]
impl Loads {
    async fn a(&self) -> i32 {
        self.0.wait().await
    }
    async fn b(&self) -> i32 {
        self.0.wait().await
    }
    async fn now(&self) -> i32 {
        0
    }
    /// A `Thing` that waits: every other call longer, so that a field selected twice
    /// completes in the order opposite to the selection's.
    async fn later(&self) -> Shaped<Thing> {
        let call = self.0.calls.fetch_add(1, Ordering::SeqCst);
        if call.is_multiple_of(2) {
            for _ in 0..3 {
                tokio::task::yield_now().await;
            }
        }
        Shaped(Thing)
    }
}

impl Immediate for Loads {
    fn waits(field: &str) -> bool {
        matches!(field, "a" | "b" | "later")
    }
}

/// The same two fields, not declared: what `Shaped` would do with them in place.
struct Undeclared(Arc<Waits>);

#[Object]
impl Undeclared {
    async fn a(&self) -> i32 {
        self.0.wait().await
    }
    async fn b(&self) -> i32 {
        self.0.wait().await
    }
}

impl Immediate for Undeclared {}

struct Root {
    waits: Arc<Waits>,
}

#[Object]
impl Root {
    async fn eager(&self) -> Shaped<Thing> {
        Shaped(Thing)
    }
    async fn plain(&self) -> Thing {
        Thing
    }
    async fn node(&self) -> Node {
        Node::Thing(Thing)
    }
    async fn either(&self) -> Either {
        Either::Other(Other)
    }
    async fn loads(&self) -> Shaped<Loads> {
        Shaped(Loads(self.waits.clone()))
    }
    async fn undeclared(&self) -> Shaped<Undeclared> {
        Shaped(Undeclared(self.waits.clone()))
    }
}

type TestSchema = Schema<Root, EmptyMutation, EmptySubscription>;

fn schema(waits: &Arc<Waits>) -> TestSchema {
    let root = Root {
        waits: waits.clone(),
    };
    Schema::build(root, EmptyMutation, EmptySubscription).finish()
}

/// `{ x: <field> <selection> } <fragments>`, run; data and errors as JSON.
async fn run(schema: &TestSchema, field: &str, selection: &str) -> serde_json::Value {
    let (selection, fragments) = selection.split_once('|').unwrap_or((selection, ""));
    let query = format!("{{ x: {field} {selection} }} {fragments}");
    let response = schema.execute(Request::new(query)).await;
    serde_json::to_value(&response).unwrap()
}

/// Fragments on an interface the object implements give exactly what async-graphql
/// gives for the same object resolved its own way; fragments on a union it belongs to
/// apply too, as the spec says (DoesFragmentTypeApply), where async-graphql 7.2.1 drops
/// them on an object (its `Fields::add_set` consults `implements` only).
#[tokio::test]
async fn fragments_on_abstract_types_apply_as_the_spec_says() {
    let schema = schema(&Arc::default());
    // A selection, and the same written without the conditions that apply.
    for (selection, applied) in [
        ("{ ... on Node { f } g }", None),
        ("{ g ... on Node { f __typename } h }", None),
        ("{ ...N } | fragment N on Node { f }", None),
        (
            "{ h ...N } | fragment N on Node { f ... on Thing { g } }",
            None,
        ),
        ("{ ... on Thing { f } ... on Node { f } }", None),
        ("{ ... on Either { __typename } }", Some("{ __typename }")),
        (
            "{ ... on Either { ... on Thing { g } } h }",
            Some("{ g h }"),
        ),
        (
            "{ ...U } | fragment U on Either { ... on Thing { f } ... on Other { o } }",
            Some("{ f }"),
        ),
    ] {
        let eager = run(&schema, "eager", selection).await;
        assert!(eager.get("errors").is_none(), "{selection}: {eager}");
        let plain = run(&schema, "plain", applied.unwrap_or(selection)).await;
        assert_eq!(eager, plain, "{selection}");
        if applied.is_some() {
            let own = run(&schema, "plain", selection).await;
            assert_ne!(
                own, eager,
                "async-graphql now applies {selection} on an object: compare with it directly"
            );
        }
    }
}

/// An extension's per-field hook sees every field of a `Shaped` object, with the same
/// information as for the same object resolved by async-graphql.
#[tokio::test]
async fn extensions_see_every_field_resolved_in_place() {
    #[derive(Clone, Default)]
    struct Seen(Arc<Mutex<Vec<String>>>);

    #[async_graphql::async_trait::async_trait]
    impl Extension for Seen {
        async fn resolve(
            &self,
            ctx: &ExtensionContext<'_>,
            info: ResolveInfo<'_>,
            next: NextResolve<'_>,
        ) -> ServerResult<Option<Value>> {
            let seen = format!(
                "{} {}.{}: {}",
                info.path_node, info.parent_type, info.name, info.return_type
            );
            self.0.lock().unwrap().push(seen);
            next.run(ctx, info).await
        }
    }

    impl ExtensionFactory for Seen {
        fn create(&self) -> Arc<dyn Extension> {
            Arc::new(self.clone())
        }
    }

    let seen = Seen::default();
    let root = Root {
        waits: Arc::default(),
    };
    let builder = Schema::build(root, EmptyMutation, EmptySubscription);
    let schema = extension(builder, seen.clone()).finish();
    let mut hooks = Vec::new();
    for field in ["eager", "plain"] {
        let answer = run(&schema, field, "{ g ... on Node { f } h }").await;
        assert!(answer.get("errors").is_none(), "{answer}");
        let mut calls = std::mem::take(&mut *seen.0.lock().unwrap());
        calls.retain(|call| call.starts_with("x.")); // the object's fields, not `x`
        calls.sort();
        hooks.push(calls);
    }
    assert_eq!(hooks[0].len(), 3, "{:?}", hooks[0]);
    assert_eq!(hooks[0], hooks[1]);
}

/// Selecting a field that waits makes the object's fields wait together (so loads of one
/// object batch); in place they would wait in turn.
#[tokio::test]
async fn a_waiting_field_makes_the_object_resolve_concurrently() {
    for (field, selection, together) in [
        ("loads", "{ a b now }", 2),
        ("loads", "{ now ... on Loads { a } b }", 2),
        ("undeclared", "{ a b }", 1),
    ] {
        let waits = Arc::<Waits>::default();
        let answer = run(&schema(&waits), field, selection).await;
        assert!(answer.get("errors").is_none(), "{answer}");
        let most = waits.most.load(Ordering::SeqCst);
        assert_eq!(most, together, "{field} {selection}");
    }
}

/// A field selected twice is one field whose selections merge, in selection order (the
/// spec's CollectFields over the merged selection sets), whichever of the two finishes
/// first: async-graphql merges them in the order they complete.
#[tokio::test]
async fn a_waiting_field_selected_twice_merges_in_selection_order() {
    let waits = Arc::<Waits>::default();
    let schema = schema(&waits);
    for selection in [
        "{ later { g } now later { h g f } }",
        "{ ... on Loads { later { g } } now later { h ... on Thing { g f } } }",
    ] {
        let query = format!("{{ x: loads {selection} }}");
        let response = schema.execute(Request::new(query)).await;
        assert!(response.errors.is_empty(), "{:?}", response.errors);
        assert_eq!(
            serde_json::to_string(&response.data).unwrap(),
            r#"{"x":{"later":{"g":"g","h":3,"f":1},"now":0}}"#,
            "{selection}"
        );
    }
}
