//! Root fields selected more than once, merged into one field when a document is parsed:
//! the spec's MergeSelectionSets, done where async-graphql would do it out of order.
//!
//! async-graphql resolves the query root itself, and merges the values of a response key
//! selected twice (`{ client(id: $id) { ...Header } client(id: $id) { ...Photos } }`, or
//! the same field in two fragments on `Query`) in the order they complete, so the merged
//! object's fields come out in that order. Below the root, [`super::Shaped`] merges in
//! selection order; at the root, the document is rewritten once, as it enters the cache,
//! so that each such key is one field whose selection set is the selections in order.
//! The field is then resolved once, not once per selection.
//!
//! The one thing to know: only what cannot change meaning is merged. Fragments on the
//! query type without directives are flattened into the root (and their definitions
//! dropped when nothing else spreads them); a fragment with a directive (`@include`, whose
//! value only a request's variables give) stays as it is, and so do the fields inside it.
//! Fields merge when they have the same name and arguments and no directives; any other
//! pair with one response key is left for validation to refuse.

use std::collections::{HashMap, HashSet};

use async_graphql::{
    parser::types::{
        DocumentOperations, ExecutableDocument, Field, OperationType, Selection, SelectionSet,
    },
    Name, Positioned,
};

use super::walk::{applies, spreads, Fragments, PossibleTypes};

/// Merges the root fields that `document`'s queries select more than once (see the module
/// documentation); a document without any is left untouched.
pub(super) fn root_fields(
    document: &mut ExecutableDocument,
    query: &str,
    schema: &impl PossibleTypes,
) {
    let mut flattened = HashSet::new();
    let fragments = &document.fragments;
    let operations: Vec<_> = match &mut document.operations {
        DocumentOperations::Single(operation) => vec![operation],
        DocumentOperations::Multiple(operations) => operations.values_mut().collect(),
    };
    let mut rewritten = false;
    for operation in operations {
        if operation.node.ty != OperationType::Query {
            continue;
        }
        let set = &mut operation.node.selection_set.node;
        let mut root = Vec::with_capacity(set.items.len());
        let mut spread = HashSet::new();
        flatten(
            fragments,
            schema,
            query,
            set,
            &mut root,
            &mut spread,
            &mut Vec::new(),
        );
        if let Some(merged) = merged(root) {
            set.items = merged;
            flattened.extend(spread);
            rewritten = true;
        }
    }
    if rewritten {
        drop_unused(document, &flattened);
    }
}

/// The selections of `set` with every fragment that applies to the query type and carries
/// no directive replaced by its own selections; `spread` gets the names of the named
/// fragments replaced. A fragment already being flattened on the way here (`open`) is not
/// flattened again, so even a cycle (which the limits refuse before this) ends.
fn flatten(
    fragments: &Fragments,
    schema: &impl PossibleTypes,
    query: &str,
    set: &SelectionSet,
    out: &mut Vec<Positioned<Selection>>,
    spread: &mut HashSet<Name>,
    open: &mut Vec<Name>,
) {
    for selection in &set.items {
        let (condition, inner, name) = match &selection.node {
            Selection::InlineFragment(inline) if inline.node.directives.is_empty() => (
                inline.node.type_condition.as_ref().map(|c| &c.node.on.node),
                &inline.node.selection_set.node,
                None,
            ),
            Selection::FragmentSpread(named) if named.node.directives.is_empty() => {
                let name = &named.node.fragment_name.node;
                match fragments.get(name) {
                    Some(fragment)
                        if fragment.node.directives.is_empty() && !open.contains(name) =>
                    {
                        let fragment = &fragment.node;
                        (
                            Some(&fragment.type_condition.node.on.node),
                            &fragment.selection_set.node,
                            Some(name),
                        )
                    }
                    _ => {
                        out.push(selection.clone());
                        continue;
                    }
                }
            }
            _ => {
                out.push(selection.clone());
                continue;
            }
        };
        if !applies(schema, condition.map(Name::as_str), query) {
            out.push(selection.clone());
            continue;
        }
        if let Some(name) = name {
            spread.insert(name.clone());
            open.push(name.clone());
        }
        flatten(fragments, schema, query, inner, out, spread, open);
        if name.is_some() {
            open.pop();
        }
    }
}

/// `root` with each field merged into the first field of its response key, when the two
/// have the same name and arguments and neither a directive: its selections appended.
/// `None` when no field merged.
fn merged(root: Vec<Positioned<Selection>>) -> Option<Vec<Positioned<Selection>>> {
    let mut out: Vec<Positioned<Selection>> = Vec::with_capacity(root.len());
    // Where each response key was first selected, in `out`.
    let mut first: HashMap<Name, usize> = HashMap::with_capacity(root.len());
    let mut any = false;
    for selection in root {
        if let Selection::Field(field) = &selection.node {
            let key = &field.node.response_key().node;
            match first.get(key).map(|&at| &mut out[at].node) {
                Some(Selection::Field(kept)) if mergeable(&kept.node, &field.node) => {
                    let more = field.node.selection_set.node.items.iter().cloned();
                    kept.node.selection_set.node.items.extend(more);
                    any = true;
                    continue;
                }
                Some(_) => {}
                None => {
                    first.insert(key.clone(), out.len());
                }
            }
        }
        out.push(selection);
    }
    any.then_some(out)
}

