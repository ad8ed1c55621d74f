//! The shape of a response: fields in the order the query selected them, and `null` where
//! the spec says a field error leaves it.
//!
//! The one thing to know: fragments are expanded whatever their type condition. That is
//! right only while the schema has no interfaces or unions (every condition then names the
//! type the fragment is spread in); a test below fails when the schema gains one.

use std::cell::OnceCell;

use async_graphql::{
    parser::types::{ExecutableDocument, OperationDefinition, Selection, SelectionSet},
    registry::MetaTypeName,
    Name, PathSegment, Response, Value,
};

use super::FieldTypes;

/// Restores what async-graphql 7.2 loses: `null` at failed fields, fields in selection
/// order.
pub(super) fn restore(
    response: &mut Response,
    document: &ExecutableDocument,
    operation: &OperationDefinition,
    types: &FieldTypes,
) {
    let shape = Shape { document, types };
    let root = [&operation.selection_set.node];
    shape.null_failed_fields(response, &root);
    shape.order(&mut response.data, &root);
}

fn list_item(ty: &str) -> Option<&str> {
    match MetaTypeName::create(ty) {
        MetaTypeName::List(item) => Some(item),
        _ => None,
    }
}

/// Whether `keys` come in the order of `fields` (some fields may be missing).
fn in_order<'k>(keys: impl Iterator<Item = &'k Name>, fields: &[Selected<'_>]) -> bool {
    let mut next = 0;
    keys.into_iter().all(
        |key| match fields[next..].iter().position(|f| f.key == key) {
            Some(at) => {
                next += at + 1;
                true
            }
            None => false,
        },
    )
}

/// The value at `path` under `value`, if there is one.
fn descend<'v>(value: &'v mut Value, path: &[PathSegment]) -> Option<&'v mut Value> {
    let Some((first, rest)) = path.split_first() else {
        return Some(value);
    };
    let child = match (first, value) {
        (PathSegment::Field(f), Value::Object(map)) => map.get_mut(f.as_str())?,
        (PathSegment::Index(i), Value::List(items)) => items.get_mut(*i)?,
        _ => return None,
    };
    descend(child, rest)
}

/// A field as the query selected it: its response key, its name, its sub-selections.
struct Selected<'d> {
    key: &'d Name,
    name: &'d Name,
    subs: Vec<&'d SelectionSet>,
    /// The fields of `subs`, collected on first use.
    children: OnceCell<Vec<Selected<'d>>>,
}

/// What the query and the schema say a response must look like.
struct Shape<'d> {
    document: &'d ExecutableDocument,
    types: &'d FieldTypes,
}

impl<'d> Shape<'d> {
    /// The fields that `sets` select, in order, merged by response key.
    fn fields(&self, sets: &[&'d SelectionSet]) -> Vec<Selected<'d>> {
        let mut fields = Vec::new();
        for set in sets {
            self.collect(set, &mut fields);
        }
        fields
    }

    fn collect(&self, set: &'d SelectionSet, fields: &mut Vec<Selected<'d>>) {
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => {
                    let key = &field.node.response_key().node;
                    let sub = &field.node.selection_set.node;
                    match fields.iter_mut().find(|f| f.key == key) {
                        Some(f) => f.subs.push(sub),
                        None => fields.push(Selected {
                            key,
                            name: &field.node.name.node,
                            subs: vec![sub],
                            children: OnceCell::new(),
                        }),
                    }
                }
                Selection::FragmentSpread(spread) => {
                    if let Some(fragment) =
                        self.document.fragments.get(&spread.node.fragment_name.node)
                    {
                        self.collect(&fragment.node.selection_set.node, fields);
                    }
                }
                Selection::InlineFragment(inline) => {
                    self.collect(&inline.node.selection_set.node, fields);
                }
            }
        }
    }

