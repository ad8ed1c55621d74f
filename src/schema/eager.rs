//! Resolution in place for objects whose fields never wait.
//!
//! async-graphql resolves the fields of every object concurrently: one boxed future per
//! field, polled through a `FuturesUnordered`, results merged into a map in completion
//! order. That machinery is what lets `livePhotos` fetch concurrently with its siblings,
//! and it is most of the CPU a response costs when a page of 20 photos selects 200 fields
//! whose values are already in memory. [`Eager`] resolves such an object's fields one after
//! another in a single future, in selection order, with the same field resolvers, the same
//! error handling and the same merging of repeated response keys.
//!
//! The one thing to know: resolving in place is right only where it cannot be told from
//! async-graphql's own resolution, and each way it could be told is handled here:
//!
//! - fields that wait: an [`Immediate`] type names those that may; selecting one falls
//!   back to async-graphql's concurrent resolution, so that loads still batch together;
//! - directives on a field hook into its resolution: they fall back too;
//! - fragments on an interface the type implements or a union it belongs to apply, as
//!   fragments on the type itself do (looked up in the schema's registry);
//! - schema extensions hook into every field: a schema that has any leaves every object to
//!   async-graphql. Register them with [`extension`], which says so in the schema's data;
//!   `clippy.toml` refuses async-graphql's own `SchemaBuilder::extension`, which would not.

use std::borrow::Cow;

use async_graphql::{
    extensions::ExtensionFactory,
    indexmap::IndexMap,
    parser::types::{Field, Selection, SelectionSet},
    registry::{MetaType, Registry},
    resolver_utils::{resolve_container, ContainerType},
    ContextSelectionSet, Name, OutputType, Positioned, SchemaBuilder, ServerResult, Value,
};

use super::{error::server_error, Code};

/// A type whose fields `Eager` may resolve in place: it says which of them may wait.
pub trait Immediate: ContainerType {
    /// Fields whose resolvers may wait (loaders); selecting one makes `Eager` fall back.
    const WAITING: &'static [&'static str] = &[];
}

/// `T` as the same GraphQL type, resolved in place unless the selection needs
/// async-graphql's own resolution (see the module documentation).
pub struct Eager<T>(pub T);

impl<T: Immediate> OutputType for Eager<T> {
    fn type_name() -> Cow<'static, str> {
        T::type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        T::create_type_info(registry)
    }

    fn introspection_type_name(&self) -> Cow<'static, str> {
        self.0.introspection_type_name()
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        _field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        let root = &self.0;
        let mut fields = Vec::with_capacity(ctx.item.node.items.len());
        if has_extensions(ctx)
            || collect::<T>(ctx, &ctx.item.node, &mut fields)? == Plan::Concurrent
        {
            return resolve_container(ctx, root).await;
        }
        let mut object = IndexMap::with_capacity(fields.len());
        for field in fields {
            let key = field.node.response_key().node.clone();
            if field.node.name.node == "__typename" {
                let name = root.introspection_type_name().into_owned();
                insert(&mut object, key, Value::String(name));
                continue;
            }
            match root.resolve_field(&ctx.with_field(field)).await {
                Ok(value) => insert(&mut object, key, value.unwrap_or_default()),
                Err(e) => ctx.add_error(e),
            }
        }
        // As async-graphql does: an object none of whose fields resolved is null.
        Ok(if object.is_empty() {
            Value::Null
        } else {
            Value::Object(object)
        })
    }
}

/// Put in a schema's data by [`extension`], the one way this crate registers a schema
/// extension (`clippy.toml` refuses `SchemaBuilder::extension` everywhere else).
struct HasExtensions;

/// Registers `extension` on `builder`, and tells `Eager` that field resolution has hooks
/// now, so that it leaves every object to async-graphql. async-graphql 7.2.1 keeps to
/// itself whether a request has extensions (`Extensions::is_empty` is crate-private), so
/// the schema has to say so.
#[allow(clippy::disallowed_methods)]
pub fn extension<Q, M, S>(
    builder: SchemaBuilder<Q, M, S>,
    extension: impl ExtensionFactory,
) -> SchemaBuilder<Q, M, S> {
    builder.extension(extension).data(HasExtensions)
}

/// Whether the schema has extensions, whose per-field hooks only async-graphql's own
/// resolution calls.
fn has_extensions(ctx: &ContextSelectionSet<'_>) -> bool {
    ctx.schema_env
        .data
        .contains_key(&std::any::TypeId::of::<HasExtensions>())
}

