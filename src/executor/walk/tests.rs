use async_graphql::parser::{parse_query, types::DocumentOperations};

use super::*;

/// `Node` is implemented by `A` and `B`; `U` is the union of `A` and `C`.
struct Schema;

impl PossibleTypes for Schema {
    fn is_possible(&self, of: &str, object: &str) -> bool {
        matches!((of, object), ("Node", "A" | "B") | ("U", "A" | "C"))
    }
}

fn keys(query: &str, object: &str) -> Vec<String> {
    let document = parse_query(query).unwrap();
    let DocumentOperations::Single(op) = &document.operations else {
        panic!()
    };
    collect(
        &document.fragments,
        &Schema,
        object,
        &op.node.selection_set.node,
    )
    .iter()
    .map(|s| format!("{}:{}", s.key, s.name))
    .collect()
}

#[test]
fn fragments_apply_by_their_type_condition_as_the_spec_says() {
    let query = "{ x ... on A { a } ... on Node { n x } ...B ... on U { u } ... { plain } }
                 fragment B on B { b }";
    assert_eq!(
        keys(query, "A"),
        ["x:x", "a:a", "n:n", "u:u", "plain:plain"]
    );
    assert_eq!(keys(query, "B"), ["x:x", "n:n", "b:b", "plain:plain"]);
    assert_eq!(keys(query, "C"), ["x:x", "u:u", "plain:plain"]);
}

#[test]
fn keys_merge_at_their_first_selection() {
    // For a B, `k` first comes from the fragment on Node, after `m`.
    let query = "{ ... on A { k: a } m ... on Node { k: n } }";
    assert_eq!(keys(query, "A"), ["k:a", "m:m"]);
    assert_eq!(keys(query, "B"), ["m:m", "k:n"]);
}

#[test]
fn a_cycle_ends_and_an_unknown_fragment_is_named() {
    let document = parse_query("{ ...F } fragment F on A { f ...F }").unwrap();
    let DocumentOperations::Single(op) = &document.operations else {
        panic!()
    };
    let set = &op.node.selection_set.node;
    assert_eq!(collect(&document.fragments, &Schema, "A", set).len(), 1);
    let document = parse_query("{ a ...G }").unwrap();
    let DocumentOperations::Single(op) = &document.operations else {
        panic!()
    };
    let flow = fields(
        &document.fragments,
        &Schema,
        "A",
        &op.node.selection_set.node,
        &mut |_| ControlFlow::<()>::Continue(()),
    );
    assert_eq!(flow.unwrap_err().name.as_str(), "G");
}

#[test]
fn measure_counts_expanded_fields_and_aliases_and_finds_cycles() {
    let document =
        parse_query("{ a: x ...F ...F } fragment F on Q { y z: w ...G } fragment G on Q { g }")
            .unwrap();
    assert_eq!(
        measure(&document),
        Ok(Measure {
            fields: 1 + 2 * 3,
            aliases: 1 + 2
        })
    );
    let cyclic = parse_query("{ x } fragment A on Q { ...B } fragment B on Q { ...A }").unwrap();
    assert!(measure(&cyclic).is_err());
    // Ten fragments each spreading the next ten times: counted, not expanded.
    let mut query = String::from("{ ...F0 }");
    for i in 0..10 {
        let spreads = format!("...F{} ", i + 1).repeat(10);
        query.push_str(&format!(" fragment F{i} on Q {{ {spreads} }}"));
    }
    query.push_str(" fragment F10 on Q { leaf }");
    let measured = measure(&parse_query(&query).unwrap()).unwrap();
    assert_eq!(measured.fields, 10usize.pow(10));
}
