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
    ErrorExtensionValues, Name, Response, ServerError, ServerResult, ValidationResult, Value,
    Variables,
};

use super::Code;

/// The extension's factory; the schema installs it once.
pub(super) struct Conventions;

impl ExtensionFactory for Conventions {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(PerRequest::default())
    }
}

/// One request's state: the parsed document, kept for reordering the response.
#[derive(Default)]
struct PerRequest {
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
        null_failed_fields(&mut response);
        let document = self.document.lock().ok().and_then(|mut d| d.take());
        if let Some(document) = document {
            if let Some(operation) = find_operation(&document, operation_name) {
                let order = Order {
                    document: &document,
                };
                order.apply(&mut response.data, &[&operation.selection_set.node]);
            }
        }
        response
    }
}

/// Puts `null` where a field failed and async-graphql left its key out (the error's path
/// names it); the spec handles a field error "as though the field returned null".
fn null_failed_fields(response: &mut Response) {
    use async_graphql::PathSegment;
    let failed = response.errors.iter().filter(|e| !e.path.is_empty());
    for error in failed {
        if response.data == Value::Null {
            response.data = Value::Object(Default::default());
        }
        let Some((PathSegment::Field(last), parents)) = error.path.split_last() else {
            continue;
        };
        if let Some(Value::Object(map)) = descend(&mut response.data, parents) {
            map.entry(Name::new(last)).or_insert(Value::Null);
        }
    }
}

/// The value at `path` under `value`, if there is one.
fn descend<'v>(value: &'v mut Value, path: &[async_graphql::PathSegment]) -> Option<&'v mut Value> {
    use async_graphql::PathSegment;
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

/// Puts the fields of response objects in selection order.
struct Order<'d> {
    document: &'d ExecutableDocument,
}

impl<'d> Order<'d> {
    fn apply(&self, value: &mut Value, selections: &[&'d SelectionSet]) {
        match value {
            Value::List(items) => {
                for item in items {
                    self.apply(item, selections);
                }
            }
            Value::Object(map) => {
                let mut keys: Vec<(&'d Name, Vec<&'d SelectionSet>)> = Vec::new();
                for set in selections {
                    self.collect(set, &mut keys);
                }
                let rank = |name: &Name| {
                    keys.iter()
                        .position(|(k, _)| *k == name)
                        .unwrap_or(usize::MAX)
                };
                let sorted = map
                    .keys()
                    .map(rank)
                    .collect::<Vec<_>>()
                    .windows(2)
                    .all(|w| w[0] <= w[1]);
                if !sorted {
                    map.sort_by_cached_key(|k, _| rank(k));
                }
                for (key, sub) in &keys {
                    if let Some(child) = map.get_mut(*key) {
                        if !sub.is_empty() {
                            self.apply(child, sub);
                        }
                    }
                }
            }
            _ => {}
        }
    }

    /// The response keys a selection set yields, in order, with their sub-selections.
    fn collect(&self, set: &'d SelectionSet, keys: &mut Vec<(&'d Name, Vec<&'d SelectionSet>)>) {
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => {
                    let key = &field.node.response_key().node;
                    let sub = &field.node.selection_set.node;
                    match keys.iter_mut().find(|(k, _)| *k == key) {
                        Some((_, subs)) => subs.push(sub),
                        None => keys.push((key, vec![sub])),
                    }
                }
                Selection::FragmentSpread(spread) => {
                    if let Some(fragment) =
                        self.document.fragments.get(&spread.node.fragment_name.node)
                    {
                        self.collect(&fragment.node.selection_set.node, keys);
                    }
                }
                Selection::InlineFragment(inline) => {
                    self.collect(&inline.node.selection_set.node, keys);
                }
            }
        }
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

fn is_bad_value(message: &str) -> bool {
    [
        "Invalid value for argument",
        "Failed to parse",
        "Invalid value for variable",
    ]
    .iter()
    .any(|p| message.contains(p))
        || message.starts_with("Variable")
}

fn with_code(mut e: ServerError, code: Code) -> ServerError {
    e.extensions
        .get_or_insert_with(ErrorExtensionValues::default)
        .set("code", code.as_str());
    e
}
