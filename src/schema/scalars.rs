//! The schema's own scalars, and the check that variables go through the same parsing as
//! arguments.
//!
//! The one thing to know: `DateTime` prints UTC with milliseconds and a `Z`
//! (`2020-01-01T14:06:44.756Z`), as ComplyCube does; async-graphql's chrono scalar would
//! print `+00:00`. `Date` is a calendar day (`1990-04-21`, RFC 3339's full-date), for the
//! days ComplyCube sends as `YYYY-MM-DD` strings; one that is no such day is a field
//! error ([`Date::from_upstream`]), never passed on as something else.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::{DateTime as ChronoDateTime, NaiveDate, Utc};

use super::error::{error, FieldResult};
use crate::{code::Code, upstream};

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
        "Date" => parse::<Date>(value),
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

/// A calendar day, `YYYY-MM-DD` (RFC 3339's full-date).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Date(pub NaiveDate);

impl Date {
    /// A day as ComplyCube sends it, or why it is none: exactly `YYYY-MM-DD`, a real day.
    pub fn from_upstream(text: &str) -> Result<Self, String> {
        let well_formed = text.len() == 10
            && text.bytes().enumerate().all(|(i, b)| match i {
                4 | 7 => b == b'-',
                _ => b.is_ascii_digit(),
            });
        match well_formed {
            true => NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map(Self)
                .map_err(|_| format!("`{text}` is not a day of the calendar")),
            false => Err(format!("`{text}` is not a date such as 1990-04-21")),
        }
    }
}

/// A calendar day, as an RFC 3339 full-date: `1990-04-21`.
#[Scalar(
    name = "Date",
    specified_by_url = "https://datatracker.ietf.org/doc/html/rfc3339#section-5.6"
)]
impl ScalarType for Date {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => Self::from_upstream(s).map_err(InputValueError::custom),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn is_valid(value: &Value) -> bool {
        matches!(value, Value::String(s) if Self::from_upstream(s).is_ok())
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.format("%Y-%m-%d").to_string())
    }
}

/// A day ComplyCube sent, as a `Date`; one that is no day is ComplyCube's error.
pub(super) fn upstream_day(text: Option<&str>) -> FieldResult<Option<Date>> {
    text.map(|t| {
        Date::from_upstream(t).map_err(|why| {
            error(
                Code::UpstreamError,
                format!("ComplyCube sent a date that is not one: {why}"),
            )
        })
    })
    .transpose()
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
    fn days_are_read_strictly_and_printed_as_read() {
        for good in ["1990-04-21", "2000-02-29", "0001-01-01"] {
            let day = Date::from_upstream(good).unwrap();
            assert_eq!(day.to_value(), Value::String(good.into()));
        }
        for bad in [
            "1990-4-21",
            "1990-04-21T00:00:00Z",
            "2001-02-29",
            "1990-13-01",
            "21/04/1990",
            "",
            "+1990-04-2",
        ] {
            assert!(Date::from_upstream(bad).is_err(), "{bad}");
            assert!(Date::parse(Value::String(bad.into())).is_err(), "{bad}");
        }
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
