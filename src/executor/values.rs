//! The values a caller sends: variables, checked against the types the operation
//! declares before anything executes, and the values a document writes for arguments,
//! checked once when the document is first parsed. Both are `BAD_USER_INPUT`, raised here.
//!
//! The one thing to know: scalars are checked by the very parsing arguments go through
//! (the executor's [`ScalarCheck`]), so a value that passes here never fails as an argument. (Validation
//! would refuse a bad literal too, but as one of its own errors, which carry no code and
//! cannot be told apart from the document's mistakes but by their text.)

use std::convert::Infallible;

use async_graphql::{
    parser::{
        types::{BaseType, Directive, ExecutableDocument, Field, OperationDefinition, Type},
        Positioned,
    },
    registry::MetaTypeName,
    Name, ServerError, Value, Variables,
};

use super::{
    types::{FieldTypes, InputField},
    walk::{self, Written},
    ScalarCheck,
};
use crate::code::Code;

/// The error of the first argument, anywhere in `document`, whose value as written cannot
/// be an input of the argument's type. Variables in those values are left to
/// [`check_variables`] (their values) and validation (where they may be used).
pub(super) fn check_arguments(
    types: &FieldTypes,
    scalars: ScalarCheck,
    document: &ExecutableDocument,
) -> Result<(), Box<ServerError>> {
    let child_type =
        |parent: &str, field: &str| types.of(parent, field).map(MetaTypeName::concrete_typename);
    let mut literals = Literals { types, scalars };
    walk::written(document, &types.query_type, &child_type, &mut literals)
}

/// Checks the literal values of arguments and directive arguments, as a pass of
/// [`walk::written`].
struct Literals<'t> {
    types: &'t FieldTypes,
    scalars: ScalarCheck,
}

impl<'d> Written<'d> for Literals<'_> {
    type Error = Box<ServerError>;

    fn field(&mut self, parent: Option<&str>, field: &'d Field) -> Result<(), Self::Error> {
        let name = field.name.node.as_str();
        if let Some(definitions) = parent.and_then(|p| self.types.arguments(p, name)) {
            for (name, value) in &field.arguments {
                let Ok(value) = value.node.clone().into_const_with(mark_variable);
                self.argument(definitions, name, &value)?;
            }
        }
        Ok(())
    }

    fn directives(&mut self, directives: &'d [Positioned<Directive>]) -> Result<(), Self::Error> {
        for directive in directives {
            if let Some(definitions) = self.types.directive(&directive.node.name.node) {
                for (name, value) in &directive.node.arguments {
                    let Ok(value) = value.node.clone().into_const_with(mark_variable);
                    self.argument(definitions, name, &value)?;
                }
            }
        }
        Ok(())
    }
}

impl Literals<'_> {
    /// Checks the value given to an argument, if the argument is known (unknown ones are
    /// validation's).
    fn argument(
        &self,
        definitions: &[InputField],
        name: &Positioned<Name>,
        value: &Value,
    ) -> Result<(), Box<ServerError>> {
        let Some(definition) = definitions.iter().find(|d| d.name == name.node.as_str()) else {
            return Ok(());
        };
        coerce(self.types, self.scalars, &definition.ty, value).map_err(|reason| {
            Box::new(Code::BadUserInput.server_error(
                format!(r#"Invalid value for argument "{}": {reason}"#, name.node),
                Some(name.pos),
            ))
        })
    }
}

/// A variable in a literal, as [`FieldTypes::coerce`] sees it: an enum value named
/// `$name`, which no document and no JSON variable can make (names cannot start with `$`,
/// and JSON has no enums).
fn mark_variable(name: Name) -> Result<Value, Infallible> {
    Ok(Value::Enum(Name::new(format!("${name}"))))
}

fn is_variable(value: &Value) -> bool {
    matches!(value, Value::Enum(name) if name.starts_with('$'))
}

