//! `extensions.code` on the errors async-graphql raises itself.
//!
//! The one thing to know: codes are given where errors are raised, not guessed from their
//! text afterwards. Every error our code raises carries its code from the start: resolvers
//! fail with a `FieldError`, which cannot be made without one (`schema::error`), and the
//! refusals before execution (parse failures, limits, variable and argument values) are
//! made with theirs. So an error still without a code after execution is async-graphql's,
//! and where it was raised says what it is:
//!
//! - **no path**: raised before execution, about the request as a whole. Documents are
//!   parsed here, and argument values checked here, so what async-graphql finds at that
//!   stage is the document's own mistake (an unknown field or type, a variable declared
//!   but unused or used where its type does not fit, a fragment cycle, a limit) or an
//!   operation name that names nothing: `GRAPHQL_VALIDATION_FAILED`.
//! - **a path**: raised while resolving that field, and not by our resolver (ours carry
//!   codes). The only error async-graphql raises there itself is the coercion of an
//!   argument value (`ctx.param_value`: a value the argument's type cannot take), which is
//!   what the caller sent: `BAD_USER_INPUT`. Our checks before execution leave little for
//!   it to find; the rule keeps the code right if something slips through.
//!
//! If one of our own errors ever lost its code it would be mislabelled here, not
//! reported: the tests of `schema` run every error site we have through async-graphql
//! without the conventions and check each code is there before this runs.

use async_graphql::{ErrorExtensionValues, Response};

use crate::schema::Code;

/// Fills in the code of every error that has none, by the rule above.
pub(super) fn complete_codes(response: &mut Response) {
    for e in &mut response.errors {
        let extensions = e
            .extensions
            .get_or_insert_with(ErrorExtensionValues::default);
        if extensions.get("code").is_none() {
            let code = if e.path.is_empty() {
                Code::GraphqlValidationFailed
            } else {
                Code::BadUserInput
            };
            extensions.set("code", code.as_str());
        }
    }
}
