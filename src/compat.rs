//! The compatibility check behind `complycube-graphql schema diff`: every change between two
//! schemas, each classed as graphql-inspector classes them (`breaking`, `dangerous`,
//! `safe`), so that a release never breaks a client by accident.
//!
//! The one thing to know: the changes come from the `graphql-schema-diff` crate, which
//! says *what* changed; the class is decided here, from the kind of change and, where it
//! depends on it, the types on both sides: a field's type may become stricter (an output
//! keeps its promise) but an argument's or input field's may only become looser.

use std::{collections::HashMap, fmt};

use async_graphql::parser::{
    parse_schema,
    types::{BaseType, Type, TypeKind, TypeSystemDefinition},
};
use graphql_schema_diff::{ChangeKind, Span};

/// How a change affects the clients of the old schema.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Class {
    /// Clients keep working.
    Safe,
    /// Clients keep working, but may see what they did not expect (a new enum value, a
    /// new optional argument whose absence now means something).
    Dangerous,
    /// Some client's query or code stops working.
    Breaking,
}

impl Class {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Safe => "safe",
            Self::Dangerous => "dangerous",
            Self::Breaking => "breaking",
        }
    }
}

/// One change, classed and said.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub class: Class,
    /// Where: `Type`, `Type.field` or `Type.field.argument`.
    pub path: String,
    /// What happened, for people.
    pub what: String,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:<9}  {}: {}",
            self.class.as_str(),
            self.path,
            self.what
        )
    }
}

/// Every change from `old` to `new`, classed, most severe first; the error when either
/// SDL does not parse.
pub fn diff(old: &str, new: &str) -> Result<Vec<Change>, String> {
    let changes =
        graphql_schema_diff::diff(old, new).map_err(|e| format!("the SDL does not parse: {e}"))?;
    let (before, after) = (Schema::read(old)?, Schema::read(new)?);
    let text = |sdl: &'_ str, span: Span| {
        sdl.get(span.start..span.end)
            .unwrap_or("")
            .trim()
            .to_owned()
    };
    let mut classed: Vec<Change> = changes
        .iter()
        .map(|change| {
            let path = change.path.clone();
            let old_text = change.source_span.map(|s| text(old, s)).unwrap_or_default();
            let new_text = text(new, change.span);
            let (class, mut what) =
                classify(change.kind, &path, &old_text, &new_text, &before, &after);
            // The crate writes an implementation as `Type.&Interface`.
            let path = match path.split_once(".&") {
                Some((ty, interface)) => {
                    what = format!("{what} ({interface})");
                    ty.to_owned()
                }
                None => path,
            };
            Change { class, path, what }
        })
        .collect();
    classed.sort_by(|a, b| b.class.cmp(&a.class).then_with(|| a.path.cmp(&b.path)));
    Ok(classed)
}

