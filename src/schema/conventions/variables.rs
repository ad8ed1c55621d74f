//! Variables: checked against the types the operation declares, by the spec's input
//! coercion rules, before anything executes.
//!
//! The one thing to know: scalars are checked by the very parsing arguments go through
//! ([`check_scalar`]), so a variable that passes here never fails as an argument.

use async_graphql::{
    parser::types::{BaseType, OperationDefinition, Type},
    ServerError, Value, Variables,
};

use super::{codes::with_code, FieldTypes};
use crate::schema::{scalars::check_scalar, Code};

/// The error of the first variable of `operation` that is missing or cannot take its
/// value (see [`super::Conventions::check_variables`]).
pub(super) fn check_variables(
    types: &FieldTypes,
    operation: &OperationDefinition,
    variables: &Variables,
) -> Result<(), Box<ServerError>> {
    for definition in &operation.variable_definitions {
        let (name, ty) = (&definition.node.name.node, &definition.node.var_type.node);
        let message = match variables.get(name) {
            None if ty.nullable || definition.node.default_value.is_some() => continue,
            None => format!(r#"Variable "${name}" of required type "{ty}" was not provided."#),
            Some(value) => match types.coerce(ty, value) {
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

impl FieldTypes {
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
            return check_scalar(name, value).unwrap_or(Ok(()));
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
}
