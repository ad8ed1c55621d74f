//! Objects resolved to the shape the spec gives a response: fields in the order the query
//! selected them, and a failed field's `null` where the spec puts it.
//!
//! async-graphql 7.2 resolves the fields of an object concurrently (one boxed future per
//! field in a `FuturesUnordered`), writes them in the order they complete (its issue
//! #612), and leaves a failed field out of its parent whatever the field's type. [`Shaped`]
//! wraps an object type and gives its fields back in selection order with the spec's
//! nulls, in one of two ways:
//!
//! - **in place**, when no selected field waits ([`Immediate::waits`]) and no field carries
//!   a directive that hooks into resolution: the fields are resolved one after another in
//!   one future, in selection order, with the type's own resolvers. This is most of a
//!   response (a page of photos, its edges, `pageInfo`) and the cheapest way to build it;
//! - **concurrently**, otherwise: async-graphql resolves the object (so loads of sibling
//!   fields batch together), and the result is then put in selection order and the
//!   failed fields given their nulls.
//!
//! Either way, a field that failed is `null` when its type is nullable; a non-null field
//! that failed (or whose value holds a null where its type allows none) makes the object
//! itself `null`, which its parent then settles the same way: the spec's null propagation,
//! one object at a time. The errors keep the paths they were raised at.
//!
//! The one thing to know: this needs the object's concrete type, which is why it happens
//! here, during resolution, and not on the finished response: a fragment on an interface
//! or a union applies to an object by its type ([`walk::applies`]). Schema extensions hook
//! into every field; with one registered (through [`extension`], which `clippy.toml`
//! enforces) objects are always resolved concurrently, so each field passes through the
//! extension, and still shaped.

use std::borrow::Cow;

use async_graphql::{
    extensions::ExtensionFactory,
    indexmap::{map::Entry, IndexMap},
    parser::types::{ExecutableDocument, Field, OperationDefinition},
    registry::{MetaTypeName, Registry},
    resolver_utils::{resolve_container, ContainerType},
    ContextSelectionSet, Name, OutputType, PathSegment, Positioned, SchemaBuilder, ServerResult,
    Value,
};

use super::{
    budget::{written_bytes, AnswerBudget},
    types::FieldTypes,
    walk,
};
use crate::code::Code;

/// An object type that [`Shaped`] may resolve in place: it says which of its fields may
/// wait.
pub trait Immediate: ContainerType {
    /// Whether the resolver of `field` may wait (on a loader): selecting such a field makes
    /// the object resolve concurrently, so that its loads batch with its siblings'.
    fn waits(_field: &str) -> bool {
        false
    }
}

impl<T: Immediate> Immediate for &T {
    fn waits(field: &str) -> bool {
        T::waits(field)
    }
}

/// `T`, resolved to the spec's shape (see the module documentation).
pub struct Shaped<T>(pub T);

impl<T: Immediate> OutputType for Shaped<T> {
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
        #[cfg(test)]
        if testing::is_async_graphql_only(ctx) {
            return resolve_container(ctx, &self.0).await;
        }
        let budget = ctx.data_opt::<std::sync::Arc<AnswerBudget>>();
        // Past the budget, the answer is dropped: build (and load) nothing more.
        if budget.is_some_and(|b| b.exceeded()) {
            return Ok(Value::Null);
        }
        let object = self.0.introspection_type_name();
        let mut fields = Vec::with_capacity(ctx.item.node.items.len());
        let value =
            if !has_extensions(ctx) && plan::<T>(ctx, &object, &mut fields)? == Plan::InPlace {
                self.in_place(ctx, &object, fields).await
            } else {
                let value = resolve_container(ctx, &self.0).await?;
                restore(ctx, &object, value)
            };
        if let (Some(budget), Value::Object(fields)) = (budget, &value) {
            let bytes = fields
                .iter()
                .map(|(key, value)| written_bytes(key, value))
                .sum();
            budget.spend(bytes);
        }
        Ok(value)
    }
}

