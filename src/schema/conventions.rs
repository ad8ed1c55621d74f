//! What async-graphql leaves to us, done around each execution rather than as an
//! extension (an extension would wrap the resolution of every single field):
//!
//! - documents are parsed here, once per distinct query text (a small cache), which is
//!   also where the alias limit is checked;
//! - every error carries `extensions.code`: parse failures, validation failures, and
//!   argument values that could not be coerced (`BAD_USER_INPUT`) included;
//! - response objects list their fields in the order the query selected them, and a field
//!   error leaves `null` where the spec says: at the field if it is nullable, else at its
//!   nearest nullable ancestor. async-graphql 7.2 emits sibling fields in completion order
//!   and leaves a failed field out of its parent, so both are restored after execution.

use std::{
    cell::OnceCell,
    collections::HashMap,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
};

use async_graphql::{
    parser::{
        parse_query, parse_schema,
        types::{
            BaseType, DocumentOperations, ExecutableDocument, OperationDefinition, Selection,
            SelectionSet, Type, TypeKind, TypeSystemDefinition,
        },
    },
    registry::MetaTypeName,
    ErrorExtensionValues, Name, PathSegment, Request, Response, ServerError, Value, Variables,
};

use super::{AppSchema, Code};

/// Most field selections a document may make once its fragments are expanded. GraphiQL's
/// introspection query makes about 200; fragments that spread each other ten times over
/// ten levels would make 10^10, and must be refused before anything walks them.
const MAX_EXPANDED_FIELDS: usize = 10_000;

/// Queries longer than this are parsed every time rather than cached.
const CACHEABLE_QUERY_BYTES: usize = 8 * 1024;
/// Distinct query texts kept parsed. Frontends send a handful; variables vary, not text.
const CACHED_QUERIES: usize = 128;

/// A parsed query, shared by the requests that send the same text.
pub struct Prepared {
    pub document: ExecutableDocument,
    /// Set once full validation has accepted the document.
    validated: AtomicBool,
}

impl Prepared {
    /// Whether full validation has accepted this document before. Only its variables'
    /// values can then make a request invalid, and [`Conventions::check_variables`]
    /// checks those.
    pub fn is_validated(&self) -> bool {
        self.validated.load(Ordering::Relaxed)
    }

    pub fn mark_validated(&self) {
        self.validated.store(true, Ordering::Relaxed);
    }
}

/// The schema's conventions, shared by every request of a process.
pub struct Conventions {
    documents: quick_cache::sync::Cache<Arc<str>, Arc<Prepared>>,
    types: FieldTypes,
    max_aliases: usize,
}

impl Conventions {
    pub fn new(schema: &AppSchema, max_aliases: usize) -> Self {
        Self {
            documents: quick_cache::sync::Cache::new(CACHED_QUERIES),
            types: FieldTypes::from_sdl(&schema.sdl()),
            max_aliases,
        }
    }

