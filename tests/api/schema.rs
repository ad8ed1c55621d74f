//! The schema as a reviewed artefact: `schema.graphql` is the printed schema and says what
//! the running service's introspection says, and snapshots make every change to it (and to
//! representative responses) a visible diff.

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

/// The promise to consumers: `schema.graphql` breaks nothing that a released schema of
/// this major version offered (`tests/released/`, one file per release). Removals and type
/// changes wait for the next major version, after a minor release with `@deprecated`.
#[test]
fn schema_graphql_breaks_no_released_schema() {
    let current = complycube_graphql::schema::sdl();
    let released = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/released");
    let major = env!("CARGO_PKG_VERSION_MAJOR");
    let mut checked = 0;
    for entry in std::fs::read_dir(released).expect("tests/released") {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.starts_with(&format!("{major}.")) {
            continue;
        }
        let old = std::fs::read_to_string(&path).unwrap();
        let breaking: Vec<String> = complycube_graphql::compat::diff(&old, &current)
            .unwrap()
            .into_iter()
            .filter(|c| c.class == complycube_graphql::compat::Class::Breaking)
            .map(|c| c.to_string())
            .collect();
        assert!(
            breaking.is_empty(),
            "schema.graphql breaks the released {name}:\n{}",
            breaking.join("\n")
        );
        checked += 1;
    }
    assert!(
        checked >= 1,
        "no released schema of version {major}.x to hold to"
    );
}

#[test]
fn schema_diff_says_each_change_and_fails_on_a_breaking_one() {
    let bin = env!("CARGO_BIN_EXE_complycube-graphql");
    let dir = std::env::temp_dir().join(format!("schema-diff-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let current = complycube_graphql::schema::sdl();
    let write = |name: &str, sdl: &str| {
        let path = dir.join(name);
        std::fs::write(&path, sdl).unwrap();
        path
    };
    // Against itself: nothing, exit 0.
    let same = write("same.graphql", &current);
    let out = std::process::Command::new(bin)
        .args(["schema", "diff"])
        .arg(&same)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());
    // An old schema that had a field the running one lacks: breaking, exit 1.
    let old = current.replacen("type PageInfo {", "type PageInfo {\n\tgone: Int", 1);
    let old = write("old.graphql", &old);
    let out = std::process::Command::new(bin)
        .args(["schema", "diff"])
        .arg(&old)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let printed = String::from_utf8(out.stdout).unwrap();
    assert!(
        printed.starts_with("breaking   PageInfo.gone: field removed"),
        "{printed}"
    );
    // Two files, the other way round: an added field is safe, exit 0.
    let out = std::process::Command::new(bin)
        .args(["schema", "diff"])
        .arg(&same)
        .arg(&old)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8(out.stdout)
        .unwrap()
        .contains("safe       PageInfo.gone: field added"));
    // A file that is no SDL: exit 2.
    let junk = write("junk.graphql", "type {");
    let out = std::process::Command::new(bin)
        .args(["schema", "diff"])
        .arg(&junk)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    std::fs::remove_dir_all(&dir).ok();
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
                   id: complyCubeId
                   livePhotos {
                     totalCount
                     pageInfo { hasPreviousPage hasNextPage startCursor endCursor }
                     edges { cursor node { id: complyCubeId clientId downloadLink contentType performLivenessCheck size createdAt updatedAt } }
                     nodes { id: complyCubeId }
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
             bad2: client(id: "") {{ id: complyCubeId }}
             __typename }}
           fragment F on Query {{ frag: client(id: "{THREE}") {{ id: complyCubeId }} }}"#
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
    let response = app
        .query(r#"{ client(id: "") { id: complyCubeId } }"#, json!({}))
        .await;
    assert_eq!(response["data"], json!({ "client": null }), "{response}");
    let response = app
        .query(
            r#"{ a: client(id: "") { id: complyCubeId } b: client(id: "x") { id: complyCubeId } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        response["data"],
        json!({ "a": null, "b": { "id": "x" } }),
        "{response}"
    );
}

/// The answer to `query`, as the text the service wrote (key order and all).
async fn raw(app: &TestApp, query: String) -> String {
    app.post_text(json!({ "query": query })).await.1
}

