//! The schema as the executor reads it: field and argument types, input objects,
//! directives and which objects an abstract type stands for, from the schema's own SDL
//! (async-graphql keeps its registry to itself outside resolution).
//!
//! The one thing to know: an SDL the executor cannot read, or one with something its
//! passes do not handle (a mutation or subscription root, a union, an `@oneOf` input, a
//! type extension), refuses to start with what to change: nothing is silently skipped.

use std::collections::{HashMap, HashSet};

use async_graphql::parser::{
    parse_schema,
    types::{InputValueDefinition, Type, TypeKind, TypeSystemDefinition},
};

use super::walk::PossibleTypes;

/// The maps below are built once from the schema and only looked up afterwards, several
/// times per field of every request: a fast hash, since nothing a request sends is inserted.
type Map<K, V> = HashMap<K, V, foldhash::fast::RandomState>;
type Set<T> = HashSet<T, foldhash::fast::RandomState>;

/// The schema's types as the executor needs them.
pub struct FieldTypes {
    pub query_type: String,
    /// Type name (object or interface) -> field name -> type as SDL writes it (`[Node]!`).
    fields: Map<String, Map<String, String>>,
    /// Type name -> field name -> the field's arguments.
    arguments: Map<String, Map<String, Vec<InputField>>>,
    /// Directive name -> its arguments.
    directives: Map<String, Vec<InputField>>,
    /// Input object name -> its fields.
    pub(super) inputs: Map<String, Vec<InputField>>,
    /// Interface name -> the object types implementing it.
    possible: Map<String, Set<String>>,
}

/// An input field or an argument: what a value given for it must be.
pub struct InputField {
    pub name: String,
    pub ty: Type,
    pub has_default: bool,
}

impl InputField {
    fn read(value: &InputValueDefinition) -> Self {
        Self {
            name: value.name.node.to_string(),
            ty: value.ty.node.clone(),
            has_default: value.default_value.is_some(),
        }
    }
}

/// The introspection fields and types, which async-graphql serves but leaves out of the
/// SDL (as of 7.2.1; a test checks this against what it serves). Only the fields that lead
/// somewhere or take arguments matter here, so that is what is written down.
pub(super) const INTROSPECTION_SDL: &str = r#"
type __Schema {
  types: [__Type!]!
  queryType: __Type!
  mutationType: __Type
  subscriptionType: __Type
  directives: [__Directive!]!
}
type __Type {
  fields(includeDeprecated: Boolean! = false): [__Field!]
  interfaces: [__Type!]
  possibleTypes: [__Type!]
  enumValues(includeDeprecated: Boolean! = false): [__EnumValue!]
  inputFields(includeDeprecated: Boolean! = false): [__InputValue!]
  ofType: __Type
}
type __Field {
  args(includeDeprecated: Boolean! = false): [__InputValue!]!
  type: __Type!
}
type __InputValue {
  type: __Type!
}
type __Directive {
  args(includeDeprecated: Boolean! = false): [__InputValue!]!
}
"#;

/// The introspection fields of the query type, whose name goes in `{}`.
const ROOT_INTROSPECTION_SDL: &str =
    "type {} { __schema: __Schema! __type(name: String!): __Type }";

impl FieldTypes {
    /// The types of `sdl`, or why the executor cannot serve it.
    pub fn from_sdl(sdl: &str) -> Result<Self, String> {
        if let Some(what_to_do) = unhandled(sdl)? {
            return Err(what_to_do);
        }
        let mut types = Self {
            query_type: "Query".to_owned(),
            fields: Map::default(),
            arguments: Map::default(),
            directives: Map::default(),
            inputs: Map::default(),
            possible: Map::default(),
        };
        types.read(sdl)?;
        types.read(INTROSPECTION_SDL)?;
        types.read(&ROOT_INTROSPECTION_SDL.replace("{}", &types.query_type.clone()))?;
        for type_fields in types.fields.values_mut() {
            type_fields.insert("__typename".into(), "String!".into());
        }
        Ok(types)
    }

    fn read(&mut self, sdl: &str) -> Result<(), String> {
        let document = parse_schema(sdl).map_err(|e| format!("the schema's SDL: {e}"))?;
        for definition in document.definitions {
            match definition {
                TypeSystemDefinition::Type(ty) => {
                    let name = ty.node.name.node.to_string();
                    let (fields, implements) = match &ty.node.kind {
                        TypeKind::Object(object) => (&object.fields, &object.implements),
                        TypeKind::Interface(interface) => {
                            self.possible.entry(name.clone()).or_default();
                            (&interface.fields, &interface.implements)
                        }
                        TypeKind::InputObject(input) => {
                            let fields = input.fields.iter();
                            let fields = fields.map(|f| InputField::read(&f.node)).collect();
                            self.inputs.insert(name, fields);
                            continue;
                        }
                        _ => continue,
                    };
                    for interface in implements {
                        let implementers = self.possible.entry(interface.node.to_string());
                        implementers.or_default().insert(name.clone());
                    }
                    let types = self.fields.entry(name.clone()).or_default();
                    let arguments = self.arguments.entry(name).or_default();
                    for field in fields {
                        let field = &field.node;
                        let field_name = field.name.node.to_string();
                        types.insert(field_name.clone(), field.ty.node.to_string());
                        let args = field.arguments.iter();
                        let args = args.map(|a| InputField::read(&a.node)).collect();
                        arguments.insert(field_name, args);
                    }
                }
                TypeSystemDefinition::Schema(schema) => {
                    if let Some(query) = &schema.node.query {
                        self.query_type = query.node.to_string();
                    }
                }
                TypeSystemDefinition::Directive(directive) => {
                    let args = directive.node.arguments.iter();
                    let args = args.map(|a| InputField::read(&a.node)).collect();
                    self.directives
                        .insert(directive.node.name.node.to_string(), args);
                }
            }
        }
        Ok(())
    }