    /// Parses the request's query (or finds it parsed), checks the alias limit, and hands
    /// the document to the request so that async-graphql does not parse it again. The
    /// error when the query does not parse or has too many aliases.
    pub fn prepare(&self, request: &mut Request) -> Result<Arc<Prepared>, Box<ServerError>> {
        let document = match self.documents.get(request.query.as_str()) {
            Some(document) => document,
            None => {
                let document = parse_query(&request.query).map_err(|e| {
                    Box::new(with_code(ServerError::from(e), Code::GraphqlParseFailed))
                })?;
                let fields = expanded_fields(&document).map_err(|message| {
                    Box::new(with_code(
                        ServerError::new(message, None),
                        Code::GraphqlValidationFailed,
                    ))
                })?;
                if fields > MAX_EXPANDED_FIELDS {
                    return Err(Box::new(with_code(
                        ServerError::new(
                            format!(
                                "the query selects {fields} fields once its fragments are expanded, more than the {MAX_EXPANDED_FIELDS} allowed"
                            ),
                            None,
                        ),
                        Code::GraphqlValidationFailed,
                    )));
                }
                let aliases = count_aliases(&document);
                if aliases > self.max_aliases {
                    return Err(Box::new(with_code(
                        ServerError::new(
                            format!(
                                "the query has {aliases} aliased fields, more than the {} allowed",
                                self.max_aliases
                            ),
                            None,
                        ),
                        Code::GraphqlValidationFailed,
                    )));
                }
                let prepared = Arc::new(Prepared {
                    document,
                    validated: AtomicBool::new(false),
                });
                if request.query.len() <= CACHEABLE_QUERY_BYTES {
                    self.documents
                        .insert(request.query.as_str().into(), prepared.clone());
                }
                prepared
            }
        };
        request.set_parsed_query(document.document.clone());
        Ok(document)
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
        let Some(operation) = find_operation(document, operation_name) else {
            return Ok(());
        };
        for definition in &operation.variable_definitions {
            let (name, ty) = (&definition.node.name.node, &definition.node.var_type.node);
            let message = match variables.get(name) {
                None if ty.nullable || definition.node.default_value.is_some() => continue,
                None => format!(r#"Variable "${name}" of required type "{ty}" was not provided."#),
                Some(value) => match self.types.coerce(ty, value) {
                    Ok(()) => continue,
                    Err(reason) => format!(r#"Variable "${name}" got an invalid value: {reason}"#),
                },
            };
            return Err(Box::new(with_code(
                ServerError::new(message, Some(definition.pos)),
                Code::BadUserInput,
            )));
        }
        Ok(())
    }

    /// Brings an executed response to the conventions: codes, nulls, field order.
    pub fn finish(
        &self,
        response: &mut Response,
        document: &ExecutableDocument,
        operation_name: Option<&str>,
    ) {
        if let Some(operation) = find_operation(document, operation_name) {
            let shape = Shape {
                document,
                types: &self.types,
            };
            let root = [&operation.selection_set.node];
            shape.null_failed_fields(response, &root);
            shape.order(&mut response.data, &root);
        }
        complete_codes(response);
    }
}

/// Field types, read from the schema's own SDL (async-graphql keeps its registry private).
struct FieldTypes {
    query_type: String,
    /// Type name -> field name -> type as written in SDL (`[LivePhotoEdge!]!`).
    fields: HashMap<String, HashMap<String, String>>,
    /// Input object name -> its fields.
    inputs: HashMap<String, Vec<InputField>>,
}

struct InputField {
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

    /// Why `value` cannot be an input of type `ty`, by the spec's input coercion rules.
    /// Names this schema does not define pass: validation reports those.
    fn coerce(&self, ty: &Type, value: &Value) -> Result<(), String> {
        if *value == Value::Null {
            return match ty.nullable {
                true => Ok(()),
                false => Err(format!("null where {ty} must not be null")),
            };
        }
        let name = match &ty.base {
            BaseType::List(item) => {
                return match value {
                    Value::List(items) => items.iter().try_for_each(|v| self.coerce(item, v)),
                    // A single value is a list of one.
                    single => self.coerce(item, single),
                };
            }
            BaseType::Named(name) => name.as_str(),
        };
        let Some(fields) = self.inputs.get(name) else {
            return super::check_scalar(name, value).unwrap_or(Ok(()));
        };
        let Value::Object(object) = value else {
            return Err(format!("{name} is an input object, not {value}"));
        };
        if let Some(unknown) = object
            .keys()
            .find(|key| !fields.iter().any(|f| f.name == key.as_str()))
        {
            return Err(format!("{name} has no field `{unknown}`"));
        }
        for field in fields {
            match object.get(field.name.as_str()) {
                Some(v) => self
                    .coerce(&field.ty, v)
                    .map_err(|e| format!("in `{}`: {e}", field.name))?,
                None if field.ty.nullable || field.has_default => {}
                None => return Err(format!("{name} needs its field `{}`", field.name)),
            }
        }
        Ok(())
    }

    fn of(&self, parent: &str, field: &str) -> Option<&str> {
        self.fields.get(parent)?.get(field).map(String::as_str)
    }
}

fn list_item(ty: &str) -> Option<&str> {
    match MetaTypeName::create(ty) {
        MetaTypeName::List(item) => Some(item),
        _ => None,
    }
}

/// Whether `keys` come in the order of `fields` (some fields may be missing).
fn in_order<'k>(keys: impl Iterator<Item = &'k Name>, fields: &[Selected<'_>]) -> bool {
    let mut next = 0;
    keys.into_iter().all(
        |key| match fields[next..].iter().position(|f| f.key == key) {
            Some(at) => {
                next += at + 1;
                true
            }
            None => false,
        },
    )
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

/// The number of field selections in a document with every fragment spread expanded,
/// counted without expanding anything (each fragment's count is memoised), or why the
/// document cannot be expanded: a fragment that spreads itself.
fn expanded_fields(document: &ExecutableDocument) -> Result<usize, String> {
    struct Counter<'d> {
        document: &'d ExecutableDocument,
        done: HashMap<&'d Name, usize>,
        open: Vec<&'d Name>,
    }
    impl<'d> Counter<'d> {
        fn set(&mut self, set: &'d SelectionSet) -> Result<usize, String> {
            let mut total = 0usize;
            for selection in &set.items {
                let n = match &selection.node {
                    Selection::Field(f) => {
                        1usize.saturating_add(self.set(&f.node.selection_set.node)?)
                    }
                    Selection::InlineFragment(i) => self.set(&i.node.selection_set.node)?,
                    Selection::FragmentSpread(spread) => {
                        self.fragment(&spread.node.fragment_name.node)?
                    }
                };
                total = total.saturating_add(n);
            }
            Ok(total)
        }

        fn fragment(&mut self, name: &'d Name) -> Result<usize, String> {
            if let Some(&n) = self.done.get(name) {
                return Ok(n);
            }
            if self.open.contains(&name) {
                return Err(format!("fragment `{name}` spreads itself"));
            }
            // An unknown fragment counts nothing here; validation reports it.
            let Some(fragment) = self.document.fragments.get(name) else {
                return Ok(0);
            };
            self.open.push(name);
            let n = self.set(&fragment.node.selection_set.node)?;
            self.open.pop();
            self.done.insert(name, n);
            Ok(n)
        }
    }
    let mut counter = Counter {
        document,
        done: HashMap::new(),
        open: Vec::new(),
    };
    let mut total = 0usize;
    for (_, operation) in document.operations.iter() {
        total = total.saturating_add(counter.set(&operation.node.selection_set.node)?);
    }
    for name in document.fragments.keys() {
        counter.fragment(name)?; // cycles in unused fragments too
    }
    Ok(total)
}

/// The operation a request runs, as async-graphql picks it: the named one, or the only one.
/// `None` when there is no such operation; execution reports that.
fn find_operation<'d>(
    document: &'d ExecutableDocument,
    name: Option<&str>,
) -> Option<&'d OperationDefinition> {
    let operation = match (&document.operations, name) {
        (DocumentOperations::Single(operation), None) => operation,
        (DocumentOperations::Single(_), Some(_)) => return None,
        (DocumentOperations::Multiple(operations), Some(name)) => operations.get(name)?,
        (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => {
            operations.values().next()?
        }
        (DocumentOperations::Multiple(_), None) => return None,
    };
    Some(&operation.node)
}

/// A field as the query selected it: its response key, its name, its sub-selections.
struct Selected<'d> {
    key: &'d Name,
    name: &'d Name,
    subs: Vec<&'d SelectionSet>,
    /// The fields of `subs`, collected on first use.
    children: OnceCell<Vec<Selected<'d>>>,
}