    /// Puts the fields of response objects in selection order.
    fn order(&self, value: &mut Value, sets: &[&'d SelectionSet]) {
        if matches!(value, Value::Object(_) | Value::List(_)) {
            self.order_as(value, &self.fields(sets));
        }
    }

    /// Orders `value` (an object, or a list of them) as `fields` say. Items of a list share
    /// their `fields`, so each selection set is collected once, not once per item.
    fn order_as(&self, value: &mut Value, fields: &[Selected<'d>]) {
        match value {
            Value::List(items) => {
                for item in items {
                    self.order_as(item, fields);
                }
            }
            Value::Object(map) => {
                if !in_order(map.keys(), fields) {
                    let rank = |name: &Name| {
                        fields
                            .iter()
                            .position(|f| f.key == name)
                            .unwrap_or(usize::MAX)
                    };
                    map.sort_by_cached_key(|k, _| rank(k));
                }
                // Keys and fields are now in the same order: walk them together.
                let mut next = 0;
                for (key, child) in map.iter_mut() {
                    let Some(at) = fields[next..].iter().position(|f| f.key == key) else {
                        continue;
                    };
                    let field = &fields[next + at];
                    next += at + 1;
                    if field.subs.iter().all(|s| s.items.is_empty()) {
                        continue;
                    }
                    let children = field.children.get_or_init(|| self.fields(&field.subs));
                    self.order_as(child, children);
                }
            }
            _ => {}
        }
    }

    /// Puts `null` where the spec says a field error leaves it: at the failed field if it
    /// is nullable, else at its nearest nullable ancestor (or `data` itself).
    /// async-graphql 7.2 instead leaves a failed field out of its parent, whatever its type.
    fn null_failed_fields(&self, response: &mut Response, root: &[&'d SelectionSet]) {
        let paths: Vec<Vec<PathSegment>> = response
            .errors
            .iter()
            .filter(|e| !e.path.is_empty())
            .map(|e| e.path.clone())
            .collect();
        for path in paths {
            let Some(keep) = self.nullable_prefix(&path, root) else {
                continue; // a path we cannot follow: leave it as async-graphql made it
            };
            if keep == 0 {
                response.data = Value::Null;
                return;
            }
            let Some((PathSegment::Field(last), parents)) = path[..keep].split_last() else {
                continue;
            };
            if response.data == Value::Null && parents.is_empty() {
                response.data = Value::Object(Default::default());
            }
            if let Some(Value::Object(map)) = descend(&mut response.data, parents) {
                map.insert(Name::new(last), Value::Null);
            }
        }
    }

    /// How much of `path` survives a failure at its end: the length of the prefix that
    /// ends at the nearest nullable field (0: `data` itself becomes null).
    fn nullable_prefix(&self, path: &[PathSegment], root: &[&'d SelectionSet]) -> Option<usize> {
        let mut keep = 0;
        let mut sets = root.to_vec();
        let mut parent = self.types.query_type.as_str();
        let mut ty = "";
        for (i, segment) in path.iter().enumerate() {
            ty = match segment {
                PathSegment::Field(key) => {
                    let field = self
                        .fields(&sets)
                        .into_iter()
                        .find(|f| f.key.as_str() == key)?;
                    sets = field.subs;
                    self.types.of(parent, field.name)?
                }
                PathSegment::Index(_) => match MetaTypeName::create(ty) {
                    MetaTypeName::NonNull(inner) => list_item(inner)?,
                    MetaTypeName::List(item) => item,
                    MetaTypeName::Named(_) => return None,
                },
            };
            if !MetaTypeName::create(ty).is_non_null() {
                keep = i + 1;
            }
            parent = MetaTypeName::concrete_typename(ty);
        }
        Some(keep)
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::{
        parse_schema,
        types::{TypeKind, TypeSystemDefinition},
    };

    /// `Shape::collect` expands every fragment, and `FieldTypes::read` takes each
    /// definition whole: both are right only for a schema without abstract types or
    /// extensions. This fails as soon as the schema has one, and says what to change.
    #[test]
    fn the_schema_has_nothing_shape_does_not_handle() {
        if let Some(what_to_do) = unhandled(&crate::schema::sdl()) {
            panic!("{what_to_do}");
        }
        // And the check sees them.
        for sdl in [
            "interface Node { id: ID } type Query { a: Int }",
            "union U = Query type Query { a: Int }",
            "type Query { a: Int } extend type Query { b: Int }",
        ] {
            assert!(unhandled(sdl).is_some(), "{sdl}");
        }
    }

    /// What to change in `shape` (or `FieldTypes`) before `sdl` can be served.
    fn unhandled(sdl: &str) -> Option<String> {
        let sdl = parse_schema(sdl).unwrap();
        for definition in &sdl.definitions {
            match definition {
                TypeSystemDefinition::Type(ty) => {
                    let name = &ty.node.name.node;
                    let kind = match &ty.node.kind {
                        TypeKind::Interface(_) => "an interface",
                        TypeKind::Union(_) => "a union",
                        _ if ty.node.extend => {
                            return Some(format!(
                                "`extend type {name}`: `FieldTypes::read` (conventions/mod.rs) \
                                 takes each definition whole, so an input extension would replace \
                                 its fields: make it merge extensions into their type, then \
                                 update this test."
                            ))
                        }
                        _ => continue,
                    };
                    return Some(format!(
                        "`{name}` is {kind}. Fragments on it may not apply to every object they \
                         are spread in, and conventions/shape.rs expands them all: make \
                         `Shape::collect` apply a fragment only when its type condition is the \
                         object's own type, an interface it implements or a union it belongs to \
                         (as `applies_to` in schema/eager.rs does; the object's type is in the \
                         response once `__typename` is selected), give `FieldTypes` the \
                         interface's fields, then update this test."
                    ));
                }
                TypeSystemDefinition::Schema(schema) if schema.node.extend => {
                    return Some(
                        "`extend schema`: `FieldTypes::read` (conventions/mod.rs) reads the root \
                         types of one `schema` definition: make it merge, then update this test."
                            .to_owned(),
                    );
                }
                TypeSystemDefinition::Schema(_) | TypeSystemDefinition::Directive(_) => {}
            }
        }
        None
    }
}
