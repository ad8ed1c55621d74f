//! Documents: parsed once per distinct query text, and refused before anything walks them
//! when their fragments expand too far or they alias too much.
//!
//! The one thing to know: a cached [`Prepared`] document is shared by every request that
//! sends the same text, and remembers whether full validation has accepted it.

use std::sync::{
    atomic::{AtomicBool, Ordering},
    Arc,
};

use async_graphql::{
    parser::{
        parse_query,
        types::{DocumentOperations, ExecutableDocument, OperationDefinition},
    },
    Request, ServerError,
};

use super::walk;
use crate::code::Code;

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

/// The document cache and the limits checked when a document enters it.
pub(super) struct Documents {
    cache: quick_cache::sync::Cache<Arc<str>, Arc<Prepared>>,
    max_aliases: usize,
}

impl Documents {
    pub(super) fn new(max_aliases: usize) -> Self {
        Self {
            cache: quick_cache::sync::Cache::new(CACHED_QUERIES),
            max_aliases,
        }
    }

    /// Parses the request's query (or finds it parsed), checks the limits and then `check`
    /// on a newly parsed document (which it may also rewrite before the document is kept),
    /// and hands the document to the request so that
    /// async-graphql does not parse it again. The error when the query does not parse,
    /// breaks a limit or fails `check`; such a document is not kept.
    pub(super) fn prepare(
        &self,
        request: &mut Request,
        check: impl FnOnce(&mut ExecutableDocument) -> Result<(), Box<ServerError>>,
    ) -> Result<Arc<Prepared>, Box<ServerError>> {
        let document = match self.cache.get(request.query.as_str()) {
            Some(document) => document,
            None => {
                let mut document = parse_query(&request.query).map_err(|e| {
                    let mut error = ServerError::from(e);
                    Code::GraphqlParseFailed.stamp(&mut error);
                    Box::new(error)
                })?;
                self.check_limits(&document).map_err(|message| {
                    Box::new(Code::GraphqlValidationFailed.server_error(message, None))
                })?;
                check(&mut document)?;
                let prepared = Arc::new(Prepared {
                    document,
                    validated: AtomicBool::new(false),
                });
                if request.query.len() <= CACHEABLE_QUERY_BYTES {
                    self.cache
                        .insert(request.query.as_str().into(), prepared.clone());
                }
                prepared
            }
        };
        request.set_parsed_query(document.document.clone());
        Ok(document)
    }

    /// Why `document` is refused before anything walks it: its fragments expand too far
    /// or spread themselves, or it aliases too much (counted with fragments expanded, so
    /// that one aliased fragment spread many times counts every time).
    fn check_limits(&self, document: &ExecutableDocument) -> Result<(), String> {
        let measured =
            walk::measure(document).map_err(|name| format!("fragment `{name}` spreads itself"))?;
        if measured.fields > MAX_EXPANDED_FIELDS {
            return Err(format!(
                "the query selects {} fields once its fragments are expanded, more than the {MAX_EXPANDED_FIELDS} allowed",
                measured.fields
            ));
        }
        if measured.aliases > self.max_aliases {
            return Err(format!(
                "the query has {} aliased fields, more than the {} allowed",
                measured.aliases, self.max_aliases
            ));
        }
        Ok(())
    }
}

/// The operation a request runs, as async-graphql picks it: the named one, or the only one.
/// `None` when there is no such operation; execution reports that.
pub(super) fn find_operation<'d>(
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
