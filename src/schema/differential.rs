//! The executor's shortcuts against async-graphql's own execution, on this schema's
//! documents: interfaces (`node`, `nodes`, fragments on `Node`, `Client`, `LivePhoto`),
//! `__typename`, aliases and partial errors.
//!
//! The reference is the same schema with every object left to async-graphql (no
//! resolution in place, no shaping). Its answer has the same values and errors, but its
//! fields in completion order and failed fields left out; an oracle written here, apart
//! from the executor's code, applies the spec's CollectFields and null propagation to it.
//! The executor's answer must equal that, key order included.

use std::sync::Arc;

use async_graphql::{
    indexmap::IndexMap,
    parser::{
        parse_query, parse_schema,
        types::{
            DocumentOperations, ExecutableDocument, Selection, SelectionSet, TypeKind,
            TypeSystemDefinition,
        },
    },
    registry::MetaTypeName,
    Name, Request, Value, Variables,
};
use serde_json::json;

use super::{builder, global_id, test_executor, NodeKind, QueryLimits};
use crate::{
    auth::Caller,
    executor::shape::testing::async_graphql_only,
    loader::Loaders,
    pagination::Limits,
    simulator::{data::DOCUMENTED_CLIENT, Fault, Simulator, SimulatorSettings},
    upstream::{ApiKey, Session, Upstream, UpstreamSettings},
};

/// The schema's object and interface fields, read from its SDL: type -> field -> type.
struct Types(std::collections::HashMap<String, std::collections::HashMap<String, String>>);

impl Types {
    fn read() -> Self {
        let mut types = std::collections::HashMap::new();
        for definition in parse_schema(super::sdl()).unwrap().definitions {
            let TypeSystemDefinition::Type(ty) = definition else {
                continue;
            };
            let fields = match &ty.node.kind {
                TypeKind::Object(o) => &o.fields,
                TypeKind::Interface(i) => &i.fields,
                _ => continue,
            };
            let mut map: std::collections::HashMap<String, String> = fields
                .iter()
                .map(|f| (f.node.name.node.to_string(), f.node.ty.node.to_string()))
                .collect();
            map.insert("__typename".into(), "String!".into());
            types.insert(ty.node.name.node.to_string(), map);
        }
        Self(types)
    }
}

/// Where the oracle is, and the paths async-graphql raised errors at.
struct At<'e> {
    path: Vec<serde_json::Value>,
    errors: &'e [Vec<serde_json::Value>],
}

impl At<'_> {
    fn down(&self, step: serde_json::Value) -> At<'_> {
        let mut path = self.path.clone();
        path.push(step);
        At {
            path,
            errors: self.errors,
        }
    }

    /// Whether an error was raised below here: async-graphql writes an object none of
    /// whose fields resolved as `null`.
    fn failed_below(&self) -> bool {
        self.errors
            .iter()
            .any(|e| e.len() > self.path.len() && e.starts_with(&self.path))
    }
}

/// The spec's answer for `set` on an object of type `object`, from async-graphql's
/// unshaped `value`: `None` when the object cannot stand (a non-null field failed).
fn oracle(
    doc: &ExecutableDocument,
    types: &Types,
    object: &str,
    set: &SelectionSet,
    value: &IndexMap<Name, Value>,
    at: &At<'_>,
) -> Option<Value> {
    // CollectFields, written out plainly: (key, field name, sub-selections).
    fn collect<'d>(
        doc: &'d ExecutableDocument,
        object: &str,
        set: &'d SelectionSet,
        out: &mut Vec<(String, String, Vec<&'d SelectionSet>)>,
    ) {
        for selection in &set.items {
            let (on, inner) = match &selection.node {
                Selection::Field(f) => {
                    let key = f.node.response_key().node.to_string();
                    let sub = &f.node.selection_set.node;
                    match out.iter_mut().find(|(k, _, _)| *k == key) {
                        Some((_, _, subs)) => subs.push(sub),
                        None => out.push((key, f.node.name.node.to_string(), vec![sub])),
                    }
                    continue;
                }
                Selection::InlineFragment(i) => (
                    i.node
                        .type_condition
                        .as_ref()
                        .map(|c| c.node.on.node.to_string()),
                    &i.node.selection_set.node,
                ),
                Selection::FragmentSpread(s) => {
                    let f = &doc.fragments[&s.node.fragment_name.node];
                    (
                        Some(f.node.type_condition.node.on.node.to_string()),
                        &f.node.selection_set.node,
                    )
                }
            };
            // This schema's one abstract type is `Node`, which every object with an id has.
            if on.is_none_or(|on| on == object || (on == "Node" && object != "Query")) {
                collect(doc, object, inner, out);
            }
        }
    }
    let mut fields = Vec::new();
    collect(doc, object, set, &mut fields);
    let mut answer = IndexMap::new();
    for (key, name, subs) in fields {
        let ty = &types.0[object][&name];
        let here = at.down(json!(key));
        let settled = value
            .get(key.as_str())
            .and_then(|v| settle(doc, types, ty, &subs, v, &here));
        match settled {
            Some(v) => {
                answer.insert(Name::new(key), v);
            }
            None if !ty.ends_with('!') => {
                answer.insert(Name::new(key), Value::Null);
            }
            None => return None,
        }
    }
    Some(Value::Object(answer))
}