impl<T: Immediate> Shaped<T> {
    /// The object's fields resolved one after another, in selection order.
    async fn in_place(
        &self,
        ctx: &ContextSelectionSet<'_>,
        object: &str,
        fields: Vec<&Positioned<Field>>,
    ) -> Value {
        let mut values = IndexMap::with_capacity(fields.len());
        let mut stands = true;
        for field in fields {
            let key = field.node.response_key().node.clone();
            let name = &field.node.name.node;
            if name == "__typename" {
                insert(&mut values, key, Value::String(object.to_owned()));
                continue;
            }
            let value = match self.0.resolve_field(&ctx.with_field(field)).await {
                Ok(value) => value.unwrap_or_default(),
                Err(e) => {
                    ctx.add_error(e);
                    Value::Null
                }
            };
            match settle(&ctx.schema_env.registry, object, name, value) {
                Some(value) => insert(&mut values, key, value),
                None => stands = false,
            }
        }
        if stands {
            Value::Object(values)
        } else {
            Value::Null
        }
    }
}

/// `T`, resolved behind one boxed future. A schema whose objects lead back to themselves
/// (a photo's client's photos) has resolution futures that would contain themselves when
/// every object resolves in place; one `Boxed` on the way round ends that, at the cost of
/// one allocation where it stands.
pub struct Boxed<T>(pub T);

impl<T: OutputType> OutputType for Boxed<T> {
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
        field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        let boxed: futures::future::BoxFuture<'_, ServerResult<Value>> =
            Box::pin(self.0.resolve(ctx, field));
        boxed.await
    }
}

/// How an object's fields are to be resolved.
#[derive(Debug, PartialEq, Eq)]
enum Plan {
    /// In place, one after another: every field collected.
    InPlace,
    /// By async-graphql, concurrently: a field waits or carries a directive.
    Concurrent,
}