    /// The type of `parent.field` as written in SDL, if the schema has that field.
    pub fn of(&self, parent: &str, field: &str) -> Option<&str> {
        self.fields.get(parent)?.get(field).map(String::as_str)
    }

    /// The object types implementing the interface `name`; `None` for any other type.
    pub fn implementers(&self, name: &str) -> Option<impl Iterator<Item = &str>> {
        self.possible
            .get(name)
            .map(|objects| objects.iter().map(String::as_str))
    }

    /// The arguments of `parent.field`, if the schema has that field.
    pub fn arguments(&self, parent: &str, field: &str) -> Option<&[InputField]> {
        self.arguments.get(parent)?.get(field).map(Vec::as_slice)
    }

    /// The arguments of the directive `name`, if the schema has it.
    pub fn directive(&self, name: &str) -> Option<&[InputField]> {
        self.directives.get(name).map(Vec::as_slice)
    }
}

impl PossibleTypes for FieldTypes {
    fn is_possible(&self, of: &str, object: &str) -> bool {
        self.possible
            .get(of)
            .is_some_and(|set| set.contains(object))
    }
}

/// What to change in the executor before `sdl` can be served, if anything: each thing
/// here has a pass that would get it wrong.
pub fn unhandled(sdl: &str) -> Result<Option<String>, String> {
    let document = parse_schema(sdl).map_err(|e| format!("the schema's SDL: {e}"))?;
    for definition in &document.definitions {
        let what = match definition {
            TypeSystemDefinition::Schema(schema) => {
                let schema = &schema.node;
                if schema.extend {
                    "`extend schema`: `FieldTypes::read` (executor/types.rs) reads one `schema` \
                     definition: make it merge extensions"
                } else if schema.mutation.is_some() || schema.subscription.is_some() {
                    ROOTS
                } else {
                    continue;
                }
            }
            TypeSystemDefinition::Type(ty) => {
                let ty = &ty.node;
                match &ty.kind {
                    _ if ty.extend => {
                        "`extend type`: `FieldTypes::read` (executor/types.rs) takes each \
                         definition whole: make it merge extensions into their type"
                    }
                    TypeKind::Union(_) => {
                        "a union: async-graphql 7.2.1 does not apply a fragment on a union to \
                         an object that belongs to it (`Fields::add_set` consults `implements` \
                         only), so an object resolved by async-graphql and then shaped \
                         (executor/shape.rs) would read that fragment's fields as failed: \
                         shape such objects by what async-graphql applied, or fix it upstream"
                    }
                    TypeKind::InputObject(_)
                        if ty.directives.iter().any(|d| d.node.name.node == "oneOf") =>
                    {
                        "an `@oneOf` input: the variable and argument checks \
                         (executor/values.rs) coerce input objects field by field and would let \
                         a value with two fields set (or none) through: teach `coerce` the \
                         one-field rule"
                    }
                    TypeKind::Object(_)
                        if matches!(ty.name.node.as_str(), "Mutation" | "Subscription") =>
                    {
                        ROOTS
                    }
                    _ => continue,
                }
            }
            TypeSystemDefinition::Directive(_) => continue,
        };
        return Ok(Some(format!(
            "the schema has {what}; the executor (src/executor) does not handle it yet"
        )));
    }
    Ok(None)
}

const ROOTS: &str = "a mutation or subscription root: the executor runs queries only (its root \
    shaping reads the query type, `Executor` builds `EmptyMutation`/`EmptySubscription`), and \
    mutations must run their root fields one after another";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_the_executor_does_not_handle_refuses_to_start() {
        for (sdl, named) in [
            ("type Query { a: Int } type Mutation { b: Int }", "mutation"),
            (
                "schema { query: Q subscription: S } type Q { a: Int } type S { b: Int }",
                "subscription",
            ),
            ("union U = Query type Query { a: Int }", "union"),
            (
                "type Query { a(i: I): Int } input I @oneOf { x: Int y: Int }",
                "@oneOf",
            ),
            (
                "type Query { a: Int } extend type Query { b: Int }",
                "extend type",
            ),
            (
                "type Query { a: Int } extend schema { query: Query }",
                "extend schema",
            ),
        ] {
            let refused = FieldTypes::from_sdl(sdl)
                .err()
                .unwrap_or_else(|| panic!("{sdl}"));
            assert!(refused.contains(named), "{sdl}: {refused}");
        }
        let broken = FieldTypes::from_sdl("type Query { a: }").err().unwrap();
        assert!(broken.contains("SDL"), "{broken}");
        // Interfaces are handled.
        let types = FieldTypes::from_sdl(
            "interface Node { id: ID! } type A implements Node { id: ID! } type Query { n: Node }",
        )
        .unwrap();
        assert!(types.is_possible("Node", "A") && !types.is_possible("Node", "Query"));
        assert_eq!(types.of("Node", "id"), Some("ID!"));
    }
}
