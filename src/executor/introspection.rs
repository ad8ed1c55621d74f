//! `--no-introspection`: a document that asks for `__schema` or `__type` is refused before
//! it runs, as a validation error.
//!
//! The one thing to know: async-graphql's `disable_introspection()` (also set) answers such
//! fields with a silent `null`; a client deserves to be told. `__typename` is not
//! introspection of the schema and keeps answering.

use std::ops::ControlFlow;

use async_graphql::{parser::types::ExecutableDocument, Pos};

use super::{types::FieldTypes, walk};

/// Where the document first selects `__schema` or `__type` at the root of an operation
/// (directly or through fragments), if it does.
pub(super) fn selected(document: &ExecutableDocument, types: &FieldTypes) -> Option<Pos> {
    document.operations.iter().find_map(|(_, operation)| {
        let found = walk::fields(
            &document.fragments,
            types,
            &types.query_type,
            &operation.node.selection_set.node,
            &mut |field| match field.node.name.node.as_str() {
                "__schema" | "__type" => ControlFlow::Break(field.pos),
                _ => ControlFlow::Continue(()),
            },
        );
        match found {
            Ok(ControlFlow::Break(pos)) => Some(pos),
            // Unknown fragments are validation's to report.
            _ => None,
        }
    })
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_query;

    use super::*;

    fn asks(query: &str) -> bool {
        let types =
            FieldTypes::from_sdl("type Query { client(id: ID!): Client } type Client { id: ID! }")
                .unwrap();
        selected(&parse_query(query).unwrap(), &types).is_some()
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