/// The fields the selection selects on an object of type `object`, in selection order, or
/// that they must be resolved concurrently: a field that [`Immediate::waits`] is selected,
/// or a field carries a directive (`@skip`/`@include` are gone by now; any other one hooks
/// into resolution).
fn plan<'a, T: Immediate>(
    ctx: &ContextSelectionSet<'a>,
    object: &str,
    fields: &mut Vec<&'a Positioned<Field>>,
) -> ServerResult<Plan> {
    let walked = walk::fields(
        &ctx.query_env.fragments,
        &ctx.schema_env.registry,
        object,
        &ctx.item.node,
        &mut |field| {
            let name = field.node.name.node.as_str();
            if !field.node.directives.is_empty() || (name != "__typename" && T::waits(name)) {
                return std::ops::ControlFlow::Break(());
            }
            fields.push(field);
            std::ops::ControlFlow::Continue(())
        },
    );
    match walked {
        Ok(std::ops::ControlFlow::Continue(())) => Ok(Plan::InPlace),
        Ok(std::ops::ControlFlow::Break(())) => Ok(Plan::Concurrent),
        // Validation refuses such a document before anything resolves.
        Err(unknown) => Err(Code::GraphqlValidationFailed.server_error(
            format!(r#"Unknown fragment "{}"."#, unknown.name),
            Some(unknown.pos),
        )),
    }
}

/// An object async-graphql resolved, in selection order and with the spec's nulls: a
/// selected field it left out failed (its error is already recorded).
fn restore(ctx: &ContextSelectionSet<'_>, object: &str, value: Value) -> Value {
    let mut resolved = match value {
        Value::Object(map) => map,
        // async-graphql's answer when no field resolved.
        Value::Null => IndexMap::new(),
        other => return other,
    };
    let registry = &ctx.schema_env.registry;
    let selected = walk::collect(&ctx.query_env.fragments, registry, object, &ctx.item.node);
    let mut values = IndexMap::with_capacity(selected.len());
    let mut stands = true;
    for field in selected {
        let value = resolved.swap_remove(field.key).unwrap_or_default();
        match settle(registry, object, field.name, value) {
            Some(value) => {
                values.insert(field.key.clone(), value);
            }
            None => stands = false,
        }
    }
    // Nothing async-graphql wrote is lost, even a key the walk would not select.
    values.extend(resolved);
    if stands {
        Value::Object(values)
    } else {
        Value::Null
    }
}

/// A field's value after the spec's null propagation inside it, or `None` when the field
/// is non-null and its value cannot stand, so that its object must be null instead.
pub(super) fn settle(
    registry: &Registry,
    object: &str,
    field: &str,
    mut value: Value,
) -> Option<Value> {
    // Only a null, or a list that may hold one, can break a type's promise.
    if !matches!(value, Value::Null | Value::List(_)) {
        return Some(value);
    }
    let ty = registry
        .types
        .get(object)
        .and_then(|t| t.field_by_name(field))
        .map_or("", |f| f.ty.as_str());
    stands(&mut value, ty).then_some(value)
}

/// Whether `value` may stand as a value of type `ty` (SDL notation), nulling the items of
/// nullable lists inside it that cannot.
pub(super) fn stands(value: &mut Value, ty: &str) -> bool {
    match MetaTypeName::create(ty) {
        MetaTypeName::NonNull(inner) => *value != Value::Null && items_stand(value, inner),
        _ => {
            if !items_stand(value, ty) {
                *value = Value::Null;
            }
            true
        }
    }
}

/// Whether every item of a list value stands as the list type's item (any other value:
/// yes). Every item is settled, not only up to the first that fails.
fn items_stand(value: &mut Value, ty: &str) -> bool {
    match (MetaTypeName::create(ty), value) {
        (MetaTypeName::List(item), Value::List(items)) => {
            let mut all = true;
            for v in items {
                all &= stands(v, item);
            }
            all
        }
        _ => true,
    }
}

/// The root of a response, shaped after execution (async-graphql resolves the query root
/// itself): its fields in selection order, a failed field `null` when nullable, and `data`
/// itself `null` when a non-null root field failed.
pub(super) fn root(
    response: &mut async_graphql::Response,
    document: &ExecutableDocument,
    operation: &OperationDefinition,
    types: &FieldTypes,
) {
    let query = types.query_type.as_str();
    let set = &operation.selection_set.node;
    let selected = walk::collect(&document.fragments, types, query, set);
    let mut resolved = match std::mem::take(&mut response.data) {
        Value::Object(map) => map,
        // async-graphql's answer when no root field resolved.
        _ => IndexMap::new(),
    };
    let failed_here = |key: &Name| {
        response
            .errors
            .iter()
            .any(|e| matches!(e.path.as_slice(), [PathSegment::Field(k)] if k == key.as_str()))
    };
    let mut data = IndexMap::with_capacity(selected.len());
    for field in selected {
        let mut value = match resolved.swap_remove(field.key) {
            Some(value) => value,
            None if failed_here(field.key) => Value::Null,
            // Left out by `@skip` or `@include`.
            None => continue,
        };
        if !stands(&mut value, types.of(query, field.name).unwrap_or_default()) {
            response.data = Value::Null;
            return;
        }
        data.insert(field.key.clone(), value);
    }
    data.extend(resolved);
    response.data = Value::Object(data);
}

/// Put in a schema's data by [`extension`], the one way this crate registers a schema
/// extension (`clippy.toml` refuses `SchemaBuilder::extension` everywhere else).
struct HasExtensions;

/// Registers `extension` on `builder`, and tells [`Shaped`] that field resolution has
/// hooks now, so that it never resolves in place. async-graphql 7.2.1 keeps to itself
/// whether a request has extensions (`Extensions::is_empty` is crate-private), so the
/// schema has to say so.
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

/// Adds a field's value under its response key, merging the sub-selections of a key
/// selected more than once, as async-graphql does.
fn insert(object: &mut IndexMap<Name, Value>, key: Name, value: Value) {
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

/// For tests that compare the executor with async-graphql's own resolution.
#[cfg(test)]
pub mod testing {
    use super::*;

    /// Put in a schema's data by [`async_graphql_only`].
    struct AsyncGraphqlOnly;

    /// `builder`, with every [`Shaped`] object left to async-graphql alone: no resolution
    /// in place, no shaping. The reference of the differential tests.
    pub fn async_graphql_only<Q, M, S>(builder: SchemaBuilder<Q, M, S>) -> SchemaBuilder<Q, M, S> {
        builder.data(AsyncGraphqlOnly)
    }

    pub(super) fn is_async_graphql_only(ctx: &ContextSelectionSet<'_>) -> bool {
        ctx.schema_env
            .data
            .contains_key(&std::any::TypeId::of::<AsyncGraphqlOnly>())
    }
}

#[cfg(test)]
mod tests {
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
        fn waits(field: &str) -> bool {
            matches!(field, "a" | "b")
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

    /// Selecting a field that waits makes the object resolve by async-graphql, whose
    /// fields wait together (so loads of one object batch); in place they would wait in
    /// turn.
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
}
