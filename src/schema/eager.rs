//! Resolution in place for objects whose fields never wait.
//!
//! async-graphql resolves the fields of every object concurrently: one boxed future per
//! field, polled through a `FuturesUnordered`, results merged into a map in completion
//! order. That machinery is what lets `livePhotos` fetch concurrently with its siblings,
//! and it is most of the CPU a response costs when a page of 20 photos selects 200 fields
//! whose values are already in memory. [`Eager`] resolves such an object's fields one after
//! another in a single future, in selection order, with the same field resolvers, the same
//! error handling and the same merging of repeated response keys. It falls back to
//! async-graphql's own resolution when a field carries a directive, which hooks into that
//! field's resolution. Schema extensions would hook in too, and async-graphql does not
//! say whether any are present: [`super::build`] registers none, and must not without
//! dropping `Eager`.

use std::borrow::Cow;

use async_graphql::{
    indexmap::IndexMap,
    parser::types::{Field, Selection, SelectionSet},
    registry::Registry,
    resolver_utils::{resolve_container, ContainerType},
    ContextSelectionSet, Name, OutputType, Positioned, ServerResult, Value,
};

use super::{error::server_error, Code};

/// `T` as the same GraphQL type, resolved in place. Only for objects whose field resolvers
/// complete without waiting: a field that waits would hold up the ones after it.
pub struct Eager<T>(pub T);

impl<T: ContainerType> OutputType for Eager<T> {
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
        if !collect::<T>(ctx, &ctx.item.node, &mut fields)? {
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

/// The fields `set` selects on `T`, fragments expanded, in selection order. False when a
/// field carries a directive (`@skip`/`@include` are gone by now; any other one hooks into
/// resolution).
fn collect<'a, T: ContainerType>(
    ctx: &ContextSelectionSet<'a>,
    set: &'a SelectionSet,
    fields: &mut Vec<&'a Positioned<Field>>,
) -> ServerResult<bool> {
    for selection in &set.items {
        let (condition, set) = match &selection.node {
            Selection::Field(field) => {
                if !field.node.directives.is_empty() {
                    return Ok(false);
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
        // Validation allows only conditions this object can satisfy: its own type or an
        // interface it implements; the schema has no interfaces.
        if condition.is_none_or(|c| c.as_str() == T::type_name())
            && !collect::<T>(ctx, set, fields)?
        {
            return Ok(false);
        }
    }
    Ok(true)
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