/// Whether `later` is the same field as `kept`, selected again.
fn mergeable(kept: &Field, later: &Field) -> bool {
    kept.name.node == later.name.node
        && kept.arguments == later.arguments
        && kept.directives.is_empty()
        && later.directives.is_empty()
}

/// Drops the fragments of `flattened` that nothing spreads any more: validation refuses a
/// document with a fragment it never uses.
fn drop_unused(document: &mut ExecutableDocument, flattened: &HashSet<Name>) {
    loop {
        let mut used = HashSet::new();
        let sets = document
            .operations
            .iter()
            .map(|(_, operation)| &operation.node.selection_set.node)
            .chain(
                document
                    .fragments
                    .values()
                    .map(|f| &f.node.selection_set.node),
            );
        for set in sets {
            spreads(set, &mut used);
        }
        let used: HashSet<Name> = used.into_iter().cloned().collect();
        let before = document.fragments.len();
        document
            .fragments
            .retain(|name, _| !flattened.contains(name) || used.contains(name));
        if document.fragments.len() == before {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_query;

    use super::*;

    /// No abstract types: a fragment applies only on its own type.
    struct Plain;

    impl PossibleTypes for Plain {
        fn is_possible(&self, _: &str, _: &str) -> bool {
            false
        }
    }

    /// The document after merging, printed back as its root fields and fragment names.
    fn merge(query: &str) -> (Vec<String>, Vec<String>) {
        let mut document = parse_query(query).unwrap();
        root_fields(&mut document, "Query", &Plain);
        let (_, operation) = document.operations.iter().next().unwrap();
        let root = operation
            .node
            .selection_set
            .node
            .items
            .iter()
            .map(|selection| match &selection.node {
                Selection::Field(field) => {
                    let inner: Vec<&str> = field
                        .node
                        .selection_set
                        .node
                        .items
                        .iter()
                        .map(|s| match &s.node {
                            Selection::Field(f) => f.node.response_key().node.as_str(),
                            _ => "(fragment)",
                        })
                        .collect();
                    format!("{} {}", field.node.response_key().node, inner.join(" "))
                }
                Selection::FragmentSpread(named) => format!("...{}", named.node.fragment_name.node),
                Selection::InlineFragment(_) => "... on".to_owned(),
            })
            .collect();
        let mut fragments: Vec<String> = document.fragments.keys().map(|n| n.to_string()).collect();
        fragments.sort();
        (root, fragments)
    }

    #[test]
    fn a_root_field_selected_twice_becomes_one_with_both_selections_in_order() {
        let (root, _) = merge(r#"{ a: c(id: 1) { x } b { y } a: c(id: 1) { z x } }"#);
        assert_eq!(root, ["a x z x", "b y"]);
        // Into the first of its key; one that conflicts with it stays, for validation.
        let (root, _) = merge(r#"{ c(id: 1) { x } c(id: 2) { y } c(id: 1) { z } }"#);
        assert_eq!(root, ["c x z", "c y"]);
    }

    #[test]
    fn fragments_on_the_query_type_are_flattened_and_dropped_once_unused() {
        let (root, fragments) = merge(
            "{ ...A ... on Query { c { y } } ...B }
             fragment A on Query { c { x } }
             fragment B on Query { c { z } ...A }
             fragment U on C { w }",
        );
        assert_eq!(root, ["c x y z x"]);
        // `U` was never spread at the root: validation still tells it is unused.
        assert_eq!(fragments, ["U"]);
    }

    #[test]
    fn what_could_change_meaning_is_left_as_written() {
        for (query, expected) in [
            // Different arguments: validation refuses the pair.
            (r#"{ c(id: 1) { x } c(id: 2) { y } }"#, vec!["c x", "c y"]),
            // A directive: only a request's variables say whether the field is there.
            ("{ c { x } c @include(if: true) { y } }", vec!["c x", "c y"]),
            (
                "query($v: Boolean!) { c { x } ...F @include(if: $v) } fragment F on Query { c { y } }",
                vec!["c x", "...F"],
            ),
            // Nothing selected twice: untouched, fragments and all.
            ("{ ...F } fragment F on Query { c { y } }", vec!["...F"]),
        ] {
            assert_eq!(merge(query).0, expected, "{query}");
        }
    }
}
