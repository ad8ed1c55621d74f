//! `extensions.code` on every error.
//!
//! The one thing to know: errors our code raises carry their code from where they are
//! raised; what is left without one came from async-graphql.

use async_graphql::{ErrorExtensionValues, Response, ServerError};

use crate::schema::Code;

/// Fills in the code of an error that has none: a value async-graphql could not coerce is
/// the caller's mistake, so is anything validation found (no path), the rest is ours.
pub(super) fn complete_codes(response: &mut Response) {
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

pub(super) fn with_code(mut e: ServerError, code: Code) -> ServerError {
    e.extensions
        .get_or_insert_with(ErrorExtensionValues::default)
        .set("code", code.as_str());
    e
}
