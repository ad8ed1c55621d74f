//! `--no-introspection`: a document that asks for `__schema` or `__type` is refused before
//! it runs, as a validation error.
//!
//! The one thing to know: async-graphql's `disable_introspection()` (also set) answers such
//! fields with a silent `null`; a client deserves to be told. `__typename` is not
//! introspection of the schema and keeps answering.

use std::collections::HashSet;

use async_graphql::{
    parser::types::{DocumentOperations, ExecutableDocument, Selection, SelectionSet},
    Pos,
};

/// Where the document first selects `__schema` or `__type` at the root of an operation
/// (directly or through fragments), if it does.
pub(super) fn selected(document: &ExecutableDocument) -> Option<Pos> {
    let mut seen = HashSet::new();
    let mut roots = Vec::new();
    match &document.operations {
        DocumentOperations::Single(op) => roots.push(&op.node.selection_set.node),
        DocumentOperations::Multiple(ops) => {
            roots.extend(ops.values().map(|op| &op.node.selection_set.node))
        }
    }
    roots
        .into_iter()
        .find_map(|set| in_set(document, set, &mut seen))
}

fn in_set<'d>(
    document: &'d ExecutableDocument,
    set: &'d SelectionSet,
    seen: &mut HashSet<&'d str>,
) -> Option<Pos> {
    set.items.iter().find_map(|item| match &item.node {
        Selection::Field(field) => {
            matches!(field.node.name.node.as_str(), "__schema" | "__type").then_some(field.pos)
        }
        Selection::InlineFragment(fragment) => {
            in_set(document, &fragment.node.selection_set.node, seen)
        }
        Selection::FragmentSpread(spread) => {
            let name = spread.node.fragment_name.node.as_str();
            // Each fragment once: cycles are validation's to report.
            if !seen.insert(name) {
                return None;
            }
            let fragment = document.fragments.get(&spread.node.fragment_name.node)?;
            in_set(document, &fragment.node.selection_set.node, seen)
        }
    })
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_query;

    use super::*;

    fn asks(query: &str) -> bool {
        selected(&parse_query(query).unwrap()).is_some()
    }

    #[test]
    fn schema_and_type_are_found_wherever_the_root_selects_them() {
        assert!(asks("{ __schema { types { name } } }"));
        assert!(asks(r#"{ __type(name: "Client") { name } }"#));
        assert!(asks("{ ... on Query { __schema { queryType { name } } } }"));
        assert!(asks("query A { __typename } query B { ...F } fragment F on Query { s: __schema { description } }"));
        assert!(asks("{ ...A } fragment A on Query { ...B } fragment B on Query { ...A __type(name: \"X\") { name } }"));
        assert!(!asks("{ __typename client(id: \"x\") { __typename id } }"));
        assert!(!asks("{ ...A } fragment A on Query { ...A }"));
    }
}