/// The error of the first variable of `operation` that is missing or cannot take its
/// value (see [`super::Conventions::check_variables`]).
pub(super) fn check_variables(
    types: &FieldTypes,
    scalars: ScalarCheck,
    operation: &OperationDefinition,
    variables: &Variables,
) -> Result<(), Box<ServerError>> {
    for definition in &operation.variable_definitions {
        let (name, ty) = (&definition.node.name.node, &definition.node.var_type.node);
        let message = match variables.get(name) {
            None if ty.nullable || definition.node.default_value.is_some() => continue,
            None => format!(r#"Variable "${name}" of required type "{ty}" was not provided."#),
            Some(value) => match coerce(types, scalars, ty, value) {
                Ok(()) => continue,
                Err(reason) => format!(r#"Variable "${name}" got an invalid value: {reason}"#),
            },
        };
        return Err(Box::new(
            Code::BadUserInput.server_error(message, Some(definition.pos)),
        ));
    }
    Ok(())
}

/// Why `value` cannot be an input of type `ty`, by the spec's input coercion rules. Names
/// this schema does not define pass: validation reports those.
fn coerce(
    types: &FieldTypes,
    scalars: ScalarCheck,
    ty: &Type,
    value: &Value,
) -> Result<(), String> {
    {
        if is_variable(value) {
            return Ok(());
        }
        if *value == Value::Null {
            return match ty.nullable {
                true => Ok(()),
                false => Err(format!("null where {ty} must not be null")),
            };
        }
        let name = match &ty.base {
            BaseType::List(item) => {
                return match value {
                    Value::List(items) => items
                        .iter()
                        .try_for_each(|v| coerce(types, scalars, item, v)),
                    // A single value is a list of one.
                    single => coerce(types, scalars, item, single),
                };
            }
            BaseType::Named(name) => name.as_str(),
        };
        let Some(fields) = types.inputs.get(name) else {
            return scalars(name, value).unwrap_or(Ok(()));
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
                Some(v) => coerce(types, scalars, &field.ty, v)
                    .map_err(|e| format!("in `{}`: {e}", field.name))?,
                None if field.ty.nullable || field.has_default => {}
                None => return Err(format!("{name} needs its field `{}`", field.name)),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_query;

    use super::*;

    /// The parts of the service's schema these checks meet (the executor's tests never
    /// read the service's own schema: it lives a floor above).
    const SDL: &str = r#"
        scalar DateTime
        type Query { client(id: ID!): Client }
        type Client { id: ID! livePhotos(first: Int, after: String, last: Int, before: String,
                                          filter: LivePhotoFilter): Connection! }
        type Connection { totalCount: Int! }
        input LivePhotoFilter { createdAfter: DateTime createdBefore: DateTime
                                updatedAfter: DateTime updatedBefore: DateTime }
        directive @include(if: Boolean!) on FIELD | FRAGMENT_SPREAD | INLINE_FRAGMENT
        directive @skip(if: Boolean!) on FIELD | FRAGMENT_SPREAD | INLINE_FRAGMENT
    "#;

    /// Built-in scalars as async-graphql parses them; `DateTime` as RFC 3339.
    pub(crate) fn scalars(name: &str, value: &Value) -> Option<Result<(), String>> {
        Some(match (name, value) {
            ("DateTime", Value::String(s)) => chrono::DateTime::parse_from_rfc3339(s)
                .map(drop)
                .map_err(|e| e.to_string()),
            ("DateTime", _) => Err("not a string".into()),
            _ => return super::super::builtin_scalar(name, value),
        })
    }

    fn check(query: &str) -> Result<(), String> {
        let types = FieldTypes::from_sdl(SDL).unwrap();
        let document = parse_query(query).unwrap();
        check_arguments(&types, scalars, &document).map_err(|e| {
            let code = e.extensions.as_ref().and_then(|x| x.get("code")).cloned();
            assert_eq!(code, Some(Value::from("BAD_USER_INPUT")), "{query}");
            e.message
        })
    }

    #[test]
    fn literal_values_an_argument_cannot_take_are_bad_user_input() {
        for (query, named) in [
            (
                r#"{ client(id: "c") { livePhotos(filter: { createdAfter: "last tuesday" }) { totalCount } } }"#,
                "filter",
            ),
            (
                r#"{ client(id: "c") { livePhotos(first: 99999999999) { totalCount } } }"#,
                "first",
            ),
            (
                r#"{ client(id: "c") { livePhotos(first: 1.5) { totalCount } } }"#,
                "first",
            ),
            (
                r#"{ client(id: "c") { livePhotos(filter: { nope: 1 }) { totalCount } } }"#,
                "nope",
            ),
            (r#"{ client(id: true) { id } }"#, "id"),
            (r#"{ client(id: null) { id } }"#, "id"),
            // Directives, introspection, fragments (inline and named), other operations.
            (r#"{ __typename @include(if: "yes") }"#, "if"),
            (r#"{ __type(name: 5) { name } }"#, "name"),
            (
                r#"{ __schema { types { fields(includeDeprecated: "x") { name } } } }"#,
                "includeDeprecated",
            ),
            (r#"{ ... on Query { client(id: []) { id } } }"#, "id"),
            (
                r#"query A { __typename } query B { client(id: 1.5) { id } }"#,
                "id",
            ),
            (
                r#"{ ...F } fragment F on Client { livePhotos(last: "x") { totalCount } }"#,
                "last",
            ),
            // A variable inside a literal does not excuse the rest of it.
            (
                r#"query($d: DateTime) { client(id: "c") { livePhotos(filter: { createdAfter: $d, x: 1 }) { totalCount } } }"#,
                "x",
            ),
        ] {
            let message = check(query).expect_err(query);
            assert!(message.contains(named), "{query}: {message}");
        }
    }

    #[test]
    fn variables_unknown_names_and_good_values_are_left_alone() {
        for query in [
            r#"query($n: Int, $d: DateTime) { client(id: "c") { livePhotos(first: $n, filter: { createdAfter: $d }) { totalCount } } }"#,
            r#"{ client(id: $undeclared) { id } }"#,
            r#"{ client(id: 5) { livePhotos(first: 3, after: "x", filter: { createdAfter: "2020-01-01T00:00:00Z" }) { totalCount } } }"#,
            r#"{ nope(a: "b") { id } client(id: "c") { nope(first: "x") } }"#,
            r#"{ __typename @skip(if: false) @unknown(if: 3) }"#,
            r#"{ ...F } fragment F on Nope { id(x: 1) }"#,
        ] {
            assert_eq!(check(query), Ok(()), "{query}");
        }
    }
}