fn classify(
    kind: ChangeKind,
    path: &str,
    old: &str,
    new: &str,
    before: &Schema,
    after: &Schema,
) -> (Class, String) {
    use ChangeKind::*;
    use Class::*;
    let owner = path.split('.').next().unwrap_or(path);
    let is_input = |schema: &Schema| schema.inputs.contains(owner);
    match kind {
        ChangeQueryType | ChangeMutationType | ChangeSubscriptionType => {
            (Breaking, format!("root type changed to `{new}`"))
        }
        RemoveObjectType | RemoveUnion | RemoveEnum | RemoveScalar | RemoveInterface
        | RemoveInputObject => (Breaking, "type removed".into()),
        AddObjectType | AddUnion | AddEnum | AddScalar | AddInterface | AddInputObject => {
            (Safe, "type added".into())
        }
        RemoveDirectiveDefinition => (Breaking, "directive removed".into()),
        AddDirectiveDefinition => (Safe, "directive added".into()),
        RemoveSchemaDefinition | RemoveSchemaExtension => {
            (Breaking, "schema definition removed".into())
        }
        AddSchemaDefinition | AddSchemaExtension => (Safe, "schema definition added".into()),
        AddInterfaceImplementation => (
            Dangerous,
            "now implements an interface: fragments on it may now apply".into(),
        ),
        RemoveInterfaceImplementation => (Breaking, "no longer implements an interface".into()),
        RemoveField if is_input(before) => (Breaking, "input field removed".into()),
        RemoveField => (Breaking, "field removed".into()),
        AddField if is_input(after) => match after.required(path) {
            true => (
                Breaking,
                "required input field added: values written without it fail".into(),
            ),
            false => (Dangerous, "optional input field added".into()),
        },
        AddField => (Safe, "field added".into()),
        ChangeFieldType => {
            let (safe, direction) = match is_input(after) {
                true => (looser(old, new), "input field"),
                false => (stricter(old, new), "field"),
            };
            let what = format!("{direction} type changed from `{old}` to `{new}`");
            (if safe { Safe } else { Breaking }, what)
        }
        AddUnionMember => (Dangerous, "type added to the union".into()),
        RemoveUnionMember => (Breaking, "type removed from the union".into()),
        AddEnumValue => (Dangerous, "enum value added".into()),
        RemoveEnumValue => (Breaking, "enum value removed".into()),
        AddFieldArgument => match after.required(path) {
            true => (
                Breaking,
                "required argument added: queries written without it fail".into(),
            ),
            false => (Dangerous, "optional argument added".into()),
        },
        RemoveFieldArgument => (Breaking, "argument removed".into()),
        ChangeFieldArgumentType => {
            let what = format!("argument type changed from `{old}` to `{new}`");
            (if looser(old, new) { Safe } else { Breaking }, what)
        }
        AddFieldArgumentDefault | RemoveFieldArgumentDefault | ChangeFieldArgumentDefault => (
            Dangerous,
            format!("default value changed (`{old}` to `{new}`)"),
        ),
        AddDirective => (Safe, format!("directive `{new}` applied")),
        RemoveDirective => (Safe, format!("directive `{old}` no longer applied")),
        ChangeDescription => (Safe, "description changed".into()),
    }
}

/// Whether an output type may change from `old` to `new` without breaking a client: the
/// same type, with `!` added where there was none (a value promised never to be null is
/// still a value of the old type).
fn stricter(old: &str, new: &str) -> bool {
    match (Type::new(old), Type::new(new)) {
        (Some(old), Some(new)) => covariant(&old, &new),
        _ => false,
    }
}

fn covariant(old: &Type, new: &Type) -> bool {
    if !old.nullable && new.nullable {
        return false; // a promise of a value withdrawn
    }
    match (&old.base, &new.base) {
        (BaseType::Named(a), BaseType::Named(b)) => a == b,
        (BaseType::List(a), BaseType::List(b)) => covariant(a, b),
        _ => false,
    }
}

/// Whether an input type may change from `old` to `new` without breaking a client: the
/// same type, with `!` removed where there was one (what was given still fits).
fn looser(old: &str, new: &str) -> bool {
    stricter(new, old)
}

/// What the classes need of a schema beyond the change itself.
struct Schema {
    /// Input object names.
    inputs: std::collections::HashSet<String>,
    /// `Type.field` and `Type.field.argument` -> whether a value must be given for it
    /// (non-null, no default).
    required: HashMap<String, bool>,
}

