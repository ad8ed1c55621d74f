//! What this crate adds around async-graphql's execution, in one room: the document cache,
//! the checks before anything runs, resolution in place, the response's shape, and the
//! refusal of introspection.
//!
//! What it replaces in async-graphql 7.2.1, and why:
//!
//! - **Field order and failed fields** (`shape.rs`). async-graphql writes an object's
//!   fields in the order their futures complete (its issue #612) and leaves a failed field
//!   out of its parent, whatever the field's type. The spec wants selection order, and a
//!   failed field `null` (or its nearest nullable ancestor). [`Shaped`] objects are
//!   resolved to that shape, one object at a time, with the object's concrete type in
//!   hand, so fragments on interfaces apply as the spec says; the root is shaped after
//!   execution ([`nulls::root`]).
//! - **Resolution in place** (`shape.rs`). An object whose selected fields never wait is
//!   resolved field after field in one future, instead of one boxed future per field: most
//!   of a response's CPU is building it. One whose fields wait has them polled together by
//!   its own resolvers, and merges a key selected twice in selection order, where
//!   async-graphql merges in completion order.
//! - **Root fields selected twice** (`merge.rs`). The root is async-graphql's to resolve,
//!   so a document's root fields of one response key (often from two fragments on
//!   `Query`) are merged into one field when the document is parsed.
//! - **Validation, once per document** (`documents.rs`, `values.rs`). Documents are parsed
//!   once per distinct text, with the limits checked then; full validation runs until it
//!   has accepted a document once, then async-graphql's fast mode (limits only), because
//!   the only thing full validation checks that varies per request, the variables' values,
//!   is checked here on every request, as the spec's CoerceVariableValues does anyway.
//! - **Codes** (`crate::code`). Every error leaves with `extensions.code`: ours from where
//!   they are raised; async-graphql's own by when it raised them, which [`Outcome`] says.
//! - **`--no-introspection`** (`introspection.rs`): a document asking for `__schema` or
//!   `__type` is refused, not answered with a silent null.
//!
//! Its assumptions, each fenced by a test or a refusal to start (`types::unhandled`):
//! queries only (no mutation or subscription root); no unions and no `@oneOf` inputs;
//! async-graphql pinned to the exact version whose behaviour the canaries in `fences.rs`
//! check (completion order, failed fields left out); every field that can wait named by
//! its type's [`Immediate::waits`] (a test in `schema` checks each against the loaders).
//!
//! What an extension costs: async-graphql runs every field of every object through the
//! extension chain, so with one registered ([`extension`], the only way `clippy.toml`
//! allows) nothing resolves in place; answers keep their shape.
//!
//! The one thing to know: the executor knows no type of the service. It runs whatever
//! query root it is given, and reads the schema through its SDL (`types.rs`) and, during
//! resolution, async-graphql's registry; everything that walks a document goes through
//! `walk/` and its one fragment rule.

pub mod budget;
mod documents;
#[cfg(test)]
mod fences;
mod introspection;
mod merge;
mod nulls;
pub mod shape;
mod types;
mod values;
pub mod walk;

use async_graphql::{
    parser::types::DocumentOperations, EmptyMutation, EmptySubscription, InputType, Name,
    ObjectType, Request, Response, Schema, SchemaBuilder, ServerError, ValidationMode, Value,
};

use std::{any::TypeId, sync::Arc};

use self::{
    budget::{AnswerBudget, CostModel},
    documents::Documents,
    types::FieldTypes,
};
use crate::code::Code;

pub use self::shape::{extension, Boxed, Immediate, Shaped};

/// The schemas the executor runs: a query root, nothing else.
pub type QuerySchema<Q> = Schema<Q, EmptyMutation, EmptySubscription>;

/// Whether a value is an input the scalar named is willing to parse, and why not; `None`
/// for a name that is not a scalar the checker knows. Variables and literal arguments are
/// checked with it, by the very parsing arguments go through.
pub type ScalarCheck = fn(&str, &Value) -> Option<Result<(), String>>;

