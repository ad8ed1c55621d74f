//! Two conventions async-graphql leaves to us, kept in one per-request extension:
//!
//! - every error carries `extensions.code`: parse failures, validation failures, and
//!   argument values that could not be coerced (`BAD_USER_INPUT`) included;
//! - response objects list their fields in the order the query selected them, and a
//!   nullable field whose resolver failed is present as `null`. The GraphQL spec asks for
//!   both; async-graphql 7.2 emits sibling fields in completion order and leaves a failed
//!   field out, so both are restored after execution.

use std::sync::{Arc, Mutex};

use async_graphql::{
    extensions::{
        Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery, NextValidation,
    },
    parser::types::{ExecutableDocument, OperationDefinition, Selection, SelectionSet},
    registry::{MetaTypeName, Registry},
    ErrorExtensionValues, Name, PathSegment, Response, ServerError, ServerResult, ValidationResult,
    Value, Variables,
};

use super::Code;

/// The extension's factory; the schema installs it once.
pub(super) struct Conventions {
    /// Most aliased fields a document may hold.
    pub max_aliases: usize,
}

impl ExtensionFactory for Conventions {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(PerRequest {
            max_aliases: self.max_aliases,
            document: Mutex::new(None),
        })
    }
}

/// One request's state: the parsed document, kept for reordering the response.
struct PerRequest {
    max_aliases: usize,
    document: Mutex<Option<ExecutableDocument>>,
}

#[async_graphql::async_trait::async_trait]
impl Extension for PerRequest {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next
            .run(ctx, query, variables)
            .await
            .map_err(|e| with_code(e, Code::GraphqlParseFailed))?;
        let aliases = count_aliases(&document);
        if aliases > self.max_aliases {
            return Err(with_code(
                ServerError::new(
                    format!(
                        "the query has {aliases} aliased fields, more than the {} allowed",
                        self.max_aliases
                    ),
                    None,
                ),
                Code::GraphqlValidationFailed,
            ));
        }
        if let Ok(mut slot) = self.document.lock() {
            *slot = Some(document.clone());
        }
        Ok(document)
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        next.run(ctx).await.map_err(|errors| {
            errors
                .into_iter()
                .map(|e| {
                    let code = if is_bad_value(&e.message) {
                        Code::BadUserInput
                    } else {
                        Code::GraphqlValidationFailed
                    };
                    with_code(e, code)
                })
                .collect()
        })
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let mut response = next.run(ctx, operation_name).await;
        let document = self.document.lock().ok().and_then(|mut d| d.take());
        if let Some(document) = document {
            if let Some(operation) = find_operation(&document, operation_name) {
                let shape = Shape {
                    document: &document,
                    registry: &ctx.schema_env.registry,
                };
                let root = [&operation.selection_set.node];
                shape.null_failed_fields(&mut response, &root);
                shape.order(&mut response.data, &root);
            }
        }
        response
    }
}

fn list_item(ty: &str) -> Option<&str> {
    match MetaTypeName::create(ty) {
        MetaTypeName::List(item) => Some(item),
        _ => None,
    }
}

/// The value at `path` under `value`, if there is one.
fn descend<'v>(value: &'v mut Value, path: &[PathSegment]) -> Option<&'v mut Value> {
    let Some((first, rest)) = path.split_first() else {
        return Some(value);
    };
    let child = match (first, value) {
        (PathSegment::Field(f), Value::Object(map)) => map.get_mut(f.as_str())?,
        (PathSegment::Index(i), Value::List(items)) => items.get_mut(*i)?,
        _ => return None,
    };
    descend(child, rest)
}

/// Aliased fields in every operation and fragment of a document.
fn count_aliases(document: &ExecutableDocument) -> usize {
    fn in_set(set: &SelectionSet) -> usize {
        set.items
            .iter()
            .map(|selection| match &selection.node {
                Selection::Field(f) => {
                    usize::from(f.node.alias.is_some()) + in_set(&f.node.selection_set.node)
                }
                Selection::InlineFragment(i) => in_set(&i.node.selection_set.node),
                Selection::FragmentSpread(_) => 0,
            })
            .sum()
    }
    document
        .operations
        .iter()
        .map(|(_, op)| in_set(&op.node.selection_set.node))
        .chain(
            document
                .fragments
                .values()
                .map(|f| in_set(&f.node.selection_set.node)),
        )
        .sum()
}

fn find_operation<'d>(
    document: &'d ExecutableDocument,
    name: Option<&str>,
) -> Option<&'d OperationDefinition> {
    document
        .operations
        .iter()
        .find(|(op_name, _)| name.is_none() || op_name.map(Name::as_str) == name)
        .map(|(_, op)| &op.node)
}

/// A field as the query selected it: its response key, its name, its sub-selections.
struct Selected<'d> {
    key: &'d Name,
    name: &'d Name,
    subs: Vec<&'d SelectionSet>,
}

/// What the query and the schema say a response must look like.
struct Shape<'d> {
    document: &'d ExecutableDocument,
    registry: &'d Registry,
}

