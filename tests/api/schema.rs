//! The schema as a reviewed artefact: `schema.graphql` is the printed schema, and snapshots
//! make every change to it (and to representative responses) a visible diff.

use serde_json::json;

use crate::helpers::*;

#[test]
fn schema_graphql_is_the_printed_schema() {
    let printed = complycube_graphql::schema::sdl();
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql"))
        .expect("schema.graphql at the repository root");
    assert!(
        printed == committed,
        "schema.graphql is stale: run `cargo run -- schema > schema.graphql` and review the diff"
    );
}

#[test]
fn the_schema_snapshot() {
    insta::assert_snapshot!("schema", complycube_graphql::schema::sdl());
}

#[test]
fn every_type_field_and_argument_has_a_description() {
    use async_graphql::parser::{parse_schema, types::TypeKind, types::TypeSystemDefinition};
    let sdl = parse_schema(complycube_graphql::schema::sdl()).expect("the SDL parses");
    let mut missing = Vec::new();
    for definition in sdl.definitions {
        let TypeSystemDefinition::Type(ty) = definition else {
            continue;
        };
        let ty = ty.node;
        let name = ty.name.node.to_string();
        if ty.description.is_none() {
            missing.push(name.clone());
        }
        match ty.kind {
            TypeKind::Object(object) => {
                for field in object.fields {
                    let field = field.node;
                    if field.description.is_none() {
                        missing.push(format!("{name}.{}", field.name.node));
                    }
                    for arg in field.arguments {
                        if arg.node.description.is_none() {
                            missing.push(format!(
                                "{name}.{}({})",
                                field.name.node, arg.node.name.node
                            ));
                        }
                    }
                }
            }
            TypeKind::InputObject(input) => {
                for field in input.fields {
                    if field.node.description.is_none() {
                        missing.push(format!("{name}.{}", field.node.name.node));
                    }
                }
            }
            TypeKind::Enum(values) => {
                for value in values.values {
                    if value.node.description.is_none() {
                        missing.push(format!("{name}.{}", value.node.value.node));
                    }
                }
            }
            _ => {}
        }
    }
    assert!(missing.is_empty(), "no description for {missing:?}");
}

#[tokio::test]
async fn the_documented_client_snapshot() {
    let app = TestApp::spawn().await;
    let response = app
        .query(
            r#"query DocumentedClient($id: ID!) {
                 client(id: $id) {
                   id
                   livePhotos {
                     totalCount
                     pageInfo { hasPreviousPage hasNextPage startCursor endCursor }
                     edges { cursor node { id clientId downloadLink contentType performLivenessCheck size createdAt updatedAt } }
                     nodes { id }
                   }
                 }
               }"#,
            json!({ "id": DOCUMENTED }),
        )
        .await;
    insta::assert_json_snapshot!("documented_client", response);
}

#[tokio::test]
async fn the_error_snapshot() {
    let app = TestApp::spawn().await;
    let response = app
        .query(
            r#"{ missing: client(id: "ffffffffffffffffffffffff") { livePhotos { totalCount } }
                 negative: client(id: "5f1e0a3c9d2b4a0008a10003") { livePhotos(first: -1) { totalCount } } }"#,
            json!({}),
        )
        .await;
    insta::assert_json_snapshot!("errors", response, {
        ".errors" => insta::sorted_redaction(),
    });
}

#[tokio::test]
async fn response_fields_come_in_query_order() {
    let app = TestApp::spawn().await;
    // `slow` waits for upstream, the others fail at once: completion order differs from
    // selection order.
    let query = format!(
        r#"{{ slow: client(id: "{THREE}") {{ livePhotos {{ totalCount edges {{ node {{ size id }} cursor }} pageInfo {{ endCursor hasNextPage }} }} }}
             bad1: client(id: "{THREE}") {{ livePhotos(first: -1) {{ totalCount }} }}
             ...F
             bad2: client(id: "") {{ id }}
             __typename }}
           fragment F on Query {{ frag: client(id: "{THREE}") {{ id }} }}"#
    );
    let (_, text) = app.post_text(json!({ "query": query })).await;
    let at = |needle: &str| {
        text.find(needle)
            .unwrap_or_else(|| panic!("{needle} in {text}"))
    };
    assert!(at("\"slow\"") < at("\"bad1\""), "{text}");
    assert!(
        at("\"bad1\"") < at("\"frag\"")
            && at("\"frag\"") < at("\"bad2\"")
            && at("\"bad2\"") < at("\"__typename\""),
        "{text}"
    );
    assert!(
        at("\"totalCount\"") < at("\"edges\"") && at("\"edges\"") < at("\"pageInfo\""),
        "{text}"
    );
    assert!(
        at("\"size\"") < at("\"id\"") && at("\"node\"") < at("\"cursor\""),
        "{text}"
    );
    assert!(at("\"endCursor\"") < at("\"hasNextPage\""), "{text}");
}

#[tokio::test]
async fn a_failed_nullable_field_is_null_not_missing() {
    let app = TestApp::spawn().await;
    let response = app.query(r#"{ client(id: "") { id } }"#, json!({})).await;
    assert_eq!(response["data"], json!({ "client": null }), "{response}");
    let response = app
        .query(
            r#"{ a: client(id: "") { id } b: client(id: "x") { id } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        response["data"],
        json!({ "a": null, "b": { "id": "x" } }),
        "{response}"
    );
}

/// Fragments, inline fragments, `__typename` and a response key selected several times
/// inside a page give exactly what the same selection written out once gives, byte for
/// byte: fields merged by response key, in the order first selected.
#[tokio::test]
async fn fragments_and_repeated_keys_merge_as_the_spec_says() {
    let app = TestApp::spawn().await;
    let raw = |query: String| {
        let body = json!({ "query": query });
        async { app.post_text(body).await.1 }
    };
    let with_fragments = raw(format!(
        r#"{{ client(id: "{THREE}") {{ livePhotos(first: 2) {{
               __typename
               edges {{ ...E node {{ id }} n: node {{ size }} node {{ ...P }} }}
               pageInfo {{ ... on PageInfo {{ hasNextPage }} hasNextPage endCursor }} }} }} }}
           fragment E on LivePhotoEdge {{ cursor node {{ __typename clientId }} }}
           fragment P on LivePhoto {{ createdAt id }}"#
    ))
    .await;
    let written_out = raw(format!(
        r#"{{ client(id: "{THREE}") {{ livePhotos(first: 2) {{
               __typename
               edges {{ cursor node {{ __typename clientId id createdAt }} n: node {{ size }} }}
               pageInfo {{ hasNextPage endCursor }} }} }} }}"#
    ))
    .await;
    assert!(!with_fragments.contains("errors"), "{with_fragments}");
    assert!(with_fragments.contains(r#""__typename":"LivePhoto""#));
    assert_eq!(with_fragments, written_out);
}