/// [`ScalarCheck`] for GraphQL's built-in scalars, as async-graphql parses them.
pub fn builtin_scalar(name: &str, value: &Value) -> Option<Result<(), String>> {
    fn parse<T: InputType>(value: &Value) -> Result<(), String> {
        T::parse(Some(value.clone()))
            .map(drop)
            .map_err(|e| e.into_server_error(Default::default()).message)
    }
    Some(match name {
        "Int" => parse::<i32>(value),
        "Float" => parse::<f64>(value),
        "String" => parse::<String>(value),
        "Boolean" => parse::<bool>(value),
        "ID" => parse::<async_graphql::ID>(value),
        _ => return None,
    })
}

/// Whether an operation ran: what decides its `data` entry, its HTTP status under
/// `application/graphql-response+json`, and the code of async-graphql's own errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// It failed before execution began: a request error (no `data` entry at all).
    Refused,
    /// Execution began; its errors, if any, are field errors.
    Ran,
}

/// One operation's answer, and what it came to.
pub struct Answer {
    pub response: Response,
    pub outcome: Outcome,
    /// The operation run (or that would have run): the request's `operationName`, else
    /// the name of the document's only operation; `None` for an anonymous one. For
    /// metrics and logs: the caller bounds and checks it.
    pub operation: Option<Name>,
}

impl Answer {
    /// A request error: the operation never ran.
    pub fn refused(error: ServerError, operation: Option<Name>) -> Self {
        Self {
            response: Response::from_errors(vec![error]),
            outcome: Outcome::Refused,
            operation,
        }
    }

    /// The code of the first error, if any: what the operation's metrics count it as.
    pub fn code(&self) -> Option<Code> {
        self.response.errors.first().and_then(Code::of)
    }
}

/// The answer budget a request carries in its data, if any.
fn answer_budget(request: &Request) -> Option<Arc<AnswerBudget>> {
    request
        .data
        .get(&TypeId::of::<Arc<AnswerBudget>>())
        .and_then(|budget| budget.downcast_ref::<Arc<AnswerBudget>>())
        .cloned()
}

/// Each error of a refused document once, in the order first raised. async-graphql's full
/// validation walks the document twice (its rules, then complexity and depth) into one
/// error list, and the walk itself reports an operation whose root the schema lacks:
/// `mutation { x }` would be told "Schema is not configured for mutations." once per walk.
/// A refused document's errors have no path, so an error is its message and locations.
fn distinct(errors: &mut Vec<ServerError>) {
    let mut seen = std::collections::HashSet::with_capacity(errors.len());
    let first: Vec<bool> = errors
        .iter()
        .map(|e| seen.insert((e.message.as_str(), e.locations.as_slice())))
        .collect();
    let mut first = first.into_iter();
    errors.retain(|_| first.next().unwrap_or(true));
}

/// Runs GraphQL requests for one query root (see the module documentation).
pub struct Executor<Q: ObjectType + 'static> {
    strict: QuerySchema<Q>,
    fast: QuerySchema<Q>,
    documents: Documents,
    types: FieldTypes,
    scalars: ScalarCheck,
    /// `__schema` and `__type` answer.
    introspection: bool,
    /// What the schema's fields weigh, for the answer's budget ([`budget`]).
    cost: Box<dyn CostModel>,
}

