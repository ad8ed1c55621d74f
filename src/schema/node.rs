//! Relay's Global Object Identification: global ids, the `Node` interface, and what
//! `node(id:)` and `nodes(ids:)` answer.
//!
//! The one thing to know: a global id is graphql-relay's `toGlobalId`, standard base64 (with
//! padding) of `Type:<ComplyCube id>`, so it is stable across versions, replicas and
//! restarts and holds no secret; inside the service everything works on ComplyCube ids.
//! `client(id:)` and `livePhoto(id:)` take either form ([`own_id`]); `node` and `nodes`
//! take global ids only, since a bare ComplyCube id does not say what it names.

use std::borrow::Cow;

use async_graphql::{
    parser::types::Field, registry::Registry, Context, ContextSelectionSet, Interface, OutputType,
    Positioned, ServerResult, Value, ID,
};
use base64::{engine::general_purpose::STANDARD, Engine};
use futures::future::join_all;

use super::{
    client::Client,
    error::{error, FieldError, FieldResult},
    photo::LivePhoto,
};
use crate::{
    code::Code,
    executor::Shaped,
    upstream::{ClientId, PhotoId},
};

/// The most ids `nodes(ids:)` takes at once (as GitHub's API does).
pub const MAX_NODES: usize = 100;

/// The types with global ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Client,
    LivePhoto,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Self::Client => "Client",
            Self::LivePhoto => "LivePhoto",
        }
    }
}

/// The global id of the `kind` object whose ComplyCube id is `id`.
pub fn global_id(kind: Kind, id: &str) -> ID {
    ID(STANDARD.encode(format!("{}:{id}", kind.name())))
}

/// The kind and ComplyCube id a global id names, or `None` when `given` is not one.
fn from_global_id(given: &str) -> Option<(Kind, String)> {
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

// Only the registry's view of `Node`: values are `AnyNode`s, which the executor resolves
// as the object they are.
/// An object with a global id (Relay's Object Identification), refetchable with
/// `node(id:)`.
#[derive(Interface)]
#[graphql(
    name = "Node",
    field(
        name = "id",
        ty = "ID",
        method = "node_id",
        desc = "The object's global id: opaque, stable across versions, and what `node(id:)` takes."
    )
)]
pub enum Node {
    Client(Client),
    LivePhoto(LivePhoto),
}

/// A `Node` value, resolved as the object it is (so that fragments on `Client` or
/// `LivePhoto` apply by the executor's rule, and fields resolve in place).
pub struct AnyNode(Node);

impl OutputType for AnyNode {
    fn type_name() -> Cow<'static, str> {
        Node::type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        Node::create_type_info(registry)
    }

    fn introspection_type_name(&self) -> Cow<'static, str> {
        self.0.introspection_type_name()
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        match &self.0 {
            Node::Client(client) => Shaped(client).resolve(ctx, field).await,
            Node::LivePhoto(photo) => Shaped(photo).resolve(ctx, field).await,
        }
    }
}

/// What `node(id:)` answers for `given`, as the caller may see it: `FORBIDDEN` for a
/// client outside the caller's scope; `None` for what ComplyCube does not have, and for a
/// photo of a client outside the scope (one answer for both, as `livePhoto(id:)` gives).
pub async fn node(ctx: &Context<'_>, given: &str) -> FieldResult<Option<AnyNode>> {
    let Some((kind, id)) = from_global_id(given) else {
        return Err(error(
            Code::BadUserInput,
            format!("`{given}` is not a global id (the `id` of a Client or a LivePhoto)"),
        ));
    };
    let invalid = |m: String| error(Code::BadUserInput, m);
    Ok(match kind {
        Kind::Client => Client::reach(ctx, ClientId::parse(&id).map_err(invalid)?)
            .await?
            .map(|c| AnyNode(Node::Client(c))),
        Kind::LivePhoto => LivePhoto::reach(ctx, PhotoId::parse(&id).map_err(invalid)?)
            .await?
            .map(|p| AnyNode(Node::LivePhoto(p))),
    })
}

/// What `nodes(ids:)` answers: each id as [`node`] answers it, looked up together (so the
/// request's loaders batch them), each failure that item's own.
pub async fn nodes(ctx: &Context<'_>, ids: &[ID]) -> FieldResult<Vec<NodeSlot>> {
    if ids.len() > MAX_NODES {
        return Err(error(
            Code::BadUserInput,
            format!("`nodes` takes at most {MAX_NODES} ids (got {})", ids.len()),
        ));
    }
    let answers = join_all(ids.iter().map(|id| node(ctx, id))).await;
    Ok(answers
        .into_iter()
        .map(|answer| match answer {
            Ok(found) => NodeSlot::Answer(found),
            Err(e) => NodeSlot::Failed(e),
        })
        .collect())
}

/// One item of `nodes`: a node, `null`, or `null` with this item's own error.
pub enum NodeSlot {
    Answer(Option<AnyNode>),
    Failed(FieldError),
}

impl OutputType for NodeSlot {
    fn type_name() -> Cow<'static, str> {
        Node::type_name()
    }

    /// A nullable `Node`: `nodes` is `[Node]!`.
    fn qualified_type_name() -> String {
        Node::type_name().into_owned()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        Node::create_type_info(registry);
        Self::qualified_type_name()
    }

    fn introspection_type_name(&self) -> Cow<'static, str> {
        match self {
            Self::Answer(Some(node)) => node.introspection_type_name(),
            _ => Node::type_name(),
        }
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        match self {
            Self::Answer(Some(node)) => node.resolve(ctx, field).await,
            Self::Answer(None) => Ok(Value::Null),
            Self::Failed(e) => {
                let error = async_graphql::Error::from(e.clone());
                ctx.add_error(ctx.set_error_path(error.into_server_error(field.pos)));
                Ok(Value::Null)
            }
        }
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
