//! Objects resolved to the shape the spec gives a response: fields in the order the query
//! selected them, and a failed field's `null` where the spec puts it.
//!
//! async-graphql 7.2 resolves the fields of an object concurrently (one boxed future per
//! field in a `FuturesUnordered`), writes them in the order they complete (its issue
//! #612), and leaves a failed field out of its parent whatever the field's type. [`Shaped`]
//! wraps an object type and gives its fields back in selection order with the spec's
//! nulls, in one of three ways:
//!
//! - **in place**, when no selected field waits ([`Immediate::waits`]) and no field carries
//!   a directive that hooks into resolution: the fields are resolved one after another in
//!   one future, in selection order, with the type's own resolvers. This is most of a
//!   response (a page of photos, its edges, `pageInfo`) and the cheapest way to build it;
//! - **together**, when a selected field waits: the same resolvers, all polled at once (so
//!   loads of sibling fields batch together), their values then put in selection order.
//!   A response key selected twice merges its selections in the order they were selected,
//!   whichever finished first;
//! - **by async-graphql**, when a field carries a directive that hooks into resolution or
//!   the schema has an extension: async-graphql resolves the object, and the result is then
//!   put in selection order and the failed fields given their nulls. Only there does a key
//!   selected twice keep async-graphql's merge, in the order its selections completed.
//!
//! Every way, a field that failed is `null` when its type is nullable; a non-null field
//! that failed (or whose value holds a null where its type allows none) makes the object
//! itself `null`, which its parent then settles the same way: the spec's null propagation,
//! one object at a time. The errors keep the paths they were raised at.
//!
//! The one thing to know: this needs the object's concrete type, which is why it happens
//! here, during resolution, and not on the finished response: a fragment on an interface
//! or a union applies to an object by its type ([`walk::applies`]). Schema extensions hook
//! into every field; with one registered (through [`extension`], which `clippy.toml`
//! enforces) objects are always resolved by async-graphql, so each field passes through
//! the extension, and still shaped.

use std::borrow::Cow;

use async_graphql::{
    extensions::ExtensionFactory,
    indexmap::{map::Entry, IndexMap},
    parser::types::Field,
    registry::Registry,
    resolver_utils::{resolve_container, ContainerType},
    ContextSelectionSet, Name, OutputType, Positioned, SchemaBuilder, ServerResult, Value,
};

use futures::future::join_all;

mod keys;

use super::{
    budget::{written_bytes, AnswerBudget},
    nulls::settle,
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
        let plan = match has_extensions(ctx) {
            true => Plan::ByAsyncGraphql,
            false => plan::<T>(ctx, &object, &mut fields)?,
        };
        let value = match plan {
            Plan::InPlace => self.in_place(ctx, &object, fields).await,
            Plan::Together => self.together(ctx, &object, fields).await,
            Plan::ByAsyncGraphql => {
                let value = resolve_container(ctx, &self.0).await?;
                restore(ctx, &object, value)
            }
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
        let mut values = Fields::new(ctx, object, fields.len());
        for field in fields {
            let resolved = self.0.resolve_field(&ctx.with_field(field)).await;
            values.put(field, resolved);
        }
        values.into_value()
    }

    /// The object's fields resolved at once, so that the loads of those that wait batch,
    /// then put in selection order: a response key selected twice merges its selections
    /// in the order they were selected, not in the order they finished.
    async fn together(
        &self,
        ctx: &ContextSelectionSet<'_>,
        object: &str,
        fields: Vec<&Positioned<Field>>,
    ) -> Value {
        let resolving = fields
            .iter()
            .map(|field| async move { self.0.resolve_field(&ctx.with_field(field)).await });
        let resolved = join_all(resolving).await;
        let mut values = Fields::new(ctx, object, fields.len());
        for (field, resolved) in fields.into_iter().zip(resolved) {
            values.put(field, resolved);
        }
        values.into_value()
    }
}

/// An object's field values as they are put in, settled by the spec's null propagation.
struct Fields<'a, 'c> {
    ctx: &'a ContextSelectionSet<'c>,
    object: &'a str,
    values: keys::Object,
    /// No non-null field has failed.
    stands: bool,
}

impl<'a, 'c> Fields<'a, 'c> {
    fn new(ctx: &'a ContextSelectionSet<'c>, object: &'a str, capacity: usize) -> Self {
        Self {
            ctx,
            object,
            values: keys::Object::with_capacity(capacity),
            stands: true,
        }
    }

    /// Puts what `field` resolved to: its value, or null with its error recorded; for
    /// `__typename` (which a type's resolver does not know), the object's type name.
    fn put(&mut self, field: &Positioned<Field>, resolved: ServerResult<Option<Value>>) {
        let key = field.node.response_key().node.clone();
        let name = &field.node.name.node;
        if name == "__typename" {
            let object = Value::String(self.object.to_owned());
            return self.values.insert(key, object);
        }
        let value = match resolved {
            Ok(value) => value.unwrap_or_default(),
            Err(e) => {
                self.ctx.add_error(e);
                Value::Null
            }
        };
        match settle(&self.ctx.schema_env.registry, self.object, name, value) {
            Some(value) => self.values.insert(key, value),
            None => self.stands = false,
        }
    }

    /// The object, or null when a non-null field failed.
    fn into_value(self) -> Value {
        match self.stands {
            true => self.values.into_value(),
            false => Value::Null,
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
    /// In place, one after another: every field collected, none waits.
    InPlace,
    /// All at once, then in selection order: every field collected, some wait.
    Together,
    /// By async-graphql, concurrently: a field carries a directive, or the schema has an
    /// extension, whose hooks only async-graphql's own resolution calls.
    ByAsyncGraphql,
}

/// The fields the selection selects on an object of type `object`, in selection order, and
/// how to resolve them: together when one of them [`Immediate::waits`]; by async-graphql
/// when one carries a directive (`@skip`/`@include` are gone by now; any other one hooks
/// into resolution), and then `fields` is left incomplete.
fn plan<'a, T: Immediate>(
    ctx: &ContextSelectionSet<'a>,
    object: &str,
    fields: &mut Vec<&'a Positioned<Field>>,
) -> ServerResult<Plan> {
    let mut waits = false;
    let walked = walk::fields(
        &ctx.query_env.fragments,
        &ctx.schema_env.registry,
        object,
        &ctx.item.node,
        &mut |field| {
            if !field.node.directives.is_empty() {
                return std::ops::ControlFlow::Break(());
            }
            let name = field.node.name.node.as_str();
            waits |= name != "__typename" && T::waits(name);
            fields.push(field);
            std::ops::ControlFlow::Continue(())
        },
    );
    match walked {
        Ok(std::ops::ControlFlow::Continue(())) if waits => Ok(Plan::Together),
        Ok(std::ops::ControlFlow::Continue(())) => Ok(Plan::InPlace),
        Ok(std::ops::ControlFlow::Break(())) => Ok(Plan::ByAsyncGraphql),
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
    match object.entry(key) {
        Entry::Vacant(slot) => {
            slot.insert(value);
        }
        Entry::Occupied(slot) => merge(slot.into_mut(), value),
    }
}

/// Merges `value`, the value of a response key selected again, into `existing`, its value
/// from before: objects field by field, lists item by item; a leaf keeps the value it has.
fn merge(existing: &mut Value, value: Value) {
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
mod tests;
