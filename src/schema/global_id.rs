//! Global ids (Relay's Object Identification): graphql-relay's `toGlobalId`, standard base64
//! (with padding) of `Type:<ComplyCube id>`.
//!
//! The one thing to know: a global id is stable across versions, replicas and restarts and
//! holds no secret; inside the service everything works on ComplyCube ids. `client(id:)`
//! and `livePhoto(id:)` take either form ([`own_id`]).

use async_graphql::ID;
use base64::{engine::general_purpose::STANDARD, Engine};

use super::error::{error, FieldResult};
use crate::code::Code;

/// The types with global ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Client,
    LivePhoto,
}

impl Kind {
    pub(super) fn name(self) -> &'static str {
        match self {
            Self::Client => "Client",
            Self::LivePhoto => "LivePhoto",
        }
    }
}

/// The global id of the `kind` object whose ComplyCube id is `id`.
pub fn global_id(kind: Kind, id: &str) -> ID {
    // Every photo of a page has one: put together without the formatting machinery.
    let name = kind.name();
    let mut raw = Vec::with_capacity(name.len() + 1 + id.len());
    raw.extend_from_slice(name.as_bytes());
    raw.push(b':');
    raw.extend_from_slice(id.as_bytes());
    ID(STANDARD.encode(raw))
}

/// The kind and ComplyCube id a global id names, or `None` when `given` is not one.
pub(super) fn from_global_id(given: &str) -> Option<(Kind, String)> {
    let decoded = STANDARD.decode(given).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (kind, id) = text.split_once(':')?;
    let kind = match kind {
        "Client" => Kind::Client,
        "LivePhoto" => Kind::LivePhoto,
        _ => return None,
    };
    Some((kind, id.to_owned()))
}

/// The ComplyCube id an argument of `client(id:)` or `livePhoto(id:)` names: a global id
/// of `kind`, or a ComplyCube id as it is. A global id of another type is the caller's
/// mistake.
pub fn own_id(kind: Kind, given: &str) -> FieldResult<String> {
    match from_global_id(given) {
        None => Ok(given.to_owned()),
        Some((named, id)) if named == kind => Ok(id),
        Some((named, _)) => Err(error(
            Code::BadUserInput,
            format!(
                "`{given}` is the global id of a {}, not of a {}",
                named.name(),
                kind.name()
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn global_ids_are_graphql_relays_to_global_id() {
        // toGlobalId('Client', '5eb1276d96be4a0008713af5') in graphql-relay-js.
        assert_eq!(
            global_id(Kind::Client, "5eb1276d96be4a0008713af5").0,
            "Q2xpZW50OjVlYjEyNzZkOTZiZTRhMDAwODcxM2FmNQ=="
        );
        let photo = global_id(Kind::LivePhoto, "5eb1b5f231778a0008d1c3f6");
        assert_eq!(
            from_global_id(&photo),
            Some((Kind::LivePhoto, "5eb1b5f231778a0008d1c3f6".to_owned()))
        );
        for not_one in [
            "5eb1276d96be4a0008713af5",
            "",
            "Q2xpZW50",
            "!!",
            "T3RoZXI6eA==",
        ] {
            assert_eq!(from_global_id(not_one), None, "{not_one}");
        }
    }

    #[test]
    fn own_ids_take_either_form_but_not_another_types_global_id() {
        let raw = "5eb1276d96be4a0008713af5";
        assert_eq!(own_id(Kind::Client, raw).unwrap(), raw);
        let global = global_id(Kind::Client, raw);
        assert_eq!(own_id(Kind::Client, &global).unwrap(), raw);
        let other = global_id(Kind::LivePhoto, raw);
        assert!(own_id(Kind::Client, &other).is_err());
    }
}