/// What the query and the schema say a response must look like.
struct Shape<'d> {
    document: &'d ExecutableDocument,
    types: &'d FieldTypes,
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
                            children: OnceCell::new(),
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
        if matches!(value, Value::Object(_) | Value::List(_)) {
            self.order_as(value, &self.fields(sets));
        }
    }

    /// Orders `value` (an object, or a list of them) as `fields` say. Items of a list share
    /// their `fields`, so each selection set is collected once, not once per item.
    fn order_as(&self, value: &mut Value, fields: &[Selected<'d>]) {
        match value {
            Value::List(items) => {
                for item in items {
                    self.order_as(item, fields);
                }
            }
            Value::Object(map) => {
                if !in_order(map.keys(), fields) {
                    let rank = |name: &Name| {
                        fields
                            .iter()
                            .position(|f| f.key == name)
                            .unwrap_or(usize::MAX)
                    };
                    map.sort_by_cached_key(|k, _| rank(k));
                }
                // Keys and fields are now in the same order: walk them together.
                let mut next = 0;
                for (key, child) in map.iter_mut() {
                    let Some(at) = fields[next..].iter().position(|f| f.key == key) else {
                        continue;
                    };
                    let field = &fields[next + at];
                    next += at + 1;
                    if field.subs.iter().all(|s| s.items.is_empty()) {
                        continue;
                    }
                    let children = field.children.get_or_init(|| self.fields(&field.subs));
                    self.order_as(child, children);
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
        let mut parent = self.types.query_type.as_str();
        let mut ty = "";
        for (i, segment) in path.iter().enumerate() {
            ty = match segment {
                PathSegment::Field(key) => {
                    let field = self
                        .fields(&sets)
                        .into_iter()
                        .find(|f| f.key.as_str() == key)?;
                    sets = field.subs;
                    self.types.of(parent, field.name)?
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

/// Fills in the code of an error that has none: a value async-graphql could not coerce is
/// the caller's mistake, so is anything validation found (no path), the rest is ours.
fn complete_codes(response: &mut Response) {
    for e in &mut response.errors {
        let has_code = e
            .extensions
            .as_ref()
            .is_some_and(|ext| ext.get("code").is_some());
        if !has_code {
            let code = if is_bad_value(&e.message) {
                Code::BadUserInput
            } else if e.path.is_empty() {
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
/// (Its messages that start with "Variable" are validation's, about the document: unused,
/// undefined or misplaced variables. Variable values are checked before execution.)
fn is_bad_value(message: &str) -> bool {
    [
        "Invalid value for argument",
        "Failed to parse",
        "Invalid value for variable",
        "Expected input type",
    ]
    .iter()
    .any(|p| message.contains(p))
}

fn with_code(mut e: ServerError, code: Code) -> ServerError {
    e.extensions
        .get_or_insert_with(ErrorExtensionValues::default)
        .set("code", code.as_str());
    e
}