/// A field's value of type `ty`, settled: `None` when it is (or must become) null.
fn settle(
    doc: &ExecutableDocument,
    types: &Types,
    ty: &str,
    subs: &[&SelectionSet],
    value: &Value,
    at: &At<'_>,
) -> Option<Value> {
    let inner = match MetaTypeName::create(ty) {
        MetaTypeName::NonNull(inner) => inner,
        _ => ty,
    };
    let none = IndexMap::new();
    let value = match value {
        Value::Null if at.failed_below() => &Value::Object(none),
        value => value,
    };
    match (MetaTypeName::create(inner), value) {
        (_, Value::Null) => None,
        (MetaTypeName::List(item), Value::List(items)) => {
            let mut out = Vec::new();
            for (i, v) in items.iter().enumerate() {
                match settle(doc, types, item, subs, v, &at.down(json!(i))) {
                    Some(v) => out.push(v),
                    None if !item.ends_with('!') => out.push(Value::Null),
                    None => return None,
                }
            }
            Some(Value::List(out))
        }
        (MetaTypeName::Named(name), Value::Object(map)) => {
            let concrete = match name {
                // Test documents select `__typename` under every `Node`.
                "Node" => map
                    .get("__typename")?
                    .to_string()
                    .trim_matches('"')
                    .to_owned(),
                name => name.to_owned(),
            };
            let mut merged = SelectionSet::default();
            for sub in subs {
                merged.items.extend(sub.items.iter().cloned());
            }
            oracle(doc, types, &concrete, &merged, map, at)
        }
        (_, leaf) => Some(leaf.clone()),
    }
}

#[tokio::test]
async fn the_shortcuts_answer_as_the_spec_says_async_graphql_would() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let simulator = Simulator::new(SimulatorSettings::default());
    let addr = simulator.clone().spawn(listener).await.unwrap();
    let upstream = Upstream::new(&UpstreamSettings::new(
        format!("http://{addr}/v1"),
        Some(ApiKey::new("k")),
    ))
    .unwrap();
    let ours = test_executor();
    let reference = async_graphql_only(builder(Limits::DEFAULT, QueryLimits::default())).finish();
    let types = Types::read();
    let seven = "5f1e0a3c9d2b4a0008a10007";
    let photo = crate::simulator::data::demo_photos()[seven][1].id.clone();
    let ids = json!([
        global_id(NodeKind::Client, seven).0,
        global_id(NodeKind::LivePhoto, &photo).0,
        "not-a-global-id",
        global_id(NodeKind::LivePhoto, "ffffffffffffffffffffffff").0,
        global_id(NodeKind::Client, DOCUMENTED_CLIENT).0,
    ]);
    let documents = [
        // Interfaces, named and inline fragments on each type, aliases, __typename.
        r#"query($ids: [ID!]!) {
            nodes(ids: $ids) { __typename id ...C ... on LivePhoto { c: complyCubeId size ...P } ... on Node { again: id } }
            first: node(id: "bm90IGFuIGlk") { __typename id }
            __typename }
          fragment C on Client { entityName complyCubeId livePhotos(first: 2) { totalCount nodes { __typename id createdAt } } }
          fragment P on LivePhoto { clientId client { __typename entityName joinedDate } }"#,
        // Partial errors: a bad window (livePhotos nullable), a node that fails.
        r#"query($ids: [ID!]!) {
            a: nodes(ids: $ids) { __typename ... on Client { livePhotos(first: 5000) { totalCount } entityName } }
            b: client(id: "5f1e0a3c9d2b4a0008a10007") { livePhotos(first: 3) {
                 pageInfo { hasNextPage } edges { cursor node { __typename id ... on Node { id } client { complyCubeId } } } } } }"#,
        // Upstream failing for one client (a fault below): details null, siblings answer.
        r#"query($ids: [ID!]!) {
            nodes(ids: $ids) { __typename ... on Client { mobile personDetails { dob firstName } } ... on LivePhoto { client { entityName } } } }"#,
    ];
    for (round, document) in documents.iter().enumerate() {
        if round == 2 {
            simulator.add_fault(Fault {
                client_id: Some(seven.to_owned()),
                status: Some(503),
                ..Fault::default()
            });
        }
        let run = |variables: serde_json::Value| {
            let loaders = Arc::new(Loaders::new(
                upstream.clone(),
                Session::new(
                    tokio::time::Instant::now() + std::time::Duration::from_secs(10),
                    128,
                ),
            ));
            Request::new(*document)
                .variables(Variables::from_json(variables))
                .data(loaders)
                .data(Caller::Full)
        };
        let answer = ours.execute(run(json!({ "ids": ids }))).await;
        let plain = reference.execute(run(json!({ "ids": ids }))).await;
        // The same errors: paths, codes, messages (in whatever order they came).
        let errors = |errors: &[async_graphql::ServerError]| {
            let mut all: Vec<String> = errors
                .iter()
                .map(|e| serde_json::to_string(e).unwrap())
                .collect();
            all.sort();
            all
        };
        assert_eq!(
            errors(&answer.response.errors),
            errors(&plain.errors),
            "{document}"
        );
        assert!(
            !answer.response.errors.is_empty() || round == 0,
            "{document}"
        );
        // The same data, in the spec's order and with the spec's nulls.
        let doc = parse_query(*document).unwrap();
        let DocumentOperations::Single(op) = &doc.operations else {
            panic!()
        };
        let Value::Object(plain_data) = &plain.data else {
            panic!("{:?}", plain.data)
        };
        let paths: Vec<Vec<serde_json::Value>> = plain
            .errors
            .iter()
            .map(|e| {
                serde_json::to_value(&e.path)
                    .unwrap()
                    .as_array()
                    .unwrap()
                    .clone()
            })
            .collect();
        let root = At {
            path: vec![],
            errors: &paths,
        };
        let set = &op.node.selection_set.node;
        let expected = oracle(&doc, &types, "Query", set, plain_data, &root).unwrap_or(Value::Null);
        assert_eq!(
            serde_json::to_string(&answer.response.data).unwrap(),
            serde_json::to_string(&expected).unwrap(),
            "{document}"
        );
    }
}