/// Fragments, inline fragments, `__typename` and a response key selected several times
/// inside a page give exactly what the same selection written out once gives, byte for
/// byte: fields merged by response key, in the order first selected.
#[tokio::test]
async fn fragments_and_repeated_keys_merge_as_the_spec_says() {
    let app = TestApp::spawn().await;
    let with_fragments = raw(
        &app,
        format!(
            r#"{{ client(id: "{THREE}") {{ livePhotos(first: 2) {{
               __typename
               edges {{ ...E node {{ id }} n: node {{ size }} node {{ ...P }} }}
               pageInfo {{ ... on PageInfo {{ hasNextPage }} hasNextPage endCursor }} }} }} }}
           fragment E on LivePhotoEdge {{ cursor node {{ __typename clientId }} }}
           fragment P on LivePhoto {{ createdAt id }}"#
        ),
    )
    .await;
    let written_out = raw(
        &app,
        format!(
            r#"{{ client(id: "{THREE}") {{ livePhotos(first: 2) {{
               __typename
               edges {{ cursor node {{ __typename clientId id createdAt }} n: node {{ size }} }}
               pageInfo {{ hasNextPage endCursor }} }} }} }}"#
        ),
    )
    .await;
    assert!(!with_fragments.contains("errors"), "{with_fragments}");
    assert!(with_fragments.contains(r#""__typename":"LivePhoto""#));
    assert_eq!(with_fragments, written_out);
}

/// The same for keys whose fields wait (a page; a photo's owner), each selected twice with
/// different selections: merged in the order selected, whichever of the two finished first
/// (async-graphql merges in the order they complete).
#[tokio::test]
async fn a_waiting_field_selected_twice_merges_in_selection_order() {
    let app = TestApp::spawn().await;
    let twice = raw(&app, format!(
        r#"{{ client(id: "{THREE}") {{
               livePhotos(first: 2) {{ nodes {{ size client {{ id }} }} }}
               id
               livePhotos(first: 2) {{ totalCount nodes {{ createdAt client {{ complyCubeId }} }} }} }} }}"#
    ))
    .await;
    let once = raw(&app, format!(
        r#"{{ client(id: "{THREE}") {{
               livePhotos(first: 2) {{ nodes {{ size client {{ id complyCubeId }} createdAt }} totalCount }}
               id }} }}"#
    ))
    .await;
    assert!(!twice.contains("errors"), "{twice}");
    assert_eq!(twice, once);
    // At the root too, where async-graphql resolves the fields: twice, and through
    // fragments on `Query` (as Relay writes a screen's query), one of them inline.
    let once = raw(&app, format!(
        r#"{{ client(id: "{THREE}") {{ livePhotos(first: 2) {{ nodes {{ size createdAt }} totalCount }} id }} }}"#
    ))
    .await;
    for query in [
        format!(
            r#"{{ client(id: "{THREE}") {{ livePhotos(first: 2) {{ nodes {{ size }} }} }}
                 client(id: "{THREE}") {{ id livePhotos(first: 2) {{ totalCount nodes {{ createdAt }} }} }} }}"#
        ),
        format!(
            r#"query Screen {{ ...Header ... on Query {{ client(id: "{THREE}") {{ id }} }} ...Photos }}
               fragment Header on Query {{ client(id: "{THREE}") {{ livePhotos(first: 2) {{ nodes {{ size }} }} }} }}
               fragment Photos on Query {{ client(id: "{THREE}") {{ livePhotos(first: 2) {{ totalCount nodes {{ createdAt }} }} }} }}"#
        ),
    ] {
        let twice = raw(&app, query.clone()).await;
        assert!(!twice.contains("errors"), "{twice}");
        assert_eq!(twice, once, "{query}");
    }
}