/// How an object's fields are to be resolved.
#[derive(Debug, PartialEq, Eq)]
enum Plan {
    /// In place, one after another: every field collected.
    InPlace,
    /// By async-graphql, concurrently: a field waits or carries a directive.
    Concurrent,
}

/// The fields `set` selects on `T`, fragments expanded, in selection order, or that they
/// must be resolved concurrently: a field of [`Immediate::WAITING`] is selected, or a
/// field carries a directive (`@skip`/`@include` are gone by now; any other one hooks into
/// resolution).
fn collect<'a, T: Immediate>(
    ctx: &ContextSelectionSet<'a>,
    set: &'a SelectionSet,
    fields: &mut Vec<&'a Positioned<Field>>,
) -> ServerResult<Plan> {
    for selection in &set.items {
        let (condition, set) = match &selection.node {
            Selection::Field(field) => {
                if !field.node.directives.is_empty()
                    || T::WAITING.contains(&field.node.name.node.as_str())
                {
                    return Ok(Plan::Concurrent);
                }
                fields.push(field);
                continue;
            }
            Selection::FragmentSpread(spread) => {
                let name = &spread.node.fragment_name.node;
                let Some(fragment) = ctx.query_env.fragments.get(name) else {
                    // Validation refuses such a document before anything resolves.
                    return Err(server_error(
                        Code::GraphqlValidationFailed,
                        format!(r#"Unknown fragment "{name}"."#),
                        Some(spread.pos),
                    ));
                };
                (
                    Some(&fragment.node.type_condition.node.on.node),
                    &fragment.node.selection_set.node,
                )
            }
            Selection::InlineFragment(inline) => (
                inline.node.type_condition.as_ref().map(|c| &c.node.on.node),
                &inline.node.selection_set.node,
            ),
        };
        let applies = condition.is_none_or(|c| applies_to::<T>(ctx, c));
        if applies && collect::<T>(ctx, set, fields)? == Plan::Concurrent {
            return Ok(Plan::Concurrent);
        }
    }
    Ok(Plan::InPlace)
}

/// Whether a fragment on `condition` applies to a `T` (the spec's DoesFragmentTypeApply):
/// the condition is `T` itself, an interface `T` implements, or a union `T` belongs to.
/// Validation has already refused conditions no `T` can satisfy.
fn applies_to<T: Immediate>(ctx: &ContextSelectionSet<'_>, condition: &str) -> bool {
    condition == T::type_name()
        || ctx
            .schema_env
            .registry
            .types
            .get(condition)
            .is_some_and(|ty: &MetaType| ty.is_possible_type(&T::type_name()))
}

/// Adds a field's value under its response key, merging the sub-selections of a key
/// selected more than once, as async-graphql does.
fn insert(object: &mut IndexMap<Name, Value>, key: Name, value: Value) {
    use async_graphql::indexmap::map::Entry;
    let existing = match object.entry(key) {
        Entry::Vacant(slot) => {
            slot.insert(value);
            return;
        }
        Entry::Occupied(slot) => slot.into_mut(),
    };
    match (existing, value) {
        (Value::Object(existing), Value::Object(more)) => {
            for (key, value) in more {
                insert(existing, key, value);
            }
        }
        (Value::List(existing), Value::List(more)) => {
            for (existing, more) in existing.iter_mut().zip(more) {
                if let (Value::Object(existing), Value::Object(more)) = (existing, more) {
                    for (key, value) in more {
                        insert(existing, key, value);
                    }
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    //! A small schema with what ours lacks (an interface, a union, waiting fields, an
    //! extension), where every `Eager` object has a twin resolved by async-graphql alone.

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
    }

    impl Immediate for Loads {
        const WAITING: &'static [&'static str] = &["a", "b"];
    }

    /// The same two fields, not declared: what `Eager` would do with them in place.
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
        async fn eager(&self) -> Eager<Thing> {
            Eager(Thing)
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
        async fn loads(&self) -> Eager<Loads> {
            Eager(Loads(self.waits.clone()))
        }
        async fn undeclared(&self) -> Eager<Undeclared> {
            Eager(Undeclared(self.waits.clone()))
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

    /// An extension's per-field hook sees every field of an `Eager` object, with the same
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

    /// Selecting a field that waits makes the object resolve by async-graphql, whose
    /// fields wait together (so loads of one object batch); in place they would wait in
    /// turn.
    #[tokio::test]
    async fn a_waiting_field_makes_eager_resolve_concurrently() {
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
}