impl<Q: ObjectType + 'static> Executor<Q> {
    /// An executor of the schemas `builder` makes (it is called twice: one schema runs
    /// full validation, one the fast mode), checking custom scalars with `scalars`. The
    /// error when the schema has something the executor does not handle, or its SDL does
    /// not read.
    pub fn new(
        builder: impl Fn() -> SchemaBuilder<Q, EmptyMutation, EmptySubscription>,
        scalars: ScalarCheck,
        max_aliases: usize,
        introspection: bool,
        cost: Box<dyn CostModel>,
    ) -> Result<Self, String> {
        let builder = || match introspection {
            true => builder(),
            // Also set, so that nothing slips past the refusal in `introspection.rs`; and no
            // "Did you mean ...?" in validation errors, which would tell the schema bit by bit.
            false => builder().disable_introspection().disable_suggestions(),
        };
        let strict = builder().finish();
        Ok(Self {
            types: FieldTypes::from_sdl(&strict.sdl())?,
            fast: builder().validation_mode(ValidationMode::Fast).finish(),
            strict,
            documents: Documents::new(max_aliases),
            scalars,
            introspection,
            cost,
        })
    }

    /// Runs one operation; the request carries what resolvers need in its data.
    pub async fn execute(&self, mut request: Request) -> Answer {
        let asked = request.operation_name.as_deref().map(Name::new);
        let prepared = match self.documents.prepare(&mut request, |document| {
            values::check_arguments(&self.types, self.scalars, document)?;
            merge::root_fields(document, &self.types.query_type, &self.types);
            Ok(())
        }) {
            Ok(prepared) => prepared,
            Err(error) => return Answer::refused(*error, asked),
        };
        let document = &prepared.document;
        let operation = asked.or_else(|| match &document.operations {
            DocumentOperations::Multiple(operations) if operations.len() == 1 => {
                operations.keys().next().cloned()
            }
            _ => None,
        });
        if !self.introspection {
            if let Some(pos) = introspection::selected(document, &self.types) {
                let message = "introspection (`__schema`, `__type`) is disabled on this server";
                let refused = Code::GraphqlValidationFailed.server_error(message, Some(pos));
                return Answer::refused(refused, operation);
            }
        }
        let definition = documents::find_operation(document, request.operation_name.as_deref());
        if let Some(definition) = definition {
            let checked =
                values::check_variables(&self.types, self.scalars, definition, &request.variables);
            if let Err(error) = checked {
                return Answer::refused(*error, operation);
            }
        }
        // An answer that would pass the request's budget costs nothing: it is refused here.
        let budget = answer_budget(&request);
        let mut reserved = 0;
        if let (Some(budget), Some(definition)) = (&budget, definition) {
            let estimate = budget::estimate(
                &self.types,
                &*self.cost,
                &document.fragments,
                &self.types.query_type,
                &definition.selection_set.node,
                &request.variables,
            );
            if let Err(total) = budget.reserve(estimate) {
                let message = format!(
                    "this answer could weigh about {total} bytes, more than the {} one request \
                     may (--max-response-bytes): ask for smaller pages, fewer fields or fewer \
                     operations at once",
                    budget.max()
                );
                let refused = Code::ResponseTooLarge.server_error(message, None);
                return Answer::refused(refused, operation);
            }
            reserved = estimate;
        }
        let validated = prepared.is_validated();
        let schema = if validated { &self.fast } else { &self.strict };
        let mut response = schema.execute(request).await;
        // async-graphql answers a document it refuses (validation, limits, an operation
        // that is not there) with errors, no data, and no error raised at a field: every
        // error of an execution that began belongs to a field, and has its path.
        let outcome = if !response.errors.is_empty()
            && response.data == Value::Null
            && response.errors.iter().all(|e| e.path.is_empty())
        {
            Outcome::Refused
        } else {
            Outcome::Ran
        };
        if outcome == Outcome::Refused {
            if let Some(budget) = &budget {
                budget.release(reserved);
            }
            distinct(&mut response.errors);
        }
        if outcome == Outcome::Ran && budget.is_some_and(|b| b.exceeded()) {
            // Stopped while it was built: no half answer.
            let message = "the answer passed the bytes one request may have \
                           (--max-response-bytes) while it was built, and was stopped: ask for \
                           smaller pages or fewer fields";
            response =
                Response::from_errors(vec![Code::ResponseTooLarge.server_error(message, None)]);
            return Answer {
                response,
                outcome: Outcome::Ran,
                operation,
            };
        }
        if outcome == Outcome::Ran {
            if !validated {
                prepared.mark_validated();
            }
            if let Some(definition) = definition {
                nulls::root(&mut response, document, definition, &self.types);
            }
        }
        // What is still without a code is async-graphql's own: refusing the document
        // before execution, or coercing an argument value during it (`ctx.param_value`,
        // which our checks before execution leave little to find).
        let theirs = match outcome {
            Outcome::Refused => Code::GraphqlValidationFailed,
            Outcome::Ran => Code::BadUserInput,
        };
        for error in &mut response.errors {
            if Code::of(error).is_none() {
                theirs.stamp(error);
            }
        }
        Answer {
            response,
            outcome,
            operation,
        }
    }
}
