//! What async-graphql leaves to us, done around each execution rather than as an
//! extension (an extension would wrap the resolution of every single field):
//!
//! - documents are parsed here, once per distinct query text (a small cache), which is
//!   also where the size and alias limits are checked (`documents`);
//! - the values a caller sends are checked before anything runs: variables against the
//!   types the operation declares, on every request, and the argument values a document
//!   writes, once per document (`variables`);
//! - every error carries `extensions.code`: ours from where they are raised, and
//!   async-graphql's own by where it raised them (`codes`);
//! - response objects list their fields in the order the query selected them, and a field
//!   error leaves `null` where the spec says: at the field if it is nullable, else at its
//!   nearest nullable ancestor. async-graphql 7.2 emits sibling fields in completion order
//!   and leaves a failed field out of its parent, so both are restored after execution
//!   (`shape`).
//!
//! The one thing to know: every part reads the schema through [`FieldTypes`], built from
//! the schema's own SDL, so it knows exactly the types the schema has and no others.

use std::{collections::HashMap, sync::Arc};

use async_graphql::{
    parser::{
        parse_schema,
        types::{ExecutableDocument, InputValueDefinition, Type, TypeKind, TypeSystemDefinition},
    },
    Request, Response, ServerError, Variables,
};

use super::AppSchema;

mod codes;
mod documents;
mod shape;
mod variables;

use documents::{find_operation, Documents, Prepared};

/// The schema's conventions, shared by every request of a process.
pub struct Conventions {
    documents: Documents,
    types: FieldTypes,
}

impl Conventions {
    pub fn new(schema: &AppSchema, max_aliases: usize) -> Self {
        Self {
            documents: Documents::new(max_aliases),
            types: FieldTypes::from_sdl(&schema.sdl()),
        }
    }

    /// Parses the request's query (or finds it parsed), checks the limits and the values
    /// of its arguments, and hands the document to the request so that async-graphql does
    /// not parse it again. The error when the query does not parse, breaks a limit, or
    /// gives an argument a value it cannot take.
    pub fn prepare(&self, request: &mut Request) -> Result<Arc<Prepared>, Box<ServerError>> {
        self.documents.prepare(request, |document| {
            variables::check_arguments(&self.types, document)
        })
    }

    /// Checks the request's variables against the types the operation declares, as the
    /// spec's CoerceVariableValues does before anything executes: a required variable
    /// that is missing or null, or a value its type cannot take, fails the whole request.
    /// (async-graphql checks values only inside full validation, and a missing variable
    /// only when a field reads it.) Without a single operation to run, there is nothing
    /// to check; execution reports that.
    pub fn check_variables(
        &self,
        document: &ExecutableDocument,
        operation_name: Option<&str>,
        variables: &Variables,
    ) -> Result<(), Box<ServerError>> {
        match find_operation(document, operation_name) {
            Some(operation) => variables::check_variables(&self.types, operation, variables),
            None => Ok(()),
        }
    }

    /// Brings an executed response to the conventions: codes, nulls, field order.
    pub fn finish(
        &self,
        response: &mut Response,
        document: &ExecutableDocument,
        operation_name: Option<&str>,
    ) {
        if let Some(operation) = find_operation(document, operation_name) {
            shape::restore(response, document, operation, &self.types);
        }
        codes::complete_codes(response);
    }
}

/// The schema's types as the conventions need them, read from the schema's own SDL
/// (async-graphql keeps its registry private) and from [`INTROSPECTION_SDL`].
pub(super) struct FieldTypes {
    query_type: String,
    /// Type name -> field name -> type as written in SDL (`[LivePhotoEdge!]!`).
    fields: HashMap<String, HashMap<String, String>>,
    /// Type name -> field name -> the field's arguments.
    arguments: HashMap<String, HashMap<String, Vec<InputField>>>,
    /// Directive name -> its arguments.
    directives: HashMap<String, Vec<InputField>>,
    /// Input object name -> its fields.
    inputs: HashMap<String, Vec<InputField>>,
}

/// An input field or an argument: what a value given for it must be.
pub(super) struct InputField {
    name: String,
    ty: Type,
    has_default: bool,
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
const INTROSPECTION_SDL: &str = r#"
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
    fn from_sdl(sdl: &str) -> Self {
        let mut types = Self {
            query_type: "Query".to_owned(),
            fields: HashMap::new(),
            arguments: HashMap::new(),
            directives: HashMap::new(),
            inputs: HashMap::new(),
        };
        types.read(sdl);
        types.read(INTROSPECTION_SDL);
        types.read(&ROOT_INTROSPECTION_SDL.replace("{}", &types.query_type.clone()));
        for type_fields in types.fields.values_mut() {
            type_fields.insert("__typename".into(), "String!".into());
        }
        types
    }