impl<'d> Shape<'d> {
    /// The fields that `sets` select, in order, merged by response key.
    fn fields(&self, sets: &[&'d SelectionSet]) -> Vec<Selected<'d>> {
        let mut fields = Vec::new();
        for set in sets {
            self.collect(set, &mut fields);
        }
        fields
    }

    fn collect(&self, set: &'d SelectionSet, fields: &mut Vec<Selected<'d>>) {
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => {
                    let key = &field.node.response_key().node;
                    let sub = &field.node.selection_set.node;
                    match fields.iter_mut().find(|f| f.key == key) {
                        Some(f) => f.subs.push(sub),
                        None => fields.push(Selected {
                            key,
                            name: &field.node.name.node,
                            subs: vec![sub],
                        }),
                    }
                }
                Selection::FragmentSpread(spread) => {
                    if let Some(fragment) =
                        self.document.fragments.get(&spread.node.fragment_name.node)
                    {
                        self.collect(&fragment.node.selection_set.node, fields);
                    }
                }
                Selection::InlineFragment(inline) => {
                    self.collect(&inline.node.selection_set.node, fields);
                }
            }
        }
    }

    /// Puts the fields of response objects in selection order.
    fn order(&self, value: &mut Value, sets: &[&'d SelectionSet]) {
        match value {
            Value::List(items) => {
                for item in items {
                    self.order(item, sets);
                }
            }
            Value::Object(map) => {
                let fields = self.fields(sets);
                let rank = |name: &Name| {
                    fields
                        .iter()
                        .position(|f| f.key == name)
                        .unwrap_or(usize::MAX)
                };
                let mut ranks = map.keys().map(rank);
                let mut previous = 0;
                let sorted = ranks.all(|r| {
                    let ok = r >= previous;
                    previous = r;
                    ok
                });
                if !sorted {
                    map.sort_by_cached_key(|k, _| rank(k));
                }
                for field in &fields {
                    if let Some(child) = map.get_mut(field.key) {
                        if field.subs.iter().any(|s| !s.items.is_empty()) {
                            self.order(child, &field.subs);
                        }
                    }
                }
            }
            _ => {}
        }
    }

    /// Puts `null` where the spec says a field error leaves it: at the failed field if it
    /// is nullable, else at its nearest nullable ancestor (or `data` itself).
    /// async-graphql 7.2 instead leaves a failed field out of its parent, whatever its type.
    fn null_failed_fields(&self, response: &mut Response, root: &[&'d SelectionSet]) {
        let paths: Vec<Vec<PathSegment>> = response
            .errors
            .iter()
            .filter(|e| !e.path.is_empty())
            .map(|e| e.path.clone())
            .collect();
        for path in paths {
            let Some(keep) = self.nullable_prefix(&path, root) else {
                continue; // a path we cannot follow: leave it as async-graphql made it
            };
            if keep == 0 {
                response.data = Value::Null;
                return;
            }
            let Some((PathSegment::Field(last), parents)) = path[..keep].split_last() else {
                continue;
            };
            if response.data == Value::Null && parents.is_empty() {
                response.data = Value::Object(Default::default());
            }
            if let Some(Value::Object(map)) = descend(&mut response.data, parents) {
                map.insert(Name::new(last), Value::Null);
            }
        }
    }

    /// How much of `path` survives a failure at its end: the length of the prefix that
    /// ends at the nearest nullable field (0: `data` itself becomes null).
    fn nullable_prefix(&self, path: &[PathSegment], root: &[&'d SelectionSet]) -> Option<usize> {
        let mut keep = 0;
        let mut sets = root.to_vec();
        let mut parent = self.registry.query_type.as_str();
        let mut ty = "";
        for (i, segment) in path.iter().enumerate() {
            ty = match segment {
                PathSegment::Field(key) => {
                    let field = self
                        .fields(&sets)
                        .into_iter()
                        .find(|f| f.key.as_str() == key)?;
                    sets = field.subs;
                    &self
                        .registry
                        .types
                        .get(parent)?
                        .field_by_name(field.name)?
                        .ty
                }
                PathSegment::Index(_) => match MetaTypeName::create(ty) {
                    MetaTypeName::NonNull(inner) => list_item(inner)?,
                    MetaTypeName::List(item) => item,
                    MetaTypeName::Named(_) => return None,
                },
            };
            if !MetaTypeName::create(ty).is_non_null() {
                keep = i + 1;
            }
            parent = MetaTypeName::concrete_typename(ty);
        }
        Some(keep)
    }
}

/// Fills in the code of an execution error that has none: a value async-graphql could not
/// coerce is the caller's mistake, anything else is ours.
pub fn complete_codes(response: &mut Response) {
    for e in &mut response.errors {
        let has_code = e
            .extensions
            .as_ref()
            .is_some_and(|ext| ext.get("code").is_some());
        if !has_code {
            let code = if is_bad_value(&e.message) {
                Code::BadUserInput
            } else if is_bad_operation(&e.message) {
                Code::GraphqlValidationFailed
            } else {
                tracing::error!(message = %e.message, "an error without a code reached the caller");
                Code::InternalServerError
            };
            e.extensions
                .get_or_insert_with(ErrorExtensionValues::default)
                .set("code", code.as_str());
        }
    }
}

/// Messages of async-graphql for values the caller sent that do not fit the schema.
fn is_bad_value(message: &str) -> bool {
    [
        "Invalid value for argument",
        "Failed to parse",
        "Invalid value for variable",
        "Expected input type",
    ]
    .iter()
    .any(|p| message.contains(p))
        || message.starts_with("Variable")
}

/// Messages of async-graphql for a request whose operation cannot be chosen.
fn is_bad_operation(message: &str) -> bool {
    message.starts_with("Unknown operation") || message.starts_with("Operation name required")
}

fn with_code(mut e: ServerError, code: Code) -> ServerError {
    e.extensions
        .get_or_insert_with(ErrorExtensionValues::default)
        .set("code", code.as_str());
    e
}
