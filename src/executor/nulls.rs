//! The spec's null propagation: a field's value that cannot stand where its type allows no
//! null makes its parent null instead, up to the nearest nullable ancestor; and the root,
//! shaped after execution (selection order, and the nulls of failed root fields).

use async_graphql::{
    indexmap::IndexMap,
    parser::types::{ExecutableDocument, OperationDefinition},
    registry::{MetaTypeName, Registry},
    Name, PathSegment, Value,
};

use super::{types::FieldTypes, walk};

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
