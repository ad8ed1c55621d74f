//! The schema's own scalars, and the check that variables go through the same parsing as
//! arguments.
//!
//! The one thing to know: `DateTime` prints UTC with milliseconds and a `Z`
//! (`2020-01-01T14:06:44.756Z`), as ComplyCube does; async-graphql's chrono scalar would
//! print `+00:00`.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::{DateTime as ChronoDateTime, Utc};

use crate::upstream;

/// Whether `value` is an input the scalar `name` accepts, and why not; `None` when this
/// schema has no scalar of that name. The executor checks variables and literal arguments
/// with it, by the same parsing that arguments go through.
pub fn check_scalar(name: &str, value: &Value) -> Option<Result<(), String>> {
    fn parse<T: async_graphql::InputType>(value: &Value) -> Result<(), String> {
        T::parse(Some(value.clone()))
            .map(drop)
            .map_err(|e| e.into_server_error(Default::default()).message)
    }
    Some(match name {
        "DateTime" => parse::<DateTime>(value),
        _ => return crate::executor::builtin_scalar(name, value),
    })
}

/// An instant, as an RFC 3339 string in UTC with milliseconds:
/// `2020-01-01T14:06:44.756Z`. Input may carry any offset; it is converted to UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DateTime(pub ChronoDateTime<Utc>);

/// An instant, as an RFC 3339 string in UTC with milliseconds: `2020-01-01T14:06:44.756Z`.
/// Input may carry any offset and is converted to UTC.
#[Scalar(
    name = "DateTime",
    specified_by_url = "https://datatracker.ietf.org/doc/html/rfc3339"
)]
impl ScalarType for DateTime {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => ChronoDateTime::parse_from_rfc3339(s)
                .map(|t| Self(t.with_timezone(&Utc)))
                .map_err(|e| {
                    InputValueError::custom(format!(
                        "`{s}` is not an RFC 3339 date-time such as 2020-01-01T14:06:44.756Z ({e})"
                    ))
                }),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn is_valid(value: &Value) -> bool {
        matches!(value, Value::String(s) if ChronoDateTime::parse_from_rfc3339(s).is_ok())
    }

    fn to_value(&self) -> Value {
        Value::String(upstream::format_instant(&self.0))
    }
}

#[cfg(test)]
pub(super) fn dt(s: &str) -> Option<DateTime> {
    Some(DateTime(
        ChronoDateTime::parse_from_rfc3339(s)
            .unwrap()
            .with_timezone(&Utc),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `check_variables` knows every input type: the scalars through `check_scalar`, input
    /// objects from the SDL. A type it did not know would pass unchecked. Enums are output
    /// only (`ClientType`); one used as an input would need a case there.
    #[test]
    fn every_input_type_is_known_to_the_variable_check() {
        use async_graphql::parser::types::{TypeKind, TypeSystemDefinition};
        let sdl = async_graphql::parser::parse_schema(crate::schema::sdl()).unwrap();
        let mut scalars = vec!["Int", "Float", "String", "Boolean", "ID"]
            .into_iter()
            .map(String::from)
            .collect::<Vec<_>>();
        let mut enums = Vec::new();
        let mut inputs = Vec::new();
        for definition in sdl.definitions {
            if let TypeSystemDefinition::Type(ty) = definition {
                match &ty.node.kind {
                    TypeKind::Scalar => scalars.push(ty.node.name.node.to_string()),
                    TypeKind::Enum(_) => enums.push(ty.node.name.node.to_string()),
                    TypeKind::Object(object) => {
                        inputs.extend(object.fields.iter().flat_map(|f| {
                            f.node.arguments.iter().map(|a| a.node.ty.node.to_string())
                        }))
                    }
                    TypeKind::InputObject(input) => {
                        inputs.extend(input.fields.iter().map(|f| f.node.ty.node.to_string()))
                    }
                    _ => {}
                }
            }
        }
        for name in enums {
            let used = |ty: &String| ty.trim_matches(|c| "[]!".contains(c)) == name;
            assert!(
                !inputs.iter().any(used),
                "the enum {name} is an input: give it a case in check_variables"
            );
        }
        for scalar in scalars {
            assert!(check_scalar(&scalar, &Value::Null).is_some(), "{scalar}");
        }
    }

    #[test]
    fn datetimes_print_as_complycube_does() {
        let t = dt("2020-01-01T15:06:44.756+01:00").unwrap();
        assert_eq!(
            t.to_value(),
            Value::String("2020-01-01T14:06:44.756Z".into())
        );
        let t = dt("2020-01-01T14:06:44Z").unwrap();
        assert_eq!(
            t.to_value(),
            Value::String("2020-01-01T14:06:44.000Z".into())
        );
    }

    #[test]
    fn bad_dates_are_refused_with_the_expected_format() {
        let err = DateTime::parse(Value::String("yesterday".into())).unwrap_err();
        assert!(err
            .into_server_error(Default::default())
            .message
            .contains("RFC 3339"));
        assert!(!DateTime::is_valid(&Value::String("2020-13-01".into())));
    }
}