impl Schema {
    fn read(sdl: &str) -> Result<Self, String> {
        let document = parse_schema(sdl).map_err(|e| format!("the SDL does not parse: {e}"))?;
        let mut schema = Self {
            inputs: Default::default(),
            required: HashMap::new(),
        };
        for definition in document.definitions {
            let TypeSystemDefinition::Type(ty) = definition else {
                continue;
            };
            let name = ty.node.name.node.to_string();
            let mut note = |path: String, ty: &Type, default: bool| {
                schema.required.insert(path, !ty.nullable && !default);
            };
            match &ty.node.kind {
                TypeKind::InputObject(input) => {
                    for field in &input.fields {
                        let field = &field.node;
                        let path = format!("{name}.{}", field.name.node);
                        note(path, &field.ty.node, field.default_value.is_some());
                    }
                    schema.inputs.insert(name);
                }
                TypeKind::Object(object) => {
                    for field in &object.fields {
                        for arg in &field.node.arguments {
                            let arg = &arg.node;
                            let path = format!("{name}.{}.{}", field.node.name.node, arg.name.node);
                            note(path, &arg.ty.node, arg.default_value.is_some());
                        }
                    }
                }
                TypeKind::Interface(interface) => {
                    for field in &interface.fields {
                        for arg in &field.node.arguments {
                            let arg = &arg.node;
                            let path = format!("{name}.{}.{}", field.node.name.node, arg.name.node);
                            note(path, &arg.ty.node, arg.default_value.is_some());
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(schema)
    }

    fn required(&self, path: &str) -> bool {
        self.required.get(path).copied().unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"
        type Query { client(id: ID!): Client }
        type Client { id: ID! name: String! photos(first: Int): [Photo!]! }
        type Photo { id: ID! size: Int }
        input Filter { after: String }
        enum Kind { PERSON COMPANY }
    "#;

    fn classes(new: &str) -> Vec<(Class, String)> {
        diff(BASE, new)
            .unwrap()
            .into_iter()
            .filter(|c| c.what != "description changed")
            .map(|c| (c.class, c.path))
            .collect()
    }

    #[test]
    fn each_kind_of_change_gets_graphql_inspectors_class() {
        let with = |from: &str, to: &str| {
            assert!(BASE.contains(from), "{from}");
            BASE.replace(from, to)
        };
        // A removed field breaks the queries that select it.
        assert_eq!(
            classes(&with("name: String! ", "")),
            [(Class::Breaking, "Client.name".into())]
        );
        // A field made nullable breaks the clients that rely on its value.
        assert_eq!(
            classes(&with("name: String!", "name: String")),
            [(Class::Breaking, "Client.name".into())]
        );
        // ... and one made non-null keeps every promise.
        assert_eq!(
            classes(&with("size: Int", "size: Int!")),
            [(Class::Safe, "Photo.size".into())]
        );
        // An added argument with no default breaks the queries written without it...
        assert_eq!(
            classes(&with(
                "photos(first: Int)",
                "photos(first: Int, width: Int!)"
            )),
            [(Class::Breaking, "Client.photos.width".into())]
        );
        // ... an optional one is dangerous, a defaulted one too.
        assert_eq!(
            classes(&with(
                "photos(first: Int)",
                "photos(first: Int, width: Int)"
            )),
            [(Class::Dangerous, "Client.photos.width".into())]
        );
        assert_eq!(
            classes(&with(
                "photos(first: Int)",
                "photos(first: Int, w: Int! = 3)"
            )),
            [(Class::Dangerous, "Client.photos.w".into())]
        );
        // An added optional field is safe.
        assert_eq!(
            classes(&with("size: Int", "size: Int url: String")),
            [(Class::Safe, "Photo.url".into())]
        );
        // Arguments and inputs go the other way: looser is safe, stricter breaks.
        assert_eq!(
            classes(&with("photos(first: Int)", "photos(first: Int!)")),
            [(Class::Breaking, "Client.photos.first".into())]
        );
        assert_eq!(
            classes(&with("client(id: ID!)", "client(id: ID)")),
            [(Class::Safe, "Query.client.id".into())]
        );
        assert_eq!(
            classes(&with("after: String", "after: String before: String!")),
            [(Class::Breaking, "Filter.before".into())]
        );
        assert_eq!(
            classes(&with("COMPANY", "COMPANY TRUST")),
            [(Class::Dangerous, "Kind.TRUST".into())]
        );
        assert_eq!(
            classes(&with("type Photo", "type Unused { a: Int } type Photo")),
            [(Class::Safe, "Unused".into())]
        );
        // Lists: an item made non-null is safe, a list made nullable breaks.
        assert_eq!(
            classes(&with("[Photo!]!", "[Photo!]")),
            [(Class::Breaking, "Client.photos".into())]
        );
        assert!(classes(BASE).is_empty());
    }

    #[test]
    fn the_worst_comes_first_and_bad_sdl_is_an_error() {
        let changes = diff(BASE, &BASE.replace("name: String! ", "mail: String ")).unwrap();
        assert_eq!(changes[0].class, Class::Breaking);
        assert!(changes.iter().any(|c| c.class == Class::Safe));
        assert!(changes[0].to_string().starts_with("breaking"));
        assert!(diff(BASE, "type {").is_err());
    }
}