/// Merging root fields changes nothing else: two fields of one response key that differ
/// are still refused, and a fragment behind `@include` still follows its variable.
#[tokio::test]
async fn root_fields_that_differ_or_depend_on_variables_stay_as_written() {
    let app = TestApp::spawn().await;
    let conflict = app
        .query(
            &format!(r#"{{ client(id: "{THREE}") {{ id }} client(id: "{SEVEN}") {{ id }} }}"#),
            json!({}),
        )
        .await;
    assert_eq!(
        codes(&conflict),
        vec!["GRAPHQL_VALIDATION_FAILED"],
        "{conflict}"
    );
    let query = format!(
        r#"query($more: Boolean!) {{ client(id: "{THREE}") {{ n: __typename }} ...More @include(if: $more) }}
           fragment More on Query {{ client(id: "{THREE}") {{ complyCubeId }} }}"#
    );
    for (more, expected) in [
        (
            true,
            json!({ "client": { "n": "Client", "complyCubeId": THREE } }),
        ),
        (false, json!({ "client": { "n": "Client" } })),
    ] {
        let response = app.query(&query, json!({ "more": more })).await;
        assert_eq!(response["data"], expected, "{response}");
    }
}

/// The introspection query GraphiQL sends (graphql-js `getIntrospectionQuery` with
/// descriptions, `specifiedByURL`, `isRepeatable`, the schema description, deprecated input
/// values and `isOneOf`).
const INTROSPECTION_QUERY: &str = r#"
query IntrospectionQuery {
  __schema {
    description
    queryType { name kind }
    mutationType { name kind }
    subscriptionType { name kind }
    types { ...FullType }
    directives {
      name
      description
      isRepeatable
      locations
      args(includeDeprecated: true) { ...InputValue }
    }
  }
}
fragment FullType on __Type {
  kind
  name
  description
  specifiedByURL
  isOneOf
  fields(includeDeprecated: true) {
    name
    description
    args(includeDeprecated: true) { ...InputValue }
    type { ...TypeRef }
    isDeprecated
    deprecationReason
  }
  inputFields(includeDeprecated: true) { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue {
  name
  description
  type { ...TypeRef }
  defaultValue
  isDeprecated
  deprecationReason
}
fragment TypeRef on __Type {
  kind
  name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name
    ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } }
}"#;

/// `schema.graphql` says exactly what the running service's introspection says: the same
/// types of the same kinds, the same fields, input fields, arguments and enum values with
/// the same types, defaults, descriptions and deprecations, the same `@specifiedBy` URLs
/// and the same root types. (Built-in scalars and `__` types are left out on both sides:
/// SDL does not print them.)
#[tokio::test]
async fn schema_graphql_is_what_introspection_reports() {
    let app = TestApp::spawn().await;
    let response = app.query(INTROSPECTION_QUERY, json!({})).await;
    assert!(response.get("errors").is_none(), "{response}");
    let served = model::from_introspection(&response["data"]["__schema"]);

    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql"))
        .expect("schema.graphql at the repository root");
    let written = model::from_sdl(&committed);

    assert!(written.types.contains_key("LivePhoto"), "{written:#?}");
    assert!(
        written.types["DateTime"].specified_by.is_some(),
        "schema.graphql lost `@specifiedBy` on DateTime"
    );
    for name in served.types.keys().chain(written.types.keys()) {
        assert_eq!(
            served.types.get(name),
            written.types.get(name),
            "type `{name}`: introspection (left) and schema.graphql (right) differ"
        );
    }
    assert_eq!(served, written);
}

/// A schema as both introspection and SDL can say it, in one shape, for comparing them.
mod model {
    use std::collections::{BTreeMap, BTreeSet};

    use async_graphql::parser::{
        parse_query, parse_schema,
        types::{
            ConstDirective, FieldDefinition, InputValueDefinition, Selection, TypeKind,
            TypeSystemDefinition,
        },
        Positioned,
    };
    use serde_json::Value;

    const BUILT_IN_SCALARS: [&str; 5] = ["Int", "Float", "String", "Boolean", "ID"];

    #[derive(Debug, PartialEq, Eq)]
    pub struct Schema {
        pub query: Option<String>,
        pub mutation: Option<String>,
        pub subscription: Option<String>,
        pub types: BTreeMap<String, Type>,
    }

    #[derive(Debug, PartialEq, Eq)]
    pub struct Type {
        pub kind: String,
        pub description: Option<String>,
        pub specified_by: Option<String>,
        pub one_of: bool,
        pub fields: Vec<Field>,
        pub input_fields: Vec<Input>,
        pub enum_values: Vec<EnumValue>,
        pub interfaces: BTreeSet<String>,
        pub possible_types: BTreeSet<String>,
    }

    #[derive(Debug, PartialEq, Eq)]
    pub struct Field {
        pub name: String,
        pub description: Option<String>,
        pub ty: String,
        pub args: Vec<Input>,
        /// `Some(reason)` when deprecated.
        pub deprecated: Option<Option<String>>,
    }

    #[derive(Debug, PartialEq, Eq)]
    pub struct Input {
        pub name: String,
        pub description: Option<String>,
        pub ty: String,
        /// The default as GraphQL prints the value, whichever way it was written.
        pub default: Option<String>,
        pub deprecated: Option<Option<String>>,
    }

    #[derive(Debug, PartialEq, Eq)]
    pub struct EnumValue {
        pub name: String,
        pub description: Option<String>,
        pub deprecated: Option<Option<String>>,
    }

    fn shown(name: &str) -> bool {
        !name.starts_with("__") && !BUILT_IN_SCALARS.contains(&name)
    }

    // ---- introspection ----

    fn string(value: &Value) -> Option<String> {
        value.as_str().map(str::to_owned)
    }

    fn list(value: &Value) -> impl Iterator<Item = &Value> {
        value.as_array().into_iter().flatten()
    }

    fn type_ref(ty: &Value) -> String {
        match ty["kind"].as_str() {
            Some("NON_NULL") => format!("{}!", type_ref(&ty["ofType"])),
            Some("LIST") => format!("[{}]", type_ref(&ty["ofType"])),
            _ => ty["name"].as_str().expect("a named type").to_owned(),
        }
    }

    fn deprecation(value: &Value) -> Option<Option<String>> {
        (value["isDeprecated"] == true).then(|| string(&value["deprecationReason"]))
    }

    /// A default value as introspection reports it (GraphQL text), printed canonically.
    fn literal(text: &str) -> String {
        let document = parse_query(format!("{{ f(a: {text}) }}")).expect("a GraphQL value");
        let (_, operation) = document.operations.iter().next().expect("an operation");
        let Selection::Field(field) = &operation.node.selection_set.node.items[0].node else {
            unreachable!("a field")
        };
        let value = field.node.arguments[0].1.node.clone();
        value.into_const().expect("a constant").to_string()
    }

    fn input(value: &Value) -> Input {
        Input {
            name: string(&value["name"]).unwrap(),
            description: string(&value["description"]),
            ty: type_ref(&value["type"]),
            default: value["defaultValue"].as_str().map(literal),
            deprecated: deprecation(value),
        }
    }

    pub fn from_introspection(schema: &Value) -> Schema {
        let mut types = BTreeMap::new();
        for ty in list(&schema["types"]) {
            let name = string(&ty["name"]).unwrap();
            if !shown(&name) {
                continue;
            }
            let fields = list(&ty["fields"]).map(|field| Field {
                name: string(&field["name"]).unwrap(),
                description: string(&field["description"]),
                ty: type_ref(&field["type"]),
                args: list(&field["args"]).map(input).collect(),
                deprecated: deprecation(field),
            });
            let names = |key: &str| list(&ty[key]).map(type_ref).collect();
            let enum_values = list(&ty["enumValues"]).map(|value| EnumValue {
                name: string(&value["name"]).unwrap(),
                description: string(&value["description"]),
                deprecated: deprecation(value),
            });
            let model = Type {
                kind: string(&ty["kind"]).unwrap(),
                description: string(&ty["description"]),
                specified_by: string(&ty["specifiedByURL"]),
                one_of: ty["isOneOf"] == true,
                fields: fields.collect(),
                input_fields: list(&ty["inputFields"]).map(input).collect(),
                enum_values: enum_values.collect(),
                interfaces: names("interfaces"),
                possible_types: names("possibleTypes"),
            };
            types.insert(name, model);
        }
        Schema {
            query: string(&schema["queryType"]["name"]),
            mutation: string(&schema["mutationType"]["name"]),
            subscription: string(&schema["subscriptionType"]["name"]),
            types,
        }
    }

    // ---- SDL ----

    fn directive<'d>(
        directives: &'d [Positioned<ConstDirective>],
        name: &str,
    ) -> Option<&'d ConstDirective> {
        directives
            .iter()
            .map(|d| &d.node)
            .find(|d| d.name.node == name)
    }

    fn argument(directive: &ConstDirective, name: &str) -> Option<String> {
        directive
            .get_argument(name)
            .and_then(|value| match &value.node {
                async_graphql::Value::String(s) => Some(s.clone()),
                _ => None,
            })
    }

    fn sdl_deprecation(directives: &[Positioned<ConstDirective>]) -> Option<Option<String>> {
        directive(directives, "deprecated").map(|d| argument(d, "reason"))
    }

    fn description(text: &Option<Positioned<String>>) -> Option<String> {
        text.as_ref().map(|d| d.node.clone())
    }

    fn sdl_input(value: &Positioned<InputValueDefinition>) -> Input {
        let value = &value.node;
        Input {
            name: value.name.node.to_string(),
            description: description(&value.description),
            ty: value.ty.node.to_string(),
            default: value.default_value.as_ref().map(|v| v.node.to_string()),
            deprecated: sdl_deprecation(&value.directives),
        }
    }

    fn sdl_field(field: &Positioned<FieldDefinition>) -> Field {
        let field = &field.node;
        Field {
            name: field.name.node.to_string(),
            description: description(&field.description),
            ty: field.ty.node.to_string(),
            args: field.arguments.iter().map(sdl_input).collect(),
            deprecated: sdl_deprecation(&field.directives),
        }
    }

    pub fn from_sdl(sdl: &str) -> Schema {
        let document = parse_schema(sdl).expect("schema.graphql parses");
        let mut schema = Schema {
            query: None,
            mutation: None,
            subscription: None,
            types: BTreeMap::new(),
        };
        let mut implementers: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for definition in &document.definitions {
            let ty = match definition {
                TypeSystemDefinition::Schema(root) => {
                    let name = |n: &Option<Positioned<async_graphql::Name>>| {
                        n.as_ref().map(|n| n.node.to_string())
                    };
                    schema.query = name(&root.node.query);
                    schema.mutation = name(&root.node.mutation);
                    schema.subscription = name(&root.node.subscription);
                    continue;
                }
                TypeSystemDefinition::Directive(_) => continue,
                TypeSystemDefinition::Type(ty) => &ty.node,
            };
            let name = ty.name.node.to_string();
            let mut model = Type {
                kind: String::new(),
                description: description(&ty.description),
                specified_by: directive(&ty.directives, "specifiedBy")
                    .and_then(|d| argument(d, "url")),
                one_of: directive(&ty.directives, "oneOf").is_some(),
                fields: Vec::new(),
                input_fields: Vec::new(),
                enum_values: Vec::new(),
                interfaces: BTreeSet::new(),
                possible_types: BTreeSet::new(),
            };
            let names = |names: &[Positioned<async_graphql::Name>]| {
                names
                    .iter()
                    .map(|n| n.node.to_string())
                    .collect::<BTreeSet<_>>()
            };
            model.kind = match &ty.kind {
                TypeKind::Scalar => "SCALAR",
                TypeKind::Object(object) => {
                    model.fields = object.fields.iter().map(sdl_field).collect();
                    model.interfaces = names(&object.implements);
                    for interface in &model.interfaces {
                        implementers
                            .entry(interface.clone())
                            .or_default()
                            .insert(name.clone());
                    }
                    "OBJECT"
                }
                TypeKind::Interface(interface) => {
                    model.fields = interface.fields.iter().map(sdl_field).collect();
                    model.interfaces = names(&interface.implements);
                    "INTERFACE"
                }
                TypeKind::Union(union) => {
                    model.possible_types = names(&union.members);
                    "UNION"
                }
                TypeKind::Enum(enumeration) => {
                    let values = enumeration.values.iter().map(|v| EnumValue {
                        name: v.node.value.node.to_string(),
                        description: description(&v.node.description),
                        deprecated: sdl_deprecation(&v.node.directives),
                    });
                    model.enum_values = values.collect();
                    "ENUM"
                }
                TypeKind::InputObject(input) => {
                    model.input_fields = input.fields.iter().map(sdl_input).collect();
                    "INPUT_OBJECT"
                }
            }
            .to_owned();
            if shown(&name) {
                schema.types.insert(name, model);
            }
        }
        // An interface's possible types are the objects that say they implement it.
        for (interface, objects) in implementers {
            if let Some(ty) = schema.types.get_mut(&interface) {
                ty.possible_types = objects;
            }
        }
        schema
    }
}

/// The document GraphiQL opens with runs cleanly, every operation of it, on demo data.
#[tokio::test]
async fn graphiqls_default_document_runs_on_demo_data() {
    let page = include_str!("../../src/http/graphiql/app.js");
    let document = page
        .split("const defaultQuery = `")
        .nth(1)
        .and_then(|rest| rest.split("`;").next())
        .expect("app.js holds the default document")
        .replace("\\`", "`");
    let app = TestApp::spawn().await;
    for operation in ["FirstPhotos", "ByGlobalId"] {
        assert!(
            document.contains(&format!("query {operation}")),
            "{operation}"
        );
        let (status, body) = app
            .post(json!({ "query": document, "operationName": operation }))
            .await;
        assert_eq!(status, 200, "{body}");
        assert!(body.get("errors").is_none(), "{operation}: {body}");
        assert!(
            body["data"]
                .as_object()
                .is_some_and(|d| d.values().all(|v| !v.is_null())),
            "{body}"
        );
    }
}
