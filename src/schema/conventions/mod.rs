//! What async-graphql leaves to us, done around each execution rather than as an
//! extension (an extension would wrap the resolution of every single field):
//!
//! - documents are parsed here, once per distinct query text (a small cache), which is
//!   also where the alias limit is checked (`documents`);
//! - variables are checked against the types the operation declares before anything runs
//!   (`variables`);
//! - every error carries `extensions.code`: parse failures, validation failures, and
//!   argument values that could not be coerced (`BAD_USER_INPUT`) included (`codes`);
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
        types::{ExecutableDocument, Type, TypeKind, TypeSystemDefinition},
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

    /// Parses the request's query (or finds it parsed), checks the alias limit, and hands
    /// the document to the request so that async-graphql does not parse it again. The
    /// error when the query does not parse or has too many aliases.
    pub fn prepare(&self, request: &mut Request) -> Result<Arc<Prepared>, Box<ServerError>> {
        self.documents.prepare(request)
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

/// Field types, read from the schema's own SDL (async-graphql keeps its registry private).
pub(super) struct FieldTypes {
    query_type: String,
    /// Type name -> field name -> type as written in SDL (`[LivePhotoEdge!]!`).
    fields: HashMap<String, HashMap<String, String>>,
    /// Input object name -> its fields.
    inputs: HashMap<String, Vec<InputField>>,
}

pub(super) struct InputField {
    name: String,
    ty: Type,
    has_default: bool,
}

impl FieldTypes {
    fn from_sdl(sdl: &str) -> Self {
        let mut fields: HashMap<String, HashMap<String, String>> = HashMap::new();
        let mut inputs = HashMap::new();
        let mut query_type = "Query".to_owned();
        if let Ok(document) = parse_schema(sdl) {
            for definition in document.definitions {
                match definition {
                    TypeSystemDefinition::Type(ty) => match &ty.node.kind {
                        TypeKind::Object(object) => {
                            let entry = fields.entry(ty.node.name.node.to_string()).or_default();
                            for field in &object.fields {
                                entry.insert(
                                    field.node.name.node.to_string(),
                                    field.node.ty.node.to_string(),
                                );
                            }
                        }
                        TypeKind::InputObject(input) => {
                            let entry: Vec<InputField> = input
                                .fields
                                .iter()
                                .map(|f| InputField {
                                    name: f.node.name.node.to_string(),
                                    ty: f.node.ty.node.clone(),
                                    has_default: f.node.default_value.is_some(),
                                })
                                .collect();
                            inputs.insert(ty.node.name.node.to_string(), entry);
                        }
                        _ => {}
                    },
                    TypeSystemDefinition::Schema(schema) => {
                        if let Some(query) = &schema.node.query {
                            query_type = query.node.to_string();
                        }
                    }
                    TypeSystemDefinition::Directive(_) => {}
                }
            }
        }
        for type_fields in fields.values_mut() {
            type_fields.insert("__typename".into(), "String!".into());
        }
        Self {
            query_type,
            fields,
            inputs,
        }
    }

    /// The type of `parent.field` as written in SDL, if the schema has that field.
    fn of(&self, parent: &str, field: &str) -> Option<&str> {
        self.fields.get(parent)?.get(field).map(String::as_str)
    }
}