    fn read(&mut self, sdl: &str) {
        let Ok(document) = parse_schema(sdl) else {
            return;
        };
        for definition in document.definitions {
            match definition {
                TypeSystemDefinition::Type(ty) => {
                    let name = ty.node.name.node.to_string();
                    match &ty.node.kind {
                        TypeKind::Object(object) => {
                            let fields = self.fields.entry(name.clone()).or_default();
                            let arguments = self.arguments.entry(name).or_default();
                            for field in &object.fields {
                                let field = &field.node;
                                let field_name = field.name.node.to_string();
                                fields.insert(field_name.clone(), field.ty.node.to_string());
                                let args = field.arguments.iter();
                                let args = args.map(|a| InputField::read(&a.node)).collect();
                                arguments.insert(field_name, args);
                            }
                        }
                        TypeKind::InputObject(input) => {
                            let fields = input.fields.iter();
                            let fields = fields.map(|f| InputField::read(&f.node)).collect();
                            self.inputs.insert(name, fields);
                        }
                        _ => {}
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
    }

    /// The type of `parent.field` as written in SDL, if the schema has that field.
    fn of(&self, parent: &str, field: &str) -> Option<&str> {
        self.fields.get(parent)?.get(field).map(String::as_str)
    }

    /// The arguments of `parent.field`, if the schema has that field.
    fn arguments(&self, parent: &str, field: &str) -> Option<&[InputField]> {
        self.arguments.get(parent)?.get(field).map(Vec::as_slice)
    }

    /// The arguments of the directive `name`, if the schema has it.
    fn directive(&self, name: &str) -> Option<&[InputField]> {
        self.directives.get(name).map(Vec::as_slice)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value as Json;

    use super::*;
    use crate::{
        pagination::Limits,
        schema::{build, QueryLimits},
    };

    /// The type a `__Type` reference of introspection names, as SDL writes it.
    fn sdl_type(ty: &Json) -> String {
        match ty["kind"].as_str() {
            Some("NON_NULL") => format!("{}!", sdl_type(&ty["ofType"])),
            Some("LIST") => format!("[{}]", sdl_type(&ty["ofType"])),
            _ => ty["name"].as_str().unwrap().to_owned(),
        }
    }

    /// [`INTROSPECTION_SDL`] says what async-graphql serves: every field it lists has the
    /// type and arguments (with defaults) that introspection reports.
    #[tokio::test]
    async fn the_introspection_sdl_is_what_async_graphql_serves() {
        const QUERY: &str = "{ __schema { types { name fields(includeDeprecated: true) { name \
            type { ...T } args { name defaultValue type { ...T } } } } } } \
            fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }";
        let schema = build(Limits::DEFAULT, QueryLimits::default());
        let response = schema.execute(QUERY).await.into_result().unwrap();
        let served = response.data.into_json().unwrap();
        let mut written = FieldTypes::from_sdl("");
        written.fields.clear();
        written.read(INTROSPECTION_SDL);
        assert!(!written.fields.is_empty());
        for (type_name, fields) in &written.fields {
            let ty = served["__schema"]["types"]
                .as_array()
                .unwrap()
                .iter()
                .find(|t| t["name"] == type_name.as_str())
                .unwrap_or_else(|| panic!("async-graphql serves no {type_name}"));
            for (field_name, field_type) in fields {
                let field = ty["fields"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|f| f["name"] == field_name.as_str())
                    .unwrap_or_else(|| panic!("{type_name}.{field_name} is not served"));
                assert_eq!(
                    &sdl_type(&field["type"]),
                    field_type,
                    "{type_name}.{field_name}"
                );
                let args = written.arguments(type_name, field_name).unwrap();
                let served_args = field["args"].as_array().unwrap();
                assert_eq!(args.len(), served_args.len(), "{type_name}.{field_name}");
                for (arg, served) in args.iter().zip(served_args) {
                    assert_eq!(served["name"], arg.name.as_str());
                    assert_eq!(sdl_type(&served["type"]), arg.ty.to_string());
                    assert_eq!(served["defaultValue"].is_string(), arg.has_default);
                }
            }
        }
    }
}
